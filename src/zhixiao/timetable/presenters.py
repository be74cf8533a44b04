"""Week grids (days × periods) of a timetable for one class, teacher or room: what each cell shows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .engine.model import Activity, Placement, Problem, Solution


@dataclass
class Entry:
    activity_id: int
    subject: str
    teachers: str
    students: str
    rooms: str
    duration: int
    continued: bool = False  # the second period of a double lesson
    locked: bool = False
    block: str = ""  # the 走班 block (选考A …) the lesson belongs to


@dataclass
class Row:
    name: str
    time: str = ""
    session: str = ""
    period: int = -1  # -1: a break row (大课间, 午休)
    cells: list[list[Entry]] = field(default_factory=list)


@dataclass
class Grid:
    days: list[str]
    rows: list[Row]
    lessons: int = 0  # periods taught in the week

    @property
    def empty(self) -> bool:
        return self.lessons == 0


Include = Callable[[Activity, Placement], bool]
BLOCK_TAG = "选考"  # tags of 走班 blocks: 选考A, 选考B … (services.block_label)


def week_grid(
    problem: Problem,
    solution: Solution,
    include: Include,
    *,
    shape: dict[str, Any] | None = None,
    locked: Iterable[int] = (),
) -> Grid:
    """The lessons `include` selects, by day and period; `shape` (a plan's periods and breaks) adds times,
    sessions and break rows when it matches the problem's periods."""
    n_days, n_periods = problem.n_days, problem.n_periods
    periods = (shape or {}).get("periods") or []
    if len(periods) != n_periods:
        periods = [{"name": name} for name in problem.periods]
    breaks = {b["after"]: b for b in (shape or {}).get("breaks") or [] if 0 < b.get("after", 0) < n_periods}
    cells: list[list[list[Entry]]] = [[[] for _d in range(n_days)] for _p in range(n_periods)]
    locked_ids = set(locked)
    lessons = 0
    for a in problem.activities:
        p = solution.placements.get(a.id)
        if p is None or not include(a, p):
            continue
        for k in range(a.duration):
            period = p.period + k
            if 0 <= p.day < n_days and 0 <= period < n_periods:
                cells[period][p.day].append(
                    Entry(
                        activity_id=a.id,
                        subject=a.subject,
                        teachers="、".join(a.teachers),
                        students="、".join(a.students),
                        rooms="、".join(p.rooms[:1]) if p.rooms else "",
                        duration=a.duration,
                        continued=k > 0,
                        locked=a.id in locked_ids,
                        block=next((t for t in a.tags if t.startswith(BLOCK_TAG)), ""),
                    )
                )
                lessons += 1
    rows: list[Row] = []
    for i in range(n_periods):
        if i in breaks:
            b = breaks[i]
            time = f"{b.get('start', '')}–{b.get('end', '')}" if b.get("start") else ""
            rows.append(Row(name=b.get("name", ""), time=time))
        meta = periods[i]
        time = f"{meta.get('start', '')}–{meta.get('end', '')}" if meta.get("start") else ""
        rows.append(Row(meta.get("name", problem.periods[i]), time, meta.get("session", ""), i, cells[i]))
    return Grid(list(problem.days), rows, lessons)


def for_teachers(names: Iterable[str]) -> Include:
    wanted = set(names)
    return lambda a, p: bool(wanted & set(a.teachers))


def for_room(name: str) -> Include:
    return lambda a, p: name in p.rooms


def for_set(problem: Problem, name: str) -> Include:
    """A class's (or any student set's) lessons: every lesson some of its students attend."""
    atoms = problem.atoms_of([name])
    return lambda a, p: bool(atoms & problem.atoms_of(a.students))


def for_student(problem: Problem, class_sets: Iterable[str], teaching_classes: Iterable[str]) -> Include:
    """One student's lessons: his class's own lessons, and of the teaching classes (教学班) only his own."""
    atoms = problem.atoms_of(list(class_sets))
    mine = set(teaching_classes)
    teaching = {n for n, s in problem.student_sets.items() if s.kind == "教学班"}

    def include(a: Activity, p: Placement) -> bool:
        sets = set(a.students)
        if sets & mine:
            return True
        return not (sets & teaching) and bool(atoms & problem.atoms_of(a.students))

    return include


def entities(problem: Problem, solution: Solution | None = None) -> dict[str, list[str]]:
    """What a timetable can be shown by: classes (行政班, 教学班, or a FET file's student sets), teachers, rooms."""
    kinds = {s.kind for s in problem.student_sets.values()}
    if kinds & {"行政班", "教学班"}:
        classes = [n for n, s in problem.student_sets.items() if s.kind in ("行政班", "教学班")]
    else:
        classes = list(problem.student_sets)
    used_rooms = (
        sorted({r for p in solution.placements.values() for r in p.rooms[:1]}) if solution else sorted(problem.rooms)
    )
    return {"class": classes, "teacher": sorted(problem.teachers), "room": used_rooms}


def describe_moves(problem: Problem, moved: list[dict[str, Any]]) -> list[str]:
    """Repair mode's moves in words: "高一(1)班 数学（张老师）：周二 第3节 → 周四 第1节"."""

    def when(cell: list[Any]) -> str:
        d, h = int(cell[0]), int(cell[1])
        day = problem.days[d] if 0 <= d < problem.n_days else str(d)
        period = problem.periods[h] if 0 <= h < problem.n_periods else str(h)
        return f"{day} {period}"

    out = []
    for m in moved:
        who = "、".join(m.get("teachers") or [])
        out.append(
            f"{'、'.join(m.get('students') or [])} {m.get('subject', '')}"
            + (f"（{who}）" if who else "")
            + f"：{when(m['from'])} → {when(m['to'])}"
        )
    return out
