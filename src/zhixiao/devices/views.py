"""The school's devices: register (the secret is shown once), re-key, enable and disable."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhixiao.kernel.errors import DomainError, NotPermitted

from . import selectors, services
from .models import DeviceKind, Direction


@login_required
def devices(request: HttpRequest) -> HttpResponse:
    school_id = selectors.managed_school_id(request.user)
    if school_id is None:
        return render(request, "403.html", status=403)
    issued = None
    if request.method == "POST":
        p = request.POST
        try:
            device, secret = services.register_device(
                actor=request.user,
                school_id=school_id,
                kind=p.get("kind", ""),
                name=p.get("name", ""),
                place=p.get("place", ""),
                direction=p.get("direction", Direction.BOTH),
            )
        except (DomainError, NotPermitted) as e:
            messages.error(request, str(e))
        else:
            issued = {"id": device.pk, "name": device.name, "secret": secret}
    return render(
        request,
        "devices/devices.html",
        {
            "devices": selectors.devices_visible_to(actor=request.user),
            "kinds": DeviceKind.choices,
            "directions": Direction.choices,
            "issued": issued,
        },
    )


@login_required
@require_POST
def rotate(request: HttpRequest, device_id: int) -> HttpResponse:
    if selectors.device_for(actor=request.user, device_id=device_id) is None:
        raise Http404
    device, secret = services.rotate_secret(actor=request.user, device_id=device_id)
    return render(
        request,
        "devices/devices.html",
        {
            "devices": selectors.devices_visible_to(actor=request.user),
            "kinds": DeviceKind.choices,
            "directions": Direction.choices,
            "issued": {"id": device.pk, "name": device.name, "secret": secret},
        },
    )


@login_required
@require_POST
def toggle(request: HttpRequest, device_id: int) -> HttpResponse:
    device = selectors.device_for(actor=request.user, device_id=device_id)
    if device is None:
        raise Http404
    services.set_active(actor=request.user, device_id=device_id, active=not device.is_active)
    messages.success(
        request,
        _("已停用 %(name)s") % {"name": device.name}
        if device.is_active
        else _("已启用 %(name)s") % {"name": device.name},
    )
    return redirect("devices:list")
