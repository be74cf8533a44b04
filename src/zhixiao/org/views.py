"""Pages for the school's structure. Thin: read through selectors, write through services."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from zhixiao.kernel import permissions
from zhixiao.kernel.school_calendar import DAY_KIND_LABELS

from . import selectors
from .models import School


def current_school(request: HttpRequest, action: str = permissions.VIEW_SCHOOL) -> School:
    """The school a page is about: ?school=<id> among those the user may see, else the first one."""
    schools = selectors.schools_where(actor=request.user, action=action)
    wanted = request.GET.get("school") or request.POST.get("school")
    school = schools.filter(pk=wanted).first() if wanted and str(wanted).isdigit() else schools.first()
    if school is None:
        raise Http404
    return school


@login_required
def school(request: HttpRequest) -> HttpResponse:
    s = current_school(request)
    actor = request.user
    context = {
        "school": s,
        "can_manage": permissions.can(actor, permissions.MANAGE_SCHOOL, s),
        "campuses": selectors.campuses_of(actor=actor, school_id=s.pk),
        "departments": selectors.departments_of(actor=actor, school_id=s.pk),
        "grades": selectors.grades_of(actor=actor, school_id=s.pk),
        "subjects": selectors.subjects_of(actor=actor, school_id=s.pk),
        "school_years": selectors.school_years_of(actor=actor, school_id=s.pk),
        "year_start": selectors.current_school_year_start(school_id=s.pk),
    }
    return render(request, "org/school.html", context)


@login_required
def classes(request: HttpRequest) -> HttpResponse:
    if not permissions.has_any(request.user, permissions.VIEW_CLASS):
        return render(request, "403.html", status=403)
    qs = selectors.search_classes(
        actor=request.user, school_id=current_school(request, permissions.VIEW_CLASS).pk, q=request.GET.get("q", "")
    )
    return render(request, "org/classes.html", {"classes": qs, "q": request.GET.get("q", "")})


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    s = current_school(request)
    today = dt.date.today()
    try:
        year = int(request.GET.get("year", today.year))
        month = int(request.GET.get("month", today.month))
        first = dt.date(year, month, 1)
    except ValueError as exc:
        raise Http404 from exc
    days = selectors.calendar_month(actor=request.user, school_id=s.pk, year=year, month=month)
    prev_month = (first - dt.timedelta(days=1)).replace(day=1)
    next_month = (first + dt.timedelta(days=32)).replace(day=1)
    return render(
        request,
        "org/calendar.html",
        {
            "school": s,
            "first": first,
            "days": days,
            "lead": range(first.weekday()),
            "labels": DAY_KIND_LABELS,
            "prev": prev_month,
            "next": next_month,
            "school_days": sum(1 for d in days if d.is_school_day),
        },
    )
