"""Check a timetable against every constraint, independently of the solver's model.

The solver's answer, a FET timetable and a teacher's hand-made move are all judged here, by the plain meaning of
each constraint, so a modelling slip in the solver shows up as a hard violation instead of a wrong "solved".
Messages are in the school's terms (Chinese), naming teachers, classes, rooms, days and periods.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from .model import Activity, Constraint, Placement, Problem, Solution, Violation
from .solver import ROOM_KINDS, components, matches, room_constraint_targets, room_list, selected

Cell = tuple[int, int]


class _Ctx:
    def __init__(self, problem: Problem, solution: Solution):
        self.p = problem
        self.s = solution
        self.atoms_cache: dict[str, frozenset[str]] = {}
        self.atoms = {a.id: problem.atoms_of(a.students) for a in problem.activities}
        self.by_teacher: dict[str, list[Activity]] = defaultdict(list)
        self.by_atom: dict[str, list[Activity]] = defaultdict(list)
        for a in problem.activities:
            for t in a.teachers:
                self.by_teacher[t].append(a)
            for atom in self.atoms[a.id]:
                self.by_atom[atom].append(a)
        self.breaks: set[Cell] = set()
        self.t_na: dict[str, set[Cell]] = defaultdict(set)
        self.s_na: dict[str, set[Cell]] = defaultdict(set)
        for c in problem.constraints:
            if c.kind == "BreakTimes":
                self.breaks.update(tuple(x) for x in c.params["slots"])  # type: ignore[misc]
            elif c.kind == "TeacherNotAvailableTimes" and c.hard:
                self.t_na[c.params["teacher"]].update(tuple(x) for x in c.params["slots"])  # type: ignore[misc]
            elif c.kind == "StudentsSetNotAvailableTimes" and c.hard:
                for atom in problem.atoms_of([c.params["students"]]):
                    self.s_na[atom].update(tuple(x) for x in c.params["slots"])  # type: ignore[misc]

    def cells(self, a: Activity) -> list[Cell]:
        pl = self.s.placements.get(a.id)
        if pl is None:
            return []
        return [(pl.day, pl.period + k) for k in range(a.duration)]

    def when(self, cell: Cell) -> str:
        d, h = cell
        day = self.p.days[d] if 0 <= d < len(self.p.days) else str(d)
        per = self.p.periods[h] if 0 <= h < len(self.p.periods) else str(h)
        return f"{day} {per}"

    def name(self, a: Activity) -> str:
        who = "、".join(a.students) or "—"
        return f"#{a.id} {a.subject}（{who}）"

    def hours(self, acts: Iterable[Activity]) -> dict[int, list[int]]:
        """Busy periods per day."""
        out: dict[int, list[int]] = defaultdict(list)
        for a in acts:
            for d, h in self.cells(a):
                out[d].append(h)
        return out


def _label(c: Constraint) -> str:
    return c.label or c.kind


def check(problem: Problem, solution: Solution) -> tuple[list[Violation], list[Violation]]:
    """(hard violations, soft violations). A soft constraint appears once, with cost = weight × instances."""
    ctx = _Ctx(problem, solution)
    hard: list[Violation] = []
    soft: list[Violation] = []
    hard.extend(_basic(ctx))
    for c in problem.constraints:
        if c.weight <= 0 or c.kind in ("BasicCompulsoryTime", "BasicCompulsorySpace"):
            continue
        fn = _CHECKS.get(c.kind)
        if fn is None:
            continue
        problems = fn(ctx, c)
        if not problems:
            continue
        if c.hard:
            hard.extend(Violation(_label(c), c.weight, msg) for msg in problems)
        else:
            soft.append(Violation(_label(c), c.weight, "；".join(problems[:3]), c.weight * len(problems)))
    return hard, soft


def conflicts_of_move(problem: Problem, solution: Solution, activity_id: int, placement: Placement) -> list[Violation]:
    """The hard violations a move would add (for a live conflict check before saving)."""
    before, _ = check(problem, solution)
    moved = Solution({**solution.placements, activity_id: placement})
    after, _ = check(problem, moved)
    known = {(v.constraint, v.message) for v in before}
    return [v for v in after if (v.constraint, v.message) not in known]


def _basic(ctx: _Ctx) -> list[Violation]:
    p = ctx.p
    out: list[Violation] = []
    for a in p.activities:
        pl = ctx.s.placements.get(a.id)
        if pl is None:
            out.append(Violation("未排课", 100, f"{ctx.name(a)} 没有排入课表"))
            continue
        if not (0 <= pl.day < p.n_days and pl.period >= 0 and pl.period + a.duration <= p.n_periods):
            out.append(Violation("时间", 100, f"{ctx.name(a)} 超出一天的节次"))
        for cell in ctx.cells(a):
            if cell in ctx.breaks:
                out.append(Violation("BreakTimes", 100, f"{ctx.name(a)} 排在休息时间 {ctx.when(cell)}"))
    # clashes
    for kind, groups in (("教师", ctx.by_teacher), ("学生", ctx.by_atom)):
        seen_pairs: set[tuple[int, int]] = set()
        for who, acts in groups.items():
            at: dict[Cell, list[Activity]] = defaultdict(list)
            for a in acts:
                for cell in ctx.cells(a):
                    at[cell].append(a)
            for cell, here in at.items():
                if len(here) > 1:
                    key = (here[0].id, here[1].id)
                    if kind == "学生" and key in seen_pairs:
                        continue
                    seen_pairs.add(key)
                    names = "、".join(ctx.name(a) for a in here)
                    out.append(Violation(f"{kind}冲突", 100, f"{kind} {who} 在 {ctx.when(cell)} 同时有 {names}"))
    rooms: dict[str, dict[Cell, list[Activity]]] = defaultdict(lambda: defaultdict(list))
    for a in p.activities:
        pl = ctx.s.placements.get(a.id)
        if pl is None:
            continue
        size = p.size_of(a)
        # a virtual room's students are shared out among its real rooms: only its own capacity counts
        in_virtual = bool(pl.rooms) and pl.rooms[0] in p.rooms and p.rooms[pl.rooms[0]].virtual
        for k, r in enumerate(pl.rooms):
            room = p.rooms.get(r)
            if room is None:
                out.append(Violation("教室", 100, f"{ctx.name(a)} 的教室 “{r}” 不存在"))
                continue
            if room.capacity < size and not room.virtual and not (in_virtual and k > 0):
                out.append(
                    Violation("教室容量", 100, f"{ctx.name(a)} 有 {size} 人，教室 {r} 只能容纳 {room.capacity} 人")
                )
            for cell in ctx.cells(a):
                rooms[r][cell].append(a)
    for r, at in rooms.items():
        for cell, here in at.items():
            if len(here) > 1:
                names = "、".join(ctx.name(a) for a in here)
                out.append(Violation("教室冲突", 100, f"教室 {r} 在 {ctx.when(cell)} 同时安排了 {names}"))
    return out


# --- one function per kind: returns a list of problems (empty = respected) ----------------------------------


def _slots(c: Constraint) -> set[Cell]:
    return {tuple(x) for x in c.params.get("slots", ())}  # type: ignore[misc]


def _na_teacher(ctx: _Ctx, c: Constraint) -> list[str]:
    t, bad = c.params["teacher"], _slots(c)
    return [
        f"{t} 在 {ctx.when(cell)} 不能上课，却排了 {ctx.name(a)}"
        for a in ctx.by_teacher.get(t, [])
        for cell in ctx.cells(a)
        if cell in bad
    ]


def _na_students(ctx: _Ctx, c: Constraint) -> list[str]:
    atoms, bad = ctx.p.atoms_of([c.params["students"]]), _slots(c)
    return [
        f"{c.params['students']} 在 {ctx.when(cell)} 不能上课，却排了 {ctx.name(a)}"
        for a in ctx.p.activities
        if ctx.atoms[a.id] & atoms
        for cell in ctx.cells(a)
        if cell in bad
    ]


def _na_room(ctx: _Ctx, c: Constraint) -> list[str]:
    r, bad = c.params["room"], _slots(c)
    out = []
    for a in ctx.p.activities:
        pl = ctx.s.placements.get(a.id)
        if pl and r in pl.rooms:
            out += [
                f"教室 {r} 在 {ctx.when(cell)} 不可用，却排了 {ctx.name(a)}" for cell in ctx.cells(a) if cell in bad
            ]
    return out


def _pref_time(ctx: _Ctx, c: Constraint) -> list[str]:
    k, prm = c.kind, c.params
    if k.startswith("Activity"):
        acts = [ctx.p.activity(prm["activity"])] if prm["activity"] in ctx.p._by_id() else []
    else:
        acts = selected(ctx.p, c, ctx.atoms_cache)
    out = []
    for a in acts:
        pl = ctx.s.placements.get(a.id)
        if pl is None:
            continue
        if k == "ActivityPreferredStartingTime":
            ok = (prm.get("day") is None or prm["day"] == pl.day) and (
                prm.get("period") is None or prm["period"] == pl.period
            )
        elif k.endswith("TimeSlots"):
            ok = all(cell in _slots(c) for cell in ctx.cells(a))
        else:
            ok = (pl.day, pl.period) in _slots(c)
        if not ok:
            out.append(f"{ctx.name(a)} 排在 {ctx.when((pl.day, pl.period))}，不在指定时间内")
    return out


def _days_of(ctx: _Ctx, ids: Iterable[int]) -> list[tuple[Activity, int]]:
    out = []
    for aid in ids:
        if aid in ctx.p._by_id() and aid in ctx.s.placements:
            out.append((ctx.p.activity(aid), ctx.s.placements[aid].day))
    return out


def _min_days(ctx: _Ctx, c: Constraint) -> list[str]:
    md = int(c.params["min_days"])
    items = _days_of(ctx, c.params["activities"])
    return [
        f"{ctx.name(a)} 与 {ctx.name(b)} 只隔 {abs(da - db)} 天（至少 {md} 天）"
        for i, (a, da) in enumerate(items)
        for b, db in items[i + 1 :]
        if abs(da - db) < md
    ]


def _max_days(ctx: _Ctx, c: Constraint) -> list[str]:
    mx = int(c.params["max_days"])
    items = _days_of(ctx, c.params["activities"])
    return [
        f"{ctx.name(a)} 与 {ctx.name(b)} 相隔 {abs(da - db)} 天（至多 {mx} 天）"
        for i, (a, da) in enumerate(items)
        for b, db in items[i + 1 :]
        if abs(da - db) > mx
    ]


def _placed(ctx: _Ctx, ids: Iterable[int]) -> list[tuple[Activity, Placement]]:
    return [(ctx.p.activity(i), ctx.s.placements[i]) for i in ids if i in ctx.p._by_id() and i in ctx.s.placements]


def _min_gaps(ctx: _Ctx, c: Constraint) -> list[str]:
    g = int(c.params["min_gaps"])
    items = _placed(ctx, c.params["activities"])
    out = []
    for i, (a, pa) in enumerate(items):
        for b, pb in items[i + 1 :]:
            if pa.day != pb.day:
                continue
            first, pf, _second, ps = (a, pa, b, pb) if pa.period <= pb.period else (b, pb, a, pa)
            if ps.period - (pf.period + first.duration) < g:
                out.append(f"{ctx.name(a)} 与 {ctx.name(b)} 之间少于 {g} 节")
    return out


def _same(ctx: _Ctx, c: Constraint) -> list[str]:
    items = _placed(ctx, c.params["activities"])
    if not items:
        return []
    key = {
        "ActivitiesSameStartingTime": lambda p: (p.day, p.period),
        "ActivitiesSameStartingDay": lambda p: p.day,
        "ActivitiesSameStartingHour": lambda p: p.period,
    }[c.kind]
    ref = key(items[0][1])
    how = {"ActivitiesSameStartingTime": "同时开始", "ActivitiesSameStartingDay": "在同一天",
           "ActivitiesSameStartingHour": "在同一节次开始"}[c.kind]  # fmt: skip
    return [f"{ctx.name(a)} 没有与 {ctx.name(items[0][0])} {how}" for a, p in items[1:] if key(p) != ref]


def _not_overlapping(ctx: _Ctx, c: Constraint) -> list[str]:
    items = _placed(ctx, c.params["activities"])
    out = []
    for i, (a, _) in enumerate(items):
        for b, _ in items[i + 1 :]:
            if set(ctx.cells(a)) & set(ctx.cells(b)):
                out.append(f"{ctx.name(a)} 与 {ctx.name(b)} 时间重叠")
    return out


def _consecutive(ctx: _Ctx, c: Constraint) -> list[str]:
    items = _placed(ctx, [c.params["first"], c.params["second"]])
    if len(items) < 2:
        return []
    (a, pa), (b, pb) = items
    after = pa.day == pb.day and pb.period == pa.period + a.duration
    before = pa.day == pb.day and pa.period == pb.period + b.duration
    ok = after or (before and c.kind == "TwoActivitiesGrouped")
    return [] if ok else [f"{ctx.name(a)} 与 {ctx.name(b)} 没有连着上"]


def _three_grouped(ctx: _Ctx, c: Constraint) -> list[str]:
    items = _placed(ctx, [c.params["first"], c.params["second"], c.params["third"]])
    if len(items) < 3:
        return []
    if len({p.day for _, p in items}) != 1:
        return ["三节课不在同一天：" + "、".join(ctx.name(a) for a, _ in items)]
    cells = sorted(cell for a, _ in items for cell in ctx.cells(a))
    hours = [h for _, h in cells]
    ok = len(set(hours)) == len(hours) and hours[-1] - hours[0] + 1 == len(hours)
    return [] if ok else ["三节课没有连着上：" + "、".join(ctx.name(a) for a, _ in items)]


def _ends_day(ctx: _Ctx, c: Constraint) -> list[str]:
    if c.kind == "ActivityEndsStudentsDay":
        acts = [ctx.p.activity(c.params["activity"])] if c.params["activity"] in ctx.p._by_id() else []
    else:
        acts = selected(ctx.p, c, ctx.atoms_cache)
    out = []
    for a in acts:
        pl = ctx.s.placements.get(a.id)
        if pl is None:
            continue
        end = pl.period + a.duration
        for atom in ctx.atoms[a.id]:
            later = [
                b
                for b in ctx.by_atom[atom]
                if b.id != a.id and b.id in ctx.s.placements and any(d == pl.day and h >= end for d, h in ctx.cells(b))
            ]
            if later:
                out.append(f"{ctx.name(a)} 应是当天最后一节，之后还有 {ctx.name(later[0])}")
                break
    return out


def _names(ctx: _Ctx, acts: list[Activity], most: int = 4) -> str:
    out = "、".join(ctx.name(a) for a in acts[:most])
    return out + (f" 等 {len(acts)} 节课" if len(acts) > most else "")


def _occupy_max_slots(ctx: _Ctx, c: Constraint) -> list[str]:
    sel = _slots(c)
    acts = [a for a, _ in _placed(ctx, c.params["activities"]) if any(cell in sel for cell in ctx.cells(a))]
    used = {cell for a in acts for cell in ctx.cells(a) if cell in sel}
    mx = int(c.params["max"])
    return [f"{_names(ctx, acts)} 占用了 {len(used)} 个指定时段（至多 {mx} 个）"] if len(used) > mx else []


def _simultaneous(ctx: _Ctx, c: Constraint) -> list[str]:
    at: dict[Cell, list[Activity]] = defaultdict(list)
    for a, _ in _placed(ctx, c.params["activities"]):
        for cell in ctx.cells(a):
            at[cell].append(a)
    out = []
    for cell in sorted(_slots(c)):
        n = len(at.get(cell, []))
        if c.kind.endswith("MaxSimultaneousInSelectedTimeSlots") and n > int(c.params["max"]):
            out.append(f"{ctx.when(cell)} 同时有 {n} 节（至多 {c.params['max']} 节）：{_names(ctx, at[cell])}")
        if c.kind.endswith("MinSimultaneousInSelectedTimeSlots"):
            if n == 0 and c.params.get("allow_empty"):
                continue
            if n < int(c.params["min"]):
                out.append(f"{ctx.when(cell)} 只有 {n} 节（至少 {c.params['min']} 节）")
    return out


def _subjects(ctx: _Ctx, c: Constraint) -> list[tuple[str, list[Activity], set[Cell]]]:
    tag = c.params.get("tag")
    out = []
    if c.kind.startswith("Teacher"):
        names = [c.params["teacher"]] if c.params.get("teacher") else sorted(ctx.by_teacher)
        for t in names:
            acts = [a for a in ctx.by_teacher.get(t, []) if not tag or tag in a.tags]
            out.append((t, acts, ctx.breaks | ctx.t_na.get(t, set())))
        return out
    s = c.params.get("students")
    atoms = sorted(ctx.p.atoms_of([s])) if s else sorted(ctx.by_atom)
    for atom in atoms:
        acts = [a for a in ctx.by_atom.get(atom, []) if not tag or tag in a.tags]
        out.append((atom, acts, ctx.breaks | ctx.s_na.get(atom, set())))
    return out


def _gaps_of_day(hours: list[int], free: set[Cell], d: int) -> int:
    if not hours:
        return 0
    lo, hi = min(hours), max(hours)
    return sum(1 for h in range(lo + 1, hi) if h not in hours and (d, h) not in free)


def _per_subject(ctx: _Ctx, c: Constraint) -> list[str]:
    k = c.kind
    out = []
    P = ctx.p.n_periods
    for who, acts, free in _subjects(ctx, c):
        if not acts:
            continue  # a teacher or class with no lessons in this timetable is bound by no minimum (as the solver)
        by_day = ctx.hours(acts)
        if k.endswith("MaxHoursDaily"):
            mx = int(c.params["max"])
            out += [f"{who} {ctx.p.days[d]} 有 {len(h)} 节（至多 {mx} 节）" for d, h in by_day.items() if len(h) > mx]
        elif k.endswith("MinHoursDaily"):
            mn = int(c.params["min"])
            for d in range(ctx.p.n_days):
                n = len(by_day.get(d, []))
                if (n or not c.params.get("allow_empty", True)) and n < mn:
                    out.append(f"{who} {ctx.p.days[d]} 只有 {n} 节（至少 {mn} 节）")
        elif k.endswith("DaysPerWeek"):
            lo, hi = int(c.params.get("start", 0)), int(c.params.get("end", P))
            days = {d for d, hs in by_day.items() if any(lo <= h < hi for h in hs)}
            when = f"在{ctx.p.periods[lo]}至{ctx.p.periods[hi - 1]}" if "Interval" in k and 0 <= lo < hi <= P else ""
            if k.endswith("MinDaysPerWeek"):
                if len(days) < int(c.params["min"]):
                    out.append(f"{who} 只有 {len(days)} 天有课（至少 {c.params['min']} 天）")
            elif len(days) > int(c.params["max"]):
                out.append(f"{who} 有 {len(days)} 天{when}有课（至多 {c.params['max']} 天）")
        elif k.endswith("GapsPerDay"):
            mx = int(c.params["max"])
            for d, hs in by_day.items():
                g = _gaps_of_day(hs, free, d)
                if g > mx:
                    out.append(f"{who} {ctx.p.days[d]} 有 {g} 个空节（至多 {mx} 个）")
        elif k.endswith("GapsPerWeek"):
            g = sum(_gaps_of_day(hs, free, d) for d, hs in by_day.items())
            if g > int(c.params["max"]):
                out.append(f"{who} 一周有 {g} 个空节（至多 {c.params['max']} 个）")
        elif k.endswith("HoursContinuously"):
            mx = int(c.params["max"])
            for d, hs in by_day.items():
                run = best = 0
                hset = set(hs)
                for h in range(P):
                    run = run + 1 if h in hset else 0
                    best = max(best, run)
                if best > mx:
                    out.append(f"{who} {ctx.p.days[d]} 连上 {best} 节（至多 {mx} 节）")
        elif k.endswith("EarlyMaxBeginningsAtSecondHour"):
            late: list[str] = []
            for d, hs in sorted(by_day.items()):
                avail = [h for h in range(P) if (d, h) not in free]
                if len(avail) < 2 or not hs:
                    continue
                first = min(hs)
                if first == avail[0]:
                    continue
                if first == avail[1]:
                    late.append(f"{ctx.p.days[d]}从{ctx.p.periods[first]}")
                else:
                    out.append(f"{who} {ctx.p.days[d]} 从{ctx.p.periods[first]}才开始上课")
            if len(late) > int(c.params["max"]):
                out.append(f"{who} 一周有 {len(late)} 天第一节没课（{'、'.join(late)}开始，至多 {c.params['max']} 天）")
        elif k == "TeacherBalancedDays":
            total = sum(len(h) for h in by_day.values())
            hi = -(-total // ctx.p.n_days)
            excess = sum(max(0, len(h) - hi) for h in by_day.values())
            if excess:
                out.append(f"{who} 每天课时不均（超出均衡量 {excess} 节）")
    return out


def _max_per_day(ctx: _Ctx, c: Constraint) -> list[str]:
    per_day: dict[int, list[Activity]] = defaultdict(list)
    for a, p in _placed(ctx, c.params["activities"]):
        per_day[p.day].append(a)
    mx = int(c.params["max"])
    return [
        f"{ctx.p.days[d]} 排了 {len(acts)} 节（至多 {mx} 节）：{_names(ctx, acts)}"
        for d, acts in sorted(per_day.items())
        if len(acts) > mx
    ]


def _room_pref(ctx: _Ctx, c: Constraint) -> list[str]:
    rooms = set(room_list(c))
    out = []
    for a in room_constraint_targets(ctx.p, c):
        pl = ctx.s.placements.get(a.id)
        if pl is None:
            continue
        if not pl.rooms or pl.rooms[0] not in rooms:
            got = pl.rooms[0] if pl.rooms else "无教室"
            out.append(f"{ctx.name(a)} 在 {got}，应在 {'、'.join(sorted(rooms))}")
    return out


def _max_rooms(ctx: _Ctx, c: Constraint) -> list[str]:
    items = [(a, p) for a, p in _placed(ctx, c.params["activities"]) if p.rooms]
    used = sorted({p.rooms[0] for _, p in items})
    mx = int(c.params["max"])
    if len(used) <= mx:
        return []
    return [f"{_names(ctx, [a for a, _ in items])} 用了 {len(used)} 间教室（{'、'.join(used)}，至多 {mx} 间）"]


def _same_room_if_consecutive(ctx: _Ctx, c: Constraint) -> list[str]:
    items = _placed(ctx, c.params["activities"])
    out = []
    for a, pa in items:
        for b, pb in items:
            if (
                a.id != b.id
                and pa.day == pb.day
                and pb.period == pa.period + a.duration
                and pa.rooms[:1] != pb.rooms[:1]
            ):
                out.append(f"{ctx.name(a)} 与 {ctx.name(b)} 连着上却不在同一教室")
    return out


def _none(ctx: _Ctx, c: Constraint) -> list[str]:
    return []


_CHECKS: dict[str, Any] = {
    "BreakTimes": _none,  # in _basic
    "TeacherNotAvailableTimes": _na_teacher,
    "StudentsSetNotAvailableTimes": _na_students,
    "RoomNotAvailableTimes": _na_room,
    "ActivityPreferredStartingTime": _pref_time,
    "ActivityPreferredStartingTimes": _pref_time,
    "ActivityPreferredTimeSlots": _pref_time,
    "ActivitiesPreferredStartingTimes": _pref_time,
    "ActivitiesPreferredTimeSlots": _pref_time,
    "SubactivitiesPreferredStartingTimes": _pref_time,
    "SubactivitiesPreferredTimeSlots": _pref_time,
    "MinDaysBetweenActivities": _min_days,
    "MaxDaysBetweenActivities": _max_days,
    "MinGapsBetweenActivities": _min_gaps,
    "ActivitiesSameStartingTime": _same,
    "ActivitiesSameStartingDay": _same,
    "ActivitiesSameStartingHour": _same,
    "ActivitiesNotOverlapping": _not_overlapping,
    "TwoActivitiesConsecutive": _consecutive,
    "TwoActivitiesGrouped": _consecutive,
    "ThreeActivitiesGrouped": _three_grouped,
    "ActivityEndsStudentsDay": _ends_day,
    "ActivitiesEndStudentsDay": _ends_day,
    "ActivitiesOccupyMaxTimeSlotsFromSelection": _occupy_max_slots,
    "ActivitiesMaxSimultaneousInSelectedTimeSlots": _simultaneous,
    "ActivitiesMinSimultaneousInSelectedTimeSlots": _simultaneous,
    "ActivitiesMaxPerDay": _max_per_day,
    "ActivitiesOccupyMaxDifferentRooms": _max_rooms,
    "ActivitiesSameRoomIfConsecutive": _same_room_if_consecutive,
    **dict.fromkeys(ROOM_KINDS, _room_pref),
}
for _k in (
    "TeacherMaxHoursDaily", "TeacherMinHoursDaily", "TeacherMaxDaysPerWeek", "TeacherMinDaysPerWeek",
    "TeacherMaxGapsPerDay", "TeacherMaxGapsPerWeek", "TeacherMaxHoursContinuously", "TeacherActivityTagMaxHoursDaily",
    "TeacherActivityTagMaxHoursContinuously", "TeacherIntervalMaxDaysPerWeek", "StudentsSetMaxHoursDaily",
    "StudentsSetMinHoursDaily", "StudentsSetMaxGapsPerDay", "StudentsSetMaxGapsPerWeek",
    "StudentsSetEarlyMaxBeginningsAtSecondHour", "StudentsSetIntervalMaxDaysPerWeek",
    "StudentsSetActivityTagMaxHoursDaily", "StudentsSetActivityTagMaxHoursContinuously",
    "StudentsSetMaxHoursContinuously", "TeacherBalancedDays",
):  # fmt: skip
    _CHECKS[_k] = _per_subject

__all__ = ["check", "components", "conflicts_of_move", "matches"]
