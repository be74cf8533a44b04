"""CP-SAT model of a timetable: every activity gets a start (day, period) and, where it needs one, a room.

Variables: one Boolean per activity and allowed start (`x[a, s]`). Unary hard constraints (breaks, not-available
times, preferred times, locks) shrink the list of starts before any variable exists. Teachers and students
(atomic sets with the same activities share one resource; a set whose activities are a subset of another's is
implied by it) get at-most-one per time slot over these literals; activities tied to one start
(`ActivitiesSameStartingTime`) share their literals. Rooms: an activity with one possible room makes that room a
resource like a teacher; with several, it chooses among optional intervals, with a redundant per-slot count so
time and room reasoning meet. Soft constraints (weight < 100) become penalties weighted by their weight.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from .model import Activity, Constraint, Placement, Problem, Solution
from .result import Progress, Result

Start = tuple[int, int]
ProgressFn = Callable[[Progress], None]

SUPPORTED = {
    "BasicCompulsoryTime", "BasicCompulsorySpace", "BreakTimes", "TeacherNotAvailableTimes",
    "StudentsSetNotAvailableTimes", "RoomNotAvailableTimes", "ActivityPreferredStartingTime",
    "ActivityPreferredStartingTimes", "ActivityPreferredTimeSlots", "ActivitiesPreferredStartingTimes",
    "ActivitiesPreferredTimeSlots", "SubactivitiesPreferredStartingTimes", "SubactivitiesPreferredTimeSlots",
    "MinDaysBetweenActivities", "MaxDaysBetweenActivities", "MinGapsBetweenActivities",
    "ActivitiesSameStartingTime", "ActivitiesSameStartingDay", "ActivitiesSameStartingHour",
    "ActivitiesNotOverlapping", "TwoActivitiesConsecutive", "TwoActivitiesGrouped", "ThreeActivitiesGrouped",
    "ActivityEndsStudentsDay", "ActivitiesEndStudentsDay", "ActivitiesOccupyMaxTimeSlotsFromSelection",
    "ActivitiesMaxSimultaneousInSelectedTimeSlots", "ActivitiesMinSimultaneousInSelectedTimeSlots",
    "TeacherMaxHoursDaily", "TeacherMinHoursDaily", "TeacherMaxDaysPerWeek", "TeacherMinDaysPerWeek",
    "TeacherMaxGapsPerDay", "TeacherMaxGapsPerWeek", "TeacherMaxHoursContinuously",
    "TeacherActivityTagMaxHoursDaily", "TeacherActivityTagMaxHoursContinuously", "TeacherIntervalMaxDaysPerWeek",
    "StudentsSetMaxHoursDaily", "StudentsSetMinHoursDaily", "StudentsSetMaxGapsPerDay", "StudentsSetMaxGapsPerWeek",
    "StudentsSetEarlyMaxBeginningsAtSecondHour", "StudentsSetIntervalMaxDaysPerWeek",
    "StudentsSetActivityTagMaxHoursDaily", "StudentsSetActivityTagMaxHoursContinuously",
    "StudentsSetMaxHoursContinuously", "ActivitiesMaxPerDay", "TeacherBalancedDays",
    "ActivityPreferredRoom", "ActivityPreferredRooms", "SubjectPreferredRooms", "ActivityTagPreferredRooms",
    "SubjectActivityTagPreferredRooms", "StudentsSetHomeRooms", "TeacherHomeRooms",
    "ActivitiesOccupyMaxDifferentRooms", "ActivitiesSameRoomIfConsecutive",
}  # fmt: skip

ROOM_KINDS = {
    "ActivityPreferredRoom", "ActivityPreferredRooms", "SubjectPreferredRooms", "ActivityTagPreferredRooms",
    "SubjectActivityTagPreferredRooms", "StudentsSetHomeRooms", "TeacherHomeRooms",
}  # fmt: skip
SCALE = 10  # weights in tenths of a percent
MOVE_COST = 100_000  # repair mode: one moved lesson outweighs any soft constraint


class InvalidProblem(ValueError):
    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


# --- selection helpers shared with the checker -------------------------------------------------------------


def matches(problem: Problem, a: Activity, flt: dict[str, Any] | None, atoms_cache: dict[str, frozenset[str]]) -> bool:
    if not flt:
        return True
    if flt.get("teacher") and flt["teacher"] not in a.teachers:
        return False
    if flt.get("subject") and flt["subject"] != a.subject:
        return False
    if flt.get("tag") and flt["tag"] not in a.tags:
        return False
    if flt.get("duration") and int(flt["duration"]) != a.duration:
        return False
    students = flt.get("students")
    if students:
        want = atoms_cache.get(students)
        if want is None:
            want = atoms_cache[students] = problem.atoms_of([students])
        if not (want & problem.atoms_of(a.students)):
            return False
    return True


def components(problem: Problem) -> dict[int, int]:
    """Each activity's 1-based position among the parts of its split lesson (FET's component number)."""
    by_group: dict[int, list[int]] = defaultdict(list)
    for a in problem.activities:
        if a.group_id:
            by_group[a.group_id].append(a.id)
    out = {a.id: 1 for a in problem.activities}
    for ids in by_group.values():
        for i, aid in enumerate(sorted(ids), start=1):
            out[aid] = i
    return out


def selected(problem: Problem, c: Constraint, atoms_cache: dict[str, frozenset[str]]) -> list[Activity]:
    """The activities a filter-based constraint (Activities…, Subactivities…) applies to."""
    flt = c.params.get("filter") or {}
    comp = c.params.get("component")
    comps = components(problem) if comp else {}
    return [
        a
        for a in problem.activities
        if matches(problem, a, flt, atoms_cache) and (not comp or comps.get(a.id) == int(comp))
    ]


def room_constraint_targets(problem: Problem, c: Constraint) -> list[Activity]:
    """The activities a room preference applies to (FET's meaning)."""
    p = c.params
    k = c.kind
    if k in ("ActivityPreferredRoom", "ActivityPreferredRooms"):
        aid = p["activity"]
        return [problem.activity(aid)] if aid in problem._by_id() else []
    if k == "SubjectPreferredRooms":
        return [a for a in problem.activities if a.subject == p["subject"]]
    if k == "ActivityTagPreferredRooms":
        return [a for a in problem.activities if p["tag"] in a.tags]
    if k == "SubjectActivityTagPreferredRooms":
        return [a for a in problem.activities if a.subject == p["subject"] and p["tag"] in a.tags]
    if k == "StudentsSetHomeRooms":
        pref = _with_preferred_room(problem)
        return [a for a in problem.activities if a.students == (p["students"],) and a.id not in pref]
    if k == "TeacherHomeRooms":
        pref = _with_preferred_room(problem)
        return [a for a in problem.activities if a.teachers == (p["teacher"],) and a.id not in pref]
    return []


def _with_preferred_room(problem: Problem) -> set[int]:
    """Activities with a room preference other than a home room: FET uses home rooms only for the others."""
    cached = problem.__dict__.get("_preferred_room_cache")
    if cached is None:
        cached = set()
        for c in problem.constraints:
            if c.kind in ROOM_KINDS and c.weight > 0 and not c.kind.endswith("HomeRooms"):
                cached.update(a.id for a in room_constraint_targets(problem, c))
        problem.__dict__["_preferred_room_cache"] = cached
    return cached


def room_list(c: Constraint) -> list[str]:
    if "rooms" in c.params:
        return list(c.params["rooms"])
    return [c.params["room"]]


# --- the model ---------------------------------------------------------------------------------------------


@dataclass
class _Resource:
    name: str  # teacher name / atom group label / room name
    acts: list[int] = field(default_factory=list)  # indexes into problem.activities


class Builder:
    def __init__(
        self,
        problem: Problem,
        *,
        previous: Solution | None = None,
        assumptions: bool = False,
        soft: bool = True,
        defer_rooms: bool = False,
    ):
        self.p = problem
        self.D = problem.n_days
        self.P = problem.n_periods
        self.acts = problem.activities
        self.index = {a.id: i for i, a in enumerate(self.acts)}
        self.m = cp_model.CpModel()
        self.cost: list[tuple[int, Any]] = []  # (coefficient, literal or linear expr)
        self.atoms_cache: dict[str, frozenset[str]] = {}
        self.previous = previous
        self.assumptions = assumptions
        self.guards: dict[str, Any] = {}  # explain mode: constraint label -> assumption literal
        self.notes: list[str] = []
        self.with_soft = soft  # False: hard constraints only (the fast way to a first timetable)
        # times first, rooms after: a lesson choosing among several rooms gets no room variable, only counts
        # (Hall's condition) that keep a room free for it at its time; rooms are then chosen with times fixed
        self.defer_rooms = defer_rooms
        self.deferred: set[int] = set()

    # .. domains .........................................................................................
    def covers(self, s: Start, dur: int) -> list[Start]:
        return [(s[0], s[1] + k) for k in range(dur)]

    def build(self) -> None:
        p = self.p
        errors = []
        unknown = sorted({c.kind for c in p.constraints if c.kind not in SUPPORTED})
        if unknown:
            errors.append("不支持的约束类型：" + "、".join(unknown))
        for a in self.acts:
            if a.duration < 1 or a.duration > self.P:
                errors.append(f"课程 #{a.id}（{a.subject}）的连堂数 {a.duration} 超出每天的节数 {self.P}")
        if errors:
            raise InvalidProblem(errors)
        self.atoms = [problem_atoms(p, a) for a in self.acts]
        self._time_links()
        self._domains()
        self._variables()
        self._resources()
        self._rooms()
        for c in p.constraints:
            if c.weight <= 0 or (not c.hard and not self.with_soft):
                continue
            handler = getattr(self, "_c_" + c.kind, None)
            if handler is not None:
                handler(c)
        self._objective()
        self._strategy()

    def _strategy(self) -> None:
        """Hardest lessons first (FET's order: busy teachers and classes, few allowed times, long lessons),
        each tried at its earliest allowed time; CP-SAT's fixed-search worker follows it."""
        load: dict[str, int] = defaultdict(int)
        for a in self.acts:
            for t in a.teachers:
                load["t:" + t] += a.duration
        for i, a in enumerate(self.acts):
            for atom in self.atoms[i]:
                load["s:" + atom] += a.duration

        def hardness(i: int) -> tuple[float, ...]:
            a = self.acts[i]
            busiest = max([load["t:" + t] for t in a.teachers] + [load["s:" + s] for s in self.atoms[i]] + [0])
            return (len(self.allowed[i]) / max(1, a.duration), -busiest, -a.duration)

        order = sorted((i for i in range(len(self.acts)) if self.root[i] == i), key=hardness)
        lits = [lit for i in order for _s, lit in sorted(self.x[i].items())]
        if lits:
            self.m.add_decision_strategy(lits, cp_model.CHOOSE_FIRST, cp_model.SELECT_MAX_VALUE)

    def greedy_hint(self, seed: int = 0) -> int:
        """A quick placement, hardest lessons first, each at a free start of its teachers, students and fixed
        room (FET's first move, without its swaps): a hint that puts CP-SAT's search near a timetable.
        Returns how many lessons found a free start."""
        import random

        rng = random.Random(seed)
        taken: set[tuple[str, Start]] = set()
        owners: list[list[str]] = []
        for i, a in enumerate(self.acts):
            keys = ["t:" + t for t in a.teachers] + ["s:" + g for g in self.atoms[i]]
            dom = self.room_domain[i]
            if dom and self.room_hard[i] and len(dom) == 1:
                keys.append("r:" + dom[0])
            owners.append(keys)
        order = sorted(
            (i for i in range(len(self.acts)) if self.root[i] == i), key=lambda i: (len(self.allowed[i]), rng.random())
        )
        members: dict[int, list[int]] = defaultdict(list)
        for j, r in enumerate(self.root):
            members[r].append(j)
        placed = 0
        day_count: dict[tuple[int, int], int] = defaultdict(int)
        for i in order:
            group = members[i]
            best: tuple[float, Start] | None = None
            for s in self.allowed[i]:
                clash = 0
                for j in group:
                    for cell in self.covers(s, self.acts[j].duration):
                        clash += sum(1 for k in owners[j] if (k, cell) in taken)
                score = clash * 100 + day_count[(self.acts[i].group_id or -i, s[0])] * 10 + rng.random()
                if best is None or score < best[0]:
                    best = (score, s)
            if best is None:
                continue
            s = best[1]
            placed += best[0] < 100
            day_count[(self.acts[i].group_id or -i, s[0])] += 1
            for j in group:
                for cell in self.covers(s, self.acts[j].duration):
                    for k in owners[j]:
                        taken.add((k, cell))
            for t, lit in self.x[i].items():
                self.m.add_hint(lit, t == s)
        return placed

    def guard(self, c: Constraint) -> list[Any]:
        """Explain mode: a literal per hard constraint so an infeasible core can name them."""
        if not self.assumptions:
            return []
        key = c.label or c.kind
        lit = self.guards.get(key)
        if lit is None:
            lit = self.guards[key] = self.m.new_bool_var("g:" + key)
        return [lit]

    def soft(self, c: Constraint) -> Any | None:
        """None for a hard constraint; else a violation literal that costs the constraint's weight."""
        if c.hard:
            return None
        v = self.m.new_bool_var("")
        self.cost.append((max(1, round(c.weight * SCALE)), v))
        return v

    def enforce(self, c: Constraint, v: Any | None) -> list[Any]:
        """Enforcement literals for `OnlyEnforceIf`: not violated (soft) / guarded (explain)."""
        out = list(self.guard(c)) if v is None else []
        if v is not None:
            out.append(v.Not())
        return out

    def _time_links(self) -> None:
        """Union-find of activities tied by a hard ActivitiesSameStartingTime: they share literals."""
        parent = list(range(len(self.acts)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        if not self.assumptions:
            for c in self.p.constraints:
                if c.kind == "ActivitiesSameStartingTime" and c.hard:
                    ids = [self.index[x] for x in c.params["activities"] if x in self.index]
                    for i in ids[1:]:
                        parent[find(i)] = find(ids[0])
        self.root = [find(i) for i in range(len(self.acts))]

    def _domains(self) -> None:
        p, D, P = self.p, self.D, self.P
        breaks: set[Start] = set()
        t_na: dict[str, set[Start]] = defaultdict(set)
        s_na: dict[str, set[Start]] = defaultdict(set)
        hard_soft_pref: list[tuple[Constraint, list[int], set[Start], bool]] = []
        for c in p.constraints:
            if c.weight <= 0:
                continue
            k, prm = c.kind, c.params
            if k == "BreakTimes":
                breaks.update(map(tuple, prm["slots"]))  # type: ignore[arg-type]
            elif k == "TeacherNotAvailableTimes" and c.hard and not self.assumptions:
                t_na[prm["teacher"]].update(map(tuple, prm["slots"]))  # type: ignore[arg-type]
            elif k == "StudentsSetNotAvailableTimes" and c.hard and not self.assumptions:
                for atom in p.atoms_of([prm["students"]]):
                    s_na[atom].update(map(tuple, prm["slots"]))  # type: ignore[arg-type]
            elif k in (
                "ActivityPreferredStartingTime",
                "ActivityPreferredStartingTimes",
                "ActivityPreferredTimeSlots",
            ):
                if prm["activity"] not in self.index:
                    continue
                slots = self._pref_slots(c)
                hard_soft_pref.append((c, [self.index[prm["activity"]]], slots, k.endswith("TimeSlots")))
            elif k in (
                "ActivitiesPreferredStartingTimes",
                "ActivitiesPreferredTimeSlots",
                "SubactivitiesPreferredStartingTimes",
                "SubactivitiesPreferredTimeSlots",
            ):
                acts = [self.index[a.id] for a in selected(p, c, self.atoms_cache)]
                slots = set(map(tuple, prm["slots"]))  # type: ignore[arg-type]
                hard_soft_pref.append((c, acts, slots, k.endswith("TimeSlots")))
        self.breaks = breaks
        self.t_na, self.s_na = t_na, s_na
        allowed: list[set[Start]] = []
        for i, a in enumerate(self.acts):
            banned = set(breaks)
            for t in a.teachers:
                banned |= t_na.get(t, set())
            for atom in self.atoms[i]:
                banned |= s_na.get(atom, set())
            dom = set()
            for d in range(D):
                for h in range(P - a.duration + 1):
                    if not any(cell in banned for cell in self.covers((d, h), a.duration)):
                        dom.add((d, h))
            allowed.append(dom)
        self.soft_prefs: list[tuple[Constraint, list[int], set[Start], bool]] = []
        for c, acts, slots, whole in hard_soft_pref:
            if c.hard and not self.assumptions:
                for i in acts:
                    dur = self.acts[i].duration
                    allowed[i] = {
                        s for s in allowed[i] if (all(x in slots for x in self.covers(s, dur)) if whole else s in slots)
                    }
            else:
                self.soft_prefs.append((c, acts, slots, whole))
        # activities sharing literals share one domain
        groups: dict[int, list[int]] = defaultdict(list)
        for i, r in enumerate(self.root):
            groups[r].append(i)
        for members in groups.values():
            if len(members) > 1:
                common = set.intersection(*(allowed[i] for i in members))
                for i in members:
                    allowed[i] = common
        self.allowed = [sorted(s) for s in allowed]
        empty = [self.acts[i] for i, s in enumerate(self.allowed) if not s]
        self.empty_domains = empty

    def _pref_slots(self, c: Constraint) -> set[Start]:
        prm = c.params
        if c.kind == "ActivityPreferredStartingTime":
            day, per = prm.get("day"), prm.get("period")
            return {
                (d, h)
                for d in range(self.D)
                for h in range(self.P)
                if (day is None or d == day) and (per is None or h == per)
            }
        return set(map(tuple, prm["slots"]))  # type: ignore[arg-type]

    def _variables(self) -> None:
        m = self.m
        self.x: list[dict[Start, Any]] = []
        shared: dict[int, dict[Start, Any]] = {}
        for i, _a in enumerate(self.acts):
            r = self.root[i]
            if r in shared:
                self.x.append(shared[r])
                continue
            lits = {s: m.new_bool_var("") for s in self.allowed[i]}
            shared[r] = lits
            self.x.append(lits)
            if not lits:
                m.add_bool_or([])  # no start at all: infeasible (explained separately)
            else:
                m.add_exactly_one(lits.values())
        # occupancy lists and per-day lists
        self.occ: list[dict[Start, list[Any]]] = []
        self.day_lits: list[dict[int, list[Any]]] = []
        for i, a in enumerate(self.acts):
            occ: dict[Start, list[Any]] = defaultdict(list)
            days: dict[int, list[Any]] = defaultdict(list)
            for s, lit in self.x[i].items():
                days[s[0]].append(lit)
                for cell in self.covers(s, a.duration):
                    occ[cell].append(lit)
            self.occ.append(occ)
            self.day_lits.append(days)
        # the start as one integer (slot index): only where intervals need it (an integer per lesson costs
        # CP-SAT a full value encoding each)
        self._start_int: dict[int, Any] = {}
        # identical parts of one split lesson: order them (symmetry)
        self._symmetry()
        # repair mode
        if self.previous is not None:
            for i, a in enumerate(self.acts):
                pl = self.previous.placements.get(a.id)
                if pl is None:
                    continue
                lit = self.x[i].get((pl.day, pl.period))
                if lit is not None:
                    self.m.add_hint(lit, 1)
                    if self.root[i] == i:
                        self.cost.append((MOVE_COST, lit.Not()))
                elif self.root[i] == i:
                    self.cost.append((MOVE_COST, 1))

    def start_expr(self, i: int) -> Any:
        """The start's slot index as a linear expression of the start Booleans."""
        return sum((s[0] * self.P + s[1]) * lit for s, lit in self.x[i].items())

    def start_int(self, i: int) -> Any:
        r = self.root[i]
        if r not in self._start_int:
            dom = [s[0] * self.P + s[1] for s in self.allowed[r]] or [0]
            v = self.m.new_int_var_from_domain(cp_model.Domain.from_values(dom), "")
            self.m.add(v == self.start_expr(r))
            self._start_int[r] = v
        return self._start_int[r]

    def _symmetry(self) -> None:
        referenced: dict[int, list[int]] = defaultdict(list)
        for ci, c in enumerate(self.p.constraints):
            prm = c.params
            ids: list[int] = []
            for name in ("activity", "first", "second", "third"):
                if name in prm:
                    ids.append(prm[name])
            ids.extend(prm.get("activities", ()))
            for aid in ids:
                referenced[aid].append(ci)
            if c.kind.startswith("Subactivities"):
                for a in selected(self.p, c, self.atoms_cache):
                    referenced[a.id].append(ci)
        classes: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        tied = {r for j, r in enumerate(self.root) if r != j}
        for i, a in enumerate(self.acts):
            if not a.group_id or self.root[i] != i or i in tied:
                continue
            refs = tuple(referenced.get(a.id, ()))
            key: tuple[Any, ...] = (a.group_id, a.subject, a.teachers, a.students, a.duration, a.tags, refs)
            classes[key].append(i)
        for members in classes.values():
            if len(members) > 1 and all(self.allowed[members[0]] == self.allowed[j] for j in members):
                for i, j in itertools.pairwise(members):
                    self.m.add(self.start_expr(i) < self.start_expr(j))

    # .. teachers and students ...........................................................................
    def _resources(self) -> None:
        """At most one lesson at a time for each teacher, each group of students, each single room."""
        by_teacher: dict[str, set[int]] = defaultdict(set)
        by_atom: dict[str, set[int]] = defaultdict(set)
        for i, a in enumerate(self.acts):
            for t in a.teachers:
                by_teacher[t].add(i)
            for atom in self.atoms[i]:
                by_atom[atom].add(i)
        self.teacher_acts = {t: sorted(v) for t, v in by_teacher.items()}
        # atoms with identical activity sets share one resource; subsets are implied
        groups: dict[frozenset[int], list[str]] = defaultdict(list)
        for atom, acts in by_atom.items():
            groups[frozenset(acts)].append(atom)
        self.atom_group_of: dict[str, frozenset[int]] = {}
        for acts_set, atoms in groups.items():
            for atom in atoms:
                self.atom_group_of[atom] = acts_set
        self.atom_groups = groups
        kept: list[frozenset[int]] = []
        for acts_set in sorted(groups, key=len, reverse=True):
            if not any(acts_set <= k for k in kept):
                kept.append(acts_set)
        for t_acts in self.teacher_acts.values():
            self._no_overlap(t_acts)
        for acts_set in kept:
            self._no_overlap(sorted(acts_set))
        self.busy_cache: dict[tuple[str, frozenset[int]], dict[Start, Any]] = {}

    def _no_overlap(self, acts: list[int], extra: Iterable[Any] = ()) -> None:
        if len(acts) < 2:
            return
        seen_roots: set[int] = set()
        per_cell: dict[Start, list[Any]] = defaultdict(list)
        for i in acts:
            if self.root[i] in seen_roots and self.acts[i].duration == self.acts[self.root[i]].duration:
                # the same literals again: two activities tied to one start always clash; keep (infeasible
                # data is reported by the explanation)
                pass
            seen_roots.add(self.root[i])
            for cell, lits in self.occ[i].items():
                per_cell[cell].extend(lits)
        for _cell, lits in per_cell.items():
            if len(lits) > 1:
                if len(set(map(id, lits))) < len(lits):
                    self.m.add(sum(lits) <= 1)
                else:
                    self.m.add_at_most_one(lits)

    def busy(self, key: str, acts: Iterable[int]) -> dict[Start, Any]:
        """Booleans busy[(d, h)] for a set of activities that never overlap (a teacher, a group of students)."""
        acts_f = frozenset(acts)
        ck = (key, acts_f)
        if ck in self.busy_cache:
            return self.busy_cache[ck]
        per_cell: dict[Start, list[Any]] = defaultdict(list)
        for i in acts_f:
            for cell, lits in self.occ[i].items():
                per_cell[cell].extend(lits)
        out: dict[Start, Any] = {}
        for d in range(self.D):
            for h in range(self.P):
                lits = per_cell.get((d, h), [])
                if not lits:
                    out[(d, h)] = 0
                elif len(lits) == 1:
                    out[(d, h)] = lits[0]
                else:
                    b = self.m.new_bool_var("")
                    self.m.add(b == sum(lits))
                    out[(d, h)] = b
        self.busy_cache[ck] = out
        return out

    def day_used(self, busy: dict[Start, Any], d: int, hours: Iterable[int] | None = None) -> Any:
        lits = [
            busy[(d, h)] for h in (hours if hours is not None else range(self.P)) if not isinstance(busy[(d, h)], int)
        ]
        if not lits:
            return 0
        if len(lits) == 1:
            return lits[0]
        u = self.m.new_bool_var("")
        self.m.add_max_equality(u, lits)
        return u

    def _running_or(self, cells: list[Any]) -> list[Any]:
        """Literal i = "a lesson at or before cell i" (constant 0 until the first cell that can be busy)."""
        out: list[Any] = []
        prev: Any = 0
        for b in cells:
            if not (isinstance(b, int) and b == 0):
                if isinstance(prev, int) and prev == 0:
                    prev = b
                else:
                    cur = self.m.new_bool_var("")
                    self.m.add_max_equality(cur, [prev, b])
                    prev = cur
            out.append(prev)
        return out

    def gaps(self, busy: dict[Start, Any], d: int, free: set[Start]) -> list[Any]:
        """Gap literals of one day: an empty slot after the first lesson and before the last one."""
        P = self.P
        cells = [busy[(d, h)] for h in range(P)]
        started = self._running_or(cells)
        remains = self._running_or(cells[::-1])[::-1]
        out = []
        for h in range(1, P - 1):
            if (d, h) in free:
                continue
            before, after = started[h - 1], remains[h + 1]
            if isinstance(before, int) or isinstance(after, int):
                continue
            g = self.m.new_bool_var("")
            # g >= before + after - 1 - busy: empty here with lessons on both sides
            self.m.add(g >= before + after - 1 - cells[h])
            out.append(g)
        return out

    def teachers_of(self, c: Constraint) -> list[str]:
        t = c.params.get("teacher")
        return [t] if t else sorted(self.teacher_acts)

    def atom_groups_of(self, c: Constraint) -> list[tuple[str, frozenset[int]]]:
        s = c.params.get("students")
        atoms = self.p.atoms_of([s]) if s else set(self.atom_group_of)
        seen: dict[frozenset[int], str] = {}
        for atom in sorted(atoms):
            g = self.atom_group_of.get(atom)
            if g is not None and g not in seen:
                seen[g] = atom
        return [(name, g) for g, name in seen.items()]

    def _free_of_teacher(self, t: str) -> set[Start]:
        return self.breaks | self.t_na.get(t, set())

    def _free_of_atom(self, atom: str) -> set[Start]:
        return self.breaks | self.s_na.get(atom, set())

    def _each_subject(self, c: Constraint) -> list[tuple[str, list[int], set[Start]]]:
        """(name, activities, slots that are not gaps) per teacher or per student group the constraint names."""
        tag = c.params.get("tag")
        if c.kind.startswith("Teacher"):
            out = []
            for t in self.teachers_of(c):
                acts = self.teacher_acts.get(t, [])
                if tag:
                    acts = [i for i in acts if tag in self.acts[i].tags]
                out.append((t, acts, self._free_of_teacher(t)))
            return out
        out = []
        for name, g in self.atom_groups_of(c):
            acts = sorted(g)
            if tag:
                acts = [i for i in acts if tag in self.acts[i].tags]
            out.append((name, acts, self._free_of_atom(name)))
        return out

    def _daily(self, c: Constraint, fn: Callable[[str, dict[Start, Any], set[Start]], None]) -> None:
        for name, acts, free in self._each_subject(c):
            if acts:
                fn(name, self.busy(name + ("#" + c.params["tag"] if c.params.get("tag") else ""), acts), free)

    # .. time constraints ................................................................................
    def _max_hours_daily(self, c: Constraint) -> None:
        mx = int(c.params["max"])

        def fn(name: str, busy: dict[Start, Any], free: set[Start]) -> None:
            for d in range(self.D):
                cells = [busy[(d, h)] for h in range(self.P)]
                if sum(1 for b in cells if not isinstance(b, int)) <= mx:
                    continue
                v = self.soft(c)
                self.m.add(sum(cells) <= mx).only_enforce_if(self.enforce(c, v))

        self._daily(c, fn)

    _c_TeacherMaxHoursDaily = _max_hours_daily
    _c_StudentsSetMaxHoursDaily = _max_hours_daily
    _c_TeacherActivityTagMaxHoursDaily = _max_hours_daily
    _c_StudentsSetActivityTagMaxHoursDaily = _max_hours_daily

    def _min_hours_daily(self, c: Constraint) -> None:
        mn = int(c.params["min"])
        allow_empty = bool(c.params.get("allow_empty", True))

        def fn(name: str, busy: dict[Start, Any], free: set[Start]) -> None:
            for d in range(self.D):
                cells = [busy[(d, h)] for h in range(self.P)]
                v = self.soft(c)
                if allow_empty:
                    used = self.day_used(busy, d)
                    if isinstance(used, int):
                        continue
                    self.m.add(sum(cells) >= mn).only_enforce_if([used, *self.enforce(c, v)])
                else:
                    self.m.add(sum(cells) >= mn).only_enforce_if(self.enforce(c, v))

        self._daily(c, fn)

    _c_TeacherMinHoursDaily = _min_hours_daily
    _c_StudentsSetMinHoursDaily = _min_hours_daily

    def _days_per_week(self, c: Constraint) -> None:
        start = int(c.params.get("start", 0))
        end = int(c.params.get("end", self.P))
        lo = c.kind.endswith("MinDaysPerWeek")
        bound = int(c.params["min" if lo else "max"])

        def fn(name: str, busy: dict[Start, Any], free: set[Start]) -> None:
            used = [self.day_used(busy, d, range(start, end)) for d in range(self.D)]
            v = self.soft(c)
            if lo:
                self.m.add(sum(used) >= bound).only_enforce_if(self.enforce(c, v))
            else:
                self.m.add(sum(used) <= bound).only_enforce_if(self.enforce(c, v))

        self._daily(c, fn)

    _c_TeacherMaxDaysPerWeek = _days_per_week
    _c_TeacherMinDaysPerWeek = _days_per_week
    _c_TeacherIntervalMaxDaysPerWeek = _days_per_week
    _c_StudentsSetIntervalMaxDaysPerWeek = _days_per_week

    def _max_gaps(self, c: Constraint) -> None:
        mx = int(c.params["max"])
        per_day = c.kind.endswith("PerDay")
        early: set[str] = set()
        if c.kind.startswith("Students"):
            for e in self.p.constraints:
                if e.kind == "StudentsSetEarlyMaxBeginningsAtSecondHour" and e.hard and int(e.params["max"]) == 0:
                    early.update(name for name, _g in self.atom_groups_of(e))

        def fn(name: str, busy: dict[Start, Any], free: set[Start]) -> None:
            if mx == 0 and c.hard and not self.assumptions:
                # no gaps at all: at most one run of lessons a day (free periods are skipped over)
                for d in range(self.D):
                    seq = [busy[(d, h)] for h in range(self.P) if (d, h) not in free]
                    if name in early and not any(isinstance(b, int) for b in seq):
                        # no gaps and no late start: the day's lessons are a prefix of its free periods
                        for b_prev, b in itertools.pairwise(seq):
                            self.m.add_implication(b, b_prev)
                        continue
                    starts: list[Any] = []
                    prev: Any = 0
                    for b in seq:
                        if isinstance(b, int):
                            prev = b
                            continue
                        if isinstance(prev, int):
                            starts.append(b) if prev == 0 else None
                        else:
                            st = self.m.new_bool_var("")
                            self.m.add(st >= b - prev)
                            starts.append(st)
                        prev = b
                    if len(starts) > 1:
                        self.m.add(sum(starts) <= 1)
                    if name in early:
                        for b_prev, b in itertools.pairwise(seq):
                            if not isinstance(b, int) and not isinstance(b_prev, int):
                                self.m.add_implication(b, b_prev)
                return
            week: list[Any] = []
            for d in range(self.D):
                g = self.gaps(busy, d, free)
                if per_day:
                    if len(g) > mx:
                        v = self.soft(c)
                        self.m.add(sum(g) <= mx).only_enforce_if(self.enforce(c, v))
                else:
                    week.extend(g)
            if not per_day and len(week) > mx:
                v = self.soft(c)
                self.m.add(sum(week) <= mx).only_enforce_if(self.enforce(c, v))

        self._daily(c, fn)

    _c_TeacherMaxGapsPerDay = _max_gaps
    _c_TeacherMaxGapsPerWeek = _max_gaps
    _c_StudentsSetMaxGapsPerDay = _max_gaps
    _c_StudentsSetMaxGapsPerWeek = _max_gaps

    def _max_continuously(self, c: Constraint) -> None:
        mx = int(c.params["max"])

        def fn(name: str, busy: dict[Start, Any], free: set[Start]) -> None:
            for d in range(self.D):
                for h in range(self.P - mx):
                    cells = [busy[(d, h + k)] for k in range(mx + 1)]
                    if any(isinstance(b, int) for b in cells):
                        continue
                    v = self.soft(c)
                    self.m.add(sum(cells) <= mx).only_enforce_if(self.enforce(c, v))

        self._daily(c, fn)

    _c_TeacherMaxHoursContinuously = _max_continuously
    _c_TeacherActivityTagMaxHoursContinuously = _max_continuously
    _c_StudentsSetActivityTagMaxHoursContinuously = _max_continuously
    _c_StudentsSetMaxHoursContinuously = _max_continuously

    def _c_StudentsSetEarlyMaxBeginningsAtSecondHour(self, c: Constraint) -> None:
        mx = int(c.params["max"])

        def fn(name: str, busy: dict[Start, Any], free: set[Start]) -> None:
            if mx == 0 and c.hard and not self.assumptions:
                # every day with lessons starts at the first free period
                for d in range(self.D):
                    hours = [h for h in range(self.P) if (d, h) not in free]
                    if not hours:
                        continue
                    first = busy[(d, hours[0])]
                    for h in hours[1:]:
                        b = busy[(d, h)]
                        if not isinstance(b, int):
                            if isinstance(first, int):
                                self.m.add(b == 0) if first == 0 else None
                            else:
                                self.m.add_implication(b, first)
                return
            late = []
            for d in range(self.D):
                hours = [h for h in range(self.P) if (d, h) not in free]
                if len(hours) < 2:
                    continue
                first, second = hours[0], hours[1]
                used = self.day_used(busy, d)
                if isinstance(used, int):
                    continue
                b0, b1 = busy[(d, first)], busy[(d, second)]
                enf = self.enforce(c, None) if c.hard else []
                # a day with lessons starts at the first or the second hour
                self.m.add_bool_or([x for x in (b0, b1) if not isinstance(x, int)] or [used.Not()]).only_enforce_if(
                    [used, *enf]
                )
                if isinstance(b0, int):
                    late.append(used)
                else:
                    lt = self.m.new_bool_var("")
                    self.m.add(lt >= used - b0)
                    late.append(lt)
            if len(late) > mx:
                v = self.soft(c)
                self.m.add(sum(late) <= mx).only_enforce_if(self.enforce(c, v))

        self._daily(c, fn)

    def _c_TeacherBalancedDays(self, c: Constraint) -> None:
        for t in self.teachers_of(c):
            acts = self.teacher_acts.get(t, [])
            total = sum(self.acts[i].duration for i in acts)
            if not acts:
                continue
            hi = math.ceil(total / self.D)
            busy = self.busy(t, acts)
            for d in range(self.D):
                cells = [busy[(d, h)] for h in range(self.P)]
                if c.hard:  # a must, not only a cost (a first timetable stops before any cost is looked at)
                    self.m.add(sum(cells) <= hi).only_enforce_if(self.enforce(c, None))
                    continue
                e = self.m.new_int_var(0, self.P, "")
                self.m.add(e >= sum(cells) - hi)
                self.cost.append((max(1, round(c.weight * SCALE)), e))

    def _acts(self, ids: Iterable[int]) -> list[int]:
        return [self.index[x] for x in ids if x in self.index]

    def _c_MinDaysBetweenActivities(self, c: Constraint) -> None:
        acts = self._acts(c.params["activities"])
        md = int(c.params["min_days"])
        if len(acts) < 2 or md <= 0:
            return
        for d in range(self.D):
            window = range(d, min(self.D, d + md))
            per_act = [[lit for dd in window for lit in self.day_lits[i].get(dd, [])] for i in acts]
            lits = [lit for group in per_act for lit in group]
            if sum(1 for g in per_act if g) < 2:
                continue
            if not c.hard:
                # soft: a cost for each lesson beyond the first in the window, so they spread as far as they can
                e = self.m.new_int_var(0, len(lits), "")
                self.m.add(sum(lits) <= 1 + e)
                self.cost.append((max(1, round(c.weight * SCALE)), e))
            elif not self.assumptions:
                self.m.add_at_most_one(lits)
            else:
                self.m.add(sum(lits) <= 1).only_enforce_if(self.guard(c))

    def _c_MaxDaysBetweenActivities(self, c: Constraint) -> None:
        acts = self._acts(c.params["activities"])
        mx = int(c.params["max_days"])
        for ai in range(len(acts)):
            for bi in range(ai + 1, len(acts)):
                da = sum(d * lit for d, lits in self.day_lits[acts[ai]].items() for lit in lits)
                db = sum(d * lit for d, lits in self.day_lits[acts[bi]].items() for lit in lits)
                v = self.soft(c)
                self.m.add(da - db <= mx).only_enforce_if(self.enforce(c, v))
                self.m.add(db - da <= mx).only_enforce_if(self.enforce(c, v))

    def _c_MinGapsBetweenActivities(self, c: Constraint) -> None:
        acts = self._acts(c.params["activities"])
        g = int(c.params["min_gaps"])
        stride = self.P + g + 1
        for ai in range(len(acts)):
            for bi in range(ai + 1, len(acts)):
                i, j = acts[ai], acts[bi]
                si = sum((s[0] * stride + s[1]) * lit for s, lit in self.x[i].items())
                sj = sum((s[0] * stride + s[1]) * lit for s, lit in self.x[j].items())
                order = self.m.new_bool_var("")
                v = self.soft(c)
                enf = self.enforce(c, v)
                self.m.add(si + self.acts[i].duration + g <= sj).only_enforce_if([order, *enf])
                self.m.add(sj + self.acts[j].duration + g <= si).only_enforce_if([order.Not(), *enf])

    def _c_ActivitiesSameStartingTime(self, c: Constraint) -> None:
        acts = self._acts(c.params["activities"])
        if c.hard and not self.assumptions:
            return  # shared literals
        v = self.soft(c)
        for i in acts[1:]:
            self.m.add(self.start_expr(i) == self.start_expr(acts[0])).only_enforce_if(self.enforce(c, v))

    def _same_part(self, c: Constraint, part: int) -> None:
        acts = self._acts(c.params["activities"])
        n = self.D if part == 0 else self.P

        def expr(i: int) -> Any:
            return sum(s[part] * lit for s, lit in self.x[i].items())

        del n
        for i in acts[1:]:
            v = self.soft(c)  # soft: a cost for each lesson apart from the first, as the checker counts
            self.m.add(expr(i) == expr(acts[0])).only_enforce_if(self.enforce(c, v))

    def _c_ActivitiesSameStartingDay(self, c: Constraint) -> None:
        self._same_part(c, 0)

    def _c_ActivitiesSameStartingHour(self, c: Constraint) -> None:
        self._same_part(c, 1)

    def _c_ActivitiesNotOverlapping(self, c: Constraint) -> None:
        acts = self._acts(c.params["activities"])
        per_cell: dict[Start, list[Any]] = defaultdict(list)
        for i in acts:
            for cell, lits in self.occ[i].items():
                per_cell[cell].extend(lits)
        v = self.soft(c)
        for lits in per_cell.values():
            if len(lits) > 1:
                self.m.add(sum(lits) <= 1).only_enforce_if(self.enforce(c, v))

    def _follow(self, c: Constraint, i: int, j: int, either: bool) -> None:
        """i's start implies j right after it (or right before it when `either`)."""
        v = self.soft(c)
        enf = self.enforce(c, v)
        di, dj = self.acts[i].duration, self.acts[j].duration
        for s, lit in self.x[i].items():
            options = [(s[0], s[1] + di)] + ([(s[0], s[1] - dj)] if either else [])
            nxt = [self.x[j][t] for t in options if t in self.x[j]]
            clause = [lit.Not(), *nxt]
            if enf and v is not None:
                clause.append(v)
                self.m.add_bool_or(clause)
            else:
                self.m.add_bool_or(clause).only_enforce_if(enf)

    def _c_TwoActivitiesConsecutive(self, c: Constraint) -> None:
        i, j = self._acts([c.params["first"], c.params["second"]])
        self._follow(c, i, j, either=False)

    def _c_TwoActivitiesGrouped(self, c: Constraint) -> None:
        i, j = self._acts([c.params["first"], c.params["second"]])
        self._follow(c, i, j, either=True)

    def _c_ThreeActivitiesGrouped(self, c: Constraint) -> None:
        """Three lessons back to back on one day, in any order: one day, no overlap, span = total length."""
        ids = self._acts([c.params["first"], c.params["second"], c.params["third"]])
        v = self.soft(c)
        enf = self.enforce(c, v)
        stride = self.P * 2
        lo = self.m.new_int_var(0, self.D * stride, "")
        hi = self.m.new_int_var(0, self.D * stride, "")
        starts, ends = [], []
        for i in ids:
            st = self.m.new_int_var(0, self.D * stride, "")
            self.m.add(st == sum((s[0] * stride + s[1]) * lit for s, lit in self.x[i].items()))
            starts.append(st)
            ends.append(st + self.acts[i].duration)
        self.m.add_min_equality(lo, starts)
        self.m.add_max_equality(hi, ends)
        self.m.add(hi - lo == sum(self.acts[i].duration for i in ids)).only_enforce_if(enf)
        per_cell: dict[Start, list[Any]] = defaultdict(list)
        for i in ids:
            for cell, lits in self.occ[i].items():
                per_cell[cell].extend(lits)
        for lits in per_cell.values():
            if len(lits) > 1:
                self.m.add(sum(lits) <= 1).only_enforce_if(enf)

    def _ends_day(self, c: Constraint, i: int, v: Any | None) -> None:
        enf = self.enforce(c, v)
        di = self.acts[i].duration
        others = sorted(
            {
                j
                for atom in self.atoms[i]
                for j in self.atom_group_of.get(atom, frozenset())
                if self.root[j] != self.root[i]
            }
        )
        later: dict[Start, list[Any]] = defaultdict(list)
        for j in others:
            for cell, lits in self.occ[j].items():
                later[cell].extend(lits)
        for s, lit in self.x[i].items():
            for h in range(s[1] + di, self.P):
                for other in later.get((s[0], h), []):
                    clause = [lit.Not(), other.Not()]
                    if v is not None:
                        clause.append(v)
                        self.m.add_bool_or(clause)
                    else:
                        self.m.add_bool_or(clause).only_enforce_if(enf)

    def _c_ActivityEndsStudentsDay(self, c: Constraint) -> None:
        if c.params["activity"] in self.index:
            self._ends_day(c, self.index[c.params["activity"]], self.soft(c))

    def _c_ActivitiesEndStudentsDay(self, c: Constraint) -> None:
        v = self.soft(c)
        for a in selected(self.p, c, self.atoms_cache):
            self._ends_day(c, self.index[a.id], v)

    def _selection(self, c: Constraint) -> tuple[list[int], list[Start]]:
        return self._acts(c.params["activities"]), [tuple(s) for s in c.params["slots"]]  # type: ignore[misc]

    def _c_ActivitiesOccupyMaxTimeSlotsFromSelection(self, c: Constraint) -> None:
        acts, slots = self._selection(c)
        used = []
        for cell in slots:
            lits = [lit for i in acts for lit in self.occ[i].get(cell, [])]
            if not lits:
                continue
            u = self.m.new_bool_var("")
            self.m.add_max_equality(u, lits)
            used.append(u)
        v = self.soft(c)
        if len(used) > int(c.params["max"]):
            self.m.add(sum(used) <= int(c.params["max"])).only_enforce_if(self.enforce(c, v))

    def _c_ActivitiesMaxSimultaneousInSelectedTimeSlots(self, c: Constraint) -> None:
        acts, slots = self._selection(c)
        for cell in slots:
            lits = [lit for i in acts for lit in self.occ[i].get(cell, [])]
            if len(lits) > int(c.params["max"]):
                v = self.soft(c)  # soft: a cost for each time broken, as the checker counts
                self.m.add(sum(lits) <= int(c.params["max"])).only_enforce_if(self.enforce(c, v))

    def _c_ActivitiesMinSimultaneousInSelectedTimeSlots(self, c: Constraint) -> None:
        acts, slots = self._selection(c)
        mn = int(c.params["min"])
        for cell in slots:
            v = self.soft(c)  # soft: a cost for each time broken, as the checker counts
            lits = [lit for i in acts for lit in self.occ[i].get(cell, [])]
            if c.params.get("allow_empty"):
                if not lits:
                    continue
                u = self.m.new_bool_var("")
                self.m.add_max_equality(u, lits)
                self.m.add(sum(lits) >= mn).only_enforce_if([u, *self.enforce(c, v)])
            else:
                self.m.add(sum(lits) >= mn).only_enforce_if(self.enforce(c, v))

    def _c_ActivitiesMaxPerDay(self, c: Constraint) -> None:
        acts = self._acts(c.params["activities"])
        mx = int(c.params["max"])
        for d in range(self.D):
            lits = [lit for i in acts for lit in self.day_lits[i].get(d, [])]
            if len(lits) > mx:
                v = self.soft(c)  # soft: a cost for each day broken, as the checker counts
                self.m.add(sum(lits) <= mx).only_enforce_if(self.enforce(c, v))

    def _c_TeacherNotAvailableTimes(self, c: Constraint) -> None:
        if c.hard and not self.assumptions:
            return  # in the domains
        acts = self.teacher_acts.get(c.params["teacher"], [])
        self._avoid(c, acts, {tuple(s) for s in c.params["slots"]})

    def _c_StudentsSetNotAvailableTimes(self, c: Constraint) -> None:
        if c.hard and not self.assumptions:
            return
        atoms = self.p.atoms_of([c.params["students"]])
        acts = sorted({i for i in range(len(self.acts)) if self.atoms[i] & atoms})
        self._avoid(c, acts, {tuple(s) for s in c.params["slots"]})

    def _avoid(self, c: Constraint, acts: list[int], cells: set[Any]) -> None:
        for i in acts:  # soft: a cost for each lesson in the unavailable times, as the checker counts
            lits = [lit for cell in cells for lit in self.occ[i].get(cell, [])]
            if lits:
                v = self.soft(c)
                self.m.add(sum(lits) == 0).only_enforce_if(self.enforce(c, v))

    # .. rooms ...........................................................................................
    def _rooms(self) -> None:
        p = self.p
        n = len(self.acts)
        hard: list[set[str] | None] = [None] * n
        soft: list[list[tuple[Constraint, set[str]]]] = [[] for _ in range(n)]
        self.room_conflicts: list[str] = []
        for c in p.constraints:
            if c.kind not in ROOM_KINDS or c.weight <= 0:
                continue
            if not c.hard and not self.with_soft:
                continue
            rooms = set(room_list(c))
            for a in room_constraint_targets(p, c):
                i = self.index[a.id]
                if c.hard:
                    hard[i] = rooms if hard[i] is None else (hard[i] & rooms)  # type: ignore[operator]
                else:
                    soft[i].append((c, rooms))
        self.room_domain: list[list[str]] = []
        for i, a in enumerate(self.acts):
            size = p.size_of(a)
            cand = hard[i]
            if cand is None:
                cand = set().union(*(r for _, r in soft[i])) if soft[i] else set()
            fitting = sorted(r for r in cand if r in p.rooms and p.rooms[r].capacity >= size)
            if hard[i] is not None and not fitting:
                self.room_conflicts.append(a.label or f"#{a.id}")
            self.room_domain.append(fitting)
        self.room_hard = [h is not None for h in hard]
        self.room_soft = soft
        # which rooms can be chosen (several candidates) and which are fixed
        fixed_users: dict[str, list[int]] = defaultdict(list)
        choice_users: dict[str, list[int]] = defaultdict(list)
        self.room_choice: list[dict[str, Any]] = [{} for _ in range(n)]
        self.set_choice: list[list[dict[str, Any]]] = [[] for _ in range(n)]  # a virtual room's choice per set
        room_na: dict[str, set[Start]] = defaultdict(set)
        for c in p.constraints:
            if c.kind == "RoomNotAvailableTimes" and c.weight > 0:
                room_na[c.params["room"]].update(tuple(s) for s in c.params["slots"])
        self.room_na = room_na
        for i, a in enumerate(self.acts):
            dom = self.room_domain[i]
            if not dom:
                continue
            real = self._expand_virtual(dom)
            if len(dom) == 1 and self.room_hard[i]:
                fixed_users[dom[0]].append(i)
                for real_set in real:
                    if len(real_set) == 1:
                        fixed_users[real_set[0]].append(i)
                    else:
                        self._choose(i, real_set, choice_users, exactly=True)
            elif self.defer_rooms and self.room_hard[i] and not any(p.rooms[r].virtual for r in dom):
                self.deferred.add(i)
            else:
                if any(p.rooms[r].virtual for r in dom):
                    self.notes.append(f"课程 #{a.id} 可选多个虚拟教室，只按第一个排")
                self._choose(i, dom, choice_users, exactly=self.room_hard[i])
        # unavailable rooms shrink the fixed users' starts
        for r, users in fixed_users.items():
            na = room_na.get(r)
            if na:
                for i in users:
                    for s, lit in self.x[i].items():
                        if any(cell in na for cell in self.covers(s, self.acts[i].duration)):
                            self.m.add(lit == 0)
        for r in set(fixed_users) | set(choice_users):
            if r not in choice_users:
                self._no_overlap(fixed_users[r])
                continue
            intervals = []
            for i in fixed_users.get(r, []):
                intervals.append(self.m.new_fixed_size_interval_var(self.start_int(i), self.acts[i].duration, ""))
            for i in choice_users[r]:
                lit = self.room_choice[i][r]
                intervals.append(
                    self.m.new_optional_fixed_size_interval_var(self.start_int(i), self.acts[i].duration, lit, "")
                )
            for cell in room_na.get(r, ()):
                intervals.append(self.m.new_fixed_size_interval_var(cell[0] * self.P + cell[1], 1, ""))
            self.m.add_no_overlap(intervals)
        # Hall-style counts: lessons that can only use rooms of one set never outnumber the set at any time
        room_sets: set[frozenset[str]] = set()
        for i in range(n):
            if self.room_hard[i] and len(self.room_domain[i]) > 1:
                room_sets.add(frozenset(self.room_domain[i]))
        if self.deferred:
            room_sets = _connected_unions(room_sets)
        for rset in room_sets:
            users = [
                i for i in range(n) if self.room_hard[i] and self.room_domain[i] and set(self.room_domain[i]) <= rset
            ]
            per_cell: dict[Start, list[Any]] = defaultdict(list)
            for i in users:
                for cell, lits in self.occ[i].items():
                    per_cell[cell].extend(lits)
            for cell, lits in per_cell.items():
                cap = len(rset) - sum(1 for r in rset if cell in room_na.get(r, ()))
                if len(lits) > cap:
                    self.m.add(sum(lits) <= cap)
        # soft preferences
        for i in range(n):
            for c, rooms in self.room_soft[i]:
                choice = self.room_choice[i]
                if choice:
                    good = [lit for r, lit in choice.items() if r in rooms]
                    v = self.soft(c)
                    if v is not None:
                        self.m.add(sum(good) >= 1).only_enforce_if(v.Not())
        # repair mode: a lesson keeps its room too (a new room is a change the school has to announce)
        if self.previous is not None:
            for i, a in enumerate(self.acts):
                pl = self.previous.placements.get(a.id)
                for r in pl.rooms if pl else ():
                    lit = self.room_choice[i].get(r)
                    if lit is not None:
                        self.m.add_hint(lit, 1)
                        self.cost.append((MOVE_COST // 10, lit.Not()))
        self.fixed_users = fixed_users

    def _expand_virtual(self, dom: list[str]) -> list[tuple[str, ...]]:
        if len(dom) != 1:
            return []
        room = self.p.rooms[dom[0]]
        return [tuple(s) for s in room.real_room_sets]

    def _choose(self, i: int, rooms: Iterable[str], users: dict[str, list[int]], *, exactly: bool) -> None:
        """Lesson i takes one of `rooms`. Called once per set of a virtual room: a real room offered by several
        sets serves one set at most (FET: distinct real rooms), and is one room (one interval) for the lesson."""
        rooms = list(rooms)
        lits = []
        for r in rooms:
            lit = self.m.new_bool_var("")
            prev = self.room_choice[i].get(r)
            if prev is None:
                self.room_choice[i][r] = lit
                users[r].append(i)
            else:
                either = self.m.new_bool_var("")
                self.m.add(either == prev + lit)
                self.room_choice[i][r] = either
            lits.append(lit)
        self.set_choice[i].append(dict(zip(rooms, lits, strict=True)))
        if exactly:
            self.m.add_exactly_one(lits)
        else:
            self.m.add_at_most_one(lits)

    def _c_ActivitiesOccupyMaxDifferentRooms(self, c: Constraint) -> None:
        acts = self._acts(c.params["activities"])
        mx = int(c.params["max"])
        if self.deferred.intersection(acts):  # rooms come later: here only that k rooms hold k lessons at once
            v = self.soft(c)
            per_cell: dict[Start, list[Any]] = defaultdict(list)
            for i in acts:
                for cell, lits in self.occ[i].items():
                    per_cell[cell].extend(lits)
            for lits in per_cell.values():
                if len(lits) > mx:
                    self.m.add(sum(lits) <= mx).only_enforce_if(self.enforce(c, v))
            return
        used: dict[str, list[Any]] = defaultdict(list)
        fixed: set[str] = set()
        for i in acts:
            if self.room_choice[i]:
                for r, lit in self.room_choice[i].items():
                    used[r].append(lit)
            elif self.room_domain[i]:
                fixed.add(self.room_domain[i][0])
        flags = []
        for r, lits in used.items():
            if r in fixed:
                continue
            u = self.m.new_bool_var("")
            self.m.add_max_equality(u, lits)
            flags.append(u)
        v = self.soft(c)
        self.m.add(sum(flags) + len(fixed) <= mx).only_enforce_if(self.enforce(c, v))

    def _c_ActivitiesSameRoomIfConsecutive(self, c: Constraint) -> None:
        acts = self._acts(c.params["activities"])
        if self.deferred.intersection(acts):  # decided with the rooms, once the times are known
            return
        v = self.soft(c)
        for ai in range(len(acts)):
            for bi in range(len(acts)):
                i, j = acts[ai], acts[bi]
                if i == j or not (self.room_choice[i] or self.room_choice[j]):
                    continue
                di = self.acts[i].duration
                for s, lit in self.x[i].items():
                    nxt = self.x[j].get((s[0], s[1] + di))
                    if nxt is None:
                        continue
                    for r in set(self.room_choice[i]) | set(self.room_choice[j]):
                        ri = self.room_choice[i].get(r, 1 if self.room_domain[i] == [r] else 0)
                        rj = self.room_choice[j].get(r, 1 if self.room_domain[j] == [r] else 0)
                        if isinstance(ri, int) and isinstance(rj, int):
                            continue
                        # consecutive and i in r -> j in r
                        clause = [lit.Not(), nxt.Not()]
                        if not isinstance(ri, int):
                            clause.append(ri.Not())
                        elif ri == 0:
                            continue
                        if not isinstance(rj, int):
                            clause.append(rj)
                        if v is not None:
                            clause.append(v)
                        self.m.add_bool_or(clause)

    # room kinds are handled in _rooms
    def _noop(self, c: Constraint) -> None:
        return None

    _c_ActivityPreferredRoom = _noop
    _c_ActivityPreferredRooms = _noop
    _c_SubjectPreferredRooms = _noop
    _c_ActivityTagPreferredRooms = _noop
    _c_SubjectActivityTagPreferredRooms = _noop
    _c_StudentsSetHomeRooms = _noop
    _c_TeacherHomeRooms = _noop
    _c_RoomNotAvailableTimes = _noop
    _c_BreakTimes = _noop
    _c_BasicCompulsoryTime = _noop
    _c_BasicCompulsorySpace = _noop

    def _c_ActivityPreferredStartingTime(self, c: Constraint) -> None:
        self._soft_pref(c)

    _c_ActivityPreferredStartingTimes = _c_ActivityPreferredStartingTime
    _c_ActivityPreferredTimeSlots = _c_ActivityPreferredStartingTime
    _c_ActivitiesPreferredStartingTimes = _c_ActivityPreferredStartingTime
    _c_ActivitiesPreferredTimeSlots = _c_ActivityPreferredStartingTime
    _c_SubactivitiesPreferredStartingTimes = _c_ActivityPreferredStartingTime
    _c_SubactivitiesPreferredTimeSlots = _c_ActivityPreferredStartingTime

    def _soft_pref(self, c: Constraint) -> None:
        for cc, acts, slots, whole in self.soft_prefs:
            if cc is not c:
                continue
            for i in acts:
                dur = self.acts[i].duration
                bad = [
                    lit
                    for s, lit in self.x[i].items()
                    if not (all(x in slots for x in self.covers(s, dur)) if whole else s in slots)
                ]
                if bad:
                    v = self.soft(c)  # soft: a cost for each lesson outside the times, as the checker counts
                    self.m.add(sum(bad) == 0).only_enforce_if(self.enforce(c, v))

    def _objective(self) -> None:
        if self.cost:
            self.m.minimize(sum(coef * term for coef, term in self.cost))

    def hint(self, solution: Solution, *, rooms: bool = True) -> None:
        for i, a in enumerate(self.acts):
            if self.root[i] != i:
                continue
            pl = solution.placements.get(a.id)
            if pl is None:
                continue
            for s, lit in self.x[i].items():
                self.m.add_hint(lit, s == (pl.day, pl.period))
            for r, lit in self.room_choice[i].items() if rooms else ():
                self.m.add_hint(lit, r in pl.rooms)

    def fix(self, solution: Solution) -> None:
        """Every placed lesson at its start in `solution` (the rooms are left to choose)."""
        for i, a in enumerate(self.acts):
            pl = solution.placements.get(a.id)
            lit = self.x[i].get((pl.day, pl.period)) if pl is not None else None
            if lit is not None:
                self.m.add(lit == 1)

    # .. reading the answer ..............................................................................
    def solution(self, value: Callable[[Any], int]) -> Solution:
        out: dict[int, Placement] = {}
        for i, a in enumerate(self.acts):
            start = next((s for s, lit in self.x[i].items() if value(lit)), None)
            if start is None:
                continue
            rooms: tuple[str, ...] = ()
            dom = self.room_domain[i]
            if i in self.deferred:
                pass  # chosen later, with the times fixed
            elif self.room_choice[i]:
                chosen = [r for r, lit in self.room_choice[i].items() if value(lit)]
                if len(dom) == 1 and self.room_hard[i]:
                    # a virtual room: one real room from each of its sets, the single ones included
                    per_set = iter(self.set_choice[i])
                    picked = [
                        s[0] if len(s) == 1 else next((r for r, lit in next(per_set).items() if value(lit)), "")
                        for s in self._expand_virtual(dom)
                    ]
                    rooms = (dom[0], *[r for r in picked if r])
                else:
                    rooms = tuple(chosen[:1])
            elif dom and self.room_hard[i]:
                real = self._expand_virtual(dom)
                rooms = (dom[0], *[s[0] for s in real if len(s) == 1]) if real else (dom[0],)
            out[a.id] = Placement(start[0], start[1], rooms)
        return Solution(out)


def _connected_unions(sets: set[frozenset[str]], limit: int = 200) -> set[frozenset[str]]:
    """The unions of overlapping room sets: with them, the counts are exactly Hall's condition for one-period
    lessons (a slot's lessons can be given distinct rooms iff no union is outnumbered; a union of disjoint
    sets adds nothing). Capped at `limit` unions (then the counts are a relaxation, still correct)."""
    out = set(sets)
    frontier = set(sets)
    while frontier and len(out) < limit:
        new: set[frozenset[str]] = set()
        for a in frontier:
            for b in sets:
                if a & b and not b <= a:
                    u = a | b
                    if u not in out:
                        new.add(u)
        out |= new
        frontier = new
    return out


def problem_atoms(problem: Problem, a: Activity) -> frozenset[str]:
    return problem.atoms_of(a.students)


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, t0: float, time_limit: float, progress: ProgressFn | None, stop: Callable[[], bool] | None):
        super().__init__()
        self.t0 = t0
        self.time_limit = time_limit
        self.progress = progress
        self.stop = stop
        self.first: float | None = None
        self.offset = 0
        self.scored = False  # the model being solved has an objective (phase 1 has none)
        self.count = 0
        self.best: float | None = None
        self.lock = threading.Lock()

    def report(self, bound: float | None = None) -> None:
        """One progress report. The solver's thread and the ticker take turns, so the seconds never go back."""
        if self.progress:
            with self.lock:
                now = time.monotonic() - self.t0
                self.progress(Progress(now, self.time_limit, self.count, self.best, bound))

    def on_solution_callback(self) -> None:
        now = time.monotonic() - self.t0
        if self.first is None:
            self.first = now
        self.count += 1
        self.best = self.objective_value / SCALE if self.scored else None
        if self.progress:
            self.report(self.best_objective_bound / SCALE if self.scored else None)
        if self.stop and self.stop():
            self.stop_search()


def solve(
    problem: Problem,
    *,
    time_limit: float = 60.0,
    workers: int = 8,
    seed: int = 0,
    progress: ProgressFn | None = None,
    previous: Solution | None = None,
    stop: Callable[[], bool] | None = None,
    stop_after_first: bool = False,
    soft_time_limit: float | None = None,
    explain: bool = True,
    log: bool = False,
) -> Result:
    """Solve within `time_limit` seconds. `previous` = repair mode. Never raises on an impossible timetable:
    the result says why (`explanation`)."""
    from . import checker, validation
    from . import explain as explain_mod

    t0 = time.monotonic()
    unsupported = sorted({c.kind for c in problem.constraints if c.kind not in SUPPORTED})
    base: dict[str, Any] = {"activities": len(problem.activities), "seed": seed, "workers": workers}
    if unsupported:
        return Result(
            solved=False,
            status="invalid",
            seconds=0.0,
            first_solution_seconds=None,
            placed=0,
            unsupported_constraints=unsupported,
            explanation=["不支持的约束类型：" + "、".join(unsupported)],
            **base,
        )
    errors = validation.problem_errors(problem)
    if errors:  # bad data (a dangling name, a missing number): named, never a crash or a silent no-op
        return Result(
            solved=False,
            status="invalid",
            seconds=time.monotonic() - t0,
            first_solution_seconds=None,
            placed=0,
            explanation=errors,
            **base,
        )
    reasons = explain_mod.precheck(problem)
    if reasons:
        return Result(
            solved=False,
            status="infeasible",
            seconds=time.monotonic() - t0,
            first_solution_seconds=None,
            placed=0,
            explanation=reasons,
            **base,
        )
    has_soft = any(0 < c.weight < 100 for c in problem.constraints)
    try:
        # phase 1: hard constraints only, to the first complete timetable (skipped in repair mode, where the
        # published timetable is the starting point and moves are what we minimise)
        first_model = Builder(problem, previous=previous, soft=previous is not None, defer_rooms=previous is None)
        first_model.build()
    except InvalidProblem as exc:
        return Result(
            solved=False,
            status="invalid",
            seconds=time.monotonic() - t0,
            first_solution_seconds=None,
            placed=0,
            explanation=exc.errors,
            **base,
        )
    cb = _Callback(t0, time_limit, progress, stop)
    cb.scored = first_model.m.has_objective()
    single_phase = previous is not None or not has_soft
    status, values = _run(
        first_model.m, cb, t0, time_limit, workers, seed, log, stop, first_only=not single_phase or stop_after_first
    )
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _no_timetable(problem, status, t0, time_limit, workers, explain, stop, base)
    sol = first_model.solution(values)
    if first_model.deferred:  # the times are found; now the rooms, times fixed (else: both, from these times)
        status, values, rooms_model = _rooms_after_times(problem, sol, cb, t0, time_limit, workers, seed, log, stop)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return _no_timetable(problem, status, t0, time_limit, workers, explain, stop, base)
        sol = rooms_model.solution(values)
        cb.first = time.monotonic() - t0
    status_name = "optimal" if status == cp_model.OPTIMAL and single_phase else "feasible"
    first_soft: list[Any] | None = None
    if not single_phase:
        first_soft = checker.check(problem, sol)[1]
    budget = time_limit if soft_time_limit is None else min(time_limit, time.monotonic() - t0 + soft_time_limit)
    if not single_phase and not stop_after_first and budget - (time.monotonic() - t0) > 0.5:
        # phase 2: the soft constraints, starting from the first timetable
        full = Builder(problem, soft=True)
        full.build()
        full.hint(sol)
        cb.offset = cb.count
        cb.scored = full.m.has_objective()
        status2, values2 = _run(full.m, cb, t0, budget, workers, seed, log, stop, first_only=False)
        if status2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            sol = full.solution(values2)
            status_name = "optimal" if status2 == cp_model.OPTIMAL else "feasible"
    hard, soft = checker.check(problem, sol)
    moved = _moved(problem, previous, sol) if previous is not None else []
    return Result(
        solved=not hard,
        status=status_name,
        seconds=time.monotonic() - t0,
        first_solution_seconds=cb.first,
        placed=len(sol.placements),
        solution=sol,
        hard_violations=hard,
        soft_violations=soft,
        soft_cost=sum(v.cost for v in soft),
        first_soft_cost=sum(v.cost for v in (soft if first_soft is None else first_soft)),
        first_soft_broken=len(soft if first_soft is None else first_soft),
        moved=moved,
        **base,
    )


def _rooms_after_times(
    problem: Problem,
    times: Solution,
    cb: _Callback,
    t0: float,
    time_limit: float,
    workers: int,
    seed: int,
    log: bool,
    stop: Callable[[], bool] | None,
) -> tuple[Any, Callable[[Any], int], Builder]:
    """Rooms for a timetable whose times are known: a small model with the times fixed. When no choice of
    rooms fits those times, the whole hard model again, started from them."""
    fixed = Builder(problem, soft=False)
    fixed.build()
    fixed.fix(times)
    budget = min(time_limit, time.monotonic() - t0 + max(1.0, (time_limit - (time.monotonic() - t0)) / 4))
    status, values = _run(fixed.m, cb, t0, budget, workers, seed, log, stop, first_only=True)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) or (stop and stop()):
        return status, values, fixed
    whole = Builder(problem, soft=False)
    whole.build()
    whole.hint(times, rooms=False)
    status, values = _run(whole.m, cb, t0, time_limit, workers, seed, log, stop, first_only=True)
    return status, values, whole


def _run(
    model: cp_model.CpModel,
    cb: _Callback,
    t0: float,
    time_limit: float,
    workers: int,
    seed: int,
    log: bool,
    stop: Callable[[], bool] | None,
    *,
    first_only: bool,
) -> tuple[Any, Callable[[Any], int]]:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit - (time.monotonic() - t0))
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    solver.parameters.log_search_progress = log
    solver.parameters.stop_after_first_solution = first_only
    done = threading.Event()

    def ticker() -> None:
        while not done.wait(0.5):
            if stop and stop():
                solver.stop_search()
                return
            cb.report()  # the whole solve's time limit, as the solutions' reports (not this phase's)

    th = threading.Thread(target=ticker, daemon=True)
    th.start()
    try:
        status = solver.solve(model, cb)
    finally:
        done.set()
        th.join()
    return status, solver.value


def _no_timetable(
    problem: Problem,
    status: Any,
    t0: float,
    time_limit: float,
    workers: int,
    explain: bool,
    stop: Callable[[], bool] | None,
    base: dict[str, Any],
) -> Result:
    from . import explain as explain_mod

    timed_out = status == cp_model.UNKNOWN
    why: list[str] = []
    cancelled = bool(stop and stop())
    left = time_limit - (time.monotonic() - t0)
    if explain and not cancelled and not timed_out and left > 0.5:
        # proven impossible: name the clashing constraints, within what is left of the time limit
        why = explain_mod.explain(problem, time_limit=left, workers=workers)
    if cancelled:
        why = ["排课已取消"]
    elif timed_out and not why:
        why = [f"在 {time_limit:g} 秒内没有找到满足全部硬约束的课表；可以延长时间或放宽约束后再试。"]
    elif not why:  # proven impossible, but no time (or no wish) left to find the clashing constraints
        why = ["不存在满足全部硬约束的课表（这次没有分析是哪几条约束互相冲突；延长时间再试可看到说明）"]
    return Result(
        solved=False,
        status="cancelled" if cancelled else ("timeout" if timed_out else "infeasible"),
        seconds=time.monotonic() - t0,
        first_solution_seconds=None,
        placed=0,
        explanation=why,
        **base,
    )


def _moved(problem: Problem, previous: Solution, new: Solution) -> list[dict[str, Any]]:
    out = []
    for a in problem.activities:
        old = previous.placements.get(a.id)
        cur = new.placements.get(a.id)
        if old is None or cur is None:
            continue
        if (old.day, old.period, old.rooms) != (cur.day, cur.period, cur.rooms):
            out.append(
                {
                    "activity": a.id,
                    "subject": a.subject,
                    "teachers": list(a.teachers),
                    "students": list(a.students),
                    "from": [old.day, old.period, list(old.rooms)],
                    "to": [cur.day, cur.period, list(cur.rooms)],
                }
            )
    return out
