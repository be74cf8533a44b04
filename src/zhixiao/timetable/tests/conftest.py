"""A small school week to timetable: two classes of the demo school, two teachers, a lab."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors
from zhixiao.timetable import services
from zhixiao.timetable.models import TimetablePlan

from .helpers import assignment_of


@dataclass
class Week:
    plan: TimetablePlan
    admin: Any  # the school admin (timetable.manage)
    teacher: Any  # teaches `subject` in both classes
    other: Any  # teaches 数学 in class A (one double period)
    subject: str
    class_a: dict[str, Any]
    class_b: dict[str, Any]


@pytest.fixture
def week(account_for: Any) -> Week:
    admin = account_for("school_admin")
    teacher = account_for("subject_teacher")
    ta = assignment_of(teacher)
    classes = org_selectors.class_rows(school_id=ta.school_id)
    class_a = next(c for c in classes if c["id"] == ta.admin_class_id)
    class_b = next(c for c in classes if c["id"] != ta.admin_class_id)
    others = [a for a, _label in people_selectors.staff_choices(school_id=ta.school_id) if a != teacher.pk]
    from zhixiao.identity.models import Account

    other = Account.objects.get(pk=others[0])
    plan = services.create_plan(actor=admin, school_id=ta.school_id, name="两个班的课表")
    subject = ta.subject.name
    services.save_class_courses(
        actor=admin,
        plan_id=plan.pk,
        class_id=class_a["id"],
        rows=[
            services.CourseRow(subject=subject, lessons=3, teacher_ids=[teacher.pk], max_per_day=1),
            services.CourseRow(subject="数学", lessons=4, doubles=1, teacher_ids=[other.pk]),
        ],
    )
    services.save_class_courses(
        actor=admin,
        plan_id=plan.pk,
        class_id=class_b["id"],
        rows=[services.CourseRow(subject=subject, lessons=3, teacher_ids=[teacher.pk], max_per_day=1)],
    )
    return Week(plan, admin, teacher, other, subject, class_a, class_b)
