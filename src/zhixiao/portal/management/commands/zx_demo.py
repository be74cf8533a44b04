from __future__ import annotations

import json
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhixiao.portal import demo


class Command(BaseCommand):
    help = "Build the demo school(s) (migrating first) and print one login per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--students", type=int, default=1800)
        parser.add_argument("--schools", type=int, default=1)
        parser.add_argument("--seed", type=int, default=20260901)
        parser.add_argument("--json", action="store_true", help="print the logins as a JSON array")
        parser.add_argument("--if-empty", action="store_true", help="only build when the database has no school")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["students"] < opts["schools"] or opts["schools"] < 1:
            raise CommandError("--students must be at least --schools, and --schools at least 1")
        call_command("migrate", verbosity=0, interactive=False)
        started = time.monotonic()
        if demo.has_data():
            if not opts["if_empty"]:
                raise CommandError("the database already holds schools; use a new ZHIXIAO_DATA_DIR or DATABASE_URL")
            rows = demo.saved_logins()
        else:
            if not opts["json"]:
                self.stdout.write(f"Building the demo: {opts['students']} students in {opts['schools']} school(s)…")
            logins = demo.build(
                students=opts["students"],
                schools=opts["schools"],
                seed=opts["seed"],
                gates=True,
                timetable=True,
                omr=True,
                exams=True,
            )
            rows = json.loads(demo.as_json(logins))
        if opts["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1))
            return
        self.stdout.write(
            f"Demo ready ({time.monotonic() - started:.0f} s). Logins (password for all: {demo.PASSWORD}):"
        )
        for r in rows:
            extra = f"  TOTP key: {r['totp_secret']}" if r.get("totp_secret") else ""
            self.stdout.write(f"  {r['role']:<17} {r['username']:<22} {r['school'] or '-':<11} {r['scope']}{extra}")
        self.stdout.write(
            "Admin roles need a TOTP code: add the key to an authenticator app, or run `.venv/bin/zhixiao totp KEY`."
        )
