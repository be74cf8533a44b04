"""Lists to .xlsx. Sensitive columns are masked: an export is a copy that leaves the system."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from zhixiao.kernel import audit, spreadsheets

from . import presenters
from .models import Staff, Student

STUDENT_COLUMNS = [
    ("student_no", _("学籍号")),
    ("name", _("姓名")),
    ("gender", _("性别")),
    ("class_name", _("班级")),
    ("id_type", _("证件类型")),
    ("id_number", _("证件号码")),
    ("birth_date", _("出生日期")),
    ("ethnicity", _("民族")),
    ("household_type", _("户口性质")),
    ("boarding", _("走读/住校")),
    ("status", _("学籍状态")),
    ("status_since", _("状态日期")),
]
STAFF_COLUMNS = [
    ("staff_no", _("工号")),
    ("name", _("姓名")),
    ("gender", _("性别")),
    ("post", _("岗位")),
    ("title", _("职务/职称")),
    ("departments", _("处室")),
    ("id_number", _("证件号码")),
    ("mobile", _("手机号")),
    ("political_status", _("政治面貌")),
    ("status", _("状态")),
]


def _cell(value: Any) -> Any:
    return "、".join(value) if isinstance(value, list) else value


def students_workbook(*, actor: Any, students: Iterable[Student]) -> bytes:
    qs = students.select_related("admin_class", "school") if hasattr(students, "select_related") else students
    rows = [presenters.student_row(s) for s in qs]
    audit.record(actor=actor, action="student.export", note=f"{len(rows)} rows")
    return spreadsheets.write_table(
        [str(label) for _k, label in STUDENT_COLUMNS],
        ([_cell(r[k]) for k, _label in STUDENT_COLUMNS] for r in rows),
        title=_("学生名单"),
    )


def staff_workbook(*, staff: Iterable[Staff]) -> bytes:
    rows = [presenters.staff_row(s) for s in staff]
    return spreadsheets.write_table(
        [str(label) for _k, label in STAFF_COLUMNS],
        ([_cell(r[k]) for k, _label in STAFF_COLUMNS] for r in rows),
        title=_("教职工名单"),
    )
