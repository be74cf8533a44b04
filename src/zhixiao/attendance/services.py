"""Gates, passages, day records and student leave: the write side of attendance.

A device's passages are stored once per (device, event_id) and folded into each student's day in the same
transaction, with the guardians' messages written to the notification outbox there too: a retried upload
changes nothing, a killed process loses nothing. The gate decides from `GatePass` rows, which are rebuilt
whenever the roster, a leave or a face changes, and which devices copy for offline use."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixiao.devices.services import DeviceIdentity
from zhixiao.faces import selectors as faces_selectors
from zhixiao.kernel import audit, permissions
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.notifications import services as notifications
from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors
from zhixiao.workflow import events as workflow_events
from zhixiao.workflow import services as workflow

from . import flows
from .engine import gate
from .models import (
    AttendanceDay,
    AttendancePolicy,
    AttendanceRule,
    DayStatus,
    DormStatus,
    GateCredential,
    GateEvent,
    GatePass,
    LeaveStatus,
    NotifyMode,
    PersonKind,
    StudentLeave,
)

LOCAL = ZoneInfo(settings.TIME_ZONE)
MAX_BATCH = 500
MAX_SNAPSHOT_BYTES = 200 * 1024
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
OLDEST_UPLOAD = dt.timedelta(days=30)
OPEN_LEAVE = (LeaveStatus.APPROVED, LeaveStatus.OUT)


def local(at: dt.datetime) -> dt.datetime:
    """A device's time in the school's zone (a naive time is taken as school time)."""
    if timezone.is_naive(at):
        return at.replace(tzinfo=LOCAL)
    return at.astimezone(LOCAL)


# --- rules, calendar and policy (cached per process for a short while) ----------------------------------

_RULES_SECONDS = 30.0
_rules_cache: dict[int, tuple[float, list[AttendanceRule]]] = {}
_days_cache: dict[tuple[int, dt.date], tuple[float, bool]] = {}


def forget_rules(school_id: int) -> None:
    _rules_cache.pop(school_id, None)
    for key in [k for k in _days_cache if k[0] == school_id]:
        _days_cache.pop(key, None)


def _rules(school_id: int) -> list[AttendanceRule]:
    now = time.monotonic()
    hit = _rules_cache.get(school_id)
    if hit is not None and now - hit[0] < _RULES_SECONDS:
        return hit[1]
    rules = list(AttendanceRule.objects.filter(school_id=school_id))
    _rules_cache[school_id] = (now, rules)
    return rules


def is_school_day(school_id: int, date: dt.date) -> bool:
    now = time.monotonic()
    hit = _days_cache.get((school_id, date))
    if hit is not None and now - hit[0] < _RULES_SECONDS * 10:
        return hit[1]
    value = org_selectors.is_school_day(school_id=school_id, date=date)
    _days_cache[(school_id, date)] = (now, value)
    return value


def rule_for(school_id: int, grade_id: int | None, boarding: str) -> AttendanceRule:
    """The most specific rule: grade and student type, then grade, then student type, then the school's."""
    best: tuple[int, AttendanceRule] | None = None
    for rule in _rules(school_id):
        if rule.grade_id not in (None, grade_id) or rule.boarding not in ("", boarding):
            continue
        rank = (2 if rule.grade_id is not None else 0) + (1 if rule.boarding else 0)
        if best is None or rank > best[0]:
            best = (rank, rule)
    return best[1] if best else AttendanceRule(school_id=school_id)


def schedule_for(school_id: int, grade_id: int | None, boarding: str, date: dt.date) -> gate.Schedule:
    rule = rule_for(school_id, grade_id, boarding)
    return gate.Schedule(
        is_school_day=is_school_day(school_id, date),
        on_time_by=rule.on_time_by,
        late_until=rule.late_until,
        dismissal_at=rule.dismissal_at,
        evening_study_end=rule.evening_study_end,
        dorm_check_in_by=rule.dorm_check_in_by,
    )


def policy_of(school_id: int) -> AttendancePolicy:
    policy, _created = AttendancePolicy.objects.get_or_create(school_id=school_id)
    return policy


def _require_school(actor: Any, action: str, school_id: int) -> None:
    if actor is None:
        return
    for g in permissions.grants_of(actor):
        if g.allows(action) and (
            g.scope is permissions.Scope.SYSTEM or (g.school_id == school_id and g.scope is permissions.Scope.SCHOOL)
        ):
            return
    raise NotPermitted(_("没有权限修改本校考勤设置"))


def save_rule(
    *,
    actor: Any,
    school_id: int,
    grade_id: int | None = None,
    boarding: str = "",
    on_time_by: dt.time,
    late_until: dt.time,
    dismissal_at: dt.time,
    evening_study_end: dt.time | None = None,
    dorm_check_in_by: dt.time | None = None,
    periods: list[dict[str, Any]] | None = None,
) -> AttendanceRule:
    """Set the school's (or a grade's, or a kind of student's) time windows."""
    _require_school(actor, permissions.MANAGE_ATTENDANCE, school_id)
    if boarding not in ("", "day", "boarding"):
        raise DomainError(_("学生类型应为 走读 或 住校"))
    if not on_time_by <= late_until <= dismissal_at:
        raise DomainError(_("时间顺序应为：准时到校截止 ≤ 迟到截止 ≤ 放学时间"))
    with transaction.atomic():
        rule, _created = AttendanceRule.objects.update_or_create(
            school_id=school_id,
            grade_id=grade_id,
            boarding=boarding,
            defaults={
                "on_time_by": on_time_by,
                "late_until": late_until,
                "dismissal_at": dismissal_at,
                "evening_study_end": evening_study_end,
                "dorm_check_in_by": dorm_check_in_by,
                "periods": periods or [],
            },
        )
        audit.record(actor=actor, action="attendance.rule", target=rule, school_id=school_id)
    forget_rules(school_id)
    return rule


