"""A timetable for the demo school: a plan from its real classes and teaching assignments, the usual rules,
solved with a short time limit and published, so a teacher's login shows 我的课表 at once."""

from __future__ import annotations

from . import services
from .models import RuleKind, RunStatus, TimetableVersion


def build(*, school_id: int, time_limit: float = 15.0, name: str = "本学期课表") -> TimetableVersion | None:
    """Plan, courses (from 任课), rules, a solve and the first published version (None: nothing to solve, or
    no timetable found within the time limit)."""
    plan = services.create_plan(actor=None, school_id=school_id, name=name)
    if not services.generate_courses(actor=None, plan_id=plan.pk):
        return None
    services.save_rule(actor=None, plan_id=plan.pk, kind=RuleKind.MORNING_SUBJECTS, weight=80)
    services.save_rule(actor=None, plan_id=plan.pk, kind=RuleKind.CLASS_NO_GAPS, weight=90)
    services.save_rule(actor=None, plan_id=plan.pk, kind=RuleKind.TEACHER_MAX_CONSECUTIVE, weight=60, params={"max": 3})
    run = services.solve_now(actor=None, plan_id=plan.pk, time_limit=time_limit)
    if run.status != RunStatus.DONE:
        return None
    return services.publish(actor=None, plan_id=plan.pk, note="演示数据")
