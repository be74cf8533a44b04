"""Pages of the smart office: quick links to file a request, my lessons to cover, repairs."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhixiao.kernel.converters import row_id
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.people import selectors as people_selectors
from zhixiao.workflow import selectors as workflow_selectors

from . import flows, selectors, services
from .models import RepairStatus


@login_required
def home(request: HttpRequest) -> HttpResponse:
    school_id = people_selectors.home_school_id(request.user)
    kinds = (
        {d.key: d for d in workflow_selectors.definitions_to_start(actor=request.user, school_id=school_id)}
        if school_id
        else {}
    )
    quick = [
        kinds[k] for k in (flows.TEACHER_LEAVE, flows.REPAIR, flows.SEAL, flows.VEHICLE, flows.GENERAL) if k in kinds
    ]
    return render(
        request,
        "office/home.html",
        {
            "quick": quick,
            "counts": workflow_selectors.counts(actor=request.user),
            "covers": selectors.covers_taught_by(actor=request.user)[:10],
            "repairs": selectors.repairs_for(actor=request.user).exclude(status=RepairStatus.CLOSED)[:10],
        },
    )


@login_required
def covers(request: HttpRequest) -> HttpResponse:
    return render(request, "office/covers.html", {"covers": selectors.covers_taught_by(actor=request.user)})


@login_required
def repairs(request: HttpRequest) -> HttpResponse:
    return render(request, "office/repairs.html", {"orders": selectors.repairs_for(actor=request.user)[:200]})


def _repair_action(request: HttpRequest, order_id: int, act: Any, done: str) -> HttpResponse:
    """Hidden orders are 404, someone else's 403, a refused action a message on the list."""
    if not selectors.repairs_for(actor=request.user).filter(pk=order_id).exists():
        raise Http404
    try:
        act()
    except NotPermitted:
        return render(request, "403.html", status=403)
    except DomainError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, done)
    return redirect("office:repairs")


@login_required
@require_POST
def repair_done(request: HttpRequest, order_id: int) -> HttpResponse:
    note = request.POST.get("note", "")
    return _repair_action(
        request,
        order_id,
        lambda: services.finish_repair(actor=request.user, order_id=order_id, note=note),
        _("已登记维修结果"),
    )


@login_required
@require_POST
def repair_rate(request: HttpRequest, order_id: int) -> HttpResponse:
    rating, note = row_id(request.POST.get("rating")) or 0, request.POST.get("note", "")
    return _repair_action(
        request,
        order_id,
        lambda: services.rate_repair(actor=request.user, order_id=order_id, rating=rating, note=note),
        _("感谢评价"),
    )
