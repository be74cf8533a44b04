"""`zhixiao import students|staff FILE.xlsx --school CODE [--dry-run]`.

Exit 0 when written (or, with --dry-run, when the file is clean); exit 1 with the error table on stderr
(row, column, value, reason, tab-separated) and nothing written when anything is wrong.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser

from zhixiao.org import selectors as org_selectors
from zhixiao.people import importing


class Command(BaseCommand):
    help = "Import students (with guardians) or staff from an .xlsx file; all rows or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=importing.KINDS)
        parser.add_argument("file")
        parser.add_argument("--school", required=True, help="学校标识码 (10 digits)")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")

    def fail(self, lines: list[str]) -> NoReturn:
        for line in lines:
            self.stderr.write(line)
        sys.exit(1)

    def handle(self, *args: Any, **opts: Any) -> None:
        school = org_selectors.school_by_code(opts["school"])
        if school is None:
            self.fail([f"找不到学校标识码为 {opts['school']} 的学校"])
        path = Path(opts["file"])
        if not path.is_file():
            self.fail([f"找不到文件：{path}"])
        oversize = importing.size_error(path.stat().st_size, path.name)
        if oversize is not None:
            self.fail([oversize.as_line()])
        started = time.monotonic()
        result = importing.run_import(
            actor=importing.SystemActor(),
            school_id=school.pk,
            kind=opts["kind"],
            data=path.read_bytes(),
            filename=path.name,
            dry_run=opts["dry_run"],
            note=f"CLI 导入 {path.name}"[:200],
        )
        seconds = time.monotonic() - started
        if result.errors:
            self.fail(
                [
                    "行\t列\t内容\t原因",
                    *(e.as_line() for e in result.errors),
                    f"共 {len(result.errors)} 处错误（{result.rows} 行），未写入任何数据。",
                ]
            )
        if result.dry_run:
            self.stdout.write(f"检查通过：{result.rows} 行，没有错误（--dry-run，未写入）。")
            return
        counts = "，".join(f"{k} {v}" for k, v in result.created.items())
        self.stdout.write(f"已导入 {result.rows} 行（{counts}），用时 {seconds:.1f} 秒。")
        self.stdout.write(f"新账号的初始密码（首次登录须修改）：{result.initial_password}")
