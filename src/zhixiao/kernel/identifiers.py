"""Validators for national identifiers: the 18-digit resident ID (GB 11643), mobiles, 学校标识码."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import phonenumbers
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: dt.date
    sex_code: str  # GB/T 2261.1: "1" male, "2" female
    division_code: str


def parse_resident_id(value: str) -> ResidentId:
    """Validate an 18-digit ID number (check digit, birth date, division) and read what it fixes.

    Raises ValueError with a Chinese message for users.
    """
    number = str(value).strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise ValueError(_("身份证号应为18位：17位数字加1位校验码（数字或X）"))
    try:
        number = ric.validate(number)
    except stdnum_errors.InvalidChecksum:
        raise ValueError(_("身份证号校验码错误")) from None
    except stdnum_errors.InvalidComponent:
        try:
            ric.get_birth_date(number)
        except stdnum_errors.ValidationError:
            raise ValueError(_("身份证号中的出生日期不存在")) from None
        raise ValueError(_("身份证号前6位不是出生时有效的行政区划代码")) from None
    except stdnum_errors.ValidationError:
        raise ValueError(_("身份证号格式错误")) from None
    birth = ric.get_birth_date(number)
    if birth > dt.date.today():
        raise ValueError(_("身份证号中的出生日期晚于今天"))
    sex = "1" if int(number[16]) % 2 == 1 else "2"
    return ResidentId(number=number, birth_date=birth, sex_code=sex, division_code=number[:6])


def normalize_mobile(value: str) -> str:
    """Return an 11-digit mainland mobile number or raise ValueError (Chinese message)."""
    raw = re.sub(r"[\s-]", "", str(value))
    if raw.startswith("+86"):
        raw = raw[3:]
    if not re.fullmatch(r"1\d{10}", raw):
        raise ValueError(_("手机号应为11位数字，以1开头"))
    parsed = phonenumbers.parse(raw, "CN")
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(_("手机号号段不存在"))
    if phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValueError(_("不是手机号码"))
    return raw


def validate_school_code(value: str) -> str:
    """学校标识码: 10 digits, issued by the Ministry of Education."""
    code = str(value).strip()
    if not re.fullmatch(r"\d{10}", code):
        raise ValueError(_("学校标识码应为10位数字"))
    return code
