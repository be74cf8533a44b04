"""A solved timetable as files people use: Excel workbooks, printable PDF pages, iCalendar feeds.

Pure functions over the engine's `Problem` and `Solution` (no Django), so the pages, the API, the CLI
and background jobs all export the same way. Views:

- by class (班级): one timetable per student set that activities name directly (a teaching class 教学班
  gets its own, an administrative class 行政班 shows the lessons named for it);
- by teacher (教师) and by room (教室): one per teacher or real room with at least one lesson.

The clock times of periods (`PeriodTimes`) and the term (`Term`: first and last day, holidays, 调休
make-up days) are the school's, not the solver's, so they come in beside the problem.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from zhixiao.kernel.pdf_fonts import CjkFontError, register_cjk_font

from .engine.model import Activity, Placement, Problem, Solution

By = Literal["class", "teacher", "room"]
BY_CHOICES: tuple[By, ...] = ("class", "teacher", "room")
KIND_LABEL: dict[str, str] = {"class": "班级", "teacher": "教师", "room": "教室"}

TIMEZONE = "Asia/Shanghai"

WEEKDAY_LABELS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_WEEKDAY_ALIASES: dict[str, int] = {}
for _i, (_en, _short) in enumerate(
    zip(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        ("一", "二", "三", "四", "五", "六", "日"),
        strict=True,
    )
):
    for _alias in (_en, _en[:3], f"星期{_short}", f"周{_short}", f"礼拜{_short}"):
        _WEEKDAY_ALIASES[_alias] = _i
_WEEKDAY_ALIASES.update({"星期天": 6, "周天": 6, "礼拜天": 6})


class ExportError(ValueError):
    """The export cannot be made as asked; the message says why, in Chinese."""


# ---------------------------------------------------------------------------------------------------------
# The school's clock and calendar


@dataclass(frozen=True)
class PeriodTime:
    name: str  # 第1节, 早读, 晚自习1 …; empty = "第n节"
    start: time
    end: time


@dataclass(frozen=True)
class PeriodTimes:
    """When each period of the day starts and ends, in the problem's period order."""

    periods: tuple[PeriodTime, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "periods", tuple(self.periods))
        for i, p in enumerate(self.periods):
            if p.end <= p.start:
                raise ExportError(f"第{i + 1}节的下课时间 {p.end:%H:%M} 不晚于上课时间 {p.start:%H:%M}")

    @classmethod
    def parse(cls, spans: Iterable[str], names: Iterable[str] | None = None) -> PeriodTimes:
        """From spans like "08:00-08:45" (also "8:00–8:45", "08:00~08:45"), with optional period names."""
        spans = list(spans)
        name_list = list(names) if names is not None else [""] * len(spans)
        if len(name_list) != len(spans):
            raise ExportError(f"节次名称有 {len(name_list)} 个，作息时间有 {len(spans)} 段，数目不一致")
        periods = []
        for name, span in zip(name_list, spans, strict=True):
            m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*[-–~至]\s*(\d{1,2}):(\d{2})\s*", span)
            if not m:
                raise ExportError(f"作息时间「{span}」的格式不对，应为 08:00-08:45")
            h1, m1, h2, m2 = (int(g) for g in m.groups())
            if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
                raise ExportError(f"作息时间「{span}」不是有效的时刻")
            periods.append(PeriodTime(name=name, start=time(h1, m1), end=time(h2, m2)))
        return cls(tuple(periods))

    def __len__(self) -> int:
        return len(self.periods)

    def __getitem__(self, index: int) -> PeriodTime:
        return self.periods[index]


@dataclass(frozen=True)
class Term:
    """A school term: lessons repeat weekly from `first_day` to `last_day` inclusive, except on `holidays`.

    `makeup_days` (调休): a date on which the school follows another day's timetable, as
    {date: day index in the problem}; e.g. a Sunday that runs Friday's lessons before 国庆.
    """

    first_day: date
    last_day: date
    holidays: frozenset[date] = frozenset()
    makeup_days: Mapping[date, int] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "makeup_days", dict(self.makeup_days))
        if self.last_day < self.first_day:
            raise ExportError(f"学期的最后一天 {self.last_day} 早于第一天 {self.first_day}")


