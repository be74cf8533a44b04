"""How people records are shown: labels for codes, and sensitive fields masked by default."""

from __future__ import annotations

from typing import Any

from zhixiao.kernel import codes, masking

from .models import Guardian, Staff, Student


def student_row(s: Student, *, unmasked: dict[str, str] | None = None) -> dict[str, Any]:
    unmasked = unmasked or {}
    return {
        "id": s.pk,
        "student_no": s.student_no if "id_number" in unmasked else masking.mask_student_no(s.student_no, s.id_number),
        "name": s.name,
        "gender": s.get_gender_display(),
        "id_type": codes.code_list(codes.ID_TYPE).name(s.id_type),
        "id_number": unmasked.get("id_number", masking.mask_id_number(s.id_number)),
        "birth_date": s.birth_date.isoformat(),
        "ethnicity": codes.code_list(codes.ETHNICITY).name(s.ethnicity),
        "household_type": codes.code_list(codes.HOUSEHOLD).name(s.household_type) if s.household_type else "",
        "boarding": s.get_boarding_display(),
        "class_id": s.admin_class_id,
        "class_name": s.admin_class.name if s.admin_class_id and s.admin_class else "",
        "school_code": s.school.code if s.school_id else "",
        "status": s.get_status_display(),
        "status_since": s.status_since.isoformat(),
        "address": unmasked.get("address", masking.mask_address(s.address)),
    }


def guardian_row(g: Guardian, relation: str, may_notify: bool, *, unmasked_mobile: str | None = None) -> dict[str, Any]:
    return {
        "id": g.pk,
        "name": g.name,
        "relation": relation,
        "mobile": unmasked_mobile or masking.mask_mobile(g.mobile),
        "may_notify": may_notify,
    }


def staff_row(s: Staff, *, unmasked: dict[str, str] | None = None) -> dict[str, Any]:
    unmasked = unmasked or {}
    return {
        "id": s.pk,
        "staff_no": s.staff_no,
        "name": s.name,
        "gender": s.get_gender_display(),
        "id_number": unmasked.get("id_number", masking.mask_id_number(s.id_number)),
        "mobile": unmasked.get("mobile", masking.mask_mobile(s.mobile)),
        "post": s.get_post_display(),
        "title": s.title,
        "status": s.get_status_display(),
        "departments": [d.name for d in s.departments.all()],
        "political_status": codes.code_list(codes.POLITICAL_STATUS).name(s.political_status),
    }
