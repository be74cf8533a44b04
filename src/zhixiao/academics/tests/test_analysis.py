"""The score analysis engine and `zhixiao exam analyse` against an independent plain-Python reference."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from zhixiao.academics.engine.analysis import Lines, LinesError, analyse, to_report
from zhixiao.academics.engine.scores import ScoreError, check_scores, read_scores_csv

from .reference import generate_csv, reference

HEADER = "school,class,student_id,subject,score,full_marks\n"


def report_of(text: str, **kwargs: Any) -> dict[str, Any]:
    return to_report(analyse(read_scores_csv(text.encode()), **kwargs))


def close(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def assert_figures(got: dict[str, Any], want: dict[str, Any], where: str) -> None:
    assert got["count"] == want["count"], where
    if want["count"] == 0:
        assert got["mean"] is None, where
        return
    for k, v in want.items():
        assert close(got[k], v), f"{where} {k}: {got[k]} != {v}"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_figure_matches_the_plain_python_reference(seed: int) -> None:
    text = generate_csv(schools=3, classes=3, students=15, seed=seed, absent=0.05)
    got, want = report_of(text), reference(text)
    assert got["class_key"] == "school/class"  # every school has 高三(1)班
    for subject, levels in want["subjects"].items():
        assert_figures(got["subjects"][subject]["all"], levels["all"], f"{subject} all")
        for level in ("school", "class"):
            assert set(got["subjects"][subject][level]) == set(levels[level])
            for key, figures in levels[level].items():
                assert_figures(got["subjects"][subject][level][key], figures, f"{subject} {level} {key}")
    assert_figures(got["total"]["all"], want["total"]["all"], "total all")
    for level in ("school", "class"):
        for key, figures in want["total"][level].items():
            if figures["count"]:
                assert_figures(got["total"][level][key], figures, f"total {level} {key}")
    assert set(got["students"]) == set(want["students"])
    for sid, student in want["students"].items():
        assert close(got["students"][sid]["total"], student["total"]), sid
        assert got["students"][sid]["ranks"] == student["ranks"], sid


def test_ties_share_the_lower_rank_and_absent_students_have_no_total() -> None:
    rows = [
        ("一中", "1班", "A", 90),
        ("一中", "1班", "B", 80),
        ("一中", "1班", "C", 80),
        ("一中", "2班", "D", 70),
        ("一中", "2班", "E", ""),
        ("二中", "3班", "F", 80),
    ]
    text = HEADER + "".join(f"{s},{c},{i},数学,{v},100\n" for s, c, i, v in rows)
    r = report_of(text)
    assert r["class_key"] == "class"  # no class name in two schools
    ranks = {sid: s["ranks"] for sid, s in r["students"].items()}
    assert [ranks[s]["all"] for s in "ABCDF"] == [1, 2, 2, 5, 2]
    assert [ranks[s]["school"] for s in "ABCD"] == [1, 2, 2, 4]
    assert ranks["D"]["class"] == 1 and ranks["F"]["class"] == 1
    assert r["students"]["E"]["total"] is None and ranks["E"] == {"class": None, "school": None, "all": None}
    assert r["subjects"]["数学"]["all"]["count"] == 5
    assert r["subjects"]["数学"]["class"]["2班"]["count"] == 1


def test_lines_are_exact_at_the_boundary_and_rates_are_fractions() -> None:
    # 0.85 × 150 is 127.4999… in floating point: 127.5 must be excellent, 127 not
    rows = [("127.5", "优"), ("127", "良"), ("90", "及格"), ("89.5", "不及格"), ("60", "低分线上"), ("59.5", "低分")]
    text = HEADER + "".join(f"一中,1班,S{i},语文,{v},150\n" for i, (v, _label) in enumerate(rows))
    figures = report_of(text)["subjects"]["语文"]["all"]
    assert figures["excellent_rate"] == 1 / 6
    assert figures["pass_rate"] == 3 / 6
    assert figures["low_rate"] == 1 / 6
    other = to_report(analyse(read_scores_csv(text.encode()), Lines.parse("80,50,30")))["subjects"]["语文"]["all"]
    assert other["excellent_rate"] == 2 / 6 and other["pass_rate"] == 4 / 6 and other["low_rate"] == 0


def test_absent_exempt_and_cheating_follow_the_stated_rules() -> None:
    text = HEADER + (
        "一中,1班,A,语文,100,150\n一中,1班,A,数学,缺考,150\n"
        "一中,1班,B,语文,120,150\n一中,1班,B,数学,免考,150\n"
        "一中,1班,C,语文,110,150\n一中,1班,C,数学,作弊,150\n"
    )
    r = report_of(text)
    students = r["students"]
    assert students["A"]["total"] is None  # absent from a subject: no total
    assert students["B"]["total"] == 120  # exempt: the subject does not count
    assert students["C"]["total"] == 110  # cheating: 0
    assert r["subjects"]["数学"]["all"]["count"] == 1 and r["subjects"]["数学"]["all"]["mean"] == 0
    assert students["A"]["subjects"]["数学"]["status"] == "absent"
    as_zero = report_of(text, absent_as_zero=True)["students"]
    assert as_zero["A"]["total"] == 100 and as_zero["A"]["ranks"]["all"] == 3


def test_chinese_headers_and_gbk_files_are_read() -> None:
    text = "学校,班级,考号,科目,成绩,满分\n一中,1班,S1,语文,99,150\n"
    scores = read_scores_csv(text.encode("gb18030"))
    assert scores.frame.get_column("score").to_list() == [99.0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("一中,1班,S1,语文,151,150\n", "第 2 行 score（分数）列：分数 151 超过满分 150"),
        ("一中,1班,S1,语文,-1,150\n", "第 2 行 score（分数）列：分数 -1 是负数"),
        ("一中,1班,S1,语文,九十,150\n", "第 2 行 score（分数）列：“九十”不是数字（缺考请留空或写“缺考”）"),
        ("一中,1班,S1,语文,nan,150\n", "第 2 行 score（分数）列：“nan”不是有效分数"),
        ("一中,1班,S1,语文,90,满分\n", "第 2 行 full_marks（满分）列：“满分”不是数字"),
        ("一中,1班,S1,语文,90,0\n", "第 2 行 full_marks（满分）列：满分应大于 0，实为 0"),
        ("一中,,S1,语文,90,150\n", "第 2 行 class（班级）列为空"),
        ("一中,1班,S1,语文,90,150\n一中,1班,S1,语文,91,150\n", "考号 S1 的 语文 成绩重复（第 2、3 行）"),
        ("一中,1班,S1,语文,90,150\n一中,2班,S1,数学,91,150\n", "考号 S1 出现在不同的学校或班级（首次在第 2 行）"),
        ("一中,1班,S1,语文,90,150\n一中,1班,S2,语文,91,120\n", "科目 语文 的满分不一致：120、150"),
    ],
)
def test_bad_cells_are_named_by_row_and_column(body: str, message: str) -> None:
    with pytest.raises(ScoreError) as info:
        read_scores_csv((HEADER + body).encode())
    assert message in info.value.errors


def test_bad_files_are_refused_with_a_reason() -> None:
    for data, message in [
        (b"", "文件是空的"),
        (HEADER.encode(), "文件只有表头，没有成绩"),
        (b"name,score\nS1,90\n", "缺少列"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\xfd", "不是 UTF-8 或 GBK"),
    ]:
        with pytest.raises(ScoreError) as info:
            read_scores_csv(data)
        assert message in info.value.errors[0], data
    for text in ("85,60", "60,85,40", "85,60,abc", "120,60,40"):
        with pytest.raises(LinesError):
            Lines.parse(text)


def test_a_grid_of_strings_is_checked_the_same_way() -> None:
    import polars as pl

    grid = pl.DataFrame(
        {"学校": ["一中"], "班级": ["1班"], "考号": ["S1"], "科目": ["语文"], "分数": ["88"], "满分": ["150"]}
    )
    assert check_scores(grid).frame.get_column("score").to_list() == [88.0]


def test_the_cli_writes_the_report_or_lists_every_problem(tmp_path: Path) -> None:
    scores = tmp_path / "scores.csv"
    scores.write_text(generate_csv(schools=2, classes=2, students=5, seed=4), encoding="utf-8")
    out = tmp_path / "report.json"
    cmd = [
        sys.executable,
        "-m",
        "zhixiao.cli",
        "exam",
        "analyse",
        str(scores),
        "--lines",
        "80,60,30",
        "--out",
        str(out),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["lines"] == {"excellent": 80.0, "pass": 60.0, "low": 30.0}
    assert len(report["students"]) == 20 and set(report["subjects"]) == {"语文", "数学", "英语", "物理", "化学", "生物"}
    assert {"all", "school", "class", "full_marks"} <= set(report["total"])
    student = next(iter(report["students"].values()))
    assert {"total", "ranks", "subjects", "school", "class"} <= set(student)
    assert set(student["ranks"]) == {"class", "school", "all"}
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "一中,1班,S1,语文,160,150\n一中,1班,S2,语文,x,150\n", encoding="utf-8")
    out2 = tmp_path / "bad.json"
    done = subprocess.run([*cmd[:5], str(bad), "--out", str(out2)], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and not out2.exists()
    assert "分数 160 超过满分 150" in done.stderr and "“x”不是数字" in done.stderr
    assert (
        "django"
        not in subprocess.run(
            [sys.executable, "-c", "import sys, zhixiao.academics.cli as c; c.main; print(sorted(sys.modules))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
