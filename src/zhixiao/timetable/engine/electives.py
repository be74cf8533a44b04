"""走班: teaching classes (教学班) formed from students' subject choices and placed in time blocks (走班时段).

Under the new gaokao each student of a senior grade takes a few elective subjects (3+1+2: 物理 or 历史, then
two of 化学 生物 政治 地理; 3+3: any three). The school opens teaching classes per subject within size limits
and runs them in *blocks*: in one block several teaching classes of different subjects meet at once, and a
student sits in at most one of them. Each student must find every chosen subject in a different block.

How a plan is found (all CP-SAT, no Django):

1. Students are grouped by (行政班, combination). A *pattern* is one way to put a combination's subjects
   into distinct blocks; the model counts how many students of each group follow each pattern. Any such
   count matrix can be realised student by student, so the aggregate model is exact and small (tens of
   groups × a handful of patterns, whatever the number of students).
2. Per subject and block, the number of teaching classes k satisfies `k·min ≤ students ≤ k·max`; per block
   the classes need a room each; per subject at most as many classes at once as it has teachers.
3. Objectives, in order: fewest blocks (tried from the smallest possible up), fewest rooms in the busiest
   block, fewest teaching classes (teacher hours), then 行政班 mates kept together: an administrative class's
   students of one subject in as few blocks as possible, a combination's students on one pattern.
4. Per subject and block, the students are split into its k classes: sizes within limits, as few pieces of
   each 行政班 as possible, then balanced sizes. A teaching class that is exactly one 行政班 is *fixed*
   (定): the class keeps that subject at home and need not follow the block ("定二走一" when two fit).

When no plan exists, the reason comes back in the school's words: simple counts first ("化学 只有 20 人选，
少于最小班额 35"), otherwise the smallest set of the school's own limits that cannot hold together
(an unsatisfiable core of assumption literals).
"""

from __future__ import annotations

import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from .model import Activity, Constraint, Problem, Room, StudentSet

# Customary one-character names of the gaokao subjects, for combination names (物化生, 史政地).
SHORT_NAMES = {"物理": "物", "历史": "史", "化学": "化", "生物": "生", "政治": "政", "地理": "地", "技术": "技"}


@dataclass(frozen=True)
class Choice:
    """One student's elective subjects (选考科目), with the administrative class (行政班) he belongs to."""

    student_id: str
    admin_class: str
    subjects: tuple[str, ...]


@dataclass
class ElectiveSpec:
    """The school's rules for forming teaching classes."""

    lessons: dict[str, int]  # elective subject -> weekly lessons of one teaching class
    min_size: int = 35  # 最小班额
    max_size: int = 50  # 最大班额
    max_blocks: int = 3  # 走班时段 at most
    rooms: int = 30  # classrooms free for teaching classes during one block
    # subject -> its teachers: at most that many classes of the subject at once. A subject left out has
    # no limit and its classes get no teacher.
    teachers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    max_classes_per_teacher: int = 0  # teaching classes one teacher takes in all (0: no limit)
    min_sizes: dict[str, int] = field(default_factory=dict)  # per subject, e.g. a small subject's class
    max_sizes: dict[str, int] = field(default_factory=dict)

    def min_of(self, subject: str) -> int:
        return self.min_sizes.get(subject, self.min_size)

    def max_of(self, subject: str) -> int:
        return self.max_sizes.get(subject, self.max_size)


@dataclass
class TeachingClass:
    name: str  # 物理1班
    subject: str
    block: int  # 0-based
    members: tuple[str, ...]  # student ids
    teacher: str = ""
    admin_class: str = ""  # the 行政班 it is exactly, if any (fixed, 定): it may leave the block

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def fixed(self) -> bool:
        return bool(self.admin_class)


def block_name(block: int) -> str:
    return f"走班时段{block + 1}"


def combination_name(subjects: Iterable[str]) -> str:
    return "".join(SHORT_NAMES.get(s, s[:1]) for s in subjects)


