"""Background jobs of the workflow app: reminders, escalation and hand-over of tasks whose approver left.

`sweep` runs at each step's due time (booked when the task is created) and, as a safety net, every
quarter of an hour; every run is idempotent, so an extra or a late one does no harm."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import default_task_backend, task

SWEEP_EVERY = dt.timedelta(minutes=15)
SLACK = dt.timedelta(minutes=5)


@task()
def sweep() -> list[int]:
    """Remind, escalate and re-route overdue or orphaned tasks, then book the next sweep."""
    from . import services

    reminded, escalated = services.process_overdue()
    moved = services.reassign_departed()
    schedule_sweep()
    return [reminded, escalated, moved]


def schedule_sweep(at: dt.datetime | None = None) -> None:
    """Book a sweep (at `at`, or one period from now unless one is already booked). Backends that cannot
    defer (the tests' immediate backend) book nothing: tests call the services directly."""
    if not default_task_backend.supports_defer:
        return
    from django_tasks_db.models import DBTaskResult

    booked = DBTaskResult.objects.filter(task_path=sweep.module_path, status="READY")
    if at is None:
        if booked.exists():
            return
        at = timezone.now() + SWEEP_EVERY
    elif booked.filter(run_after__gte=at - SLACK, run_after__lte=at).exists():
        return  # a sweep a few minutes earlier serves this due time too (10,000 requests, not 10,000 sweeps)
    sweep.using(run_after=at).enqueue()


def enqueue_overdue_check(due: dt.datetime, limit: dt.timedelta | None = None) -> None:
    """When a task is created with a time limit: a sweep at its due time, and at twice the limit (escalation)."""
    schedule_sweep(due)
    if limit is not None:
        schedule_sweep(due + limit)
