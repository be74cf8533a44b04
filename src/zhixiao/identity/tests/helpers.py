"""Logging in as a person would: through the login form (axes needs the request) and the TOTP page."""

from __future__ import annotations

import base64
import time
from typing import Any

from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP


def totp_code(secret_b32: str, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or `steps_ahead` 30-second steps later: django-otp
    refuses a code twice, and accepts the next step within its tolerance)."""
    totp = TOTP(base64.b32decode(secret_b32))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def post_login(client: Client, username: str, password: str) -> Any:
    return client.post(reverse("identity:login"), {"username": username, "password": password})


def login(client: Client, demo_login: Any, *, username: str | None = None) -> Client:
    """Log in with the real form and, for admin roles, pass the second factor."""
    response = post_login(client, username or demo_login.username, demo_login.password)
    assert response.status_code == 302, f"login of {demo_login.role} failed: {response.status_code}"
    if demo_login.totp_secret:
        response = client.post(reverse("identity:totp_verify"), {"code": totp_code(demo_login.totp_secret)})
        assert response.status_code == 302, f"TOTP of {demo_login.role} failed"
    return client
