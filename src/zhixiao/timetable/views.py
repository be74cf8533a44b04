"""排课 pages: plans and their data (rooms, each class's subjects × periods × teacher, teachers' unavailable
times on a week grid, rules with weights, FET import), background solves with a live progress bar, the
timetable by class, teacher or room with moves and swaps checked live, publishing, repair, exports,
substitutes for teachers on leave, and everyone's own 我的课表."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from zhixiao.kernel import permissions
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.kernel.pages import show_errors
from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors

from . import exports, presenters, selectors, services, snapshots
from .models import PlanRule, RoomKind, RuleKind, RunMode, SubstitutionStatus, TimetablePlan

SLOT_RULES = (RuleKind.TEACHER_UNAVAILABLE, RuleKind.CLASS_UNAVAILABLE, RuleKind.BREAK)


def _plan(request: HttpRequest, plan_id: int) -> TimetablePlan:
    """The plan if the actor manages it; 403 if he may only see it, 404 if it is not his school's."""
    plan = selectors.plan_for_manager(actor=request.user, plan_id=plan_id)
    if plan is None:
        if selectors.plan_seen_by(actor=request.user, plan_id=plan_id):
            raise PermissionDenied
        raise Http404
    return plan


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _plan_context(plan: TimetablePlan, tab: str) -> dict[str, Any]:
    return {"plan": plan, "tab": tab, "version": services.latest_version(plan)}


def _slots(request: HttpRequest) -> list[list[int]]:
    out = []
    for raw in request.POST.getlist("slot"):
        day, _sep, period = raw.partition(",")
        out.append([_int(day, -1), _int(period, -1)])
    return out


def _week(plan: TimetablePlan, chosen: set[tuple[int, int]] | None = None) -> list[dict[str, Any]]:
    """Rows of a clickable week grid (a checkbox per day and period)."""
    chosen = chosen or set()
    return [
        {
            "name": p["name"],
            "session": p.get("session", ""),
            "cells": [{"value": f"{d},{i}", "checked": (d, i) in chosen} for d in range(len(plan.days))],
        }
        for i, p in enumerate(plan.periods)
    ]


# --- plans -----------------------------------------------------------------------------------------------


@login_required
@require_GET
def plans(request: HttpRequest) -> HttpResponse:
    actor = request.user
    if not selectors.may_use(actor):
        raise PermissionDenied
    rows = list(selectors.plans_visible_to(actor=actor)[:200])
    managed = set(selectors.plans_managed_by(actor=actor).values_list("pk", flat=True))
    return render(
        request,
        "timetable/plans.html",
        {
            "rows": [{"plan": p, "managed": p.pk in managed, "version": services.latest_version(p)} for p in rows],
            "can_create": bool(selectors.manageable_school_ids(actor)),
        },
    )


def _schools(actor: Any) -> list[tuple[int, str]]:
    ids = selectors.manageable_school_ids(actor)
    return [
        (s.pk, s.name) for s in org_selectors.schools_where(actor=actor, action=permissions.VIEW_SCHOOL) if s.pk in ids
    ]


@login_required
def plan_new(request: HttpRequest) -> HttpResponse:
    actor = request.user
    schools = _schools(actor)
    if not schools:
        raise PermissionDenied
    if request.method == "POST":
        try:
            plan = services.create_plan(
                actor=actor,
                school_id=_int(request.POST.get("school"), schools[0][0]),
                name=request.POST.get("name", ""),
                days=request.POST.getlist("days") or None,
            )
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, _("已创建排课方案，请录入教室和各班课程"))
            return redirect("timetable:plan", plan_id=plan.pk)
    return render(
        request,
        "timetable/plan_new.html",
        {"schools": schools, "weekdays": services.WEEKDAYS, "defaults": services.DEFAULT_DAYS},
    )


