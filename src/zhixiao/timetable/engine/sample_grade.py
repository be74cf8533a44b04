"""A generated senior grade (高二) under 3+1+2 with its whole weekly timetabling problem, for tests and benchmarks.

The spread of subject combinations is illustrative, shaped after the published first-cohort (2021) summaries of
the eight 3+1+2 provinces: 物理 chosen by a bit over half to about 60% of students, 物化生 the largest physics
combination, 物生地 large, 史政地 the largest history combination, then 史政生, with 史化政 and 史化地 the rarest.
The numbers below are ours, not any province's.

The week: 5 days × 8 periods. Each 行政班 has 语文 5, 数学 6 (one double period), 英语 5,
体育 2, 信息技术 1, 通用技术 1, 艺术 1, 心理 1 and 班会 1 (with its homeroom teacher, who also teaches
it 语文); the three elective blocks take 15 more (物理/历史 5 lessons, 化学/生物/政治/地理 4): 38 of 40
periods. Teachers: one 语文, 数学 and 英语 teacher for every two classes (10–12 lessons a week plus
班会), 体育 12 lessons each, the small subjects up to 15; elective teachers take at most 3 teaching
classes (≤ 15 lessons).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from .electives import Choice, ElectivePlan, ElectiveSpec, add_to_problem, lesson_spread
from .model import Activity, Constraint, Problem, Room, StudentSet

# Share of students (percent) per 3+1+2 combination; illustrative (see the module's docstring).
COMBINATION_SHARES: dict[tuple[str, str, str], float] = {
    ("物理", "化学", "生物"): 22,
    ("物理", "生物", "地理"): 14,
    ("物理", "化学", "地理"): 8,
    ("物理", "化学", "政治"): 6,
    ("物理", "生物", "政治"): 6,
    ("物理", "政治", "地理"): 4,
    ("历史", "政治", "地理"): 18,
    ("历史", "政治", "生物"): 8,
    ("历史", "生物", "地理"): 7,
    ("历史", "化学", "生物"): 3,
    ("历史", "化学", "政治"): 2,
    ("历史", "化学", "地理"): 2,
}

ELECTIVE_LESSONS = {"物理": 5, "历史": 5, "化学": 4, "生物": 4, "政治": 4, "地理": 4}

# Compulsory lessons per 行政班: subject -> (lessons a week, classes one teacher takes, room kind).
COMPULSORY: dict[str, tuple[int, int, str]] = {
    "语文": (5, 2, "home"),
    "数学": (6, 2, "home"),
    "英语": (5, 2, "home"),
    "体育": (2, 6, ""),
    "信息技术": (1, 15, "机房"),
    "通用技术": (1, 15, "通用技术室"),
    "艺术": (1, 15, "home"),
    "心理": (1, 15, "home"),
    "班会": (1, 0, "home"),  # the homeroom teacher, who teaches the class 语文
}

DAYS = ["周一", "周二", "周三", "周四", "周五"]
PERIODS = [f"第{i}节" for i in range(1, 9)]


@dataclass
class SampleGrade:
    name: str
    choices: list[Choice]
    admin_classes: list[str]
    spec: ElectiveSpec
    home_rooms: dict[str, str]  # 行政班 -> its classroom
    spare_rooms: list[str]  # further rooms for teaching classes
    special_rooms: dict[str, list[str]]  # room kind -> rooms (机房, 通用技术室)
    class_teachers: dict[str, dict[str, str]] = field(default_factory=dict)  # 行政班 -> subject -> teacher

    @property
    def elective_rooms(self) -> list[str]:
        return [self.home_rooms[a] for a in self.admin_classes] + self.spare_rooms


def generate_grade(
    n_students: int = 1500, n_classes: int = 30, *, seed: int = 0, grouping: str = "combination"
) -> SampleGrade:
    """A senior grade with 3+1+2 choices. `grouping`: "combination" (行政班 formed by 首选 and combination after
    the choice, as most schools do for 高二) or "random" (行政班 kept from 高一, choices scattered)."""
    if grouping not in ("combination", "random"):
        raise ValueError("grouping 只能是 combination 或 random")
    rng = random.Random(seed)
    combos = list(COMBINATION_SHARES)
    drawn = rng.choices(combos, weights=[COMBINATION_SHARES[c] for c in combos], k=n_students)
    students = [(f"S{i + 1:04d}", combo) for i, combo in enumerate(drawn)]
    names = [f"高二({i + 1})班" for i in range(n_classes)]

    if grouping == "random":
        rng.shuffle(students)
        streams = [(names, students)]
    else:
        physics = [s for s in students if s[1][0] == "物理"]
        history = [s for s in students if s[1][0] == "历史"]
        # As many physics classes as keeps the largest 行政班 smallest.
        n_phys = min(
            range(1, n_classes),
            key=lambda k: (max(-(-len(physics) // k), -(-len(history) // (n_classes - k))), k),
        )
        streams = [(names[:n_phys], physics), (names[n_phys:], history)]
    admin_of: dict[str, str] = {}
    rank = {c: i for i, c in enumerate(sorted(combos, key=lambda c: -COMBINATION_SHARES[c]))}
    for class_names, members in streams:
        if grouping == "combination":
            members = sorted(members, key=lambda s: (rank[s[1]], s[0]))
        for i, (sid, _) in enumerate(members):
            admin_of[sid] = class_names[i * len(class_names) // len(members)]
    choices = [Choice(sid, admin_of[sid], combo) for sid, combo in sorted(students)]

    counts = {s: sum(1 for _, c in students if s in c) for s in ELECTIVE_LESSONS}
    max_per_teacher = 3
    teachers = {
        s: tuple(f"{s}{i + 1:02d}" for i in range(max(2, math.ceil(n / 45 / 2.5)))) for s, n in counts.items() if n
    }
    spare = max(2, n_classes // 5)
    spec = ElectiveSpec(
        lessons=dict(ELECTIVE_LESSONS),
        min_size=35,
        max_size=50,
        max_blocks=3,
        rooms=n_classes + spare,
        teachers=teachers,
        max_classes_per_teacher=max_per_teacher,
    )
    class_teachers: dict[str, dict[str, str]] = {a: {} for a in names}
    for subject, (_, per_teacher, _) in COMPULSORY.items():
        if not per_teacher:
            continue
        for i, a in enumerate(names):
            class_teachers[a][subject] = f"{subject}{i // per_teacher + 1:02d}"
    for a in names:
        class_teachers[a]["班会"] = class_teachers[a]["语文"]
    special = {
        "机房": [f"机房{i + 1}" for i in range(max(1, math.ceil(n_classes / 20)))],
        "通用技术室": [f"通用技术室{i + 1}" for i in range(max(1, math.ceil(n_classes / 20)))],
    }
    return SampleGrade(
        name="高二",
        choices=choices,
        admin_classes=names,
        spec=spec,
        home_rooms={a: f"{a}教室" for a in names},
        spare_rooms=[f"走班教室{i + 1}" for i in range(spare)],
        special_rooms=special,
        class_teachers=class_teachers,
    )


def build_week_problem(grade: SampleGrade, plan: ElectivePlan, *, rooms: bool = True) -> Problem:
    """The grade's whole week: compulsory lessons per 行政班 and the elective blocks, clash-free for every student."""
    problem = Problem(days=list(DAYS), periods=list(PERIODS), activities=[], name=f"{grade.name} 走班排课")
    problem.student_sets[grade.name] = StudentSet(grade.name, len(grade.choices), tuple(grade.admin_classes), "年级")
    for a in grade.admin_classes:
        size = sum(1 for c in grade.choices if c.admin_class == a)
        problem.student_sets[a] = StudentSet(a, size, kind="行政班")
    if rooms:
        for r in grade.home_rooms.values():
            problem.rooms[r] = Room(r, capacity=60, kind="普通教室")
        for r in grade.spare_rooms:
            problem.rooms[r] = Room(r, capacity=60, kind="普通教室")
        for kind, names in grade.special_rooms.items():
            for r in names:
                problem.rooms[r] = Room(r, capacity=60, kind=kind)
    add_to_problem(
        plan,
        problem,
        rooms=grade.elective_rooms if rooms else None,
        home_rooms=grade.home_rooms if rooms else None,
    )
    next_id = max((a.id for a in problem.activities), default=0) + 1
    for a in grade.admin_classes:
        for subject, (n, _, room_kind) in COMPULSORY.items():
            teacher = grade.class_teachers[a][subject]
            # More lessons than days: the extra ones join a lesson as a double period (连堂).
            doubles = max(0, n - problem.n_days)
            durations = [2] * doubles + [1] * (n - 2 * doubles)
            ids = list(range(next_id, next_id + len(durations)))
            next_id += len(durations)
            for i, duration in zip(ids, durations, strict=True):
                problem.activities.append(
                    Activity(
                        id=i,
                        subject=subject,
                        teachers=(teacher,),
                        students=(a,),
                        duration=duration,
                        group_id=ids[0] if len(ids) > 1 else 0,
                        label=f"{a} {subject}",
                    )
                )
                if rooms and room_kind == "home":
                    problem.constraints.append(
                        Constraint(
                            "ActivityPreferredRoom",
                            params={"activity": i, "room": grade.home_rooms[a], "locked": True},
                            label=f"{a} {subject} 在本班教室",
                        )
                    )
                elif rooms and room_kind:
                    problem.constraints.append(
                        Constraint(
                            "ActivityPreferredRooms",
                            params={"activity": i, "rooms": list(grade.special_rooms[room_kind])},
                            label=f"{a} {subject} 在{room_kind}",
                        )
                    )
            problem.constraints.extend(lesson_spread(ids, problem.n_days, f"{a} {subject}"))
            if teacher not in problem.teachers:
                problem.teachers.append(teacher)
            if subject not in problem.subjects:
                problem.subjects.append(subject)
    problem.__dict__.pop("_by_id_cache", None)
    return problem
