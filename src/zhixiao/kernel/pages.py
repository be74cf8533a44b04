"""What every domain's pages share."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest

from .errors import DomainError


def show_errors(request: HttpRequest, exc: DomainError, limit: int = 20) -> None:
    """A service's refusal as page messages: each of its problems (`exc.errors`), else its one message."""
    for line in (getattr(exc, "errors", None) or [str(exc)])[:limit]:
        messages.error(request, line)
