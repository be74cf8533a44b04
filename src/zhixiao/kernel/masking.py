"""Masking of sensitive personal fields, on by default in pages, API and exports."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """6101**********123X: keep the first 4 and the last 4 characters."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_mobile(value: str | None) -> str:
    """138****5678."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_address(value: str | None) -> str:
    """Keep the first 6 characters (province/city), hide the rest."""
    if not value:
        return ""
    return value[:6] + "****" if len(value) > 6 else "****"
