"""走班 on the plan's pages: subject choices imported from Excel (every error named, nothing written on any) or
entered per student, teaching classes formed in the background, applied to the plan, and a solved week in
which no student has two lessons at once and every block's teaching classes meet at the same times."""

from __future__ import annotations

import io
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from openpyxl import Workbook, load_workbook

from zhixiao.identity.tests.helpers import login
from zhixiao.kernel.models import AuditRecord
from zhixiao.people import selectors as people_selectors
from zhixiao.people.models import Student
from zhixiao.timetable import electives, services, snapshots
from zhixiao.timetable.engine.result import placements_from_json
from zhixiao.timetable.engine.sample_grade import COMBINATION_SHARES
from zhixiao.timetable.models import Course, RunStatus, SolveRun, SubjectChoice, TeachingClass, TimetablePlan

pytestmark = pytest.mark.django_db


@dataclass
class Grade:
    plan: TimetablePlan
    admin: Any
    grade_id: int
    students: list[dict[str, Any]]


@pytest.fixture
def grade(account_for: Any) -> Grade:
    admin = account_for("school_admin")
    child = Student.objects.select_related("admin_class").get(account=account_for("student"))
    plan = services.create_plan(actor=admin, school_id=child.school_id, name="高二走班")
    electives.set_grade(actor=admin, plan_id=plan.pk, grade_id=child.admin_class.grade_id, scheme="3+1+2")
    plan.refresh_from_db()
    students = electives.grade_students(plan)
    assert len(students) >= 30
    return Grade(plan, admin, child.admin_class.grade_id, students)


def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def drawn(students: list[dict[str, Any]], seed: int = 3) -> dict[int, tuple[str, ...]]:
    """Choices spread like a real grade's (sample_grade's shares)."""
    rng = random.Random(seed)
    combos = list(COMBINATION_SHARES)
    weights = [COMBINATION_SHARES[c] for c in combos]
    return {s["id"]: electives.ordered(rng.choices(combos, weights=weights)[0]) for s in students}


# --- combinations ------------------------------------------------------------------------------------------


def test_combinations_are_read_however_schools_write_them() -> None:
    for text in ("物化生", "物理+化学+生物", "物理 化学 生物", "物理化学生物", "生物、化学，物理"):
        assert electives.ordered(electives.parse_combination(text) or ()) == ("物理", "化学", "生物")
    assert electives.parse_combination("史思想政治地") == ("历史", "政治", "地理")
    assert electives.parse_combination("物化音") is None
    assert len(electives.combinations("3+1+2")) == 12 and len(electives.combinations("3+3")) == 20
    assert electives.combination_problem(("物理", "历史", "化学"), "3+1+2")  # both 首选
    assert electives.combination_problem(("化学", "生物", "地理"), "3+1+2")  # neither
    assert electives.combination_problem(("物理", "化学"), "3+1+2")
    assert not electives.combination_problem(("化学", "生物", "地理"), "3+3")
    assert electives.combination_problem(("物理", "化学"), "3+3")


# --- import ------------------------------------------------------------------------------------------------


def test_import_with_a_combination_column_saves_every_choice_and_is_audited(grade: Grade) -> None:
    chosen = drawn(grade.students)
    rows = [["学号", "姓名", "选科组合"]]
    for s in grade.students:
        subjects = chosen[s["id"]]
        text = electives.combination_label(subjects) if s["id"] % 2 else "+".join(subjects)
        rows.append([s["student_no"], s["name"], text])
    n = electives.import_choices(actor=grade.admin, plan_id=grade.plan.pk, filename="选科.xlsx", data=workbook(rows))
    assert n == len(grade.students)
    saved = {c.student_id: tuple(c.subjects) for c in SubjectChoice.objects.filter(plan=grade.plan)}
    assert saved == chosen
    assert AuditRecord.objects.filter(action="timetable.choices_import").exists()
    # importing again replaces a student's choice and keeps the others
    first = grade.students[0]
    again = [["学籍号", "姓名", "选科组合"], [first["student_no"], first["name"], "史政地"]]
    electives.import_choices(actor=grade.admin, plan_id=grade.plan.pk, filename="x.xlsx", data=workbook(again))
    assert SubjectChoice.objects.get(plan=grade.plan, student_id=first["id"]).subjects == ["历史", "政治", "地理"]
    assert SubjectChoice.objects.filter(plan=grade.plan).count() == len(grade.students)


