"""Fixtures for the notifications tests: test templates, fresh accounts, loopback servers."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils.translation import gettext_lazy as _

from zhixiao.notifications.templates_registry import register_template

from .servers import MailBox, RobotServer, SmsServer, http_server, smtp_server

register_template("test.hello", title=_("你好，{name}"), body=_("{name} 有一条新消息"))
register_template("test.urgent", title=_("紧急：{name}"), body=_("请立即处理"), urgent=True)
register_template("test.school", title=_("学校"), body=_("{name}"))

_numbers = itertools.count(1)


@pytest.fixture
def make_account(db: Any) -> Any:
    """make_account(mobile=True) → a new active account (with a unique mobile unless mobile=False)."""

    def make(mobile: bool = True, **extra: Any) -> Any:
        n = next(_numbers)
        return get_user_model().objects.create_user(
            username=f"notify-test-{n}",
            password="x",
            display_name=f"测试{n}",
            mobile=f"199{n:08d}" if mobile else None,
            **extra,
        )

    return make


@pytest.fixture
def mailbox() -> Iterator[MailBox]:
    """A real SMTP server on loopback, and the settings that send to it."""
    with (
        smtp_server() as (box, port),
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
            EMAIL_TIMEOUT=10,
        ),
    ):
        yield box


@pytest.fixture
def robot_server() -> Iterator[tuple[RobotServer, str]]:
    server = RobotServer(secret="SECtest-signing-secret")
    with http_server(server) as base:
        yield server, base


@pytest.fixture
def sms_server() -> Iterator[SmsServer]:
    server = SmsServer()
    with (
        http_server(server) as base,
        override_settings(ZHIXIAO_SMS_URL=f"{base}/sms", ZHIXIAO_SMS_SECRET=server.secret),
    ):
        yield server
