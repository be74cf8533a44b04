"""阅卷 services: papers from JSON with every problem in Chinese, permissions, uploads that refuse bad files one by
one, batches read in the background with progress, cancel and resume, 考号 matched to students (unknown → review),
review resolution, a corrected key re-scoring everything, double marking with tolerance and arbitration, a random
marking order without names, and the final scores."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.kernel.models import AuditRecord
from zhixiao.omr import services
from zhixiao.omr.models import (
    AnswerCrop,
    AnswerSheet,
    BatchStatus,
    CropStatus,
    ExamPaper,
    FinalScore,
    Mark,
    ReviewItem,
    ReviewStatus,
    ScanBatch,
)
from zhixiao.people import selectors as people_selectors

from .helpers import ALL_RIGHT, definition, make_paper, numbers_of, scans, uploads

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(account_for: Any) -> Any:
    return account_for("school_admin")


@pytest.fixture
def school_id(admin: Any) -> int:
    sid = people_selectors.home_school_id(admin)
    assert sid
    return sid


def _read(paper: ExamPaper, actor: Any, files: list[bytes], **kw: Any) -> ScanBatch:
    batch = services.upload_scans(actor=actor, paper_id=paper.pk, files=uploads(files, **kw))
    done = services.read_batch(batch_id=batch.pk)
    assert done is not None
    return done


# --- papers --------------------------------------------------------------------------------------------------


def test_a_paper_from_json_keeps_its_definition_layout_and_key(admin: Any, school_id: int) -> None:
    paper = make_paper(admin, school_id)
    assert (paper.name, paper.subject, paper.exam_code) == ("单元测验", "数学", "UT2026")
    assert paper.layout["format"] == "zhixiao-omr-layout/1" and len(paper.layout["boxes"]) == 2
    assert paper.answer_key["9"] == "AB"
    assert [q for q, _full in services.written_questions(paper)] == [11, 12]
    assert AuditRecord.objects.filter(action="omr.paper_create", target_id=str(paper.pk)).exists()


def test_a_bad_definition_lists_every_problem_in_chinese_and_saves_nothing(admin: Any, school_id: int) -> None:
    bad = definition(exam="", sections=[{"title": "一", "questions": [{"no": 1, "type": "single", "options": 9}]}])
    with pytest.raises(services.PaperErrors) as caught:
        services.create_paper(actor=admin, school_id=school_id, source=bad)
    text = "\n".join(caught.value.errors)
    assert "exam" in text and "选项" in text and len(caught.value.errors) >= 2
    with pytest.raises(services.PaperErrors, match="JSON"):
        services.create_paper(actor=admin, school_id=school_id, source="{oops")
    assert not ExamPaper.objects.filter(school_id=school_id).exists()


def test_the_same_exam_and_subject_twice_is_refused(admin: Any, school_id: int) -> None:
    make_paper(admin, school_id)
    with pytest.raises(services.PaperErrors, match="UT2026"):
        make_paper(admin, school_id)


def test_only_managers_of_the_school_create_papers(account_for: Any, school_id: int) -> None:
    for role in ("subject_teacher", "homeroom_teacher", "principal", "guardian"):
        with pytest.raises(NotPermitted):
            make_paper(account_for(role), school_id)
    make_paper(account_for("department_head"), school_id)  # the head of 教务处
    with pytest.raises(NotPermitted):
        make_paper(account_for("school_admin", 1), school_id)  # another school's admin


def test_a4_and_a3_sheets_and_a_class_preprinted_one(admin: Any, school_id: int) -> None:
    paper = make_paper(admin, school_id)
    blank = services.sheet_pdf(actor=admin, paper_id=paper.pk)
    assert blank.data.startswith(b"%PDF") and "A4" in blank.filename
    a3 = services.create_paper(actor=admin, school_id=school_id, source=definition(exam_code="UT3"), paper_size="A3")
    assert a3.layout["paper_size"] == "A3" and "A3" in services.sheet_pdf(actor=admin, paper_id=a3.pk).filename
    klass = people_selectors.enrolled_students_of(school_id=school_id)[0]["admin_class_id"]
    roster = services.sheet_pdf(actor=admin, paper_id=paper.pk, class_id=klass)
    n = len(people_selectors.enrolled_students_of(school_id=school_id, class_id=klass))
    assert roster.data.count(b"/Type /Page\n") + roster.data.count(b"/Type /Page/") >= 0 and n > 0
    import pypdfium2 as pdfium

    assert len(pdfium.PdfDocument(roster.data)) == n


# --- scans ----------------------------------------------------------------------------------------------------


def test_a_batch_reads_matches_students_scores_and_cuts_written_answers(admin: Any, school_id: int) -> None:
    paper = make_paper(admin, school_id)
    (sid1, n1), (sid2, n2) = numbers_of(school_id, 2)
    wrong = {**ALL_RIGHT, 1: "B", 9: "A"}  # 1 wrong (0), 9 partial (2)
    seen: list[int] = []
    batch = services.upload_scans(
        actor=admin, paper_id=paper.pk, files=uploads(scans(paper, [(n1, ALL_RIGHT), (n2, wrong), ("9999999999", {})]))
    )
    done = services.read_batch(batch_id=batch.pk, observe=lambda row: seen.append(row.pages_done))
    assert done is not None and done.status == BatchStatus.DONE and done.percent == 100
    assert seen == [0, 1, 2, 3] and done.pages_total == 3 and done.students == 3
    s1, s2 = AnswerSheet.objects.get(student_number=n1), AnswerSheet.objects.get(student_number=n2)
    assert (s1.student_id, s2.student_id) == (sid1, sid2)
    assert s1.objective_total == 50 and s2.objective_total == 50 - 5 - 3
    assert AnswerCrop.objects.filter(paper=paper).count() == 6
    unknown = ReviewItem.objects.get(paper=paper, code="unknown_student")
    assert "9999999999" in unknown.message and unknown.page and unknown.page.image
    assert FinalScore.objects.get(sheet=s1).total == 50 and not FinalScore.objects.get(sheet=s1).complete


def test_non_images_are_refused_one_by_one_and_the_rest_goes_on(admin: Any, school_id: int) -> None:
    paper = make_paper(admin, school_id)
    ((_sid, n1),) = numbers_of(school_id, 1)
    files = [
        *uploads(scans(paper, [(n1, ALL_RIGHT)])),
        SimpleUploadedFile("notes.txt", b"hello, not a scan"),
        SimpleUploadedFile("empty.jpg", b""),
    ]
    batch = services.upload_scans(actor=admin, paper_id=paper.pk, files=files)
    assert [r["name"] for r in batch.rejected] == ["notes.txt", "empty.jpg"]
    assert "不是图像" in batch.rejected[0]["message"] and len(batch.files) == 1
    with pytest.raises(DomainError, match="没有可识别的扫描文件"):
        services.upload_scans(actor=admin, paper_id=paper.pk, files=[SimpleUploadedFile("a.doc", b"PK? no")])


def test_oversized_files_are_refused_with_their_size(admin: Any, school_id: int, monkeypatch: Any) -> None:
    paper = make_paper(admin, school_id)
    monkeypatch.setattr(services, "MAX_FILE_BYTES", 1000)
    ((_sid, n1),) = numbers_of(school_id, 1)
    with pytest.raises(DomainError, match="文件过大"):
        services.upload_scans(actor=admin, paper_id=paper.pk, files=uploads(scans(paper, [(n1, ALL_RIGHT)])))


def test_a_cancelled_batch_resumes_without_reading_pages_again(admin: Any, school_id: int) -> None:
    paper = make_paper(admin, school_id)
    numbers = numbers_of(school_id, 3)
    batch = services.upload_scans(
        actor=admin, paper_id=paper.pk, files=uploads(scans(paper, [(n, ALL_RIGHT) for _sid, n in numbers]))
    )

    def cancel_after_first(row: ScanBatch) -> None:
        if row.pages_done == 1:
            services.cancel_batch(actor=admin, batch_id=row.pk)

    stopped = services.read_batch(batch_id=batch.pk, observe=cancel_after_first)
    assert stopped is not None and stopped.status == BatchStatus.CANCELLED and stopped.pages_done == 1
    assert not AnswerSheet.objects.filter(paper=paper).exists()
    services.resume_batch(actor=admin, batch_id=batch.pk)
    seen: list[int] = []
    done = services.read_batch(batch_id=batch.pk, observe=lambda row: seen.append(row.pages_done))
    assert done is not None and done.status == BatchStatus.DONE
    assert seen[0] == 1 and done.summary["pages_read_now"] == 2  # the first page came from the state file
    assert AnswerSheet.objects.filter(paper=paper).count() == 3
    with pytest.raises(DomainError):
        services.resume_batch(actor=admin, batch_id=batch.pk)


def test_a_student_scanned_again_in_another_batch_goes_to_review(admin: Any, school_id: int) -> None:
    paper = make_paper(admin, school_id)
    ((_sid, n1),) = numbers_of(school_id, 1)
    _read(paper, admin, scans(paper, [(n1, ALL_RIGHT)]))
    _read(paper, admin, scans(paper, [(n1, {})], seed=2))
    item = ReviewItem.objects.get(paper=paper, code="duplicate_id")
    assert n1 in item.message and AnswerSheet.objects.get(paper=paper).objective_total == 50


# --- review and the key ------------------------------------------------------------------------------------------


def test_choosing_the_student_of_an_unknown_number_moves_the_sheet_to_him(
    admin: Any, school_id: int, account_for: Any
) -> None:
    paper = make_paper(admin, school_id)
    _read(paper, admin, scans(paper, [("9999999999", ALL_RIGHT)]))
    item = ReviewItem.objects.get(paper=paper, code="unknown_student")
    sid, number = numbers_of(school_id, 5)[4]
    with pytest.raises(NotPermitted):
        services.resolve_review(actor=account_for("subject_teacher"), item_id=item.pk, student_id=sid)
    resolved = services.resolve_review(actor=admin, item_id=item.pk, student_id=sid)
    assert resolved.status == ReviewStatus.RESOLVED and resolved.resolved_by == admin and number in resolved.resolution
    sheet = AnswerSheet.objects.get(paper=paper)
    assert (sheet.student_number, sheet.student_id) == (number, sid)
    with pytest.raises(DomainError, match="已处理"):
        services.resolve_review(actor=admin, item_id=item.pk, note="again")


def test_correcting_an_answer_rescores_the_sheet(admin: Any, school_id: int) -> None:
    paper = make_paper(admin, school_id)
    ((_sid, n1),) = numbers_of(school_id, 1)
    _read(paper, admin, scans(paper, [(n1, ALL_RIGHT)]))
    sheet = AnswerSheet.objects.get(paper=paper)
    page = sheet.pages.get()
    item = ReviewItem.objects.create(
        school_id=school_id, paper=paper, page=page, sheet=sheet, code="ambiguous", message="填涂不清", question=3
    )
    with pytest.raises(DomainError, match="无效"):
        services.resolve_review(actor=admin, item_id=item.pk, answer="Z")
    services.resolve_review(actor=admin, item_id=item.pk, answer="c")
    sheet.refresh_from_db()
    assert sheet.answers["3"] == "C" and sheet.objective_total == 45
    assert FinalScore.objects.get(sheet=sheet).objective == 45


def test_a_corrected_key_rescores_every_sheet_at_once(admin: Any, school_id: int) -> None:
    paper = make_paper(admin, school_id)
    numbers = numbers_of(school_id, 2)
    _read(paper, admin, scans(paper, [(n, ALL_RIGHT) for _sid, n in numbers]))
    with pytest.raises(services.PaperErrors):
        services.correct_answer_key(actor=admin, paper_id=paper.pk, key={"1": "Q"})
    assert services.correct_answer_key(actor=admin, paper_id=paper.pk, key={"1": "B", "9": "ABC"}) == 2
    for sheet in AnswerSheet.objects.filter(paper=paper):
        assert sheet.objective_total == 50 - 5 - 3  # 1 now wrong, 9 partial
        assert FinalScore.objects.get(sheet=sheet).total == 42
    paper.refresh_from_db()
    assert paper.answer_key["1"] == "B" and paper.answer_key["2"] == "A"
    assert AuditRecord.objects.filter(action="omr.key_correct", target_id=str(paper.pk)).exists()


def test_a_paper_with_scans_keeps_its_structure(admin: Any, school_id: int) -> None:
    paper = make_paper(admin, school_id)
    ((_sid, n1),) = numbers_of(school_id, 1)
    _read(paper, admin, scans(paper, [(n1, ALL_RIGHT)]))
    with pytest.raises(DomainError, match="不能再修改结构"):
        services.update_paper(actor=admin, paper_id=paper.pk, source=definition(exam="改名"))


# --- marking ---------------------------------------------------------------------------------------------------


@pytest.fixture
def marked_paper(admin: Any, school_id: int) -> tuple[ExamPaper, list[Any]]:
    """Four students' sheets read; three staff of the school to mark."""
    from zhixiao.identity.models import Account

    paper = make_paper(admin, school_id)
    _read(paper, admin, scans(paper, [(n, ALL_RIGHT) for _sid, n in numbers_of(school_id, 4)]))
    staff = [a for a, _label in people_selectors.staff_choices(school_id=school_id)[:4]]
    return paper, [Account.objects.get(pk=pk) for pk in staff]


