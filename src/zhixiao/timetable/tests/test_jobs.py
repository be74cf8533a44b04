"""Background solves: the run row shows progress while the solver works, a cancel stops it early, and the
progress panel polls until the run has finished."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from zhixiao.identity.tests.helpers import login
from zhixiao.people import selectors as people_selectors
from zhixiao.timetable import services
from zhixiao.timetable.models import PlanStatus, RuleKind, RunStatus, SolveRun, TimetablePlan

pytestmark = pytest.mark.django_db

# a tight week (38 of 40 periods) with soft rules, so the solver keeps improving for a while
TIGHT = {"语文": 6, "数学": 6, "英语": 6, "物理": 4, "化学": 4, "生物": 3, "思想政治": 3, "历史": 3, "地理": 3}


def _tight_plan(admin: Any) -> TimetablePlan:
    plan = services.create_plan(actor=admin, school_id=people_selectors.home_school_id(admin), name="满课表")
    services.generate_courses(actor=admin, plan_id=plan.pk, lessons=TIGHT)
    services.save_rule(actor=admin, plan_id=plan.pk, kind=RuleKind.MORNING_SUBJECTS, weight=80)
    services.save_rule(actor=admin, plan_id=plan.pk, kind=RuleKind.CLASS_NO_GAPS, weight=90)
    services.save_rule(actor=admin, plan_id=plan.pk, kind=RuleKind.TEACHER_MAX_GAPS, weight=70, params={"max": 0})
    services.save_rule(actor=admin, plan_id=plan.pk, kind=RuleKind.TEACHER_BALANCED, weight=50)
    return plan


def test_a_solve_reports_progress_while_it_runs_and_ends_with_its_report(account_for: Any) -> None:
    admin = account_for("school_admin")
    plan = _tight_plan(admin)
    run = services.start_solve(actor=admin, plan_id=plan.pk, time_limit=3)
    assert run.status == RunStatus.QUEUED and run.percent == 0
    seen: list[SolveRun] = []
    done = services.run_solve(run_id=run.pk, observe=seen.append)

    assert seen, "no progress was written while the solver ran"
    assert all(r.status == RunStatus.RUNNING and 0 < r.fraction < 1 for r in seen)
    fractions = [r.fraction for r in seen]
    assert fractions == sorted(fractions)
    assert done is not None and done.status == RunStatus.DONE and done.percent == 100
    assert done.solutions >= max(r.solutions for r in seen) >= 0 and done.best_cost is not None
    assert done.report["solved"] and done.report["activities"] == done.report["placed"] > 0
    assert done.started_at and done.finished_at and done.finished_at >= done.started_at
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SOLVED and plan.placements == done.placements and plan.problem == done.problem


def test_a_running_solve_stops_soon_after_it_is_cancelled(account_for: Any) -> None:
    admin = account_for("school_admin")
    plan = _tight_plan(admin)
    run = services.start_solve(actor=admin, plan_id=plan.pk, time_limit=120)
    cancelled: list[int] = []

    def cancel_once(row: SolveRun) -> None:
        if not cancelled:
            services.cancel_solve(actor=admin, run_id=row.pk)
            cancelled.append(row.pk)

    done = services.run_solve(run_id=run.pk, observe=cancel_once)
    assert cancelled and done is not None and done.cancel_requested
    assert done.report["seconds"] < 60  # not the 120 s it was allowed
    plan.refresh_from_db()
    if done.status == RunStatus.DONE:  # a complete timetable found before the cancel is kept
        assert plan.placements == done.placements and plan.status == PlanStatus.SOLVED
    else:
        assert done.status == RunStatus.CANCELLED and plan.status == PlanStatus.DRAFT


def test_the_progress_panel_polls_until_the_run_has_finished(account_for: Any, login_for: Any) -> None:
    admin = account_for("school_admin")
    plan = _tight_plan(admin)
    run = services.start_solve(actor=admin, plan_id=plan.pk, time_limit=2)
    client = login(Client(), login_for("school_admin"))
    queued = client.get(f"/timetable/runs/{run.pk}/status/").content.decode()
    assert f'hx-get="/timetable/runs/{run.pk}/status/"' in queued and "排队中" in queued and 'id="cancel-run"' in queued
    services.run_solve(run_id=run.pk)
    finished = client.get(f"/timetable/runs/{run.pk}/status/").content.decode()
    assert "hx-get" not in finished and 'id="run-done"' in finished and "100%" in finished
    assert 'aria-valuenow="100"' in finished and "已找到" in finished
    page = client.get(f"/timetable/runs/{run.pk}/").content.decode()
    assert 'id="run-status"' in page and plan.name in page
