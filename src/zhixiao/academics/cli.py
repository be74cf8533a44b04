"""`zhixiao exam …`: score analysis on files, without the web platform (no database, no settings).

    zhixiao exam analyse SCORES.csv [--lines 85,60,40] [--absent-as-zero] --out REPORT.json

SCORES.csv has the columns school, class, student_id, subject, score, full_marks (or their Chinese headers
学校, 班级, 考号, 科目, 分数, 满分): one row per student and subject; an empty score, 缺考 or 免考 means the
student did not sit it, 作弊 counts as 0. REPORT.json: see docs/academics.md.

Exit status: 0 on success, 2 for input we cannot use (every problem is printed, in Chinese, by row and column).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def cmd_analyse(args: argparse.Namespace) -> int:
    from .engine.analysis import Lines, LinesError, analyse, to_report
    from .engine.scores import ScoreError, read_scores_csv

    try:
        lines = Lines.parse(args.lines)
    except LinesError as exc:
        print(f"zhixiao exam: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    path = Path(args.scores)
    if not path.is_file():
        print(f"zhixiao exam: 找不到成绩文件 {path}", file=sys.stderr)
        return EXIT_BAD_INPUT
    t0 = time.perf_counter()
    try:
        scores = read_scores_csv(path)
    except ScoreError as exc:
        print(f"zhixiao exam: {path} 有 {len(exc.errors)} 处问题，没有生成报告：", file=sys.stderr)
        for line in exc.errors:
            print(f"  {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    report = to_report(analyse(scores, lines, absent_as_zero=args.absent_as_zero))
    report["seconds"] = round(time.perf_counter() - t0, 3)
    out = Path(args.out)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(json.dumps(report, ensure_ascii=False, indent=None), encoding="utf-8")
    tmp.replace(out)  # never a half-written report
    n = len(report["students"])
    print(f"{path.name}: {n} 名学生、{len(report['subjects'])} 科，报告已写入 {out}（{report['seconds']} 秒）")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zhixiao exam", description="成绩分析（无需数据库）")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("analyse", aliases=["analyze"], help="分析成绩 CSV，写出 REPORT.json")
    p.add_argument("scores", help="SCORES.csv：school,class,student_id,subject,score,full_marks")
    p.add_argument("--lines", default="85,60,40", help="优秀、及格、低分线（满分的百分比），默认 85,60,40")
    p.add_argument("--absent-as-zero", action="store_true", help="缺考的科目按 0 分计入总分")
    p.add_argument("--out", required=True, help="REPORT.json")
    p.set_defaults(func=cmd_analyse)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
