"""A real browser: the head of 教务处 imports a small school's FET file, starts the solve and watches its progress
bar finish, tries to move a lesson onto its teacher's other class (the clash is named before anything is
saved), moves it to a free period instead and publishes; the teacher then reads his timetable on a phone."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from zhixiao.people import selectors as people_selectors
from zhixiao.people.models import Student
from zhixiao.timetable import electives, services
from zhixiao.timetable.engine.fet import write_fet
from zhixiao.timetable.engine.model import Activity, Constraint, Problem, Solution, StudentSet
from zhixiao.timetable.engine.sample_grade import COMBINATION_SHARES

from .test_leave_browser import sessions, test_connection  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PLAN = "浏览器测试课表"
ELECTIVE_PLAN = "浏览器走班课表"


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


def _forget_plan(name: str = PLAN) -> None:
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
                [name],
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
                [name],
            )
            tables = ("timetableversion", "solverun", "planrule", "course", "teachingclass", "room", "subjectchoice")
            for table in tables:
                cursor.execute(f"DELETE FROM timetable_{table} WHERE plan_id IN {plans}", [name])  # noqa: S608
            cursor.execute("DELETE FROM timetable_timetableplan WHERE name = %s", [name])
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


def test_choices_imported_classes_formed_applied_and_solved_in_blocks(
    site: str,
    test_connection: Any,  # noqa: F811
    sessions: Any,  # noqa: F811
    login_for: Any,
    account_for: Any,
    tmp_path: Path,
    monkeypatch: Any,
) -> None:
    """走班: the head of 教务处 picks the grade, fills the downloaded template with the students' choices, forms
    the teaching classes in the background, applies them, solves, and sees the blocks 选考A/B/C in the week."""
    from openpyxl import load_workbook

    monkeypatch.setattr(services.transaction, "on_commit", lambda func, using=None, robust=False: func())
    child = Student.objects.select_related("admin_class").get(account=account_for("student"))
    rng = random.Random(5)
    combos = list(COMBINATION_SHARES)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        head = sessions(login_for("department_head"), site)
        head.goto(f"{site}/timetable/new/")
        head.fill("input[name=name]", ELECTIVE_PLAN)
        head.click("form.card button[type=submit]")
        head.wait_for_url("**/timetable/plans/**")
        head.click("nav.tabs >> text=选科走班")
        head.select_option("#grade-form select[name=grade]", str(child.admin_class.grade_id))
        head.select_option("#grade-form select[name=scheme]", "3+1+2")
        head.click("#save-grade")
        head.wait_for_selector("#choice-summary")

        with head.expect_download() as info:
            head.click("#download-template")
        template = tmp_path / "template.xlsx"
        info.value.save_as(template)
        book = load_workbook(template)
        sheet = book.active
        for row in range(2, sheet.max_row + 1):
            chosen = rng.choices(combos, weights=[COMBINATION_SHARES[c] for c in combos])[0]
            sheet.cell(row, 4, electives.combination_label(chosen))
        upload = tmp_path / "选科.xlsx"
        book.save(upload)
        head.set_input_files("#import-form input[name=file]", str(upload))
        head.click("#import-choices")
        head.wait_for_selector("#combination-chart rect")
        assert "未录入" not in head.inner_text("#choice-summary")

        head.fill("#formation-form input[name=min_size]", "4")
        head.fill("#formation-form input[name=max_size]", "30")
        head.fill("#formation-form input[name=rooms]", "6")
        head.fill("#formation-form input[name=time_limit]", "10")
        head.click("#start-formation")
        head.wait_for_url("**/timetable/runs/**")
        head.wait_for_selector("#run-status[data-status=done]")
        head.click("#view-formation")
        head.wait_for_selector("#apply-form")
        blocks = head.locator("h3.formation-block").all_inner_texts()
        assert [b.split()[0] for b in blocks] == ["选考A", "选考B", "选考C"]
        head.screenshot(path=str(ARTIFACTS / "timetable-electives-formed.png"), full_page=True)
        head.click("#apply-formation")
        head.wait_for_selector("ul.messages >> text=已应用分班结果")
        assert head.locator("table tr:has-text('物理1班')").count() == 1

        head.click("nav.tabs >> text=排课")
        head.fill("input[name=time_limit]", "20")
        head.click("#start-solve")
        head.wait_for_selector("#run-status[data-status=done]")
        head.click("#view-timetable")
        head.wait_for_selector("#timetable-grid")
        if head.input_value("#view-form select[name=name]") != child.admin_class.name:
            head.select_option("#view-form select[name=name]", child.admin_class.name)
            head.wait_for_url("**name=**")
        head.wait_for_selector("#timetable-grid .tt-block")
        shown = set(head.locator("#timetable-grid .tt-block").all_inner_texts())
        assert shown == {"选考A", "选考B", "选考C"}
        head.screenshot(path=str(ARTIFACTS / "timetable-electives-week.png"), full_page=True)
    finally:
        _forget_plan(ELECTIVE_PLAN)
