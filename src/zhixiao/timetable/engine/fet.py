"""FET (`.fet`, XML) import and export, and reading FET's own timetables.

`read_fet` turns a FET file (Official mode, FET 5.x and 6.x) into a `Problem`: every FET constraint type in
`SPECS` maps onto a kind of `kinds.py`; any other type is listed in `FetImport.unsupported`, never dropped.
Bad input raises `FetError` with every problem found, in Chinese, naming the element and its line.

`write_fet` writes a solution back with every activity's time and room permanently locked, so that FET
itself (`fet-cl`) can confirm it; `read_fet_solution` reads the timetable `fet-cl` writes.

The parser is expat with entity declarations refused (no entity-expansion attacks on uploaded files).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

from .model import Activity, Constraint, Placement, Problem, Room, Solution, StudentSet

FET_VERSION = "6.8.5"  # the format `write_fet` produces (Debian 12's fet)
FET_MAX_CAPACITY = 30000  # FET's largest room capacity, its "unlimited"


class FetError(ValueError):
    """A FET file we cannot read; `errors` holds every problem found, one message each."""

    def __init__(self, errors: Iterable[str]) -> None:
        self.errors = list(errors)
        shown = self.errors[:50]
        if len(self.errors) > len(shown):
            shown.append(f"……另有 {len(self.errors) - len(shown)} 处错误")
        super().__init__("\n".join(shown))


@dataclass
class FetImport:
    problem: Problem
    unsupported: list[str] = field(default_factory=list)  # "#12 ConstraintX（第 345 行，权重 100%）"
    ignored_inactive: int = 0  # inactive activities + inactive constraints (FET ignores them too)
    warnings: list[str] = field(default_factory=list)
    inactive_activities: int = 0
    inactive_constraints: int = 0
    version: str = ""
    source: bytes = b""  # the file as read, for `write_fet(..., source=...)`


# --- the constraint table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    """One parameter of a FET constraint: how it sits in the XML and which param of ours it fills."""

    type: str  # teacher students subject tag room int bool activity activities slots rooms room1 hour
    # end_hour filter opt_day opt_hour real_rooms
    param: str = ""
    xml: str = ""  # the element (single values) or the item element (lists)
    count: str = ""  # a list's Number_of_… element
    day: str = ""  # slot lists: the day and hour elements inside each item
    hour: str = ""
    duration: bool = True  # filters: with a Duration element


@dataclass(frozen=True)
class _Spec:
    kind: str
    fields: tuple[_Field, ...]
    fixed: tuple[tuple[str, Any], ...] = ()  # params the FET type implies (teacher=None for Teachers…)
    write: bool = True  # False: a singular room type; export writes the plural one


def _teacher(xml: str = "Teacher_Name") -> _Field:
    return _Field("teacher", "teacher", xml)


def _students(xml: str = "Students") -> _Field:
    return _Field("students", "students", xml)


def _int(xml: str, param: str) -> _Field:
    return _Field("int", param, xml)


def _bool(xml: str, param: str) -> _Field:
    return _Field("bool", param, xml)


def _slots(count: str, item: str, day: str, hour: str) -> _Field:
    return _Field("slots", "slots", item, count, day, hour)


def _activities() -> _Field:
    return _Field("activities", "activities", "Activity_Id", "Number_of_Activities")


def _rooms() -> _Field:
    return _Field("rooms", "rooms", "Preferred_Room", "Number_of_Preferred_Rooms")


_ACTIVITY = _Field("activity", "activity", "Activity_Id")
_NOT_AVAILABLE = _slots("Number_of_Not_Available_Times", "Not_Available_Time", "Day", "Hour")
_STARTING = _slots(
    "Number_of_Preferred_Starting_Times", "Preferred_Starting_Time", "Preferred_Starting_Day", "Preferred_Starting_Hour"
)
_TIME_SLOTS = _slots("Number_of_Preferred_Time_Slots", "Preferred_Time_Slot", "Preferred_Day", "Preferred_Hour")
_SELECTED = _slots("Number_of_Selected_Time_Slots", "Selected_Time_Slot", "Selected_Day", "Selected_Hour")
_FILTER = _Field("filter", "filter")
_COMPONENT = _int("Component_Number", "component")
_START = _Field("hour", "start", "Interval_Start_Hour")
_END = _Field("end_hour", "end", "Interval_End_Hour")
_MAX_DAYS = _int("Max_Days_Per_Week", "max")
_TAG = _Field("tag", "tag", "Activity_Tag")
_TAG_NAME = _Field("tag", "tag", "Activity_Tag_Name")
_SUBJECT = _Field("subject", "subject", "Subject")
_ROOM1 = _Field("room1", "rooms", "Room")  # a singular room type: rooms = [that room]
_NO_TEACHER = (("teacher", None),)
_NO_STUDENTS = (("students", None),)


def _pair(teacher_kind: str, *fields: _Field, teacher_first: bool = True) -> dict[str, _Spec]:
    """`ConstraintTeacherX` and `ConstraintTeachersX` (every teacher) for one kind."""
    one = (_teacher(), *fields) if teacher_first else (*fields, _teacher())
    return {
        f"Constraint{teacher_kind}": _Spec(teacher_kind, one),
        "Constraint" + teacher_kind.replace("Teacher", "Teachers", 1): _Spec(teacher_kind, fields, _NO_TEACHER),
    }


def _students_pair(kind: str, *fields: _Field, all_fields: tuple[_Field, ...] | None = None) -> dict[str, _Spec]:
    """`ConstraintStudentsSetX` (fields in the order given, `Students` among them) and `ConstraintStudentsX`."""
    every = all_fields if all_fields is not None else tuple(f for f in fields if f.type != "students")
    return {
        f"Constraint{kind}": _Spec(kind, fields),
        "Constraint" + kind.replace("StudentsSet", "Students", 1): _Spec(kind, every, _NO_STUDENTS),
    }


# FET element -> our kind. Field order is the order FET writes them in.
SPECS: dict[str, _Spec] = {
    "ConstraintBasicCompulsoryTime": _Spec("BasicCompulsoryTime", ()),
    "ConstraintBreakTimes": _Spec("BreakTimes", (_slots("Number_of_Break_Times", "Break_Time", "Day", "Hour"),)),
    "ConstraintTeacherNotAvailableTimes": _Spec("TeacherNotAvailableTimes", (_teacher("Teacher"), _NOT_AVAILABLE)),
    "ConstraintStudentsSetNotAvailableTimes": _Spec("StudentsSetNotAvailableTimes", (_students(), _NOT_AVAILABLE)),
    "ConstraintActivityPreferredStartingTime": _Spec(
        "ActivityPreferredStartingTime",
        (
            _ACTIVITY,
            _Field("opt_day", "day", "Preferred_Day"),
            _Field("opt_hour", "period", "Preferred_Hour"),
            _bool("Permanently_Locked", "locked"),
        ),
    ),
    "ConstraintActivityPreferredStartingTimes": _Spec("ActivityPreferredStartingTimes", (_ACTIVITY, _STARTING)),
    "ConstraintActivityPreferredTimeSlots": _Spec("ActivityPreferredTimeSlots", (_ACTIVITY, _TIME_SLOTS)),
    "ConstraintActivitiesPreferredStartingTimes": _Spec("ActivitiesPreferredStartingTimes", (_FILTER, _STARTING)),
    "ConstraintActivitiesPreferredTimeSlots": _Spec("ActivitiesPreferredTimeSlots", (_FILTER, _TIME_SLOTS)),
    "ConstraintSubactivitiesPreferredStartingTimes": _Spec(
        "SubactivitiesPreferredStartingTimes", (_COMPONENT, _FILTER, _STARTING)
    ),
    "ConstraintSubactivitiesPreferredTimeSlots": _Spec(
        "SubactivitiesPreferredTimeSlots", (_COMPONENT, _FILTER, _TIME_SLOTS)
    ),
    "ConstraintMinDaysBetweenActivities": _Spec(
        "MinDaysBetweenActivities",
        (_bool("Consecutive_If_Same_Day", "consecutive_if_same_day"), _activities(), _int("MinDays", "min_days")),
    ),
    "ConstraintMaxDaysBetweenActivities": _Spec(
        "MaxDaysBetweenActivities", (_activities(), _int("MaxDays", "max_days"))
    ),
    "ConstraintMinGapsBetweenActivities": _Spec(
        "MinGapsBetweenActivities", (_activities(), _int("MinGaps", "min_gaps"))
    ),
    "ConstraintActivitiesSameStartingTime": _Spec("ActivitiesSameStartingTime", (_activities(),)),
    "ConstraintActivitiesSameStartingDay": _Spec("ActivitiesSameStartingDay", (_activities(),)),
    "ConstraintActivitiesSameStartingHour": _Spec("ActivitiesSameStartingHour", (_activities(),)),
    "ConstraintActivitiesNotOverlapping": _Spec("ActivitiesNotOverlapping", (_activities(),)),
    "ConstraintTwoActivitiesConsecutive": _Spec(
        "TwoActivitiesConsecutive",
        (_Field("activity", "first", "First_Activity_Id"), _Field("activity", "second", "Second_Activity_Id")),
    ),
    "ConstraintTwoActivitiesGrouped": _Spec(
        "TwoActivitiesGrouped",
        (_Field("activity", "first", "First_Activity_Id"), _Field("activity", "second", "Second_Activity_Id")),
    ),
    "ConstraintThreeActivitiesGrouped": _Spec(
        "ThreeActivitiesGrouped",
        (
            _Field("activity", "first", "First_Activity_Id"),
            _Field("activity", "second", "Second_Activity_Id"),
            _Field("activity", "third", "Third_Activity_Id"),
        ),
    ),
    "ConstraintActivityEndsStudentsDay": _Spec("ActivityEndsStudentsDay", (_ACTIVITY,)),
    "ConstraintActivitiesEndStudentsDay": _Spec(
        "ActivitiesEndStudentsDay", (_Field("filter", "filter", duration=False),)
    ),
    "ConstraintActivitiesOccupyMaxTimeSlotsFromSelection": _Spec(
        "ActivitiesOccupyMaxTimeSlotsFromSelection",
        (_activities(), _SELECTED, _int("Max_Number_of_Occupied_Time_Slots", "max")),
    ),
    "ConstraintActivitiesMaxSimultaneousInSelectedTimeSlots": _Spec(
        "ActivitiesMaxSimultaneousInSelectedTimeSlots",
        (_activities(), _SELECTED, _int("Max_Number_of_Simultaneous_Activities", "max")),
    ),
    "ConstraintActivitiesMinSimultaneousInSelectedTimeSlots": _Spec(
        "ActivitiesMinSimultaneousInSelectedTimeSlots",
        (
            _activities(),
            _SELECTED,
            _int("Min_Number_of_Simultaneous_Activities", "min"),
            _bool("Allow_Empty_Slots", "allow_empty"),
        ),
    ),
    **_pair("TeacherMaxHoursDaily", _int("Maximum_Hours_Daily", "max")),
    **_pair("TeacherMinHoursDaily", _int("Minimum_Hours_Daily", "min"), _bool("Allow_Empty_Days", "allow_empty")),
    **_pair("TeacherMaxDaysPerWeek", _MAX_DAYS),
    **_pair("TeacherMinDaysPerWeek", _int("Minimum_Days_Per_Week", "min")),
    **_pair("TeacherMaxGapsPerDay", _int("Max_Gaps", "max")),
    **_pair("TeacherMaxGapsPerWeek", _int("Max_Gaps", "max")),
    **_pair("TeacherMaxHoursContinuously", _int("Maximum_Hours_Continuously", "max")),
    **_pair("TeacherActivityTagMaxHoursDaily", _TAG_NAME, _int("Maximum_Hours_Daily", "max")),
    **_pair("TeacherActivityTagMaxHoursContinuously", _TAG_NAME, _int("Maximum_Hours_Continuously", "max")),
    **_pair("TeacherIntervalMaxDaysPerWeek", _START, _END, _MAX_DAYS),
    **_students_pair("StudentsSetMaxHoursDaily", _int("Maximum_Hours_Daily", "max"), _students()),
    **_students_pair(
        "StudentsSetMinHoursDaily",
        _int("Minimum_Hours_Daily", "min"),
        _students(),
        _bool("Allow_Empty_Days", "allow_empty"),
    ),
    **_students_pair("StudentsSetMaxGapsPerDay", _int("Max_Gaps", "max"), _students()),
    **_students_pair("StudentsSetMaxGapsPerWeek", _int("Max_Gaps", "max"), _students()),
    **_students_pair(
        "StudentsSetEarlyMaxBeginningsAtSecondHour", _int("Max_Beginnings_At_Second_Hour", "max"), _students()
    ),
    **_students_pair("StudentsSetIntervalMaxDaysPerWeek", _students(), _START, _END, _MAX_DAYS),
    **_students_pair(
        "StudentsSetActivityTagMaxHoursDaily",
        _int("Maximum_Hours_Daily", "max"),
        _students(),
        _TAG,
        all_fields=(_TAG, _int("Maximum_Hours_Daily", "max")),
    ),
    **_students_pair(
        "StudentsSetActivityTagMaxHoursContinuously",
        _int("Maximum_Hours_Continuously", "max"),
        _students(),
        _TAG,
        all_fields=(_TAG, _int("Maximum_Hours_Continuously", "max")),
    ),
    **_students_pair("StudentsSetMaxHoursContinuously", _int("Maximum_Hours_Continuously", "max"), _students()),
    # space
    "ConstraintBasicCompulsorySpace": _Spec("BasicCompulsorySpace", ()),
    "ConstraintRoomNotAvailableTimes": _Spec("RoomNotAvailableTimes", (_Field("room", "room", "Room"), _NOT_AVAILABLE)),
    "ConstraintActivityPreferredRoom": _Spec(
        "ActivityPreferredRoom",
        (
            _ACTIVITY,
            _Field("room", "room", "Room"),
            _Field("real_rooms", "real_rooms", "Real_Room", "Number_of_Real_Rooms"),
            _bool("Permanently_Locked", "locked"),
        ),
    ),
    "ConstraintActivityPreferredRooms": _Spec("ActivityPreferredRooms", (_ACTIVITY, _rooms())),
    "ConstraintSubjectPreferredRoom": _Spec("SubjectPreferredRooms", (_SUBJECT, _ROOM1), write=False),
    "ConstraintSubjectPreferredRooms": _Spec("SubjectPreferredRooms", (_SUBJECT, _rooms())),
    "ConstraintActivityTagPreferredRoom": _Spec("ActivityTagPreferredRooms", (_TAG, _ROOM1), write=False),
    "ConstraintActivityTagPreferredRooms": _Spec("ActivityTagPreferredRooms", (_TAG, _rooms())),
    "ConstraintSubjectActivityTagPreferredRoom": _Spec(
        "SubjectActivityTagPreferredRooms", (_SUBJECT, _TAG, _ROOM1), write=False
    ),
    "ConstraintSubjectActivityTagPreferredRooms": _Spec("SubjectActivityTagPreferredRooms", (_SUBJECT, _TAG, _rooms())),
    "ConstraintStudentsSetHomeRoom": _Spec("StudentsSetHomeRooms", (_students(), _ROOM1), write=False),
    "ConstraintStudentsSetHomeRooms": _Spec("StudentsSetHomeRooms", (_students(), _rooms())),
    "ConstraintTeacherHomeRoom": _Spec("TeacherHomeRooms", (_teacher("Teacher"), _ROOM1), write=False),
    "ConstraintTeacherHomeRooms": _Spec("TeacherHomeRooms", (_teacher("Teacher"), _rooms())),
    "ConstraintActivitiesOccupyMaxDifferentRooms": _Spec(
        "ActivitiesOccupyMaxDifferentRooms", (_activities(), _int("Max_Number_of_Different_Rooms", "max"))
    ),
    "ConstraintActivitiesSameRoomIfConsecutive": _Spec("ActivitiesSameRoomIfConsecutive", (_activities(),)),
}

# kinds whose activity list means nothing with fewer than two activities
_PAIRWISE = {
    "MinDaysBetweenActivities",
    "MaxDaysBetweenActivities",
    "MinGapsBetweenActivities",
    "ActivitiesSameStartingTime",
    "ActivitiesSameStartingDay",
    "ActivitiesSameStartingHour",
    "ActivitiesNotOverlapping",
    "ActivitiesSameRoomIfConsecutive",
}
_LOCK_TAGS = ("ConstraintActivityPreferredStartingTime", "ConstraintActivityPreferredRoom")
_NAME_KIND = {"teacher": "教师", "students": "学生组", "subject": "学科", "tag": "活动标签", "room": "教室"}
_TRUE = {"true": True, "1": True, "false": False, "0": False}


# --- XML parsing -----------------------------------------------------------------------------------------


def _parse(data: bytes) -> tuple[ET.Element, dict[ET.Element, int]]:
    """The element tree and each element's line, with DTD entities refused."""
    builder = ET.TreeBuilder()
    lines: dict[ET.Element, int] = {}
    parser = expat.ParserCreate()
    parser.buffer_text = True

    def start(tag: str, attrs: dict[str, str]) -> None:
        lines[builder.start(tag, attrs)] = parser.CurrentLineNumber

    def refuse_entity(*_args: Any) -> None:
        raise FetError(
            [f"第 {parser.CurrentLineNumber} 行：文件声明了 XML 实体，FET 文件不用实体，出于安全原因拒绝读取"]
        )

    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.EntityDeclHandler = refuse_entity
    try:
        parser.Parse(data, True)
    except expat.ExpatError as e:
        raise FetError([f"XML 格式错误（第 {e.lineno} 行第 {e.offset + 1} 列）：{expat.ErrorString(e.code)}"]) from None
    return builder.close(), lines


