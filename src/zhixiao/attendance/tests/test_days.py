"""Day records: rules by grade and student type, absences and the guardians' alert at the set time, boarders
not back in the dorm, classroom check-ins per lesson, a homeroom teacher's audited correction."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from zhixiao.attendance import services
from zhixiao.attendance.engine import gate
from zhixiao.attendance.models import AttendanceDay
from zhixiao.kernel.audit import records_about
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.kernel.permissions import Role
from zhixiao.notifications.models import Outbox
from zhixiao.people.models import Boarding, GuardianLink, Student, StudentStatus

from .helpers import at, recent_school_day, register, signed

pytestmark = pytest.mark.django_db


def _class_of(account_for: Any) -> list[Student]:
    teacher = account_for(Role.HOMEROOM_TEACHER)
    return list(
        Student.objects.filter(admin_class__homeroom_teacher=teacher, status=StudentStatus.ENROLLED).order_by(
            "student_no"
        )[:4]
    )


def _post(device: Any, secret: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    r = signed(Client(), device, secret, "POST", "/api/v1/devices/events", {"events": events})
    assert r.status_code == 200, r.content
    return r.json()  # type: ignore[no-any-return]


def test_absent_without_leave_is_alerted_to_guardians_once_at_the_set_time(account_for: Any) -> None:
    students = _class_of(account_for)
    school_id = students[0].school_id
    device, secret = register(school_id)
    day = recent_school_day(school_id)
    services.save_rule(
        actor=account_for(Role.SCHOOL_ADMIN),
        school_id=school_id,
        on_time_by=dt.time(7, 20),
        late_until=dt.time(7, 50),
        dismissal_at=dt.time(17, 0),
    )
    _post(
        device,
        secret,
        [{"event_id": "a1", "credential": students[0].student_no, "direction": "in", "time": at(day, "07:05")}],
    )
    early = dt.datetime.combine(day, dt.time(7, 40), tzinfo=services.LOCAL)
    services.sweep_absences(school_id=school_id, now=early)
    assert AttendanceDay.objects.get(student=students[1], date=day).status == "pending"  # not past 07:50 yet

    alert = dt.datetime.combine(day, dt.time(8, 11), tzinfo=services.LOCAL)
    services.sweep_absences(school_id=school_id, now=alert)
    assert AttendanceDay.objects.get(student=students[0], date=day).status == "present"
    absent = AttendanceDay.objects.get(student=students[1], date=day)
    assert absent.status == "absent" and absent.alerted
    guardians = set(
        GuardianLink.objects.filter(student=students[1], may_notify=True).values_list("guardian__account_id", flat=True)
    )
    told = Outbox.objects.filter(dedup_key=f"absent:{students[1].pk}:{day:%Y%m%d}", channel="inapp")
    assert guardians <= set(told.values_list("recipient_id", flat=True))
    services.sweep_absences(school_id=school_id, now=alert + dt.timedelta(minutes=5))
    assert told.count() == len(set(told.values_list("recipient_id", flat=True)))  # once each

    # the gate was offline: the child's arrival comes in at noon and the absence becomes a late arrival
    _post(
        device,
        secret,
        [{"event_id": "a2", "credential": students[1].student_no, "direction": "in", "time": at(day, "07:55")}],
    )
    absent.refresh_from_db()
    assert absent.status == "late" and absent.late_minutes == 35


def test_a_grade_rule_beats_the_school_rule_and_boarders_not_back_are_alerted(account_for: Any) -> None:
    students = _class_of(account_for)
    boarder = students[2]
    Student.objects.filter(pk=boarder.pk).update(boarding=Boarding.BOARDING)
    school_id = boarder.school_id
    services.refresh_passes(school_id=school_id, student_ids=[boarder.pk])
    admin = account_for(Role.SCHOOL_ADMIN)
    grade_id = boarder.admin_class.grade_id  # type: ignore[union-attr]
    services.save_rule(
        actor=admin,
        school_id=school_id,
        on_time_by=dt.time(7, 30),
        late_until=dt.time(8, 0),
        dismissal_at=dt.time(17, 0),
    )
    services.save_rule(
        actor=admin,
        school_id=school_id,
        grade_id=grade_id,
        boarding=Boarding.BOARDING,
        on_time_by=dt.time(6, 50),
        late_until=dt.time(7, 30),
        dismissal_at=dt.time(17, 40),
        evening_study_end=dt.time(21, 30),
        dorm_check_in_by=dt.time(22, 0),
    )
    assert services.rule_for(school_id, grade_id, "boarding").on_time_by == dt.time(6, 50)
    assert services.rule_for(school_id, grade_id, "day").on_time_by == dt.time(7, 30)
    day = recent_school_day(school_id)
    dorm, dorm_secret = register(school_id, kind="dorm_gate", name="男生宿舍")
    other = students[3]
    Student.objects.filter(pk=other.pk).update(boarding=Boarding.BOARDING)
    services.refresh_passes(school_id=school_id, student_ids=[other.pk])
    _post(
        dorm,
        dorm_secret,
        [
            {"event_id": "d1", "credential": boarder.student_no, "direction": "out", "time": at(day, "06:40")},
            {"event_id": "d2", "credential": other.student_no, "direction": "out", "time": at(day, "06:45")},
            {"event_id": "d3", "credential": other.student_no, "direction": "in", "time": at(day, "22:20")},
        ],
    )
    night = dt.datetime.combine(day, dt.time(22, 5), tzinfo=services.LOCAL)
    assert services.sweep_dorms(school_id=school_id, now=night) >= 1  # the demo's other boarders did not pass either
    assert AttendanceDay.objects.get(student=boarder, date=day).dorm_status == "not_back"
    assert AttendanceDay.objects.get(student=other, date=day).dorm_status == "late_back"  # 晚归
    assert Outbox.objects.filter(
        dedup_key=f"not_back:{boarder.pk}:{day:%Y%m%d}", template="attendance.not_back"
    ).exists()
    assert services.sweep_dorms(school_id=school_id, now=night + dt.timedelta(minutes=10)) == 0


def test_classroom_terminals_record_the_lesson(account_for: Any) -> None:
    student = _class_of(account_for)[0]
    school_id = student.school_id
    services.save_rule(
        actor=None,
        school_id=school_id,
        on_time_by=dt.time(7, 30),
        late_until=dt.time(8, 0),
        dismissal_at=dt.time(17, 0),
        periods=[{"n": 1, "start": "08:00", "end": "08:45"}, {"n": 2, "start": "08:55", "end": "09:40"}],
    )
    terminal, secret = register(school_id, kind="classroom", name="高一(1)班终端", direction="in")
    day = recent_school_day(school_id)
    _post(
        terminal,
        secret,
        [
            {"event_id": "c1", "credential": student.student_no, "direction": "in", "time": at(day, "07:55")},
            {"event_id": "c2", "credential": student.student_no, "direction": "in", "time": at(day, "09:00")},
            {
                "event_id": "c3",
                "credential": student.student_no,
                "direction": "in",
                "time": at(day, "09:10"),
                "period": 2,
            },
        ],
    )
    record = AttendanceDay.objects.get(student=student, date=day)
    assert record.periods == [1, 2] and record.status == "late"  # first seen 07:55, after 07:30


def test_a_homeroom_teacher_corrects_a_day_with_a_reason_and_later_passages_keep_it(account_for: Any) -> None:
    student = _class_of(account_for)[0]
    device, secret = register(student.school_id)
    day = recent_school_day(student.school_id)
    _post(
        device,
        secret,
        [{"event_id": "k1", "credential": student.student_no, "direction": "in", "time": at(day, "07:50")}],
    )
    record = AttendanceDay.objects.get(student=student, date=day)
    teacher = account_for(Role.HOMEROOM_TEACHER)
    with pytest.raises(DomainError):
        services.correct_day(actor=teacher, day_id=record.pk, status="present", reason=" ")
    with pytest.raises(NotPermitted):
        services.correct_day(actor=account_for(Role.SUBJECT_TEACHER), day_id=record.pk, status="present", reason="x")
    services.correct_day(actor=teacher, day_id=record.pk, status="present", reason="班级外出活动，统一晚到")
    _post(
        device,
        secret,
        [{"event_id": "k2", "credential": student.student_no, "direction": "out", "time": at(day, "10:00")}],
    )
    record.refresh_from_db()
    assert record.status == "present" and record.corrected and record.correction_reason.startswith("班级外出")
    trail = records_about(record)
    assert trail and trail[0].action == "attendance.correct" and trail[0].actor_id == teacher.pk


def test_a_batch_naming_another_school_is_refused(account_for: Any) -> None:
    student = _class_of(account_for)[0]
    device, secret = register(student.school_id)
    day = recent_school_day(student.school_id)
    event = {"event_id": "s1", "credential": student.student_no, "direction": "in", "time": at(day, "07:00")}
    r = signed(Client(), device, secret, "POST", "/api/v1/devices/events", {"school": "0000000000", "events": [event]})
    assert r.status_code == 400 and "不能上报学校 0000000000" in r.json()["detail"]
    ok = signed(
        Client(), device, secret, "POST", "/api/v1/devices/events", {"school": student.school.code, "events": [event]}
    )
    assert ok.status_code == 200


def test_the_winter_holidays_between_terms_are_not_school_days(account_for: Any) -> None:
    from zhixiao.org.models import Term

    student = _class_of(account_for)[0]
    first = Term.objects.get(school_id=student.school_id, is_current=True, number=1)
    second = Term.objects.get(school_year_id=first.school_year_id, number=2)
    holiday = first.ends_on + dt.timedelta(days=3)
    while holiday.weekday() >= 5:
        holiday += dt.timedelta(days=1)
    assert holiday < second.starts_on
    first_monday = first.starts_on + dt.timedelta(days=(7 - first.starts_on.weekday()) % 7)
    assert services.is_school_day(student.school_id, first_monday)
    assert not services.is_school_day(student.school_id, holiday)
    schedule = services.schedule_for(student.school_id, None, "boarding", holiday)
    boarder = gate.Person(kind="student", status="01", boarding="boarding")
    noon = dt.datetime.combine(holiday, dt.time(12, 0), tzinfo=services.LOCAL)
    assert gate.decide(boarder, "out", noon, schedule).code == "no_school"
