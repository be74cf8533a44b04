"""`zhixiao omr sheet PAPER.json --out SHEET.pdf [--roster …]` as a 教务员 or a script runs it: the PDF and
SHEET.layout.json beside it; exit 2 with every problem in Chinese for a bad paper or roster; no Django."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from openpyxl import Workbook

from zhixiao.omr.cli import layout_path_for, main
from zhixiao.omr.engine.roster import RosterError, parse_roster, read_roster
from zhixiao.omr.tests.test_paper import EXAMPLE, minimal


def pdf_pages(path: Path) -> int:
    doc = pdfium.PdfDocument(path)
    n = len(doc)
    doc.close()
    return n


def test_sheet_writes_the_pdf_and_the_layout_beside_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out" / "GK2026M1-bio.pdf"
    assert main(["sheet", str(EXAMPLE), "--out", str(out)]) == 0
    layout_file = tmp_path / "out" / "GK2026M1-bio.layout.json"
    layout = json.loads(layout_file.read_text(encoding="utf-8"))
    assert layout["format"] == "zhixiao-omr-layout/1" and len(layout["pages"]) == pdf_pages(out) == 2
    assert out.read_bytes().startswith(b"%PDF")
    assert "已生成" in capsys.readouterr().out


def test_paper_size_can_be_overridden(tmp_path: Path) -> None:
    out = tmp_path / "a3.pdf"
    assert main(["sheet", str(EXAMPLE), "--out", str(out), "--paper-size", "A3"]) == 0
    layout = json.loads(layout_path_for(out).read_text(encoding="utf-8"))
    assert layout["paper_size"] == "A3" and layout["page_size_mm"] == [420, 297] and pdf_pages(out) == 1


def test_a_bad_paper_exits_2_listing_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = minimal(exam_code="GK|1")
    data["sections"][0]["questions"][0]["options"] = 9
    paper = tmp_path / "paper.json"
    paper.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "sheet.pdf"
    assert main(["sheet", str(paper), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "无法生成答题卡" in err
    assert "第 1 节第 1 题（题号 1–4）：选项数应为 2–7，实为 9" in err
    assert "exam_code：考试代码不能含有“|”" in err
    assert not out.exists() and not layout_path_for(out).exists()


def test_a_roster_from_csv_prints_one_set_of_pages_per_student(tmp_path: Path) -> None:
    roster = tmp_path / "名单.csv"
    rows = ["考号,姓名,班级", "2026010101,张三,高三（1）班", "2026010102,李四,高三（1）班"]
    roster.write_text("\n".join(rows) + "\n", encoding="utf-8-sig")
    out = tmp_path / "sheets.pdf"
    assert main(["sheet", str(EXAMPLE), "--out", str(out), "--roster", str(roster)]) == 0
    assert pdf_pages(out) == 4
    doc = pdfium.PdfDocument(out)
    assert "李四" in doc[2].get_textpage().get_text_range()
    doc.close()


def test_a_bad_roster_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("学号,姓名\n123,张三\n2026010102,\n", encoding="utf-8")
    assert main(["sheet", str(EXAMPLE), "--out", str(tmp_path / "s.pdf"), "--roster", str(roster)]) == 2
    err = capsys.readouterr().err
    assert "学生名单第 2 行：考号应为 10 位数字，实为“123”" in err
    assert "学生名单第 3 行：缺少姓名" in err


def test_rosters_from_excel_and_gb18030_csv(tmp_path: Path) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["姓名", "班级", "学籍号"])
    ws.append(["王五", "高三（2）班", 2026020301])  # typed as a number in Excel
    ws.append([None, None, None])
    ws.append(["赵六", "高三（2）班", "2026020302"])
    xlsx = tmp_path / "roster.xlsx"
    book.save(xlsx)
    students = read_roster(xlsx, digits=10)
    assert [(s.student_id, s.name, s.class_name) for s in students] == [
        ("2026020301", "王五", "高三（2）班"),
        ("2026020302", "赵六", "高三（2）班"),
    ]
    csv = tmp_path / "roster.csv"
    csv.write_bytes("student_id,name,class\n20260001,孙七,高一（3）班\n".encode("gb18030"))
    assert read_roster(csv, digits=8)[0].name == "孙七"


def test_roster_problems() -> None:
    with pytest.raises(RosterError) as info:
        parse_roster([["姓名", "班级"], ["张三", "1班"]], digits=10)
    assert info.value.problems == ["学生名单第 1 行缺少“考号”列（也可写作 学号、学籍号、student_id）"]
    with pytest.raises(RosterError) as info:
        parse_roster([["考号", "姓名"], ["2026010101", "张三"], ["2026010101", "李四"]], digits=10)
    assert info.value.problems == ["学生名单第 3 行：考号 2026010101 与第 2 行重复"]
    with pytest.raises(RosterError, match=r"应为 \.xlsx 或 \.csv"):
        read_roster(Path("roster.txt"), digits=10)


def test_zhixiao_omr_runs_without_django(tmp_path: Path) -> None:
    out = tmp_path / "sheet.pdf"
    code = (
        "import sys\n"
        "from zhixiao.cli import main\n"
        "try:\n"
        f"    main(['omr', 'sheet', {str(EXAMPLE)!r}, '--out', {str(out)!r}])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "assert 'django' not in sys.modules, 'the omr CLI imported Django'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert out.exists() and layout_path_for(out).exists()
