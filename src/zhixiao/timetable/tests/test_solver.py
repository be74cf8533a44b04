"""The timetable engine as a school uses it: small hand-made weeks of a Chinese school, each built so that one
rule decides where a lesson goes, solved, and the placement itself checked; the checker catches the same rule
broken by hand, in Chinese words that name the teacher, class or room; soft rules cost what they weigh; rooms,
走班 blocks, repair after a change, progress and cancelling, explanations of impossible weeks and bad input."""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pytest

from zhixiao.timetable.engine import explain as explain_mod
from zhixiao.timetable.engine.checker import check, conflicts_of_move
from zhixiao.timetable.engine.model import (
    Activity,
    Constraint,
    Placement,
    Problem,
    Room,
    Solution,
    StudentSet,
)
from zhixiao.timetable.engine.result import Progress, Result
from zhixiao.timetable.engine.solver import SUPPORTED, solve

DAYS = ["周一", "周二", "周三", "周四", "周五"]
PERIODS = ["第1节", "第2节", "第3节", "第4节", "第5节", "第6节", "第7节", "第8节"]  # 1–4 上午, 5–8 下午
MORNING = range(4)
AFTERNOON = range(4, 8)


# --- building small weeks ----------------------------------------------------------------------------------


def lesson(
    aid: int,
    subject: str,
    teacher: str | tuple[str, ...],
    students: str | tuple[str, ...],
    duration: int = 1,
    *,
    tags: tuple[str, ...] = (),
    group: int = 0,
    n: int | None = None,
) -> Activity:
    teachers = (teacher,) if isinstance(teacher, str) else teacher
    sets = (students,) if isinstance(students, str) else students
    return Activity(aid, subject, teachers, sets, duration, tags, group, n)


def week(
    lessons: Iterable[Activity],
    constraints: Iterable[Constraint] = (),
    *,
    days: int = 5,
    periods: int = 8,
    sets: Iterable[StudentSet] = (),
    rooms: Iterable[Room] = (),
    size: int = 45,
) -> Problem:
    """A school week; every class the lessons name and `sets` does not define is a 行政班 of `size` students."""
    acts = list(lessons)
    student_sets = {s.name: s for s in sets}
    for a in acts:
        for name in a.students:
            student_sets.setdefault(name, StudentSet(name, size, (), "行政班"))
    return Problem(
        days=DAYS[:days],
        periods=PERIODS[:periods],
        activities=acts,
        teachers=sorted({t for a in acts for t in a.teachers}),
        subjects=sorted({a.subject for a in acts}),
        student_sets=student_sets,
        rooms={r.name: r for r in rooms},
        constraints=[Constraint("BasicCompulsoryTime"), Constraint("BasicCompulsorySpace"), *constraints],
        name="测试中学",
    )


def rule(kind: str, label: str, weight: float = 100.0, **params: Any) -> Constraint:
    return Constraint(kind, weight, params, label)


def run(problem: Problem, **kw: Any) -> Result:
    kw.setdefault("time_limit", 10.0)
    kw.setdefault("workers", 2)
    kw.setdefault("seed", 0)
    return solve(problem, **kw)


def solved(problem: Problem, **kw: Any) -> Solution:
    result = run(problem, **kw)
    assert result.solved, (result.status, result.explanation, [v.message for v in result.hard_violations])
    assert result.solution is not None
    assert result.placed == len(problem.activities)
    return result.solution


def timetable(cells: dict[int, tuple[Any, ...]]) -> Solution:
    """A hand-made timetable: activity id -> (day, period, room, …)."""
    return Solution({aid: Placement(v[0], v[1], tuple(v[2:])) for aid, v in cells.items()})


def start(sol: Solution, aid: int) -> tuple[int, int]:
    return sol.slot(aid)


def cells_of(problem: Problem, sol: Solution, ids: Iterable[int]) -> list[tuple[int, int]]:
    return [
        (sol.placements[i].day, sol.placements[i].period + k) for i in ids for k in range(problem.activity(i).duration)
    ]


