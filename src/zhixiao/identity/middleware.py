"""Account policy on every page: forced password change on first login, and a second factor (TOTP)
for admin roles (等保2.0 level 3)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from zhixiao.kernel import permissions

from . import services

_EXEMPT_PREFIXES = ("/static/", "/i18n/", "/api/", "/healthz")


class AccountPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        path = request.path
        if user.is_authenticated and not path.startswith(_EXEMPT_PREFIXES):
            allowed = {reverse("identity:logout"), reverse("identity:password_change")}
            if getattr(user, "must_change_password", False) and path not in allowed:
                return redirect("identity:password_change")
            if permissions.requires_second_factor(user):
                allowed |= {reverse("identity:totp_setup"), reverse("identity:totp_verify")}
                if path not in allowed and not user.is_verified():  # type: ignore[union-attr,attr-defined]
                    has_device = services.has_confirmed_totp(user)  # type: ignore[arg-type]
                    target = "identity:totp_verify" if has_device else "identity:totp_setup"
                    return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return self.get_response(request)
