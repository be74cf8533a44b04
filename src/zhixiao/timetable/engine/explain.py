"""Why no timetable exists, in the school's terms.

First plain counting (fast, and what a 教务员 checks by hand): a lesson with no allowed time and the rules that
took every time away from it, a teacher or a class with two lessons fixed at one time, a teacher or a class with
more lessons than free periods, more parts of a lesson than days when they must fall on different days, room
demands that contradict each other or that too few rooms meet at one time. If counting finds nothing, CP-SAT is
asked again with one switch per hard constraint; the switches it needs off to succeed (an infeasible core, made
minimal while time allows) name the constraints that clash.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ortools.sat.python import cp_model

from .model import Activity, Constraint, Problem

MAX_REASONS = 12


def _when(p: Problem, cell: tuple[int, int]) -> str:
    """周二第3节; Daily 13.30 - 14.30 (a space only between words of a Western-language file)."""
    day, period = p.days[cell[0]], p.periods[cell[1]]
    return f"{day} {period}" if day[-1:].isascii() and period[:1].isascii() else f"{day}{period}"


def _span(p: Problem, starts: Iterable[tuple[int, int]]) -> str:
    """A short name for a few start times: 周四第7节, 周四第5节至第8节, or '' when spread over days."""
    cells = sorted(set(starts))
    if not cells:
        return ""
    if len(cells) == 1:
        return _when(p, cells[0])
    if len({d for d, _ in cells}) == 1:
        return f"{_when(p, cells[0])}至{p.periods[cells[-1][1]]}"
    return ""


def _runs(hours: Iterable[int]) -> list[list[int]]:
    """Consecutive periods together: [1, 2, 3, 6] -> [[1, 2, 3], [6]]."""
    runs: list[list[int]] = []
    for h in hours:
        if runs and h == runs[-1][-1] + 1:
            runs[-1].append(h)
        else:
            runs.append([h])
    return runs


def _slots_text(p: Problem, slots: list[Any]) -> str:
    """Times as a school says them: 周二、周三全天、周五第5节至第8节、周四第1节."""
    by_day: dict[int, list[int]] = defaultdict(list)
    for d, h in sorted({(int(s[0]), int(s[1])) for s in slots}):
        by_day[d].append(h)
    whole = [d for d, hs in by_day.items() if len(hs) == p.n_periods]
    patterns = {tuple(hs) for hs in by_day.values()}
    if len(by_day) == p.n_days > 1 and len(patterns) == 1 and not whole:
        runs = _runs(next(iter(patterns)))
        return "每天" + "、".join(
            p.periods[r[0]] if len(r) == 1 else f"{p.periods[r[0]]}至{p.periods[r[-1]]}" for r in runs
        )
    parts: list[str] = []
    if whole:
        sep = " " if p.days[whole[-1]][-1:].isascii() else ""
        parts.append("、".join(p.days[d] for d in whole) + sep + "全天")
    for d, hs in by_day.items():
        if d in whole:
            continue
        for run in _runs(hs):
            parts.append(_when(p, (d, run[0])) if len(run) == 1 else _span(p, [(d, run[0]), (d, run[-1])]))
    return "、".join(parts[:6]) + (" 等" if len(parts) > 6 else "")


def lesson_name(a: Activity) -> str:
    """#12 数学（高二(3)班，王老师）"""
    who = "、".join(a.students) or "—"
    if a.teachers:
        who += "，" + "、".join(a.teachers)
    return f"#{a.id} {a.subject}（{who}）"


def _lessons(acts: list[Activity], most: int = 4) -> str:
    text = "、".join(lesson_name(a) for a in acts[:most])
    return text + (f" 等 {len(acts)} 节课" if len(acts) > most else "")


def _group_label(p: Problem, atoms: Iterable[str]) -> str:
    """Whose students these are: a 行政班 itself, else the smallest student set holding them all (a 行政班
    first), with the part named when they are only part of it: 高二(3)班, 高二(3)班（3物化）."""
    wanted = set(atoms)
    if len(wanted) == 1:
        atom = next(iter(wanted))
        own = p.student_sets.get(atom)
        if own is None or own.kind == "行政班" or not any(atom in s.members for s in p.student_sets.values()):
            return atom
    holders = [s for s in p.student_sets.values() if s.members and wanted <= set(s.members)]
    if not holders:
        return "、".join(sorted(wanted))
    best = min(holders, key=lambda s: (s.kind != "行政班", len(s.members), s.name))
    if set(best.members) == wanted:
        return best.name
    return f"{best.name}（{'、'.join(sorted(wanted))}）"


