"""Reads of timetables, scoped to the actor: staff of a school see its published timetables (timetable.view),
managers (timetable.manage: the school admin, the head of 教务处) its plans; teachers, students and guardians
their own timetable on 我的课表."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from zhixiao.kernel import permissions, school_calendar
from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors

from . import exports, presenters, services, snapshots
from .engine.result import placements_from_json
from .models import SolveRun, Substitution, SubstitutionStatus, TimetablePlan, TimetableVersion


def manageable_school_ids(actor: Any) -> list[int]:
    """Schools in which the actor may create and manage timetable plans."""
    if not permissions.has_any(actor, permissions.MANAGE_TIMETABLE):
        return []
    candidates = org_selectors.schools_where(actor=actor, action=permissions.MANAGE_TIMETABLE).values_list(
        "pk", flat=True
    )
    return [pk for pk in candidates if services.may_manage_school(actor, pk)]


def may_use(actor: Any) -> bool:
    """Is the 排课 page for this person (menu entry)?"""
    return getattr(actor, "kind", "") not in ("guardian", "student") and (
        permissions.has_any(actor, permissions.VIEW_TIMETABLE) or bool(manageable_school_ids(actor))
    )


def plans_managed_by(*, actor: Any) -> QuerySet[TimetablePlan]:
    return TimetablePlan.objects.filter(permissions.scope_q(actor, permissions.MANAGE_TIMETABLE, TimetablePlan))


def _view_q(actor: Any) -> Q:
    schools = org_selectors.schools_where(actor=actor, action=permissions.VIEW_TIMETABLE).values("pk")
    return Q(school_id__in=schools)


def plans_visible_to(*, actor: Any) -> QuerySet[TimetablePlan]:
    """Plans a manager manages, and the published plans of the schools whose timetables the actor may view."""
    managed = permissions.scope_q(actor, permissions.MANAGE_TIMETABLE, TimetablePlan)
    published = _view_q(actor) & Q(versions__isnull=False)
    return TimetablePlan.objects.filter(managed | published).distinct().select_related("school", "term").order_by("-pk")


def plan_for_manager(*, actor: Any, plan_id: int) -> TimetablePlan | None:
    return plans_managed_by(actor=actor).filter(pk=plan_id).select_related("school", "term").first()


def plan_seen_by(*, actor: Any, plan_id: int) -> bool:
    """Whether the plan exists for the actor at all (refuse with 403 rather than 404)."""
    return TimetablePlan.objects.filter(_view_q(actor), pk=plan_id).exists()


def versions_visible_to(*, actor: Any) -> QuerySet[TimetableVersion]:
    managed = permissions.scope_q(actor, permissions.MANAGE_TIMETABLE, TimetableVersion)
    return TimetableVersion.objects.filter(managed | _view_q(actor)).select_related("plan", "school")


def version_for(*, actor: Any, version_id: int) -> TimetableVersion | None:
    return versions_visible_to(actor=actor).filter(pk=version_id).first()


def run_for(*, actor: Any, run_id: int) -> SolveRun | None:
    return (
        SolveRun.objects.filter(permissions.scope_q(actor, permissions.MANAGE_TIMETABLE, SolveRun), pk=run_id)
        .select_related("plan")
        .first()
    )


def substitutions_managed_by(*, actor: Any, since: dt.date | None = None) -> QuerySet[Substitution]:
    since = since or timezone.localdate()
    return (
        Substitution.objects.filter(
            permissions.scope_q(actor, permissions.MANAGE_TIMETABLE, Substitution), date__gte=since
        )
        .exclude(status=SubstitutionStatus.CANCELLED)
        .select_related("version", "absent_teacher", "substitute")
        .order_by("date", "period", "pk")
    )


def substitution_for(*, actor: Any, substitution_id: int) -> Substitution | None:
    return (
        Substitution.objects.filter(
            permissions.scope_q(actor, permissions.MANAGE_TIMETABLE, Substitution), pk=substitution_id
        )
        .select_related("version")
        .first()
    )


# --- grids ---------------------------------------------------------------------------------------------


@dataclass
class Shown:
    """A timetable shown by one class, teacher or room, with the choices of what else to show it by."""

    by: str
    name: str
    grid: presenters.Grid | None
    choices: dict[str, list[str]]
    problem: Any = None
    solution: Any = None


def shown(
    *, problem_json: dict[str, Any], placements: dict[str, Any], shape: dict[str, Any], by: str, name: str, locked=()
) -> Shown:
    problem = snapshots.problem_from_json(problem_json)
    solution = placements_from_json(placements)
    choices = presenters.entities(problem, solution)
    if by not in choices:
        by = "class"
    if name not in choices[by]:
        name = choices[by][0] if choices[by] else ""
    include = {
        "class": lambda: presenters.for_set(problem, name),
        "teacher": lambda: presenters.for_teachers([name]),
        "room": lambda: presenters.for_room(name),
    }[by]()
    grid = presenters.week_grid(problem, solution, include, shape=shape, locked=locked) if name else None
    return Shown(by, name, grid, choices, problem, solution)


def shape_of(plan: TimetablePlan) -> dict[str, Any]:
    return {"periods": plan.periods, "breaks": plan.breaks}


# --- 我的课表 -------------------------------------------------------------------------------------------


@dataclass
class MyTimetable:
    title: str
    version: TimetableVersion
    grid: presenters.Grid

    @property
    def has_times(self) -> bool:
        """Whether every period has its clock times (an iCalendar feed needs them)."""
        periods = self.version.plan.periods
        return bool(periods) and all(p.get("start") and p.get("end") for p in periods)


def _student_timetables(student: Any, title: str) -> list[MyTimetable]:
    out = []
    for version in services.current_versions(student.school_id):
        problem = snapshots.problem_from_json(version.problem)
        classes = [n for n, cid in version.links.get("classes", {}).items() if cid == student.admin_class_id]
        teaching = [n for n, ids in version.links.get("teaching_classes", {}).items() if student.pk in ids]
        if not classes and not teaching:
            continue
        grid = presenters.week_grid(
            problem,
            placements_from_json(version.placements),
            presenters.for_student(problem, classes, teaching),
            shape=shape_of(version.plan),
        )
        out.append(MyTimetable(title, version, grid))
    return out


def my_timetables(*, actor: Any) -> list[MyTimetable]:
    """A teacher's own lessons (and the lessons he covers); a student's, or each child's of a guardian,
    with the teaching classes (教学班) he is in. Only published versions."""
    kind = getattr(actor, "kind", "")
    out: list[MyTimetable] = []
    if kind == "guardian":
        for child in people_selectors.children_of(actor=actor).order_by("pk"):
            out.extend(_student_timetables(child, child.name))
    elif kind == "student":
        own = people_selectors.student_of_account(actor.pk)
        if own is not None:
            out.extend(_student_timetables(own, own.name))
    elif kind == "staff":
        staff = people_selectors.staff_by_account(actor.pk)
        if staff is None:
            return out
        for version in services.current_versions(staff.school_id):
            names = [n for n, account in version.links.get("teachers", {}).items() if account == actor.pk]
            if not names:
                continue
            problem = snapshots.problem_from_json(version.problem)
            grid = presenters.week_grid(
                problem,
                placements_from_json(version.placements),
                presenters.for_teachers(names),
                shape=shape_of(version.plan),
            )
            out.append(MyTimetable(staff.name, version, grid))
    return out


def my_covers(*, actor: Any) -> list[Substitution]:
    """The lessons a teacher covers for colleagues on leave, from today on."""
    return list(
        Substitution.objects.filter(
            substitute_id=actor.pk, status=SubstitutionStatus.ASSIGNED, date__gte=timezone.localdate()
        )
        .select_related("absent_teacher")
        .order_by("date", "period")[:50]
    )


# --- files: Excel, PDF, iCalendar ------------------------------------------------------------------------


@dataclass
class Download:
    data: bytes
    content_type: str
    filename: str


def _period_times(plan: TimetablePlan, problem: Any) -> exports.PeriodTimes | None:
    periods = plan.periods
    if len(periods) != problem.n_periods or not all(p.get("start") and p.get("end") for p in periods):
        return None
    return exports.PeriodTimes.parse([f"{p['start']}-{p['end']}" for p in periods], names=[p["name"] for p in periods])


def _term(plan: TimetablePlan, problem: Any) -> exports.Term:
    term = plan.term or org_selectors.current_term(school_id=plan.school_id)
    if term is None:
        raise exports.ExportError("学校还没有设置学期，无法生成日历")
    overrides = org_selectors.calendar_overrides(school_id=plan.school_id)
    holidays = set()
    makeup: dict[dt.date, int] = {}  # 调休/补课: a date that takes another weekday's lessons
    day = term.starts_on
    while day <= term.ends_on:
        own = services.day_index(problem.days, day)
        weekday = school_calendar.school_day(day, overrides=overrides).timetable_weekday
        taught = services.weekday_index(problem.days, weekday)
        if taught is None:
            if own is not None:
                holidays.add(day)
        elif weekday != day.weekday() or own is None:
            makeup[day] = taught
        day += dt.timedelta(days=1)
    return exports.Term(term.starts_on, term.ends_on, holidays=frozenset(holidays), makeup_days=makeup)


def export_version(*, version: TimetableVersion, fmt: str, by: str, name: str = "") -> Download:
    """A published timetable as Excel (all by class, teacher or room), PDF, or a teacher's iCalendar."""
    problem = snapshots.problem_from_json(version.problem)
    solution = placements_from_json(version.placements)
    plan = version.plan
    if by not in exports.BY_CHOICES:
        raise exports.ExportError("未知的查看方式")
    names = [name] if name else None
    base = f"timetable-{version.plan_id}-v{version.number}-{by}"
    if fmt == "xlsx":
        data = exports.to_xlsx(problem, solution, by=by, times=_period_times(plan, problem), names=names)  # type: ignore[arg-type]
        return Download(data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f"{base}.xlsx")
    if fmt == "pdf":
        data = exports.to_pdf(problem, solution, by=by, times=_period_times(plan, problem), names=names)  # type: ignore[arg-type]
        return Download(data, "application/pdf", f"{base}.pdf")
    if fmt == "ics":
        return Download(_calendar(version, problem, solution, name), "text/calendar; charset=utf-8", f"{base}.ics")
    raise exports.ExportError("未知的文件格式")


def _calendar(version: TimetableVersion, problem: Any, solution: Any, teacher: str) -> bytes:
    times = _period_times(version.plan, problem)
    if times is None:
        raise exports.ExportError("方案还没有填写每节课的起止时间，无法生成日历")
    text = exports.to_ics(problem, solution, teacher=teacher, times=times, term=_term(version.plan, problem))
    return text.encode("utf-8")


def my_calendar(*, actor: Any) -> Download | None:
    """A teacher's own lessons of the current published timetables as an iCalendar feed (None: he has none)."""
    staff = people_selectors.staff_by_account(getattr(actor, "pk", 0) or 0)
    if staff is None:
        return None
    for version in services.current_versions(staff.school_id):
        names = [n for n, account in version.links.get("teachers", {}).items() if account == actor.pk]
        if names:
            problem = snapshots.problem_from_json(version.problem)
            solution = placements_from_json(version.placements)
            data = _calendar(version, problem, solution, names[0])
            return Download(data, "text/calendar; charset=utf-8", f"timetable-{staff.staff_no}.ics")
    return None
