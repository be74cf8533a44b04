"""The system admin's pages: the schools of the installation, opening a school with its first admin, and
the bureaus' officers. Only a system grant opens them (system.manage)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from zhixiao.kernel import permissions
from zhixiao.kernel.errors import DomainError
from zhixiao.org import selectors as org_selectors
from zhixiao.people.records import RecordErrors

from . import services
from .forms import BureauOfficerForm, OpenSchoolForm


@login_required
def schools(request: HttpRequest) -> HttpResponse:
    if not permissions.has_any(request.user, permissions.MANAGE_SYSTEM):
        return render(request, "403.html", status=403)
    form = OpenSchoolForm(request.POST or None, prefix="school")
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            opened = services.open_school(
                actor=request.user,
                school={k: d[k] for k in ("code", "name", "school_type", "division_code", "address")},
                admin={"staff_no": d["admin_staff_no"], "name": d["admin_name"], "gender": d["admin_gender"]},
            )
        except RecordErrors as exc:
            for p in exc.problems:
                form.add_error(None, f"{p.field}: {p.reason}")
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("已开通 {school}；学校管理员 {name}，登录名 {no}，初始密码 {pw}（只显示这一次）").format(
                    school=opened.school.name, name=opened.admin.name, no=opened.admin.staff_no, pw=opened.password
                ),
            )
            return redirect("portal:schools")
    return render(
        request,
        "portal/schools.html",
        {
            "form": form,
            "bureau_form": BureauOfficerForm(prefix="bureau"),
            "schools": org_selectors.schools_visible_to(actor=request.user),
        },
    )


@login_required
def bureau_officer(request: HttpRequest) -> HttpResponse:
    if not permissions.has_any(request.user, permissions.MANAGE_SYSTEM):
        return render(request, "403.html", status=403)
    form = BureauOfficerForm(request.POST or None, prefix="bureau")
    if request.method == "POST" and form.is_valid():
        try:
            account, password = services.appoint_bureau_officer(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("已添加教育局账号 {name}，登录名 {user}，初始密码 {pw}（只显示这一次）").format(
                    name=account.display_name, user=account.username, pw=password
                ),
            )
            return redirect("portal:schools")
    return render(
        request,
        "portal/schools.html",
        {
            "form": OpenSchoolForm(prefix="school"),
            "bureau_form": form,
            "schools": org_selectors.schools_visible_to(actor=request.user),
        },
    )
