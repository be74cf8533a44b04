"""阅卷 for a school: papers from JSON and their answer sheets, scan batches read in the worker with progress,
cancel and resume, the review queue, a corrected answer key re-scoring every sheet, marking assignments per
question, on-screen marking (random order, no names; double marking with a tolerance, arbitration by a third
marker or the head marker; the head marker's re-marks) and the final scores.

Every write is permission-checked (exam.manage over the paper — the school admin or the head of the school's
教务处 — or, for marks, the marker's own assignment), atomic and audited. The reading itself is the engine's
(engine/batch.py): the worker hands it the batch's files from storage and imports its JSON records."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixiao.kernel import audit, permissions, tenancy
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.kernel.pdf_fonts import CjkFontError, register_cjk_font
from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors

from .engine import batch as engine_batch
from .engine.layout import Layout, load_layout
from .engine.paper import PAPER_SIZES, Paper, PaperError, normalise_answer, parse_paper
from .engine.paper import Question as PaperQuestion
from .engine.roster import Student as RosterStudent
from .engine.sheet import make_sheet, plan_sheet
from .models import (
    AnswerCrop,
    AnswerSheet,
    Arbitration,
    BatchStatus,
    CropStatus,
    ExamPaper,
    FinalScore,
    Mark,
    MarkingAssignment,
    MarkRole,
    ReviewItem,
    ReviewStatus,
    ScanBatch,
    ScannedPage,
)

logger = logging.getLogger(__name__)

ACADEMIC_DEPARTMENT = "教务处"
MAX_FILE_BYTES = 200 * 1024 * 1024  # one scan file (a PDF or ZIP of a class's sheets)
MAX_BATCH_BYTES = 1024 * 1024 * 1024  # one upload
MAX_FILES = 100  # Django's DATA_UPLOAD_MAX_NUMBER_FILES; more pages go in a ZIP or a PDF
MAX_DEFINITION_BYTES = 512 * 1024
WORKERS = int(os.environ.get("ZHIXIAO_OMR_WORKERS", "0"))  # 0: the engine's default (the cores, up to 8)
STALE_AFTER = dt.timedelta(minutes=30)  # a running batch with no progress this long lost its worker
ACTIVE = (BatchStatus.QUEUED, BatchStatus.RUNNING)
# review codes settled by saying whose sheet it is, and those settled by correcting one answer
STUDENT_CODES = {"id_unreadable", "id_mismatch", "unassigned_page", "unknown_student", "duplicate_id", "ambiguous_id"}
ANSWER_CODES = {"multiple_marks", "ambiguous"}


class PaperErrors(DomainError):
    """A paper definition we cannot use; `errors` lists every problem, in Chinese."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("；".join(errors[:5]))
        self.errors = errors


class Upload(Protocol):
    """An uploaded file as Django gives it (UploadedFile): name, size and chunks."""

    @property
    def name(self) -> str | None: ...

    @property
    def size(self) -> int | None: ...

    def chunks(self, chunk_size: int | None = None) -> Iterable[bytes]: ...


# --- who may do what ----------------------------------------------------------------------------------------


def may_manage_school(actor: Any, school_id: int) -> bool:
    """exam.manage over the whole school, or as head of the school's 教务处 (None: the system)."""
    academic = org_selectors.department_ids_named(school_id=school_id, name=ACADEMIC_DEPARTMENT)
    return permissions.may_in_school(actor, permissions.MANAGE_EXAMS, school_id, academic)


def _manages(actor: Any, paper: ExamPaper) -> bool:
    if actor is None:
        return True
    return ExamPaper.objects.filter(
        permissions.scope_q(actor, permissions.MANAGE_EXAMS, ExamPaper), pk=paper.pk
    ).exists()


def _paper(actor: Any, paper_id: int, *, lock: bool = False) -> ExamPaper:
    qs = ExamPaper.objects.select_for_update() if lock else ExamPaper.objects.all()
    paper = qs.filter(pk=paper_id).first()
    if paper is None:
        raise DomainError(_("试卷不存在"))
    if not _manages(actor, paper):
        raise NotPermitted(_("没有权限管理该试卷"))
    return paper


def layout_of(paper: ExamPaper) -> Layout:
    return load_layout(paper.layout)


def written_questions(paper: ExamPaper) -> list[tuple[int, Decimal]]:
    """(question, full score) of the paper's written questions, in order."""
    return [(q.no, Decimal(str(q.score))) for q in layout_of(paper).questions if not q.objective]


def exam_number(student_no: str, digits: int) -> str:
    """The 考号 a student fills in on our sheets: the last `digits` digits of the 学籍号 (docs/omr.md)."""
    only = re.sub(r"\D", "", student_no)
    return only[-digits:].zfill(digits)


# --- papers ------------------------------------------------------------------------------------------------


def _decode_definition(source: str | bytes) -> Any:
    if isinstance(source, bytes):
        if len(source) > MAX_DEFINITION_BYTES:
            raise PaperErrors([_("试卷定义文件过大（最多 512 KB）")])
        try:
            source = source.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PaperErrors([_("试卷定义不是 UTF-8 文本")]) from exc
    if not source.strip():
        raise PaperErrors([_("请上传试卷定义文件或在文本框中填写试卷定义（JSON）")])
    try:
        return json.loads(source)
    except json.JSONDecodeError as exc:
        raise PaperErrors(
            [_("试卷定义不是有效的 JSON：第 {line} 行第 {col} 列").format(line=exc.lineno, col=exc.colno)]
        ) from exc


def _checked(source: str | bytes, paper_size: str = "") -> tuple[Paper, dict[str, Any], dict[str, Any]]:
    """The paper, its definition (with the chosen size) and its sheet's layout; every problem at once."""
    data = _decode_definition(source)
    if paper_size:
        if paper_size not in PAPER_SIZES:
            raise PaperErrors([_("纸张应为 A4 或 A3")])
        if isinstance(data, dict):
            data["paper_size"] = paper_size
    try:
        paper = parse_paper(data)
        layout = plan_sheet(paper, register_cjk_font()).layout()
    except PaperError as exc:
        raise PaperErrors(exc.problems) from exc
    except CjkFontError as exc:
        raise PaperErrors([str(exc)]) from exc
    return paper, data, layout


