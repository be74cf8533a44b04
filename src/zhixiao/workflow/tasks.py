"""Background jobs of the workflow app: reminders and escalation when a step waits past its limit."""

from __future__ import annotations

import datetime as dt

from django_tasks import default_task_backend, task


@task()
def check_overdue() -> list[int]:
    """Remind and escalate every overdue task (idempotent; safe to run at any time, from any worker)."""
    from . import services

    return list(services.process_overdue())


def enqueue_overdue_check(due: dt.datetime) -> None:
    """Wake the worker when a task falls due and again at twice its limit would be ideal; a check at the due
    time, plus one per hour after it (chained by `zhixiao worker`'s sweep), is enough for a school."""
    if default_task_backend.supports_defer:
        check_overdue.using(run_after=due).enqueue()