def test_single_marking_gives_the_score_and_only_assigned_markers_mark(marked_paper: Any, admin: Any) -> None:
    paper, (t1, t2, head, other) = marked_paper
    services.save_assignment(actor=admin, paper_id=paper.pk, question=11, marker_ids=[t1.pk], head_marker_id=head.pk)
    crop = services.next_crop(actor=t1, paper_id=paper.pk, question=11)
    assert crop is not None
    with pytest.raises(NotPermitted):
        services.submit_mark(actor=other, crop_id=crop.pk, score="5")
    with pytest.raises(NotPermitted):
        services.submit_mark(actor=t2, crop_id=crop.pk, score="5")  # a marker of the school, not of this question
    with pytest.raises(DomainError, match="步长"):
        services.submit_mark(actor=t1, crop_id=crop.pk, score="5.3")
    with pytest.raises(DomainError):
        services.submit_mark(actor=t1, crop_id=crop.pk, score="11")
    services.submit_mark(actor=t1, crop_id=crop.pk, score="7.5")
    crop.refresh_from_db()
    assert crop.status == CropStatus.DONE and crop.final_score == Decimal("7.5")
    assert services.remaining_for(actor=t1, paper_id=paper.pk, question=11) == 3
    final = FinalScore.objects.get(sheet=crop.sheet)
    assert final.written["11"] == 7.5 and final.total == 57.5
    assert AuditRecord.objects.filter(action="omr.mark").count() == 1


