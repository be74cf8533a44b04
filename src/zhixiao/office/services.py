"""The smart office: default flows for every school, and what their outcomes mean — lessons covered by a
colleague once a leave is approved, repairs dispatched, done and rated. The office learns outcomes only
from the workflow's events and starts nothing but through its services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixiao.kernel import audit, permissions
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.notifications import services as notifications
from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors
from zhixiao.workflow import events
from zhixiao.workflow import services as workflow

from . import flows
from .models import CoverStatus, LessonCover, RepairOrder, RepairStatus


def install_default_flows(*, school_id: int, actor: Any = None) -> int:
    """Give a school the office's flows it does not have yet (a new school, or a new flow in an upgrade).
    Approvers missing today fall back to the school admin at run time, so nothing is refused here."""
    existing = set(workflow.definition_keys(school_id=school_id))
    added = 0
    for raw in flows.DEFAULT_FLOWS:
        if raw["key"] not in existing:
            workflow.save_definition(actor=actor, school_id=school_id, raw=raw, module="office", check_people=False)
            added += 1
    return added


def install_for_all_schools() -> int:
    return sum(install_default_flows(school_id=pk) for pk in org_selectors.all_school_ids())


# --- teacher leave: the lessons to cover ---------------------------------------------------------------


def _covers_from(event: events.RequestEvent) -> list[LessonCover]:
    out = []
    for row in event.values.get("lessons") or []:
        substitute = row.get("substitute") or {}
        out.append(
            LessonCover(
                school_id=event.school_id,
                request_id=event.request_id,
                request_number=event.number,
                absent_teacher_id=event.applicant_id,
                substitute_id=int(substitute["id"]),
                date=dt.date.fromisoformat(row["date"]),
                period=row["period"],
                class_name=row.get("class_name") or "",
                subject=row.get("subject") or "",
            )
        )
    return out


def on_leave_event(event: events.RequestEvent) -> None:
    """Submitted (or resubmitted): the covers are pending. Approved: confirmed, and each substitute is told.
    Rejected or withdrawn: cancelled."""
    covers = LessonCover.objects.filter(request_id=event.request_id)
    if event.event == events.SUBMITTED:
        covers.delete()  # a resubmission replaces the plan
        LessonCover.objects.bulk_create(_covers_from(event))
    elif event.event == events.APPROVED:
        covers.update(status=CoverStatus.CONFIRMED)
        by_substitute: dict[int, list[LessonCover]] = {}
        for c in covers:
            by_substitute.setdefault(c.substitute_id, []).append(c)
        for substitute_id, rows in by_substitute.items():
            notifications.notify(
                recipients=[substitute_id],
                template="office.cover",
                context={
                    "teacher": people_selectors.staff_choices_for(account_ids=[event.applicant_id]).get(
                        event.applicant_id, ""
                    ),
                    "lessons": "；".join(f"{c.date:%m-%d} 第{c.period}节 {c.class_name}{c.subject}" for c in rows),
                    "count": len(rows),
                },
                dedup_key=f"office:cover:{event.request_id}",
                school_id=event.school_id,
                url="/office/covers/",
            )
    elif event.event in (events.REJECTED, events.WITHDRAWN):
        covers.update(status=CoverStatus.CANCELLED)


# --- repairs -----------------------------------------------------------------------------------------


def on_repair_event(event: events.RequestEvent) -> None:
    """Submitted: a repair order waits; accepted (the flow approved): dispatched to whoever accepted it;
    refused or withdrawn: closed."""
    now = timezone.now()
    if event.event == events.SUBMITTED:
        RepairOrder.objects.update_or_create(
            request_id=event.request_id,
            defaults={
                "school_id": event.school_id,
                "request_number": event.number,
                "title": event.title,
                "place": str(event.values.get("place") or ""),
                "category": str(event.values.get("category") or ""),
                "urgent": bool(event.values.get("urgent")),
                "reporter_id": event.applicant_id,
                "status": RepairStatus.WAITING,
            },
        )
    elif event.event == events.APPROVED:
        RepairOrder.objects.filter(request_id=event.request_id).update(
            status=RepairStatus.DISPATCHED, handler_id=event.actor_id, dispatched_at=now
        )
    elif event.event in (events.REJECTED, events.WITHDRAWN):
        RepairOrder.objects.filter(request_id=event.request_id).update(status=RepairStatus.CLOSED)


def _order_for_update(order_id: int) -> RepairOrder:
    order = RepairOrder.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise DomainError(_("报修单不存在"))
    return order


def finish_repair(*, actor: Any, order_id: int, note: str) -> RepairOrder:
    """The person who accepted the repair (or a school admin) records the work done; the reporter is told."""
    with transaction.atomic():
        order = _order_for_update(order_id)
        if order.handler_id != actor.pk and not permissions.can(actor, permissions.MANAGE_WORKFLOWS, order):
            raise NotPermitted(_("只有受理人可以登记维修结果"))
        if not note.strip():
            raise DomainError(_("请填写维修记录"))
        if order.status != RepairStatus.DISPATCHED:
            raise DomainError(_("该报修单不在维修中"))
        order.status, order.done_at, order.work_note = RepairStatus.DONE, timezone.now(), note.strip()[:500]
        order.save(update_fields=["status", "done_at", "work_note"])
        audit.record(actor=actor, action="office.repair.done", target=order, note=order.work_note)
        notifications.notify(
            recipients=[order.reporter_id],
            template="office.repair_done",
            context={"title": order.title, "note": order.work_note},
            dedup_key=f"office:repair:{order.pk}:done",
            school_id=order.school_id,
            url="/office/repairs/",
        )
    return order


def rate_repair(*, actor: Any, order_id: int, rating: int, note: str = "") -> RepairOrder:
    """The reporter rates a finished repair, once (1–5 stars)."""
    with transaction.atomic():
        order = _order_for_update(order_id)
        if order.reporter_id != actor.pk:
            raise NotPermitted(_("只有报修人可以评价"))
        if rating not in range(1, 6):
            raise DomainError(_("评价须为 1 到 5 星"))
        if order.status != RepairStatus.DONE or order.rating is not None:
            raise DomainError(_("只能评价已修好且未评价的报修"))
        order.rating, order.rating_note, order.status = rating, note.strip()[:300], RepairStatus.CLOSED
        order.save(update_fields=["rating", "rating_note", "status"])
        audit.record(actor=actor, action="office.repair.rate", target=order, changes={"rating": rating})
    return order
