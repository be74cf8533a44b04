"""The live attendance board and the reports, on a small school built here: counts by grade and class,
each reader's scope, the refusals, the Excel export and the charts."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook
from tests.browser import conftest as browser_fixtures
from tests.factories import AccountFactory, AdminClassFactory, GradeFactory, SchoolFactory, StudentFactory

from zhixiao.attendance import charts, reports
from zhixiao.attendance.models import AttendanceDay, GateEvent, GatePass
from zhixiao.identity.models import RoleAssignment
from zhixiao.kernel.permissions import Role
from zhixiao.people.models import Student

site, chromium = browser_fixtures.site, browser_fixtures.chromium  # the live server and Debian's chromium

pytestmark = pytest.mark.django_db

# A week the national calendar knows: Monday 9 June 2025 to Friday the 13th are school days, the 14th a Saturday.
MON = dt.date(2025, 6, 9)
WEEK = [MON + dt.timedelta(days=i) for i in range(5)]
SATURDAY = dt.date(2025, 6, 14)


class World:
    """One school: 2024级 (高一 in the school year 2024–25) with classes A (4 students) and B (3), 2023级
    (高二) with class C (2). Homeroom teachers from the factories, a guard and a grade head for 2024级."""

    def __init__(self) -> None:
        self.school = SchoolFactory()
        self.g1 = GradeFactory(school=self.school, entry_year=2024)
        self.g2 = GradeFactory(school=self.school, entry_year=2023)
        self.a = AdminClassFactory(grade=self.g1, number=1, name="高一(1)班")
        self.b = AdminClassFactory(grade=self.g1, number=2, name="高一(2)班")
        self.c = AdminClassFactory(grade=self.g2, number=1, name="高二(1)班")
        self.students = {
            cls.pk: [StudentFactory(admin_class=cls) for _ in range(n)]
            for cls, n in ((self.a, 4), (self.b, 3), (self.c, 2))
        }
        self.guard = AccountFactory()
        RoleAssignment.objects.create(account=self.guard, role=Role.GUARD, school=self.school)
        self.grade_head = AccountFactory()
        RoleAssignment.objects.create(account=self.grade_head, role=Role.GRADE_HEAD, school=self.school, grade=self.g1)
        for seq, student in enumerate(s for group in self.students.values() for s in group):
            GatePass.objects.create(
                school=self.school,
                person_kind="student",
                person_id=student.pk,
                name=student.name,
                number=student.student_no,
                class_name=student.admin_class.name,
                admin_class_id=student.admin_class_id,
                grade_id=student.admin_class.grade_id,
                status="01",
                seq=seq + 1,
            )

    def day(self, student: Any, date: dt.date, status: str, **extra: Any) -> AttendanceDay:
        return AttendanceDay.objects.create(
            school=self.school,
            student=student,
            date=date,
            admin_class_id=student.admin_class_id,
            grade_id=student.admin_class.grade_id,
            status=status,
            **extra,
        )

    def passage(self, n: int, at: dt.datetime, student: Any = None, **extra: Any) -> GateEvent:
        fields: dict[str, Any] = {"name": "", "class_name": "", "admin_class_id": None, "grade_id": None}
        if student is not None:
            fields = {
                "student_id": student.pk,
                "name": student.name,
                "class_name": student.admin_class.name,
                "admin_class_id": student.admin_class_id,
                "grade_id": student.admin_class.grade_id,
            }
        return GateEvent.objects.create(
            school=self.school,
            device_id=7,
            device_kind="gate",
            event_id=f"e{n}",
            credential=extra.pop("credential", f"card{n:04d}"),
            direction=extra.pop("direction", "in"),
            occurred_at=at,
            received_at=at,
            **{**fields, **extra},
        )


@pytest.fixture
def world() -> World:
    return World()


def _client(account: Any) -> Client:
    client = Client()
    client.force_login(account)
    return client


def _today_world(world: World) -> dict[str, Any]:
    """Today: class A 2 present, 1 late, 1 absent (a boarder not back); class B 1 present, 1 on leave, 1 not
    yet in; class C 1 left early, 1 absent. Passages: A's first student, C's first student, a stranger."""
    today = timezone.localdate()
    a, b, c = (world.students[k.pk] for k in (world.a, world.b, world.c))
    world.day(a[0], today, "present")
    world.day(a[1], today, "present")
    world.day(a[2], today, "late", late_minutes=6)
    world.day(a[3], today, "absent", dorm_status="not_back")
    world.day(b[0], today, "present")
    world.day(b[1], today, "on_leave")
    world.day(b[2], today, "pending")
    world.day(c[0], today, "left_early")
    world.day(c[1], today, "absent")
    now = timezone.now()
    world.passage(1, now - dt.timedelta(minutes=30), a[0])
    world.passage(2, now - dt.timedelta(minutes=20), c[0], flag="late")
    world.passage(3, now - dt.timedelta(minutes=10), credential="DEADBEEF99", flag="unknown")
    return {"a": a, "b": b, "c": c}


# --- the board ----------------------------------------------------------------------------------------------
def test_the_guard_sees_todays_counts_for_the_school_its_grades_and_classes(world: World) -> None:
    _today_world(world)
    response = _client(world.guard).get(f"/attendance/board/?school={world.school.pk}")
    assert response.status_code == 200
    summary: reports.Summary = response.context["summary"]
    t = summary.total
    assert (t.expected, t.present, t.late, t.absent, t.on_leave, t.left_early, t.pending, t.not_back) == (
        9,
        3,
        1,
        2,
        1,
        1,
        1,
        1,
    )
    assert t.rate == pytest.approx(5 / 9)
    # 2024级 and 2023级 as called this school year (the factories' school has no terms: the calendar decides)
    names = [g.level_name(reports.school_year_start(timezone.localdate())) for g in (world.g1, world.g2)]
    assert [(r.label, r.counts.expected, r.counts.absent) for r in summary.grades] == [
        (names[0], 7, 1),
        (names[1], 2, 1),
    ]
    assert [(r.label, r.counts.expected, r.counts.attended) for r in summary.classes] == [
        ("高一(1)班", 4, 3),
        ("高一(2)班", 3, 1),
        ("高二(1)班", 2, 1),
    ]
    body = response.content.decode()
    # the guard reads no class list: the names come from the gate passes
    assert "高二(1)班" in body and 'hx-trigger="every 5s"' in body


def test_the_board_shows_the_gate_feed_newest_first_anomalies_and_the_absent(world: World) -> None:
    people = _today_world(world)
    body = _client(world.guard).get(f"/attendance/board/?school={world.school.pk}").content.decode()
    feed = body[body.index('id="board-feed-table"') :]
    assert feed.index("****EF99") < feed.index(people["c"][0].name) < feed.index(people["a"][0].name)
    assert "DEADBEEF99" not in body  # the credential is masked
    anomalies = body[body.index('id="board-anomalies"') : body.index('id="board-feed-table"')]
    assert "****EF99" in anomalies and "未知凭证" in body
    absent = body[body.index('id="board-absent-table"') :]
    absent = absent[: absent.index("</table>")]
    assert people["a"][3].name in absent and people["c"][1].name in absent
    assert people["b"][1].name not in absent  # on leave is not absent without leave


def test_the_board_parts_are_polled_as_fragments(world: World) -> None:
    _today_world(world)
    guard = _client(world.guard)
    q = f"?school={world.school.pk}"
    for part, marker in (("counts", 'id="board-counts"'), ("feed", 'id="board-feed"'), ("absent", 'id="board-absent"')):
        response = guard.get(f"/attendance/board/{part}/{q}", HTTP_HX_REQUEST="true")
        body = response.content.decode()
        assert response.status_code == 200 and response["Cache-Control"] == "no-store"
        assert body.lstrip().startswith("<section") and marker in body and "<html" not in body
        assert f'hx-get="/attendance/board/{part}/{q}"' in body and 'hx-trigger="every 5s"' in body


def test_a_homeroom_teacher_sees_only_her_class_on_the_board(world: World) -> None:
    people = _today_world(world)
    teacher = _client(world.a.homeroom_teacher)
    response = teacher.get("/attendance/board/")
    assert response.status_code == 200
    summary = response.context["summary"]
    assert [r.label for r in summary.classes] == ["高一(1)班"]
    assert summary.total.expected == 4 and summary.total.absent == 1
    assert not response.context["show_anomalies"]
    feed = teacher.get("/attendance/board/feed/").content.decode()
    assert people["a"][0].name in feed and people["c"][0].name not in feed and "EF99" not in feed
    absent = teacher.get("/attendance/board/absent/").content.decode()
    assert people["a"][3].name in absent and people["c"][1].name not in absent


def test_a_grade_head_sees_the_classes_of_her_grade(world: World) -> None:
    _today_world(world)
    summary = _client(world.grade_head).get("/attendance/board/").context["summary"]
    assert [r.label for r in summary.classes] == ["高一(1)班", "高一(2)班"]
    assert summary.total.expected == 7


@pytest.mark.parametrize(
    "path",
    [
        "/attendance/board/",
        "/attendance/board/counts/",
        "/attendance/board/feed/",
        "/attendance/board/absent/",
        "/attendance/reports/",
        "/attendance/reports/export/",
    ],
)
def test_guardians_and_students_are_refused(path: str, account_for: Any) -> None:
    for role in (Role.GUARDIAN, Role.STUDENT):
        assert _client(account_for(role)).get(path).status_code == 403, (role, path)


def test_a_teacher_without_attendance_rights_is_refused_and_a_stranger_goes_to_login(account_for: Any) -> None:
    assert _client(account_for(Role.SUBJECT_TEACHER)).get("/attendance/board/").status_code == 403
    assert Client().get("/attendance/board/").status_code == 302


def test_another_schools_board_is_not_found(world: World) -> None:
    other = SchoolFactory()
    assert _client(world.guard).get(f"/attendance/board/?school={other.pk}").status_code == 404


# --- reports ------------------------------------------------------------------------------------------------
def _week_world(world: World) -> dict[str, Any]:
    """The week of 9 June 2025: A's first student absent Mon–Wed (chronic), the second late on Tuesday, the
    rest present; B's first student on leave on Friday; C all present. A Saturday record does not count."""
    a, b, c = (world.students[k.pk] for k in (world.a, world.b, world.c))
    for d in WEEK:
        for s in a + b + c:
            status = "present"
            if s == a[0] and d in WEEK[:3]:
                status = "absent"
            elif s == a[1] and d == WEEK[1]:
                status = "late"
            elif s == b[0] and d == WEEK[4]:
                status = "on_leave"
            world.day(s, d, status)
    world.day(a[2], SATURDAY, "absent")
    return {"a": a, "b": b, "c": c}


