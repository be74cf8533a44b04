"""Log in with 工号, 学籍号 (both are the account's username) or the account's mobile."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from .models import Account


class LoginNameBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Account | None:
        if not username or password is None:
            return None
        name = username.strip()
        account = Account.objects.filter(username=name).first()
        if account is None and name.isdigit() and len(name) == 11:
            account = Account.objects.filter(mobile=name).first()
        if account is None:
            Account().set_password(password)  # same work as a real check: no timing oracle for names
            return None
        if account.check_password(password) and self.user_can_authenticate(account):
            return account
        return None