def _quoted(p: Problem, c: Constraint) -> str:
    return f"“{c.label or describe(p, c)}”"


def precheck(problem: Problem) -> list[str]:
    from .solver import Builder

    p = problem
    b = Builder(p)
    try:
        b.atoms = [p.atoms_of(a.students) for a in p.activities]
        b._time_links()
        b._domains()
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        return [f"数据有误：{exc}"]
    out: list[str] = []
    out.extend(_no_time(p, b))
    out.extend(_pinned_clashes(p, b))
    out.extend(_loads(p, b))
    out.extend(_min_days(p))
    out.extend(_room_reasons(p, b))
    return out[:MAX_REASONS] + ([f"……另有 {len(out) - MAX_REASONS} 条"] if len(out) > MAX_REASONS else [])


def _time_rules_of(p: Problem, b: Any, i: int) -> list[Constraint]:
    """The hard rules that take times away from activity `i` (for saying why it has none left)."""
    from .solver import selected

    a = p.activities[i]
    atoms = b.atoms[i]
    tied = {p.activities[j].id for j, r in enumerate(b.root) if r == b.root[i]}
    cache: dict[str, frozenset[str]] = {}
    out = []
    for c in p.constraints:
        if not c.hard:
            continue
        k, prm = c.kind, c.params
        if k == "BreakTimes":
            hit = True
        elif k == "TeacherNotAvailableTimes":
            hit = prm.get("teacher") in a.teachers
        elif k == "StudentsSetNotAvailableTimes":
            hit = bool(p.atoms_of([prm.get("students", "")]) & atoms)
        elif k in ("ActivityPreferredStartingTime", "ActivityPreferredStartingTimes", "ActivityPreferredTimeSlots"):
            hit = prm.get("activity") in tied
        elif k.startswith(("ActivitiesPreferred", "SubactivitiesPreferred")):
            hit = any(x.id in tied for x in selected(p, c, cache))
        elif k == "ActivitiesSameStartingTime":
            hit = a.id in prm.get("activities", ()) and len(tied) > 1
        else:
            hit = False
        if hit:
            out.append(c)
    return out


def _no_time(p: Problem, b: Any) -> list[str]:
    out = []
    index = {a.id: i for i, a in enumerate(p.activities)}
    for a in b.empty_domains[:MAX_REASONS]:
        rules = _time_rules_of(p, b, index[a.id])
        why = "、".join(_quoted(p, c) for c in rules[:5]) + (" 等" if len(rules) > 5 else "")
        long = f"连上 {a.duration} 节，" if a.duration > 1 else ""
        out.append(
            f"课程 {lesson_name(a)}没有任何可排的时间：{long}"
            + (f"{why} 合起来排除了一周的所有时间" if why else "一天里放不下")
        )
    return out