def test_the_weekly_report_gives_rates_per_class_and_grade_over_school_days(world: World) -> None:
    people = _week_world(world)
    guard = _client(world.guard)
    response = guard.get(f"/attendance/reports/?period=week&date={WEEK[2]}&level=class")
    assert response.status_code == 200
    rep: reports.Report = response.context["report"]
    assert (rep.start, rep.end, rep.school_days) == (MON, MON + dt.timedelta(days=6), WEEK)
    by_class = {r.label: r.counts for r in rep.summary.classes}
    assert (
        by_class["高一(1)班"].expected == 20 and by_class["高一(1)班"].absent == 3 and by_class["高一(1)班"].late == 1
    )
    assert by_class["高一(1)班"].rate == pytest.approx(17 / 20)
    assert by_class["高一(2)班"].on_leave == 1 and by_class["高一(2)班"].rate == pytest.approx(14 / 15)
    assert by_class["高二(1)班"].rate == 1.0
    by_grade = {r.label: r.counts for r in rep.summary.grades}
    assert by_grade["高一"].expected == 35 and by_grade["高一"].attended == 31
    assert rep.summary.total.expected == 45  # the Saturday record is not a school day's
    assert [round(r.counts.rate or 0, 3) for r in rep.daily] == [round(8 / 9, 3)] * 3 + [1.0, round(8 / 9, 3)]
    body = response.content.decode()
    assert "85.0%" in body and "93.3%" in body
    chronic = response.context["chronic"]
    assert [(r["student_id"], r["absent"]) for r in chronic] == [(people["a"][0].pk, 3)]
    assert people["a"][0].name in body[body.index('id="chronic"') :]