@login_required
def fet_import(request: HttpRequest) -> HttpResponse:
    """Upload a FET file: a new plan with the import's report, or every error found (in Chinese)."""
    actor = request.user
    schools = _schools(actor)
    if not schools:
        raise PermissionDenied
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors = [_("请选择 .fet 文件")]
        else:
            try:
                plan = services.import_fet(
                    actor=actor,
                    school_id=_int(request.POST.get("school"), schools[0][0]),
                    name=request.POST.get("name", ""),
                    filename=upload.name or "",
                    data=upload.read(),
                )
            except NotPermitted as exc:
                raise PermissionDenied from exc
            except DomainError as exc:
                errors = list(getattr(exc, "errors", None) or [str(exc)])
            else:
                messages.success(request, _("已导入 FET 文件"))
                return redirect("timetable:plan", plan_id=plan.pk)
        status = 400
    return render(request, "timetable/fet_import.html", {"schools": schools, "errors": errors[:200]}, status=status)


@login_required
@require_GET
def plan(request: HttpRequest, plan_id: int) -> HttpResponse:
    p = _plan(request, plan_id)
    built = services.build(p)
    problem = built.problem
    lessons = sum(a.duration for a in problem.activities)
    return render(
        request,
        "timetable/plan.html",
        {
            **_plan_context(p, "plan"),
            "counts": {
                "classes": sum(1 for s in problem.student_sets.values() if s.kind in ("行政班", "教学班"))
                if not p.is_fet
                else len(problem.student_sets),
                "activities": len(problem.activities),
                "lessons": lessons,
                "teachers": len(problem.teachers),
                "rooms": len(problem.rooms),
                "rules": p.rules.count(),
                "constraints": len(problem.constraints),
                "slots": len(p.days) * len(p.periods),
            },
            "errors": built.errors,
            "report": p.import_report,
            "runs": p.runs.all()[:10],
            "versions": p.versions.all()[:20],
        },
    )


@login_required
def plan_shape(request: HttpRequest, plan_id: int) -> HttpResponse:
    p = _plan(request, plan_id)
    text = services.periods_text(p)
    if request.method == "POST":
        text = request.POST.get("periods", "")
        try:
            services.update_shape(
                actor=request.user,
                plan_id=p.pk,
                name=request.POST.get("name", ""),
                days=request.POST.getlist("days"),
                periods_source=text,
            )
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("timetable:plan_shape", plan_id=p.pk)
    return render(
        request,
        "timetable/plan_shape.html",
        {**_plan_context(p, "shape"), "weekdays": services.WEEKDAYS, "periods_text": text},
    )


# --- data -------------------------------------------------------------------------------------------------


@login_required
def rooms(request: HttpRequest, plan_id: int) -> HttpResponse:
    p = _plan(request, plan_id)
    if request.method == "POST":
        try:
            services.save_room(
                actor=request.user,
                plan_id=p.pk,
                name=request.POST.get("name", ""),
                kind=request.POST.get("kind", ""),
                capacity=_int(request.POST.get("capacity"), 0),
                building=request.POST.get("building", ""),
                room_id=_int(request.POST.get("room")) or None,
            )
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, _("已保存教室"))
        return redirect("timetable:rooms", plan_id=p.pk)
    return render(
        request,
        "timetable/rooms.html",
        {**_plan_context(p, "rooms"), "rooms": p.rooms.all(), "kinds": RoomKind.choices},
    )


@login_required
@require_POST
def room_delete(request: HttpRequest, plan_id: int, room_id: int) -> HttpResponse:
    p = _plan(request, plan_id)
    try:
        services.delete_room(actor=request.user, plan_id=p.pk, room_id=room_id)
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        show_errors(request, exc)
    return redirect("timetable:rooms", plan_id=p.pk)