def _pinned_clashes(p: Problem, b: Any) -> list[str]:
    """Two lessons of one teacher or one class fixed at the same time, or tied to start together."""
    out: list[str] = []
    by_cell: dict[tuple[str, str, tuple[int, int]], list[int]] = defaultdict(list)
    for i, a in enumerate(p.activities):
        if len(b.allowed[i]) != 1:
            continue
        d, h = b.allowed[i][0]
        for k in range(a.duration):
            for t in a.teachers:
                by_cell[("t", t, (d, h + k))].append(i)
            for atom in b.atoms[i]:
                by_cell[("s", atom, (d, h + k))].append(i)
    seen: set[frozenset[int]] = set()
    for (what, who, cell), idx in sorted(by_cell.items(), key=lambda kv: (kv[0][0] != "t", kv[0])):
        if len(idx) < 2 or frozenset(idx) in seen:
            continue
        seen.add(frozenset(idx))  # one line per clash: the teacher's, else the class's
        acts = [p.activities[i] for i in idx]
        if what == "s":
            who = _group_label(p, set.intersection(*(set(b.atoms[i]) for i in idx)))
        out.append(f"{who} 的 {len(acts)} 节课都只能排在 {_when(p, cell)}：{_lessons(acts)}")
    # lessons tied to one start (走班 blocks) that share a teacher or students
    groups: dict[int, list[int]] = defaultdict(list)
    for i, r in enumerate(b.root):
        groups[r].append(i)
    for members in groups.values():
        if len(members) < 2:
            continue
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                ai, aj = p.activities[i], p.activities[j]
                teachers = sorted(set(ai.teachers) & set(aj.teachers))
                atoms = b.atoms[i] & b.atoms[j]
                if not teachers and not atoms:
                    continue
                ties = [
                    c
                    for c in p.constraints
                    if c.kind == "ActivitiesSameStartingTime"
                    and c.hard
                    and {ai.id, aj.id} & set(c.params["activities"])
                ]
                rule = "、".join(_quoted(p, c) for c in ties[:3]) or "同时开始的要求"
                shared = f"同一位教师 {'、'.join(teachers)}" if teachers else f"共同的学生 {_group_label(p, atoms)}"
                out.append(f"{rule} 要求 {lesson_name(ai)}与 {lesson_name(aj)}同时上课，但两者有{shared}")
    return out


def _loads(p: Problem, b: Any) -> list[str]:
    out: list[str] = []
    all_cells = {(d, h) for d in range(p.n_days) for h in range(p.n_periods)}
    free_all = all_cells - b.breaks
    load: dict[str, int] = defaultdict(int)
    for a in p.activities:
        for t in a.teachers:
            load[t] += a.duration
    for t, n in sorted(load.items()):
        avail = len(free_all - b.t_na.get(t, set()))
        if n > avail:
            out.append(f"{t} 每周有 {n} 节课，但只有 {avail} 个可上课的节次")
    atom_load: dict[str, int] = defaultdict(int)
    for i, a in enumerate(p.activities):
        for atom in b.atoms[i]:
            atom_load[atom] += a.duration
    over: dict[tuple[int, int], list[str]] = defaultdict(list)
    for atom, n in sorted(atom_load.items()):
        avail = len(free_all - b.s_na.get(atom, set()))
        if n > avail:
            over[(n, avail)].append(atom)
    for (n, avail), atoms in sorted(over.items()):
        # the students of one class with the same shortfall are one line
        done: set[str] = set()
        for atom in atoms:
            if atom in done:
                continue
            label = _group_label(p, [atom])
            owner = p.student_sets.get(label.split("（")[0])
            if owner is not None and owner.members and set(owner.members) <= set(atoms):
                label = owner.name
                done.update(owner.members)
            done.add(atom)
            out.append(f"{label} 每周有 {n} 节课，但只有 {avail} 个可上课的节次")
    return out


def _min_days(p: Problem) -> list[str]:
    out = []
    for c in p.constraints:
        if c.kind == "MinDaysBetweenActivities" and c.hard:
            ids = [x for x in c.params["activities"] if x in p._by_id()]
            md = int(c.params["min_days"])
            need = (len(ids) - 1) * md + 1
            if len(ids) > 1 and need > p.n_days:
                out.append(
                    f"{_of_lessons(p, ids)}的 {len(ids)} 节课要求相隔至少 {md} 天，"
                    f"一周只有 {p.n_days} 天" + (f"（“{c.label}”）" if c.label else "")
                )
    return out


def _of_lessons(p: Problem, ids: Iterable[int]) -> str:
    """数学（高二(3)班） for lessons of one subject and class; else the subjects and classes listed."""
    acts = [p.activity(i) for i in ids if i in p._by_id()]
    subjects = sorted({a.subject for a in acts})
    classes = sorted({s for a in acts for s in a.students})
    return f"{'、'.join(subjects)}（{'、'.join(classes) or '—'}）"


