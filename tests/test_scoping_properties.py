"""Property tests of scoping: however students are spread over classes and schools, a homeroom teacher
sees exactly her class and a school admin exactly her school."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhixiao.identity import services as identity_services
from zhixiao.kernel import permissions
from zhixiao.kernel.permissions import Role
from zhixiao.people import selectors

from .factories import AccountFactory, AdminClassFactory, GradeFactory, SchoolFactory, StudentFactory

pytestmark = pytest.mark.django_db


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=st.lists(st.tuples(st.integers(0, 1), st.integers(0, 2)), min_size=1, max_size=25))
def test_every_actor_sees_exactly_its_scope(django_db_blocker, layout):
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        schools = [SchoolFactory(), SchoolFactory()]
        grades = [GradeFactory(school=s) for s in schools]
        classes = [[AdminClassFactory(grade=g, school=g.school, number=i + 1) for i in range(3)] for g in grades]
        created = [StudentFactory(admin_class=classes[s][c], school=schools[s]) for s, c in layout]
        admin = AccountFactory()
        identity_services.grant_role(actor=None, account=admin, role=Role.SCHOOL_ADMIN, school_id=schools[0].pk)
        mine = {st.pk for st in created}
        for s in range(2):
            for c in range(3):
                teacher = classes[s][c].homeroom_teacher
                seen = set(selectors.students_visible_to(actor=teacher).values_list("pk", flat=True))
                expected = {x.pk for x, (xs, xc) in zip(created, layout, strict=True) if (xs, xc) == (s, c)}
                assert seen == expected
        seen_by_admin = set(selectors.students_visible_to(actor=admin).values_list("pk", flat=True)) & mine
        assert seen_by_admin == {x.pk for x, (xs, _c) in zip(created, layout, strict=True) if xs == 0}
        for student in created:
            assert permissions.can(admin, permissions.EDIT_STUDENT, student) == (student.school_id == schools[0].pk)
        transaction.set_rollback(True)
