"""Small pieces every domain's API router shares."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from pydantic import Field


def request_actor(request: HttpRequest) -> Any:
    """The authenticated actor of an API request (an account or an API key), set by the auth classes."""
    return getattr(request, "auth", None)


# Ids and page numbers from a URL: bounded, so a 40-digit number is a 422, not a database overflow.
# A page number out of range is not an error: the list clamps it to the first or last page.
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]
PageNumber = Annotated[int, Field(ge=-(10**9), le=10**9)]
