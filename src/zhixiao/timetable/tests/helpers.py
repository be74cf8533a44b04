"""Small plans for tests: one class of the session's demo school, solved in a moment and published."""

from __future__ import annotations

from typing import Any

from zhixiao.people.models import TeachingAssignment
from zhixiao.timetable import services
from zhixiao.timetable.models import RunStatus, TimetablePlan, TimetableVersion


def assignment_of(account: Any) -> TeachingAssignment:
    """One of a teacher's teaching assignments (任课) in the demo: his class and subject."""
    ta = (
        TeachingAssignment.objects.filter(staff__account=account)
        .select_related("admin_class", "subject")
        .order_by("pk")
        .first()
    )
    assert ta is not None, f"{account} teaches nothing in the demo"
    return ta


def small_plan(*, teacher: Any, lessons: int = 3, actor: Any = None, name: str = "测试课表") -> TimetablePlan:
    """A plan with one course: the teacher's subject in his class, `lessons` periods a week."""
    ta = assignment_of(teacher)
    plan = services.create_plan(actor=actor, school_id=ta.school_id, name=name)
    services.save_class_courses(
        actor=actor,
        plan_id=plan.pk,
        class_id=ta.admin_class_id,
        rows=[services.CourseRow(subject=ta.subject.name, lessons=lessons, teacher_ids=[teacher.pk], max_per_day=1)],
    )
    return plan


def solved(plan: TimetablePlan, *, actor: Any = None, time_limit: int = 10) -> TimetablePlan:
    run = services.solve_now(actor=actor, plan_id=plan.pk, time_limit=time_limit)
    assert run.status == RunStatus.DONE, (run.status, run.error, run.report.get("explanation"))
    plan.refresh_from_db()
    return plan


def published_plan(*, teacher: Any, lessons: int = 3, name: str = "测试课表") -> TimetableVersion:
    plan = solved(small_plan(teacher=teacher, lessons=lessons, name=name))
    return services.publish(actor=None, plan_id=plan.pk)
