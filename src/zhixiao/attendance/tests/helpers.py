"""Signed device requests through Django's test client, and a recent school day to put passages on."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.test import Client
from django.utils import timezone

from zhixiao.attendance import services
from zhixiao.devices import services as device_services
from zhixiao.devices.engine import signing
from zhixiao.devices.models import Device


def register(
    school_id: int, kind: str = "gate", name: str = "南门闸机1", direction: str = "both"
) -> tuple[Device, str]:
    return device_services.register_device(actor=None, school_id=school_id, kind=kind, name=name, direction=direction)


def meta(headers: dict[str, str]) -> dict[str, str]:
    return {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}


def signed(
    client: Client,
    device: Device,
    secret: str,
    method: str,
    path: str,
    payload: Any = None,
    nonce: str | None = None,
    **overrides: str,
) -> Any:
    """`overrides` replace headers after signing (a tampered request); `nonce` is signed as given."""
    body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
    headers = signing.signed_headers(device.pk, secret, method, path, body)
    if nonce is not None:
        headers["X-Nonce"] = nonce
        headers["X-Signature"] = signing.sign(secret, method, path, headers["X-Timestamp"], nonce, body)
    headers |= overrides
    if method == "GET":
        return client.get(path, **meta(headers))  # type: ignore[arg-type]
    return client.post(path, data=body, content_type="application/json", **meta(headers))  # type: ignore[arg-type]


def recent_school_day(school_id: int, before: dt.date | None = None) -> dt.date:
    """The last school day before today (passages must not lie in the future nor a month back). In the
    winter or summer holidays the school makes yesterday an extra day (补课), as schools do."""
    from zhixiao.org.models import CalendarDay

    today = before or timezone.localdate()
    for back in range(1, 11):
        day = today - dt.timedelta(days=back)
        if services.is_school_day(school_id, day):
            return day
    day = today - dt.timedelta(days=1)
    CalendarDay.objects.update_or_create(
        school_id=school_id, date=day, defaults={"is_school_day": True, "note": "补课"}
    )
    services.forget_rules(school_id)
    return day


def at(day: dt.date, hhmm: str) -> str:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=services.LOCAL).isoformat()
