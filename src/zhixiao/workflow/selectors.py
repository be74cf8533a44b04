"""Reads of the approval engine: a person's four lists with their counts, one request with its timeline,
and the definitions of a school. Every read starts from what the actor may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from zhixiao.kernel import permissions
from zhixiao.org import selectors as org_selectors

from .models import Action, Attachment, Carbon, Definition, Request, RequestStatus, Task, TaskStatus

TODO, DONE, MINE, CC = "todo", "done", "mine", "cc"
TABS = (TODO, DONE, MINE, CC)


@dataclass(frozen=True)
class Filters:
    key: str = ""  # a definition key
    status: str = ""
    q: str = ""
    since: dt.date | None = None
    until: dt.date | None = None


def counts(*, actor: Any) -> dict[str, int]:
    """The numbers beside 待我审批 and 抄送我的 (unread) in the navigation: two indexed COUNTs."""
    if not getattr(actor, "pk", None):
        return {TODO: 0, CC: 0}
    cached: dict[str, int] | None = getattr(actor, "_zhixiao_workflow_counts", None)
    if cached is None:  # the menu, the tabs and the office page ask within one request: count once
        cached = {
            TODO: Task.objects.filter(assignee_id=actor.pk, status=TaskStatus.WAITING).count(),
            CC: Carbon.objects.filter(account_id=actor.pk, read_at=None).count(),
        }
        actor._zhixiao_workflow_counts = cached
    return cached


def _filtered(qs: QuerySet[Any], f: Filters, prefix: str = "") -> QuerySet[Any]:
    if f.key:
        qs = qs.filter(**{f"{prefix}definition__key": f.key})
    if f.status:
        qs = qs.filter(**{f"{prefix}status": f.status})
    if f.q:
        qs = qs.filter(Q(**{f"{prefix}title__contains": f.q}) | Q(**{f"{prefix}number__startswith": f.q}))
    if f.since:
        qs = qs.filter(**{f"{prefix}created_at__date__gte": f.since})
    if f.until:
        qs = qs.filter(**{f"{prefix}created_at__date__lte": f.until})
    return qs


def waiting_tasks(*, actor: Any, filters: Filters = Filters()) -> QuerySet[Task]:
    """待我审批: my open tasks, oldest first (the longest waiting comes first)."""
    qs = Task.objects.filter(assignee_id=actor.pk, status=TaskStatus.WAITING)
    return (
        _filtered(qs, Filters(key=filters.key, q=filters.q, since=filters.since, until=filters.until), "request__")
        .select_related("request", "request__definition", "request__applicant")
        .order_by("created_at", "id")
    )


def decided_requests(*, actor: Any, filters: Filters = Filters()) -> QuerySet[Request]:
    """我已审批: requests on which I decided something, latest first."""
    mine = Task.objects.filter(
        request=OuterRef("pk"),
        assignee_id=actor.pk,
        status__in=[TaskStatus.APPROVED, TaskStatus.REJECTED, TaskStatus.RETURNED, TaskStatus.DELEGATED],
    )
    qs = Request.objects.filter(Exists(mine))
    return _filtered(qs, filters).select_related("definition", "applicant").order_by("-updated_at", "-id")


def my_requests(*, actor: Any, filters: Filters = Filters()) -> QuerySet[Request]:
    """我发起的."""
    qs = Request.objects.filter(applicant_id=actor.pk)
    return _filtered(qs, filters).select_related("definition").order_by("-created_at", "-id")


def carbons(*, actor: Any, filters: Filters = Filters()) -> QuerySet[Carbon]:
    """抄送我的."""
    qs = Carbon.objects.filter(account_id=actor.pk)
    return _filtered(qs, filters, "request__").select_related("request", "request__definition", "request__applicant")


def request_for(*, actor: Any, request_id: int) -> Request | None:
    """A request the actor may read: their own, one they approve(d) or were copied on, or any in a school
    they oversee (workflow.view)."""
    pk = getattr(actor, "pk", None)
    if pk is None:
        return None
    involved = permissions.scope_or(
        actor,
        permissions.VIEW_WORKFLOWS,
        Request,
        Q(applicant_id=pk),
        Q(Exists(Task.objects.filter(request=OuterRef("pk"), assignee_id=pk))),
        Q(Exists(Carbon.objects.filter(request=OuterRef("pk"), account_id=pk))),
    )
    return (
        Request.objects.filter(involved, pk=request_id)
        .select_related("definition", "version", "applicant", "school")
        .first()
    )


def timeline(request: Request) -> QuerySet[Action]:
    return request.actions.select_related("actor").prefetch_related("attachments")


def tasks_of(request: Request) -> QuerySet[Task]:
    return request.tasks.select_related("assignee").order_by("round", "created_at", "id")


def my_open_task(*, actor: Any, request: Request) -> Task | None:
    return request.tasks.filter(assignee_id=getattr(actor, "pk", None), status=TaskStatus.WAITING).first()


def attachment_for(*, actor: Any, attachment_id: int) -> Attachment | None:
    att = Attachment.objects.filter(pk=attachment_id).only("pk", "request_id").first()
    if att is None or request_for(actor=actor, request_id=att.request_id) is None:
        return None
    return Attachment.objects.get(pk=attachment_id)


def definitions_to_start(*, actor: Any, school_id: int) -> QuerySet[Definition]:
    return Definition.objects.filter(school_id=school_id, active=True, current__isnull=False).order_by(
        "category", "name"
    )


def definition_to_start(*, school_id: int, key: str) -> Definition | None:
    return (
        Definition.objects.filter(school_id=school_id, key=key, active=True, current__isnull=False)
        .select_related("current")
        .first()
    )


def definitions_managed(*, actor: Any) -> QuerySet[Definition]:
    schools = org_selectors.schools_where(actor=actor, action=permissions.MANAGE_WORKFLOWS)
    return (
        Definition.objects.filter(school__in=schools)
        .select_related("current", "school")
        .order_by("school_id", "category", "name")
    )


def definition_managed(*, actor: Any, definition_id: int) -> Definition | None:
    return definitions_managed(actor=actor).filter(pk=definition_id).first()


def request_outcome(request_id: int) -> str | None:
    """For other modules: a request's status (running, returned, approved, rejected, withdrawn)."""
    return Request.objects.filter(pk=request_id).values_list("status", flat=True).first()


STATUS_CHOICES = RequestStatus.choices


def definitions_of_school(*, school_id: int) -> QuerySet[Definition]:
    """For the CLI (a system operator): a school's definitions."""
    return Definition.objects.filter(school_id=school_id).select_related("current").order_by("category", "key")
