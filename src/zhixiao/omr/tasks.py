"""Background jobs of 阅卷 (django-tasks; `zhixiao worker` runs them)."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def read_batch_task(batch_id: int) -> str:
    """Read a queued scan batch; progress and counts land on the ScanBatch row. Returns its final status."""
    batch = services.read_batch(batch_id=batch_id)
    return batch.status if batch is not None else "missing"
