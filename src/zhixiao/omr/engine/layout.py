"""An answer sheet's layout (SHEET.layout.json, format `zhixiao-omr-layout/1`): loaded and checked.

Coordinates are millimetres from a page's top-left corner, x to the right and y down. Bubbles and markers
are given by their centre, written-answer boxes by their top-left corner. The reader needs nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "zhixiao-omr-layout/1"
QR_PREFIX = "ZXOMR1"
CORNERS = ("tl", "tr", "br", "bl")  # ArUco ids 0..3
QUESTION_TYPES = ("single", "multiple", "truefalse", "written")


class LayoutError(ValueError):
    """A layout file we cannot use; `problems` are in Chinese, one per problem found."""

    def __init__(self, problems: list[str]):
        super().__init__("；".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Marker:
    id: int
    corner: str
    x: float
    y: float
    size: float


@dataclass(frozen=True)
class QrSpec:
    x: float
    y: float
    size: float
    text: str = ""


@dataclass(frozen=True)
class PageSpec:
    page: int
    markers: tuple[Marker, ...]
    qr: QrSpec | None


@dataclass(frozen=True)
class Bubble:
    page: int
    x: float
    y: float
    w: float
    h: float
    kind: str  # "option" | "id"
    question: int = 0
    option: str = ""
    position: int = 0
    digit: int = 0


@dataclass(frozen=True)
class Box:
    page: int
    question: int
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Question:
    no: int
    type: str
    options: tuple[str, ...] = ()
    score: float = 0.0
    partial: float = 0.0
    section: str = ""

    @property
    def objective(self) -> bool:
        return self.type != "written"


@dataclass(frozen=True)
class QrInfo:
    """What a sheet's QR code says: `ZXOMR1|<exam_code>|<subject_code>|<page>|<pages>|<student_id or empty>`."""

    exam_code: str
    subject_code: str
    page: int
    pages: int
    student_id: str | None


@dataclass
class Layout:
    exam: str
    exam_code: str
    subject: str
    subject_code: str
    paper_size: str
    page_size_mm: tuple[float, float]
    pages: tuple[PageSpec, ...]
    id_label: str
    id_digits: int
    bubbles: tuple[Bubble, ...]
    boxes: tuple[Box, ...]
    questions: tuple[Question, ...]
    answer_key: dict[str, str]
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def page_count(self) -> int:
        return len(self.pages)

    def page_spec(self, page: int) -> PageSpec:
        for spec in self.pages:
            if spec.page == page:
                return spec
        raise KeyError(page)

    def bubbles_on(self, page: int) -> list[Bubble]:
        return [b for b in self.bubbles if b.page == page]

    def boxes_on(self, page: int) -> list[Box]:
        return [b for b in self.boxes if b.page == page]

    def question(self, no: int) -> Question:
        for q in self.questions:
            if q.no == no:
                return q
        raise KeyError(no)

    def id_pages(self) -> set[int]:
        return {b.page for b in self.bubbles if b.kind == "id"}

    def objective_pages(self) -> dict[int, int]:
        """Question number → the page its bubbles are on."""
        return {b.question: b.page for b in self.bubbles if b.kind == "option"}


def parse_qr(text: str) -> QrInfo | None:
    parts = text.strip().split("|")
    if len(parts) != 6 or parts[0] != QR_PREFIX:
        return None
    try:
        page, pages = int(parts[3]), int(parts[4])
    except ValueError:
        return None
    return QrInfo(parts[1], parts[2], page, pages, parts[5] or None)


def qr_text(layout: Layout, page: int, student_id: str | None = None) -> str:
    return f"{QR_PREFIX}|{layout.exam_code}|{layout.subject_code}|{page}|{layout.page_count}|{student_id or ''}"


def load_layout(source: str | Path | Mapping[str, Any]) -> Layout:
    """Read and check a layout (a path to the JSON file, or the parsed JSON). Raises LayoutError."""
    if isinstance(source, Mapping):
        data: Any = dict(source)
    else:
        path = Path(source)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise LayoutError([f"找不到版面文件 {path}"]) from exc
        except OSError as exc:
            raise LayoutError([f"无法读取版面文件 {path}：{exc.strerror or exc}"]) from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise LayoutError([f"版面文件 {path} 不是有效的 JSON：{exc}"]) from exc
    if not isinstance(data, dict):
        raise LayoutError(["版面文件的顶层应是一个 JSON 对象"])
    return _Checker(data).layout()


