"""Item analysis, score bands and the one-point table against figures worked out by hand or in plain Python."""

from __future__ import annotations

import math
import random
import statistics

import polars as pl
import pytest

from zhixiao.academics.engine.items import analyse_items, one_point_table, score_bands


def _items(rows: list[tuple[str, str, float, float, str | None, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "student_id": pl.Utf8,
            "item": pl.Utf8,
            "score": pl.Float64,
            "full_marks": pl.Float64,
            "option": pl.Utf8,
            "knowledge": pl.Utf8,
        },
        orient="row",
    ).with_columns(pl.lit("数学").alias("subject"))


def test_difficulty_discrimination_and_options_by_hand() -> None:
    # four students; item 1 (objective, key B) right for the two best, item 2 written (0–6)
    rows = [
        ("S1", "1", 3, 3, "B", "函数"),
        ("S1", "2", 6, 6, None, "导数"),
        ("S2", "1", 3, 3, "B", "函数"),
        ("S2", "2", 4, 6, None, "导数"),
        ("S3", "1", 0, 3, "C", "函数"),
        ("S3", "2", 3, 6, None, "导数"),
        ("S4", "1", 0, 3, "", "函数"),
        ("S4", "2", 1, 6, None, "导数"),
    ]
    got = analyse_items(_items(rows))
    one = got.items.filter(pl.col("item") == "1").row(0, named=True)
    assert one["count"] == 4 and one["difficulty"] == 0.5  # mean 1.5 of 3
    # 27 % of 4 → the top 2 (S1, S2) and the bottom 2 (S3, S4): (3 − 0) / 3
    assert one["discrimination"] == 1.0
    totals = [9, 7, 3, 1]
    assert math.isclose(one["point_biserial"], statistics.correlation([3, 3, 0, 0], totals))
    two = got.items.filter(pl.col("item") == "2").row(0, named=True)
    assert math.isclose(two["difficulty"], 14 / 4 / 6)
    assert math.isclose(two["discrimination"], ((6 + 4) / 2 - (3 + 1) / 2) / 6)
    shares = {r["option"]: r["share"] for r in got.options.filter(pl.col("item") == "1").iter_rows(named=True)}
    assert shares == {"B": 0.5, "C": 0.25, "未作答": 0.25}
    rates = dict(got.knowledge.select("knowledge", "score_rate").iter_rows())
    assert rates == {"函数": 6 / 12, "导数": 14 / 24}


def test_point_biserial_matches_plain_python_on_random_data() -> None:
    rng = random.Random(3)
    rows = []
    for s in range(60):
        ability = rng.random()
        for i in range(8):
            full = 2.0 if i < 5 else 10.0
            score = full if rng.random() < ability else 0.0
            if i >= 5:
                score = round(ability * full * 2 * rng.random()) / 2
                score = min(score, full)
            rows.append((f"S{s:03d}", str(i), score, full, None, f"K{i % 3}"))
    frame = _items(rows)
    got = analyse_items(frame)
    totals: dict[str, float] = {}
    for sid, _i, score, _f, _o, _k in rows:
        totals[sid] = totals.get(sid, 0.0) + score
    for i in range(8):
        mine = [(totals[sid], score) for sid, item, score, *_ in rows if item == str(i)]
        want = statistics.correlation([x for _t, x in mine], [t for t, _x in mine])
        have = got.items.filter(pl.col("item") == str(i)).get_column("point_biserial").item()
        assert math.isclose(have, want, rel_tol=1e-9), i


def test_score_bands_and_the_one_point_table() -> None:
    values = pl.DataFrame({"score": [150.0, 149.5, 140.0, 139.5, 100.0, 100.0, 95.0, None, 0.0]})
    bands = score_bands(values, "score", 150, width=10)
    top = bands.row(0, named=True)
    assert (top["low"], top["high"], top["count"]) == (140, 150, 3)  # full marks sit in the top band
    assert bands.filter(pl.col("low") == 130).get_column("count").item() == 1
    assert bands.filter(pl.col("low") == 100).get_column("count").item() == 2
    assert bands.get_column("count").sum() == 8 and bands.get_column("at_or_above").to_list()[-1] == 8
    table = one_point_table(values, "score")
    assert table.get_column("score").to_list()[:3] == [150, 149.5, 140]
    assert table.filter(pl.col("score") == 100).row(0, named=True)["count"] == 2
    assert table.filter(pl.col("score") == 100).row(0, named=True)["at_or_above"] == 6
    by_school = one_point_table(
        pl.DataFrame({"school": ["一中", "一中", "二中"], "score": [90.0, 80.0, 85.0]}), "score", ("school",)
    )
    assert by_school.filter(pl.col("school") == "一中").get_column("at_or_above").to_list() == [1, 2]


@pytest.mark.parametrize("width", [5.0, 20.0])
def test_bands_cover_every_score_once(width: float) -> None:
    rng = random.Random(int(width))
    scores = [rng.randint(0, 200) / 2 for _ in range(300)]
    bands = score_bands(pl.DataFrame({"score": scores}), "score", 100, width=width)
    assert bands.get_column("count").sum() == 300
    for row in bands.iter_rows(named=True):
        inside = [s for s in scores if row["low"] <= s < row["high"] or (s == 100 and row["high"] == 100)]
        assert len(inside) == row["count"], row
