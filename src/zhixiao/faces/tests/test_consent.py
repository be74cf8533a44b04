"""The face library's rules: no photo without a guardian's consent, only the child's own guardian consents,
withdrawal deletes the photo, a student who leaves the school leaves the library."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from zhixiao.faces import photos, selectors, services, statement
from zhixiao.faces.models import FaceConsent, FaceEnrolment, RemovalReason
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.kernel.models import AuditRecord
from zhixiao.notifications import selectors as inbox
from zhixiao.notifications import services as notifications
from zhixiao.people import services as people_services

from .conftest import Family, jpeg_header, png

pytestmark = pytest.mark.django_db


def _enrol(family: Family, photo: bytes | None = None) -> FaceEnrolment:
    return services.give_consent_and_enrol(
        actor=family.guardian,
        student_id=family.student.pk,
        photo=png() if photo is None else photo,
        statement_version=statement.VERSION,
    )


def test_a_guardian_consents_and_the_gate_gets_the_face(family: Family, face_events: list[dict[str, Any]]) -> None:
    enrolment = _enrol(family)

    consent = enrolment.consent
    assert consent.guardian.account_id == family.guardian.pk and consent.given_by_id == family.guardian.pk
    assert consent.statement_version == statement.VERSION
    assert "敏感个人信息" in consent.statement_text and "不满十四周岁" in consent.statement_text
    assert enrolment.face_id.startswith("F") and len(enrolment.face_id) == 21
    assert bytes(enrolment.photo) == png() and enrolment.photo_type == "image/png"
    sid = family.student.pk
    assert selectors.face_ids_by_student(school_id=family.student.school_id) == {sid: [enrolment.face_id]}
    assert selectors.face_ids_by_student(school_id=family.student.school_id, student_ids=[sid]) == {
        sid: [enrolment.face_id]
    }
    assert selectors.face_ids_by_student(school_id=family.student.school_id, student_ids=[]) == {}
    assert face_events == [{"school_id": family.student.school_id, "student_ids": [sid]}]
    actions = set(
        AuditRecord.objects.filter(actor_id=family.guardian.pk, action__startswith="faces.").values_list(
            "action", flat=True
        )
    )
    assert actions == {"faces.consent.give", "faces.enrol"}

    # the child's other guardian is told, and may withdraw
    notifications.deliver_due()
    assert any(family.student.name in i.title for i in inbox.inbox_of(actor=family.guardians[1]))


def test_consent_is_given_against_the_current_statement_only(family: Family) -> None:
    with pytest.raises(DomainError, match="授权书"):
        services.give_consent_and_enrol(
            actor=family.guardian, student_id=family.student.pk, photo=png(), statement_version="2019.1"
        )
    with pytest.raises(DomainError, match="尚未授权"):
        services.replace_photo(actor=family.guardian, student_id=family.student.pk, photo=png())
    assert not FaceConsent.objects.filter(student=family.student).exists()
    assert not FaceEnrolment.objects.filter(student=family.student).exists()


def test_one_active_consent_per_child(family: Family) -> None:
    _enrol(family)
    with pytest.raises(DomainError, match="已授权"):
        services.give_consent_and_enrol(
            actor=family.guardians[1], student_id=family.student.pk, photo=png(), statement_version=statement.VERSION
        )


def test_school_staff_cannot_consent_on_a_guardians_behalf(family: Family, account_for: Any) -> None:
    student = family.student
    for role in ("school_admin", "homeroom_teacher", "principal", "it_staff", "system_admin", "student"):
        with pytest.raises(NotPermitted):
            services.give_consent_and_enrol(
                actor=account_for(role), student_id=student.pk, photo=png(), statement_version=statement.VERSION
            )
    assert not FaceConsent.objects.filter(student=student).exists()


def test_another_familys_guardian_cannot_enrol_replace_or_withdraw(family: Family, other_family: Family) -> None:
    stranger = other_family.guardian
    with pytest.raises(NotPermitted):
        services.give_consent_and_enrol(
            actor=stranger, student_id=family.student.pk, photo=png(), statement_version=statement.VERSION
        )
    enrolment = _enrol(family)
    with pytest.raises(NotPermitted):
        services.replace_photo(actor=stranger, student_id=family.student.pk, photo=png(shade=9))
    with pytest.raises(NotPermitted):
        services.withdraw_consent(actor=stranger, student_id=family.student.pk, note="我要撤回")
    assert selectors.photo_for(actor=stranger, enrolment_id=enrolment.pk) is None
    assert selectors.photo_for(actor=family.guardians[1], enrolment_id=enrolment.pk) is not None
    enrolment.refresh_from_db()
    assert enrolment.removed_at is None and bytes(enrolment.photo) == png()


def test_withdrawal_deletes_the_photo_and_keeps_the_record(family: Family, face_events: list[dict[str, Any]]) -> None:
    enrolment = _enrol(family)
    cursor, _changes = selectors.face_changes(school_id=family.student.school_id, since=0)

    consent = services.withdraw_consent(actor=family.guardians[1], student_id=family.student.pk)

    enrolment.refresh_from_db()
    assert enrolment.photo is None and enrolment.removed_at is not None
    assert enrolment.removal_reason == RemovalReason.WITHDRAWN and enrolment.seq > cursor
    assert consent.withdrawn_by_id == family.guardians[1].pk and consent.withdrawn_at is not None
    assert FaceConsent.objects.filter(pk=consent.pk).exists()  # the record of what was held stays
    assert selectors.face_ids_by_student(school_id=family.student.school_id, student_ids=[family.student.pk]) == {}
    assert selectors.photo_for(actor=family.guardian, enrolment_id=enrolment.pk) is None
    assert len(face_events) == 2 and face_events[-1]["student_ids"] == [family.student.pk]
    assert AuditRecord.objects.filter(action="faces.consent.withdraw", target_id=str(consent.pk)).exists()
    assert AuditRecord.objects.filter(action="faces.remove", target_id=str(enrolment.pk)).exists()
    with pytest.raises(DomainError, match="没有有效"):
        services.withdraw_consent(actor=family.guardian, student_id=family.student.pk)

    # consent may be given again later, with a new face id
    again = _enrol(family)
    assert again.face_id != enrolment.face_id and again.consent_id != consent.pk


def test_a_school_admin_withdraws_only_on_a_written_request_in_their_own_school(
    family: Family, far_family: Family, account_for: Any
) -> None:
    enrolment = _enrol(family)
    admin, far_admin = account_for("school_admin"), account_for("school_admin", 1)
    with pytest.raises(NotPermitted):
        services.withdraw_consent(actor=far_admin, student_id=family.student.pk, note="书面申请")
    with pytest.raises(NotPermitted):
        services.withdraw_consent(actor=account_for("homeroom_teacher"), student_id=family.student.pk, note="x")
    with pytest.raises(DomainError, match="书面申请"):
        services.withdraw_consent(actor=admin, student_id=family.student.pk, note="  ")

    consent = services.withdraw_consent(actor=admin, student_id=family.student.pk, note="父亲 2026-11-20 书面申请")

    assert consent.withdrawn_by_id == admin.pk and consent.withdrawal_note == "父亲 2026-11-20 书面申请"
    enrolment.refresh_from_db()
    assert enrolment.photo is None
    notifications.deliver_due()
    assert all(any("已撤回" in i.title for i in inbox.inbox_of(actor=g)) for g in family.guardians)


def test_replacing_the_photo_removes_the_old_face_from_the_devices(family: Family) -> None:
    old = _enrol(family)
    new = services.replace_photo(actor=family.guardians[1], student_id=family.student.pk, photo=jpeg_header())

    old.refresh_from_db()
    assert old.photo is None and old.removal_reason == RemovalReason.REPLACED
    assert new.consent_id == old.consent_id and new.face_id != old.face_id and new.photo_type == "image/jpeg"
    assert selectors.face_ids_by_student(school_id=family.student.school_id, student_ids=[family.student.pk]) == {
        family.student.pk: [new.face_id]
    }
    _cursor, changes = selectors.face_changes(school_id=family.student.school_id, since=new.seq - 2)
    assert [(c["face_id"], c["action"]) for c in changes] == [(old.face_id, "remove"), (new.face_id, "add")]


def test_a_student_who_graduates_leaves_the_face_library(
    family: Family, account_for: Any, face_events: list[dict[str, Any]]
) -> None:
    enrolment = _enrol(family)
    people_services.change_student_status(
        actor=account_for("school_admin"), student_id=family.student.pk, status="07", since=dt.date(2027, 7, 1)
    )
    enrolment.refresh_from_db()
    assert enrolment.photo is None and enrolment.removal_reason == RemovalReason.LEFT_SCHOOL
    assert FaceConsent.objects.get(pk=enrolment.consent_id).withdrawn_at is not None
    assert face_events[-1] == {"school_id": family.student.school_id, "student_ids": [family.student.pk]}
    with pytest.raises(DomainError, match="离校"):
        _enrol(family)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "请选择"),
        (b"%PDF-1.7 not a photo" + b"0" * 400, "JPEG 或 PNG"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 400, "已损坏"),
        (png(60, 60), "太小"),
        (png(5000, 120), "太大"),
        (b"\xff\xd8\xff" + b"\x00" * (photos.MAX_BYTES), "512 KB"),
    ],
)
def test_a_photo_must_be_a_real_jpeg_or_png_of_a_sensible_size(family: Family, data: bytes, message: str) -> None:
    with pytest.raises(DomainError, match=message):
        _enrol(family, photo=data)
    assert not FaceConsent.objects.filter(student=family.student).exists()


def test_photo_headers_are_read_without_an_imaging_library() -> None:
    assert photos.check(png(160, 200)) == photos.Photo("image/png", 160, 200)
    assert photos.check(jpeg_header(240, 320)) == photos.Photo("image/jpeg", 240, 320)
