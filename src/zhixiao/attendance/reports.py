"""Reads for the live board and the attendance reports, always from the actor's scope.

Every count is one grouped query in the database (COUNT … FILTER per status), however many students a
school has; Python only names and orders the few dozen groups that come back. The attendance rate is
(出勤 + 迟到 + 早退) / 应到, where 应到 is the day records on the school's school days."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixiao.kernel import permissions
from zhixiao.kernel.permissions import VIEW_ATTENDANCE, Role, Scope
from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors

from .models import AttendanceDay, DayStatus, DormStatus, GateEvent, GatePass

ATTENDED = (DayStatus.PRESENT, DayStatus.LATE, DayStatus.LEFT_EARLY)
FEED_SIZE = 30
LIST_SIZE = 200  # the absent and chronic-absence lists: enough for a school's day, bounded for a page
# Guardians and students see their own child's days elsewhere; the board and the reports are for staff.
_FAMILY_ROLES = frozenset({Role.GUARDIAN, Role.STUDENT})


def may_watch(actor: Any) -> bool:
    """May the actor open the board and the reports (staff holding attendance.view somewhere)?"""
    return any(g.allows(VIEW_ATTENDANCE) and g.role not in _FAMILY_ROLES for g in permissions.grants_of(actor))


def schools_watched(*, actor: Any) -> Any:
    """The schools whose board the actor may open (several for a bureau officer)."""
    return org_selectors.schools_where(actor=actor, action=VIEW_ATTENDANCE)


def school_for(*, actor: Any, school_id: int | None) -> Any:
    """The school a page is about: the one asked for among those watched, else the actor's own, else the
    first; None when there is none."""
    schools = schools_watched(actor=actor)
    if school_id is not None:
        return schools.filter(pk=school_id).first()
    home = people_selectors.home_school_id(actor)
    return (schools.filter(pk=home).first() if home else None) or schools.first()


# --- counts -----------------------------------------------------------------------------------------------
@dataclass
class Counts:
    expected: int = 0
    present: int = 0
    late: int = 0
    absent: int = 0
    on_leave: int = 0
    left_early: int = 0
    pending: int = 0
    not_back: int = 0

    @property
    def attended(self) -> int:
        return self.present + self.late + self.left_early

    @property
    def rate(self) -> float | None:
        return self.attended / self.expected if self.expected else None

    @property
    def rate_text(self) -> str:
        return "—" if self.rate is None else f"{self.rate * 100:.1f}%"


_COUNT_FIELDS = ("expected", "present", "late", "absent", "on_leave", "left_early", "pending", "not_back")


def _count_annotations() -> dict[str, Any]:
    return {
        "expected": Count("pk"),
        "present": Count("pk", filter=Q(status=DayStatus.PRESENT)),
        "late": Count("pk", filter=Q(status=DayStatus.LATE)),
        "absent": Count("pk", filter=Q(status=DayStatus.ABSENT)),
        "on_leave": Count("pk", filter=Q(status=DayStatus.ON_LEAVE)),
        "left_early": Count("pk", filter=Q(status=DayStatus.LEFT_EARLY)),
        "pending": Count("pk", filter=Q(status=DayStatus.PENDING)),
        "not_back": Count("pk", filter=Q(dorm_status=DormStatus.NOT_BACK)),
    }


def _counts(row: dict[str, Any]) -> Counts:
    return Counts(**{k: row[k] or 0 for k in _COUNT_FIELDS})


@dataclass
class Row:
    """One line of a table: a grade, a class, or a day."""

    key: Any
    label: str
    counts: Counts
    grade_id: int | None = None
    grade_label: str = ""


@dataclass
class Summary:
    total: Counts
    grades: list[Row] = field(default_factory=list)
    classes: list[Row] = field(default_factory=list)


def days_visible_to(*, actor: Any, school_id: int) -> QuerySet[AttendanceDay]:
    return AttendanceDay.objects.filter(permissions.scope_q(actor, VIEW_ATTENDANCE, AttendanceDay), school_id=school_id)


def events_visible_to(*, actor: Any, school_id: int) -> QuerySet[GateEvent]:
    return GateEvent.objects.filter(permissions.scope_q(actor, VIEW_ATTENDANCE, GateEvent), school_id=school_id)


def school_year_start(date: dt.date) -> int:
    return date.year if date.month >= 8 else date.year - 1


def grade_labels(*, actor: Any, school_id: int, year_start: int | None = None) -> dict[int, str]:
    """高一, 高二… in the school's order, as called in the school year starting in `year_start` (default: the
    current one), so that a report on last June names the grades as they were called then."""
    year = year_start if year_start is not None else org_selectors.current_school_year_start(school_id=school_id)
    return {g.pk: g.level_name(year) for g in org_selectors.grades_of(actor=actor, school_id=school_id)}


def class_labels(*, actor: Any, school_id: int, ids: Iterable[int | None]) -> dict[int, str]:
    """Class names in the school's order. A guard reads attendance without reading the class list, so the
    names the gate passes carry (attendance's own, school-scoped table) fill in what the org list lacks."""
    wanted = {i for i in ids if i is not None}
    names: dict[int, str] = {}
    if not wanted:
        return names
    for pk, name in (
        org_selectors.classes_visible_to(actor=actor, school_id=school_id)
        .filter(pk__in=wanted)
        .select_related(None)
        .values_list("pk", "name")
    ):
        names[pk] = name
    missing = wanted - set(names)
    if missing:
        passes = (
            GatePass.objects.filter(
                permissions.scope_q(actor, VIEW_ATTENDANCE, GatePass), school_id=school_id, admin_class_id__in=missing
            )
            .exclude(class_name="")
            .values_list("admin_class_id", "class_name")
            .order_by("class_name")
            .distinct()
        )
        extra = {pk: name for pk, name in passes if pk is not None}
        names.update(dict(sorted(extra.items(), key=lambda kv: kv[1])))
    for pk in sorted(wanted - set(names)):
        names[pk] = _("班级 {id}").format(id=pk)
    return names


def summarise(*, actor: Any, days: QuerySet[AttendanceDay], school_id: int, year_start: int | None = None) -> Summary:
    """School, grade and class counts of the given (already scoped) day records: three grouped queries."""
    total = _counts(days.aggregate(**_count_annotations()))
    by_grade = list(days.values("grade_id").annotate(**_count_annotations()).order_by())
    by_class = list(days.values("admin_class_id", "grade_id").annotate(**_count_annotations()).order_by())
    grades: dict[Any, str] = grade_labels(actor=actor, school_id=school_id, year_start=year_start)
    grade_order: dict[Any, int] = {pk: i for i, pk in enumerate(grades)}
    classes: dict[Any, str] = class_labels(
        actor=actor, school_id=school_id, ids=(r["admin_class_id"] for r in by_class)
    )
    class_order: dict[Any, int] = {pk: i for i, pk in enumerate(classes)}
    unknown = _("未分班")
    grade_rows = sorted(
        (Row(r["grade_id"], grades.get(r["grade_id"], unknown), _counts(r), r["grade_id"]) for r in by_grade),
        key=lambda row: (grade_order.get(row.key, len(grade_order)), row.label),
    )
    class_rows = sorted(
        (
            Row(
                r["admin_class_id"],
                classes.get(r["admin_class_id"], unknown),
                _counts(r),
                r["grade_id"],
                grades.get(r["grade_id"], ""),
            )
            for r in by_class
        ),
        key=lambda row: (
            grade_order.get(row.grade_id, len(grade_order)),
            class_order.get(row.key, len(class_order)),
            row.label,
        ),
    )
    return Summary(total=total, grades=grade_rows, classes=class_rows)


# --- the live board -----------------------------------------------------------------------------------------
def board_summary(*, actor: Any, school_id: int, date: dt.date | None = None) -> Summary:
    date = date or timezone.localdate()
    return summarise(
        actor=actor, days=days_visible_to(actor=actor, school_id=school_id).filter(date=date), school_id=school_id
    )


def _day_bounds(date: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(date, dt.time.min))
    return start, start + dt.timedelta(days=1)


def gate_feed(*, actor: Any, school_id: int, limit: int = FEED_SIZE) -> list[dict[str, Any]]:
    """The latest passages, newest first (off the (school, -occurred_at) index)."""
    return [
        dict(row)
        for row in (
            events_visible_to(actor=actor, school_id=school_id)
            .order_by("-occurred_at", "-id")
            .values(
                "id",
                "occurred_at",
                "name",
                "class_name",
                "direction",
                "device_id",
                "device_kind",
                "flag",
                "student_id",
                "staff_id",
                "credential",
            )[:limit]
        )
    ]


def anomalies(
    *, actor: Any, school_id: int, date: dt.date | None = None, limit: int = FEED_SIZE
) -> list[dict[str, Any]]:
    """Today's passages by credentials that name nobody (a lost card, a stranger's face). Only school-wide
    readers see them: such a passage belongs to no grade or class."""
    start, end = _day_bounds(date or timezone.localdate())
    return [
        dict(row)
        for row in (
            events_visible_to(actor=actor, school_id=school_id)
            .filter(student_id__isnull=True, staff_id__isnull=True, occurred_at__gte=start, occurred_at__lt=end)
            .order_by("-occurred_at", "-id")
            .values("id", "occurred_at", "credential", "direction", "device_id", "device_kind", "flag")[:limit]
        )
    ]


def sees_whole_school(actor: Any, school_id: int) -> bool:
    """Does the actor read the attendance of the whole school (guard, principal, admin, bureau)?"""
    for g in permissions.grants_of(actor):
        if not g.allows(VIEW_ATTENDANCE):
            continue
        if g.scope is Scope.SYSTEM or g.scope is Scope.REGION or (g.scope is Scope.SCHOOL and g.key == school_id):
            return True
    return False


def absent_without_leave(*, actor: Any, school_id: int, date: dt.date | None = None) -> list[dict[str, Any]]:
    """Students marked absent today (absent means no approved leave covers the day)."""
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in (
            days_visible_to(actor=actor, school_id=school_id)
            .filter(date=date or timezone.localdate(), status=DayStatus.ABSENT)
            .order_by("admin_class_id", "student__name")
            .values("student_id", "student__name", "admin_class_id", "alerted", "corrected")[:LIST_SIZE]
        )
    ]
    names: dict[Any, str] = class_labels(actor=actor, school_id=school_id, ids=(r["admin_class_id"] for r in rows))
    for r in rows:
        r["class_name"] = names.get(r["admin_class_id"], "")
    return rows


