"""Score analysis (学业评价) on checked Scores, vectorised with polars (no Python loop over students): per
subject and for the total, at the levels all / school / class — count, mean, median, population std, max,
min, the excellent / pass / low rates at the school's lines; per student the total and the ranks in class,
school and all (ties share the lower rank: 1, 2, 2, 4); z and T scores.

Conventions (stated, as schools differ):
- A rate is a fraction of the students who sat: excellent = score ≥ excellent line, pass = score ≥ pass line,
  low = score < low line; lines are percentages of the subject's full marks (of the student's total full marks
  for the total, which differs between 3+1+2 combinations).
- 缺考 and 免考 are left out of a subject's figures; 作弊 counts as 0. A student absent from any of his subjects
  has no total (and no total rank) unless `absent_as_zero`, when the missing subjects count as 0.
- Classes are keyed by their name when no two schools share a class name, else by "school/class"
  (`class_key` in the report says which).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from .scores import Scores

LEVELS = ("all", "school", "class")
TOTAL = "total"


class LinesError(ValueError):
    pass


@dataclass(frozen=True)
class Lines:
    """The school's lines, in percent of full marks (优秀线, 及格线, 低分线)."""

    excellent: float = 85.0
    passing: float = 60.0
    low: float = 40.0

    @classmethod
    def parse(cls, text: str) -> Lines:
        """ "85,60,40" → Lines; a clear Chinese error for anything else."""
        parts = [p.strip() for p in text.replace("，", ",").split(",")]
        try:
            values = [float(p.rstrip("%")) for p in parts]
        except ValueError:
            raise LinesError(f"分数线“{text}”应为三个百分数，例如 85,60,40（优秀、及格、低分）") from None
        if len(values) != 3:
            raise LinesError(f"分数线“{text}”应为三个百分数（优秀、及格、低分），实为 {len(values)} 个")
        excellent, passing, low = values
        if not (100 >= excellent >= passing >= low >= 0):
            raise LinesError(f"分数线应满足 100 ≥ 优秀 ≥ 及格 ≥ 低分 ≥ 0，实为 {text}")
        return cls(excellent, passing, low)


def _stats(value: str, full: str, lines: Lines) -> list[pl.Expr]:
    """The figures of one group: over the non-null `value`s, lines against each row's `full`."""
    v, f = pl.col(value), pl.col(full)
    sat = v.is_not_null()
    n = sat.sum()
    # compare in percent × full marks: exact for whole and half marks (no 0.85 × 150 = 127.4999…)
    return [
        n.alias("count"),
        v.mean().alias("mean"),
        v.median().alias("median"),
        v.std(ddof=0).alias("std"),
        v.max().alias("max"),
        v.min().alias("min"),
        ((v * 100 >= f * lines.excellent) & sat).sum().truediv(n).alias("excellent_rate"),
        ((v * 100 >= f * lines.passing) & sat).sum().truediv(n).alias("pass_rate"),
        ((v * 100 < f * lines.low) & sat).sum().truediv(n).alias("low_rate"),
    ]


STAT_COLUMNS = ("count", "mean", "median", "std", "max", "min", "excellent_rate", "pass_rate", "low_rate")


@dataclass(frozen=True)
class Analysis:
    """The analysis as tables (for pages and exports) — `to_report()` gives the CLI's JSON."""

    lines: Lines
    class_key: str  # "class" or "school/class"
    subjects: list[str]
    full_marks: dict[str, float]
    stats: pl.DataFrame  # subject (incl. TOTAL), level, key, STAT_COLUMNS
    scores: pl.DataFrame  # per student and subject: score, z, t, ranks (class/school/all)
    students: pl.DataFrame  # per student: school, class, class_key, total, total_full, complete, ranks, z, t


