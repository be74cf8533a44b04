"""The school admin's pages for the school's structure, as specifications: what she can change, what
others cannot, and how a broken rule is shown (in Chinese) without writing anything."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from zhixiao.kernel.models import AuditRecord
from zhixiao.org import selectors as org_selectors
from zhixiao.org.models import AdminClass, CalendarDay, Campus, Department, Grade, School, SchoolYear, Subject, Term
from zhixiao.org.tests.signin import signed_in

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def school_of(login: Any) -> School:
    return School.objects.get(code=login.school)


@pytest.fixture
def admin(login_for: Any) -> tuple[Client, School]:
    login = login_for("school_admin", 0)
    return signed_in(login), school_of(login)


def audited(action: str) -> bool:
    return AuditRecord.objects.filter(action=action).exists()


# --- the school's details -----------------------------------------------------------------------------
def school_post(school: School, **changes: str) -> dict[str, str]:
    data = {
        "school": str(school.pk),
        "code": school.code,
        "name": school.name,
        "short_name": school.short_name,
        "school_type": school.school_type,
        "division_code": school.division_code,
        "address": school.address,
        "phone": school.phone,
    }
    data.update(changes)
    return data


def test_school_admin_edits_the_school_details(admin):
    client, school = admin
    page = client.get(f"/org/school/edit/?school={school.pk}")
    assert page.status_code == 200
    assert "完全中学" in page.content.decode()  # the school-type select offers JY/T 1001 types
    response = client.post(
        "/org/school/edit/",
        school_post(school, code="3411029999", name="滁州市第一中学", school_type="341", division_code="341103"),
    )
    assert response.status_code == 302
    school.refresh_from_db()
    assert (school.code, school.name, school.school_type, school.division_code) == (
        "3411029999",
        "滁州市第一中学",
        "341",
        "341103",
    )
    assert "安徽省滁州市南谯区" in client.get(f"/org/school/?school={school.pk}").content.decode()
    assert audited("school.update")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"code": "34110"}, "学校标识码应为10位数字"),
        ({"code": "34110200ab"}, "学校标识码应为10位数字"),
        ({"division_code": "999999"}, "未知的行政区划代码：999999"),
    ],
)
def test_invalid_school_details_show_the_error_and_change_nothing(admin, changes, message):
    client, school = admin
    before = (school.code, school.division_code)
    response = client.post("/org/school/edit/", school_post(school, name="改过的名字", **changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    school.refresh_from_db()
    assert (school.code, school.division_code) == before
    assert school.name != "改过的名字"


def test_school_code_of_another_school_is_refused(admin, login_for):
    client, school = admin
    other = school_of(login_for("school_admin", 1))
    response = client.post("/org/school/edit/", school_post(school, code=other.code))
    assert f"学校标识码 {other.code} 已存在" in response.content.decode()


def test_division_code_shows_its_full_name_as_typed(admin):
    client, _school = admin
    assert "安徽省滁州市琅琊区" in client.get("/org/school/division/?division_code=341102", **HTMX).content.decode()
    assert "未知的行政区划代码" in client.get("/org/school/division/?division_code=349999", **HTMX).content.decode()


# --- campuses, departments, subjects ------------------------------------------------------------------
def test_school_admin_adds_renames_and_deletes_a_campus(admin):
    client, school = admin
    assert (
        client.post("/org/campuses/", {"school": school.pk, "name": "东校区", "address": "东路1号"}).status_code == 302
    )
    campus = Campus.objects.get(school=school, name="东校区")
    response = client.post(f"/org/units/campus/{campus.pk}/rename/", {f"u{campus.pk}-name": "滨湖校区"}, **HTMX)
    assert response.status_code == 200
    assert "滨湖校区" in response.content.decode()
    campus.refresh_from_db()
    assert campus.name == "滨湖校区"
    response = client.post(f"/org/units/campus/{campus.pk}/delete/", **HTMX)
    assert response.status_code == 200
    assert response.content == b""
    assert not Campus.objects.filter(pk=campus.pk).exists()
    assert audited("campus.create") and audited("campus.update") and audited("campus.delete")


def test_campus_with_classes_cannot_be_deleted(admin):
    client, school = admin
    campus = Campus.objects.get(school=school, name="主校区")
    AdminClass.objects.filter(school=school).update(campus=campus)
    response = client.post(f"/org/units/campus/{campus.pk}/delete/", **HTMX)
    assert "该校区已有班级，不能删除" in response.content.decode()
    assert Campus.objects.filter(pk=campus.pk).exists()


def test_school_admin_adds_renames_and_deletes_a_department(admin):
    client, school = admin
    client.post("/org/departments/", {"school": school.pk, "name": "安全办"})
    dept = Department.objects.get(school=school, name="安全办")
    client.post(f"/org/units/department/{dept.pk}/rename/", {f"u{dept.pk}-name": "安全保卫处"})
    dept.refresh_from_db()
    assert dept.name == "安全保卫处"
    assert client.post(f"/org/units/department/{dept.pk}/delete/", {"school": school.pk}).status_code == 302
    assert not Department.objects.filter(pk=dept.pk).exists()


def test_department_with_staff_cannot_be_deleted(admin):
    client, school = admin
    dept = Department.objects.get(school=school, name="教务处")  # the demo's department head sits here
    response = client.post(f"/org/units/department/{dept.pk}/delete/", **HTMX)
    assert "该处室已有" in response.content.decode()
    assert "不能删除" in response.content.decode()
    assert Department.objects.filter(pk=dept.pk).exists()


def test_duplicate_department_name_is_refused(admin):
    client, school = admin
    response = client.post("/org/departments/", {"school": school.pk, "name": "教务处"})
    assert "本校已有处室名称为“教务处”的处室" in response.content.decode()
    assert Department.objects.filter(school=school, name="教务处").count() == 1


def test_school_admin_adds_renames_and_deletes_an_unused_subject(admin):
    client, school = admin
    client.post("/org/subjects/", {"school": school.pk, "code": "21", "name": "书法"})
    subject = Subject.objects.get(school=school, code="21")
    client.post(
        f"/org/units/subject/{subject.pk}/rename/", {f"u{subject.pk}-code": "21", f"u{subject.pk}-name": "硬笔书法"}
    )
    subject.refresh_from_db()
    assert subject.name == "硬笔书法"
    client.post(f"/org/units/subject/{subject.pk}/delete/", **HTMX)
    assert not Subject.objects.filter(pk=subject.pk).exists()
    assert audited("subject.delete")


def test_subject_with_teaching_assignments_cannot_be_deleted(admin):
    client, school = admin
    subject = Subject.objects.get(school=school, name="语文")
    response = client.post(f"/org/units/subject/{subject.pk}/delete/", **HTMX)
    assert "该科目已有任课安排，不能删除" in response.content.decode()
    assert Subject.objects.filter(pk=subject.pk).exists()
    assert not audited("subject.delete")


# --- grades and classes -------------------------------------------------------------------------------
def test_school_admin_adds_a_grade_and_a_class(admin):
    client, school = admin
    year = dt.date.today().year
    Grade.objects.filter(school=school, stage="junior", entry_year=year).delete()
    assert (
        client.post("/org/grades/add/", {"school": school.pk, "stage": "junior", "entry_year": year}).status_code == 302
    )
    grade = Grade.objects.get(school=school, stage="junior", entry_year=year)
    response = client.post(
        "/org/classes/add/", {"school": school.pk, "grade": grade.pk, "number": 1, "name": "", "room": "1号楼101"}
    )
    assert response.status_code == 302
    cls = AdminClass.objects.get(grade=grade, number=1)
    assert cls.name.endswith("(1)班")
    assert f"{year}级" in client.get(f"/org/grades/?school={school.pk}").content.decode()


def test_duplicate_class_number_shows_the_error_and_adds_nothing(admin):
    client, school = admin
    cls = AdminClass.objects.filter(school=school).select_related("grade").first()
    count = AdminClass.objects.count()
    response = client.post(
        "/org/classes/add/", {"school": school.pk, "grade": cls.grade_id, "number": cls.number, "name": "新班"}
    )
    assert response.status_code == 200
    assert f"{cls.grade}已有{cls.number}班" in response.content.decode()
    assert AdminClass.objects.count() == count


def test_duplicate_cohort_is_refused(admin):
    client, school = admin
    grade = Grade.objects.filter(school=school).first()
    response = client.post(
        "/org/grades/add/", {"school": school.pk, "stage": grade.stage, "entry_year": grade.entry_year}
    )
    assert f"本校已有{grade.get_stage_display()}{grade.entry_year}级" in response.content.decode()


def test_class_cannot_be_added_to_another_schools_grade(admin, login_for):
    client, school = admin
    foreign = Grade.objects.filter(school=school_of(login_for("school_admin", 1))).first()
    response = client.post("/org/classes/add/", {"school": school.pk, "grade": foreign.pk, "number": 42})
    assert response.status_code == 404
    assert not AdminClass.objects.filter(grade=foreign, number=42).exists()


# --- school years and terms ---------------------------------------------------------------------------
def year_post(school: School, start: int, **changes: Any) -> dict[str, Any]:
    data = {
        "school": school.pk,
        "start_year": start,
        "starts_on": f"{start}-08-25",
        "ends_on": f"{start + 1}-08-24",
        "term1_starts_on": f"{start}-09-01",
        "term1_ends_on": f"{start + 1}-01-20",
        "term2_starts_on": f"{start + 1}-02-20",
        "term2_ends_on": f"{start + 1}-07-10",
    }
    data.update(changes)
    return data


def test_school_admin_adds_a_school_year_and_makes_its_term_current(admin):
    client, school = admin
    start = SchoolYear.objects.filter(school=school).order_by("-start_year").first().start_year + 1
    assert client.post("/org/years/add/", year_post(school, start)).status_code == 302
    year = SchoolYear.objects.get(school=school, start_year=start)
    assert year.terms.count() == 2
    second = year.terms.get(number=2)
    assert client.post(f"/org/terms/{second.pk}/current/", {"school": school.pk}).status_code == 302
    assert list(Term.objects.filter(school=school, is_current=True)) == [second]
    assert audited("term.set_current")


def test_term_outside_the_year_shows_the_error_and_writes_nothing(admin):
    client, school = admin
    start = SchoolYear.objects.filter(school=school).order_by("-start_year").first().start_year + 1
    response = client.post("/org/years/add/", year_post(school, start, term2_ends_on=f"{start + 1}-09-30"))
    assert response.status_code == 200
    assert "学期日期须在学年之内且结束晚于开始" in response.content.decode()
    assert not SchoolYear.objects.filter(school=school, start_year=start).exists()


def test_overlapping_terms_are_refused(admin):
    client, school = admin
    start = SchoolYear.objects.filter(school=school).order_by("-start_year").first().start_year + 1
    response = client.post("/org/years/add/", year_post(school, start, term2_starts_on=f"{start}-12-01"))
    assert "第二学期须在第一学期结束之后开始" in response.content.decode()
    assert not SchoolYear.objects.filter(school=school, start_year=start).exists()


# --- the calendar -------------------------------------------------------------------------------------
def cell(html: str, date: str) -> str:
    start = html.index(f'data-date="{date}"')
    return html[start : html.index("</div>", start)]


def test_calendar_shows_national_holidays_and_makeup_workdays(admin):
    client, school = admin
    html = client.get(f"/org/calendar/?school={school.pk}&year=2025&month=10").content.decode()
    assert 'data-kind="public_holiday"' in cell(html, "2025-10-01")
    assert "国庆节" in cell(html, "2025-10-01")
    assert 'data-kind="makeup_workday"' in cell(html, "2025-10-11")  # Saturday, 调休上课
    september = client.get(f"/org/calendar/?school={school.pk}&year=2025&month=9").content.decode()
    assert 'data-kind="makeup_workday"' in cell(september, "2025-09-28")  # Sunday, 调休上课
    assert "调休上课" in cell(september, "2025-09-28")


def test_makeup_workdays_take_the_timetable_of_the_weekday_given_off_in_lieu(admin):
    client, school = admin
    september = client.get(f"/org/calendar/?school={school.pk}&year=2025&month=9").content.decode()
    october = client.get(f"/org/calendar/?school={school.pk}&year=2025&month=10").content.decode()
    # 国庆 2025: Sunday 28 Sep pays for Tuesday 7 Oct, Saturday 11 Oct for Wednesday 8 Oct
    assert "按周二课表" in cell(september, "2025-09-28")
    assert "按周三课表" in cell(october, "2025-10-11")
    assert "课表" not in cell(october, "2025-10-09")  # an ordinary Thursday
    assert org_selectors.timetable_weekday(school_id=school.pk, date=dt.date(2025, 9, 28)) == 1
    assert org_selectors.timetable_weekday(school_id=school.pk, date=dt.date(2025, 10, 9)) == 3
    assert org_selectors.timetable_weekday(school_id=school.pk, date=dt.date(2025, 10, 7)) is None  # 国庆


def test_school_sets_which_timetable_an_extra_day_follows(admin):
    client, school = admin
    response = client.post(
        "/org/calendar/set/",
        {"school": school.pk, "date": "2025-10-11", "kind": "extra", "note": "调休按周五", "follows": "4"},
    )
    assert response.status_code == 302
    html = client.get(f"/org/calendar/?school={school.pk}&year=2025&month=10").content.decode()
    assert "按周五课表" in cell(html, "2025-10-11")
    assert org_selectors.timetable_weekday(school_id=school.pk, date=dt.date(2025, 10, 11)) == 4
    # a Saturday 补课 without a choice takes Monday's timetable
    client.post("/org/calendar/set/", {"school": school.pk, "date": "2025-10-18", "kind": "extra", "note": "补课"})
    assert org_selectors.timetable_weekday(school_id=school.pk, date=dt.date(2025, 10, 18)) == 0
    # a day off cannot follow a timetable
    response = client.post(
        "/org/calendar/set/",
        {"school": school.pk, "date": "2025-10-20", "kind": "off", "note": "运动会", "follows": "2"},
    )
    assert response.status_code == 200 and "不能指定按周几课表" in response.content.decode()
    assert not CalendarDay.objects.filter(school=school, date=dt.date(2025, 10, 20)).exists()
    assert audited("calendar.set_day")


def test_school_adds_and_removes_its_own_day_off(admin):
    client, school = admin
    response = client.post(
        "/org/calendar/set/", {"school": school.pk, "date": "2025-10-13", "kind": "off", "note": "校庆"}
    )
    assert response.status_code == 302
    html = client.get(f"/org/calendar/?school={school.pk}&year=2025&month=10").content.decode()
    assert 'data-kind="school_day_off"' in cell(html, "2025-10-13")
    assert "校庆" in cell(html, "2025-10-13")
    response = client.post("/org/calendar/remove/", {"school": school.pk, "date": "2025-10-13"}, **HTMX)
    assert response.status_code == 200
    assert 'data-kind="school_day"' in cell(response.content.decode(), "2025-10-13")
    assert not CalendarDay.objects.filter(school=school, date=dt.date(2025, 10, 13)).exists()
    assert audited("calendar.set_day") and audited("calendar.remove_day")


def test_calendar_day_needs_a_note(admin):
    client, school = admin
    response = client.post(
        "/org/calendar/set/", {"school": school.pk, "date": "2025-10-14", "kind": "off", "note": " "}
    )
    assert response.status_code == 200
    assert not CalendarDay.objects.filter(school=school, date=dt.date(2025, 10, 14)).exists()


def test_days_between_terms_are_vacation(admin):
    client, school = admin
    year = SchoolYear.objects.filter(school=school, terms__is_current=True).get()
    first, second = year.terms.order_by("number")
    gap = first.ends_on + dt.timedelta(days=1)
    html = client.get(f"/org/calendar/?school={school.pk}&year={gap.year}&month={gap.month}").content.decode()
    assert 'data-kind="vacation"' in cell(html, gap.isoformat())
    assert second.starts_on > gap


# --- who may do what ----------------------------------------------------------------------------------
def test_admin_of_another_school_cannot_touch_this_one(admin, login_for):
    _client, school = admin
    other = signed_in(login_for("school_admin", 1))
    campus = Campus.objects.filter(school=school).first()
    subject = Subject.objects.filter(school=school).first()
    term = Term.objects.filter(school=school).exclude(is_current=True).first()
    assert other.get(f"/org/school/edit/?school={school.pk}").status_code == 404
    assert other.post(f"/org/units/campus/{campus.pk}/rename/", {f"u{campus.pk}-name": "X"}).status_code in (403, 404)
    assert other.post(f"/org/units/subject/{subject.pk}/delete/").status_code in (403, 404)
    assert other.post(f"/org/terms/{term.pk}/current/", {"school": school.pk}).status_code == 404
    assert (
        other.post(
            "/org/calendar/set/", {"school": school.pk, "date": "2025-10-13", "kind": "off", "note": "x"}
        ).status_code
        == 404
    )
    campus.refresh_from_db()
    assert campus.name != "X"
    assert Subject.objects.filter(pk=subject.pk).exists()
    assert not CalendarDay.objects.filter(school=school, date=dt.date(2025, 10, 13)).exists()
    # and a post without ?school= lands in her own school, never in this one
    other.post("/org/campuses/", {"name": "越界校区"})
    assert not Campus.objects.filter(school=school, name="越界校区").exists()


def test_homeroom_teacher_reads_but_cannot_manage(login_for):
    login = login_for("homeroom_teacher", 0)
    school = school_of(login)
    client = signed_in(login)
    assert client.get(f"/org/school/?school={school.pk}").status_code == 200
    assert "编辑学校信息" not in client.get(f"/org/school/?school={school.pk}").content.decode()
    assert client.get("/org/school/edit/").status_code == 403
    assert client.post("/org/campuses/", {"school": school.pk, "name": "偷偷加的"}).status_code == 403
    campus = Campus.objects.filter(school=school).first()
    assert client.post(f"/org/units/campus/{campus.pk}/delete/").status_code == 403
    assert client.post("/org/calendar/remove/", {"school": school.pk, "date": "2025-10-13"}).status_code == 403
    assert not Campus.objects.filter(name="偷偷加的").exists()
    assert Campus.objects.filter(pk=campus.pk).exists()


def test_pages_need_a_login(client):
    response = client.get("/org/campuses/")
    assert response.status_code == 302
    assert "/account/login/" in response["Location"]
