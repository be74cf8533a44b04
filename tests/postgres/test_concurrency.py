"""Concurrency on PostgreSQL with real connections: one thread, one connection, all released together.

These tests commit (see conftest.committed_db): they use the session's demo, put back what they change,
and leave only their audit records, which are append-only by design.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from zhixiao.identity.models import Account
from zhixiao.kernel import audit, tenancy
from zhixiao.kernel.errors import DomainError
from zhixiao.kernel.models import AuditRecord
from zhixiao.people import selectors, services
from zhixiao.people.models import Student, StudentStatus

pytestmark = pytest.mark.postgres


def run_together(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(0..n-1) on n threads released at the same instant; each result or raised exception."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def body(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return results


def test_twenty_concurrent_appends_keep_one_unbroken_chain(committed_db):
    before = AuditRecord.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    distinct_connections: set[int] = set()

    def append(i: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            distinct_connections.add(cursor.fetchone()[0])
        audit.record(actor=None, action="test.concurrent_append", note=f"thread {i}")

    results = run_together(20, append)

    assert [r for r in results if r is not None] == []
    assert len(distinct_connections) == 20
    seqs = list(AuditRecord.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))  # no gap, no duplicate
    assert seqs[-1] == before + 20
    notes = set(AuditRecord.objects.filter(seq__gt=before).values_list("note", flat=True))
    assert notes == {f"thread {i}" for i in range(20)}
    assert audit.verify_chain() is None


def test_two_concurrent_status_changes_of_one_student_make_exactly_one_change(committed_db, login_for):
    teacher_name = login_for("homeroom_teacher").username
    teacher = Account.objects.get(username=teacher_name)
    student = selectors.students_visible_to(actor=teacher).filter(status=StudentStatus.ENROLLED).first()
    assert student is not None
    started, original_since = timezone.now(), student.status_since
    audits_before = AuditRecord.objects.filter(action="student.status", target_id=str(student.pk)).count()
    history_before = student.history.count()

    def suspend(i: int) -> str:
        actor = Account.objects.get(username=teacher_name)  # each request loads its own actor
        with tenancy.acting_as(actor):
            changed = services.change_student_status(
                actor=actor, student_id=student.pk, status=StudentStatus.SUSPENDED, since=timezone.localdate()
            )
        return str(changed.status)

    try:
        results = run_together(2, suspend)

        assert sorted(type(r).__name__ for r in results) == ["DomainError", "str"]
        assert StudentStatus.SUSPENDED in results
        assert "没有变化" in str(next(r for r in results if isinstance(r, DomainError)))
        student.refresh_from_db()
        assert student.status == StudentStatus.SUSPENDED
        changes = AuditRecord.objects.filter(action="student.status", target_id=str(student.pk))
        assert changes.count() == audits_before + 1
        assert changes.order_by("-seq").first().changes["status"] == [StudentStatus.ENROLLED, StudentStatus.SUSPENDED]
        assert student.history.count() == history_before + 1
        assert audit.verify_chain() is None
    finally:
        # Put the shared demo back (the audit records stay: the log is append-only).
        Student.objects.filter(pk=student.pk).update(status=StudentStatus.ENROLLED, status_since=original_since)
        Student.history.filter(id=student.pk, history_date__gte=started).delete()
