"""Why no timetable exists, in the school's terms.

First plain counting (fast, and what a 教务员 checks by hand): a teacher or a class with more lessons than free
periods, a lesson with no allowed time, a room set too small for the lessons that must use it at one time, more
parts of a lesson than days when they must fall on different days. If counting finds nothing, CP-SAT is asked
again with one switch per hard constraint; the switches it needs off to succeed (an infeasible core) name the
constraints that clash.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ortools.sat.python import cp_model

from .model import Constraint, Problem

MAX_REASONS = 12


def _when(p: Problem, cell: tuple[int, int]) -> str:
    return f"{p.days[cell[0]]}{p.periods[cell[1]]}"


def precheck(problem: Problem) -> list[str]:
    from .solver import Builder

    p = problem
    out: list[str] = []
    b = Builder(p)
    try:
        b.atoms = [p.atoms_of(a.students) for a in p.activities]
        b._time_links()
        b._domains()
    except (KeyError, ValueError) as exc:
        return [f"数据有误：{exc}"]
    all_cells = {(d, h) for d in range(p.n_days) for h in range(p.n_periods)}
    free_all = all_cells - b.breaks
    # a lesson with no possible start
    for a in b.empty_domains[:MAX_REASONS]:
        who = "、".join(a.teachers) or "—"
        out.append(
            f"课程 #{a.id} {a.subject}（{'、'.join(a.students) or '—'}，{who}）没有任何可排的时间："
            "它的教师或学生不可用时间、休息时间和指定时间把一周都占满了"
        )
    # teachers and classes: lessons vs free periods
    load: dict[str, int] = defaultdict(int)
    for a in p.activities:
        for t in a.teachers:
            load[t] += a.duration
    for t, n in sorted(load.items()):
        avail = len(free_all - b.t_na.get(t, set()))
        if n > avail:
            out.append(f"{t} 每周有 {n} 节课，但只有 {avail} 个可上课的节次")
    atom_load: dict[str, int] = defaultdict(int)
    for a in p.activities:
        for atom in p.atoms_of(a.students):
            atom_load[atom] += a.duration
    reported: set[str] = set()
    for atom, n in sorted(atom_load.items()):
        avail = len(free_all - b.s_na.get(atom, set()))
        if n > avail and atom not in reported:
            owner = next((s.name for s in p.student_sets.values() if atom in s.atoms() and s.members), atom)
            label = atom if owner == atom else f"{owner}（{atom}）"
            out.append(f"{label} 每周有 {n} 节课，但只有 {avail} 个可上课的节次")
            reported.add(atom)
    # parts that must fall on different days
    for c in p.constraints:
        if c.kind == "MinDaysBetweenActivities" and c.hard:
            ids = [x for x in c.params["activities"] if x in p._by_id()]
            md = int(c.params["min_days"])
            need = (len(ids) - 1) * md + 1
            if len(ids) > 1 and need > p.n_days:
                a = p.activity(ids[0])
                out.append(
                    f"{a.subject}（{'、'.join(a.students)}）的 {len(ids)} 节课要求相隔至少 {md} 天，"
                    f"一周只有 {p.n_days} 天（{c.label or c.kind}）"
                )
    # rooms: none fits, or too few for lessons fixed at one time
    out.extend(_room_reasons(p, b))
    return out[:MAX_REASONS] + ([f"……另有 {len(out) - MAX_REASONS} 条"] if len(out) > MAX_REASONS else [])


def _room_reasons(p: Problem, b: Any) -> list[str]:
    from .solver import ROOM_KINDS, room_constraint_targets, room_list

    out = []
    hard: dict[int, set[str]] = {}
    for c in p.constraints:
        if c.kind in ROOM_KINDS and c.hard:
            rooms = set(room_list(c))
            for a in room_constraint_targets(p, c):
                hard[a.id] = hard[a.id] & rooms if a.id in hard else rooms
    fixed_start: dict[int, tuple[int, int]] = {}
    for i, a in enumerate(p.activities):
        if a.id not in hard:
            continue
        size = p.size_of(a)
        fitting = [r for r in hard[a.id] if r in p.rooms and p.rooms[r].capacity >= size]
        if not fitting:
            if hard[a.id]:
                caps = "、".join(f"{r}（{p.rooms[r].capacity} 人）" for r in sorted(hard[a.id]) if r in p.rooms)
                out.append(
                    f"课程 #{a.id} {a.subject} 有 {size} 人，可用教室都放不下：{caps or '（指定的教室相互矛盾）'}"
                )
            else:
                out.append(f"课程 #{a.id} {a.subject} 的教室要求相互矛盾，没有一间教室同时满足")
        if len(b.allowed[i]) == 1:
            fixed_start[a.id] = b.allowed[i][0]
    # lessons pinned to the same time that need rooms of one kind
    at: dict[tuple[int, int], list[int]] = defaultdict(list)
    for aid, s in fixed_start.items():
        a = p.activity(aid)
        for k in range(a.duration):
            at[(s[0], s[1] + k)].append(aid)
    for cell, ids in sorted(at.items()):
        pool = set().union(*(hard[i] for i in ids))
        if len(ids) > len(pool):
            names = "、".join(f"{p.activity(i).subject}（{'、'.join(p.activity(i).students)}）" for i in ids)
            out.append(
                f"{_when(p, cell)} 同时需要 {len(ids)} 间 {'、'.join(sorted(pool))} 这类教室，"
                f"学校只有 {len(pool)} 间：{names}"
            )
    return out


def explain(problem: Problem, *, time_limit: float = 20.0, workers: int = 2) -> list[str]:
    """Name a set of hard constraints that cannot hold together (CP-SAT's infeasible core)."""
    from .solver import Builder, InvalidProblem

    b = Builder(problem, assumptions=True)
    try:
        b.build()
    except InvalidProblem as exc:
        return exc.errors
    b.m.clear_objective()
    guards = list(b.guards.items())
    if not guards:
        return []
    b.m.add_assumptions([lit for _, lit in guards])
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 1  # cores need the single-thread search
    status = solver.solve(b.m)
    if status != cp_model.INFEASIBLE:
        return []
    core = set(solver.sufficient_assumptions_for_infeasibility())
    names = [key for key, lit in guards if lit.index in core]
    by_label = {c.label or c.kind: c for c in problem.constraints}
    out = ["以下硬约束不能同时满足（去掉或放宽其中之一即可能排出）："]
    for key in names[:MAX_REASONS]:
        c = by_label.get(key)
        out.append("· " + (describe(problem, c) if c else key))
    if len(names) > MAX_REASONS:
        out.append(f"……另有 {len(names) - MAX_REASONS} 条")
    if len(names) == 0:
        out.append("· 教师、班级、教室不能同时上两节课的基本要求与课时数本身冲突")
    return out


def describe(problem: Problem, c: Constraint) -> str:
    """A constraint in words."""
    prm = c.params
    k = c.kind
    slots = prm.get("slots")
    when = ""
    if slots:
        when = "、".join(_when(problem, tuple(s)) for s in slots[:6]) + ("……" if len(slots) > 6 else "")  # type: ignore[arg-type]
    if k == "TeacherNotAvailableTimes":
        return f"{prm['teacher']} 在 {when} 不能上课（{c.label}）"
    if k == "StudentsSetNotAvailableTimes":
        return f"{prm['students']} 在 {when} 不能上课（{c.label}）"
    if k == "ActivityPreferredStartingTime":
        a = problem._by_id().get(prm["activity"])
        subj = a.subject if a else prm["activity"]
        day = problem.days[prm["day"]] if prm.get("day") is not None else ""
        per = problem.periods[prm["period"]] if prm.get("period") is not None else ""
        return f"{subj} 固定在 {day}{per}（{c.label}）"
    if k == "MinDaysBetweenActivities":
        return f"{len(prm['activities'])} 节课相隔至少 {prm['min_days']} 天（{c.label}）"
    return c.label or k
