"""Reads of the smart office, from the actor's own place in it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from zhixiao.kernel import permissions

from .models import CoverStatus, LessonCover, RepairOrder


def covers_taught_by(*, actor: Any, since: dt.date | None = None) -> QuerySet[LessonCover]:
    """我的代课: confirmed lessons I cover, from today on."""
    since = since or timezone.localdate()
    return LessonCover.objects.filter(substitute_id=actor.pk, status=CoverStatus.CONFIRMED, date__gte=since)


def covers_of_request(request_id: int) -> QuerySet[LessonCover]:
    return LessonCover.objects.filter(request_id=request_id)


def repairs_for(*, actor: Any) -> QuerySet[RepairOrder]:
    """Repairs I reported or handle; a school admin or principal sees the school's."""
    return RepairOrder.objects.filter(
        permissions.scope_or(
            actor, permissions.VIEW_WORKFLOWS, RepairOrder, Q(reporter_id=actor.pk), Q(handler_id=actor.pk)
        )
    )