def test_markers_get_crops_in_random_order_never_twice_and_without_names(marked_paper: Any, admin: Any) -> None:
    paper, (t1, _t2, head, _o) = marked_paper
    services.save_assignment(actor=admin, paper_id=paper.pk, question=11, marker_ids=[t1.pk], head_marker_id=head.pk)
    firsts = set()
    for seed in range(8):
        crop = services.next_crop(actor=t1, paper_id=paper.pk, question=11, rng=random.Random(seed))
        assert crop is not None
        # what the marker is given: an image of the answer and its question, nothing that names the student
        assert crop.image.startswith("omr/") and crop.sheet.student_number not in crop.image
        firsts.add(crop.pk)
    assert len(firsts) > 1  # not the students' order
    for _ in range(4):
        crop = services.next_crop(actor=t1, paper_id=paper.pk, question=11)
        assert crop is not None
        services.submit_mark(actor=t1, crop_id=crop.pk, score="4")
    assert services.next_crop(actor=t1, paper_id=paper.pk, question=11) is None


def test_double_marking_within_tolerance_takes_the_mean_rounded_to_the_step(marked_paper: Any, admin: Any) -> None:
    paper, (t1, t2, head, _o) = marked_paper
    services.save_assignment(
        actor=admin,
        paper_id=paper.pk,
        question=11,
        marker_ids=[t1.pk, t2.pk],
        head_marker_id=head.pk,
        double_marking=True,
        tolerance="1",
    )
    crop = services.next_crop(actor=t1, paper_id=paper.pk, question=11)
    assert crop is not None
    services.submit_mark(actor=t1, crop_id=crop.pk, score="6")
    crop.refresh_from_db()
    assert crop.status == CropStatus.MARKING and crop.final_score is None
    with pytest.raises(DomainError, match="已评过"):
        services.submit_mark(actor=t1, crop_id=crop.pk, score="6")
    assert services.crop_in_queue(actor=t1, assignment=paper.assignments.get(), crop_id=crop.pk) is None
    services.submit_mark(actor=t2, crop_id=crop.pk, score="6.5")
    crop.refresh_from_db()
    assert crop.status == CropStatus.DONE and crop.final_score == Decimal("6.5")  # 6.25 → 6.5
    assert sorted(crop.marks.values_list("role", flat=True)) == ["first", "second"]


