"""代课: a teacher's leave approved through the office's 教师请假 flow lists his lessons on the school days of
the leave; free colleagues are proposed (the same subject first) and the one assigned is told."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from zhixiao.identity.tests.helpers import login
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.notifications import selectors as inbox
from zhixiao.notifications.delivery import deliver_due
from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors
from zhixiao.timetable import services, snapshots
from zhixiao.timetable.engine.result import placements_from_json
from zhixiao.timetable.models import Substitution, SubstitutionStatus
from zhixiao.workflow import selectors as workflow_selectors
from zhixiao.workflow import services as workflow

from .conftest import Week
from .helpers import solved

pytestmark = pytest.mark.django_db


def _approve(teacher: Any, start: dt.date, end: dt.date, lessons: list[dict[str, Any]] | None = None) -> int:
    """File the leave as the teacher and let each approver the flow names approve it."""
    ref = workflow.start_request(
        actor=teacher,
        key="teacher_leave",
        data={
            "leave_type": "病假",
            "start": start.isoformat(),
            "end": end.isoformat(),
            "days": str((end - start).days + 1),
            "reason": "发烧",
            "lessons": lessons or [],
        },
    )
    for _round in range(5):
        request = workflow_selectors.request_for(actor=teacher, request_id=ref.id)
        assert request is not None
        if workflow_selectors.request_outcome(ref.id) == "approved":
            return ref.id
        task = next(t for t in workflow_selectors.tasks_of(request) if t.status == "waiting")
        workflow.decide(actor=task.assignee, task_id=task.pk, decision="approve")
    assert workflow_selectors.request_outcome(ref.id) == "approved"
    return ref.id


def _a_school_week(school_id: int) -> tuple[dt.date, dt.date]:
    """Next week's Monday to Friday, all school days (in the holidays the school makes them 补课 days)."""
    from zhixiao.org.models import CalendarDay

    today = dt.date.today()
    start = today + dt.timedelta(days=7 - today.weekday())
    for offset in range(5):
        date = start + dt.timedelta(days=offset)
        if not org_selectors.is_school_day(school_id=school_id, date=date):
            CalendarDay.objects.update_or_create(
                school_id=school_id, date=date, defaults={"is_school_day": True, "note": "补课"}
            )
    return start, start + dt.timedelta(days=4)


def test_an_approved_leave_lists_his_lessons_and_free_colleagues_of_the_subject_come_first(
    week: Week, account_for: Any, login_for: Any
) -> None:
    # a colleague who teaches 数学 in class B
    colleague = next(
        a
        for a, _label in people_selectors.staff_choices(school_id=week.plan.school_id)
        if a not in (week.teacher.pk, week.other.pk)
    )
    services.save_class_courses(
        actor=week.admin,
        plan_id=week.plan.pk,
        class_id=week.class_b["id"],
        rows=[
            services.CourseRow(subject=week.subject, lessons=3, teacher_ids=[week.teacher.pk], max_per_day=1),
            services.CourseRow(subject="数学", lessons=2, teacher_ids=[colleague]),
        ],
    )
    solved(week.plan, actor=week.admin)
    version = services.publish(actor=week.admin, plan_id=week.plan.pk)
    problem = snapshots.problem_from_json(version.problem)
    solution = placements_from_json(version.placements)
    name = people_selectors.staff_choices_for(account_ids=[week.teacher.pk])[week.teacher.pk]
    start, end = _a_school_week(week.plan.school_id)

    request_id = _approve(week.teacher, start, end)

    expected = set()
    for offset in range(5):
        date = start + dt.timedelta(days=offset)
        if org_selectors.is_school_day(school_id=week.plan.school_id, date=date):
            for a in problem.activities:
                p = solution.placements[a.id]
                if name in a.teachers and p.day == date.weekday():
                    expected.update((date, p.period + k) for k in range(a.duration))
    rows = list(Substitution.objects.filter(request_id=request_id))
    assert {(r.date, r.period) for r in rows} == expected and expected
    assert all(r.status == SubstitutionStatus.OPEN and r.absent_teacher_id == week.teacher.pk for r in rows)

    accounts = version.links["teachers"]
    proposed = {}
    for row in rows:
        candidates = services.substitute_candidates(row, limit=None)
        flags = [c.same_subject for c in candidates]
        assert flags == sorted(flags, reverse=True)  # the same subject first
        # exactly the plan's other teachers who have no lesson then
        busy = {
            accounts[t]
            for a in problem.activities
            for t in a.teachers
            if solution.placements[a.id].day == row.day
            and solution.placements[a.id].period <= row.period < solution.placements[a.id].period + a.duration
        }
        assert {c.account_id for c in candidates} == set(accounts.values()) - busy - {week.teacher.pk}
        proposed[row.pk] = candidates
    sub = next(r for r in rows if proposed[r.pk])
    candidates = proposed[sub.pk]

    client = login(Client(), login_for("school_admin"))
    page = client.get("/timetable/substitutions/").content.decode()
    assert sub.class_name in page and name in page and "代课教师" in page
    chosen = candidates[0]
    response = client.post(f"/timetable/substitutions/{sub.pk}/assign/", {"substitute": chosen.account_id})
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.status == SubstitutionStatus.ASSIGNED and sub.substitute_id == chosen.account_id
    deliver_due()
    from zhixiao.identity.models import Account

    substitute = Account.objects.get(pk=chosen.account_id)
    assert any("代课安排" in i.title for i in inbox.inbox_of(actor=substitute))
    # he is busy at that time now: a second lesson at the same time cannot go to him
    same_time = Substitution.objects.filter(request_id=request_id, date=sub.date, period=sub.period).exclude(pk=sub.pk)
    for other in same_time:
        assert chosen.account_id not in {c.account_id for c in services.substitute_candidates(other, limit=None)}


