"""The audit log service: record what happened, in the caller's transaction, and verify the chain."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from .models import AuditRecord

GENESIS = "0" * 64
_LOCK_KEY = 0x5A48_4155_4454  # pg_advisory_xact_lock key serialising appends to the chain

# Fields whose values are never written into the audit log in clear.
SENSITIVE_FIELDS = frozenset({"id_number", "mobile", "address", "password"})


@dataclass(frozen=True)
class Entry:
    action: str
    target_type: str = ""
    target_id: str = ""
    target_label: str = ""
    school_id: int | None = None
    changes: dict[str, Any] | None = None
    note: str = ""


def _digest(prev_hash: str, rec: AuditRecord) -> str:
    body = json.dumps(
        [
            rec.seq,
            rec.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            rec.actor_id,
            rec.actor_label,
            rec.school_id,
            rec.action,
            rec.target_type,
            rec.target_id,
            rec.target_label,
            rec.changes,
            rec.note,
            rec.ip,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _target_fields(target: Model | None) -> dict[str, Any]:
    if target is None:
        return {}
    return {
        "target_type": target._meta.label_lower,
        "target_id": str(target.pk),
        "target_label": str(target)[:200],
        "school_id": getattr(target, "school_id", None),
    }


def _clean(changes: dict[str, Any] | None) -> dict[str, Any]:
    """Keep JSON-able values; replace sensitive ones with a marker that they changed."""
    if not changes:
        return {}
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key in SENSITIVE_FIELDS and isinstance(value, list | tuple) and len(value) == 2:
            out[key] = ["***", "***"] if value[0] != value[1] else ["***", "***(unchanged)"]
        else:
            out[key] = json.loads(json.dumps(value, ensure_ascii=False, default=str))
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields that changed."""
    return {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}


def _actor_fields(actor: Any) -> dict[str, Any]:
    if actor is None:
        return {"actor_id": None, "actor_label": "system"}
    return {"actor_id": getattr(actor, "pk", None), "actor_label": str(actor)[:150]}


def _lock_chain() -> AuditRecord | None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
    return AuditRecord.objects.order_by("-seq").only("seq", "hash").first()


def record_many(*, actor: Any, entries: Iterable[Entry], ip: str = "") -> int:
    """Append several records in one go (an import writes thousands); atomic with the caller."""
    with transaction.atomic():
        last = _lock_chain()
        seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
        now = timezone.now()
        rows = []
        for e in entries:
            seq += 1
            rec = AuditRecord(
                seq=seq,
                at=now,
                action=e.action,
                target_type=e.target_type,
                target_id=e.target_id,
                target_label=e.target_label[:200],
                school_id=e.school_id,
                changes=_clean(e.changes),
                note=e.note[:500],
                ip=ip,
                prev_hash=prev,
                **_actor_fields(actor),
            )
            rec.hash = _digest(prev, rec)
            prev = rec.hash
            rows.append(rec)
        AuditRecord.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def record(
    *,
    actor: Any,
    action: str,
    target: Model | None = None,
    changes: dict[str, Any] | None = None,
    note: str = "",
    school_id: int | None = None,
    ip: str = "",
) -> None:
    """Append one record. Call inside the business transaction so both land or neither does."""
    fields = _target_fields(target)
    if school_id is not None:
        fields["school_id"] = school_id
    record_many(actor=actor, entries=[Entry(action=action, changes=changes, note=note, **fields)], ip=ip)


def entry_for(target: Model, action: str, changes: dict[str, Any] | None = None, note: str = "") -> Entry:
    return Entry(action=action, changes=changes, note=note, **_target_fields(target))


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    record_id: int
    reason: str


def verify_chain(batch: int = 5000) -> ChainBreak | None:
    """Walk the chain in order; return the first record that was edited, removed or re-ordered."""
    prev_hash, prev_seq = GENESIS, 0
    for rec in _iter_records(batch):
        if rec.seq != prev_seq + 1:
            return ChainBreak(rec.seq, rec.pk, f"missing record(s) before seq {rec.seq} (expected {prev_seq + 1})")
        if rec.prev_hash != prev_hash:
            return ChainBreak(rec.seq, rec.pk, "previous-hash link broken (a record was removed or replaced)")
        if _digest(prev_hash, rec) != rec.hash:
            return ChainBreak(rec.seq, rec.pk, "content does not match its hash (the record was edited)")
        prev_hash, prev_seq = rec.hash, rec.seq
    return None


def _iter_records(batch: int) -> Iterator[AuditRecord]:
    last = 0
    while True:
        chunk = list(AuditRecord.objects.filter(seq__gt=last).order_by("seq")[:batch])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].seq


def records_about(target: Model, limit: int = 50) -> list[AuditRecord]:
    """The audit trail of one record (newest first), for its profile page; callers check who may see it."""
    return list(
        AuditRecord.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk)).order_by("-seq")[
            :limit
        ]
    )