# ---------------------------------------------------------------------------------------------------------
# Lessons and who sees them


@dataclass(frozen=True)
class _Lesson:
    activity: Activity
    day: int
    period: int
    rooms: tuple[str, ...]  # the real rooms (a virtual room stands for its real rooms when they are given)

    @property
    def periods(self) -> range:
        return range(self.period, self.period + max(1, self.activity.duration))


def _display_rooms(problem: Problem, placement: Placement) -> tuple[str, ...]:
    rooms = placement.rooms
    if rooms and (first := problem.rooms.get(rooms[0])) is not None and first.virtual:
        return rooms[1:] or rooms[:1]
    return rooms


def _lessons(problem: Problem, solution: Solution) -> tuple[list[_Lesson], list[Activity]]:
    """The placed lessons in the problem's activity order, and the activities left unplaced."""
    known = {a.id for a in problem.activities}
    stray = sorted(set(solution.placements) - known)
    if stray:
        raise ExportError(f"课表结果中的课程编号 {stray[0]} 不在排课数据中")
    placed, unplaced = [], []
    for activity in problem.activities:
        p = solution.placements.get(activity.id)
        if p is None:
            unplaced.append(activity)
            continue
        if not (0 <= p.day < problem.n_days and p.period >= 0 and p.period + activity.duration <= problem.n_periods):
            raise ExportError(
                f"课程 #{activity.id}（{activity.subject}）排在第{p.day + 1}天第{p.period + 1}节，超出了课表的范围"
            )
        placed.append(_Lesson(activity, p.day, p.period, _display_rooms(problem, p)))
    return placed, unplaced


def _keys(lesson: _Lesson, by: By) -> tuple[str, ...]:
    if by == "class":
        return lesson.activity.students
    if by == "teacher":
        return lesson.activity.teachers
    return lesson.rooms


def _known_names(problem: Problem, by: By) -> list[str]:
    if by == "class":
        return list(problem.student_sets)
    if by == "teacher":
        return list(problem.teachers)
    return [name for name, room in problem.rooms.items() if not room.virtual]


def _views(problem: Problem, lessons: list[_Lesson], by: By, names: Sequence[str] | None) -> list[tuple[str, list]]:
    """(name, its lessons) for each class, teacher or room, in the problem's order."""
    if by not in BY_CHOICES:
        raise ExportError(f"不支持的课表视图「{by}」：应为 class、teacher 或 room")
    found: dict[str, list[_Lesson]] = {}
    for lesson in lessons:
        for key in dict.fromkeys(_keys(lesson, by)):
            found.setdefault(key, []).append(lesson)
    known = _known_names(problem, by)
    if names is None:
        order = {name: i for i, name in enumerate(known)}
        seen = {name: i for i, name in enumerate(found)}
        chosen = sorted(found, key=lambda n: (order.get(n, len(order)), seen[n]))
    else:
        chosen = list(dict.fromkeys(names))
        for name in chosen:
            if name not in found and name not in known:
                raise ExportError(f"没有名为「{name}」的{KIND_LABEL[by]}")
    return [(name, found.get(name, [])) for name in chosen]


def _cell_lines(lesson: _Lesson, by: By) -> list[str]:
    a = lesson.activity
    classes, teachers, rooms = "、".join(a.students), "、".join(a.teachers), "、".join(lesson.rooms)
    lines = {"class": [teachers, rooms], "teacher": [classes, rooms], "room": [classes, teachers]}[by]
    return [line for line in [a.subject, *lines] if line]


def _short_lines(lesson: _Lesson, by: By) -> list[str]:
    """The overview's cell: the subject and the one other thing the row does not say."""
    a = lesson.activity
    other = {"class": "、".join(a.teachers), "teacher": "、".join(a.students), "room": "、".join(a.students)}[by]
    return [line for line in (a.subject, other) if line]


def _grid(problem: Problem, lessons: list[_Lesson]) -> dict[tuple[int, int], list[_Lesson]]:
    grid: dict[tuple[int, int], list[_Lesson]] = {}
    for lesson in lessons:
        for period in lesson.periods:
            grid.setdefault((lesson.day, period), []).append(lesson)
    return grid


