"""The 排课 pages as people use them: 教务处 enters the data, solves, moves a lesson (a clash is named before
saving), publishes and downloads; teachers, students and guardians see only their own timetable."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from zhixiao.identity.tests.helpers import login
from zhixiao.org import selectors as org_selectors
from zhixiao.org import services as org_services
from zhixiao.org.models import Term
from zhixiao.people import selectors as people_selectors
from zhixiao.people.models import GuardianLink, Student
from zhixiao.timetable import selectors, services, snapshots
from zhixiao.timetable.engine.result import placements_from_json
from zhixiao.timetable.models import Course, PlanRule, Room, RunStatus, SolveRun, TimetablePlan, TimetableVersion

from .conftest import Week
from .helpers import solved
from .test_services import fet_file

pytestmark = pytest.mark.django_db


def test_jiaowuchu_enters_a_plan_solves_moves_and_publishes_through_the_pages(login_for: Any, account_for: Any) -> None:
    client = login(Client(), login_for("department_head"))  # the head of 教务处
    assert "新建排课方案" in client.get("/timetable/").content.decode()
    response = client.post("/timetable/new/", {"name": "秋季课表", "days": ["周一", "周二", "周三", "周四", "周五"]})
    plan = TimetablePlan.objects.get(name="秋季课表")
    assert response.status_code == 302 and response["Location"] == f"/timetable/plans/{plan.pk}/"
    base = f"/timetable/plans/{plan.pk}"

    # the grid of one class: subjects × periods a week × teacher
    teacher = account_for("subject_teacher")
    ta = people_selectors.teaching_of(
        actor=account_for("school_admin"), staff_id=people_selectors.staff_by_account(teacher.pk).pk
    ).first()
    grid = client.get(f"{base}/courses/?class=c:{ta.admin_class_id}").content.decode()
    assert "语文" in grid and "周课时" in grid and 'name="teacher_0"' in grid
    client.post(
        f"{base}/courses/",
        {
            "class": f"c:{ta.admin_class_id}",
            "rows": "2",
            "subject_0": ta.subject.name,
            "lessons_0": "4",
            "doubles_0": "1",
            "max_0": "2",
            "teacher_0": str(teacher.pk),
            "subject_1": "音乐",
            "lessons_1": "0",
        },
    )
    (course,) = Course.objects.filter(plan=plan)
    assert (course.subject, course.lessons_per_week, course.double_lessons, course.teacher_ids) == (
        ta.subject.name,
        4,
        1,
        [teacher.pk],
    )
    client.post(f"{base}/courses/generate/")
    classes = org_selectors.class_rows(school_id=plan.school_id)
    assert set(Course.objects.filter(plan=plan).values_list("class_name", flat=True)) == {c["name"] for c in classes}

    client.post(f"{base}/rooms/", {"name": "化学实验室", "kind": "实验室", "capacity": "60"})
    assert Room.objects.filter(plan=plan, name="化学实验室", kind="实验室").exists()

    # a teacher's unavailable times by clicking the week grid
    week_page = client.get(f"{base}/unavailable/?teacher=a:{teacher.pk}").content.decode()
    assert 'value="1,0"' in week_page
    client.post(f"{base}/unavailable/", {"teacher": f"a:{teacher.pk}", "slot": ["1,0", "1,1"]})
    rule = PlanRule.objects.get(plan=plan, kind="teacher_unavailable")
    assert rule.params == {"teacher_id": teacher.pk, "slots": [[1, 0], [1, 1]]}
    assert 'value="1,0" checked' in client.get(f"{base}/unavailable/?teacher=a:{teacher.pk}").content.decode()

    client.post(f"{base}/rules/", {"kind": "teacher_max_daily", "weight": "100", "max": "6"})
    refused = client.post(f"{base}/rules/", {"kind": "subject_max_per_day", "weight": "100"}, follow=True)
    assert "请填写科目" in refused.content.decode()
    overview = client.get(f"{base}/").content.decode()
    assert 'id="count-classes">' + str(len(classes)) in overview

    response = client.post(f"{base}/solve/", {"time_limit": "20", "mode": "full"})
    run = SolveRun.objects.get(plan=plan)
    assert response["Location"] == f"/timetable/runs/{run.pk}/"
    services.run_solve(run_id=run.pk)  # the worker's part (the test's transaction never commits to enqueue it)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    page = client.get(f"{base}/timetable/?by=teacher&name=").content.decode()
    assert 'id="timetable-grid"' in page and "tt-lesson" in page

    # moving a lesson to when its class has another lesson is refused, naming the class
    plan.refresh_from_db()
    problem = snapshots.problem_from_json(plan.problem)
    solution = placements_from_json(plan.placements)
    name = people_selectors.staff_choices_for(account_ids=[teacher.pk])[teacher.pk]
    mine = [a for a in problem.activities if name in a.teachers]
    first = next(a for a in mine if a.duration == 1)  # a single period fits wherever another lesson starts
    clash = next(
        a
        for a in problem.activities
        if a.students == first.students and solution.placements[a.id].day != solution.placements[first.id].day
    )
    where = solution.placements[clash.id]
    panel = client.get(
        f"{base}/move/?activity={first.id}&day={where.day}&period={where.period}", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'id="move-conflicts"' in panel and f"学生 {first.students[0]}" in panel and 'id="confirm-move"' not in panel
    assert "<html" not in panel  # htmx gets the panel alone
    client.post(f"{base}/move/", {"activity": first.id, "day": where.day, "period": where.period})
    plan.refresh_from_db()
    assert placements_from_json(plan.placements).placements == solution.placements

    response = client.post(f"{base}/publish/", {"note": "第一版"})
    version = TimetableVersion.objects.get(plan=plan)
    assert response["Location"] == f"/timetable/versions/{version.pk}/"
    shown = client.get(f"/timetable/versions/{version.pk}/?by=teacher&name={name}").content.decode()
    assert name in shown and first.subject in shown and "第 1 版" in shown
    xlsx = client.get(f"/timetable/versions/{version.pk}/export/xlsx/?by=class")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK" and "spreadsheetml" in xlsx["Content-Type"]
    pdf = client.get(f"/timetable/versions/{version.pk}/export/pdf/?by=teacher&name={name}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    ics = client.get(f"/timetable/versions/{version.pk}/export/ics/?name={name}")
    assert ics.status_code == 200 and b"BEGIN:VCALENDAR" in ics.content and b"RRULE:FREQ=WEEKLY" in ics.content


def _family_plan(account_for: Any) -> tuple[TimetableVersion, Student]:
    """The child's class has 语文 (the subject teacher) and 美术; another class 音乐; the child is in the 教学班
    物理A, classmates of his in 历史B."""
    admin = account_for("school_admin")
    child = Student.objects.get(account=account_for("student"))
    school_id = child.school_id
    teacher = account_for("subject_teacher")
    staff = [a for a, _l in people_selectors.staff_choices(school_id=school_id) if a != teacher.pk]
    other_class = next(c for c in org_selectors.class_rows(school_id=school_id) if c["id"] != child.admin_class_id)
    classmates = list(
        Student.objects.filter(admin_class_id=child.admin_class_id, status="01").exclude(pk=child.pk).order_by("pk")
    )
    plan = services.create_plan(actor=admin, school_id=school_id, name="家长看的课表")
    services.save_class_courses(
        actor=admin,
        plan_id=plan.pk,
        class_id=child.admin_class_id,
        rows=[
            services.CourseRow(subject="语文", lessons=3, teacher_ids=[teacher.pk], max_per_day=1),
            services.CourseRow(subject="美术", lessons=1, teacher_ids=[staff[0]]),
        ],
    )
    services.save_class_courses(
        actor=admin,
        plan_id=plan.pk,
        class_id=other_class["id"],
        rows=[services.CourseRow(subject="音乐", lessons=2, teacher_ids=[staff[1]])],
    )
    physics = services.save_teaching_class(
        actor=admin,
        plan_id=plan.pk,
        name="物理A",
        subject="物理",
        student_numbers=[child.student_no, classmates[0].student_no],
    )
    history = services.save_teaching_class(
        actor=admin,
        plan_id=plan.pk,
        name="历史B",
        subject="历史",
        student_numbers=[s.student_no for s in classmates[1:4]],
    )
    services.save_class_courses(
        actor=admin,
        plan_id=plan.pk,
        teaching_class_id=physics.pk,
        rows=[services.CourseRow(subject="物理", lessons=2, teacher_ids=[staff[2]])],
    )
    services.save_class_courses(
        actor=admin,
        plan_id=plan.pk,
        teaching_class_id=history.pk,
        rows=[services.CourseRow(subject="历史", lessons=2, teacher_ids=[staff[3]])],
    )
    solved(plan)
    return services.publish(actor=admin, plan_id=plan.pk), child


def test_guardians_and_students_see_the_childs_own_timetable_with_his_teaching_classes(
    login_for: Any, account_for: Any
) -> None:
    version, child = _family_plan(account_for)
    guardian = account_for("guardian")
    assert GuardianLink.objects.filter(guardian__account=guardian, student=child).exists()
    for role in ("guardian", "student"):
        page = login(Client(), login_for(role)).get("/timetable/my/").content.decode()
        assert child.name in page and "家长看的课表" in page
        assert "语文" in page and "美术" in page and "物理" in page and "物理A" in page
        assert "音乐" not in page and "历史" not in page  # another class's, and a teaching class he is not in
    far = login(Client(), login_for("guardian", 1)).get("/timetable/my/").content.decode()
    assert "家长看的课表" not in far and 'id="no-timetable"' in far
    guardian_client = login(Client(), login_for("guardian"))
    assert guardian_client.get(f"/timetable/versions/{version.pk}/").status_code == 404
    assert guardian_client.get("/timetable/").status_code == 403


def test_a_teacher_sees_his_own_lessons_and_staff_see_the_published_timetable(login_for: Any, account_for: Any) -> None:
    version, _child = _family_plan(account_for)
    teacher = login(Client(), login_for("subject_teacher"))
    page = teacher.get("/timetable/my/").content.decode()
    assert "语文" in page and "美术" not in page and "音乐" not in page
    assert "下载到手机日历" in page
    calendar = teacher.get("/timetable/my/calendar.ics")
    assert calendar.status_code == 200 and calendar.content.count(b"BEGIN:VEVENT") == 3
    listing = teacher.get("/timetable/").content.decode()
    assert f"/timetable/versions/{version.pk}/" in listing and "新建排课方案" not in listing
    assert teacher.get(f"/timetable/versions/{version.pk}/?by=class").status_code == 200
    assert teacher.get(f"/timetable/plans/{version.plan_id}/").status_code == 403  # may see, not manage
    other_school = login(Client(), login_for("subject_teacher", 1))
    assert other_school.get(f"/timetable/versions/{version.pk}/").status_code == 404


def test_the_teachers_calendar_follows_the_schools_holidays_and_makeup_days(account_for: Any) -> None:
    """国庆 2025 in the term: its weekdays off, and the make-up Sunday (28 Sep) and Saturday (11 Oct) run the
    lessons of the weekdays given off in lieu (Tuesday 7 and Wednesday 8 Oct); the school's own 补课 Saturday
    that follows Friday runs Friday's."""
    version, _child = _family_plan(account_for)
    plan = version.plan
    term = Term.objects.filter(school_id=plan.school_id).first()
    assert term is not None
    term.starts_on, term.ends_on = dt.date(2025, 9, 22), dt.date(2025, 10, 31)
    term.save()
    plan.term = term
    plan.save()
    org_services.set_calendar_day(
        actor=account_for("school_admin"),
        school_id=plan.school_id,
        date=dt.date(2025, 10, 25),
        is_school_day=True,
        note="补课",
        follows_weekday=4,
    )
    problem = snapshots.problem_from_json(version.problem)
    got = selectors._term(plan, problem)
    days = problem.days
    assert got.makeup_days == {
        dt.date(2025, 9, 28): days.index("周二"),
        dt.date(2025, 10, 11): days.index("周三"),
        dt.date(2025, 10, 25): days.index("周五"),
    }
    assert {dt.date(2025, 10, d) for d in (1, 2, 3, 6, 7, 8)} <= got.holidays
    assert dt.date(2025, 10, 9) not in got.holidays and dt.date(2025, 10, 4) not in got.holidays  # a Saturday