def test_double_marks_beyond_tolerance_go_to_the_head_marker_whose_score_is_final(
    marked_paper: Any, admin: Any
) -> None:
    paper, (t1, t2, head, _o) = marked_paper
    services.save_assignment(
        actor=admin,
        paper_id=paper.pk,
        question=12,
        marker_ids=[t1.pk, t2.pk],
        head_marker_id=head.pk,
        double_marking=True,
        tolerance="1",
    )
    crop = services.next_crop(actor=t1, paper_id=paper.pk, question=12)
    assert crop is not None
    services.submit_mark(actor=t1, crop_id=crop.pk, score="2")
    services.submit_mark(actor=t2, crop_id=crop.pk, score="6")
    crop.refresh_from_db()
    assert crop.status == CropStatus.ARBITRATION and crop.final_score is None
    with pytest.raises(NotPermitted):
        services.head_mark(actor=t1, crop_id=crop.pk, score="4")
    services.head_mark(actor=head, crop_id=crop.pk, score="5")
    crop.refresh_from_db()
    assert crop.status == CropStatus.DONE and crop.final_score == 5
    assert AuditRecord.objects.filter(action="omr.arbitrate").count() == 1
    services.head_mark(actor=head, crop_id=crop.pk, score="4")  # a re-mark: audited, final again
    crop.refresh_from_db()
    assert crop.final_score == 4 and AuditRecord.objects.filter(action="omr.remark").count() == 1
    assert FinalScore.objects.get(sheet=crop.sheet).written["12"] == 4.0


