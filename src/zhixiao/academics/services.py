"""Exams and scores for a school: create an exam for a grade's classes with its subjects, enter or change one
score (the grid), import a workbook (validated completely before anything is written), lock, unlock, publish.

Who: exam.manage over the exam (the school admin, the head of the school's 教务处) creates, imports, locks and
publishes; score.enter over the student's class (also subject teachers, for their classes) enters in the grid.
Every write is atomic and audited. Publishing is a direct act of the 教务处 head (audited); the approval engine
is not involved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixiao.kernel import audit, permissions
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors

from .engine.scores import STATUS_WORDS
from .models import Exam, ExamKind, ExamStatus, ExamStudent, ExamSubject, Score, ScoreStatus

ACADEMIC_DEPARTMENT = "教务处"
STATUS_CODES = {**STATUS_WORDS, "弊": "cheating"}  # the grid's short codes: 缺, 免, 弊


class ScoreErrors(DomainError):
    """Scores we cannot use; `errors` lists every problem in Chinese, naming row and column."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("；".join(errors[:5]))
        self.errors = errors


@dataclass(frozen=True)
class SubjectSpec:
    subject: str
    full_marks: Decimal


# --- who may do what ------------------------------------------------------------------------------------------


def may_manage_school(actor: Any, school_id: int) -> bool:
    """exam.manage over the whole school, or as head of the school's 教务处 (None: the system)."""
    academic = org_selectors.department_ids_named(school_id=school_id, name=ACADEMIC_DEPARTMENT)
    return permissions.may_in_school(actor, permissions.MANAGE_EXAMS, school_id, academic)


def manages(actor: Any, exam: Exam) -> bool:
    if actor is None:
        return True
    return Exam.objects.filter(permissions.scope_q(actor, permissions.MANAGE_EXAMS, Exam), pk=exam.pk).exists()


def may_enter(actor: Any, exam_student: ExamStudent) -> bool:
    """score.enter over the student's class, or exam.manage over the exam."""
    if actor is None or manages(actor, exam_student.exam):
        return True
    scope = permissions.scope_q(actor, permissions.ENTER_SCORES, ExamStudent)
    return ExamStudent.objects.filter(scope, pk=exam_student.pk).exists()


def _managed(actor: Any, exam_id: int, *, lock: bool = False) -> Exam:
    qs = Exam.objects.select_for_update() if lock else Exam.objects.all()
    exam = qs.filter(pk=exam_id).first()
    if exam is None:
        raise DomainError(_("考试不存在"))
    if not manages(actor, exam):
        raise NotPermitted(_("没有权限管理该考试"))
    return exam


# --- values ---------------------------------------------------------------------------------------------------


def parse_cell(text: Any, full_marks: Decimal) -> tuple[Decimal | None, str, str]:
    """A typed score → (value, status, error): '92.5', '缺'/'缺考', '免'/'免考', '弊'/'作弊'; '' clears it.
    The error (Chinese) is '' when the text is usable."""
    raw = "" if text is None else str(text).strip()
    if raw == "":
        return None, "", ""
    if raw in STATUS_CODES:
        return None, STATUS_CODES[raw], ""
    try:
        value = Decimal(raw.removesuffix("分"))
    except InvalidOperation:
        return None, "", _("“{text}”不是分数（可填数字，或 缺、免、弊）").format(text=raw)
    if not value.is_finite():
        return None, "", _("“{text}”不是分数（可填数字，或 缺、免、弊）").format(text=raw)
    if value < 0:
        return None, "", _("分数 {value} 是负数").format(value=raw)
    if value > full_marks:
        return None, "", _("分数 {value} 超过满分 {full}").format(value=raw, full=_num(full_marks))
    if value != value.quantize(Decimal("0.1")):
        return None, "", _("分数 {value} 最多保留一位小数").format(value=raw)
    return value, ScoreStatus.SAT, ""


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")


def parse_lines(excellent: Any, passing: Any, low: Any) -> tuple[Decimal, Decimal, Decimal]:
    try:
        e, p, lo = (Decimal(str(v).strip().rstrip("%")) for v in (excellent, passing, low))
    except InvalidOperation:
        raise DomainError(_("分数线应为百分数，例如 85、60、40")) from None
    if not (Decimal(100) >= e >= p >= lo >= 0):
        raise DomainError(_("分数线应满足 100 ≥ 优秀 ≥ 及格 ≥ 低分 ≥ 0"))
    return e, p, lo


# --- exams ----------------------------------------------------------------------------------------------------