def test_the_fet_import_page_shows_the_report_or_every_error(login_for: Any, week: Week) -> None:
    client = login(Client(), login_for("school_admin"))
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = fet_file().replace(
        b"</Time_Constraints_List>",
        "<ConstraintStudentsSetMaxDaysPerWeek><Weight_Percentage>90</Weight_Percentage><Max_Days_Per_Week>4"
        "</Max_Days_Per_Week><Students>高一(1)</Students><Active>true</Active><Comments/>"
        "</ConstraintStudentsSetMaxDaysPerWeek></Time_Constraints_List>".encode(),
    )
    response = client.post(
        "/timetable/import/", {"name": "导入的课表", "file": SimpleUploadedFile("school.fet", data)}, follow=True
    )
    page = response.content.decode()
    assert 'id="import-report"' in page and "活动 5 项" in page and "不支持的约束 1 条" in page
    assert "ConstraintStudentsSetMaxDaysPerWeek" in page
    broken = client.post("/timetable/import/", {"file": SimpleUploadedFile("bad.fet", b"<fet><Teachers_List>")})
    assert (
        broken.status_code == 400
        and 'id="import-errors"' in broken.content.decode()
        and "行" in broken.content.decode()
    )
    assert not TimetablePlan.objects.filter(name="bad.fet").exists()
