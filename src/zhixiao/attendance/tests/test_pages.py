"""The attendance pages as people use them: a guardian sees only his own child, files a leave from the
phone page; a homeroom teacher files one by 学籍号 and corrects a day; the school admin sets the rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from zhixiao.attendance import services
from zhixiao.attendance.models import AttendanceDay, AttendanceRule, StudentLeave
from zhixiao.identity.tests.helpers import login
from zhixiao.kernel.permissions import Role
from zhixiao.people.models import GuardianLink, Student

from .helpers import at, recent_school_day, register, signed

pytestmark = pytest.mark.django_db


def _family(account_for: Any) -> tuple[Any, Student, Student]:
    guardian = account_for(Role.GUARDIAN)
    child = GuardianLink.objects.filter(guardian__account=guardian).select_related("student").first().student  # type: ignore[union-attr]
    other = (
        Student.objects.filter(admin_class=child.admin_class)
        .exclude(guardian_links__guardian__account=guardian)
        .first()
    )
    assert other is not None
    return guardian, child, other


def test_a_guardian_sees_his_own_child_only_and_files_a_leave(account_for: Any, login_for: Any) -> None:
    guardian, child, other = _family(account_for)
    device, secret = register(child.school_id)
    day = recent_school_day(child.school_id)
    events = [
        {"event_id": "p1", "credential": child.student_no, "direction": "in", "time": at(day, "07:10")},
        {"event_id": "p2", "credential": other.student_no, "direction": "in", "time": at(day, "07:11")},
    ]
    signed(Client(), device, secret, "POST", "/api/v1/devices/events", {"events": events})
    other_leave = services.file_leave(
        actor=account_for(Role.HOMEROOM_TEACHER),
        student_id=other.pk,
        leave_type="事假",
        start=timezone.localtime() + dt.timedelta(days=1),
        end=timezone.localtime() + dt.timedelta(days=1, hours=2),
        reason="别人家的孩子",
    )

    client = login(Client(), login_for(Role.GUARDIAN))
    page = client.get("/attendance/my/").content.decode()
    assert child.name in page and other.name not in page and "07:10" in page
    assert client.get(f"/attendance/leave/{other_leave.pk}/").status_code == 404
    assert client.get("/attendance/days/").status_code == 403
    form = client.get("/attendance/leave/new/").content.decode()
    assert child.name in form and other.name not in form

    start = (timezone.localtime() + dt.timedelta(days=2)).replace(hour=8, minute=0)
    bad = client.post(
        "/attendance/leave/new/",
        {
            "student": other.pk,
            "leave_type": "病假",
            "start": start.strftime("%Y-%m-%dT%H:%M"),
            "end": (start + dt.timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"),
            "reason": "x",
        },
    )
    assert "请选择孩子" in bad.content.decode()
    backwards = client.post(
        "/attendance/leave/new/",
        {
            "student": child.pk,
            "leave_type": "病假",
            "start": start.strftime("%Y-%m-%dT%H:%M"),
            "end": (start - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "reason": "x",
        },
    )
    assert "返校时间须晚于离校时间" in backwards.content.decode()
    ok = client.post(
        "/attendance/leave/new/",
        {
            "student": child.pk,
            "leave_type": "病假",
            "start": start.strftime("%Y-%m-%dT%H:%M"),
            "end": (start + dt.timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"),
            "reason": "看牙医",
        },
    )
    assert ok.status_code == 302
    leave = StudentLeave.objects.get(student=child, reason="看牙医")
    assert leave.filed_by_id == guardian.pk and leave.status == "pending"
    assert "审批中" in client.get(ok["Location"]).content.decode()


def test_a_homeroom_teacher_files_by_student_number_and_corrects_a_day(account_for: Any, login_for: Any) -> None:
    _guardian, child, _other = _family(account_for)
    client = login(Client(), login_for(Role.HOMEROOM_TEACHER))
    start = (timezone.localtime() + dt.timedelta(days=3)).replace(hour=9, minute=0)
    r = client.post(
        "/attendance/leave/new/",
        {
            "student_no": child.student_no,
            "leave_type": "事假",
            "start": start.strftime("%Y-%m-%dT%H:%M"),
            "end": (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "reason": "参加比赛",
        },
    )
    assert r.status_code == 302
    far = Student.objects.exclude(school_id=child.school_id).first()
    assert far is not None
    refused = client.post(
        "/attendance/leave/new/",
        {
            "student_no": far.student_no,
            "leave_type": "事假",
            "start": start.strftime("%Y-%m-%dT%H:%M"),
            "end": (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "reason": "x",
        },
    )
    assert "找不到该学籍号的学生" in refused.content.decode()

    day = AttendanceDay.objects.create(
        school_id=child.school_id,
        student=child,
        date=timezone.localdate(),
        admin_class_id=child.admin_class_id,
        status="absent",
    )
    listed = client.get("/attendance/days/").content.decode()
    assert child.name in listed
    client.post(f"/attendance/days/{day.pk}/correct/", {"status": "on_leave", "reason": "电话请假，补办手续"})
    day.refresh_from_db()
    assert day.status == "on_leave" and day.corrected and day.corrected_by_id == account_for(Role.HOMEROOM_TEACHER).pk


def test_the_school_admin_sets_rules_and_the_policy(account_for: Any, login_for: Any) -> None:
    admin_demo = login_for(Role.SCHOOL_ADMIN)
    client = login(Client(), admin_demo)
    school_id = account_for(Role.HOMEROOM_TEACHER).homeroom_classes.first().school_id
    r = client.post(
        "/attendance/settings/",
        {
            "form": "rule",
            "grade_id": "",
            "boarding": "",
            "on_time_by": "07:40",
            "late_until": "08:10",
            "dismissal_at": "16:50",
        },
    )
    assert r.status_code == 302
    assert AttendanceRule.objects.get(school_id=school_id, grade_id=None, boarding="").on_time_by == dt.time(7, 40)
    wrong = client.post(
        "/attendance/settings/",
        {"form": "rule", "on_time_by": "09:00", "late_until": "08:10", "dismissal_at": "16:50"},
        follow=True,
    )
    assert "时间顺序应为" in wrong.content.decode()
    client.post("/attendance/settings/", {"form": "policy", "notify_mode": "exceptions", "absent_alert_at": "08:30"})
    policy = services.policy_of(school_id)
    assert policy.notify_mode == "exceptions" and policy.absent_alert_at == dt.time(8, 30)
    page = client.get("/attendance/settings/").content.decode()
    assert "07:40" in page and "16:50" in page
