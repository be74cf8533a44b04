"""Background jobs of timetabling (django-tasks; `zhixiao worker` runs them)."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def run_solve_task(run_id: int) -> str:
    """Solve a queued run; progress and the report land on the SolveRun row. Returns its final status."""
    run = services.run_solve(run_id=run_id)
    return run.status if run is not None else "missing"
