"""Reads of 阅卷, scoped to the actor: managers (exam.manage: the school admin, the head of 教务处) see their
school's papers, batches, review queue and scores; a marker sees only the questions he is assigned (the crops,
never a name or a 考号); a head marker his questions' marks. Families see nothing here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from zhixiao.kernel import permissions
from zhixiao.kernel.spreadsheets import write_table
from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors

from . import services
from .models import (
    AnswerCrop,
    ExamPaper,
    FinalScore,
    MarkingAssignment,
    ReviewItem,
    ReviewStatus,
    ScanBatch,
    ScannedPage,
)


def manageable_school_ids(actor: Any) -> list[int]:
    """Schools in which the actor may create and manage exam papers."""
    if not permissions.has_any(actor, permissions.MANAGE_EXAMS):
        return []
    candidates = org_selectors.schools_where(actor=actor, action=permissions.MANAGE_EXAMS).values_list("pk", flat=True)
    return [pk for pk in candidates if services.may_manage_school(actor, pk)]


def _family(actor: Any) -> bool:
    return getattr(actor, "kind", "") in ("guardian", "student")


def assignments_of(*, actor: Any) -> QuerySet[MarkingAssignment]:
    """The questions a teacher marks or heads."""
    pk = getattr(actor, "pk", None)
    if pk is None or _family(actor):
        return MarkingAssignment.objects.none()
    return (
        MarkingAssignment.objects.filter(Q(markers=pk) | Q(head_marker_id=pk))
        .distinct()
        .select_related("paper")
        .order_by("-paper__created_at", "paper_id", "question")
    )


def may_use(actor: Any) -> bool:
    """Is the 阅卷 page for this person (menu entry)?"""
    if _family(actor) or not getattr(actor, "is_authenticated", False):
        return False
    return bool(manageable_school_ids(actor)) or assignments_of(actor=actor).exists()


def papers_managed_by(*, actor: Any) -> QuerySet[ExamPaper]:
    return ExamPaper.objects.filter(permissions.scope_q(actor, permissions.MANAGE_EXAMS, ExamPaper))


def paper_for_manager(*, actor: Any, paper_id: int) -> ExamPaper | None:
    return papers_managed_by(actor=actor).filter(pk=paper_id).select_related("school").first()


def paper_seen_by(*, actor: Any, paper_id: int) -> bool:
    """Whether the paper is of a school the actor works in (refuse with 403 rather than 404); families: never."""
    if _family(actor):
        return False
    schools = org_selectors.schools_where(actor=actor, action=permissions.VIEW_SCHOOL).values("pk")
    return ExamPaper.objects.filter(pk=paper_id, school_id__in=schools).exists()


def batch_for(*, actor: Any, batch_id: int) -> ScanBatch | None:
    return (
        ScanBatch.objects.filter(permissions.scope_q(actor, permissions.MANAGE_EXAMS, ScanBatch), pk=batch_id)
        .select_related("paper")
        .first()
    )


def review_for(*, actor: Any, item_id: int) -> ReviewItem | None:
    return (
        ReviewItem.objects.filter(permissions.scope_q(actor, permissions.MANAGE_EXAMS, ReviewItem), pk=item_id)
        .select_related("paper", "page", "sheet")
        .first()
    )


def page_for(*, actor: Any, page_id: int) -> ScannedPage | None:
    return ScannedPage.objects.filter(
        permissions.scope_q(actor, permissions.MANAGE_EXAMS, ScannedPage), pk=page_id
    ).first()


def review_queue(paper: ExamPaper, *, status: str = ReviewStatus.OPEN) -> QuerySet[ReviewItem]:
    return paper.review_items.filter(status=status).select_related("page").order_by("pk")


def open_review_count(paper: ExamPaper) -> int:
    return paper.review_items.filter(status=ReviewStatus.OPEN).count()


def assignment_for(*, actor: Any, paper_id: int, question: int) -> MarkingAssignment | None:
    """The assignment if the actor marks or heads that question."""
    return assignments_of(actor=actor).filter(paper_id=paper_id, question=question).first()


def arbitration_queue(assignment: MarkingAssignment) -> QuerySet[AnswerCrop]:
    return AnswerCrop.objects.filter(
        paper_id=assignment.paper_id, question=assignment.question, status="arbitration"
    ).prefetch_related("marks")


def marked_crops(assignment: MarkingAssignment, limit: int = 200) -> QuerySet[AnswerCrop]:
    return (
        AnswerCrop.objects.filter(paper_id=assignment.paper_id, question=assignment.question, marks__isnull=False)
        .distinct()
        .prefetch_related("marks")
        .order_by("pk")[:limit]
    )


def marker_labels(account_ids: Any) -> dict[int, str]:
    return people_selectors.staff_choices_for(account_ids=account_ids)


def score_rows(paper: ExamPaper) -> list[dict[str, Any]]:
    """The score table: one row per sheet with the student's name and class (when matched)."""
    written = [q for q, _full in services.written_questions(paper)]
    students = {s["id"]: s for s in people_selectors.enrolled_students_of(school_id=paper.school_id)}
    rows = []
    for final in FinalScore.objects.filter(paper=paper).select_related("sheet").order_by("sheet__student_number"):
        s = students.get(final.sheet.student_id or 0)
        rows.append(
            {
                "number": final.sheet.student_number,
                "name": s["name"] if s else "",
                "class_name": s["class_name"] if s else "",
                "objective": final.objective,
                "written": [final.written.get(str(q)) for q in written],
                "total": final.total,
                "complete": final.complete,
            }
        )
    return rows


def scores_xlsx(paper: ExamPaper) -> bytes:
    written = [q for q, _full in services.written_questions(paper)]
    headers = ["考号", "姓名", "班级", "客观题", *[f"第{q}题" for q in written], "总分", "状态"]
    rows = [
        [
            r["number"],
            r["name"],
            r["class_name"],
            float(r["objective"]),
            *[v if v is not None else "" for v in r["written"]],
            float(r["total"]),
            "已评完" if r["complete"] else "评阅中",
        ]
        for r in score_rows(paper)
    ]
    return write_table(headers, rows, title=f"{paper.subject}成绩")


def structure(paper: ExamPaper) -> list[dict[str, Any]]:
    """Sections with their questions (type, score, key) for the paper page."""
    layout = services.layout_of(paper)
    sections: list[dict[str, Any]] = []
    for q in layout.questions:
        if not sections or sections[-1]["title"] != q.section:
            sections.append({"title": q.section, "questions": [], "score": Decimal(0)})
        sections[-1]["questions"].append(
            {"no": q.no, "type": q.type, "score": q.score, "key": paper.answer_key.get(str(q.no), "")}
        )
        sections[-1]["score"] += Decimal(str(q.score))
    return sections
