"""API authentication: short-lived bearer tokens, scoped API keys (shown once, hashed, revocable, each
use logged), and the OpenAPI docs."""

from __future__ import annotations

import re
import time
from unittest import mock

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from zhixiao.identity import services
from zhixiao.identity.models import ApiKey, ApiKeyUse
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.kernel.models import AuditRecord
from zhixiao.org.models import School

from .helpers import login, totp_code

pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/v1/auth/token"


def _token(client: Client, **body: str) -> tuple[int, dict[str, object]]:
    response = client.post(TOKEN_URL, body, content_type="application/json")
    return response.status_code, response.json()


def _bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


# --- bearer tokens --------------------------------------------------------------------------------------
def test_token_for_a_teacher_reads_her_students(client, login_for):
    demo = login_for("homeroom_teacher")
    status, body = _token(client, username=demo.username, password=demo.password)
    assert status == 200
    assert str(body["token"]).startswith(services.TOKEN_PREFIX)
    assert body["expires_in"] == 3600
    students = Client().get("/api/v1/students", **_bearer(str(body["token"])))
    assert students.status_code == 200
    assert {r["class_name"] for r in students.json()["results"]} == {demo.scope.split(":", 1)[1]}


def test_token_refused_for_a_wrong_password_with_a_chinese_message(client, login_for):
    status, body = _token(client, username=login_for("homeroom_teacher").username, password="Wrong@2026")
    assert status == 401
    assert "登录名或密码错误" in str(body["detail"])


def test_token_endpoint_counts_towards_the_lock_out(client, login_for, settings):
    demo = login_for("homeroom_teacher")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _token(client, username=demo.username, password="Wrong@2026")
    status, body = _token(client, username=demo.username, password=demo.password)
    assert status == 429
    assert "账号已暂时锁定" in str(body["detail"])


def test_admin_needs_otp_for_a_token(client, login_for):
    demo = login_for("school_admin")
    status, body = _token(client, username=demo.username, password=demo.password)
    assert status == 401
    assert "动态验证码" in str(body["detail"])
    status, body = _token(client, username=demo.username, password=demo.password, otp="000000")
    assert status == 401
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user__username=demo.username).update(throttling_failure_timestamp=None)
    status, body = _token(client, username=demo.username, password=demo.password, otp=totp_code(demo.totp_secret))
    assert status == 200
    assert Client().get("/api/v1/students", **_bearer(str(body["token"]))).status_code == 200


def test_otp_typed_too_soon_after_a_wrong_one_is_told_to_wait(client, login_for):
    demo = login_for("principal")
    _token(client, username=demo.username, password=demo.password, otp="000000")
    status, body = _token(client, username=demo.username, password=demo.password, otp=totp_code(demo.totp_secret))
    assert status == 429
    assert "尝试过于频繁" in str(body["detail"])


def test_first_login_account_must_change_password_on_the_web_first(client):
    services.create_account(
        username="S20260001", display_name="新生", kind="student", password="Zhixiao@2026", must_change_password=True
    )
    status, body = _token(client, username="S20260001", password="Zhixiao@2026")
    assert status == 403
    assert "修改密码" in str(body["detail"])


def test_token_expires(login_for, account_for):
    teacher = account_for("homeroom_teacher")
    with mock.patch("time.time", return_value=time.time() - 3601):
        old = services.issue_token(account=teacher)
    assert services.account_for_token(old) is None
    assert Client().get("/api/v1/students", **_bearer(old)).status_code == 401
    fresh = services.issue_token(account=teacher)
    with override_settings(API_TOKEN_MAX_AGE=0):
        time.sleep(1.1)
        assert services.account_for_token(fresh) is None
    assert services.account_for_token(fresh) == teacher


def test_token_dies_with_a_password_change(account_for):
    teacher = account_for("homeroom_teacher")
    token = services.issue_token(account=teacher)
    assert Client().get("/api/v1/students", **_bearer(token)).status_code == 200
    services.change_password(account=teacher, old_password="Zhixiao@2026", new_password="Better#2027x")
    assert Client().get("/api/v1/students", **_bearer(token)).status_code == 401


def test_forged_or_garbled_tokens_are_refused(account_for):
    token = services.issue_token(account=account_for("homeroom_teacher"))
    for bad in [token[:-2] + "xx", "zxt.abc", "not-a-token", "", "zxk_nope_nope"]:
        assert Client().get("/api/v1/students", **_bearer(bad)).status_code == 401
    assert Client().get("/api/v1/students").status_code == 401


# --- API keys -------------------------------------------------------------------------------------------
def _school(index: int) -> School:
    return School.objects.order_by("pk")[index]


def test_api_key_is_shown_once_stored_hashed_and_scoped_to_its_school(account_for):
    it = account_for("it_staff")
    first = _school(0)
    created = services.create_api_key(actor=it, school_id=first.pk, name="门禁闸机", role="guard")
    secret = created.secret
    assert secret.startswith(services.KEY_PREFIX)
    stored = ApiKey.objects.get(pk=created.key.pk)
    assert secret not in {stored.key_hash, stored.prefix, stored.name}
    assert stored.key_hash == services._hash_key(secret)
    assert AuditRecord.objects.filter(action="apikey.create", target_id=str(stored.pk)).exists()

    by_bearer = Client().get("/api/v1/students", **_bearer(secret))
    by_header = Client().get("/api/v1/students?page=2", HTTP_X_API_KEY=secret)
    assert by_bearer.status_code == 200
    assert by_header.status_code == 200
    assert {r["school_code"] for r in by_bearer.json()["results"]} == {first.code}
    uses = list(ApiKeyUse.objects.filter(key=stored).order_by("at"))
    assert [(u.method, u.path) for u in uses] == [("GET", "/api/v1/students"), ("GET", "/api/v1/students?page=2")]
    stored.refresh_from_db()
    assert stored.last_used_at is not None

    # a key of the first school sees nothing of the second
    other_class = School.objects.order_by("pk")[1]
    from zhixiao.org.models import AdminClass

    cls = AdminClass.objects.filter(school=other_class).first()
    assert Client().get(f"/api/v1/classes/{cls.pk}/students", **_bearer(secret)).status_code == 404


