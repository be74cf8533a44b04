"""Checking one person's record, field by field, the same way for a form, the API and an import.

Input is raw values (strings, dates or numbers as Excel gives them); output is cleaned values or a list
of problems, each naming the field, the value and the reason in Chinese. A valid resident ID fixes the
birth date and the gender: a different value entered beside it is a problem, never silently replaced.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from zhixiao.kernel import codes, identifiers

from .models import Boarding, Gender, Post, Relation, StudentStatus


@dataclass(frozen=True)
class Problem:
    field: str
    value: str
    reason: str


class RecordErrors(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("；".join(f"{p.field}: {p.reason}" for p in problems))
        self.problems = problems


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FORBIDDEN = re.compile(r"[<>{}\\;]")
# A text that a spreadsheet would run as a formula (CSV/Excel injection) when the data is exported again.
_FORMULA_START = ("=", "+", "-", "@")


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def ascii_digits(value: str) -> str:
    """Full-width digits and letters (common with Chinese input methods) as ASCII; other scripts' digits
    stay as they are, for the format checks to reject."""
    return value if value.isascii() else unicodedata.normalize("NFKC", value)


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = text(value)
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValueError(_("日期格式应为 2010-09-01，或该日期不存在"))


class Checker:
    """Collects problems while cleaning a record's fields."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.cleaned: dict[str, Any] = {}

    def fail(self, field: str, value: Any, reason: str) -> None:
        self.problems.append(Problem(field, text(value), reason))

    def name(self, field: str, value: Any, *, required: bool = True, max_len: int = 50) -> str | None:
        v = text(value)
        if not v:
            if required:
                self.fail(field, value, _("必填"))
            return None
        if len(v) > max_len:
            self.fail(field, value, _("过长（最多 {n} 个字）").format(n=max_len))
            return None
        if _CONTROL.search(v) or _FORBIDDEN.search(v):
            self.fail(field, value, _("含有不允许的字符"))
            return None
        if v.startswith(_FORMULA_START):
            self.fail(field, value, _("不能以 = + - @ 开头"))
            return None
        return v

    def code(self, field: str, value: Any, list_key: str, *, required: bool = True) -> str | None:
        v = text(value)
        if not v:
            if required:
                self.fail(field, value, _("必填"))
            return None
        found = codes.code_list(list_key).lookup(v)
        if found is None:
            self.fail(
                field,
                value,
                _("不是 {standard} 中的代码或名称").format(standard=codes.code_list(list_key).standard),
            )
            return None
        return found.code

    def choice(
        self, field: str, value: Any, choices: Any, *, required: bool = True, default: str | None = None
    ) -> str | None:
        v = text(value)
        if not v:
            if required and default is None:
                self.fail(field, value, _("必填"))
            return default
        for key, label in choices:
            if v in (key, str(label)):
                return str(key)
        allowed = "、".join(str(label) for _k, label in choices)
        self.fail(field, value, _("应为：{allowed}").format(allowed=allowed))
        return None

    def date(self, field: str, value: Any, *, required: bool = True, earliest: dt.date | None = None) -> dt.date | None:
        if value in (None, ""):
            if required:
                self.fail(field, value, _("必填"))
            return None
        try:
            d = parse_date(value)
        except ValueError as exc:
            self.fail(field, value, str(exc))
            return None
        if d > dt.date.today() + dt.timedelta(days=366):
            self.fail(field, value, _("日期不合理（太晚）"))
            return None
        if earliest and d < earliest:
            self.fail(field, value, _("日期不合理（太早）"))
            return None
        return d

    def mobile(self, field: str, value: Any, *, required: bool = True) -> str | None:
        v = ascii_digits(text(value))
        if not v:
            if required:
                self.fail(field, value, _("必填"))
            return None
        if not v.isascii():  # \d in the mobile rule would accept other scripts' digits
            self.fail(field, value, _("手机号应为11位数字，以1开头"))
            return None
        try:
            return identifiers.normalize_mobile(v)
        except ValueError as exc:
            self.fail(field, value, str(exc))
            return None

    def identity(
        self,
        *,
        type_field: str,
        type_value: Any,
        number_field: str,
        number_value: Any,
        gender_field: str,
        gender: str | None,
        birth_field: str,
        birth: dt.date | None,
        required: bool = False,
    ) -> tuple[str, str | None]:
        """ID type and number; for a resident ID, the check digit and agreement with gender and birth date."""
        id_type = self.code(type_field, type_value, codes.ID_TYPE, required=False) or codes.RESIDENT_ID_CARD
        number = ascii_digits(text(number_value)).upper()
        if not number:
            if required:
                self.fail(number_field, number_value, _("必填"))
            return id_type, None
        if id_type != codes.RESIDENT_ID_CARD:
            if not re.fullmatch(r"[A-Za-z0-9()（）-]{4,32}", number):
                self.fail(number_field, number_value, _("证件号码格式错误"))
                return id_type, None
            return id_type, number
        try:
            rid = identifiers.parse_resident_id(number)
        except ValueError as exc:
            self.fail(number_field, number_value, str(exc))
            return id_type, None
        if gender and gender != rid.sex_code:
            self.fail(
                gender_field,
                (gender == "1" and "男") or "女",
                _("与身份证号不符（身份证号表明为{sex}）").format(sex="男" if rid.sex_code == "1" else "女"),
            )
        if birth and birth != rid.birth_date:
            self.fail(
                birth_field,
                birth.isoformat(),
                _("与身份证号不符（身份证号中为 {date}）").format(date=rid.birth_date.isoformat()),
            )
        return id_type, rid.number

    def person(self, raw: dict[str, Any], *, birth_required: bool, born_after: dt.date) -> None:
        """Name, gender, ID, birth date and ethnicity: the fields every person's record shares."""
        self.cleaned["name"] = self.name("name", raw.get("name"))
        gender = self.code("gender", raw.get("gender"), codes.SEX)
        if gender and gender not in (Gender.MALE, Gender.FEMALE):
            self.fail("gender", raw.get("gender"), _("应为 男 或 女"))
            gender = None
        self.cleaned["gender"] = gender
        birth = self.date("birth_date", raw.get("birth_date"), required=birth_required, earliest=born_after)
        id_type, number = self.identity(
            type_field="id_type",
            type_value=raw.get("id_type"),
            number_field="id_number",
            number_value=raw.get("id_number"),
            gender_field="gender",
            gender=gender,
            birth_field="birth_date",
            birth=birth,
        )
        if birth is None and number and id_type == codes.RESIDENT_ID_CARD:
            birth = identifiers.parse_resident_id(number).birth_date  # the ID fixes the birth date
        self.cleaned.update(id_type=id_type, id_number=number, birth_date=birth)
        self.cleaned["ethnicity"] = self.code("ethnicity", raw.get("ethnicity") or "汉族", codes.ETHNICITY)