def test_a_third_marker_can_arbitrate_instead(marked_paper: Any, admin: Any) -> None:
    paper, (t1, t2, t3, _o) = marked_paper
    services.save_assignment(
        actor=admin,
        paper_id=paper.pk,
        question=11,
        marker_ids=[t1.pk, t2.pk, t3.pk],
        head_marker_id=t3.pk,
        double_marking=True,
        tolerance="0",
        arbitration="third",
    )
    crop = AnswerCrop.objects.filter(paper=paper, question=11).order_by("pk").first()
    assert crop is not None
    services.submit_mark(actor=t1, crop_id=crop.pk, score="3")
    services.submit_mark(actor=t2, crop_id=crop.pk, score="4")
    assert services.crop_in_queue(actor=t3, assignment=paper.assignments.get(), crop_id=crop.pk) is not None
    with pytest.raises(DomainError):
        services.submit_mark(actor=t1, crop_id=crop.pk, score="3")
    mark = services.submit_mark(actor=t3, crop_id=crop.pk, score="3.5")
    crop.refresh_from_db()
    assert mark.role == "third" and crop.final_score == Decimal("3.5") and crop.status == CropStatus.DONE


def test_marks_are_kept_atomic_a_refused_mark_writes_nothing(marked_paper: Any, admin: Any) -> None:
    paper, (t1, _t2, head, _o) = marked_paper
    services.save_assignment(actor=admin, paper_id=paper.pk, question=11, marker_ids=[t1.pk], head_marker_id=head.pk)
    crop = services.next_crop(actor=t1, paper_id=paper.pk, question=11)
    assert crop is not None
    before = AuditRecord.objects.count()
    with pytest.raises(DomainError):
        services.submit_mark(actor=t1, crop_id=crop.pk, score="abc")
    assert not Mark.objects.exists() and AuditRecord.objects.count() == before


def test_assignments_need_staff_of_the_school_and_two_markers_for_double_marking(
    marked_paper: Any, admin: Any, account_for: Any
) -> None:
    paper, (t1, _t2, head, _o) = marked_paper
    with pytest.raises(DomainError, match="双评"):
        services.save_assignment(
            actor=admin, paper_id=paper.pk, question=11, marker_ids=[t1.pk], head_marker_id=head.pk, double_marking=True
        )
    with pytest.raises(DomainError, match="主观题"):
        services.save_assignment(actor=admin, paper_id=paper.pk, question=3, marker_ids=[t1.pk], head_marker_id=head.pk)
    far = account_for("subject_teacher", 1)
    with pytest.raises(DomainError, match="在职"):
        services.save_assignment(
            actor=admin, paper_id=paper.pk, question=11, marker_ids=[far.pk], head_marker_id=head.pk
        )
    with pytest.raises(NotPermitted):
        services.save_assignment(actor=t1, paper_id=paper.pk, question=11, marker_ids=[t1.pk], head_marker_id=t1.pk)


