"""`zhixiao omr …`: answer sheets and scans on files, without the web platform (no database, no settings).

    zhixiao omr sheet PAPER.json --out SHEET.pdf [--roster ROSTER.xlsx|csv] [--paper-size A4|A3] [--font F.ttc]
        writes SHEET.pdf and SHEET.layout.json beside it

Exit status: 0 on success, 2 for input we cannot use (every problem is printed, in Chinese).
Each subcommand is one `add_parser` in `build_parser` and one `cmd_…` function returning the exit status.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def layout_path_for(pdf: Path) -> Path:
    """SHEET.pdf → SHEET.layout.json, in the same folder."""
    return pdf.with_name(pdf.stem + ".layout.json") if pdf.suffix.lower() == ".pdf" else Path(f"{pdf}.layout.json")


def cmd_sheet(args: argparse.Namespace) -> int:
    from .engine.paper import PaperError, load_paper
    from .engine.roster import RosterError, read_roster
    from .engine.sheet import make_sheet

    out = Path(args.out)
    try:
        paper = load_paper(Path(args.paper))
        if args.paper_size:
            paper = paper.with_paper_size(args.paper_size)
        roster = read_roster(Path(args.roster), digits=paper.id.digits) if args.roster else None
        sheet = make_sheet(paper, roster=roster, font=args.font)
    except (PaperError, RosterError) as exc:
        print(f"无法生成答题卡：\n{exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(sheet.pdf)
    layout_file = layout_path_for(out)
    layout_file.write_text(sheet.layout_json(), encoding="utf-8")
    who = f"，{len(roster)} 名学生" if roster else ""
    print(f"已生成 {out}（{sheet.pdf_pages} 页{who}）与 {layout_file}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="zhixiao omr", description="答题卡制作与读卡（不需要数据库）")
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sheet", help="由试卷定义（JSON）生成答题卡 PDF 及其版面文件 .layout.json")
    s.add_argument("paper", help="试卷定义 PAPER.json")
    s.add_argument("--out", required=True, help="输出 PDF；版面文件写在旁边（SHEET.layout.json）")
    s.add_argument("--roster", help="学生名单 .xlsx 或 .csv（考号、姓名、班级）：每名学生一套预印答题卡")
    s.add_argument("--paper-size", choices=("A4", "A3"), help="纸张，覆盖试卷定义中的 paper_size")
    s.add_argument("--font", help="中文字体文件（TrueType .ttf/.ttc）；默认使用系统中的文泉驿正黑等")
    s.set_defaults(func=cmd_sheet)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    status: int = args.func(args)
    return status
