"""The audit log is append-only at the database, and `zhixiao audit verify` finds and names any record
that someone with direct database access edited or removed (on SQLite and on PostgreSQL alike)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from zhixiao.kernel import audit
from zhixiao.kernel.models import AuditRecord

pytestmark = pytest.mark.django_db

DROP_TRIGGERS = {
    "sqlite": [
        "DROP TRIGGER kernel_auditrecord_no_update",
        "DROP TRIGGER kernel_auditrecord_no_delete",
    ],
    "postgresql": ["DROP TRIGGER kernel_auditrecord_no_change ON kernel_auditrecord"],
}


def _three_records() -> list[AuditRecord]:
    for n in range(3):
        audit.record(actor=None, action="test.tamper", note=f"record {n}")
    return list(AuditRecord.objects.filter(action="test.tamper").order_by("seq"))


def _as_someone_with_database_access() -> None:
    """What an insider with the database password could do: remove the append-only triggers."""
    with connection.cursor() as cursor:
        for sql in DROP_TRIGGERS[connection.vendor]:
            cursor.execute(sql)


def _verify() -> tuple[int, str]:
    """(exit code, output) of `zhixiao audit verify`."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("zx_audit", "verify", stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, err.getvalue()
    return 0, out.getvalue()


def test_an_intact_chain_verifies_with_exit_code_0():
    _three_records()
    code, output = _verify()
    assert code == 0
    assert f"audit chain OK: {AuditRecord.objects.count()} records" in output


def test_the_database_refuses_to_update_an_audit_record():
    record = _three_records()[1]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditRecord.objects.filter(pk=record.pk).update(note="changed")
    record.refresh_from_db()
    assert record.note == "record 1"


def test_the_database_refuses_to_delete_an_audit_record():
    record = _three_records()[1]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditRecord.objects.filter(pk=record.pk).delete()
    assert AuditRecord.objects.filter(pk=record.pk).exists()


def test_the_database_refuses_to_empty_the_audit_table():
    _three_records()
    sql = "TRUNCATE kernel_auditrecord" if connection.vendor == "postgresql" else "DELETE FROM kernel_auditrecord"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditRecord.objects.count() >= 3


def test_verify_names_the_record_that_was_edited_behind_the_triggers():
    middle = _three_records()[1]
    _as_someone_with_database_access()
    AuditRecord.objects.filter(pk=middle.pk).update(note="nothing happened here")

    code, output = _verify()

    assert code == 1
    assert f"seq={middle.seq} " in output
    assert "edited" in output


def test_verify_finds_an_edit_even_when_the_editor_recomputed_that_records_hash():
    _first, middle, last = _three_records()
    _as_someone_with_database_access()
    middle.note = "nothing happened here"
    AuditRecord.objects.filter(pk=middle.pk).update(note=middle.note, hash=audit._digest(middle.prev_hash, middle))

    code, output = _verify()

    assert code == 1
    assert f"seq={last.seq} " in output  # the next record's link no longer matches
    assert "link broken" in output


def test_verify_names_the_gap_where_a_middle_record_was_deleted():
    _first, middle, last = _three_records()
    _as_someone_with_database_access()
    AuditRecord.objects.filter(pk=middle.pk).delete()

    code, output = _verify()

    assert code == 1
    assert f"seq={last.seq} " in output
    assert f"expected {middle.seq}" in output
