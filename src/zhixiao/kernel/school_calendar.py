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


WEEKDAY_LABELS = [_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日")]


@dataclass(frozen=True)
class Day:
    date: dt.date
    kind: DayKind
    name: str = ""  # holiday name or the school's note
    follows: int | None = None  # a 调休 or extra day: the weekday (0 = Monday) whose timetable is taught

    @property
    def is_school_day(self) -> bool:
        return self.kind in (DayKind.SCHOOL_DAY, DayKind.MAKEUP_WORKDAY, DayKind.EXTRA_SCHOOL_DAY)

    @property
    def timetable_weekday(self) -> int | None:
        """Whose lessons are taught today: the weekday's own, another weekday's on a 调休 day, none off school."""
        if not self.is_school_day:
            return None
        return self.date.weekday() if self.follows is None else self.follows

    @property
    def follows_label(self) -> str:
        """“按周二课表” on a day that takes another weekday's timetable, else ""."""
        wd = self.timetable_weekday
        if wd is None or wd == self.date.weekday():
            return ""
        return str(_("按{weekday}课表")).format(weekday=WEEKDAY_LABELS[wd])


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
        return Day(date, DayKind.MAKEUP_WORKDAY, zh, follows=makeup_follows(date))
    return Day(date, DayKind.SCHOOL_DAY)


def makeup_follows(date: dt.date) -> int:
    """The weekday whose timetable a national 调休 workday takes. Each make-up workday pays for one weekday
    given off in lieu (is_in_lieu) around the same holiday: the i-th make-up day of a holiday takes the
    timetable of its i-th day in lieu (国庆 2025: Sunday 28 Sep ↔ Tuesday 7 Oct, Saturday 11 Oct ↔ Wednesday
    8 Oct). Without such a pair, Monday's. A school that does otherwise sets the day on its own calendar."""
    try:
        _on, name = chinese_calendar.get_holiday_detail(date)
        window = [date + dt.timedelta(days=k) for k in range(-45, 46)]
        same = [d for d in window if chinese_calendar.get_holiday_detail(d)[1] == name]
        makeups = [d for d in same if d.weekday() >= 5 and chinese_calendar.is_workday(d)]
        in_lieu = [d for d in same if chinese_calendar.is_in_lieu(d) and d.weekday() < 5]
    except NotImplementedError:
        return 0
    if name is None or date not in makeups or not in_lieu:
        return 0
    return in_lieu[min(makeups.index(date), len(in_lieu) - 1)].weekday()


Override = tuple[bool, str] | tuple[bool, str, int | None]  # (is_school_day, note[, follows weekday])


def school_day(
    date: dt.date,
    *,
    overrides: Mapping[dt.date, Override] | None = None,
    term: tuple[dt.date, dt.date] | None = None,
) -> Day:
    """The school's view of a date: `overrides` maps a date to (is_school_day, note[, follows]) — follows: the
    weekday whose timetable an extra day takes (default: its own weekday, Monday's on a weekend); `term` bounds."""
    if overrides and date in overrides:
        on, note, *rest = overrides[date]
        follows = rest[0] if rest else None
        if on and follows is None and date.weekday() >= 5:
            national = national_day(date)
            follows = national.follows if national.kind == DayKind.MAKEUP_WORKDAY else 0
        return Day(date, DayKind.EXTRA_SCHOOL_DAY if on else DayKind.SCHOOL_DAY_OFF, note, follows if on else None)
    if term is not None and not (term[0] <= date <= term[1]):
        return Day(date, DayKind.VACATION)
    return national_day(date)


def month_days(
    year: int,
    month: int,
    *,
    overrides: Mapping[dt.date, Override] | None = None,
    term: tuple[dt.date, dt.date] | None = None,
) -> list[Day]:
    first = dt.date(year, month, 1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return [school_day(first + dt.timedelta(days=i), overrides=overrides, term=term) for i in range((nxt - first).days)]
