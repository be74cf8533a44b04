"""The system admin opens a school with its first admin, and appoints a bureau's officer."""

from __future__ import annotations

import pytest

from zhixiao.identity.models import Account, RoleAssignment
from zhixiao.kernel import permissions
from zhixiao.org.models import Department, School
from zhixiao.org.tests.signin import signed_in
from zhixiao.people import selectors as people_selectors
from zhixiao.people.models import Staff, Student

pytestmark = pytest.mark.django_db

NEW_SCHOOL = {
    "school-code": "3111250099",
    "school-name": "全椒县实验小学",
    "school-school_type": "211",
    "school-division_code": "341124",
    "school-address": "安徽省滁州市全椒县",
    "school-admin_staff_no": "990001",
    "school-admin_name": "程静",
    "school-admin_gender": "2",
}


def test_system_admin_opens_a_school_with_its_first_admin(login_for, client):
    admin = signed_in(login_for("system_admin"))
    page = admin.post("/manage/schools/", NEW_SCHOOL, follow=True).content.decode()
    school = School.objects.get(code="3111250099")
    assert "初始密码" in page
    password = page.split("初始密码 ")[1].split("（")[0]
    assert Department.objects.filter(school=school, name="教务处").exists()
    staff = Staff.objects.get(school=school, staff_no="990001")
    assert RoleAssignment.objects.filter(account=staff.account, role="school_admin", school=school).exists()
    assert client.post("/account/login/", {"username": "990001", "password": password}).status_code == 302
    assert client.get("/").url == "/account/password/"


def test_a_duplicate_school_code_writes_nothing(login_for):
    admin = signed_in(login_for("system_admin"))
    taken = login_for("school_admin").school
    before = (School.objects.count(), Staff.objects.count(), Account.objects.count())
    page = admin.post("/manage/schools/", {**NEW_SCHOOL, "school-code": taken}).content.decode()
    assert "已存在" in page
    assert (School.objects.count(), Staff.objects.count(), Account.objects.count()) == before


def test_a_bad_first_admin_rolls_back_the_new_school(login_for):
    admin = signed_in(login_for("system_admin"))
    page = admin.post("/manage/schools/", {**NEW_SCHOOL, "school-admin_name": "<script>"}).content.decode()
    assert "不允许的字符" in page
    assert not School.objects.filter(code="3111250099").exists()


def test_only_a_system_admin_may_open_schools(login_for):
    assert signed_in(login_for("school_admin")).get("/manage/schools/").status_code == 403
    assert signed_in(login_for("bureau_officer")).post("/manage/bureau/", {}).status_code == 403


def test_system_admin_appoints_a_county_bureau_officer(login_for):
    admin = signed_in(login_for("system_admin"))
    bad = admin.post(
        "/manage/bureau/",
        {"bureau-username": "qj", "bureau-display_name": "全椒县教育局", "bureau-region_code": "9999"},
    )
    assert "GB/T 2260" in bad.content.decode()
    ok = admin.post(
        "/manage/bureau/",
        {"bureau-username": "qjedu", "bureau-display_name": "全椒县教育局", "bureau-region_code": "341124"},
        follow=True,
    )
    assert "qjedu" in ok.content.decode()
    officer = Account.objects.get(username="qjedu")
    assert permissions.requires_second_factor(officer)
    seen = people_selectors.students_visible_to(actor=officer)
    assert set(seen.values_list("school__division_code", flat=True)) <= {"341124"}
    assert seen.count() == Student.objects.filter(school__division_code__startswith="341124").count()


def test_a_fresh_installation_sends_the_system_admin_to_open_a_school(login_for, monkeypatch):
    from zhixiao.org import views as org_views

    admin = signed_in(login_for("system_admin"))
    monkeypatch.setattr(org_views.selectors, "schools_visible_to", lambda actor: School.objects.none())
    page = admin.get("/org/school/")
    assert page.status_code == 200
    assert "/manage/schools/" in page.content.decode()


def test_an_account_without_a_school_is_told_so(client):
    from zhixiao.identity import services as identity_services

    lone = identity_services.create_account(
        username="t-lone", display_name="新教师", kind="staff", password="Str0ng&Secret", must_change_password=False
    )
    client.force_login(lone)
    page = client.get("/org/school/")
    assert page.status_code == 404
    assert "还没有所属学校" in page.content.decode()
