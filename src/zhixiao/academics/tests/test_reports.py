"""Printable reports: read back with poppler's pdftotext (Chinese text, figures, and no ranks where the policy
says none)."""

from __future__ import annotations

import re
import subprocess

import polars as pl
import pytest

from zhixiao.academics.engine.analysis import analyse
from zhixiao.academics.engine.reports import class_report_pdf, grade_report_pdf, report_card_pdf
from zhixiao.academics.engine.scores import read_scores_csv

from .reference import generate_csv


def text_of(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def exam():  # type: ignore[no-untyped-def]
    return analyse(read_scores_csv(generate_csv(schools=1, classes=3, students=12, seed=9).encode()))


def test_class_report_sets_the_class_beside_the_grade(exam) -> None:  # type: ignore[no-untyped-def]
    key = exam.students.get_column("class_key").unique().sort().to_list()[0]
    text = text_of(class_report_pdf(exam, exam="2026届高三期中考试", class_key=key))
    assert "2026届高三期中考试 成绩分析" in text and key in text
    assert "本班" in text and "年级" in text and "优秀率" in text and "得分率" in text
    mean = exam.stats.filter(
        (pl.col("level") == "class") & (pl.col("key") == key) & (pl.col("subject") == "数学")
    ).get_column("mean")
    assert f"{mean.item():.2f}" in text
    first = exam.students.filter(pl.col("class_key") == key).sort("total", descending=True, nulls_last=True)
    assert first.get_column("student_id")[0] in text and "班级名次" in text
    hidden = text_of(class_report_pdf(exam, exam="期中", class_key=key, show_ranks=False))
    assert "名次" not in hidden


def test_grade_report_lists_every_class_and_the_bands(exam) -> None:  # type: ignore[no-untyped-def]
    text = text_of(grade_report_pdf(exam, exam="2026届高三期中考试"))
    for key in exam.students.get_column("class_key").unique().to_list():
        assert key in text
    assert "总分分数段" in text and "累计人数" in text and "各班总分得分率" in text
    assert all(s in text for s in exam.subjects)


def test_a_report_card_shows_bands_and_no_rank_unless_the_school_allows(exam) -> None:  # type: ignore[no-untyped-def]
    sid = exam.students.sort("student_id").get_column("student_id")[0]
    text = text_of(report_card_pdf(exam, exam="期中考试", student_id=sid, name="张三"))
    assert "期中考试 成绩单" in text and "张三" in text and sid in text
    assert re.search(r"(优秀|良好|及格|待及格)", text)
    assert "名次" not in text and "按规定不公布学生排名" in text
    others = exam.students.filter(pl.col("student_id") != sid).get_column("student_id").to_list()
    assert not any(o in text for o in others)  # never another student
    ranked = text_of(report_card_pdf(exam, exam="期中考试", student_id=sid, show_rank=True))
    assert "班级名次" in ranked
    with pytest.raises(ValueError, match="没有考生"):
        report_card_pdf(exam, exam="期中考试", student_id="nobody")
