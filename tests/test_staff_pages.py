"""Adding and changing staff through the pages, and temporary passwords for people who forgot theirs."""

from __future__ import annotations

import pytest
from stdnum.cn import ric

from zhixiao.identity.models import Account
from zhixiao.kernel.models import AuditRecord
from zhixiao.org.models import Department
from zhixiao.org.tests.signin import signed_in
from zhixiao.people.models import Staff, Student

pytestmark = pytest.mark.django_db


def _id(body: str) -> str:
    return body + ric.calc_check_digit(body + "?")


def _new_staff(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "staff_no": "019901",
        "name": "欧阳晓",
        "gender": "2",
        "id_type": "1",
        "id_number": _id("34110219950612002"),
        "birth_date": "",
        "ethnicity": "01",
        "political_status": "13",
        "mobile": "13955501234",
        "post": "teacher",
        "title": "一级教师",
        "hired_on": "2019-08-28",
    }
    data.update(changes)
    return data


def test_school_admin_adds_a_teacher_who_must_change_the_password_at_first_login(login_for, client):
    admin = signed_in(login_for("school_admin"))
    dept = Department.objects.get(school__code=login_for("school_admin").school, name="教务处")
    response = admin.post("/people/staff/add/", {**_new_staff(), "departments": [dept.pk]}, follow=True)
    staff = Staff.objects.get(staff_no="019901")
    page = response.content.decode()
    assert "初始密码" in page
    password = page.split("初始密码 ")[1].split("（")[0]
    assert list(staff.departments.all()) == [dept]
    assert staff.birth_date.isoformat() == "1995-06-12"  # fixed by the ID number
    assert client.post("/account/login/", {"username": "019901", "password": password}).status_code == 302
    assert client.get("/").url == "/account/password/"  # forced change first


def test_a_bad_staff_record_writes_nothing(login_for):
    admin = signed_in(login_for("school_admin"))
    before = (Staff.objects.count(), Account.objects.count())
    bad = _new_staff(id_number=_id("34110219950612002")[:-1] + "0", gender="1", mobile="1234")
    page = admin.post("/people/staff/add/", bad).content.decode()
    assert "身份证号校验码错误" in page
    assert "手机号应为11位数字" in page
    assert (Staff.objects.count(), Account.objects.count()) == before


def test_school_admin_edits_a_staff_member_and_it_is_audited(login_for, account_for):
    admin = signed_in(login_for("school_admin"))
    staff = Staff.objects.get(account=account_for("homeroom_teacher"))
    data = {k: getattr(staff, k) or "" for k in _new_staff() if k != "staff_no"}
    data.update(title="高级教师", birth_date=staff.birth_date.isoformat(), hired_on=staff.hired_on.isoformat())
    assert admin.post(f"/people/staff/{staff.pk}/edit/", data).status_code == 302
    staff.refresh_from_db()
    assert staff.title == "高级教师"
    record = AuditRecord.objects.order_by("-seq").first()
    assert record.action == "staff.update"
    assert record.changes["title"][1] == "高级教师"


def test_a_teacher_cannot_add_or_edit_staff(client, account_for):
    teacher = account_for("homeroom_teacher")
    client.force_login(teacher)
    assert client.get("/people/staff/add/").status_code == 403
    staff = Staff.objects.get(account=teacher)
    assert client.get(f"/people/staff/{staff.pk}/edit/").status_code in (403, 404)


def test_it_staff_resets_a_students_password_but_a_homeroom_teacher_may_not(login_for, account_for, client):
    student = Student.objects.filter(admin_class__homeroom_teacher=account_for("homeroom_teacher")).first()
    client.force_login(account_for("homeroom_teacher"))
    assert client.post(f"/people/password-reset/student/{student.pk}/").status_code == 403
    it = signed_in(login_for("it_staff"))
    page = it.post(f"/people/password-reset/student/{student.pk}/", follow=True).content.decode()
    assert "临时密码" in page
    account = Account.objects.get(pk=student.account_id)
    assert account.must_change_password
    assert AuditRecord.objects.filter(action="account.password_reset", target_id=str(account.pk)).exists()


def test_it_staff_of_another_school_cannot_reset(login_for):
    far = Student.objects.exclude(school__code=login_for("it_staff", 1).school).first()
    it = signed_in(login_for("it_staff", 1))
    assert it.post(f"/people/password-reset/student/{far.pk}/").status_code == 404
