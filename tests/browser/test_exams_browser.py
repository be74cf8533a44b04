"""A real browser: the head of 教务处 creates an exam, types scores into the grid with the keyboard (each cell
saves itself), sees the error of a score above full marks in its cell, imports a workbook with one bad cell (the
error is listed, nothing written), fixes it and imports again, then opens the analysis with its charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from zhixiao.academics.models import Exam, Score
from zhixiao.academics.tests.helpers import workbook
from zhixiao.org.models import AdminClass

from .test_leave_browser import run_on, sessions, test_connection  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
NAME = "浏览器测试期中"


def _forget_exam() -> None:
    """On PostgreSQL the live server committed the exam; remove it again (audit records stay: append-only)."""
    if connection.vendor != "postgresql":
        return
    conn = connections.create_connection("default")
    try:
        with conn.cursor() as cursor:
            exams = "(SELECT id FROM academics_exam WHERE name = %s)"
            for table in ("score", "examstudent", "examsubject"):
                cursor.execute(f"DELETE FROM academics_{table} WHERE exam_id IN {exams}", [NAME])  # noqa: S608
            cursor.execute("DELETE FROM academics_exam WHERE name = %s", [NAME])
    finally:
        conn.close()


def test_create_type_scores_import_and_analyse(
    site: str,
    test_connection: Any,  # noqa: F811
    sessions: Any,  # noqa: F811
    login_for: Any,
    account_for: Any,
    tmp_path: Path,
) -> None:
    grade_id = AdminClass.objects.get(homeroom_teacher=account_for("homeroom_teacher")).grade_id
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        head = sessions(login_for("department_head"), site)
        head.goto(f"{site}/exams/new/")
        head.fill("input[name=name]", NAME)
        head.select_option("select[name=grade]", str(grade_id))
        for box in head.query_selector_all("input[name=subject]"):
            box.uncheck()
        head.check("input[name=subject][value=语文]")
        head.check("input[name=subject][value=数学]")
        head.fill("input[name=full_语文]", "120")
        head.click("#create-exam")
        head.wait_for_selector("#subjects")
        exam_id = int(head.url.rstrip("/").split("/")[-1])

        head.click("#tab-grid")
        head.wait_for_selector("#score-grid input.score")
        cells = head.locator("#score-grid input.score")
        first = cells.nth(0)
        first.click()
        head.keyboard.type("95")
        head.keyboard.press("Enter")  # saves and moves down
        head.keyboard.type("缺")
        head.keyboard.press("ArrowUp")
        head.keyboard.press("ArrowRight")  # from the end of the text: the next subject
        head.keyboard.type("88.5")
        head.keyboard.press("Tab")
        head.wait_for_selector("#score-grid input.score.saved >> nth=2")
        assert "saved" in (first.get_attribute("class") or "")
        assert head.evaluate("document.activeElement.dataset.subject") is not None
        # a score above full marks (语文: 120): the cell says why, nothing is saved
        second_row = cells.nth(2)
        second_row.fill("130")
        second_row.press("Enter")
        head.wait_for_selector("#score-grid input.score.error")
        assert "超过满分 120" in head.inner_text("#score-grid .cell-error")
        head.screenshot(path=str(ARTIFACTS / "exams-grid.png"), full_page=True)

        def saved() -> dict[str, str]:
            rows = Score.objects.filter(exam_id=exam_id).select_related("exam_student", "exam_subject")
            return {f"{s.exam_student.student_no}/{s.exam_subject.subject}": s.text for s in rows}

        entered = run_on(test_connection, saved)
        assert sorted(entered.values()) == ["88.5", "95", "缺"]

        # a workbook with one bad cell: listed, nothing written
        exam = run_on(test_connection, lambda: Exam.objects.get(pk=exam_id))
        students = run_on(test_connection, lambda: list(exam.students.order_by("student_no")[:3]))
        rows: list[list[Any]] = [["考号", "姓名", "语文", "数学"]]
        rows += [[s.student_no, s.name, 100, 140] for s in students]
        rows[2][3] = 151
        bad = tmp_path / "bad.xlsx"
        bad.write_bytes(workbook(rows))
        head.click("#tab-import")
        head.set_input_files("input[name=file]", str(bad))
        head.click("#import-submit")
        head.wait_for_selector("#import-errors")
        assert "第 3 行“数学”列：分数 151 超过满分 150" in head.inner_text("#import-errors")
        assert run_on(test_connection, saved) == entered
        rows[2][3] = 150
        good = tmp_path / "good.xlsx"
        good.write_bytes(workbook(rows))
        head.set_input_files("input[name=file]", str(good))
        head.click("#import-submit")
        head.wait_for_selector("#import-done")
        assert "已写入 6 条成绩" in head.inner_text("#import-done")
        assert len(run_on(test_connection, saved)) >= 6

        head.click("#tab-analysis")
        head.wait_for_selector("#chart-means")
        assert head.locator("#chart-means .bar").count() >= 1
        assert head.locator("#chart-bands .bar").count() >= 1
        assert "全年级" in head.inner_text("#figures")
        head.screenshot(path=str(ARTIFACTS / "exams-analysis.png"), full_page=True)
    finally:
        _forget_exam()
