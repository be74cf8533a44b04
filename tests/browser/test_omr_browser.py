"""A real browser through 阅卷: the head of 教务处 creates a paper from the JSON form, downloads its answer sheet,
uploads scans made from that very PDF (the engine's synthesiser fills them in), watches the batch's progress bar
reach 100 %, gives an unknown 考号's sheet to its student in the review queue and assigns question 11 to two
markers with double marking; the two mark it (one by keyboard, one by the score buttons) three points apart, the
head marker arbitrates, and the scores table shows the arbitrated score."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from zhixiao.omr import services
from zhixiao.omr.engine.layout import load_layout
from zhixiao.omr.engine.synth import Distortion, ScanMaker, Student, render_pdf
from zhixiao.omr.tests.helpers import ALL_RIGHT, definition
from zhixiao.people import selectors as people_selectors

from .test_leave_browser import sessions, test_connection  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
EXAM_CODE = "BROWSER7"
UNKNOWN = "9999999999"


def _forget_paper() -> None:
    """On PostgreSQL the live server committed the paper and everything under it; remove it again (the audit
    records stay: they are append-only)."""
    if connection.vendor != "postgresql":
        return
    conn = connections.create_connection("default")
    try:
        with conn.cursor() as cursor:
            papers = "(SELECT id FROM omr_exampaper WHERE exam_code = %s)"
            cursor.execute(
                f"DELETE FROM omr_markingassignment_markers WHERE markingassignment_id IN "  # noqa: S608
                f"(SELECT id FROM omr_markingassignment WHERE paper_id IN {papers})",
                [EXAM_CODE],
            )
            for table in (
                "mark",
                "finalscore",
                "reviewitem",
                "answercrop",
                "scannedpage",
                "answersheet",
                "markingassignment",
                "scanbatch",
            ):
                cursor.execute(f"DELETE FROM omr_{table} WHERE paper_id IN {papers}", [EXAM_CODE])  # noqa: S608
            cursor.execute("DELETE FROM omr_exampaper WHERE exam_code = %s", [EXAM_CODE])
    finally:
        conn.close()


def _scans(pdf: bytes, layout_json: dict[str, Any], numbers: list[str], out: Path) -> list[str]:
    """JPEG scans of the downloaded sheet, one per 考号, every objective answer right."""
    layout = load_layout(layout_json)
    maker = ScanMaker(layout, {150: render_pdf(pdf, 150)}, faint_rate=0, half_rate=0, erase_rate=0)
    rng = random.Random(7)
    paths = []
    for i, number in enumerate(numbers):
        answers = {q.no: ALL_RIGHT.get(q.no, "") for q in layout.questions if q.objective}
        jpeg, _truth = maker.scan(1, Student(number, answers), rng, dpi=150, distortion=Distortion(rotation=1.5))
        path = out / f"scan-{i + 1}.jpg"
        path.write_bytes(jpeg)
        paths.append(str(path))
    return paths


def test_paper_sheet_scans_review_double_marking_arbitration_and_scores(
    site: str,
    test_connection: Any,  # noqa: F811
    sessions: Any,  # noqa: F811
    login_for: Any,
    account_for: Any,
    settings: Any,
    tmp_path: Path,
    monkeypatch: Any,
) -> None:
    # As in the timetable's browser test: on the unit phase's SQLite the live server shares this test's transaction,
    # so an on-commit enqueue would wait for ever; enqueue at once (the tests' task backend reads the batch then).
    monkeypatch.setattr(services.transaction, "on_commit", lambda func, using=None, robust=False: func())
    monkeypatch.setattr(services, "WORKERS", 1)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    school_id = people_selectors.home_school_id(account_for("department_head"))
    assert school_id
    students = people_selectors.enrolled_students_of(school_id=school_id)[:3]
    numbers = [services.exam_number(s["student_no"], 10) for s in students]
    marker_a, marker_b = account_for("subject_teacher"), account_for("homeroom_teacher")
    head_marker = account_for("grade_head")
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        head = sessions(login_for("department_head"), site)
        head.goto(f"{site}/omr/")
        head.click("#new-paper")
        head.fill("#definition", definition(exam="浏览器测试月考", exam_code=EXAM_CODE))
        head.click("#save-paper")
        head.wait_for_selector("#upload-form")
        paper_url = head.url
        paper_id = int(paper_url.rstrip("/").rsplit("/", 1)[1])

        with head.expect_download() as info:
            head.click("#download-sheet")
        sheet = tmp_path / "sheet.pdf"
        info.value.save_as(str(sheet))
        assert sheet.read_bytes().startswith(b"%PDF")
        layout_json = head.request.get(f"{site}/omr/papers/{paper_id}/layout.json").json()
        files = _scans(sheet.read_bytes(), layout_json, [numbers[0], numbers[1], UNKNOWN], tmp_path)

        head.set_input_files("#files", files)
        head.click("#upload-scans")
        head.wait_for_selector(".batch[data-status=done]")
        bar = head.locator(".batch [role=progressbar]").first
        assert bar.get_attribute("aria-valuenow") == "100" and "100%" in head.inner_text(".batch .batch-percent")
        assert "3 名考生" in head.inner_text(".batch-done")
        head.screenshot(path=str(ARTIFACTS / "omr-batch-done.png"), full_page=True)

        # the unknown 考号 is the third student's sheet
        head.click("text=项待复核")
        head.wait_for_selector("#review-items")
        head.click(f"#review-items tr:has-text('{UNKNOWN}') a.btn")
        head.wait_for_selector("#review-image")
        assert head.evaluate("document.querySelector('#review-image').naturalWidth") > 100
        head.select_option("#student", str(students[2]["id"]))
        head.screenshot(path=str(ARTIFACTS / "omr-review.png"), full_page=True)
        head.click("#resolve-student")
        head.wait_for_selector("ul.messages >> text=已处理")

        head.goto(f"{site}/omr/papers/{paper_id}/assignments/")
        form = head.locator("#assign-11")
        form.locator("select[name=markers]").select_option([str(marker_a.pk), str(marker_b.pk)])
        form.locator("select[name=head]").select_option(str(head_marker.pk))
        form.locator("input[name=double]").check()
        form.locator("input[name=tolerance]").fill("1")
        form.locator("button[type=submit]").click()
        head.wait_for_selector("ul.messages >> text=已保存阅卷分工")

        # two markers, three points apart on every answer: one types, one clicks
        first = sessions(login_for("subject_teacher"), site)
        first.goto(f"{site}/omr/")
        first.click("#my-marking a:has-text('开始阅卷')")
        for left in (3, 2, 1):
            first.wait_for_selector(f"#left >> text=还剩 {left} 份")
            first.wait_for_function("document.querySelector('#crop').naturalWidth > 0")
            first.fill("#score", "2")
            first.press("#score", "Enter")
        first.wait_for_selector("#no-more")
        second = sessions(login_for("homeroom_teacher"), site, phone=True)
        second.goto(f"{site}/omr/papers/{paper_id}/mark/11/")
        for left in (3, 2, 1):
            second.wait_for_selector(f"#left >> text=还剩 {left} 份")
            if left == 3:
                second.screenshot(path=str(ARTIFACTS / "omr-marker-phone.png"), full_page=True)
            second.click(".score-btn:text-is('5')")
        second.wait_for_selector("#no-more")
        assert second.evaluate("document.documentElement.scrollWidth") <= 390

        boss = sessions(login_for("grade_head"), site)
        boss.goto(f"{site}/omr/papers/{paper_id}/head/11/")
        for _ in range(3):
            block = boss.locator(".omr-arb").first
            assert "一评：2" in block.inner_text() and "二评：5" in block.inner_text()
            block.locator("button:text-is('4')").click()
            boss.wait_for_selector("ul.messages >> text=已给分")
        boss.wait_for_selector("#no-arbitration")
        assert boss.locator("#marked tr:has-text('题组长 4')").count() == 3

        head.goto(f"{site}/omr/papers/{paper_id}/scores/")
        table = head.inner_text("#scores")
        assert students[2]["name"] in table and numbers[2] in table and UNKNOWN not in table
        rows = head.locator("#scores tr").all_inner_texts()[1:]
        assert len(rows) == 3 and all("\t54" in r for r in rows)  # 50 objective + 4 arbitrated
        head.screenshot(path=str(ARTIFACTS / "omr-scores.png"), full_page=True)
    finally:
        _forget_paper()