def _span(grid: dict[tuple[int, int], list[_Lesson]], day: int, period: int) -> int:
    """How many periods from (day, period) on hold exactly one and the same multi-period lesson (1 if none)."""
    cell = grid.get((day, period), [])
    if len(cell) != 1 or cell[0].period != period:
        return 1
    n = 1
    for p in cell[0].periods[1:]:
        if grid.get((day, p)) != cell:
            break
        n += 1
    return n


def _weekday(problem: Problem, day: int) -> int:
    """The calendar weekday (0 = Monday) of a problem day: from its name when it names one, else its index."""
    name = problem.days[day].strip().lower()
    if name in _WEEKDAY_ALIASES:
        return _WEEKDAY_ALIASES[name]
    if day < 7:
        return day
    raise ExportError(f"课表的第{day + 1}天「{problem.days[day]}」对应不到星期几")


def _day_label(problem: Problem, day: int) -> str:
    name = problem.days[day].strip()
    if name.lower() in _WEEKDAY_ALIASES:
        return WEEKDAY_LABELS[_WEEKDAY_ALIASES[name.lower()]]
    return name or WEEKDAY_LABELS[day % 7]


def _period_name(problem: Problem, period: int, times: PeriodTimes | None) -> str:
    name = times[period].name.strip() if times is not None else ""
    if not name:
        name = problem.periods[period].strip()
    if not name or name.isdigit():
        return f"第{name or period + 1}节"
    return name


def _period_label(problem: Problem, period: int, times: PeriodTimes | None) -> str:
    label = _period_name(problem, period, times)
    if times is not None:
        label += f" {times[period].start:%H:%M}-{times[period].end:%H:%M}"
    return label


def _check_times(problem: Problem, times: PeriodTimes | None) -> None:
    if times is not None and len(times) != problem.n_periods:
        raise ExportError(f"作息时间有 {len(times)} 节，课表每天有 {problem.n_periods} 节，数目不一致")


def _title(problem: Problem, by: By, name: str) -> str:
    prefix = f"{problem.name} " if problem.name else ""
    return f"{prefix}{KIND_LABEL[by]}课表：{name}"


# ---------------------------------------------------------------------------------------------------------
# Excel


