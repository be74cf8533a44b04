"""Reads of exams and scores, scoped to the actor, and the analysis of an exam computed by the engine on a polars
frame built from the database (no Python loop over students in the figures).

Rank policy (Chinese rules forbid publishing students' rankings): a student's scores with ranks are read only
by staff holding score.view over him (school admin, principal, head of 教务处, the grade's head, the class's
homeroom and subject teachers). Students and guardians read only their own child's scores of published exams,
with grade bands, and a rank only where the school switched that on for the exam."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from zhixiao.kernel import permissions
from zhixiao.kernel.spreadsheets import write_table
from zhixiao.people import selectors as people_selectors

from . import services
from .engine import reports
from .engine.analysis import TOTAL, Analysis, Lines, analyse
from .engine.bands import band_expr
from .engine.items import one_point_table, score_bands
from .engine.scores import check_scores
from .models import Exam, ExamStatus, ExamStudent, ExamSubject, Score, ScoreStatus

STATUS_WORDS = {ScoreStatus.ABSENT: "缺考", ScoreStatus.EXEMPT: "免考", ScoreStatus.CHEATING: "作弊"}


def _family(actor: Any) -> bool:
    return getattr(actor, "kind", "") in ("guardian", "student")


def band_labels() -> dict[str, str]:
    return {"excellent": _("优秀"), "good": _("良好"), "pass": _("及格"), "below": _("待及格")}


# --- which exams --------------------------------------------------------------------------------------------


def students_seen_by(*, actor: Any, exam: Exam) -> QuerySet[ExamStudent]:
    """The exam's students whose scores and ranks the actor may read (staff only)."""
    if _family(actor):
        return ExamStudent.objects.none()
    if services.manages(actor, exam):
        return exam.students.all()
    return exam.students.filter(permissions.scope_q(actor, permissions.VIEW_SCORES, ExamStudent))


def students_entered_by(*, actor: Any, exam: Exam) -> QuerySet[ExamStudent]:
    if _family(actor):
        return ExamStudent.objects.none()
    if services.manages(actor, exam):
        return exam.students.all()
    return exam.students.filter(permissions.scope_q(actor, permissions.ENTER_SCORES, ExamStudent))


def exams_for(*, actor: Any) -> QuerySet[Exam]:
    """Exams the actor manages, or with students whose scores he may read or enter."""
    if _family(actor) or not getattr(actor, "is_authenticated", False):
        return Exam.objects.none()
    managed = permissions.scope_q(actor, permissions.MANAGE_EXAMS, Exam)
    seen = ExamStudent.objects.filter(
        permissions.scope_q(actor, permissions.VIEW_SCORES, ExamStudent)
        | permissions.scope_q(actor, permissions.ENTER_SCORES, ExamStudent)
    ).values("exam_id")
    return Exam.objects.filter(managed | Q(pk__in=seen))


def exam_for(*, actor: Any, exam_id: int) -> Exam | None:
    return exams_for(actor=actor).filter(pk=exam_id).select_related("school").first()


def exam_exists_in_schools_of(*, actor: Any, exam_id: int) -> bool:
    """Whether the exam is of a school the actor works in (refuse with 403 rather than 404); families: never."""
    if _family(actor):
        return False
    from zhixiao.org import selectors as org_selectors

    schools = org_selectors.schools_where(actor=actor, action=permissions.VIEW_SCHOOL).values("pk")
    return Exam.objects.filter(pk=exam_id, school_id__in=schools).exists()


def manageable_school_ids(actor: Any) -> list[int]:
    if _family(actor) or not permissions.has_any(actor, permissions.MANAGE_EXAMS):
        return []
    from zhixiao.org import selectors as org_selectors

    candidates = org_selectors.schools_where(actor=actor, action=permissions.MANAGE_EXAMS).values_list("pk", flat=True)
    return [pk for pk in candidates if services.may_manage_school(actor, pk)]


def may_use(actor: Any) -> bool:
    """The 考试 menu entry: staff who manage exams or read or enter scores."""
    if _family(actor) or not getattr(actor, "is_authenticated", False):
        return False
    return any(
        permissions.has_any(actor, a)
        for a in (permissions.MANAGE_EXAMS, permissions.VIEW_SCORES, permissions.ENTER_SCORES)
    )


