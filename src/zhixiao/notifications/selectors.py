"""Reads of the notifications service, each scoped to the actor."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, QuerySet

from zhixiao.kernel import permissions

from .models import GroupRobot, InboxItem, Outbox, Preference


def unread_count(*, actor: Any) -> int:
    """The bell's number: one COUNT over a partial index."""
    if not getattr(actor, "is_authenticated", False):
        return 0
    return InboxItem.objects.filter(recipient_id=actor.pk, read_at__isnull=True).count()


def inbox_of(*, actor: Any) -> QuerySet[InboxItem]:
    """The actor's own notifications, unread first, newest first."""
    return InboxItem.objects.filter(recipient_id=actor.pk).order_by(
        F("read_at").desc(nulls_first=True), "-created_at", "-pk"
    )


def preference_of(*, actor: Any) -> Preference | None:
    return Preference.objects.filter(account_id=actor.pk).first()


def deliveries_visible_to(*, actor: Any, status: str = "", channel: str = "") -> QuerySet[Outbox]:
    """Outbox rows of the schools where the actor manages notifications (notification.manage)."""
    qs = Outbox.objects.filter(permissions.scope_q(actor, permissions.MANAGE_NOTIFICATIONS, Outbox))
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    return qs.select_related("recipient").order_by("-created_at", "-pk")


def delivery_counts(*, actor: Any, channel: str = "") -> dict[str, int]:
    qs = deliveries_visible_to(actor=actor, channel=channel).order_by()
    return {row["status"]: row["n"] for row in qs.values("status").annotate(n=Count("pk"))}


def robots_visible_to(*, actor: Any) -> QuerySet[GroupRobot]:
    return GroupRobot.objects.filter(permissions.scope_q(actor, permissions.MANAGE_NOTIFICATIONS, GroupRobot)).order_by(
        "school_id", "kind", "pk"
    )


def robot_for(*, actor: Any, robot_id: int) -> GroupRobot | None:
    return robots_visible_to(actor=actor).filter(pk=robot_id).first()
