"""An exam paper as the answer sheet sees it (试卷结构): sections, objective and written questions, scores, key.

Read from JSON (see docs/omr.md) and checked as a whole: `PaperError.problems` lists every problem found, in
Chinese, naming the field (e.g. "第 3 节第 2 题：选项数应为 2–7，实为 9"). `score_objective` applies the
answer key, including the multiple-choice rule: all right = full marks, some right and none wrong = the
question's partial score, any wrong (or blank) = 0.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

QuestionType = Literal["single", "multiple", "truefalse", "written"]
QUESTION_TYPES: tuple[QuestionType, ...] = ("single", "multiple", "truefalse", "written")
TYPE_LABEL: dict[str, str] = {"single": "单选题", "multiple": "多选题", "truefalse": "判断题", "written": "主观题"}
PaperSize = Literal["A4", "A3"]
PAPER_SIZES: tuple[PaperSize, ...] = ("A4", "A3")
LETTERS = "ABCDEFG"
TRUE_FALSE = ("T", "F")
MIN_OPTIONS, MAX_OPTIONS = 2, 7
MIN_ID_DIGITS, MAX_ID_DIGITS = 4, 20
MAX_QUESTIONS = 500
MIN_BOX_MM, MAX_BOX_MM = 15.0, 280.0
# Normalised spellings of a true/false key: what teachers type.
_TF_SPELLINGS = {"T": "T", "F": "F", "√": "T", "✓": "T", "×": "F", "X": "F", "对": "T", "错": "F"}
_CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")


class PaperError(ValueError):
    """A paper definition we cannot use; `problems` holds every problem found, one Chinese message each."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        shown = self.problems[:50]
        if len(self.problems) > len(shown):
            shown.append(f"……另有 {len(self.problems) - len(shown)} 处错误")
        super().__init__("\n".join(shown))


@dataclass(frozen=True)
class Question:
    no: int
    type: QuestionType
    score: float
    section: str
    options: tuple[str, ...] = ()  # A, B, … for choice questions; ("T", "F") for true/false; () for written
    partial: float | None = None  # multiple choice: some right and none wrong
    height_mm: float | None = None  # written: the answer box's height
    parts: tuple[str, ...] = ()  # written: sub-part labels printed in the box, e.g. ("(1)", "(2)")

    @property
    def objective(self) -> bool:
        return self.type != "written"


@dataclass(frozen=True)
class Section:
    title: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class IdGrid:
    label: str = "考号"
    digits: int = 10


@dataclass(frozen=True)
class Paper:
    exam: str
    exam_code: str
    subject: str
    subject_code: str
    sections: tuple[Section, ...]
    school: str = ""
    paper_size: PaperSize = "A4"
    id: IdGrid = field(default_factory=IdGrid)
    answer_key: Mapping[int, str] = field(default_factory=dict)  # question no → "A" / "ACD" / "T"

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for s in self.sections for q in s.questions)

    def question(self, no: int) -> Question:
        for q in self.questions:
            if q.no == no:
                return q
        raise KeyError(no)

    @property
    def total_score(self) -> float:
        return sum(q.score for q in self.questions)

    def with_paper_size(self, size: str) -> Paper:
        if size not in PAPER_SIZES:
            raise PaperError([f"paper_size：纸张应为 A4 或 A3，实为 {size!r}"])
        return replace(self, paper_size=size)  # type: ignore[arg-type]

    def with_answer_key(self, key: Mapping[Any, Any]) -> Paper:
        """The same paper with another (e.g. corrected) key, checked like one read from JSON."""
        problems: list[str] = []
        parsed = _answer_key(key, {q.no: q for q in self.questions}, problems)
        if problems:
            raise PaperError(problems)
        return replace(self, answer_key=parsed)


# ---------------------------------------------------------------------------------------------------------
# Reading