def test_a_cover_named_on_the_leave_form_is_taken_over_and_a_busy_colleague_is_refused(
    week: Week, account_for: Any
) -> None:
    solved(week.plan, actor=week.admin)
    version = services.publish(actor=week.admin, plan_id=week.plan.pk)
    problem = snapshots.problem_from_json(version.problem)
    solution = placements_from_json(version.placements)
    name = people_selectors.staff_choices_for(account_ids=[week.teacher.pk])[week.teacher.pk]
    start, _end = _a_school_week(week.plan.school_id)
    date = next(
        start + dt.timedelta(days=i)
        for i in range(5)
        if org_selectors.is_school_day(school_id=week.plan.school_id, date=start + dt.timedelta(days=i))
        and any(name in a.teachers and solution.placements[a.id].day == i for a in problem.activities)
    )
    lesson = next(
        a for a in problem.activities if name in a.teachers and solution.placements[a.id].day == date.weekday()
    )
    period = solution.placements[lesson.id].period
    named = account_for("grade_head")
    request_id = _approve(
        week.teacher,
        date,
        date,
        lessons=[
            {
                "date": date.isoformat(),
                "period": str(period + 1),
                "class_name": "x",
                "subject": "x",
                "substitute": str(named.pk),
            }
        ],
    )
    row = Substitution.objects.get(request_id=request_id, date=date, period=period)
    assert row.status == SubstitutionStatus.ASSIGNED and row.substitute_id == named.pk
    # the 数学 teacher of class A, at one of his own lessons, cannot cover
    maths = next(a for a in problem.activities if a.subject == "数学")
    busy = Substitution.objects.create(
        school_id=row.school_id,
        version=version,
        request_id=request_id,
        request_number=row.request_number,
        absent_teacher=week.teacher,
        date=start + dt.timedelta(days=solution.placements[maths.id].day),
        day=solution.placements[maths.id].day,
        period=solution.placements[maths.id].period,
        period_name="x",
        activity_id=-1,
        subject=week.subject,
        class_name="x",
    )
    with pytest.raises(DomainError, match="有课"):
        services.assign_substitute(actor=week.admin, substitution_id=busy.pk, substitute_id=week.other.pk)
    with pytest.raises(NotPermitted):
        services.assign_substitute(actor=week.teacher, substitution_id=busy.pk, substitute_id=named.pk)
