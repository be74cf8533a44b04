"""Test workbooks built on the fly (no binary fixtures): realistic names from Faker('zh_CN'), resident
IDs with correct check digits, unique mobiles. Used by the tests and by bench/people/bench_import.py."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import random
from collections.abc import Iterable, Sequence
from typing import Any

from faker import Faker
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from stdnum.cn import ric

from zhixiao.people.importing import STAFF_COLUMNS, STUDENT_COLUMNS

STUDENT_HEADERS = [c.header for c in STUDENT_COLUMNS]
STAFF_HEADERS = [c.header for c in STAFF_COLUMNS]
# Divisions the demo does not use, valid for any birth year (python-stdnum checks that a county existed
# when the person was born), and a mobile prefix the demo does not use either: no collisions with it.
DIVISIONS = ("110101", "110102", "310104")
MOBILE_PREFIX = "199"


def resident_id(division: str, birth: dt.date, seq: int, *, male: bool) -> str:
    """A valid 18-digit ID: the sequence's last digit is odd for men, even for women (seq < 500)."""
    if not 0 <= seq < 500:
        raise ValueError("at most 500 people of one sex per division and birth date")
    order = seq * 2 + (1 if male else 0)
    body = f"{division}{birth:%Y%m%d}{order % 1000:03d}"
    return body + ric.calc_check_digit(body + "?")  # stdnum expects a placeholder check digit


class People:
    """Deterministic generator of unique students, guardians and staff for one test or benchmark."""

    def __init__(self, seed: int = 1) -> None:
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.rng = random.Random(seed)
        self._seq: dict[tuple[str, dt.date, bool], int] = {}
        self._mobiles = itertools.count(seed * 1_000_003 % 90_000_000 + 1)

    def mobile(self) -> str:
        return f"{MOBILE_PREFIX}{next(self._mobiles) % 100_000_000:08d}"

    def id_number(self, birth: dt.date, *, male: bool) -> str:
        """Unique within this generator: a running sequence per division, birth date and sex."""
        division = self.rng.choice(DIVISIONS)
        key = (division, birth, male)
        seq = self._seq.get(key, 0)
        self._seq[key] = seq + 1
        return resident_id(division, birth, seq, male=male)

    def student(self, class_name: str = "", *, guardians: int = 2, entry_year: int = 2025) -> dict[str, Any]:
        male = self.rng.random() < 0.5
        birth = dt.date(entry_year - 15, 1, 1) + dt.timedelta(days=self.rng.randrange(0, 365))
        number = self.id_number(birth, male=male)
        name = self.fake.name_male() if male else self.fake.name_female()
        row: dict[str, Any] = {
            "学籍号": f"G{number}",
            "姓名": name,
            "性别": "男" if male else "女",
            "证件类型": "居民身份证",
            "证件号码": number,
            "出生日期": birth,
            "民族": self.rng.choice(["汉族", "汉族", "汉族", "回族", "满族"]),
            "户口性质": self.rng.choice(["非农业家庭户口", "农业家庭户口"]),
            "走读/住校": self.rng.choice(["走读", "住校"]),
            "班级": class_name,
            "入学日期": dt.date(entry_year, 9, 1),
            "家庭住址": self.fake.address(),
        }
        if guardians >= 1:
            row.update({"监护人1姓名": name[0] + self.fake.first_name_male(), "监护人1关系": "父亲"})
            row["监护人1手机"] = self.mobile()
        if guardians >= 2:
            row.update({"监护人2姓名": self.fake.name_female(), "监护人2关系": "母亲", "监护人2手机": self.mobile()})
        return row

    def staff(self, staff_no: str, departments: Sequence[str] = ()) -> dict[str, Any]:
        male = self.rng.random() < 0.5
        birth = dt.date(1975, 1, 1) + dt.timedelta(days=self.rng.randrange(0, 365 * 20))
        return {
            "工号": staff_no,
            "姓名": self.fake.name_male() if male else self.fake.name_female(),
            "性别": "男" if male else "女",
            "证件类型": "居民身份证",
            "证件号码": self.id_number(birth, male=male),
            "出生日期": birth.isoformat(),
            "民族": "汉族",
            "政治面貌": self.rng.choice(["中共党员", "群众", "共青团员"]),
            "手机号": self.mobile(),
            "岗位": "专任教师",
            "职务/职称": "一级教师",
            "处室": "、".join(departments),
            "入职日期": "2015-08-20",
        }


def workbook(
    headers: Sequence[str],
    rows: Iterable[dict[str, Any]],
    *,
    title_rows: Sequence[str] = (),
    sheet_title: str = "Sheet1",
) -> bytes:
    """An .xlsx with optional title lines above the header; long digits are written as text, as a
    careful user (or our template) would."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title)
    for line in title_rows:
        sheet.append([line])
    sheet.append(list(headers))
    for row in rows:
        sheet.append([_cell(sheet, row.get(h)) for h in headers])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(sheet: Any, value: Any) -> Any:
    """Text that starts with '=' stays text: what a crafted (formula-injection) file holds."""
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value
