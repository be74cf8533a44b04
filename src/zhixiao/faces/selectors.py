"""Reads of the face library. Photos leave here only for a guardian of the student (a page) or for a
device of the student's school (the feed); school pages get counts and dates, never bytes."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from zhixiao.kernel import permissions
from zhixiao.kernel.permissions import Role, Scope
from zhixiao.people import selectors as people_selectors

from .models import FaceConsent, FaceEnrolment

MANAGE = permissions.MANAGE_DEVICES
FEED_MAX_LIMIT = 500
# A feed page stops early past this many photo bytes (500 photos of 512 KB would be a 250 MB answer).
FEED_MAX_PHOTO_BYTES = 8 * 1024 * 1024


def guardian_student_ids(actor: Any) -> set[int]:
    """The students the actor is a guardian of (from the guardian links, via the actor's grants). Teachers'
    and the student's own grants do not count: consent and photos are the guardian's alone."""
    return {
        int(g.key)
        for g in permissions.grants_of(actor)
        if g.role == Role.GUARDIAN and g.scope is Scope.STUDENT and g.key is not None
    }


# --- for the attendance app and the devices -------------------------------------------------------------


def face_ids_by_student(*, school_id: int, student_ids: Iterable[int] | None = None) -> dict[int, list[str]]:
    """The face ids that stand for each student at the school's gates (active enrolments only); students
    without one are absent from the answer. student_ids None: the whole school."""
    qs = FaceEnrolment.objects.filter(school_id=school_id, removed_at__isnull=True)
    if student_ids is not None:
        ids = list(student_ids)
        if not ids:
            return {}
        qs = qs.filter(student_id__in=ids)
    out: dict[int, list[str]] = {}
    for student_id, face_id in qs.order_by("student_id", "seq").values_list("student_id", "face_id"):
        out.setdefault(student_id, []).append(face_id)
    return out


def face_changes(
    *, school_id: int, since: int, limit: int = FEED_MAX_LIMIT, max_photo_bytes: int = FEED_MAX_PHOTO_BYTES
) -> tuple[int, list[dict[str, Any]]]:
    """The library's changes after `since`, oldest first: (cursor to ask from next, changes). Each change is
    {face_id, student_id, action: "add"|"remove", photo_b64 (add only), photo_type (add only)}. A face is
    listed once, in its latest state. The page ends early once it carries `max_photo_bytes` of photos."""
    limit = max(1, min(limit, FEED_MAX_LIMIT))
    rows = (
        FaceEnrolment.objects.filter(school_id=school_id, seq__gt=since)
        .order_by("seq")
        .only("face_id", "student_id", "seq", "removed_at", "photo", "photo_type")[:limit]
    )
    cursor, carried = since, 0
    changes: list[dict[str, Any]] = []
    for row in rows:
        if row.removed_at is None and row.photo is not None:
            photo = bytes(row.photo)
            if changes and carried + len(photo) > max_photo_bytes:
                break
            carried += len(photo)
            change = {
                "face_id": row.face_id,
                "student_id": row.student_id,
                "action": "add",
                "photo_b64": base64.b64encode(photo).decode("ascii"),
                "photo_type": row.photo_type,
            }
        else:
            change = {"face_id": row.face_id, "student_id": row.student_id, "action": "remove"}
        changes.append(change)
        cursor = row.seq
    return cursor, changes


def device_feed(*, school_id: int, since: int, limit: int = 200) -> dict[str, Any]:
    """One page of the device feed: {cursor, changes, more}; `more` says to ask again at once."""
    cursor, changes = face_changes(school_id=school_id, since=since, limit=limit)
    more = FaceEnrolment.objects.filter(school_id=school_id, seq__gt=cursor).exists()
    return {"cursor": cursor, "changes": changes, "more": more}


# --- pages -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChildFace:
    """A guardian's child and where their face enrolment stands."""

    student: Any
    consent: FaceConsent | None  # the active consent
    enrolment: FaceEnrolment | None  # the active photo (without its bytes)
    last_withdrawn: FaceConsent | None  # the latest ended consent, when there is no active one


def children_with_faces(*, actor: Any) -> list[ChildFace]:
    """The guardian's own children with their consent status (what the guardian's page lists)."""
    own = guardian_student_ids(actor)
    children = [s for s in people_selectors.children_of(actor=actor).select_related("admin_class") if s.pk in own]
    ids = [s.pk for s in children]
    consents = FaceConsent.objects.filter(
        permissions.scope_q(actor, permissions.VIEW_STUDENT, FaceConsent), student_id__in=ids
    ).select_related("guardian")
    active: dict[int, FaceConsent] = {}
    ended: dict[int, FaceConsent] = {}
    for c in consents.order_by("given_at", "pk"):
        if c.withdrawn_at is None:
            active[c.student_id] = c
        else:
            ended[c.student_id] = c
    enrolments = {
        e.student_id: e
        for e in FaceEnrolment.objects.filter(student_id__in=ids, removed_at__isnull=True).defer("photo")
    }
    return [
        ChildFace(
            student=s,
            consent=active.get(s.pk),
            enrolment=enrolments.get(s.pk),
            last_withdrawn=None if s.pk in active else ended.get(s.pk),
        )
        for s in children
    ]


def photo_for(*, actor: Any, enrolment_id: int) -> FaceEnrolment | None:
    """An active photo, for a guardian of its student only (anyone else: None, shown as 404)."""
    own = guardian_student_ids(actor)
    if not own:
        return None
    return FaceEnrolment.objects.filter(pk=enrolment_id, student_id__in=own, removed_at__isnull=True).first()


def consents_for_school(*, actor: Any, school_id: int | None = None, status: str = "") -> QuerySet[FaceConsent]:
    """The consents of the schools whose devices the actor manages (no photos): status "active",
    "withdrawn" or "" for all."""
    qs = FaceConsent.objects.filter(permissions.scope_q(actor, MANAGE, FaceConsent))
    if school_id:
        qs = qs.filter(school_id=school_id)
    if status == "active":
        qs = qs.filter(withdrawn_at__isnull=True)
    elif status == "withdrawn":
        qs = qs.filter(withdrawn_at__isnull=False)
    return qs.select_related("student", "student__admin_class", "guardian", "withdrawn_by").order_by("-given_at", "-pk")


def school_counts(*, actor: Any, school_id: int | None = None) -> dict[str, int]:
    """Active consents, withdrawn (or ended) consents and faces in the library, for the school page."""
    consents = FaceConsent.objects.filter(permissions.scope_q(actor, MANAGE, FaceConsent))
    faces = FaceEnrolment.objects.filter(permissions.scope_q(actor, MANAGE, FaceEnrolment), removed_at__isnull=True)
    if school_id:
        consents, faces = consents.filter(school_id=school_id), faces.filter(school_id=school_id)
    row = consents.aggregate(
        active=Count("pk", filter=Q(withdrawn_at__isnull=True)),
        withdrawn=Count("pk", filter=Q(withdrawn_at__isnull=False)),
    )
    return {"active": row["active"], "withdrawn": row["withdrawn"], "faces": faces.count()}


def consent_visible_to_manager(*, actor: Any, student_id: int) -> bool:
    """Is there a consent of this student in a school whose devices the actor manages?"""
    return FaceConsent.objects.filter(permissions.scope_q(actor, MANAGE, FaceConsent), student_id=student_id).exists()
