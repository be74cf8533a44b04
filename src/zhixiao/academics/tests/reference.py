"""An independent, plain-Python statement of the report's figures (loops, statistics module), to check the
vectorised engine against, and a generator of realistic joint-exam score tables (Faker zh_CN names)."""

from __future__ import annotations

import csv
import io
import random
import statistics
from collections import defaultdict
from typing import Any

from faker import Faker

SUBJECTS = [("语文", 150), ("数学", 150), ("英语", 150), ("物理", 100), ("化学", 100), ("生物", 100)]


def generate_csv(*, schools: int = 3, classes: int = 3, students: int = 20, seed: int = 0, absent: float = 0.02) -> str:
    """A joint exam: schools × classes × students; scores drawn around a class level, some 缺考/作弊/免考,
    and deliberate ties (whole and half marks)."""
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["school", "class", "student_id", "subject", "score", "full_marks"])
    n = 0
    for _school in range(schools):
        school = fake.unique.city_name() + "中学"
        for c in range(classes):
            level = rng.uniform(0.45, 0.8)
            for _ in range(students):
                n += 1
                sid = f"2026{n:06d}"
                for subject, full in SUBJECTS:
                    roll = rng.random()
                    if roll < absent:
                        score = rng.choice(["", "缺考", "免考", "作弊"])
                    else:
                        value = min(full, max(0.0, rng.gauss(level * full, full * 0.15)))
                        score = str(round(value * 2) / 2).removesuffix(".0")
                    w.writerow([school, f"高三({c + 1})班", sid, subject, score, full])
    return out.getvalue()


def reference(csv_text: str, lines: tuple[float, float, float] = (85, 60, 40)) -> dict[str, Any]:
    """The same figures, row by row: subject and total stats per level, students' totals and ranks."""
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    names_by_class: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        names_by_class[r["class"]].add(r["school"])
    shared = any(len(v) > 1 for v in names_by_class.values())

    def key_of(r: dict[str, str]) -> str:
        return f"{r['school']}/{r['class']}" if shared else r["class"]

    status = {"": "absent", "缺考": "absent", "免考": "exempt", "作弊": "cheating"}
    subj: dict[str, list[tuple[dict[str, str], float | None, float]]] = defaultdict(list)
    per_student: dict[str, dict[str, Any]] = {}
    for r in rows:
        st = status.get(r["score"].strip(), "sat")
        score = float(r["score"]) if st == "sat" else (0.0 if st == "cheating" else None)
        full = float(r["full_marks"])
        subj[r["subject"]].append((r, score, full))
        s = per_student.setdefault(
            r["student_id"], {"school": r["school"], "key": key_of(r), "total": 0.0, "full": 0.0, "missing": 0}
        )
        if st == "exempt":
            continue
        s["full"] += full
        if score is None:
            s["missing"] += 1
        else:
            s["total"] += score

    def figures(values: list[tuple[float, float]]) -> dict[str, Any]:
        xs = [v for v, _f in values]
        if not xs:
            return {"count": 0}
        return {
            "count": len(xs),
            "mean": statistics.fmean(xs),
            "median": statistics.median(xs),
            "std": statistics.pstdev(xs),
            "max": max(xs),
            "min": min(xs),
            "excellent_rate": sum(v * 100 >= f * lines[0] for v, f in values) / len(xs),
            "pass_rate": sum(v * 100 >= f * lines[1] for v, f in values) / len(xs),
            "low_rate": sum(v * 100 < f * lines[2] for v, f in values) / len(xs),
        }

    def levels(items: list[tuple[str, str, float | None, float]]) -> dict[str, Any]:
        sat = [(school, key, v, f) for school, key, v, f in items if v is not None]
        by_school: dict[str, list[tuple[float, float]]] = defaultdict(list)
        by_class: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for school, key, v, f in sat:
            by_school[school].append((v, f))
            by_class[key].append((v, f))
        return {
            "all": figures([(v, f) for _s, _k, v, f in sat]),
            "school": {k: figures(v) for k, v in by_school.items()},
            "class": {k: figures(v) for k, v in by_class.items()},
        }

    out: dict[str, Any] = {"subjects": {}, "students": {}}
    for subject, items in subj.items():
        out["subjects"][subject] = levels([(r["school"], key_of(r), v, f) for r, v, f in items])
    totals = {
        sid: (s["school"], s["key"], s["total"] if s["missing"] == 0 else None, s["full"])
        for sid, s in per_student.items()
    }
    out["total"] = levels(list(totals.values()))

    def rank(value: float | None, peers: list[float | None]) -> int | None:
        return None if value is None else 1 + sum(1 for p in peers if p is not None and p > value)

    for sid, (school, key, total, _full) in totals.items():
        out["students"][sid] = {
            "total": total,
            "ranks": {
                "class": rank(total, [t for _s, k, t, _f in totals.values() if k == key]),
                "school": rank(total, [t for s, _k, t, _f in totals.values() if s == school]),
                "all": rank(total, [t for _s, _k, t, _f in totals.values()]),
            },
        }
    return out
