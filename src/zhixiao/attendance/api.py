"""The device API (docs/device-api.md): passages in batches, live gate decisions, the offline copy.

Every endpoint is signed by a device (zhixiao.devices.api.DeviceSignatureAuth) and acts only within that
device's school."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from zhixiao.devices.api import DeviceSignatureAuth, device_of
from zhixiao.kernel.api import RowId

from . import services

router = Router(tags=["devices"], auth=DeviceSignatureAuth())


class PassageSchema(Schema):
    event_id: str = Field(min_length=1, max_length=64)
    credential: str = Field(min_length=1, max_length=64)
    direction: Literal["in", "out"]
    time: dt.datetime
    snapshot: str | None = Field(default=None, max_length=300_000)
    period: int | None = Field(default=None, ge=1, le=20)


class BatchIn(Schema):
    events: list[PassageSchema] = Field(min_length=1, max_length=services.MAX_BATCH)
    school: str | None = Field(default=None, max_length=10, description="学校标识码; if given, the device's own")


class ResultOut(Schema):
    event_id: str
    status: str


class BatchOut(Schema):
    accepted: int
    duplicates: int
    anomalies: int
    results: list[ResultOut]


class DecideIn(Schema):
    credential: str = Field(min_length=1, max_length=64)
    direction: Literal["in", "out"]
    time: dt.datetime | None = None


class PersonOut(Schema):
    kind: str
    name: str
    number: str
    class_name: str


class DecideOut(Schema):
    allow: bool
    reason: str
    code: str
    late: bool
    person: PersonOut | None


@router.post("/devices/events", response=BatchOut, summary="Upload a batch of passages (idempotent per event_id)")
def events(request: HttpRequest, body: BatchIn) -> dict[str, Any]:
    device = device_of(request)
    if body.school is not None and body.school != device.school_code:
        raise HttpError(400, f"本设备属于学校 {device.school_code}，不能上报学校 {body.school} 的通行记录")
    items = [services.PassageIn(**e.dict()) for e in body.events]
    return services.record_passages(device=device, items=items)


@router.post("/devices/decide", response=DecideOut, summary="May this person pass now?")
def decide(request: HttpRequest, body: DecideIn) -> dict[str, Any]:
    from django.utils import timezone

    return services.gate_decision(
        device=device_of(request), credential=body.credential, direction=body.direction, at=body.time or timezone.now()
    )


@router.get("/devices/{device_id}/permissions", summary="Changes in who may pass when, since a cursor (offline mode)")
def permissions(request: HttpRequest, device_id: RowId, since: int = 0) -> dict[str, Any]:
    device = device_of(request)
    if device.id != device_id:
        raise HttpError(403, "只能读取本设备的通行名单")
    if since < 0:
        raise HttpError(422, "since 不能为负数")
    return services.permissions_feed(device=device, since=since)
