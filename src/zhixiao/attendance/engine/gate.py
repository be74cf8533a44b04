"""The gate's rules and a student's day, as plain functions over data classes (no Django), so the server,
a device's offline copy and the tests apply exactly the same rules.

Rules (the issue's): staff pass; entry is always allowed and a late arrival is flagged; day students may
leave after dismissal; boarders may not leave on school days except inside an approved leave window; on
days without school everyone may leave; suspended, transferred or graduated students are refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

ENROLLED = "01"
STUDENT_STATUS_REFUSED = {"02": "休学", "10": "转出", "07": "毕业"}


@dataclass(frozen=True)
class Schedule:
    """A school day's times for one kind of student (the most specific rule)."""

    is_school_day: bool
    on_time_by: dt.time = dt.time(7, 30)
    late_until: dt.time = dt.time(8, 0)
    dismissal_at: dt.time = dt.time(17, 10)
    evening_study_end: dt.time | None = None
    dorm_check_in_by: dt.time | None = None


@dataclass(frozen=True)
class Window:
    starts_at: dt.datetime
    ends_at: dt.datetime
    leave_id: int

    def covers(self, at: dt.datetime) -> bool:
        return self.starts_at <= at <= self.ends_at


@dataclass(frozen=True)
class Person:
    kind: str  # student, staff
    status: str  # 学籍状态 code, or the staff status
    boarding: str = ""  # day, boarding
    active: bool = True
    windows: tuple[Window, ...] = ()


@dataclass(frozen=True)
class Decision:
    allow: bool
    reason: str  # for the gate's screen, in Chinese
    code: str  # staff, entry, late, dismissed, no_school, leave, no_leave, before_dismissal, refused_status…
    leave_id: int | None = None


def decide(person: Person | None, direction: str, at: dt.datetime, schedule: Schedule) -> Decision:
    """May this person pass now? `at` is local (school) time."""
    if person is None:
        return Decision(False, "未登记的卡或人脸", "unknown")
    if not person.active:
        return Decision(False, "已不在本校", "inactive")
    if person.kind == "staff":
        return Decision(True, "教职工", "staff")
    if person.status != ENROLLED:
        return Decision(
            False, f"学籍状态：{STUDENT_STATUS_REFUSED.get(person.status, person.status)}", "refused_status"
        )
    if direction == "in":
        if schedule.is_school_day and at.time() > schedule.on_time_by and at.time() <= schedule.dismissal_at:
            return Decision(True, "迟到", "late")
        return Decision(True, "进校", "entry")
    window = next((w for w in person.windows if w.covers(at)), None)
    if window is not None:
        return Decision(True, "请假已批准", "leave", window.leave_id)
    if not schedule.is_school_day:
        return Decision(True, "非上课日", "no_school")
    if person.boarding == "boarding":
        return Decision(False, "住校生上课日离校须有已批准的请假", "no_leave")
    if at.time() >= schedule.dismissal_at:
        return Decision(True, "已放学", "dismissed")
    return Decision(False, "未到放学时间，须有已批准的请假", "before_dismissal")


@dataclass(frozen=True)
class Passage:
    at: dt.datetime  # local time
    direction: str  # in, out
    place: str  # gate, dorm_gate, classroom, canteen
    period: int | None = None  # a classroom check-in's period


@dataclass
class DayResult:
    status: str  # pending, present, late, absent, on_leave, left_early
    dorm_status: str = ""  # back, late_back, not_back
    first_in: dt.datetime | None = None
    last_out: dt.datetime | None = None
    late_minutes: int = 0
    periods: list[int] = field(default_factory=list)
    leave_id: int | None = None


def _minutes(a: dt.time, b: dt.time) -> int:
    return (a.hour * 60 + a.minute) - (b.hour * 60 + b.minute)


def fold_day(
    passages: Iterable[Passage],
    *,
    date: dt.date,
    schedule: Schedule,
    boarding: str,
    windows: Sequence[Window],
    now: dt.datetime,
) -> DayResult:
    """A student's day from all of that day's passages, in any order of arrival (late uploads included).
    `now` decides whether a missing arrival is still pending or already an absence."""
    items = sorted(passages, key=lambda p: p.at)
    arrivals = [p for p in items if (p.place == "gate" and p.direction == "in") or p.place == "classroom"]
    if boarding == "boarding":  # boarders sleep at school: a dorm passage in the morning shows them present too
        arrivals += [p for p in items if p.place == "dorm_gate" and p.at.time() <= schedule.dismissal_at]
        arrivals.sort(key=lambda p: p.at)
    gate_outs = [p for p in items if p.place == "gate" and p.direction == "out"]
    gate_ins = [p for p in items if p.place == "gate" and p.direction == "in"]
    result = DayResult(status="pending")
    result.first_in = arrivals[0].at if arrivals else None
    result.last_out = gate_outs[-1].at if gate_outs else None
    result.periods = sorted({p.period for p in items if p.place == "classroom" and p.period})
    morning = dt.datetime.combine(date, schedule.on_time_by, tzinfo=now.tzinfo)
    leave = next((w for w in windows if w.starts_at <= morning <= w.ends_at), None)
    if result.first_in is not None:
        minutes_late = _minutes(result.first_in.time(), schedule.on_time_by)
        if minutes_late > 0 and result.first_in.time() <= schedule.dismissal_at:
            result.status, result.late_minutes = "late", min(minutes_late, 32767)
        else:
            result.status = "present"
    elif leave is not None:
        result.status, result.leave_id = "on_leave", leave.leave_id
    elif now >= dt.datetime.combine(date, schedule.late_until, tzinfo=now.tzinfo):
        result.status = "absent"
    if result.status in ("present", "late") and result.last_out is not None:
        out_at = result.last_out
        back_later = any(p.at > out_at for p in gate_ins)
        on_leave = any(w.covers(out_at) for w in windows)
        if out_at.time() < schedule.dismissal_at and not back_later and not on_leave:
            result.status = "left_early"
    if boarding == "boarding" and schedule.dorm_check_in_by is not None:
        evening = schedule.evening_study_end or schedule.dismissal_at
        dorm_ins = [p for p in items if p.place == "dorm_gate" and p.direction == "in" and p.at.time() >= evening]
        deadline = dt.datetime.combine(date, schedule.dorm_check_in_by, tzinfo=now.tzinfo)
        night_leave = any(w.covers(deadline) for w in windows)
        if dorm_ins:
            result.dorm_status = "back" if dorm_ins[0].at <= deadline else "late_back"
        elif now >= deadline and not night_leave:
            result.dorm_status = "not_back"
    return result