def classes_of(students: QuerySet[ExamStudent]) -> list[dict[str, Any]]:
    rows = students.order_by("class_name").values("class_id", "class_name").distinct()
    return [{"id": r["class_id"], "name": r["class_name"]} for r in rows]


# --- the grid -----------------------------------------------------------------------------------------------


def grid(*, exam: Exam, students: QuerySet[ExamStudent]) -> dict[str, Any]:
    """Rows of one class's students, a column per subject, the cells as the grid shows them."""
    subjects = list(exam.subjects.all())
    rows = list(students.order_by("student_no"))
    scores = Score.objects.filter(exam=exam, exam_student__in=[s.pk for s in rows])
    cells = {(s.exam_student_id, s.exam_subject_id): s.text for s in scores}
    return {
        "subjects": subjects,
        "rows": [
            {"student": s, "cells": [{"subject": sub, "text": cells.get((s.pk, sub.pk), "")} for sub in subjects]}
            for s in rows
        ],
    }


# --- the engine's frame and the analysis ---------------------------------------------------------------------


def score_frame(exam: Exam) -> pl.DataFrame:
    """The engine's long table of strings (school, class, student_id, subject, score, full_marks): every student
    × subject of the exam; a missing score is empty (absent), statuses as the engine's words."""
    students = pl.DataFrame(
        list(exam.students.values_list("pk", "student_no", "class_name")),
        schema={"student_pk": pl.Int64, "student_id": pl.Utf8, "class": pl.Utf8},
        orient="row",
    )
    subjects = pl.DataFrame(
        [(s.pk, s.subject, _num(s.full_marks)) for s in exam.subjects.all()],
        schema={"subject_pk": pl.Int64, "subject": pl.Utf8, "full_marks": pl.Utf8},
        orient="row",
    )
    scores = pl.DataFrame(
        [
            (a, b, None if v is None else _num(v), st)
            for a, b, v, st in Score.objects.filter(exam=exam).values_list(
                "exam_student_id", "exam_subject_id", "value", "status"
            )
        ],
        schema={"student_pk": pl.Int64, "subject_pk": pl.Int64, "value": pl.Utf8, "status": pl.Utf8},
        orient="row",
    )
    words = pl.col("status").replace_strict(
        {str(k): v for k, v in STATUS_WORDS.items()}, default=None, return_dtype=pl.Utf8
    )
    return (
        students.join(subjects, how="cross")
        .join(scores, on=["student_pk", "subject_pk"], how="left")
        .with_columns(
            pl.lit(exam.school.name if exam.school_id else "").alias("school"),
            pl.when(pl.col("status") == ScoreStatus.SAT.value)
            .then(pl.col("value"))
            .otherwise(words)
            .fill_null("")
            .alias("score"),
        )
        .sort("class", "student_id", "subject_pk")
        .select("school", "class", "student_id", "subject", "score", "full_marks")
    )


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _lines(s: ExamSubject) -> Lines:
    return Lines(float(s.excellent), float(s.passing), float(s.low))


def analysis(exam: Exam) -> Analysis | None:
    """The engine's analysis of the exam; subjects with lines of their own are figured at their lines, the total
    at the lines most subjects share. None when the exam has no students or subjects."""
    subjects = list(exam.subjects.all())
    frame = score_frame(exam)
    if frame.height == 0 or not subjects:
        return None
    scores = check_scores(frame)
    groups: dict[Lines, list[str]] = {}
    for s in subjects:
        groups.setdefault(_lines(s), []).append(s.subject)
    main = max(groups, key=lambda k: len(groups[k]))
    result = analyse(scores, main)
    others = [(lines, names) for lines, names in groups.items() if lines != main]
    if others:
        parts = [result.stats.filter(~pl.col("subject").is_in([n for _l, ns in others for n in ns]))]
        for lines, names in others:
            parts.append(analyse(scores, lines).stats.filter(pl.col("subject").is_in(names)))
        result = Analysis(
            result.lines,
            result.class_key,
            result.subjects,
            result.full_marks,
            pl.concat(parts).sort("subject", "level", "key"),
            result.scores,
            result.students,
        )
    return result


