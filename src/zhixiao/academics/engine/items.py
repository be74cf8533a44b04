"""Item analysis (试题分析) and score distributions, vectorised with polars.

Items: one row per student, subject and item — student_id, subject, item, score, full_marks, and optionally
option (what an objective item's student marked, e.g. "B" or "AC"; empty = blank) and knowledge (知识点).
- difficulty = mean ÷ full marks (the score rate: high = easy, as Chinese reports use 难度);
- point-biserial discrimination = Pearson r between the item's score and the student's subject total;
- 27 % discrimination = (mean of the top 27 % − mean of the bottom 27 % by subject total) ÷ full marks;
- option choices per objective item; score rate per knowledge point, overall and per class.
Distributions: score bands (分数段) and the one-point table (一分一段: per score, how many, and how many at or
above it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

GROUP = 0.27


@dataclass(frozen=True)
class ItemAnalysis:
    items: pl.DataFrame  # subject, item, full_marks, count, mean, difficulty, point_biserial, discrimination
    options: pl.DataFrame  # subject, item, option, count, share
    knowledge: pl.DataFrame  # subject, knowledge, score_rate, items
    knowledge_by_class: pl.DataFrame  # subject, class_key, knowledge, score_rate


def analyse_items(items: pl.DataFrame, classes: pl.DataFrame | None = None) -> ItemAnalysis:
    """`items` as above; `classes` (student_id, class_key) for knowledge points per class. One lazy plan,
    collected at once, so the join of items and totals is made once and the queries run side by side."""
    lf = items.lazy()
    totals = (
        lf.group_by("student_id", "subject")
        .agg(pl.col("score").sum().alias("subject_total"))
        .sort("student_id")
        # the top and bottom 27 % of each subject by total: a fixed size, ties at the boundary by student number
        .with_columns(
            pl.col("subject_total").rank("ordinal", descending=True).over("subject").alias("_down"),
            pl.col("subject_total").rank("ordinal").over("subject").alias("_up"),
            (pl.len().over("subject") * GROUP).ceil().cast(pl.UInt32).alias("_k"),
        )
        .with_columns(
            pl.when(pl.col("_down") <= pl.col("_k"))
            .then(pl.lit(1, pl.Int8))
            .when(pl.col("_up") <= pl.col("_k"))
            .then(pl.lit(-1, pl.Int8))
            .otherwise(pl.lit(0, pl.Int8))
            .alias("group")
        )
        .select("student_id", "subject", "subject_total", "group")
    )
    by_class = classes is not None and "knowledge" in items.columns
    if by_class:
        assert classes is not None
        totals = totals.join(classes.lazy(), on="student_id", how="left")
    df = lf.join(totals, on=["student_id", "subject"], how="left")
    score, full = pl.col("score"), pl.col("full_marks")
    queries = [
        df.group_by("subject", "item", maintain_order=True)
        .agg(
            full.first().alias("full_marks"),
            score.count().alias("count"),
            score.mean().alias("mean"),
            pl.corr(score, pl.col("subject_total")).alias("point_biserial"),
            score.filter(pl.col("group") == 1).mean().alias("_upper"),
            score.filter(pl.col("group") == -1).mean().alias("_lower"),
        )
        .with_columns(
            (pl.col("mean") / pl.col("full_marks")).alias("difficulty"),
            ((pl.col("_upper") - pl.col("_lower")) / pl.col("full_marks")).alias("discrimination"),
        )
        .drop("_upper", "_lower")
    ]
    if "option" in items.columns:
        queries.append(
            lf.filter(pl.col("option").is_not_null())
            .group_by("subject", "item", "option")
            .agg(pl.len().alias("count"))
            .with_columns(
                (pl.col("count") / pl.col("count").sum().over("subject", "item")).alias("share"),
                pl.col("option").replace("", "未作答"),
            )
            .sort("subject", "item", "option")
        )
    if "knowledge" in items.columns:
        marked = pl.col("knowledge").is_not_null() & (pl.col("knowledge") != "")
        rate = (score.sum() / full.sum()).alias("score_rate")
        queries.append(
            lf.filter(marked)
            .group_by("subject", "knowledge")
            .agg(rate, pl.col("item").n_unique().alias("items"))
            .sort("subject", "knowledge")
        )
        if by_class:
            queries.append(
                df.filter(marked)
                .group_by("subject", "class_key", "knowledge")
                .agg(rate)
                .sort("subject", "class_key", "knowledge")
            )
    done = iter(pl.collect_all(queries))
    stats = next(done)
    empty = pl.DataFrame(schema={"subject": pl.Utf8, "knowledge": pl.Utf8, "score_rate": pl.Float64})
    options = (
        next(done)
        if "option" in items.columns
        else pl.DataFrame(schema={"subject": pl.Utf8, "item": pl.Utf8, "option": pl.Utf8, "count": pl.UInt32})
    )
    knowledge = next(done) if "knowledge" in items.columns else empty
    knowledge_by_class = next(done) if by_class else empty
    return ItemAnalysis(stats, options, knowledge, knowledge_by_class)


def score_bands(values: pl.DataFrame, value: str, full: float, width: float = 10.0) -> pl.DataFrame:
    """分数段: how many scores fall in [lo, lo + width) from the top down (full marks in the top band)."""
    bands = math.ceil(full / width)
    v = pl.col(value)
    index = pl.min_horizontal((v / width).floor().cast(pl.Int64), pl.lit(bands - 1))
    counted = values.filter(v.is_not_null()).group_by(index.alias("band")).agg(pl.len().alias("count"))
    frame = pl.DataFrame({"band": list(range(bands - 1, -1, -1))}, schema={"band": pl.Int64})
    return (
        frame.join(counted, on="band", how="left")
        .with_columns(
            (pl.col("band") * width).alias("low"),
            pl.min_horizontal((pl.col("band") + 1) * width, pl.lit(full)).alias("high"),
            pl.col("count").fill_null(0),
        )
        .with_columns(pl.col("count").cum_sum().alias("at_or_above"))
        .select("low", "high", "count", "at_or_above")
    )


def one_point_table(values: pl.DataFrame, value: str, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """一分一段: per (group and) score, highest first: how many have it and how many have it or more."""
    v = pl.col(value)
    table = values.filter(v.is_not_null()).group_by(*by, value).agg(pl.len().alias("count")).sort(*by, value)
    table = table.sort([*by, value], descending=[False] * len(by) + [True])
    cum = pl.col("count").cum_sum()
    return table.with_columns((cum.over(*by) if by else cum).alias("at_or_above"))
