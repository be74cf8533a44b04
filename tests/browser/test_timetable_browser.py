"""A real browser: the head of 教务处 imports a small school's FET file, starts the solve and watches its progress
bar finish, tries to move a lesson onto its teacher's other class (the clash is named before anything is
saved), moves it to a free period instead and publishes; the teacher then reads his timetable on a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from zhixiao.people import selectors as people_selectors
from zhixiao.timetable import services
from zhixiao.timetable.engine.fet import write_fet
from zhixiao.timetable.engine.model import Activity, Constraint, Problem, Solution, StudentSet

from .test_leave_browser import sessions, test_connection  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PLAN = "浏览器测试课表"


def _school_file(teacher: str, class_a: str, class_b: str) -> bytes:
    """Two classes, one teacher with three lessons in each; Monday's first two periods kept free for all."""
    activities = [Activity(i, "语文", (teacher,), (class_a,), 1, group_id=1) for i in (1, 2, 3)]
    activities += [Activity(i, "语文", (teacher,), (class_b,), 1, group_id=4) for i in (4, 5, 6)]
    problem = Problem(
        days=["周一", "周二", "周三", "周四", "周五"],
        periods=[f"第{i}节" for i in range(1, 7)],
        activities=activities,
        teachers=[teacher],
        subjects=["语文"],
        student_sets={class_a: StudentSet(class_a, 45), class_b: StudentSet(class_b, 45)},
        constraints=[
            Constraint("BasicCompulsoryTime"),
            Constraint("BasicCompulsorySpace"),
            Constraint("BreakTimes", 100, {"slots": [(0, 0), (0, 1)]}),
            Constraint(
                "MinDaysBetweenActivities",
                95,
                {"activities": [1, 2, 3], "min_days": 1, "consecutive_if_same_day": True},
            ),
            Constraint(
                "MinDaysBetweenActivities",
                95,
                {"activities": [4, 5, 6], "min_days": 1, "consecutive_if_same_day": True},
            ),
        ],
    )
    return write_fet(problem, Solution({}))


def _forget_plan() -> None:
    """On PostgreSQL the live server committed the plan and the teachers' notices; remove them again (the audit
    records stay: they are append-only)."""
    if connection.vendor != "postgresql":
        return
    conn = connections.create_connection("default")
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT v.id FROM timetable_timetableversion v JOIN timetable_timetableplan p ON p.id = v.plan_id "
                "WHERE p.name = %s",
                [PLAN],
            )
            keys = [f"timetable:version:{row[0]}" for row in cursor.fetchall()]
            cursor.execute(
                "DELETE FROM notifications_inboxitem WHERE outbox_id IN "
                "(SELECT id FROM notifications_outbox WHERE dedup_key = ANY(%s))",
                [keys],
            )
            cursor.execute("DELETE FROM notifications_outbox WHERE dedup_key = ANY(%s)", [keys])
            plans = "(SELECT id FROM timetable_timetableplan WHERE name = %s)"
            cursor.execute(
                f"DELETE FROM timetable_substitution WHERE version_id IN "  # noqa: S608
                f"(SELECT id FROM timetable_timetableversion WHERE plan_id IN {plans})",
                [PLAN],
            )
            for table in ("timetableversion", "solverun", "planrule", "course", "teachingclass", "room"):
                cursor.execute(f"DELETE FROM timetable_{table} WHERE plan_id IN {plans}", [PLAN])  # noqa: S608
            cursor.execute("DELETE FROM timetable_timetableplan WHERE name = %s", [PLAN])
    finally:
        conn.close()


def test_import_solve_move_with_a_conflict_warning_publish_and_read_on_a_phone(
    site: str,
    test_connection: Any,  # noqa: F811
    sessions: Any,  # noqa: F811
    login_for: Any,
    account_for: Any,
    tmp_path: Path,
    monkeypatch: Any,
) -> None:
    # On the unit phase's SQLite the live server shares this test's transaction, so the solve's on-commit
    # enqueue would wait for a commit that never comes: enqueue at once (the tests' task backend then runs
    # the solve in the request that starts it). On PostgreSQL this changes nothing that matters.
    monkeypatch.setattr(services.transaction, "on_commit", lambda func, using=None, robust=False: func())
    teacher = account_for("subject_teacher")
    name = people_selectors.staff_choices_for(account_ids=[teacher.pk])[teacher.pk]
    classes = sorted({ta.admin_class.name for ta in people_selectors.teaching_of(actor=account_for("school_admin"))})
    class_a, class_b = classes[0], classes[1]
    upload = tmp_path / "小学校.fet"
    upload.write_bytes(_school_file(name, class_a, class_b))
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        head = sessions(login_for("department_head"), site)
        head.goto(f"{site}/timetable/import/")
        head.fill("input[name=name]", PLAN)
        head.set_input_files("input[name=file]", str(upload))
        head.click("form.card button[type=submit]")
        head.wait_for_selector("#import-report")
        assert "活动 6 项" in head.inner_text("#import-report")

        head.click("text=开始排课")
        head.wait_for_url("**/solve/")
        head.fill("input[name=time_limit]", "20")
        head.click("#start-solve")
        head.wait_for_url("**/timetable/runs/**")
        head.wait_for_selector("#run-status[data-status=done]")
        assert head.get_attribute("[role=progressbar]", "aria-valuenow") == "100"
        assert "已找到" in head.inner_text("#run-solutions") and "已排出课表" in head.inner_text("#run-done")
        head.screenshot(path=str(ARTIFACTS / "timetable-solved.png"), full_page=True)

        head.click("#view-timetable")
        head.wait_for_selector("#timetable-grid")
        head.select_option("#view-form select[name=by]", "teacher")
        head.wait_for_url("**by=teacher**")
        assert head.input_value("#view-form select[name=name]") == name
        # pick one of his lessons in class A
        head.click(f"#timetable-grid .tt-lesson:has-text('{class_a}') a.pick")
        head.wait_for_selector(".tt-lesson.picked")
        # onto the period where he teaches class B: the clash is named, nothing can be saved
        busy = head.locator(f"#timetable-grid td:has(.tt-lesson:has-text('{class_b}'))").first
        busy.locator("a.target").click()
        head.wait_for_selector("#move-conflicts")
        assert f"教师 {name}" in head.inner_text("#move-conflicts")
        assert head.locator("#confirm-move").count() == 0
        head.screenshot(path=str(ARTIFACTS / "timetable-move-conflict.png"), full_page=True)
        # onto a free period (not Monday's first two, which are kept free): no clash, saved
        free = head.locator("#timetable-grid td[data-day='1']:not(:has(.tt-lesson))").first
        free.locator("a.target").click()
        head.wait_for_selector("#move-ok")
        head.click("#confirm-move")
        head.wait_for_selector("ul.messages >> text=已调课")

        head.fill("input[name=note]", "开学第一版")
        head.click("#publish")
        head.wait_for_url("**/timetable/versions/**")
        assert "第 1 版" in head.inner_text("h1")

        phone = sessions(login_for("subject_teacher"), site, phone=True)
        phone.goto(f"{site}/timetable/my/")
        phone.wait_for_selector(".my-timetable")
        text = phone.inner_text(".my-timetable")
        assert PLAN in text and class_a in text and class_b in text and "语文" in text
        assert phone.locator(".my-timetable .tt-lesson").count() == 6
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.screenshot(path=str(ARTIFACTS / "timetable-teacher-phone.png"), full_page=True)
    finally:
        _forget_plan()
