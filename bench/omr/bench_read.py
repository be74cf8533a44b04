"""Reading scans: accuracy against ground truth and pages per second, on synthetic scans of our own sheet.

    .venv/bin/python bench/omr/bench_read.py [--pages 2000] [--workers 2] [--seed 1] [--keep DIR]
        [--omrchecker PATH --omrchecker-python PATH/venv/bin/python]

Builds the example sheet (examples/omr/paper.json → PDF + layout), makes --pages pages (whole students' sets)
with engine/synth.py — random answers and IDs, faint, half-filled and erased marks, 150/200/300 dpi, turned
±5°, 15 % upside down, perspective, blur, noise, brightness/contrast, uneven light, JPEG 40–90 — then reads them
all with `run_batch` (the same code as `zhixiao omr read`, crops of the written answers included) and compares.

Figures: bubble accuracy (every option bubble: marked or not, as read, against the truth; also for the
questions that went to review and those that did not), student IDs read wrong (must be 0; unreadable ones go
to review), review rate, pages/s (wall clock of the whole batch, worker start-up included).

--omrchecker: OMRChecker (github.com/Udayraj123/OMRChecker) side by side on the same page-1 images. Give a
checkout kept outside this repository and the python of a separate venv holding its requirements; we write a
template.json for our sheet (one field block per question, the ID as ten integer columns, FeatureBasedAlignment
on a clean render of the sheet) and run its main.py. Its code never enters this repository.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from zhixiao.omr.engine.batch import run_batch  # noqa: E402
from zhixiao.omr.engine.layout import Layout, load_layout  # noqa: E402
from zhixiao.omr.engine.paper import load_paper  # noqa: E402
from zhixiao.omr.engine.sheet import make_sheet  # noqa: E402
from zhixiao.omr.engine.synth import ScanMaker, random_student, render_pdf  # noqa: E402

EXAMPLE = ROOT / "examples" / "omr" / "paper.json"
_gen: dict[str, Any] = {}


def _init_gen(layout_raw: dict[str, Any], pdf: bytes, out: str) -> None:
    cv2.setNumThreads(1)
    layout = load_layout(layout_raw)
    _gen.update(layout=layout, maker=ScanMaker.from_pdf(layout, pdf), out=Path(out))


def _make_student(seed: int) -> list[tuple[str, dict[str, Any]]]:
    layout: Layout = _gen["layout"]
    rng = random.Random(seed)
    st = random_student(layout, rng)
    made = []
    for page in range(1, layout.page_count + 1):
        jpeg, truth = _gen["maker"].scan(page, st, rng)
        name = f"s{seed:05d}-p{page}.jpg"
        (_gen["out"] / name).write_bytes(jpeg)
        truth["set_student_id"] = st.student_id
        made.append((name, truth))
    return made


def generate(layout: Layout, pdf: bytes, out: Path, pages: int, seed: int, workers: int) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    students = max(1, pages // layout.page_count)
    seeds = [seed * 1_000_000 + i for i in range(students)]
    truth: dict[str, Any] = {}
    ctx = multiprocessing.get_context("forkserver")
    with ctx.Pool(workers, initializer=_init_gen, initargs=(layout.raw, pdf, str(out))) as pool:
        for made in pool.imap(_make_student, seeds, chunksize=8):
            truth.update(made)
    return truth


def compare(layout: Layout, truth: dict[str, Any], pages: list[dict[str, Any]]) -> dict[str, Any]:
    by_name = {Path(p["file"]).name: p for p in pages}
    bubbles = wrong = wrong_accepted = accepted = single_bubbles = single_wrong = 0
    questions = questions_wrong = 0
    ids = ids_wrong = ids_unreadable = 0
    review_pages = 0
    errors_by: dict[str, int] = {}
    codes: dict[str, int] = {}
    examples: list[dict[str, Any]] = []
    for name, t in truth.items():
        rec = by_name[name]
        if rec.get("review"):
            review_pages += 1
        for r in rec.get("review") or []:
            codes[r["code"]] = codes.get(r["code"], 0) + 1
        if rec.get("page") != t["page"]:
            errors_by["page"] = errors_by.get("page", 0) + 1
            continue
        if t["student_id"] is not None:
            ids += 1
            if rec.get("student_id") is None:
                ids_unreadable += 1
            elif rec["student_id"] != t["student_id"]:
                ids_wrong += 1
                examples.append({"file": name, "id_read": rec.get("id_read"), "truth": t["student_id"]})
        reviewed = {r.get("question") for r in rec.get("review") or [] if r.get("question")}
        for q, want in t["answers"].items():
            got = (rec.get("answers") or {}).get(q)
            questions += 1
            options = layout.question(int(q)).options
            bad = sum(1 for o in options if (o in want) != (o in (got or "")))
            bubbles += len(options)
            wrong += bad
            if layout.question(int(q)).type != "multiple":
                single_bubbles += len(options)
                single_wrong += bad
            if int(q) not in reviewed:
                accepted += len(options)
                wrong_accepted += bad
            if bad:
                questions_wrong += 1
                d = t["distortion"]
                key = f"dpi {t['dpi']}" + (" upside-down" if d["upside_down"] else "")
                errors_by[key] = errors_by.get(key, 0) + 1
                if len(examples) < 20:
                    styles = {k: v for k, v in t["styles"].items() if k[: len(q)] == q and k[len(q) :].isalpha()}
                    examples.append(
                        {"file": name, "q": q, "want": want, "got": got, "fills": rec["fills"].get(q), "styles": styles}
                    )
    return {
        "pages": len(truth),
        "option_bubbles": bubbles,
        "bubbles_wrong": wrong,
        "bubble_accuracy_percent": round(100 * (1 - wrong / bubbles), 4) if bubbles else None,
        "bubble_accuracy_single_choice_percent": round(100 * (1 - single_wrong / single_bubbles), 4)
        if single_bubbles
        else None,
        "bubbles_not_sent_to_review": accepted,
        "bubbles_wrong_not_sent_to_review": wrong_accepted,
        "bubble_accuracy_not_sent_to_review_percent": round(100 * (1 - wrong_accepted / accepted), 4)
        if accepted
        else None,
        "questions": questions,
        "questions_wrong": questions_wrong,
        "student_ids": ids,
        "student_ids_wrong": ids_wrong,
        "student_ids_unreadable": ids_unreadable,
        "pages_with_review": review_pages,
        "review_rate_percent": round(100 * review_pages / len(truth), 2),
        "review_codes": dict(sorted(codes.items())),
        "errors_by": errors_by,
        "examples": examples,
    }


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import importlib.metadata as md

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "opencv": cv2.__version__,
        "numpy": np.__version__,
        "pypdfium2": md.version("pypdfium2"),
    }


# -- OMRChecker side by side ---------------------------------------------------------------------------------


def omrchecker_template(layout: Layout, px_per_mm: float) -> dict[str, Any]:
    """Our page 1 as an OMRChecker template: pixel positions at `px_per_mm` on the aligned page."""
    w, h = layout.page_size_mm
    bw, bh = 5.0, 3.5
    blocks: dict[str, Any] = {}
    opts = [b for b in layout.bubbles_on(1) if b.kind == "option"]
    for q in layout.questions:
        row = sorted((b for b in opts if b.question == q.no), key=lambda b: b.x)
        if not row:
            continue
        bw, bh = row[0].w, row[0].h
        gap = (row[1].x - row[0].x) if len(row) > 1 else bw
        blocks[f"q{q.no}"] = {
            "bubbleValues": [b.option for b in row],
            "direction": "horizontal",
            "fieldLabels": [f"q{q.no}"],
            "bubblesGap": round(gap * px_per_mm),
            "labelsGap": 0,
            "origin": [round((row[0].x - row[0].w / 2) * px_per_mm), round((row[0].y - row[0].h / 2) * px_per_mm)],
        }
    ids = sorted((b for b in layout.bubbles_on(1) if b.kind == "id"), key=lambda b: (b.position, b.digit))
    if ids:
        first = ids[0]
        col_gap = next(b.x for b in ids if b.position == 1) - first.x
        row_gap = next(b.y for b in ids if b.position == 0 and b.digit == 1) - first.y
        blocks["ID"] = {
            "fieldType": "QTYPE_INT",
            "fieldLabels": [f"id{i}" for i in range(1, layout.id_digits + 1)],
            "bubblesGap": round(row_gap * px_per_mm),
            "labelsGap": round(col_gap * px_per_mm),
            "origin": [round((first.x - first.w / 2) * px_per_mm), round((first.y - first.h / 2) * px_per_mm)],
        }
    return {
        "pageDimensions": [round(w * px_per_mm), round(h * px_per_mm)],
        "bubbleDimensions": [round(bw * px_per_mm), round(bh * px_per_mm)],
        "customLabels": {"Roll": [f"id1..{layout.id_digits}"]},
        "fieldBlocks": blocks,
        "preProcessors": [
            {"name": "FeatureBasedAlignment", "options": {"reference": "reference.png", "maxFeatures": 1000}}
        ],
    }


def run_omrchecker(
    checkout: Path, python: str, layout: Layout, pdf: bytes, scans: Path, truth: dict[str, Any], limit: int
) -> dict[str, Any]:
    px_per_mm = 4.0
    work = Path(tempfile.mkdtemp(prefix="omrchecker-"))
    inp, out = work / "inputs", work / "outputs"
    inp.mkdir()
    (inp / "template.json").write_text(json.dumps(omrchecker_template(layout, px_per_mm), indent=1))
    (inp / "config.json").write_text(
        json.dumps(
            {
                "dimensions": {
                    "processing_width": round(layout.page_size_mm[0] * px_per_mm),
                    "processing_height": round(layout.page_size_mm[1] * px_per_mm),
                },
                "outputs": {"show_image_level": 0},
            }
        )
    )
    ref = render_pdf(pdf, round(px_per_mm * 25.4))[0]
    cv2.imwrite(str(inp / "reference.png"), ref)
    names = [n for n, t in truth.items() if t["page"] == 1][:limit]
    for n in names:
        shutil.copy(scans / n, inp / n)
    # OMRChecker asks screeninfo for a monitor when imported; a headless server has none: a stand-in module
    # (ours, in the temporary folder) answers for it. OMRChecker itself runs unchanged.
    shim = work / "shim"
    (shim / "screeninfo").mkdir(parents=True)
    (shim / "screeninfo" / "__init__.py").write_text(
        "from types import SimpleNamespace\n\n\ndef get_monitors():\n"
        "    return [SimpleNamespace(width=1920, height=1080, x=0, y=0)]\n"
    )
    env = os.environ | {"PYTHONPATH": str(shim), "MPLBACKEND": "Agg"}
    t0 = time.monotonic()
    proc = subprocess.run(
        [python, "main.py", "-i", str(inp), "-o", str(out)],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=3600,
        env=env,
    )
    seconds = time.monotonic() - t0
    results = sorted(out.rglob("Results_*.csv"))
    rows: dict[str, dict[str, str]] = {}
    for r in results:
        with r.open(newline="") as fh:
            for row in csv.DictReader(fh):
                rows[Path(row.get("file_id") or row.get("input_path") or "").name] = row
    bubbles = wrong = ids_wrong = single_bubbles = single_wrong = 0
    for n in names:
        t, row = truth[n], rows.get(n)
        for q, want in t["answers"].items():
            question = layout.question(int(q))
            got = (row or {}).get(f"q{q}", "") or ""
            bad = sum(1 for o in question.options if (o in want) != (o in got)) if row else len(question.options)
            bubbles += len(question.options)
            wrong += bad
            if question.type != "multiple":
                single_bubbles += len(question.options)
                single_wrong += bad
        if not row or row.get("Roll", "") != t["student_id"]:
            ids_wrong += 1
    return {
        "returncode": proc.returncode,
        "stderr_tail": proc.stderr[-1500:],
        "pages": len(names),
        "pages_with_results": sum(1 for n in names if n in rows),
        "seconds": round(seconds, 2),
        "pages_per_second": round(len(names) / seconds, 2) if seconds else None,
        "option_bubbles": bubbles,
        "bubbles_wrong": wrong,
        "bubble_accuracy_percent": round(100 * (1 - wrong / bubbles), 4) if bubbles else None,
        "bubble_accuracy_single_choice_percent": round(100 * (1 - single_wrong / single_bubbles), 4)
        if single_bubbles
        else None,
        "student_ids_not_read_right": ids_wrong,
        "work_dir": str(work),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", help="keep the scans and results in this folder (default: a temporary one)")
    ap.add_argument("--reuse", action="store_true", help="with --keep: reuse scans made by an earlier run")
    ap.add_argument("--results", help="write the figures here (default bench/omr/results-<pages>.json)")
    ap.add_argument("--omrchecker", help="path of an OMRChecker checkout (outside this repository)")
    ap.add_argument("--omrchecker-python", default="python3", help="python of the venv with OMRChecker's requirements")
    ap.add_argument("--omrchecker-pages", type=int, default=200, help="page-1 images given to OMRChecker")
    args = ap.parse_args()

    info = machine()
    paper = load_paper(EXAMPLE)
    sheet = make_sheet(paper)
    layout = load_layout(sheet.layout())
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="omr-bench-"))
    scans = base / "scans"
    truth_file = base / "truth.json"
    if args.reuse and truth_file.exists():
        truth = json.loads(truth_file.read_text())
        gen_seconds = None
    else:
        if scans.exists():
            shutil.rmtree(scans)
        t0 = time.monotonic()
        truth = generate(layout, sheet.pdf, scans, args.pages, args.seed, args.workers)
        gen_seconds = round(time.monotonic() - t0, 1)
        truth_file.write_text(json.dumps(truth))
        print(f"generated {len(truth)} pages in {gen_seconds} s", file=sys.stderr)
    files = sorted(scans / n for n in truth)
    state = base / "state.jsonl"
    if state.exists():
        state.unlink()
    shutil.rmtree(base / "crops", ignore_errors=True)
    load_before = os.getloadavg()[0]
    t0 = time.monotonic()
    result = run_batch(layout, files, state=state, workers=args.workers, crops_dir=base / "crops")
    seconds = time.monotonic() - t0
    figures = compare(layout, truth, result.pages)
    read_times = sorted(p["seconds"] for p in result.pages)
    report = {
        "command": "bench/omr/bench_read.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": info,
        "load_average_before_reading": round(load_before, 2),
        "workers": args.workers,
        "generation_seconds": gen_seconds,
        "read_seconds": round(seconds, 2),
        "pages_per_second": round(len(files) / seconds, 1),
        "per_page_ms_median": round(1000 * read_times[len(read_times) // 2], 1),
        "per_page_ms_p99": round(1000 * read_times[int(len(read_times) * 0.99)], 1),
        "dpi_mix": {str(d): sum(1 for t in truth.values() if t["dpi"] == d) for d in (150, 200, 300)},
        "upside_down": sum(1 for t in truth.values() if t["distortion"]["upside_down"]),
        **figures,
        "batch_summary": result.summary,
        "batch_review": result.review[:10],
    }
    if args.omrchecker:
        report["omrchecker"] = run_omrchecker(
            Path(args.omrchecker), args.omrchecker_python, layout, sheet.pdf, scans, truth, args.omrchecker_pages
        )
    out = Path(args.results) if args.results else Path(__file__).with_name(f"results-{len(truth)}.json")
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    keys = [
        "pages_per_second",
        "bubble_accuracy_percent",
        "bubbles_wrong",
        "bubble_accuracy_not_sent_to_review_percent",
        "student_ids_wrong",
        "student_ids_unreadable",
        "review_rate_percent",
    ]
    print(json.dumps({k: report[k] for k in keys} | {"results": str(out)}, indent=1))
    ok = report["student_ids_wrong"] == 0 and figures["bubble_accuracy_percent"] >= 99.95
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
