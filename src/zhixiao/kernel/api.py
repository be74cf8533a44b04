"""Small pieces every domain's API router shares."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def request_actor(request: HttpRequest) -> Any:
    """The authenticated actor of an API request (an account or an API key), set by the auth classes."""
    return getattr(request, "auth", None)
