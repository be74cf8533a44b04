"""`zhixiao timetable solve|check|export` on FET files, as a school's 教务员 or a script runs it: exit 0 only when
every hard constraint holds, a JSON report with the issue's fields, a locked FET file that our checker confirms,
an explanation for an impossible file, the reading errors for a broken one (exit 2)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from zhixiao.timetable.cli import main
from zhixiao.timetable.engine.checker import check
from zhixiao.timetable.engine.fet import read_fet, read_fet_solution, write_fet
from zhixiao.timetable.engine.model import Activity, Placement, Problem, Solution, StudentSet
from zhixiao.timetable.tests.fet_examples import examples_dir

EXAMPLES = examples_dir()
REPORT_FIELDS = {"solved", "seconds", "hard_violations", "soft_cost", "activities", "placed", "unsupported_constraints"}


def _report(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _solve(tmp_path: Path, fet: Path, *extra: str) -> tuple[int, dict[str, Any], Path]:
    out, report = tmp_path / "out.fet", tmp_path / "report.json"
    code = main(
        ["solve", str(fet), "--time-limit", "10", "--workers", "2", "--out", str(out), "--report", str(report), *extra]
    )
    return code, _report(report), out


@pytest.mark.parametrize(
    ("name", "extra"),
    [("small-school.fet", ()), ("Horario_ISJ.fet", ("--soft-seconds", "1"))],
)
def test_solve_writes_a_locked_timetable_that_keeps_every_hard_constraint(
    tmp_path: Path, name: str, extra: tuple[str, ...]
) -> None:
    source = EXAMPLES / name
    code, report, out = _solve(tmp_path, source, "--quiet", *extra)
    assert code == 0
    assert set(report) >= REPORT_FIELDS
    assert report["solved"] is True and report["hard_violations"] == []
    assert report["unsupported_constraints"] == []
    problem = read_fet(source).problem
    assert report["activities"] == report["placed"] == len(problem.activities)
    assert 0 < report["seconds"] < 10 and report["soft_cost"] >= 0
    # the written file: every activity's time (and room) locked, and our checker finds nothing broken
    assert out.exists() and report["output"] == str(out)
    solution = read_fet_solution(problem, out)
    assert set(solution.placements) == {a.id for a in problem.activities}
    hard, soft = check(problem, solution)
    assert hard == []
    assert sum(v.cost for v in soft) == report["soft_cost"]
    # the file reads back as the same school, now with a lock for every activity
    again = read_fet(out).problem
    assert len(again.activities) == len(problem.activities)
    locks = [c for c in again.constraints if c.kind == "ActivityPreferredStartingTime" and c.hard]
    assert {c.params["activity"] for c in locks} >= {a.id for a in problem.activities}


def test_the_module_runs_as_a_command(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    done = subprocess.run(
        [sys.executable, "-m", "zhixiao.timetable.cli", "solve", str(EXAMPLES / "small-school.fet"),
         "--time-limit", "5", "--workers", "2", "--report", str(report)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "已排出：25/25 节课已安排，硬约束冲突 0 处" in done.stderr
    assert _report(report)["solved"] is True


def _locked_clash(tmp_path: Path) -> Path:
    """small-school.fet with activities 1 and 2 (both Glenda's) locked at the same hour."""
    text = (EXAMPLES / "small-school.fet").read_text(encoding="utf-8")
    lock = """<ConstraintActivityPreferredStartingTime>
	<Weight_Percentage>100</Weight_Percentage>
	<Activity_Id>{id}</Activity_Id>
	<Preferred_Day>Daily</Preferred_Day>
	<Preferred_Hour>13.30 - 14.30</Preferred_Hour>
	<Permanently_Locked>true</Permanently_Locked>
	<Active>true</Active>
	<Comments>锁定 #{id}</Comments>
</ConstraintActivityPreferredStartingTime>
"""
    text = text.replace("</Time_Constraints_List>", lock.format(id=1) + lock.format(id=2) + "</Time_Constraints_List>")
    path = tmp_path / "clash.fet"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_impossible_file_exits_1_with_the_reason_in_the_report(tmp_path: Path, capsys: Any) -> None:
    code, report, out = _solve(tmp_path, _locked_clash(tmp_path))
    assert code == 1
    assert report["solved"] is False and report["placed"] == 0 and report["status"] == "infeasible"
    assert report["explanation"] == [
        "Glenda 的 2 节课都只能排在 Daily 13.30 - 14.30：#1 Air（Agathe、Lothen、Una、Siv、Riki、Agnes，Glenda）、"
        "#2 Air（Jorgen、Viveka、Bodil、Eric、Kristina、Viktor、Dane，Glenda）"
    ]
    assert not out.exists()
    err = capsys.readouterr().err
    assert "未排出：0/25 节课已安排" in err and "Glenda 的 2 节课都只能排在 Daily 13.30 - 14.30" in err


def test_malformed_xml_exits_2_naming_the_line(tmp_path: Path, capsys: Any) -> None:
    bad = tmp_path / "bad.fet"
    text = (EXAMPLES / "small-school.fet").read_text(encoding="utf-8")
    bad.write_text(text.replace("</Days_List>", "</Day_List>", 1), encoding="utf-8")
    report = tmp_path / "r.json"
    assert main(["solve", str(bad), "--time-limit", "5", "--report", str(report)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("无法读取 FET 文件：\n  XML 格式错误（第 ")
    assert "mismatched tag" in err
    data = _report(report)
    assert data["solved"] is False and data["errors"][0].startswith("XML 格式错误（第 ")


def test_a_missing_file_exits_2(tmp_path: Path, capsys: Any) -> None:
    assert main(["solve", str(tmp_path / "没有这个文件.fet"), "--time-limit", "5"]) == 2
    assert "无法读取文件" in capsys.readouterr().err


def test_check_accepts_a_good_timetable_and_refuses_a_broken_one(tmp_path: Path, capsys: Any) -> None:
    source = EXAMPLES / "small-school.fet"
    code, _report_data, out = _solve(tmp_path, source, "--quiet")
    assert code == 0
    report = tmp_path / "check.json"
    assert main(["check", str(source), str(out), "--report", str(report), "--quiet"]) == 0
    assert _report(report)["solved"] is True and _report(report)["hard_violations"] == []

    # move Glenda's activity 2 onto her activity 1
    imp = read_fet(source)
    good = read_fet_solution(imp.problem, out)
    one = good.placements[1]
    broken = Solution({**good.placements, 2: Placement(one.day, one.period, good.placements[2].rooms)})
    broken_file = tmp_path / "broken.fet"
    broken_file.write_bytes(write_fet(imp.problem, broken, source=imp.source))
    assert main(["check", str(source), str(broken_file), "--report", str(report)]) == 1
    data = _report(report)
    assert data["solved"] is False and data["placed"] == data["activities"] == 25
    teacher = [v for v in data["hard_violations"] if v["constraint"] == "教师冲突"]
    assert teacher and "Glenda" in teacher[0]["message"] and "#1 Air" in teacher[0]["message"]
    assert "#2 Air" in teacher[0]["message"]
    assert "  ✗ 教师 Glenda 在 Daily " in capsys.readouterr().err


def test_export_writes_a_spreadsheet_of_the_solved_timetable(tmp_path: Path) -> None:
    source = EXAMPLES / "small-school.fet"
    code, _data, out = _solve(tmp_path, source, "--quiet")
    assert code == 0
    xlsx = tmp_path / "课表.xlsx"
    assert main(["export", str(source), str(out), "--xlsx", str(xlsx), "--by", "teacher"]) == 0
    assert xlsx.read_bytes()[:2] == b"PK"


def test_a_hard_constraint_we_cannot_check_means_not_solved(tmp_path: Path) -> None:
    text = (EXAMPLES / "small-school.fet").read_text(encoding="utf-8")
    odd = "<ConstraintTeachersMoonPhase>\n\t<Weight_Percentage>100</Weight_Percentage>\n\t<Active>true</Active>\n"
    odd += "</ConstraintTeachersMoonPhase>\n"
    path = tmp_path / "odd.fet"
    path.write_text(text.replace("</Time_Constraints_List>", odd + "</Time_Constraints_List>"), encoding="utf-8")
    code, report, out = _solve(tmp_path, path, "--quiet")
    assert code == 1 and report["solved"] is False
    assert report["placed"] == 25 and report["hard_violations"] == [] and out.exists()
    [unsupported] = report["unsupported_constraints"]
    assert "ConstraintTeachersMoonPhase" in unsupported and "权重 100%" in unsupported


def test_an_impossible_file_no_count_can_see_stops_at_the_time_limit(tmp_path: Path) -> None:
    # nine classes, every pair with one joint lesson, in a week of 2 × 4 periods: each class has exactly 8 lessons,
    # yet no timetable exists (an odd round robin needs 9 rounds)
    classes = [f"高一({i})班" for i in range(1, 10)]
    lessons = [
        Activity(k, "联合活动", (f"教练{k}",), pair)
        for k, pair in enumerate(itertools.combinations(classes, 2), start=1)
    ]
    problem = Problem(
        days=["周一", "周二"],
        periods=["第1节", "第2节", "第3节", "第4节"],
        activities=lessons,
        teachers=[t for a in lessons for t in a.teachers],
        subjects=["联合活动"],
        student_sets={c: StudentSet(c, 40, (), "行政班") for c in classes},
    )
    path = tmp_path / "round-robin.fet"
    path.write_bytes(write_fet(problem, Solution({})))
    report = tmp_path / "r.json"
    t0 = time.monotonic()
    code = main(["solve", str(path), "--time-limit", "2", "--workers", "2", "--report", str(report), "--quiet"])
    assert time.monotonic() - t0 < 2 + 1.5
    data = _report(report)
    assert code == 1 and data["solved"] is False and data["status"] == "timeout"
    assert data["explanation"] == ["在 2 秒内没有找到满足全部硬约束的课表；可以延长时间或放宽约束后再试。"]
