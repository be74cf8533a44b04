"""The background worker as `zhixiao serve` runs it: an import job queued on the database backend waits,
shows its progress, and `zhixiao worker` (django-tasks-db's db_worker) finishes it."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import override_settings

from zhixiao.org import selectors as org_selectors
from zhixiao.people import import_jobs
from zhixiao.people.models import ImportJob, Student
from zhixiao.people.tests.test_importing import students_file, valid_rows

pytestmark = pytest.mark.django_db


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_a_queued_import_waits_for_the_worker_which_finishes_it(
    account_for, login_for, django_capture_on_commit_callbacks, monkeypatch
):
    # The worker closes stale connections between tasks; here that would end the test's own transaction
    # (on PostgreSQL), so that one call is neutralised. Everything else is the real worker.
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    admin = account_for("school_admin")
    school = org_selectors.school_by_code(login_for("school_admin").school)
    classes = [c.name for c in org_selectors.classes_visible_to(actor=admin, school_id=school.pk)]
    rows = valid_rows(classes, 12, seed=99)
    before = Student.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        job = import_jobs.start_import(
            actor=admin, school_id=school.pk, kind="students", filename="new.xlsx", data=students_file(rows)
        )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PENDING
    assert Student.objects.count() == before  # nothing happens until a worker runs

    call_command("db_worker", "--batch", "--interval", "0", verbosity=0)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert job.progress == 100
    assert Student.objects.count() == before + 12