def figures(result: Analysis, subject: str) -> list[dict[str, Any]]:
    """The grade's figures and each class's for one subject (or TOTAL): level, key and the engine's stats."""
    rows = result.stats.filter((pl.col("subject") == subject) & pl.col("level").is_in(["all", "class"]))
    return rows.sort(pl.col("level") != "all", "key").to_dicts()


def full_of(result: Analysis, subject: str) -> float:
    if subject == TOTAL:
        top = result.students.get_column("total_full").max()
        return float(top) if isinstance(top, int | float) else 0.0
    return float(result.full_marks[subject])


def bands_of(result: Analysis, subject: str) -> list[dict[str, Any]]:
    """分数段 of one subject or the total, ten bands of full marks."""
    full = full_of(result, subject)
    if subject == TOTAL:
        values = result.students.select("total")
        column = "total"
    else:
        values = result.scores.filter(pl.col("subject") == subject).select("score")
        column = "score"
    width = max(full / 10, 1.0)
    return score_bands(values, column, full, width).to_dicts()


def one_points(result: Analysis) -> list[dict[str, Any]]:
    """一分一段 of the total over the grade."""
    return one_point_table(result.students, "total").to_dicts()


def student_rows(result: Analysis, students: QuerySet[ExamStudent], class_id: int | None) -> list[dict[str, Any]]:
    """The students the actor may read, with each subject's score, the total and ranks (class, grade)."""
    qs = students.filter(class_id=class_id) if class_id else students
    names = pl.DataFrame(
        list(qs.values_list("student_no", "name")), schema={"student_id": pl.Utf8, "name": pl.Utf8}, orient="row"
    )
    if names.height == 0:
        return []
    wide = result.scores.pivot(on="subject", index="student_id", values="score")
    table = (
        names.join(result.students, on="student_id", how="inner")
        .join(wide, on="student_id", how="left")
        .sort("class", pl.col("rank_all").fill_null(10**9), "student_id")
    )
    return [{**row, "subject_scores": [row.get(s) for s in result.subjects]} for row in table.to_dicts()]


def export_figures(exam: Exam, result: Analysis) -> bytes:
    """The figures as a workbook: one row per subject (and the total), grade and class."""
    labels = {TOTAL: _("总分")}
    level = {"all": _("年级"), "class": _("班级"), "school": _("学校")}
    rows = result.stats.filter(pl.col("level") != "school").sort(
        pl.col("subject") == TOTAL, "subject", pl.col("level") != "all", "key"
    )
    data = [
        [
            labels.get(r["subject"], r["subject"]),
            level[r["level"]],
            exam.grade_name if r["level"] == "all" else r["key"],
            r["count"],
            *(
                None if r[c] is None or r[c] != r[c] else round(r[c], 2)
                for c in ("mean", "median", "std", "max", "min")
            ),
            *(
                None if r[c] is None or r[c] != r[c] else round(r[c] * 100, 1)
                for c in ("excellent_rate", "pass_rate", "low_rate")
            ),
        ]
        for r in rows.to_dicts()
    ]
    headers = [
        _("科目"),
        _("范围"),
        _("名称"),
        _("人数"),
        _("平均分"),
        _("中位数"),
        _("标准差"),
        _("最高分"),
        _("最低分"),
        _("优秀率%"),
        _("及格率%"),
        _("低分率%"),
    ]
    return write_table(headers, data, title=exam.name)


def template_workbook(exam: Exam, students: QuerySet[ExamStudent]) -> bytes:
    """考号, 姓名, 班级 and an empty column per subject, one row per student (what the import reads)."""
    subjects = [s.subject for s in exam.subjects.all()]
    rows = [
        [s.student_no, s.name, s.class_name, *[""] * len(subjects)]
        for s in students.order_by("class_name", "student_no")
    ]
    return write_table([_("考号"), _("姓名"), _("班级"), *subjects], rows, title=exam.name)


# --- students and guardians -----------------------------------------------------------------------------------


