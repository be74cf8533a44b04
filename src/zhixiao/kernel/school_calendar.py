"""Which days are school days: China's public holidays and make-up workdays (调休) from the
chinese-calendar package, then the school's own days off and extra days on top."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import chinese_calendar
from django.utils.translation import gettext_lazy as _


class DayKind(StrEnum):
    SCHOOL_DAY = "school_day"
    WEEKEND = "weekend"
    PUBLIC_HOLIDAY = "public_holiday"
    MAKEUP_WORKDAY = "makeup_workday"  # 调休上班
    SCHOOL_DAY_OFF = "school_day_off"  # the school's own day off
    EXTRA_SCHOOL_DAY = "extra_school_day"  # the school's own extra day on
    VACATION = "vacation"  # outside the term


DAY_KIND_LABELS = {
    DayKind.SCHOOL_DAY: _("上课日"),
    DayKind.WEEKEND: _("周末"),
    DayKind.PUBLIC_HOLIDAY: _("法定节假日"),
    DayKind.MAKEUP_WORKDAY: _("调休上课"),
    DayKind.SCHOOL_DAY_OFF: _("学校放假"),
    DayKind.EXTRA_SCHOOL_DAY: _("学校补课"),
    DayKind.VACATION: _("假期"),
}


@dataclass(frozen=True)
class Day:
    date: dt.date
    kind: DayKind
    name: str = ""  # holiday name or the school's note

    @property
    def is_school_day(self) -> bool:
        return self.kind in (DayKind.SCHOOL_DAY, DayKind.MAKEUP_WORKDAY, DayKind.EXTRA_SCHOOL_DAY)


_HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def national_day(date: dt.date) -> Day:
    """What the State Council's holiday arrangement makes of a date (ignoring any school)."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(date)
    except NotImplementedError:  # years the package does not know yet: weekends only
        return Day(date, DayKind.WEEKEND if date.weekday() >= 5 else DayKind.SCHOOL_DAY)
    zh = _HOLIDAY_NAMES_ZH.get(str(name), str(name or ""))
    if on_holiday:
        return Day(date, DayKind.PUBLIC_HOLIDAY if name else DayKind.WEEKEND, zh)
    if date.weekday() >= 5:
        return Day(date, DayKind.MAKEUP_WORKDAY, zh)
    return Day(date, DayKind.SCHOOL_DAY)


def school_day(
    date: dt.date,
    *,
    overrides: Mapping[dt.date, tuple[bool, str]] | None = None,
    term: tuple[dt.date, dt.date] | None = None,
) -> Day:
    """The school's view of a date: `overrides` maps a date to (is_school_day, note); `term` bounds."""
    if overrides and date in overrides:
        on, note = overrides[date]
        return Day(date, DayKind.EXTRA_SCHOOL_DAY if on else DayKind.SCHOOL_DAY_OFF, note)
    if term is not None and not (term[0] <= date <= term[1]):
        return Day(date, DayKind.VACATION)
    return national_day(date)


def month_days(
    year: int,
    month: int,
    *,
    overrides: Mapping[dt.date, tuple[bool, str]] | None = None,
    term: tuple[dt.date, dt.date] | None = None,
) -> list[Day]:
    first = dt.date(year, month, 1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return [school_day(first + dt.timedelta(days=i), overrides=overrides, term=term) for i in range((nxt - first).days)]