def _room_reasons(p: Problem, b: Any) -> list[str]:
    from .solver import ROOM_KINDS, room_constraint_targets, room_list

    out = []
    demands: dict[int, list[tuple[Constraint, set[str]]]] = defaultdict(list)
    for c in p.constraints:
        if c.kind in ROOM_KINDS and c.hard:
            rooms = set(room_list(c))
            for a in room_constraint_targets(p, c):
                demands[a.id].append((c, rooms))
    hard: dict[int, set[str]] = {}
    for aid, ds in demands.items():
        a = p.activity(aid)
        allowed = set.intersection(*(r for _, r in ds))
        missing = sorted({r for _, rs in ds for r in rs if r not in p.rooms})
        if missing:
            out.append(f"课程 {lesson_name(a)}指定的教室 {'、'.join(missing)} 不存在")
        if not allowed and len(ds) > 1:
            wants = "，".join(f"{_quoted(p, c)} 要求 {'、'.join(sorted(r))}" for c, r in ds[:4])
            out.append(f"课程 {lesson_name(a)}的教室要求相互矛盾，没有一间教室同时满足：{wants}")
            continue
        size = p.size_of(a)
        fitting = {r for r in allowed if r in p.rooms and p.rooms[r].capacity >= size}
        hard[aid] = fitting
        known = sorted(r for r in allowed if r in p.rooms)
        if known and not fitting:
            caps = "、".join(f"{r}（{p.rooms[r].capacity} 人）" for r in known)
            out.append(f"课程 {lesson_name(a)}有 {size} 人，可用的教室都坐不下：{caps}")
    for r, (need, open_periods, only_here) in sorted(_room_loads(p).items()):
        if need > open_periods:
            out.append(f"教室 {r} 每周要上 {need} 节课，但只有 {open_periods} 个节次可用：{_lessons(only_here)}")
    # lessons that must be at one time (tied together, or fixed at the same slot) need that many rooms then
    index = {a.id: i for i, a in enumerate(p.activities)}
    together: dict[Any, list[int]] = defaultdict(list)
    for aid in hard:
        i = index[aid]
        together[("root", b.root[i])].append(aid)
        if len(b.allowed[i]) == 1:
            s = b.allowed[i][0]
            for k in range(p.activity(aid).duration):
                together[("cell", (s[0], s[1] + k))].append(aid)
    room_na: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for c in p.constraints:
        if c.kind == "RoomNotAvailableTimes" and c.hard:
            room_na[c.params["room"]].update(tuple(s) for s in c.params["slots"])  # type: ignore[misc]
    reported: set[frozenset[int]] = set()
    for (how, where), ids in sorted(together.items(), key=lambda kv: str(kv[0])):
        if len(ids) < 2:
            continue
        cell = where if how == "cell" else None
        starts = [cell] if cell else b.allowed[index[ids[0]]]
        for pool in sorted({frozenset(hard[i]) for i in ids} | {frozenset().union(*(hard[i] for i in ids))}, key=len):
            users = sorted(i for i in ids if hard[i] and hard[i] <= pool)
            free = {r for r in pool if not (cell and cell in room_na.get(r, set()))}
            if len(users) <= len(free) or frozenset(users) in reported:
                continue
            reported.add(frozenset(users))
            acts = [p.activity(i) for i in users]
            who = _group_label(p, set().union(*(p.atoms_of(a.students) for a in acts)))
            when = _span(p, starts)
            kinds = sorted({p.rooms[r].kind for r in pool if p.rooms[r].kind})
            what = f"{'、'.join(kinds)}（{'、'.join(sorted(pool))}）" if kinds else "、".join(sorted(pool))
            out.append(
                f"{who} {when}要同时上 {len(users)} 节课，都要用{what}，"
                f"{'那时' if cell else ''}只有 {len(free)} 间：{_lessons(acts)}"
            )
    return out


# --- CP-SAT's infeasible core -------------------------------------------------------------------------------