def _course_rows(request: HttpRequest) -> list[services.CourseRow]:
    rows = []
    for i in range(_int(request.POST.get("rows"), 0)):
        subject = request.POST.get(f"subject_{i}", "")
        lessons = _int(request.POST.get(f"lessons_{i}"), 0)
        if not subject or lessons <= 0:
            continue
        teachers = [_int(t) for t in request.POST.getlist(f"teacher_{i}") if _int(t)]
        rows.append(
            services.CourseRow(
                subject=subject,
                lessons=lessons,
                doubles=_int(request.POST.get(f"doubles_{i}"), 0),
                teacher_ids=teachers,
                room_kind=request.POST.get(f"room_kind_{i}", ""),
                max_per_day=_int(request.POST.get(f"max_{i}"), 2),
            )
        )
    return rows


@login_required
def courses(request: HttpRequest, plan_id: int) -> HttpResponse:
    """A class's subjects × periods a week × teacher, one compact grid per class."""
    p = _plan(request, plan_id)
    classes = org_selectors.class_rows(school_id=p.school_id)
    teaching = list(p.teaching_classes.all())
    target = request.GET.get("class") or request.POST.get("class") or ""
    if request.method == "POST":
        kind, _sep, key = target.partition(":")
        try:
            services.save_class_courses(
                actor=request.user,
                plan_id=p.pk,
                rows=_course_rows(request),
                class_id=_int(key) if kind == "c" else None,
                teaching_class_id=_int(key) if kind == "t" else None,
            )
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, _("已保存该班课程"))
        return redirect(reverse("timetable:courses", args=[p.pk]) + f"?class={target}")
    options = [(f"c:{c['id']}", c["name"]) for c in classes] + [(f"t:{t.pk}", f"{t.name}（教学班）") for t in teaching]
    if not target and options:
        target = options[0][0]
    kind, _sep, key = target.partition(":")
    name = next((label for value, label in options if value == target), "")
    class_name = name.removesuffix("（教学班）")
    existing = {c.subject: c for c in p.courses.filter(class_name=class_name)} if class_name else {}
    subjects = [s.name for s in org_selectors.subjects_of(actor=request.user, school_id=p.school_id)]
    subjects += [s for s in existing if s not in subjects]
    if kind == "t":
        subject = next((t.subject for t in teaching if str(t.pk) == key), "")
        subjects = [subject] if subject else subjects
    rows = []
    for i, subject in enumerate(subjects):
        c = existing.get(subject)
        rows.append(
            {
                "i": i,
                "subject": subject,
                "lessons": c.lessons_per_week if c else "",
                "doubles": c.double_lessons if c else 0,
                "max": c.max_per_day if c else 2,
                "teachers": c.teacher_ids if c else [],
                "room_kind": c.room_kind if c else "",
            }
        )
    totals: dict[str, int] = {}
    for c in p.courses.all():
        totals[c.class_name] = totals.get(c.class_name, 0) + c.lessons_per_week
    return render(
        request,
        "timetable/courses.html",
        {
            **_plan_context(p, "courses"),
            "options": options,
            "target": target,
            "target_name": class_name,
            "rows": rows,
            "staff": people_selectors.staff_choices(school_id=p.school_id),
            "kinds": RoomKind.choices,
            "totals": sorted(totals.items()),
            "slots": len(p.days) * len(p.periods),
        },
    )


@login_required
@require_POST
def courses_generate(request: HttpRequest, plan_id: int) -> HttpResponse:
    p = _plan(request, plan_id)
    try:
        n = services.generate_courses(actor=request.user, plan_id=p.pk)
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("已按任课安排生成 {n} 门课程").format(n=n))
    return redirect("timetable:courses", plan_id=p.pk)


@login_required
def teaching_classes(request: HttpRequest, plan_id: int) -> HttpResponse:
    p = _plan(request, plan_id)
    if request.method == "POST":
        numbers = request.POST.get("students", "").replace("，", ",").replace(",", " ").split()
        try:
            services.save_teaching_class(
                actor=request.user,
                plan_id=p.pk,
                name=request.POST.get("name", ""),
                subject=request.POST.get("subject", ""),
                student_numbers=numbers,
            )
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, _("已保存教学班"))
        return redirect("timetable:teaching_classes", plan_id=p.pk)
    return render(
        request,
        "timetable/teaching_classes.html",
        {**_plan_context(p, "teaching"), "rows": p.teaching_classes.all()},
    )


