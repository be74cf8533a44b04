"""走班: teaching classes from subject choices, and the week they go into."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from zhixiao.timetable.engine import checker, solver
from zhixiao.timetable.engine.electives import (
    Choice,
    ElectivePlan,
    ElectiveSpec,
    add_to_problem,
    form_teaching_classes,
)
from zhixiao.timetable.engine.model import Problem, StudentSet
from zhixiao.timetable.engine.sample_grade import SampleGrade, build_week_problem, generate_grade

LESSONS = {"物理": 5, "历史": 5, "化学": 4, "生物": 4, "政治": 4, "地理": 4}
PHC = ("物理", "化学", "生物")
HPG = ("历史", "政治", "地理")


def students(*groups: tuple[str, tuple[str, ...], int]) -> list[Choice]:
    out: list[Choice] = []
    for admin, combo, n in groups:
        base = len(out)
        out.extend(Choice(f"S{base + i:04d}", admin, combo) for i in range(n))
    return out


def assert_sound(plan: ElectivePlan, spec: ElectiveSpec) -> None:
    """Every student attends every chosen subject exactly once, never two classes of one block; limits hold."""
    assert plan.feasible, plan.explanation
    memberships = plan.memberships()
    for ch in plan.choices:
        mine = memberships.get(ch.student_id, [])
        assert sorted(c.subject for c in mine) == sorted(ch.subjects)
        blocks = [c.block for c in mine]
        assert len(blocks) == len(set(blocks)), f"{ch.student_id} has two classes in one block"
    for c in plan.classes:
        assert spec.min_of(c.subject) <= c.size <= spec.max_of(c.subject), c
        assert 0 <= c.block < plan.blocks <= spec.max_blocks
    assert max(plan.rooms_per_block()) <= spec.rooms
    for b in range(plan.blocks):
        teachers = [c.teacher for c in plan.classes if c.block == b and c.teacher]
        assert len(teachers) == len(set(teachers)), f"a teacher has two classes in block {b}"
    if spec.max_classes_per_teacher:
        load = Counter(c.teacher for c in plan.classes if c.teacher)
        assert max(load.values()) <= spec.max_classes_per_teacher


def test_two_pure_classes_and_a_mixed_one_give_the_known_plan() -> None:
    # 1班 all 物化生, 2班 all 史政地, 3班 half and half. Each subject has 60 students, so two classes of it:
    # 12 classes in 3 blocks, 4 rooms a block. Keeping 行政班 mates together makes 1班 and 2班 their own
    # teaching classes (定) and 3班's halves classes of 20.
    choices = students(("1班", PHC, 40), ("2班", HPG, 40), ("3班", PHC, 20), ("3班", HPG, 20))
    spec = ElectiveSpec(lessons=LESSONS, min_size=20, max_size=40, max_blocks=3, rooms=4)
    plan = form_teaching_classes(choices, spec, time_limit=10, workers=2)
    assert_sound(plan, spec)
    assert plan.status == "optimal"
    assert plan.blocks == 3
    assert plan.rooms_per_block() == [4, 4, 4]
    stats = plan.statistics()
    assert stats["teaching_classes"] == 12
    assert stats["sizes"] == {s: [40, 20] for s in LESSONS}
    assert sorted(c.admin_class for c in plan.classes if c.fixed) == ["1班"] * 3 + ["2班"] * 3
    assert stats["admin_class_pieces"] == 1.0
    assert {c.name for c in plan.classes if c.subject == "物理"} == {"物理1班", "物理2班"}


def test_fewer_rooms_than_the_classes_needed_is_explained_before_solving() -> None:
    choices = students(("1班", PHC, 40), ("2班", HPG, 40), ("3班", PHC, 20), ("3班", HPG, 20))
    spec = ElectiveSpec(lessons=LESSONS, min_size=20, max_size=40, max_blocks=3, rooms=3)
    plan = form_teaching_classes(choices, spec, time_limit=10, workers=2)
    assert not plan.feasible and plan.status == "infeasible"
    assert plan.explanation == [
        "至少要开 12 个教学班（物理 2 个、历史 2 个、化学 2 个、生物 2 个、政治 2 个、地理 2 个），"
        "3 个时段 × 3 间教室只能开 9 个"
    ]


def test_a_subject_too_few_students_chose_is_named() -> None:
    choices = students(("1班", PHC, 20), ("2班", ("物理", "生物", "地理"), 40), ("3班", HPG, 40))
    spec = ElectiveSpec(lessons=LESSONS, min_size=35, max_size=50, rooms=10)
    plan = form_teaching_classes(choices, spec, time_limit=5, workers=2)
    assert not plan.feasible
    assert "化学 只有 20 人选，少于最小班额 35" in plan.explanation


def test_sizes_that_cannot_be_divided_and_too_many_subjects_are_named() -> None:
    choices = students(("1班", PHC, 55), ("2班", ("物理", "化学", "生物", "地理"), 2))
    spec = ElectiveSpec(lessons=LESSONS, min_size=35, max_size=50, rooms=10)
    plan = form_teaching_classes(choices, spec, time_limit=5, workers=2)
    assert plan.explanation == ["2 名学生选了 4 科，但最多只有 3 个走班时段，每个时段只能上一科"]
    plan = form_teaching_classes(choices[:55], spec, time_limit=5, workers=2)
    assert "选物理的 55 人无法分成每班 35–50 人的教学班" in plan.explanation
    plan = form_teaching_classes([Choice("S1", "1班", ("物理", "音乐", "地理"))], spec, time_limit=5, workers=2)
    assert plan.explanation == ["1 名学生选了未开设的科目「音乐」"]


def test_limits_that_clash_only_together_are_listed_in_the_schools_words() -> None:
    # Every count passes on its own; with at least 20 a class, no three blocks seat these combinations.
    choices = students(("1班", HPG, 37), ("1班", PHC, 21), ("2班", ("历史", "政治", "生物"), 18))
    choices += students(("2班", ("物理", "生物", "地理"), 3))
    choices = [Choice(f"T{i:03d}", c.admin_class, c.subjects) for i, c in enumerate(choices)]
    spec = ElectiveSpec(lessons=LESSONS, min_size=20, max_size=45, max_blocks=3, rooms=4)
    plan = form_teaching_classes(choices, spec, time_limit=10, workers=2)
    assert plan.status == "infeasible"
    assert plan.explanation[0].startswith("在 3 个走班时段内排不下全部学生（选科组合：")
    assert "化学 每班至少 20 人（共 21 人选化学）" in plan.explanation
    assert plan.explanation[-1].startswith("可以增加走班时段")
    # Each limit named is needed: relaxing one of them gives a plan.
    relaxed = ElectiveSpec(lessons=LESSONS, min_size=20, max_size=45, max_blocks=3, rooms=4, min_sizes={"化学": 1})
    assert form_teaching_classes(choices, relaxed, time_limit=10, workers=2).feasible
    # A fourth block is the other way out: the fewest blocks that work are used.
    four = ElectiveSpec(lessons=LESSONS, min_size=20, max_size=45, max_blocks=4, rooms=4)
    plan = form_teaching_classes(choices, four, time_limit=10, workers=2)
    assert_sound(plan, four)
    assert plan.blocks == 4


def test_too_few_teachers_are_named() -> None:
    choices = students(("1班", PHC, 50), ("2班", PHC, 50), ("3班", HPG, 50))
    spec = ElectiveSpec(lessons=LESSONS, min_size=35, max_size=50, rooms=10, teachers={"物理": ("物理01",)})
    plan = form_teaching_classes(choices, spec, time_limit=5, workers=2)
    assert plan.feasible  # one 物理 class in each of two blocks
    assert {c.teacher for c in plan.classes if c.subject == "物理"} == {"物理01"}
    spec.max_classes_per_teacher = 1
    plan = form_teaching_classes(choices, spec, time_limit=5, workers=2)
    assert plan.explanation == ["物理 有 100 人选，1 位物理老师每人最多带 1 个班，最多开 1 个班，容纳 50 人"]


def test_3_plus_3_choices_of_any_three_subjects() -> None:
    combos = [PHC, HPG, ("物理", "历史", "地理"), ("化学", "生物", "政治"), ("物理", "化学", "地理")]
    choices = students(*[(f"{i % 4 + 1}班", combo, 30 + 5 * i) for i, combo in enumerate(combos)])
    spec = ElectiveSpec(lessons=LESSONS, min_size=25, max_size=45, max_blocks=3, rooms=6)
    plan = form_teaching_classes(choices, spec, time_limit=10, workers=2)
    assert_sound(plan, spec)
    assert plan.blocks == 3


@pytest.fixture(scope="module")
def grade_300() -> tuple[SampleGrade, ElectivePlan, float]:
    grade = generate_grade(300, 6, seed=3)
    start = time.monotonic()
    plan = form_teaching_classes(grade.choices, grade.spec, time_limit=6, workers=2, seed=3)
    return grade, plan, time.monotonic() - start


def test_generated_grade_has_a_realistic_spread_of_choices() -> None:
    grade = generate_grade(1500, 30, seed=1)
    assert len(grade.choices) == 1500 and len(grade.admin_classes) == 30
    combos = Counter(c.subjects for c in grade.choices)
    assert len(combos) == 12
    assert combos.most_common(1)[0][0] == PHC
    physics = sum(n for c, n in combos.items() if c[0] == "物理")
    assert 0.5 < physics / 1500 < 0.7
    sizes = Counter(c.admin_class for c in grade.choices)
    assert max(sizes.values()) - min(sizes.values()) <= 6
    # 行政班 formed by 首选: no class mixes 物理 and 历史 students.
    for admin in grade.admin_classes:
        assert len({c.subjects[0] for c in grade.choices if c.admin_class == admin}) == 1


def test_300_student_grade_is_formed_quickly(grade_300: tuple[SampleGrade, ElectivePlan, float]) -> None:
    grade, plan, seconds = grade_300
    assert_sound(plan, grade.spec)
    assert seconds < 8
    assert plan.blocks == 3
    stats = plan.statistics()
    # 300 students in 3 blocks with classes of at most 50 need 6 rooms a block at the very least.
    assert 6 <= stats["rooms"] <= 8
    assert stats["fixed_classes"] >= 1  # 行政班 of one combination keep subjects at home (定)


def test_the_plan_goes_into_the_week_with_atoms_and_parallel_blocks(
    grade_300: tuple[SampleGrade, ElectivePlan, float],
) -> None:
    grade, plan, _ = grade_300
    problem = Problem(days=["一", "二", "三", "四", "五"], periods=[str(i) for i in range(8)], activities=[])
    problem.student_sets["高二"] = StudentSet("高二", 300, tuple(grade.admin_classes), "年级")
    ids = add_to_problem(plan, problem, prefix="高二")
    atoms = [s for s in problem.student_sets.values() if s.kind == "走班学生组"]
    assert sum(a.size for a in atoms) == 300
    for admin in grade.admin_classes:
        ss = problem.student_sets[admin]
        assert ss.kind == "行政班" and ss.size == sum(1 for c in grade.choices if c.admin_class == admin)
        assert all(problem.student_sets[m].kind == "走班学生组" for m in ss.members)
    assert set(problem.student_sets["高二"].members) == {a.name for a in atoms}
    for c in plan.classes:
        tc = problem.student_sets["高二" + c.name]
        assert tc.kind == "教学班" and tc.size == c.size
        assert sum(problem.student_sets[m].size for m in tc.members) == c.size  # atoms are whole
        assert len(ids[c.name]) == LESSONS[c.subject]
    tied = [k for k in problem.constraints if k.kind == "ActivitiesSameStartingTime"]
    expected = 0  # per block and lesson, one tie when two or more classes still have that lesson
    for b in range(plan.blocks):
        lengths = [LESSONS[c.subject] for c in plan.classes if c.block == b and not c.fixed]
        expected += sum(1 for lesson in range(5) if sum(n > lesson for n in lengths) > 1)
    assert 12 <= len(tied) == expected
    fixed = {i for c in plan.classes if c.fixed for i in ids[c.name]}
    assert fixed and not any(fixed & set(k.params["activities"]) for k in tied)  # 定 classes left free


def test_300_student_grade_week_is_solved_without_clashes(
    grade_300: tuple[SampleGrade, ElectivePlan, float],
) -> None:
    grade, plan, _ = grade_300
    problem = build_week_problem(grade, plan)
    result = solver.solve(problem, time_limit=60, workers=2, seed=0, stop_after_first=True)
    assert result.solved, result.explanation
    assert result.solution is not None
    hard, _soft = checker.check(problem, result.solution)
    assert hard == []
    # Every teaching class of a block meets at the same times, lesson by lesson.
    ids_by_block: dict[int, list[list[int]]] = {}
    for c in plan.classes:
        if c.fixed:
            continue
        lessons = [a.id for a in problem.activities if a.students == (c.name,)]
        ids_by_block.setdefault(c.block, []).append(lessons)
    for classes in ids_by_block.values():
        slots = [sorted(result.solution.slot(i) for i in lessons) for lessons in classes]
        longest = max(slots, key=len)
        for s in slots:
            assert set(s) <= set(longest)
