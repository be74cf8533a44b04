"""The devices' copy of the face library: changes after a cursor, in commit order, each face once in its
latest state; signed requests, a device reading only its own school's feed.

The API tests run against tests/urls.py, which mounts the router at /api/v1 as config/api.py will."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.test import Client

from zhixiao.devices import services as devices
from zhixiao.devices.engine.signing import signed_headers
from zhixiao.faces import selectors, services, statement
from zhixiao.faces.models import FaceEnrolment, FaceLibraryCounter

from .conftest import Family, png

pytestmark = pytest.mark.django_db


def _enrol(family: Family, shade: int = 128) -> FaceEnrolment:
    return services.give_consent_and_enrol(
        actor=family.guardian, student_id=family.student.pk, photo=png(shade=shade), statement_version=statement.VERSION
    )


def test_the_feed_cursor_pages_through_changes_in_order(family: Family, other_family: Family) -> None:
    school_id = family.student.school_id
    start, nothing = selectors.face_changes(school_id=school_id, since=0)
    assert nothing == [] and start == 0

    first, second = _enrol(family), _enrol(other_family, shade=30)
    cursor, changes = selectors.face_changes(school_id=school_id, since=0, limit=1)
    assert cursor == first.seq and [c["face_id"] for c in changes] == [first.face_id]
    assert changes[0]["action"] == "add" and base64.b64decode(changes[0]["photo_b64"]) == png()
    assert changes[0]["photo_type"] == "image/png" and changes[0]["student_id"] == family.student.pk
    cursor, changes = selectors.face_changes(school_id=school_id, since=cursor, limit=1)
    assert cursor == second.seq and [c["face_id"] for c in changes] == [second.face_id]
    assert selectors.face_changes(school_id=school_id, since=cursor) == (cursor, [])

    services.withdraw_consent(actor=family.guardian, student_id=family.student.pk)
    after, changes = selectors.face_changes(school_id=school_id, since=cursor)
    assert changes == [{"face_id": first.face_id, "student_id": family.student.pk, "action": "remove"}]
    assert after > cursor == second.seq
    # a device starting afresh sees each face once, in its latest state
    _c, everything = selectors.face_changes(school_id=school_id, since=0)
    assert [(c["face_id"], c["action"]) for c in everything] == [(second.face_id, "add"), (first.face_id, "remove")]
    assert FaceLibraryCounter.objects.get(pk=school_id).seq == after


def test_a_feed_page_stops_at_its_photo_budget(family: Family, other_family: Family) -> None:
    first, second = _enrol(family), _enrol(other_family)
    cursor, changes = selectors.face_changes(school_id=family.student.school_id, since=0, max_photo_bytes=1)
    assert cursor == first.seq and len(changes) == 1  # one photo always goes, however large
    feed = selectors.device_feed(school_id=family.student.school_id, since=0, limit=1)
    assert feed["cursor"] == first.seq and feed["more"] is True
    feed = selectors.device_feed(school_id=family.student.school_id, since=feed["cursor"])
    assert [c["face_id"] for c in feed["changes"]] == [second.face_id] and feed["more"] is False


def test_seq_is_per_school(family: Family, far_family: Family) -> None:
    near, far = _enrol(family), _enrol(far_family)
    assert near.seq == far.seq == 1
    assert selectors.face_ids_by_student(school_id=family.student.school_id) == {family.student.pk: [near.face_id]}


# --- the signed device API (needs the router mounted at /api/v1; tests/urls.py does it) -----------------------


def _gate(school_id: int, name: str = "东门闸机") -> tuple[int, str]:
    device, secret = devices.register_device(actor=None, school_id=school_id, kind="gate", name=name)
    return device.pk, secret


def _get(path: str, device_id: int, secret: str) -> Any:
    headers = signed_headers(device_id, secret, "GET", path, b"")
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    return Client().get(path, **meta)


@pytest.mark.urls("zhixiao.faces.tests.urls")
def test_a_gate_pulls_its_schools_face_changes(family: Family, far_family: Family) -> None:
    near = _enrol(family)
    _enrol(far_family)
    device_id, secret = _gate(family.student.school_id)

    response = _get(f"/api/v1/devices/{device_id}/faces?since=0", device_id, secret)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["cursor"] == near.seq and body["more"] is False
    assert [(c["face_id"], c["action"]) for c in body["changes"]] == [(near.face_id, "add")]  # not school 2's face
    assert base64.b64decode(body["changes"][0]["photo_b64"]) == png()

    services.withdraw_consent(actor=family.guardian, student_id=family.student.pk)
    body = _get(f"/api/v1/devices/{device_id}/faces?since={body['cursor']}", device_id, secret).json()
    assert body["changes"] == [
        {
            "face_id": near.face_id,
            "student_id": family.student.pk,
            "action": "remove",
            "photo_b64": None,
            "photo_type": None,
        }
    ]


@pytest.mark.urls("zhixiao.faces.tests.urls")
def test_a_device_reads_only_its_own_feed_and_only_signed(family: Family) -> None:
    _enrol(family)
    device_id, secret = _gate(family.student.school_id)
    other_id, _other_secret = _gate(family.student.school_id, name="西门闸机")

    # signed by this device, asking for another device's feed
    assert _get(f"/api/v1/devices/{other_id}/faces?since=0", device_id, secret).status_code == 403
    assert Client().get(f"/api/v1/devices/{device_id}/faces?since=0").status_code == 401
    assert _get(f"/api/v1/devices/{device_id}/faces?since=0", device_id, "not-the-secret").status_code == 401
    assert _get(f"/api/v1/devices/{device_id}/faces?since=-1", device_id, secret).status_code == 422