def _key_json(paper: Paper) -> dict[str, str]:
    return {str(k): v for k, v in sorted(paper.answer_key.items())}


def create_paper(
    *, actor: Any, school_id: int, source: str | bytes, paper_size: str = "", score_step: str = "0.5"
) -> ExamPaper:
    """A paper from its JSON definition (docs/omr.md): checked as a whole, its sheet's layout generated."""
    if not may_manage_school(actor, school_id):
        raise NotPermitted(_("没有权限为该校管理试卷"))
    paper, data, layout = _checked(source, paper_size)
    step = _step(score_step)
    academic = org_selectors.department_ids_named(school_id=school_id, name=ACADEMIC_DEPARTMENT)
    try:
        with transaction.atomic():
            row = ExamPaper.objects.create(
                school_id=school_id,
                name=paper.exam,
                subject=paper.subject,
                exam_code=paper.exam_code,
                subject_code=paper.subject_code,
                definition=data,
                layout=layout,
                answer_key=_key_json(paper),
                score_step=step,
                academic_department_id=academic[0] if academic else None,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
            audit.record(actor=actor, action="omr.paper_create", target=row, note=f"{row.name} {row.subject}")
    except IntegrityError as exc:
        raise PaperErrors(
            [
                _("本校已有考试代码 {exam}、科目代码 {subject} 的试卷").format(
                    exam=paper.exam_code, subject=paper.subject_code
                )
            ]
        ) from exc
    return row


def _step(value: Any) -> Decimal:
    try:
        step = Decimal(str(value))
    except InvalidOperation as exc:
        raise PaperErrors([_("给分步长应为 0.5 或 1 等正数")]) from exc
    if step not in (Decimal("0.5"), Decimal("1"), Decimal("0.25"), Decimal("2")):
        raise PaperErrors([_("给分步长应为 0.25、0.5、1 或 2")])
    return step


def update_paper(
    *, actor: Any, paper_id: int, source: str | bytes, paper_size: str = "", score_step: str = ""
) -> ExamPaper:
    """A new definition for a paper with no scans yet (a read sheet must keep the layout it was printed with)."""
    with transaction.atomic():
        row = _paper(actor, paper_id, lock=True)
        if row.batches.exists():
            raise DomainError(_("已上传扫描件的试卷不能再修改结构；可以更正答案"))
        paper, data, layout = _checked(source, paper_size)
        if (paper.exam_code, paper.subject_code) != (row.exam_code, row.subject_code) and ExamPaper.objects.filter(
            school_id=row.school_id, exam_code=paper.exam_code, subject_code=paper.subject_code
        ).exclude(pk=row.pk).exists():
            raise PaperErrors(
                [
                    _("本校已有考试代码 {exam}、科目代码 {subject} 的试卷").format(
                        exam=paper.exam_code, subject=paper.subject_code
                    )
                ]
            )
        before = {"name": row.name, "subject": row.subject, "definition": row.definition}
        row.name, row.subject, row.exam_code, row.subject_code = (
            paper.exam,
            paper.subject,
            paper.exam_code,
            paper.subject_code,
        )
        row.definition, row.layout, row.answer_key = data, layout, _key_json(paper)
        if score_step:
            row.score_step = _step(score_step)
        row.save()
        row.assignments.exclude(question__in=[q for q, _s in written_questions(row)]).delete()
        after = {"name": row.name, "subject": row.subject, "definition": row.definition}
        audit.record(actor=actor, action="omr.paper_update", target=row, changes=audit.diff(before, after))
    return row


@dataclass
class Download:
    data: bytes
    content_type: str
    filename: str


def sheet_pdf(*, actor: Any, paper_id: int, class_id: int | None = None) -> Download:
    """The paper's answer sheet (A4 or A3 as the paper says): blank, or pre-printed for each enrolled student of
    a class with name, class and 考号 (the QR carries the 考号 too)."""
    row = _paper(actor, paper_id)
    paper = parse_paper(row.definition).with_answer_key(row.answer_key)
    roster = None
    suffix = ""
    if class_id is not None:
        students = people_selectors.enrolled_students_of(school_id=row.school_id, class_id=class_id)
        if not students:
            raise DomainError(_("该班没有在读学生"))
        digits = paper.id.digits
        roster = [
            RosterStudent(exam_number(s["student_no"], digits), s["name"], s["class_name"] or "") for s in students
        ]
        suffix = f"-class{class_id}"
    try:
        sheet = make_sheet(paper, roster=roster)
    except PaperError as exc:
        raise PaperErrors(exc.problems) from exc
    name = f"answer-sheet-{row.exam_code}-{row.subject_code}-{paper.paper_size}{suffix}.pdf"
    return Download(sheet.pdf, "application/pdf", name)


def correct_answer_key(*, actor: Any, paper_id: int, key: Mapping[str, Any]) -> int:
    """A corrected answer key (e.g. question 12 is B, not C): checked like the JSON's, then every sheet of the
    paper is re-scored at once from its stored answers (no page is read again). Returns the sheets re-scored."""
    with transaction.atomic():
        row = _paper(actor, paper_id, lock=True)
        merged = {**row.answer_key, **{str(k): v for k, v in key.items() if str(v).strip()}}
        try:
            paper = parse_paper(row.definition).with_answer_key(merged)
        except PaperError as exc:
            raise PaperErrors(exc.problems) from exc
        new_key = _key_json(paper)
        changes = audit.diff(row.answer_key, new_key)
        row.answer_key = new_key
        row.save(update_fields=["answer_key", "updated_at"])
        sheets = list(row.sheets.all())
        layout = layout_of(row)
        for sheet in sheets:
            _score(sheet, layout, new_key)
        AnswerSheet.objects.bulk_update(sheets, ["objective_scores", "objective_total"], batch_size=500)
        _refresh_finals(row, sheets)
        audit.record(
            actor=actor, action="omr.key_correct", target=row, changes=changes, note=f"{len(sheets)} 份重新计分"
        )
    return len(sheets)


def _score(sheet: AnswerSheet, layout: Layout, key: Mapping[str, str]) -> None:
    scores = engine_batch.score_answers(layout, sheet.answers, key)
    sheet.objective_scores = scores
    sheet.objective_total = sum((Decimal(str(v)) for v in scores.values()), Decimal(0))


# --- scans --------------------------------------------------------------------------------------------------


def _safe_name(name: str) -> str:
    base = Path(name or "scan").name
    return re.sub(r"[^\w.\-]+", "_", base)[-80:] or "scan"


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB"


def upload_scans(*, actor: Any, paper_id: int, files: Sequence[Upload]) -> ScanBatch:
    """Keep the uploaded scans (JPEG, PNG, TIFF, PDF, or a ZIP of them) and queue the batch. A file that is not a
    scan or is too large is refused with its reason and the rest goes on; nothing accepted → an error."""
    if not files:
        raise DomainError(_("请选择扫描文件（JPEG、PNG、TIFF、PDF 或 ZIP）"))
    if len(files) > MAX_FILES:
        raise DomainError(_("一次最多上传 {n} 个文件；页数多时请打包成 ZIP 或 PDF 上传").format(n=MAX_FILES))
    total = sum(f.size or 0 for f in files)
    if total > MAX_BATCH_BYTES:
        raise DomainError(
            _("本次上传共 {size}，超过上限 {limit}，请分批上传").format(size=_mb(total), limit=_mb(MAX_BATCH_BYTES))
        )
    with transaction.atomic():
        paper = _paper(actor, paper_id, lock=True)
        batch = ScanBatch.objects.create(
            school_id=paper.school_id, paper=paper, created_by=actor if getattr(actor, "pk", None) else None
        )
        batch.storage_dir = f"omr/paper-{paper.pk}/batch-{batch.pk}"
        accepted: list[dict[str, Any]] = []
        rejected: list[dict[str, str]] = []
        for i, f in enumerate(files):
            name = f.name or f"file-{i + 1}"
            if (f.size or 0) > MAX_FILE_BYTES:
                rejected.append(
                    {
                        "name": name,
                        "message": _("文件过大（{size}，上限 {limit}）").format(
                            size=_mb(f.size or 0), limit=_mb(MAX_FILE_BYTES)
                        ),
                    }
                )
                continue
            chunks = iter(f.chunks())
            head = next(chunks, b"")
            kind = engine_batch.sniff(head[:16])
            if kind is None:
                rejected.append({"name": name, "message": _("不是图像（JPEG、PNG、TIFF）、PDF 或 ZIP 文件")})
                continue
            if len(head) == 0:
                rejected.append({"name": name, "message": _("空文件")})
                continue
            data = head + b"".join(chunks)
            stored = default_storage.save(f"{batch.storage_dir}/files/{i:03d}-{_safe_name(name)}", ContentFile(data))
            accepted.append({"name": name, "stored": stored, "size": len(data), "kind": kind})
        if not accepted:
            reasons = "；".join(f"{r['name']}：{r['message']}" for r in rejected[:5])
            raise DomainError(_("没有可识别的扫描文件：{reasons}").format(reasons=reasons))
        batch.files, batch.rejected = accepted, rejected
        batch.save(update_fields=["storage_dir", "files", "rejected"])
        audit.record(
            actor=actor,
            action="omr.scans_upload",
            target=batch,
            note=f"{len(accepted)} 个文件，{len(rejected)} 个被拒绝",
        )
        transaction.on_commit(lambda: _enqueue(batch.pk))
    return batch


def _enqueue(batch_id: int) -> None:
    from .tasks import read_batch_task  # the task module imports this one

    read_batch_task.enqueue(batch_id)


def cancel_batch(*, actor: Any, batch_id: int) -> ScanBatch:
    """Stop a batch: a queued one at once, a running one after its current page (pages read are kept)."""
    with transaction.atomic():
        batch = ScanBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None:
            raise DomainError(_("扫描批次不存在"))
        _paper(actor, batch.paper_id)
        if batch.finished:
            raise DomainError(_("该批次已经结束"))
        _expire_stale(batch)
        if batch.finished:  # its worker had died: failed now, and resumable
            return batch
        batch.cancel_requested = True
        fields = ["cancel_requested"]
        if batch.status == BatchStatus.QUEUED:
            batch.status, batch.finished_at = BatchStatus.CANCELLED, timezone.now()
            fields += ["status", "finished_at"]
        batch.save(update_fields=fields)
        audit.record(actor=actor, action="omr.batch_cancel", target=batch)
    return batch


def resume_batch(*, actor: Any, batch_id: int) -> ScanBatch:
    """Queue a cancelled or failed batch again: pages already read are not read again."""
    with transaction.atomic():
        batch = ScanBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None:
            raise DomainError(_("扫描批次不存在"))
        _paper(actor, batch.paper_id)
        _expire_stale(batch)
        if batch.status not in (BatchStatus.CANCELLED, BatchStatus.FAILED):
            raise DomainError(_("只有已取消或失败的批次可以继续识别"))
        batch.status, batch.cancel_requested, batch.error, batch.finished_at = BatchStatus.QUEUED, False, "", None
        batch.save(update_fields=["status", "cancel_requested", "error", "finished_at"])
        audit.record(actor=actor, action="omr.batch_resume", target=batch, note=f"已识别 {batch.pages_done} 页")
        transaction.on_commit(lambda: _enqueue(batch.pk))
    return batch


def _expire_stale(batch: ScanBatch) -> None:
    """A batch "running" with no progress for a long time lost its worker: failed, so it can be resumed."""
    last = batch.summary.get("progress_at")
    seen = dt.datetime.fromisoformat(last) if last else batch.started_at
    if batch.status == BatchStatus.RUNNING and seen and seen + STALE_AFTER < timezone.now():
        batch.status, batch.finished_at = BatchStatus.FAILED, timezone.now()
        batch.error = _("任务中断：工作进程在识别时停止了，可以继续识别")
        batch.save(update_fields=["status", "finished_at", "error"])


class _Cancelled(Exception):
    pass


def _local(name: str) -> Path:
    """The file system path of a storage name (the batch's files, its state file and images)."""
    return Path(default_storage.path(name))


def read_batch(*, batch_id: int, observe: Callable[[ScanBatch], None] | None = None) -> ScanBatch | None:
    """The worker's part: run the engine over the batch's files (resuming from its state file), keeping the
    progress row current and watching for a cancel; then import the results. `observe` sees the row after each
    page (tests use it to cancel midway)."""
    tenancy.deactivate()  # the worker serves every school; the permission was checked when the batch was queued
    with transaction.atomic():
        batch = ScanBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.status != BatchStatus.QUEUED:
            return batch
        batch.status, batch.started_at = BatchStatus.RUNNING, batch.started_at or timezone.now()
        batch.save(update_fields=["status", "started_at"])
    paper = batch.paper
    layout = layout_of(paper)
    base = batch.storage_dir
    inputs = [_local(f["stored"]) for f in batch.files]

    def progress(done: int, total: int) -> None:
        ScanBatch.objects.filter(pk=batch_id).update(
            pages_done=done, pages_total=total, summary={"progress_at": timezone.now().isoformat()}
        )
        if observe is not None:
            observe(ScanBatch.objects.get(pk=batch_id))
        if ScanBatch.objects.filter(pk=batch_id, cancel_requested=True).exists():
            raise _Cancelled

    try:
        result = engine_batch.run_batch(
            layout,
            inputs,
            state=_local(f"{base}/state.jsonl"),
            workers=WORKERS,
            crops_dir=_local(f"{base}/images"),
            progress=progress,
            key=paper.answer_key,
        )
    except _Cancelled:
        ScanBatch.objects.filter(pk=batch_id).update(status=BatchStatus.CANCELLED, finished_at=timezone.now())
        audit.record(actor=None, action="omr.batch_end", target=batch, note="cancelled")
        return ScanBatch.objects.get(pk=batch_id)
    except Exception as exc:  # the engine's bug must not leave the batch "running" for ever
        logger.exception("omr batch %s failed", batch_id)
        ScanBatch.objects.filter(pk=batch_id).update(
            status=BatchStatus.FAILED, finished_at=timezone.now(), error=_("识别出错：{error}").format(error=exc)[:500]
        )
        return ScanBatch.objects.get(pk=batch_id)
    try:
        return _import(batch_id, layout, result)
    except Exception as exc:  # nothing of the import is kept (one transaction); the pages read are, for a resume
        logger.exception("omr batch %s import failed", batch_id)
        ScanBatch.objects.filter(pk=batch_id).update(
            status=BatchStatus.FAILED, finished_at=timezone.now(), error=_("识别出错：{error}").format(error=exc)[:500]
        )
        return ScanBatch.objects.get(pk=batch_id)


def _records_by_file(batch: ScanBatch) -> dict[str, str]:
    """Engine file paths → the names people uploaded."""
    return {str(_local(f["stored"])): f["name"] for f in batch.files}


def _shown_file(path: str, names: Mapping[str, str]) -> str:
    head, sep, member = path.partition("!")
    return names.get(head, Path(head).name) + (f"!{member}" if sep else "")


def _import(batch_id: int, layout: Layout, result: engine_batch.BatchResult) -> ScanBatch:
    """The engine's records as pages, students' sheets, crops and review items, in one transaction. Students are
    matched by 考号; a 考号 already on another batch's sheet, unknown or ambiguous goes to review."""
    with transaction.atomic():
        batch = ScanBatch.objects.select_for_update().get(pk=batch_id)
        paper = ExamPaper.objects.select_for_update().get(pk=batch.paper_id)
        # a re-run of the import (a resumed batch) replaces what the batch imported before, marks aside
        ReviewItem.objects.filter(batch=batch).delete()
        marked = Mark.objects.filter(crop__sheet__batch=batch).values("crop__sheet_id")
        AnswerSheet.objects.filter(batch=batch).exclude(pk__in=marked).delete()
        ScannedPage.objects.filter(batch=batch).delete()
        base, names = batch.storage_dir, _records_by_file(batch)
        by_number = _students_by_number(paper.school_id, layout.id_digits)
        sheets: dict[str, AnswerSheet] = {}
        items: list[ReviewItem] = []

        def item(
            code: str,
            message: str,
            *,
            page: ScannedPage | None = None,
            sheet: AnswerSheet | None = None,
            question: int | None = None,
        ) -> None:
            items.append(
                ReviewItem(
                    school_id=paper.school_id,
                    paper=paper,
                    batch=batch,
                    page=page,
                    sheet=sheet,
                    code=code,
                    message=message[:500],
                    question=question,
                )
            )

        for student in result.students:
            number = student["student_id"]
            if AnswerSheet.objects.filter(paper=paper, student_number=number).exclude(batch=batch).exists():
                continue  # reported below, on its pages
            matches = by_number.get(number, [])
            sheet = AnswerSheet.objects.create(
                school_id=paper.school_id,
                paper=paper,
                batch=batch,
                student_number=number,
                student_id=matches[0]["id"] if len(matches) == 1 else None,
                answers=student["answers"],
                objective_scores=student.get("scores", {}),
                objective_total=Decimal(str(student.get("objective_total", 0))),
            )
            sheets[number] = sheet
        key_to_number = {k: s["student_id"] for s in result.students for keys in s["pages"].values() for k in keys}
        pages: list[ScannedPage] = []
        for rec in result.pages:
            number = key_to_number.get(rec["key"], "")
            crops = rec.get("crops") or {}
            page = ScannedPage.objects.create(
                school_id=paper.school_id,
                paper=paper,
                batch=batch,
                sheet=sheets.get(number),
                file=_shown_file(rec["file"], names)[:300],
                index=rec.get("index") or 0,
                page=rec.get("page"),
                student_number=number or (rec.get("student_id") or "")[:20],
                record={k: v for k, v in rec.items() if k not in ("fills", "file")},
                image=f"{base}/images/{crops['page']}" if crops.get("page") else "",
            )
            pages.append(page)
            owner = sheets.get(number)
            if owner is not None:
                owner.confidence.update(rec.get("confidence") or {})
                for q, name in crops.items():
                    if q.isdigit():
                        AnswerCrop.objects.get_or_create(
                            sheet=owner,
                            question=int(q),
                            defaults={"school_id": paper.school_id, "paper": paper, "image": f"{base}/images/{name}"},
                        )
            codes = set()
            for r in rec.get("review") or []:
                codes.add(r["code"])
                item(r["code"], _with_file(r["message"], page), page=page, sheet=owner, question=r.get("question"))
            where = _page_label(page)
            if number and owner is None:
                item(
                    "duplicate_id",
                    _("考号 {number} 已在本试卷的其他批次中出现：{where}").format(number=number, where=where),
                    page=page,
                )
            elif (
                not number
                and rec.get("error") is None
                and isinstance(rec.get("page"), int)
                and not codes & {"wrong_exam", "id_unreadable", "id_mismatch"}
            ):
                item("unassigned_page", _("{where} 无法对应到考生").format(where=where), page=page)
        for sheet in sheets.values():
            matches = by_number.get(sheet.student_number, [])
            first = sheet.pages.order_by("pk").first()
            if not matches:
                item(
                    "unknown_student",
                    _("考号 {number} 不在本校在读学生中").format(number=sheet.student_number),
                    page=first,
                    sheet=sheet,
                )
            elif len(matches) > 1:
                item(
                    "ambiguous_id",
                    _("考号 {number} 对应 {n} 名学生，请选择").format(number=sheet.student_number, n=len(matches)),
                    page=first,
                    sheet=sheet,
                )
            sheet.save(update_fields=["confidence"])
        for b in result.review:
            if b["code"] in ("duplicate_id", "missing_pages") and b.get("student_id") in sheets:
                sheet = sheets[b["student_id"]]
                item(b["code"], b["message"], page=sheet.pages.order_by("pk").first(), sheet=sheet)
        ReviewItem.objects.bulk_create(items)
        _page_images(batch, layout, [i.page for i in items if i.page is not None and not i.page.image])
        _refresh_finals(paper, list(sheets.values()))
        batch.status, batch.finished_at = BatchStatus.DONE, timezone.now()
        batch.pages_total = batch.pages_done = len(result.pages)
        batch.students = len(sheets)
        batch.review_items = len(items)
        batch.errors = sum(1 for rec in result.pages if rec.get("error"))
        batch.summary = {k: v for k, v in result.summary.items() if k != "review_codes"} | {
            "review_codes": result.summary.get("review_codes", {})
        }
        batch.save()
        audit.record(
            actor=None,
            action="omr.batch_end",
            target=batch,
            note=f"{batch.pages_total} 页，{batch.students} 名考生，{batch.review_items} 项待复核",
        )
    return batch


def _page_images(batch: ScanBatch, layout: Layout, pages: list[ScannedPage]) -> None:
    """The engine keeps the image of a page it flagged itself; a page flagged here (an unknown 考号, a duplicate
    across batches) gets its upright image the same way, for the reviewer."""
    wanted = {p.record.get("key"): p for p in pages}
    if not wanted:
        return
    import cv2

    from .engine.reader import SheetReader

    reader = SheetReader(layout)
    tasks = engine_batch.list_pages([_local(f["stored"]) for f in batch.files])
    for task in tasks:
        page = wanted.get(task.key)
        if page is None or page.image:
            continue
        try:
            image = engine_batch.decode_page(task, layout)
        except (OSError, ValueError):
            continue
        upright: Any = reader.page_image(image)
        if upright is None:  # no markers: the scan as it is, about 1000 px
            f = min(1.0, 1000 / max(image.shape))
            upright = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        ok, jpeg = cv2.imencode(".jpg", upright, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if ok:
            page.image = default_storage.save(
                f"{batch.storage_dir}/images/page-{page.pk}.jpg", ContentFile(jpeg.tobytes())
            )
            page.save(update_fields=["image"])


def _page_label(page: ScannedPage) -> str:
    return _("{file} 第 {n} 页").format(file=page.file, n=page.index + 1)


def _with_file(message: str, page: ScannedPage) -> str:
    return f"{_page_label(page)}：{message}"


def _students_by_number(school_id: int, digits: int) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for s in people_selectors.enrolled_students_of(school_id=school_id):
        out.setdefault(exam_number(s["student_no"], digits), []).append(s)
    return out


def student_choices(paper: ExamPaper, query: str = "") -> list[dict[str, Any]]:
    """Enrolled students of the paper's school with their 考号, for the review form (a name, 学籍号 or 考号)."""
    digits = layout_of(paper).id_digits
    rows = people_selectors.enrolled_students_of(school_id=paper.school_id)
    query = query.strip()
    out = []
    for s in rows:
        number = exam_number(s["student_no"], digits)
        if query and query not in s["name"] and query not in s["student_no"] and query not in number:
            continue
        out.append({**s, "number": number})
        if len(out) >= 50:
            break
    return out


# --- review ---------------------------------------------------------------------------------------------------


def resolve_review(
    *,
    actor: Any,
    item_id: int,
    student_id: int | None = None,
    answer: str | None = None,
    note: str = "",
) -> ReviewItem:
    """Settle a review item: say whose sheet the page is (`student_id`), correct one answer (`answer`), or confirm
    it as it is (a note, e.g. a blank page). Other open items about the same page and question close with it."""
    with transaction.atomic():
        item = ReviewItem.objects.select_for_update().filter(pk=item_id).first()
        if item is None:
            raise DomainError(_("复核项不存在"))
        paper = _paper(actor, item.paper_id, lock=True)
        if item.status == ReviewStatus.RESOLVED:
            raise DomainError(_("该复核项已处理"))
        layout = layout_of(paper)
        if student_id is not None:
            resolution = _assign_student(paper, layout, item, student_id)
            closes = STUDENT_CODES
        elif answer is not None:
            resolution = _correct_answer(paper, layout, item, answer)
            closes = {item.code}
        else:
            resolution = _("已确认：{note}").format(note=note.strip()[:200]) if note.strip() else _("已确认")
            closes = {item.code}
        same = Q(pk=item.pk)
        if item.page_id is not None:
            same |= Q(page_id=item.page_id, code__in=closes, question=item.question)
        ReviewItem.objects.filter(same, paper=paper, status=ReviewStatus.OPEN).update(
            status=ReviewStatus.RESOLVED, resolved_by=actor, resolved_at=timezone.now(), resolution=resolution[:300]
        )
        item.refresh_from_db()
        audit.record(actor=actor, action="omr.review_resolve", target=item, note=f"{item.code}: {resolution}")
    return item


def _assign_student(paper: ExamPaper, layout: Layout, item: ReviewItem, student_id: int) -> str:
    student = next(
        (s for s in people_selectors.enrolled_students_of(school_id=paper.school_id) if s["id"] == student_id), None
    )
    if student is None:
        raise DomainError(_("请选择本校在读学生"))
    number = exam_number(student["student_no"], layout.id_digits)
    label = f"{student['name']}（{number}）"
    sheet = item.sheet or (item.page.sheet if item.page else None)
    if sheet is not None and item.code != "duplicate_id":
        # the sheet was read under a wrong or unknown 考号: it is this student's
        other = AnswerSheet.objects.filter(paper=paper, student_number=number).exclude(pk=sheet.pk).first()
        if other is not None:
            raise DomainError(_("{student} 已有一份答题卡，请先处理重复").format(student=label))
        sheet.student_number, sheet.student_id = number, student["id"]
        sheet.save(update_fields=["student_number", "student_id"])
        return _("已确定为 {student}").format(student=label)
    page = item.page
    if page is None:
        raise DomainError(_("该复核项没有对应的扫描页"))
    target = AnswerSheet.objects.filter(paper=paper, student_number=number).first()
    if target is None:
        target = AnswerSheet.objects.create(
            school_id=paper.school_id, paper=paper, batch=page.batch, student_number=number, student_id=student["id"]
        )
    elif target.student_id is None:
        target.student_id = student["id"]
    rec = page.record
    for q, value in (rec.get("answers") or {}).items():
        target.answers.setdefault(q, value)
    target.confidence.update(rec.get("confidence") or {})
    _score(target, layout, paper.answer_key)
    target.save()
    page.sheet, page.student_number = target, number
    page.save(update_fields=["sheet", "student_number"])
    for q, name in (rec.get("crops") or {}).items():
        if q.isdigit():
            AnswerCrop.objects.get_or_create(
                sheet=target,
                question=int(q),
                defaults={
                    "school_id": paper.school_id,
                    "paper": paper,
                    "image": f"{page.batch.storage_dir}/images/{name}",
                },
            )
    _refresh_finals(paper, [target])
    return _("该页已归入 {student}").format(student=label)


def _correct_answer(paper: ExamPaper, layout: Layout, item: ReviewItem, answer: str) -> str:
    sheet = item.sheet or (item.page.sheet if item.page else None)
    if sheet is None or item.question is None:
        raise DomainError(_("请先确定该页所属的考生"))
    lq = layout.question(item.question)
    q = PaperQuestion(no=lq.no, type=lq.type, score=lq.score, section=lq.section, options=lq.options)  # type: ignore[arg-type]
    value = answer.strip().upper()
    normal = "" if value in ("", "-", "空") else normalise_answer(q, value)
    if normal is None:
        raise DomainError(_("第 {q} 题的作答“{a}”无效").format(q=item.question, a=answer))
    before = sheet.answers.get(str(item.question), "")
    sheet.answers[str(item.question)] = normal
    _score(sheet, layout, paper.answer_key)
    sheet.save(update_fields=["answers", "objective_scores", "objective_total"])
    _refresh_finals(paper, [sheet])
    return _("第 {q} 题：{before} → {after}").format(q=item.question, before=before or "—", after=normal or "—")


# --- marking assignments -----------------------------------------------------------------------------------------


def save_assignment(
    *,
    actor: Any,
    paper_id: int,
    question: int,
    marker_ids: Sequence[int],
    head_marker_id: int,
    double_marking: bool = False,
    tolerance: str | Decimal = "1",
    arbitration: str = Arbitration.HEAD,
) -> MarkingAssignment:
    """分题阅卷: the markers of one written question, its head marker (题组长), double marking and tolerance."""
    with transaction.atomic():
        paper = _paper(actor, paper_id, lock=True)
        full = dict(written_questions(paper))
        if question not in full:
            raise DomainError(_("第 {q} 题不是本试卷的主观题").format(q=question))
        staff = {a for a, _label in people_selectors.staff_choices(school_id=paper.school_id)}
        markers = sorted(set(marker_ids))
        if not markers:
            raise DomainError(_("请至少选择一位阅卷教师"))
        if any(m not in staff for m in [*markers, head_marker_id]):
            raise DomainError(_("阅卷教师和题组长应为本校在职教职工"))
        if double_marking and len(markers) < 2:
            raise DomainError(_("双评需要至少两位阅卷教师"))
        if arbitration not in Arbitration.values:
            raise DomainError(_("未知的仲裁方式"))
        if double_marking and arbitration == Arbitration.THIRD and len(markers) < 3:
            raise DomainError(_("由第三位教师仲裁时需要至少三位阅卷教师"))
        try:
            tol = Decimal(str(tolerance))
        except InvalidOperation as exc:
            raise DomainError(_("误差阈值应为数字")) from exc
        if tol < 0 or tol > full[question]:
            raise DomainError(_("误差阈值应在 0 到 {full} 分之间").format(full=full[question]))
        assignment, _created = MarkingAssignment.objects.update_or_create(
            paper=paper,
            question=question,
            defaults={
                "school_id": paper.school_id,
                "head_marker_id": head_marker_id,
                "double_marking": double_marking,
                "tolerance": tol,
                "arbitration": arbitration,
            },
        )
        assignment.markers.set(markers)
        audit.record(
            actor=actor,
            action="omr.assignment_save",
            target=assignment,
            changes={
                "markers": markers,
                "head_marker": head_marker_id,
                "double_marking": double_marking,
                "tolerance": str(tol),
                "arbitration": arbitration,
            },
            note=_("第 {q} 题").format(q=question),
        )
        # a changed rule settles crops marked under it
        for crop in paper.crops.filter(question=question).exclude(status=CropStatus.DONE):
            _settle(crop, assignment, paper.score_step)
        _refresh_finals(paper, list(paper.sheets.filter(crops__question=question)))
    return assignment


# --- marking ----------------------------------------------------------------------------------------------------


def _assignment_for(actor: Any, paper_id: int, question: int) -> MarkingAssignment:
    a = MarkingAssignment.objects.filter(paper_id=paper_id, question=question).select_related("paper").first()
    if a is None:
        raise DomainError(_("该题还没有阅卷分工"))
    return a


def is_marker(actor: Any, assignment: MarkingAssignment) -> bool:
    return assignment.markers.filter(pk=getattr(actor, "pk", None)).exists()


def is_head(actor: Any, assignment: MarkingAssignment) -> bool:
    return getattr(actor, "pk", None) == assignment.head_marker_id


def _required(assignment: MarkingAssignment) -> int:
    return 2 if assignment.double_marking else 1


def _queue(actor: Any, assignment: MarkingAssignment) -> Any:
    """Crops the marker may mark next: still being marked, short of regular marks, not yet marked by him; with
    a third marker arbitrating, also the crops waiting for arbitration that he has not marked."""
    mine = Mark.objects.filter(marker_id=actor.pk, paper_id=assignment.paper_id).values("crop_id")
    regular = Q(status=CropStatus.MARKING)
    if assignment.double_marking and assignment.arbitration == Arbitration.THIRD:
        regular |= Q(status=CropStatus.ARBITRATION)
    return (
        AnswerCrop.objects.filter(paper_id=assignment.paper_id, question=assignment.question)
        .filter(regular)
        .exclude(pk__in=mine)
    )


def crop_in_queue(*, actor: Any, assignment: MarkingAssignment, crop_id: int) -> AnswerCrop | None:
    """A crop of the marker's queue by id (the page shown again after a refused score)."""
    return _queue(actor, assignment).filter(pk=crop_id).first()


def next_crop(*, actor: Any, paper_id: int, question: int, rng: random.Random | None = None) -> AnswerCrop | None:
    """The next answer for this marker: chosen at random among those he has not marked (never in the students'
    order, never with a name or 考号). None: nothing left for him."""
    assignment = _assignment_for(actor, paper_id, question)
    if not is_marker(actor, assignment):
        raise NotPermitted(_("您不是该题的阅卷教师"))
    ids = list(_queue(actor, assignment).values_list("pk", flat=True))
    if not ids:
        return None
    chosen = (rng or random.SystemRandom()).choice(ids)
    return AnswerCrop.objects.get(pk=chosen)


def remaining_for(*, actor: Any, paper_id: int, question: int) -> int:
    assignment = _assignment_for(actor, paper_id, question)
    return _queue(actor, assignment).count() if is_marker(actor, assignment) else 0


def score_choices(full: Decimal, step: Decimal) -> list[Decimal]:
    """0, step, 2·step … full (the score buttons)."""
    out, value = [], Decimal(0)
    while value <= full:
        out.append(value)
        value += step
    if out[-1] != full:
        out.append(full)
    return out


def shown(value: Decimal | None) -> str:
    """A score as people write it: 7.5, 8, 0.25 (no trailing zeros)."""
    return "" if value is None else f"{value.normalize():f}"


def _round_to_step(value: Decimal, step: Decimal) -> Decimal:
    return ((value / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step).quantize(Decimal("0.01"))


def _check_score(assignment: MarkingAssignment, value: Any) -> Decimal:
    full = dict(written_questions(assignment.paper))[assignment.question]
    try:
        score = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise DomainError(_("分数应为数字")) from exc
    step = assignment.paper.score_step
    if score < 0 or score > full or (score % step != 0 and score != full):
        raise DomainError(_("分数应在 0 到 {full} 之间，步长 {step}").format(full=full, step=step.normalize()))
    return score


def submit_mark(*, actor: Any, crop_id: int, score: Any) -> Mark:
    """A marker's score for a crop from his queue: first or second mark, or (a third marker) the arbitration.
    With double marking two marks within the tolerance give their mean (rounded to the paper's step); beyond
    it the crop goes to arbitration, whose score is final."""
    with transaction.atomic():
        crop = AnswerCrop.objects.select_for_update().select_related("paper").filter(pk=crop_id).first()
        if crop is None:
            raise DomainError(_("答卷不存在"))
        assignment = _assignment_for(actor, crop.paper_id, crop.question)
        if not is_marker(actor, assignment):
            raise NotPermitted(_("您不是该题的阅卷教师"))
        value = _check_score(assignment, score)
        marks = list(crop.marks.all())
        if any(m.marker_id == actor.pk for m in marks):
            raise DomainError(_("您已评过这份答卷"))
        regular = [m for m in marks if m.role in (MarkRole.FIRST, MarkRole.SECOND)]
        if crop.status == CropStatus.ARBITRATION and assignment.arbitration == Arbitration.THIRD:
            role = MarkRole.THIRD
        elif crop.status == CropStatus.MARKING and len(regular) < _required(assignment):
            role = MarkRole.FIRST if not regular else MarkRole.SECOND
        else:
            raise DomainError(_("这份答卷已由其他老师评完，请评下一份"))
        mark = Mark.objects.create(
            school_id=crop.school_id, paper_id=crop.paper_id, crop=crop, marker=actor, role=role, score=value
        )
        _settle(crop, assignment, crop.paper.score_step)
        audit.record(
            actor=actor,
            action="omr.mark",
            target=mark,
            changes={"crop": crop.pk, "role": role, "score": str(value)},
            note=_("第 {q} 题").format(q=crop.question),
        )
        _refresh_finals(crop.paper, [crop.sheet])
    return mark


def _settle(crop: AnswerCrop, assignment: MarkingAssignment, step: Decimal) -> None:
    """The crop's status and final score from its marks: a head marker's latest mark or a third mark decides;
    else one mark (single marking) or two within the tolerance (their mean, rounded to the step)."""
    marks = list(crop.marks.order_by("marked_at", "pk"))
    head = [m for m in marks if m.role == MarkRole.HEAD]
    third = [m for m in marks if m.role == MarkRole.THIRD]
    regular = [m for m in marks if m.role in (MarkRole.FIRST, MarkRole.SECOND)]
    status, final = CropStatus.MARKING, None
    if head:
        status, final = CropStatus.DONE, head[-1].score
    elif third:
        status, final = CropStatus.DONE, third[-1].score
    elif len(regular) >= _required(assignment):
        scores = [m.score for m in regular[:2]]
        if len(scores) == 1:
            status, final = CropStatus.DONE, scores[0]
        elif abs(scores[0] - scores[1]) <= assignment.tolerance:
            status, final = CropStatus.DONE, _round_to_step((scores[0] + scores[1]) / 2, step)
        else:
            status = CropStatus.ARBITRATION
    crop.status, crop.final_score = status, final
    crop.save(update_fields=["status", "final_score"])


def head_mark(*, actor: Any, crop_id: int, score: Any) -> Mark:
    """The head marker (题组长) arbitrates a crop or re-marks any crop of his question; his score is final."""
    with transaction.atomic():
        crop = AnswerCrop.objects.select_for_update().select_related("paper").filter(pk=crop_id).first()
        if crop is None:
            raise DomainError(_("答卷不存在"))
        assignment = _assignment_for(actor, crop.paper_id, crop.question)
        if not is_head(actor, assignment):
            raise NotPermitted(_("您不是该题的题组长"))
        value = _check_score(assignment, score)
        before = crop.final_score
        arbitration = crop.status == CropStatus.ARBITRATION
        mark = Mark.objects.create(
            school_id=crop.school_id, paper_id=crop.paper_id, crop=crop, marker=actor, role=MarkRole.HEAD, score=value
        )
        _settle(crop, assignment, crop.paper.score_step)
        audit.record(
            actor=actor,
            action="omr.arbitrate" if arbitration else "omr.remark",
            target=mark,
            changes={"crop": crop.pk, "final_score": [str(before) if before is not None else None, str(value)]},
            note=_("第 {q} 题").format(q=crop.question),
        )
        _refresh_finals(crop.paper, [crop.sheet])
    return mark


def head_crop(*, actor: Any, crop_id: int) -> tuple[AnswerCrop, MarkingAssignment]:
    """A crop of the head marker's question, for his page (permission only)."""
    crop = AnswerCrop.objects.select_related("paper").filter(pk=crop_id).first()
    if crop is None:
        raise DomainError(_("答卷不存在"))
    assignment = _assignment_for(actor, crop.paper_id, crop.question)
    if not is_head(actor, assignment):
        raise NotPermitted(_("您不是该题的题组长"))
    return crop, assignment


def marker_crop(*, actor: Any, crop_id: int) -> AnswerCrop:
    """A crop the actor may look at: one of his questions as marker or head marker, or any of a paper he manages."""
    crop = AnswerCrop.objects.select_related("paper").filter(pk=crop_id).first()
    if crop is None:
        raise DomainError(_("答卷不存在"))
    if _manages(actor, crop.paper):
        return crop
    a = MarkingAssignment.objects.filter(paper_id=crop.paper_id, question=crop.question).first()
    if a is not None and (is_head(actor, a) or is_marker(actor, a)):
        return crop
    raise NotPermitted(_("没有权限查看该答卷"))


# --- final scores -------------------------------------------------------------------------------------------------


def _refresh_finals(paper: ExamPaper, sheets: Iterable[AnswerSheet]) -> None:
    """Objective total + each written question's final score = the total; complete when every one is in."""
    written = [q for q, _full in written_questions(paper)]
    sheets = list(sheets)
    if not sheets:
        return
    crops: dict[int, dict[str, Any]] = {}
    for sheet_id, q, final in AnswerCrop.objects.filter(sheet__in=sheets).values_list(
        "sheet_id", "question", "final_score"
    ):
        crops.setdefault(sheet_id, {})[str(q)] = final
    for sheet in sheets:
        scores = {str(q): crops.get(sheet.pk, {}).get(str(q)) for q in written}
        got = [v for v in scores.values() if v is not None]
        FinalScore.objects.update_or_create(
            sheet=sheet,
            defaults={
                "school_id": paper.school_id,
                "paper": paper,
                "objective": sheet.objective_total,
                "written": {q: (float(v) if v is not None else None) for q, v in scores.items()},
                "total": sheet.objective_total + sum(got, Decimal(0)),
                "complete": len(got) == len(written),
            },
        )


def progress_by_question(paper: ExamPaper) -> list[dict[str, Any]]:
    """Per written question: crops, done, waiting for arbitration, and the assignment."""
    counts = {
        (row["question"], row["status"]): row["n"]
        for row in paper.crops.values("question", "status").annotate(n=Count("pk"))
    }
    assignments = {a.question: a for a in paper.assignments.prefetch_related("markers").select_related("head_marker")}
    out = []
    for q, full in written_questions(paper):
        total = sum(n for (qq, _s), n in counts.items() if qq == q)
        done = counts.get((q, CropStatus.DONE), 0)
        out.append(
            {
                "question": q,
                "full": full,
                "total": total,
                "done": done,
                "arbitration": counts.get((q, CropStatus.ARBITRATION), 0),
                "percent": round(done * 100 / total) if total else 0,
                "assignment": assignments.get(q),
                "marker_ids": [m.pk for m in assignments[q].markers.all()] if q in assignments else [],
            }
        )
    return out


def progress_by_marker(paper: ExamPaper) -> list[dict[str, Any]]:
    """Per marker and question: marks given (arbitrations and re-marks included)."""
    rows = (
        paper.marks.values("marker_id", "crop__question")
        .annotate(n=Count("pk"))
        .order_by("crop__question", "marker_id")
    )
    labels = people_selectors.staff_choices_for(account_ids={r["marker_id"] for r in rows})
    return [{"marker": labels.get(r["marker_id"], ""), "question": r["crop__question"], "marks": r["n"]} for r in rows]
