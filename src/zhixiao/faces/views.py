"""Pages of the face library: a guardian's 人脸识别授权 (own children only), the photo for that guardian,
and the school's list of consents for those who manage its devices (no photos)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from zhixiao.kernel import permissions
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.people import selectors as people_selectors

from . import photos, selectors, services, statement
from .forms import EnrolForm, ReplaceForm, WithdrawOnRequestForm

STATUSES = (("", gettext_lazy("全部")), ("active", gettext_lazy("有效")), ("withdrawn", gettext_lazy("已撤回/已结束")))


def _is_guardian(request: HttpRequest) -> bool:
    return bool(selectors.guardian_student_ids(request.user))


def _own_child(request: HttpRequest, student_id: int) -> None:
    """Another family's child is 404: the page does not say whether that child exists."""
    if student_id not in selectors.guardian_student_ids(request.user):
        raise Http404


@login_required
def guardian(request: HttpRequest) -> HttpResponse:
    if not _is_guardian(request):
        return render(request, "403.html", status=403)
    return render(
        request,
        "faces/guardian.html",
        {
            "children": selectors.children_with_faces(actor=request.user),
            "statement_title": statement.TITLE,
            "statement_paragraphs": statement.PARAGRAPHS,
            "statement_version": statement.VERSION,
            "enrol_form": EnrolForm(),
            "replace_form": ReplaceForm(),
            "max_kb": photos.MAX_BYTES // 1024,
        },
    )


def _act(request: HttpRequest, act: Callable[[], Any], done: str, back: str = "faces:guardian") -> HttpResponse:
    try:
        act()
    except NotPermitted:
        return render(request, "403.html", status=403)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect(back)


def _form_errors(request: HttpRequest, form: Any) -> HttpResponse:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect("faces:guardian")


@login_required
@require_POST
def enrol(request: HttpRequest, student_id: int) -> HttpResponse:
    _own_child(request, student_id)
    form = EnrolForm(request.POST, request.FILES)
    if not form.is_valid():
        return _form_errors(request, form)
    data = form.cleaned_data
    return _act(
        request,
        lambda: services.give_consent_and_enrol(
            actor=request.user, student_id=student_id, photo=data["photo"], statement_version=data["statement_version"]
        ),
        _("已授权，照片已上传；校门设备将在几分钟内更新"),
    )


@login_required
@require_POST
def replace(request: HttpRequest, student_id: int) -> HttpResponse:
    _own_child(request, student_id)
    form = ReplaceForm(request.POST, request.FILES)
    if not form.is_valid():
        return _form_errors(request, form)
    return _act(
        request,
        lambda: services.replace_photo(actor=request.user, student_id=student_id, photo=form.cleaned_data["photo"]),
        _("照片已更换，旧照片已删除"),
    )


@login_required
@require_POST
def withdraw(request: HttpRequest, student_id: int) -> HttpResponse:
    _own_child(request, student_id)
    return _act(
        request,
        lambda: services.withdraw_consent(actor=request.user, student_id=student_id),
        _("已撤回授权，照片已删除，校门设备将同步移除"),
    )


@login_required
@never_cache
def photo(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    """The photo, to a guardian of its student only; to anyone else the URL does not exist."""
    enrolment = selectors.photo_for(actor=request.user, enrolment_id=enrolment_id)
    if enrolment is None or enrolment.photo is None:
        raise Http404
    response = HttpResponse(bytes(enrolment.photo), content_type=enrolment.photo_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


def _may_manage(request: HttpRequest) -> bool:
    return permissions.has_any(request.user, permissions.MANAGE_DEVICES)


@login_required
def school(request: HttpRequest) -> HttpResponse:
    if not _may_manage(request):
        return render(request, "403.html", status=403)
    school_id = people_selectors.home_school_id(request.user)
    status = request.GET.get("status", "") if request.GET.get("status") in ("active", "withdrawn") else ""
    qs = selectors.consents_for_school(actor=request.user, school_id=school_id, status=status)
    return render(
        request,
        "faces/school.html",
        {
            "page": Paginator(qs, 50).get_page(request.GET.get("page")),
            "counts": selectors.school_counts(actor=request.user, school_id=school_id),
            "statuses": STATUSES,
            "status": status,
            "querystring_base": f"status={status}&" if status else "",
        },
    )


@login_required
@require_POST
def school_withdraw(request: HttpRequest, student_id: int) -> HttpResponse:
    if not _may_manage(request):
        return render(request, "403.html", status=403)
    if not selectors.consent_visible_to_manager(actor=request.user, student_id=student_id):
        raise Http404
    form = WithdrawOnRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("代为撤回须注明监护人的书面申请（申请人、日期）"))
        return redirect("faces:school")
    return _act(
        request,
        lambda: services.withdraw_consent(actor=request.user, student_id=student_id, note=form.cleaned_data["note"]),
        _("已按监护人书面申请撤回授权，照片已删除"),
        back="faces:school",
    )
