"""赋分, 临界生, 偏科 and progress, checked against hand-worked figures and a plain-Python conversion."""

from __future__ import annotations

import itertools
import math
import random

import polars as pl
import pytest

from zhixiao.academics.engine.analysis import analyse
from zhixiao.academics.engine.insights import (
    GAOKAO_312,
    SHANDONG_33,
    ConversionRule,
    RuleError,
    convert,
    imbalance,
    near_line,
    progress,
)
from zhixiao.academics.engine.scores import read_scores_csv


def plain_convert(scores: list[float], rule: ConversionRule) -> list[tuple[str, int]]:
    """The conversion written out by hand, for comparison."""
    n = len(scores)
    cumulative, acc = [], 0.0
    for g in rule.grades:
        acc += g.share
        cumulative.append(acc)
    grade_of = []
    for s in scores:
        above = sum(1 for o in scores if o > s) / n
        k = sum(1 for c in cumulative[:-1] if above >= c - 1e-12)
        grade_of.append(k)
    out = []
    for s, k in zip(scores, grade_of, strict=True):
        peers = [o for o, j in zip(scores, grade_of, strict=True) if j == k]
        y1, y2 = min(peers), max(peers)
        g = rule.grades[k]
        t = g.high if y2 == y1 else g.low + (s - y1) * (g.high - g.low) / (y2 - y1)
        out.append((g.name, math.floor(t + 0.5 + 1e-9)))
    return out


def test_conversion_of_twenty_students_by_hand() -> None:
    # 20 students 100, 95, …, 5: A = top 15 % = 3 students (100, 95, 90) → 86–100
    scores = [100.0 - 5 * i for i in range(20)]
    got = convert(pl.DataFrame({"subject": ["化学"] * 20, "score": scores}), "score", GAOKAO_312)
    rows = dict(zip(got.get_column("score").to_list(), got.select("grade", "converted").rows(), strict=True))
    assert rows[100.0] == ("A", 100) and rows[90.0] == ("A", 86) and rows[95.0] == ("A", 93)
    # B: the next 35 % = 7 students (85 … 55) → 71–85; 70 is (70 − 55) × 14 / 30 + 71 = 78
    assert rows[85.0] == ("B", 85) and rows[55.0] == ("B", 71) and rows[70.0] == ("B", 78)
    assert rows[5.0][0] == "E" or rows[5.0][0] == "D"
    assert got.get_column("converted").min() >= 30


@pytest.mark.parametrize("rule", [GAOKAO_312, SHANDONG_33])
def test_conversion_matches_plain_python_with_ties(rule: ConversionRule) -> None:
    rng = random.Random(7)
    scores = [float(rng.randint(20, 100)) for _ in range(400)]  # many ties
    got = convert(pl.DataFrame({"subject": ["生物"] * 400, "score": scores}), "score", rule)
    assert list(got.select("grade", "converted").iter_rows()) == plain_convert(scores, rule)
    # equal raw scores, equal grades and converted scores; higher raw never converts lower
    pairs = sorted(zip(scores, got.get_column("converted").to_list(), strict=True))
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(pairs))


def test_conversion_is_per_subject_and_skips_absent() -> None:
    df = pl.DataFrame({"subject": ["化学", "化学", "地理", "地理"], "score": [90.0, None, 40.0, 30.0]})
    got = convert(df, "score", GAOKAO_312)
    assert got.get_column("converted").to_list() == [100, None, 100, 70]  # 2 students: the second is at 50 % → C


def test_rule_tables_are_checked() -> None:
    rule = ConversionRule.from_json(
        '{"name": "试点", "grades": [{"name": "甲", "share": 0.5, "low": 60, "high": 100},'
        ' {"name": "乙", "share": 0.5, "low": 20, "high": 59}]}'
    )
    assert [g.name for g in rule.grades] == ["甲", "乙"]
    for bad in (
        '{"grades": [{"name": "A", "share": 0.5, "low": 60, "high": 100}]}',
        '{"grades": [{"name": "A", "share": 0.5, "low": 60, "high": 100}, {"name": "B", "share": 0.5, "low": 50,'
        ' "high": 70}]}',
        '{"grades": [{"name": "A"}]}',
    ):
        with pytest.raises(RuleError):
            ConversionRule.from_json(bad)


def _exam(rows: list[tuple[str, str, float | str]]) -> str:
    return "school,class,student_id,subject,score,full_marks\n" + "".join(
        f"一中,1班,{sid},{subject},{score},100\n" for sid, subject, score in rows
    )


def test_near_line_imbalance_and_progress() -> None:
    first = analyse(
        read_scores_csv(
            _exam(
                [
                    ("A", "数学", 90),
                    ("A", "语文", 85),
                    ("B", "数学", 60),
                    ("B", "语文", 90),
                    ("C", "数学", 80),
                    ("C", "语文", 40),
                    ("D", "数学", 70),
                    ("D", "语文", 70),
                ]
            ).encode()
        )
    )
    second = analyse(
        read_scores_csv(
            _exam(
                [
                    ("A", "数学", 80),
                    ("A", "语文", 70),
                    ("B", "数学", 95),
                    ("B", "语文", 90),
                    ("C", "数学", 60),
                    ("C", "语文", 60),
                    ("D", "数学", 75),
                    ("D", "语文", 70),
                ]
            ).encode()
        )
    )
    near = near_line(second.students, "total", 150, 5)
    assert near.get_column("student_id").to_list() == ["A", "D"] and near.get_column("gap").to_list() == [0, -5]
    weak = imbalance(first.scores, threshold=1.0)
    assert ("C", "语文") in set(weak.select("student_id", "subject").iter_rows())
    assert ("B", "数学") in set(weak.select("student_id", "subject").iter_rows())
    assert "A" not in weak.get_column("student_id").to_list()
    moved = {r["student_id"]: r for r in progress(first.students, second.students).iter_rows(named=True)}
    assert moved["B"]["rank_before"] == 2 and moved["B"]["rank_now"] == 1 and moved["B"]["rank_change"] == 1
    assert moved["A"]["rank_change"] == -1 and moved["A"]["z_change"] < 0
