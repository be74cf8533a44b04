"""Logging in: 工号, 学籍号 or mobile plus password; clear Chinese messages; lock-out (等保2.0) and storms."""

from __future__ import annotations

import importlib

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from zhixiao.identity.models import Account

from .helpers import login, post_login

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "kind"),
    [("homeroom_teacher", "staff"), ("student", "student"), ("guardian", "guardian")],
)
def test_each_kind_of_person_logs_in_with_their_own_login_name(client, login_for, role, kind):
    demo = login_for(role)
    assert Account.objects.get(username=demo.username).kind == kind
    login(client, demo)
    home = client.get("/")
    assert home.status_code == 200
    assert home.wsgi_request.user.username == demo.username


def test_staff_member_logs_in_with_mobile_instead_of_staff_number(client, login_for, account_for):
    teacher = account_for("homeroom_teacher")
    assert teacher.mobile and teacher.mobile != teacher.username
    response = post_login(client, teacher.mobile, login_for("homeroom_teacher").password)
    assert response.status_code == 302
    assert client.get("/").wsgi_request.user.pk == teacher.pk


def test_login_name_is_trimmed(client, login_for):
    demo = login_for("student")
    assert post_login(client, f"  {demo.username} ", demo.password).status_code == 302


def test_wrong_password_says_so_in_chinese_and_logs_nobody_in(client, login_for):
    sessions = Session.objects.count()
    response = post_login(client, login_for("homeroom_teacher").username, "Wrong@2026")
    assert response.status_code == 200
    assert "登录名或密码错误" in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    assert Session.objects.count() == sessions


def test_unknown_login_name_gets_the_same_message(client):
    response = post_login(client, "no-such-person", "Wrong@2026")
    assert "登录名或密码错误" in response.content.decode()


def test_inactive_account_cannot_log_in(client, login_for, account_for):
    teacher = account_for("homeroom_teacher")
    teacher.is_active = False
    teacher.save(update_fields=["is_active"])
    response = post_login(client, teacher.username, login_for("homeroom_teacher").password)
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


def test_lock_out_after_the_failure_limit_refuses_even_the_right_password(client, login_for):
    demo = login_for("homeroom_teacher")
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert post_login(client, demo.username, "Wrong@2026").status_code == 200
    locked = post_login(client, demo.username, "Wrong@2026")
    assert locked.status_code == 429
    assert "账号已暂时锁定" in locked.content.decode()
    right = post_login(client, demo.username, demo.password)
    assert right.status_code == 429
    assert "账号已暂时锁定" in right.content.decode()
    assert not Client().get("/").wsgi_request.user.is_authenticated
    # locking is by login name: a colleague behind the same school NAT address still gets in
    other = login_for("subject_teacher")
    assert post_login(Client(), other.username, other.password).status_code == 302


def test_failures_below_the_limit_are_forgotten_after_a_success(client, login_for):
    demo = login_for("homeroom_teacher")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        post_login(client, demo.username, "Wrong@2026")
    assert post_login(client, demo.username, demo.password).status_code == 302
    assert not AccessAttempt.objects.filter(username=demo.username).exists()


def test_login_storm_leaves_the_site_serving_other_people(login_for):
    """200 bad attempts over several names (a script guessing passwords): each name is locked, nothing
    is half written (no session, no account change), and another teacher logs in and works."""
    names = ["13800000001", "gj20260001", "admin", login_for("guardian").username, "T0001"]
    accounts_before = list(Account.objects.order_by("pk").values_list("pk", "password", "is_active"))
    sessions = Session.objects.count()
    storm = Client(REMOTE_ADDR="10.1.2.3")
    statuses = [post_login(storm, names[i % len(names)], f"guess{i}").status_code for i in range(200)]
    assert set(statuses) <= {200, 429}
    assert statuses.count(429) >= 200 - len(names) * settings.AXES_FAILURE_LIMIT
    assert Session.objects.count() == sessions
    assert list(Account.objects.order_by("pk").values_list("pk", "password", "is_active")) == accounts_before
    assert AccessAttempt.objects.filter(username__in=names).count() == len(names)

    teacher = login_for("homeroom_teacher")
    colleague = login(Client(REMOTE_ADDR="10.1.2.3"), teacher)
    assert colleague.get("/").status_code == 200
    assert colleague.get(reverse("people:students")).status_code == 200
    assert Client().get("/healthz").json() == {"status": "ok"}


def test_logged_in_visitor_of_login_page_goes_home(client, login_for):
    login(client, login_for("student"))
    response = client.get(reverse("identity:login"))
    assert response.status_code == 302
    assert response.url == reverse("portal:home")


def test_logout_is_a_post_and_ends_the_session(client, login_for):
    login(client, login_for("student"))
    assert client.post(reverse("identity:logout")).status_code == 302
    assert client.get("/").status_code == 302


def test_passwords_are_hashed_with_argon2_in_production_settings():
    # imported by name: the settings sit above the domains in the import layers (tests use a fast hasher)
    base = importlib.import_module("zhixiao.config.settings.base")
    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
