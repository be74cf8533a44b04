"""Our timetabler beside FET's own command line on FET's example files, same machine, same time limit.

    .venv/bin/python bench/timetable/bench_fet.py [--dir ../shared/fet-examples] [--time-limit 120]
        [--soft-seconds 20] [--repeats 1] [--only NAME ...] [--out bench/timetable/results-fet.json]

Per file and repeat, alternating (FET, then ours, so both see the same machine state):
- FET: `fet-cl --inputfile=F --timelimitseconds=T --outputdir=D`, killed by wall clock at T + 15 s (fet-cl
  can overrun its limit); solved = logs/result.txt says "Simulation successful"; seconds = the whole run's wall
  clock; its timetable is read back and judged by our checker (hard violations, broken soft constraints).
- Ours: `zhixiao timetable solve F --time-limit T --soft-seconds S --report R` in a fresh process; solved = exit 0
  (every hard constraint holds, checked by the independent checker); seconds to the first complete timetable =
  the process's start-up and file reading plus the solver's time to its first timetable; soft constraints broken
  by the first timetable and after S seconds more on the soft ones.
Soft constraints broken are counted the same way for both (our checker on each timetable), beside FET's own
count from its *_soft_conflicts.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from zhixiao.timetable.engine import checker, fet  # noqa: E402


def run_fet(path: Path, limit: float, work: Path) -> dict:
    out = work / "fet"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    t0 = time.monotonic()
    proc = subprocess.Popen(
        ["fet-cl", f"--inputfile={path}", f"--timelimitseconds={int(limit)}", f"--outputdir={out}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        proc.wait(timeout=limit + 15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    seconds = time.monotonic() - t0
    result = (out / "logs" / "result.txt").read_text(errors="replace") if (out / "logs" / "result.txt").exists() else ""
    solved = "Simulation successful" in result
    row = {"solved": solved, "seconds": round(seconds, 2)}
    if solved:
        imp = fet.read_fet(path)
        sol = fet.read_fet_solution(imp.problem, out)
        hard, soft = checker.check(imp.problem, sol)
        row.update(hard_violations=len(hard), soft_broken=len(soft), soft_cost=sum(v.cost for v in soft))
        conflicts = list(out.rglob("*_soft_conflicts.txt"))
        if conflicts:
            m = re.search(r"Number of broken soft constraints: (\d+)", conflicts[0].read_text(errors="replace"))
            if m:
                row["fet_soft_broken"] = int(m.group(1))
    else:
        m = (
            re.findall(r"(\d+) activities", (out / "logs" / "max_placed_activities.txt").read_text(errors="replace"))
            if (out / "logs" / "max_placed_activities.txt").exists()
            else []
        )
        if m:
            row["max_placed"] = max(int(x) for x in m)
    return row


def run_ours(path: Path, limit: float, soft_seconds: float, work: Path, workers: int) -> dict:
    report = work / "ours.json"
    report.unlink(missing_ok=True)
    t0 = time.monotonic()
    proc = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "zhixiao"),
            "timetable",
            "solve",
            str(path),
            "--time-limit",
            str(limit),
            "--soft-seconds",
            str(soft_seconds),
            "--workers",
            str(workers),
            "--report",
            str(report),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=limit + 120,
    )
    wall = time.monotonic() - t0
    data = json.loads(report.read_text()) if report.exists() else {}
    row = {"solved": proc.returncode == 0, "seconds": round(wall, 2), "status": data.get("status")}
    if data.get("first_solution_seconds") is not None:
        startup = wall - data["solver_seconds"]  # interpreter, imports, reading the file, writing the report
        row["first_seconds"] = round(startup + data["first_solution_seconds"], 2)
        row.update(
            hard_violations=len(data["hard_violations"]),
            first_soft_broken=data["first_soft_broken"],
            soft_broken=data["soft_broken"],
            soft_cost=data["soft_cost"],
        )
    else:
        row["explanation"] = data.get("explanation", [])[:3]
    return row


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=str(ROOT.parent / "shared" / "fet-examples"))
    ap.add_argument("--time-limit", type=float, default=120)
    ap.add_argument("--soft-seconds", type=float, default=20)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--skip-fet", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "bench" / "timetable" / "results-fet.json"))
    args = ap.parse_args()
    files = sorted(Path(args.dir).glob("*.fet"), key=lambda p: p.stat().st_size)
    if args.only:
        files = [f for f in files if any(o in f.name for o in args.only)]
    machine = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "fet": subprocess.run(["fet-cl", "--version"], capture_output=True, text=True).stdout.strip()[:80],
        "load_before": os.getloadavg(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for f in files:
            for r in range(args.repeats):
                row = {"file": f.name, "repeat": r}
                if not args.skip_fet:
                    row["fet"] = run_fet(f, args.time_limit, work)
                row["ours"] = run_ours(f, args.time_limit, args.soft_seconds, work, args.workers)
                row["load"] = os.getloadavg()[0]
                rows.append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)
    summary = summarise(rows)
    Path(args.out).write_text(json.dumps({"machine": machine, "rows": rows, "summary": summary}, indent=1) + "\n")
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0


def summarise(rows: list[dict]) -> dict:
    fet_solved = [r for r in rows if r.get("fet", {}).get("solved")]
    ours_solved = [r for r in rows if r["ours"]["solved"]]
    both = [r for r in fet_solved if r["ours"]["solved"]]
    return {
        "runs": len(rows),
        "fet_solved": len(fet_solved),
        "ours_solved": len(ours_solved),
        "fet_solved_ours_not": sorted({r["file"] for r in fet_solved if not r["ours"]["solved"]}),
        "median_fet_seconds_on_fet_solved": statistics.median([r["fet"]["seconds"] for r in fet_solved])
        if fet_solved
        else None,
        "median_ours_first_seconds_on_fet_solved": statistics.median(
            [r["ours"].get("first_seconds", r["ours"]["seconds"]) for r in fet_solved]
        )
        if fet_solved
        else None,
        "median_ours_first_seconds_on_both_solved": statistics.median([r["ours"]["first_seconds"] for r in both])
        if both
        else None,
        "median_fet_seconds_on_both_solved": statistics.median([r["fet"]["seconds"] for r in both]) if both else None,
    }


if __name__ == "__main__":
    sys.exit(main())
