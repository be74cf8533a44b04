"""Reading a workbook of scores: every cell checked before anything is written, each problem named by row and
column in Chinese. Two layouts: one row per student (考号 or 学号, 姓名, then one column per subject: what the
template download gives) or one row per student and subject (考号, 科目, 分数 — the engine's long format)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from zhixiao.kernel.spreadsheets import SpreadsheetError, read_rows

from .models import ExamStudent, ExamSubject

MAX_ROWS = 20000
MAX_ERRORS = 200
ID_HEADERS = ("考号", "学号", "学籍号")
NAME_HEADER = "姓名"
IGNORED = ("班级", "学校", "序号")


@dataclass(frozen=True)
class Cell:
    student: ExamStudent
    subject: ExamSubject
    value: Decimal | None
    status: str


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def check_workbook(
    data: bytes, *, subjects: Mapping[str, ExamSubject], students: Mapping[str, ExamStudent]
) -> list[Cell]:
    """The cells to write (empty cells are left out: they change nothing); ScoreErrors listing every problem."""
    from .services import ScoreErrors, parse_cell

    try:
        rows = read_rows(data, max_rows=MAX_ROWS)
    except SpreadsheetError as exc:
        raise ScoreErrors([str(exc)]) from exc
    if len(rows) < 2:
        raise ScoreErrors([_("文件里没有成绩（第 1 行是表头，从第 2 行起每行一名学生）")])
    headers = [_text(h) for h in rows[0]]
    id_col = next((i for i, h in enumerate(headers) if h in ID_HEADERS), None)
    if id_col is None:
        raise ScoreErrors([_("第 1 行缺少“考号”（或“学号”“学籍号”）列")])
    errors: list[str] = []
    cells: list[Cell] = []
    name_col = headers.index(NAME_HEADER) if NAME_HEADER in headers else None
    long = "科目" in headers and "分数" in headers
    subject_cols: dict[int, ExamSubject] = {}
    if not long:
        for i, h in enumerate(headers):
            if i in (id_col, name_col) or h in IGNORED or h == "":
                continue
            if h in subjects:
                subject_cols[i] = subjects[h]
            else:
                errors.append(_("第 1 行“{column}”列：不是本次考试的科目").format(column=h))
        if not subject_cols and not errors:
            errors.append(_("第 1 行没有本次考试的科目列（{subjects}）").format(subjects="、".join(subjects)))
    seen: dict[tuple[str, str], int] = {}

    def check_student(line: int, number: str, row: list[Any]) -> ExamStudent | None:
        if number == "":
            errors.append(_("第 {row} 行“{column}”列为空").format(row=line, column=headers[id_col]))
            return None
        student = students.get(number)
        if student is None:
            errors.append(
                _("第 {row} 行“{column}”列：{number} 不是本次考试的考生").format(
                    row=line, column=headers[id_col], number=number
                )
            )
            return None
        if name_col is not None:
            name = _text(row[name_col]) if name_col < len(row) else ""
            if name and name != student.name:
                errors.append(
                    _("第 {row} 行“姓名”列：{number} 是 {expected}，不是 {name}").format(
                        row=line, number=number, expected=student.name, name=name
                    )
                )
        return student

    def check_cell(line: int, column: str, student: ExamStudent, subject: ExamSubject, value: Any) -> None:
        text = _text(value)
        if text == "":
            return
        parsed, status, error = parse_cell(text, subject.full_marks)
        if error:
            errors.append(_("第 {row} 行“{column}”列：{error}").format(row=line, column=column, error=error))
            return
        cells.append(Cell(student, subject, parsed, status))

    for line, row in enumerate(rows[1:], start=2):
        if len(errors) >= MAX_ERRORS:
            break
        row = list(row) + [None] * (len(headers) - len(row))
        if all(_text(v) == "" for v in row):
            continue
        number = _text(row[id_col])
        if long:
            subject_name = _text(row[headers.index("科目")])
            key = (number, subject_name)
        else:
            subject_name, key = "", (number, "")
        if number and key in seen:
            what = f"{number} {subject_name}".strip()
            errors.append(_("第 {row} 行：{what} 与第 {first} 行重复").format(row=line, what=what, first=seen[key]))
            continue
        seen[key] = line
        student = check_student(line, number, row)
        if long:
            subject = subjects.get(subject_name)
            if subject is None:
                errors.append(
                    _("第 {row} 行“科目”列：“{subject}”不是本次考试的科目").format(row=line, subject=subject_name)
                )
                continue
            if "满分" in headers:
                full = _text(row[headers.index("满分")])
                if full and _decimal(full) != subject.full_marks:
                    errors.append(
                        _("第 {row} 行“满分”列：{subject} 的满分是 {expected}，不是 {full}").format(
                            row=line,
                            subject=subject.subject,
                            expected=format(subject.full_marks.normalize(), "f"),
                            full=full,
                        )
                    )
                    continue
            if student is not None:
                check_cell(line, "分数", student, subject, row[headers.index("分数")])
        elif student is not None:
            for i, subject in subject_cols.items():
                check_cell(line, headers[i], student, subject, row[i])
    if errors:
        if len(errors) >= MAX_ERRORS:
            errors = [*errors[:MAX_ERRORS], _("……问题太多，只列出前 {n} 条").format(n=MAX_ERRORS)]
        raise ScoreErrors(errors)
    if not cells:
        raise ScoreErrors([_("文件里没有填写任何成绩")])
    return cells


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except ArithmeticError:
        return None
