"""The demo is believable: valid national identifiers that agree with the records, realistic structure."""

from __future__ import annotations

import pytest
from stdnum.cn import ric

from zhixiao.kernel import identifiers
from zhixiao.org.models import AdminClass, School
from zhixiao.people.models import GuardianLink, Staff, Student, TeachingAssignment

pytestmark = pytest.mark.django_db


def test_every_demo_id_number_is_valid_and_agrees_with_the_record():
    people = [*Student.objects.all(), *Staff.objects.all()]
    assert people
    for person in people:
        rid = identifiers.parse_resident_id(person.id_number)
        assert rid.birth_date == person.birth_date
        assert rid.sex_code == person.gender


def test_demo_student_numbers_are_g_plus_id_and_guardians_are_linked():
    for student in Student.objects.all():
        assert student.student_no == f"G{student.id_number}"
    assert not Student.objects.filter(guardian_links__isnull=True).exists()
    assert GuardianLink.objects.count() >= Student.objects.count()


def test_each_class_has_a_homeroom_teacher_and_core_subject_teachers():
    assert School.objects.count() == 2
    for cls in AdminClass.objects.all():
        assert cls.homeroom_teacher_id is not None
        assert TeachingAssignment.objects.filter(admin_class=cls).values("subject").distinct().count() == 9


def test_a_birthplace_code_that_did_not_exist_at_birth_is_named_as_such():
    body = "34110219700101001"
    with pytest.raises(ValueError, match="行政区划"):
        identifiers.parse_resident_id(body + ric.calc_check_digit(body + "?"))
    body = "11010119700231001"
    with pytest.raises(ValueError, match="出生日期不存在"):
        identifiers.parse_resident_id(body + ric.calc_check_digit(body + "?"))
