"""Pages for the school's structure. Thin: read through selectors, write through services.

Reading needs VIEW_SCHOOL in the school; every change needs MANAGE_SCHOOL, which the services check
again. A refusal becomes 403, an object outside the actor's schools 404, a broken rule a message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from zhixiao.kernel import permissions, spreadsheets
from zhixiao.kernel.converters import row_id
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.kernel.school_calendar import DAY_KIND_LABELS, DayKind

from . import selectors, services
from .forms import (
    CalendarDayForm,
    CampusForm,
    ClassForm,
    DepartmentForm,
    GradeForm,
    SchoolForm,
    SchoolYearForm,
    SubjectForm,
    division_full_name,
)
from .models import School


def current_school(request: HttpRequest, action: str = permissions.VIEW_SCHOOL) -> School:
    """The school a page is about: ?school=<id> among those the user may see, else the first one."""
    schools = selectors.schools_where(actor=request.user, action=action)
    wanted = request.GET.get("school") or request.POST.get("school")
    wanted_id = row_id(wanted)
    school = schools.filter(pk=wanted_id).first() if wanted_id else schools.first()
    if school is None:
        raise Http404
    return school


def managed_school(request: HttpRequest) -> School:
    """The school a change is made in: 403 for someone who manages no school at all."""
    if not permissions.has_any(request.user, permissions.MANAGE_SCHOOL):
        raise PermissionDenied
    return current_school(request, permissions.MANAGE_SCHOOL)


def call(service: Callable[..., Any], /, **kwargs: Any) -> tuple[Any, str | None]:
    """Run one service: (result, None), or (None, the rule it refused with) for the form to show."""
    try:
        return service(**kwargs), None
    except NotPermitted as exc:
        raise PermissionDenied(str(exc)) from exc
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    except DomainError as exc:
        return None, str(exc)


def _back(name: str, school_id: int, **params: Any) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'school': school_id, **params})}")


# --- the school -----------------------------------------------------------------------------------------
@login_required
def school(request: HttpRequest) -> HttpResponse:
    actor = request.user
    if not selectors.schools_visible_to(actor=actor).exists():
        # a fresh installation: nothing to show yet; the system admin opens schools under 全部学校
        can_open = permissions.has_any(actor, permissions.MANAGE_SYSTEM)
        return render(request, "org/no_school.html", {"can_open": can_open}, status=200 if can_open else 404)
    s = current_school(request)
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
def school_edit(request: HttpRequest) -> HttpResponse:
    s = managed_school(request)
    initial = {f: getattr(s, f) for f in SchoolForm.base_fields}
    form = SchoolForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        _done, error = call(services.update_school, actor=request.user, school_id=s.pk, **form.cleaned_data)
        if error is None:
            messages.success(request, _("学校信息已保存"))
            return _back("org:school", s.pk)
        form.add_error(None, error)
    code = form["division_code"].value() or ""
    return render(
        request, "org/school_edit.html", {"school": s, "form": form, "division_name": division_full_name(str(code))}
    )


@login_required
@require_GET
def division_name(request: HttpRequest) -> HttpResponse:
    """htmx: the full name of a GB/T 2260 code as it is typed."""
    code = request.GET.get("division_code", "").strip()
    return render(request, "org/_division_name.html", {"code": code, "name": division_full_name(code)})


# --- campuses, departments, subjects --------------------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    title: Any
    form: type[Any]
    list_of: Callable[..., QuerySet[Any]]
    one: Callable[[Any, int], Model | None]
    add: Callable[..., Any]
    rename: Callable[..., Any]
    delete: Callable[..., Any]
    id_arg: str
    page: str  # url name of the list page


UNITS = {
    "campus": Unit(
        gettext_lazy("校区"),
        CampusForm,
        selectors.campuses_of,
        lambda actor, pk: selectors.campus_for(actor=actor, campus_id=pk),
        services.add_campus,
        services.rename_campus,
        services.delete_campus,
        "campus_id",
        "org:campuses",
    ),
    "department": Unit(
        gettext_lazy("处室"),
        DepartmentForm,
        selectors.departments_of,
        lambda actor, pk: selectors.department_for(actor=actor, department_id=pk),
        services.add_department,
        services.rename_department,
        services.delete_department,
        "department_id",
        "org:departments",
    ),
    "subject": Unit(
        gettext_lazy("科目"),
        SubjectForm,
        selectors.subjects_of,
        lambda actor, pk: selectors.subject_for(actor=actor, subject_id=pk),
        services.add_subject,
        services.rename_subject,
        services.delete_subject,
        "subject_id",
        "org:subjects",
    ),
}


def _unit(kind: str) -> Unit:
    if kind not in UNITS:
        raise Http404
    return UNITS[kind]


def _row_form(unit: Unit, obj: Model, data: Any = None) -> Any:
    """The inline edit form of one row: labels become placeholders so a row stays short on a phone."""
    form = unit.form(data, initial=_form_values(unit, obj), prefix=f"u{obj.pk}")
    for field in form.fields.values():
        field.widget.attrs.update({"placeholder": str(field.label), "aria-label": str(field.label)})
    return form


def _unit_rows(unit: Unit, actor: Any, school_id: int) -> list[tuple[Model, Any]]:
    return [(obj, _row_form(unit, obj)) for obj in unit.list_of(actor=actor, school_id=school_id)]


def _form_values(unit: Unit, obj: Model) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in unit.form.base_fields}


@login_required
def units(request: HttpRequest, kind: str) -> HttpResponse:
    unit = _unit(kind)
    actor = request.user
    if request.method == "POST":
        s = managed_school(request)
        form = unit.form(request.POST)
        if form.is_valid():
            _done, error = call(unit.add, actor=actor, school_id=s.pk, **form.cleaned_data)
            if error is None:
                messages.success(request, _("已添加"))
                return _back(unit.page, s.pk)
            form.add_error(None, error)
    else:
        s = current_school(request)
        form = unit.form()
    context = {
        "school": s,
        "kind": kind,
        "unit": unit,
        "form": form,
        "rows": _unit_rows(unit, actor, s.pk),
        "can_manage": permissions.can(actor, permissions.MANAGE_SCHOOL, s),
    }
    return render(request, "org/units.html", context)


def _unit_row(request: HttpRequest, kind: str, obj: Model, form: Any = None, error: str | None = None) -> HttpResponse:
    form = form or _row_form(_unit(kind), obj)
    return render(
        request, "org/_unit_row.html", {"kind": kind, "obj": obj, "row_form": form, "error": error, "can_manage": True}
    )


@login_required
@require_POST
def unit_rename(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    unit = _unit(kind)
    obj = unit.one(request.user, pk)
    if obj is None:
        raise Http404
    if not permissions.can(request.user, permissions.MANAGE_SCHOOL, obj.school):  # type: ignore[attr-defined]
        return render(request, "403.html", status=403)
    form = _row_form(unit, obj, request.POST)
    error = None
    if form.is_valid():
        obj, error = call(unit.rename, actor=request.user, **{unit.id_arg: pk}, **form.cleaned_data)
        if error is None and not request.htmx:  # type: ignore[attr-defined]
            messages.success(request, _("已保存"))
        obj = unit.one(request.user, pk)
    else:
        error = "；".join(str(m) for msgs in form.errors.values() for m in msgs)
    if request.htmx:  # type: ignore[attr-defined]
        return _unit_row(request, kind, obj, None if error is None else form, error)  # type: ignore[arg-type]
    if error:
        messages.error(request, error)
    return _back(unit.page, obj.school_id)  # type: ignore[union-attr]


@login_required
@require_POST
def unit_delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    unit = _unit(kind)
    obj = unit.one(request.user, pk)
    if obj is None:
        raise Http404
    school_id = obj.school_id  # type: ignore[attr-defined]
    _done, error = call(unit.delete, actor=request.user, **{unit.id_arg: pk})
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponse("") if error is None else _unit_row(request, kind, obj, error=error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("已删除"))
    return _back(unit.page, school_id)


# --- grades and classes ---------------------------------------------------------------------------------
def _grades_page(request: HttpRequest, s: School, grade_form: Any = None, class_form: Any = None) -> HttpResponse:
    actor = request.user
    campuses = [(c.pk, c.name) for c in selectors.campuses_of(actor=actor, school_id=s.pk)]
    year_start = selectors.current_school_year_start(school_id=s.pk)
    grades = []
    for g in selectors.grades_with_classes(actor=actor, school_id=s.pk):
        # the class form that failed stays under its own grade, with its errors
        if class_form is not None and class_form.data.get("grade") == str(g.pk):
            form = class_form
        else:
            form = ClassForm(initial={"grade": g.pk, "number": len(g.classes.all()) + 1}, campuses=campuses)
        grades.append((g, g.level_name(year_start), form))
    context = {
        "school": s,
        "grades": grades,
        "grade_form": grade_form or GradeForm(initial={"entry_year": year_start}),
        "can_manage": permissions.can(actor, permissions.MANAGE_SCHOOL, s),
    }
    return render(request, "org/grades.html", context)


@login_required
def grades(request: HttpRequest) -> HttpResponse:
    return _grades_page(request, current_school(request))


@login_required
@require_POST
def grade_add(request: HttpRequest) -> HttpResponse:
    s = managed_school(request)
    form = GradeForm(request.POST)
    if form.is_valid():
        _done, error = call(services.add_grade, actor=request.user, school_id=s.pk, **form.cleaned_data)
        if error is None:
            messages.success(request, _("已添加年级"))
            return _back("org:grades", s.pk)
        form.add_error(None, error)
    return _grades_page(request, s, grade_form=form)


@login_required
@require_POST
def class_add(request: HttpRequest) -> HttpResponse:
    s = managed_school(request)
    campuses = [(c.pk, c.name) for c in selectors.campuses_of(actor=request.user, school_id=s.pk)]
    form = ClassForm(request.POST, campuses=campuses)
    if form.is_valid():
        data = form.cleaned_data
        if not selectors.grades_of(actor=request.user, school_id=s.pk).filter(pk=data["grade"]).exists():
            raise Http404
        _done, error = call(
            services.add_class,
            actor=request.user,
            grade_id=data["grade"],
            number=data["number"],
            name=data["name"],
            room=data["room"],
            campus_id=data["campus"],
        )
        if error is None:
            messages.success(request, _("已添加班级"))
            return _back("org:grades", s.pk)
        form.add_error(None, error)
    return _grades_page(request, s, class_form=form)


# --- school years and terms -----------------------------------------------------------------------------
def _years_page(request: HttpRequest, s: School, form: Any = None) -> HttpResponse:
    actor = request.user
    years = selectors.school_years_of(actor=actor, school_id=s.pk)
    latest = years.first()
    next_start = latest.start_year + 1 if latest else selectors.current_school_year_start(school_id=s.pk)
    context = {
        "school": s,
        "years": years,
        "form": form or SchoolYearForm(initial=SchoolYearForm.defaults(next_start)),
        "can_manage": permissions.can(actor, permissions.MANAGE_SCHOOL, s),
    }
    return render(request, "org/years.html", context)


@login_required
def years(request: HttpRequest) -> HttpResponse:
    return _years_page(request, current_school(request))


@login_required
@require_POST
def year_add(request: HttpRequest) -> HttpResponse:
    s = managed_school(request)
    form = SchoolYearForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        _done, error = call(
            services.add_school_year,
            actor=request.user,
            school_id=s.pk,
            start_year=d["start_year"],
            starts_on=d["starts_on"],
            ends_on=d["ends_on"],
            terms=[(d["term1_starts_on"], d["term1_ends_on"]), (d["term2_starts_on"], d["term2_ends_on"])],
            make_current=d["make_current"],
        )
        if error is None:
            messages.success(request, _("已添加学年"))
            return _back("org:years", s.pk)
        form.add_error(None, error)
    return _years_page(request, s, form)


@login_required
@require_POST
def term_current(request: HttpRequest, term_id: int) -> HttpResponse:
    s = managed_school(request)
    if not selectors.terms_of(actor=request.user, school_id=s.pk).filter(pk=term_id).exists():
        raise Http404
    _done, error = call(services.set_current_term, actor=request.user, term_id=term_id)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("当前学期已更新"))
    return _back("org:years", s.pk)


# --- classes (read) and the calendar --------------------------------------------------------------------
@login_required
def classes(request: HttpRequest) -> HttpResponse:
    if not permissions.has_any(request.user, permissions.VIEW_CLASS):
        return render(request, "403.html", status=403)
    qs = selectors.search_classes(
        actor=request.user, school_id=current_school(request, permissions.VIEW_CLASS).pk, q=request.GET.get("q", "")
    )
    if request.GET.get("export") == "xlsx":
        headers = [_("班级"), _("年级"), _("学段"), _("班主任"), _("教室")]
        rows = ([c.name, str(c.grade), c.grade.get_stage_display(), str(c.homeroom_teacher or ""), c.room] for c in qs)
        return spreadsheets.xlsx_response(spreadsheets.write_table(headers, rows, title=_("班级")), "classes.xlsx")
    return render(request, "org/classes.html", {"classes": qs, "q": request.GET.get("q", "")})


def _month(request: HttpRequest) -> dt.date:
    today = dt.date.today()
    source = request.POST if request.method == "POST" else request.GET
    try:
        return dt.date(int(source.get("year", today.year)), int(source.get("month", today.month)), 1)
    except ValueError as exc:
        raise Http404 from exc


def _calendar_context(request: HttpRequest, s: School, first: dt.date) -> dict[str, Any]:
    days = selectors.calendar_month(actor=request.user, school_id=s.pk, year=first.year, month=first.month)
    return {
        "school": s,
        "first": first,
        "days": days,
        "lead": range(first.weekday()),
        "labels": DAY_KIND_LABELS,
        "own_kinds": (DayKind.SCHOOL_DAY_OFF, DayKind.EXTRA_SCHOOL_DAY),
        "prev": (first - dt.timedelta(days=1)).replace(day=1),
        "next": (first + dt.timedelta(days=32)).replace(day=1),
        "school_days": sum(1 for d in days if d.is_school_day),
        "can_manage": permissions.can(request.user, permissions.MANAGE_SCHOOL, s),
    }


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    s = current_school(request)
    first = _month(request)
    context = _calendar_context(request, s, first)
    context["form"] = CalendarDayForm(initial={"date": first})
    return render(request, "org/calendar.html", context)


@login_required
@require_POST
def calendar_set(request: HttpRequest) -> HttpResponse:
    """Add the school's own day off or extra school day (a day already set is replaced)."""
    s = managed_school(request)
    form = CalendarDayForm(request.POST)
    first = _month(request)
    if form.is_valid():
        d = form.cleaned_data
        _done, error = call(
            services.set_calendar_day,
            actor=request.user,
            school_id=s.pk,
            date=d["date"],
            is_school_day=d["kind"] == CalendarDayForm.EXTRA,
            note=d["note"],
            follows_weekday=d["follows"],
        )
        if error is None:
            messages.success(request, _("校历已更新"))
            return _back("org:calendar", s.pk, year=d["date"].year, month=d["date"].month)
        form.add_error(None, error)
    context = _calendar_context(request, s, first)
    context["form"] = form
    return render(request, "org/calendar.html", context)


@login_required
@require_POST
def calendar_remove(request: HttpRequest) -> HttpResponse:
    """Remove one of the school's own days; htmx swaps in the redrawn month."""
    s = managed_school(request)
    try:
        date = dt.date.fromisoformat(request.POST.get("date", ""))
    except ValueError as exc:
        raise Http404 from exc
    call(services.remove_calendar_day, actor=request.user, school_id=s.pk, date=date)
    first = date.replace(day=1)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "org/_calendar_month.html", _calendar_context(request, s, first))
    messages.success(request, _("已移除"))
    return _back("org:calendar", s.pk, year=first.year, month=first.month)
