"""The permissions service as a specification: who sees what, by role and scope."""

from __future__ import annotations

import pytest

from zhixiao.kernel import permissions as p
from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors

pytestmark = pytest.mark.django_db


def test_homeroom_teacher_sees_only_her_class(account_for):
    teacher = account_for("homeroom_teacher")
    students = people_selectors.students_visible_to(actor=teacher)
    class_ids = set(students.values_list("admin_class_id", flat=True))
    assert len(class_ids) == 1
    assert class_ids == set(org_selectors.classes_taught_by_homeroom(teacher.pk).values_list("id", flat=True))


def test_guardian_sees_only_own_children(account_for):
    guardian = account_for("guardian")
    visible = list(people_selectors.students_visible_to(actor=guardian))
    assert visible
    for student in visible:
        assert student.guardian_links.filter(guardian__account=guardian).exists()


def test_bureau_officer_sees_every_school_in_region(account_for):
    from zhixiao.people.models import Student

    bureau = account_for("bureau_officer")
    assert people_selectors.students_visible_to(actor=bureau).count() == Student.objects.count()


def test_nothing_leaks_between_schools(account_for):
    first_admin = account_for("school_admin", 0)
    second_admin = account_for("school_admin", 1)
    first = set(people_selectors.students_visible_to(actor=first_admin).values_list("school_id", flat=True))
    second = set(people_selectors.students_visible_to(actor=second_admin).values_list("school_id", flat=True))
    assert len(first) == 1
    assert len(second) == 1
    assert first != second


def test_subject_teacher_cannot_edit_or_unmask(account_for):
    teacher = account_for("subject_teacher")
    student = people_selectors.students_visible_to(actor=teacher).first()
    assert student is not None
    assert p.can(teacher, p.VIEW_STUDENT, student)
    assert not p.can(teacher, p.EDIT_STUDENT, student)
    assert not p.can(teacher, p.UNMASK_STUDENT, student)


def test_department_head_sees_department_staff_not_students(account_for):
    head = account_for("department_head")
    # 教务处主任 often teaches too: students come only from the classes she teaches, never the whole school
    taught = {g.key for g in p.grants_of(head) if g.role == p.Role.SUBJECT_TEACHER}
    assert set(people_selectors.students_visible_to(actor=head).values_list("admin_class_id", flat=True)) <= taught
    staff = people_selectors.staff_visible_to(actor=head)
    assert staff.exists()
    grant = next(g for g in p.grants_of(head) if g.role == p.Role.DEPARTMENT_HEAD)
    for member in staff:
        assert grant.key in set(member.departments.values_list("id", flat=True))


def test_admin_roles_require_second_factor(account_for):
    assert p.requires_second_factor(account_for("school_admin"))
    assert p.requires_second_factor(account_for("system_admin"))
    assert not p.requires_second_factor(account_for("homeroom_teacher"))
    assert not p.requires_second_factor(account_for("guardian"))


def test_inactive_account_holds_no_grants(account_for):
    teacher = account_for("homeroom_teacher")
    teacher.is_active = False
    assert p.grants_of(teacher) == ()


def test_a_bureau_officer_sees_every_school_of_the_region_at_a_glance(client, login_for):
    from zhixiao.org.models import School
    from zhixiao.org.tests.signin import signed_in
    from zhixiao.people.models import Student

    page = signed_in(login_for("bureau_officer"), client).get("/").content.decode()
    for school in School.objects.all():
        assert school.name in page
        enrolled = Student.objects.filter(school=school, status="01").count()
        assert f"{enrolled}</td>" in page


def test_a_homeroom_teacher_gets_no_school_overview(client, account_for):
    client.force_login(account_for("homeroom_teacher"))
    assert 'id="schools"' not in client.get("/").content.decode()


def test_scope_or_widens_a_scope_by_the_actors_own_rows_and_keeps_every_row_for_system_roles(account_for):
    from django.db.models import Q

    from zhixiao.people.models import Staff

    teacher, admin = account_for("homeroom_teacher"), account_for("system_admin")
    assert p.scope_or(admin, p.VIEW_STAFF, Staff, Q(account_id=teacher.pk)) == Q()  # every row, not just one
    own = Staff.objects.filter(p.scope_or(teacher, p.VIEW_STAFF, Staff, Q(account_id=teacher.pk)))
    assert list(own.values_list("account_id", flat=True)) == [teacher.pk]  # no grant over staff; her own row
    assert not Staff.objects.filter(p.scope_q(teacher, p.VIEW_STAFF, Staff)).exists()
