"""The timetable's services as a school uses them: the problem built from the rows it entered, solves, moves
checked by the engine's checker, versions, repair after a change, FET import and who may do what."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from zhixiao.identity.tests.helpers import login
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.kernel.models import AuditRecord
from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors
from zhixiao.timetable import services, snapshots
from zhixiao.timetable.engine import checker
from zhixiao.timetable.engine.fet import write_fet
from zhixiao.timetable.engine.model import Activity, Constraint, Problem, Solution, StudentSet
from zhixiao.timetable.engine.result import placements_from_json
from zhixiao.timetable.models import PlanStatus, Room, RuleKind, RunMode, RunStatus, TimetableVersion

from .conftest import Week
from .helpers import solved

pytestmark = pytest.mark.django_db


def _working(plan: Any) -> tuple[Problem, Solution]:
    plan.refresh_from_db()
    return snapshots.problem_from_json(plan.problem), placements_from_json(plan.placements)


# --- the problem from the school's rows ---------------------------------------------------------------------


def test_the_problem_is_built_from_the_classes_courses_rooms_and_rules(week: Week) -> None:
    plan = week.plan
    services.save_room(actor=week.admin, plan_id=plan.pk, name="物理实验室", kind="实验室", capacity=60)
    services.save_class_courses(
        actor=week.admin,
        plan_id=plan.pk,
        class_id=week.class_b["id"],
        rows=[
            services.CourseRow(subject=week.subject, lessons=3, teacher_ids=[week.teacher.pk], max_per_day=1),
            services.CourseRow(subject="物理", lessons=2, teacher_ids=[week.other.pk], room_kind="实验室"),
        ],
    )
    services.set_teacher_unavailable(
        actor=week.admin, plan_id=plan.pk, teacher_id=week.teacher.pk, slots=[[1, 0], [1, 1]]
    )
    services.save_rule(
        actor=week.admin, plan_id=plan.pk, kind=RuleKind.MORNING_SUBJECTS, weight=80, params={"subjects": ["数学"]}
    )
    services.save_rule(actor=week.admin, plan_id=plan.pk, kind=RuleKind.CLASS_NO_GAPS, weight=90)

    problem = services.build_problem(plan)

    teacher = people_selectors.staff_choices_for(account_ids=[week.teacher.pk])[week.teacher.pk]
    a, b = week.class_a["name"], week.class_b["name"]
    assert problem.days == ["周一", "周二", "周三", "周四", "周五"] and len(problem.periods) == 8
    assert {s.name: s.kind for s in problem.student_sets.values()} == {a: "行政班", b: "行政班"}
    assert sorted((x.students[0], x.subject, x.duration) for x in problem.activities if x.subject == "数学") == [
        (a, "数学", 1),
        (a, "数学", 1),
        (a, "数学", 2),
    ]
    assert len([x for x in problem.activities if x.teachers == (teacher,)]) == 6  # 3 lessons in each class
    kinds = [c.kind for c in problem.constraints]
    assert kinds.count("ActivitiesMaxPerDay") == 4 and kinds.count("MinDaysBetweenActivities") == 4
    labs = [c for c in problem.constraints if c.kind == "ActivityPreferredRoom"]
    assert len(labs) == 2 and all(c.params["room"] == "物理实验室" for c in labs)
    (away,) = [c for c in problem.constraints if c.kind == "TeacherNotAvailableTimes"]
    assert away.params == {"teacher": teacher, "slots": [(1, 0), (1, 1)]} and away.hard and "周二" in away.label
    (morning,) = [c for c in problem.constraints if c.kind == "ActivitiesPreferredTimeSlots"]
    assert morning.weight == 80 and morning.params["filter"] == {"subject": "数学"}
    assert {p for _d, p in morning.params["slots"]} == {0, 1, 2, 3}  # the plan's 上午 periods
    (gaps,) = [c for c in problem.constraints if c.kind == "StudentsSetMaxGapsPerWeek"]
    assert gaps.weight == 90 and not gaps.hard

    solved(plan, actor=week.admin)
    problem, solution = _working(plan)
    assert checker.check(problem, solution)[0] == []
    assert all(
        solution.placements[x.id].day != 1 or solution.placements[x.id].period > 1
        for x in problem.activities
        if teacher in x.teachers
    )
    assert all(solution.placements[x.id].rooms == ("物理实验室",) for x in problem.activities if x.subject == "物理")


def test_data_that_cannot_make_a_timetable_is_refused_before_solving_with_the_reasons(week: Week) -> None:
    services.save_class_courses(
        actor=week.admin,
        plan_id=week.plan.pk,
        class_id=week.class_b["id"],
        rows=[
            services.CourseRow(subject="化学", lessons=2, teacher_ids=[week.other.pk], room_kind="实验室"),
            services.CourseRow(subject="英语", lessons=7, teacher_ids=[week.other.pk], max_per_day=1),
        ],
    )
    with pytest.raises(services.ProblemErrors) as refused:
        services.start_solve(actor=week.admin, plan_id=week.plan.pk, time_limit=5)
    text = "\n".join(refused.value.errors)
    assert "化学 需要实验室，但方案里没有这类教室" in text
    assert "每周 7 次课，但每天最多 1 次、每周只有 5 天" in text
    with pytest.raises(DomainError, match="连堂"):
        services.save_class_courses(
            actor=week.admin,
            plan_id=week.plan.pk,
            class_id=week.class_b["id"],
            rows=[services.CourseRow(subject="语文", lessons=3, doubles=2, teacher_ids=[week.other.pk])],
        )


def test_teaching_classes_split_classes_so_no_student_has_two_lessons_at_once(week: Week) -> None:
    school_id = week.plan.school_id
    roster = [s for s in people_selectors.gate_students(school_id=school_id) if s["status"] == "01"]
    in_a = [s for s in roster if s["admin_class_id"] == week.class_a["id"]]
    in_b = [s for s in roster if s["admin_class_id"] == week.class_b["id"]]
    physics = [s["student_no"] for s in in_a[:3] + in_b[:2]]
    history = [s["student_no"] for s in in_a[3:6] + in_b[2:4]]
    services.save_teaching_class(
        actor=week.admin, plan_id=week.plan.pk, name="物理A", subject="物理", student_numbers=physics
    )
    tc = services.save_teaching_class(
        actor=week.admin, plan_id=week.plan.pk, name="历史A", subject="历史", student_numbers=history
    )
    services.save_class_courses(
        actor=week.admin,
        plan_id=week.plan.pk,
        teaching_class_id=tc.pk,
        rows=[services.CourseRow(subject="历史", lessons=2, teacher_ids=[week.teacher.pk])],
    )
    services.save_class_courses(
        actor=week.admin,
        plan_id=week.plan.pk,
        teaching_class_id=week.plan.teaching_classes.get(name="物理A").pk,
        rows=[services.CourseRow(subject="物理", lessons=2, teacher_ids=[week.other.pk])],
    )
    built = services.build(week.plan)
    sets = built.problem.student_sets
    a = week.class_a["name"]
    assert sets["物理A"].kind == "教学班" and sets["物理A"].size == 5
    assert set(sets[a].members) >= {f"{a}·物理A", f"{a}·历史A"}  # the class is the union of its groups
    assert sum(sets[m].size for m in sets[a].members) == len(in_a)
    assert set(sets["物理A"].members) == {f"{a}·物理A", f"{week.class_b['name']}·物理A"}
    assert built.links["teaching_classes"]["历史A"] == [s["id"] for s in in_a[3:6] + in_b[2:4]]

    solved(week.plan, actor=week.admin)
    problem, solution = _working(week.plan)
    assert checker.check(problem, solution)[0] == []  # 学生冲突 would be a hard violation
    with pytest.raises(DomainError, match="找不到这些学籍号"):
        services.save_teaching_class(
            actor=week.admin, plan_id=week.plan.pk, name="化学A", subject="化学", student_numbers=["G0000"]
        )


# --- moves, versions, repair --------------------------------------------------------------------------------


def test_a_move_that_clashes_is_refused_in_words_and_a_free_one_is_saved_and_audited(week: Week) -> None:
    solved(week.plan, actor=week.admin)
    problem, solution = _working(week.plan)
    teacher = people_selectors.staff_choices_for(account_ids=[week.teacher.pk])[week.teacher.pk]
    mine = [x for x in problem.activities if teacher in x.teachers]
    in_a = next(x for x in mine if x.students == (week.class_a["name"],))
    in_b = next(x for x in mine if x.students == (week.class_b["name"],))
    busy = solution.placements[in_b.id]

    check = services.check_move(
        actor=week.admin, plan_id=week.plan.pk, activity_id=in_a.id, day=busy.day, period=busy.period
    )
    assert not check.ok
    assert any(f"教师 {teacher}" in c and problem.days[busy.day] in c for c in check.conflicts)
    with pytest.raises(DomainError, match="不能调课"):
        services.move_lesson(
            actor=week.admin, plan_id=week.plan.pk, activity_id=in_a.id, day=busy.day, period=busy.period
        )
    assert _working(week.plan)[1].placements == solution.placements

    taken = {
        (p.day, p.period + k)
        for x in problem.activities
        for p in [solution.placements[x.id]]
        for k in range(x.duration)
    }
    day_of = {solution.placements[x.id].day for x in mine if x.students == in_a.students}
    free = next((d, p) for d in range(5) for p in range(8) if (d, p) not in taken and d not in day_of)
    assert services.check_move(
        actor=week.admin, plan_id=week.plan.pk, activity_id=in_a.id, day=free[0], period=free[1]
    ).ok
    services.move_lesson(actor=week.admin, plan_id=week.plan.pk, activity_id=in_a.id, day=free[0], period=free[1])
    after = _working(week.plan)[1]
    assert (after.placements[in_a.id].day, after.placements[in_a.id].period) == free
    record = AuditRecord.objects.filter(action="timetable.move").latest("seq")
    assert record.actor_id == week.admin.pk and f"{problem.days[free[0]]} {problem.periods[free[1]]}" in str(
        record.changes
    )


def test_two_lessons_of_a_class_swap_places(week: Week) -> None:
    solved(week.plan, actor=week.admin)
    problem, solution = _working(week.plan)
    a = week.class_a["name"]
    ones = [x for x in problem.activities if x.students == (a,) and x.subject == week.subject]
    twos = [x for x in problem.activities if x.students == (a,) and x.subject == "数学" and x.duration == 1]
    pairs = [(one, two) for one in ones for two in twos]
    checks = [
        services.check_move(actor=week.admin, plan_id=week.plan.pk, activity_id=o.id, swap_with=t.id) for o, t in pairs
    ]
    one, two = next(pair for pair, check in zip(pairs, checks, strict=True) if check.ok)
    services.move_lesson(actor=week.admin, plan_id=week.plan.pk, activity_id=one.id, swap_with=two.id)
    after = _working(week.plan)[1]
    at = {i: (p.day, p.period) for i, p in after.placements.items()}
    was = {i: (p.day, p.period) for i, p in solution.placements.items()}
    assert at[one.id] == was[two.id] and at[two.id] == was[one.id]
    assert AuditRecord.objects.filter(action="timetable.swap").exists()


def test_publishing_again_keeps_the_earlier_versions_as_they_were(week: Week) -> None:
    solved(week.plan, actor=week.admin)
    first = services.publish(actor=week.admin, plan_id=week.plan.pk, note="开学")
    week.plan.refresh_from_db()
    assert week.plan.status == PlanStatus.PUBLISHED and first.number == 1
    problem, solution = _working(week.plan)
    lesson = problem.activities[0]
    where = solution.placements[lesson.id]
    free = next(
        (d, p)
        for d in range(5)
        for p in range(8 - lesson.duration + 1)
        if (d, p) != (where.day, where.period)
        and services.check_move(actor=week.admin, plan_id=week.plan.pk, activity_id=lesson.id, day=d, period=p).ok
    )
    services.move_lesson(actor=week.admin, plan_id=week.plan.pk, activity_id=lesson.id, day=free[0], period=free[1])
    week.plan.refresh_from_db()
    assert week.plan.status == PlanStatus.SOLVED  # changed since publishing
    second = services.publish(actor=week.admin, plan_id=week.plan.pk, note="调课后")

    versions = list(TimetableVersion.objects.filter(plan=week.plan).order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert placements_from_json(versions[0].placements).placements[lesson.id] == where
    moved = placements_from_json(versions[1].placements).placements[lesson.id]
    assert (moved.day, moved.period) == free
    assert second.note == "调课后" and versions[0].note == "开学"
    assert set(services.current_versions(week.plan.school_id)) == {second}


def test_repair_after_a_teacher_becomes_unavailable_keeps_the_rest_and_says_what_moved(
    week: Week, login_for: Any
) -> None:
    solved(week.plan, actor=week.admin)
    version = services.publish(actor=week.admin, plan_id=week.plan.pk)
    problem, before = _working(week.plan)
    teacher = people_selectors.staff_choices_for(account_ids=[week.teacher.pk])[week.teacher.pk]
    mine = [x.id for x in problem.activities if teacher in x.teachers]
    tuesday = before.placements[mine[0]].day  # the day of one of his lessons becomes unavailable
    on_that_day = [i for i in mine if before.placements[i].day == tuesday]
    services.set_teacher_unavailable(
        actor=week.admin, plan_id=week.plan.pk, teacher_id=week.teacher.pk, slots=[[tuesday, p] for p in range(8)]
    )

    run = services.start_solve(actor=week.admin, plan_id=week.plan.pk, time_limit=10, mode=RunMode.REPAIR)
    assert run.previous == version.placements
    run = services.run_solve(run_id=run.pk)
    assert run is not None and run.status == RunStatus.DONE, run.report
    moved = {m["activity"] for m in run.report["moved"]}
    assert set(on_that_day) <= moved
    after = _working(week.plan)[1]
    assert all(after.placements[i].day != tuesday for i in mine)
    kept = [a.id for a in problem.activities if a.id not in moved]
    assert kept and all(after.placements[i] == before.placements[i] for i in kept)  # what is not reported stayed
    for m in run.report["moved"]:
        p = after.placements[m["activity"]]
        assert m["to"][:2] == [p.day, p.period] and m["from"] != m["to"]
    assert TimetableVersion.objects.get(pk=version.pk).placements == version.placements  # the published one is kept
    page = login(Client(), login_for("school_admin")).get(f"/timetable/runs/{run.pk}/").content.decode()
    assert 'id="moved"' in page and page.count(" → ") >= len(on_that_day)
    assert problem.days[tuesday] in page and f"（{teacher}）" in page


def test_an_impossible_timetable_fails_with_the_engines_explanation(week: Week) -> None:
    services.set_teacher_unavailable(
        actor=week.admin,
        plan_id=week.plan.pk,
        teacher_id=week.teacher.pk,
        slots=[[d, p] for d in range(5) for p in range(8) if (d, p) != (0, 0)],
    )
    run = services.solve_now(actor=week.admin, plan_id=week.plan.pk, time_limit=5)
    assert run.status == RunStatus.FAILED
    teacher = people_selectors.staff_choices_for(account_ids=[week.teacher.pk])[week.teacher.pk]
    assert run.report["explanation"] and any(teacher in line for line in run.report["explanation"])
    week.plan.refresh_from_db()
    assert week.plan.status == PlanStatus.DRAFT and week.plan.placements is None


def test_one_solve_at_a_time_and_a_queued_solve_can_be_cancelled(week: Week) -> None:
    run = services.start_solve(actor=week.admin, plan_id=week.plan.pk, time_limit=5)  # not committed: stays queued
    week.plan.refresh_from_db()
    assert week.plan.status == PlanStatus.SOLVING
    with pytest.raises(DomainError, match="正在排课"):
        services.start_solve(actor=week.admin, plan_id=week.plan.pk, time_limit=5)
    with pytest.raises(DomainError, match="正在排课"):
        services.save_room(actor=week.admin, plan_id=week.plan.pk, name="101", kind="普通教室", capacity=50)
    services.cancel_solve(actor=week.admin, run_id=run.pk)
    run.refresh_from_db()
    week.plan.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and week.plan.status == PlanStatus.DRAFT
    assert services.run_solve(run_id=run.pk).status == RunStatus.CANCELLED  # the worker leaves it alone


# --- who may ------------------------------------------------------------------------------------------------


def test_the_head_of_jiaowuchu_manages_plans_other_staff_do_not(account_for: Any, week: Week) -> None:
    head = account_for("department_head")  # head of 教务处 in the demo
    plan = services.create_plan(actor=head, school_id=week.plan.school_id, name="教务处的方案")
    services.save_room(actor=head, plan_id=week.plan.pk, name="101", kind="普通教室", capacity=50)
    for role in ("subject_teacher", "principal", "grade_head"):
        with pytest.raises(NotPermitted):
            services.create_plan(actor=account_for(role), school_id=week.plan.school_id, name="x")
        with pytest.raises(NotPermitted):
            services.save_room(actor=account_for(role), plan_id=plan.pk, name="102", kind="普通教室", capacity=50)
    with pytest.raises(NotPermitted):
        services.save_room(
            actor=account_for("school_admin", 1), plan_id=plan.pk, name="103", kind="普通教室", capacity=50
        )
    # the head of another department (总务处) holds the same role but not over the 教务处's plans
    from zhixiao.identity import selectors as identity_selectors
    from zhixiao.identity.models import Account

    general = org_selectors.department_ids_named(school_id=week.plan.school_id, name="总务处")
    (other_head,) = identity_selectors.holders_of_role(
        school_id=week.plan.school_id, role="department_head", department_ids=general
    )
    with pytest.raises(NotPermitted):
        services.save_room(
            actor=Account.objects.get(pk=other_head), plan_id=plan.pk, name="104", kind="普通教室", capacity=50
        )
    assert not services.may_manage_school(Account.objects.get(pk=other_head), week.plan.school_id)
    assert Room.objects.filter(plan=week.plan, name="101").exists()


# --- FET --------------------------------------------------------------------------------------------------


def fet_file(teacher: str = "王老师", classes: tuple[str, str] = ("高一(1)", "高一(2)")) -> bytes:
    a, b = classes
    problem = Problem(
        days=["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
        periods=["1", "2", "3", "4", "5", "6"],
        activities=[
            Activity(1, "语文", (teacher,), (a,), 1, group_id=1),
            Activity(2, "语文", (teacher,), (a,), 1, group_id=1),
            Activity(3, "语文", (teacher,), (b,), 2),
            Activity(4, "数学", ("李老师",), (a,), 1),
            Activity(5, "数学", ("李老师",), (b,), 1),
        ],
        teachers=[teacher, "李老师"],
        subjects=["语文", "数学"],
        student_sets={a: StudentSet(a, 40), b: StudentSet(b, 40)},
        constraints=[
            Constraint("BasicCompulsoryTime"),
            Constraint("BasicCompulsorySpace"),
            Constraint("TeacherNotAvailableTimes", 100, {"teacher": teacher, "slots": [(0, p) for p in range(6)]}),
            Constraint(
                "MinDaysBetweenActivities", 95, {"activities": [1, 2], "min_days": 1, "consecutive_if_same_day": True}
            ),
        ],
        name="FET 测试",
    )
    return write_fet(problem, Solution({}))


def test_a_fet_file_becomes_a_plan_with_its_report_and_solves(week: Week) -> None:
    data = fet_file().replace(
        b"</Time_Constraints_List>",
        b"<ConstraintStudentsSetMaxDaysPerWeek><Weight_Percentage>90</Weight_Percentage><Max_Days_Per_Week>4</Max_Days_Per_Week><Students>\xe9\xab\x98\xe4\xb8\x80(1)</Students><Active>true</Active><Comments/></ConstraintStudentsSetMaxDaysPerWeek></Time_Constraints_List>",
    )
    plan = services.import_fet(
        actor=week.admin, school_id=week.plan.school_id, name="", filename="C:/排课/test.fet", data=data
    )
    report = plan.import_report
    assert (
        plan.name == "test.fet"
        and plan.is_fet
        and plan.days == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    )
    assert report["counts"]["activities"] == 5 and report["counts"]["teachers"] == 2
    assert len(report["unsupported"]) == 1 and "ConstraintStudentsSetMaxDaysPerWeek" in report["unsupported"][0]
    solved(plan, actor=week.admin)
    _problem, solution = _working(plan)
    assert all(solution.placements[i].day != 0 for i in (1, 2, 3))  # 王老师 is away on Mondays
    with pytest.raises(DomainError):
        services.save_class_courses(actor=week.admin, plan_id=plan.pk, class_id=week.class_a["id"], rows=[])


def test_a_broken_fet_file_is_refused_with_every_problem_in_chinese(week: Week) -> None:
    with pytest.raises(services.ProblemErrors) as refused:
        services.import_fet(
            actor=week.admin, school_id=week.plan.school_id, name="x", filename="x.fet", data=b"<fet><Days"
        )
    assert refused.value.errors and "行" in refused.value.errors[0]
    bad = fet_file().replace("<Teacher>李老师</Teacher>".encode(), "<Teacher>钱老师</Teacher>".encode(), 1)
    with pytest.raises(services.ProblemErrors) as refused:
        services.import_fet(actor=week.admin, school_id=week.plan.school_id, name="x", filename="x.fet", data=bad)
    assert any("钱老师" in e for e in refused.value.errors)
    with pytest.raises(NotPermitted):
        services.import_fet(
            actor=week.teacher, school_id=week.plan.school_id, name="x", filename="x.fet", data=fet_file()
        )


def test_the_days_periods_and_breaks_are_written_one_a_line(week: Week) -> None:
    text = "\n".join(
        [
            "上午 第1节 08:00-08:45",
            "上午 第2节 08:55-09:40",
            "课间 大课间 09:40-10:10",
            "morning P3 10:10-10:55",
            "",
            "晚自习 晚1 19:00-19:45",
        ]
    )
    services.update_shape(
        actor=week.admin, plan_id=week.plan.pk, name="改过的", days=["周一", "周三"], periods_source=text
    )
    week.plan.refresh_from_db()
    assert [(p["name"], p["session"], p["start"]) for p in week.plan.periods] == [
        ("第1节", "上午", "08:00"),
        ("第2节", "上午", "08:55"),
        ("P3", "上午", "10:10"),
        ("晚1", "晚上", "19:00"),
    ]
    assert week.plan.breaks == [{"after": 2, "name": "大课间", "start": "09:40", "end": "10:10"}]
    assert services.parse_periods(services.periods_text(week.plan)) == (week.plan.periods, week.plan.breaks)
    with pytest.raises(services.ProblemErrors) as refused:
        services.parse_periods("上午 第1节 08:45-08:00\n中午 午读\n上午 第1节")
    assert refused.value.errors[:2] == [
        "第 1 行：时间应写成 08:00-08:45",
        "第 2 行：“中午”应为 上午、下午、晚上 或 课间",
    ]


def test_a_solve_whose_worker_died_is_let_go_when_the_plan_is_next_changed(week: Week) -> None:
    import datetime as dt

    from django.utils import timezone

    from zhixiao.timetable.models import SolveRun

    run = services.start_solve(actor=week.admin, plan_id=week.plan.pk, time_limit=30)
    SolveRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=timezone.now() - dt.timedelta(seconds=30) - services.STALE_GRACE
    )
    services.save_room(actor=week.admin, plan_id=week.plan.pk, name="101", kind="普通教室", capacity=50)
    run.refresh_from_db()
    week.plan.refresh_from_db()
    assert run.status == RunStatus.FAILED and "工作进程" in run.error and week.plan.status == PlanStatus.DRAFT
