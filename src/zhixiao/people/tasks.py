"""Background jobs of the people domain (django-tasks; `zhixiao worker` runs them)."""

from __future__ import annotations

from django_tasks import task

from . import import_jobs


@task()
def run_import_job(job_id: int) -> int:
    """Run an uploaded Excel import; progress, errors and results land on the ImportJob row.
    Returns the number of errors (0: everything was written)."""
    return import_jobs.run_job(job_id=job_id).error_count