def to_xlsx(
    problem: Problem,
    solution: Solution,
    *,
    by: By = "class",
    times: PeriodTimes | None = None,
    names: Sequence[str] | None = None,
) -> bytes:
    """An .xlsx workbook: an overview sheet (总表) and one printable week grid per class, teacher or room."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    _check_times(problem, times)
    lessons, unplaced = _lessons(problem, solution)
    views = _views(problem, lessons, by, names)
    days, periods = range(problem.n_days), range(problem.n_periods)

    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="E8EEF7")

    def printable(ws, *, tall: bool) -> None:
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0 if tall else 1  # 0: as many pages down as the rows need
        ws.print_options.horizontalCentered = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = ws.page_margins.bottom = 0.5

    def framed(cell, value: str, *, head: bool = False) -> None:
        cell.value = value
        cell.alignment = centre
        cell.border = border
        if head:
            cell.font = bold
            cell.fill = head_fill

    wb = Workbook()
    overview = wb.active
    assert overview is not None
    used_titles: set[str] = set()
    overview.title = _sheet_title("总表", used_titles)

    # Overview (总表): a row per class/teacher/room, a column per (day, period).
    n_cols = 1 + problem.n_days * problem.n_periods
    overview.cell(1, 1, f"{problem.name + ' ' if problem.name else ''}{KIND_LABEL[by]}总课表").font = Font(
        bold=True, size=14
    )
    overview.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n_cols)
    overview.cell(1, 1).alignment = centre
    framed(overview.cell(2, 1), KIND_LABEL[by], head=True)
    framed(overview.cell(3, 1), "节次", head=True)
    for d in days:
        first = 2 + d * problem.n_periods
        for p in periods:
            framed(overview.cell(2, first + p), _day_label(problem, d), head=True)
            framed(overview.cell(3, first + p), _period_name(problem, p, times), head=True)
        overview.merge_cells(start_row=2, start_column=first, end_row=2, end_column=first + problem.n_periods - 1)
    for r, (name, own) in enumerate(views, start=4):
        framed(overview.cell(r, 1), name, head=True)
        grid = _grid(problem, own)
        for d in days:
            p = 0
            while p < problem.n_periods:
                col = 2 + d * problem.n_periods + p
                cell_lessons = grid.get((d, p), [])
                framed(overview.cell(r, col), "\n".join("\n".join(_short_lines(x, by)) for x in cell_lessons))
                span = _span(grid, d, p)
                for k in range(1, span):
                    framed(overview.cell(r, col + k), "")
                if span > 1:
                    overview.merge_cells(start_row=r, start_column=col, end_row=r, end_column=col + span - 1)
                p += span
        overview.row_dimensions[r].height = 32
    overview.column_dimensions["A"].width = 14
    for c in range(2, n_cols + 1):
        overview.column_dimensions[get_column_letter(c)].width = 9
    overview.freeze_panes = "B4"
    overview.print_title_rows = "2:3"
    if unplaced:
        r = 5 + len(views)
        overview.cell(r, 1, f"未排入的课程（{len(unplaced)}）").font = bold
        for i, a in enumerate(unplaced, start=1):
            who = "；".join(x for x in ("、".join(a.students), "、".join(a.teachers)) if x)
            overview.cell(r + i, 1, f"#{a.id} {a.subject}" + (f"（{who}）" if who else ""))
    printable(overview, tall=True)

    # One week grid per class/teacher/room.
    for name, own in views:
        ws = wb.create_sheet(_sheet_title(name, used_titles))
        ws.cell(1, 1, _title(problem, by, name)).font = Font(bold=True, size=14)
        ws.cell(1, 1).alignment = centre
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=1 + problem.n_days)
        ws.row_dimensions[1].height = 28
        framed(ws.cell(2, 1), "节次", head=True)
        for d in days:
            framed(ws.cell(2, 2 + d), _day_label(problem, d), head=True)
        for p in periods:
            framed(ws.cell(3 + p, 1), _period_label(problem, p, times), head=True)
        grid = _grid(problem, own)
        tallest = 1
        for d in days:
            p = 0
            while p < problem.n_periods:
                texts = ["\n".join(_cell_lines(x, by)) for x in grid.get((d, p), [])]
                tallest = max(tallest, sum(t.count("\n") + 1 for t in texts))
                framed(ws.cell(3 + p, 2 + d), "\n\n".join(texts))
                span = _span(grid, d, p)
                for k in range(1, span):
                    framed(ws.cell(3 + p + k, 2 + d), "")
                if span > 1:
                    ws.merge_cells(start_row=3 + p, start_column=2 + d, end_row=3 + p + span - 1, end_column=2 + d)
                p += span
        ws.row_dimensions[2].height = 20
        for p in periods:
            ws.row_dimensions[3 + p].height = max(30, 15 * min(tallest, 4))
        ws.column_dimensions["A"].width = 20 if times is not None else 10
        for d in days:
            ws.column_dimensions[get_column_letter(2 + d)].width = 22
        printable(ws, tall=False)

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_title(name: str, used: set[str]) -> str:
    """A valid, unique Excel sheet name: at most 31 characters, none of []:*?/\\, not quoted at either end."""
    base = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'") or "未命名"
    title, n = base[:31], 1
    while title.lower() in used:
        n += 1
        suffix = f"({n})"
        title = base[: 31 - len(suffix)] + suffix
    used.add(title.lower())
    return title


# ---------------------------------------------------------------------------------------------------------
# PDF


def _cjk_font(font: str | Path | None) -> str:
    """Register an embeddable TrueType CJK font with ReportLab and return its name; say what to install if none."""
    try:
        return register_cjk_font(font)
    except CjkFontError as exc:
        raise ExportError(str(exc)) from exc


def to_pdf(
    problem: Problem,
    solution: Solution,
    *,
    by: By = "class",
    names: Sequence[str] | None = None,
    times: PeriodTimes | None = None,
    font: str | Path | None = None,
) -> bytes:
    """A4 landscape PDF, one page per class, teacher or room, Chinese in an embedded TrueType font."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    _check_times(problem, times)
    lessons, _ = _lessons(problem, solution)
    views = _views(problem, lessons, by, names)
    font_name = _cjk_font(font)

    page_w, page_h = landscape(A4)
    margin = 10 * mm
    avail_w, avail_h = page_w - 2 * margin, page_h - 2 * margin
    title_h, head_h = 14 * mm, 8 * mm
    label_w = (30 if times is not None else 18) * mm
    day_w = (avail_w - label_w) / max(1, problem.n_days)
    row_h = min(30 * mm, (avail_h - title_h - head_h - 2 * mm) / max(1, problem.n_periods))

    title_style = ParagraphStyle("title", fontName=font_name, fontSize=16, leading=20, alignment=1)
    head_style = ParagraphStyle("head", fontName=font_name, fontSize=10, leading=12, alignment=1, wordWrap="CJK")

    story: list = []
    for i, (name, own) in enumerate(views):
        grid = _grid(problem, own)
        texts = {key: [_cell_lines(x, by) for x in cell] for key, cell in grid.items()}
        spans = {(d, p): _span(grid, d, p) for d in range(problem.n_days) for p in range(problem.n_periods)}
        covered = {(d, p + k) for (d, p), n in spans.items() for k in range(1, n)}
        markup = {
            key: "<br/><br/>".join("<br/>".join(map(escape, lines)) for lines in cell)
            for key, cell in texts.items()
            if key not in covered
        }
        size = _fitting_size(markup, spans, font_name, width=day_w - 4, height=row_h - 2)
        cell_style = ParagraphStyle(
            "cell", fontName=font_name, fontSize=size, leading=size * 1.2, alignment=1, wordWrap="CJK"
        )
        label_style = ParagraphStyle(
            "label", parent=cell_style, fontSize=min(9.0, size + 1), leading=min(9.0, size + 1) * 1.2
        )
        data: list[list] = [[Paragraph("节次", head_style)]]
        data[0] += [Paragraph(escape(_day_label(problem, d)), head_style) for d in range(problem.n_days)]
        for p in range(problem.n_periods):
            row: list = [Paragraph(escape(_period_label(problem, p, times)), label_style)]
            for d in range(problem.n_days):
                row.append(Paragraph(markup[d, p], cell_style) if (d, p) in markup else "")
            data.append(row)
        style = [
            ("FONT", (0, 0), (-1, -1), font_name, 10),  # Table's default is an unembedded Helvetica
            ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
            ("BOX", (0, 0), (-1, -1), 1.2, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8EEF7")),
            ("BACKGROUND", (0, 1), (0, -1), colors.HexColor("#F4F6FA")),
            ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ("TOPPADDING", (0, 0), (-1, -1), 1),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        ]
        style += [("SPAN", (1 + d, 1 + p), (1 + d, p + n)) for (d, p), n in spans.items() if n > 1]
        table = Table(
            data,
            colWidths=[label_w] + [day_w] * problem.n_days,
            rowHeights=[head_h] + [row_h] * problem.n_periods,
            repeatRows=0,
        )
        table.setStyle(TableStyle(style))
        if i:
            story.append(PageBreak())
        story += [Paragraph(escape(_title(problem, by, name)), title_style), Spacer(1, 4 * mm), table]
    if not story:
        story.append(Paragraph(f"没有可打印的{KIND_LABEL[by]}课表", title_style))

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=(page_w, page_h),
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=f"{problem.name} {KIND_LABEL[by]}课表".strip(),
        author="智校",
        creator="智校 zhixiao",
        initialFontName=font_name,  # no unembedded Helvetica in the file
        # Same input, same bytes: no random document id, no creation time.
        invariant=1,
    )
    doc.build(story)
    return out.getvalue()


