"""Exams for tests: one of the first demo school, for the grade of the homeroom teacher's class."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from zhixiao.academics import services
from zhixiao.academics.models import Exam
from zhixiao.org.models import AdminClass


def make_exam(teacher: Any, *, subjects: tuple[tuple[str, int], ...] = (("语文", 150), ("数学", 150))) -> Exam:
    klass = AdminClass.objects.get(homeroom_teacher=teacher)
    return services.create_exam(
        actor=None,
        school_id=klass.school_id,
        name="期中考试",
        kind="midterm",
        grade_id=klass.grade_id,
        date=dt.date(2026, 11, 10),
        subjects=[services.SubjectSpec(name, Decimal(full)) for name, full in subjects],
    )


def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
