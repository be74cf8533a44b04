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


def mask_student_no(student_no: str | None, id_number: str | None) -> str:
    """A national 学籍号 is usually "G" + the ID number: mask the ID part the same way, or the mask on the
    ID number itself would protect nothing."""
    if not student_no:
        return ""
    if id_number and len(id_number) > 8 and id_number in student_no:
        return student_no.replace(id_number, mask_id_number(id_number))
    return student_no
