"""Pages that change one student: enrol, edit, change status, add a guardian. Thin: the form collects raw
values, a service checks and writes them, errors come back per field in Chinese."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhixiao.kernel import permissions
from zhixiao.kernel.converters import row_id
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.org import selectors as org_selectors

from . import selectors, services
from .forms import GuardianForm, StaffForm, StatusForm, StudentForm
from .records import RecordErrors


def _apply_problems(form: Any, exc: RecordErrors) -> None:
    for problem in exc.problems:
        name = problem.field.removeprefix("guardian_")  # guardian checks name their fields guardian_*
        field = name if name in form.fields else None
        form.add_error(field, problem.reason if field else f"{problem.field}: {problem.reason}")


@login_required
def student_create(request: HttpRequest, class_id: int) -> HttpResponse:
    """Enrol one student into a class (a transfer-in, a late enrolment)."""
    cls = org_selectors.class_for(actor=request.user, class_id=class_id)
    if cls is None or not permissions.can(request.user, permissions.MANAGE_SCHOOL, cls.school):
        return render(request, "403.html", status=403)
    form = StudentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            student = services.create_student(
                actor=request.user, school_id=cls.school_id, class_id=cls.pk, data=form.cleaned_data
            )
        except RecordErrors as exc:
            _apply_problems(form, exc)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已添加学生 {name}").format(name=student.name))
            return redirect("people:student", student.pk)
    return render(request, "people/student_form.html", {"form": form, "title": _("添加学生"), "cls": cls})


def _student_change_page(
    request: HttpRequest,
    student_id: int,
    *,
    make_form: Callable[[Any], Any],
    save: Callable[[Any, dict[str, Any]], object],
    title: str,
    done: str,
) -> HttpResponse:
    """The shape every change to one student shares: the student in the actor's scope, student.edit, a
    form of raw values, one service call, problems back per field, then the profile again."""
    student = selectors.student_for(actor=request.user, student_id=student_id)
    if student is None:
        raise Http404
    if not permissions.can(request.user, permissions.EDIT_STUDENT, student):
        return render(request, "403.html", status=403)
    form = make_form(student)
    if request.method == "POST" and form.is_valid():
        try:
            save(student, form.cleaned_data)
        except RecordErrors as exc:
            _apply_problems(form, exc)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, done)
            return redirect("people:student", student.pk)
    return render(request, "people/student_form.html", {"form": form, "title": title, "student": student})


@login_required
def student_edit(request: HttpRequest, student_id: int) -> HttpResponse:
    return _student_change_page(
        request,
        student_id,
        make_form=lambda s: StudentForm(
            request.POST or None, initial={f: getattr(s, f) for f in StudentForm.base_fields}, editing=True
        ),
        save=lambda s, data: services.update_student(actor=request.user, student_id=s.pk, data=data),
        title=_("修改学生信息"),
        done=_("已保存"),
    )


@login_required
def student_status(request: HttpRequest, student_id: int) -> HttpResponse:
    return _student_change_page(
        request,
        student_id,
        make_form=lambda s: StatusForm(request.POST or None, initial={"status": s.status}),
        save=lambda s, data: services.change_student_status(
            actor=request.user, student_id=s.pk, status=data["status"], since=data["since"], note=data["note"]
        ),
        title=_("变更学籍状态"),
        done=_("学籍状态已更新"),
    )


@login_required
def guardian_add(request: HttpRequest, student_id: int) -> HttpResponse:
    return _student_change_page(
        request,
        student_id,
        make_form=lambda s: GuardianForm(request.POST or None),
        save=lambda s, data: services.link_guardian(actor=request.user, student_id=s.pk, data=data),
        title=_("添加监护人"),
        done=_("已添加监护人"),
    )


def _departments(actor: Any, school_id: int) -> list[tuple[int, str]]:
    return [(d.pk, d.name) for d in org_selectors.departments_of(actor=actor, school_id=school_id)]


@login_required
def staff_create(request: HttpRequest) -> HttpResponse:
    """Add one staff member; the account's first password is shown once and must be changed at login."""
    schools = org_selectors.schools_managed_by(actor=request.user)
    wanted = str(request.GET.get("school") or selectors.home_school_id(request.user) or "")
    wanted_id = row_id(wanted)
    school = schools.filter(pk=wanted_id).first() if wanted_id else schools.first()
    if school is None or not permissions.has_any(request.user, permissions.EDIT_STAFF):
        return render(request, "403.html", status=403)
    form = StaffForm(request.POST or None, departments=_departments(request.user, school.pk))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            staff = services.create_staff(
                actor=request.user,
                school_id=school.pk,
                data=data,
                department_ids=[int(d) for d in data["departments"]],
            )
            password = services.reset_password(actor=request.user, person=staff)
        except RecordErrors as exc:
            _apply_problems(form, exc)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("已添加 {name}，登录名 {no}，初始密码 {pw}（只显示这一次）").format(
                    name=staff.name, no=staff.staff_no, pw=password
                ),
            )
            return redirect("people:staff_detail", staff.pk)
    title = _("添加教职工") + " · " + school.name
    return render(request, "people/student_form.html", {"form": form, "title": title})


@login_required
def staff_edit(request: HttpRequest, staff_id: int) -> HttpResponse:
    staff = selectors.staff_for(actor=request.user, staff_id=staff_id)
    if staff is None:
        raise Http404
    if not permissions.can(request.user, permissions.EDIT_STAFF, staff):
        return render(request, "403.html", status=403)
    initial: dict[str, Any] = {f: getattr(staff, f, None) for f in StaffForm.base_fields if f != "departments"}
    initial["departments"] = [d.pk for d in staff.departments.all()]
    form = StaffForm(
        request.POST or None, initial=initial, departments=_departments(request.user, staff.school_id), editing=True
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_staff(
                actor=request.user, staff_id=staff.pk, data=data, department_ids=[int(d) for d in data["departments"]]
            )
        except RecordErrors as exc:
            _apply_problems(form, exc)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已保存"))
            return redirect("people:staff_detail", staff.pk)
    return render(request, "people/student_form.html", {"form": form, "title": _("修改教职工信息"), "staff": staff})


@login_required
@require_POST
def password_reset(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """A temporary password for a staff member or a student who forgot theirs (shown once, logged)."""
    person: Any = (
        selectors.staff_for(actor=request.user, staff_id=pk)
        if kind == "staff"
        else selectors.student_for(actor=request.user, student_id=pk)
        if kind == "student"
        else None
    )
    if person is None:
        raise Http404
    try:
        password = services.reset_password(actor=request.user, person=person)
    except NotPermitted:
        return render(request, "403.html", status=403)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("{name} 的临时密码：{pw}（只显示这一次，下次登录须修改）").format(name=person.name, pw=password)
        )
    return redirect("people:staff_detail" if kind == "staff" else "people:student", pk)


@login_required
@require_POST
def guardian_notify(request: HttpRequest, link_id: int) -> HttpResponse:
    """htmx: switch whether a guardian receives notices about this child."""
    link = selectors.guardian_links_visible_to(actor=request.user).filter(pk=link_id).first()
    if link is None:
        raise Http404
    try:
        link = services.set_guardian_notification(
            actor=request.user, link_id=link.pk, may_notify=request.POST.get("may_notify") == "1"
        )
    except NotPermitted:
        return render(request, "403.html", status=403)
    if request.headers.get("HX-Request"):
        return render(request, "people/_notify_toggle.html", {"link": link, "can_edit": True})
    return redirect("people:student", link.student_id)