def test_the_chronic_list_also_takes_a_rate_threshold(world: World) -> None:
    people = _week_world(world)
    rows = reports.chronic_absence(
        actor=world.guard, school_id=world.school.pk, start=WEEK[0], end=WEEK[-1], min_absent=4, below_percent=90
    )
    # nobody is absent 4 days; A's first student (40 %) and B's first (80 %) are under 90 %
    assert [r["student_id"] for r in rows] == [people["a"][0].pk, people["b"][0].pk]
    assert rows[1]["rate_text"] == "80.0%"


def test_a_daily_report_and_the_grade_level(world: World) -> None:
    _week_world(world)
    response = _client(world.guard).get(f"/attendance/reports/?period=day&date={WEEK[0]}&level=grade")
    rows = response.context["rows"]
    assert [(r.label, r.counts.expected, r.counts.absent) for r in rows] == [("高一", 7, 1), ("高二", 2, 0)]
    weekend = _client(world.guard).get(f"/attendance/reports/?period=day&date={SATURDAY}")
    assert weekend.context["report"].summary.total.expected == 0 and "该时段没有考勤记录" in weekend.content.decode()


def test_a_homeroom_teacher_reports_on_her_class_only(world: World) -> None:
    people = _week_world(world)
    response = _client(world.b.homeroom_teacher).get(f"/attendance/reports/?period=week&date={MON}")
    assert [r.label for r in response.context["rows"]] == ["高一(2)班"]
    assert response.context["report"].summary.total.expected == 15
    assert response.context["chronic"] == []
    assert people["a"][0].name not in response.content.decode()


