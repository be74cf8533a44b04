"""What teachers look for beyond the averages, vectorised with polars:

- 赋分 (grade-based conversion of the re-chosen 3+1+2 / 3+3 subjects): students are graded by their share from
  the top, then each raw score is converted linearly within its grade's converted range:
  T = T1 + (Y − Y1)(T2 − T1) / (Y2 − Y1), Y1/Y2 the lowest/highest raw score in that grade, T1/T2 the grade's
  converted bounds, rounded half up; ties get the same grade (by the share strictly above them).
  Rule tables are data (`ConversionRule`), one per province's scheme.
- 临界生: students within a margin of a line (e.g. the 本科线 on the total), below or above it.
- 偏科: a subject whose z score lies well below the student's own mean z over his subjects.
- progress across two exams: rank change and z change (value added) per student.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import polars as pl


class RuleError(ValueError):
    pass


@dataclass(frozen=True)
class Grade:
    name: str
    share: float  # of the students, from the top
    low: int  # converted range, inclusive
    high: int


@dataclass(frozen=True)
class ConversionRule:
    name: str
    grades: tuple[Grade, ...]

    @classmethod
    def from_json(cls, data: str | dict[str, Any]) -> ConversionRule:
        """{"name": "…", "grades": [{"name": "A", "share": 0.15, "low": 86, "high": 100}, …]} → a checked rule."""
        raw = json.loads(data) if isinstance(data, str) else data
        try:
            grades = tuple(
                Grade(str(g["name"]), float(g["share"]), int(g["low"]), int(g["high"])) for g in raw["grades"]
            )
            name = str(raw.get("name") or "自定义赋分")
        except (KeyError, TypeError, ValueError) as exc:
            raise RuleError(f"赋分规则格式不对：每个等级需要 name、share、low、high（{exc}）") from None
        return cls(name, grades).checked()

    def checked(self) -> ConversionRule:
        if not self.grades:
            raise RuleError("赋分规则没有等级")
        total = sum(g.share for g in self.grades)
        if abs(total - 1) > 1e-6:
            raise RuleError(f"赋分规则各等级比例之和应为 100%，实为 {total * 100:g}%")
        for g in self.grades:
            if not (0 < g.share <= 1) or g.low > g.high:
                raise RuleError(f"等级 {g.name}：比例应在 0–100% 之间，且赋分下限不高于上限")
        for upper, lower in zip(self.grades, self.grades[1:], strict=False):
            if lower.high >= upper.low:
                raise RuleError(f"等级 {lower.name} 的赋分区间应低于 {upper.name}")
        return self


# The 3+1+2 scheme of most provinces since 2021 (广东, 湖南, 湖北, 河北, 辽宁, 江苏, 福建, 重庆 …)
GAOKAO_312 = ConversionRule(
    "3+1+2 等级赋分（A 15% / B 35% / C 35% / D 13% / E 2%，30–100 分）",
    (
        Grade("A", 0.15, 86, 100),
        Grade("B", 0.35, 71, 85),
        Grade("C", 0.35, 56, 70),
        Grade("D", 0.13, 41, 55),
        Grade("E", 0.02, 30, 40),
    ),
)
# 山东 3+3: eight grades, 21–100
SHANDONG_33 = ConversionRule(
    "山东 3+3 等级赋分（八个等级，21–100 分）",
    (
        Grade("A", 0.03, 91, 100),
        Grade("B+", 0.07, 81, 90),
        Grade("B", 0.16, 71, 80),
        Grade("C+", 0.24, 61, 70),
        Grade("C", 0.24, 51, 60),
        Grade("D+", 0.16, 41, 50),
        Grade("D", 0.07, 31, 40),
        Grade("E", 0.03, 21, 30),
    ),
)
RULES = {"312": GAOKAO_312, "shandong": SHANDONG_33}


def convert(df: pl.DataFrame, value: str, rule: ConversionRule, by: tuple[str, ...] = ("subject",)) -> pl.DataFrame:
    """`df` with `grade` and `converted` for every non-null `value`, within each group of `by`."""
    v = pl.col(value)
    cumulative: list[float] = []
    acc = 0.0
    for g in rule.grades:
        acc += g.share
        cumulative.append(acc)
    cumulative[-1] = 1.0 + 1e-9  # the last grade takes everyone left, whatever the rounding
    n = v.count().over(*by) if by else v.count()
    above = (v.rank("min", descending=True).over(*by) if by else v.rank("min", descending=True)) - 1
    share_above = above.cast(pl.Float64) / n
    # the grade: how many cumulative shares the students strictly above already fill (ties share a grade)
    index = pl.sum_horizontal(*[(share_above >= c - 1e-12).cast(pl.Int32) for c in cumulative[:-1]])
    names = pl.Series([g.name for g in rule.grades])
    lows = pl.Series([float(g.low) for g in rule.grades])
    highs = pl.Series([float(g.high) for g in rule.grades])
    out = df.with_columns(pl.when(v.is_not_null()).then(index).alias("_grade_index"))
    keys = [*by, "_grade_index"]
    y1, y2 = v.min().over(*keys), v.max().over(*keys)
    t1 = pl.col("_grade_index").replace_strict(list(range(len(rule.grades))), lows, return_dtype=pl.Float64)
    t2 = pl.col("_grade_index").replace_strict(list(range(len(rule.grades))), highs, return_dtype=pl.Float64)
    t = pl.when(y2 > y1).then(t1 + (v - y1) * (t2 - t1) / (y2 - y1)).otherwise(t2)
    return out.with_columns(
        pl.col("_grade_index")
        .replace_strict(list(range(len(rule.grades))), names, return_dtype=pl.Utf8)
        .alias("grade"),
        (t + 0.5 + 1e-9).floor().cast(pl.Int64).alias("converted"),  # 四舍五入 (half up)
    ).drop("_grade_index")


def near_line(students: pl.DataFrame, value: str, line: float, margin: float) -> pl.DataFrame:
    """临界生: students whose `value` is within `margin` of `line` (either side), nearest first, with the gap
    (negative below the line)."""
    v = pl.col(value)
    return (
        students.filter(v.is_not_null() & ((v - line).abs() <= margin))
        .with_columns((v - line).alias("gap"))
        .sort(pl.col("gap").abs(), "gap")
    )


def imbalance(scores: pl.DataFrame, threshold: float = 1.0) -> pl.DataFrame:
    """偏科: per student and subject (from the analysis' per-subject table with z), the subjects whose z is
    `threshold` or more below the student's mean z over the subjects he sat, weakest first."""
    z = pl.col("z")
    return (
        scores.filter(z.is_not_null())
        .with_columns(z.mean().over("student_id").alias("mean_z"), pl.len().over("student_id").alias("_n"))
        .with_columns((z - pl.col("mean_z")).alias("gap"))
        .filter((pl.col("_n") > 1) & (pl.col("gap") <= -threshold))
        .drop("_n")
        .sort("student_id", "gap")
    )


def progress(previous: pl.DataFrame, current: pl.DataFrame, rank: str = "rank_all") -> pl.DataFrame:
    """Two exams' student tables (student_id, `rank`, z): rank change (positive = moved up) and z change
    (value added against the cohort), for the students in both."""
    prev = previous.select("student_id", pl.col(rank).alias("rank_before"), pl.col("z").alias("z_before"))
    now = current.select("student_id", pl.col(rank).alias("rank_now"), pl.col("z").alias("z_now"))
    return (
        prev.join(now, on="student_id", how="inner")
        .with_columns(
            (pl.col("rank_before") - pl.col("rank_now")).alias("rank_change"),
            (pl.col("z_now") - pl.col("z_before")).alias("z_change"),
        )
        .sort("rank_change", descending=True, nulls_last=True)
    )
