"""Reads of devices, scoped to the schools the actor manages devices for."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from zhixiao.kernel import permissions

from .models import Device


def devices_visible_to(*, actor: Any) -> QuerySet[Device]:
    return Device.objects.filter(permissions.scope_q(actor, permissions.MANAGE_DEVICES, Device))


def device_for(*, actor: Any, device_id: int) -> Device | None:
    return devices_visible_to(actor=actor).filter(pk=device_id).first()


def managed_school_id(actor: Any) -> int | None:
    return permissions.school_where(actor, permissions.MANAGE_DEVICES)


def device_named(*, school_id: int, name: str) -> int | None:
    """The id of the school's device with this name (the simulator re-keys its own gates on a rerun)."""
    return Device.objects.filter(school_id=school_id, name=name).values_list("pk", flat=True).first()