@dataclass
class ElectivePlan:
    feasible: bool
    # optimal: fewest blocks, then rooms, then classes, proven; feasible: a sound plan, not proven the least.
    # (Keeping 行政班 mates together is best effort within the time limit either way.)
    status: str  # optimal / feasible / infeasible / timeout
    blocks: int
    classes: list[TeachingClass]
    choices: list[Choice]
    lessons: dict[str, int]
    seconds: float
    explanation: list[str] = field(default_factory=list)  # why no plan exists, in the school's words
    notes: list[str] = field(default_factory=list)

    def rooms_per_block(self) -> list[int]:
        counts = Counter(c.block for c in self.classes)
        return [counts.get(b, 0) for b in range(self.blocks)]

    def classes_of(self, student_id: str) -> list[TeachingClass]:
        return [c for c in self.classes if student_id in c.members]

    def memberships(self) -> dict[str, list[TeachingClass]]:
        out: dict[str, list[TeachingClass]] = defaultdict(list)
        for c in self.classes:
            for s in c.members:
                out[s].append(c)
        return out

    def statistics(self) -> dict[str, Any]:
        sizes: dict[str, list[int]] = defaultdict(list)
        for c in self.classes:
            sizes[c.subject].append(c.size)
        # How many teaching classes a 行政班's students of one subject are spread over (1 = together).
        pieces: dict[tuple[str, str], set[str]] = defaultdict(set)
        admin_of = {ch.student_id: ch.admin_class for ch in self.choices}
        for c in self.classes:
            for s in c.members:
                pieces[(admin_of[s], c.subject)].add(c.name)
        all_sizes = [c.size for c in self.classes]
        return {
            "feasible": self.feasible,
            "status": self.status,
            "students": len(self.choices),
            "combinations": len({tuple(sorted(ch.subjects)) for ch in self.choices}),
            "blocks": self.blocks,
            "rooms_per_block": self.rooms_per_block(),
            "rooms": max(self.rooms_per_block(), default=0),
            "teaching_classes": len(self.classes),
            "fixed_classes": sum(1 for c in self.classes if c.fixed),
            "size_min": min(all_sizes, default=0),
            "size_max": max(all_sizes, default=0),
            "sizes": {s: sorted(v, reverse=True) for s, v in sizes.items()},
            "admin_class_pieces": round(sum(len(v) for v in pieces.values()) / len(pieces), 3) if pieces else 0,
            "seconds": round(self.seconds, 3),
        }


# ---------------------------------------------------------------------------------------------------------
# Forming the classes


@dataclass
class _Group:
    admin_class: str
    combo: tuple[str, ...]
    students: list[str]


def _solver(time_limit: float, seed: int, workers: int) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit)
    solver.parameters.random_seed = seed
    solver.parameters.num_workers = max(1, workers)
    return solver


