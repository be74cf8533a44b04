"""API authentication (bearer tokens, API keys, browser sessions) and the token endpoint."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import APIKeyHeader, HttpBearer
from ninja.security import SessionAuth as _NinjaSessionAuth

from zhixiao.kernel import permissions, tenancy

from . import services


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer zxt.…` (from /api/v1/auth/token) or `Bearer zxk_…` (an API key)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        actor: Any
        if token.startswith(services.KEY_PREFIX):
            actor = services.authenticate_api_key(
                token, method=request.method or "", path=request.get_full_path(), ip=_client_ip(request)
            )
        else:
            actor = services.account_for_token(token)
        if actor is not None:
            tenancy.activate(actor)
        return actor


class ApiKeyAuth(APIKeyHeader):
    """`X-API-Key: zxk_…`, for devices that cannot set an Authorization header."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not key:
            return None
        actor = services.authenticate_api_key(
            key, method=request.method or "", path=request.get_full_path(), ip=_client_ip(request)
        )
        if actor is not None:
            tenancy.activate(actor)
        return actor


class SessionAuth(_NinjaSessionAuth):
    """The browser's session; admin roles must have passed their second factor."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is None:
            return None
        if permissions.requires_second_factor(user) and not user.is_verified():
            return None
        if getattr(user, "must_change_password", False):
            return None
        return user


router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str
    password: str
    otp: str | None = None


class TokenOut(Schema):
    token: str
    expires_in: int


@router.post("/token", auth=None, response=TokenOut, summary="Exchange a login for a short-lived bearer token")
def token(request: HttpRequest, body: TokenIn) -> dict[str, Any]:
    from django.conf import settings

    account = authenticate(request, username=body.username, password=body.password)
    if account is None:
        raise HttpError(401, _("登录名或密码错误，或账号已被暂时锁定"))
    if getattr(account, "must_change_password", False):
        raise HttpError(403, _("首次登录请先在网页上修改密码"))
    if permissions.requires_second_factor(account) or services.has_confirmed_totp(account):  # type: ignore[arg-type]
        if not body.otp:
            raise HttpError(401, _("该账号需要动态验证码（otp）"))
        wait = services.totp_retry_after(account=account)  # type: ignore[arg-type]
        if wait:
            raise HttpError(429, _("尝试过于频繁，请 %(n)d 秒后再试") % {"n": wait})
        if services.verify_totp(account=account, code=body.otp) is None:  # type: ignore[arg-type]
            raise HttpError(401, _("动态验证码不正确"))
    return {"token": services.issue_token(account=account), "expires_in": settings.API_TOKEN_MAX_AGE}  # type: ignore[arg-type]