def own_students(actor: Any) -> list[int]:
    """The students whose scores a family account reads: a guardian's children, a student himself."""
    kind = getattr(actor, "kind", "")
    if kind == "guardian":
        return list(people_selectors.children_of(actor=actor).values_list("pk", flat=True))
    if kind == "student":
        me = people_selectors.student_of_account(actor.pk)
        return [me.pk] if me else []
    return []


def my_results(*, actor: Any) -> list[dict[str, Any]]:
    """Published exams of the family's children: each subject's score and band, the total, and ranks only where
    the school allows it for the exam. Never another student's score."""
    ids = own_students(actor)
    sitting = (
        ExamStudent.objects.filter(student_id__in=ids, exam__status=ExamStatus.PUBLISHED)
        .select_related("exam", "exam__school")
        .order_by("-exam__date", "exam_id", "name")
    )
    labels = band_labels()
    out = []
    for es in sitting:
        exam = es.exam
        subjects = list(exam.subjects.all())
        scores = {s.exam_subject_id: s for s in es.scores.all()}
        frame = pl.DataFrame(
            [
                (
                    s.subject,
                    _float(scores[s.pk].value) if s.pk in scores else None,
                    float(s.full_marks),
                    float(s.excellent),
                    float(s.passing),
                )
                for s in subjects
            ],
            schema={"subject": pl.Utf8, "v": pl.Float64, "f": pl.Float64, "e": pl.Float64, "p": pl.Float64},
            orient="row",
        ).with_columns(band_expr("v", "f", "e", "p").alias("band"))
        rows = []
        for s, band in zip(subjects, frame.get_column("band").to_list(), strict=True):
            score = scores.get(s.pk)
            text = score.text if score else ""
            if score and score.status != ScoreStatus.SAT:
                text = str(ScoreStatus(score.status).label)
            rows.append(
                {"subject": s.subject, "full": s.full_marks, "text": text or "—", "band": labels.get(band or "", "")}
            )
        entry: dict[str, Any] = {"exam": exam, "student": es, "rows": rows, "ranks": None}
        if exam.ranks_for_families:
            result = analysis(exam)
            if result is not None:
                me = result.students.filter(pl.col("student_id") == es.student_no).to_dicts()
                if me:
                    entry["ranks"] = {"class": me[0]["rank_class"], "grade": me[0]["rank_all"], "total": me[0]["total"]}
        out.append(entry)
    return out


# --- printable reports ------------------------------------------------------------------------------------------


def class_report(*, actor: Any, exam: Exam, class_id: int) -> bytes | None:
    """A class beside its grade, with the class list and ranks: for staff who may read that class's scores."""
    klass = next((c for c in classes_of(students_seen_by(actor=actor, exam=exam)) if c["id"] == class_id), None)
    result = analysis(exam) if klass is not None else None
    if klass is None or result is None:
        return None
    return reports.class_report_pdf(result, exam=exam.name, class_key=klass["name"])


def grade_report(*, actor: Any, exam: Exam) -> bytes | None:
    """Every class of the grade: for staff who may read the whole grade."""
    seen = students_seen_by(actor=actor, exam=exam)
    if seen.count() != exam.students.count():
        return None
    result = analysis(exam)
    return None if result is None else reports.grade_report_pdf(result, exam=exam.name)


def report_card(*, actor: Any, exam_student_id: int) -> tuple[bytes, ExamStudent] | None:
    """One student's report card: for his family once the exam is published, or for staff who may read his
    scores (to print and hand out). A rank only where the school allows it for families, as the card goes home."""
    es = ExamStudent.objects.filter(pk=exam_student_id).select_related("exam").first()
    if es is None:
        return None
    exam = es.exam
    if _family(actor):
        if es.student_id not in own_students(actor) or exam.status != ExamStatus.PUBLISHED:
            return None
    elif not students_seen_by(actor=actor, exam=exam).filter(pk=es.pk).exists():
        return None
    result = analysis(exam)
    if result is None:
        return None
    lines = {s.subject: (float(s.excellent), float(s.passing)) for s in exam.subjects.all()}
    pdf = reports.report_card_pdf(
        result,
        exam=exam.name,
        student_id=es.student_no,
        name=es.name,
        lines=lines,
        show_rank=exam.ranks_for_families,
    )
    return pdf, es
