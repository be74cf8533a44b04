"""The face library's actions: a guardian consents and enrols a child's photo, replaces it, withdraws;
a school records a withdrawal asked for in writing; a student who leaves the school leaves the library.

Every change deletes what is no longer consented to at once (the photo's bytes), takes the school's next
seq under a lock held until commit (so the devices' feed never skips a change), is audited, and publishes
faces.changed in the same transaction (the gates rebuild their credentials from it)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixiao.kernel import audit, domain_events, permissions
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.notifications import services as notifications
from zhixiao.people import selectors as people_selectors

from . import photos, selectors, statement
from .models import FaceConsent, FaceEnrolment, FaceLibraryCounter, RemovalReason

MANAGE = permissions.MANAGE_DEVICES
# JY/T 1001 学籍状态 in which a student still comes to school (在读, 休学); 毕业 and 转出 have left
IN_SCHOOL_STATUSES = frozenset({"01", "02"})
GUARDIAN_PAGE_URL = "/faces/"


def _lock_library(school_id: int) -> FaceLibraryCounter:
    """Lock the school's counter until commit: changes of one school commit one after the other, in seq order."""
    counter = FaceLibraryCounter.objects.select_for_update().filter(pk=school_id).first()
    if counter is None:
        FaceLibraryCounter.objects.get_or_create(school_id=school_id)
        counter = FaceLibraryCounter.objects.select_for_update().get(pk=school_id)
    return counter


def _take_seq(counter: FaceLibraryCounter) -> int:
    counter.seq += 1
    counter.save(update_fields=["seq"])
    return counter.seq


def _own_child(actor: Any, student_id: int) -> tuple[int, Any]:
    """(the actor's guardian id, the student) when the actor is a guardian of the student; school staff
    cannot consent on a guardian's behalf."""
    if actor is None or student_id not in selectors.guardian_student_ids(actor):
        raise NotPermitted(_("只有学生的监护人本人可以办理人脸识别授权"))
    link = (
        people_selectors.guardians_of(actor=actor, student_id=student_id).filter(guardian__account_id=actor.pk).first()
    )
    student = people_selectors.student_for(actor=actor, student_id=student_id)
    if link is None or student is None:
        raise NotPermitted(_("只有学生的监护人本人可以办理人脸识别授权"))
    return link.guardian_id, student


def _enrol(*, actor: Any, counter: FaceLibraryCounter, consent: FaceConsent, data: bytes) -> FaceEnrolment:
    photo = photos.check(data)
    enrolment = FaceEnrolment.objects.create(
        school_id=consent.school_id,
        student_id=consent.student_id,
        consent=consent,
        photo=data,
        photo_type=photo.content_type,
        photo_sha256=hashlib.sha256(data).hexdigest(),
        created_by=actor,
        seq=_take_seq(counter),
    )
    audit.record(
        actor=actor,
        action="faces.enrol",
        target=enrolment,
        changes={"face_id": [None, enrolment.face_id], "photo_sha256": [None, enrolment.photo_sha256]},
    )
    return enrolment


def _remove(*, actor: Any, counter: FaceLibraryCounter, enrolment: FaceEnrolment, reason: str, note: str = "") -> None:
    """Delete the photo's bytes and put the removal at the head of the feed; the row stays as the record."""
    enrolment.photo = None
    enrolment.removed_at = timezone.now()
    enrolment.removal_reason = reason
    enrolment.seq = _take_seq(counter)
    enrolment.save(update_fields=["photo", "removed_at", "removal_reason", "seq"])
    audit.record(
        actor=actor,
        action="faces.remove",
        target=enrolment,
        changes={"removal_reason": [None, reason]},
        note=note,
    )


def _tell_guardians(*, actor: Any, student: Any, school_id: int, template: str, dedup_key: str, note: str = "") -> None:
    """The child's other guardians hear of a consent given or withdrawn (the one who acted knows)."""
    recipients = [
        a
        for a in people_selectors.guardians_to_notify(student_id=student.pk).values_list("account_id", flat=True)
        if a and a != getattr(actor, "pk", None)
    ]
    notifications.notify(
        recipients=recipients,
        template=template,
        context={"student": student.name, "note": note},
        dedup_key=dedup_key,
        school_id=school_id,
        url=GUARDIAN_PAGE_URL,
    )


def give_consent_and_enrol(*, actor: Any, student_id: int, photo: bytes, statement_version: str) -> FaceEnrolment:
    """A guardian of the student consents, against the statement version they read, and enrols the child's
    photo; the face reaches the school's devices at their next pull."""
    guardian_id, student = _own_child(actor, student_id)
    if statement_version != statement.VERSION:
        raise DomainError(_("授权书内容已更新，请重新阅读后再授权"))
    if student.status not in IN_SCHOOL_STATUSES:
        raise DomainError(_("该学生已离校，不能采集人脸"))
    photos.check(photo)  # refuse a bad photo before anything is locked
    with transaction.atomic():
        counter = _lock_library(student.school_id)
        if FaceConsent.objects.filter(student_id=student_id, withdrawn_at__isnull=True).exists():
            raise DomainError(_("已授权人脸识别；如需更换照片，请使用“更换照片”"))
        consent = FaceConsent.objects.create(
            school_id=student.school_id,
            student_id=student_id,
            guardian_id=guardian_id,
            given_by=actor,
            statement_version=statement.VERSION,
            statement_text=statement.text(),
        )
        audit.record(
            actor=actor,
            action="faces.consent.give",
            target=consent,
            changes={"statement_version": [None, statement.VERSION]},
        )
        enrolment = _enrol(actor=actor, counter=counter, consent=consent, data=photo)
        _tell_guardians(
            actor=actor,
            student=student,
            school_id=student.school_id,
            template="faces.consent_given",
            dedup_key=f"faces:consent:{consent.pk}:given",
        )
        domain_events.publish(domain_events.FACES_CHANGED, school_id=student.school_id, student_ids=[student_id])
    return enrolment