def test_import_with_one_column_per_subject(grade: Grade) -> None:
    a, b = grade.students[:2]
    rows = [
        ["选科登记表"],
        ["学籍号", "姓名", "物理", "历史", "化学", "生物", "思想政治", "地理"],
        [a["student_no"], a["name"], "是", "", "√", "1", "", ""],
        [b["student_no"], b["name"], "", "✓", "", "", "是", "是"],
    ]
    assert electives.import_choices(actor=grade.admin, plan_id=grade.plan.pk, filename="f.xlsx", data=workbook(rows))
    saved = {c.student_id: c.subjects for c in SubjectChoice.objects.filter(plan=grade.plan)}
    assert saved == {a["id"]: ["物理", "化学", "生物"], b["id"]: ["历史", "政治", "地理"]}


def test_import_names_every_bad_row_and_column_and_writes_nothing(grade: Grade) -> None:
    a, b, c, d = grade.students[:4]
    rows = [
        ["学籍号", "姓名", "选科组合"],
        [a["student_no"], a["name"], "物化生"],  # fine, but the file has errors: not written either
        ["G000000000000", "无名", "物化生"],  # unknown student
        [a["student_no"], a["name"], "物化生"],  # the same student again
        [b["student_no"], b["name"], "物史化"],  # physics and history
        [c["student_no"], "另一个人", "物化生"],  # name mismatch
        [d["student_no"], d["name"], "物化音"],  # a subject we do not know
    ]
    with pytest.raises(electives.ChoiceErrors) as caught:
        electives.import_choices(actor=grade.admin, plan_id=grade.plan.pk, filename="bad.xlsx", data=workbook(rows))
    errors = caught.value.rows
    assert [(e.row, e.column) for e in errors] == [
        (3, "学籍号"),
        (4, "学籍号"),
        (5, "选科组合"),
        (6, "姓名"),
        (7, "选科组合"),
    ]
    lines = caught.value.errors
    assert "本年级没有这个学籍号的在读学生" in lines[0] and "第 3 行" in lines[0]
    assert "与第 2 行是同一名学生" in lines[1]
    assert "不是有效的 3+1+2 选科组合" in lines[2] and "物理、历史中选且只选一科" in lines[2]
    assert f"名册中该学生是“{c['name']}”" in lines[3]
    assert "无法识别的科目" in lines[4]
    assert not SubjectChoice.objects.filter(plan=grade.plan).exists()


def test_import_under_3_plus_3_and_files_that_are_not_workbooks(grade: Grade) -> None:
    electives.set_grade(actor=grade.admin, plan_id=grade.plan.pk, grade_id=grade.grade_id, scheme="3+3")
    a, b = grade.students[:2]
    rows = [
        ["学籍号", "姓名", "选科组合"],
        [a["student_no"], a["name"], "化生地"],
        [b["student_no"], b["name"], "物化"],
    ]
    with pytest.raises(electives.ChoiceErrors) as caught:
        electives.import_choices(actor=grade.admin, plan_id=grade.plan.pk, filename="f.xlsx", data=workbook(rows))
    assert [e.row for e in caught.value.rows] == [3] and "3+3 须从" in caught.value.errors[0]
    for data, name, words in (
        (b"\xd0\xcf\x11\xe0old", "old.xls", ".xls"),
        (b"not a workbook", "x.xlsx", "xlsx"),
        (workbook([["姓名"], ["张三"]]), "x.xlsx", "学籍号"),
        (workbook([["学籍号", "姓名"], [a["student_no"], a["name"]]]), "x.xlsx", "选科组合"),
    ):
        with pytest.raises(electives.ChoiceErrors) as caught:
            electives.import_choices(actor=grade.admin, plan_id=grade.plan.pk, filename=name, data=data)
        assert words in caught.value.errors[0]
    assert not SubjectChoice.objects.filter(plan=grade.plan).exists()


