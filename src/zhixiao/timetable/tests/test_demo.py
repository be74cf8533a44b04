"""The demo's timetable: the first school's classes and teaching assignments, solved and published, so a
teacher's login shows 我的课表 at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from zhixiao.identity.tests.helpers import login
from zhixiao.people import selectors as people_selectors
from zhixiao.timetable import demo, services, snapshots
from zhixiao.timetable.engine import checker
from zhixiao.timetable.engine.result import placements_from_json
from zhixiao.timetable.models import PlanStatus

pytestmark = pytest.mark.django_db


def test_the_demo_publishes_a_timetable_of_the_schools_classes_that_teachers_see(
    account_for: Any, login_for: Any
) -> None:
    teacher = account_for("subject_teacher")
    school_id = people_selectors.staff_by_account(teacher.pk).school_id
    version = demo.build(school_id=school_id, time_limit=15)
    assert version is not None and version.number == 1 and version.plan.status == PlanStatus.PUBLISHED
    problem = snapshots.problem_from_json(version.problem)
    assert checker.check(problem, placements_from_json(version.placements))[0] == []
    taught = {
        (ta.admin_class.name, ta.subject.name) for ta in people_selectors.teaching_of(actor=account_for("school_admin"))
    }
    assert {(a.students[0], a.subject) for a in problem.activities} == taught
    assert teacher.pk in version.links["teachers"].values()
    assert services.current_versions(school_id) == [version]

    page = login(Client(), login_for("subject_teacher")).get("/timetable/my/").content.decode()
    assert "tt-lesson" in page and version.plan.name in page


def test_the_demo_plan_has_the_senior_grades_choices_ready_to_form(account_for: Any) -> None:
    from zhixiao.timetable import electives

    school_id = people_selectors.staff_by_account(account_for("subject_teacher").pk).school_id
    plan = services.create_plan(actor=None, school_id=school_id, name="走班演示")
    n = demo.add_choices(plan)
    plan.refresh_from_db()
    summary = electives.choice_summary(plan)
    assert n == summary.chosen == summary.students > 0 and plan.elective_scheme == "3+1+2"
    assert len(summary.combinations) >= 5
