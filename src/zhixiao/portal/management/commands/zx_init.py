from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhixiao.identity import selectors as identity_selectors
from zhixiao.identity import services as identity_services
from zhixiao.kernel.errors import DomainError
from zhixiao.kernel.permissions import Role


class Command(BaseCommand):
    help = "Create the database and the first system administrator (who must set up TOTP at first login)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default=os.environ.get("ZHIXIAO_ADMIN_PASSWORD"))

    def handle(self, *args: Any, **opts: Any) -> None:
        call_command("migrate", verbosity=0, interactive=False)
        if identity_selectors.account_by_login_name(opts["username"]) is not None:
            self.stdout.write(f"database ready; account {opts['username']!r} already exists")
            return
        password = opts["password"] or getpass.getpass("password for the first administrator: ")
        from django.contrib.auth import password_validation

        try:
            password_validation.validate_password(password)
            account = identity_services.create_account(
                username=opts["username"],
                display_name="系统管理员",
                kind="system",
                password=password,
                must_change_password=False,
            )
        except (DomainError, Exception) as exc:
            raise CommandError(
                f"cannot create the administrator: {'; '.join(getattr(exc, 'messages', [str(exc)]))}"
            ) from exc
        identity_services.grant_role(actor=None, account=account, role=Role.SYSTEM_ADMIN)
        self.stdout.write(f"database ready; system administrator {opts['username']!r} created")