def explain(problem: Problem, *, time_limit: float = 20.0, workers: int = 2) -> list[str]:
    """Name a set of hard constraints that cannot hold together (CP-SAT's infeasible core, made minimal while
    `time_limit` allows)."""
    from .solver import Builder, InvalidProblem

    deadline = time.monotonic() + time_limit
    # one switch per constraint: unlabelled (or equally labelled) constraints get a key of their own
    keyed: dict[str, Constraint] = {}
    relabelled = []
    for n, c in enumerate(problem.constraints):
        key = c.label or c.kind
        if key in keyed:
            key = f"{key} #{n}"
        keyed[key] = c
        relabelled.append(dataclasses.replace(c, label=key))
    work = dataclasses.replace(problem, constraints=relabelled)
    b = Builder(work, assumptions=True)
    try:
        b.build()
    except InvalidProblem as exc:
        return exc.errors
    b.m.clear_objective()
    guards = dict(b.guards)

    def infeasible(keys: list[str]) -> tuple[bool | None, list[str]]:
        left = deadline - time.monotonic()
        if left <= 0.05:
            return None, keys
        b.m.clear_assumptions()
        b.m.add_assumptions([guards[k] for k in keys])
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = left
        solver.parameters.num_workers = 1  # cores need the single-thread search
        status = solver.solve(b.m)
        if status == cp_model.INFEASIBLE:
            core = set(solver.sufficient_assumptions_for_infeasibility())
            return True, [k for k in keys if guards[k].index in core]
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return False, keys
        return None, keys

    ok, core = infeasible(list(guards))
    if ok is None:
        return [f"在 {time_limit:.0f} 秒内没能找出是哪些约束冲突；可以延长时间再试，或逐条放宽约束检查。"]
    if ok is False:
        return []
    if not core and guards:
        # an empty core from presolve: make sure the lessons alone are impossible, else start from every rule
        alone, _ = infeasible([])
        if alone is not True:
            core = list(guards)
    # deletion: drop each constraint the rest of the core is still impossible without
    minimal = True
    i = 0
    while i < len(core):
        trial = core[:i] + core[i + 1 :]
        still, smaller = infeasible(trial)
        if still is None:
            minimal = False
            break
        if still:
            core = smaller
        else:
            i += 1
    if not core:
        return _no_rule_to_blame(problem, deadline, workers)
    head = (
        f"以下 {len(core)} 条硬约束不能同时满足，放宽其中任意一条即可解开这个冲突："
        if minimal
        else "以下硬约束不能同时满足（去掉或放宽其中一些即可能排出）："
    )
    out = [head]
    for key in core[:MAX_REASONS]:
        out.append("· " + describe(problem, keyed[key]))
    if len(core) > MAX_REASONS:
        out.append(f"……另有 {len(core) - MAX_REASONS} 条")
    return out


def _no_rule_to_blame(p: Problem, deadline: float, workers: int) -> list[str]:
    """No switchable rule is in the core: the lessons do not fit by themselves, or the rooms they must use (room
    demands have no switch) are too few. Solving once without the room demands tells which."""
    from .solver import ROOM_KINDS, Builder

    room_rules = {
        id(c) for c in p.constraints if c.hard and (c.kind in ROOM_KINDS or c.kind == "RoomNotAvailableTimes")
    }
    if not room_rules:
        return _basics_only(p)
    without = dataclasses.replace(p, constraints=[c for c in p.constraints if id(c) not in room_rules])
    b = Builder(without, soft=False)
    b.build()
    b.m.clear_objective()
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, deadline - time.monotonic())
    solver.parameters.num_workers = max(1, workers)
    status = solver.solve(b.m)
    if status == cp_model.INFEASIBLE:
        return _basics_only(p)
    full = _full_rooms(p)
    head = (
        "排课规则之间没有冲突，是教室不够用：各课必须用的教室合在一起排不下这些课。"
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        else "排课规则之间没有冲突；排不下的原因在各课必须用的教室，或在多个班合上、多位教师同上的课"
        "（没有时间进一步区分）。"
    )
    return [head] + ([f"排满了的教室：{'、'.join(full[:10])}" + (" 等" if len(full) > 10 else "")] if full else [])


