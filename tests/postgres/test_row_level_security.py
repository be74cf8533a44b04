"""Row-level security on PostgreSQL: even a query that forgets its selector sees only the actor's schools.

The tables are owned by the role the app connects as, and the policies are FORCEd, so the owner is
bound too. Each test reads the expected numbers unscoped first (the connection's default '*'), then
repeats the read under a scope.
"""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django_otp.oath import TOTP

from zhixiao.kernel import tenancy
from zhixiao.org.models import School
from zhixiao.people.models import Guardian, GuardianLink, Student

from .conftest import current_scope

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def faulty_student_view(request: HttpRequest) -> JsonResponse:
    """A page with a bug: it reads students without the selector. Only row-level security stands
    between it and every school's rows."""
    rows = Student.objects.all()  # deliberately unscoped
    return JsonResponse(
        {
            "count": rows.count(),
            "schools": sorted(set(rows.values_list("school_id", flat=True))),
            "scope": current_scope(),
        }
    )


def crashing_view(request: HttpRequest) -> JsonResponse:
    raise RuntimeError("a bug in a page")


# The real site plus the faulty pages (used through @pytest.mark.urls(__name__)), so the request goes
# through every real middleware, login and second factor included.
urlpatterns = [
    path("_faulty/students/", faulty_student_view),
    path("_faulty/crash/", crashing_view),
    path("", include("zhixiao.config.urls")),
]


def _school(login_for, index: int) -> School:
    return School.objects.get(code=login_for("school_admin", index).school)


def _raw_count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - a fixed table name
        return int(cursor.fetchone()[0])


def test_policies_exist_and_bind_the_table_owner():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relname IN ('people_student', 'people_guardian', 'people_guardianlink', 'org_adminclass')"
        )
        flags = {name: (enabled, forced) for name, enabled, forced in cursor.fetchall()}
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        superuser, bypass = cursor.fetchone()
    assert flags == dict.fromkeys(
        ["org_adminclass", "people_guardian", "people_guardianlink", "people_student"], (True, True)
    )
    # As a superuser (or with BYPASSRLS) these tests would prove nothing.
    assert not superuser
    assert not bypass


def test_unscoped_orm_and_raw_sql_return_only_the_actors_school(account_for, login_for):
    school_1, school_2 = _school(login_for, 0), _school(login_for, 1)
    expected = Student.objects.filter(school=school_1).count()
    assert Student.objects.filter(school=school_2).exists()

    with tenancy.acting_as(account_for("school_admin", 0)):
        assert current_scope() == str(school_1.pk)
        assert Student.objects.count() == expected
        assert set(Student.objects.values_list("school_id", flat=True)) == {school_1.pk}
        assert _raw_count("people_student") == expected
        assert not Student.objects.filter(school=school_2).exists()
        assert list(School.objects.values_list("pk", flat=True)) == [school_1.pk]
    assert current_scope() == tenancy.ALL


def test_guardians_are_visible_only_through_links_in_scope(account_for, login_for):
    school_1 = _school(login_for, 0)
    total = Guardian.objects.count()
    expected = Guardian.objects.filter(links__school=school_1).distinct().count()
    links = GuardianLink.objects.filter(school=school_1).count()
    assert 0 < expected < total

    with tenancy.acting_as(account_for("school_admin", 0)):
        assert Guardian.objects.count() == expected
        assert _raw_count("people_guardian") == expected
        assert GuardianLink.objects.count() == links
        assert set(GuardianLink.objects.values_list("school_id", flat=True)) == {school_1.pk}


def test_writing_a_row_of_another_school_is_refused_by_with_check(account_for, login_for):
    school_1, school_2 = _school(login_for, 0), _school(login_for, 1)
    own = Student.objects.filter(school=school_1).first()
    other = Student.objects.filter(school=school_2).first()

    with tenancy.acting_as(account_for("school_admin", 0)):
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Student.objects.create(
                school_id=school_2.pk,
                student_no="G9999999999999999",
                name="越权",
                gender="1",
                birth_date=dt.date(2010, 1, 1),
                status_since=dt.date(2024, 9, 1),
                enrolled_on=dt.date(2024, 9, 1),
            )
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Student.objects.filter(pk=own.pk).update(school_id=school_2.pk)
        # Rows of another school are invisible to UPDATE and DELETE too: nothing happens to them.
        assert Student.objects.filter(pk=other.pk).update(name="改名") == 0

    other.refresh_from_db()
    assert other.name != "改名"
    assert not Student.objects.filter(student_no="G9999999999999999").exists()


