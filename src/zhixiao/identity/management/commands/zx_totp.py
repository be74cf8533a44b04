from __future__ import annotations

import base64
import binascii
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import TOTP


class Command(BaseCommand):
    help = "Print the current 6-digit code for a TOTP key (base32), e.g. a demo login's totp_secret."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", help="the base32 key an authenticator app would scan")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            key = base64.b32decode(opts["key"].strip().upper())
        except (binascii.Error, ValueError) as exc:
            raise CommandError("not a base32 TOTP key") from exc
        self.stdout.write(f"{TOTP(key).token():06d}")