def _teacher_choices(p: TimetablePlan) -> list[tuple[str, str]]:
    """(value, label) of the teachers a plan's rules may name: staff (by account) or a FET file's names."""
    if p.is_fet:
        problem = snapshots.problem_from_json(p.fet_problem or {})
        return [(f"n:{t}", t) for t in problem.teachers]
    return [(f"a:{account}", label) for account, label in people_selectors.staff_choices(school_id=p.school_id)]


def _teacher_key(value: str) -> dict[str, Any]:
    kind, _sep, key = value.partition(":")
    if kind == "a" and _int(key):
        return {"teacher_id": _int(key)}
    if kind == "n" and key:
        return {"teacher": key}
    return {}


@login_required
def unavailable(request: HttpRequest, plan_id: int) -> HttpResponse:
    """A teacher's times without lessons, by clicking a week grid."""
    p = _plan(request, plan_id)
    choices = _teacher_choices(p)
    teacher = request.GET.get("teacher") or request.POST.get("teacher") or (choices[0][0] if choices else "")
    key = _teacher_key(teacher)
    if request.method == "POST":
        try:
            services.set_teacher_unavailable(actor=request.user, plan_id=p.pk, slots=_slots(request), **key)
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, _("已保存该教师的不排课时间"))
        return redirect(reverse("timetable:unavailable", args=[p.pk]) + f"?teacher={teacher}")
    rules = list(p.rules.filter(kind=RuleKind.TEACHER_UNAVAILABLE))
    chosen = {
        (s[0], s[1])
        for r in rules
        if key and all(r.params.get(k) == v for k, v in key.items())
        for s in r.params.get("slots", [])
    }
    labels = dict(choices)
    summary = []
    for r in rules:
        value = f"a:{r.params['teacher_id']}" if r.params.get("teacher_id") else f"n:{r.params.get('teacher', '')}"
        summary.append((value, labels.get(value, value), len(r.params.get("slots", []))))
    return render(
        request,
        "timetable/unavailable.html",
        {
            **_plan_context(p, "unavailable"),
            "choices": choices,
            "teacher": teacher,
            "week": _week(p, chosen),
            "summary": summary,
        },
    )


@login_required
def rules(request: HttpRequest, plan_id: int) -> HttpResponse:
    p = _plan(request, plan_id)
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        params: dict[str, Any] = {
            "max": request.POST.get("max", ""),
            "subject": request.POST.get("subject", ""),
            "subjects": request.POST.get("subjects", "").replace("，", ",").replace("、", ",").split(","),
            "students": request.POST.get("students", ""),
            "slots": _slots(request),
            **_teacher_key(request.POST.get("teacher", "")),
        }
        try:
            services.save_rule(
                actor=request.user,
                plan_id=p.pk,
                kind=kind,
                weight=request.POST.get("weight", "100"),  # type: ignore[arg-type]
                params=params,
                label=request.POST.get("label", ""),
            )
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, _("已添加规则"))
        return redirect("timetable:rules", plan_id=p.pk)
    built = services.build(p)
    return render(
        request,
        "timetable/rules.html",
        {
            **_plan_context(p, "rules"),
            "rules": [(r, _describe(p, r)) for r in p.rules.all()],
            "kinds": RuleKind.choices,
            "slot_kinds": [k.value for k in SLOT_RULES],
            "classes": sorted(n for n, s in built.problem.student_sets.items() if s.kind != "走班组"),
            "teachers": _teacher_choices(p),
            "week": _week(p),
            "core": "、".join(services.CORE_SUBJECTS),
        },
    )


