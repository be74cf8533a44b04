"""Student leave on the approval engine: filed by a guardian, approved by the homeroom teacher, the gate open
exactly for the window, 销假 at the gate, overdue alerts, never deleted."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models.deletion import ProtectedError
from django.test import Client
from django.utils import timezone

from zhixiao.attendance import services
from zhixiao.attendance.models import LeaveStatus, StudentLeave
from zhixiao.kernel.errors import NotPermitted
from zhixiao.kernel.permissions import Role
from zhixiao.notifications.models import Outbox
from zhixiao.people.models import Boarding, GuardianLink, Student
from zhixiao.workflow import services as workflow
from zhixiao.workflow.models import Task

from .helpers import register, signed

pytestmark = pytest.mark.django_db


def _guardian_child(account_for: Any) -> tuple[Any, Student]:
    guardian = account_for(Role.GUARDIAN)
    link = GuardianLink.objects.filter(guardian__account=guardian).select_related("student").first()
    assert link is not None
    Student.objects.filter(pk=link.student_id).update(boarding=Boarding.BOARDING)
    services.refresh_passes(school_id=link.school_id, student_ids=[link.student_id])
    return guardian, link.student


def _approve_all(request_id: int) -> None:
    while (task := Task.objects.filter(request_id=request_id, status="waiting").first()) is not None:
        workflow.decide(actor=task.assignee, task_id=task.pk, decision="approve")


def _decide(device: Any, secret: str, student: Student, direction: str, at: dt.datetime) -> dict[str, Any]:
    body = {"credential": student.student_no, "direction": direction, "time": at.isoformat()}
    return signed(Client(), device, secret, "POST", "/api/v1/devices/decide", body).json()  # type: ignore[no-any-return]


def test_boarder_cannot_leave_outside_approved_window(account_for: Any) -> None:
    guardian, child = _guardian_child(account_for)
    device, secret = register(child.school_id)
    start = timezone.localtime().replace(second=0, microsecond=0) + dt.timedelta(hours=1)
    end = start + dt.timedelta(hours=6)
    leave = services.file_leave(
        actor=guardian, student_id=child.pk, leave_type="病假", start=start, end=end, reason="发烧，去医院"
    )
    assert leave.status == LeaveStatus.PENDING and leave.filed_by_id == guardian.pk
    teacher = Task.objects.get(request_id=leave.request_id, status="waiting").assignee
    assert teacher.homeroom_classes.filter(pk=child.admin_class_id).exists()
    inside = start + dt.timedelta(hours=2)
    assert _decide(device, secret, child, "out", inside)["allow"] is False  # not approved yet

    _approve_all(leave.request_id)
    leave.refresh_from_db()
    assert leave.status == LeaveStatus.APPROVED
    opened = _decide(device, secret, child, "out", inside)
    assert opened["allow"] is True and opened["code"] == "leave"
    assert _decide(device, secret, child, "out", start - dt.timedelta(minutes=1))["allow"] is False
    assert _decide(device, secret, child, "out", end + dt.timedelta(minutes=1))["allow"] is False

    told = set(
        Outbox.objects.filter(dedup_key=f"student_leave:{leave.pk}:approved").values_list("recipient_id", flat=True)
    )
    guardians = set(
        GuardianLink.objects.filter(student=child, may_notify=True).values_list("guardian__account_id", flat=True)
    )
    assert guardians | {teacher.pk} <= told


def test_leave_departure_and_return_at_the_gate_then_overdue_is_alerted(account_for: Any) -> None:
    guardian, child = _guardian_child(account_for)
    device, secret = register(child.school_id)
    now = timezone.localtime().replace(second=0, microsecond=0)
    start, end = now - dt.timedelta(hours=5), now - dt.timedelta(hours=1)
    leave = services.file_leave(
        actor=guardian, student_id=child.pk, leave_type="事假", start=start, end=end, reason="家中有事"
    )
    _approve_all(leave.request_id)
    out = {
        "event_id": "L-out",
        "credential": child.student_no,
        "direction": "out",
        "time": (start + dt.timedelta(minutes=30)).isoformat(),
    }
    signed(Client(), device, secret, "POST", "/api/v1/devices/events", {"events": [out]})
    leave.refresh_from_db()
    assert leave.status == LeaveStatus.OUT and leave.departed_at is not None

    assert services.process_overdue_leaves(now=timezone.now()) == 1
    leave.refresh_from_db()
    assert leave.status == LeaveStatus.OVERDUE
    assert Outbox.objects.filter(
        dedup_key=f"student_leave:{leave.pk}:overdue", template="attendance.leave_overdue"
    ).exists()
    assert services.process_overdue_leaves(now=timezone.now()) == 0  # alerted once

    back = {"event_id": "L-in", "credential": child.student_no, "direction": "in", "time": now.isoformat()}
    signed(Client(), device, secret, "POST", "/api/v1/devices/events", {"events": [back]})
    leave.refresh_from_db()
    assert leave.status == LeaveStatus.RETURNED and leave.returned_at is not None
    with pytest.raises(ProtectedError):
        Student.objects.filter(pk=child.pk).delete()


def test_a_guardian_files_only_for_his_own_child_and_may_cancel_before_departure(account_for: Any) -> None:
    guardian, child = _guardian_child(account_for)
    stranger = (
        Student.objects.filter(school_id=child.school_id).exclude(guardian_links__guardian__account=guardian).first()
    )
    assert stranger is not None
    start = timezone.localtime() + dt.timedelta(days=1)
    with pytest.raises(NotPermitted):
        services.file_leave(
            actor=guardian,
            student_id=stranger.pk,
            leave_type="事假",
            start=start,
            end=start + dt.timedelta(hours=3),
            reason="x",
        )
    leave = services.file_leave(
        actor=guardian,
        student_id=child.pk,
        leave_type="事假",
        start=start,
        end=start + dt.timedelta(days=2),
        reason="探亲",
    )
    steps = []
    while (task := Task.objects.filter(request_id=leave.request_id, status="waiting").first()) is not None:
        steps.append(task.request.current_step)
        workflow.decide(actor=task.assignee, task_id=task.pk, decision="approve")
    assert steps == ["homeroom", "grade_head"]  # two days: the grade head too, not yet 学生处
    services.cancel_leave(actor=guardian, leave_id=leave.pk, reason="不去了")
    leave.refresh_from_db()
    assert leave.status == LeaveStatus.CANCELLED
    assert StudentLeave.objects.filter(pk=leave.pk).exists()
    from zhixiao.attendance.models import GatePass

    assert GatePass.objects.get(person_kind="student", person_id=child.pk).leave_windows == []