def replace_photo(*, actor: Any, student_id: int, photo: bytes) -> FaceEnrolment:
    """A guardian of the student replaces the photo under the active consent: the old photo is deleted and
    its face id withdrawn from the devices, the new photo gets a new face id."""
    _guardian_id, student = _own_child(actor, student_id)
    photos.check(photo)
    with transaction.atomic():
        counter = _lock_library(student.school_id)
        consent = FaceConsent.objects.filter(student_id=student_id, withdrawn_at__isnull=True).first()
        if consent is None:
            raise DomainError(_("尚未授权人脸识别，请先阅读授权书并授权"))
        for old in FaceEnrolment.objects.select_for_update().filter(student_id=student_id, removed_at__isnull=True):
            _remove(actor=actor, counter=counter, enrolment=old, reason=RemovalReason.REPLACED)
        enrolment = _enrol(actor=actor, counter=counter, consent=consent, data=photo)
        domain_events.publish(domain_events.FACES_CHANGED, school_id=student.school_id, student_ids=[student_id])
    return enrolment


def withdraw_consent(*, actor: Any, student_id: int, note: str = "") -> FaceConsent:
    """Any guardian of the student withdraws at any time. A school's device managers (school admin, IT centre)
    may record a withdrawal a guardian asked for in writing, with a note saying so. The photo's bytes are
    deleted at once and the face leaves the devices at their next pull."""
    note = note.strip()[:300]
    is_guardian = actor is not None and student_id in selectors.guardian_student_ids(actor)
    with transaction.atomic():
        if is_guardian:
            found = FaceConsent.objects.filter(student_id=student_id)
        else:
            found = FaceConsent.objects.filter(permissions.scope_q(actor, MANAGE, FaceConsent), student_id=student_id)
            if not found.exists():
                raise NotPermitted(_("没有权限撤回该学生的人脸识别授权"))
            if not note:
                raise DomainError(_("代为撤回须注明监护人的书面申请（申请人、日期）"))
        consent = found.filter(withdrawn_at__isnull=True).first()
        if consent is None:
            raise DomainError(_("该学生没有有效的人脸识别授权"))
        counter = _lock_library(consent.school_id)
        consent = FaceConsent.objects.select_for_update().get(pk=consent.pk)
        if consent.withdrawn_at is not None:  # withdrawn by someone else meanwhile
            raise DomainError(_("该学生没有有效的人脸识别授权"))
        consent.withdrawn_at, consent.withdrawn_by, consent.withdrawal_note = timezone.now(), actor, note
        consent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_note"])
        audit.record(
            actor=actor,
            action="faces.consent.withdraw",
            target=consent,
            changes={"withdrawn_at": [None, consent.withdrawn_at.isoformat()]},
            note=note,
        )
        for enrolment in FaceEnrolment.objects.select_for_update().filter(consent=consent, removed_at__isnull=True):
            _remove(actor=actor, counter=counter, enrolment=enrolment, reason=RemovalReason.WITHDRAWN, note=note)
        _tell_guardians(
            actor=actor,
            student=consent.student,
            school_id=consent.school_id,
            template="faces.consent_withdrawn",
            dedup_key=f"faces:consent:{consent.pk}:withdrawn",
            note=note,
        )
        domain_events.publish(domain_events.FACES_CHANGED, school_id=consent.school_id, student_ids=[student_id])
    return consent


def remove_students_who_left(*, school_id: int, student_ids: Iterable[int]) -> int:
    """Consent lasts until the student graduates or transfers out: end it and delete the photos of those of
    these students who have left. Returns how many consents ended. (Subscribed to people.students_changed.)"""
    ids = list(student_ids)
    if not ids:
        return 0
    with transaction.atomic():
        # students' status read through the consent's own link to the student: the roster changed in this
        # same transaction, before the event was published
        consents = list(
            FaceConsent.objects.filter(school_id=school_id, student_id__in=ids, withdrawn_at__isnull=True)
            .exclude(student__status__in=IN_SCHOOL_STATUSES)
            .values_list("pk", flat=True)
        )
        if not consents:
            return 0
        counter = _lock_library(school_id)
        now, note = timezone.now(), _("学生已离校（毕业或转出），照片已删除")
        left: list[int] = []
        for consent in FaceConsent.objects.select_for_update().filter(pk__in=consents, withdrawn_at__isnull=True):
            consent.withdrawn_at, consent.withdrawal_note = now, note
            consent.save(update_fields=["withdrawn_at", "withdrawal_note"])
            audit.record(actor=None, action="faces.consent.end", target=consent, note=note)
            for enrolment in FaceEnrolment.objects.select_for_update().filter(consent=consent, removed_at__isnull=True):
                _remove(actor=None, counter=counter, enrolment=enrolment, reason=RemovalReason.LEFT_SCHOOL, note=note)
            left.append(consent.student_id)
        if left:
            domain_events.publish(domain_events.FACES_CHANGED, school_id=school_id, student_ids=sorted(left))
    return len(left)


def on_students_changed(*, school_id: int, student_ids: Iterable[int], **_payload: Any) -> None:
    remove_students_who_left(school_id=school_id, student_ids=student_ids)