def save_policy(*, actor: Any, school_id: int, notify_mode: str, absent_alert_at: dt.time) -> AttendancePolicy:
    """How guardians hear about passages, and when the absent-without-leave alert goes out."""
    _require_school(actor, permissions.MANAGE_ATTENDANCE, school_id)
    if notify_mode not in NotifyMode.values:
        raise DomainError(_("通知方式不正确"))
    with transaction.atomic():
        policy = AttendancePolicy.objects.select_for_update().get_or_create(school_id=school_id)[0]
        policy.notify_mode, policy.absent_alert_at = notify_mode, absent_alert_at
        policy.save(update_fields=["notify_mode", "absent_alert_at"])
        audit.record(
            actor=actor,
            action="attendance.policy",
            target=policy,
            school_id=school_id,
            changes={"notify_mode": [None, notify_mode], "absent_alert_at": [None, absent_alert_at.isoformat()]},
        )
    return policy


# --- gate passes: who may pass when, as the devices see it ------------------------------------------------


def _next_seqs(school_id: int, count: int) -> int:
    """Reserve `count` change numbers for the school; the row stays locked until the transaction commits, so
    change numbers become visible in order and a device's cursor never skips one."""
    AttendancePolicy.objects.get_or_create(school_id=school_id)
    policy = AttendancePolicy.objects.select_for_update().get(school_id=school_id)
    first = policy.pass_seq + 1
    policy.pass_seq += count
    policy.save(update_fields=["pass_seq"])
    return first


def _windows(student_ids: Iterable[int] | None, school_id: int) -> dict[int, list[list[Any]]]:
    now = timezone.now()
    qs = StudentLeave.objects.filter(
        school_id=school_id, status__in=OPEN_LEAVE, ends_at__gte=now - dt.timedelta(days=1)
    )
    if student_ids is not None:
        qs = qs.filter(student_id__in=list(student_ids))
    out: dict[int, list[list[Any]]] = defaultdict(list)
    for leave in qs.order_by("starts_at"):
        out[leave.student_id].append([local(leave.starts_at).isoformat(), local(leave.ends_at).isoformat(), leave.pk])
    return out


