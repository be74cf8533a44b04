"""Background work of attendance: absences after the late cut-off (and the guardians' alert), overdue leave,
and pruning the devices' spent nonces. One sweep every few minutes, re-booked by each run and at worker
start; every run is idempotent."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import default_task_backend, task

SWEEP_EVERY = dt.timedelta(minutes=5)


@task()
def sweep() -> list[int]:
    from zhixiao.devices import services as device_services
    from zhixiao.org import selectors as org_selectors

    from . import services

    schools = org_selectors.all_school_ids()
    absent = sum(services.sweep_absences(school_id=pk) for pk in schools)
    absent += sum(services.sweep_dorms(school_id=pk) for pk in schools)
    overdue = services.process_overdue_leaves()
    pruned = device_services.prune_nonces()
    schedule_sweep()
    return [absent, overdue, pruned]


def schedule_sweep(at: dt.datetime | None = None) -> None:
    """Book a sweep at `at` (or one period from now unless one is booked). Backends that cannot defer (the
    tests' immediate backend) book nothing: tests call the services directly."""
    if not default_task_backend.supports_defer:
        return
    from django_tasks_db.models import DBTaskResult

    booked = DBTaskResult.objects.filter(task_path=sweep.module_path, status="READY")
    if at is None:
        if booked.exists():
            return
        at = timezone.now() + SWEEP_EVERY
    elif booked.filter(run_after__gte=at - dt.timedelta(minutes=2), run_after__lte=at).exists():
        return
    sweep.using(run_after=at).enqueue()


def schedule_leave_check(ends_at: dt.datetime) -> None:
    """A leave's window closes: check its return a little after (the school's grace is at most an hour)."""
    schedule_sweep(ends_at + dt.timedelta(minutes=31))
