"""The `zhixiao` command: init, demo, serve, worker, audit, import, export, flows, timetable, omr, exam, check,
manage."""

from __future__ import annotations

import os
import sys

# `zhixiao <name>` → Django management command
COMMANDS = {
    "init": "zx_init",
    "demo": "zx_demo",
    "serve": "zx_serve",
    "worker": "zx_worker",  # db_worker, after queueing a notification delivery run
    "audit": "zx_audit",
    "import": "zx_import",
    "export": "zx_export",
    "flows": "zx_flows",
    "devices": "zx_devices",
    "simulate": "zx_simulate",
    "check": "check",
    "totp": "zx_totp",
    "migrate": "migrate",
}

USAGE = """usage: zhixiao <command> [options]

commands:
  init      create the database and the first system administrator
  demo      build the demo school(s) and print the demo logins  [--students N] [--schools K] [--json]
  serve     run the web server (gunicorn) and the background worker  [--port PORT]
  worker    run the background worker only
  audit     audit verify: check the audit log's hash chain (exit 1 naming the first bad record)
  import    import students|staff FILE.xlsx --school CODE [--dry-run]
  export    export students|staff --school CODE --out FILE.xlsx
  flows     list|export|import --school CODE [--key KEY] [--format yaml|json] [--file FILE]: approval flows
  devices   add|list|rotate --school CODE [--kind gate|dorm_gate|classroom|canteen] [--name N] [--json]
  simulate  gates --school CODE [--students N] [--minutes M] [--rate R] [--url URL]: drive the device API
  timetable solve INPUT.fet --time-limit S --out OUT.fet --report R.json | check INPUT.fet TIMETABLE | export:
            the timetabling engine on FET files (no database needed; exit 0 only when every hard constraint holds)
  exam      analyse SCORES.csv [--lines 85,60,40] --out REPORT.json: score analysis (no database needed)
  omr       sheet PAPER.json --out SHEET.pdf [--roster ROSTER.xlsx|csv] [--paper-size A4|A3]: answer sheets
            (writes SHEET.layout.json beside the PDF; no database needed; exit 2 on bad input)
            | read SHEET.layout.json SCANS... --out RESULTS.json [--workers N] [--key KEY.json]: read scans
            (per page: student ID, answers, confidence, review reasons; resumable; exit 0 with review items)
  check     Django's system checks (add --deploy for production settings)
  totp      KEY: the current code of a TOTP key (for trying the demo's admin logins without a phone)
  manage    any Django management command, e.g. `zhixiao manage createsuperuser`
"""


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhixiao.config.settings.local")
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return
    if args[0] == "timetable":  # the engine on files: no Django, no database
        from zhixiao.timetable.cli import main as timetable_main

        sys.exit(timetable_main(args[1:]))
    if args[0] == "exam":  # score analysis on files: no Django, no database
        from zhixiao.academics.cli import main as exam_main

        sys.exit(exam_main(args[1:]))
    if args[0] == "omr":  # answer sheets and scans on files: no Django, no database
        from zhixiao.omr.cli import main as omr_main

        sys.exit(omr_main(args[1:]))
    from django.core.management import execute_from_command_line

    name, rest = args[0], args[1:]
    if name == "manage":
        execute_from_command_line(["zhixiao", *rest])
        return
    if name not in COMMANDS:
        print(f"zhixiao: unknown command {name!r}\n\n{USAGE}", file=sys.stderr)
        sys.exit(2)
    execute_from_command_line(["zhixiao", COMMANDS[name], *rest])


if __name__ == "__main__":
    main()
