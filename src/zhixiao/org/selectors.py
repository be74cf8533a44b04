"""Reads of the school structure, always from the actor's scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from zhixiao.kernel import permissions, school_calendar
from zhixiao.kernel.permissions import Grant, Role, Scope

from .models import AdminClass, CalendarDay, Campus, Department, Grade, School, SchoolYear, Subject, Term


def homeroom_grants(actor: Any) -> Iterator[Grant]:
    """Grant provider: a homeroom teacher holds her class."""
    if not getattr(actor, "pk", None) or getattr(actor, "kind", None) != "staff":
        return
    for cls in AdminClass.objects.filter(homeroom_teacher_id=actor.pk).only("id", "school_id", "name"):
        yield Grant(role=Role.HOMEROOM_TEACHER, scope=Scope.CLASS, key=cls.pk, school_id=cls.school_id, label=cls.name)


def school_ids_in_region(prefix: str) -> Iterable[int]:
    return School.objects.filter(division_code__startswith=prefix).values_list("id", flat=True)


def schools_visible_to(*, actor: Any) -> QuerySet[School]:
    return School.objects.filter(permissions.scope_q(actor, permissions.VIEW_SCHOOL, School))


def schools_where(*, actor: Any, action: str) -> QuerySet[School]:
    """Schools in which the actor may do `action` to something."""
    return School.objects.filter(permissions.scope_q(actor, action, School))


def schools_managed_by(*, actor: Any) -> QuerySet[School]:
    return School.objects.filter(permissions.scope_q(actor, permissions.MANAGE_SCHOOL, School))


def school_by_code(code: str) -> School | None:
    return School.objects.filter(code=code).first()


def classes_visible_to(*, actor: Any, school_id: int | None = None) -> QuerySet[AdminClass]:
    qs = AdminClass.objects.filter(permissions.scope_q(actor, permissions.VIEW_CLASS, AdminClass))
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    return qs.select_related("grade", "school", "homeroom_teacher")


def class_for(*, actor: Any, class_id: int) -> AdminClass | None:
    return classes_visible_to(actor=actor).filter(pk=class_id).first()


def grades_of(*, actor: Any, school_id: int) -> QuerySet[Grade]:
    return (
        Grade.objects.filter(permissions.scope_q(actor, permissions.VIEW_SCHOOL, Grade), school_id=school_id)
        .annotate(class_count=Count("classes"))
        .order_by("stage", "-entry_year")
    )


def _of_school(model: Any, actor: Any, school_id: int) -> QuerySet[Any]:
    return model.objects.filter(permissions.scope_q(actor, permissions.VIEW_SCHOOL, model), school_id=school_id)


def campuses_of(*, actor: Any, school_id: int) -> QuerySet[Campus]:
    return _of_school(Campus, actor, school_id)


def departments_of(*, actor: Any, school_id: int) -> QuerySet[Department]:
    return _of_school(Department, actor, school_id)


def subjects_of(*, actor: Any, school_id: int) -> QuerySet[Subject]:
    return _of_school(Subject, actor, school_id)


def school_years_of(*, actor: Any, school_id: int) -> QuerySet[SchoolYear]:
    return _of_school(SchoolYear, actor, school_id).prefetch_related("terms")


def current_term(*, school_id: int) -> Term | None:
    return Term.objects.filter(school_id=school_id, is_current=True).select_related("school_year").first()


def current_school_year_start(*, school_id: int, today: dt.date | None = None) -> int:
    term = current_term(school_id=school_id)
    if term:
        return term.school_year.start_year
    today = today or dt.date.today()
    return today.year if today.month >= 8 else today.year - 1


def calendar_overrides(*, school_id: int) -> dict[dt.date, tuple[bool, str, int | None]]:
    return {
        d.date: (d.is_school_day, d.note, d.follows_weekday) for d in CalendarDay.objects.filter(school_id=school_id)
    }


def calendar_month(*, actor: Any, school_id: int, year: int, month: int) -> list[school_calendar.Day]:
    """The school's month: national holidays and 调休 with the school's own days on top; between the
    terms of a school year the school knows (寒暑假) there is no school unless the school adds a day."""
    if not schools_visible_to(actor=actor).filter(pk=school_id).exists():
        return []
    overrides = calendar_overrides(school_id=school_id)
    first = dt.date(year, month, 1)
    last = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    years = list(
        SchoolYear.objects.filter(school_id=school_id, starts_on__lte=last, ends_on__gte=first).prefetch_related(
            "terms"
        )
    )
    return [
        _outside_terms(day, years) if day.date not in overrides else day
        for day in school_calendar.month_days(year, month, overrides=overrides)
    ]


def _outside_terms(day: school_calendar.Day, years: list[SchoolYear]) -> school_calendar.Day:
    for year in years:
        if year.starts_on <= day.date <= year.ends_on:
            terms = list(year.terms.all())
            if terms and not any(t.starts_on <= day.date <= t.ends_on for t in terms):
                return school_calendar.Day(day.date, school_calendar.DayKind.VACATION, day.name)
    return day


def is_school_day(*, school_id: int, date: dt.date) -> bool:
    """For other domains (attendance, gates): is `date` a school day at this school? The same answer as the
    school's calendar page: the school's own days first, then 寒暑假 between its terms, then the nation's."""
    return school_day(school_id=school_id, date=date).is_school_day


