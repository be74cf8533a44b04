"""`zhixiao devices add --school CODE --kind gate --name NAME [--place P] [--direction in|out|both] [--json]`
and `zhixiao devices list --school CODE`: register gates and terminals from the command line."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhixiao.kernel.errors import DomainError
from zhixiao.org import selectors as org_selectors

from ... import services
from ...models import Device, DeviceKind, Direction


class Command(BaseCommand):
    help = "Register devices (gates, terminals) of a school; the secret is printed once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["add", "list", "rotate"])
        parser.add_argument("--school", required=True, help="学校标识码")
        parser.add_argument("--kind", choices=DeviceKind.values, default=DeviceKind.SCHOOL_GATE)
        parser.add_argument("--name", default="")
        parser.add_argument("--place", default="")
        parser.add_argument("--direction", choices=Direction.values, default=Direction.BOTH)
        parser.add_argument("--id", type=int, default=0, help="the device to re-key (rotate)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **o: Any) -> None:
        school = org_selectors.school_by_code(o["school"])
        if school is None:
            raise CommandError(f"没有学校标识码为 {o['school']} 的学校")
        if o["action"] == "list":
            for d in Device.objects.filter(school=school).order_by("pk"):
                self.stdout.write(f"{d.pk}\t{d.kind}\t{d.name}\t{d.direction}\t{'启用' if d.is_active else '停用'}")
            return
        try:
            if o["action"] == "add":
                device, secret = services.register_device(
                    actor=None,
                    school_id=school.pk,
                    kind=o["kind"],
                    name=o["name"],
                    place=o["place"],
                    direction=o["direction"],
                )
            else:
                if not Device.objects.filter(pk=o["id"], school=school).exists():
                    raise CommandError(f"本校没有编号为 {o['id']} 的设备")
                device, secret = services.rotate_secret(actor=None, device_id=o["id"])
        except DomainError as e:
            raise CommandError(str(e)) from None
        if o["json"]:
            self.stdout.write(json.dumps({"id": device.pk, "secret": secret}))
        else:
            self.stdout.write(f"设备 {device.name} 编号 {device.pk}\n密钥（只显示这一次）：{secret}")
