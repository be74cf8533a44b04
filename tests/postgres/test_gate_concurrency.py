"""Passages under real concurrency on PostgreSQL: the same batch uploaded four times at the same instant
(a gate retrying while its first upload still runs) is stored once, each guardian is told once, and a
teacher's correction racing a passage is kept. The tests commit; they delete what they wrote afterwards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from zhixiao.attendance import services
from zhixiao.attendance.models import AttendanceDay, GateEvent
from zhixiao.devices import services as devices
from zhixiao.devices.models import Device, DeviceNonce
from zhixiao.identity.models import Account
from zhixiao.notifications.models import InboxItem, Outbox
from zhixiao.org.models import CalendarDay
from zhixiao.people.models import Student, StudentStatus

from .test_concurrency import run_together

pytestmark = pytest.mark.postgres


@pytest.fixture
def gate(committed_db: Any) -> Iterator[tuple[devices.DeviceIdentity, list[Student], dt.date]]:
    teacher = Account.objects.get(username=next(x for x in pytest.demo_logins if x.role == "homeroom_teacher").username)  # type: ignore[attr-defined]
    students = list(
        Student.objects.filter(admin_class__homeroom_teacher=teacher, status=StudentStatus.ENROLLED).order_by("pk")[:30]
    )
    school_id = students[0].school_id
    device, _secret = devices.register_device(actor=None, school_id=school_id, kind="gate", name="并发测试闸机")
    identity = devices.DeviceIdentity(
        id=device.pk, school_id=school_id, kind="gate", name=device.name, direction="both", admin_class_id=None
    )
    day = timezone.localdate() - dt.timedelta(days=1)
    made_school_day = not any(
        services.is_school_day(school_id, timezone.localdate() - dt.timedelta(days=back)) for back in range(1, 11)
    )
    if made_school_day:  # the holidays: the school makes yesterday an extra day
        CalendarDay.objects.create(school_id=school_id, date=day, is_school_day=True, note="补课")
        services.forget_rules(school_id)
    else:
        while not services.is_school_day(school_id, day):
            day -= dt.timedelta(days=1)
    yield identity, students, day
    if made_school_day:
        CalendarDay.objects.filter(school_id=school_id, date=day).delete()
        services.forget_rules(school_id)
    keys = [f"arrive:{s.pk}:{day:%Y%m%d}" for s in students] + [f"late:{s.pk}:{day:%Y%m%d}" for s in students]
    InboxItem.objects.filter(outbox__dedup_key__in=keys).delete()
    Outbox.objects.filter(dedup_key__in=keys).delete()
    AttendanceDay.objects.filter(student__in=students, date=day).delete()
    GateEvent.objects.filter(device_id=device.pk).delete()
    DeviceNonce.objects.filter(device=device).delete()
    Device.objects.filter(pk=device.pk).delete()


def test_the_same_batch_four_times_at_once_is_stored_once_and_told_once(gate: Any) -> None:
    device, students, day = gate
    at = dt.datetime.combine(day, dt.time(7, 10), tzinfo=services.LOCAL)
    batch = [
        services.PassageIn(f"race-{s.pk}", s.student_no, "in", at + dt.timedelta(seconds=i))
        for i, s in enumerate(students)
    ]
    results = run_together(4, lambda i: services.record_passages(device=device, items=batch))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r["accepted"] for r in results) == len(batch)
    assert sum(r["duplicates"] for r in results) == 3 * len(batch)
    assert GateEvent.objects.filter(device_id=device.id).count() == len(batch)
    assert AttendanceDay.objects.filter(student__in=students, date=day).count() == len(students)
    keys = [f"arrive:{s.pk}:{day:%Y%m%d}" for s in students]
    rows = list(Outbox.objects.filter(dedup_key__in=keys).values_list("dedup_key", "recipient_id", "channel"))
    assert rows and len(rows) == len(set(rows))


def test_a_correction_racing_a_passage_is_kept(gate: Any) -> None:
    device, students, day = gate
    student = students[0]
    teacher = Account.objects.get(pk=student.admin_class.homeroom_teacher_id)  # type: ignore[union-attr]
    first = dt.datetime.combine(day, dt.time(7, 50), tzinfo=services.LOCAL)
    services.record_passages(device=device, items=[services.PassageIn("c-0", student.student_no, "in", first)])
    record = AttendanceDay.objects.get(student=student, date=day)
    assert record.status == "late"

    def work(i: int) -> Any:
        if i == 0:
            return services.correct_day(actor=teacher, day_id=record.pk, status="present", reason="集体活动晚到")
        return services.record_passages(
            device=device, items=[services.PassageIn("c-1", student.student_no, "out", first + dt.timedelta(hours=1))]
        )

    results = run_together(2, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    record.refresh_from_db()
    assert record.corrected and record.status == "present"