# --- reports ------------------------------------------------------------------------------------------------
PERIODS = ("day", "week", "month")
LEVELS = ("class", "grade")


def period_bounds(kind: str, date: dt.date) -> tuple[dt.date, dt.date]:
    """The day, its Monday-to-Sunday week, or its calendar month."""
    if kind == "week":
        start = date - dt.timedelta(days=date.weekday())
        return start, start + dt.timedelta(days=6)
    if kind == "month":
        return date.replace(day=1), date.replace(day=calendar.monthrange(date.year, date.month)[1])
    return date, date


def school_days(*, actor: Any, school_id: int, start: dt.date, end: dt.date) -> list[dt.date]:
    """The school's school days in [start, end]: holidays, 调休, the school's own days and its vacations."""
    days: list[dt.date] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        for day in org_selectors.calendar_month(actor=actor, school_id=school_id, year=year, month=month):
            if start <= day.date <= end and day.is_school_day:
                days.append(day.date)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return days


@dataclass
class Report:
    start: dt.date
    end: dt.date
    school_days: list[dt.date]
    summary: Summary
    daily: list[Row]
    year_start: int | None = None  # the school year the grades are named in (None: the current one)


def report(*, actor: Any, school_id: int, start: dt.date, end: dt.date, grade_id: int | None = None) -> Report:
    """Counts per grade and class over the school days of a period, and the rate of each of those days."""
    on = school_days(actor=actor, school_id=school_id, start=start, end=end)
    days = _period_days(actor=actor, school_id=school_id, on=on, grade_id=grade_id)
    this_year = school_year_start(timezone.localdate())
    year = school_year_start(end) if school_year_start(end) != this_year else None  # None: the school's own
    summary = summarise(actor=actor, days=days, school_id=school_id, year_start=year)
    per_day = {r["date"]: _counts(r) for r in days.values("date").annotate(**_count_annotations()).order_by()}
    daily = [Row(d, d.strftime("%m-%d"), per_day.get(d, Counts())) for d in on]
    return Report(start=start, end=end, school_days=on, summary=summary, daily=daily, year_start=year)


