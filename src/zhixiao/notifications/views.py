"""Pages: my inbox and its settings; for notification managers, the delivery status and the group robots."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhixiao.kernel import permissions
from zhixiao.kernel.errors import DomainError, NotPermitted

from . import selectors, services
from .forms import PreferenceForm, RobotForm
from .models import Channel, InboxItem, Status

PAGE_SIZE = 30


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.inbox_of(actor=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page, "querystring_base": ""})


@login_required
@require_POST
def mark_read(request: HttpRequest, item_id: int) -> HttpResponse:
    try:
        item = services.mark_read(actor=request.user, item_id=item_id)
    except InboxItem.DoesNotExist:
        raise Http404 from None
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "notifications/_item.html", {"item": item, "oob_bell": True})
    return redirect(item.url or reverse("notifications:inbox"))


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    services.mark_all_read(actor=request.user)
    return redirect("notifications:inbox")


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    pref = selectors.preference_of(actor=request.user)
    initial: dict[str, Any] = {"language": request.LANGUAGE_CODE if hasattr(request, "LANGUAGE_CODE") else ""}
    if pref:
        initial = {
            "channels": pref.channels,
            "email": pref.email,
            "quiet_start": pref.quiet_start,
            "quiet_end": pref.quiet_end,
            "language": pref.language,
        }
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_preferences(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("通知设置已保存"))
            return redirect("notifications:settings")
    return render(request, "notifications/settings.html", {"form": form, "mobile": request.user.mobile})  # type: ignore[union-attr]


def _may_manage(request: HttpRequest) -> bool:
    return permissions.has_any(request.user, permissions.MANAGE_NOTIFICATIONS)


@login_required
def deliveries(request: HttpRequest) -> HttpResponse:
    if not _may_manage(request):
        return render(request, "403.html", status=403)
    status = request.GET.get("status", "") if request.GET.get("status") in Status.values else ""
    channel = request.GET.get("channel", "") if request.GET.get("channel") in Channel.values else ""
    qs = selectors.deliveries_visible_to(actor=request.user, status=status, channel=channel)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    counts = selectors.delivery_counts(actor=request.user, channel=channel)
    params = {k: v for k, v in {"status": status, "channel": channel}.items() if v}
    return render(
        request,
        "notifications/deliveries.html",
        {
            "page": page,
            "counts": [(value, label, counts.get(value, 0)) for value, label in Status.choices],
            "statuses": Status.choices,
            "channels": Channel.choices,
            "status": status,
            "channel": channel,
            "retryable": services.RETRYABLE,
            "querystring_base": urlencode(params) + "&" if params else "",
        },
    )


@login_required
@require_POST
def retry(request: HttpRequest, outbox_id: int) -> HttpResponse:
    if not _may_manage(request):
        return render(request, "403.html", status=403)
    try:
        again = services.retry_delivery(actor=request.user, outbox_id=outbox_id)
    except NotPermitted:
        raise Http404 from None
    messages.success(request, _("已重新排队发送") if again else _("该通知无需重发"))
    return redirect(request.POST.get("next") or reverse("notifications:deliveries"))


def _school_choices(request: HttpRequest) -> list[int] | None:
    ids = services.manageable_school_ids(request.user)
    return None if ids is None else sorted(ids)


@login_required
def robots(request: HttpRequest) -> HttpResponse:
    if not _may_manage(request):
        return render(request, "403.html", status=403)
    return _robots_page(request, RobotForm(school_ids=_school_choices(request)))


def _robots_page(request: HttpRequest, form: RobotForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "notifications/robots.html",
        {"robots": selectors.robots_visible_to(actor=request.user), "form": form},
        status=status,
    )


@login_required
@require_POST
def robot_add(request: HttpRequest) -> HttpResponse:
    if not _may_manage(request):
        return render(request, "403.html", status=403)
    form = RobotForm(request.POST, school_ids=_school_choices(request))
    if form.is_valid():
        try:
            services.save_robot(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("群机器人已添加"))
            return redirect("notifications:robots")
    return _robots_page(request, form)


@login_required
def robot_edit(request: HttpRequest, robot_id: int) -> HttpResponse:
    if not _may_manage(request):
        return render(request, "403.html", status=403)
    robot = selectors.robot_for(actor=request.user, robot_id=robot_id)
    if robot is None:
        raise Http404
    initial = {f: getattr(robot, f) for f in ("school_id", "kind", "name", "webhook_url", "enabled")}
    form = RobotForm(request.POST or None, initial=initial, school_ids=[robot.school_id])
    form.fields["school_id"].disabled = True  # a robot stays with its school
    if request.method == "POST" and form.is_valid():
        data = {**form.cleaned_data, "school_id": robot.school_id}
        try:
            services.save_robot(actor=request.user, robot_id=robot.pk, **data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("群机器人已保存"))
            return redirect("notifications:robots")
    return render(request, "notifications/robot_edit.html", {"robot": robot, "form": form})


@login_required
@require_POST
def robot_enable(request: HttpRequest, robot_id: int) -> HttpResponse:
    if not _may_manage(request):
        return render(request, "403.html", status=403)
    try:
        services.set_robot_enabled(actor=request.user, robot_id=robot_id, enabled=request.POST.get("enabled") == "1")
    except NotPermitted:
        raise Http404 from None
    return redirect("notifications:robots")
