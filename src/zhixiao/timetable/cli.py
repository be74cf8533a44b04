"""`zhixiao timetable …`: the engine on files, without the web platform (no database, no settings).

    zhixiao timetable solve INPUT.fet --time-limit SECONDS --out OUTPUT.fet --report REPORT.json
    zhixiao timetable check INPUT.fet TIMETABLE          (a locked .fet, FET's output folder or *_activities.xml)
    zhixiao timetable export INPUT.fet TIMETABLE --xlsx F.xlsx | --pdf F.pdf [--by class|teacher|room]

Exit status: 0 when every hard constraint holds (and none is of a type we cannot check), 1 when not (no
timetable found in time, or a violation), 2 for a file we cannot read (the reasons are printed, in Chinese).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .engine import checker, fet
from .engine.result import Progress
from .engine.solver import solve

EXIT_OK, EXIT_VIOLATED, EXIT_BAD_INPUT = 0, 1, 2


def _hard_unsupported(imp: fet.FetImport) -> list[str]:
    return [u for u in imp.unsupported if "权重 100%" in u]


def _read(path: str) -> fet.FetImport:
    try:
        return fet.read_fet(Path(path))
    except OSError as exc:
        raise fet.FetError([f"无法读取文件 {path}：{exc.strerror or exc}"]) from exc


def cmd_solve(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    imp = _read(args.input)
    last = [0.0]

    def progress(p: Progress) -> None:
        if args.quiet or p.seconds - last[0] < 1.0:
            return
        last[0] = p.seconds
        cost = "—" if p.soft_cost is None else f"{p.soft_cost:g}"
        print(f"[{p.fraction:4.0%}] {p.seconds:6.1f}s  方案 {p.solutions}  软约束代价 {cost}", file=sys.stderr)

    result = solve(
        imp.problem,
        time_limit=args.time_limit,
        workers=args.workers,
        seed=args.seed,
        progress=progress,
        stop_after_first=args.first,
        soft_time_limit=args.soft_seconds,
    )
    report: dict[str, Any] = result.report()
    report["seconds"] = round(time.monotonic() - t0, 3)
    report["solver_seconds"] = round(result.seconds, 3)
    report["unsupported_constraints"] = imp.unsupported
    report["import_warnings"] = imp.warnings
    report["input"] = str(args.input)
    report["soft_constraints"] = sum(1 for c in imp.problem.constraints if 0 < c.weight < 100)
    if result.solution is not None and args.out:
        Path(args.out).write_bytes(fet.write_fet(imp.problem, result.solution, source=imp.source))
        report["output"] = str(args.out)
    ok = result.solved and not _hard_unsupported(imp)
    report["solved"] = ok
    _emit(report, args.report)
    if not args.quiet:
        _summary(report)
    return EXIT_OK if ok else EXIT_VIOLATED


def cmd_check(args: argparse.Namespace) -> int:
    imp = _read(args.input)
    try:
        solution = fet.read_fet_solution(imp.problem, args.timetable)
    except OSError as exc:
        raise fet.FetError([f"无法读取课表 {args.timetable}：{exc.strerror or exc}"]) from exc
    hard, soft = checker.check(imp.problem, solution)
    report = {
        "input": str(args.input),
        "timetable": str(args.timetable),
        "activities": len(imp.problem.activities),
        "placed": len(solution.placements),
        "solved": not hard and not _hard_unsupported(imp),
        "hard_violations": [v.as_dict() for v in hard],
        "soft_cost": sum(v.cost for v in soft),
        "soft_broken": len(soft),
        "soft_violations": [v.as_dict() for v in soft],
        "unsupported_constraints": imp.unsupported,
    }
    _emit(report, args.report)
    if not args.quiet:
        _summary(report)
    return EXIT_OK if report["solved"] else EXIT_VIOLATED


def cmd_export(args: argparse.Namespace) -> int:
    from . import exports

    imp = _read(args.input)
    solution = fet.read_fet_solution(imp.problem, args.timetable)
    if not (args.xlsx or args.pdf):
        print("请用 --xlsx 或 --pdf 指定输出文件", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.xlsx:
        Path(args.xlsx).write_bytes(exports.to_xlsx(imp.problem, solution, by=args.by))
    if args.pdf:
        Path(args.pdf).write_bytes(exports.to_pdf(imp.problem, solution, by=args.by))
    return EXIT_OK


def _emit(report: dict[str, Any], path: str | None) -> None:
    text = json.dumps(report, ensure_ascii=False, indent=2)
    if path:
        Path(path).write_text(text + "\n", encoding="utf-8")


def _summary(report: dict[str, Any]) -> None:
    state = "已排出" if report["solved"] else "未排出"
    line = (
        f"{state}：{report['placed']}/{report['activities']} 节课已安排，"
        f"硬约束冲突 {len(report['hard_violations'])} 处，"
        f"软约束代价 {report['soft_cost']:g}（未满足 {report.get('soft_broken', 0)} 条）"
    )
    if "seconds" in report:
        first = report.get("first_solution_seconds")
        line += f"，用时 {report['seconds']:.1f} 秒" + (f"（首个完整课表 {first:.1f} 秒）" if first else "")
    print(line, file=sys.stderr)
    for v in report["hard_violations"][:10]:
        print("  ✗ " + v["message"], file=sys.stderr)
    for why in report.get("explanation", [])[:12]:
        print("  · " + why, file=sys.stderr)
    if report["unsupported_constraints"]:
        print(f"  不支持的约束 {len(report['unsupported_constraints'])} 条（未检查）：", file=sys.stderr)
        for u in report["unsupported_constraints"][:20]:
            print("    " + u, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="zhixiao timetable", description="智能排课：FET 文件求解、检查与导出")
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("solve", help="排课：读入 FET 文件，求解，写出锁定时间与教室的 FET 文件")
    s.add_argument("input")
    s.add_argument("--time-limit", type=float, default=60.0)
    s.add_argument("--out")
    s.add_argument("--report")
    cores = max(2, min(8, os.cpu_count() or 2))
    s.add_argument("--workers", type=int, default=cores, help="CP-SAT workers (default: the cores, 2 to 8)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--first", action="store_true", help="stop at the first complete timetable")
    s.add_argument("--soft-seconds", type=float, help="at most this long on soft constraints after the first timetable")
    s.add_argument("--quiet", action="store_true")
    s.set_defaults(fn=cmd_solve)
    c = sub.add_parser("check", help="检查一个课表（FET 输出或锁定的 FET 文件）")
    c.add_argument("input")
    c.add_argument("timetable")
    c.add_argument("--report")
    c.add_argument("--quiet", action="store_true")
    c.set_defaults(fn=cmd_check)
    e = sub.add_parser("export", help="导出课表为 Excel 或 PDF")
    e.add_argument("input")
    e.add_argument("timetable")
    e.add_argument("--by", choices=("class", "teacher", "room"), default="class")
    e.add_argument("--xlsx")
    e.add_argument("--pdf")
    e.set_defaults(fn=cmd_export)
    args = ap.parse_args(argv)
    try:
        return int(args.fn(args))
    except fet.FetError as exc:
        print("无法读取 FET 文件：", file=sys.stderr)
        for err in exc.errors[:50]:
            print("  " + err, file=sys.stderr)
        if len(exc.errors) > 50:
            print(f"  ……另有 {len(exc.errors) - 50} 处", file=sys.stderr)
        if getattr(args, "report", None):
            _emit({"solved": False, "errors": exc.errors, "input": str(args.input)}, args.report)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
