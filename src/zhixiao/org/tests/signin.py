"""Signing a demo login in through the real pages: password, then the TOTP code that admin roles need."""

from __future__ import annotations

import base64
from typing import Any

from django.test import Client
from django_otp.oath import TOTP


def signed_in(login: Any, client: Client | None = None) -> Client:
    """A test client logged in as `login` (a DemoLogin), past the second-factor check when it has one."""
    client = client or Client()
    response = client.post("/account/login/", {"username": login.username, "password": login.password})
    assert response.status_code == 302, f"login failed for {login.username}"
    if login.totp_secret:
        code = TOTP(base64.b32decode(login.totp_secret)).token()
        response = client.post("/account/2fa/verify/", {"code": f"{code:06d}"})
        assert response.status_code == 302, "second factor refused"
    return client
