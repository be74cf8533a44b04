"""On PostgreSQL, with each writer on its own connection: a change that takes a seq commits before the next
seq is handed out, so a device that read up to a cursor while a change was still open never skips it.

These tests commit (no per-test transaction) and delete the face rows they wrote; audit rows, being
append-only, stay."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from zhixiao.faces import selectors, services, statement
from zhixiao.faces.models import FaceConsent, FaceEnrolment, FaceLibraryCounter
from zhixiao.kernel import domain_events

from .conftest import Family, _families, png

pytestmark = pytest.mark.postgres


@pytest.fixture
def committed_families(django_db_setup: Any, django_db_blocker: Any) -> Iterator[list[Family]]:
    from zhixiao.org.models import School

    with django_db_blocker.unblock():
        school = School.objects.order_by("pk").first()
        assert school is not None
        near = _families(school)
        found = [next(near), next(near)]
        try:
            yield found
        finally:
            ids = [f.student.pk for f in found]
            FaceEnrolment.objects.filter(student_id__in=ids).delete()
            FaceConsent.objects.filter(student_id__in=ids).delete()
            FaceLibraryCounter.objects.filter(pk=school.pk).delete()
            connection.close()


def test_a_change_committed_late_is_not_skipped_by_a_reader(committed_families: list[Family]) -> None:
    first, second = committed_families
    school_id = first.student.school_id
    a_holds_lock, release_a, b_started = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold(**payload: Any) -> None:  # runs inside A's transaction, after A took its seq
        if payload["student_ids"] == [first.student.pk]:
            a_holds_lock.set()
            assert release_a.wait(timeout=30)

    def enrol(family: Family, started: threading.Event | None = None) -> None:
        try:
            if started:
                started.set()
            services.give_consent_and_enrol(
                actor=family.guardian, student_id=family.student.pk, photo=png(), statement_version=statement.VERSION
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    domain_events.subscribe(domain_events.FACES_CHANGED, hold)
    try:
        a = threading.Thread(target=enrol, args=(first,))
        a.start()
        assert a_holds_lock.wait(timeout=30)
        b = threading.Thread(target=enrol, args=(second, b_started))
        b.start()
        assert b_started.wait(timeout=30)
        b.join(timeout=1)
        assert b.is_alive(), "B must wait for A's lock on the school's counter"
        # a device reading now sees neither: A is open, B waits behind it
        assert selectors.face_changes(school_id=school_id, since=0) == (0, [])
        release_a.set()
        a.join(timeout=30)
        b.join(timeout=30)
    finally:
        release_a.set()
        domain_events._handlers[domain_events.FACES_CHANGED].remove(hold)
    assert not errors, errors
    rows = {e.student_id: e.seq for e in FaceEnrolment.objects.filter(school_id=school_id)}
    assert rows[first.student.pk] + 1 == rows[second.student.pk]  # commit order is seq order
    _cursor, changes = selectors.face_changes(school_id=school_id, since=0)
    assert [c["student_id"] for c in changes] == [first.student.pk, second.student.pk]