def load_paper(path: Path) -> Paper:
    """Read and check a paper definition file (UTF-8 JSON)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PaperError([f"无法读取试卷定义 {path}：{exc.strerror or exc}"]) from exc
    except UnicodeDecodeError as exc:
        raise PaperError([f"试卷定义 {path} 不是 UTF-8 文本"]) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PaperError([f"试卷定义 {path} 不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}"]) from exc
    return parse_paper(data)


def parse_paper(data: Any) -> Paper:
    """Check a decoded paper definition and build the `Paper`; every problem is reported at once."""
    if not isinstance(data, Mapping):
        raise PaperError(["试卷定义应为 JSON 对象（{…}）"])
    problems: list[str] = []
    known = {"exam", "exam_code", "subject", "subject_code", "school", "paper_size", "id", "sections", "answer_key"}
    problems += [f"未知字段 {k!r}" for k in data if k not in known and not str(k).startswith("_")]

    exam = _text(data, "exam", "考试名称", problems, required=True, max_len=60)
    subject = _text(data, "subject", "科目名称", problems, required=True, max_len=30)
    school = _text(data, "school", "学校名称", problems, required=False, max_len=40)
    exam_code = _code(data, "exam_code", "考试代码", problems)
    subject_code = _code(data, "subject_code", "科目代码", problems)

    size = data.get("paper_size", "A4")
    if size not in PAPER_SIZES:
        problems.append(f"paper_size：纸张应为 A4 或 A3，实为 {size!r}")
        size = "A4"

    id_grid = _id_grid(data.get("id", {}), problems)
    broken: set[int] = set()  # numbers of questions already reported as invalid
    sections = _sections(data.get("sections"), problems, broken)
    by_no: dict[int, Question] = {}
    for s in sections:
        for q in s.questions:
            if q.no in by_no:
                problems.append(f"题号 {q.no} 重复（“{by_no[q.no].section}”与“{q.section}”）")
            else:
                by_no[q.no] = q
    if len(by_no) > MAX_QUESTIONS:
        problems.append(f"题目过多：共 {len(by_no)} 题，最多 {MAX_QUESTIONS} 题")
    key = _answer_key(data.get("answer_key", {}), by_no, problems, broken)
    if problems:
        raise PaperError(problems)
    return Paper(
        exam=exam,
        exam_code=exam_code,
        subject=subject,
        subject_code=subject_code,
        school=school,
        paper_size=size,
        id=id_grid,
        sections=tuple(sections),
        answer_key=key,
    )


def _text(data: Mapping[str, Any], name: str, label: str, problems: list[str], *, required: bool, max_len: int) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.append(f"{name}：{label}应为文字，实为 {value!r}")
        return ""
    value = value.strip()
    if required and not value:
        problems.append(f"缺少 {name}（{label}）")
    elif len(value) > max_len:
        problems.append(f"{name}：{label}过长（{len(value)} 字，最多 {max_len} 字）")
    return value


def _code(data: Mapping[str, Any], name: str, label: str, problems: list[str]) -> str:
    value = data.get(name)
    if value is None or value == "":
        problems.append(f"缺少 {name}（{label}）")
        return ""
    if not isinstance(value, str):
        problems.append(f"{name}：{label}应为文字，实为 {value!r}")
        return ""
    if "|" in value:
        problems.append(f"{name}：{label}不能含有“|”（二维码用它分隔字段），实为 {value!r}")
    elif not _CODE.match(value):
        problems.append(f"{name}：{label}只能由 1–32 个字母、数字、“_”“-”“.”组成，实为 {value!r}")
    return value


def _id_grid(raw: Any, problems: list[str]) -> IdGrid:
    if not isinstance(raw, Mapping):
        problems.append('id：考号栏应为对象，如 {"label": "考号", "digits": 10}')
        return IdGrid()
    unknown = [k for k in raw if k not in ("label", "digits")]
    problems += [f"id：未知字段 {k!r}" for k in unknown]
    label = raw.get("label", "考号")
    if not isinstance(label, str) or not label.strip() or len(label.strip()) > 6:
        problems.append(f"id.label：考号栏名称应为 1–6 个字（如“考号”“学籍号”），实为 {label!r}")
        label = "考号"
    digits = raw.get("digits", 10)
    if not _is_int(digits) or not MIN_ID_DIGITS <= digits <= MAX_ID_DIGITS:
        problems.append(f"id.digits：考号位数应为 {MIN_ID_DIGITS}–{MAX_ID_DIGITS}，实为 {digits!r}")
        digits = 10
    return IdGrid(label=label.strip(), digits=int(digits))


def _sections(raw: Any, problems: list[str], broken: set[int]) -> list[Section]:
    if not isinstance(raw, list) or not raw:
        problems.append("sections：至少要有一节（大题），每节含 title 与 questions")
        return []
    sections = []
    for si, sec in enumerate(raw, start=1):
        where = f"第 {si} 节"
        if not isinstance(sec, Mapping):
            problems.append(f"{where}：应为对象，含 title 与 questions")
            continue
        problems += [f"{where}：未知字段 {k!r}" for k in sec if k not in ("title", "questions")]
        title = sec.get("title")
        if not isinstance(title, str) or not title.strip():
            problems.append(f"{where}：缺少 title（大题标题，如“一、单项选择题”）")
            title = where
        elif len(title) > 80:
            problems.append(f"{where}：title 过长（{len(title)} 字，最多 80 字）")
        title = title.strip()
        items = sec.get("questions")
        if not isinstance(items, list) or not items:
            problems.append(f"{where}：questions 应为非空列表")
            continue
        questions: list[Question] = []
        for qi, item in enumerate(items, start=1):
            questions += _questions(item, f"{where}第 {qi} 题", title, problems, broken)
        kinds = {q.type == "written" for q in questions}
        if len(kinds) > 1:
            problems.append(f"{where}：选择题（含判断题）与主观题请分节，不要放在同一节")
        sections.append(Section(title=title, questions=tuple(questions)))
    return sections


_QUESTION_FIELDS = {"no", "from", "to", "type", "options", "score", "partial", "height_mm", "parts"}


def _questions(item: Any, where: str, section: str, problems: list[str], broken: set[int]) -> list[Question]:
    """One question ({"no": 1, …}) or a run of alike questions ({"from": 1, "to": 8, …})."""
    if not isinstance(item, Mapping):
        problems.append(f'{where}：应为对象，如 {{"no": 1, "type": "single", "score": 3}}')
        return []
    before = len(problems)
    numbers = _numbers(item, where, problems)
    if numbers:
        where = f"{where}（题号 {numbers[0]}）" if len(numbers) == 1 else f"{where}（题号 {numbers[0]}–{numbers[-1]}）"
    problems += [f"{where}：未知字段 {k!r}" for k in item if k not in _QUESTION_FIELDS]

    qtype: Any = item.get("type")
    if qtype is None:
        problems.append(f"{where}：缺少 type（题型：single 单选、multiple 多选、truefalse 判断、written 主观题）")
    elif qtype not in QUESTION_TYPES:
        problems.append(f"{where}：未知题型 {qtype!r}（应为 single、multiple、truefalse 或 written）")

    score: Any = item.get("score")
    if score is None:
        problems.append(f"{where}：缺少 score（分值）")
    elif not _is_number(score) or not 0 < score <= 200 or not _half_points(score):
        problems.append(f"{where}：分值应为 0–200 之间的正数（最小单位 0.5 分），实为 {score!r}")

    options: tuple[str, ...] = ()
    partial: float | None = None
    height: float | None = None
    parts: tuple[str, ...] = ()
    if qtype in ("single", "multiple"):
        n = item.get("options", 4)
        if not _is_int(n) or not MIN_OPTIONS <= n <= MAX_OPTIONS:
            problems.append(f"{where}：选项数应为 {MIN_OPTIONS}–{MAX_OPTIONS}，实为 {n!r}")
        else:
            options = tuple(LETTERS[:n])
            if qtype == "multiple" and n < 3:
                problems.append(f"{where}：多选题至少要有 3 个选项，实为 {n}")
    elif qtype == "truefalse":
        options = TRUE_FALSE
        if "options" in item:
            problems.append(f"{where}：判断题的选项固定为 √ 与 ×，不要写 options")
    if qtype == "multiple":
        raw_partial = item.get("partial")
        if raw_partial is None:
            problems.append(f"{where}：多选题缺少 partial（部分选对且无错选时的得分）")
        elif not _is_number(raw_partial) or raw_partial < 0 or not _half_points(raw_partial):
            problems.append(f"{where}：partial 应为不小于 0 的分数（最小单位 0.5 分），实为 {raw_partial!r}")
        elif _is_number(score) and raw_partial >= score:
            problems.append(f"{where}：partial（{raw_partial}）应小于该题分值（{score}）")
        else:
            partial = float(raw_partial)
    elif "partial" in item:
        problems.append(f"{where}：只有多选题可以设 partial")
    if qtype == "written":
        raw_height = item.get("height_mm")
        if raw_height is None:
            problems.append(f"{where}：主观题缺少 height_mm（作答区高度，毫米）")
        elif not _is_number(raw_height) or not MIN_BOX_MM <= raw_height <= MAX_BOX_MM:
            span = f"{MIN_BOX_MM:g}–{MAX_BOX_MM:g}"
            problems.append(f"{where}：作答区高度 height_mm 应为 {span} 毫米，实为 {raw_height!r}")
        else:
            height = float(raw_height)
        raw_parts = item.get("parts", [])
        if not isinstance(raw_parts, list) or not all(isinstance(p, str) and 0 < len(p) <= 8 for p in raw_parts):
            problems.append(f'{where}：parts 应为小题标签列表，如 ["(1)", "(2)"]（每个最多 8 字）')
        elif len(raw_parts) > 10:
            problems.append(f"{where}：小题标签最多 10 个，实为 {len(raw_parts)}")
        else:
            parts = tuple(raw_parts)
        if "options" in item:
            problems.append(f"{where}：主观题没有选项，不要写 options")
    else:
        for name in ("height_mm", "parts"):
            if name in item:
                problems.append(f"{where}：只有主观题可以设 {name}")
    if len(problems) > before:
        broken.update(numbers)  # reported here; the key need not say they do not exist
        return []
    return [
        Question(
            no=no,
            type=qtype,
            score=float(score),
            section=section,
            options=options,
            partial=partial,
            height_mm=height,
            parts=parts,
        )
        for no in numbers
    ]


def _numbers(item: Mapping[str, Any], where: str, problems: list[str]) -> list[int]:
    has_no, has_range = "no" in item, "from" in item or "to" in item
    if has_no and has_range:
        problems.append(f"{where}：no 与 from/to 只能用其一")
        return []
    if has_no:
        no = item["no"]
        if not _is_int(no) or not 1 <= no <= 999:
            problems.append(f"{where}：题号 no 应为 1–999 的整数，实为 {no!r}")
            return []
        return [int(no)]
    if has_range:
        first: Any = item.get("from")
        last: Any = item.get("to")
        if not _is_int(first) or not _is_int(last) or not 1 <= first <= last <= 999:
            problems.append(f"{where}：题号范围 from/to 应为 1–999 的整数且 from ≤ to，实为 {first!r}–{last!r}")
            return []
        return list(range(int(first), int(last) + 1))
    problems.append(f"{where}：缺少题号 no（或题号范围 from/to）")
    return []


def _answer_key(
    raw: Any, by_no: Mapping[int, Question], problems: list[str], broken: Iterable[int] = ()
) -> dict[int, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append('answer_key：标准答案应为对象，如 {"1": "A", "9": "ACD", "13": "T"}')
        return {}
    key: dict[int, str] = {}
    for k, v in raw.items():
        try:
            no = int(k)
        except (TypeError, ValueError):
            problems.append(f"answer_key：{k!r} 不是题号")
            continue
        q = by_no.get(no)
        if q is None and no in broken:
            continue
        if q is None:
            problems.append(f"answer_key：第 {no} 题不存在")
            continue
        if not q.objective:
            problems.append(f"answer_key：第 {no} 题是主观题，没有标准答案选项")
            continue
        answer = normalise_answer(q, v)
        if answer is None:
            problems.append(f"answer_key：第 {no} 题（{TYPE_LABEL[q.type]}）的答案 {v!r} 无效，{_answer_hint(q)}")
            continue
        key[no] = answer
    return dict(sorted(key.items()))


def normalise_answer(q: Question, value: Any) -> str | None:
    """A key or a response as the canonical string ("A", "ACD", "T"), or None when it is not valid for `q`."""
    if not isinstance(value, str):
        return None
    text = re.sub(r"[\s,，、]", "", value).upper()
    if q.type == "truefalse":
        tf = _TF_SPELLINGS.get(text)
        return tf
    if not text or any(ch not in q.options for ch in text) or len(set(text)) != len(text):
        return None
    if q.type == "single" and len(text) != 1:
        return None
    return "".join(sorted(text))


def _answer_hint(q: Question) -> str:
    if q.type == "truefalse":
        return "应为 T（对）或 F（错）"
    letters = f"{q.options[0]}–{q.options[-1]}"
    return f"应为 {letters} 中的一个字母" if q.type == "single" else f"应为 {letters} 中不重复的一个或多个字母"


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _half_points(v: float) -> bool:
    return float(v * 2).is_integer()


# ---------------------------------------------------------------------------------------------------------
# Scoring


def score_question(q: Question, key: str, response: str | None) -> float:
    """The score of one objective response against its key (both canonical strings; None or "" = blank)."""
    if not response:
        return 0.0
    if q.type == "multiple":
        marked, right = set(response), set(key)
        if marked == right:
            return q.score
        if marked < right:
            return q.partial or 0.0
        return 0.0
    return q.score if response == key else 0.0


def score_objective(
    paper: Paper, answers: Mapping[int, str | None], *, key: Mapping[int, str] | None = None
) -> dict[int, float]:
    """Per-question scores of the objective questions that have a key (the paper's, or a corrected `key`).

    `answers` maps question number → the marked options ("A", "CA", "T"; None or "" = blank); a response
    that is not valid for its question (two marks on a single choice, an unknown letter) scores 0.
    """
    key = paper.answer_key if key is None else key
    scores: dict[int, float] = {}
    for q in paper.questions:
        if not q.objective or q.no not in key:
            continue
        right = normalise_answer(q, key[q.no])
        if right is None:
            raise PaperError([f"answer_key：第 {q.no} 题的答案 {key[q.no]!r} 无效，{_answer_hint(q)}"])
        raw = answers.get(q.no)
        response = normalise_answer(q, raw) if raw else None
        scores[q.no] = score_question(q, right, response)
    return scores