def hours_by_day(problem: Problem, sol: Solution, ids: Iterable[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for d, h in cells_of(problem, sol, ids):
        out[d].append(h)
    return {d: sorted(hs) for d, hs in out.items()}


def gaps(hours: list[int]) -> int:
    return hours[-1] - hours[0] + 1 - len(hours) if hours else 0


def longest_run(hours: list[int]) -> int:
    best = run_ = 0
    prev = None
    for h in sorted(hours):
        run_ = run_ + 1 if prev is not None and h == prev + 1 else 1
        best = max(best, run_)
        prev = h
    return best


def hard_messages(problem: Problem, sol: Solution) -> list[str]:
    return [v.message for v in check(problem, sol)[0]]


def mornings(days: int = 5) -> list[tuple[int, int]]:
    return [(d, h) for d in range(days) for h in MORNING]


def whole_day(day: int, periods: int = 8) -> list[tuple[int, int]]:
    return [(day, h) for h in range(periods)]


# --- every hard kind: forced by a tiny week, and caught by the checker when broken --------------------------


@dataclass
class Case:
    """`problem` is built so the rule decides the outcome; `obeys` looks at the solver's placement; `broken` is
    a hand-made timetable breaking (only) the rule, which the checker must report with `words` in its message."""

    problem: Problem
    obeys: Callable[[Problem, Solution], bool]
    broken: dict[int, tuple[Any, ...]]
    words: tuple[str, ...]
    label: str


W3, W4 = "高二(3)班", "高二(4)班"
CHEM1, CHEM2 = "化学实验室1", "化学实验室2"


def _break() -> Case:
    p = week([lesson(1, "语文", "王老师", W3), lesson(2, "数学", "李老师", W3)], [], days=1, periods=3)
    p.constraints.append(rule("BreakTimes", "大课间", slots=[(0, 1)]))
    return Case(
        p,
        lambda p, s: {start(s, 1), start(s, 2)} == {(0, 0), (0, 2)},
        {1: (0, 1), 2: (0, 0)},
        ("休息时间", "语文", W3, "第2节"),
        "BreakTimes",
    )


def _teacher_na() -> Case:
    label = "王老师周一不排课"
    p = week(
        [lesson(1, "数学", "王老师", W3), lesson(2, "数学", "王老师", W4)],
        [rule("TeacherNotAvailableTimes", label, teacher="王老师", slots=whole_day(0, 2))],
        days=2,
        periods=2,
    )
    return Case(
        p,
        lambda p, s: {start(s, 1)[0], start(s, 2)[0]} == {1},
        {1: (0, 0), 2: (1, 0)},
        ("王老师", "周一", "数学"),
        label,
    )


def _students_na() -> Case:
    label = "高二(3)班周二下午社会实践"
    p = week(
        [lesson(1, "语文", "王老师", W3), lesson(2, "英语", "李老师", W3)],
        [rule("StudentsSetNotAvailableTimes", label, students=W3, slots=whole_day(1, 2))],
        days=2,
        periods=2,
    )
    return Case(
        p, lambda p, s: {start(s, 1)[0], start(s, 2)[0]} == {0}, {1: (1, 1), 2: (0, 0)}, (W3, "周二", "语文"), label
    )


def _locked() -> Case:
    label = "#1 数学 锁定在周四第6节"
    p = week(
        [lesson(1, "数学", "王老师", W3)],
        [rule("ActivityPreferredStartingTime", label, activity=1, day=3, period=5, locked=True)],
    )
    return Case(p, lambda p, s: start(s, 1) == (3, 5), {1: (0, 0)}, ("#1 数学", W3, "周一 第1节"), label)


def _day_only() -> Case:
    label = "#1 物理 排在周三"
    p = week(
        [lesson(1, "物理", "张老师", W3)],
        [rule("ActivityPreferredStartingTime", label, activity=1, day=2, period=None, locked=False)],
    )
    return Case(p, lambda p, s: start(s, 1)[0] == 2, {1: (0, 2)}, ("#1 物理", "周一 第3节"), label)


def _starting_times() -> Case:
    label = "#1 班会 只在周五第7、8节"
    p = week(
        [lesson(1, "班会", "陈老师", W3), lesson(2, "语文", "王老师", W3)],
        [rule("ActivityPreferredStartingTimes", label, activity=1, slots=[(4, 6), (4, 7)])],
    )
    return Case(p, lambda p, s: start(s, 1) in {(4, 6), (4, 7)}, {1: (0, 0), 2: (0, 1)}, ("#1 班会", W3), label)


def _time_slots() -> Case:
    # a double lesson must lie wholly inside the slots: it can start at 第4节 (covering 4–5), not at 第5节
    label = "#1 化学实验 只在周二第4、5节"
    p = week(
        [lesson(1, "化学", "刘老师", W3, 2)],
        [rule("ActivityPreferredTimeSlots", label, activity=1, slots=[(1, 3), (1, 4)])],
    )
    return Case(p, lambda p, s: start(s, 1) == (1, 3), {1: (1, 4)}, ("#1 化学", "周二 第5节"), label)


def _subject_mornings() -> Case:
    label = "语文上午开始"
    flt = {"teacher": None, "students": None, "subject": "语文", "tag": None}
    acts = [lesson(i, "语文", "王老师", W3 if i <= 2 else W4) for i in range(1, 5)]
    acts += [lesson(5, "体育", "赵老师", W3), lesson(6, "体育", "赵老师", W4)]
    p = week(
        acts,
        [
            rule("ActivitiesPreferredStartingTimes", label, filter=flt, slots=mornings(2)),
            # without the rule the earliest periods would go to 体育 (busy 王老师's lessons are not first)
            rule("TeacherNotAvailableTimes", "王老师周一第1节不在", teacher="王老师", slots=[(0, 0)]),
        ],
        days=2,
    )
    return Case(
        p,
        lambda p, s: all(start(s, i)[1] in MORNING for i in range(1, 5)),
        {1: (0, 5), 2: (0, 1), 3: (0, 2), 4: (0, 3), 5: (0, 0), 6: (1, 0)},
        ("#1 语文", W3, "周一 第6节"),
        label,
    )


def _teacher_slots() -> Case:
    label = "李老师的连堂只在上午"
    flt = {"teacher": "李老师", "students": None, "subject": None, "tag": None}
    p = week(
        [lesson(1, "数学", "李老师", W3, 2), lesson(2, "数学", "李老师", W4, 2)],
        [
            rule("ActivitiesPreferredTimeSlots", label, filter=flt, slots=mornings(1)),
        ],
        days=1,
    )
    return Case(
        p,
        lambda p, s: all(h in MORNING for _d, h in cells_of(p, s, [1, 2])),
        {1: (0, 0), 2: (0, 3)},  # 2 covers 第4–5节
        ("#2 数学", W4, "第4节"),
        label,
    )


def _sub_starting() -> Case:
    label = "数学第二次课在周三"
    flt = {"teacher": None, "students": W3, "subject": "数学", "tag": None}
    acts = [lesson(i, "数学", "王老师", W3, group=7) for i in (11, 12, 13)]
    p = week(
        acts, [rule("SubactivitiesPreferredStartingTimes", label, filter=flt, component=2, slots=[(2, 0), (2, 1)])]
    )
    return Case(
        p,
        lambda p, s: start(s, 12) in {(2, 0), (2, 1)},
        {11: (0, 0), 12: (0, 1), 13: (0, 2)},
        ("#12 数学", W3),
        label,
    )


def _sub_slots() -> Case:
    label = "生物第一次课（连堂）在周五上午"
    flt = {"teacher": None, "students": None, "subject": "生物", "tag": None}
    acts = [lesson(21, "生物", "孙老师", W3, 2, group=8), lesson(22, "生物", "孙老师", W3, 1, group=8)]
    p = week(acts, [rule("SubactivitiesPreferredTimeSlots", label, filter=flt, component=1, slots=mornings(5)[-4:])])
    return Case(
        p,
        lambda p, s: all(c in set(mornings(5)[-4:]) for c in cells_of(p, s, [21])),
        {21: (4, 3), 22: (0, 0)},
        ("#21 生物", "周五 第4节"),
        label,
    )


def _min_days() -> Case:
    label = "高二(3)班 数学 分散到不同的日子"
    acts = [lesson(i, "数学", "王老师", W3, group=1) for i in (1, 2, 3)]
    p = week(acts, [rule("MinDaysBetweenActivities", label, activities=[1, 2, 3], min_days=1)], days=3, periods=4)
    return Case(
        p,
        lambda p, s: sorted(start(s, i)[0] for i in (1, 2, 3)) == [0, 1, 2],
        {1: (0, 0), 2: (0, 1), 3: (2, 0)},
        ("#1 数学", "#2 数学", W3, "只隔 0 天"),
        label,
    )


def _max_days() -> Case:
    label = "两节实验课相隔不超过一天"
    p = week(
        [lesson(1, "物理", "张老师", W3), lesson(2, "物理", "张老师", W3)],
        [
            rule("MaxDaysBetweenActivities", label, activities=[1, 2], max_days=1),
            rule("ActivityPreferredStartingTime", "#1 周五", activity=1, day=4, period=0, locked=True),
        ],
        periods=2,
    )
    return Case(
        p, lambda p, s: start(s, 2)[0] in (3, 4), {1: (4, 0), 2: (0, 0)}, ("#1 物理", "#2 物理", "相隔 4 天"), label
    )


def _min_gaps() -> Case:
    label = "两节课之间至少隔两节"
    p = week(
        [lesson(1, "语文", "王老师", W3), lesson(2, "语文", "王老师", W3)],
        [rule("MinGapsBetweenActivities", label, activities=[1, 2], min_gaps=2)],
        days=1,
        periods=4,
    )
    return Case(
        p,
        lambda p, s: sorted(start(s, i)[1] for i in (1, 2)) == [0, 3],
        {1: (0, 0), 2: (0, 2)},
        ("#1 语文", "#2 语文", "少于 2 节"),
        label,
    )


def _same(kind: str, label: str, obeys: Callable[[Placement, Placement], bool]) -> Case:
    p = week(
        [lesson(1, "物理", "张老师", W3), lesson(2, "历史", "周老师", W4)],
        [
            rule(kind, label, activities=[1, 2]),
            rule("ActivityPreferredStartingTime", "#1 周三第3节", activity=1, day=2, period=2, locked=True),
        ],
        days=3,
        periods=4,
    )
    return Case(
        p,
        lambda p, s: obeys(s.placements[1], s.placements[2]),
        {1: (2, 2), 2: (0, 0)},
        ("#2 历史", W4, "#1 物理"),
        label,
    )


def _not_overlapping() -> Case:
    label = "两个班的体育不同时（只有一个操场）"
    p = week(
        [lesson(1, "体育", "赵老师", W3), lesson(2, "体育", "钱老师", W4)],
        [rule("ActivitiesNotOverlapping", label, activities=[1, 2])],
        days=1,
        periods=2,
    )
    return Case(
        p, lambda p, s: start(s, 1) != start(s, 2), {1: (0, 0), 2: (0, 0)}, ("#1 体育", "#2 体育", "重叠"), label
    )


def _consecutive(kind: str, label: str, obeys: Callable[[tuple[int, int], tuple[int, int]], bool]) -> Case:
    p = week(
        [lesson(1, "语文", "王老师", W3), lesson(2, "作文", "王老师", W3), lesson(3, "数学", "李老师", W3)],
        [
            rule(kind, label, first=1, second=2),
            rule("ActivityPreferredStartingTime", "#2 周一第2节", activity=2, day=0, period=1, locked=True),
        ],
        days=1,
        periods=4,
    )
    return Case(
        p,
        lambda p, s: obeys(start(s, 1), start(s, 2)),
        {1: (0, 3), 2: (0, 1), 3: (0, 0)},
        ("#1 语文", "#2 作文"),
        label,
    )


def _three_grouped() -> Case:
    label = "三节综合实践连排"
    acts = [lesson(i, "综合实践", "吴老师", W3) for i in (1, 2, 3)] + [lesson(4, "语文", "王老师", W3)]
    p = week(
        acts,
        [
            rule("ThreeActivitiesGrouped", label, first=1, second=2, third=3),
            rule("ActivityPreferredStartingTime", "#4 周一第2节", activity=4, day=0, period=1, locked=True),
        ],
        days=2,
        periods=4,
    )

    def obeys(p: Problem, s: Solution) -> bool:
        cells = sorted(cells_of(p, s, [1, 2, 3]))
        return len({d for d, _ in cells}) == 1 and [h for _, h in cells] == list(range(cells[0][1], cells[0][1] + 3))

    return Case(p, obeys, {1: (0, 0), 2: (0, 2), 3: (0, 3), 4: (0, 1)}, ("#1 综合实践", "没有连着上"), label)


def _ends_day(kind: str) -> Case:
    label = "体育是高二(3)班当天最后一节"
    cons = (
        rule(kind, label, activity=1)
        if kind == "ActivityEndsStudentsDay"
        else rule(kind, label, filter={"teacher": None, "students": W3, "subject": "体育", "tag": None})
    )
    p = week(
        [lesson(1, "体育", "赵老师", W3), lesson(2, "语文", "王老师", W3), lesson(3, "数学", "李老师", W3)],
        [cons],
        days=1,
        periods=4,
    )
    return Case(
        p,
        lambda p, s: start(s, 1)[1] > max(start(s, 2)[1], start(s, 3)[1]),
        {1: (0, 0), 2: (0, 1), 3: (0, 2)},
        ("#1 体育", W3, "最后一节", "#2 语文"),
        label,
    )


def _three_classes(kind: str, label: str, **params: Any) -> Problem:
    acts = [
        lesson(1, "信息技术", "郑老师", W3),
        lesson(2, "信息技术", "冯老师", W4),
        lesson(3, "信息技术", "何老师", "高二(5)班"),
    ]
    return week(acts, [rule(kind, label, activities=[1, 2, 3], **params)], days=1, periods=4)


def _occupy_max() -> Case:
    label = "三个班的信息技术只占一个时段"
    p = _three_classes("ActivitiesOccupyMaxTimeSlotsFromSelection", label, slots=whole_day(0, 4), max=1)
    return Case(
        p,
        lambda p, s: len({start(s, i) for i in (1, 2, 3)}) == 1,
        {1: (0, 0), 2: (0, 1), 3: (0, 1)},
        ("#1 信息技术", W3, "#3 信息技术", "2 个指定时段"),
        label,
    )


def _max_simultaneous() -> Case:
    label = "机房只有一间：信息技术上午第1、2节至多一个班"
    p = _three_classes("ActivitiesMaxSimultaneousInSelectedTimeSlots", label, slots=[(0, 0), (0, 1)], max=1)

    def obeys(p: Problem, s: Solution) -> bool:
        at = [start(s, i) for i in (1, 2, 3)]
        return at.count((0, 0)) <= 1 and at.count((0, 1)) <= 1

    return Case(
        p, obeys, {1: (0, 0), 2: (0, 0), 3: (0, 3)}, ("周一 第1节", "2 节", "#1 信息技术", "#2 信息技术", W4), label
    )


def _min_simultaneous() -> Case:
    label = "周一第4节至少两个班同上信息技术"
    p = _three_classes("ActivitiesMinSimultaneousInSelectedTimeSlots", label, slots=[(0, 3)], min=2, allow_empty=False)
    return Case(
        p,
        lambda p, s: [start(s, i) for i in (1, 2, 3)].count((0, 3)) >= 2,
        {1: (0, 3), 2: (0, 0), 3: (0, 1)},
        ("周一 第4节", "只有 1 节"),
        label,
    )


def _teacher_week(kind: str, label: str, days: int, periods: int, n: int = 4, **params: Any) -> Problem:
    classes = ["高一(1)班", "高一(2)班", "高一(3)班", "高一(4)班", "高一(5)班", "高一(6)班"]
    acts = [lesson(i, "英语", "王老师", classes[i - 1]) for i in range(1, n + 1)]
    return week(acts, [rule(kind, label, teacher="王老师", **params)], days=days, periods=periods)


def _class_week(kind: str, label: str, days: int, periods: int, n: int = 4, **params: Any) -> Problem:
    teachers = ["王老师", "李老师", "张老师", "刘老师", "陈老师", "杨老师"]
    subjects = ["语文", "数学", "英语", "物理", "化学", "生物"]
    acts = [lesson(i, subjects[i - 1], teachers[i - 1], W3) for i in range(1, n + 1)]
    return week(acts, [rule(kind, label, students=W3, **params)], days=days, periods=periods)


def _lock(p: Problem, aid: int, day: int, period: int) -> Problem:
    p.constraints.append(rule("ActivityPreferredStartingTime", f"#{aid} 锁定", activity=aid, day=day, period=period))
    return p


def _per_day_max(who: str) -> Case:
    label = f"{who}每天至多两节"
    kind = "TeacherMaxHoursDaily" if who == "王老师" else "StudentsSetMaxHoursDaily"
    p = (_teacher_week if who == "王老师" else _class_week)(kind, label, 2, 4, max=2)
    return Case(
        p,
        lambda p, s: all(len(h) <= 2 for h in hours_by_day(p, s, [1, 2, 3, 4]).values()),
        {1: (0, 0), 2: (0, 1), 3: (0, 2), 4: (1, 0)},
        (who, "周一", "3 节", "至多 2 节"),
        label,
    )


def _per_day_min(who: str) -> Case:
    label = f"{who}有课的日子至少两节"
    kind = "TeacherMinHoursDaily" if who == "王老师" else "StudentsSetMinHoursDaily"
    p = (_teacher_week if who == "王老师" else _class_week)(kind, label, 3, 4, min=2, allow_empty=True)
    _lock(p, 1, 2, 0)  # one lesson on 周三 needs company that day
    return Case(
        p,
        lambda p, s: all(len(h) >= 2 for h in hours_by_day(p, s, [1, 2, 3, 4]).values()),
        {1: (2, 0), 2: (0, 0), 3: (0, 1), 4: (0, 2)},
        (who, "周三", "只有 1 节", "至少 2 节"),
        label,
    )


def _days_max() -> Case:
    label = "王老师每周只来一天"
    p = _teacher_week("TeacherMaxDaysPerWeek", label, 5, 4, max=1)
    _lock(p, 1, 3, 0)
    return Case(
        p,
        lambda p, s: {start(s, i)[0] for i in (1, 2, 3, 4)} == {3},
        {1: (3, 0), 2: (3, 1), 3: (3, 2), 4: (0, 0)},
        ("王老师", "2 天", "至多 1 天"),
        label,
    )


def _days_min() -> Case:
    label = "王老师每周至少四天有课"
    p = _teacher_week("TeacherMinDaysPerWeek", label, 5, 4, min=4)
    return Case(
        p,
        lambda p, s: len({start(s, i)[0] for i in (1, 2, 3, 4)}) >= 4,
        {1: (0, 0), 2: (0, 1), 3: (0, 2), 4: (0, 3)},
        ("王老师", "只有 1 天", "至少 4 天"),
        label,
    )


def _interval_days(who: str) -> Case:
    label = f"{who}下午至多一天有课"
    kind = "TeacherIntervalMaxDaysPerWeek" if who == "王老师" else "StudentsSetIntervalMaxDaysPerWeek"
    p = (_teacher_week if who == "王老师" else _class_week)(kind, label, 3, 4, n=4, start=2, end=4, max=1)
    # the mornings hold only two of the four lessons, so two go to afternoons: on one day only
    p.constraints.append(rule("BreakTimes", "周二、周三上午不上课", slots=[(1, 0), (1, 1), (2, 0), (2, 1)]))
    _lock(p, 1, 2, 3)

    def obeys(p: Problem, s: Solution) -> bool:
        return {d for d, h in cells_of(p, s, [1, 2, 3, 4]) if h >= 2} == {2}

    broken = {1: (2, 3), 2: (1, 2), 3: (0, 0), 4: (0, 1)}
    return Case(p, obeys, broken, (who, "2 天在第3节至第4节有课", "至多 1 天"), label)


def _no_gaps(who: str, per: str) -> Case:
    label = f"{who}不留空节（{per}）"
    kind = ("Teacher" if who == "王老师" else "StudentsSet") + f"MaxGaps{per}"
    p = (_teacher_week if who == "王老师" else _class_week)(kind, label, 2, 4, n=3, max=0)
    _lock(p, 1, 1, 3)  # 周二第4节: the others fill 第2–3节 of 周二, or go to 周一 together
    p.constraints.append(rule("MaxDaysBetweenActivities", "同一天", activities=[1, 2, 3], max_days=0))

    def obeys(p: Problem, s: Solution) -> bool:
        return all(gaps(h) == 0 for h in hours_by_day(p, s, [1, 2, 3]).values())

    return Case(p, obeys, {1: (1, 3), 2: (1, 0), 3: (1, 1)}, (who, "1 个空节"), label)


def _continuous(who: str, tag: str | None) -> Case:
    label = f"{who}至多连上两节" + (f"{tag}课" if tag else "")
    kind = ("Teacher" if who == "王老师" else "StudentsSet") + ("ActivityTag" if tag else "") + "MaxHoursContinuously"
    params: dict[str, Any] = {"max": 2}
    if tag:
        params["tag"] = tag
    p = (_teacher_week if who == "王老师" else _class_week)(kind, label, 1, 4, n=3, **params)
    if tag:
        p.activities[:] = [Activity(a.id, a.subject, a.teachers, a.students, a.duration, (tag,)) for a in p.activities]
    return Case(
        p,
        lambda p, s: longest_run(hours_by_day(p, s, [1, 2, 3])[0]) <= 2,
        {1: (0, 0), 2: (0, 1), 3: (0, 2)},
        (who, "连上 3 节", "至多 2 节"),
        label,
    )


def _tag_daily(who: str) -> Case:
    label = f"{who}每天至多一节实验课"
    kind = "TeacherActivityTagMaxHoursDaily" if who == "王老师" else "StudentsSetActivityTagMaxHoursDaily"
    p = (_teacher_week if who == "王老师" else _class_week)(kind, label, 2, 4, n=3, tag="实验", max=1)
    p.activities[:] = [
        Activity(a.id, a.subject, a.teachers, a.students, a.duration, ("实验",) if a.id < 3 else ())
        for a in p.activities
    ]
    return Case(
        p,
        lambda p, s: start(s, 1)[0] != start(s, 2)[0],
        {1: (0, 0), 2: (0, 1), 3: (1, 0)},
        (who, "周一", "2 节", "至多 1 节"),
        label,
    )


def _early() -> Case:
    label = "高二(3)班每天从第1节开始"
    p = _class_week("StudentsSetEarlyMaxBeginningsAtSecondHour", label, 2, 4, n=3, max=0)
    _lock(p, 1, 1, 2)  # a lesson at 周二第3节 means 周二 starts at 第1节 (and, with no gaps, 第2节 too)
    p.constraints.append(rule("StudentsSetMaxGapsPerDay", "高二(3)班不留空节", students=W3, max=0))

    def obeys(p: Problem, s: Solution) -> bool:
        return all(h[0] == 0 for h in hours_by_day(p, s, [1, 2, 3]).values())

    return Case(p, obeys, {1: (1, 2), 2: (1, 1), 3: (0, 0)}, (W3, "周二从第2节", "至多 0 天"), label)


def _max_per_day() -> Case:
    label = "高二(3)班 数学 每天最多 1 次"
    acts = [lesson(i, "数学", "王老师", W3, group=1) for i in range(1, 6)]
    p = week(acts, [rule("ActivitiesMaxPerDay", label, activities=[1, 2, 3, 4, 5], max=1)])
    return Case(
        p,
        lambda p, s: sorted(start(s, i)[0] for i in range(1, 6)) == [0, 1, 2, 3, 4],
        {1: (0, 0), 2: (0, 1), 3: (2, 0), 4: (3, 0), 5: (4, 0)},
        ("周一", "2 节", "至多 1 节", "#1 数学", "#2 数学"),
        label,
    )


def _balanced() -> Case:
    label = "王老师每天课时均衡"
    p = _teacher_week("TeacherBalancedDays", label, 3, 4, n=6)
    return Case(
        p,
        lambda p, s: sorted(len(h) for h in hours_by_day(p, s, range(1, 7)).values()) == [2, 2, 2],
        {1: (0, 0), 2: (0, 1), 3: (0, 2), 4: (1, 0), 5: (1, 1), 6: (2, 0)},
        ("王老师", "不均"),
        label,
    )


# rooms
LABS = [Room(CHEM1, 50, "实验楼", "实验室"), Room(CHEM2, 50, "实验楼", "实验室")]
CLASSROOMS = [Room("301", 50, "教学楼", "普通教室"), Room("302", 50, "教学楼", "普通教室")]


def _room_na() -> Case:
    label = "化学实验室1 周一检修"
    p = week(
        [lesson(1, "化学", "刘老师", W3)],
        [
            rule("ActivityPreferredRoom", "#1 在化学实验室1", activity=1, room=CHEM1),
            rule("RoomNotAvailableTimes", label, room=CHEM1, slots=whole_day(0, 2)),
        ],
        days=2,
        periods=2,
        rooms=LABS,
    )
    return Case(p, lambda p, s: start(s, 1)[0] == 1 and s.placements[1].rooms[:1] == (CHEM1,), {1: (0, 1, CHEM1)},
                (CHEM1, "周一 第2节", "不可用", "#1 化学"), label)  # fmt: skip


def _room_pref(kind: str, label: str, **params: Any) -> Case:
    acts = [
        lesson(1, "化学", "刘老师", W3, tags=("实验",)),
        lesson(2, "化学", "刘老师", W4, tags=("实验",)),
        lesson(3, "语文", "王老师", W3),
    ]
    p = week(acts, [rule(kind, label, **params)], days=1, periods=2, rooms=LABS + CLASSROOMS)
    if kind in ("ActivityPreferredRoom", "ActivityPreferredRooms"):
        targets = [1]
    elif kind == "StudentsSetHomeRooms":
        targets = [1, 3]
    elif kind == "TeacherHomeRooms":
        targets = [1, 2]
    else:
        targets = [1, 2]
    allowed = set(params.get("rooms", [params.get("room")]))

    def obeys(p: Problem, s: Solution) -> bool:
        return all(s.placements[i].rooms[:1] and s.placements[i].rooms[0] in allowed for i in targets)

    return Case(p, obeys, {1: (0, 0, "301"), 2: (0, 1, CHEM1), 3: (0, 1, "302")}, ("#1 化学", W3, "301"), label)


def _occupy_rooms() -> Case:
    label = "刘老师的化学课只用一间实验室"
    acts = [lesson(i, "化学", "刘老师", c) for i, c in ((1, W3), (2, W4), (3, "高二(5)班"))]
    cons = [rule("ActivityPreferredRooms", f"#{i} 实验室", activity=i, rooms=[CHEM1, CHEM2]) for i in (1, 2, 3)]
    cons += [
        rule("ActivitiesOccupyMaxDifferentRooms", label, activities=[1, 2, 3], max=1),
        rule("RoomNotAvailableTimes", "化学实验室1 周一第1节有课", room=CHEM1, slots=[(0, 0)]),
    ]
    p = week(acts, cons, days=1, periods=4, rooms=LABS)
    return Case(
        p,
        # one lab for all three, and not lab 1 in its busy first period
        lambda p, s: (
            len({s.placements[i].rooms for i in (1, 2, 3)}) == 1
            and not any(s.placements[i].rooms == (CHEM1,) and s.placements[i].period == 0 for i in (1, 2, 3))
        ),
        {1: (0, 0, CHEM2), 2: (0, 1, CHEM1), 3: (0, 2, CHEM2)},
        ("#1 化学", "2 间教室", CHEM1, CHEM2, "至多 1 间"),
        label,
    )


def _same_room_consecutive() -> Case:
    label = "连着的两节化学在同一间实验室"
    acts = [lesson(1, "化学", "刘老师", W3), lesson(2, "化学", "刘老师", W3)]
    cons = [rule("ActivityPreferredRooms", f"#{i} 实验室", activity=i, rooms=[CHEM1, CHEM2]) for i in (1, 2)]
    cons += [
        rule("ActivitiesSameRoomIfConsecutive", label, activities=[1, 2]),
        rule("TwoActivitiesConsecutive", "#1 接 #2", first=1, second=2),
        rule("RoomNotAvailableTimes", "化学实验室1 第1节有课", room=CHEM1, slots=[(0, 0)]),
    ]
    p = week(acts, cons, days=1, periods=2, rooms=LABS)
    return Case(
        p,
        lambda p, s: s.placements[1].rooms == s.placements[2].rooms == (CHEM2,),
        {1: (0, 0, CHEM2), 2: (0, 1, CHEM1)},
        ("#1 化学", "#2 化学", "同一教室"),
        label,
    )


HARD_CASES: dict[str, Callable[[], Case]] = {
    "BreakTimes": _break,
    "TeacherNotAvailableTimes": _teacher_na,
    "StudentsSetNotAvailableTimes": _students_na,
    "ActivityPreferredStartingTime": _locked,
    "ActivityPreferredStartingTime/day": _day_only,
    "ActivityPreferredStartingTimes": _starting_times,
    "ActivityPreferredTimeSlots": _time_slots,
    "ActivitiesPreferredStartingTimes": _subject_mornings,
    "ActivitiesPreferredTimeSlots": _teacher_slots,
    "SubactivitiesPreferredStartingTimes": _sub_starting,
    "SubactivitiesPreferredTimeSlots": _sub_slots,
    "MinDaysBetweenActivities": _min_days,
    "MaxDaysBetweenActivities": _max_days,
    "MinGapsBetweenActivities": _min_gaps,
    "ActivitiesSameStartingTime": lambda: _same(
        "ActivitiesSameStartingTime", "物理与历史同时（走班）", lambda a, b: (a.day, a.period) == (b.day, b.period)
    ),
    "ActivitiesSameStartingDay": lambda: _same(
        "ActivitiesSameStartingDay", "物理与历史同一天", lambda a, b: a.day == b.day
    ),
    "ActivitiesSameStartingHour": lambda: _same(
        "ActivitiesSameStartingHour", "物理与历史同一节次", lambda a, b: a.period == b.period
    ),
    "ActivitiesNotOverlapping": _not_overlapping,
    "TwoActivitiesConsecutive": lambda: _consecutive(
        "TwoActivitiesConsecutive", "语文后紧接作文", lambda a, b: a[0] == b[0] and b[1] == a[1] + 1
    ),
    "TwoActivitiesGrouped": lambda: _consecutive(
        "TwoActivitiesGrouped", "语文与作文连排", lambda a, b: a[0] == b[0] and abs(a[1] - b[1]) == 1
    ),
    "ThreeActivitiesGrouped": _three_grouped,
    "ActivityEndsStudentsDay": lambda: _ends_day("ActivityEndsStudentsDay"),
    "ActivitiesEndStudentsDay": lambda: _ends_day("ActivitiesEndStudentsDay"),
    "ActivitiesOccupyMaxTimeSlotsFromSelection": _occupy_max,
    "ActivitiesMaxSimultaneousInSelectedTimeSlots": _max_simultaneous,
    "ActivitiesMinSimultaneousInSelectedTimeSlots": _min_simultaneous,
    "TeacherMaxHoursDaily": lambda: _per_day_max("王老师"),
    "StudentsSetMaxHoursDaily": lambda: _per_day_max(W3),
    "TeacherMinHoursDaily": lambda: _per_day_min("王老师"),
    "StudentsSetMinHoursDaily": lambda: _per_day_min(W3),
    "TeacherMaxDaysPerWeek": _days_max,
    "TeacherMinDaysPerWeek": _days_min,
    "TeacherIntervalMaxDaysPerWeek": lambda: _interval_days("王老师"),
    "StudentsSetIntervalMaxDaysPerWeek": lambda: _interval_days(W3),
    "TeacherMaxGapsPerDay": lambda: _no_gaps("王老师", "PerDay"),
    "TeacherMaxGapsPerWeek": lambda: _no_gaps("王老师", "PerWeek"),
    "StudentsSetMaxGapsPerDay": lambda: _no_gaps(W3, "PerDay"),
    "StudentsSetMaxGapsPerWeek": lambda: _no_gaps(W3, "PerWeek"),
    "TeacherMaxHoursContinuously": lambda: _continuous("王老师", None),
    "StudentsSetMaxHoursContinuously": lambda: _continuous(W3, None),
    "TeacherActivityTagMaxHoursContinuously": lambda: _continuous("王老师", "实验"),
    "StudentsSetActivityTagMaxHoursContinuously": lambda: _continuous(W3, "实验"),
    "TeacherActivityTagMaxHoursDaily": lambda: _tag_daily("王老师"),
    "StudentsSetActivityTagMaxHoursDaily": lambda: _tag_daily(W3),
    "StudentsSetEarlyMaxBeginningsAtSecondHour": _early,
    "ActivitiesMaxPerDay": _max_per_day,
    "TeacherBalancedDays": _balanced,
    "RoomNotAvailableTimes": _room_na,
    "ActivityPreferredRoom": lambda: _room_pref("ActivityPreferredRoom", "#1 在化学实验室2", activity=1, room=CHEM2),
    "ActivityPreferredRooms": lambda: _room_pref(
        "ActivityPreferredRooms", "#1 在化学实验室", activity=1, rooms=[CHEM1, CHEM2]
    ),
    "SubjectPreferredRooms": lambda: _room_pref(
        "SubjectPreferredRooms", "化学在实验室", subject="化学", rooms=[CHEM1, CHEM2]
    ),
    "ActivityTagPreferredRooms": lambda: _room_pref(
        "ActivityTagPreferredRooms", "实验课在实验室", tag="实验", rooms=[CHEM1, CHEM2]
    ),
    "SubjectActivityTagPreferredRooms": lambda: _room_pref(
        "SubjectActivityTagPreferredRooms", "化学实验在实验室", subject="化学", tag="实验", rooms=[CHEM1, CHEM2]
    ),
    "StudentsSetHomeRooms": lambda: _room_pref(
        "StudentsSetHomeRooms", "高二(3)班在本班教室", students=W3, rooms=["302"]
    ),
    "TeacherHomeRooms": lambda: _room_pref("TeacherHomeRooms", "刘老师在化学实验室2", teacher="刘老师", rooms=[CHEM2]),
    "ActivitiesOccupyMaxDifferentRooms": _occupy_rooms,
    "ActivitiesSameRoomIfConsecutive": _same_room_consecutive,
}


def test_every_kind_the_solver_supports_has_a_case() -> None:
    covered = {name.split("/")[0] for name in HARD_CASES}
    assert sorted(SUPPORTED - covered - {"BasicCompulsoryTime", "BasicCompulsorySpace"}) == []


@pytest.mark.parametrize("name", sorted(HARD_CASES))
def test_hard_rule_decides_the_placement(name: str) -> None:
    case = HARD_CASES[name]()
    sol = solved(case.problem)
    assert case.obeys(case.problem, sol), {a: (p.day, p.period, p.rooms) for a, p in sol.placements.items()}
    assert check(case.problem, sol)[0] == []


@pytest.mark.parametrize("name", sorted(HARD_CASES))
def test_checker_names_what_a_broken_rule_hurts(name: str) -> None:
    case = HARD_CASES[name]()
    bad = timetable(case.broken)
    assert not case.obeys(case.problem, bad)
    hard, soft = check(case.problem, bad)
    assert soft == []
    mine = [v for v in hard if v.constraint == case.label]
    assert mine, [(v.constraint, v.message) for v in hard]
    assert all(v.weight == 100 for v in mine)
    assert any(all(w in v.message for w in case.words) for v in mine), [v.message for v in mine]
    # the hand-made timetable breaks only this rule
    assert {v.constraint for v in hard} == {case.label}, [(v.constraint, v.message) for v in hard]


def _softened(case: Case, weight: float) -> Problem:
    p = case.problem
    p.constraints[:] = [
        Constraint(c.kind, weight, c.params, c.label) if c.label == case.label else c for c in p.constraints
    ]
    return p


@pytest.mark.parametrize("name", sorted(n for n in HARD_CASES if n != "BreakTimes"))
def test_soft_rule_that_can_be_met_is_met(name: str) -> None:
    case = HARD_CASES[name]()
    p = _softened(case, 90)
    result = run(p)
    assert result.solved and result.solution is not None
    assert result.soft_cost == 0, [v.message for v in result.soft_violations]
    assert result.soft_violations == []
    assert case.obeys(p, result.solution)


@pytest.mark.parametrize("name", sorted(n for n in HARD_CASES if n != "BreakTimes"))
def test_checker_prices_a_broken_soft_rule(name: str) -> None:
    case = HARD_CASES[name]()
    p = _softened(case, 60)
    hard, soft = check(p, timetable(case.broken))
    assert hard == []
    assert [v.constraint for v in soft] == [case.label]
    assert soft[0].weight == 60 and soft[0].cost >= 60 and soft[0].cost % 60 == 0


def test_hard_balanced_days_hold_even_when_stopping_at_the_first_timetable() -> None:
    # a soft rule makes two phases; the first timetable must already keep every hard rule
    case = _balanced()
    case.problem.constraints.append(
        rule("ActivityPreferredStartingTime", "#1 最好在周三第4节", 50, activity=1, day=2, period=3)
    )
    for kw in ({"stop_after_first": True}, {}):
        sol = solved(case.problem, **kw)
        assert case.obeys(case.problem, sol), (kw, sorted(sol.slot(a) for a in sol.placements))


# --- soft rules ----------------------------------------------------------------------------------------------


def test_preferences_that_fit_are_all_met() -> None:
    flt = {"teacher": None, "students": None, "subject": None, "tag": None}
    acts = [lesson(i, s, t, c) for i, (s, t, c) in enumerate(
        [("语文", "王老师", W3), ("数学", "李老师", W3), ("英语", "张老师", W3),
         ("语文", "王老师", W4), ("数学", "李老师", W4), ("英语", "张老师", W4)], start=1)]  # fmt: skip
    main_subjects = [
        rule("ActivitiesPreferredStartingTimes", f"{s}排在上午", 90, filter={**flt, "subject": s}, slots=mornings(2))
        for s in ("语文", "数学", "英语")
    ]
    p = week(
        acts,
        [
            *main_subjects,
            rule("TeacherNotAvailableTimes", "王老师周一想休息", 80, teacher="王老师", slots=whole_day(0)),
            rule("TeacherMaxGapsPerDay", "教师每天至多一个空节", 70, teacher=None, max=1),
            rule("StudentsSetMaxGapsPerDay", "班级不留空节", 95, students=None, max=0),
        ],
        days=2,
    )
    result = run(p)
    assert result.solved and result.status == "optimal" and result.solution is not None
    assert result.soft_cost == 0 and result.soft_violations == []
    assert all(result.solution.slot(i)[1] in MORNING for i in range(1, 7))
    assert all(result.solution.slot(i)[0] == 1 for i in (1, 4))


def test_a_preference_that_cannot_be_met_is_priced_weight_times_instances_and_the_week_is_still_solved() -> None:
    # 王老师 teaches four classes in a week of two days of two periods: two lessons must fall on 周一
    classes = ["高一(1)班", "高一(2)班", "高一(3)班", "高一(4)班"]
    acts = [lesson(i, "英语", "王老师", c) for i, c in enumerate(classes, start=1)]
    label = "王老师周一想休息"
    p = week(
        acts, [rule("TeacherNotAvailableTimes", label, 80, teacher="王老师", slots=whole_day(0, 2))], days=2, periods=2
    )
    result = run(p)
    assert result.solved and result.status in ("optimal", "feasible")
    assert result.hard_violations == []
    assert [v.constraint for v in result.soft_violations] == [label]
    v = result.soft_violations[0]
    assert v.weight == 80 and v.cost == 80 * 2
    assert result.soft_cost == 160
    assert "王老师" in v.message and "周一" in v.message


def test_soft_spread_over_the_week_broken_only_as_often_as_it_must() -> None:
    # 6 math lessons in a 5-day week with "different days" at 95 %: one pair must share a day
    acts = [lesson(i, "数学", "李老师", W3, group=1) for i in range(1, 7)]
    label = "高二(3)班 数学 分散到不同的日子"
    p = week(acts, [rule("MinDaysBetweenActivities", label, 95, activities=list(range(1, 7)), min_days=1)], periods=4)
    result = run(p)
    assert result.solved and result.solution is not None
    days = sorted(result.solution.slot(i)[0] for i in range(1, 7))
    assert sorted(set(days)) == [0, 1, 2, 3, 4]
    [v] = result.soft_violations
    assert v.constraint == label and v.cost == 95 * 1 and "数学" in v.message and W3 in v.message


def test_soft_rules_never_make_a_week_unsolved() -> None:
    # every teacher rule here is impossible to keep, but all are soft
    acts = [lesson(i, "物理", "张老师", f"高一({i})班") for i in range(1, 7)]
    p = week(
        acts,
        [
            rule("TeacherMaxHoursDaily", "张老师每天至多一节", 90, teacher="张老师", max=1),
            rule("TeacherMaxDaysPerWeek", "张老师每周只来一天", 60, teacher="张老师", max=1),
            rule("TeacherNotAvailableTimes", "张老师不想上课", 99, teacher="张老师", slots=mornings(2)),
        ],
        days=2,
        periods=4,
    )
    result = run(p)
    assert result.solved and result.hard_violations == [] and result.placed == 6
    assert {v.constraint for v in result.soft_violations} == {
        "张老师每天至多一节",
        "张老师每周只来一天",
        "张老师不想上课",
    }
    assert result.soft_cost == sum(v.cost for v in result.soft_violations)
    assert all(v.cost % v.weight == 0 and v.cost >= v.weight for v in result.soft_violations)


# --- rooms ---------------------------------------------------------------------------------------------------


def test_a_fifty_student_class_never_goes_into_a_forty_seat_room() -> None:
    rooms = [Room("机房1", 40, "科技楼", "机房"), Room("机房2", 60, "科技楼", "机房")]
    big = StudentSet("高一(1)班", 50, (), "行政班")
    small = StudentSet("高一(2)班", 38, (), "行政班")
    acts = [
        lesson(i, "信息技术", "郑老师" if i <= 3 else "冯老师", big.name if i <= 3 else small.name) for i in range(1, 7)
    ]
    p = week(acts, [rule("SubjectPreferredRooms", "信息技术在机房", subject="信息技术", rooms=["机房1", "机房2"])],
             days=1, periods=3, sets=[big, small], rooms=rooms)  # fmt: skip
    sol = solved(p)
    for i in range(1, 4):
        assert sol.placements[i].rooms == ("机房2",)
    # the small class uses 机房1 while the big one is in 机房2 (three periods, six lessons)
    assert {sol.placements[i].rooms for i in range(4, 7)} == {("机房1",)}
    broken = Solution({**sol.placements, 1: Placement(sol.placements[1].day, sol.placements[1].period, ("机房1",))})
    msgs = hard_messages(p, broken)
    assert any("50 人" in m and "机房1" in m and "40 人" in m and "#1 信息技术" in m for m in msgs), msgs


def test_lessons_choose_among_several_labs_and_never_share_one() -> None:
    labs = [Room(f"化学实验室{i}", 50, "实验楼", "实验室") for i in (1, 2, 3)]
    classes = [f"高二({i})班" for i in range(1, 7)]
    acts = [lesson(i, "化学", f"化学{i}老师", c) for i, c in enumerate(classes, start=1)]
    names = [r.name for r in labs]
    p = week(
        acts,
        [rule("SubjectPreferredRooms", "化学在实验室", subject="化学", rooms=names)],
        days=1,
        periods=2,
        rooms=labs,
    )
    sol = solved(p)
    used = [(sol.slot(i), sol.placements[i].rooms[0]) for i in range(1, 7)]
    assert all(r in names for _, r in used)
    assert len(set(used)) == 6  # six lessons, two periods × three labs: every lab busy, none twice
    clash = Solution({**sol.placements})
    other = next(i for i in range(2, 7) if sol.slot(i) == sol.slot(1))
    clash.placements[other] = Placement(*sol.slot(other), sol.placements[1].rooms)
    msgs = hard_messages(p, clash)
    assert any("教室" in m and sol.placements[1].rooms[0] in m and "同时" in m for m in msgs), msgs


def test_a_virtual_room_takes_one_real_room_from_each_of_its_sets() -> None:
    # 合班 lesson for two classes in the lecture hall made of 301 + 302, or 301 + a lab
    rooms = CLASSROOMS + LABS + [Room("合班教室", 100, "教学楼", "", (("301",), ("302", CHEM1)))]
    acts = [
        lesson(1, "讲座", "校长", (W3, W4), n=90),
        lesson(2, "语文", "王老师", "高二(5)班"),
        lesson(3, "数学", "李老师", "高二(6)班"),
    ]
    cons = [
        rule("ActivityPreferredRoom", "#1 在合班教室", activity=1, room="合班教室"),
        rule("ActivityPreferredRoom", "#2 在301", activity=2, room="301"),
        rule("ActivityPreferredRoom", "#3 在302", activity=3, room="302"),
        rule("ActivitiesSameStartingTime", "同一时间", activities=[1, 3]),
    ]
    p = week(acts, cons, days=1, periods=2, rooms=rooms)
    sol = solved(p)
    lecture = sol.placements[1]
    assert lecture.rooms == ("合班教室", "301", CHEM1)  # 302 is taken by #3 at that time
    assert sol.slot(2) != sol.slot(1)  # 301 is part of the lecture hall then
    broken = timetable({1: (0, 0, "合班教室", "301", CHEM1), 2: (0, 0, "301"), 3: (0, 0, "302")})
    msgs = hard_messages(p, broken)
    assert any("301" in m and "#1 讲座" in m and "#2 语文" in m for m in msgs), msgs


def test_a_room_not_available_sends_the_lesson_to_another_room_or_time() -> None:
    label = "化学实验室1 周一上午检修"
    acts = [lesson(1, "化学", "刘老师", W3), lesson(2, "化学", "陈老师", W4)]
    cons = [
        rule("SubjectPreferredRooms", "化学在实验室", subject="化学", rooms=[CHEM1, CHEM2]),
        rule("RoomNotAvailableTimes", label, room=CHEM1, slots=[(0, 0), (0, 1)]),
        rule("ActivitiesSameStartingTime", "两班同时上化学", activities=[1, 2]),
    ]
    p = week(acts, cons, days=1, periods=3, rooms=LABS)
    sol = solved(p)
    assert sol.slot(1) == sol.slot(2) == (0, 2)  # both labs are needed: only 第3节 has both
    assert {sol.placements[1].rooms, sol.placements[2].rooms} == {(CHEM1,), (CHEM2,)}


# --- 走班: parallel blocks of teaching classes ------------------------------------------------------------------


def _zouban() -> Problem:
    """高二(3)班 and 高二(4)班 split by subject choices into four groups; 物理/历史 and 化学/生物/地理 are blocks."""
    groups = {
        "3物化": 20, "3物生": 25, "3史地": 5,  # 高二(3)班
        "4物化": 10, "4史生": 20, "4史地": 18,  # 高二(4)班
    }  # fmt: skip
    sets = [StudentSet(g, n, (), "选科组合") for g, n in groups.items()]
    sets += [
        StudentSet(W3, 50, ("3物化", "3物生", "3史地"), "行政班"),
        StudentSet(W4, 48, ("4物化", "4史生", "4史地"), "行政班"),
        StudentSet("物理1班", 55, ("3物化", "3物生", "4物化"), "教学班"),
        StudentSet("历史1班", 43, ("3史地", "4史生", "4史地"), "教学班"),
        StudentSet("化学1班", 30, ("3物化", "4物化"), "教学班"),
        StudentSet("生物1班", 45, ("3物生", "4史生"), "教学班"),
        StudentSet("地理1班", 23, ("3史地", "4史地"), "教学班"),
    ]
    acts: list[Activity] = []
    blocks: list[list[int]] = []
    aid = 0
    for _n in range(3):  # three lessons a week of each block
        for block in (("物理1班", "历史1班"), ("化学1班", "生物1班", "地理1班")):
            ids = []
            for tc in block:
                aid += 1
                acts.append(lesson(aid, tc[:2], f"{tc[:2]}老师", tc))
                ids.append(aid)
            blocks.append(ids)
    for cls in (W3, W4):
        for subj in ("语文", "数学", "英语"):
            for _n in range(3):
                aid += 1
                acts.append(lesson(aid, subj, f"{subj}{cls[3]}老师", cls))
    cons = [rule("ActivitiesSameStartingTime", f"走班时段{k + 1}", activities=ids) for k, ids in enumerate(blocks)]
    return week(acts, cons, days=3, periods=10 // 2, sets=sets)


def test_zouban_blocks_run_in_parallel_and_no_student_is_in_two_places() -> None:
    p = _zouban()
    sol = solved(p)
    for c in p.constraints:
        if c.kind == "ActivitiesSameStartingTime":
            assert len({sol.slot(i) for i in c.params["activities"]}) == 1, c.label
    atoms = [g for g, s in p.student_sets.items() if not s.members]
    for atom in atoms:
        mine = [a for a in p.activities if atom in p.atoms_of(a.students)]
        cells = cells_of(p, sol, [a.id for a in mine])
        assert len(cells) == len(set(cells)), atom
    # the whole 24-period week of 高二(3)班: 6 block lessons + 9 of its own, each student group busy 15 times
    assert len(cells_of(p, sol, [a.id for a in p.activities if "3物化" in p.atoms_of(a.students)])) == 15


def test_a_block_with_shared_students_is_impossible_and_the_block_is_named() -> None:
    p = _zouban()
    # 化学1班 and 物理1班 share 3物化: putting them in one block cannot work
    phys = next(a.id for a in p.activities if a.students == ("物理1班",))
    chem = next(a.id for a in p.activities if a.students == ("化学1班",))
    p.constraints.append(rule("ActivitiesSameStartingTime", "物理化学同一时段", activities=[phys, chem]))
    result = run(p)
    assert not result.solved and result.status == "infeasible"
    text = "\n".join(result.explanation)
    assert "物理化学同一时段" in text, text
    assert "物理1班" in text and "化学1班" in text, text


# --- repair mode: a change after the timetable is published ---------------------------------------------------

TEACHERS = {"语文": "王老师", "数学": "李老师", "英语": "张老师", "物理": "刘老师", "化学": "陈老师", "体育": "赵老师"}
LOAD = {"语文": 4, "数学": 4, "英语": 4, "物理": 3, "化学": 2, "体育": 2}


def _small_school(rooms: bool = False) -> Problem:
    """Three classes of 高二, six teachers each teaching the subject in every class, a 5 × 6 week."""
    acts: list[Activity] = []
    cons: list[Constraint] = []
    aid = 0
    for cls in ("高二(1)班", "高二(2)班", "高二(3)班"):
        for subject, n in LOAD.items():
            ids = []
            for _k in range(n):
                aid += 1
                acts.append(lesson(aid, subject, TEACHERS[subject], cls, group=aid - _k))
                ids.append(aid)
            cons.append(rule("ActivitiesMaxPerDay", f"{cls} {subject} 每天最多 1 次", activities=ids, max=1))
    room_list: list[Room] = []
    if rooms:
        room_list = [Room("物理实验室", 50, "实验楼", "实验室"), Room("化学实验室", 50, "实验楼", "实验室")]
        cons.append(rule("SubjectPreferredRooms", "理化在实验室", subject="物理", rooms=["物理实验室", "化学实验室"]))
        cons.append(rule("SubjectPreferredRooms", "化学在实验室", subject="化学", rooms=["物理实验室", "化学实验室"]))
    return week(acts, cons, periods=6, rooms=room_list)


@pytest.mark.parametrize("rooms", [False, True], ids=["no-rooms", "lab-choices"])
def test_repair_keeps_the_timetable_and_moves_only_what_the_change_forces(rooms: bool) -> None:
    p = _small_school(rooms)
    first = solved(p)
    wang = [a.id for a in p.activities if a.teachers == ("王老师",)]
    on_tuesday = {i for i in wang if first.slot(i)[0] == 1}
    assert on_tuesday  # 15 lessons in five days with at most one a day per class: 王老师 teaches on 周二
    p.constraints.append(rule("TeacherNotAvailableTimes", "王老师周二请假", teacher="王老师", slots=whole_day(1, 6)))

    result = run(p, previous=first)
    assert result.solved and result.solution is not None, result.explanation
    new = result.solution
    assert all(new.slot(i)[0] != 1 for i in wang)
    changed = {a for a in first.placements if first.placements[a] != new.placements[a]}
    assert {m["activity"] for m in result.moved} == changed
    assert on_tuesday <= changed
    assert len(changed) <= 3 * len(on_tuesday)  # a lesson swapped into each freed place at most, and back
    assert len(changed) <= len(p.activities) // 4
    for m in result.moved:
        old, cur = first.placements[m["activity"]], new.placements[m["activity"]]
        assert m["from"] == [old.day, old.period, list(old.rooms)] and m["to"] == [cur.day, cur.period, list(cur.rooms)]
        assert m["subject"] == p.activity(m["activity"]).subject and m["teachers"]
    assert check(p, new)[0] == []


def test_repair_with_nothing_to_change_moves_nothing() -> None:
    p = _small_school(rooms=True)
    first = solved(p)
    result = run(p, previous=first)
    assert result.solved and result.moved == []
    assert result.solution is not None and result.solution.placements == first.placements


def test_repair_of_an_impossible_change_explains_it() -> None:
    p = _small_school()
    first = solved(p)
    # 王老师 has 12 lessons; away on 周二 to 周五 leaves 6 periods
    away = [c for d in range(1, 5) for c in whole_day(d, 6)]
    p.constraints.append(rule("TeacherNotAvailableTimes", "王老师外出培训", teacher="王老师", slots=away))
    result = run(p, previous=first)
    assert not result.solved and result.status == "infeasible" and result.moved == []
    assert result.explanation == ["王老师 每周有 12 节课，但只有 6 个可上课的节次"]


# --- progress, cancelling, time limits ------------------------------------------------------------------------


def _odd_round_robin(n: int = 4, teacher_rule: bool = False) -> Problem:
    """Every pair of 2n+1 classes has one joint lesson in a week of 2n periods. Each class has exactly 2n lessons,
    so no count shows a problem, yet it is impossible (a round robin of an odd number of classes needs 2n+1
    rounds) and CP-SAT cannot prove it quickly."""
    classes = [f"高一({i})班" for i in range(1, 2 * n + 2)]
    acts = []
    for k, (a, b) in enumerate(itertools.combinations(classes, 2), start=1):
        acts.append(lesson(k, "联合活动", (f"教练{k}",), (a, b)))
    cons = (
        [rule("TeacherNotAvailableTimes", "教练1 周一第1节不在", teacher="教练1", slots=[(0, 0)])]
        if teacher_rule
        else []
    )
    return week(acts, cons, days=2, periods=n)


def test_progress_reports_increasing_seconds_and_fraction_of_the_time_limit() -> None:
    seen: list[Progress] = []
    t0 = time.monotonic()
    result = run(_odd_round_robin(5), time_limit=2.0, progress=seen.append)
    wall = time.monotonic() - t0
    assert result.status == "timeout" and not result.solved
    assert len(seen) >= 3
    seconds = [p.seconds for p in seen]
    assert seconds == sorted(seconds) and seconds[0] > 0 and seconds[-1] <= 2.0 + 0.5
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and all(0 < f < 1 for f in fractions)
    assert all(abs(p.fraction - min(0.99, p.seconds / 2.0)) < 1e-9 and p.time_limit == 2.0 for p in seen)
    assert all(p.soft_cost is None and p.solutions == 0 for p in seen)  # nothing found yet
    assert wall <= 2.0 + 1.5
    assert result.explanation and "2 秒" in result.explanation[0]


def test_progress_shows_the_best_cost_once_timetables_are_found() -> None:
    seen: list[Progress] = []
    p = _small_school()
    flt = {"teacher": None, "students": None, "subject": "语文", "tag": None}
    p.constraints.append(
        rule("ActivitiesPreferredStartingTimes", "语文第1节", 90, filter=flt, slots=[(d, 0) for d in range(5)])
    )
    result = run(p, time_limit=2.0, progress=seen.append)
    assert result.solved
    found = [s for s in seen if s.solutions]
    assert found and found[-1].soft_cost is not None
    assert found[-1].soft_cost == result.soft_cost  # the progress cost is the checker's cost
    assert [s.seconds for s in seen] == sorted(s.seconds for s in seen)


def test_stop_cancels_a_running_solve() -> None:
    asked = threading.Event()
    t0 = time.monotonic()
    timer = threading.Timer(0.7, asked.set)
    timer.start()
    result = run(_odd_round_robin(5), time_limit=60.0, stop=asked.is_set)
    wall = time.monotonic() - t0
    assert result.status == "cancelled" and not result.solved and result.solution is None
    assert result.explanation == ["排课已取消"]
    assert wall < 4


def test_stop_during_the_soft_phase_keeps_the_timetable_found() -> None:
    p = _small_school()
    p.constraints.append(rule("TeacherMaxGapsPerDay", "教师不留空节", 80, teacher=None, max=0))
    p.constraints.append(rule("StudentsSetMaxGapsPerDay", "班级不留空节", 90, students=None, max=0))
    seen: list[Progress] = []

    def stop() -> bool:
        return any(s.solutions for s in seen)

    t0 = time.monotonic()
    result = run(p, time_limit=60.0, progress=seen.append, stop=stop)
    assert time.monotonic() - t0 < 5
    assert result.solved and result.solution is not None and result.hard_violations == []


@pytest.mark.parametrize("limit", [1.0, 2.0])
def test_an_impossible_week_that_counting_cannot_see_stops_at_the_time_limit(limit: float) -> None:
    t0 = time.monotonic()
    result = run(_odd_round_robin(5, teacher_rule=True), time_limit=limit)
    wall = time.monotonic() - t0
    assert not result.solved and result.status in ("timeout", "infeasible")
    assert wall <= limit + 1.5, wall
    assert result.explanation


# --- explanations of impossible weeks, in the school's terms ---------------------------------------------------


def _impossible(p: Problem, within: float = 5) -> list[str]:
    t0 = time.monotonic()
    result = run(p)
    assert not result.solved and result.status == "infeasible" and result.solution is None
    assert result.placed == 0 and result.explanation
    assert time.monotonic() - t0 < within
    return result.explanation


def test_explains_a_teacher_with_more_lessons_than_free_periods() -> None:
    # 王老师 teaches 4 lessons in each of 7 classes; in a 5 × 6 week she is away 周五下午 (5 periods)
    classes = [f"初二({i})班" for i in range(1, 8)]
    acts = [lesson(i * 10 + k, "数学", "王老师", c) for i, c in enumerate(classes) for k in range(4)]
    away = rule("TeacherNotAvailableTimes", "王老师周五下午教研", teacher="王老师", slots=[(4, h) for h in range(1, 6)])
    why = _impossible(week(acts, [away], periods=6))
    assert why == ["王老师 每周有 28 节课，但只有 25 个可上课的节次"]


def test_explains_a_class_with_more_lessons_than_periods() -> None:
    subjects = ["语文", "数学", "英语", "物理", "化学", "生物", "政治", "历史"]
    acts = [lesson(i * 10 + k, s, f"{s}老师", "高一(1)班") for i, s in enumerate(subjects) for k in range(4)]
    why = _impossible(week(acts, periods=6))
    assert why == ["高一(1)班 每周有 32 节课，但只有 30 个可上课的节次"]


def test_explains_three_labs_needed_at_once_when_the_school_has_two() -> None:
    # 高二(3)班 splits into three groups for experiments, all on 周四下午; the school has two labs
    groups = ["高二(3)班物理组", "高二(3)班化学组", "高二(3)班生物组"]
    sets = [StudentSet(g, 16, (), "组") for g in groups] + [StudentSet(W3, 48, tuple(groups), "行政班")]
    labs = [Room("实验室1", 50, "实验楼", "实验室"), Room("实验室2", 50, "实验楼", "实验室")]
    acts = [
        lesson(1, "物理实验", "刘老师", groups[0]),
        lesson(2, "化学实验", "陈老师", groups[1]),
        lesson(3, "生物实验", "杨老师", groups[2]),
        lesson(4, "语文", "王老师", W3),
    ]
    cons = [
        rule("ActivitiesSameStartingTime", "高二(3)班分组实验同时上", activities=[1, 2, 3]),
        rule("ActivityPreferredStartingTimes", "分组实验在周四下午", activity=1, slots=[(3, h) for h in AFTERNOON]),
        *[
            rule("ActivityPreferredRooms", f"#{i} 在实验室", activity=i, rooms=["实验室1", "实验室2"])
            for i in (1, 2, 3)
        ],
    ]
    why = _impossible(week(acts, cons, sets=sets, rooms=labs))
    assert len(why) == 1, why
    line = why[0]
    assert line.startswith(
        "高二(3)班 周四第5节至第8节要同时上 3 节课，都要用实验室（实验室1、实验室2），只有 2 间："
    ), line
    assert all(s in line for s in ("物理实验", "化学实验", "生物实验"))


def test_explains_three_labs_at_one_fixed_time() -> None:
    labs = [Room("实验室1", 50, "实验楼", "实验室"), Room("实验室2", 50, "实验楼", "实验室")]
    acts = [lesson(i, "化学实验", f"化学{i}老师", f"高二({i})班") for i in (1, 2, 3)]
    cons = [rule("SubjectPreferredRooms", "化学实验在实验室", subject="化学实验", rooms=["实验室1", "实验室2"])]
    cons += [rule("ActivityPreferredStartingTime", f"#{i} 周四第7节", activity=i, day=3, period=6) for i in (1, 2, 3)]
    why = _impossible(week(acts, cons, rooms=labs))
    assert why[0].startswith(
        "高二(1)班、高二(2)班、高二(3)班 周四第7节要同时上 3 节课，都要用实验室（实验室1、实验室2），那时只有 2 间"
    ), why


def test_explains_a_lesson_left_with_no_time() -> None:
    cons = [
        rule("TeacherNotAvailableTimes", "赵老师周一开会", teacher="赵老师", slots=whole_day(0)),
        rule("ActivityPreferredStartingTime", "体育固定在周一第1节", activity=1, day=0, period=0, locked=True),
    ]
    why = _impossible(week([lesson(1, "体育", "赵老师", "高一(1)班"), lesson(2, "语文", "王老师", "高一(1)班")], cons))
    assert why == [
        "课程 #1 体育（高一(1)班，赵老师）没有任何可排的时间："
        "“赵老师周一开会”、“体育固定在周一第1节” 合起来排除了一周的所有时间"
    ]


def test_explains_contradictory_room_demands_naming_both_rules() -> None:
    rooms = [*LABS, *CLASSROOMS]
    cons = [
        rule("SubjectPreferredRooms", "化学课在实验室", subject="化学", rooms=[CHEM1, CHEM2]),
        rule("ActivityPreferredRoom", "#1 在本班教室301", activity=1, room="301"),
    ]
    why = _impossible(week([lesson(1, "化学", "刘老师", W3)], cons, rooms=rooms))
    assert why == [
        "课程 #1 化学（高二(3)班，刘老师）的教室要求相互矛盾，没有一间教室同时满足："
        "“化学课在实验室” 要求 化学实验室1、化学实验室2，“#1 在本班教室301” 要求 301"
    ]


def test_explains_a_class_too_big_for_every_allowed_room() -> None:
    rooms = [Room("机房1", 40, "科技楼", "机房"), Room("机房2", 45, "科技楼", "机房")]
    sets = [StudentSet("高一(1)班", 52, (), "行政班")]
    cons = [rule("SubjectPreferredRooms", "信息技术在机房", subject="信息技术", rooms=["机房1", "机房2"])]
    why = _impossible(week([lesson(1, "信息技术", "郑老师", "高一(1)班")], cons, sets=sets, rooms=rooms))
    assert why == ["课程 #1 信息技术（高一(1)班，郑老师）有 52 人，可用的教室都坐不下：机房1（40 人）、机房2（45 人）"]


def test_explains_two_lessons_of_one_teacher_locked_at_the_same_time() -> None:
    cons = [
        rule("ActivityPreferredStartingTime", "#1 锁定", activity=1, day=1, period=2, locked=True),
        rule("ActivityPreferredStartingTime", "#2 锁定", activity=2, day=1, period=2, locked=True),
    ]
    p = week([lesson(1, "数学", "王老师", W3), lesson(2, "数学", "王老师", W4)], cons)
    assert _impossible(p) == [
        "王老师 的 2 节课都只能排在 周二第3节：#1 数学（高二(3)班，王老师）、#2 数学（高二(4)班，王老师）"
    ]
    # the same clash found by CP-SAT alone (no counting first): its core names both locks, and 王老师
    why = explain_mod.explain(p, time_limit=5)
    assert why[0] == "以下 2 条硬约束不能同时满足，放宽其中任意一条即可解开这个冲突："
    assert why[1:] == [
        "· #1 数学（高二(3)班，王老师）固定在 周二第3节（#1 锁定）",
        "· #2 数学（高二(4)班，王老师）固定在 周二第3节（#2 锁定）",
    ]


def _spread_against_leave(labelled: bool) -> Problem:
    # five 数学 lessons must fall on five different days, but 李老师 cannot come on 周二: no count shows it
    acts = [lesson(i, "数学", "李老师", W3, group=1) for i in range(1, 6)] + [lesson(6, "语文", "王老师", W3)]
    cons = [
        Constraint("MinDaysBetweenActivities", 100, {"activities": [1, 2, 3, 4, 5], "min_days": 1},
                   "高二(3)班 数学 分散到不同的日子" if labelled else ""),
        Constraint("TeacherNotAvailableTimes", 100, {"teacher": "李老师", "slots": whole_day(1, 6)},
                   "李老师周二进修" if labelled else ""),
        Constraint("TeacherNotAvailableTimes", 100, {"teacher": "王老师", "slots": whole_day(2, 6)},
                   "王老师周三进修" if labelled else ""),
    ]  # fmt: skip
    return week(acts, cons, periods=6)


def test_explains_a_clash_only_the_solver_finds_by_naming_the_rules() -> None:
    why = _impossible(_spread_against_leave(labelled=True))
    assert why == [
        "以下 2 条硬约束不能同时满足，放宽其中任意一条即可解开这个冲突：",
        "· 数学（高二(3)班）的 5 节课要相隔至少 1 天（高二(3)班 数学 分散到不同的日子）",
        "· 李老师 在 周二全天 不能上课（李老师周二进修）",
    ]


def test_unlabelled_rules_are_told_apart_in_an_explanation() -> None:
    # the school's pages add room and time rules without labels: each is still its own switch
    why = _impossible(_spread_against_leave(labelled=False))
    assert len(why) == 3 and "李老师" in why[2] and "王老师" not in "".join(why), why
    assert why[1] == "· 数学（高二(3)班）的 5 节课要相隔至少 1 天"


def test_an_explanation_blames_no_rule_when_the_lessons_themselves_do_not_fit() -> None:
    # the odd round robin of seven classes in six periods: impossible whatever the rules, and 教练1's free period
    # (in the first core CP-SAT returns) is not to blame
    why = _impossible(_odd_round_robin(3, teacher_rule=True), within=10 + 1)  # the analysis takes a second or two
    assert why[0].startswith("即使不考虑任何排课规则"), why
    assert "教练1" not in "".join(why)
    assert why[1] == "课时排满了全部 6 个节次的：" + "、".join(f"高一({i})班" for i in range(1, 8))


def test_a_block_that_needs_one_teacher_twice_is_explained() -> None:
    cons = [rule("ActivitiesSameStartingTime", "物理与化学同一时段", activities=[1, 2])]
    p = week([lesson(1, "物理", "刘老师", W3), lesson(2, "化学", "刘老师", W4)], cons)
    assert _impossible(p) == [
        "“物理与化学同一时段” 要求 #1 物理（高二(3)班，刘老师）与 #2 化学（高二(4)班，刘老师）同时上课，"
        "但两者有同一位教师 刘老师"
    ]


def test_min_days_beyond_the_week_is_explained() -> None:
    acts = [lesson(i, "体育", "赵老师", W3, group=1) for i in (1, 2, 3)]
    cons = [rule("MinDaysBetweenActivities", "体育隔两天一次", activities=[1, 2, 3], min_days=3)]
    assert _impossible(week(acts, cons)) == [
        "体育（高二(3)班）的 3 节课要求相隔至少 3 天，一周只有 5 天（“体育隔两天一次”）"
    ]


# --- bad input: named, never a crash -----------------------------------------------------------------------------


def _two_lessons(*constraints: Constraint) -> Problem:
    return week([lesson(1, "数学", "王老师", W3), lesson(2, "化学", "李老师", W3)], constraints, rooms=LABS)


BAD_INPUT: dict[str, tuple[Callable[[], Problem], str]] = {
    "unknown kind": (
        lambda: _two_lessons(rule("TeacherLovesMondays", "王老师喜欢周一", teacher="王老师")),
        "不支持的约束类型：TeacherLovesMondays",
    ),
    "double longer than a day": (
        lambda: week([lesson(1, "体育", "赵老师", W3, 9)]),
        "课程 #1（体育）的连堂数 9 超出每天的节数 8",
    ),
    "no periods": (lambda: week([lesson(1, "体育", "赵老师", W3)], periods=0), "课表至少要有一天、每天至少一节课"),
    "duplicate ids": (
        lambda: week([lesson(1, "数学", "王老师", W3), lesson(1, "化学", "李老师", W3)]),
        "课程编号 #1 重复：数学、化学",
    ),
    "unknown class of a lesson": (
        lambda: Problem(DAYS, PERIODS, [lesson(1, "数学", "王老师", "高三(9)班")], student_sets={W3: StudentSet(W3)}),
        "课程 #1（数学）的学生“高三(9)班”不在班级名单里",
    ),
    "unknown lesson": (
        lambda: _two_lessons(rule("ActivityPreferredStartingTime", "#99 锁定", activity=99, day=0, period=0)),
        "约束“#99 锁定”（ActivityPreferredStartingTime）提到的课程 #99 不存在",
    ),
    "unknown teacher": (
        lambda: _two_lessons(rule("TeacherNotAvailableTimes", "王 老师周一不在", teacher="王 老师", slots=[(0, 0)])),
        "约束“王 老师周一不在”（TeacherNotAvailableTimes）提到的教师“王 老师”不在教师名单里",
    ),
    "unknown class": (
        lambda: _two_lessons(
            rule("StudentsSetNotAvailableTimes", "高三周五不在", students="高三(9)班", slots=[(4, 0)])
        ),
        "约束“高三周五不在”（StudentsSetNotAvailableTimes）提到的学生“高三(9)班”不在班级名单里",
    ),
    "unknown room": (
        lambda: _two_lessons(rule("ActivityPreferredRoom", "#2 在化学实验室3", activity=2, room="化学实验室3")),
        "约束“#2 在化学实验室3”（ActivityPreferredRoom）提到的教室“化学实验室3”不存在",
    ),
    "time outside the week": (
        lambda: _two_lessons(rule("TeacherNotAvailableTimes", "王老师周六不在", teacher="王老师", slots=[(5, 0)])),
        "约束“王老师周六不在”（TeacherNotAvailableTimes）的时间 (5, 0) 不在一周的 5 天 × 8 节之内",
    ),
    "missing number": (
        lambda: _two_lessons(rule("TeacherMaxHoursDaily", "王老师每天至多几节", teacher="王老师")),
        "约束“王老师每天至多几节”（TeacherMaxHoursDaily）缺少参数：max",
    ),
    "negative number": (
        lambda: _two_lessons(rule("TeacherMaxHoursDaily", "王老师每天至多-1节", teacher="王老师", max=-1)),
        "约束“王老师每天至多-1节”（TeacherMaxHoursDaily）的参数 max = -1 应是不小于 0 的整数",
    ),
    "soft break": (
        lambda: _two_lessons(rule("BreakTimes", "课间操", 50, slots=[(0, 2)])),
        "约束“课间操”（BreakTimes）的权重是 50%：休息时间只能是必须遵守的（100%）",
    ),
    "weight over 100": (
        lambda: _two_lessons(rule("TeacherMaxHoursDaily", "王老师每天至多两节", 150, teacher="王老师", max=2)),
        "约束“王老师每天至多两节”（TeacherMaxHoursDaily）的权重 150 不在 0–100 之间",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_bad_input_is_refused_with_a_message_naming_it(name: str) -> None:
    make, message = BAD_INPUT[name]
    t0 = time.monotonic()
    result = run(make())
    assert result.status == "invalid" and not result.solved and result.solution is None
    assert result.explanation == [message]
    assert time.monotonic() - t0 < 2
    if name == "unknown kind":
        assert result.unsupported_constraints == ["TeacherLovesMondays"]


def test_checker_names_lessons_left_out_outside_the_day_or_in_unknown_rooms() -> None:
    p = week([lesson(1, "数学", "王老师", W3, 2), lesson(2, "语文", "李老师", W3), lesson(3, "英语", "张老师", W3)])
    msgs = hard_messages(p, timetable({1: (0, 7), 2: (1, 0, "不存在的教室")}))
    assert "#1 数学（高二(3)班） 超出一天的节次" in msgs
    assert "#2 语文（高二(3)班） 的教室 “不存在的教室” 不存在" in msgs
    assert "#3 英语（高二(3)班） 没有排入课表" in msgs


def test_a_move_reports_only_the_clashes_it_would_add() -> None:
    p = week(
        [lesson(1, "数学", "王老师", W3), lesson(2, "数学", "王老师", W4), lesson(3, "语文", "李老师", W3)],
        [rule("TeacherNotAvailableTimes", "王老师周五不在", teacher="王老师", slots=whole_day(4))],
    )
    sol = solved(p)
    target = sol.placements[2]
    added = conflicts_of_move(p, sol, 1, Placement(target.day, target.period))
    assert [v.constraint for v in added] == ["教师冲突"]
    assert "王老师" in added[0].message and "#1 数学" in added[0].message and "#2 数学" in added[0].message
    friday = conflicts_of_move(p, sol, 1, Placement(4, 7))
    assert [(v.constraint, v.weight) for v in friday] == [("王老师周五不在", 100)]
    assert "周五 第8节" in friday[0].message
    free = next((d, h) for d in range(4) for h in range(8) if (d, h) not in {sol.slot(2), sol.slot(3)})
    assert conflicts_of_move(p, sol, 1, Placement(*free)) == []


# --- random small weeks: the solver and the checker agree ----------------------------------------------------------

R_TEACHERS = ["王老师", "李老师", "张老师", "刘老师"]
R_CLASSES = ["高一(1)班", "高一(2)班", "高一(3)班"]
R_SUBJECTS = ["语文", "数学", "英语", "物理", "化学"]
R_ROOMS = [Room("101", 50), Room("102", 40), Room("实验室1", 60, "", "实验室"), Room("实验室2", 45, "", "实验室")]


def _random_params(rng: random.Random, kind: str, ids: list[int], days: int, periods: int) -> dict[str, Any] | None:
    def slots(k: int) -> list[tuple[int, int]]:
        return sorted({(rng.randrange(days), rng.randrange(periods)) for _ in range(k)})

    def some() -> list[int]:
        return rng.sample(ids, rng.randint(2, min(4, len(ids))))

    rooms = [r.name for r in R_ROOMS]
    flt = {
        "teacher": rng.choice([None, *R_TEACHERS]),
        "students": rng.choice([None, *R_CLASSES]),
        "subject": rng.choice([None, *R_SUBJECTS]),
        "tag": rng.choice([None, "实验"]),
    }
    if kind in ("BreakTimes",):
        return {"slots": slots(1)}
    if kind.endswith("NotAvailableTimes"):
        who = {"Teacher": ("teacher", R_TEACHERS), "Students": ("students", R_CLASSES), "RoomNot": ("room", rooms)}
        key, names = next(v for k, v in who.items() if kind.startswith(k))
        return {key: rng.choice(names), "slots": slots(3)}
    if kind == "ActivityPreferredStartingTime":
        return {"activity": rng.choice(ids), "day": rng.choice([None, rng.randrange(days)]),
                "period": rng.choice([None, rng.randrange(periods)])}  # fmt: skip
    if kind in ("ActivityPreferredStartingTimes", "ActivityPreferredTimeSlots"):
        return {"activity": rng.choice(ids), "slots": slots(6)}
    if kind.startswith(("ActivitiesPreferred", "SubactivitiesPreferred")):
        return {"filter": flt, "slots": slots(8), **({"component": 1} if kind.startswith("Sub") else {})}
    if kind == "MinDaysBetweenActivities":
        return {"activities": some(), "min_days": rng.randint(1, 2)}
    if kind == "MaxDaysBetweenActivities":
        return {"activities": some(), "max_days": rng.randint(0, 2)}
    if kind == "MinGapsBetweenActivities":
        return {"activities": some(), "min_gaps": rng.randint(1, 2)}
    if kind in ("TwoActivitiesConsecutive", "TwoActivitiesGrouped", "ThreeActivitiesGrouped"):
        n = 3 if kind.startswith("Three") else 2
        return dict(zip(("first", "second", "third"), rng.sample(ids, n), strict=False)) if len(ids) >= n else None
    if kind == "ActivityEndsStudentsDay":
        return {"activity": rng.choice(ids)}
    if kind == "ActivitiesEndStudentsDay":
        return {"filter": flt}
    if kind in ("ActivitiesOccupyMaxTimeSlotsFromSelection", "ActivitiesMaxSimultaneousInSelectedTimeSlots"):
        return {"activities": some(), "slots": slots(5), "max": rng.randint(0, 2)}
    if kind == "ActivitiesMinSimultaneousInSelectedTimeSlots":
        return {"activities": some(), "slots": slots(2), "min": rng.randint(1, 2), "allow_empty": rng.random() < 0.5}
    if kind in ("ActivitiesMaxPerDay", "ActivitiesOccupyMaxDifferentRooms"):
        return {"activities": some(), "max": rng.randint(1, 2)}
    if kind.startswith("Activities"):
        return {"activities": some()}
    if kind.endswith("HomeRooms"):
        key, names = ("teacher", R_TEACHERS) if kind.startswith("Teacher") else ("students", R_CLASSES)
        return {key: rng.choice(names), "rooms": rng.sample(rooms, 1)}
    if kind.startswith(("Teacher", "StudentsSet")):
        key, names = ("teacher", R_TEACHERS) if kind.startswith("Teacher") else ("students", R_CLASSES)
        out: dict[str, Any] = {key: rng.choice([None, *names])}
        if "Tag" in kind:
            out["tag"] = "实验"
        if "Interval" in kind:
            out["start"] = rng.randrange(periods)
            out["end"] = rng.randint(out["start"] + 1, periods)
        if kind.endswith("MinHoursDaily"):
            out.update(min=rng.randint(1, 3), allow_empty=rng.random() < 0.7)
        elif kind.endswith("MinDaysPerWeek"):
            out["min"] = rng.randint(1, days)
        elif kind != "TeacherBalancedDays":
            out["max"] = rng.randint(0, 3)
        return out
    if kind in ("ActivityPreferredRoom", "ActivityPreferredRooms"):
        return {"activity": rng.choice(ids), "room": rng.choice(rooms), "rooms": rng.sample(rooms, 2)}
    return {"subject": rng.choice(R_SUBJECTS), "tag": "实验", "rooms": rng.sample(rooms, 2)}


def _random_week(seed: int, *, tiny: bool = False) -> Problem:
    rng = random.Random(seed)
    days, periods = (rng.randint(1, 2), rng.randint(2, 4)) if tiny else (rng.randint(1, 4), rng.randint(2, 6))
    acts = [
        lesson(
            i,
            rng.choice(R_SUBJECTS),
            rng.choice(R_TEACHERS),
            rng.choice(R_CLASSES),
            1 if rng.random() < 0.8 else 2,
            tags=("实验",) if rng.random() < 0.4 else (),
        )
        for i in range(1, rng.randint(2, 4 if tiny else 9) + 1)
    ]
    kinds = sorted(SUPPORTED - {"BasicCompulsoryTime", "BasicCompulsorySpace"})
    cons = []
    for j in range(rng.randint(1, 4)):
        kind = rng.choice(kinds)
        params = _random_params(rng, kind, [a.id for a in acts], days, periods)
        if params is not None:
            weight = 100 if rng.random() < 0.7 or kind == "BreakTimes" else rng.choice([50, 90])
            cons.append(rule(kind, f"规则{j + 1}", weight, **params))
    sets = [StudentSet(c, rng.choice([30, 45, 55]), (), "行政班") for c in R_CLASSES]
    p = week(acts, cons, days=days, periods=periods, sets=sets, rooms=R_ROOMS)
    p.teachers = list(R_TEACHERS)
    return p


def test_on_random_small_weeks_a_timetable_the_solver_finds_keeps_every_hard_rule() -> None:
    statuses: dict[str, int] = defaultdict(int)
    for seed in range(120):
        p = _random_week(seed)
        result = run(p, workers=1, time_limit=5)
        statuses[result.status] += 1
        assert result.status in ("optimal", "feasible", "infeasible"), (seed, result.status, result.explanation)
        if result.solution is not None:
            assert result.solved, (seed, [v.message for v in result.hard_violations])
        else:
            assert result.explanation, seed
    assert statuses["optimal"] > 40 and statuses["infeasible"] > 20


def _every_timetable(p: Problem, most: int = 3000) -> Iterable[Solution] | None:
    """Brute force over starts (and rooms, for lessons a room rule names) of a tiny week; None when too many."""
    from zhixiao.timetable.engine.solver import ROOM_KINDS, room_constraint_targets

    need_room = {a.id for c in p.constraints if c.kind in ROOM_KINDS for a in room_constraint_targets(p, c)}
    options = []
    for a in p.activities:
        starts = [(d, h) for d in range(p.n_days) for h in range(p.n_periods - a.duration + 1)]
        rooms = [(r,) for r in p.rooms] if a.id in need_room else [()]
        options.append([(s, r) for s in starts for r in rooms])
    if math.prod(len(o) for o in options) > most:
        return None
    return _combinations(p, options)


def _combinations(p: Problem, options: list[list[Any]]) -> Iterable[Solution]:
    for combo in itertools.product(*options):
        yield Solution({a.id: Placement(s[0], s[1], r) for a, (s, r) in zip(p.activities, combo, strict=True)})


def test_on_random_tiny_weeks_the_solver_calls_impossible_only_what_no_timetable_can_satisfy() -> None:
    tried = 0
    for seed in range(400):
        p = _random_week(seed, tiny=True)
        result = run(p, workers=1, time_limit=5)
        if result.status != "infeasible":
            continue
        hard_only = dataclasses.replace(p, constraints=[c for c in p.constraints if c.hard])
        every = _every_timetable(hard_only)
        if every is None:
            continue
        found = next((s for s in every if not check(hard_only, s)[0]), None)
        assert found is None, (seed, result.explanation, found)
        tried += 1
    assert tried > 60


def test_a_minimum_for_someone_with_no_lessons_binds_nobody() -> None:
    # 张老师 is on the staff list but teaches nothing in this week: his minimum cannot make the week unsolvable
    p = week(
        [lesson(1, "数学", "王老师", W3)],
        [
            rule("TeacherMinDaysPerWeek", "张老师每周至少来一天", teacher="张老师", min=1),
            rule("StudentsSetMinHoursDaily", "高二(4)班每天至少两节", students=W4, min=2, allow_empty=False),
        ],
        sets=[StudentSet(W4, 40, (), "行政班")],
    )
    p.teachers.append("张老师")
    sol = solved(p)
    assert check(p, sol) == ([], [])


def test_an_impossible_week_without_time_for_the_analysis_still_says_so() -> None:
    result = run(_spread_against_leave(labelled=True), explain=False)
    assert result.status == "infeasible" and not result.solved
    [why] = result.explanation
    assert why.startswith("不存在满足全部硬约束的课表（这次没有分析是哪几条约束互相冲突")


def test_rules_are_described_as_a_school_says_its_times() -> None:
    p = week([lesson(1, "数学", "王老师", W3)])
    slots = [*whole_day(1), (3, 0), *[(4, h) for h in AFTERNOON], *whole_day(2)]
    away = Constraint("TeacherNotAvailableTimes", 100, {"teacher": "王老师", "slots": slots}, "王老师进修")
    said = "王老师 在 周二、周三全天、周四第1节、周五第5节至第8节 不能上课（王老师进修）"
    assert explain_mod.describe(p, away) == said
    flt = {"teacher": None, "students": None, "subject": "语文", "tag": None}
    morning = Constraint("ActivitiesPreferredStartingTimes", 100, {"filter": flt, "slots": mornings(5)}, "")
    assert explain_mod.describe(p, morning) == "语文的课只能排在 每天第1节至第4节"
    limit = Constraint("TeacherMaxHoursDaily", 100, {"teacher": None, "max": 4}, "")
    assert explain_mod.describe(p, limit) == "每位教师 每天至多 4 节课"


def test_a_virtual_room_whose_sets_share_rooms_takes_distinct_rooms() -> None:
    # FET's SPAIN_20-21.fet has 20 such rooms: "one of A33, Huerto, A39, A35" four times over
    rooms = [Room(r, 50, "", "") for r in ("A33", "A35", "A39", "Huerto")]
    rooms += [Room("AV huerto", 120, "", "", (("A33", "Huerto", "A39", "A35"), ("Huerto", "A33", "A39", "A35"),
                                              ("A33", "A35", "A39", "Huerto")))]  # fmt: skip
    acts = [lesson(1, "劳动", ("王老师", "李老师", "张老师"), (W3, W4), n=90), lesson(2, "语文", "刘老师", "高二(5)班")]
    cons = [
        rule("ActivityPreferredRoom", "#1 在菜园合班", activity=1, room="AV huerto"),
        rule("ActivityPreferredRoom", "#2 在A35", activity=2, room="A35"),
        rule("ActivitiesSameStartingTime", "同时", activities=[1, 2]),
    ]
    p = week(acts, cons, days=1, periods=1, rooms=rooms)
    sol = solved(p)
    assert sol.placements[1].rooms[0] == "AV huerto"
    assert sorted(sol.placements[1].rooms[1:]) == ["A33", "A39", "Huerto"]  # three different rooms, A35 is taken


def test_explains_a_room_wanted_for_more_lessons_than_it_is_open() -> None:
    acts = [lesson(i, "化学", f"化学{i}老师", f"高二({i})班") for i in range(1, 7)]
    cons = [
        rule("SubjectPreferredRooms", "化学在化学实验室1", subject="化学", rooms=[CHEM1]),
        rule("RoomNotAvailableTimes", "化学实验室1 周一第1节检修", room=CHEM1, slots=[(0, 0)]),
    ]
    why = _impossible(week(acts, cons, days=1, periods=6, rooms=LABS))
    assert why == [
        "教室 化学实验室1 每周要上 6 节课，但只有 5 个节次可用："
        "#1 化学（高二(1)班，化学1老师）、#2 化学（高二(2)班，化学2老师）、"
        "#3 化学（高二(3)班，化学3老师）、#4 化学（高二(4)班，化学4老师） 等 6 节课"
    ]


def test_explains_rooms_to_blame_when_no_rule_is() -> None:
    # 王老师's two lessons and 高二(3)班's two lessons in two periods: fine, unless 化学 and 物理 both need the one lab
    acts = [
        lesson(1, "化学", "王老师", W4),
        lesson(2, "物理", "李老师", W3),
        lesson(3, "班会", "王老师", W3),
    ]
    cons = [rule("ActivityPreferredRoom", f"#{i} 在化学实验室1", activity=i, room=CHEM1) for i in (1, 2)]
    why = _impossible(week(acts, cons, days=1, periods=2, rooms=LABS))
    assert why == [
        "排课规则之间没有冲突，是教室不够用：各课必须用的教室合在一起排不下这些课。",
        "排满了的教室：化学实验室1（2/2 节）",
    ]
