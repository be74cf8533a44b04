"""Reads of attendance for pages, each scoped to what the actor may see (a guardian: his own children)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from zhixiao.kernel import permissions
from zhixiao.people import selectors as people_selectors

from .models import AttendanceDay, AttendancePolicy, AttendanceRule, GateEvent, StudentLeave


def days_visible_to(*, actor: Any) -> QuerySet[AttendanceDay]:
    return AttendanceDay.objects.filter(permissions.scope_q(actor, permissions.VIEW_ATTENDANCE, AttendanceDay))


def days_of(*, actor: Any, date: dt.date, class_id: int | None = None) -> QuerySet[AttendanceDay]:
    qs = days_visible_to(actor=actor).filter(date=date).select_related("student")
    if class_id:
        qs = qs.filter(admin_class_id=class_id)
    return qs.order_by("admin_class_id", "student__student_no")


def day_for(*, actor: Any, day_id: int) -> AttendanceDay | None:
    return days_visible_to(actor=actor).filter(pk=day_id).select_related("student").first()


def leaves_visible_to(*, actor: Any) -> QuerySet[StudentLeave]:
    """Staff in scope, and a guardian's children's leaves (kept for ever, cancelled ones too)."""
    return StudentLeave.objects.filter(
        permissions.scope_q(actor, permissions.VIEW_ATTENDANCE, StudentLeave)
    ).select_related("student")


def leave_for(*, actor: Any, leave_id: int) -> StudentLeave | None:
    return leaves_visible_to(actor=actor).filter(pk=leave_id).first()


def children_overview(*, actor: Any, days: int = 30) -> list[dict[str, Any]]:
    """A guardian's (or a student's own) recent days, passages and leaves, per child."""
    since = dt.date.today() - dt.timedelta(days=days)
    kids = list(people_selectors.children_of(actor=actor)) if getattr(actor, "kind", "") == "guardian" else []
    if getattr(actor, "kind", "") == "student":
        own = people_selectors.student_of_account(actor.pk)
        kids = [own] if own else []
    out = []
    for kid in kids:
        out.append(
            {
                "student": kid,
                "days": days_visible_to(actor=actor).filter(student=kid, date__gte=since).order_by("-date")[:days],
                "passages": GateEvent.objects.filter(
                    permissions.scope_q(actor, permissions.VIEW_ATTENDANCE, GateEvent), student_id=kid.pk
                ).order_by("-occurred_at")[:10],
                "leaves": leaves_visible_to(actor=actor).filter(student=kid)[:10],
            }
        )
    return out


def rules_of(*, school_id: int) -> QuerySet[AttendanceRule]:
    return AttendanceRule.objects.filter(school_id=school_id).order_by("grade_id", "boarding")


def policy_of(*, school_id: int) -> AttendancePolicy | None:
    return AttendancePolicy.objects.filter(school_id=school_id).first()


def manageable_school_id(actor: Any) -> int | None:
    """The school whose attendance settings the actor manages (school admins)."""
    return permissions.school_where(actor, permissions.MANAGE_ATTENDANCE)