def test_template_lists_the_grade_and_comes_back_filled(grade: Grade) -> None:
    data = electives.choices_template(grade.plan)
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("学籍号", "姓名", "班级", "选科组合")
    assert {r[0] for r in rows[1:]} == {s["student_no"] for s in grade.students}
    for i in range(2, sheet.max_row + 1):
        sheet.cell(i, 4, "物化生" if i % 3 else "史政地")
    out = io.BytesIO()
    sheet.parent.save(out)
    n = electives.import_choices(actor=grade.admin, plan_id=grade.plan.pk, filename="t.xlsx", data=out.getvalue())
    assert n == len(grade.students)
    again = load_workbook(io.BytesIO(electives.choices_template(grade.plan))).active
    assert {r[3] for r in again.iter_rows(min_row=2, values_only=True)} == {"物化生", "史政地"}


def test_a_new_grade_clears_the_choices_and_a_scheme_they_break_is_refused(grade: Grade, account_for: Any) -> None:
    a = grade.students[0]
    electives.save_choices(actor=grade.admin, plan_id=grade.plan.pk, entries={a["id"]: "物化生"})
    electives.set_grade(actor=grade.admin, plan_id=grade.plan.pk, grade_id=grade.grade_id, scheme="3+3")
    electives.save_choices(actor=grade.admin, plan_id=grade.plan.pk, entries={a["id"]: "化生地"})
    with pytest.raises(services.DomainError, match="不符合 3\\+1\\+2"):
        electives.set_grade(actor=grade.admin, plan_id=grade.plan.pk, grade_id=grade.grade_id, scheme="3+1+2")
    other = next(
        g
        for g, _label in electives.grade_options(actor=grade.admin, school_id=grade.plan.school_id)
        if g != grade.grade_id
    )
    electives.set_grade(actor=grade.admin, plan_id=grade.plan.pk, grade_id=other, scheme="3+1+2")
    assert not SubjectChoice.objects.filter(plan=grade.plan).exists()


# --- forming, applying, solving ---------------------------------------------------------------------------


def _teachers(school_id: int, per_subject: int = 2) -> dict[str, list[int]]:
    staff = [a for a, _label in people_selectors.staff_choices(school_id=school_id)]
    out, at = {}, 0
    for s in electives.SUBJECTS:
        out[s] = staff[at : at + per_subject]
        at += per_subject
    return out


def _spec(grade: Grade, **kw: Any) -> electives.FormationSpec:
    base: dict[str, Any] = {
        "min_size": 4,
        "max_size": 30,
        "rooms": 6,
        "teachers": _teachers(grade.plan.school_id),
        "time_limit": 10,
    }
    return electives.FormationSpec(**{**base, **kw})