def _fitting_size(
    markup: Mapping[tuple[int, int], str],
    spans: Mapping[tuple[int, int], int],
    font_name: str,
    *,
    width: float,
    height: float,
) -> float:
    """The largest font size (12 pt down to 4) at which every cell's text fits its cell, so no page overflows."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    size = 12.0
    while size > 4.0:
        style = ParagraphStyle("fit", fontName=font_name, fontSize=size, leading=size * 1.2, wordWrap="CJK")
        if all(Paragraph(m, style).wrap(width, 10**6)[1] <= height * spans[key] for key, m in markup.items()):
            break
        size -= 0.5
    return size


# ---------------------------------------------------------------------------------------------------------
# iCalendar


def _uid(problem: Problem, term: Term, activity: Activity) -> str:
    """Stable across exports of the same term's timetable, so a calendar app updates a moved lesson in place."""
    key = f"{problem.name}\x00{term.first_day.isoformat()}\x00{activity.id}"
    return f"{uuid.uuid5(uuid.NAMESPACE_URL, 'zhixiao:timetable:' + key)}@zhixiao"


def to_ics(
    problem: Problem,
    solution: Solution,
    *,
    teacher: str,
    times: PeriodTimes,
    term: Term,
    stamp: datetime | None = None,
) -> str:
    """A teacher's iCalendar feed: one weekly recurring event per lesson through the term, holidays excepted.

    Times are local school time (TZID Asia/Shanghai with its VTIMEZONE). A holiday removes that day's
    lessons (EXDATE); a 调休 make-up day adds the lessons of the day it follows (RDATE).
    """
    from icalendar import Calendar, Event, Timezone

    _check_times(problem, times)
    if teacher not in problem.teachers and not any(teacher in a.teachers for a in problem.activities):
        raise ExportError(f"没有名为「{teacher}」的教师")
    for d, follows in term.makeup_days.items():
        if not 0 <= follows < problem.n_days:
            raise ExportError(f"调休日 {d} 要上的是第{follows + 1}天的课，课表只有 {problem.n_days} 天")
    lessons, _ = _lessons(problem, solution)
    tz = ZoneInfo(TIMEZONE)
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC)
    off = term.holidays | set(term.makeup_days)
    until = datetime.combine(term.last_day, time(23, 59, 59), tzinfo=tz).astimezone(UTC)

    cal = Calendar()
    cal.add("prodid", "-//zhixiao//智校 timetable//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{teacher} 课表")
    cal.add("x-wr-timezone", TIMEZONE)
    cal.add_component(
        Timezone.from_tzid(
            TIMEZONE, first_date=term.first_day - timedelta(days=1), last_date=term.last_day + timedelta(days=1)
        )
    )

    for lesson in lessons:
        a = lesson.activity
        if teacher not in a.teachers:
            continue
        start_t, end_t = times[lesson.period].start, times[lesson.period + max(1, a.duration) - 1].end
        weekday = _weekday(problem, lesson.day)
        first = term.first_day + timedelta(days=(weekday - term.first_day.weekday()) % 7)
        weekly = []
        d = first
        while d <= term.last_day:
            weekly.append(d)
            d += timedelta(days=7)
        regular = [d for d in weekly if d not in off]
        extra = sorted(
            d
            for d, follows in term.makeup_days.items()
            if follows == lesson.day and term.first_day <= d <= term.last_day and d not in term.holidays
        )
        if not regular and not extra:
            continue

        def at(day: date, t: time) -> datetime:
            return datetime.combine(day, t, tzinfo=tz)

        event = Event()
        event.add("uid", _uid(problem, term, a))
        event.add("dtstamp", stamp)
        event.add("summary", " ".join(x for x in (a.subject, "、".join(a.students)) if x))
        if lesson.rooms:
            event.add("location", "、".join(lesson.rooms))
        description = [f"{_day_label(problem, lesson.day)} {_period_label(problem, lesson.period, times)}"]
        if a.duration > 1:
            description[0] += f"（连堂 {a.duration} 节）"
        if len(a.teachers) > 1:
            description.append("任课：" + "、".join(a.teachers))
        event.add("description", "\n".join(description))
        event.add("categories", [a.subject])
        if regular:
            start = regular[0]
            event.add("dtstart", at(start, start_t))
            event.add("dtend", at(start, end_t))
            event.add("rrule", {"freq": "weekly", "until": until})
            skipped = [d for d in weekly if d in off and d > start]
            if skipped:
                event.add("exdate", [at(d, start_t) for d in skipped])
            if extra:
                event.add("rdate", [at(d, start_t) for d in extra])
        else:
            event.add("dtstart", at(extra[0], start_t))
            event.add("dtend", at(extra[0], end_t))
            if extra[1:]:
                event.add("rdate", [at(d, start_t) for d in extra[1:]])
        cal.add_component(event)

    return cal.to_ical().decode("utf-8")
