"""`zhixiao export students|staff --school CODE --out FILE.xlsx`: the school's whole list, sensitive
columns masked (the same export as the list pages)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from zhixiao.org import selectors as org_selectors
from zhixiao.people import importing


class Command(BaseCommand):
    help = "Export a school's students or staff to .xlsx (ID numbers and mobiles masked)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=importing.KINDS)
        parser.add_argument("--school", required=True, help="学校标识码 (10 digits)")
        parser.add_argument("--out", required=True, help="the .xlsx file to write")

    def handle(self, *args: Any, **opts: Any) -> None:
        school = org_selectors.school_by_code(opts["school"])
        if school is None:
            self.stderr.write(f"找不到学校标识码为 {opts['school']} 的学校")
            sys.exit(1)
        out = Path(opts["out"])
        if not out.parent.is_dir():
            self.stderr.write(f"目录不存在：{out.parent}")
            sys.exit(1)
        data = importing.export_workbook(actor=importing.SystemActor(), kind=opts["kind"], school_id=school.pk)
        out.write_bytes(data)
        self.stdout.write(f"已导出到 {out}（{len(data) // 1024} KB）")