def test_formed_classes_applied_and_solved_keep_blocks_together_and_no_student_twice(
    grade: Grade, login_for: Any
) -> None:
    plan = grade.plan
    chosen = drawn(grade.students)
    electives.save_choices(
        actor=grade.admin,
        plan_id=plan.pk,
        entries={sid: electives.combination_label(s) for sid, s in chosen.items()},
    )
    run = electives.form_now(actor=grade.admin, plan_id=plan.pk, spec=_spec(grade))
    assert run.status == RunStatus.DONE, run.report.get("explanation")
    report = run.report
    assert report["blocks"] == 3
    members = [m for c in report["classes"] for m in c["members"]]
    assert sorted(members) == sorted(sid for sid, s in chosen.items() for _ in s)  # each choice in one class
    view = electives.formation_view(run)
    assert [b["label"] for b in view["blocks"]] == ["选考A", "选考B", "选考C"]
    assert all(c["teacher_name"] for b in view["blocks"] for c in b["classes"])

    # the 行政班 keeps its compulsory lessons; its elective-subject course goes when the classes are applied
    class_id = grade.students[0]["admin_class_id"]
    staff = _teachers(plan.school_id, 3)
    services.save_class_courses(
        actor=grade.admin,
        plan_id=plan.pk,
        class_id=class_id,
        rows=[
            services.CourseRow(subject="语文", lessons=5, teacher_ids=[staff["物理"][2]], max_per_day=1),
            services.CourseRow(subject="数学", lessons=5, teacher_ids=[staff["历史"][2]], max_per_day=1),
            services.CourseRow(subject="物理", lessons=3, teacher_ids=[staff["化学"][2]], max_per_day=1),
        ],
    )
    n = electives.apply_formation(actor=grade.admin, plan_id=plan.pk, run_id=run.pk)
    assert n == len(report["classes"]) == TeachingClass.objects.filter(plan=plan).count()
    assert not Course.objects.filter(plan=plan, admin_class_id=class_id, subject="物理").exists()
    lessons = {c.subject: c.lessons_per_week for c in Course.objects.filter(plan=plan, teaching_class__isnull=False)}
    assert lessons["物理"] == 5 and lessons["化学"] == 4
    assert AuditRecord.objects.filter(action="timetable.electives_apply").exists()

    built = services.build(plan)
    assert not built.errors
    tied = [c for c in built.problem.constraints if c.kind == "ActivitiesSameStartingTime"]
    assert tied and all("选考" in c.label for c in tied)
    run = services.solve_now(actor=grade.admin, plan_id=plan.pk, time_limit=20)
    assert run.status == RunStatus.DONE, run.report.get("explanation")
    plan.refresh_from_db()
    problem = snapshots.problem_from_json(plan.problem)
    placements = placements_from_json(plan.placements).placements
    # no student in two lessons at once
    classes_of: dict[int, list[str]] = defaultdict(list)
    for tc in TeachingClass.objects.filter(plan=plan):
        for sid in tc.student_ids:
            classes_of[sid].append(tc.name)
    admin_name = next(n for n, s in problem.student_sets.items() if s.kind == "行政班")
    for sid in chosen:
        mine = [a for a in problem.activities if set(a.students) & {admin_name, *classes_of[sid]}]
        slots = [(placements[a.id].day, placements[a.id].period + k) for a in mine for k in range(a.duration)]
        assert len(slots) == len(set(slots)), sid
    # the teaching classes of a block meet at the same times
    for c in tied:
        assert len({(placements[i].day, placements[i].period) for i in c.params["activities"]}) == 1
    page = login(Client(), login_for("school_admin"))
    html = page.get(f"/timetable/plans/{plan.pk}/timetable/?by=class&name={admin_name}").content.decode()
    assert 'class="tt-block">选考A' in html and 'class="tt-block">选考C' in html


def test_an_impossible_spec_is_explained_and_nothing_can_be_applied(grade: Grade) -> None:
    electives.save_choices(
        actor=grade.admin,
        plan_id=grade.plan.pk,
        entries={s["id"]: "物化生" if i % 2 else "史政地" for i, s in enumerate(grade.students)},
    )
    run = electives.form_now(actor=grade.admin, plan_id=grade.plan.pk, spec=_spec(grade, min_size=100, max_size=120))
    assert run.status == RunStatus.FAILED
    assert any("少于最小班额 100" in line for line in run.report["explanation"])
    with pytest.raises(services.DomainError, match="没有可用的结果"):
        electives.apply_formation(actor=grade.admin, plan_id=grade.plan.pk, run_id=run.pk)
    with pytest.raises(services.ProblemErrors, match="班额"):
        electives.start_formation(actor=grade.admin, plan_id=grade.plan.pk, spec=_spec(grade, min_size=40, max_size=30))


def test_applying_again_replaces_only_once_confirmed(grade: Grade) -> None:
    electives.save_choices(
        actor=grade.admin,
        plan_id=grade.plan.pk,
        entries={s["id"]: "物化生" if i % 3 else "史政地" for i, s in enumerate(grade.students)},
    )
    services.save_teaching_class(
        actor=grade.admin,
        plan_id=grade.plan.pk,
        name="手工物理班",
        subject="物理",
        student_numbers=[grade.students[0]["student_no"]],
    )
    run = electives.form_now(actor=grade.admin, plan_id=grade.plan.pk, spec=_spec(grade, teachers={}))
    with pytest.raises(services.DomainError, match="已有 1 个教学班"):
        electives.apply_formation(actor=grade.admin, plan_id=grade.plan.pk, run_id=run.pk)
    electives.apply_formation(actor=grade.admin, plan_id=grade.plan.pk, run_id=run.pk, replace=True)
    names = set(TeachingClass.objects.filter(plan=grade.plan).values_list("name", flat=True))
    assert "手工物理班" not in names and {"物理1班", "历史1班"} <= names
    assert all(not c.teacher_ids for c in Course.objects.filter(plan=grade.plan))  # chosen later on 课程


