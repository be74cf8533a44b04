"""Benchmark: import 5,000 students with two guardians each from .xlsx into a fresh SQLite database.

Each repeat gets a new data directory with a small demo school (`zhixiao demo --students 100`), a new
5,000-row workbook, and times `importing.run_import` (read + check every cell + write everything in one
transaction, with accounts, history and audit). One more fresh database times the whole command line,
`zhixiao import students FILE --school CODE`, start-up included.

    .venv/bin/python bench/people/bench_import.py [--rows 5000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LIMIT_SECONDS = 20.0


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["ZHIXIAO_DATA_DIR"] = str(data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "zhixiao.config.settings.local"
    return env


def _zhixiao(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zhixiao.cli", *args], env=env, capture_output=True, text=True, check=False
    )


def _fresh_school(data_dir: Path) -> dict[str, str]:
    env = _env(data_dir)
    done = _zhixiao(["demo", "--students", "100", "--json"], env)
    if done.returncode != 0:
        raise SystemExit(f"demo failed:\n{done.stderr}")
    return env


def child(rows: int, seed: int, out_file: str, run_import: bool) -> None:
    """Runs inside the fresh data directory: write the workbook, optionally time the import."""
    import django

    django.setup()
    from zhixiao.org import selectors as org_selectors
    from zhixiao.people import importing
    from zhixiao.people.tests.workbooks import STUDENT_HEADERS, People, workbook

    actor = importing.SystemActor()
    school = org_selectors.schools_visible_to(actor=actor).order_by("pk").first()
    assert school is not None
    classes = [c.name for c in org_selectors.classes_visible_to(actor=actor, school_id=school.pk)]
    people = People(seed)
    data = workbook(STUDENT_HEADERS, (people.student(classes[i % len(classes)]) for i in range(rows)))
    Path(out_file).write_bytes(data)
    report: dict[str, Any] = {"school": school.code, "bytes": len(data)}
    if run_import:
        started, cpu_started = time.perf_counter(), time.process_time()
        result = importing.run_import(
            actor=actor, school_id=school.pk, kind=importing.STUDENTS, data=data, filename="bench.xlsx"
        )
        report["seconds"] = time.perf_counter() - started
        report["cpu_seconds"] = time.process_time() - cpu_started  # this process alone: less hurt by load
        report["errors"] = [e.as_line() for e in result.errors[:5]]
        report["created"] = result.created
    print(json.dumps(report))


def _run_child(env: dict[str, str], rows: int, seed: int, out_file: Path, run_import: bool) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", "--rows", str(rows), "--seed", str(seed), "--out", str(out_file)]
    if not run_import:
        args.append("--no-import")
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-import", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.rows, args.seed, args.out, run_import=not args.no_import)
        return

    timings: list[float] = []
    cpu: list[float] = []
    created: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="zx-bench-import-") as tmp:
        for i in range(args.repeats):
            env = _fresh_school(Path(tmp) / f"run{i}")
            report = _run_child(env, args.rows, args.seed + i, Path(tmp) / f"students{i}.xlsx", run_import=True)
            if report["errors"] or not report["created"]:
                raise SystemExit(f"import reported errors: {report['errors']}")
            timings.append(report["seconds"])
            cpu.append(report["cpu_seconds"])
            created = report["created"]
            print(
                f"run {i + 1}: {report['seconds']:.2f} s wall, {report['cpu_seconds']:.2f} s CPU "
                f"({args.rows / report['seconds']:.0f} rows/s), load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        # The command line as an operator runs it: start-up, read, check, write.
        env = _fresh_school(Path(tmp) / "cli")
        path = Path(tmp) / "students-cli.xlsx"
        info = _run_child(env, args.rows, args.seed + 99, path, run_import=False)
        started = time.perf_counter()
        done = _zhixiao(["import", "students", str(path), "--school", info["school"]], env)
        cli_seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"zhixiao import failed:\n{done.stderr[:2000]}")

    median = statistics.median(timings)
    print(f"rows: {args.rows} students with 2 guardians each; created per run: {created}")
    print(
        f"median of {args.repeats}: {median:.2f} s wall, {args.rows / median:.0f} rows/s "
        f"(min {min(timings):.2f} s); median CPU {statistics.median(cpu):.2f} s"
    )
    print(f"zhixiao import (whole command, start-up included): {cli_seconds:.2f} s")
    print(f"machine: {os.cpu_count()} CPU(s), {_cpu_model()}; Python {platform.python_version()}")
    if median > LIMIT_SECONDS:
        raise SystemExit(f"too slow: {median:.1f} s > {LIMIT_SECONDS:.0f} s")


if __name__ == "__main__":
    main()
