"""The device API on the demo school: signatures, live decisions, idempotent passages folded into the day,
guardians told once, the offline copy."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from zhixiao.attendance import services
from zhixiao.attendance.models import AttendanceDay, GateEvent, GatePass
from zhixiao.devices.models import DeviceNonce
from zhixiao.kernel.permissions import Role
from zhixiao.notifications.models import Outbox
from zhixiao.people import services as people_services
from zhixiao.people.models import Boarding, GuardianLink, Staff, Student, StudentStatus

from .helpers import at, recent_school_day, register, signed

pytestmark = pytest.mark.django_db

DECIDE = "/api/v1/devices/decide"
EVENTS = "/api/v1/devices/events"


def _student(account_for: Any, boarding: str) -> Student:
    teacher = account_for(Role.HOMEROOM_TEACHER)
    student = (
        Student.objects.filter(admin_class__homeroom_teacher=teacher, status=StudentStatus.ENROLLED)
        .filter(guardian_links__guardian__account__isnull=False)
        .order_by("student_no")
        .first()
    )
    assert student is not None
    if student.boarding != boarding:
        people_services.update_student(actor=teacher, student_id=student.pk, data={"boarding": boarding})
        student.refresh_from_db()
    return student


def _decide(client: Client, device: Any, secret: str, credential: str, direction: str, when: str) -> dict[str, Any]:
    r = signed(client, device, secret, "POST", DECIDE, {"credential": credential, "direction": direction, "time": when})
    assert r.status_code == 200, r.content
    return r.json()  # type: ignore[no-any-return]


def test_boarder_cannot_leave_on_a_school_day_but_day_student_may_after_dismissal(account_for: Any) -> None:
    boarder = _student(account_for, Boarding.BOARDING)
    device, secret = register(boarder.school_id)
    client = Client()
    day = recent_school_day(boarder.school_id)
    out = _decide(client, device, secret, boarder.student_no, "out", at(day, "17:30"))
    assert out["allow"] is False and out["code"] == "no_leave" and out["person"]["name"] == boarder.name

    teacher = account_for(Role.HOMEROOM_TEACHER)
    people_services.update_student(actor=teacher, student_id=boarder.pk, data={"boarding": Boarding.DAY})
    assert GatePass.objects.get(person_kind="student", person_id=boarder.pk).boarding == "day"
    assert _decide(client, device, secret, boarder.student_no, "out", at(day, "17:30"))["allow"] is True
    early = _decide(client, device, secret, boarder.student_no, "out", at(day, "15:00"))
    assert early["allow"] is False and early["code"] == "before_dismissal"
    late = _decide(client, device, secret, boarder.student_no, "in", at(day, "07:45"))
    assert late["allow"] is True and late["late"] is True


def test_staff_pass_and_suspended_students_are_refused(account_for: Any) -> None:
    student = _student(account_for, Boarding.DAY)
    device, secret = register(student.school_id)
    client = Client()
    day = recent_school_day(student.school_id)
    staff = Staff.objects.filter(school_id=student.school_id, status="active").first()
    assert staff is not None
    assert _decide(client, device, secret, staff.staff_no, "out", at(day, "10:00"))["code"] == "staff"
    admin = account_for(Role.SCHOOL_ADMIN)
    people_services.change_student_status(actor=admin, student_id=student.pk, status=StudentStatus.SUSPENDED, since=day)
    refused = _decide(client, device, secret, student.student_no, "in", at(day, "07:00"))
    assert refused["allow"] is False and "休学" in refused["reason"]
    unknown = _decide(client, device, secret, "NO-SUCH-CARD", "in", at(day, "07:00"))
    assert unknown == {"allow": False, "reason": "未登记的卡或人脸", "code": "unknown", "late": False, "person": None}


def test_signature_problems_are_refused_with_a_reason_and_write_nothing(account_for: Any) -> None:
    student = _student(account_for, Boarding.DAY)
    device, secret = register(student.school_id)
    client = Client()
    day = recent_school_day(student.school_id)
    batch = {
        "events": [{"event_id": "e1", "credential": student.student_no, "direction": "in", "time": at(day, "07:10")}]
    }
    bad = signed(client, device, "not-the-secret", "POST", EVENTS, batch)
    assert bad.status_code == 401 and bad.json()["detail"] == "签名不正确"
    skewed = signed(client, device, secret, "POST", EVENTS, batch, **{"X-Timestamp": "1000000000"})
    assert skewed.status_code == 401 and "超过 5 分钟" in skewed.json()["detail"]
    missing = client.post(EVENTS, data=batch, content_type="application/json")
    assert missing.status_code == 401 and "X-Device-Id" in missing.json()["detail"]
    unknown = signed(client, device, secret, "POST", EVENTS, batch, **{"X-Device-Id": "999999"})
    assert unknown.status_code == 401 and "未知设备" in unknown.json()["detail"]
    assert not GateEvent.objects.filter(device_id=device.pk).exists()

    first = signed(client, device, secret, "POST", EVENTS, batch, nonce="nonce-0001")
    assert first.status_code == 200
    replay = signed(client, device, secret, "POST", EVENTS, batch, nonce="nonce-0001")
    assert replay.status_code == 401 and "重放" in replay.json()["detail"]
    assert DeviceNonce.objects.filter(device=device, nonce="nonce-0001").count() == 1


def test_malformed_batches_are_refused_whole(account_for: Any) -> None:
    student = _student(account_for, Boarding.DAY)
    device, secret = register(student.school_id, direction="in")
    client = Client()
    day = recent_school_day(student.school_id)
    good = {"event_id": "ok", "credential": student.student_no, "direction": "in", "time": at(day, "07:10")}
    cases = [
        ({"events": []}, 422),
        ({"events": [good | {"direction": "sideways"}]}, 422),
        ({"events": [good, good]}, 400),
        ({"events": [good, good | {"event_id": "b", "direction": "out"}]}, 400),
        ({"events": [good | {"event_id": "f", "time": "2099-01-01T07:00:00+08:00"}]}, 400),
        ({"events": [good | {"event_id": "s", "snapshot": "***"}]}, 400),
        ({"events": [good] * 501}, 422),
    ]
    for payload, status in cases:
        r = signed(client, device, secret, "POST", EVENTS, payload)
        assert r.status_code == status, (payload, r.content)
        assert r.json()["detail"]
    assert not GateEvent.objects.filter(device_id=device.pk).exists()
    r = signed(client, device, secret, "POST", EVENTS, {"events": [good, good | {"event_id": "b", "direction": "out"}]})
    assert "本设备只登记" in r.json()["detail"]


def test_a_retried_batch_never_duplicates_and_guardians_hear_once(account_for: Any) -> None:
    student = _student(account_for, Boarding.DAY)
    device, secret = register(student.school_id)
    client = Client()
    day = recent_school_day(student.school_id)
    events = [
        {"event_id": "m-1", "credential": student.student_no, "direction": "in", "time": at(day, "07:42")},
        {"event_id": "m-2", "credential": "STRANGER-CARD", "direction": "in", "time": at(day, "07:43")},
        {"event_id": "m-3", "credential": student.student_no, "direction": "out", "time": at(day, "17:20")},
    ]
    first = signed(client, device, secret, "POST", EVENTS, {"events": events}).json()
    assert (first["accepted"], first["duplicates"], first["anomalies"]) == (3, 0, 1)
    assert [r["status"] for r in first["results"]] == ["recorded", "anomaly", "recorded"]
    again = signed(client, device, secret, "POST", EVENTS, {"events": events}).json()
    assert (again["accepted"], again["duplicates"]) == (0, 3)
    assert GateEvent.objects.filter(device_id=device.pk).count() == 3
    record = AttendanceDay.objects.get(student=student, date=day)
    assert record.status == "late" and record.late_minutes == 12 and record.last_out is not None

    guardians = set(
        GuardianLink.objects.filter(student=student, may_notify=True).values_list("guardian__account_id", flat=True)
    )
    sent = Outbox.objects.filter(recipient_id__in=guardians, channel="inapp", template__startswith="attendance.")
    assert sorted(sent.values_list("template", flat=True)) == sorted(
        ["attendance.late", "attendance.departed"] * len(guardians)
    )
    # a late upload of an earlier passage (the gate was offline) refolds the day; still one message each
    offline = [{"event_id": "m-0", "credential": student.student_no, "direction": "in", "time": at(day, "07:05")}]
    signed(client, device, secret, "POST", EVENTS, {"events": offline})
    record.refresh_from_db()
    assert record.status == "present" and record.late_minutes == 0
    assert sent.filter(template="attendance.late").count() == len(guardians)


def test_the_offline_copy_lists_changes_since_a_cursor(account_for: Any) -> None:
    student = _student(account_for, Boarding.DAY)
    device, secret = register(student.school_id)
    client = Client()
    path = f"/api/v1/devices/{device.pk}/permissions"
    full = signed(client, device, secret, "GET", path + "?since=0").json()
    assert full["full"] is True and full["passes"]
    numbers = {p["number"] for p in full["passes"]}
    assert student.student_no in numbers
    cursor = full["cursor"]
    while full["more"]:
        full = signed(client, device, secret, "GET", f"{path}?since={cursor}").json()
        cursor = full["cursor"]
    assert signed(client, device, secret, "GET", f"{path}?since={cursor}").json()["passes"] == []

    admin = account_for(Role.SCHOOL_ADMIN)
    people_services.change_student_status(
        actor=admin, student_id=student.pk, status=StudentStatus.TRANSFERRED_OUT, since=dt.date.today()
    )
    changes = signed(client, device, secret, "GET", f"{path}?since={cursor}").json()
    assert [(p["number"], p["active"], p["status"]) for p in changes["passes"]] == [(student.student_no, False, "10")]
    other, other_secret = register(student.school_id, name="北门闸机")
    assert signed(client, other, other_secret, "GET", path).status_code == 403
    assert len(changes["schedule"]["days"]) == 14


def test_a_device_acts_only_within_its_own_school(account_for: Any) -> None:
    here = _student(account_for, Boarding.DAY)
    far = Student.objects.exclude(school_id=here.school_id).first()
    assert far is not None
    device, secret = register(here.school_id)
    client = Client()
    day = recent_school_day(here.school_id)
    decision = _decide(client, device, secret, far.student_no, "in", at(day, "07:00"))
    assert decision["allow"] is False and decision["person"] is None
    r = signed(
        client,
        device,
        secret,
        "POST",
        EVENTS,
        {"events": [{"event_id": "x", "credential": far.student_no, "direction": "in", "time": at(day, "07:00")}]},
    )
    assert r.json()["anomalies"] == 1
    assert GateEvent.objects.get(device_id=device.pk).student_id is None
    assert not AttendanceDay.objects.filter(student=far, date=day).exists()
    assert services.refresh_passes(school_id=here.school_id) == 0  # nothing drifted


def test_a_consented_face_opens_the_gate_and_withdrawal_removes_it_from_the_devices(account_for: Any) -> None:
    from zhixiao.faces import services as faces
    from zhixiao.faces import statement
    from zhixiao.faces.tests.conftest import png

    guardian = account_for(Role.GUARDIAN)
    child = GuardianLink.objects.filter(guardian__account=guardian).select_related("student").first().student  # type: ignore[union-attr]
    device, secret = register(child.school_id)
    client = Client()
    day = recent_school_day(child.school_id)
    feed = f"/api/v1/devices/{device.pk}/permissions"
    cursor = 0
    while True:
        page = signed(client, device, secret, "GET", f"{feed}?since={cursor}").json()
        cursor = page["cursor"]
        if not page["more"]:
            break

    enrolment = faces.give_consent_and_enrol(
        actor=guardian, student_id=child.pk, photo=png(), statement_version=statement.VERSION
    )
    seen = _decide(client, device, secret, enrolment.face_id, "in", at(day, "07:05"))
    assert seen["allow"] is True and seen["person"]["name"] == child.name
    added = signed(client, device, secret, "GET", f"{feed}?since={cursor}").json()
    (entry,) = added["passes"]
    assert {"kind": "face", "credential": enrolment.face_id} in entry["credentials"]

    faces.withdraw_consent(actor=guardian, student_id=child.pk)
    assert _decide(client, device, secret, enrolment.face_id, "in", at(day, "07:06"))["code"] == "unknown"
    removed = signed(client, device, secret, "GET", f"{feed}?since={added['cursor']}").json()
    (entry,) = removed["passes"]
    assert all(c["kind"] != "face" for c in entry["credentials"])
