"""Bad data, found before any solving: each mistake named in the school's words (the lesson, teacher, class,
room or constraint), so a wrong reference or a missing number is never a crash or a silent no-op."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .kinds import KINDS
from .model import Constraint, Problem

MAX_ERRORS = 30

# parameters a constraint may leave out (None or missing: "every teacher", "any time of day", …)
_OPTIONAL = {"locked", "real_rooms", "consecutive_if_same_day", "allow_empty", "day", "period", "filter",
             "component", "start", "end"}  # fmt: skip
_INT_PARAMS = ("max", "min", "min_days", "max_days", "min_gaps", "start", "end", "component", "day", "period")


def _name(c: Constraint) -> str:
    return f"约束“{c.label}”（{c.kind}）" if c.label else f"约束 {c.kind} "


def _required(kind: str) -> list[str]:
    names = [x for x in KINDS.get(kind, ()) if x not in _OPTIONAL]
    # Teacher…/StudentsSet… limits without a name apply to everyone
    if kind not in ("TeacherNotAvailableTimes", "TeacherHomeRooms"):
        names = [x for x in names if not (x == "teacher" and kind.startswith("Teacher"))]
    if kind not in ("StudentsSetNotAvailableTimes", "StudentsSetHomeRooms"):
        names = [x for x in names if not (x == "students" and kind.startswith("StudentsSet"))]
    return names


def problem_errors(problem: Problem) -> list[str]:
    """Everything wrong with the data, in Chinese; empty when the problem can be given to the solver."""
    p = problem
    out: list[str] = []
    if not p.days or not p.periods:
        return ["课表至少要有一天、每天至少一节课"]
    seen: dict[int, list[str]] = defaultdict(list)
    for a in p.activities:
        seen[a.id].append(a.subject)
    out += [f"课程编号 #{aid} 重复：{'、'.join(subjects)}" for aid, subjects in seen.items() if len(subjects) > 1]
    known_sets = set(p.student_sets)
    for a in p.activities:
        if a.duration < 1:
            out.append(f"课程 #{a.id}（{a.subject}）的连堂数 {a.duration} 不对：至少 1 节")
        elif a.duration > p.n_periods:
            out.append(f"课程 #{a.id}（{a.subject}）的连堂数 {a.duration} 超出每天的节数 {p.n_periods}")
        missing = [s for s in a.students if s not in known_sets]
        if missing and known_sets:
            out.append(f"课程 #{a.id}（{a.subject}）的学生“{'、'.join(missing)}”不在班级名单里")
    for name, s in p.student_sets.items():
        unknown = [m for m in s.members if m not in known_sets]
        if unknown:
            out.append(f"学生组“{name}”的成员“{'、'.join(unknown)}”不在班级名单里")
    teachers = set(p.teachers) | {t for a in p.activities for t in a.teachers}
    for c in p.constraints:
        out += _constraint_errors(p, c, teachers)
    if len(out) > MAX_ERRORS:
        out = [*out[:MAX_ERRORS], f"……另有 {len(out) - MAX_ERRORS} 处"]
    return out


def _constraint_errors(p: Problem, c: Constraint, teachers: set[str]) -> list[str]:
    if c.kind not in KINDS:
        return []  # the solver refuses unknown kinds by name (unsupported_constraints)
    what = _name(c)
    if not 0 <= c.weight <= 100:
        return [f"{what}的权重 {c.weight:g} 不在 0–100 之间"]
    if c.kind == "BreakTimes" and 0 < c.weight < 100:  # as in FET: nobody has lessons in a break
        return [f"{what}的权重是 {c.weight:g}%：休息时间只能是必须遵守的（100%）"]
    prm = c.params
    missing = [x for x in _required(c.kind) if prm.get(x) is None]
    if missing:
        return [f"{what}缺少参数：{'、'.join(missing)}"]
    out: list[str] = []
    for key in _INT_PARAMS:
        value = prm.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            out.append(f"{what}的参数 {key} = {value!r} 应是不小于 0 的整数")
    for s in prm.get("slots") or ():
        if not (_pair(s) and 0 <= s[0] < p.n_days and 0 <= s[1] < p.n_periods):
            out.append(f"{what}的时间 {tuple(s) if _pair(s) else s!r} 不在一周的 {p.n_days} 天 × {p.n_periods} 节之内")
            break
    if prm.get("day") is not None and isinstance(prm["day"], int) and prm["day"] >= p.n_days:
        out.append(f"{what}的日子 {prm['day']} 不在一周的 {p.n_days} 天之内")
    if prm.get("period") is not None and isinstance(prm["period"], int) and prm["period"] >= p.n_periods:
        out.append(f"{what}的节次 {prm['period']} 不在每天的 {p.n_periods} 节之内")
    ids = p._by_id()
    refs = [prm[k] for k in ("activity", "first", "second", "third") if k in prm] + list(prm.get("activities") or ())
    unknown_ids = [x for x in refs if x not in ids]
    if unknown_ids:
        out.append(f"{what}提到的课程 {'、'.join(f'#{x}' for x in unknown_ids[:5])} 不存在")
    flt = prm.get("filter") or {}
    for t in (prm.get("teacher"), flt.get("teacher")):
        if t is not None and t not in teachers:
            out.append(f"{what}提到的教师“{t}”不在教师名单里")
    for s in (prm.get("students"), flt.get("students")):
        if s is not None and p.student_sets and s not in p.student_sets:
            out.append(f"{what}提到的学生“{s}”不在班级名单里")
    rooms = [prm["room"]] if prm.get("room") is not None else []
    rooms += list(prm.get("rooms") or ()) + list(prm.get("real_rooms") or ())
    unknown_rooms = [r for r in rooms if r not in p.rooms]
    if unknown_rooms:
        out.append(f"{what}提到的教室“{'、'.join(unknown_rooms)}”不存在")
    return out


def _pair(s: Any) -> bool:
    return isinstance(s, list | tuple) and len(s) == 2 and all(isinstance(x, int) for x in s)
