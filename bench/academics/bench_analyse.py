"""A county joint exam (联考) analysed by our engine (polars) beside a plain pandas implementation of the same
figures, on the same generated data, in one run; the numbers must agree.

    .venv/bin/python bench/academics/bench_analyse.py [--students 50000] [--subjects 9] [--items 40]
        [--repeats 3] [--out bench/academics/results.json]

Data (numpy, seeded): schools of ~1,000 students in classes of ~50; each student an ability, each item a
difficulty and discrimination (a 2-parameter logistic model); per subject the first 60 % of the items are
objective (scored 0 or full, with the option marked) and the rest written (partial marks in half points);
a few 缺考. The full analysis = per subject and total at all/school/class (count, mean, median, std, max, min,
rates at 85/60/40 %), ranks of every student in class/school/all for every subject and the total, z and T
scores, item difficulty, point-biserial and 27 % discrimination, option choices, score rate per knowledge point
(overall and per class), the one-point table of the total. Timed: from the in-memory tables to all figures
(reading files is not part of it); the medians of `--repeats` runs, alternating ours and pandas.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from zhixiao.academics.engine.analysis import Lines, analyse  # noqa: E402
from zhixiao.academics.engine.items import analyse_items, one_point_table  # noqa: E402
from zhixiao.academics.engine.scores import Scores  # noqa: E402

SUBJECT_NAMES = ["语文", "数学", "英语", "物理", "化学", "生物", "政治", "历史", "地理", "技术", "音乐", "美术"]
FULL = {"语文": 150, "数学": 150, "英语": 150}


def generate(students: int, subjects: int, items: int, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    sid = np.arange(students)
    school = sid // 1000
    klass = (sid % 1000) // 50
    theta = rng.normal(0, 1, students) + rng.normal(0, 0.3, school.max() + 1)[school]
    rows: dict[str, list[Any]] = {k: [] for k in ("student", "subject", "item", "score", "full", "option", "kp")}
    names = SUBJECT_NAMES[:subjects]
    n_obj = int(items * 0.6)
    for s_name in names:
        full_total = FULL.get(s_name, 100)
        obj_full = np.full(n_obj, 3.0)
        written = items - n_obj
        rest = full_total - obj_full.sum()
        w_full = np.full(written, rest / written)
        item_full = np.concatenate([obj_full, w_full])
        b = rng.normal(0, 1, items)
        a = rng.uniform(0.5, 2.0, items)
        p = 1 / (1 + np.exp(-a[None, :] * (theta[:, None] - b[None, :])))
        right = rng.random((students, items)) < p
        score = np.where(right, item_full[None, :], 0.0)
        partial = np.round(p[:, n_obj:] * w_full[None, :] * 2 + rng.normal(0, 0.5, (students, written))) / 2
        score[:, n_obj:] = np.clip(partial, 0, w_full[None, :])
        options = np.array(list("ABCD"))
        key = rng.integers(0, 4, n_obj)
        wrong_pick = (key[None, :] + rng.integers(1, 4, (students, n_obj))) % 4
        picked = np.where(right[:, :n_obj], key[None, :], wrong_pick)
        opt = np.full((students, items), None, dtype=object)
        opt[:, :n_obj] = options[picked]
        rows["student"].append(np.repeat(sid, items))
        rows["subject"].append(np.full(students * items, s_name))
        rows["item"].append(np.tile(np.arange(1, items + 1), students))
        rows["score"].append(score.ravel())
        rows["full"].append(np.tile(item_full, students))
        rows["option"].append(opt.ravel())
        rows["kp"].append(np.tile([f"知识点{(i % 8) + 1}" for i in range(items)], students))
    item_frame = pl.DataFrame(
        {
            "student_id": np.concatenate(rows["student"]),
            "subject": np.concatenate(rows["subject"]),
            "item": np.concatenate(rows["item"]).astype(str),
            "score": np.concatenate(rows["score"]),
            "full_marks": np.concatenate(rows["full"]),
            "option": pl.Series(np.concatenate(rows["option"]), dtype=pl.Utf8),
            "knowledge": np.concatenate(rows["kp"]),
        }
    ).with_columns(pl.col("student_id").cast(pl.Utf8), pl.col("subject").cast(pl.Utf8))
    totals = item_frame.group_by("student_id", "subject").agg(pl.col("score").sum(), pl.col("full_marks").sum())
    people = pl.DataFrame(
        {
            "student_id": sid.astype(str),
            "school": [f"第{s + 1}中学" for s in school],
            "class": [f"高三({k + 1})班" for k in klass],
        }
    )
    absent = rng.random(totals.height) < 0.003
    scores = (
        totals.join(people, on="student_id")
        .with_columns(
            pl.when(pl.Series(absent)).then(None).otherwise(pl.col("score")).alias("score"),
            pl.when(pl.Series(absent)).then(pl.lit("absent")).otherwise(pl.lit("sat")).alias("status"),
        )
        .select("school", "class", "student_id", "subject", "score", "full_marks", "status")
        .sort("student_id", "subject")
    )
    return scores, item_frame


def to_pd(df: pl.DataFrame) -> pd.DataFrame:
    """polars → pandas without pyarrow: column by column through numpy."""
    return pd.DataFrame({name: df.get_column(name).to_numpy() for name in df.columns})


def ours(scores: pl.DataFrame, items: pl.DataFrame) -> dict[str, Any]:
    a = analyse(Scores(scores), Lines())
    classes = a.students.select("student_id", "class_key")
    it = analyse_items(items, classes)
    opt = one_point_table(a.students, "total")
    return {"analysis": a, "items": it, "one_point": opt}


def with_pandas(scores: pd.DataFrame, items: pd.DataFrame) -> dict[str, Any]:
    """The same figures in plain pandas (groupby, rank, merge)."""
    lines = (85.0, 60.0, 40.0)
    s = scores.copy()
    shared = (s.groupby("class")["school"].nunique() > 1).any()
    s["class_key"] = s["school"] + "/" + s["class"] if shared else s["class"]

    def figures(g: pd.DataFrame, value: str, full: str) -> pd.Series:
        v = g[value].dropna()
        f = g.loc[v.index, full]
        n = len(v)
        return pd.Series(
            {
                "count": n,
                "mean": v.mean(),
                "median": v.median(),
                "std": v.std(ddof=0),
                "max": v.max(),
                "min": v.min(),
                "excellent_rate": (v * 100 >= f * lines[0]).sum() / n if n else np.nan,
                "pass_rate": (v * 100 >= f * lines[1]).sum() / n if n else np.nan,
                "low_rate": (v * 100 < f * lines[2]).sum() / n if n else np.nan,
            }
        )

    stats = {}
    for level, keys in (("all", []), ("school", ["school"]), ("class", ["class_key"])):
        stats[level] = s.groupby(["subject", *keys]).apply(figures, "score", "full_marks", include_groups=False)
    counted = s[s["status"] != "exempt"]
    st = counted.groupby("student_id").agg(
        school=("school", "first"),
        class_key=("class_key", "first"),
        total=("score", "sum"),
        total_full=("full_marks", "sum"),
        missing=("score", lambda x: x.isna().sum()),
    )
    st.loc[st["missing"] > 0, "total"] = np.nan
    for level, keys in (("all", []), ("school", ["school"]), ("class", ["class_key"])):
        if keys:
            stats["total_" + level] = st.groupby(keys).apply(figures, "total", "total_full", include_groups=False)
        else:
            stats["total_all"] = figures(st, "total", "total_full")
    st["rank_class"] = st.groupby("class_key")["total"].rank(method="min", ascending=False)
    st["rank_school"] = st.groupby("school")["total"].rank(method="min", ascending=False)
    st["rank_all"] = st["total"].rank(method="min", ascending=False)
    st["z"] = (st["total"] - st["total"].mean()) / st["total"].std(ddof=0)
    for col, keys in (("rank_class", ["subject", "class_key"]), ("rank_school", ["subject", "school"])):
        s[col] = s.groupby(keys)["score"].rank(method="min", ascending=False)
    s["rank_all"] = s.groupby("subject")["score"].rank(method="min", ascending=False)
    g = s.groupby("subject")["score"]
    s["z"] = (s["score"] - g.transform("mean")) / g.transform(lambda x: x.std(ddof=0))
    # items
    it = items
    tot = it.groupby(["student_id", "subject"], as_index=False)["score"].sum().rename(columns={"score": "st"})
    n = tot.groupby("subject")["st"].transform("size")
    k = np.ceil(n * 0.27)
    down = tot.groupby("subject")["st"].rank(method="first", ascending=False)
    up = tot.groupby("subject")["st"].rank(method="first", ascending=True)
    tot["group"] = np.where(down <= k, 1, np.where(up <= k, -1, 0))
    df = it.merge(tot, on=["student_id", "subject"], how="left")
    df["xy"] = df["score"] * df["st"]
    df["xx"] = df["score"] ** 2
    df["yy"] = df["st"] ** 2
    grp = df.groupby(["subject", "item"], sort=False)
    agg = grp.agg(
        full_marks=("full_marks", "first"),
        count=("score", "count"),
        mean=("score", "mean"),
        sx=("score", "sum"),
        sy=("st", "sum"),
        sxy=("xy", "sum"),
        sxx=("xx", "sum"),
        syy=("yy", "sum"),
    )
    cnt = agg["count"]
    cov = agg["sxy"] / cnt - (agg["sx"] / cnt) * (agg["sy"] / cnt)
    vx = agg["sxx"] / cnt - (agg["sx"] / cnt) ** 2
    vy = agg["syy"] / cnt - (agg["sy"] / cnt) ** 2
    agg["point_biserial"] = cov / np.sqrt(vx * vy)
    agg["difficulty"] = agg["mean"] / agg["full_marks"]
    upper = df[df["group"] == 1].groupby(["subject", "item"])["score"].mean()
    lower = df[df["group"] == -1].groupby(["subject", "item"])["score"].mean()
    agg["discrimination"] = (upper - lower) / agg["full_marks"]
    options = df[df["option"].notna()].groupby(["subject", "item", "option"]).size().rename("count").reset_index()
    options["share"] = options["count"] / options.groupby(["subject", "item"])["count"].transform("sum")
    kp = df.groupby(["subject", "knowledge"]).agg(s=("score", "sum"), f=("full_marks", "sum"))
    kp["score_rate"] = kp["s"] / kp["f"]
    kc = df.merge(st[["class_key"]], left_on="student_id", right_index=True)
    kpc = kc.groupby(["subject", "class_key", "knowledge"]).agg(s=("score", "sum"), f=("full_marks", "sum"))
    kpc["score_rate"] = kpc["s"] / kpc["f"]
    one = st["total"].dropna().value_counts().sort_index(ascending=False)
    one_point = pd.DataFrame({"count": one, "at_or_above": one.cumsum()})
    return {
        "stats": stats,
        "students": st,
        "scores": s,
        "items": agg,
        "options": options,
        "kp": kp,
        "kpc": kpc,
        "one_point": one_point,
    }


def compare(ours_out: dict[str, Any], pd_out: dict[str, Any]) -> dict[str, Any]:
    """The same numbers? Max absolute difference per family of figures (0 or float rounding)."""
    a = ours_out["analysis"]
    diffs: dict[str, float] = {}
    st = a.stats
    for level in ("all", "school", "class"):
        theirs = pd_out["stats"][level].reset_index()
        key = {"all": None, "school": "school", "class": "class_key"}[level]
        mine = to_pd(st.filter((pl.col("level") == level) & (pl.col("subject") != "total")))
        if key:
            theirs = theirs.rename(columns={key: "key"})
        else:
            mine = mine.drop(columns=["key"])
        merged = mine.merge(theirs, on=["subject", "key"] if key else ["subject"], suffixes=("", "_pd"))
        assert len(merged) == len(mine) == len(theirs), level
        for c in ("count", "mean", "median", "std", "max", "min", "excellent_rate", "pass_rate", "low_rate"):
            diffs[f"subject_{level}_{c}"] = float(np.nanmax(np.abs(merged[c].astype(float) - merged[c + "_pd"])))
    students = to_pd(a.students).set_index("student_id").sort_index()
    theirs = pd_out["students"].sort_index()
    for c in ("total", "rank_class", "rank_school", "rank_all", "z"):
        diffs["student_" + c] = float(np.nanmax(np.abs(students[c].astype(float) - theirs[c].astype(float))))
    sc = to_pd(a.scores).sort_values(["student_id", "subject"]).reset_index(drop=True)
    ps = pd_out["scores"].sort_values(["student_id", "subject"]).reset_index(drop=True)
    for c in ("rank_class", "rank_school", "rank_all", "z"):
        diffs["score_" + c] = float(np.nanmax(np.abs(sc[c].astype(float) - ps[c].astype(float))))
    items = to_pd(ours_out["items"].items).set_index(["subject", "item"]).sort_index()
    pitems = pd_out["items"].sort_index()
    for c in ("count", "mean", "difficulty", "point_biserial", "discrimination"):
        diffs["item_" + c] = float(np.nanmax(np.abs(items[c].astype(float) - pitems[c].astype(float))))
    o = to_pd(ours_out["items"].options).set_index(["subject", "item", "option"]).sort_index()
    po = pd_out["options"].set_index(["subject", "item", "option"]).sort_index()
    diffs["option_share"] = float(np.max(np.abs(o["share"] - po["share"])))
    k = to_pd(ours_out["items"].knowledge).set_index(["subject", "knowledge"]).sort_index()
    diffs["knowledge_rate"] = float(np.max(np.abs(k["score_rate"] - pd_out["kp"].sort_index()["score_rate"])))
    kc = to_pd(ours_out["items"].knowledge_by_class).set_index(["subject", "class_key", "knowledge"])
    diffs["knowledge_class_rate"] = float(
        np.max(np.abs(kc.sort_index()["score_rate"] - pd_out["kpc"].sort_index()["score_rate"]))
    )
    op = to_pd(ours_out["one_point"]).set_index("total")
    diffs["one_point"] = float(np.max(np.abs(op["at_or_above"] - pd_out["one_point"]["at_or_above"])))
    return {"max_abs_difference": max(diffs.values()), "by_figure": diffs}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=50_000)
    ap.add_argument("--subjects", type=int, default=9)
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "academics" / "results.json"))
    args = ap.parse_args()
    t = time.perf_counter()
    scores, items = generate(args.students, args.subjects, args.items)
    gen = time.perf_counter() - t
    scores_pd = to_pd(scores)
    items_pd = to_pd(items)
    print(f"generated {scores.height:,} score rows and {items.height:,} item rows in {gen:.1f} s", flush=True)
    times: dict[str, list[float]] = {"ours": [], "pandas": []}
    out_ours = out_pd = None
    for r in range(args.repeats):
        t = time.perf_counter()
        out_ours = ours(scores, items)
        times["ours"].append(time.perf_counter() - t)
        t = time.perf_counter()
        out_pd = with_pandas(scores_pd, items_pd)
        times["pandas"].append(time.perf_counter() - t)
        print(f"run {r + 1}: ours {times['ours'][-1]:.2f} s, pandas {times['pandas'][-1]:.2f} s", flush=True)
    assert out_ours is not None and out_pd is not None
    check = compare(out_ours, out_pd)
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "polars": pl.__version__,
            "pandas": pd.__version__,
            "load_before": os.getloadavg(),
            "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        },
        "size": {
            "students": args.students,
            "subjects": args.subjects,
            "items": args.items,
            "score_rows": scores.height,
            "item_rows": items.height,
        },
        "seconds": times,
        "median_seconds": med,
        "speed_ratio": med["pandas"] / med["ours"],
        "same_numbers": check,
    }
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("median_seconds", "speed_ratio")}, ensure_ascii=False))
    print("max abs difference:", check["max_abs_difference"])


if __name__ == "__main__":
    main()