def _describe(p: TimetablePlan, rule: PlanRule) -> str:
    params = rule.params
    parts = []
    if params.get("teacher_id"):
        parts.append(
            people_selectors.staff_choices_for(account_ids=[params["teacher_id"]]).get(params["teacher_id"], "")
        )
    for key in ("teacher", "students", "subject"):
        if params.get(key):
            parts.append(str(params[key]))
    if params.get("subjects"):
        parts.append("、".join(params["subjects"]))
    if "max" in params:
        parts.append(f"≤ {params['max']}")
    if params.get("slots"):
        shown = [
            f"{p.days[d]}{p.periods[h]['name']}"
            for d, h in params["slots"][:8]
            if d < len(p.days) and h < len(p.periods)
        ]
        parts.append("、".join(shown) + ("…" if len(params["slots"]) > 8 else ""))
    if (
        rule.kind == RuleKind.FIXED_LESSON
        and params.get("day", 99) < len(p.days)
        and params.get("period", 99) < len(p.periods)
    ):
        parts.append(f"{p.days[params['day']]} {p.periods[params['period']]['name']}")
    return " ".join(x for x in [rule.label if rule.kind == RuleKind.FIXED_LESSON else "", *parts] if x)


@login_required
@require_POST
def rule_delete(request: HttpRequest, plan_id: int, rule_id: int) -> HttpResponse:
    p = _plan(request, plan_id)
    try:
        services.delete_rule(actor=request.user, plan_id=p.pk, rule_id=rule_id)
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        show_errors(request, exc)
    return redirect(request.POST.get("next") or reverse("timetable:rules", args=[p.pk]))


# --- solving ----------------------------------------------------------------------------------------------


@login_required
def solve(request: HttpRequest, plan_id: int) -> HttpResponse:
    p = _plan(request, plan_id)
    if request.method == "POST":
        try:
            r = services.start_solve(
                actor=request.user,
                plan_id=p.pk,
                time_limit=_int(request.POST.get("time_limit"), 60),
                mode=request.POST.get("mode", RunMode.FULL),
            )
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            show_errors(request, exc)
            return redirect("timetable:solve", plan_id=p.pk)
        return redirect("timetable:run", run_id=r.pk)
    return render(
        request,
        "timetable/solve.html",
        {**_plan_context(p, "solve"), "runs": p.runs.all()[:20], "max_limit": services.MAX_TIME_LIMIT},
    )


def _run(request: HttpRequest, run_id: int) -> Any:
    r = selectors.run_for(actor=request.user, run_id=run_id)
    if r is None:
        raise Http404
    return r


def _run_context(r: Any) -> dict[str, Any]:
    report = r.report or {}
    moved: list[str] = []
    if report.get("moved"):
        moved = presenters.describe_moves(snapshots.problem_from_json(r.problem), report["moved"])
    return {
        "run": r,
        "report": report,
        "moved": moved,
        "soft": report.get("soft_violations", [])[:50],
        "hard": report.get("hard_violations", [])[:50],
        "explanation": report.get("explanation", []),
    }


@login_required
@require_GET
def run(request: HttpRequest, run_id: int) -> HttpResponse:
    r = _run(request, run_id)
    return render(request, "timetable/run.html", {**_plan_context(r.plan, "solve"), **_run_context(r)})


@login_required
@require_GET
def run_status(request: HttpRequest, run_id: int) -> HttpResponse:
    """htmx: the progress panel, polled every second until the run has finished."""
    r = _run(request, run_id)
    return render(request, "timetable/run_status.html", {"plan": r.plan, **_run_context(r)})


@login_required
@require_POST
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    r = _run(request, run_id)
    try:
        services.cancel_solve(actor=request.user, run_id=r.pk)
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("已请求取消"))
    return redirect("timetable:run", run_id=r.pk)


# --- the working timetable -----------------------------------------------------------------------------


def _locked(p: TimetablePlan) -> set[int]:
    return {r.params.get("activity") for r in p.rules.filter(kind=RuleKind.FIXED_LESSON)}


