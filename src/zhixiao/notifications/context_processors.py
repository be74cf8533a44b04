"""The bell in the page header: the logged-in person's unread in-app notifications."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def inbox(request: HttpRequest) -> dict[str, Any]:
    return {"inbox_unread": 0}
