"""`zhixiao omr …`: answer sheets and scans on files, without the web platform (no database, no settings).

    zhixiao omr sheet PAPER.json --out SHEET.pdf [--roster ROSTER.xlsx|csv] [--paper-size A4|A3] [--font F.ttc]
        writes SHEET.pdf and SHEET.layout.json beside it
    zhixiao omr read SHEET.layout.json SCANS... --out RESULTS.json [--workers N] [--key KEY.json] [--crops DIR]
        reads scans (JPEG, PNG, TIFF, PDF, ZIP); resumable: pages already in RESULTS.state.jsonl are not read again

Exit status: 0 on success, 2 for input we cannot use (every problem is printed, in Chinese). `read` exits 0
even when pages need review (they are listed in the results); 2 only for a bad layout, key or no scans.
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


def cmd_read(args: argparse.Namespace) -> int:
    import json
    import time

    from .engine.batch import run_batch
    from .engine.layout import LayoutError, load_layout

    try:
        layout = load_layout(Path(args.layout))
    except LayoutError as exc:
        print("无法读卡，版面文件有误：\n" + "\n".join(exc.problems), file=sys.stderr)
        return EXIT_BAD_INPUT
    key = None
    if args.key:
        try:
            key = {str(k): str(v) for k, v in json.loads(Path(args.key).read_text(encoding="utf-8")).items()}
        except (OSError, ValueError, AttributeError) as exc:
            print(f"无法读取答案文件 {args.key}：{exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
    out = Path(args.out)
    state = Path(args.state) if args.state else out.with_name(out.stem + ".state.jsonl")
    crops = None if args.no_crops else Path(args.crops) if args.crops else out.with_name(out.stem + ".crops")
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if not args.quiet and (now - last[0] >= 1.0 or done == total):
            last[0] = now
            print(f"\r读卡 {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)

    try:
        result = run_batch(
            layout, args.scans, state=state, workers=args.workers, crops_dir=crops, progress=progress, key=key
        )
    except ValueError as exc:  # a corrected key that does not fit the paper
        print(f"无法评分：{exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    data = result.to_json()
    data["layout"] = str(args.layout)
    data["crops_dir"] = str(crops) if crops else None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    if not args.quiet:
        s = result.summary
        print(
            f"已读 {s['pages']} 页（{s['files']} 个文件，{s['students']} 名考生）；"
            f"需复核的页 {s['pages_with_review']}，无法读取 {s['errors']}，批次复核项 {s['batch_review_items']}；"
            f"结果写入 {out}",
            file=sys.stderr,
        )
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
    r = sub.add_parser("read", help="读取扫描件（JPEG、PNG、TIFF、PDF、ZIP）：考号、客观题作答、作答区截图、复核项")
    r.add_argument("layout", help="答题卡版面文件 SHEET.layout.json")
    r.add_argument("scans", nargs="+", help="扫描文件或文件夹")
    r.add_argument("--out", required=True, help="结果 RESULTS.json")
    r.add_argument("--workers", type=int, default=0, help="并行进程数（默认：CPU 核数，最多 8）")
    r.add_argument("--key", help="更正后的答案 KEY.json（{题号: 答案}），代替版面中的答案重新评分")
    r.add_argument("--state", help="逐页进度文件（默认 RESULTS.state.jsonl）；再次运行时跳过已读的页")
    r.add_argument("--crops", help="作答区截图与复核页图片的目录（默认 RESULTS.crops/）")
    r.add_argument("--no-crops", action="store_true", help="不保存作答区截图")
    r.add_argument("--quiet", action="store_true", help="不显示进度")
    r.set_defaults(func=cmd_read)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    status: int = args.func(args)
    return status