class _BlockModel:
    """Phase 1: how many students of each group follow each pattern, and how many classes per (subject, block)."""

    def __init__(
        self, groups: list[_Group], spec: ElectiveSpec, counts: Mapping[str, int], n_blocks: int, *, explain: bool
    ) -> None:
        m = self.model = cp_model.CpModel()
        self.n_blocks = n_blocks
        self.groups = groups
        self.subjects = [s for s in spec.lessons if counts.get(s, 0)]
        self.patterns: list[list[tuple[int, ...]]] = []
        self.w: list[list[cp_model.IntVar]] = []
        terms: dict[tuple[str, int], list[cp_model.IntVar]] = defaultdict(list)
        for gi, g in enumerate(groups):
            pats = list(itertools.permutations(range(n_blocks), len(g.combo)))
            ws = [m.new_int_var(0, len(g.students), f"w{gi}_{pi}") for pi in range(len(pats))]
            m.add(sum(ws) == len(g.students))
            for p, v in zip(pats, ws, strict=True):
                for s, b in zip(g.combo, p, strict=True):
                    terms[(s, b)].append(v)
            self.patterns.append(pats)
            self.w.append(ws)
        # Assumption literals name the school's limits, for explaining infeasibility.
        self.assumptions: list[tuple[cp_model.IntVar, str]] = []

        def limit(message: str) -> cp_model.IntVar | None:
            if not explain:
                return None
            lit = m.new_bool_var(message)
            self.assumptions.append((lit, message))
            return lit

        self.students: dict[tuple[str, int], cp_model.IntVar] = {}
        self.k: dict[tuple[str, int], cp_model.IntVar] = {}
        self.k_bound = 0
        for s in self.subjects:
            lo, hi, n = spec.min_of(s), spec.max_of(s), counts[s]
            teachers = len(spec.teachers[s]) if s in spec.teachers else None
            k_max = -(-n // max(1, lo))
            if teachers is not None and not explain:
                k_max = min(k_max, teachers)
            self.k_bound += k_max * n_blocks
            min_lit = limit(f"min:{s}")
            for b in range(n_blocks):
                t = self.students[(s, b)] = m.new_int_var(0, n, f"T{s}{b}")
                m.add(t == sum(terms[(s, b)]))
                k = self.k[(s, b)] = m.new_int_var(0, k_max, f"k{s}{b}")
                m.add(t <= hi * k)
                ct = m.add(t >= lo * k)
                if min_lit is not None:
                    ct.only_enforce_if(min_lit)
            # A rounding cut CP-SAT does not find by itself: the subject needs ⌈n/max⌉ classes in all.
            m.add(sum(self.k[(s, b)] for b in range(n_blocks)) >= -(-n // hi))
            if teachers is not None and explain:
                lit = limit(f"teachers:{s}")
                for b in range(n_blocks):
                    m.add(self.k[(s, b)] <= teachers).only_enforce_if(lit)
            if teachers is not None and spec.max_classes_per_teacher:
                ct = m.add(sum(self.k[(s, b)] for b in range(n_blocks)) <= teachers * spec.max_classes_per_teacher)
                lit = limit(f"load:{s}")
                if lit is not None:
                    ct.only_enforce_if(lit)
        rooms_lit = limit("rooms")
        self.rooms: list[cp_model.LinearExpr] = []
        for b in range(n_blocks):
            expr = cp_model.LinearExpr.sum([self.k[(s, b)] for s in self.subjects])
            self.rooms.append(expr)
            ct = m.add(expr <= spec.rooms)
            if rooms_lit is not None:
                ct.only_enforce_if(rooms_lit)
        # Blocks are interchangeable: order them by the most chosen subject's students.
        if self.subjects:
            top = max(self.subjects, key=lambda s: (counts[s], s))
            for b in range(n_blocks - 1):
                m.add(self.students[(top, b)] >= self.students[(top, b + 1)])
        if explain:
            m.add_assumptions([lit for lit, _ in self.assumptions])

    def minimise_resources(self) -> tuple[cp_model.IntVar, cp_model.IntVar]:
        m = self.model
        busiest = m.new_int_var(0, 10**6, "rooms")
        for expr in self.rooms:
            m.add(busiest >= expr)
        total = m.new_int_var(0, 10**6, "classes")
        m.add(total == sum(self.k.values()))
        m.minimize(busiest * (self.k_bound + 1) + total)
        return busiest, total

    def minimise_scatter(self, admin_sizes: Mapping[tuple[str, str], int]) -> None:
        """Keep 行政班 mates together: each class's students of a subject in few blocks, groups on one pattern."""
        m = self.model
        spread: dict[tuple[str, str, int], list[cp_model.IntVar]] = defaultdict(list)
        used = []
        for gi, g in enumerate(self.groups):
            for p, v in zip(self.patterns[gi], self.w[gi], strict=True):
                u = m.new_bool_var(f"u{gi}_{p}")
                m.add(v <= len(g.students) * u)
                used.append(u)
                for s, b in zip(g.combo, p, strict=True):
                    spread[(g.admin_class, s, b)].append(v)
        present = []
        for (admin, s, b), vs in spread.items():
            h = m.new_bool_var(f"h{admin}{s}{b}")
            m.add(sum(vs) <= admin_sizes[(admin, s)] * h)
            present.append(h)
        m.minimize(2 * sum(present) + sum(used))

    def fix(self, solver: cp_model.CpSolver) -> None:
        """Hint the next solve with this solution."""
        self.model.clear_hints()
        for ws in self.w:
            for v in ws:
                self.model.add_hint(v, solver.value(v))
        for v in self.k.values():
            self.model.add_hint(v, solver.value(v))


def _precheck(choices: list[Choice], spec: ElectiveSpec, counts: Mapping[str, int]) -> list[str]:
    out: list[str] = []
    duplicated = sorted(s for s, n in Counter(c.student_id for c in choices).items() if n > 1)
    if duplicated:
        out.append(f"学生 {'、'.join(duplicated[:5])} 的选课重复出现")
    unknown = Counter(s for c in choices for s in c.subjects if s not in spec.lessons)
    for s, n in sorted(unknown.items()):
        out.append(f"{n} 名学生选了未开设的科目「{s}」")
    repeated = [c.student_id for c in choices if len(set(c.subjects)) != len(c.subjects)]
    if repeated:
        out.append(f"学生 {'、'.join(repeated[:5])} 重复选了同一科目")
    too_many = Counter(len(set(c.subjects)) for c in choices if len(set(c.subjects)) > spec.max_blocks)
    for k, n in sorted(too_many.items()):
        out.append(f"{n} 名学生选了 {k} 科，但最多只有 {spec.max_blocks} 个走班时段，每个时段只能上一科")
    if out:
        return out
    for s in spec.lessons:
        n = counts.get(s, 0)
        if not n:
            continue
        lo, hi = spec.min_of(s), spec.max_of(s)
        if lo > hi:
            out.append(f"{s} 的最小班额 {lo} 大于最大班额 {hi}")
            continue
        if n < lo:
            out.append(f"{s} 只有 {n} 人选，少于最小班额 {lo}")
            continue
        if not any(k * lo <= n <= k * hi for k in range(1, n // max(1, lo) + 1)):
            out.append(f"选{s}的 {n} 人无法分成每班 {lo}–{hi} 人的教学班")
            continue
        if s in spec.teachers:
            t = len(spec.teachers[s])
            if t == 0:
                out.append(f"{s} 有 {n} 人选，却没有{s}老师")
                continue
            if n > spec.max_blocks * t * hi:
                out.append(
                    f"{s} 有 {n} 人选，只有 {t} 位{s}老师：{spec.max_blocks} 个时段每个时段最多开 {t} 个{s}班，"
                    f"最多容纳 {spec.max_blocks * t * hi} 人"
                )
            m = spec.max_classes_per_teacher
            if m and n > t * m * hi:
                out.append(
                    f"{s} 有 {n} 人选，{t} 位{s}老师每人最多带 {m} 个班，最多开 {t * m} 个班，容纳 {t * m * hi} 人"
                )
    needed = {s: -(-counts[s] // spec.max_of(s)) for s in spec.lessons if counts.get(s)}
    places = spec.max_blocks * spec.rooms
    if sum(needed.values()) > places:
        listing = "、".join(f"{s} {k} 个" for s, k in needed.items())
        out.append(
            f"至少要开 {sum(needed.values())} 个教学班（{listing}），"
            f"{spec.max_blocks} 个时段 × {spec.rooms} 间教室只能开 {places} 个"
        )
    return out


def _explain(
    groups: list[_Group], spec: ElectiveSpec, counts: Mapping[str, int], time_limit: float, seed: int
) -> list[str]:
    """The smallest set of the school's limits that cannot all hold in `max_blocks` blocks, in its words."""
    deadline = time.monotonic() + time_limit
    bm = _BlockModel(groups, spec, counts, spec.max_blocks, explain=True)
    names = {lit.index: key for lit, key in bm.assumptions}
    solver = _solver(deadline - time.monotonic(), seed, 1)
    status = solver.solve(bm.model)
    if status != cp_model.INFEASIBLE:
        return []
    core = [names[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in names]
    # Shrink the core: drop each limit whose removal keeps the model infeasible.
    for key in list(core):
        if time.monotonic() > deadline or len(core) <= 1:
            break
        trial = [k for k in core if k != key]
        bm.model.clear_assumptions()
        bm.model.add_assumptions([lit for lit, k in bm.assumptions if k in trial])
        if _solver(min(5.0, deadline - time.monotonic()), seed, 1).solve(bm.model) == cp_model.INFEASIBLE:
            core = trial
    lines = []
    for key in core:
        what, _, s = key.partition(":")
        if what == "min":
            lines.append(f"{s} 每班至少 {spec.min_of(s)} 人（共 {counts[s]} 人选{s}）")
        elif what == "teachers":
            t = len(spec.teachers[s])
            lines.append(f"{s} 只有 {t} 位老师，每个时段最多开 {t} 个{s}班")
        elif what == "load":
            t = len(spec.teachers[s])
            lines.append(
                f"{s} 老师每人最多带 {spec.max_classes_per_teacher} 个班，"
                f"共最多 {t * spec.max_classes_per_teacher} 个{s}班"
            )
        elif what == "rooms":
            lines.append(f"每个时段最多 {spec.rooms} 间教室，每班最多 {spec.max_size} 人")
    combos: Counter[tuple[str, ...]] = Counter()
    for g in groups:
        combos[g.combo] += len(g.students)
    listing = "、".join(f"{combination_name(c)} {n} 人" for c, n in combos.most_common(8))
    head = f"在 {spec.max_blocks} 个走班时段内排不下全部学生（选科组合：{listing}{' 等' if len(combos) > 8 else ''}），"
    head += "以下条件不能同时满足：" if lines else "选科组合之间互相冲突"
    return [head, *lines, "可以增加走班时段、放宽班额、增加教师或教室，或请少数学生调整选科"]


def form_teaching_classes(
    choices: Iterable[Choice],
    spec: ElectiveSpec,
    *,
    time_limit: float = 30.0,
    seed: int = 0,
    workers: int = 8,
) -> ElectivePlan:
    """Form teaching classes and blocks so every student can attend every chosen subject; fewest blocks, then rooms."""
    start = time.monotonic()
    deadline = start + time_limit
    choices = list(choices)
    order = {s: i for i, s in enumerate(spec.lessons)}
    counts = Counter(s for c in choices for s in set(c.subjects))

    def plan(status: str, blocks: int = 0, classes: list[TeachingClass] | None = None, **kw: Any) -> ElectivePlan:
        return ElectivePlan(
            feasible=status in ("optimal", "feasible"),
            status=status,
            blocks=blocks,
            classes=classes or [],
            choices=choices,
            lessons=dict(spec.lessons),
            seconds=time.monotonic() - start,
            **kw,
        )

    problems = _precheck(choices, spec, counts)
    if problems:
        return plan("infeasible", explanation=problems)
    members: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
    for c in choices:
        if c.subjects:
            members[(c.admin_class, tuple(sorted(c.subjects, key=order.__getitem__)))].append(c.student_id)
    groups = [_Group(a, combo, sorted(ids)) for (a, combo), ids in sorted(members.items())]
    if not groups:
        return plan("optimal")
    admin_sizes: Counter[tuple[str, str]] = Counter()
    for g in groups:
        for s in g.combo:
            admin_sizes[(g.admin_class, s)] += len(g.students)

    notes: list[str] = []
    lowest = max(len(g.combo) for g in groups)
    phase1_end = start + 0.75 * time_limit
    found: tuple[_BlockModel, cp_model.CpSolver, bool] | None = None
    for n_blocks in range(lowest, spec.max_blocks + 1):
        bm = _BlockModel(groups, spec, counts, n_blocks, explain=False)
        busiest, total = bm.minimise_resources()
        budget = max(0.1, (phase1_end - time.monotonic()) * (0.6 if n_blocks < spec.max_blocks else 0.7))
        solver = _solver(budget, seed, workers)
        status = solver.solve(bm.model)
        if status == cp_model.INFEASIBLE:
            continue
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            notes.append(f"{n_blocks} 个走班时段：在时限内未找到方案")
            continue
        optimal = status == cp_model.OPTIMAL
        # Keep the resources found, then keep 行政班 mates together.
        bm.model.add(busiest <= solver.value(busiest))
        bm.model.add(total <= solver.value(total))
        bm.fix(solver)
        bm.minimise_scatter(admin_sizes)
        second = _solver(max(0.1, min(phase1_end - time.monotonic(), 0.3 * time_limit)), seed, workers)
        status2 = second.solve(bm.model)
        if status2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            solver = second
        found = (bm, solver, optimal)
        break
    if found is None:
        if notes:  # some block count ran out of time: we cannot say it is impossible
            return plan("timeout", explanation=[*notes, "请延长计算时间后重试"], notes=notes)
        why = _explain(groups, spec, counts, max(1.0, deadline - time.monotonic()), seed)
        return plan("infeasible", explanation=why or [f"在 {spec.max_blocks} 个走班时段内排不下全部学生"])

    bm, solver, optimal = found
    classes = _split_classes(bm, solver, spec, deadline, time_limit, seed, workers)
    _assign_teachers(classes, spec)
    if notes:
        optimal = False
    return plan("optimal" if optimal else "feasible", bm.n_blocks, classes, notes=notes)


def _split_classes(
    bm: _BlockModel,
    solver: cp_model.CpSolver,
    spec: ElectiveSpec,
    deadline: float,
    time_limit: float,
    seed: int,
    workers: int,
) -> list[TeachingClass]:
    """Phase 2: split each (subject, block) into its classes, keeping 行政班 and combinations in few pieces."""
    # Sub-groups: the students of one group that follow one pattern (first ids first, so splits nest).
    pieces: dict[tuple[str, int], list[tuple[str, list[str]]]] = defaultdict(list)
    for gi, g in enumerate(bm.groups):
        at = 0
        for p, v in zip(bm.patterns[gi], bm.w[gi], strict=True):
            n = solver.value(v)
            if not n:
                continue
            ids = g.students[at : at + n]
            at += n
            for s, b in zip(g.combo, p, strict=True):
                pieces[(s, b)].append((g.admin_class, ids))
    admin_of_all = {}
    for g in bm.groups:
        for sid in g.students:
            admin_of_all[sid] = g.admin_class
    cells = [(s, b) for s in bm.subjects for b in range(bm.n_blocks) if solver.value(bm.k[(s, b)])]
    classes: list[TeachingClass] = []
    for i, (s, b) in enumerate(cells):
        k = solver.value(bm.k[(s, b)])
        # Small models, but proving their optimum can take long: a short, bounded search each.
        share = max(0.1, min((deadline - time.monotonic()) / (len(cells) - i), max(0.3, 0.02 * time_limit)))
        for members in _split_cell(pieces[(s, b)], k, spec.min_of(s), spec.max_of(s), share, seed, workers):
            if members:  # (a class can only be empty when the school allows a minimum of 0)
                classes.append(TeachingClass(name="", subject=s, block=b, members=tuple(members)))
    # A class that is exactly one 行政班 is fixed (定): the 行政班 keeps the subject at home.
    roster: dict[str, set[str]] = defaultdict(set)
    for sid, a in admin_of_all.items():
        roster[a].add(sid)
    order = {s: i for i, s in enumerate(bm.subjects)}
    classes.sort(key=lambda c: (order[c.subject], c.block, -c.size, c.members))
    numbers: Counter[str] = Counter()
    for c in classes:
        numbers[c.subject] += 1
        c.name = f"{c.subject}{numbers[c.subject]}班"
        admins = {admin_of_all[sid] for sid in c.members}
        if len(admins) == 1:
            (a,) = admins
            if roster[a] == set(c.members):
                c.admin_class = a
    return classes


def _split_cell(
    pieces: list[tuple[str, list[str]]], k: int, lo: int, hi: int, time_limit: float, seed: int, workers: int
) -> list[list[str]]:
    if k == 1:
        return [[sid for _, ids in pieces for sid in ids]]
    m = cp_model.CpModel()
    x = [[m.new_int_var(0, len(ids), "") for _ in range(k)] for _, ids in pieces]
    y = [[m.new_bool_var("") for _ in range(k)] for _ in pieces]
    admins = sorted({a for a, _ in pieces})
    z = {(a, j): m.new_bool_var("") for a in admins for j in range(k)}
    for q, (a, ids) in enumerate(pieces):
        m.add(sum(x[q]) == len(ids))
        for j in range(k):
            m.add(x[q][j] <= len(ids) * y[q][j])
            m.add_implication(y[q][j], z[(a, j)])
    sizes = [m.new_int_var(lo, hi, "") for _ in range(k)]
    for j in range(k):
        m.add(sizes[j] == sum(x[q][j] for q in range(len(pieces))))
    for j in range(k - 1):
        m.add(sizes[j] >= sizes[j + 1])
    # Pieces of a 行政班 first, then pieces of a combination, then even sizes.
    m.minimize(20 * sum(z.values()) + 4 * sum(v for row in y for v in row) + sizes[0] - sizes[-1])
    # Start from an even round-robin split so that a short time limit still returns something sound.
    total = sum(len(ids) for _, ids in pieces)
    targets = [total // k + (1 if j < total % k else 0) for j in range(k)]
    fill, j = [0] * k, 0
    hint = [[0] * k for _ in pieces]
    for q, (_, ids) in enumerate(pieces):
        left = len(ids)
        while left:
            take = min(left, targets[j] - fill[j])
            hint[q][j] += take
            fill[j] += take
            left -= take
            if fill[j] == targets[j] and j < k - 1:
                j += 1
    for q in range(len(pieces)):
        for jj in range(k):
            m.add_hint(x[q][jj], hint[q][jj])
    solver = _solver(time_limit, seed, workers)
    status = solver.solve(m)
    counts = (
        [[solver.value(x[q][jj]) for jj in range(k)] for q in range(len(pieces))]
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        else hint
    )
    out: list[list[str]] = [[] for _ in range(k)]
    for q, (_, ids) in enumerate(pieces):
        at = 0
        for jj in range(k):
            out[jj].extend(ids[at : at + counts[q][jj]])
            at += counts[q][jj]
    return out


def _assign_teachers(classes: list[TeachingClass], spec: ElectiveSpec) -> None:
    """Distinct teachers within a block, loads as even as possible (the model keeps both within limits)."""
    load: Counter[str] = Counter()
    by_cell: dict[tuple[str, int], list[TeachingClass]] = defaultdict(list)
    for c in classes:
        by_cell[(c.subject, c.block)].append(c)
    for (s, _b), group in sorted(by_cell.items(), key=lambda kv: (kv[0][0], -len(kv[1]), kv[0][1])):
        teachers = spec.teachers.get(s)
        if not teachers:
            continue
        ranked = sorted(teachers, key=lambda t: (load[t], teachers.index(t)))
        for c, t in zip(group, ranked, strict=False):
            c.teacher = t
            load[t] += 1


# ---------------------------------------------------------------------------------------------------------
# Into the week's timetabling problem


def lesson_spread(ids: list[int], n_days: int, label: str) -> list[Constraint]:
    """Lessons of one class and subject on different days; when there are more lessons than days, at most
    ⌈n/days⌉ a day (better: make the extra lessons double periods, as `sample_grade` does)."""
    if len(ids) < 2:
        return []
    if len(ids) <= n_days:
        return [
            Constraint(
                "MinDaysBetweenActivities",
                params={"activities": ids, "min_days": 1, "consecutive_if_same_day": False},
                label=f"{label} 每天最多一次",
            )
        ]
    return [
        Constraint(
            "ActivitiesMaxPerDay",
            params={"activities": ids, "max": -(-len(ids) // n_days)},
            label=f"{label} 每天课时上限",
        )
    ]


def add_to_problem(
    plan: ElectivePlan,
    problem: Problem,
    *,
    prefix: str = "",
    rooms: Sequence[str] | None = None,
    home_rooms: Mapping[str, str] | None = None,
    release_fixed: bool = True,
) -> dict[str, list[int]]:
    """Put the plan's teaching classes into `problem`; returns each teaching class's activity ids.

    Students become atomic sets (same 行政班 and same teaching classes); each 行政班 and each teaching class
    is the union of its atoms, so the solver sees every student's clashes. Each block is a group of parallel
    activities, tied lesson by lesson with ActivitiesSameStartingTime. A fixed class (exactly one 行政班) is
    left free of its block when `release_fixed`. With `rooms`, each teaching class gets a locked room from
    that list (the home room of its largest 行政班 where free); `home_rooms` maps 行政班 to their rooms.
    """
    if not plan.feasible:
        raise ValueError("走班方案不可行，不能排入课表")
    home_rooms = home_rooms or {}
    memberships = plan.memberships()
    admin_of = {ch.student_id: ch.admin_class for ch in plan.choices}
    combo_of = {ch.student_id: combination_name(s for s in plan.lessons if s in ch.subjects) for ch in plan.choices}

    # Atomic sets.
    atoms: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
    for ch in sorted(plan.choices, key=lambda ch: ch.student_id):
        key = (ch.admin_class, tuple(sorted(tc.name for tc in memberships.get(ch.student_id, []))))
        atoms[key].append(ch.student_id)
    atom_name: dict[tuple[str, tuple[str, ...]], str] = {}
    taken = set(problem.student_sets)
    used_names: Counter[str] = Counter()
    for key, ids in sorted(atoms.items(), key=lambda kv: (kv[0][0], combo_of[kv[1][0]], -len(kv[1]), kv[0][1])):
        base = f"{prefix}{key[0]}·{combo_of[ids[0]] or '未选'}"
        used_names[base] += 1
        name = base if used_names[base] == 1 else f"{base}{used_names[base]}"
        while name in taken:
            name += "'"
        taken.add(name)
        atom_name[key] = name
        problem.student_sets[name] = StudentSet(name=name, size=len(ids), kind="走班学生组")
    atom_of_student = {sid: atom_name[key] for key, ids in atoms.items() for sid in ids}

    # 行政班 as unions of atoms; sets that contained a 行政班 now contain its atoms.
    admin_atoms: dict[str, list[str]] = defaultdict(list)
    admin_size: Counter[str] = Counter()
    for key, ids in atoms.items():
        admin_atoms[key[0]].append(atom_name[key])
        admin_size[key[0]] += len(ids)
    for admin, names in admin_atoms.items():
        problem.student_sets[admin] = StudentSet(admin, admin_size[admin], tuple(sorted(names)), kind="行政班")
    for name, ss in list(problem.student_sets.items()):
        if ss.members and any(m in admin_atoms for m in ss.members):
            expanded: list[str] = []
            for m in ss.members:
                expanded.extend(sorted(admin_atoms[m]) if m in admin_atoms else [m])
            problem.student_sets[name] = StudentSet(ss.name, ss.size, tuple(dict.fromkeys(expanded)), ss.kind)

    # Rooms: fixed classes at home; the others take distinct rooms within their block.
    room_of: dict[str, str] = {}
    if rooms is not None:
        for r in rooms:
            problem.rooms.setdefault(r, Room(r, kind="普通教室"))
        for b in range(plan.blocks):
            in_block = [c for c in plan.classes if c.block == b]
            busy = {home_rooms[c.admin_class] for c in in_block if c.fixed and c.admin_class in home_rooms}
            free = [r for r in rooms if r not in busy]
            for c in sorted(in_block, key=lambda c: -c.size):
                if c.fixed and c.admin_class in home_rooms:
                    room_of[c.name] = home_rooms[c.admin_class]
                    problem.rooms.setdefault(room_of[c.name], Room(room_of[c.name], kind="普通教室"))
                    continue
                fits = [r for r in free if problem.rooms[r].capacity >= c.size]
                top = Counter(admin_of[s] for s in c.members).most_common(1)[0][0]
                pick = home_rooms.get(top) if home_rooms.get(top) in fits else (fits[0] if fits else None)
                if pick is None:
                    raise ValueError(f"{block_name(b)} 教室不够：{c.name}（{c.size} 人）没有空闲教室")
                free.remove(pick)
                room_of[c.name] = pick

    next_id = max((a.id for a in problem.activities), default=0) + 1
    ids_of: dict[str, list[int]] = {}
    for s in plan.lessons:
        if s not in problem.subjects and any(c.subject == s for c in plan.classes):
            problem.subjects.append(s)
    for tag in ("走班",):
        if tag not in problem.tags:
            problem.tags.append(tag)
    for c in plan.classes:
        name = prefix + c.name
        problem.student_sets[name] = StudentSet(
            name, c.size, tuple(sorted({atom_of_student[s] for s in c.members})), kind="教学班"
        )
        if c.teacher and c.teacher not in problem.teachers:
            problem.teachers.append(c.teacher)
        n = plan.lessons[c.subject]
        lesson_ids = list(range(next_id, next_id + n))
        next_id += n
        ids_of[c.name] = lesson_ids
        for i in lesson_ids:
            problem.activities.append(
                Activity(
                    id=i,
                    subject=c.subject,
                    teachers=(c.teacher,) if c.teacher else (),
                    students=(name,),
                    tags=("走班",),
                    group_id=lesson_ids[0] if n > 1 else 0,
                    label=f"{name}（{block_name(c.block)}）",
                )
            )
            if c.name in room_of:
                problem.constraints.append(
                    Constraint(
                        "ActivityPreferredRoom",
                        params={"activity": i, "room": room_of[c.name], "locked": True},
                        label=f"{name} 在 {room_of[c.name]} 上课",
                    )
                )
        problem.constraints.extend(lesson_spread(lesson_ids, problem.n_days, name))
    for b in range(plan.blocks):
        tied = [c for c in plan.classes if c.block == b and not (release_fixed and c.fixed)]
        for lesson in range(max((plan.lessons[c.subject] for c in tied), default=0)):
            same = [ids_of[c.name][lesson] for c in tied if lesson < len(ids_of[c.name])]
            if len(same) > 1:
                problem.constraints.append(
                    Constraint(
                        "ActivitiesSameStartingTime",
                        params={"activities": same},
                        label=f"{prefix}{block_name(b)} 第{lesson + 1}次课各教学班同时上",
                    )
                )
    problem.__dict__.pop("_by_id_cache", None)
    return ids_of
