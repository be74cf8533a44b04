"""Background jobs of the notifications service (django-tasks; `zhixiao worker` runs them)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from . import delivery


@task()
def deliver_outbox() -> dict[str, int]:
    """Drain what is due, then book a follow-up run for the next retry, quiet-hours end or lease expiry."""
    report = delivery.deliver_due()
    upcoming = delivery.next_due_at()
    if upcoming is not None:
        enqueue_delivery(run_after=max(upcoming, timezone.now()) + dt.timedelta(seconds=1))
    return report.as_dict()


def enqueue_delivery(*, run_after: dt.datetime | None = None) -> None:
    """Queue a delivery run unless an equivalent one is already waiting (one notify() per request would
    otherwise queue one run each). Backends that cannot defer (the tests' immediate backend) skip
    follow-ups: tests drain with deliver_due() and a chosen clock."""
    backend = deliver_outbox.get_backend()
    if run_after is not None and not backend.supports_defer:
        return
    if _already_queued(backend, run_after):
        return
    (deliver_outbox.using(run_after=run_after) if run_after else deliver_outbox).enqueue()


def _already_queued(backend: object, run_after: dt.datetime | None) -> bool:
    if type(backend).__module__.split(".")[0] != "django_tasks_db":
        return False
    from django.db.models import Q
    from django_tasks_db.models import DBTaskResult, get_date_max

    waiting = DBTaskResult.objects.filter(status="READY", task_path=deliver_outbox.module_path)
    if run_after is None:
        return waiting.filter(Q(run_after=get_date_max()) | Q(run_after__lte=timezone.now())).exists()
    return waiting.filter(Q(run_after=get_date_max()) | Q(run_after__lte=run_after)).exists()