STUDENT_NO_RE = re.compile(r"^[A-Za-z]?[0-9A-Za-z]{8,31}$")


def check_student(raw: dict[str, Any]) -> Checker:
    """Fields: student_no, name, gender, id_type, id_number, birth_date, ethnicity, household_type,
    boarding, status, status_since, enrolled_on, address."""
    c = Checker()
    no = text(raw.get("student_no")).upper()
    if not no:
        c.fail("student_no", no, _("必填"))
    elif not STUDENT_NO_RE.match(no):
        c.fail("student_no", no, _("学籍号应为9–32位字母或数字，如 G + 身份证号"))
    else:
        c.cleaned["student_no"] = no
    c.person(raw, birth_required=not text(raw.get("id_number")), born_after=dt.date(1950, 1, 1))
    c.cleaned["household_type"] = (
        c.code("household_type", raw.get("household_type"), codes.HOUSEHOLD, required=False) or ""
    )
    c.cleaned["boarding"] = c.choice("boarding", raw.get("boarding"), Boarding.choices, default=Boarding.DAY)
    c.cleaned["status"] = c.choice("status", raw.get("status"), StudentStatus.choices, default=StudentStatus.ENROLLED)
    enrolled = c.date("enrolled_on", raw.get("enrolled_on"), required=False, earliest=dt.date(1990, 1, 1))
    c.cleaned["enrolled_on"] = enrolled or dt.date.today()
    since = c.date("status_since", raw.get("status_since"), required=False, earliest=dt.date(1990, 1, 1))
    c.cleaned["status_since"] = since or c.cleaned["enrolled_on"]
    birth = c.cleaned.get("birth_date")
    if birth and enrolled and enrolled < birth:
        c.fail("enrolled_on", raw.get("enrolled_on"), _("入学日期早于出生日期"))
    c.cleaned["address"] = c.name("address", raw.get("address"), required=False, max_len=200) or ""
    return c