class _Checker:
    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.problems: list[str] = []

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def num(self, obj: Mapping[str, Any], key: str, where: str, *, positive: bool = False) -> float:
        value = obj.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"{where}缺少数值字段“{key}”")
            return 0.0
        if positive and value <= 0:
            self.fail(f"{where}的“{key}”应大于 0")
        return float(value)

    def int_(self, obj: Mapping[str, Any], key: str, where: str) -> int:
        value = obj.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{where}缺少整数字段“{key}”")
            return 0
        return value

    def str_(self, obj: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
        value = obj.get(key, None if required else "")
        if not isinstance(value, str) or (required and not value):
            self.fail(f"{where}缺少文字字段“{key}”")
            return ""
        return value

    def list_(self, obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
        value = obj.get(key)
        if not isinstance(value, list):
            self.fail(f"{where}缺少列表字段“{key}”")
            return []
        return value

    def layout(self) -> Layout:
        d = self.data
        if d.get("format") != FORMAT:
            self.fail(f"版面格式应为“{FORMAT}”，而文件写的是“{d.get('format')}”")
        size = d.get("page_size_mm")
        page_w = page_h = 0.0
        if (
            not isinstance(size, list)
            or len(size) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in size)
        ):
            self.fail("“page_size_mm”应为两个正数 [宽, 高]（毫米）")
        else:
            page_w, page_h = float(size[0]), float(size[1])
        pages = self.pages(page_w, page_h)
        page_nos = {p.page for p in pages}
        id_spec: dict[str, Any] = d["id"] if isinstance(d.get("id"), dict) else {}
        digits = id_spec.get("digits", 0) if isinstance(id_spec.get("digits", 0), int) else 0
        questions = self.questions()
        q_by_no = {q.no: q for q in questions}
        bubbles = self.bubbles(page_nos, q_by_no, digits, page_w, page_h)
        boxes = self.boxes(page_nos, q_by_no)
        key = d.get("answer_key") or {}
        if not isinstance(key, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in key.items()):
            self.fail('“answer_key”应为 {题号: 答案} 的对象，如 {"1": "A"}')
            key = {}
        for k, v in key.items():
            q = q_by_no.get(int(k)) if k.isdigit() else None
            if q is None:
                self.fail(f"答案中的第 {k} 题不在题目列表里")
            elif not q.objective:
                self.fail(f"第 {k} 题是主观题，答案中不应有它")
            elif any(ch not in q.options for ch in v):
                self.fail(f"第 {k} 题的答案“{v}”含有不存在的选项（可选 {''.join(q.options)}）")
        if self.problems:
            raise LayoutError(self.problems)
        return Layout(
            exam=str(d.get("exam", "")),
            exam_code=self.str_(d, "exam_code", "版面"),
            subject=str(d.get("subject", "")),
            subject_code=self.str_(d, "subject_code", "版面"),
            paper_size=str(d.get("paper_size", "")),
            page_size_mm=(page_w, page_h),
            pages=tuple(pages),
            id_label=str(id_spec.get("label", "考号")),
            id_digits=digits,
            bubbles=tuple(bubbles),
            boxes=tuple(boxes),
            questions=tuple(questions),
            answer_key={k: "".join(sorted(v)) for k, v in key.items()},
            raw=d,
        )

    def pages(self, page_w: float, page_h: float) -> list[PageSpec]:
        self.str_(self.data, "exam_code", "版面")
        self.str_(self.data, "subject_code", "版面")
        out: list[PageSpec] = []
        raw_pages = self.list_(self.data, "pages", "版面")
        if not raw_pages:
            self.fail("版面中没有任何页（“pages”为空）")
        for i, p in enumerate(raw_pages, 1):
            if not isinstance(p, dict):
                self.fail(f"第 {i} 页的描述应为对象")
                continue
            where = f"第 {i} 页"
            no = self.int_(p, "page", where)
            if no != i:
                self.fail(f"{where}的页码应为 {i}，而写的是 {no}")
            markers: list[Marker] = []
            for m in self.list_(p, "markers", where):
                if not isinstance(m, dict):
                    self.fail(f"{where}的定位标记描述应为对象")
                    continue
                mk = Marker(
                    self.int_(m, "id", f"{where}的定位标记"),
                    str(m.get("corner", "")),
                    self.num(m, "x", f"{where}的定位标记"),
                    self.num(m, "y", f"{where}的定位标记"),
                    self.num(m, "size", f"{where}的定位标记", positive=True),
                )
                if not 0 <= mk.id <= 3:
                    self.fail(f"{where}的定位标记编号应为 0–3（ArUco 4×4），而写的是 {mk.id}")
                markers.append(mk)
            ids = sorted(m.id for m in markers)
            if ids != [0, 1, 2, 3]:
                self.fail(f"{where}应有编号 0、1、2、3 的四个定位标记，而有的是 {ids}")
            for m in markers:
                if page_w and not (0 < m.x < page_w and 0 < m.y < page_h):
                    self.fail(f"{where}的定位标记 {m.id} 在页面之外")
            qr_raw = p.get("qr")
            qr = None
            if isinstance(qr_raw, dict):
                qr = QrSpec(
                    self.num(qr_raw, "x", f"{where}的二维码"),
                    self.num(qr_raw, "y", f"{where}的二维码"),
                    self.num(qr_raw, "size", f"{where}的二维码", positive=True),
                    str(qr_raw.get("text", "")),
                )
            elif qr_raw is not None:
                self.fail(f"{where}的二维码描述应为对象")
            out.append(PageSpec(no, tuple(sorted(markers, key=lambda m: m.id)), qr))
        return out

    def questions(self) -> list[Question]:
        out: list[Question] = []
        seen: set[int] = set()
        for q in self.list_(self.data, "questions", "版面"):
            if not isinstance(q, dict):
                self.fail("题目描述应为对象")
                continue
            no = self.int_(q, "no", "题目")
            where = f"第 {no} 题"
            if no in seen:
                self.fail(f"{where}重复出现")
            seen.add(no)
            qtype = q.get("type")
            if qtype not in QUESTION_TYPES:
                self.fail(f"{where}的题型“{qtype}”不认识（可用 {'、'.join(QUESTION_TYPES)}）")
                qtype = "written"
            options = q.get("options") or ([] if qtype == "written" else None)
            if options is None and qtype == "truefalse":
                options = ["T", "F"]
            if not isinstance(options, list) or not all(isinstance(o, str) and len(o) == 1 for o in options):
                self.fail(f"{where}的选项应为单个字母的列表")
                options = []
            if qtype != "written" and len(options) < 2:
                self.fail(f"{where}至少要有两个选项")
            score = q.get("score", 0)
            partial = q.get("partial", 0) or 0
            if not isinstance(score, int | float) or not isinstance(partial, int | float):
                self.fail(f"{where}的分值应为数字")
                score, partial = 0, 0
            out.append(
                Question(no, str(qtype), tuple(options), float(score), float(partial), str(q.get("section", "")))
            )
        return out

    def bubbles(
        self, page_nos: set[int], q_by_no: dict[int, Question], digits: int, page_w: float, page_h: float
    ) -> list[Bubble]:
        out: list[Bubble] = []
        seen: set[tuple[Any, ...]] = set()
        for i, b in enumerate(self.list_(self.data, "bubbles", "版面"), 1):
            if not isinstance(b, dict):
                self.fail(f"第 {i} 个涂点的描述应为对象")
                continue
            where = f"第 {i} 个涂点"
            kind = b.get("kind")
            bubble = Bubble(
                page=self.int_(b, "page", where),
                x=self.num(b, "x", where),
                y=self.num(b, "y", where),
                w=self.num(b, "w", where, positive=True),
                h=self.num(b, "h", where, positive=True),
                kind=str(kind),
                question=int(b.get("question", 0) or 0),
                option=str(b.get("option", "")),
                position=int(b.get("position", 0) or 0),
                digit=int(b.get("digit", 0) or 0),
            )
            if bubble.page not in page_nos:
                self.fail(f"{where}所在的第 {bubble.page} 页不存在")
            if page_w and not (0 < bubble.x < page_w and 0 < bubble.y < page_h):
                self.fail(f"{where}在页面之外")
            if kind == "option":
                q = q_by_no.get(bubble.question)
                if q is None:
                    self.fail(f"{where}属于不存在的第 {bubble.question} 题")
                elif bubble.option not in q.options:
                    self.fail(f"{where}的选项“{bubble.option}”不是第 {q.no} 题的选项")
                ident: tuple[Any, ...] = ("option", bubble.question, bubble.option)
            elif kind == "id":
                if not (0 <= bubble.position < digits and 0 <= bubble.digit <= 9):
                    self.fail(f"{where}是考号第 {bubble.position + 1} 位的数字 {bubble.digit}，超出了 {digits} 位考号")
                ident = ("id", bubble.position, bubble.digit)
            else:
                self.fail(f"{where}的类型“{kind}”应为 option 或 id")
                continue
            if ident in seen:
                self.fail(f"{where}重复（{ident[1]}、{ident[2]}）")
            seen.add(ident)
            out.append(bubble)
        for q in q_by_no.values():
            if q.objective:
                have = {b.option for b in out if b.kind == "option" and b.question == q.no}
                missing = [o for o in q.options if o not in have]
                if missing:
                    self.fail(f"第 {q.no} 题缺少选项 {'、'.join(missing)} 的涂点")
        if digits:
            have_id = {(b.position, b.digit) for b in out if b.kind == "id"}
            if len(have_id) != digits * 10:
                self.fail(f"考号涂点应有 {digits}×10 个，而有 {len(have_id)} 个")
        return out

    def boxes(self, page_nos: set[int], q_by_no: dict[int, Question]) -> list[Box]:
        out: list[Box] = []
        for b in self.data.get("boxes") or []:
            if not isinstance(b, dict):
                self.fail("作答区描述应为对象")
                continue
            where = f"第 {b.get('question')} 题的作答区"
            box = Box(
                self.int_(b, "page", where),
                self.int_(b, "question", where),
                self.num(b, "x", where),
                self.num(b, "y", where),
                self.num(b, "w", where, positive=True),
                self.num(b, "h", where, positive=True),
            )
            if box.page not in page_nos:
                self.fail(f"{where}所在的第 {box.page} 页不存在")
            if box.question not in q_by_no:
                self.fail(f"{where}属于不存在的题目")
            out.append(box)
        return out
