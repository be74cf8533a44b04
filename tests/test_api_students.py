"""/api/v1/students and /classes/{id}/students: scoped to the caller exactly as the pages are; ID numbers
and mobiles masked unless the caller may and asks to unmask (and then it is logged)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from zhixiao.identity import services as identity_services
from zhixiao.kernel.models import AuditRecord
from zhixiao.org.models import AdminClass, School
from zhixiao.people import selectors as people_selectors
from zhixiao.people.models import Student

pytestmark = pytest.mark.django_db


def _api(account: Any) -> Client:
    token = identity_services.issue_token(account=account)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def _own_class(teacher: Any) -> AdminClass:
    return AdminClass.objects.get(homeroom_teacher=teacher)


def _another_class(teacher: Any, *, same_school: bool = True) -> AdminClass:
    own = _own_class(teacher)
    schools = School.objects.order_by("pk")
    school = own.school if same_school else schools.exclude(pk=own.school_id).first()
    with_students = Student.objects.values("admin_class_id")
    return AdminClass.objects.filter(school=school, pk__in=with_students).exclude(pk=own.pk).first()  # type: ignore[misc]


def test_homeroom_teacher_lists_exactly_her_class_masked(account_for):
    teacher = account_for("homeroom_teacher")
    own = _own_class(teacher)
    body = _api(teacher).get("/api/v1/students").json()
    roster = set(people_selectors.class_roster(actor=teacher, class_id=own.pk).values_list("pk", flat=True))
    visible = set(people_selectors.students_visible_to(actor=teacher).values_list("pk", flat=True))
    assert body["count"] == len(visible) >= len(roster) > 0
    ids = {r["id"] for r in body["results"]}
    assert ids <= visible
    for row in body["results"]:
        assert "*" in row["id_number"], row["id_number"]
        real = Student.objects.get(pk=row["id"]).id_number
        assert row["id_number"] != real


def test_filters_and_pages(account_for):
    teacher = account_for("homeroom_teacher")
    own = _own_class(teacher)
    client = _api(teacher)
    first = Student.objects.filter(admin_class=own).order_by("student_no").first()
    assert first is not None
    by_name = client.get("/api/v1/students", {"q": first.name}).json()
    assert first.pk in {r["id"] for r in by_name["results"]}
    by_class = client.get("/api/v1/students", {"class_id": own.pk}).json()
    assert {r["class_id"] for r in by_class["results"]} == {own.pk}
    # another class of the same school: filtered away, not revealed
    other = _another_class(teacher)
    assert client.get("/api/v1/students", {"class_id": other.pk}).json()["count"] == 0
    for page in ["0", "-3", "999"]:
        assert client.get("/api/v1/students", {"page": page}).status_code == 200
    assert client.get("/api/v1/students", {"class_id": "abc"}).status_code == 422


def test_class_roster_endpoint_refuses_other_classes(account_for):
    teacher = account_for("homeroom_teacher")
    client = _api(teacher)
    own = _own_class(teacher)
    roster = client.get(f"/api/v1/classes/{own.pk}/students")
    assert roster.status_code == 200
    expected = list(people_selectors.class_roster(actor=teacher, class_id=own.pk).values_list("pk", flat=True))
    assert [r["id"] for r in roster.json()["results"]] == expected[:50]
    assert client.get(f"/api/v1/classes/{_another_class(teacher).pk}/students").status_code == 404
    far = _another_class(teacher, same_school=False)
    assert client.get(f"/api/v1/classes/{far.pk}/students").status_code == 404
    assert client.get("/api/v1/classes/999999/students").status_code == 404


def test_guardian_sees_her_child_only(account_for):
    guardian = account_for("guardian")
    client = _api(guardian)
    children = list(people_selectors.children_of(actor=guardian).values_list("pk", flat=True))
    assert children
    body = client.get("/api/v1/students").json()
    assert {r["id"] for r in body["results"]} == set(children)
    assert client.get(f"/api/v1/students/{children[0]}").status_code == 200
    stranger = Student.objects.exclude(pk__in=children).first()
    assert stranger is not None
    assert client.get(f"/api/v1/students/{stranger.pk}").status_code == 404
    assert client.get(f"/api/v1/students/{children[0]}?unmask=true").status_code == 403


def test_unmask_as_homeroom_teacher_reveals_and_is_logged(account_for):
    teacher = account_for("homeroom_teacher")
    student = Student.objects.filter(admin_class=_own_class(teacher)).order_by("student_no").first()
    assert student is not None
    client = _api(teacher)
    masked = client.get(f"/api/v1/students/{student.pk}").json()
    assert masked["id_number"] != student.id_number
    assert all("*" in g["mobile"] for g in masked["guardians"])
    assert not AuditRecord.objects.filter(action="sensitive.view", target_id=str(student.pk)).exists()

    shown = client.get(f"/api/v1/students/{student.pk}?unmask=true")
    assert shown.status_code == 200
    assert shown.json()["id_number"] == student.id_number
    assert all("*" not in g["mobile"] for g in shown.json()["guardians"])
    logged = AuditRecord.objects.filter(action="sensitive.view", target_id=str(student.pk), actor_id=teacher.pk)
    assert set(logged.values_list("note", flat=True)) >= {"id_number", "address"}


def test_unmask_as_subject_teacher_is_refused_and_nothing_is_logged(account_for):
    teacher = account_for("subject_teacher")
    student = people_selectors.students_visible_to(actor=teacher).first()
    assert student is not None
    client = _api(teacher)
    assert client.get(f"/api/v1/students/{student.pk}").status_code == 200
    before = AuditRecord.objects.filter(action="sensitive.view").count()
    refused = client.get(f"/api/v1/students/{student.pk}?unmask=true")
    assert refused.status_code == 403
    assert "没有权限" in refused.json()["detail"]
    assert AuditRecord.objects.filter(action="sensitive.view").count() == before


def test_api_key_with_an_unmasking_role_is_logged_as_the_key(account_for):
    admin = account_for("school_admin")
    school = School.objects.order_by("pk").first()
    created = identity_services.create_api_key(actor=admin, school_id=school.pk, name="学籍对接", role="principal")
    student = Student.objects.filter(school=school).first()
    assert student is not None
    shown = Client(HTTP_X_API_KEY=created.secret).get(f"/api/v1/students/{student.pk}?unmask=true")
    assert shown.status_code == 200
    assert shown.json()["id_number"] == student.id_number
    record = AuditRecord.objects.filter(action="sensitive.view", target_id=str(student.pk)).latest("seq")
    assert created.key.prefix in record.actor_label
    other = Student.objects.exclude(school=school).first()
    assert other is not None
    assert Client(HTTP_X_API_KEY=created.secret).get(f"/api/v1/students/{other.pk}").status_code == 404


def test_school_admin_sees_only_her_school_through_the_api(login_for, account_for, client):
    from zhixiao.identity.tests.helpers import totp_code

    demo = login_for("school_admin")
    token = client.post(
        "/api/v1/auth/token",
        {"username": demo.username, "password": demo.password, "otp": totp_code(demo.totp_secret)},
        content_type="application/json",
    ).json()["token"]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = api.get("/api/v1/students").json()
    own = School.objects.order_by("pk").first()
    assert body["count"] == Student.objects.filter(school=own).count()
    schools = api.get("/api/v1/schools").json()
    assert [s["code"] for s in schools] == [own.code]
