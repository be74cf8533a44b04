"""考试 pages: the exam list and form, an exam's subjects and status, the score entry grid (autosaving cells),
the workbook import with its problem list and the pre-filled template, the analysis (figures, charts, the
one-point table, students with ranks for staff allowed to see them, an Excel export) and 我的成绩 for families."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.kernel.pages import show_errors
from zhixiao.kernel.spreadsheets import xlsx_response
from zhixiao.org import selectors as org_selectors

from . import charts, selectors, services
from .engine.analysis import TOTAL
from .models import Exam, ExamKind

MAX_UPLOAD = 10 * 1024 * 1024
DEFAULT_SUBJECTS = {"语文": 150, "数学": 150, "英语": 150}


def _exam(request: HttpRequest, exam_id: int) -> Exam:
    """The exam if the actor may see it; 403 if it is of his school, 404 otherwise."""
    exam = selectors.exam_for(actor=request.user, exam_id=exam_id)
    if exam is None:
        if selectors.exam_exists_in_schools_of(actor=request.user, exam_id=exam_id):
            raise PermissionDenied
        raise Http404
    return exam


def _managed(request: HttpRequest, exam_id: int) -> Exam:
    exam = _exam(request, exam_id)
    if not services.manages(request.user, exam):
        raise PermissionDenied
    return exam


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_GET
def exams(request: HttpRequest) -> HttpResponse:
    if not selectors.may_use(request.user):
        raise PermissionDenied
    rows = list(selectors.exams_for(actor=request.user).select_related("school")[:200])
    return render(
        request,
        "academics/exams.html",
        {"exams": rows, "can_create": bool(selectors.manageable_school_ids(request.user))},
    )


@login_required
def exam_new(request: HttpRequest) -> HttpResponse:
    actor = request.user
    schools = selectors.manageable_school_ids(actor)
    if not schools:
        raise PermissionDenied
    school_id = _int(request.POST.get("school") or request.GET.get("school")) or schools[0]
    if school_id not in schools:
        raise PermissionDenied
    subjects = [s.name for s in org_selectors.subjects_of(actor=actor, school_id=school_id)]
    errors: list[str] = []
    status = 200
    form = request.POST if request.method == "POST" else None
    if form is not None:
        specs, problems = [], []
        for name in form.getlist("subject"):
            try:
                full = Decimal(form.get(f"full_{name}", "") or str(DEFAULT_SUBJECTS.get(name, 100)))
            except InvalidOperation:
                problems.append(_("科目 {subject} 的满分应为数字").format(subject=name))
                continue
            specs.append(services.SubjectSpec(name, full))
        try:
            date = dt.date.fromisoformat(form.get("date", ""))
        except ValueError:
            problems.append(_("请填写考试日期"))
            date = dt.date.today()
        try:
            if problems:
                raise services.ScoreErrors(problems)
            exam = services.create_exam(
                actor=actor,
                school_id=school_id,
                name=form.get("name", ""),
                kind=form.get("kind", ""),
                grade_id=_int(form.get("grade")) or 0,
                date=date,
                subjects=specs,
                class_ids=[c for c in (_int(x) for x in form.getlist("class")) if c],
            )
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            errors, status = list(getattr(exc, "errors", None) or [str(exc)]), 400
        else:
            messages.success(request, _("已创建考试，可以录入成绩"))
            return redirect("academics:exam", exam_id=exam.pk)
    return render(
        request,
        "academics/exam_form.html",
        {
            "school_id": school_id,
            "grades": org_selectors.grade_rows(school_id=school_id),
            "kinds": ExamKind.choices,
            "subjects": [{"name": n, "full": DEFAULT_SUBJECTS.get(n, 100)} for n in subjects],
            "errors": errors,
            "form": form,
            "today": dt.date.today().isoformat(),
        },
        status=status,
    )


@login_required
@require_GET
def exam(request: HttpRequest, exam_id: int) -> HttpResponse:
    e = _exam(request, exam_id)
    actor = request.user
    return render(
        request,
        "academics/exam.html",
        {
            "exam": e,
            "tab": "exam",
            "manages": services.manages(actor, e),
            "subjects": list(e.subjects.all()),
            "classes": selectors.classes_of(e.students.all()),
            "entry_classes": selectors.classes_of(selectors.students_entered_by(actor=actor, exam=e)),
            "students": e.students.count(),
            "scores": e.scores.count(),
        },
    )


@login_required
@require_POST
def subject_edit(request: HttpRequest, exam_id: int, subject_id: int) -> HttpResponse:
    e = _managed(request, exam_id)
    if not e.subjects.filter(pk=subject_id).exists():
        raise Http404
    try:
        services.update_subject(
            actor=request.user,
            exam_subject_id=subject_id,
            full_marks=request.POST.get("full_marks", ""),
            excellent=request.POST.get("excellent", ""),
            passing=request.POST.get("passing", ""),
            low=request.POST.get("low", ""),
        )
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("已保存"))
    return redirect("academics:exam", exam_id=e.pk)


@login_required
@require_POST
def exam_status(request: HttpRequest, exam_id: int) -> HttpResponse:
    e = _managed(request, exam_id)
    action = request.POST.get("action", "")
    done = {
        "lock": (services.lock_exam, _("成绩已锁定")),
        "unlock": (services.unlock_exam, _("已解锁，可以继续录入")),
        "publish": (services.publish_exam, _("已发布：学生和家长可以在“我的成绩”中查看本人成绩")),
    }
    try:
        if action in done:
            done[action][0](actor=request.user, exam_id=e.pk)
            messages.success(request, done[action][1])
        elif action == "ranks":
            services.set_ranks_for_families(
                actor=request.user, exam_id=e.pk, allowed=request.POST.get("allowed") == "1"
            )
            messages.success(request, _("已保存"))
        else:
            messages.error(request, _("未知操作"))
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        show_errors(request, exc)
    return redirect("academics:exam", exam_id=e.pk)


@login_required
@require_GET
def grid(request: HttpRequest, exam_id: int) -> HttpResponse:
    e = _exam(request, exam_id)
    actor = request.user
    entered = selectors.students_entered_by(actor=actor, exam=e)
    seen = selectors.students_seen_by(actor=actor, exam=e)
    classes = selectors.classes_of(entered) or selectors.classes_of(seen)
    if not classes:
        raise PermissionDenied
    class_id = _int(request.GET.get("class")) or classes[0]["id"]
    if class_id not in {c["id"] for c in classes}:
        raise Http404
    writable = e.editable and entered.filter(class_id=class_id).exists()
    students = (entered if writable else seen).filter(class_id=class_id)
    return render(
        request,
        "academics/grid.html",
        {
            "exam": e,
            "tab": "grid",
            "classes": classes,
            "class_id": class_id,
            "writable": writable,
            "manages": services.manages(actor, e),
            **selectors.grid(exam=e, students=students),
        },
    )


@login_required
@require_POST
def cell(request: HttpRequest, exam_id: int) -> HttpResponse:
    e = _exam(request, exam_id)
    student_id, subject_id = _int(request.POST.get("student")), _int(request.POST.get("subject"))
    if not (student_id and subject_id and e.students.filter(pk=student_id).exists()):
        raise Http404
    try:
        row = services.enter_score(
            actor=request.user,
            exam_student_id=student_id,
            exam_subject_id=subject_id,
            text=request.POST.get("value", ""),
        )
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        errors = getattr(exc, "errors", None) or [str(exc)]
        return JsonResponse({"ok": False, "error": "；".join(errors)}, status=400)
    return JsonResponse({"ok": True, "value": row.text if row else ""})


@login_required
def import_scores(request: HttpRequest, exam_id: int) -> HttpResponse:
    e = _managed(request, exam_id)
    errors: list[str] = []
    summary: dict[str, int] | None = None
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors, status = [_("请选择一个 .xlsx 文件")], 400
        elif (upload.size or 0) > MAX_UPLOAD:
            errors, status = [_("文件过大（最多 10 MB）")], 400
        else:
            try:
                summary = services.import_scores(actor=request.user, exam_id=e.pk, data=upload.read())
            except NotPermitted as exc:
                raise PermissionDenied from exc
            except DomainError as exc:
                errors, status = list(getattr(exc, "errors", None) or [str(exc)]), 400
    return render(
        request,
        "academics/import.html",
        {"exam": e, "tab": "import", "errors": errors, "summary": summary, "manages": True},
        status=status,
    )


@login_required
@require_GET
def template(request: HttpRequest, exam_id: int) -> HttpResponse:
    e = _managed(request, exam_id)
    data = selectors.template_workbook(e, e.students.all())
    return xlsx_response(data, f"scores-{e.pk}.xlsx")


def _analysis(request: HttpRequest, exam_id: int) -> tuple[Exam, Any]:
    e = _exam(request, exam_id)
    if not selectors.students_seen_by(actor=request.user, exam=e).exists():
        raise PermissionDenied
    return e, selectors.analysis(e)


@login_required
@require_GET
def analysis(request: HttpRequest, exam_id: int) -> HttpResponse:
    e, result = _analysis(request, exam_id)
    context: dict[str, Any] = {
        "exam": e,
        "tab": "analysis",
        "result": result,
        "manages": services.manages(request.user, e),
    }
    if result is not None:
        subject = request.GET.get("subject", TOTAL)
        if subject != TOTAL and subject not in result.subjects:
            subject = TOTAL
        rows = selectors.figures(result, subject)
        classes = [r for r in rows if r["level"] == "class"]
        full = selectors.full_of(result, subject)
        bands = selectors.bands_of(result, subject)
        seen = selectors.students_seen_by(actor=request.user, exam=e)
        visible_classes = selectors.classes_of(seen)
        class_id = _int(request.GET.get("class")) or (visible_classes[0]["id"] if visible_classes else None)
        context |= {
            "subject": subject,
            "subject_label": _("总分") if subject == TOTAL else subject,
            "subjects": result.subjects,
            "full": full,
            "rows": rows,
            "means_chart": mark_safe(  # noqa: S308 (charts.bars escapes every text)
                charts.bars(
                    [(r["key"], r["mean"], f"{r['mean']:.1f}" if r["mean"] is not None else "—") for r in classes],
                    title=_("各班平均分"),
                    largest=full,
                    chart_id="chart-means",
                )
            ),
            "bands_chart": mark_safe(  # noqa: S308
                charts.bars(
                    [(f"{b['low']:g}–{b['high']:g}", float(b["count"]), str(b["count"])) for b in bands],
                    title=_("分数段"),
                    largest=float(max((b["count"] for b in bands), default=0) or 1),
                    chart_id="chart-bands",
                )
            ),
            "one_points": selectors.one_points(result) if subject == TOTAL else [],
            "visible_classes": visible_classes,
            "class_id": class_id,
            "students": selectors.student_rows(result, seen, class_id),
            "sees_grade": seen.count() == e.students.count(),
        }
    return render(request, "academics/analysis.html", context)


@login_required
@require_GET
def analysis_export(request: HttpRequest, exam_id: int) -> HttpResponse:
    e, result = _analysis(request, exam_id)
    if result is None:
        raise Http404
    return xlsx_response(selectors.export_figures(e, result), f"analysis-{e.pk}.xlsx")


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    if getattr(request.user, "kind", "") not in ("guardian", "student"):
        raise PermissionDenied
    return render(request, "academics/mine.html", {"results": selectors.my_results(actor=request.user)})


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def class_report(request: HttpRequest, exam_id: int) -> HttpResponse:
    e = _exam(request, exam_id)
    data = selectors.class_report(actor=request.user, exam=e, class_id=_int(request.GET.get("class")) or 0)
    if data is None:
        raise Http404
    return _pdf(data, f"exam-{e.pk}-class-{request.GET.get('class')}.pdf")


@login_required
@require_GET
def grade_report(request: HttpRequest, exam_id: int) -> HttpResponse:
    e = _exam(request, exam_id)
    data = selectors.grade_report(actor=request.user, exam=e)
    if data is None:
        raise Http404
    return _pdf(data, f"exam-{e.pk}-grade.pdf")


@login_required
@require_GET
def report_card(request: HttpRequest, exam_student_id: int) -> HttpResponse:
    found = selectors.report_card(actor=request.user, exam_student_id=exam_student_id)
    if found is None:
        raise Http404
    data, es = found
    return _pdf(data, f"report-card-{es.exam_id}-{es.student_no}.pdf")