def _room_loads(p: Problem) -> dict[str, tuple[int, int, list[Activity]]]:
    """Each room's lessons that can use no other room: (periods they need, periods the room is free, lessons)."""
    from .solver import ROOM_KINDS, room_constraint_targets, room_list

    only: dict[int, set[str]] = {}
    for c in p.constraints:
        if c.kind in ROOM_KINDS and c.hard:
            rooms = set(room_list(c))
            for a in room_constraint_targets(p, c):
                only[a.id] = only[a.id] & rooms if a.id in only else rooms
    breaks = {tuple(x) for c in p.constraints if c.kind == "BreakTimes" for x in c.params.get("slots", ())}
    closed: dict[str, set[Any]] = defaultdict(set)
    for c in p.constraints:
        if c.kind == "RoomNotAvailableTimes" and c.hard:
            closed[c.params["room"]].update(tuple(x) for x in c.params.get("slots", ()))
    need: dict[str, list[Activity]] = defaultdict(list)
    for aid, rooms in only.items():
        if len(rooms) != 1 or next(iter(rooms)) not in p.rooms:
            continue
        room = p.rooms[next(iter(rooms))]
        for r in [room.name, *[s[0] for s in room.real_room_sets if len(s) == 1]]:
            need[r].append(p.activity(aid))
    cells = p.n_days * p.n_periods - len(breaks)
    return {r: (sum(a.duration for a in acts), cells - len(closed[r] - breaks), acts) for r, acts in need.items()}


def _full_rooms(p: Problem) -> list[str]:
    loads = sorted(_room_loads(p).items(), key=lambda kv: (kv[1][1] - kv[1][0], kv[0]))
    return [f"{r}（{n}/{free} 节）" for r, (n, free, _acts) in loads if n >= free]


def _basics_only(p: Problem) -> list[str]:
    """No rule is to blame: the lessons themselves do not fit (shared lessons of several classes or teachers)."""
    all_cells = p.n_days * p.n_periods
    breaks = {tuple(s) for c in p.constraints if c.kind == "BreakTimes" for s in c.params.get("slots", ())}
    free = all_cells - len(breaks)
    load: dict[str, int] = defaultdict(int)
    for a in p.activities:
        for name in [*a.teachers, *sorted(p.atoms_of(a.students))]:
            load[name] += a.duration
    full = sorted(name for name, n in load.items() if n >= free)
    out = [
        "即使不考虑任何排课规则，“同一位教师、同一批学生、同一间教室同一时间只能上一节课”也排不下这些课"
        "（常见于多个班合上、多位教师同上的课）。"
    ]
    if full:
        out.append(f"课时排满了全部 {free} 个节次的：{'、'.join(full[:10])}" + (" 等" if len(full) > 10 else ""))
    return out


# --- constraints in words ------------------------------------------------------------------------------------

_PER_WHO = {
    "MaxHoursDaily": "每天至多 {max} 节课",
    "MinHoursDaily": "有课的日子至少 {min} 节课",
    "MaxDaysPerWeek": "每周至多 {max} 天有课",
    "MinDaysPerWeek": "每周至少 {min} 天有课",
    "MaxGapsPerDay": "每天至多 {max} 个空节",
    "MaxGapsPerWeek": "每周至多 {max} 个空节",
    "MaxHoursContinuously": "至多连上 {max} 节",
    "ActivityTagMaxHoursDaily": "“{tag}”课每天至多 {max} 节",
    "ActivityTagMaxHoursContinuously": "“{tag}”课至多连上 {max} 节",
    "IntervalMaxDaysPerWeek": "每周至多 {max} 天在指定时段有课",
    "EarlyMaxBeginningsAtSecondHour": "每周至多 {max} 天从第二节开始上课",
}


def describe_rule_only(c: Constraint) -> str:
    """A constraint's own words when it has no label."""
    prm = c.params
    for suffix, text in _PER_WHO.items():
        for prefix, everyone in (("Teacher", "每位教师"), ("StudentsSet", "每个班")):
            if c.kind == prefix + suffix:
                who = prm.get("teacher" if prefix == "Teacher" else "students") or everyone
                return f"{who} " + text.format(**{k: prm.get(k, "") for k in ("max", "min", "tag")})
    return c.kind


