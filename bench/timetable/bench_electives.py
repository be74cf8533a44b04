"""走班 benchmark: a generated 1,500-student senior grade (3+1+2, 30 行政班), its teaching classes and its whole week.

    .venv/bin/python bench/timetable/bench_electives.py [--students 1500] [--classes 30] [--repeats 3]

Each repeat (seeds seed, seed+1, …): `sample_grade.generate_grade` draws the students' combinations; then
`electives.form_teaching_classes` forms the teaching classes and blocks (timed: "form"); then
`sample_grade.build_week_problem` builds the week (5 days × 8 periods; 语数英, 体育 and the small subjects per
行政班, the elective blocks tied lesson by lesson, rooms locked) and `solver.solve` places it (timed: "solve",
with the seconds to the first complete timetable); `checker.check` counts the hard violations independently.
Target: formed and solved within 5 minutes in all on this 2-core machine. Prints one JSON document; exit
status 0 only when every repeat is solved with no hard violation within the target.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from typing import Any

from zhixiao.timetable.engine import checker, solver
from zhixiao.timetable.engine.electives import form_teaching_classes
from zhixiao.timetable.engine.sample_grade import build_week_problem, generate_grade

TARGET_SECONDS = 300.0


def one_run(args: argparse.Namespace, seed: int) -> dict[str, Any]:
    grade = generate_grade(args.students, args.classes, seed=seed, grouping=args.grouping)
    start = time.monotonic()
    plan = form_teaching_classes(grade.choices, grade.spec, time_limit=args.form_limit, seed=seed, workers=args.workers)
    form_seconds = time.monotonic() - start
    out: dict[str, Any] = {"seed": seed, "form_seconds": round(form_seconds, 2), "plan": plan.statistics()}
    out["plan"].pop("sizes")
    if not plan.feasible:
        out.update(solved=False, explanation=plan.explanation)
        return out
    problem = build_week_problem(grade, plan)
    start = time.monotonic()
    result = solver.solve(
        problem,
        time_limit=args.solve_limit,
        workers=args.workers,
        seed=seed,
        stop_after_first=args.first,
    )
    solve_seconds = time.monotonic() - start
    hard = checker.check(problem, result.solution)[0] if result.solution else None
    out.update(
        activities=len(problem.activities),
        constraints=len(problem.constraints),
        student_sets=len(problem.student_sets),
        teachers=len(problem.teachers),
        rooms=len(problem.rooms),
        solve_seconds=round(solve_seconds, 2),
        first_solution_seconds=result.first_solution_seconds and round(result.first_solution_seconds, 2),
        status=result.status,
        solved=result.solved,
        soft_cost=result.soft_cost,
        hard_violations=len(result.hard_violations),
        checker_hard_violations=None if hard is None else len(hard),
        total_seconds=round(form_seconds + solve_seconds, 2),
        explanation=result.explanation[:5],
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1500)
    parser.add_argument("--classes", type=int, default=30)
    parser.add_argument("--grouping", choices=["combination", "random"], default="combination")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--form-limit", type=float, default=60.0)
    parser.add_argument("--solve-limit", type=float, default=240.0)
    parser.add_argument("--first", action="store_true", help="stop the week's solve at its first timetable")
    args = parser.parse_args()
    runs = []
    for i in range(args.repeats):
        run = one_run(args, args.seed + i)
        runs.append(run)
        print(json.dumps(run, ensure_ascii=False), file=sys.stderr)
    ok = [r for r in runs if r.get("solved") and r.get("checker_hard_violations") == 0]
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "args": vars(args),
        "runs": runs,
        "median": {
            key: statistics.median(r[key] for r in runs if r.get(key) is not None)
            for key in ("form_seconds", "solve_seconds", "first_solution_seconds", "total_seconds")
            if any(r.get(key) is not None for r in runs)
        },
        "all_solved": len(ok) == len(runs),
        "within_target": all(r.get("total_seconds", 1e9) <= TARGET_SECONDS for r in runs),
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0 if report["all_solved"] and report["within_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