@transaction.atomic
def refresh_passes(
    *, school_id: int, student_ids: Iterable[int] | None = None, staff_ids: Iterable[int] | None = None
) -> int:
    """Bring the gate passes of these people (None: everyone of that kind; both None: the whole school) in line
    with the roster, approved leave and the face library. Returns how many passes changed."""
    whole = student_ids is None and staff_ids is None
    wanted: dict[tuple[str, int], dict[str, Any]] = {}
    creds: dict[tuple[str, int], set[tuple[str, str]]] = {}
    if whole or student_ids is not None:
        ids = None if student_ids is None else sorted(set(student_ids))
        windows = _windows(ids, school_id)
        faces = faces_selectors.face_ids_by_student(school_id=school_id, student_ids=ids)
        for s in people_selectors.gate_students(school_id=school_id, student_ids=ids):
            key = (PersonKind.STUDENT.value, s["id"])
            wanted[key] = {
                "name": s["name"],
                "number": s["student_no"],
                "class_name": s["class_name"] or "",
                "admin_class_id": s["admin_class_id"],
                "grade_id": s["grade_id"],
                "boarding": s["boarding"],
                "status": s["status"],
                "active": s["status"] in ("01", "02"),  # suspended students stay known, to be refused by name
                "leave_windows": windows.get(s["id"], []),
            }
            creds[key] = {("student_no", s["student_no"])} | {("face", f) for f in faces.get(s["id"], [])}
    if whole or staff_ids is not None:
        ids = None if staff_ids is None else sorted(set(staff_ids))
        for s in people_selectors.gate_staff(school_id=school_id, staff_ids=ids):
            key = (PersonKind.STAFF.value, s["id"])
            wanted[key] = {
                "name": s["name"],
                "number": s["staff_no"],
                "class_name": "",
                "admin_class_id": None,
                "grade_id": None,
                "boarding": "",
                "status": s["status"],
                "active": s["status"] == "active",
                "leave_windows": [],
            }
            creds[key] = {("staff_no", s["staff_no"])}
    existing_qs = GatePass.objects.filter(school_id=school_id)
    if not whole:
        existing_qs = existing_qs.filter(
            Q(
                person_kind=PersonKind.STUDENT,
                person_id__in=[k[1] for k in wanted if k[0] == "student"] + list(student_ids or []),
            )
            | Q(
                person_kind=PersonKind.STAFF,
                person_id__in=[k[1] for k in wanted if k[0] == "staff"] + list(staff_ids or []),
            )
        )
    existing = {(p.person_kind, p.person_id): p for p in existing_qs}
    fields = list(next(iter(wanted.values())).keys()) if wanted else []
    changed: list[GatePass] = []
    created: list[GatePass] = []
    for key, values in wanted.items():
        row = existing.get(key)
        if row is None:
            created.append(GatePass(school_id=school_id, person_kind=key[0], person_id=key[1], seq=0, **values))
        elif any(getattr(row, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(row, f, v)
            changed.append(row)
    for key, row in existing.items():  # people gone from the school's roster
        if key not in wanted and row.active:
            row.active = False
            row.leave_windows = []
            changed.append(row)
    # a new or withdrawn face (or 学籍号) is a change the devices must pull too
    have = _managed_credentials([p.pk for p in existing.values()])
    marked = {id(r) for r in changed}
    for key, row in existing.items():
        if key in wanted and id(row) not in marked and have.get(row.pk, set()) != creds.get(key, set()):
            changed.append(row)
    count = len(changed) + len(created)
    if count:
        seq = _next_seqs(school_id, count)
        for row in [*changed, *created]:
            row.seq = seq
            seq += 1
        GatePass.objects.bulk_update(changed, [*fields, "active", "leave_windows", "seq"], batch_size=1000)
        GatePass.objects.bulk_create(created, batch_size=1000)
    _sync_credentials(school_id, wanted, creds, existing, created)
    return count


def _managed_credentials(pass_ids: list[int]) -> dict[int, set[tuple[str, str]]]:
    """The credentials refresh_passes keeps in line (all but issued cards), per pass."""
    out: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for pass_id, kind, value in (
        GateCredential.objects.filter(gate_pass_id__in=pass_ids)
        .exclude(kind="card")
        .values_list("gate_pass_id", "kind", "credential")
    ):
        out[pass_id].add((kind, value))
    return out


def _sync_credentials(
    school_id: int,
    wanted: Mapping[tuple[str, int], Any],
    creds: Mapping[tuple[str, int], set[tuple[str, str]]],
    existing: Mapping[tuple[str, int], GatePass],
    created: Sequence[GatePass],
) -> None:
    passes = {**dict(existing.items()), **{(p.person_kind, p.person_id): p for p in created}}
    pass_ids = [p.pk for p in passes.values()]
    have: dict[int, set[tuple[str, str]]] = defaultdict(set)
    rows: dict[tuple[int, str, str], int] = {}
    for pk, pass_id, kind, value in GateCredential.objects.filter(gate_pass_id__in=pass_ids).values_list(
        "pk", "gate_pass_id", "kind", "credential"
    ):
        have[pass_id].add((kind, value))
        rows[(pass_id, kind, value)] = pk
    drop: list[int] = []
    add: list[GateCredential] = []
    for key, p in passes.items():
        want = creds.get(key, set()) if key in wanted else set()
        managed = {c for c in have[p.pk] if c[0] != "card"}  # cards are issued separately and kept
        drop.extend(rows[(p.pk, k, v)] for k, v in managed - want)
        add.extend(
            GateCredential(school_id=school_id, credential=v, kind=k, gate_pass_id=p.pk) for k, v in want - have[p.pk]
        )
    if drop:
        GateCredential.objects.filter(pk__in=drop).delete()
    if add:
        GateCredential.objects.bulk_create(add, batch_size=1000, ignore_conflicts=True)


def _on_students_changed(*, school_id: int, student_ids: Iterable[int]) -> None:
    refresh_passes(school_id=school_id, student_ids=list(student_ids))


def _on_staff_changed(*, school_id: int, staff_ids: Iterable[int]) -> None:
    refresh_passes(school_id=school_id, staff_ids=list(staff_ids))


def issue_card(*, actor: Any, student_id: int, card_no: str) -> GateCredential:
    """A campus card (IC card number) for a student; the old card of that student stops working."""
    card_no = card_no.strip()
    if not card_no or len(card_no) > 64:
        raise DomainError(_("卡号应为 1–64 个字符"))
    student = people_selectors.student_for(actor=actor, student_id=student_id) if actor else None
    if actor is not None and (student is None or not permissions.can(actor, permissions.EDIT_STUDENT, student)):
        raise NotPermitted(_("没有权限为该学生发卡"))
    with transaction.atomic():
        row = GatePass.objects.filter(person_kind=PersonKind.STUDENT, person_id=student_id).first()
        if row is None:
            raise DomainError(_("该学生还没有通行资格，请稍后再试"))
        school_id = row.school_id
        if GateCredential.objects.filter(school_id=school_id, credential=card_no).exclude(gate_pass=row).exists():
            raise DomainError(_("卡号 %(no)s 已被他人使用") % {"no": card_no})
        GateCredential.objects.filter(gate_pass=row, kind="card").delete()
        cred = GateCredential.objects.create(school_id=school_id, credential=card_no, kind="card", gate_pass=row)
        row.seq = _next_seqs(school_id, 1)
        row.save(update_fields=["seq"])
        audit.record(actor=actor, action="attendance.card", target=row, school_id=school_id, note=card_no)
    return cred


# --- the live decision --------------------------------------------------------------------------------


def _person(row: GatePass) -> gate.Person:
    return gate.Person(
        kind=row.person_kind,
        status=row.status,
        boarding=row.boarding,
        active=row.active,
        windows=tuple(
            gate.Window(dt.datetime.fromisoformat(a), dt.datetime.fromisoformat(b), int(i))
            for a, b, i in row.leave_windows
        ),
    )


def _summary(row: GatePass | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"kind": row.person_kind, "name": row.name, "number": row.number, "class_name": row.class_name}


def gate_decision(*, device: DeviceIdentity, credential: str, direction: str, at: dt.datetime) -> dict[str, Any]:
    """May the person with this credential pass this device now? Reads one indexed row; writes nothing."""
    when = local(at)
    # the unique (school, credential) index and the pass by its key; no ORDER BY (.first() would add one, and
    # on PostgreSQL "pk IN (…) ORDER BY pk LIMIT 1" may walk the whole pass table in key order)
    cred = (
        GateCredential.objects.filter(school_id=device.school_id, credential=credential)
        .select_related("gate_pass")
        .order_by()[:1]
    )
    row = next((c.gate_pass for c in cred), None)
    schedule = schedule_for(device.school_id, row.grade_id if row else None, row.boarding if row else "", when.date())
    decision = gate.decide(_person(row) if row else None, direction, when, schedule)
    return {
        "allow": decision.allow,
        "reason": decision.reason,
        "code": decision.code,
        "late": decision.code == "late",
        "person": _summary(row),
    }


# --- offline copy for devices ---------------------------------------------------------------------------


def permissions_feed(*, device: DeviceIdentity, since: int, limit: int = 2000) -> dict[str, Any]:
    """The passes that changed after `since` (0: every pass), oldest change first, with the school's rules for
    the next two weeks, so a gate keeps deciding alone with the same engine."""
    qs = GatePass.objects.filter(school_id=device.school_id, seq__gt=since)
    if since == 0:
        qs = qs.filter(active=True)
    rows = list(qs.order_by("seq")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    creds: dict[int, list[dict[str, str]]] = defaultdict(list)
    for pass_id, kind, value in GateCredential.objects.filter(gate_pass_id__in=[r.pk for r in rows]).values_list(
        "gate_pass_id", "kind", "credential"
    ):
        creds[pass_id].append({"kind": kind, "credential": value})
    today = timezone.localdate()
    cursor = rows[-1].seq if rows else since
    if not rows and since == 0:
        cursor = policy_of(device.school_id).pass_seq
    return {
        "cursor": cursor,
        "full": since == 0,
        "more": more,
        "passes": [
            {
                "kind": r.person_kind,
                "id": r.person_id,
                "name": r.name,
                "number": r.number,
                "class_name": r.class_name,
                "grade_id": r.grade_id,
                "boarding": r.boarding,
                "status": r.status,
                "active": r.active,
                "credentials": creds.get(r.pk, []),
                "leave_windows": [{"start": a, "end": b, "leave_id": i} for a, b, i in r.leave_windows],
            }
            for r in rows
        ],
        "schedule": {
            "days": [
                {
                    "date": (today + dt.timedelta(days=i)).isoformat(),
                    "school_day": is_school_day(device.school_id, today + dt.timedelta(days=i)),
                }
                for i in range(14)
            ],
            "rules": [
                {
                    "grade_id": r.grade_id,
                    "boarding": r.boarding,
                    "on_time_by": r.on_time_by.isoformat("minutes"),
                    "late_until": r.late_until.isoformat("minutes"),
                    "dismissal_at": r.dismissal_at.isoformat("minutes"),
                }
                for r in [*_rules(device.school_id)] or [AttendanceRule(school_id=device.school_id)]
            ],
        },
    }


# --- passages -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PassageIn:
    event_id: str
    credential: str
    direction: str
    time: dt.datetime
    snapshot: str | None = None
    period: int | None = None


def _check_batch(device: DeviceIdentity, items: Sequence[PassageIn]) -> list[bytes | None]:
    """Every problem of the batch at once; nothing is written when there is one."""
    if not 1 <= len(items) <= MAX_BATCH:
        raise DomainError(_("每批 1–%(n)d 条通行记录，本批 %(m)d 条") % {"n": MAX_BATCH, "m": len(items)})
    now = timezone.now()
    problems: list[str] = []
    seen: set[str] = set()
    snapshots: list[bytes | None] = []
    for n, item in enumerate(items, start=1):
        where = _("第 %(n)d 条（%(id)s）") % {"n": n, "id": item.event_id}
        if item.event_id in seen:
            problems.append(where + _("：event_id 在本批中重复"))
        seen.add(item.event_id)
        if item.direction not in ("in", "out"):
            problems.append(where + _("：direction 应为 in 或 out"))
        elif device.direction != "both" and item.direction != device.direction:
            problems.append(where + _("：本设备只登记“%(d)s”方向") % {"d": device.direction})
        when = local(item.time)
        if when > now + FUTURE_TOLERANCE:
            problems.append(where + _("：时间在未来（%(t)s），请校准设备时钟") % {"t": when.isoformat()})
        elif when < now - OLDEST_UPLOAD:
            problems.append(where + _("：时间早于 30 天前，不再接收"))
        blob = None
        if item.snapshot:
            try:
                blob = base64.b64decode(item.snapshot, validate=True)
            except (binascii.Error, ValueError):
                problems.append(where + _("：snapshot 不是有效的 base64"))
            else:
                if len(blob) > MAX_SNAPSHOT_BYTES:
                    problems.append(where + _("：抓拍图片超过 200 KB"))
        snapshots.append(blob)
    if problems:
        raise DomainError(
            "；".join(problems[:20]) + (_("……共 %(n)d 处问题") % {"n": len(problems)} if len(problems) > 20 else "")
        )
    return snapshots


# Passages are written in transactions of this many: each is complete in itself (passages, days, messages), so
# a large backlog does not hold SQLite's single write lock, which every gate decision needs, for long.
WRITE_CHUNK = 50


def record_passages(*, device: DeviceIdentity, items: Sequence[PassageIn]) -> dict[str, Any]:
    """Store a device's batch of passages once each and fold them into the day records; idempotent per
    (device, event_id). The whole batch is checked before anything is written; then it is written in chunks,
    each atomic, so a process killed half-way leaves whole passages, and the device's retry finds those as
    duplicates. Two identical uploads racing: the second waits for the first, then finds duplicates."""
    snapshots = _check_batch(device, items)
    out: dict[str, Any] = {"accepted": 0, "duplicates": 0, "anomalies": 0, "results": []}
    for start in range(0, len(items), WRITE_CHUNK):
        chunk, blobs = items[start : start + WRITE_CHUNK], snapshots[start : start + WRITE_CHUNK]
        for attempt in range(3):
            try:
                with transaction.atomic():
                    part = _record(device, chunk, blobs)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
        for key in ("accepted", "duplicates", "anomalies"):
            out[key] += part[key]
        out["results"].extend(part["results"])
    return out


def _record(device: DeviceIdentity, items: Sequence[PassageIn], snapshots: Sequence[bytes | None]) -> dict[str, Any]:
    now = timezone.now()
    ids = [i.event_id for i in items]
    seen = set(GateEvent.objects.filter(device_id=device.id, event_id__in=ids).values_list("event_id", flat=True))
    fresh = [(i, s) for i, s in zip(items, snapshots, strict=True) if i.event_id not in seen]
    creds = {i.credential for i, _s in fresh}
    passes: dict[str, GatePass] = {}
    for cred in GateCredential.objects.filter(school_id=device.school_id, credential__in=creds).select_related(
        "gate_pass"
    ):
        passes[cred.credential] = cred.gate_pass
    rows: list[GateEvent] = []
    for item, blob in fresh:
        p = passes.get(item.credential)
        when = local(item.time)
        flag = ""
        if p is None:
            flag = "unknown"
        elif p.person_kind == PersonKind.STUDENT and device.kind == "gate":
            decision = gate.decide(
                _person(p), item.direction, when, schedule_for(device.school_id, p.grade_id, p.boarding, when.date())
            )
            flag = {"late": "late", "leave": "leave", "no_leave": "no_leave", "before_dismissal": "early"}.get(
                decision.code, ""
            )
            if not decision.allow and decision.code == "refused_status":
                flag = "refused"
        rows.append(
            GateEvent(
                school_id=device.school_id,
                device_id=device.id,
                device_kind=device.kind,
                event_id=item.event_id,
                credential=item.credential,
                direction=item.direction,
                occurred_at=when,
                received_at=now,
                student_id=p.person_id if p is not None and p.person_kind == PersonKind.STUDENT else None,
                staff_id=p.person_id if p is not None and p.person_kind == PersonKind.STAFF else None,
                name=p.name if p else "",
                class_name=p.class_name if p else "",
                admin_class_id=p.admin_class_id if p else None,
                grade_id=p.grade_id if p else None,
                flag=flag,
                snapshot=blob,
                period=item.period or (_period_at(device.school_id, p, when) if device.kind == "classroom" else None),
            )
        )
    GateEvent.objects.bulk_create(rows, batch_size=500)
    stored = rows  # PostgreSQL and SQLite both return the new keys from a bulk insert
    if any(r.pk is None for r in rows):  # a database that does not: read them back
        stored = list(GateEvent.objects.filter(device_id=device.id, event_id__in=[r.event_id for r in rows]))
    student_events = [e for e in stored if e.student_id is not None]
    if student_events:
        _leave_passages(student_events)
        _fold(device.school_id, {(e.student_id, local(e.occurred_at).date()) for e in student_events if e.student_id})
        _tell_guardians(device.school_id, [e for e in student_events if e.device_kind == "gate"])
    fresh_ids = {r.event_id for r in rows}
    results = []
    for item in items:
        status = (
            "duplicate"
            if item.event_id not in fresh_ids
            else ("anomaly" if item.credential not in passes else "recorded")
        )
        results.append({"event_id": item.event_id, "status": status})
    return {
        "accepted": len(rows),
        "duplicates": len(items) - len(rows),
        "anomalies": sum(1 for r in rows if r.flag == "unknown"),
        "results": results,
    }


def _period_at(school_id: int, p: GatePass | None, when: dt.datetime) -> int | None:
    """The lesson a classroom check-in belongs to, from the rule's periods (ten minutes before it starts on)."""
    rule = rule_for(school_id, p.grade_id if p else None, p.boarding if p else "")
    for period in rule.periods or []:
        try:
            start = dt.datetime.combine(when.date(), dt.time.fromisoformat(period["start"]), tzinfo=LOCAL)
            end = dt.datetime.combine(when.date(), dt.time.fromisoformat(period["end"]), tzinfo=LOCAL)
        except (KeyError, TypeError, ValueError):
            continue
        if start - dt.timedelta(minutes=10) <= when <= end:
            return int(period.get("n", 0)) or None
    return None


def _leave_passages(events: Sequence[GateEvent]) -> None:
    """An approved leave: the student's way out marks the departure, the way back in is 销假."""
    gate_events = [e for e in events if e.device_kind == "gate"]
    if not gate_events:
        return
    students = {e.student_id for e in gate_events}
    leaves = list(
        StudentLeave.objects.select_for_update().filter(
            student_id__in=students, status__in=[LeaveStatus.APPROVED, LeaveStatus.OUT, LeaveStatus.OVERDUE]
        )
    )
    if not leaves:
        return
    changed_students: set[int] = set()
    for e in sorted(gate_events, key=lambda e: e.occurred_at):
        for leave in leaves:
            if leave.student_id != e.student_id:
                continue
            if (
                e.direction == "out"
                and leave.status == LeaveStatus.APPROVED
                and leave.starts_at <= e.occurred_at <= leave.ends_at
            ):
                leave.status, leave.departed_at = LeaveStatus.OUT, e.occurred_at
                leave.save(update_fields=["status", "departed_at"])
            elif (
                e.direction == "in"
                and leave.status in (LeaveStatus.OUT, LeaveStatus.OVERDUE)
                and leave.departed_at
                and e.occurred_at > leave.departed_at
            ):
                leave.status, leave.returned_at = LeaveStatus.RETURNED, e.occurred_at
                leave.save(update_fields=["status", "returned_at"])
                changed_students.add(leave.student_id)
                _notify_leave(leave, "attendance.leave_returned", "returned", returned=_hm(e.occurred_at))
    if changed_students:
        refresh_passes(school_id=gate_events[0].school_id, student_ids=changed_students)


def _hm(at: dt.datetime | None) -> str:
    return local(at).strftime("%m-%d %H:%M") if at else ""


def _fold(school_id: int, keys: set[tuple[int, dt.date]], now: dt.datetime | None = None) -> None:
    """Recompute the day records of these (student, date) pairs from all of that day's passages."""
    if not keys:
        return
    now = local(now or timezone.now())
    students = {k[0] for k in keys}
    dates = {k[1] for k in keys}
    start = dt.datetime.combine(min(dates), dt.time.min, tzinfo=LOCAL)
    end = dt.datetime.combine(max(dates) + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL)
    passages: dict[tuple[int, dt.date], list[gate.Passage]] = defaultdict(list)
    for sid, at, direction, kind, period in GateEvent.objects.filter(
        student_id__in=students, occurred_at__gte=start, occurred_at__lt=end
    ).values_list("student_id", "occurred_at", "direction", "device_kind", "period"):
        when = local(at)
        passages[(int(sid or 0), when.date())].append(gate.Passage(when, direction, kind, period))
    leaves: dict[int, list[gate.Window]] = defaultdict(list)
    for leave in StudentLeave.objects.filter(
        student_id__in=students,
        status__in=[LeaveStatus.APPROVED, LeaveStatus.OUT, LeaveStatus.RETURNED, LeaveStatus.OVERDUE],
        starts_at__lt=end,
        ends_at__gte=start,
    ):
        leaves[leave.student_id].append(gate.Window(local(leave.starts_at), local(leave.ends_at), leave.pk))
    info = {
        p.person_id: p
        for p in GatePass.objects.filter(school_id=school_id, person_kind=PersonKind.STUDENT, person_id__in=students)
    }
    # locked: a teacher's correction committing meanwhile is seen (and kept), not overwritten
    existing = {
        (d.student_id, d.date): d
        for d in AttendanceDay.objects.select_for_update().filter(student_id__in=students, date__in=dates)
    }
    rows: list[AttendanceDay] = []
    for sid, date in keys:
        p = info.get(sid)
        if p is None:
            continue
        schedule = schedule_for(school_id, p.grade_id, p.boarding, date)
        if not schedule.is_school_day:
            continue
        result = gate.fold_day(
            passages.get((sid, date), []),
            date=date,
            schedule=schedule,
            boarding=p.boarding,
            windows=leaves.get(sid, []),
            now=now,
        )
        old = existing.get((sid, date))
        if old is not None and old.corrected:
            continue
        row = AttendanceDay(
            school_id=school_id,
            student_id=sid,
            date=date,
            admin_class_id=old.admin_class_id if old else p.admin_class_id,
            grade_id=old.grade_id if old else p.grade_id,
        )
        rows.append(row)
        row.status = result.status
        row.dorm_status = result.dorm_status
        row.first_in, row.last_out = result.first_in, result.last_out
        row.late_minutes = result.late_minutes
        row.periods = result.periods
        row.leave_id = result.leave_id
        row.updated_at = timezone.now()
    # one upsert for new and recomputed days (a CASE-per-field bulk_update costs more than the rest of a batch)
    AttendanceDay.objects.bulk_create(
        rows,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["student", "date"],
        update_fields=[
            "status",
            "dorm_status",
            "first_in",
            "last_out",
            "late_minutes",
            "periods",
            "leave_id",
            "updated_at",
        ],
    )


def _tell_guardians(school_id: int, events: Sequence[GateEvent]) -> None:
    """Arrival and departure messages as the school chose; exactly once per passage (or per day for
    first-in/last-out), by the outbox's dedup key, however often the device re-sends."""
    if not events:
        return
    mode = policy_of(school_id).notify_mode
    guardians = people_selectors.guardian_accounts_by_student({e.student_id for e in events if e.student_id})
    notices: list[notifications.Notice] = []
    for e in sorted(events, key=lambda e: e.occurred_at):
        recipients = guardians.get(e.student_id or 0, [])
        if not recipients:
            continue
        when = local(e.occurred_at)
        day = when.strftime("%Y%m%d")
        exception = e.flag in ("late", "early", "no_leave")
        if e.direction == "in":
            template, dedup = (
                ("attendance.late", f"arrive:{e.student_id}:{day}")  # one arrival message a day, late or not
                if e.flag == "late"
                else ("attendance.arrived", f"arrive:{e.student_id}:{day}")
            )
        else:
            template, dedup = (
                ("attendance.left_early", f"early:{e.pk}")
                if exception
                else ("attendance.departed", f"depart:{e.student_id}:{day}")
            )
        if mode == NotifyMode.EVERY:
            dedup = f"gate:{e.pk}"
        elif mode == NotifyMode.EXCEPTIONS and not exception and e.flag != "leave":
            continue
        notices.append(
            notifications.Notice(
                recipients=recipients,
                template=template,
                context={"name": e.name, "time": when.strftime("%H:%M"), "date": when.strftime("%m月%d日")},
                dedup_key=dedup,
                school_id=school_id,
                url="/attendance/my/",
            )
        )
    notifications.notify_many(notices)


# --- day records: absences, corrections -----------------------------------------------------------------


def sweep_absences(*, school_id: int, now: dt.datetime | None = None) -> int:
    """After the late cut-off, every enrolled student of a school day without an arrival gets a day record
    (absent, or on leave); at the policy's alert time guardians of those absent without leave are told once."""
    now = local(now or timezone.now())
    today = now.date()
    if not is_school_day(school_id, today):
        return 0
    with transaction.atomic():
        enrolled = GatePass.objects.filter(
            school_id=school_id, person_kind=PersonKind.STUDENT, status="01", active=True
        )
        have = set(AttendanceDay.objects.filter(school_id=school_id, date=today).values_list("student_id", flat=True))
        missing = [p.person_id for p in enrolled.only("person_id") if p.person_id not in have]
        pending = set(
            AttendanceDay.objects.filter(school_id=school_id, date=today, status=DayStatus.PENDING).values_list(
                "student_id", flat=True
            )
        )
        _fold(school_id, {(sid, today) for sid in [*missing, *pending]}, now)
        policy = policy_of(school_id)
        if now.time() < policy.absent_alert_at:
            return len(missing)
        absent = list(
            AttendanceDay.objects.select_for_update().filter(
                school_id=school_id, date=today, status=DayStatus.ABSENT, alerted=False
            )
        )
        guardians = people_selectors.guardian_accounts_by_student([d.student_id for d in absent])
        names = dict(
            GatePass.objects.filter(
                school_id=school_id, person_kind=PersonKind.STUDENT, person_id__in=[d.student_id for d in absent]
            ).values_list("person_id", "name")
        )
        for d in absent:
            context = {
                "name": names.get(d.student_id, ""),
                "date": today.strftime("%m月%d日"),
                "time": policy.absent_alert_at.strftime("%H:%M"),
            }
            notifications.notify(
                recipients=guardians.get(d.student_id, []),
                template="attendance.absent",
                context=context,
                dedup_key=f"absent:{d.student_id}:{today:%Y%m%d}",
                school_id=school_id,
                url="/attendance/my/",
            )
            teacher = org_selectors.homeroom_teacher_of(d.admin_class_id) if d.admin_class_id else None
            if teacher:
                notifications.notify(
                    recipients=[teacher],
                    template="attendance.absent",
                    context=context,
                    dedup_key=f"absent:{d.student_id}:{today:%Y%m%d}",
                    school_id=school_id,
                    url="/attendance/board/",
                )
        AttendanceDay.objects.filter(pk__in=[d.pk for d in absent]).update(alerted=True)
    return len(missing)


def sweep_dorms(*, school_id: int, now: dt.datetime | None = None) -> int:
    """After the dorm check-in time, boarders not back in the dorm (未归) without leave: the day record says so
    and the homeroom teacher and the guardians are told once."""
    now = local(now or timezone.now())
    today = now.date()
    deadlines = [r.dorm_check_in_by for r in _rules(school_id) if r.dorm_check_in_by is not None]
    if not deadlines or now.time() < min(deadlines) or not is_school_day(school_id, today):
        return 0
    with transaction.atomic():
        boarders = list(
            GatePass.objects.filter(
                school_id=school_id, person_kind=PersonKind.STUDENT, boarding="boarding", status="01", active=True
            ).values_list("person_id", flat=True)
        )
        _fold(school_id, {(sid, today) for sid in boarders}, now)
        missing = list(
            AttendanceDay.objects.select_for_update().filter(
                school_id=school_id, date=today, dorm_status=DormStatus.NOT_BACK, dorm_alerted=False
            )
        )
        guardians = people_selectors.guardian_accounts_by_student([d.student_id for d in missing])
        names = dict(
            GatePass.objects.filter(
                school_id=school_id, person_kind=PersonKind.STUDENT, person_id__in=[d.student_id for d in missing]
            ).values_list("person_id", "name")
        )
        for d in missing:
            teacher = org_selectors.homeroom_teacher_of(d.admin_class_id) if d.admin_class_id else None
            notifications.notify(
                recipients=[*guardians.get(d.student_id, []), *([teacher] if teacher else [])],
                template="attendance.not_back",
                context={"name": names.get(d.student_id, ""), "date": today.strftime("%m月%d日")},
                dedup_key=f"not_back:{d.student_id}:{today:%Y%m%d}",
                school_id=school_id,
                url="/attendance/my/",
            )
        AttendanceDay.objects.filter(pk__in=[d.pk for d in missing]).update(dorm_alerted=True)
    return len(missing)


DAY_STATUSES_SETTABLE = (DayStatus.PRESENT, DayStatus.LATE, DayStatus.ABSENT, DayStatus.ON_LEAVE, DayStatus.LEFT_EARLY)


def correct_day(*, actor: Any, day_id: int, status: str, reason: str) -> AttendanceDay:
    """A homeroom teacher (or the school admin) corrects a day record; the reason is required and audited,
    and passages arriving later no longer change it."""
    reason = reason.strip()
    with transaction.atomic():
        day = AttendanceDay.objects.select_for_update().filter(pk=day_id).first()
        if day is None or not permissions.can(actor, permissions.EDIT_ATTENDANCE, day):
            raise NotPermitted(_("没有权限更正该考勤记录"))
        if not reason:
            raise DomainError(_("请填写更正原因"))
        if status not in DAY_STATUSES_SETTABLE:
            raise DomainError(_("状态不正确"))
        before = {"status": day.status, "reason": day.correction_reason}
        day.status, day.corrected, day.correction_reason, day.corrected_by_id = status, True, reason[:200], actor.pk
        day.save(update_fields=["status", "corrected", "correction_reason", "corrected_by", "updated_at"])
        audit.record(
            actor=actor,
            action="attendance.correct",
            target=day,
            school_id=day.school_id,
            note=reason,
            changes=audit.diff(before, {"status": status, "reason": reason}),
        )
    return day


# --- student leave (a flow on the approval engine) -------------------------------------------------------


def install_default_flows(*, school_id: int) -> int:
    existing = set(workflow.definition_keys(school_id=school_id))
    added = 0
    for raw in flows.DEFAULT_FLOWS:
        if raw["key"] not in existing:
            workflow.save_definition(actor=None, school_id=school_id, raw=raw, module="attendance", check_people=False)
            added += 1
    return added


def setup_school(*, school_id: int) -> None:
    """What a school needs for gates and leave: the leave flow, its gate settings, and a pass for everyone."""
    install_default_flows(school_id=school_id)
    policy_of(school_id)
    refresh_passes(school_id=school_id)


def setup_all_schools() -> None:
    for school_id in org_selectors.all_school_ids():
        setup_school(school_id=school_id)


def leave_days(start: dt.datetime, end: dt.datetime) -> Decimal:
    """Days a leave spans, for the flow's conditions: half-day steps, at least half a day."""
    hours = (end - start).total_seconds() / 3600
    if hours <= 12:
        return Decimal("0.5") if hours <= 5 else Decimal("1")
    return Decimal(max(1, round(hours / 24 * 2) / 2)).quantize(Decimal("0.1"))


def file_leave(
    *,
    actor: Any,
    student_id: int,
    leave_type: str,
    start: dt.datetime,
    end: dt.datetime,
    reason: str,
    files: Sequence[Any] = (),
) -> StudentLeave:
    """A guardian, the homeroom teacher or the student files a leave; it goes through the school's flow."""
    start, end = local(start), local(end)
    if end <= start:
        raise DomainError(_("返校时间须晚于离校时间"))
    if end - start > dt.timedelta(days=60):
        raise DomainError(_("单次请假不超过 60 天"))
    row = people_selectors.gate_students(school_id=_school_of_student(student_id), student_ids=[student_id])
    if not row:
        raise DomainError(_("学生不存在"))
    student = row[0]
    data = {
        "student": student["student_no"],
        "leave_type": leave_type,
        "start": start.replace(tzinfo=None).isoformat(timespec="minutes"),
        "end": end.replace(tzinfo=None).isoformat(timespec="minutes"),
        "days": str(leave_days(start, end)),
        "reason": reason,
    }
    ref = workflow.start_request(
        actor=actor, key=flows.STUDENT_LEAVE, data=data, files=files, school_id=_school_of_student(student_id)
    )
    return StudentLeave.objects.get(request_id=ref.id)


def _school_of_student(student_id: int) -> int:
    school_id = people_selectors.school_of_student(student_id)
    if school_id is None:
        raise DomainError(_("学生不存在"))
    return school_id


def _leave_context(leave: StudentLeave, **extra: Any) -> dict[str, Any]:
    name = (
        GatePass.objects.filter(person_kind=PersonKind.STUDENT, person_id=leave.student_id)
        .values_list("name", flat=True)
        .first()
    )
    return {
        "name": name or "",
        "type": leave.leave_type,
        "start": _hm(leave.starts_at),
        "end": _hm(leave.ends_at),
        "number": leave.request_number,
        **extra,
    }


def _notify_leave(leave: StudentLeave, template: str, suffix: str, **extra: Any) -> None:
    """Every guardian of the student and the homeroom teacher (the school's 抄送家长)."""
    recipients = list(people_selectors.guardian_accounts_by_student([leave.student_id]).get(leave.student_id, []))
    teacher = org_selectors.homeroom_teacher_of(leave.admin_class_id) if leave.admin_class_id else None
    if teacher:
        recipients.append(teacher)
    notifications.notify(
        recipients=recipients,
        template=template,
        context=_leave_context(leave, **extra),
        dedup_key=f"student_leave:{leave.pk}:{suffix}",
        school_id=leave.school_id,
        url=f"/attendance/leave/{leave.pk}/",
    )


def on_leave_event(event: workflow_events.RequestEvent) -> None:
    """The leave flow's outcomes, in the decision's own transaction."""
    values = event.values
    if event.event == workflow_events.SUBMITTED:
        student = values.get("student") or {}
        student_id = int(student.get("id") or 0) if isinstance(student, Mapping) else int(student)
        rows = people_selectors.gate_students(school_id=event.school_id, student_ids=[student_id])
        info = rows[0] if rows else {}
        StudentLeave.objects.update_or_create(
            request_id=event.request_id,
            defaults={
                "school_id": event.school_id,
                "student_id": student_id,
                "request_number": event.number,
                "leave_type": str(values.get("leave_type", "")),
                "starts_at": local(dt.datetime.fromisoformat(str(values["start"]))),
                "ends_at": local(dt.datetime.fromisoformat(str(values["end"]))),
                "reason": str(values.get("reason", ""))[:500],
                "status": LeaveStatus.PENDING,
                "filed_by_id": event.applicant_id,
                "filed_at": timezone.now(),
                "admin_class_id": info.get("admin_class_id"),
                "grade_id": info.get("grade_id"),
            },
        )
        return
    leave = StudentLeave.objects.select_for_update().filter(request_id=event.request_id).first()
    if leave is None:
        return
    if event.event == workflow_events.APPROVED:
        leave.status, leave.decided_at = LeaveStatus.APPROVED, timezone.now()
        leave.save(update_fields=["status", "decided_at"])
        refresh_passes(school_id=leave.school_id, student_ids=[leave.student_id])
        _fold(leave.school_id, _leave_days_keys(leave))
        _notify_leave(leave, "attendance.leave_approved", "approved")
        from . import tasks

        transaction.on_commit(lambda: tasks.schedule_leave_check(leave.ends_at))
    elif event.event in (workflow_events.REJECTED, workflow_events.WITHDRAWN, workflow_events.RETURNED):
        leave.status = {
            workflow_events.REJECTED: LeaveStatus.REJECTED,
            workflow_events.WITHDRAWN: LeaveStatus.WITHDRAWN,
            workflow_events.RETURNED: LeaveStatus.PENDING,
        }[event.event]
        leave.decided_at = timezone.now()
        leave.save(update_fields=["status", "decided_at"])
        if event.event == workflow_events.REJECTED:
            _notify_leave(leave, "attendance.leave_rejected", "rejected")


def _leave_days_keys(leave: StudentLeave) -> set[tuple[int, dt.date]]:
    today = timezone.localdate()
    first, last = local(leave.starts_at).date(), min(local(leave.ends_at).date(), today)
    out = set()
    d = first
    while d <= last:
        out.add((leave.student_id, d))
        d += dt.timedelta(days=1)
    return out


def cancel_leave(*, actor: Any, leave_id: int, reason: str = "") -> StudentLeave:
    """Cancel an approved leave before the student has left (the gate closes again). Kept as a record."""
    with transaction.atomic():
        leave = StudentLeave.objects.select_for_update().filter(pk=leave_id).first()
        if leave is None:
            raise DomainError(_("请假记录不存在"))
        own = (
            people_selectors.is_guardian_of(account_id=actor.pk, student_id=leave.student_id)
            or leave.filed_by_id == actor.pk
        )
        if not own and not permissions.can(actor, permissions.EDIT_ATTENDANCE, leave):
            raise NotPermitted(_("没有权限取消该请假"))
        if leave.status != LeaveStatus.APPROVED:
            raise DomainError(_("只有已批准且尚未离校的请假可以取消"))
        leave.status = LeaveStatus.CANCELLED
        leave.save(update_fields=["status"])
        audit.record(actor=actor, action="student_leave.cancel", target=leave, school_id=leave.school_id, note=reason)
        refresh_passes(school_id=leave.school_id, student_ids=[leave.student_id])
        _notify_leave(leave, "attendance.leave_cancelled", "cancelled")
    return leave


def process_overdue_leaves(*, now: dt.datetime | None = None) -> int:
    """Students out on leave and not back by the end of the window (plus the school's grace): the leave is
    overdue, the homeroom teacher and the guardians are alerted once. Leaves never used just close."""
    now = now or timezone.now()
    count = 0
    with transaction.atomic():
        for leave in StudentLeave.objects.select_for_update().filter(
            status__in=[LeaveStatus.OUT, LeaveStatus.APPROVED], ends_at__lt=now
        ):
            grace = dt.timedelta(minutes=policy_of(leave.school_id).leave_return_grace_minutes)
            if leave.ends_at + grace > now:
                continue
            if leave.status == LeaveStatus.APPROVED:
                # approved but never used: the window has passed and the gate closes; nothing to alert
                leave.status = LeaveStatus.EXPIRED
                leave.save(update_fields=["status"])
                refresh_passes(school_id=leave.school_id, student_ids=[leave.student_id])
                continue
            leave.status, leave.overdue_alerted = LeaveStatus.OVERDUE, True
            leave.save(update_fields=["status", "overdue_alerted"])
            _notify_leave(leave, "attendance.leave_overdue", "overdue")
            refresh_passes(school_id=leave.school_id, student_ids=[leave.student_id])
            count += 1
    return count
