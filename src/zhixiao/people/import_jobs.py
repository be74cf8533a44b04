"""Import jobs: an upload becomes a job the worker runs; the job page reads its progress and errors."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixiao.kernel import audit, permissions, tenancy
from zhixiao.kernel.errors import DomainError, NotPermitted

from . import importing
from .models import ImportJob

logger = logging.getLogger(__name__)


def start_import(*, actor: Any, school_id: int, kind: str, filename: str, data: bytes) -> ImportJob:
    """Queue an import of students or staff into a school; size and type are checked at once."""
    if kind not in importing.KINDS:
        raise DomainError(_("未知的导入类别"))
    school = importing.school_for(actor=actor, action=importing.IMPORT_ACTION[kind], school_id=school_id)
    problems = importing.check_upload(data, filename)
    if problems:
        raise DomainError(problems[0].reason)
    with transaction.atomic():
        job = ImportJob.objects.create(
            school=school,
            kind=kind,
            filename=filename.rsplit("/", 1)[-1][:200],
            upload=data,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit.record(actor=actor, action=f"{kind}.import_start", target=job, note=job.filename)
        # Enqueued once the job row is committed, so the worker can read it.
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from .tasks import run_import_job  # the task module imports this one

    run_import_job.enqueue(job_id)


def run_job(*, job_id: int) -> ImportJob:
    """The worker's part: check the file, write it or record the errors, keep the progress bar moving."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.finished:
        return job
    # The worker serves every school; the permission to import here was checked when the job started,
    # and is checked again below as the job's creator.
    tenancy.deactivate()
    last = {"percent": -1}

    def progress(fraction: float) -> None:
        percent = int(fraction * 100)
        if percent == last["percent"]:
            return
        last["percent"] = percent
        status = ImportJob.Status.WRITING if fraction >= importing.WRITE_PHASE else ImportJob.Status.VALIDATING
        ImportJob.objects.filter(pk=job.pk).update(progress=min(percent, 99), status=status)

    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.VALIDATING, progress=0)
    actor = job.created_by
    try:
        result = importing.run_import(
            actor=actor,
            school_id=job.school_id,
            kind=job.kind,
            data=bytes(job.upload),
            filename=job.filename,
            progress=progress,
            note=f"导入任务 #{job.pk} {job.filename}"[:200],
        )
        errors = result.errors
    except NotPermitted as exc:
        result, errors = None, [importing.RowError(None, "", "", str(exc))]
    except Exception:
        logger.exception("import job %s failed", job.pk)
        result, errors = None, [importing.RowError(None, "", "", _("导入时发生内部错误，未写入任何数据"))]
    job.refresh_from_db(fields=["status"])
    job.errors = [e.as_dict() for e in errors]
    job.error_count = len(errors)
    job.row_count = result.rows if result else 0
    job.created_counts = result.created if result and not errors else {}
    job.initial_password = result.initial_password if result and not errors else ""
    job.status = ImportJob.Status.FAILED if errors else ImportJob.Status.DONE
    job.progress = 100
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "errors",
            "error_count",
            "row_count",
            "created_counts",
            "initial_password",
            "status",
            "progress",
            "finished_at",
        ]
    )
    return job


# --- reads --------------------------------------------------------------------------------------------
def jobs_visible_to(*, actor: Any) -> QuerySet[ImportJob]:
    """Import jobs of the schools where the actor may import that kind of record."""
    q = Q(kind=ImportJob.Kind.STUDENTS) & permissions.scope_q(actor, permissions.IMPORT_STUDENT, ImportJob)
    q |= Q(kind=ImportJob.Kind.STAFF) & permissions.scope_q(actor, permissions.IMPORT_STAFF, ImportJob)
    return ImportJob.objects.filter(q).select_related("school", "created_by").defer("upload")


def job_for(*, actor: Any, job_id: int) -> ImportJob | None:
    return jobs_visible_to(actor=actor).filter(pk=job_id).first()


def errors_of(job: ImportJob) -> list[importing.RowError]:
    return [importing.RowError.from_dict(d) for d in job.errors]


def errors_workbook_for(*, actor: Any, job_id: int) -> bytes | None:
    """The uploaded workbook with the bad cells marked (None: no such job for this actor)."""
    job = job_for(actor=actor, job_id=job_id)
    if job is None:
        return None
    upload = ImportJob.objects.values_list("upload", flat=True).get(pk=job.pk)
    return importing.errors_workbook(bytes(upload), errors_of(job))


def take_initial_password(*, actor: Any, job: ImportJob) -> str:
    """The import's initial password, handed out once to whoever started the import, then forgotten."""
    if not job.initial_password or job.created_by_id is None or job.created_by_id != getattr(actor, "pk", None):
        return ""
    with transaction.atomic():
        taken = ImportJob.objects.filter(pk=job.pk).exclude(initial_password="").update(initial_password="")
        if not taken:
            return ""
        audit.record(actor=actor, action="import.initial_password_shown", target=job)
    password, job.initial_password = job.initial_password, ""
    return password
