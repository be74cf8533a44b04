"""The timetabling problem and its solution as plain data (no Django, no solver).

A week is `days × periods`; a time slot is the pair (day, period), both 0-based. Students come in *student
sets*: a set is either atomic (a FET subgroup, an administrative class 行政班, or a group of 走班 students who
chose the same subjects) or a union of atomic sets (a FET year or group, a teaching class 教学班). Two
activities clash for students when their sets share an atomic member.

Constraints are a kind (FET's constraint name without the `Constraint` prefix, or one of ours for what
FET cannot say), a weight in percent (100 = must hold; below it the solver may break it at a cost) and
parameters. The FET importer produces them; the school's pages produce them; the solver and the checker
read them. A kind the solver does not know is refused up front, never ignored (see `solver.SUPPORTED`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Slot = tuple[int, int]  # (day, period)


@dataclass(frozen=True)
class Room:
    name: str
    capacity: int = 10**6
    building: str = ""
    kind: str = ""  # room type: 普通教室, 实验室, 机房, 体育馆 …
    # A virtual room (FET) needs one real room from each set at once; empty for a real room.
    real_room_sets: tuple[tuple[str, ...], ...] = ()

    @property
    def virtual(self) -> bool:
        return bool(self.real_room_sets)


@dataclass(frozen=True)
class StudentSet:
    name: str
    size: int = 0
    members: tuple[str, ...] = ()  # atomic sets it stands for; empty = it is atomic itself
    kind: str = ""  # year / group / subgroup, or 行政班 / 教学班

    def atoms(self) -> tuple[str, ...]:
        return self.members or (self.name,)


@dataclass(frozen=True)
class Activity:
    id: int
    subject: str
    teachers: tuple[str, ...] = ()
    students: tuple[str, ...] = ()  # student set names
    duration: int = 1
    tags: tuple[str, ...] = ()
    group_id: int = 0  # parts of one split lesson share a group id (0 = not split)
    n_students: int | None = None  # overrides the sets' sizes (FET's Number_Of_Students)
    label: str = ""


@dataclass(frozen=True)
class Constraint:
    kind: str
    weight: float = 100.0
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    label: str = ""  # the source's own words: "FET #12 ConstraintTeacherNotAvailableTimes (王老师)"

    @property
    def hard(self) -> bool:
        return self.weight >= 100.0


@dataclass
class Problem:
    days: list[str]
    periods: list[str]
    activities: list[Activity]
    teachers: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    student_sets: dict[str, StudentSet] = field(default_factory=dict)
    rooms: dict[str, Room] = field(default_factory=dict)
    constraints: list[Constraint] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    name: str = ""

    @property
    def n_days(self) -> int:
        return len(self.days)

    @property
    def n_periods(self) -> int:
        return len(self.periods)

    def activity(self, activity_id: int) -> Activity:
        return self._by_id()[activity_id]

    def _by_id(self) -> dict[int, Activity]:
        cache = self.__dict__.get("_by_id_cache")
        if cache is None or len(cache) != len(self.activities):
            cache = {a.id: a for a in self.activities}
            self.__dict__["_by_id_cache"] = cache
        return cache

    def atoms_of(self, names: Iterable[str]) -> frozenset[str]:
        out: set[str] = set()
        for name in names:
            ss = self.student_sets.get(name)
            out.update(ss.atoms() if ss else (name,))
        return frozenset(out)

    def size_of(self, activity: Activity) -> int:
        if activity.n_students is not None:
            return activity.n_students
        return sum(self.student_sets[s].size for s in activity.students if s in self.student_sets)


@dataclass(frozen=True)
class Placement:
    day: int
    period: int
    rooms: tuple[str, ...] = ()  # the room, or a virtual room followed by its real rooms


@dataclass
class Violation:
    constraint: str  # the constraint's label or kind
    weight: float
    message: str  # in the school's terms, Chinese
    cost: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"constraint": self.constraint, "weight": self.weight, "message": self.message, "cost": self.cost}


@dataclass
class Solution:
    placements: dict[int, Placement]

    def slot(self, activity_id: int) -> Slot:
        p = self.placements[activity_id]
        return (p.day, p.period)
