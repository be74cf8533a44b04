"""Answer-sheet PDFs (答题卡) and their layout (SHEET.layout.json, format `zhixiao-omr-layout/1`).

`plan_sheet` places everything in millimetres from the page's top-left corner (x right, y down); `render_pdf`
draws that plan with ReportLab, so the PDF and the layout JSON come from the same numbers. A4 is portrait
with one column, A3 landscape with two; content flows column by column and page by page. Every page has
four ArUco markers (DICT_4X4_50, ids 0–3 clockwise from top-left) and a QR code
`ZXOMR1|exam_code|subject_code|page|pages|student_id`. Markers and QR modules are vector squares, never
images, so they print sharp at any resolution.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from zhixiao.kernel.pdf_fonts import CjkFontError, register_cjk_font

from .paper import Paper, PaperError, Question
from .roster import Student

FORMAT = "zhixiao-omr-layout/1"
QR_PREFIX = "ZXOMR1"
PAGE_MM: dict[str, tuple[float, float]] = {"A4": (210.0, 297.0), "A3": (420.0, 297.0)}  # A3 is landscape

# Geometry, in millimetres.
MARKER_SIZE = 10.0  # outer side, black border included
MARKER_INSET = 10.0  # page edge → marker's outer edge
QR_SIZE = 20.0  # the symbol without its quiet zone
QR_GAP = 5.0  # QR ↔ top-right marker (the quiet zone needs 4 modules ≈ 2.8 mm)
MARGIN_X = 12.0
COLUMN_GAP = 12.0  # between the two columns of an A3 page
FRAME_TOP = 35.0  # content starts below the title band (markers, titles, QR)
FRAME_BOTTOM = 273.0  # and ends 4 mm above the bottom markers
BUBBLE_W, BUBBLE_H, BUBBLE_RADIUS = 5.0, 3.5, 1.0
PITCH_X, PITCH_Y = 7.2, 5.5  # bubble centre to centre: gaps of 2.2 and 2.0 mm
BUBBLE_LINE = 0.3
NUMBER_W = 7.5  # question number left of a row of bubbles
BLOCK_ROWS = 5  # questions per block, as on printed 答题卡
BLOCK_GAP = 5.0
SECTION_PAD = 3.0
TITLE_H = 6.5
BOX_GAP = 2.5
MIN_CLEARANCE = 3.0  # bubble ↔ marker / QR

PT_PER_MM = 72 / 25.4

NOTES = (
    "答题前，考生务必将自己的姓名、班级、{label}填写清楚，并用 2B 铅笔将{label}对应的信息点涂黑。",
    "选择题必须使用 2B 铅笔填涂，修改时用橡皮擦干净；非选择题必须使用 0.5 毫米黑色签字笔书写。",
    "请按题号顺序在各题目的答题区域内作答，超出答题区域书写的答案无效；在草稿纸、试卷上答题无效。",
    "保持卡面清洁，不要折叠、不要弄破，不要在四角的定位标记及二维码上书写。",
)
NOTICE = "请在各题目的答题区域内作答，超出黑色矩形边框限定区域的答案无效"


# ---------------------------------------------------------------------------------------------------------
# The plan: what goes where


@dataclass(frozen=True)
class Marker:
    id: int
    corner: str  # tl, tr, br, bl
    x: float  # centre
    y: float
    size: float


@dataclass(frozen=True)
class QrSpot:
    x: float  # centre
    y: float
    size: float


@dataclass(frozen=True)
class Bubble:
    page: int
    x: float  # centre
    y: float
    w: float
    h: float
    kind: Literal["option", "id"]
    label: str  # printed faintly inside
    question: int = 0
    option: str = ""
    position: int = 0  # id digit position, 0 = leftmost
    digit: int = 0


@dataclass(frozen=True)
class AnswerBox:
    page: int
    question: int
    x: float  # top-left
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    size: float  # points
    align: Literal["left", "centre", "right"] = "left"
    grey: float = 0.0


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    line: float = 0.25
    radius: float = 0.0
    fill: float | None = None  # grey level, or None for outline only
    stroke: bool = True


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    line: float = 0.2
    dash: bool = False


Ink = Text | Rect | Line


@dataclass
class SheetPage:
    number: int
    markers: list[Marker]
    qr: QrSpot
    bubbles: list[Bubble] = field(default_factory=list)
    boxes: list[AnswerBox] = field(default_factory=list)
    ink: list[Ink] = field(default_factory=list)
    # Where a pre-printed sheet puts the student's data: field → (x, baseline y, width) for name and class,
    # and the centres of the ID write-in boxes.
    fields: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    id_boxes: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class SheetPlan:
    paper: Paper
    width: float
    height: float
    font: str
    pages: list[SheetPage]

    @property
    def bubbles(self) -> list[Bubble]:
        return [b for p in self.pages for b in p.bubbles]

    @property
    def boxes(self) -> list[AnswerBox]:
        return [b for p in self.pages for b in p.boxes]

    def qr_text(self, page: int, student_id: str = "") -> str:
        p = self.paper
        return f"{QR_PREFIX}|{p.exam_code}|{p.subject_code}|{page}|{len(self.pages)}|{student_id}"

    def layout(self) -> dict[str, Any]:
        """The layout contract (docs/omr.md): everything a reader needs to find and interpret each mark."""
        p = self.paper
        bubbles: list[dict[str, Any]] = []
        for b in self.bubbles:
            item: dict[str, Any] = {
                "page": b.page,
                "x": _r(b.x),
                "y": _r(b.y),
                "w": _r(b.w),
                "h": _r(b.h),
                "kind": b.kind,
            }
            if b.kind == "option":
                item.update(question=b.question, option=b.option)
            else:
                item.update(position=b.position, digit=b.digit)
            bubbles.append(item)
        questions: list[dict[str, Any]] = []
        for q in p.questions:
            entry: dict[str, Any] = {"no": q.no, "type": q.type, "options": list(q.options), "score": _num(q.score)}
            if q.type == "multiple":
                entry["partial"] = _num(q.partial or 0.0)
            entry["section"] = q.section
            questions.append(entry)
        return {
            "format": FORMAT,
            "exam": p.exam,
            "exam_code": p.exam_code,
            "subject": p.subject,
            "subject_code": p.subject_code,
            "school": p.school,
            "paper_size": p.paper_size,
            "page_size_mm": [_num(self.width), _num(self.height)],
            "pages": [
                {
                    "page": page.number,
                    "markers": [
                        {"id": m.id, "corner": m.corner, "x": _r(m.x), "y": _r(m.y), "size": _r(m.size)}
                        for m in page.markers
                    ],
                    "qr": {
                        "x": _r(page.qr.x),
                        "y": _r(page.qr.y),
                        "size": _r(page.qr.size),
                        "text": self.qr_text(page.number),
                    },
                }
                for page in self.pages
            ],
            "id": {"label": p.id.label, "digits": p.id.digits},
            "bubbles": bubbles,
            "boxes": [
                {"page": b.page, "question": b.question, "x": _r(b.x), "y": _r(b.y), "w": _r(b.w), "h": _r(b.h)}
                for b in self.boxes
            ],
            "questions": questions,
            "answer_key": {str(k): v for k, v in sorted(p.answer_key.items())},
        }


def _r(v: float) -> float:
    return round(v, 2)


def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() else v


def text_width(text: str, size: float, font: str) -> float:
    """Width in mm of `text` at `size` points."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return float(stringWidth(text, font, size)) / PT_PER_MM