def timetable_weekday(*, school_id: int, date: dt.date) -> int | None:
    """For the timetable: whose lessons are taught on `date` (0 = Monday's), another weekday's on a 调休 or
    补课 day; None when there is no school."""
    return school_day(school_id=school_id, date=date).timetable_weekday


def school_day(*, school_id: int, date: dt.date) -> school_calendar.Day:
    overrides = {
        d.date: (d.is_school_day, d.note, d.follows_weekday)
        for d in CalendarDay.objects.filter(school_id=school_id, date=date)
    }
    day = school_calendar.school_day(date, overrides=overrides)
    if date not in overrides:
        years = list(
            SchoolYear.objects.filter(school_id=school_id, starts_on__lte=date, ends_on__gte=date).prefetch_related(
                "terms"
            )
        )
        day = _outside_terms(day, years)
    return day


def classes_taught_by_homeroom(account_id: int) -> QuerySet[AdminClass]:
    return AdminClass.objects.filter(homeroom_teacher_id=account_id)


def search_classes(*, actor: Any, school_id: int, q: str = "") -> QuerySet[AdminClass]:
    qs = classes_visible_to(actor=actor, school_id=school_id)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(room__icontains=q))
    return qs


def _one(model: Any, actor: Any, pk: int) -> Any:
    return model.objects.filter(permissions.scope_q(actor, permissions.VIEW_SCHOOL, model), pk=pk).first()


def campus_for(*, actor: Any, campus_id: int) -> Campus | None:
    return _one(Campus, actor, campus_id)  # type: ignore[no-any-return]


def department_for(*, actor: Any, department_id: int) -> Department | None:
    return _one(Department, actor, department_id)  # type: ignore[no-any-return]


def subject_for(*, actor: Any, subject_id: int) -> Subject | None:
    return _one(Subject, actor, subject_id)  # type: ignore[no-any-return]


def grades_with_classes(*, actor: Any, school_id: int) -> QuerySet[Grade]:
    """The school's cohorts, each with the classes the actor may see (for the grades-and-classes page)."""
    classes = classes_visible_to(actor=actor, school_id=school_id).select_related("campus").order_by("number")
    return grades_of(actor=actor, school_id=school_id).prefetch_related(Prefetch("classes", queryset=classes))


def terms_of(*, actor: Any, school_id: int) -> QuerySet[Term]:
    return _of_school(Term, actor, school_id).select_related("school_year").order_by("-starts_on")


def department_ids_named(*, school_id: int, name: str) -> list[int]:
    """A school's departments called `name` (a workflow step names 总务处)."""
    return list(Department.objects.filter(name=name, school_id=school_id).values_list("pk", flat=True))


def grade_ids_of_classes(class_ids: Iterable[int]) -> list[int]:
    return sorted(set(AdminClass.objects.filter(pk__in=list(class_ids)).values_list("grade_id", flat=True)))


def homeroom_teacher_of(class_id: int) -> int | None:
    return AdminClass.objects.filter(pk=class_id).values_list("homeroom_teacher_id", flat=True).first()


def all_school_ids() -> list[int]:
    """For system jobs that touch every school (installing a module's defaults)."""
    return list(School.objects.values_list("pk", flat=True))


def class_rows(*, school_id: int) -> list[dict[str, Any]]:
    """For other domains (a timetable plan): a school's classes with grade and room, unscoped; the caller has
    checked its own permission over the school."""
    return [
        dict(row)
        for row in AdminClass.objects.filter(school_id=school_id)
        .order_by("grade__stage", "-grade__entry_year", "number")
        .values("id", "name", "grade_id", "room", "homeroom_teacher_id")
    ]


def grade_rows(*, school_id: int) -> list[dict[str, Any]]:
    """For other domains (an exam of a grade): a school's grades not yet graduated, with their everyday name in
    the current school year (高二), unscoped; the caller has checked its own permission over the school."""
    year = current_school_year_start(school_id=school_id)
    grades = Grade.objects.filter(school_id=school_id, graduated=False).order_by("stage", "-entry_year")
    return [{"id": g.pk, "name": g.level_name(year), "stage": g.stage} for g in grades]
