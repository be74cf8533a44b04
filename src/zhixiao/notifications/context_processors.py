"""The bell in the page header: the logged-in person's unread in-app notifications."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from . import selectors


def inbox(request: HttpRequest) -> dict[str, Any]:
    """One COUNT, and only when a page actually shows the bell (lazy)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"inbox_unread": 0}
    return {"inbox_unread": SimpleLazyObject(lambda: selectors.unread_count(actor=user))}