def test_the_excel_export_holds_the_reports_numbers(world: World) -> None:
    _week_world(world)
    response = _client(world.guard).get(f"/attendance/reports/export/?period=week&date={WEEK[3]}&level=class")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert re.search(r'filename="attendance-\d+-class-20250609-20250615\.xlsx"', response["Content-Disposition"])
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("班级", "年级", "应到人次", "出勤", "迟到", "早退", "缺勤", "请假", "出勤率（%）")
    assert rows[1] == ("高一(1)班", "高一", 20, 16, 1, 0, 3, 0, 85)
    assert rows[2][0] == "高一(2)班" and rows[2][7] == 1 and rows[2][8] == pytest.approx(93.3)
    assert rows[-1][:3] == ("合计", None, 45)
    grades = _client(world.guard).get(f"/attendance/reports/export/?period=week&date={MON}&level=grade")
    grade_rows = list(load_workbook(io.BytesIO(grades.content)).worksheets[0].iter_rows(values_only=True))
    assert grade_rows[0][0] == "年级" and [r[0] for r in grade_rows[1:]] == ["高一", "高二", "合计"]


def test_the_homeroom_teachers_export_holds_only_her_class(world: World) -> None:
    _week_world(world)
    response = _client(world.a.homeroom_teacher).get(f"/attendance/reports/export/?period=week&date={MON}")
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["高一(1)班", "合计"]


def test_the_report_page_draws_a_bar_per_class_and_a_point_per_school_day(world: World) -> None:
    _week_world(world)
    body = _client(world.guard).get(f"/attendance/reports/?period=week&date={MON}").content.decode()
    bars = re.findall(r'<g class="bar" data-label="([^"]+)"', body)
    assert bars == ["高一(1)班", "高一(2)班", "高二(1)班"]
    assert len(re.findall(r'<circle class="point"', body)) == 5


