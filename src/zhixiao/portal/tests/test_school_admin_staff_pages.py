"""The school admin's staff pages (roles, teaching assignments, homeroom teachers) as specifications."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from zhixiao.identity.models import Account, RoleAssignment
from zhixiao.kernel import permissions as p
from zhixiao.kernel.models import AuditRecord
from zhixiao.org.models import AdminClass, Department, Grade, School, Subject, Term
from zhixiao.org.tests.signin import signed_in
from zhixiao.people.models import Staff, TeachingAssignment

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def admin(login_for: Any) -> tuple[Client, School]:
    login = login_for("school_admin", 0)
    return signed_in(login), School.objects.get(code=login.school)


def a_plain_teacher(school: School) -> Staff:
    """A member of staff without any explicit role."""
    holders = RoleAssignment.objects.values("account_id")
    return Staff.objects.filter(school=school, account__isnull=False).exclude(account_id__in=holders).first()


# --- roles ----------------------------------------------------------------------------------------------
def test_roles_page_lists_who_holds_which_role(admin, login_for):
    client, school = admin
    html = client.get(f"/manage/roles/?school={school.pk}").content.decode()
    for role in ("school_admin", "principal", "department_head", "grade_head", "guard", "canteen_staff", "it_staff"):
        holder = Account.objects.get(username=login_for(role, 0).username)
        assert str(holder) in html
    assert "教务处" in html  # the department head's scope


def test_school_admin_grants_department_head_over_a_department(admin):
    client, school = admin
    staff = a_plain_teacher(school)
    dept = Department.objects.get(school=school, name="总务处")
    response = client.post(
        "/manage/roles/",
        {"school": school.pk, "staff": staff.pk, "role": "department_head", "department": dept.pk},
    )
    assert response.status_code == 302
    ra = RoleAssignment.objects.get(account_id=staff.account_id)
    assert (ra.role, ra.school_id, ra.department_id, ra.grade_id) == ("department_head", school.pk, dept.pk, None)
    grants = p.grants_of(Account.objects.get(pk=staff.account_id))
    assert any(g.role == p.Role.DEPARTMENT_HEAD and g.key == dept.pk for g in grants)
    assert AuditRecord.objects.filter(action="role.grant", school_id=school.pk).exists()


def test_school_admin_grants_guard_and_grade_head(admin):
    client, school = admin
    staff = a_plain_teacher(school)
    grade = Grade.objects.filter(school=school).first()
    client.post("/manage/roles/", {"school": school.pk, "staff": staff.pk, "role": "guard", "grade": grade.pk})
    client.post("/manage/roles/", {"school": school.pk, "staff": staff.pk, "role": "grade_head", "grade": grade.pk})
    held = {(ra.role, ra.grade_id) for ra in RoleAssignment.objects.filter(account_id=staff.account_id)}
    assert held == {("guard", None), ("grade_head", grade.pk)}  # a guard's scope is the school, not a grade


def test_grade_head_needs_a_grade(admin):
    client, school = admin
    staff = a_plain_teacher(school)
    response = client.post("/manage/roles/", {"school": school.pk, "staff": staff.pk, "role": "grade_head"})
    assert response.status_code == 200
    assert "年级组长须选择所管的年级" in response.content.decode()
    assert not RoleAssignment.objects.filter(account_id=staff.account_id).exists()


def test_same_role_twice_is_refused(admin, login_for):
    client, school = admin
    guard = Staff.objects.get(account__username=login_for("guard", 0).username)
    response = client.post("/manage/roles/", {"school": school.pk, "staff": guard.pk, "role": "guard"})
    assert f"{guard.name}已是该角色" in response.content.decode()
    assert RoleAssignment.objects.filter(account_id=guard.account_id, role="guard").count() == 1


def test_roles_cannot_go_to_staff_of_another_school(admin, login_for):
    client, school = admin
    foreign = Staff.objects.filter(school__code=login_for("school_admin", 1).school, account__isnull=False).first()
    response = client.post("/manage/roles/", {"school": school.pk, "staff": foreign.pk, "role": "guard"})
    assert response.status_code == 200
    assert not RoleAssignment.objects.filter(account_id=foreign.account_id, role="guard", school=school).exists()


def test_school_admin_revokes_a_role_and_it_is_audited(admin, login_for):
    client, school = admin
    guard = Account.objects.get(username=login_for("guard", 0).username)
    ra = RoleAssignment.objects.get(account=guard, role="guard")
    assert client.post(f"/manage/roles/{ra.pk}/revoke/", {"school": school.pk}).status_code == 302
    assert not RoleAssignment.objects.filter(pk=ra.pk).exists()
    record = AuditRecord.objects.get(action="role.revoke")
    assert record.school_id == school.pk
    assert record.changes["role"] == ["guard", None]
    assert p.Role.GUARD not in p.roles_of(Account.objects.get(pk=guard.pk))


def test_school_admin_cannot_revoke_her_own_admin_role(admin, login_for):
    client, school = admin
    me = Account.objects.get(username=login_for("school_admin", 0).username)
    ra = RoleAssignment.objects.get(account=me, role="school_admin")
    response = client.post(f"/manage/roles/{ra.pk}/revoke/", {"school": school.pk}, follow=True)
    assert "不能撤销自己的学校管理员角色" in response.content.decode()
    assert RoleAssignment.objects.filter(pk=ra.pk).exists()


def test_admin_of_another_school_cannot_see_or_change_these_roles(admin, login_for):
    _client, school = admin
    other = signed_in(login_for("school_admin", 1))
    guard = Account.objects.get(username=login_for("guard", 0).username)
    ra = RoleAssignment.objects.get(account=guard, role="guard")
    assert other.get(f"/manage/roles/?school={school.pk}").status_code == 404
    assert other.post(f"/manage/roles/{ra.pk}/revoke/", {"school": school.pk}).status_code == 404
    # in her own school the assignment does not exist
    assert other.post(f"/manage/roles/{ra.pk}/revoke/").status_code == 404
    staff = a_plain_teacher(school)
    assert (
        other.post("/manage/roles/", {"school": school.pk, "staff": staff.pk, "role": "school_admin"}).status_code
        == 404
    )
    assert RoleAssignment.objects.filter(pk=ra.pk).exists()
    assert not RoleAssignment.objects.filter(account_id=staff.account_id).exists()


def test_principal_reads_roles_but_cannot_change_them(login_for):
    login = login_for("principal", 0)
    school = School.objects.get(code=login.school)
    client = signed_in(login)
    page = client.get(f"/manage/roles/?school={school.pk}")
    assert page.status_code == 200
    assert "授予角色" not in page.content.decode()
    staff = a_plain_teacher(school)
    assert client.post("/manage/roles/", {"school": school.pk, "staff": staff.pk, "role": "guard"}).status_code == 403
    assert not RoleAssignment.objects.filter(account_id=staff.account_id).exists()


# --- teaching assignments -------------------------------------------------------------------------------
def test_teaching_page_lists_the_current_terms_assignments_by_class(admin):
    client, school = admin
    ta = TeachingAssignment.objects.filter(school=school, term__is_current=True).select_related("admin_class").first()
    html = client.get(f"/manage/teaching/?school={school.pk}&class={ta.admin_class_id}").content.decode()
    assert ta.staff.name in html
    other_class = AdminClass.objects.filter(school=school).exclude(pk=ta.admin_class_id).first()
    assert f"<td>{other_class.name}</td>" not in html


def test_school_admin_adds_and_removes_a_teaching_assignment(admin):
    client, school = admin
    staff = a_plain_teacher(school)
    cls = AdminClass.objects.filter(school=school).first()
    subject = Subject.objects.filter(school=school).last()
    response = client.post(
        "/manage/teaching/", {"school": school.pk, "staff": staff.pk, "admin_class": cls.pk, "subject": subject.pk}
    )
    assert response.status_code == 302
    ta = TeachingAssignment.objects.get(staff=staff, admin_class=cls, subject=subject)
    assert ta.term == Term.objects.get(school=school, is_current=True)
    teacher = Account.objects.get(pk=staff.account_id)
    assert any(g.role == p.Role.SUBJECT_TEACHER and g.key == cls.pk for g in p.grants_of(teacher))
    # the same again is refused
    again = client.post(
        "/manage/teaching/", {"school": school.pk, "staff": staff.pk, "admin_class": cls.pk, "subject": subject.pk}
    )
    assert "该任课安排已存在" in again.content.decode()
    response = client.post(f"/manage/teaching/{ta.pk}/remove/", {"school": school.pk}, **HTMX)
    assert response.status_code == 200
    assert response.content == b""
    assert not TeachingAssignment.objects.filter(pk=ta.pk).exists()
    assert AuditRecord.objects.filter(action="teaching.create").exists()
    assert AuditRecord.objects.filter(action="teaching.delete").exists()


def test_teaching_assignment_cannot_reach_another_schools_class(admin, login_for):
    client, school = admin
    staff = a_plain_teacher(school)
    foreign = AdminClass.objects.filter(school__code=login_for("school_admin", 1).school).first()
    subject = Subject.objects.filter(school=school).first()
    response = client.post(
        "/manage/teaching/", {"school": school.pk, "staff": staff.pk, "admin_class": foreign.pk, "subject": subject.pk}
    )
    assert response.status_code == 200
    assert not TeachingAssignment.objects.filter(admin_class=foreign, staff=staff).exists()


def test_admin_of_another_school_cannot_remove_a_teaching_assignment(admin, login_for):
    _client, school = admin
    other = signed_in(login_for("school_admin", 1))
    ta = TeachingAssignment.objects.filter(school=school).first()
    assert other.post(f"/manage/teaching/{ta.pk}/remove/", {"school": school.pk}).status_code == 404
    assert other.post(f"/manage/teaching/{ta.pk}/remove/").status_code == 404
    assert TeachingAssignment.objects.filter(pk=ta.pk).exists()


# --- homeroom teachers ----------------------------------------------------------------------------------
def test_school_admin_changes_a_homeroom_teacher(admin):
    client, school = admin
    cls = AdminClass.objects.filter(school=school).first()
    staff = a_plain_teacher(school)
    assert client.get(f"/manage/homerooms/?school={school.pk}").status_code == 200
    response = client.post(
        f"/manage/homerooms/{cls.pk}/", {"school": school.pk, f"c{cls.pk}-account": staff.account_id}, **HTMX
    )
    assert response.status_code == 200
    assert "已保存" in response.content.decode()
    cls.refresh_from_db()
    assert cls.homeroom_teacher_id == staff.account_id
    teacher = Account.objects.get(pk=staff.account_id)
    assert any(g.role == p.Role.HOMEROOM_TEACHER and g.key == cls.pk for g in p.grants_of(teacher))
    assert AuditRecord.objects.filter(action="class.set_homeroom").exists()


def test_homeroom_teacher_must_be_staff_of_the_school(admin, login_for):
    client, school = admin
    cls = AdminClass.objects.filter(school=school).first()
    before = cls.homeroom_teacher_id
    guardian = Account.objects.get(username=login_for("guardian", 0).username)
    response = client.post(
        f"/manage/homerooms/{cls.pk}/", {"school": school.pk, f"c{cls.pk}-account": guardian.pk}, **HTMX
    )
    assert "请选择本校教职工" in response.content.decode()
    cls.refresh_from_db()
    assert cls.homeroom_teacher_id == before


def test_homeroom_teacher_cannot_use_the_admin_pages(login_for):
    login = login_for("homeroom_teacher", 0)
    school = School.objects.get(code=login.school)
    client = signed_in(login)
    cls = AdminClass.objects.filter(school=school).first()
    me = Account.objects.get(username=login.username)
    for url in ("/manage/roles/", "/manage/teaching/", "/manage/homerooms/"):
        assert client.get(f"{url}?school={school.pk}").status_code == 403
    assert (
        client.post(f"/manage/homerooms/{cls.pk}/", {"school": school.pk, f"c{cls.pk}-account": me.pk}).status_code
        == 403
    )
    assert client.post("/manage/roles/", {"school": school.pk, "staff": 1, "role": "school_admin"}).status_code == 403
    assert not RoleAssignment.objects.filter(account=me).exists()
