"""走班 pages of a plan: the grade's subject choices (Excel import with the template pre-filled, or a select per
student), forming teaching classes as a background job with the solve's progress bar, the result per block
with a chart of the combinations, and applying it to the plan (after a confirmation when it replaces)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from zhixiao.kernel import spreadsheets
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.kernel.pages import show_errors
from zhixiao.people import selectors as people_selectors

from . import electives
from .models import RunMode, TimetablePlan
from .views import _int, _plan, _plan_context


def _context(request: HttpRequest, p: TimetablePlan) -> dict[str, Any]:
    summary = electives.choice_summary(p) if p.elective_grade_id else None
    classes = electives.grade_classes(p)
    latest = electives.latest_formation(p)
    return {
        **_plan_context(p, "electives"),
        "grades": electives.grade_options(actor=request.user, school_id=p.school_id),
        "schemes": electives.SCHEMES,
        "summary": summary,
        "classes": classes,
        "subjects": [
            {"i": i, "name": s, "lessons": electives.DEFAULT_LESSONS[s]} for i, s in enumerate(electives.SUBJECTS)
        ],
        "staff": people_selectors.staff_choices(school_id=p.school_id),
        "default_rooms": len(classes) + 2,
        "runs": p.runs.filter(mode=RunMode.ELECTIVES)[:10],
        "latest": latest,
        "max_seconds": electives.MAX_FORMATION_SECONDS,
    }


def _guard(p: TimetablePlan) -> None:
    if p.is_fet:
        raise Http404


@login_required
@require_GET
def overview(request: HttpRequest, plan_id: int) -> HttpResponse:
    p = _plan(request, plan_id)
    _guard(p)
    return render(request, "timetable/electives.html", _context(request, p))


@login_required
@require_POST
def grade(request: HttpRequest, plan_id: int) -> HttpResponse:
    p = _plan(request, plan_id)
    try:
        electives.set_grade(
            actor=request.user,
            plan_id=p.pk,
            grade_id=_int(request.POST.get("grade")),
            scheme=request.POST.get("scheme", ""),
        )
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("已保存选科年级和模式"))
    return redirect("timetable:electives", plan_id=p.pk)


@login_required
@require_GET
def template(request: HttpRequest, plan_id: int) -> HttpResponse:
    p = _plan(request, plan_id)
    try:
        data = electives.choices_template(p)
    except DomainError as exc:
        show_errors(request, exc)
        return redirect("timetable:electives", plan_id=p.pk)
    return spreadsheets.xlsx_response(data, f"choices-{p.pk}.xlsx")


@login_required
@require_POST
def import_choices(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Upload choices: saved when every row is right, else the page again listing every row's problem."""
    p = _plan(request, plan_id)
    upload = request.FILES.get("file")
    errors: list[str] = []
    if upload is None:
        errors = [_("请选择 .xlsx 文件")]
    else:
        try:
            n = electives.import_choices(
                actor=request.user, plan_id=p.pk, filename=upload.name or "", data=upload.read()
            )
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            errors = list(getattr(exc, "errors", None) or [str(exc)])
        else:
            messages.success(request, _("已导入 {n} 名学生的选科").format(n=n))
            return redirect("timetable:electives", plan_id=p.pk)
    p.refresh_from_db()
    context = {**_context(request, p), "import_errors": errors[:300], "more_errors": max(0, len(errors) - 300)}
    return render(request, "timetable/electives.html", context, status=400)


@login_required
def choices(request: HttpRequest, plan_id: int) -> HttpResponse:
    """A select per student, one class of the grade at a time."""
    p = _plan(request, plan_id)
    _guard(p)
    classes = electives.grade_classes(p)
    class_id = _int(request.GET.get("class") or request.POST.get("class")) or (classes[0]["id"] if classes else 0)
    students = [s for s in electives.grade_students(p) if s["admin_class_id"] == class_id]
    if request.method == "POST":
        entries = {s["id"]: request.POST.get(f"choice_{s['id']}", "") for s in students}
        try:
            n = electives.save_choices(actor=request.user, plan_id=p.pk, entries=entries)
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, _("已保存 {n} 名学生的选科").format(n=n))
        return redirect(reverse("timetable:elective_choices", args=[p.pk]) + f"?class={class_id}")
    saved = {c.student_id: electives.combination_label(c.subjects) for c in p.subject_choices.all()}
    options = (
        [electives.combination_label(c) for c in electives.combinations(p.elective_scheme)] if p.elective_scheme else []
    )
    return render(
        request,
        "timetable/elective_choices.html",
        {
            **_plan_context(p, "electives"),
            "classes": classes,
            "class_id": class_id,
            "options": options,
            "rows": [{**s, "choice": saved.get(s["id"], "")} for s in students],
        },
    )


def _spec(request: HttpRequest) -> electives.FormationSpec:
    post = request.POST
    return electives.FormationSpec(
        lessons={s: _int(post.get(f"lessons_{i}"), 0) for i, s in enumerate(electives.SUBJECTS)},
        min_size=_int(post.get("min_size"), 0),
        max_size=_int(post.get("max_size"), 0),
        max_blocks=_int(post.get("max_blocks"), 0),
        rooms=_int(post.get("rooms"), 0),
        teachers={
            s: [t for t in (_int(v) for v in post.getlist(f"teachers_{i}")) if t]
            for i, s in enumerate(electives.SUBJECTS)
        },
        max_classes_per_teacher=_int(post.get("max_per_teacher"), 0),
        time_limit=_int(post.get("time_limit"), 30),
    )


@login_required
@require_POST
def form(request: HttpRequest, plan_id: int) -> HttpResponse:
    p = _plan(request, plan_id)
    try:
        run = electives.start_formation(actor=request.user, plan_id=p.pk, spec=_spec(request))
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        show_errors(request, exc)
        return redirect("timetable:electives", plan_id=p.pk)
    return redirect("timetable:run", run_id=run.pk)


def _formation(p: TimetablePlan, run_id: int) -> Any:
    run = p.runs.filter(pk=run_id, mode=RunMode.ELECTIVES).first()
    if run is None:
        raise Http404
    return run


@login_required
@require_GET
def result(request: HttpRequest, plan_id: int, run_id: int) -> HttpResponse:
    """The formed classes per block, the combinations as bars, or why no plan exists."""
    p = _plan(request, plan_id)
    run = _formation(p, run_id)
    return render(
        request,
        "timetable/elective_result.html",
        {
            **_plan_context(p, "electives"),
            "run": run,
            **electives.formation_view(run),
            "existing": p.teaching_classes.count(),
        },
    )


@login_required
@require_POST
def apply(request: HttpRequest, plan_id: int, run_id: int) -> HttpResponse:
    p = _plan(request, plan_id)
    run = _formation(p, run_id)
    try:
        n = electives.apply_formation(
            actor=request.user, plan_id=p.pk, run_id=run.pk, replace=request.POST.get("replace") == "1"
        )
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        show_errors(request, exc)
        return redirect("timetable:elective_result", plan_id=p.pk, run_id=run.pk)
    messages.success(request, _("已应用分班结果：{n} 个教学班及其课程，可在“课程”中调整任课教师，然后排课").format(n=n))
    return redirect("timetable:teaching_classes", plan_id=p.pk)