@login_required
@require_GET
def timetable(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The working timetable by class, teacher or room; pick a lesson to move it (or swap it) with a live check."""
    p = _plan(request, plan_id)
    context: dict[str, Any] = _plan_context(p, "timetable")
    if p.placements is None or p.problem is None:
        return render(request, "timetable/timetable.html", {**context, "shown": None})
    locked = _locked(p)
    shown = selectors.shown(
        problem_json=p.problem,
        placements=p.placements,
        shape=selectors.shape_of(p),
        by=request.GET.get("by", "class"),
        name=request.GET.get("name", ""),
        locked=locked,
    )
    pick = _int(request.GET.get("pick")) or None
    picked = None
    if pick is not None and pick in shown.problem._by_id() and pick in shown.solution.placements:
        a = shown.problem.activity(pick)
        where = shown.solution.placements[pick]
        picked = {"id": pick, "label": f"{'、'.join(a.students)} {a.subject}", "day": where.day, "period": where.period}
    back = reverse("timetable:timetable", args=[p.pk]) + "?" + urlencode({"by": shown.by, "name": shown.name})
    return render(
        request,
        "timetable/timetable.html",
        {
            **context,
            "shown": shown,
            "names": shown.choices.get(shown.by, []),
            "back": back,
            "picked": picked,
            "locked": pick in locked if pick else False,
            "report": p.report or {},
            "by_labels": {"class": _("班级"), "teacher": _("教师"), "room": _("教室")},
        },
    )


@login_required
def move(request: HttpRequest, plan_id: int) -> HttpResponse:
    """GET: the conflicts a move or swap would add, in words (htmx panel); POST: save it (audited)."""
    p = _plan(request, plan_id)
    data = request.POST if request.method == "POST" else request.GET
    activity = _int(data.get("activity"), -1)
    swap = _int(data.get("swap")) or None
    day, period = _int(data.get("day"), -1), _int(data.get("period"), -1)
    back = data.get("back") or reverse("timetable:timetable", args=[p.pk])
    if request.method == "POST":
        try:
            services.move_lesson(
                actor=request.user, plan_id=p.pk, activity_id=activity, day=day, period=period, swap_with=swap
            )
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, _("已调课"))
        return redirect(back)
    try:
        check = services.check_move(
            actor=request.user, plan_id=p.pk, activity_id=activity, day=day, period=period, swap_with=swap
        )
        error = ""
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        check, error = None, str(exc)
    problem = snapshots.problem_from_json(p.problem) if p.problem else None
    context = {
        "plan": p,
        "check": check,
        "error": error,
        "back": back,
        "swap": swap,
        "label": services.activity_label(check.activity) if check else "",
        "other_label": services.activity_label(check.other) if check and check.other else "",
        "target": services.when(problem, check.to.day, check.to.period) if check and problem else "",
        "other_target": services.when(problem, check.other_to.day, check.other_to.period)
        if check and problem and check.other_to
        else "",
    }
    template = "timetable/move_panel.html" if request.htmx else "timetable/move.html"  # type: ignore[attr-defined]
    return render(request, template, {**_plan_context(p, "timetable"), **context})


@login_required
@require_POST
def lock(request: HttpRequest, plan_id: int) -> HttpResponse:
    p = _plan(request, plan_id)
    try:
        services.lock_lesson(
            actor=request.user,
            plan_id=p.pk,
            activity_id=_int(request.POST.get("activity"), -1),
            locked=request.POST.get("locked") == "1",
        )
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        show_errors(request, exc)
    return redirect(request.POST.get("back") or reverse("timetable:timetable", args=[p.pk]))


@login_required
@require_POST
def publish(request: HttpRequest, plan_id: int) -> HttpResponse:
    p = _plan(request, plan_id)
    try:
        v = services.publish(actor=request.user, plan_id=p.pk, note=request.POST.get("note", ""))
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        show_errors(request, exc)
        return redirect("timetable:plan", plan_id=p.pk)
    messages.success(request, _("已发布第 {n} 版，教师、学生和家长可在“我的课表”查看").format(n=v.number))
    return redirect("timetable:version", version_id=v.pk)


# --- published versions --------------------------------------------------------------------------------


@login_required
@require_GET
def version(request: HttpRequest, version_id: int) -> HttpResponse:
    v = selectors.version_for(actor=request.user, version_id=version_id)
    if v is None:
        raise Http404
    shown = selectors.shown(
        problem_json=v.problem,
        placements=v.placements,
        shape=selectors.shape_of(v.plan),
        by=request.GET.get("by", "class"),
        name=request.GET.get("name", ""),
    )
    return render(
        request,
        "timetable/version.html",
        {
            "v": v,
            "shown": shown,
            "names": shown.choices.get(shown.by, []),
            "managed": selectors.plan_for_manager(actor=request.user, plan_id=v.plan_id) is not None,
            "others": v.plan.versions.all()[:20],
            "by_labels": {"class": _("班级"), "teacher": _("教师"), "room": _("教室")},
        },
    )


@login_required
@require_GET
def version_export(request: HttpRequest, version_id: int, fmt: str) -> HttpResponse:
    v = selectors.version_for(actor=request.user, version_id=version_id)
    if v is None or fmt not in ("xlsx", "pdf", "ics"):
        raise Http404
    by = request.GET.get("by", "class")
    name = request.GET.get("name", "")
    if fmt == "ics":
        by = "teacher"
    try:
        download = selectors.export_version(version=v, fmt=fmt, by=by, name=name)
    except exports.ExportError as exc:
        messages.error(request, str(exc))
        return redirect(reverse("timetable:version", args=[v.pk]) + f"?by={by}")
    response = HttpResponse(download.data, content_type=download.content_type)
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return response


# --- 我的课表 --------------------------------------------------------------------------------------------


@login_required
@require_GET
def my(request: HttpRequest) -> HttpResponse:
    """Teachers their lessons (and covers), students and guardians the child's class with his teaching classes."""
    actor = request.user
    is_staff = getattr(actor, "kind", "") == "staff"
    return render(
        request,
        "timetable/my.html",
        {
            "timetables": selectors.my_timetables(actor=actor),
            "covers": selectors.my_covers(actor=actor) if is_staff else [],
            "is_staff": is_staff,
        },
    )


@login_required
@require_GET
def my_calendar(request: HttpRequest) -> HttpResponse:
    try:
        download = selectors.my_calendar(actor=request.user)
    except exports.ExportError as exc:
        messages.error(request, str(exc))
        return redirect("timetable:my")
    if download is None:
        raise Http404
    response = HttpResponse(download.data, content_type=download.content_type)
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return response


# --- substitutions ----------------------------------------------------------------------------------------


@login_required
@require_GET
def substitutions(request: HttpRequest) -> HttpResponse:
    """Lessons of teachers on approved leave, with free colleagues proposed (same subject first)."""
    if not selectors.manageable_school_ids(request.user):
        raise PermissionDenied
    rows = list(selectors.substitutions_managed_by(actor=request.user)[:300])
    names = people_selectors.staff_choices_for(
        account_ids={r.absent_teacher_id for r in rows} | {r.substitute_id for r in rows if r.substitute_id}
    )
    return render(
        request,
        "timetable/substitutions.html",
        {
            "rows": [
                {
                    "sub": r,
                    "absent": names.get(r.absent_teacher_id, ""),
                    "substitute": names.get(r.substitute_id or 0, ""),
                    "candidates": services.substitute_candidates(r) if r.status == SubstitutionStatus.OPEN else [],
                }
                for r in rows
            ]
        },
    )


@login_required
@require_POST
def substitution_assign(request: HttpRequest, substitution_id: int) -> HttpResponse:
    sub = selectors.substitution_for(actor=request.user, substitution_id=substitution_id)
    if sub is None:
        raise Http404
    try:
        services.assign_substitute(
            actor=request.user, substitution_id=sub.pk, substitute_id=_int(request.POST.get("substitute"))
        )
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("已安排代课并通知代课教师"))
    return redirect("timetable:substitutions")