# What parents write in the 关系 column, beside the labels of Relation.
RELATION_ALIASES = {
    "父": Relation.FATHER,
    "爸爸": Relation.FATHER,
    "父子": Relation.FATHER,
    "父女": Relation.FATHER,
    "母": Relation.MOTHER,
    "妈妈": Relation.MOTHER,
    "母子": Relation.MOTHER,
    "母女": Relation.MOTHER,
    "祖父": Relation.GRANDFATHER,
    "外祖父": Relation.GRANDFATHER,
    "爷爷": Relation.GRANDFATHER,
    "外公": Relation.GRANDFATHER,
    "祖母": Relation.GRANDMOTHER,
    "外祖母": Relation.GRANDMOTHER,
    "奶奶": Relation.GRANDMOTHER,
    "外婆": Relation.GRANDMOTHER,
    "其他": Relation.OTHER,
}


def check_guardian(raw: dict[str, Any], prefix: str = "guardian") -> Checker:
    """Fields: name, relation, mobile, may_notify."""
    c = Checker()
    c.cleaned["name"] = c.name(f"{prefix}_name", raw.get("name"))
    relation = raw.get("relation")
    c.cleaned["relation"] = c.choice(
        f"{prefix}_relation", RELATION_ALIASES.get(text(relation), relation), Relation.choices
    )
    c.cleaned["mobile"] = c.mobile(f"{prefix}_mobile", raw.get("mobile"))
    notify = text(raw.get("may_notify"))
    c.cleaned["may_notify"] = notify not in ("否", "no", "0", "N", "n", "false", "False")
    return c


def check_staff(raw: dict[str, Any]) -> Checker:
    """Fields: staff_no, name, gender, id_type, id_number, birth_date, ethnicity, political_status, mobile,
    post, title, hired_on."""
    c = Checker()
    no = text(raw.get("staff_no"))
    if not no:
        c.fail("staff_no", no, _("必填"))
    elif not re.fullmatch(r"[A-Za-z0-9_-]{2,32}", no):
        c.fail("staff_no", no, _("工号应为2–32位字母、数字"))
    else:
        c.cleaned["staff_no"] = no
    c.person(raw, birth_required=False, born_after=dt.date(1940, 1, 1))
    c.cleaned["political_status"] = (
        c.code("political_status", raw.get("political_status"), codes.POLITICAL_STATUS, required=False) or "13"
    )
    c.cleaned["mobile"] = c.mobile("mobile", raw.get("mobile"), required=False) or ""
    c.cleaned["post"] = c.choice("post", raw.get("post"), Post.choices, default=Post.TEACHER)
    c.cleaned["title"] = c.name("title", raw.get("title"), required=False) or ""
    c.cleaned["hired_on"] = c.date("hired_on", raw.get("hired_on"), required=False, earliest=dt.date(1960, 1, 1))
    return c
