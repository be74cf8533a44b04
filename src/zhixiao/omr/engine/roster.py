"""A class list for pre-printed answer sheets (预印答题卡): student number, name and class per row.

Read from .csv (UTF-8, or GB18030 as Excel on Chinese Windows saves it) or .xlsx; the first row names the
columns (考号/学号/学籍号/student_id, 姓名/name, 班级/class). Every problem is reported at once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_STUDENTS = 5000
COLUMNS: dict[str, tuple[str, ...]] = {
    "student_id": ("student_id", "考号", "学号", "学籍号", "准考证号"),
    "name": ("name", "姓名"),
    "class": ("class", "班级", "class_name"),
}


class RosterError(ValueError):
    """A roster we cannot use; `problems` holds every problem found, in Chinese."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        shown = self.problems[:50]
        if len(self.problems) > len(shown):
            shown.append(f"……另有 {len(self.problems) - len(shown)} 处错误")
        super().__init__("\n".join(shown))


@dataclass(frozen=True)
class Student:
    student_id: str
    name: str
    class_name: str = ""


def read_roster(path: Path, *, digits: int) -> list[Student]:
    """Students from a .csv or .xlsx file, in file order; ids must have exactly `digits` digits."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise RosterError([f"学生名单应为 .xlsx 或 .csv 文件，实为 {path.name}"])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RosterError([f"无法读取学生名单 {path}：{exc.strerror or exc}"]) from exc
    rows = _xlsx_rows(data) if suffix == ".xlsx" else _csv_rows(data)
    return parse_roster(rows, digits=digits)


def parse_roster(rows: Sequence[Sequence[Any]], *, digits: int) -> list[Student]:
    """Students from rows whose first row is the header."""
    if not rows:
        raise RosterError(["学生名单是空的"])
    header = [_cell(c).lower() for c in rows[0]]
    where: dict[str, int] = {}
    for key, names in COLUMNS.items():
        for i, h in enumerate(header):
            if h in names:
                where[key] = i
                break
    problems = []
    if "student_id" not in where:
        problems.append("学生名单第 1 行缺少“考号”列（也可写作 学号、学籍号、student_id）")
    if "name" not in where:
        problems.append("学生名单第 1 行缺少“姓名”列（也可写作 name）")
    if problems:
        raise RosterError(problems)
    students: list[Student] = []
    seen: dict[str, int] = {}
    for r, row in enumerate(rows[1:], start=2):
        values = {k: _cell(row[i]) if i < len(row) else "" for k, i in where.items()}
        if not any(values.values()):
            continue
        sid, name = values["student_id"], values["name"]
        if not (sid.isascii() and sid.isdigit() and len(sid) == digits):
            problems.append(f"学生名单第 {r} 行：考号应为 {digits} 位数字，实为“{sid}”")
        elif sid in seen:
            problems.append(f"学生名单第 {r} 行：考号 {sid} 与第 {seen[sid]} 行重复")
        else:
            seen[sid] = r
        if not name:
            problems.append(f"学生名单第 {r} 行：缺少姓名")
        elif len(name) > 20:
            problems.append(f"学生名单第 {r} 行：姓名过长（最多 20 字）")
        if len(values.get("class", "")) > 20:
            problems.append(f"学生名单第 {r} 行：班级名称过长（最多 20 字）")
        students.append(Student(student_id=sid, name=name, class_name=values.get("class", "")))
    if not students:
        problems.append("学生名单中没有学生")
    if len(students) > MAX_STUDENTS:
        problems.append(f"学生名单过长：{len(students)} 人，一次最多 {MAX_STUDENTS} 人")
    if problems:
        raise RosterError(problems)
    return students


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():  # Excel stores a long number typed as a number so
        value = int(value)
    return str(value).strip()


def _csv_rows(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return [list(row) for row in csv.reader(io.StringIO(text))]
    raise RosterError(["学生名单 .csv 文件的编码无法识别（应为 UTF-8 或 GB18030）"])


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    from python_calamine import CalamineWorkbook

    if not data.startswith(b"PK"):
        raise RosterError(["学生名单不是 .xlsx 格式的 Excel 工作簿"])
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = book.get_sheet_by_index(0)
        rows: list[list[Any]] = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own types for broken archives
        raise RosterError([f"无法读取学生名单工作簿：{exc}"]) from exc
    return rows