# --- charts and periods -------------------------------------------------------------------------------------
def test_the_bar_chart_escapes_what_it_is_given_and_marks_low_rates() -> None:
    svg = charts.bar_chart(
        [charts.Point('<script>"x"</script>', 0.5), charts.Point("一班", 0.98), charts.Point("空", None)], title="a&b"
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a&amp;b" in svg
    assert svg.count('<g class="bar"') == 3 and svg.count("<rect") == 2
    assert charts.RED in svg and "98.0%" in svg


def test_the_line_chart_breaks_at_days_without_records() -> None:
    points = [charts.Point(f"06-0{i}", r) for i, r in enumerate([0.95, 0.97, None, 0.96, 0.99], start=1)]
    svg = charts.line_chart(points, title="每日出勤率")
    assert svg.count("<polyline") == 2 and svg.count('<circle class="point"') == 4
    assert "80%" in svg  # the axis starts under the lowest rate, not at 0
    assert "无数据" in charts.line_chart([], title="t", empty="无数据")


def test_periods_are_the_day_its_week_and_its_month() -> None:
    day = dt.date(2025, 2, 12)
    assert reports.period_bounds("day", day) == (day, day)
    assert reports.period_bounds("week", day) == (dt.date(2025, 2, 10), dt.date(2025, 2, 16))
    assert reports.period_bounds("month", day) == (dt.date(2025, 2, 1), dt.date(2025, 2, 28))


def test_the_board_counts_take_the_same_queries_however_many_students(
    world: World, django_assert_max_num_queries: Any
) -> None:
    _today_world(world)
    for _ in range(30):
        world.day(StudentFactory(admin_class=world.b), timezone.localdate(), "present")
    reports.may_watch(world.guard)  # the guard's grants, read once per request
    with django_assert_max_num_queries(7):
        summary = reports.board_summary(actor=world.guard, school_id=world.school.pk)
    assert summary.total.expected == 39


# --- a phone ------------------------------------------------------------------------------------------------
@pytest.fixture
def demo_board(account_for: Any) -> Iterator[dict[str, Any]]:
    """Today's records for 60 students of the demo's first school (written before the browser starts: while
    Playwright runs, the ORM here would use another connection than the live server's). On PostgreSQL the
    live server reads only what is committed: written on a connection of its own, and removed afterwards."""
    from django.db import connection, connections

    guard = account_for(Role.GUARD)
    school_id = RoleAssignment.objects.get(account=guard, role=Role.GUARD).school_id
    students = list(Student.objects.filter(school_id=school_id).select_related("admin_class")[:60])
    if connection.vendor != "postgresql":
        _write_board(school_id, students)
        yield {"latest": students[0].name}
        return
    own = connections.create_connection("default")
    previous = connections["default"]
    connections["default"] = own
    try:
        _write_board(school_id, students)
    finally:
        connections["default"] = previous
    try:
        yield {"latest": students[0].name}
    finally:
        with own.cursor() as cursor:
            cursor.execute("DELETE FROM attendance_gateevent WHERE event_id LIKE 'phone-%%' AND device_id = 1")
            cursor.execute(
                "DELETE FROM attendance_attendanceday WHERE date = %s AND student_id = ANY(%s)",
                [timezone.localdate(), [s.pk for s in students]],
            )
        own.close()


def _write_board(school_id: int, students: list[Student]) -> None:
    today, now = timezone.localdate(), timezone.now()
    statuses = ["present", "present", "late", "absent", "on_leave", "left_early"]
    for i, s in enumerate(students):
        AttendanceDay.objects.create(
            school_id=school_id,
            student=s,
            date=today,
            admin_class_id=s.admin_class_id,
            grade_id=s.admin_class.grade_id,
            status=statuses[i % len(statuses)],
        )
        GateEvent.objects.create(
            school_id=school_id,
            device_id=1,
            device_kind="gate",
            event_id=f"phone-{i}",
            credential=f"card-{i}",
            direction="in",
            occurred_at=now - dt.timedelta(minutes=i),
            received_at=now,
            student_id=s.pk,
            name=s.name,
            class_name=s.admin_class.name,
            admin_class_id=s.admin_class_id,
            grade_id=s.admin_class.grade_id,
            flag="late" if i % 6 == 2 else "",
        )


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_the_board_and_the_report_fit_a_phone_and_the_board_refreshes_itself(
    demo_board: dict[str, Any], site: str, chromium: Any, login_for: Any
) -> None:
    """The guard of the demo's first school on a 390-px phone: nothing wider than the screen (tables scroll in
    their own box), and the board asks for its parts again by itself."""
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        demo = login_for(Role.GUARD)
        page.goto(f"{site}/account/login/")
        page.fill("input[name=username]", demo.username)
        page.fill("input[name=password]", demo.password)
        page.click("form.form button[type=submit]")
        page.wait_for_url(f"{site}/")
        page.goto(f"{site}/attendance/board/")
        assert demo_board["latest"] in page.inner_text("#board-feed-table")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        with page.expect_response(lambda r: "/attendance/board/feed/" in r.url, timeout=12_000) as polled:
            pass
        assert polled.value.status == 200
        assert demo_board["latest"] in page.inner_text("#board-feed-table")  # swapped in, still there
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.goto(f"{site}/attendance/reports/?period=month")
        assert page.locator("svg.chart-bar g.bar").count() >= 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
