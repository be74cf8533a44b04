"""Timetable exports read back the way people and their programs read them: Excel, PDF text, iCalendar."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rruleset, rrulestr
from icalendar import Calendar
from openpyxl import load_workbook

from zhixiao.timetable.engine.model import Activity, Placement, Problem, Room, Solution, StudentSet
from zhixiao.timetable.exports import ExportError, PeriodTimes, Term, to_ics, to_pdf, to_xlsx

SHANGHAI = ZoneInfo("Asia/Shanghai")
TIMES = PeriodTimes.parse(["08:00-08:45", "08:55-09:40", "10:00-10:45", "10:55-11:40"])


def school() -> tuple[Problem, Solution]:
    """Two classes of 高一, three teachers, a lab; one joint double physics lesson and one lesson not placed."""
    problem = Problem(
        name="实验中学",
        days=["星期一", "星期二", "星期三", "星期四", "星期五"],
        periods=["1", "2", "3", "4"],
        teachers=["王老师", "李老师", "张老师"],
        subjects=["语文", "数学", "英语", "物理", "体育"],
        student_sets={
            "高一(1)班": StudentSet("高一(1)班", size=45, kind="行政班"),
            "高一(2)班": StudentSet("高一(2)班", size=44, kind="行政班"),
        },
        rooms={
            "101教室": Room("101教室", 50),
            "102教室": Room("102教室", 50),
            "物理实验室": Room("物理实验室", 100, kind="实验室"),
        },
        activities=[
            Activity(1, "语文", ("王老师",), ("高一(1)班",)),
            Activity(2, "数学", ("李老师",), ("高一(1)班",)),
            Activity(3, "语文", ("王老师",), ("高一(2)班",)),
            Activity(4, "物理", ("张老师",), ("高一(1)班", "高一(2)班"), duration=2),
            Activity(5, "英语", ("李老师",), ("高一(2)班",)),
            Activity(6, "体育", ("王老师",), ("高一(1)班",)),
        ],
    )
    solution = Solution(
        {
            1: Placement(0, 0, ("101教室",)),
            2: Placement(0, 1, ("101教室",)),
            3: Placement(0, 1, ("102教室",)),
            4: Placement(1, 2, ("物理实验室",)),
            5: Placement(2, 0, ("102教室",)),
        }
    )
    return problem, solution


# --- Excel -------------------------------------------------------------------------------------------------


def workbook(**kwargs: Any) -> Any:
    problem, solution = school()
    return load_workbook(io.BytesIO(to_xlsx(problem, solution, times=TIMES, **kwargs)))


def test_class_workbook_has_an_overview_and_a_week_grid_per_class() -> None:
    wb = workbook(by="class")
    assert wb.sheetnames == ["总表", "高一(1)班", "高一(2)班"]
    ws = wb["高一(1)班"]
    assert ws["A1"].value == "实验中学 班级课表：高一(1)班"
    assert [ws.cell(2, c).value for c in range(1, 7)] == ["节次", "星期一", "星期二", "星期三", "星期四", "星期五"]
    assert [ws.cell(r, 1).value for r in range(3, 7)] == [
        "第1节 08:00-08:45",
        "第2节 08:55-09:40",
        "第3节 10:00-10:45",
        "第4节 10:55-11:40",
    ]
    assert ws["B3"].value == "语文\n王老师\n101教室"  # Monday, first period
    assert ws["B4"].value == "数学\n李老师\n101教室"
    assert ws["C5"].value == "物理\n张老师\n物理实验室"  # Tuesday, the double period from the third
    assert "C5:C6" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["D3"].value in (None, "")  # 英语 is 高一(2)班's, not this class's
    # the joint lesson is in each of its classes' sheets
    assert wb["高一(2)班"]["C5"].value == "物理\n张老师\n物理实验室"
    assert wb["高一(2)班"]["D3"].value == "英语\n李老师\n102教室"


def test_teacher_and_room_sheets_say_what_the_row_does_not() -> None:
    wb = workbook(by="teacher")
    assert wb.sheetnames == ["总表", "王老师", "李老师", "张老师"]
    assert wb["王老师"]["B3"].value == "语文\n高一(1)班\n101教室"
    assert wb["王老师"]["B4"].value == "语文\n高一(2)班\n102教室"
    assert wb["张老师"]["C5"].value == "物理\n高一(1)班、高一(2)班\n物理实验室"

    wb = workbook(by="room")
    assert wb.sheetnames == ["总表", "101教室", "102教室", "物理实验室"]
    assert wb["101教室"]["B4"].value == "数学\n高一(1)班\n李老师"
    assert wb["物理实验室"]["C5"].value == "物理\n高一(1)班、高一(2)班\n张老师"


def test_overview_sheet_lists_every_class_across_the_week_and_what_was_not_placed() -> None:
    ws = workbook(by="class")["总表"]
    assert ws["A1"].value == "实验中学 班级总课表"
    assert ws["B2"].value == "星期一" and ws["F2"].value == "星期二"  # four periods a day
    assert [ws.cell(3, c).value for c in range(2, 6)] == ["第1节", "第2节", "第3节", "第4节"]
    assert [ws.cell(r, 1).value for r in (4, 5)] == ["高一(1)班", "高一(2)班"]
    assert ws["B4"].value == "语文\n王老师"
    assert ws["H4"].value == "物理\n张老师"  # Tuesday third period, merged with the fourth
    assert "H4:I4" in {str(r) for r in ws.merged_cells.ranges}
    texts = [str(ws.cell(r, 1).value) for r in range(6, ws.max_row + 1)]
    assert "未排入的课程（1）" in texts
    assert "#6 体育（高一(1)班；王老师）" in texts


def test_sheets_print_on_one_landscape_a4_page_with_borders() -> None:
    wb = workbook(by="class")
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth == 1
    ws = wb["高一(1)班"]
    assert ws.page_setup.fitToHeight == 1
    for cell in (ws["A2"], ws["B3"], ws["F6"]):
        assert cell.border.left.style == cell.border.bottom.style == "thin"
        assert cell.alignment.wrap_text


def test_chosen_names_only_and_unknown_names_refused() -> None:
    assert workbook(by="teacher", names=["李老师"]).sheetnames == ["总表", "李老师"]
    problem, solution = school()
    with pytest.raises(ExportError, match="没有名为「赵老师」的教师"):
        to_xlsx(problem, solution, by="teacher", names=["赵老师"])
    with pytest.raises(ExportError, match="作息时间有 2 节，课表每天有 4 节"):
        to_xlsx(problem, solution, times=PeriodTimes.parse(["08:00-08:45", "08:55-09:40"]))
    with pytest.raises(ExportError, match="不支持的课表视图"):
        to_xlsx(problem, solution, by="grade")  # type: ignore[arg-type]


def test_teaching_class_has_its_own_timetable_and_a_virtual_room_shows_its_real_rooms() -> None:
    problem, solution = school()
    problem.student_sets["化学A班"] = StudentSet("化学A班", 40, members=("高一(1)班", "高一(2)班"), kind="教学班")
    problem.rooms["实验室组"] = Room("实验室组", real_room_sets=(("化学实验室",), ("生物实验室",)))
    problem.rooms["化学实验室"] = Room("化学实验室", 50, kind="实验室")
    problem.rooms["生物实验室"] = Room("生物实验室", 50, kind="实验室")
    problem.activities.append(Activity(7, "化学", ("李老师",), ("化学A班",)))
    solution.placements[7] = Placement(3, 0, ("实验室组", "化学实验室", "生物实验室"))

    wb = load_workbook(io.BytesIO(to_xlsx(problem, solution, by="class")))
    assert wb.sheetnames == ["总表", "高一(1)班", "高一(2)班", "化学A班"]
    assert wb["化学A班"]["E3"].value == "化学\n李老师\n化学实验室、生物实验室"
    assert wb["高一(1)班"]["E3"].value in (None, "")  # named for the teaching class only

    wb = load_workbook(io.BytesIO(to_xlsx(problem, solution, by="room")))
    assert wb.sheetnames == ["总表", "101教室", "102教室", "物理实验室", "化学实验室", "生物实验室"]
    assert wb["生物实验室"]["E3"].value == "化学\n化学A班\n李老师"


def test_sheet_names_excel_refuses_are_made_valid_and_unique() -> None:
    problem, solution = school()
    problem.student_sets = {
        "初三[1]/实验班": StudentSet("初三[1]/实验班"),
        "初三_1__实验班": StudentSet("初三_1__实验班"),
    }
    problem.activities = [
        Activity(1, "语文", ("王老师",), ("初三[1]/实验班",)),
        Activity(2, "数学", ("李老师",), ("初三_1__实验班",)),
    ]
    solution = Solution({1: Placement(0, 0, ("101教室",)), 2: Placement(0, 1, ("101教室",))})
    wb = load_workbook(io.BytesIO(to_xlsx(problem, solution)))
    assert wb.sheetnames == ["总表", "初三_1__实验班", "初三_1__实验班(2)"]
    assert wb["初三_1__实验班"]["A1"].value == "实验中学 班级课表：初三[1]/实验班"
    assert wb["初三_1__实验班"].cell(3, 1).value == "第1节"  # no clock times given


def test_a_placement_outside_the_week_or_of_an_unknown_lesson_is_refused() -> None:
    problem, solution = school()
    solution.placements[1] = Placement(0, 3, ("101教室",))
    solution.placements[4] = Placement(1, 3, ("物理实验室",))  # a double from the last period
    with pytest.raises(ExportError, match="课程 #4（物理）排在第2天第4节，超出了课表的范围"):
        to_xlsx(problem, solution)
    problem, solution = school()
    solution.placements[99] = Placement(0, 0)
    with pytest.raises(ExportError, match="课程编号 99 不在排课数据中"):
        to_xlsx(problem, solution)


def test_period_times_must_read_as_clock_spans() -> None:
    times = PeriodTimes.parse(["7:30–8:10", "08:20~09:00"], names=["早读", ""])
    assert times[0].name == "早读" and times[0].start == time(7, 30) and times[1].end == time(9, 0)
    with pytest.raises(ExportError, match="格式不对"):
        PeriodTimes.parse(["八点"])
    with pytest.raises(ExportError, match="不晚于上课时间"):
        PeriodTimes.parse(["09:00-08:00"])


# --- PDF ---------------------------------------------------------------------------------------------------


def poppler(tool: str, pdf: bytes, tmp_path: Path, *args: str) -> str:
    assert shutil.which(tool), f"{tool} is missing: scripts/system_deps.py installs poppler-utils"
    path = tmp_path / "timetable.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([tool, *args, str(path), "-"], capture_output=True, text=True, check=True)
    return out.stdout


def pdf_pages(pdf: bytes, tmp_path: Path) -> list[str]:
    return poppler("pdftotext", pdf, tmp_path, "-layout").split("\f")[:-1]


def test_class_pdf_is_one_landscape_a4_page_per_class_with_chinese_text(tmp_path: Path) -> None:
    problem, solution = school()
    pdf = to_pdf(problem, solution, by="class", times=TIMES)
    pages = pdf_pages(pdf, tmp_path)
    assert len(pages) == 2
    assert "班级课表：高一(1)班" in pages[0] and "班级课表：高一(2)班" in pages[1]
    for word in ("星期一", "星期五", "第1节 08:00-08:45", "语文", "王老师", "101教室", "数学", "物理实验室"):
        assert word in pages[0], word
    assert "英语" not in pages[0] and "英语" in pages[1]
    assert "物理" in pages[1] and "张老师" in pages[1]

    path = tmp_path / "timetable.pdf"
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+841\.89 x 595\.27\d? pts \(A4\)", info), info
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    embedded = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert embedded and all(" yes " in line for line in embedded), fonts  # every font is embedded


def test_teacher_and_room_pdfs_and_chosen_names(tmp_path: Path) -> None:
    problem, solution = school()
    pages = pdf_pages(to_pdf(problem, solution, by="teacher", times=TIMES), tmp_path)
    assert [p for p in pages if "教师课表：王老师" in p] == [pages[0]]
    assert "高一(2)班" in pages[0] and "102教室" in pages[0]
    assert len(pages) == 3
    pages = pdf_pages(to_pdf(problem, solution, by="room", names=["物理实验室"]), tmp_path)
    assert len(pages) == 1
    assert "教室课表：物理实验室" in pages[0] and "张老师" in pages[0] and "第3节" in pages[0]


def test_same_timetable_gives_the_same_pdf() -> None:
    problem, solution = school()
    assert to_pdf(problem, solution, times=TIMES) == to_pdf(problem, solution, times=TIMES)


def test_pdf_says_what_to_install_when_no_embeddable_chinese_font(tmp_path: Path) -> None:
    problem, solution = school()
    with pytest.raises(ExportError, match="找不到字体文件"):
        to_pdf(problem, solution, font=tmp_path / "missing.ttf")
    noto = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")  # fonts-noto-cjk: CFF outlines
    assert noto.is_file(), "scripts/system_deps.py installs fonts-noto-cjk"
    with pytest.raises(ExportError, match="需要可嵌入的 TrueType 中文字体"):
        to_pdf(problem, solution, font=noto)


# --- iCalendar ---------------------------------------------------------------------------------------------

# Autumn 2025: 国庆 and 中秋 from 1 to 8 October; Sunday 28 September runs Monday's lessons (调休).
TERM = Term(
    first_day=date(2025, 9, 1),
    last_day=date(2025, 10, 31),
    holidays=frozenset(date(2025, 10, d) for d in range(1, 9)),
    makeup_days={date(2025, 9, 28): 0},
)


def events(ics: str) -> list[Any]:
    cal = Calendar.from_ical(ics)
    return list(cal.walk("VEVENT"))


def occurrences(event: Any) -> list[datetime]:
    """Expand the event as a calendar program does: its rule, less EXDATEs, plus RDATEs."""
    start = event.decoded("dtstart")
    rules = rruleset()
    if "rrule" in event:
        rules.rrule(rrulestr(event["rrule"].to_ical().decode(), dtstart=start))
    else:
        rules.rdate(start)
    for name, add in (("exdate", rules.exdate), ("rdate", rules.rdate)):
        values = event.get(name, [])
        for value in values if isinstance(values, list) else [values]:
            for d in value.dts:
                add(d.dt)
    return list(rules)


def test_teacher_calendar_has_a_weekly_event_per_lesson_through_the_term() -> None:
    problem, solution = school()
    ics = to_ics(problem, solution, teacher="王老师", times=TIMES, term=TERM)
    cal = Calendar.from_ical(ics)
    assert cal["version"] == "2.0" and cal["x-wr-calname"] == "王老师 课表"
    (tz,) = cal.walk("VTIMEZONE")
    assert tz["tzid"] == "Asia/Shanghai"
    found = events(ics)
    assert [str(e["summary"]) for e in found] == ["语文 高一(1)班", "语文 高一(2)班"]  # 体育 was not placed
    first, second = found
    assert str(first["location"]) == "101教室"
    assert first.decoded("dtstart") == datetime(2025, 9, 1, 8, 0, tzinfo=SHANGHAI)
    assert first.decoded("dtend") == datetime(2025, 9, 1, 8, 45, tzinfo=SHANGHAI)
    assert first["dtstart"].params["TZID"] == "Asia/Shanghai"
    assert first["rrule"]["FREQ"] == ["WEEKLY"]
    assert first["rrule"]["UNTIL"] == [datetime(2025, 10, 31, 15, 59, 59, tzinfo=UTC)]  # 23:59:59 in Beijing
    assert "星期一 第1节 08:00-08:45" in str(first["description"])

    mondays = [date(2025, 9, d) for d in (1, 8, 15, 22, 28, 29)] + [date(2025, 10, d) for d in (13, 20, 27)]
    assert [d.date() for d in occurrences(first)] == mondays  # 6 October off, Sunday 28 September on
    assert all(d.timetz() == time(8, 0, tzinfo=SHANGHAI) for d in occurrences(first))
    assert second.decoded("dtstart") == datetime(2025, 9, 1, 8, 55, tzinfo=SHANGHAI)
    assert len(occurrences(second)) == len(mondays)


def test_double_lesson_runs_to_the_end_of_its_last_period_and_a_holiday_start_moves_the_first_day() -> None:
    problem, solution = school()
    term = Term(date(2025, 9, 1), date(2025, 9, 30), holidays={date(2025, 9, 2)})
    (event,) = events(to_ics(problem, solution, teacher="张老师", times=TIMES, term=term))
    assert str(event["summary"]) == "物理 高一(1)班、高一(2)班"
    assert str(event["location"]) == "物理实验室"
    assert event.decoded("dtstart") == datetime(2025, 9, 9, 10, 0, tzinfo=SHANGHAI)  # 2 September off
    assert event.decoded("dtend") == datetime(2025, 9, 9, 11, 40, tzinfo=SHANGHAI)
    assert "连堂 2 节" in str(event["description"])
    assert [d.day for d in occurrences(event)] == [9, 16, 23, 30]


def test_lesson_uids_are_stable_across_exports_and_distinct_between_lessons() -> None:
    problem, solution = school()
    one = events(to_ics(problem, solution, teacher="王老师", times=TIMES, term=TERM))
    solution.placements[1] = Placement(3, 2, ("101教室",))  # the lesson moves to Thursday
    two = events(to_ics(problem, solution, teacher="王老师", times=TIMES, term=TERM))
    assert [str(e["uid"]) for e in one] == [str(e["uid"]) for e in two]
    assert len({str(e["uid"]) for e in one}) == 2
    assert two[0].decoded("dtstart") == datetime(2025, 9, 4, 10, 0, tzinfo=SHANGHAI)
    next_term = Term(date(2026, 3, 2), date(2026, 7, 10))
    three = events(to_ics(problem, solution, teacher="王老师", times=TIMES, term=next_term))
    assert not {str(e["uid"]) for e in three} & {str(e["uid"]) for e in one}


def test_calendar_refuses_unknown_teachers_and_bad_terms() -> None:
    problem, solution = school()
    with pytest.raises(ExportError, match="没有名为「赵老师」的教师"):
        to_ics(problem, solution, teacher="赵老师", times=TIMES, term=TERM)
    with pytest.raises(ExportError, match="早于第一天"):
        Term(date(2025, 9, 1), date(2025, 8, 1))
    with pytest.raises(ExportError, match="调休日 2025-09-28 要上的是第7天的课"):
        to_ics(
            problem,
            solution,
            teacher="王老师",
            times=TIMES,
            term=Term(TERM.first_day, TERM.last_day, makeup_days={date(2025, 9, 28): 6}),
        )


def test_english_day_names_from_fet_map_to_weekdays() -> None:
    problem, solution = school()
    problem.days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    wb = load_workbook(io.BytesIO(to_xlsx(problem, solution)))
    assert wb["高一(1)班"]["B2"].value == "星期一"
    (event,) = events(to_ics(problem, solution, teacher="张老师", times=TIMES, term=TERM))[:1]
    assert event.decoded("dtstart").date() == date(2025, 9, 2)  # Tuesday