def wrap(text: str, size: float, font: str, width: float) -> list[str]:
    """Break Chinese text into lines no wider than `width` mm (character by character, as CJK wraps)."""
    lines: list[str] = []
    line = ""
    for ch in text:
        if line and text_width(line + ch, size, font) > width:
            lines.append(line)
            line = ""
        line += ch
    if line:
        lines.append(line)
    return lines


class _Flow:
    """Places content frame by frame: one frame per A4 page, two columns per A3 page."""

    def __init__(self, paper: Paper, font: str) -> None:
        self.paper = paper
        self.font = font
        self.width, self.height = PAGE_MM[paper.paper_size]
        if paper.paper_size == "A3":
            mid = self.width / 2
            self.columns = [(MARGIN_X, mid - COLUMN_GAP / 2), (mid + COLUMN_GAP / 2, self.width - MARGIN_X)]
        else:
            self.columns = [(MARGIN_X, self.width - MARGIN_X)]
        self.pages: list[SheetPage] = []
        self.column = len(self.columns) - 1
        self.y = FRAME_BOTTOM
        self.problems: list[str] = []

    # -- frames ----------------------------------------------------------------------------------------

    @property
    def page(self) -> SheetPage:
        return self.pages[-1]

    @property
    def x0(self) -> float:
        return self.columns[self.column][0]

    @property
    def x1(self) -> float:
        return self.columns[self.column][1]

    @property
    def frame_height(self) -> float:
        return FRAME_BOTTOM - FRAME_TOP

    def next_frame(self) -> None:
        self.column += 1
        if self.column >= len(self.columns):
            self.column = 0
            self._new_page()
        self.y = FRAME_TOP

    def fits(self, h: float) -> bool:
        return self.y + h <= FRAME_BOTTOM

    def need(self, h: float) -> None:
        """Start a new frame unless `h` mm fit in this one (callers check `h` against a whole frame first)."""
        if not self.fits(h):
            self.next_frame()

    def _new_page(self) -> None:
        n = len(self.pages) + 1
        w, h = self.width, self.height
        c = MARKER_INSET + MARKER_SIZE / 2
        markers = [
            Marker(0, "tl", c, c, MARKER_SIZE),
            Marker(1, "tr", w - c, c, MARKER_SIZE),
            Marker(2, "br", w - c, h - c, MARKER_SIZE),
            Marker(3, "bl", c, h - c, MARKER_SIZE),
        ]
        qr_right = w - MARKER_INSET - MARKER_SIZE - QR_GAP
        qr = QrSpot(qr_right - QR_SIZE / 2, MARKER_INSET + 1 + QR_SIZE / 2, QR_SIZE)
        page = SheetPage(number=n, markers=markers, qr=qr)
        # Title band between the top-left marker and the QR code.
        left, right = MARKER_INSET + MARKER_SIZE + 3, qr_right - QR_SIZE - 3
        mid = (left + right) / 2
        p = self.paper
        title = f"{p.school}　{p.exam}" if p.school else p.exam
        page.ink.append(Text(mid, 17.0, self._fit(title, 13, right - left), 13, "centre"))
        subject = f"{p.subject}　答题卡" if n == 1 else f"{p.subject}　答题卡（第 {n} 页）"
        page.ink.append(Text(mid, 27.5, subject, 16, "centre"))
        self.pages.append(page)

    def _fit(self, text: str, size: float, width: float) -> str:
        while len(text) > 1 and text_width(text, size, self.font) > width:
            text = text[:-2] + "…"
        return text

    def finish(self) -> None:
        total = len(self.pages)
        for page in self.pages:
            y = self.height - MARKER_INSET - MARKER_SIZE / 2 + 1.2
            page.ink.append(Text(self.width / 2, y, f"第 {page.number} 页（共 {total} 页）　{NOTICE}", 7.5, "centre"))

    # -- header: name, class, notes and the ID grid ----------------------------------------------------

    def header(self) -> None:
        self.next_frame()
        x0, x1, y = self.x0, self.x1, self.y
        digits = self.paper.id.digits
        grid_w = (digits - 1) * PITCH_X + BUBBLE_W + 2 * SECTION_PAD
        grid_h = 72.5
        left_w = x1 - x0 - grid_w - 4
        stacked = left_w < 80
        if stacked:  # a long ID grid goes below the name fields and notes
            left_w = x1 - x0
        left_h = self._header_left(x0, y, left_w)
        if stacked:
            gx0, gy0 = x1 - grid_w, y + left_h + 3
            total = left_h + 3 + grid_h
        else:
            gx0, gy0 = x1 - grid_w, y
            total = max(left_h, grid_h)
        if total > self.frame_height:
            self.problems.append("页面放不下考号栏与注意事项，请减少考号位数")
            return
        self._id_grid(gx0, gy0, grid_w, grid_h)
        self.y = y + total + 3

    def _header_left(self, x0: float, y: float, w: float) -> float:
        page, font = self.page, self.font
        label = self.paper.id.label
        # Name and class, then exam room and seat: write-in lines.
        rows = (("姓名", "name", "班级", "class"), ("考场号", "", "座位号", ""))
        for i, (a, fa, b, fb) in enumerate(rows):
            base = y + 6.5 + i * 9
            half = w / 2
            for j, (caption, key) in enumerate(((a, fa), (b, fb))):
                cx = x0 + j * half
                page.ink.append(Text(cx + 1, base, caption, 10))
                start = cx + 2 + text_width(caption, 10, font)
                end = cx + half - 3
                page.ink.append(Line(start, base + 1, end, base + 1, 0.2))
                if key:
                    page.fields[key] = (start + 1, base - 0.3, end - start - 2)
        top = y + 20
        inner = w - 6
        lines: list[str] = []
        for i, note in enumerate(NOTES, start=1):
            lines += wrap(f"{i}．{note.format(label=label)}", 7.5, font, inner)
        leading = 3.6
        h = 7 + len(lines) * leading + 8
        page.ink.append(Rect(x0, top, w, h, 0.25))
        page.ink.append(Text(x0 + w / 2, top + 5, "注 意 事 项", 9, "centre"))
        for i, text in enumerate(lines):
            page.ink.append(Text(x0 + 3, top + 9.5 + i * leading, text, 7.5))
        sample_y = top + 9.5 + len(lines) * leading + 2.5
        page.ink.append(Text(x0 + 3, sample_y, "正确填涂示例：", 7.5))
        sx = x0 + 4 + text_width("正确填涂示例：", 7.5, font)
        page.ink.append(Rect(sx, sample_y - 2.6, 4.0, 2.8, 0.2, radius=0.8, fill=0.0))
        wrong = "错误填涂：打勾、打叉、画圈、涂出框外、只涂一半"
        page.ink.append(Text(sx + 8, sample_y, wrong, 7.5, grey=0.25))
        return top - y + h

    def _id_grid(self, gx0: float, gy0: float, gw: float, gh: float) -> None:
        page, label = self.page, self.paper.id.label
        page.ink.append(Rect(gx0, gy0, gw, gh, 0.3))
        page.ink.append(Text(gx0 + gw / 2, gy0 + 5.2, "　".join(label), 9.5, "centre"))
        page.ink.append(Line(gx0, gy0 + 7, gx0 + gw, gy0 + 7, 0.25))
        first_y = gy0 + 14.5 + 2.5 + BUBBLE_H / 2
        for pos in range(self.paper.id.digits):
            cx = gx0 + SECTION_PAD + BUBBLE_W / 2 + pos * PITCH_X
            page.ink.append(Rect(cx - 2.8, gy0 + 8.5, 5.6, 6.0, 0.25))
            page.id_boxes.append((cx, gy0 + 11.5))
            for digit in range(10):
                page.bubbles.append(
                    Bubble(
                        page.number,
                        cx,
                        first_y + digit * PITCH_Y,
                        BUBBLE_W,
                        BUBBLE_H,
                        "id",
                        str(digit),
                        position=pos,
                        digit=digit,
                    )
                )

    # -- objective questions: blocks of five rows ------------------------------------------------------

    def objective_section(self, title: str, questions: Sequence[Question]) -> None:
        blocks: list[list[Question]] = []
        for q in questions:  # runs of alike questions, cut into blocks of BLOCK_ROWS
            last = blocks[-1] if blocks else None
            if last and len(last) < BLOCK_ROWS and last[-1].options == q.options and last[-1].no + 1 == q.no:
                last.append(q)
            else:
                blocks.append([q])
        widest = max(len(q.options) for q in questions)
        block_w = NUMBER_W + (widest - 1) * PITCH_X + BUBBLE_W
        inner = self.x1 - self.x0 - 2 * SECTION_PAD
        per_row = max(1, int((inner + BLOCK_GAP) // (block_w + BLOCK_GAP)))
        if block_w > inner:
            self.problems.append(f"“{title}”：{widest} 个选项的题一行放不下")
            return
        rows = [blocks[i : i + per_row] for i in range(0, len(blocks), per_row)]
        row_gap = 3.5
        chunk_top: float | None = None
        titled = False
        for r, row in enumerate(rows):
            row_h = max(len(b) for b in row) * PITCH_Y - (PITCH_Y - BUBBLE_H)
            need = row_h + 2 * SECTION_PAD + (0 if titled else TITLE_H)
            if chunk_top is not None and not self.fits(row_h + SECTION_PAD):
                self._close_chunk(chunk_top)
                chunk_top = None
            if chunk_top is None:
                self.need(need)
                if not titled or self.y == FRAME_TOP:
                    self.page.ink.append(Text(self.x0, self.y + 4.8, title + ("" if not titled else "（续）"), 9.5))
                    self.y += TITLE_H
                    titled = True
                chunk_top = self.y
                self.y += SECTION_PAD
            slot = inner / per_row
            for i, block in enumerate(row):
                self._block(self.x0 + SECTION_PAD + i * slot, self.y, block)
            self.y += row_h + (row_gap if r + 1 < len(rows) else 0)
        if chunk_top is not None:
            self._close_chunk(chunk_top)
        self.y += BOX_GAP

    def _close_chunk(self, top: float) -> None:
        bottom = self.y + SECTION_PAD
        self.page.ink.append(Rect(self.x0, top, self.x1 - self.x0, bottom - top, 0.3))
        self.y = bottom

    def _block(self, bx: float, by: float, block: Sequence[Question]) -> None:
        page = self.page
        for r, q in enumerate(block):
            cy = by + BUBBLE_H / 2 + r * PITCH_Y
            page.ink.append(Text(bx + NUMBER_W - 1.2, cy + 1.1, str(q.no), 8.5, "right"))
            for j, option in enumerate(q.options):
                cx = bx + NUMBER_W + BUBBLE_W / 2 + j * PITCH_X
                label = {"T": "√", "F": "×"}.get(option, option) if q.type == "truefalse" else option
                page.bubbles.append(
                    Bubble(page.number, cx, cy, BUBBLE_W, BUBBLE_H, "option", label, question=q.no, option=option)
                )

    # -- written questions: one box each --------------------------------------------------------------

    def written_section(self, title: str, questions: Sequence[Question], where: str) -> None:
        for i, q in enumerate(questions):
            h = q.height_mm or 0.0
            head = TITLE_H if i == 0 else 0.0
            if head + h > self.frame_height:
                room = self.frame_height - head
                self.problems.append(f"{where}第 {q.no} 题：作答区高 {h:g} 毫米，超过一栏可用高度 {room:g} 毫米")
                continue
            self.need(head + h)
            if i == 0:
                self.page.ink.append(Text(self.x0, self.y + 4.8, title, 9.5))
                self.y += TITLE_H
            self._box(q, h)
            self.y += h + BOX_GAP

    def _box(self, q: Question, h: float) -> None:
        page, x0, w = self.page, self.x0, self.x1 - self.x0
        page.boxes.append(AnswerBox(page.number, q.no, x0, self.y, w, h))
        page.ink.append(Rect(x0, self.y, w, h, 0.45))
        number = f"{q.no}．"
        page.ink.append(Text(x0 + 2, self.y + 5, number, 10.5))
        score = f"（{_num(q.score)} 分）"
        page.ink.append(Text(x0 + 2.5 + text_width(number, 10.5, self.font), self.y + 5, score, 8.5, grey=0.2))
        if q.parts:
            step = (h - 8) / len(q.parts)
            for i, part in enumerate(q.parts):
                page.ink.append(Text(x0 + 3, self.y + 11 + i * step, part, 10))


def plan_sheet(paper: Paper, font: str) -> SheetPlan:
    """Place every element of the answer sheet; PaperError when some content cannot fit a page."""
    flow = _Flow(paper, font)
    flow.header()
    for si, section in enumerate(paper.sections, start=1):
        if flow.problems:
            break
        objective = [q for q in section.questions if q.objective]
        written = [q for q in section.questions if not q.objective]
        if objective:
            flow.objective_section(section.title, objective)
        if written:
            flow.written_section(section.title, written, f"第 {si} 节")
    if flow.problems:
        raise PaperError(flow.problems)
    flow.finish()
    plan = SheetPlan(paper, flow.width, flow.height, font, flow.pages)
    problems = clearance_problems(plan)
    if problems:  # a layout bug, not the user's: say so plainly all the same
        raise PaperError(problems)
    return plan


def clearance_problems(plan: SheetPlan) -> list[str]:
    """Bubbles closer than MIN_CLEARANCE to a marker or the QR code, or to each other than 2 mm (should be none)."""
    problems = []
    for page in plan.pages:
        keep_out = [(m.x, m.y, m.size) for m in page.markers] + [(page.qr.x, page.qr.y, page.qr.size)]
        for b in page.bubbles:
            for kx, ky, ks in keep_out:
                dx = abs(b.x - kx) - (b.w + ks) / 2
                dy = abs(b.y - ky) - (b.h + ks) / 2
                if max(dx, dy) < MIN_CLEARANCE:
                    problems.append(f"第 {page.number} 页 ({b.x:.1f}, {b.y:.1f}) 处的涂点离定位标记或二维码太近")
    return problems


# ---------------------------------------------------------------------------------------------------------
# Drawing


@cache
def marker_cells(marker_id: int) -> tuple[tuple[bool, ...], ...]:
    """The 6×6 cells (black border included) of an ArUco DICT_4X4_50 marker; True = black."""
    import cv2

    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    img = cv2.aruco.generateImageMarker(dictionary, marker_id, 6, borderBits=1)
    return tuple(tuple(bool(v < 128) for v in row) for row in img)


def qr_modules(text: str) -> list[list[bool]]:
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(text)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


class _Painter:
    def __init__(self, canvas: Any, plan: SheetPlan) -> None:
        self.c = canvas
        self.plan = plan
        self.h = plan.height

    def px(self, x: float) -> float:  # mm → points, on the PDF's axes (origin bottom-left)
        return x * PT_PER_MM

    def py(self, y: float) -> float:
        return (self.h - y) * PT_PER_MM

    def text(self, t: Text) -> None:
        c = self.c
        c.setFillGray(t.grey)
        c.setFont(self.plan.font, t.size)
        x, y = self.px(t.x), self.py(t.y)
        if t.align == "centre":
            c.drawCentredString(x, y, t.text)
        elif t.align == "right":
            c.drawRightString(x, y, t.text)
        else:
            c.drawString(x, y, t.text)

    def rect(self, r: Rect) -> None:
        c = self.c
        c.setLineWidth(r.line * PT_PER_MM)
        c.setStrokeGray(0)
        c.setFillGray(r.fill if r.fill is not None else 1)
        args = (self.px(r.x), self.py(r.y + r.h), r.w * PT_PER_MM, r.h * PT_PER_MM)
        fill = 1 if r.fill is not None else 0
        stroke = 1 if r.stroke else 0
        if r.radius:
            c.roundRect(*args, r.radius * PT_PER_MM, stroke=stroke, fill=fill)
        else:
            c.rect(*args, stroke=stroke, fill=fill)

    def line(self, ln: Line) -> None:
        c = self.c
        c.setLineWidth(ln.line * PT_PER_MM)
        c.setStrokeGray(0)
        c.setDash(2, 2) if ln.dash else c.setDash()
        c.line(self.px(ln.x1), self.py(ln.y1), self.px(ln.x2), self.py(ln.y2))
        c.setDash()

    def squares(self, cells: Sequence[Sequence[bool]], left: float, top: float, side: float) -> None:
        """Black cells of a grid as one filled path, so touching cells show no seams."""
        n = len(cells)
        unit = side / n
        path = self.c.beginPath()
        for r, row in enumerate(cells):
            c0 = 0
            while c0 < n:  # runs of black cells in a row make fewer, wider rectangles
                if not row[c0]:
                    c0 += 1
                    continue
                c1 = c0
                while c1 < n and row[c1]:
                    c1 += 1
                path.rect(
                    self.px(left + c0 * unit),
                    self.py(top + (r + 1) * unit),
                    (c1 - c0) * unit * PT_PER_MM,
                    unit * PT_PER_MM,
                )
                c0 = c1
        self.c.setFillGray(0)
        self.c.drawPath(path, stroke=0, fill=1)

    def bubble(self, b: Bubble, filled: bool) -> None:
        c = self.c
        c.setLineWidth(BUBBLE_LINE * PT_PER_MM)
        c.setStrokeGray(0)
        c.setFillGray(0)
        c.roundRect(
            self.px(b.x - b.w / 2),
            self.py(b.y + b.h / 2),
            b.w * PT_PER_MM,
            b.h * PT_PER_MM,
            BUBBLE_RADIUS * PT_PER_MM,
            stroke=1,
            fill=1 if filled else 0,
        )
        if not filled:
            self.text(Text(b.x, b.y + 0.8, b.label, 6.5, "centre", grey=0.5))

    def page(self, page: SheetPage, student: Student | None) -> None:
        for item in page.ink:
            if isinstance(item, Text):
                self.text(item)
            elif isinstance(item, Rect):
                self.rect(item)
            else:
                self.line(item)
        for m in page.markers:
            self.squares(marker_cells(m.id), m.x - m.size / 2, m.y - m.size / 2, m.size)
        q = page.qr
        text = self.plan.qr_text(page.number, student.student_id if student else "")
        self.squares(qr_modules(text), q.x - q.size / 2, q.y - q.size / 2, q.size)
        digits = student.student_id if student else ""
        for b in page.bubbles:
            filled = b.kind == "id" and b.position < len(digits) and digits[b.position] == str(b.digit)
            self.bubble(b, filled)
        if student:
            for key, value in (("name", student.name), ("class", student.class_name)):
                if key in page.fields and value:
                    x, y, w = page.fields[key]
                    size = 11.0
                    while size > 6 and text_width(value, size, self.plan.font) > w:
                        size -= 0.5
                    self.text(Text(x, y, value, size))
            for (cx, cy), digit in zip(page.id_boxes, digits, strict=False):
                self.text(Text(cx, cy + 1.5, digit, 11, "centre"))


def render_pdf(plan: SheetPlan, roster: Sequence[Student] | None = None) -> bytes:
    """The PDF: the plan's pages once (blank sheet), or once per student with their data pre-printed."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    p = plan.paper
    c = canvas.Canvas(
        buf,
        pagesize=(plan.width * PT_PER_MM, plan.height * PT_PER_MM),
        invariant=True,
        initialFontName=plan.font,
        pageCompression=1,
    )
    c.setTitle(f"{p.exam} {p.subject} 答题卡")
    c.setAuthor(p.school or "智校")
    c.setCreator("zhixiao omr")
    c.setSubject(f"{QR_PREFIX} {p.exam_code} {p.subject_code}")
    painter = _Painter(c, plan)
    students: Sequence[Student | None] = roster or [None]
    for student in students:
        for page in plan.pages:
            painter.page(page, student)
            c.showPage()
    c.save()
    return buf.getvalue()


@dataclass
class Sheet:
    plan: SheetPlan
    pdf: bytes
    pdf_pages: int

    def layout(self) -> dict[str, Any]:
        return self.plan.layout()

    def layout_json(self) -> str:
        return json.dumps(self.layout(), ensure_ascii=False, indent=1) + "\n"


def make_sheet(paper: Paper, *, roster: Sequence[Student] | None = None, font: str | Path | None = None) -> Sheet:
    """Plan and draw the answer sheet of `paper` (pre-printed per student when a roster is given)."""
    for s in roster or ():
        if len(s.student_id) != paper.id.digits or not s.student_id.isdigit():
            raise PaperError([f"学生 {s.name} 的{paper.id.label} {s.student_id!r} 不是 {paper.id.digits} 位数字"])
    try:
        font_name = register_cjk_font(font)
    except CjkFontError as exc:
        raise PaperError([str(exc)]) from exc
    plan = plan_sheet(paper, font_name)
    pdf = render_pdf(plan, roster)
    return Sheet(plan=plan, pdf=pdf, pdf_pages=len(plan.pages) * (len(roster) if roster else 1))