def test_a_bureau_officer_sees_every_school_of_the_region(account_for, login_for):
    prefix = login_for("bureau_officer").scope.removeprefix("region:")
    in_region = set(School.objects.filter(division_code__startswith=prefix).values_list("pk", flat=True))
    assert len(in_region) >= 2
    expected = Student.objects.filter(school_id__in=in_region).count()

    with tenancy.acting_as(account_for("bureau_officer")):
        assert set(Student.objects.values_list("school_id", flat=True)) == in_region
        assert _raw_count("people_student") == expected


def test_an_anonymous_scope_sees_nothing():
    assert Student.objects.exists()
    with tenancy.acting_as(AnonymousUser()):
        assert current_scope() == tenancy.NONE
        assert _raw_count("people_student") == 0
        assert _raw_count("people_guardian") == 0
        assert not School.objects.exists()


def _login_with_second_factor(client, login) -> None:
    response = client.post("/account/login/", {"username": login.username, "password": login.password})
    assert response.status_code == 302
    code = str(TOTP(base64.b32decode(login.totp_secret)).token()).zfill(6)
    response = client.post("/account/2fa/verify/", {"code": code})
    assert response.status_code == 302, "the second factor was not accepted"


@pytest.mark.urls(__name__)
def test_a_page_that_forgets_its_selector_still_sees_only_the_admins_school(client, login_for):
    """A real request as the school-1 admin (password and TOTP) through every middleware."""
    school_1 = _school(login_for, 0)
    _login_with_second_factor(client, login_for("school_admin", 0))

    body = client.get("/_faulty/students/").json()

    assert body == {
        "count": Student.objects.filter(school=school_1).count(),
        "schools": [school_1.pk],
        "scope": str(school_1.pk),
    }
    # The connection goes back to the pool with no user's scope on it.
    assert current_scope() == tenancy.ALL


@pytest.mark.urls(__name__)
def test_an_anonymous_request_to_a_faulty_page_sees_no_student(client):
    body = client.get("/_faulty/students/").json()
    assert body == {"count": 0, "schools": [], "scope": tenancy.NONE}
    assert current_scope() == tenancy.ALL


@pytest.mark.urls(__name__)
def test_the_scope_is_reset_even_when_the_page_fails(client, login_for):
    client.raise_request_exception = False
    _login_with_second_factor(client, login_for("school_admin", 0))
    assert client.get("/_faulty/crash/").status_code == 500
    assert current_scope() == tenancy.ALL


def test_a_bearer_token_request_is_scoped_after_the_token_is_checked(client, account_for, login_for):
    """API calls carry no session: the middleware first scopes them to nothing, then the token's
    account is resolved. Its grants (homeroom classes live in policy-bound tables) must still be
    found, and the list must stay inside the teacher's class."""
    teacher = login_for("homeroom_teacher")
    response = client.post(
        "/api/v1/auth/token",
        {"username": teacher.username, "password": teacher.password},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    auth = {"HTTP_AUTHORIZATION": f"Bearer {response.json()['token']}"}
    from zhixiao.people import selectors

    expected = selectors.students_visible_to(actor=account_for("homeroom_teacher")).count()
    other = Student.objects.filter(school=_school(login_for, 1)).first()

    listing = client.get("/api/v1/students", **auth)
    assert listing.status_code == 200
    assert listing.json()["count"] == expected > 0
    assert client.get(f"/api/v1/students/{other.pk}", **auth).status_code == 404
    assert current_scope() == tenancy.ALL


def test_unscoped_looks_across_schools_for_a_service_and_then_restores_the_scope(account_for, login_for):
    school_1 = _school(login_for, 0)
    every_school = School.objects.count()
    with tenancy.acting_as(account_for("school_admin", 0)):
        with tenancy.unscoped():
            assert School.objects.count() == every_school
        assert current_scope() == str(school_1.pk)
        assert School.objects.count() == 1
