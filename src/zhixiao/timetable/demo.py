"""A timetable for the demo school: a plan from its real classes and teaching assignments, the usual rules,
solved with a short time limit and published, so a teacher's login shows 我的课表 at once. Its 高二 has
3+1+2 subject choices (spread like a real grade's), ready for 选科走班 → 开始分班."""

from __future__ import annotations

import random

from zhixiao.org import selectors as org_selectors

from . import electives, services
from .engine.sample_grade import COMBINATION_SHARES
from .models import RuleKind, RunStatus, TimetablePlan, TimetableVersion


def build(*, school_id: int, time_limit: float = 15.0, name: str = "本学期课表") -> TimetableVersion | None:
    """Plan, courses (from 任课), rules, a solve and the first published version (None: nothing to solve, or
    no timetable found within the time limit)."""
    plan = services.create_plan(actor=None, school_id=school_id, name=name)
    if not services.generate_courses(actor=None, plan_id=plan.pk):
        return None
    add_choices(plan)
    services.save_rule(actor=None, plan_id=plan.pk, kind=RuleKind.MORNING_SUBJECTS, weight=80)
    services.save_rule(actor=None, plan_id=plan.pk, kind=RuleKind.CLASS_NO_GAPS, weight=90)
    services.save_rule(actor=None, plan_id=plan.pk, kind=RuleKind.TEACHER_MAX_CONSECUTIVE, weight=60, params={"max": 3})
    run = services.solve_now(actor=None, plan_id=plan.pk, time_limit=time_limit)
    if run.status != RunStatus.DONE:
        return None
    return services.publish(actor=None, plan_id=plan.pk, note="演示数据")


def add_choices(plan: TimetablePlan, *, seed: int = 2) -> int:
    """The senior grade's (高二, else the school's second grade) 3+1+2 choices, drawn with sample_grade's shares;
    the teaching classes are left for the user to form. Returns the number of students given a choice."""
    grades = list(dict.fromkeys(c["grade_id"] for c in org_selectors.class_rows(school_id=plan.school_id)))
    named = [c["grade_id"] for c in org_selectors.class_rows(school_id=plan.school_id) if c["name"].startswith("高二")]
    grade_id = named[0] if named else (grades[1] if len(grades) > 1 else None)
    if grade_id is None:
        return 0
    electives.set_grade(actor=None, plan_id=plan.pk, grade_id=grade_id, scheme=electives.SCHEME_312)
    plan.refresh_from_db()
    rng = random.Random(seed)
    combos = list(COMBINATION_SHARES)
    weights = [COMBINATION_SHARES[c] for c in combos]
    entries = {
        s["id"]: electives.combination_label(rng.choices(combos, weights=weights)[0])
        for s in electives.grade_students(plan)
    }
    return electives.save_choices(actor=None, plan_id=plan.pk, entries=entries) if entries else 0
