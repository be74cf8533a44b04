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
