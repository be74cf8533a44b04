"""The school admin's staff pages: explicit roles, teaching assignments (任课) and homeroom teachers.

They live in the portal because they join two domains: the school's structure (org) and its staff
(people, identity); org sits below people and cannot offer a list of teachers itself. Reading needs
VIEW_STAFF in the school, changing needs MANAGE_SCHOOL (the services check again); a refusal is 403, an
object of another school 404, a broken rule a message on the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhixiao.identity import selectors as identity_selectors
from zhixiao.identity import services as identity_services
from zhixiao.kernel import permissions
from zhixiao.kernel.converters import row_id
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.org import selectors as org_selectors
from zhixiao.org import services as org_services
from zhixiao.people import selectors as people_selectors
from zhixiao.people import services as people_services

from .forms import HomeroomForm, RoleGrantForm, TeachingForm


def _school(request: HttpRequest, *, manage: bool = False) -> Any:
    """The school of the page (?school=<id>) among those the user may read, or change when `manage`."""
    action = permissions.MANAGE_SCHOOL if manage else permissions.VIEW_STAFF
    if not permissions.has_any(request.user, action):
        raise PermissionDenied
    schools = org_selectors.schools_where(actor=request.user, action=action)
    wanted = request.GET.get("school") or request.POST.get("school")
    wanted_id = row_id(wanted)
    school = schools.filter(pk=wanted_id).first() if wanted_id else schools.first()
    if school is None:
        raise Http404
    return school


def _call(service: Callable[..., Any], /, **kwargs: Any) -> str | None:
    """Run one service; None when done, else the rule it refused with."""
    try:
        service(**kwargs)
    except NotPermitted as exc:
        raise PermissionDenied(str(exc)) from exc
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    except DomainError as exc:
        return str(exc)
    return None


def _back(name: str, school_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'school': school_id})}")


def _staff_choices(actor: Any, school_id: int, *, key: str) -> list[tuple[int, str]]:
    staff = people_selectors.staff_members_of(actor=actor, school_id=school_id)
    return [(getattr(s, key), f"{s.name}（{s.staff_no}）") for s in staff]


# --- roles ----------------------------------------------------------------------------------------------
def _role_form(request: HttpRequest, school_id: int, data: Any = None) -> RoleGrantForm:
    actor = request.user
    return RoleGrantForm(
        data,
        staff=_staff_choices(actor, school_id, key="pk"),
        departments=[(d.pk, d.name) for d in org_selectors.departments_of(actor=actor, school_id=school_id)],
        grades=[
            (g.pk, f"{g}（{g.get_stage_display()}）") for g in org_selectors.grades_of(actor=actor, school_id=school_id)
        ],
    )


def _roles_page(request: HttpRequest, school: Any, form: RoleGrantForm | None = None) -> HttpResponse:
    actor = request.user
    rows = [
        (ra, permissions.ROLE_LABELS.get(ra.role, ra.role))
        for ra in identity_selectors.role_assignments_in_school(actor=actor, school_id=school.pk)
    ]
    context = {
        "school": school,
        "rows": rows,
        "form": form or _role_form(request, school.pk),
        "can_manage": permissions.can(actor, permissions.MANAGE_SCHOOL, school),
    }
    return render(request, "portal/roles.html", context)


@login_required
def roles(request: HttpRequest) -> HttpResponse:
    """Who holds which explicit role in the school; the school admin grants and revokes them."""
    if request.method != "POST":
        return _roles_page(request, _school(request))
    school = _school(request, manage=True)
    form = _role_form(request, school.pk, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        staff = people_selectors.staff_members_of(actor=request.user, school_id=school.pk).get(pk=data["staff"])
        error = _call(
            identity_services.grant_role,
            actor=request.user,
            account=staff.account,
            role=data["role"],
            school_id=school.pk,
            department_id=data["department"],
            grade_id=data["grade"],
        )
        if error is None:
            messages.success(request, _("已授予角色"))
            return _back("portal:roles", school.pk)
        form.add_error(None, error)
    return _roles_page(request, school, form)


@login_required
@require_POST
def role_revoke(request: HttpRequest, assignment_id: int) -> HttpResponse:
    school = _school(request, manage=True)
    held = identity_selectors.role_assignments_in_school(actor=request.user, school_id=school.pk)
    if not held.filter(pk=assignment_id).exists():
        raise Http404
    error = _call(identity_services.revoke_role, actor=request.user, assignment_id=assignment_id)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("已撤销角色"))
    return _back("portal:roles", school.pk)


# --- teaching assignments -------------------------------------------------------------------------------
def _teaching_form(request: HttpRequest, school_id: int, data: Any = None) -> TeachingForm:
    actor = request.user
    return TeachingForm(
        data,
        staff=_staff_choices(actor, school_id, key="pk"),
        classes=[(c.pk, c.name) for c in org_selectors.classes_visible_to(actor=actor, school_id=school_id)],
        subjects=[(s.pk, s.name) for s in org_selectors.subjects_of(actor=actor, school_id=school_id)],
    )


def _teaching_page(request: HttpRequest, school: Any, form: TeachingForm | None = None) -> HttpResponse:
    actor = request.user
    term = org_selectors.current_term(school_id=school.pk)
    rows = (
        None if term is None else people_selectors.teaching_in_term(actor=actor, school_id=school.pk, term_id=term.pk)
    )
    class_id = request.GET.get("class", "")
    wanted_class = row_id(class_id)
    if rows is not None and wanted_class:
        rows = rows.filter(admin_class_id=wanted_class)
    context = {
        "school": school,
        "term": term,
        "rows": rows,
        "class_id": class_id,
        "classes": org_selectors.classes_visible_to(actor=actor, school_id=school.pk),
        "form": form or _teaching_form(request, school.pk),
        "can_manage": permissions.can(actor, permissions.MANAGE_SCHOOL, school),
    }
    return render(request, "portal/teaching.html", context)


@login_required
def teaching(request: HttpRequest) -> HttpResponse:
    """任课 of the current term, class by class; the school admin adds and removes them."""
    if request.method != "POST":
        return _teaching_page(request, _school(request))
    school = _school(request, manage=True)
    form = _teaching_form(request, school.pk, request.POST)
    term = org_selectors.current_term(school_id=school.pk)
    if term is None:
        form.add_error(None, _("请先设置当前学期"))
    elif form.is_valid():
        data = form.cleaned_data
        error = _call(
            people_services.add_teaching_assignment,
            actor=request.user,
            term_id=term.pk,
            staff_id=data["staff"],
            class_id=data["admin_class"],
            subject_id=data["subject"],
        )
        if error is None:
            messages.success(request, _("已添加任课安排"))
            return _back("portal:teaching", school.pk)
        form.add_error(None, error)
    return _teaching_page(request, school, form)


@login_required
@require_POST
def teaching_remove(request: HttpRequest, assignment_id: int) -> HttpResponse:
    school = _school(request, manage=True)
    if not people_selectors.teaching_of(actor=request.user).filter(pk=assignment_id, school_id=school.pk).exists():
        raise Http404
    error = _call(people_services.remove_teaching_assignment, actor=request.user, assignment_id=assignment_id)
    if request.htmx:  # type: ignore[attr-defined]
        if error is None:
            return HttpResponse("")
        return HttpResponse(format_html('<tr><td colspan="4" class="errorlist">{}</td></tr>', error))
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("已移除任课安排"))
    return _back("portal:teaching", school.pk)


# --- homeroom teachers ----------------------------------------------------------------------------------
def _homeroom_rows(request: HttpRequest, school_id: int, only: int | None = None) -> list[tuple[Any, HomeroomForm]]:
    accounts = _staff_choices(request.user, school_id, key="account_id")
    classes = org_selectors.classes_visible_to(actor=request.user, school_id=school_id)
    if only is not None:
        classes = classes.filter(pk=only)
    return [
        (c, HomeroomForm(initial={"account": c.homeroom_teacher_id}, accounts=accounts, prefix=f"c{c.pk}"))
        for c in classes
    ]


@login_required
def homerooms(request: HttpRequest) -> HttpResponse:
    """Every class with its 班主任, chosen among the school's staff."""
    school = _school(request)
    context = {
        "school": school,
        "rows": _homeroom_rows(request, school.pk),
        "can_manage": permissions.can(request.user, permissions.MANAGE_SCHOOL, school),
    }
    return render(request, "portal/homerooms.html", context)


@login_required
@require_POST
def homeroom_set(request: HttpRequest, class_id: int) -> HttpResponse:
    school = _school(request, manage=True)
    rows = _homeroom_rows(request, school.pk, only=class_id)
    if not rows:
        raise Http404
    cls, _old = rows[0]
    form = HomeroomForm(
        request.POST, accounts=_staff_choices(request.user, school.pk, key="account_id"), prefix=f"c{cls.pk}"
    )
    error = None
    if form.is_valid():
        error = _call(
            org_services.set_homeroom_teacher,
            actor=request.user,
            class_id=cls.pk,
            account_id=form.cleaned_data["account"],
        )
    else:
        error = _("请选择本校教职工")
    if request.htmx:  # type: ignore[attr-defined]
        cls, fresh = _homeroom_rows(request, school.pk, only=class_id)[0]
        context = {
            "school": school,
            "c": cls,
            "row_form": fresh,
            "error": error,
            "saved": error is None,
            "can_manage": True,
        }
        return render(request, "portal/_homeroom_row.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("班主任已更新"))
    return _back("portal:homerooms", school.pk)