def analyse(scores: Scores, lines: Lines | None = None, *, absent_as_zero: bool = False) -> Analysis:
    lines = lines or Lines()
    df = scores.frame
    subjects = scores.subjects
    full_marks = dict(df.group_by("subject").agg(pl.col("full_marks").first()).iter_rows())
    shared = df.group_by("class").agg(pl.col("school").n_unique().alias("n")).filter(pl.col("n") > 1).height
    class_key = "school/class" if shared else "class"
    key_expr = pl.concat_str("school", pl.lit("/"), "class") if class_key == "school/class" else pl.col("class")
    df = df.with_columns(key_expr.alias("class_key"))
    if absent_as_zero:
        df = df.with_columns(
            pl.when(pl.col("status").is_in(["absent"])).then(0.0).otherwise(pl.col("score")).alias("score")
        )
    # per student: the total over his subjects (exempt subjects do not count against him)
    counted = df.filter(pl.col("status") != "exempt")
    students = counted.group_by("student_id", maintain_order=True).agg(
        pl.col("school").first(),
        pl.col("class").first(),
        pl.col("class_key").first(),
        pl.col("score").sum().alias("total"),
        pl.col("full_marks").sum().alias("total_full"),
        pl.col("score").is_null().sum().alias("missing"),
        pl.col("subject").len().alias("subjects"),
    )
    students = students.with_columns(
        pl.when(pl.col("missing") == 0).then(pl.col("total")).alias("total"),
        (pl.col("missing") == 0).alias("complete"),
    )
    students = _with_ranks(students, "total", ())
    students = _with_z(students, "total", ())
    per_subject = _with_ranks(df, "score", ("subject",))
    per_subject = _with_z(per_subject, "score", ("subject",))
    # figures per level
    frames = []
    for level in LEVELS:
        keys = {"all": [], "school": ["school"], "class": ["class_key"]}[level]
        by_subject = df.group_by(["subject", *keys]).agg(_stats("score", "full_marks", lines))
        if keys:
            by_total = students.group_by(keys).agg(_stats("total", "total_full", lines))
        else:
            by_total = students.select(_stats("total", "total_full", lines))
        key_col = pl.col(keys[0]) if keys else pl.lit("all")
        frames.append(
            by_subject.select(pl.col("subject"), pl.lit(level).alias("level"), key_col.alias("key"), *STAT_COLUMNS)
        )
        frames.append(
            by_total.select(
                pl.lit(TOTAL).alias("subject"), pl.lit(level).alias("level"), key_col.alias("key"), *STAT_COLUMNS
            )
        )
    stats = pl.concat(frames).sort("subject", "level", "key")
    return Analysis(lines, class_key, subjects, full_marks, stats, per_subject, students)


def _with_ranks(df: pl.DataFrame, value: str, by: tuple[str, ...]) -> pl.DataFrame:
    """Ranks in class, school and all (within `by`): highest first, ties share the lower rank (1, 2, 2, 4)."""
    rank = pl.col(value).rank("min", descending=True)
    return df.with_columns(
        rank.over(*by, "class_key").cast(pl.Int64).alias("rank_class"),
        rank.over(*by, "school").cast(pl.Int64).alias("rank_school"),
        (rank.over(*by) if by else rank).cast(pl.Int64).alias("rank_all"),
    )


def _with_z(df: pl.DataFrame, value: str, by: tuple[str, ...]) -> pl.DataFrame:
    """z = (score − mean) / population std over all who sat (within `by`); T = 50 + 10 z."""
    v = pl.col(value)
    mean, std = v.mean(), v.std(ddof=0)
    if by:
        mean, std = mean.over(*by), std.over(*by)
    z = pl.when(std > 0).then((v - mean) / std).otherwise(pl.when(v.is_not_null()).then(0.0))
    return df.with_columns(z.alias("z")).with_columns((50 + 10 * pl.col("z")).alias("t"))


# --- the report (the CLI's JSON) ----------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN: a group where nobody sat
        return None
    return value


def to_report(a: Analysis) -> dict[str, Any]:
    """REPORT.json: per subject and the total, figures at each level (keyed by name), and per student the
    total and ranks (class, school, all) with each subject's score and ranks."""
    report: dict[str, Any] = {
        "lines": {"excellent": a.lines.excellent, "pass": a.lines.passing, "low": a.lines.low},
        "class_key": a.class_key,
        "subjects": {},
        TOTAL: {},
    }
    for subject in [*a.subjects, TOTAL]:
        block: dict[str, Any] = {"full_marks": a.full_marks[subject]} if subject != TOTAL else {"full_marks": None}
        rows = a.stats.filter(pl.col("subject") == subject)
        for level in LEVELS:
            figures = {
                rec["key"]: {c: _clean(rec[c]) for c in STAT_COLUMNS}
                for rec in rows.filter(pl.col("level") == level).iter_rows(named=True)
            }
            block[level] = figures["all"] if level == "all" else figures
        if subject == TOTAL:
            fulls = a.students.get_column("total_full").unique()
            block["full_marks"] = fulls.item() if fulls.len() == 1 else None
            report[TOTAL] = block
        else:
            report["subjects"][subject] = block
    per_subject = (
        a.scores.select(
            "student_id",
            "subject",
            pl.struct(
                "score",
                "status",
                pl.struct(
                    pl.col("rank_class").alias("class"),
                    pl.col("rank_school").alias("school"),
                    pl.col("rank_all").alias("all"),
                ).alias("ranks"),
            ).alias("entry"),
        )
        .group_by("student_id", maintain_order=True)
        .agg(pl.col("subject"), pl.col("entry"))
    )
    students = a.students.join(per_subject, on="student_id", how="left", maintain_order="left")
    report["students"] = {
        rec["student_id"]: {
            "school": rec["school"],
            "class": rec["class"],
            "total": rec["total"],
            "complete": rec["complete"],
            "ranks": {"class": rec["rank_class"], "school": rec["rank_school"], "all": rec["rank_all"]},
            "subjects": dict(zip(rec["subject"], rec["entry"], strict=True)),
        }
        for rec in students.iter_rows(named=True)
    }
    return report