# --- pages and permissions --------------------------------------------------------------------------------


def test_pages_import_enter_form_and_apply(grade: Grade, login_for: Any) -> None:
    client = login(Client(), login_for("department_head"))  # the head of 教务处
    base = f"/timetable/plans/{grade.plan.pk}/electives"
    page = client.get(f"{base}/").content.decode()
    assert 'id="grade-form"' in page and 'id="import-form"' in page
    template = client.get(f"{base}/template/")
    assert template.status_code == 200 and template.content[:2] == b"PK"

    a, b = grade.students[:2]
    bad = workbook([["学籍号", "姓名", "选科组合"], [a["student_no"], a["name"], "物史化"]])
    response = client.post(f"{base}/import/", {"file": io.BytesIO(bad)})
    assert response.status_code == 400 and 'id="import-errors"' in response.content.decode()
    assert "第 2 行" in response.content.decode() and not SubjectChoice.objects.filter(plan=grade.plan).exists()
    upload = io.BytesIO(workbook([["学籍号", "姓名", "选科组合"], [a["student_no"], a["name"], "物化生"]]))
    upload.name = "选科.xlsx"
    assert client.post(f"{base}/import/", {"file": upload}).status_code == 302

    entry = client.get(f"{base}/choices/?class={b['admin_class_id']}").content.decode()
    assert f'name="choice_{b["id"]}"' in entry and ">史政地</option>" in entry
    client.post(
        f"{base}/choices/",
        {
            "class": b["admin_class_id"],
            f"choice_{a['id']}": "物化生",
            **{f"choice_{s['id']}": "史政地" for s in grade.students[1:]},
        },
    )
    assert SubjectChoice.objects.filter(plan=grade.plan).count() == len(grade.students)
    assert 'id="combination-chart"' in client.get(f"{base}/").content.decode()

    form = {f"lessons_{i}": str(n) for i, n in enumerate(electives.DEFAULT_LESSONS.values())}
    form |= {"min_size": "1", "max_size": "40", "max_blocks": "3", "rooms": "4", "time_limit": "10"}
    response = client.post(f"{base}/form/", form)
    run = SolveRun.objects.get(plan=grade.plan, mode="electives")
    assert response["Location"] == f"/timetable/runs/{run.pk}/"
    services.run_solve(run_id=run.pk)  # the worker's part
    status = client.get(f"/timetable/runs/{run.pk}/status/").content.decode()
    assert 'id="view-formation"' in status and "已组建" in status
    result = client.get(f"{base}/runs/{run.pk}/").content.decode()
    assert "选考A" in result and 'id="formation-chart"' in result and 'id="apply-form"' in result
    response = client.post(f"{base}/runs/{run.pk}/apply/")
    assert response["Location"] == f"/timetable/plans/{grade.plan.pk}/teaching-classes/"
    assert TeachingClass.objects.filter(plan=grade.plan, block__isnull=False).exists()


def test_only_managers_reach_the_elective_pages(grade: Grade, login_for: Any) -> None:
    base = f"/timetable/plans/{grade.plan.pk}/electives"
    a = grade.students[0]
    data = workbook([["学籍号", "姓名", "选科组合"], [a["student_no"], a["name"], "物化生"]])
    for role in ("subject_teacher", "homeroom_teacher"):
        client = login(Client(), login_for(role))
        assert client.get(f"{base}/").status_code == 403
        assert client.get(f"{base}/template/").status_code == 403
        assert client.post(f"{base}/import/", {"file": io.BytesIO(data)}).status_code == 403
    other = login(Client(), login_for("school_admin", 1))  # another school's admin
    assert other.get(f"{base}/").status_code == 404
    with pytest.raises(services.NotPermitted):
        electives.import_choices(
            actor=_account(login_for("subject_teacher")),
            plan_id=grade.plan.pk,
            filename="x.xlsx",
            data=data,
        )
    assert not SubjectChoice.objects.filter(plan=grade.plan).exists()


def _account(demo_login: Any) -> Any:
    from zhixiao.identity.models import Account

    return Account.objects.get(username=demo_login.username)
