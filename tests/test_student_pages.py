"""Changing one student through the pages: the homeroom teacher may, others may not; bad input is
refused per field in Chinese and nothing is written."""

from __future__ import annotations

import pytest

from zhixiao.kernel.models import AuditRecord
from zhixiao.people.models import GuardianLink, Student, StudentStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def teacher_client(client, account_for):
    teacher = account_for("homeroom_teacher")
    client.force_login(teacher)
    return client


def _a_student_of(teacher_login_account):
    from zhixiao.people import selectors

    return selectors.students_visible_to(actor=teacher_login_account).order_by("student_no").first()


def _form_data(student: Student, **changes: str) -> dict[str, str]:
    data = {
        "name": student.name,
        "gender": student.gender,
        "id_type": student.id_type,
        "id_number": student.id_number or "",
        "birth_date": student.birth_date.isoformat(),
        "ethnicity": student.ethnicity,
        "household_type": student.household_type,
        "boarding": student.boarding,
        "address": student.address,
    }
    data.update(changes)
    return data


def test_homeroom_teacher_edits_her_student_and_it_is_audited(teacher_client, account_for):
    student = _a_student_of(account_for("homeroom_teacher"))
    before = AuditRecord.objects.count()
    response = teacher_client.post(f"/people/students/{student.pk}/edit/", _form_data(student, boarding="boarding"))
    assert response.status_code == 302
    student.refresh_from_db()
    assert student.boarding == "boarding"
    record = AuditRecord.objects.order_by("-seq").first()
    assert AuditRecord.objects.count() == before + 1
    assert record.action == "student.update"
    assert record.changes["boarding"][1] == "boarding"
    assert student.history.count() >= 1


def test_birth_date_that_contradicts_the_id_number_is_an_error_not_an_overwrite(teacher_client, account_for):
    student = _a_student_of(account_for("homeroom_teacher"))
    response = teacher_client.post(f"/people/students/{student.pk}/edit/", _form_data(student, birth_date="2001-01-01"))
    assert response.status_code == 200
    assert "与身份证号不符" in response.content.decode()
    student.refresh_from_db()
    assert student.birth_date.isoformat() != "2001-01-01"


def test_bad_check_digit_is_refused(teacher_client, account_for):
    student = _a_student_of(account_for("homeroom_teacher"))
    number = student.id_number
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    response = teacher_client.post(f"/people/students/{student.pk}/edit/", _form_data(student, id_number=wrong))
    assert "身份证号校验码错误" in response.content.decode()
    student.refresh_from_db()
    assert student.id_number == number


def test_subject_teacher_may_not_edit(client, account_for):
    teacher = account_for("subject_teacher")
    client.force_login(teacher)
    from zhixiao.people import selectors

    student = selectors.students_visible_to(actor=teacher).first()
    assert client.get(f"/people/students/{student.pk}/edit/").status_code == 403
    assert (
        client.post(f"/people/students/{student.pk}/status/", {"status": "02", "since": "2026-10-01"}).status_code
        == 403
    )


def test_student_of_another_class_is_not_found(teacher_client, account_for):
    teacher = account_for("homeroom_teacher")
    other = Student.objects.exclude(admin_class__homeroom_teacher=teacher).first()
    assert teacher_client.get(f"/people/students/{other.pk}/").status_code == 404
    assert teacher_client.get(f"/people/students/{other.pk}/edit/").status_code == 404


def test_status_change_to_suspended_and_back(teacher_client, account_for):
    student = _a_student_of(account_for("homeroom_teacher"))
    url = f"/people/students/{student.pk}/status/"
    assert (
        teacher_client.post(url, {"status": StudentStatus.SUSPENDED, "since": "2026-10-08", "note": "病休"}).status_code
        == 302
    )
    student.refresh_from_db()
    assert student.status == StudentStatus.SUSPENDED
    response = teacher_client.post(url, {"status": StudentStatus.SUSPENDED, "since": "2026-10-09"})
    assert "学籍状态没有变化" in response.content.decode()
    assert teacher_client.post(url, {"status": StudentStatus.ENROLLED, "since": "2026-11-02"}).status_code == 302


def test_adding_a_guardian_checks_the_mobile_and_reuses_known_guardians(teacher_client, account_for):
    students = list(
        Student.objects.filter(admin_class__homeroom_teacher=account_for("homeroom_teacher")).order_by("student_no")[:2]
    )
    bad = teacher_client.post(
        f"/people/students/{students[0].pk}/guardians/add/", {"name": "王芳", "relation": "mother", "mobile": "12345"}
    )
    assert "手机号应为11位数字" in bad.content.decode()
    ok = {"name": "王芳", "relation": "mother", "mobile": "13912345678", "may_notify": "on"}
    assert teacher_client.post(f"/people/students/{students[0].pk}/guardians/add/", ok).status_code == 302
    assert teacher_client.post(f"/people/students/{students[1].pk}/guardians/add/", ok).status_code == 302
    links = GuardianLink.objects.filter(guardian__mobile="13912345678")
    assert links.count() == 2
    assert links.values("guardian_id").distinct().count() == 1  # one guardian, two children


def test_homeroom_teacher_stops_and_resumes_notices_to_a_guardian(teacher_client, account_for):
    from zhixiao.people import selectors

    student = _a_student_of(account_for("homeroom_teacher"))
    link = GuardianLink.objects.filter(student=student).first()
    url = f"/people/guardian-links/{link.pk}/notify/"
    response = teacher_client.post(url, {"may_notify": "0"}, HTTP_HX_REQUEST="true")
    assert "恢复通知" in response.content.decode()
    link.refresh_from_db()
    assert not link.may_notify
    assert link.guardian not in selectors.guardians_to_notify(student_id=student.pk)
    record = AuditRecord.objects.order_by("-seq").first()
    assert record.action == "guardian.notify"
    assert record.changes == {"may_notify": [True, False]}
    teacher_client.post(url, {"may_notify": "1"})
    link.refresh_from_db()
    assert link.may_notify


def test_a_subject_teacher_cannot_change_notices(client, account_for):
    teacher = account_for("subject_teacher")
    client.force_login(teacher)
    from zhixiao.people import selectors

    student = selectors.students_visible_to(actor=teacher).first()
    link = GuardianLink.objects.filter(student=student).first()
    assert client.post(f"/people/guardian-links/{link.pk}/notify/", {"may_notify": "0"}).status_code == 404
    link.refresh_from_db()
    assert link.may_notify


def test_the_profile_shows_who_changed_what(teacher_client, account_for):
    student = _a_student_of(account_for("homeroom_teacher"))
    teacher_client.post(f"/people/students/{student.pk}/edit/", _form_data(student, boarding="boarding"))
    page = teacher_client.get(f"/people/students/{student.pk}/").content.decode()
    assert "student.update" in page
    assert "boarding" in page
    assert str(account_for("homeroom_teacher")) in page