def test_progress_per_question_and_marker_and_the_excel_export(marked_paper: Any, admin: Any) -> None:
    from zhixiao.kernel.spreadsheets import read_rows
    from zhixiao.omr import selectors

    paper, (t1, _t2, head, _o) = marked_paper
    services.save_assignment(actor=admin, paper_id=paper.pk, question=11, marker_ids=[t1.pk], head_marker_id=head.pk)
    for _ in range(2):
        crop = services.next_crop(actor=t1, paper_id=paper.pk, question=11)
        assert crop is not None
        services.submit_mark(actor=t1, crop_id=crop.pk, score="10")
    q11 = services.progress_by_question(paper)[0]
    assert (q11["question"], q11["done"], q11["total"], q11["percent"]) == (11, 2, 4, 50)
    assert services.progress_by_marker(paper)[0]["marks"] == 2
    rows = read_rows(selectors.scores_xlsx(paper), max_rows=10)
    assert rows[0][:4] == ["考号", "姓名", "班级", "客观题"] and len(rows) == 5
    assert sorted(r[-2] for r in rows[1:]) == [50, 50, 60, 60]


def test_zip_multipage_tiff_and_pdf_uploads_are_read_page_by_page(admin: Any, school_id: int) -> None:
    import io
    import zipfile

    import cv2
    import numpy as np
    from PIL import Image

    paper = make_paper(admin, school_id)
    numbers = [n for _sid, n in numbers_of(school_id, 5)]
    jpegs = scans(paper, [(n, ALL_RIGHT) for n in numbers])
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a/1.jpg", jpegs[0])
        zf.writestr("a/2.jpg", jpegs[1])
        zf.writestr("readme.txt", b"not a scan")
    images = [Image.fromarray(cv2.imdecode(np.frombuffer(j, np.uint8), cv2.IMREAD_GRAYSCALE)) for j in jpegs[2:4]]
    tiff, pdf = io.BytesIO(), io.BytesIO()
    images[0].save(tiff, format="TIFF", save_all=True, append_images=images[1:])
    Image.fromarray(cv2.imdecode(np.frombuffer(jpegs[4], np.uint8), cv2.IMREAD_GRAYSCALE)).save(
        pdf, format="PDF", resolution=150
    )
    files = [
        SimpleUploadedFile("第一批.zip", archive.getvalue()),
        SimpleUploadedFile("两页.tif", tiff.getvalue()),
        SimpleUploadedFile("扫描.pdf", pdf.getvalue()),
    ]
    batch = services.upload_scans(actor=admin, paper_id=paper.pk, files=files)
    done = services.read_batch(batch_id=batch.pk)
    assert done is not None and done.status == BatchStatus.DONE and done.pages_total == 6
    assert sorted(AnswerSheet.objects.filter(paper=paper).values_list("student_number", flat=True)) == sorted(numbers)
    refused = ReviewItem.objects.get(paper=paper, code="not_image")
    assert "第一批.zip!readme.txt" in refused.message


def test_a_batch_whose_worker_died_can_be_cancelled_and_resumed(admin: Any, school_id: int) -> None:
    import datetime as dt

    from django.utils import timezone

    paper = make_paper(admin, school_id)
    ((_sid, n1),) = numbers_of(school_id, 1)
    batch = services.upload_scans(actor=admin, paper_id=paper.pk, files=uploads(scans(paper, [(n1, ALL_RIGHT)])))
    ScanBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.RUNNING, started_at=timezone.now() - dt.timedelta(hours=1)
    )
    stopped = services.cancel_batch(actor=admin, batch_id=batch.pk)
    assert stopped.status == BatchStatus.FAILED and "继续识别" in stopped.error
    services.resume_batch(actor=admin, batch_id=batch.pk)
    done = services.read_batch(batch_id=batch.pk)
    assert done is not None and done.status == BatchStatus.DONE and done.students == 1