def _period_days(*, actor: Any, school_id: int, on: list[dt.date], grade_id: int | None) -> QuerySet[AttendanceDay]:
    days = days_visible_to(actor=actor, school_id=school_id).filter(date__in=on)
    if grade_id is not None:
        days = days.filter(grade_id=grade_id)
    return days


def chronic_absence(
    *,
    actor: Any,
    school_id: int,
    start: dt.date,
    end: dt.date,
    min_absent: int = 3,
    below_percent: int | None = None,
    grade_id: int | None = None,
) -> list[dict[str, Any]]:
    """Students absent on at least `min_absent` school days of the period, or (when asked) whose rate is
    below `below_percent`; most absences first. Grouped per student in the database."""
    on = school_days(actor=actor, school_id=school_id, start=start, end=end)
    grouped = (
        _period_days(actor=actor, school_id=school_id, on=on, grade_id=grade_id)
        .values("student_id", "student__name", "admin_class_id")
        .annotate(
            expected=Count("pk"),
            absent=Count("pk", filter=Q(status=DayStatus.ABSENT)),
            on_leave=Count("pk", filter=Q(status=DayStatus.ON_LEAVE)),
            attended=Count("pk", filter=Q(status__in=ATTENDED)),
        )
    )
    wanted = Q(absent__gte=max(min_absent, 1))
    if below_percent is not None:
        # attended / expected < p %  ⇔  100 · attended − p · expected < 0 (integers, no division in SQL)
        grouped = grouped.alias(shortfall=F("attended") * 100 - F("expected") * below_percent)
        wanted |= Q(shortfall__lt=0)
    rows = list(grouped.filter(wanted).order_by("-absent", "attended", "admin_class_id", "student__name")[:LIST_SIZE])
    names: dict[Any, str] = class_labels(actor=actor, school_id=school_id, ids=(r["admin_class_id"] for r in rows))
    for r in rows:
        r["class_name"] = names.get(r["admin_class_id"], "")
        r["rate"] = r["attended"] / r["expected"] if r["expected"] else None
        r["rate_text"] = "—" if r["rate"] is None else f"{r['rate'] * 100:.1f}%"
    return rows


def table(rep: Report, level: str) -> tuple[list[str], list[list[Any]]]:
    """The report's table as headers and rows (the page and the Excel file show the same), total last."""
    by_class = level != "grade"
    headers = [_("班级"), _("年级")] if by_class else [_("年级")]
    headers += [_("应到人次"), _("出勤"), _("迟到"), _("早退"), _("缺勤"), _("请假"), _("出勤率（%）")]
    rows: list[list[Any]] = []
    for row in rep.summary.classes if by_class else rep.summary.grades:
        name = [row.label, row.grade_label] if by_class else [row.label]
        rows.append(name + _numbers(row.counts))
    total = [_("合计"), ""] if by_class else [_("合计")]
    rows.append(total + _numbers(rep.summary.total))
    return headers, rows


def _numbers(c: Counts) -> list[Any]:
    rate = None if c.rate is None else round(c.rate * 100, 1)
    return [c.expected, c.present, c.late, c.left_early, c.absent, c.on_leave, rate]
