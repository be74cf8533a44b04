"""URL converters. `id`: a row id as a URL may carry it. Django's `int` takes any number of digits, and a
40-digit id would overflow the database's 64-bit integer (a 500); 18 digits always fit, so the rest is 404."""

from __future__ import annotations


class RowIdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


def row_id(value: object) -> int | None:
    """A row id from a query string or form, or None when it is not one (empty, text, too long)."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) <= 18 else None
