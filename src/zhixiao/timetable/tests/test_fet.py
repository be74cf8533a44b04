"""FET files in and out: the developers' 16 example files import completely, bad files are refused with every
problem named, and a timetable we export is confirmed by FET itself (the real `fet-cl`)."""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from zhixiao.timetable.engine.checker import check
from zhixiao.timetable.engine.fet import SPECS, FetError, read_fet, read_fet_solution, write_fet
from zhixiao.timetable.engine.model import Activity, Constraint, Placement, Problem, Room, Solution, StudentSet
from zhixiao.timetable.tests.fet_examples import examples_dir

EXAMPLES = examples_dir()

# active activities per file, from the examples' README (FET's own count of what it has to place)
ACTIVE = {
    "small-school.fet": 25,
    "EEBLJ-Noturno.fet": 74,
    "Horario_ISJ.fet": 116,
    "timetable_July_Nov_09_9.fet": 164,
    "8th-highschool.fet": 417,
    "institution-2012-2013.fet": 447,
    "Lom_high_school_2007-2008.fet": 448,
    "timetable-ru.fet": 562,
    "Liceo-2010.fet": 598,
    "lycee-Farabi.fet": 600,
    "vmg-20180901b-2.fet": 760,
    "FET-2020-07-30-SAMPLE_HK_6_period.fet": 873,
    "Collegiate_Junior_School2.fet": 883,
    "SPAIN_20-21.fet": 1205,
    "GYR.fet": 1477,
    "MHS_July2.fet": 1517,
}


def _examples() -> list[Path]:
    files = sorted(EXAMPLES.glob("*.fet"))
    assert files, f"FET example files not found in {EXAMPLES} "
    return files


def _fet_cl() -> str:
    path = shutil.which("fet-cl")
    assert path, "fet-cl is missing: apt-get install fet (scripts/system_deps.py installs it)"
    return path