def create_exam(
    *,
    actor: Any,
    school_id: int,
    name: str,
    kind: str,
    grade_id: int,
    date: dt.date,
    subjects: Sequence[SubjectSpec],
    class_ids: Sequence[int] | None = None,
    term_id: int | None = None,
) -> Exam:
    """An exam of a grade's classes (all, or those chosen): its subjects and the enrolled students of those
    classes, copied with the class they sit in."""
    if not may_manage_school(actor, school_id):
        raise NotPermitted(_("没有权限为该校创建考试"))
    name = name.strip()
    errors = []
    if not name:
        errors.append(_("请填写考试名称"))
    if kind not in ExamKind.values:
        errors.append(_("请选择考试类型"))
    if not subjects:
        errors.append(_("请至少选择一个科目"))
    seen = set()
    for spec in subjects:
        if spec.subject in seen:
            errors.append(_("科目 {subject} 重复").format(subject=spec.subject))
        seen.add(spec.subject)
        if not (Decimal(0) < spec.full_marks <= Decimal(1000)):
            errors.append(_("科目 {subject} 的满分应在 1–1000 之间").format(subject=spec.subject))
    classes = [c for c in org_selectors.class_rows(school_id=school_id) if c["grade_id"] == grade_id]
    if class_ids:
        classes = [c for c in classes if c["id"] in set(class_ids)]
    if not classes:
        errors.append(_("该年级没有所选的班级"))
    if errors:
        raise ScoreErrors(errors)
    grade = next((g for g in org_selectors.grade_rows(school_id=school_id) if g["id"] == grade_id), None)
    if grade is None:
        raise DomainError(_("年级不存在"))
    term = term_id or getattr(org_selectors.current_term(school_id=school_id), "pk", None)
    academic = org_selectors.department_ids_named(school_id=school_id, name=ACADEMIC_DEPARTMENT)
    with transaction.atomic():
        exam = Exam.objects.create(
            school_id=school_id,
            name=name,
            kind=kind,
            term_id=term,
            grade_id=grade_id,
            grade_name=grade["name"],
            date=date,
            academic_department_id=academic[0] if academic else None,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        ExamSubject.objects.bulk_create(
            ExamSubject(exam=exam, subject=s.subject, full_marks=s.full_marks, position=i)
            for i, s in enumerate(subjects)
        )
        names = {c["id"]: c["name"] for c in classes}
        rows = [r for r in people_selectors.enrolled_students_of(school_id=school_id) if r["admin_class_id"] in names]
        ExamStudent.objects.bulk_create(
            ExamStudent(
                school_id=school_id,
                exam=exam,
                student_id=r["id"],
                student_no=r["student_no"],
                name=r["name"],
                class_id=r["admin_class_id"],
                class_name=names[r["admin_class_id"]],
            )
            for r in rows
        )
        audit.record(
            actor=actor,
            action="exam.create",
            target=exam,
            school_id=school_id,
            changes={"subjects": [s.subject for s in subjects], "students": len(rows)},
        )
    return exam


def update_subject(
    *, actor: Any, exam_subject_id: int, full_marks: Any, excellent: Any, passing: Any, low: Any
) -> ExamSubject:
    """A subject's full marks (while no score is above them) and its lines (any time before publishing)."""
    with transaction.atomic():
        row = ExamSubject.objects.select_related("exam").filter(pk=exam_subject_id).first()
        if row is None:
            raise DomainError(_("科目不存在"))
        exam = _managed(actor, row.exam_id, lock=True)
        if exam.status == ExamStatus.PUBLISHED:
            raise DomainError(_("考试已发布，不能修改"))
        try:
            full = Decimal(str(full_marks).strip())
        except InvalidOperation:
            raise DomainError(_("满分应为数字")) from None
        if not (Decimal(0) < full <= Decimal(1000)):
            raise DomainError(_("满分应在 1–1000 之间"))
        if row.scores.filter(value__gt=full).exists():
            raise DomainError(_("已有成绩高于 {full} 分，不能把满分改低").format(full=_num(full)))
        e, p, lo = parse_lines(excellent, passing, low)
        before = {"full_marks": str(row.full_marks), "lines": [str(row.excellent), str(row.passing), str(row.low)]}
        row.full_marks, row.excellent, row.passing, row.low = full, e, p, lo
        row.save()
        audit.record(
            actor=actor,
            action="exam.subject",
            target=row,
            school_id=exam.school_id,
            changes={"before": before, "after": {"full_marks": str(full), "lines": [str(e), str(p), str(lo)]}},
        )
    return row


def set_ranks_for_families(*, actor: Any, exam_id: int, allowed: bool) -> Exam:
    """The school's own choice to show ranks to students and guardians (off by default)."""
    with transaction.atomic():
        exam = _managed(actor, exam_id, lock=True)
        before = exam.ranks_for_families
        exam.ranks_for_families = allowed
        exam.save(update_fields=["ranks_for_families"])
        audit.record(
            actor=actor,
            action="exam.ranks_for_families",
            target=exam,
            school_id=exam.school_id,
            changes={"before": before, "after": allowed},
        )
    return exam


def _transition(actor: Any, exam_id: int, allowed_from: Sequence[str], to: str, refusal: str, action: str) -> Exam:
    with transaction.atomic():
        exam = _managed(actor, exam_id, lock=True)
        if exam.status not in allowed_from:
            raise DomainError(refusal)
        before = exam.status
        exam.status = to
        if to == ExamStatus.PUBLISHED:
            exam.published_at = timezone.now()
        exam.save(update_fields=["status", "published_at"])
        audit.record(
            actor=actor, action=action, target=exam, school_id=exam.school_id, changes={"before": before, "after": to}
        )
    return exam


def lock_exam(*, actor: Any, exam_id: int) -> Exam:
    """No more entries: scores are checked and final."""
    editable = (ExamStatus.DRAFT, ExamStatus.ENTERING)
    return _transition(actor, exam_id, editable, ExamStatus.LOCKED, _("只有录入中的考试可以锁定"), "exam.lock")


def unlock_exam(*, actor: Any, exam_id: int) -> Exam:
    """Back to entering (a correction); a published exam stays published."""
    return _transition(
        actor, exam_id, (ExamStatus.LOCKED,), ExamStatus.ENTERING, _("只有已锁定的考试可以解锁"), "exam.unlock"
    )


def publish_exam(*, actor: Any, exam_id: int) -> Exam:
    """Students and guardians see their own scores (and bands); a direct act of the 教务处 head, audited."""
    return _transition(
        actor, exam_id, (ExamStatus.LOCKED,), ExamStatus.PUBLISHED, _("请先锁定成绩再发布"), "exam.publish"
    )


# --- scores ---------------------------------------------------------------------------------------------------


def enter_score(*, actor: Any, exam_student_id: int, exam_subject_id: int, text: str) -> Score | None:
    """One cell of the grid: a number within 0 and full marks, or 缺/免/弊; empty clears it. Refused on a
    locked or published exam."""
    with transaction.atomic():
        student = ExamStudent.objects.select_related("exam").filter(pk=exam_student_id).first()
        subject = ExamSubject.objects.filter(pk=exam_subject_id).first()
        if student is None or subject is None or subject.exam_id != student.exam_id:
            raise DomainError(_("没有这名考生或科目"))
        if not may_enter(actor, student):
            raise NotPermitted(_("没有权限录入该班成绩"))
        exam = Exam.objects.select_for_update().get(pk=student.exam_id)
        if not exam.editable:
            raise DomainError(_("考试已锁定，不能修改成绩"))
        value, status, error = parse_cell(text, subject.full_marks)
        if error:
            raise ScoreErrors([error])
        current = Score.objects.filter(exam_subject=subject, exam_student=student).first()
        before = current.text if current else ""
        by = actor if getattr(actor, "pk", None) else None
        row: Score | None
        if not status:
            if current:
                current.delete()
            row = None
        elif current:
            current.value, current.status, current.entered_by = value, status, by
            current.save()
            row = current
        else:
            row = Score.objects.create(
                school_id=exam.school_id,
                exam=exam,
                exam_subject=subject,
                exam_student=student,
                value=value,
                status=status,
                entered_by=by,
            )
        after = row.text if row else ""
        if before != after:
            audit.record(
                actor=actor,
                action="score.enter",
                target=student,
                school_id=exam.school_id,
                changes={"subject": subject.subject, "before": before, "after": after},
            )
        if exam.status == ExamStatus.DRAFT:
            exam.status = ExamStatus.ENTERING
            exam.save(update_fields=["status"])
    return row


def import_scores(*, actor: Any, exam_id: int, data: bytes) -> dict[str, int]:
    """A workbook of scores (one sheet; 考号/学号, 姓名, one column per subject — or the long format of
    docs/academics.md): every cell checked first, nothing written if anything is wrong (ScoreErrors)."""
    from .importing import check_workbook

    exam = _managed(actor, exam_id)
    if not exam.editable:
        raise DomainError(_("考试已锁定，不能导入成绩"))
    subjects = {s.subject: s for s in exam.subjects.all()}
    students = {s.student_no: s for s in exam.students.all()}
    cells = check_workbook(data, subjects=subjects, students=students)
    with transaction.atomic():
        exam = Exam.objects.select_for_update().get(pk=exam.pk)
        if not exam.editable:
            raise DomainError(_("考试已锁定，不能导入成绩"))
        by = actor if getattr(actor, "pk", None) else None
        keys = {(c.student.pk, c.subject.pk) for c in cells}
        existing = Score.objects.filter(exam=exam, exam_student_id__in={k[0] for k in keys})
        stale = [s.pk for s in existing if (s.exam_student_id, s.exam_subject_id) in keys]
        Score.objects.filter(pk__in=stale).delete()
        Score.objects.bulk_create(
            Score(
                school_id=exam.school_id,
                exam=exam,
                exam_subject=c.subject,
                exam_student=c.student,
                value=c.value,
                status=c.status,
                entered_by=by,
            )
            for c in cells
        )
        if exam.status == ExamStatus.DRAFT:
            exam.status = ExamStatus.ENTERING
            exam.save(update_fields=["status"])
        summary = {"written": len(cells), "replaced": len(stale), "students": len({k[0] for k in keys})}
        audit.record(actor=actor, action="score.import", target=exam, school_id=exam.school_id, changes=summary)
    return summary