def test_api_key_cannot_be_made_for_another_school_or_by_a_teacher(account_for):
    with pytest.raises(NotPermitted):
        services.create_api_key(actor=account_for("it_staff"), school_id=_school(1).pk, name="x")
    with pytest.raises(NotPermitted):
        services.create_api_key(actor=account_for("homeroom_teacher"), school_id=_school(0).pk, name="x")
    with pytest.raises(DomainError):
        services.create_api_key(actor=account_for("it_staff"), school_id=_school(0).pk, name="x", role="school_admin")
    with pytest.raises(DomainError):
        services.create_api_key(actor=account_for("it_staff"), school_id=_school(0).pk, name="  ")


def test_revoked_or_expired_key_is_refused(account_for):
    created = services.create_api_key(actor=account_for("school_admin"), school_id=_school(0).pk, name="食堂")
    assert Client().get("/api/v1/schools", HTTP_X_API_KEY=created.secret).status_code == 200
    services.revoke_api_key(actor=account_for("it_staff"), key_id=created.key.pk)
    assert Client().get("/api/v1/schools", HTTP_X_API_KEY=created.secret).status_code == 401
    assert Client().get("/api/v1/schools", **_bearer(created.secret)).status_code == 401
    assert AuditRecord.objects.filter(action="apikey.revoke", target_id=str(created.key.pk)).exists()
    assert ApiKeyUse.objects.filter(key=created.key).count() == 1

    from django.utils import timezone

    other = services.create_api_key(actor=account_for("school_admin"), school_id=_school(0).pk, name="旧闸机")
    ApiKey.objects.filter(pk=other.key.pk).update(expires_at=timezone.now())
    assert Client().get("/api/v1/schools", HTTP_X_API_KEY=other.secret).status_code == 401


def test_a_key_with_the_right_prefix_but_wrong_secret_is_refused(account_for):
    created = services.create_api_key(actor=account_for("it_staff"), school_id=_school(0).pk, name="x")
    forged = created.secret[:-4] + "AAAA"
    assert Client().get("/api/v1/schools", HTTP_X_API_KEY=forged).status_code == 401
    assert not ApiKeyUse.objects.filter(key=created.key).exists()


def test_another_schools_admin_cannot_revoke_a_key(account_for):
    created = services.create_api_key(actor=account_for("it_staff"), school_id=_school(0).pk, name="x")
    with pytest.raises(NotPermitted):
        services.revoke_api_key(actor=account_for("school_admin", 1), key_id=created.key.pk)


@pytest.mark.parametrize("role", ["it_staff", "school_admin"])
def test_api_key_page_shows_the_secret_once(client, login_for, role):
    login(client, login_for(role))
    page = client.get(reverse("identity:api_keys"))
    assert page.status_code == 200
    school = _school(0)
    created = client.post(reverse("identity:api_keys"), {"name": "宿舍门禁", "role": "guard", "school": school.pk})
    assert created.status_code == 200
    html = created.content.decode()
    secret = re.search(r"zxk_[0-9a-f]{8}_[A-Za-z0-9_\-]+", html)
    assert secret, "the new key is shown on the page"
    key = ApiKey.objects.get(name="宿舍门禁")
    assert key.school_id == school.pk
    assert key.key_hash == services._hash_key(secret.group(0))
    assert secret.group(0) not in client.get(reverse("identity:api_keys")).content.decode()
    assert Client().get("/api/v1/students", HTTP_X_API_KEY=secret.group(0)).status_code == 200

    revoke = client.post(reverse("identity:api_key_revoke", args=[key.pk]))
    assert revoke.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert Client().get("/api/v1/students", HTTP_X_API_KEY=secret.group(0)).status_code == 401


def test_api_key_page_refuses_a_school_it_does_not_manage(client, login_for):
    login(client, login_for("it_staff"))
    response = client.post(reverse("identity:api_keys"), {"name": "x", "role": "guard", "school": _school(1).pk})
    assert response.status_code == 200
    assert not ApiKey.objects.filter(name="x").exists()


def test_api_key_page_is_refused_to_teachers(client, login_for):
    login(client, login_for("homeroom_teacher"))
    assert client.get(reverse("identity:api_keys")).status_code == 403


def test_revoking_another_schools_key_from_the_page_is_not_found(client, login_for, account_for):
    created = services.create_api_key(actor=account_for("it_staff", 1), school_id=_school(1).pk, name="y")
    login(client, login_for("it_staff"))
    assert client.post(reverse("identity:api_key_revoke", args=[created.key.pk])).status_code == 404
    assert ApiKey.objects.get(pk=created.key.pk).revoked_at is None


# --- docs -------------------------------------------------------------------------------------------------
def test_openapi_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ["/api/v1/auth/token", "/api/v1/students", "/api/v1/students/{student_id}"]:
        assert path in paths
    assert "/api/v1/classes/{class_id}/students" in paths
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "https://" not in html
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert Client().get("/static/ninja/swagger-ui-bundle.js").status_code == 200
