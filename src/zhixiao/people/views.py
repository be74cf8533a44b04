"""Pages for students, guardians and staff: lists with search, filters, pagination and export;
profiles; the class roster. Sensitive fields are masked; revealing one is a logged POST."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from zhixiao.kernel import audit, permissions, spreadsheets
from zhixiao.kernel.converters import row_id
from zhixiao.kernel.errors import NotPermitted
from zhixiao.org import selectors as org_selectors

from . import exports, presenters, selectors, services
from .models import Boarding, StudentStatus

PAGE_SIZE = 50


def _querystring_base(request: HttpRequest) -> str:
    params: dict[str, str] = {k: str(v) for k, v in request.GET.items() if k not in ("page", "export") and v}
    return urlencode(params) + "&" if params else ""


@login_required
def students(request: HttpRequest) -> HttpResponse:
    actor = request.user
    if not permissions.has_any(actor, permissions.VIEW_STUDENT):
        return render(request, "403.html", status=403)
    g = request.GET
    qs = selectors.search_students(
        actor=actor,
        q=g.get("q", ""),
        class_id=row_id(g.get("class")),
        grade_id=row_id(g.get("grade")),
        status=g.get("status") or None,
        boarding=g.get("boarding") or None,
    )
    if g.get("export") == "xlsx":
        if not permissions.has_any(actor, permissions.EXPORT_STUDENT):
            return render(request, "403.html", status=403)
        return spreadsheets.xlsx_response(exports.students_workbook(actor=actor, students=qs), "students.xlsx")
    page = Paginator(qs, PAGE_SIZE).get_page(g.get("page"))
    return render(
        request,
        "people/students.html",
        {
            "page": page,
            "rows": [presenters.student_row(s) for s in page.object_list],
            # The filter menu needs only ids and names, not each class's grade, school and teacher.
            "classes": org_selectors.classes_visible_to(actor=actor).select_related(None).only("id", "name"),
            "statuses": StudentStatus.choices,
            "boardings": Boarding.choices,
            "f": g,
            "querystring_base": _querystring_base(request),
            "can_export": permissions.has_any(actor, permissions.EXPORT_STUDENT),
        },
    )


@login_required
def student(request: HttpRequest, student_id: int) -> HttpResponse:
    s = selectors.student_for(actor=request.user, student_id=student_id)
    if s is None:
        raise Http404
    links = selectors.guardians_of(actor=request.user, student_id=s.pk)
    return render(
        request,
        "people/student.html",
        {
            "s": s,
            "row": presenters.student_row(s),
            "guardians": [
                (lk, presenters.guardian_row(lk.guardian, lk.get_relation_display(), lk.may_notify)) for lk in links
            ],
            "can_unmask": permissions.can(request.user, permissions.UNMASK_STUDENT, s),
            "can_edit": permissions.can(request.user, permissions.EDIT_STUDENT, s),
            "can_reset": permissions.can(request.user, permissions.MANAGE_ACCOUNTS, s),
            "history": audit.records_about(s) if permissions.can(request.user, permissions.EDIT_STUDENT, s) else [],
        },
    )


@login_required
@require_POST
def reveal(request: HttpRequest, kind: str, pk: int, field: str) -> HttpResponse:
    """htmx: swap a masked value for the full one; the view is recorded in the audit log."""
    actor = request.user
    obj: object | None
    if kind == "student":
        obj = selectors.student_for(actor=actor, student_id=pk)
    elif kind == "staff":
        obj = selectors.staff_for(actor=actor, staff_id=pk)
    elif kind == "guardian":
        link = selectors.guardian_link_for(actor=actor, guardian_id=pk)
        obj = link.guardian if link else None
    else:
        obj = None
    if obj is None:
        raise Http404
    try:
        value = services.reveal(actor=actor, obj=obj, field=field, ip=str(request.META.get("REMOTE_ADDR", "")))  # type: ignore[arg-type]
    except NotPermitted:
        return HttpResponse(status=403)
    return render(request, "people/_revealed.html", {"value": value})


@login_required
def roster(request: HttpRequest, class_id: int) -> HttpResponse:
    cls = org_selectors.class_for(actor=request.user, class_id=class_id)
    if cls is None or not permissions.has_any(request.user, permissions.VIEW_STUDENT):
        return render(request, "403.html", status=403)
    rows = [
        presenters.student_row(s)
        for s in selectors.class_roster(actor=request.user, class_id=class_id).select_related("admin_class", "school")
    ]
    if request.GET.get("export") == "xlsx" and permissions.has_any(request.user, permissions.EXPORT_STUDENT):
        qs = selectors.class_roster(actor=request.user, class_id=class_id)
        data = exports.students_workbook(actor=request.user, students=qs)
        return spreadsheets.xlsx_response(data, f"roster-{class_id}.xlsx")
    teaching = selectors.teaching_of(actor=request.user, class_id=class_id).filter(term__is_current=True)
    return render(
        request,
        "people/roster.html",
        {
            "cls": cls,
            "rows": rows,
            "teaching": teaching,
            "boarders": sum(1 for r in rows if r["boarding"] == str(Boarding.BOARDING.label)),
            "can_export": permissions.has_any(request.user, permissions.EXPORT_STUDENT),
            "can_enrol": permissions.can(request.user, permissions.MANAGE_SCHOOL, cls.school),
        },
    )


@login_required
def staff(request: HttpRequest) -> HttpResponse:
    actor = request.user
    if not permissions.has_any(actor, permissions.VIEW_STAFF):
        return render(request, "403.html", status=403)
    g = request.GET
    qs = selectors.search_staff(
        actor=actor,
        q=g.get("q", ""),
        department_id=row_id(g.get("department")),
        status=g.get("status") or None,
    )
    if g.get("export") == "xlsx":
        if not permissions.has_any(actor, permissions.EXPORT_STAFF):
            return render(request, "403.html", status=403)
        return spreadsheets.xlsx_response(exports.staff_workbook(staff=qs), "staff.xlsx")
    page = Paginator(qs, PAGE_SIZE).get_page(g.get("page"))
    school_id = selectors.home_school_id(actor)
    return render(
        request,
        "people/staff_list.html",
        {
            "page": page,
            "rows": [presenters.staff_row(s) for s in page.object_list],
            "f": g,
            "departments": org_selectors.departments_of(actor=actor, school_id=school_id) if school_id else [],
            "querystring_base": _querystring_base(request),
            "can_export": permissions.has_any(actor, permissions.EXPORT_STAFF),
            "can_add": bool(school_id) and permissions.has_any(actor, permissions.EDIT_STAFF),
        },
    )


@login_required
def staff_detail(request: HttpRequest, staff_id: int) -> HttpResponse:
    s = selectors.staff_for(actor=request.user, staff_id=staff_id)
    if s is None:
        raise Http404
    return render(
        request,
        "people/staff_detail.html",
        {
            "s": s,
            "row": presenters.staff_row(s),
            "teaching": selectors.teaching_of(actor=request.user, staff_id=s.pk),
            "can_unmask": permissions.can(request.user, permissions.UNMASK_STAFF, s),
            "can_edit": permissions.can(request.user, permissions.EDIT_STAFF, s),
            "can_reset": permissions.can(request.user, permissions.MANAGE_ACCOUNTS, s),
        },
    )