def _run_fet(fet_file: Path, out: Path, seconds: int = 20, wall: float | None = None) -> tuple[str, str]:
    """fet-cl on a file: (its result log, its console output). FET does not always stop at its own time
    limit (it keeps searching when locked activities clash), so it is stopped after `wall` seconds."""
    with subprocess.Popen(
        [_fet_cl(), f"--inputfile={fet_file}", f"--timelimitseconds={seconds}", f"--outputdir={out}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        try:
            console, _ = proc.communicate(timeout=wall if wall is not None else seconds + 30)
        except subprocess.TimeoutExpired:
            proc.terminate()  # FET writes "Simulation interrupted" on SIGTERM
            console, _ = proc.communicate(timeout=30)
    result = (out / "logs" / "result.txt").read_text(encoding="utf-8-sig")
    return result, console


def _key(c: Constraint) -> tuple[str, float, str]:
    return (c.kind, c.weight, repr(sorted(c.params.items())))


# --- a small school of our own: a 走班 grade, a virtual room, a split lesson ---------------------------------


def _school() -> Problem:
    sets = {
        "高一": StudentSet("高一", 80, ("A1", "A2", "B1", "B2"), "year"),
        "A1": StudentSet("A1", 20),
        "A2": StudentSet("A2", 20),
        "B1": StudentSet("B1", 20),
        "B2": StudentSet("B2", 20),
        "高一(1)": StudentSet("高一(1)", 40, ("A1", "A2"), "行政班"),
        "高一(2)": StudentSet("高一(2)", 40, ("B1", "B2"), "行政班"),
        "物理1班": StudentSet("物理1班", 40, ("A1", "B1"), "教学班"),
    }
    rooms = {
        "101": Room("101", 50, "东楼"),
        "102": Room("102", 50, "东楼"),
        "实验室": Room("实验室", 40, "西楼", "实验室"),
        "操场": Room("操场", 200),
        "合班": Room("合班", 100, real_room_sets=(("101",), ("102",))),
    }
    activities = [
        Activity(1, "语文", ("王老师",), ("高一(1)",), 1, ("理论",), group_id=1),
        Activity(2, "语文", ("王老师",), ("高一(1)",), 1, ("理论",), group_id=1),
        Activity(3, "数学", ("李老师",), ("高一(2)",), 2),
        Activity(4, "物理", ("张老师",), ("物理1班",), 1, ("实验",)),
        Activity(5, "体育", ("赵老师",), ("高一",), 1),
        Activity(6, "英语", ("李老师",), ("高一(1)",), 1),
        Activity(7, "化学", ("张老师",), ("高一(2)",), 1, ("理论",)),
    ]
    constraints = [
        Constraint("BasicCompulsoryTime"),
        Constraint("BasicCompulsorySpace"),
        Constraint("TeacherNotAvailableTimes", 100, {"teacher": "王老师", "slots": [(0, p) for p in range(6)]}),
        Constraint("StudentsSetNotAvailableTimes", 100, {"students": "高一(2)", "slots": [(4, 5)]}),
        Constraint("BreakTimes", 100, {"slots": [(2, 3)]}),
        Constraint(
            "MinDaysBetweenActivities", 100, {"activities": [1, 2], "min_days": 1, "consecutive_if_same_day": True}
        ),
        Constraint("TeacherMaxHoursDaily", 100, {"teacher": None, "max": 4}),
        Constraint(
            "ActivitiesPreferredTimeSlots",
            80,
            {
                "filter": {"teacher": None, "students": None, "subject": "语文", "tag": None, "duration": None},
                "slots": [(d, p) for d in range(5) for p in range(3)],
            },
        ),
        Constraint("SubjectPreferredRooms", 100, {"subject": "物理", "rooms": ["实验室"]}),
        Constraint("RoomNotAvailableTimes", 100, {"room": "实验室", "slots": [(1, 0)]}),
        Constraint("ActivityPreferredRooms", 100, {"activity": 5, "rooms": ["操场"]}),
        Constraint("ActivityPreferredRoom", 100, {"activity": 6, "room": "合班", "locked": False}),
        Constraint("ActivitiesMaxPerDay", 100, {"activities": [1, 2], "max": 1}, "语文每天至多一节"),
    ]
    return Problem(
        days=["周一", "周二", "周三", "周四", "周五"],
        periods=[f"第{i}节" for i in range(1, 7)],
        activities=activities,
        teachers=["王老师", "李老师", "张老师", "赵老师"],
        subjects=["语文", "数学", "英语", "物理", "化学", "体育"],
        student_sets=sets,
        rooms=rooms,
        constraints=constraints,
        tags=["理论", "实验"],
        name="测试中学",
    )


# every hard constraint of _school() holds (worked out by hand)
TIMETABLE = Solution(
    {
        1: Placement(1, 0),
        2: Placement(3, 0),
        3: Placement(1, 1),
        4: Placement(2, 0, ("实验室",)),
        5: Placement(2, 4, ("操场",)),
        6: Placement(0, 2, ("合班", "101", "102")),
        7: Placement(4, 0),
    }
)


def _base() -> bytes:
    return write_fet(_school(), Solution({}))


def _with(data: bytes, old: str, new: str) -> bytes:
    text = data.decode()
    assert old in text, old
    return text.replace(old, new, 1).encode()


def _add_time_constraint(data: bytes, xml: str) -> bytes:
    return _with(data, "</Time_Constraints_List>", xml + "</Time_Constraints_List>")


def _errors(data: bytes) -> list[str]:
    with pytest.raises(FetError) as e:
        read_fet(data)
    return e.value.errors


def _n_time_constraints(data: bytes) -> int:
    text = data.decode()
    time_list = text[text.index("<Time_Constraints_List>") : text.index("</Time_Constraints_List>")]
    return len(re.findall(r"^<Constraint\w+>", time_list, re.M))


# --- import ------------------------------------------------------------------------------------------------


def test_every_constraint_type_of_the_examples_readme_is_mapped() -> None:
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    types = re.findall(r"^\|\s*\d+\s*\|\s*(Constraint\w+)\s*\|", readme, re.M)
    assert len(types) == 72
    assert sorted(t for t in types if t not in SPECS) == []


def test_the_sixteen_examples_import_completely() -> None:
    seen_types: set[str] = set()
    for path in _examples():
        imp = read_fet(path)
        p = imp.problem
        assert len(p.activities) == ACTIVE[path.name], path.name
        assert imp.unsupported == [], path.name
        assert p.days and p.periods and p.subjects, path.name
        assert {c.kind for c in p.constraints} >= {"BasicCompulsoryTime", "BasicCompulsorySpace"}, path.name
        text = path.read_text(encoding="utf-8-sig")
        seen_types |= set(re.findall(r"<(Constraint\w+)>", text))
        # every activity's people and subject are in the lists; every set's atoms are sets
        for a in p.activities:
            assert set(a.teachers) <= set(p.teachers) and a.subject in p.subjects
            assert all(s in p.student_sets for s in a.students)
        for s in p.student_sets.values():
            assert all(m in p.student_sets and not p.student_sets[m].members for m in s.members)
    assert len(seen_types) == 72


def test_students_rooms_activities_and_constraints_read_as_fet_means_them() -> None:
    p = read_fet(EXAMPLES / "GYR.fet").problem
    subgroups = [s for s in p.student_sets.values() if s.kind == "subgroup"]
    groups = [s for s in p.student_sets.values() if s.kind == "group"]
    assert (len(groups), len(subgroups)) == (354, 724)  # a subgroup repeated under many groups is one set

    spain = read_fet(EXAMPLES / "SPAIN_20-21.fet")
    assert spain.inactive_activities == 23 and spain.ignored_inactive > 23
    virtual = spain.problem.rooms["AV 1BAC FIL S"]
    assert virtual.virtual and virtual.real_room_sets == (("A39", "A43"), ("A43", "A39"))
    assert virtual.capacity == 30000

    liceo = read_fet(EXAMPLES / "Liceo-2010.fet").problem
    interval = next(c for c in liceo.constraints if c.kind == "TeacherIntervalMaxDaysPerWeek")
    assert interval.params == {"teacher": "BORGHI", "start": 0, "end": 1, "max": 2}  # 08:00 up to 09:00
    assert re.fullmatch(r"#\d+ ConstraintTeacherIntervalMaxDaysPerWeek \(BORGHI\)", interval.label)

    open_end = [c for c in liceo.constraints if c.kind == "StudentsSetIntervalMaxDaysPerWeek"]
    assert len(open_end) == 16 and all(c.params["end"] == liceo.n_periods for c in open_end)  # empty: end of day

    every_teacher = [c for c in liceo.constraints if c.kind == "TeacherMaxHoursDaily" and c.params["teacher"] is None]
    assert every_teacher and all("ConstraintTeachersMaxHoursDaily" in c.label for c in every_teacher)

    mhs = read_fet(EXAMPLES / "MHS_July2.fet").problem
    assert any(a.n_students == 0 for a in mhs.activities)
    split = collections.Counter(a.group_id for a in mhs.activities if a.group_id)
    assert max(split.values()) > 1


def test_the_first_constraints_of_a_file_in_full() -> None:
    imp = read_fet(EXAMPLES / "small-school.fet")
    p = imp.problem
    assert p.days == ["Daily"] and len(p.periods) == 4
    assert all(not s.members and s.kind == "year" for s in p.student_sets.values())  # years with no groups
    first, second = p.constraints[0], p.constraints[1]
    assert (first.kind, first.weight, first.params, first.label) == (
        "BasicCompulsoryTime",
        100.0,
        {},
        "#1 ConstraintBasicCompulsoryTime",
    )
    assert (second.kind, second.weight, second.params) == (
        "ActivityPreferredStartingTimes",
        0.0,
        {"activity": 18, "slots": [(0, 0)]},
    )
    assert second.label == "#2 ConstraintActivityPreferredStartingTimes (18)"

    hk = read_fet(EXAMPLES / "FET-2020-07-30-SAMPLE_HK_6_period.fet")
    # a constraint over inactive activities is ignored as FET ignores it, and said so
    assert any("未启用" in w for w in hk.warnings)
    ids = {a.id for a in hk.problem.activities}
    for c in hk.problem.constraints:
        assert set(c.params.get("activities", [])) <= ids


def test_our_problem_round_trips_through_a_fet_file() -> None:
    school = _school()
    data = write_fet(school, Solution({}))
    assert "语文每天至多一节" in data.decode()  # our own kind, named in the file's comment, not written
    p = read_fet(data).problem
    assert p.activities == school.activities
    assert p.days == school.days and p.periods == school.periods
    assert {n: set(s.atoms()) for n, s in p.student_sets.items()} == {
        n: set(s.atoms()) for n, s in school.student_sets.items()
    }
    assert {n: s.size for n, s in p.student_sets.items()} == {n: s.size for n, s in school.student_sets.items()}
    assert p.rooms["合班"].real_room_sets == (("101",), ("102",)) and p.rooms["实验室"].building == "西楼"
    fet_kinds = [c for c in school.constraints if c.kind != "ActivitiesMaxPerDay"]
    assert sorted(map(_key, p.constraints)) == sorted(map(_key, fet_kinds))


def test_every_example_round_trips_when_written_from_scratch() -> None:
    for path in _examples():
        p = read_fet(path).problem
        back = read_fet(write_fet(p, Solution({}))).problem
        assert back.activities == p.activities, path.name
        assert back.student_sets == p.student_sets, path.name
        assert back.rooms == p.rooms, path.name
        assert (back.days, back.periods, back.teachers, back.subjects, back.tags) == (
            p.days,
            p.periods,
            p.teachers,
            p.subjects,
            p.tags,
        ), path.name
        assert collections.Counter(map(_key, back.constraints)) == collections.Counter(map(_key, p.constraints)), (
            path.name
        )


# --- bad input ---------------------------------------------------------------------------------------------


def test_malformed_xml_names_line_and_column() -> None:
    (message,) = _errors(b'<?xml version="1.0"?>\n<fet version="6.8.5">\n<Days_List>\n</fet>\n')
    assert message.startswith("XML 格式错误（第 4 行第 3 列）")
    assert "mismatched tag" in message
    assert "XML 格式错误" in _errors(b"")[0]


def test_a_file_that_is_not_fet_is_refused() -> None:
    assert _errors(b"<html><body>hi</body></html>") == ["不是 FET 文件：根元素是 <html>，应为 <fet>"]


def test_fet_special_modes_are_refused() -> None:
    data = _with(_base(), "<Mode>Official</Mode>", "<Mode>Mornings-Afternoons</Mode>")
    assert _errors(data) == ["这是 FET 的 “Mornings-Afternoons” 模式文件；只支持 Official（官方）模式的文件"]


def test_entity_declarations_are_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE fet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><fet>&b;</fet>'
    assert "实体" in _errors(bomb)[0]


def test_a_constraint_naming_an_unknown_teacher_is_refused_with_its_number() -> None:
    base = _base()
    n = _n_time_constraints(base) + 1
    data = _add_time_constraint(
        base,
        "<ConstraintTeacherNotAvailableTimes><Weight_Percentage>100</Weight_Percentage><Teacher>钱老师</Teacher>"
        "<Number_of_Not_Available_Times>0</Number_of_Not_Available_Times><Active>true</Active><Comments/>"
        "</ConstraintTeacherNotAvailableTimes>",
    )
    (message,) = _errors(data)
    assert re.fullmatch(
        rf"约束 #{n} ConstraintTeacherNotAvailableTimes（第 \d+ 行）引用了不存在的教师 “钱老师”", message
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("<Subject>数学</Subject>", "<Subject>音乐</Subject>", r"活动 Id 3（第 \d+ 行）引用了不存在的学科 “音乐”"),
        (
            "<Students>物理1班</Students>",
            "<Students>物理9班</Students>",
            r"活动 Id 4（第 \d+ 行）引用了不存在的学生组 “物理9班”",
        ),
        (
            "<Activity_Tag>实验</Activity_Tag>",
            "<Activity_Tag>劳动</Activity_Tag>",
            r"活动 Id 4（第 \d+ 行）引用了不存在的活动标签 “劳动”",
        ),
        (
            "<Teacher>赵老师</Teacher>",
            "<Teacher>孙老师</Teacher>",
            r"活动 Id 5（第 \d+ 行）引用了不存在的教师 “孙老师”",
        ),
        (
            "<Duration>2</Duration>",
            "<Duration>0</Duration>",
            r"活动 Id 3（第 \d+ 行）的时长 0 无效：应在 1 到 6（每天的节数）之间",
        ),
        (
            "<Duration>2</Duration>",
            "<Duration>7</Duration>",
            r"活动 Id 3（第 \d+ 行）的时长 7 无效：应在 1 到 6（每天的节数）之间",
        ),
        (
            "<Duration>2</Duration>",
            "<Duration>两节</Duration>",
            r"活动 Id 3（第 \d+ 行）的 <Duration> 不是整数：“两节”",
        ),
        ("<Id>7</Id>", "<Id>6</Id>", r"活动 Id 6（第 \d+ 行）重复：已有 Id 为 6 的活动"),
        ("<Name>李老师</Name>", "<Name>王老师</Name>", r"教师（第 \d+ 行）名称 “王老师” 重复"),
        (
            "<Real_Room>102</Real_Room>",
            "<Real_Room>103</Real_Room>",
            r"虚拟教室 “合班”（第 \d+ 行）引用了不存在的实际教室 “103”",
        ),
        (
            "<Preferred_Room>操场</Preferred_Room>",
            "<Preferred_Room>礼堂</Preferred_Room>",
            r"约束 #\d+ ConstraintActivityPreferredRooms（第 \d+ 行）引用了不存在的教室 “礼堂”",
        ),
        (
            "<Day>周五</Day>",
            "<Day>周六</Day>",
            r"约束 #3 ConstraintStudentsSetNotAvailableTimes（第 \d+ 行）引用了不存在的日期 “周六”",
        ),
        (
            "<Day>周五</Day>\n\t\t<Hour>第6节</Hour>",
            "<Day>周五</Day>\n\t\t<Hour>第9节</Hour>",
            r"约束 #3 ConstraintStudentsSetNotAvailableTimes（第 \d+ 行）引用了不存在的节次 “第9节”",
        ),
        (
            "<Maximum_Hours_Daily>4</Maximum_Hours_Daily>",
            "<Maximum_Hours_Daily>four</Maximum_Hours_Daily>",
            r"约束 #6 ConstraintTeachersMaxHoursDaily（第 \d+ 行）的 <Maximum_Hours_Daily> 不是整数：“four”",
        ),
        (
            "<Weight_Percentage>80</Weight_Percentage>",
            "<Weight_Percentage>high</Weight_Percentage>",
            r"约束 #7 ConstraintActivitiesPreferredTimeSlots（第 \d+ 行）的 <Weight_Percentage> 不是数字：“high”",
        ),
        (
            "<Weight_Percentage>80</Weight_Percentage>",
            "<Weight_Percentage>180</Weight_Percentage>",
            r"约束 #7 ConstraintActivitiesPreferredTimeSlots（第 \d+ 行）的权重 180 不在 0 到 100 之间",
        ),
        (
            "<Activity_Id>2</Activity_Id>",
            "<Activity_Id>99</Activity_Id>",
            r"约束 #5 ConstraintMinDaysBetweenActivities（第 \d+ 行）引用了不存在的活动 Id 99",
        ),
        (
            "<Number_of_Days>5</Number_of_Days>",
            "<Number_of_Days>6</Number_of_Days>",
            r"<Days_List>（第 \d+ 行）的 <Number_of_Days> 为 6，但列出了 5 个日期",
        ),
    ],
)
def test_bad_data_is_refused_naming_the_element(old: str, new: str, expected: str) -> None:
    errors = _errors(_with(_base(), old, new))
    assert any(re.fullmatch(expected, e) for e in errors), errors


def test_every_error_in_a_file_is_reported_at_once() -> None:
    data = _base()
    data = _with(data, "<Subject>数学</Subject>", "<Subject>音乐</Subject>")
    data = _with(data, "<Duration>1</Duration>", "<Duration>0</Duration>")
    data = _with(data, "<Teacher>王老师</Teacher>\n\t<Number_of_Not", "<Teacher>钱老师</Teacher>\n\t<Number_of_Not")
    with pytest.raises(FetError) as e:
        read_fet(data)
    assert len(e.value.errors) == 3
    assert isinstance(e.value, ValueError) and "音乐" in str(e.value) and "钱老师" in str(e.value)


def test_an_unsupported_constraint_is_listed_with_its_place_and_weight_never_dropped() -> None:
    base = _base()
    n = _n_time_constraints(base) + 1
    data = _add_time_constraint(
        base,
        "<ConstraintStudentsSetMaxDaysPerWeek><Weight_Percentage>90</Weight_Percentage><Max_Days_Per_Week>4"
        "</Max_Days_Per_Week><Students>高一(1)</Students><Active>true</Active><Comments/>"
        "</ConstraintStudentsSetMaxDaysPerWeek>",
    )
    imp = read_fet(data)
    (line,) = imp.unsupported
    assert re.fullmatch(rf"#{n} ConstraintStudentsSetMaxDaysPerWeek（第 \d+ 行，权重 90%）", line)
    assert len(imp.problem.constraints) == len(read_fet(base).problem.constraints)


def test_inactive_activities_and_constraints_are_counted_and_left_out() -> None:
    data = _with(
        _base(),
        "<Id>7</Id>\n\t<Activity_Group_Id>0</Activity_Group_Id>\n\t<Active>true",
        "<Id>7</Id>\n\t<Activity_Group_Id>0</Activity_Group_Id>\n\t<Active>false",
    )
    data = _with(
        data,
        "<Maximum_Hours_Daily>4</Maximum_Hours_Daily>\n\t<Active>true",
        "<Maximum_Hours_Daily>4</Maximum_Hours_Daily>\n\t<Active>false",
    )
    imp = read_fet(data)
    assert 7 not in {a.id for a in imp.problem.activities}
    assert "TeacherMaxHoursDaily" not in {c.kind for c in imp.problem.constraints}
    assert (imp.inactive_activities, imp.inactive_constraints, imp.ignored_inactive) == (1, 1, 2)


# --- export and FET's confirmation --------------------------------------------------------------------------


def _locks(p: Problem) -> tuple[dict[int, Constraint], dict[int, Constraint]]:
    times = {c.params["activity"]: c for c in p.constraints if c.kind == "ActivityPreferredStartingTime"}
    rooms = {c.params["activity"]: c for c in p.constraints if c.kind == "ActivityPreferredRoom"}
    return times, rooms


def test_export_over_the_original_file_keeps_everything_and_locks_every_activity(tmp_path: Path) -> None:
    original = (EXAMPLES / "SPAIN_20-21.fet").read_bytes()
    imp = read_fet(original)
    p = imp.problem
    virtual = next(r for r in p.rooms.values() if r.virtual)
    real = next(r for r in p.rooms.values() if not r.virtual)
    placements = {}
    for i, a in enumerate(p.activities):
        rooms: tuple[str, ...] = ()
        if i % 3 == 1:
            rooms = (real.name,)
        elif i % 3 == 2:
            rooms = (virtual.name, *(s[0] for s in virtual.real_room_sets))
        placements[a.id] = Placement(i % p.n_days, i % p.n_periods, rooms)
    back = read_fet(write_fet(p, Solution(placements), source=original))
    q = back.problem
    assert q.activities == p.activities and q.student_sets == p.student_sets and q.rooms == p.rooms
    assert back.inactive_activities == imp.inactive_activities and back.unsupported == []
    times, rooms = _locks(q)
    assert set(times) == set(placements)
    for aid, pl in placements.items():
        t = times[aid]
        assert (t.weight, t.params["day"], t.params["period"], t.params["locked"]) == (100.0, pl.day, pl.period, True)
        if pl.rooms:
            r = rooms[aid]
            assert (r.weight, r.params["room"], tuple(r.params.get("real_rooms", ())), r.params["locked"]) == (
                100.0,
                pl.rooms[0],
                pl.rooms[1:],
                True,
            )
        else:
            assert aid not in rooms
    lock_kinds = {"ActivityPreferredStartingTime", "ActivityPreferredRoom"}
    kept = [c for c in p.constraints if c.kind not in lock_kinds]
    assert sorted(map(_key, (c for c in q.constraints if c.kind not in lock_kinds))) == sorted(map(_key, kept))
    activities = _activities_xml(q, placements, tmp_path / "spain_activities.xml")
    assert read_fet_solution(q, activities).placements == placements


def _activities_xml(p: Problem, placements: dict[int, Placement], path: Path) -> Path:
    """FET's *_activities.xml for these placements, as fet-cl writes it (an unplaced activity: empty day)."""
    lines = ['\ufeff<?xml version="1.0" encoding="UTF-8"?>', "<Activities_Timetable>"]
    for a in p.activities:
        pl = placements.get(a.id)
        day, hour = (p.days[pl.day], p.periods[pl.period]) if pl else ("", "")
        room = pl.rooms[0] if pl and pl.rooms else ""
        real = "".join(f"<Real_Room>{r}</Real_Room>" for r in (pl.rooms[1:] if pl else ()))
        lines.append(
            f"<Activity><Id>{a.id}</Id><Day>{day}</Day><Hour>{hour}</Hour><Room>{room}</Room>{real}</Activity>"
        )
    lines.append("</Activities_Timetable>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_fets_best_partial_timetable_is_read_when_it_timed_out(tmp_path: Path) -> None:
    school = _school()
    partial = {aid: pl for aid, pl in TIMETABLE.placements.items() if aid != 3}
    _activities_xml(school, partial, tmp_path / "timetables" / "school-highest" / "school_activities.xml")
    _activities_xml(school, {}, tmp_path / "timetables" / "school-current" / "school_activities.xml")
    assert read_fet_solution(school, tmp_path).placements == partial
    with pytest.raises(FetError) as e:
        read_fet_solution(read_fet(EXAMPLES / "small-school.fet").problem, tmp_path)
    assert "活动 Id 1 的时间 “周二 第1节” 不在课表数据的日期和节次中" in str(e.value)


def test_fet_confirms_our_timetable_of_our_own_school(tmp_path: Path) -> None:
    school = _school()
    fet_file = tmp_path / "school.fet"
    fet_file.write_bytes(write_fet(school, TIMETABLE))
    result, _ = _run_fet(fet_file, tmp_path / "out")
    assert "Simulation successful" in result
    assert read_fet_solution(school, tmp_path / "out").placements == TIMETABLE.placements
    # the same from the full file FET writes with its timetable
    (full,) = (tmp_path / "out").glob("timetables/*/*_data_and_timetable.fet")
    assert read_fet_solution(school, full).placements == TIMETABLE.placements


def test_fet_refuses_a_locked_timetable_that_breaks_a_hard_constraint(tmp_path: Path) -> None:
    unavailable = dict(TIMETABLE.placements)
    unavailable[1] = Placement(0, 0)  # 王老师 does not work on Mondays
    fet_file = tmp_path / "unavailable.fet"
    fet_file.write_bytes(write_fet(_school(), Solution(unavailable)))
    result, _ = _run_fet(fet_file, tmp_path / "out1", seconds=5)
    assert "Cannot precompute" in result and "Simulation successful" not in result

    clash = dict(TIMETABLE.placements)
    clash[7] = Placement(1, 1)  # 高一(2) has 数学 then
    fet_file = tmp_path / "clash.fet"
    fet_file.write_bytes(write_fet(_school(), Solution(clash)))
    result, _ = _run_fet(fet_file, tmp_path / "out2", seconds=2, wall=6)
    assert "Starting timetable generation" in result and "Simulation successful" not in result


def _place(p: Problem) -> Solution:
    """A small depth-first placement honouring who and when only (enough for small-school.fet)."""
    atoms = {a.id: p.atoms_of(a.students) for a in p.activities}
    order = sorted(p.activities, key=lambda a: -(len(atoms[a.id]) + len(a.teachers) + a.duration))
    busy: set[tuple[str, int, int]] = set()
    out: dict[int, Placement] = {}

    def go(i: int) -> bool:
        if i == len(order):
            return True
        a = order[i]
        who = [f"t:{t}" for t in a.teachers] + [f"s:{s}" for s in atoms[a.id]]
        for d in range(p.n_days):
            for h in range(p.n_periods - a.duration + 1):
                cells = {(w, d, h + k) for w in who for k in range(a.duration)}
                if busy & cells:
                    continue
                busy.update(cells)
                out[a.id] = Placement(d, h)
                if go(i + 1):
                    return True
                busy.difference_update(cells)
                del out[a.id]
        return False

    assert go(0)
    return Solution(out)


def test_fet_confirms_our_placement_written_over_the_original_file(tmp_path: Path) -> None:
    original = (EXAMPLES / "small-school.fet").read_bytes()
    p = read_fet(original).problem
    assert {c.kind for c in p.constraints if c.hard} == {"BasicCompulsoryTime", "BasicCompulsorySpace"}
    ours = _place(p)
    fet_file = tmp_path / "small-school-locked.fet"
    fet_file.write_bytes(write_fet(p, ours, source=original))
    result, _ = _run_fet(fet_file, tmp_path / "out")
    assert "Simulation successful" in result
    assert read_fet_solution(p, tmp_path / "out").placements == ours.placements


def test_fet_reads_every_constraint_type_we_write(tmp_path: Path) -> None:
    """One constraint of each type we export, in a file of our own: FET adds them all and knows every tag."""
    school = _school()
    values: dict[str, Any] = {
        "teacher": "王老师", "students": "高一(1)", "subject": "语文", "tag": "理论", "room": "101", "int": 1,
        "bool": True, "activities": [1, 2], "slots": [(0, 0), (1, 1)], "rooms": ["101", "102"], "hour": 1,
        "end_hour": 3, "opt_day": 0, "opt_hour": 1,
        "filter": {"teacher": None, "students": "高一(1)", "subject": "语文", "tag": None, "duration": None},
    }  # fmt: skip
    ids = {"activity": 1, "first": 1, "second": 2, "third": 6}
    written = {tag: spec for tag, spec in SPECS.items() if spec.write}
    school.constraints = []
    for tag, spec in written.items():
        params = dict(spec.fixed)
        for f in spec.fields:
            if f.type != "real_rooms":  # only a virtual room's lock names its real rooms
                params[f.param] = ids[f.param] if f.type == "activity" else values[f.type]
        school.constraints.append(Constraint(spec.kind, 100.0, params, tag))
    fet_file = tmp_path / "all.fet"
    fet_file.write_bytes(write_fet(school, Solution({})))
    text = fet_file.read_text(encoding="utf-8")
    assert sorted(set(re.findall(r"<(Constraint\w+)>", text))) == sorted(written)
    _, console = _run_fet(fet_file, tmp_path / "out", seconds=2)
    assert "unrecognized" not in console
    log = (tmp_path / "out" / "logs" / "file_open.log").read_text(encoding="utf-8-sig")
    added = sum(int(n) for n in re.findall(r"Added (\d+) (?:time|space) constraints", log))
    assert added == len(written)
    # and our reader takes back exactly what it wrote
    back = read_fet(fet_file.read_bytes()).problem
    assert sorted(map(_key, back.constraints)) == sorted(map(_key, school.constraints))


@pytest.mark.parametrize("name", ["EEBLJ-Noturno.fet", "Horario_ISJ.fet", "timetable_July_Nov_09_9.fet"])
def test_fets_own_timetables_of_the_examples_break_no_hard_constraint_as_we_read_them(
    name: str, tmp_path: Path
) -> None:
    """FET's timetable, read back and judged by our checker: our reading of FET's constraints agrees with FET's."""
    result, _ = _run_fet(EXAMPLES / name, tmp_path / "out", seconds=30)
    assert "Simulation successful" in result
    p = read_fet(EXAMPLES / name).problem
    solution = read_fet_solution(p, tmp_path / "out")
    assert len(solution.placements) == len(p.activities)
    hard, _ = check(p, solution)
    assert hard == []