def _load(source: str | os.PathLike[str] | bytes) -> bytes:
    if isinstance(source, bytes | bytearray):
        return bytes(source)
    try:
        return Path(source).read_bytes()
    except OSError as e:
        raise FetError([f"无法读取文件 {source}：{e.strerror}"]) from None


def _fmt_weight(w: float) -> str:
    return str(int(w)) if w == int(w) else repr(w)


# --- reading ---------------------------------------------------------------------------------------------


class _Bad(Exception):
    """A field could not be read; its error is already recorded."""


class _Reader:
    def __init__(self, root: ET.Element, lines: dict[ET.Element, int]) -> None:
        self.root = root
        self.lines = lines
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.days: dict[str, int] = {}
        self.hours: dict[str, int] = {}
        self.names: dict[str, set[str]] = {k: set() for k in _NAME_KIND}
        self.active_ids: set[int] = set()
        self.inactive_ids: set[int] = set()

    # helpers
    def where(self, el: ET.Element, what: str) -> str:
        line = self.lines.get(el)
        return f"{what}（第 {line} 行）" if line else what

    def text(self, el: ET.Element, tag: str) -> str | None:
        child = el.find(tag)
        return None if child is None else (child.text or "")

    def number(self, el: ET.Element, tag: str, what: str, *, default: int | None = None, low: int = 0) -> int:
        raw = self.text(el, tag)
        if raw is None or not raw.strip():
            if default is not None:
                return default
            self.errors.append(f"{what}缺少 <{tag}>")
            raise _Bad
        try:
            value = int(raw.strip())
        except ValueError:
            self.errors.append(f"{what}的 <{tag}> 不是整数：“{raw.strip()}”")
            raise _Bad from None
        if value < low:
            self.errors.append(f"{what}的 <{tag}> 不能小于 {low}：{value}")
            raise _Bad
        return value

    def flag(self, el: ET.Element, tag: str, what: str, default: bool) -> bool:
        raw = self.text(el, tag)
        if raw is None or not raw.strip():
            return default
        value = _TRUE.get(raw.strip().lower())
        if value is None:
            self.errors.append(f"{what}的 <{tag}> 应为 true 或 false：“{raw.strip()}”")
            raise _Bad
        return value

    def name_list(self, parent: ET.Element | None, item: str, what: str) -> list[str]:
        out: list[str] = []
        if parent is None:
            return out
        seen: set[str] = set()
        for el in parent.findall(item):
            name = self.text(el, "Name") or ""
            if not name:
                self.errors.append(f"{self.where(el, what)}名称为空")
            elif name in seen:
                self.errors.append(f"{self.where(el, what)}名称 “{name}” 重复")
            else:
                seen.add(name)
                out.append(name)
        return out

    def section(self, tag: str) -> ET.Element | None:
        el = self.root.find(tag)
        if el is None:
            self.errors.append(f"缺少 <{tag}>")
        return el

    def ref(self, kind: str, name: str, what: str) -> str:
        if name not in self.names[kind]:
            self.errors.append(f"{what}引用了不存在的{_NAME_KIND[kind]} “{name}”")
            raise _Bad
        return name

    def slot(self, day: str | None, hour: str | None, what: str) -> tuple[int, int]:
        d, h = self.day(day or "", what), self.hour(hour or "", what)
        return (d, h)

    def day(self, name: str, what: str) -> int:
        if name not in self.days:
            self.errors.append(f"{what}引用了不存在的日期 “{name}”")
            raise _Bad
        return self.days[name]

    def hour(self, name: str, what: str) -> int:
        if name not in self.hours:
            self.errors.append(f"{what}引用了不存在的节次 “{name}”")
            raise _Bad
        return self.hours[name]

    # sections
    def read(self) -> tuple[Problem, list[str], int, int]:
        root = self.root
        days_el, hours_el = self.section("Days_List"), self.section("Hours_List")
        days = self.name_list(days_el, "Day", "日期")
        hours = self.name_list(hours_el, "Hour", "节次")
        for el, items, count, what in (
            (days_el, days, "Number_of_Days", "日期"),
            (hours_el, hours, "Number_of_Hours", "节次"),
        ):
            if el is None:
                continue
            try:
                n = self.number(el, count, self.where(el, f"<{el.tag}>"), default=len(items))
            except _Bad:
                continue
            if n != len(items):
                self.errors.append(
                    f"{self.where(el, f'<{el.tag}>')}的 <{count}> 为 {n}，但列出了 {len(items)} 个{what}"
                )
        if days_el is not None and not days:
            self.errors.append("没有任何日期（Days_List 为空）")
        if hours_el is not None and not hours:
            self.errors.append("没有任何节次（Hours_List 为空）")
        self.days = {d: i for i, d in enumerate(days)}
        self.hours = {h: i for i, h in enumerate(hours)}

        subjects = self.name_list(self.section("Subjects_List"), "Subject", "学科")
        tags = self.name_list(root.find("Activity_Tags_List"), "Activity_Tag", "活动标签")
        teachers = self.name_list(self.section("Teachers_List"), "Teacher", "教师")
        self.names["subject"], self.names["tag"], self.names["teacher"] = set(subjects), set(tags), set(teachers)
        student_sets = self.read_students(self.section("Students_List"))
        self.names["students"] = set(student_sets)
        rooms = self.read_rooms()
        self.names["room"] = set(rooms)
        activities, inactive = self.read_activities(self.section("Activities_List"), len(hours))
        constraints, unsupported, inactive_constraints = self.read_constraints(len(hours))
        problem = Problem(
            days=days,
            periods=hours,
            activities=activities,
            teachers=teachers,
            subjects=subjects,
            student_sets=student_sets,
            rooms=rooms,
            constraints=constraints,
            tags=tags,
            name=root.findtext("Institution_Name") or "",
        )
        return problem, unsupported, inactive, inactive_constraints

    def read_students(self, el: ET.Element | None) -> dict[str, StudentSet]:
        sets: dict[str, StudentSet] = {}
        if el is None:
            return sets

        def size(node: ET.Element, what: str) -> int:
            try:
                return self.number(node, "Number_of_Students", what, default=0)
            except _Bad:
                return 0

        def add(node: ET.Element, name: str, kind: str, ss: StudentSet) -> bool:
            old = sets.get(name)
            if old is None:
                sets[name] = ss
                return True
            if old.kind != kind or kind == "year":
                self.errors.append(f"{self.where(node, '学生组')}名称 “{name}” 重复")
            elif set(old.atoms()) != set(ss.atoms()):
                self.warnings.append(f"{self.where(node, '学生组')}“{name}” 在多处出现且内容不同，采用第一次的定义")
            return False

        for year in el.findall("Year"):
            yname = self.text(year, "Name") or ""
            if not yname:
                self.errors.append(f"{self.where(year, '年级（Year）')}名称为空")
                continue
            ywhat = self.where(year, f"年级 “{yname}”")
            atoms: list[str] = []
            groups = year.findall("Group")
            for group in groups:
                gname = self.text(group, "Name") or ""
                if not gname:
                    self.errors.append(f"{self.where(group, '组（Group）')}名称为空")
                    continue
                subs: list[str] = []
                for sub in group.findall("Subgroup"):
                    sname = self.text(sub, "Name") or ""
                    if not sname:
                        self.errors.append(f"{self.where(sub, '小组（Subgroup）')}名称为空")
                        continue
                    ss = StudentSet(sname, size(sub, self.where(sub, f"小组 “{sname}”")), (), "subgroup")
                    add(sub, sname, "subgroup", ss)
                    if sname not in subs:
                        subs.append(sname)
                gsize = size(group, self.where(group, f"组 “{gname}”"))
                add(group, gname, "group", StudentSet(gname, gsize, tuple(subs), "group"))
                atoms.extend(sets[gname].atoms() if sets.get(gname) and sets[gname].kind == "group" else ())
            members = tuple(dict.fromkeys(atoms)) if groups else ()
            add(year, yname, "year", StudentSet(yname, size(year, ywhat), members, "year"))
        return sets

    def read_rooms(self) -> dict[str, Room]:
        buildings = set(self.name_list(self.root.find("Buildings_List"), "Building", "楼"))
        rooms_el = self.root.find("Rooms_List")
        found: list[tuple[ET.Element, str, int, str, list[list[str]]]] = []
        seen: set[str] = set()
        for el in [] if rooms_el is None else rooms_el.findall("Room"):
            name = self.text(el, "Name") or ""
            what = self.where(el, f"教室 “{name}”")
            if not name:
                self.errors.append(f"{self.where(el, '教室')}名称为空")
                continue
            if name in seen:
                self.errors.append(f"{what}名称重复")
                continue
            seen.add(name)
            building = self.text(el, "Building") or ""
            if building and building not in buildings:
                self.errors.append(f"{what}引用了不存在的楼 “{building}”")
            try:
                capacity = self.number(el, "Capacity", what, default=FET_MAX_CAPACITY)
                virtual = self.flag(el, "Virtual", what, False)
            except _Bad:
                continue
            sets = [[r.text or "" for r in s.findall("Real_Room")] for s in el.findall("Set_of_Real_Rooms")]
            if virtual and not sets:
                self.errors.append(f"{what}是虚拟教室，但没有列出实际教室")
            found.append((el, name, capacity, building, sets if virtual else []))
        real = {name for _, name, _, _, sets in found if not sets}
        rooms: dict[str, Room] = {}
        for el, name, capacity, building, sets in found:
            for s in sets:
                for r in s:
                    if r not in real:
                        self.errors.append(f"{self.where(el, f'虚拟教室 “{name}”')}引用了不存在的实际教室 “{r}”")
            rooms[name] = Room(name, capacity, building, "", tuple(tuple(s) for s in sets))
        return rooms

    def read_activities(self, el: ET.Element | None, n_hours: int) -> tuple[list[Activity], int]:
        activities: list[Activity] = []
        inactive = 0
        if el is None:
            return activities, inactive
        for a in el.findall("Activity"):
            try:
                aid = self.number(a, "Id", self.where(a, "活动"))
            except _Bad:
                continue
            what = self.where(a, f"活动 Id {aid}")
            if aid in self.active_ids or aid in self.inactive_ids:
                self.errors.append(f"{what}重复：已有 Id 为 {aid} 的活动")
                continue
            try:
                active = self.flag(a, "Active", what, True)
            except _Bad:
                continue
            if not active:
                self.inactive_ids.add(aid)
                inactive += 1
                continue
            self.active_ids.add(aid)
            try:
                activities.append(self.activity(a, aid, what, n_hours))
            except _Bad:
                continue
        return activities, inactive

    def activity(self, a: ET.Element, aid: int, what: str, n_hours: int) -> Activity:
        ok = True

        def refs(tag: str, kind: str) -> tuple[str, ...]:
            nonlocal ok
            out = []
            for child in a.findall(tag):
                try:
                    out.append(self.ref(kind, child.text or "", what))
                except _Bad:
                    ok = False
            return tuple(out)

        teachers, students, tags = refs("Teacher", "teacher"), refs("Students", "students"), refs("Activity_Tag", "tag")
        subject = self.text(a, "Subject")
        if subject is None:
            self.errors.append(f"{what}缺少 <Subject>")
            ok = False
        else:
            try:
                self.ref("subject", subject, what)
            except _Bad:
                ok = False
        duration = self.number(a, "Duration", what)
        if not 1 <= duration <= max(n_hours, 1):
            self.errors.append(f"{what}的时长 {duration} 无效：应在 1 到 {n_hours}（每天的节数）之间")
            ok = False
        group_id = self.number(a, "Activity_Group_Id", what, default=0)
        n_students = self.text(a, "Number_Of_Students")
        count = self.number(a, "Number_Of_Students", what) if n_students is not None and n_students.strip() else None
        if not ok:
            raise _Bad
        return Activity(
            id=aid,
            subject=subject or "",
            teachers=teachers,
            students=students,
            duration=duration,
            tags=tags,
            group_id=group_id,
            n_students=count,
            label=(self.text(a, "Comments") or "").strip(),
        )

    def read_constraints(self, n_hours: int) -> tuple[list[Constraint], list[str], int]:
        constraints: list[Constraint] = []
        unsupported: list[str] = []
        inactive = 0
        elements: list[ET.Element] = []
        for list_tag in ("Time_Constraints_List", "Space_Constraints_List"):
            lst = self.root.find(list_tag)
            if lst is not None:
                elements.extend(lst)
        elements.sort(key=lambda e: self.lines.get(e, 0))  # file order: the numbers people see
        for index, el in enumerate(elements, start=1):
            what = self.where(el, f"约束 #{index} {el.tag}")
            try:
                if not self.flag(el, "Active", what, True):
                    inactive += 1
                    continue
                weight = self.weight(el, what)
            except _Bad:
                continue
            spec = SPECS.get(el.tag)
            if spec is None:
                line = self.lines.get(el)
                unsupported.append(f"#{index} {el.tag}（第 {line} 行，权重 {_fmt_weight(weight)}%）")
                continue
            try:
                params = self.params(el, spec, what, n_hours)
            except _Bad:
                continue
            if params is None:
                continue
            label = f"#{index} {el.tag}"
            detail = _detail(params)
            constraints.append(Constraint(spec.kind, weight, params, f"{label} ({detail})" if detail else label))
        return constraints, unsupported, inactive

    def weight(self, el: ET.Element, what: str) -> float:
        raw = (self.text(el, "Weight_Percentage") or "").strip()
        try:
            weight = float(raw)
        except ValueError:
            self.errors.append(f"{what}的 <Weight_Percentage> 不是数字：“{raw}”")
            raise _Bad from None
        if not 0.0 <= weight <= 100.0:
            self.errors.append(f"{what}的权重 {raw} 不在 0 到 100 之间")
            raise _Bad
        return weight

    def params(self, el: ET.Element, spec: _Spec, what: str, n_hours: int) -> dict[str, Any] | None:
        """The constraint's params; None when FET would ignore it (its activities are all inactive)."""
        params: dict[str, Any] = dict(spec.fixed)
        bad = False
        for f in spec.fields:
            try:
                value = self.field(el, f, what, n_hours)
            except _Bad:
                bad = True
                continue
            if f.type == "activity" and value in self.inactive_ids:
                self.warnings.append(f"{what}涉及未启用的活动 {value}，FET 同样忽略此约束")
                return None
            if f.type != "real_rooms" or value:  # real rooms: only on a virtual room's lock
                params[f.param] = value
        if bad:
            raise _Bad
        if "activities" in params:
            ids: list[int] = params["activities"]
            kept = [i for i in ids if i not in self.inactive_ids]
            if len(kept) < len(ids):
                dropped = sorted(set(ids) - set(kept))
                self.warnings.append(f"{what}中的未启用活动 {dropped} 已略去（FET 同样如此）")
            if len(kept) < (2 if spec.kind in _PAIRWISE else 1):
                self.warnings.append(f"{what}略去未启用活动后不足以构成约束，已忽略")
                return None
            params["activities"] = kept
        if "start" in params and "end" in params and params["end"] <= params["start"]:
            self.errors.append(f"{what}的时间区间为空：结束节次必须在开始节次之后")
            raise _Bad
        return params

    def field(self, el: ET.Element, f: _Field, what: str, n_hours: int) -> Any:
        t = f.type
        if t in _NAME_KIND:
            name = self.text(el, f.xml)
            if name is None:
                self.errors.append(f"{what}缺少 <{f.xml}>")
                raise _Bad
            return self.ref(t, name, what)
        if t == "room1":
            name = self.text(el, f.xml)
            if name is None:
                self.errors.append(f"{what}缺少 <{f.xml}>")
                raise _Bad
            return [self.ref("room", name, what)]
        if t == "int":
            return self.number(el, f.xml, what, low=1 if f.param == "component" else 0)
        if t == "bool":
            return self.flag(el, f.xml, what, False)
        if t == "activity":
            return self.activity_id(self.number(el, f.xml, what), what)
        if t == "activities":
            ids: list[int] = []
            bad = False
            for child in el.findall(f.xml):
                try:
                    ids.append(self.activity_id(self.int_text(child.text, f.xml, what), what))
                except _Bad:
                    bad = True
            if bad:
                raise _Bad
            return list(dict.fromkeys(ids))
        if t == "slots":
            slots: list[tuple[int, int]] = []
            bad = False
            for child in el.findall(f.xml):
                try:
                    slots.append(self.slot(self.text(child, f.day), self.text(child, f.hour), what))
                except _Bad:
                    bad = True
            if bad:
                raise _Bad
            return list(dict.fromkeys(slots))
        if t in ("rooms", "real_rooms"):
            names: list[str] = []
            bad = False
            for child in el.findall(f.xml):
                try:
                    names.append(self.ref("room", child.text or "", what))
                except _Bad:
                    bad = True
            if bad:
                raise _Bad
            if t == "rooms" and not names:
                self.errors.append(f"{what}没有列出任何教室")
                raise _Bad
            return names
        if t == "hour":
            return self.hour(self.text(el, f.xml) or "", what)
        if t == "end_hour":
            raw = self.text(el, f.xml) or ""
            return n_hours if raw == "" else self.hour(raw, what)
        if t in ("opt_day", "opt_hour"):
            given = self.text(el, f.xml)
            if not given:
                return None
            return self.day(given, what) if t == "opt_day" else self.hour(given, what)
        if t == "filter":
            return self.filter(el, f.duration, what)
        raise AssertionError(t)

    def filter(self, el: ET.Element, with_duration: bool, what: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        bad = False
        for key, xml in (
            ("teacher", "Teacher_Name"),
            ("students", "Students_Name"),
            ("subject", "Subject_Name"),
            ("tag", "Activity_Tag_Name"),
        ):
            name = self.text(el, xml)
            if not name:
                out[key] = None
                continue
            try:
                out[key] = self.ref(key, name, what)
            except _Bad:
                bad = True
        out["duration"] = None
        if with_duration:
            raw = (self.text(el, "Duration") or "").strip()
            if raw:
                try:
                    out["duration"] = self.number(el, "Duration", what, low=1)
                except _Bad:
                    bad = True
        if bad:
            raise _Bad
        return out

    def int_text(self, raw: str | None, tag: str, what: str) -> int:
        try:
            return int((raw or "").strip())
        except ValueError:
            self.errors.append(f"{what}的 <{tag}> 不是整数：“{(raw or '').strip()}”")
            raise _Bad from None

    def activity_id(self, aid: int, what: str) -> int:
        if aid not in self.active_ids and aid not in self.inactive_ids:
            self.errors.append(f"{what}引用了不存在的活动 Id {aid}")
            raise _Bad
        return aid


def _detail(params: dict[str, Any]) -> str:
    """A few words from the params to find the constraint by: names, then activity ids."""
    parts: list[str] = []
    for key in ("teacher", "students", "subject", "tag", "room"):
        if params.get(key):
            parts.append(str(params[key]))
    flt = params.get("filter")
    if isinstance(flt, dict):
        parts.extend(str(flt[k]) for k in ("teacher", "students", "subject", "tag") if flt.get(k))
    ids = [params[k] for k in ("activity", "first", "second", "third") if params.get(k) is not None]
    ids += params.get("activities", [])
    if ids:
        shown = ", ".join(str(i) for i in ids[:4])
        parts.append(shown + (", …" if len(ids) > 4 else ""))
    return "; ".join(parts)


def read_fet(source: str | os.PathLike[str] | bytes) -> FetImport:
    """Read a FET file (a path or its bytes) into a Problem; raises FetError listing every problem found."""
    data = _load(source)
    root, lines = _parse(data)
    if root.tag != "fet":
        raise FetError([f"不是 FET 文件：根元素是 <{root.tag}>，应为 <fet>"])
    mode = (root.findtext("Mode") or "Official").strip()
    if mode != "Official":
        raise FetError([f"这是 FET 的 “{mode}” 模式文件；只支持 Official（官方）模式的文件"])
    reader = _Reader(root, lines)
    problem, unsupported, inactive_a, inactive_c = reader.read()
    if reader.errors:
        raise FetError(reader.errors)
    return FetImport(
        problem=problem,
        unsupported=unsupported,
        ignored_inactive=inactive_a + inactive_c,
        warnings=reader.warnings,
        inactive_activities=inactive_a,
        inactive_constraints=inactive_c,
        version=root.get("version", ""),
        source=data,
    )


# --- writing ---------------------------------------------------------------------------------------------


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


class _Writer:
    def __init__(self, problem: Problem) -> None:
        self.p = problem

    def day(self, d: int) -> str:
        return self.p.days[d]

    def hour(self, h: int) -> str:
        return self.p.periods[h]

    def constraint(self, tag: str, spec: _Spec, c: Constraint) -> ET.Element:
        el = ET.Element(tag)
        _sub(el, "Weight_Percentage", _fmt_weight(c.weight))
        for f in spec.fields:
            self.field(el, f, c.params)
        _sub(el, "Active", "true")
        _sub(el, "Comments", "" if c.label.startswith("#") else c.label)
        return el

    def field(self, el: ET.Element, f: _Field, params: dict[str, Any]) -> None:
        t = f.type
        value: Any = params.get(f.param)
        if t in _NAME_KIND or t == "hour":
            _sub(el, f.xml, self.hour(value) if t == "hour" else str(value))
        elif t == "int":
            _sub(el, f.xml, str(int(value)))
        elif t == "bool":
            _sub(el, f.xml, "true" if value else "false")
        elif t == "activity":
            _sub(el, f.xml, str(int(value)))
        elif t == "activities":
            _sub(el, f.count, str(len(value)))
            for aid in value:
                _sub(el, f.xml, str(int(aid)))
        elif t == "slots":
            _sub(el, f.count, str(len(value)))
            for d, h in value:
                item = _sub(el, f.xml)
                _sub(item, f.day, self.day(d))
                _sub(item, f.hour, self.hour(h))
        elif t == "rooms":
            _sub(el, f.count, str(len(value)))
            for r in value:
                _sub(el, f.xml, r)
        elif t == "real_rooms":
            if value:
                _sub(el, f.count, str(len(value)))
                for r in value:
                    _sub(el, f.xml, r)
        elif t == "end_hour":
            _sub(el, f.xml, "" if value is None or value >= self.p.n_periods else self.hour(value))
        elif t == "opt_day":
            if value is not None:
                _sub(el, f.xml, self.day(value))
        elif t == "opt_hour":
            if value is not None:
                _sub(el, f.xml, self.hour(value))
        elif t == "filter":
            flt = value or {}
            for key, xml in (
                ("teacher", "Teacher_Name"),
                ("students", "Students_Name"),
                ("subject", "Subject_Name"),
                ("tag", "Activity_Tag_Name"),
            ):
                _sub(el, xml, flt.get(key) or "")
            if f.duration:
                _sub(el, "Duration", "" if flt.get("duration") is None else str(int(flt["duration"])))
        else:  # room1: read-only types are never written
            raise AssertionError(t)

    def locks(self, solution: Solution) -> tuple[list[ET.Element], list[ET.Element]]:
        times: list[ET.Element] = []
        spaces: list[ET.Element] = []
        for aid, pl in sorted(solution.placements.items()):
            el = ET.Element("ConstraintActivityPreferredStartingTime")
            _sub(el, "Weight_Percentage", "100")
            _sub(el, "Activity_Id", str(aid))
            _sub(el, "Preferred_Day", self.day(pl.day))
            _sub(el, "Preferred_Hour", self.hour(pl.period))
            _sub(el, "Permanently_Locked", "true")
            _sub(el, "Active", "true")
            _sub(el, "Comments", "")
            times.append(el)
            if not pl.rooms:
                continue
            el = ET.Element("ConstraintActivityPreferredRoom")
            _sub(el, "Weight_Percentage", "100")
            _sub(el, "Activity_Id", str(aid))
            _sub(el, "Room", pl.rooms[0])
            if len(pl.rooms) > 1:
                _sub(el, "Number_of_Real_Rooms", str(len(pl.rooms) - 1))
                for r in pl.rooms[1:]:
                    _sub(el, "Real_Room", r)
            _sub(el, "Permanently_Locked", "true")
            _sub(el, "Active", "true")
            _sub(el, "Comments", "")
            spaces.append(el)
        return times, spaces

    def check(self, solution: Solution) -> None:
        p, errors = self.p, []
        ids = {a.id for a in p.activities}
        for aid, pl in sorted(solution.placements.items()):
            if aid not in ids:
                errors.append(f"解中的活动 Id {aid} 不在课表数据中")
            if not (0 <= pl.day < p.n_days and 0 <= pl.period < p.n_periods):
                errors.append(f"活动 Id {aid} 的时间（第 {pl.day + 1} 天第 {pl.period + 1} 节）超出范围")
            for r in pl.rooms:
                if r not in p.rooms:
                    errors.append(f"活动 Id {aid} 的教室 “{r}” 不在课表数据中")
        if errors:
            raise FetError(errors)


def _layout(el: ET.Element, depth: int) -> None:
    """FET's own layout: a list's items at the left margin, their fields one tab in, and so on."""
    if not len(el):
        return
    if not (el.text or "").strip():
        el.text = "\n" + "\t" * depth
    for child in el:
        _layout(child, depth + 1)
        child.tail = "\n" + "\t" * depth
    child.tail = "\n" + "\t" * max(depth - 1, 0)


def _tree_bytes(root: ET.Element) -> bytes:
    root.text = "\n\n"
    for child in root:
        _layout(child, 0)
        child.tail = "\n\n"
    return b'<?xml version="1.0" encoding="UTF-8"?>\n\n' + ET.tostring(root, encoding="unicode").encode() + b"\n"


def write_fet(problem: Problem, solution: Solution, *, source: bytes | None = None) -> bytes:
    """A FET file with every placed activity's time and room permanently locked (weight 100 %).

    With `source` (the original file's bytes, the one `problem` was read from) its data and constraints are
    kept and the locks appended, after removing that file's own locks of those activities; without it the
    problem is written from scratch, with our kinds FET has no equivalent for listed in a comment."""
    writer = _Writer(problem)
    writer.check(solution)
    times, spaces = writer.locks(solution)
    placed = {str(a) for a in solution.placements}
    if source is not None:
        root, _ = _parse(source)
        if root.tag != "fet":
            raise FetError([f"不是 FET 文件：根元素是 <{root.tag}>，应为 <fet>"])
    else:
        root = _from_scratch(problem, writer)
    for list_tag, locks in (("Time_Constraints_List", times), ("Space_Constraints_List", spaces)):
        lst = root.find(list_tag)
        if lst is None:
            lst = _sub(root, list_tag)
        for el in list(lst):
            if el.tag in _LOCK_TAGS and (el.findtext("Activity_Id") or "").strip() in placed:
                lst.remove(el)
        lst.extend(locks)
    return _tree_bytes(root)


def _from_scratch(problem: Problem, writer: _Writer) -> ET.Element:
    p = problem
    root = ET.Element("fet", version=FET_VERSION)
    _sub(root, "Mode", "Official")
    _sub(root, "Institution_Name", p.name or "智校")
    _sub(root, "Comments", "由智校（zhixiao）导出")
    for list_tag, count_tag, item, names in (
        ("Days_List", "Number_of_Days", "Day", p.days),
        ("Hours_List", "Number_of_Hours", "Hour", p.periods),
    ):
        lst = _sub(root, list_tag)
        _sub(lst, count_tag, str(len(names)))
        for n in names:
            _sub(_sub(lst, item), "Name", n)

    def used(listed: Iterable[str], extra: Iterable[str]) -> list[str]:
        return list(dict.fromkeys([*listed, *extra]))

    subjects = used(p.subjects, (a.subject for a in p.activities))
    tags = used(p.tags, (t for a in p.activities for t in a.tags))
    teachers = used(p.teachers, (t for a in p.activities for t in a.teachers))
    lst = _sub(root, "Subjects_List")
    for s in subjects:
        el = _sub(lst, "Subject")
        _sub(el, "Name", s)
        _sub(el, "Comments", "")
    lst = _sub(root, "Activity_Tags_List")
    for t in tags:
        el = _sub(lst, "Activity_Tag")
        _sub(el, "Name", t)
        _sub(el, "Printable", "true")
        _sub(el, "Comments", "")
    lst = _sub(root, "Teachers_List")
    for t in teachers:
        el = _sub(lst, "Teacher")
        _sub(el, "Name", t)
        _sub(el, "Target_Number_of_Hours", "0")
        _sub(el, "Qualified_Subjects")
        _sub(el, "Comments", "")
    _write_students(_sub(root, "Students_List"), p)
    lst = _sub(root, "Activities_List")
    totals: dict[int, int] = {}
    for a in p.activities:
        totals[a.group_id] = totals.get(a.group_id, 0) + a.duration
    for a in p.activities:
        el = _sub(lst, "Activity")
        for t in a.teachers:
            _sub(el, "Teacher", t)
        _sub(el, "Subject", a.subject)
        for t in a.tags:
            _sub(el, "Activity_Tag", t)
        for s in a.students:
            _sub(el, "Students", s)
        _sub(el, "Duration", str(a.duration))
        _sub(el, "Total_Duration", str(totals[a.group_id] if a.group_id else a.duration))
        _sub(el, "Id", str(a.id))
        _sub(el, "Activity_Group_Id", str(a.group_id))
        if a.n_students is not None:
            _sub(el, "Number_Of_Students", str(a.n_students))
        _sub(el, "Active", "true")
        _sub(el, "Comments", a.label)
    buildings = list(dict.fromkeys(r.building for r in p.rooms.values() if r.building))
    lst = _sub(root, "Buildings_List")
    for b in buildings:
        el = _sub(lst, "Building")
        _sub(el, "Name", b)
        _sub(el, "Comments", "")
    lst = _sub(root, "Rooms_List")
    for r in p.rooms.values():
        el = _sub(lst, "Room")
        _sub(el, "Name", r.name)
        _sub(el, "Building", r.building)
        _sub(el, "Capacity", str(min(r.capacity, FET_MAX_CAPACITY)))
        _sub(el, "Virtual", "true" if r.virtual else "false")
        if r.virtual:
            _sub(el, "Number_of_Sets_of_Real_Rooms", str(len(r.real_room_sets)))
            for room_set in r.real_room_sets:
                se = _sub(el, "Set_of_Real_Rooms")
                _sub(se, "Number_of_Real_Rooms", str(len(room_set)))
                for x in room_set:
                    _sub(se, "Real_Room", x)
        _sub(el, "Comments", r.kind)
    time_list, space_list = _sub(root, "Time_Constraints_List"), _sub(root, "Space_Constraints_List")
    kinds = {c.kind for c in p.constraints}
    for basic, lst in (("BasicCompulsoryTime", time_list), ("BasicCompulsorySpace", space_list)):
        if basic not in kinds:
            writer_basic = ET.Element(f"Constraint{basic}")
            _sub(writer_basic, "Weight_Percentage", "100")
            _sub(writer_basic, "Active", "true")
            _sub(writer_basic, "Comments", "")
            lst.append(writer_basic)
    left_out: list[str] = []
    for c in p.constraints:
        found = _spec_for(c)
        if found is None:
            left_out.append(f"{c.label or c.kind}（权重 {_fmt_weight(c.weight)}%）")
            continue
        tag, spec = found
        target = space_list if tag.removeprefix("Constraint") in _SPACE_TAGS else time_list
        target.append(writer.constraint(tag, spec, c))
    if left_out:
        text = "智校导出：以下约束 FET 没有对应类型，未写入：" + "；".join(left_out)
        root.insert(3, ET.Comment(" " + text.replace("--", "—") + " "))
    return root


_SPACE_TAGS = {
    "BasicCompulsorySpace",
    "RoomNotAvailableTimes",
    "ActivityPreferredRoom",
    "ActivityPreferredRooms",
    "SubjectPreferredRoom",
    "SubjectPreferredRooms",
    "ActivityTagPreferredRoom",
    "ActivityTagPreferredRooms",
    "SubjectActivityTagPreferredRoom",
    "SubjectActivityTagPreferredRooms",
    "StudentsSetHomeRoom",
    "StudentsSetHomeRooms",
    "TeacherHomeRoom",
    "TeacherHomeRooms",
    "ActivitiesOccupyMaxDifferentRooms",
    "ActivitiesSameRoomIfConsecutive",
}


def _spec_for(c: Constraint) -> tuple[str, _Spec] | None:
    """The FET type to write a constraint as: the one whose implied params match (Teachers… for teacher=None)."""
    for tag, spec in SPECS.items():
        if spec.kind != c.kind or not spec.write:
            continue
        if any(c.params.get(k, None) != v for k, v in spec.fixed):
            continue
        needed = [f for f in spec.fields if f.type not in ("opt_day", "opt_hour", "real_rooms", "bool", "end_hour")]
        if all(c.params.get(f.param) is not None for f in needed):
            return tag, spec
    return None


def _write_students(lst: ET.Element, p: Problem) -> None:
    """FET's Year → Group → Subgroup tree from our sets: a year is a set no other set contains (an atomic set
    in no union is a year of its own); a group, a union inside a year; a subgroup, an atom of a group. A
    year's atoms outside its groups become groups of their own."""
    sets = p.student_sets
    unions = {n: s for n, s in sets.items() if s.members}
    atoms = {n: frozenset(s.atoms()) for n, s in sets.items()}
    rank = {"year": 0, "group": 1, "subgroup": 2}

    def inside(a: str, b: str) -> bool:  # a strictly inside b
        if atoms[a] < atoms[b]:
            return True
        if atoms[a] != atoms[b]:
            return False
        ra, rb = rank.get(sets[a].kind, 1), rank.get(sets[b].kind, 1)
        return ra > rb or (ra == rb and list(sets).index(b) < list(sets).index(a))

    years = [n for n in unions if not any(inside(n, m) for m in unions if m != n)]
    in_union = {x for u in unions.values() for x in u.members}
    years += [n for n, s in sets.items() if not s.members and n not in in_union]
    years.sort(key=list(sets).index)
    grouped = {x for n, u in unions.items() if n not in years for x in u.members}

    def add(parent: ET.Element, tag: str, name: str) -> ET.Element:
        el = _sub(parent, tag)
        _sub(el, "Name", name)
        _sub(el, "Number_of_Students", str(sets[name].size if name in sets else 0))
        _sub(el, "Comments", "")
        return el

    for y in years:
        year_el = add(lst, "Year", y)
        inner = [g for g in unions if g not in years and atoms[g] <= atoms[y]]
        written: set[str] = set()
        others: list[str] = []

        def group(g: str, year_el: ET.Element = year_el, written: set[str] = written) -> None:
            group_el = add(year_el, "Group", g)
            for s in unions[g].members:
                add(group_el, "Subgroup", s)
            written.add(g)

        # groups in the order of the year's atoms, so that reading back gives the same year
        for a in sets[y].members:
            home = next((g for g in inner if a in atoms[g]), None)
            if home is None:
                if a in grouped:
                    others.append(a)
                else:
                    add(year_el, "Group", a)
            elif home not in written:
                group(home)
        for g in inner:
            if g not in written:
                group(g)
        if others:
            group_el = add(year_el, "Group", f"{y}（其余）")
            for a in others:
                add(group_el, "Subgroup", a)


# --- FET's timetables ------------------------------------------------------------------------------------


def _activities_file(path: Path) -> Path:
    """The `<name>_activities.xml` in a fet-cl output dir: the complete timetable, else the best partial one."""
    found = sorted(path.glob("timetables/*/*_activities.xml")) or sorted(path.glob("*_activities.xml"))
    if not found:
        raise FetError([f"{path} 中没有 FET 的结果文件（timetables/*/*_activities.xml）"])

    def rank(f: Path) -> int:  # X/ when solved; X-highest/ (most placed) and X-current/ after a time-out
        return 2 if f.parent.name.endswith("-current") else 1 if f.parent.name.endswith("-highest") else 0

    return min(found, key=rank)


def read_fet_solution(problem: Problem, path: str | os.PathLike[str]) -> Solution:
    """FET's timetable for `problem`: from fet-cl's output dir, its `*_activities.xml`, or a
    `*_data_and_timetable.fet`. Activities FET left unplaced are absent from the solution."""
    path = Path(path)
    if path.is_dir():
        path = _activities_file(path)
    root, lines = _parse(_load(path))
    days = {d: i for i, d in enumerate(problem.days)}
    hours = {h: i for i, h in enumerate(problem.periods)}
    ids = {a.id for a in problem.activities}
    errors: list[str] = []
    placements: dict[int, Placement] = {}

    def where(el: ET.Element) -> str:
        return f"{path.name} 第 {lines.get(el)} 行"

    def place(el: ET.Element, aid_text: str | None, day: str, hour: str) -> int | None:
        try:
            aid = int((aid_text or "").strip())
        except ValueError:
            errors.append(f"{where(el)}：活动 Id “{aid_text}” 不是整数")
            return None
        if aid not in ids:
            errors.append(f"{where(el)}：活动 Id {aid} 不在课表数据中")
            return None
        if not day and not hour:
            return None  # FET could not place it
        if day not in days or hour not in hours:
            errors.append(f"{where(el)}：活动 Id {aid} 的时间 “{day} {hour}” 不在课表数据的日期和节次中")
            return None
        placements[aid] = Placement(days[day], hours[hour], placements[aid].rooms if aid in placements else ())
        return aid

    def rooms_of(el: ET.Element, room: str) -> tuple[str, ...]:
        out = (room, *[r.text or "" for r in el.findall("Real_Room")]) if room else ()
        for r in out:
            if r not in problem.rooms:
                errors.append(f"{where(el)}：教室 “{r}” 不在课表数据中")
        return out

    if root.tag == "Activities_Timetable":
        for el in root.findall("Activity"):
            aid = place(el, el.findtext("Id"), el.findtext("Day") or "", el.findtext("Hour") or "")
            if aid is not None:
                placements[aid] = Placement(
                    placements[aid].day, placements[aid].period, rooms_of(el, el.findtext("Room") or "")
                )
    elif root.tag == "fet":
        room_locks: dict[int, tuple[str, ...]] = {}
        for el in root.iter("ConstraintActivityPreferredStartingTime"):
            if (el.findtext("Weight_Percentage") or "").strip() == "100":
                place(
                    el,
                    el.findtext("Activity_Id"),
                    el.findtext("Preferred_Day") or "",
                    el.findtext("Preferred_Hour") or "",
                )
        for el in root.iter("ConstraintActivityPreferredRoom"):
            if (el.findtext("Weight_Percentage") or "").strip() != "100":
                continue
            try:
                aid = int((el.findtext("Activity_Id") or "").strip())
            except ValueError:
                continue
            # FET repeats a virtual room's lock with its real rooms: keep the fuller one
            found = rooms_of(el, el.findtext("Room") or "")
            if len(found) >= len(room_locks.get(aid, ())):
                room_locks[aid] = found
        for aid, locked in room_locks.items():
            if aid in placements:
                placements[aid] = Placement(placements[aid].day, placements[aid].period, locked)
    else:
        errors.append(f"{path.name} 不是 FET 的结果文件：根元素是 <{root.tag}>")
    if errors:
        raise FetError(errors)
    return Solution(placements)
