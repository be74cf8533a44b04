"""Row history (django-simple-history) is as school-scoped as the tables it keeps: under row-level
security an actor of one school reads no other school's past values either."""

from __future__ import annotations

import pytest

from zhixiao.kernel import tenancy
from zhixiao.people.models import Guardian, GuardianLink, Student

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_history_tables_are_scoped_like_their_tables(account_for, login_for):
    first = Student.objects.filter(school__code=login_for("school_admin", 0).school).first()
    second = Student.objects.filter(school__code=login_for("school_admin", 1).school).first()
    far_guardian = GuardianLink.objects.filter(student=second).first().guardian
    for student in (first, second):
        student.address = student.address + "（已核实）"
        student.save()  # writes a history row
    far_guardian.work_unit = "滁州市某单位"
    far_guardian.save()
    assert Student.history.filter(id=second.pk).exists()  # unscoped: the system sees everything
    assert Guardian.history.filter(id=far_guardian.pk).exists()

    with tenancy.acting_as(account_for("school_admin", 0)):
        assert Student.history.filter(id=first.pk).exists()
        assert not Student.history.filter(id=second.pk).exists()
        assert set(Student.history.values_list("school_id", flat=True)) == {first.school_id}
        assert not Guardian.history.filter(id=far_guardian.pk).exists()
