"""Gates for the demo school: its devices, the school's rules, and the passages of the last school day and of
today so far, recorded through the same service the device API calls (so the board, the reports and the
guardians' inboxes show what a real morning looks like)."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from zhixiao.devices import services as device_services
from zhixiao.devices.services import DeviceIdentity

from . import services
from .models import GatePass, PersonKind


def _identity(school_id: int, kind: str, name: str, direction: str = "both") -> DeviceIdentity:
    device, _secret = device_services.register_device(
        actor=None, school_id=school_id, kind=kind, name=name, place=name, direction=direction
    )
    return DeviceIdentity(
        id=device.pk, school_id=school_id, kind=kind, name=name, direction=direction, admin_class_id=None
    )


def build(*, school_id: int, seed: int = 1, now: dt.datetime | None = None) -> int:
    """Devices, rules and passages for one school; returns the number of passages recorded."""
    rng = random.Random(seed)
    now = services.local(now or timezone.now())
    services.save_rule(
        actor=None,
        school_id=school_id,
        on_time_by=dt.time(7, 30),
        late_until=dt.time(8, 0),
        dismissal_at=dt.time(17, 10),
    )
    services.save_rule(
        actor=None,
        school_id=school_id,
        boarding="boarding",
        on_time_by=dt.time(7, 20),
        late_until=dt.time(7, 50),
        dismissal_at=dt.time(17, 10),
        evening_study_end=dt.time(21, 20),
        dorm_check_in_by=dt.time(21, 50),
    )
    gate = _identity(school_id, "gate", "南门闸机")
    dorm = _identity(school_id, "dorm_gate", "学生宿舍门禁")
    passes = list(
        GatePass.objects.filter(school_id=school_id, person_kind=PersonKind.STUDENT, status="01", active=True)
    )
    days: list[dt.date] = []
    day = now.date() - dt.timedelta(days=1)
    while len(days) < 1 and day > now.date() - dt.timedelta(days=14):
        if services.is_school_day(school_id, day):
            days.append(day)
        day -= dt.timedelta(days=1)
    if services.is_school_day(school_id, now.date()):
        days.append(now.date())
    recorded = 0
    for date in days:
        at_gate: list[services.PassageIn] = []
        at_dorm: list[services.PassageIn] = []

        def when(hh: int, mm: int, spread: int, date: dt.date = date) -> dt.datetime:
            base = dt.datetime.combine(date, dt.time(hh, mm), tzinfo=services.LOCAL)
            return base + dt.timedelta(seconds=rng.randint(0, spread * 60))

        for p in passes:
            if rng.random() < 0.02:
                continue  # absent
            key = f"{date:%Y%m%d}-{p.person_id}"
            if p.boarding == "boarding":
                at_dorm.append(services.PassageIn(f"d-out-{key}", p.number, "out", when(6, 30, 20)))
                at_dorm.append(services.PassageIn(f"d-in-{key}", p.number, "in", when(21, 25, 30)))
            else:
                late = rng.random() < 0.05
                at_gate.append(
                    services.PassageIn(f"g-in-{key}", p.number, "in", when(7, 32, 20) if late else when(6, 50, 38))
                )
                at_gate.append(services.PassageIn(f"g-out-{key}", p.number, "out", when(17, 12, 25)))
        at_gate.append(services.PassageIn(f"g-unknown-{date:%Y%m%d}", "E2004711CARD", "in", when(7, 5, 10)))
        for device, items in ((gate, at_gate), (dorm, at_dorm)):
            items = [i for i in items if i.time <= now]
            items.sort(key=lambda i: i.time)
            for start in range(0, len(items), services.MAX_BATCH):
                recorded += services.record_passages(device=device, items=items[start : start + services.MAX_BATCH])[
                    "accepted"
                ]
        services.sweep_absences(
            school_id=school_id, now=min(now, dt.datetime.combine(date, dt.time(23, 0), tzinfo=services.LOCAL))
        )
    return recorded