def describe(problem: Problem, c: Constraint) -> str:
    """A constraint in words: what it asks of whom, then the school's own label for it."""
    p = problem
    prm = c.params
    k = c.kind
    by_id = p._by_id()

    def one(aid: Any) -> str:
        a = by_id.get(aid)
        return lesson_name(a) if a else f"#{aid}"

    def many(ids: Iterable[Any]) -> str:
        acts = [by_id[i] for i in ids if i in by_id]
        return _lessons(acts)

    text = ""
    slots: list[Any] = prm.get("slots") or []
    if k == "TeacherNotAvailableTimes":
        text = f"{prm['teacher']} 在 {_slots_text(p, slots)} 不能上课"
    elif k == "StudentsSetNotAvailableTimes":
        text = f"{prm['students']} 在 {_slots_text(p, slots)} 不能上课"
    elif k == "RoomNotAvailableTimes":
        text = f"教室 {prm['room']} 在 {_slots_text(p, slots)} 不能用"
    elif k == "BreakTimes":
        text = f"{_slots_text(p, slots)} 是休息时间"
    elif k == "ActivityPreferredStartingTime":
        day = p.days[prm["day"]] if prm.get("day") is not None else ""
        per = p.periods[prm["period"]] if prm.get("period") is not None else ""
        text = (
            f"{one(prm['activity'])}固定在 {day}{per}"
            if day and per
            else f"{one(prm['activity'])}排在 {day or '每天'}{per}"
        )
    elif k in ("ActivityPreferredStartingTimes", "ActivityPreferredTimeSlots"):
        text = f"{one(prm['activity'])}只能排在 {_slots_text(p, slots)}"
    elif k.startswith(("ActivitiesPreferred", "SubactivitiesPreferred")):
        flt = prm.get("filter") or {}
        parts = [str(flt[x]) for x in ("students", "teacher", "subject", "tag") if flt.get(x)]
        which = f"第 {prm['component']} 次" if prm.get("component") else ""
        text = f"{' '.join(parts) or '所有'}的{which}课只能排在 {_slots_text(p, slots)}"
    elif k == "MinDaysBetweenActivities":
        ids = prm["activities"]
        text = f"{_of_lessons(p, ids)}的 {len(ids)} 节课要相隔至少 {prm['min_days']} 天"
    elif k == "MaxDaysBetweenActivities":
        text = f"{many(prm['activities'])}相隔至多 {prm['max_days']} 天"
    elif k == "ActivitiesMaxPerDay":
        text = f"{_of_lessons(p, prm['activities'])}每天至多 {prm['max']} 节"
    elif k == "ActivitiesSameStartingTime":
        text = f"{many(prm['activities'])}必须同时上"
    elif k == "ActivitiesSameStartingDay":
        text = f"{many(prm['activities'])}必须在同一天"
    elif k == "ActivitiesSameStartingHour":
        text = f"{many(prm['activities'])}必须在同一节次开始"
    elif k == "ActivitiesNotOverlapping":
        text = f"{many(prm['activities'])}不能同时上"
    elif k in ("TwoActivitiesConsecutive", "TwoActivitiesGrouped", "ThreeActivitiesGrouped"):
        ids = [prm[x] for x in ("first", "second", "third") if x in prm]
        text = f"{many(ids)}必须连着上"
    elif k.startswith(("Teacher", "StudentsSet")) and describe_rule_only(c) != k:
        text = describe_rule_only(c)
    elif k == "TeacherBalancedDays":
        text = f"{prm.get('teacher') or '每位教师'} 每天课时均衡"
    elif k in ("ActivityPreferredRoom", "ActivityPreferredRooms"):
        text = f"{one(prm['activity'])}只能在 {'、'.join(prm.get('rooms') or [prm.get('room', '')])}"
    elif k in ("SubjectPreferredRooms", "ActivityTagPreferredRooms", "SubjectActivityTagPreferredRooms"):
        what = " ".join(str(prm[x]) for x in ("subject", "tag") if prm.get(x))
        text = f"{what} 课只能在 {'、'.join(prm['rooms'])}"
    elif k in ("StudentsSetHomeRooms", "TeacherHomeRooms"):
        who = prm.get("students") or prm.get("teacher")
        text = f"{who} 的课在 {'、'.join(prm['rooms'])}"
    if not text:
        return c.label or k
    return f"{text}（{c.label}）" if c.label and c.label != text else text
