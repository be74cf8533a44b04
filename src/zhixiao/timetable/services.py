"""Timetabling for a school: plans and their data, background solves, moves with a live conflict check,
publishing (versions), repair after a change, and substitutes for a teacher on approved leave.

Every write is permission-checked against the plan (timetable.manage: the school admin, or the head of the
school's 教务处), atomic and audited. The solver runs in the worker (`tasks.run_solve`) on the problem
`build_problem` made when the solve was started; moves are judged by the engine's checker."""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixiao.identity import selectors as identity_selectors
from zhixiao.kernel import audit, permissions, tenancy
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.kernel.permissions import Role
from zhixiao.notifications import services as notifications
from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors
from zhixiao.workflow import events as workflow_events

from . import snapshots
from .engine import checker
from .engine.model import Activity, Constraint, Placement, Problem, Solution, StudentSet
from .engine.model import Room as EngineRoom
from .engine.result import Progress, placements_from_json, placements_to_json
from .models import (
    Course,
    PlanRule,
    PlanSource,
    PlanStatus,
    Room,
    RoomKind,
    RuleKind,
    RunMode,
    RunStatus,
    SolveRun,
    Substitution,
    SubstitutionStatus,
    TeachingClass,
    TimetablePlan,
    TimetableVersion,
)

logger = logging.getLogger(__name__)

ACADEMIC_DEPARTMENT = "教务处"
TEACHER_LEAVE_FLOW = "teacher_leave"  # the office's 教师请假 definition key (zhixiao.office.flows.TEACHER_LEAVE)
WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
SESSIONS = ["上午", "下午", "晚上"]
DEFAULT_DAYS = WEEKDAYS[:5]
DEFAULT_PERIODS: list[dict[str, str]] = [
    {"name": "第1节", "start": "08:00", "end": "08:45", "session": "上午"},
    {"name": "第2节", "start": "08:55", "end": "09:40", "session": "上午"},
    {"name": "第3节", "start": "10:10", "end": "10:55", "session": "上午"},
    {"name": "第4节", "start": "11:05", "end": "11:50", "session": "上午"},
    {"name": "第5节", "start": "14:30", "end": "15:15", "session": "下午"},
    {"name": "第6节", "start": "15:25", "end": "16:10", "session": "下午"},
    {"name": "第7节", "start": "16:20", "end": "17:05", "session": "下午"},
    {"name": "第8节", "start": "17:15", "end": "18:00", "session": "下午"},
]
DEFAULT_BREAKS: list[dict[str, Any]] = [
    {"after": 2, "name": "大课间", "start": "09:40", "end": "10:10"},
    {"after": 4, "name": "午休", "start": "11:50", "end": "14:30"},
]
# periods a week by subject, for plans generated from the teaching assignments (a senior high school's usual)
DEFAULT_LESSONS = {
    "语文": 5,
    "数学": 5,
    "英语": 5,
    "物理": 3,
    "化学": 3,
    "生物": 2,
    "思想政治": 2,
    "历史": 2,
    "地理": 2,
    "信息技术": 1,
    "体育与健康": 2,
    "音乐": 1,
    "美术": 1,
}
DEFAULT_ROOM_KIND = {"信息技术": RoomKind.COMPUTER.value, "体育与健康": RoomKind.PLAYGROUND.value}
CORE_SUBJECTS = ["语文", "数学", "英语"]
MAX_PARTS = 63  # activity id = course id × 64 + part
MAX_TIME_LIMIT = 1800
POLL_SECONDS = 0.5
STALE_GRACE = dt.timedelta(minutes=5)  # a run this long past its time limit lost its worker
WORKERS = max(1, min(8, os.cpu_count() or 1))
ACTIVE_RUN = (RunStatus.QUEUED, RunStatus.RUNNING)


class ProblemErrors(DomainError):
    """The plan's data cannot make a timetable problem; `errors` says what to fix, one line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("；".join(errors[:5]))
        self.errors = errors


# --- who may manage ------------------------------------------------------------------------------------


def may_manage_school(actor: Any, school_id: int) -> bool:
    """timetable.manage over the whole school, or as head of the school's 教务处 (None: the system)."""
    if actor is None:
        return True
    academic: list[int] | None = None
    for g in permissions.grants_of(actor):
        if not g.allows(permissions.MANAGE_TIMETABLE):
            continue
        if g.scope is permissions.Scope.SYSTEM:
            return True
        if g.school_id != school_id:
            continue
        if g.scope is permissions.Scope.SCHOOL:
            return True
        if g.scope is permissions.Scope.DEPARTMENT:
            if academic is None:
                academic = org_selectors.department_ids_named(school_id=school_id, name=ACADEMIC_DEPARTMENT)
            if g.key in academic:
                return True
    return False


def _plan(actor: Any, plan_id: int, *, lock: bool = False) -> TimetablePlan:
    qs = TimetablePlan.objects.all()
    if lock:
        qs = qs.select_for_update()
    plan = qs.filter(pk=plan_id).first()
    if plan is None:
        raise DomainError(_("排课方案不存在"))
    if (
        actor is not None
        and not TimetablePlan.objects.filter(
            permissions.scope_q(actor, permissions.MANAGE_TIMETABLE, TimetablePlan), pk=plan.pk
        ).exists()
    ):
        raise NotPermitted(_("没有权限管理该排课方案"))
    return plan


def _editable(plan: TimetablePlan) -> None:
    """No changes while a solve runs (it solves the data as they were when it started). A run whose worker
    died is let go first."""
    if _expire_stale_runs(plan):
        _settle(plan)
    if plan.runs.filter(status__in=ACTIVE_RUN).exists():
        raise DomainError(_("正在排课，请等待结束或先取消再修改"))


# --- the week's shape ------------------------------------------------------------------------------------


_SESSION_WORDS = {
    "上午": "上午",
    "下午": "下午",
    "晚上": "晚上",
    "晚自习": "晚上",
    "morning": "上午",
    "afternoon": "下午",
    "evening": "晚上",
}
_BREAK_WORDS = {"课间", "休息", "break"}
_TIME = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d$")


def parse_periods(text: str) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """One line per period ("上午 第1节 08:00-08:45") or break ("课间 大课间 09:40-10:10"); the session is
    上午, 下午 or 晚上 (晚自习), the time optional. Errors name the line."""
    periods: list[dict[str, str]] = []
    breaks: list[dict[str, Any]] = []
    errors: list[str] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = line.split()
        start = end = ""
        if len(parts) >= 3 and "-" in parts[-1]:
            start, _sep, end = parts[-1].partition("-")
            parts = parts[:-1]
            if not (_TIME.match(start) and _TIME.match(end)) or start.zfill(5) >= end.zfill(5):
                errors.append(_("第 {n} 行：时间应写成 08:00-08:45").format(n=n))
                continue
        if len(parts) != 2:
            errors.append(_("第 {n} 行：应写成“上午 第1节 08:00-08:45”或“课间 大课间 09:40-10:10”").format(n=n))
            continue
        kind, name = parts
        if kind.lower() in _BREAK_WORDS:
            breaks.append({"after": len(periods), "name": name[:20], "start": start, "end": end})
        elif kind.lower() in _SESSION_WORDS:
            periods.append({"name": name[:20], "start": start, "end": end, "session": _SESSION_WORDS[kind.lower()]})
        else:
            errors.append(_("第 {n} 行：“{kind}”应为 上午、下午、晚上 或 课间").format(n=n, kind=kind))
    if not periods and not errors:
        errors.append(_("至少要有一节课"))
    if len({p["name"] for p in periods}) != len(periods):
        errors.append(_("节次名称不能重复"))
    if len(periods) > 16:
        errors.append(_("一天最多 16 节"))
    if errors:
        raise ProblemErrors(errors)
    return periods, [b for b in breaks if 0 < b["after"] < len(periods)]


def periods_text(plan: TimetablePlan) -> str:
    lines = []
    breaks = {b["after"]: b for b in plan.breaks}
    for i, p in enumerate(plan.periods):
        if i in breaks:
            b = breaks[i]
            lines.append(f"课间 {b['name']} {b['start']}-{b['end']}".rstrip("-").rstrip())
        when = f" {p['start']}-{p['end']}" if p.get("start") and p.get("end") else ""
        lines.append(f"{p.get('session') or '上午'} {p['name']}{when}")
    return "\n".join(lines)


def create_plan(
    *,
    actor: Any,
    school_id: int,
    name: str,
    term_id: int | None = None,
    days: list[str] | None = None,
    periods: list[dict[str, str]] | None = None,
    breaks: list[dict[str, Any]] | None = None,
) -> TimetablePlan:
    """A new plan for a school (by default the current term, Monday to Friday, eight periods)."""
    if not may_manage_school(actor, school_id):
        raise NotPermitted(_("没有权限为该校排课"))
    days = days or list(DEFAULT_DAYS)
    _check_days(days)
    return _new_plan(actor, school_id, name, term_id, days, periods or [dict(p) for p in DEFAULT_PERIODS], breaks)


def _new_plan(
    actor: Any,
    school_id: int,
    name: str,
    term_id: int | None,
    days: list[str],
    periods: list[dict[str, str]],
    breaks: list[dict[str, Any]] | None,
    **extra: Any,
) -> TimetablePlan:
    name = name.strip()
    if not name:
        raise DomainError(_("请填写方案名称"))
    if term_id is None:
        term = org_selectors.current_term(school_id=school_id)
        term_id = term.pk if term else None
    academic = org_selectors.department_ids_named(school_id=school_id, name=ACADEMIC_DEPARTMENT)
    with transaction.atomic():
        plan = TimetablePlan.objects.create(
            school_id=school_id,
            term_id=term_id,
            name=name[:100],
            academic_department_id=academic[0] if academic else None,
            days=days,
            periods=periods,
            breaks=breaks if breaks is not None else [dict(b) for b in DEFAULT_BREAKS],
            created_by=actor if getattr(actor, "pk", None) else None,
            **extra,
        )
        audit.record(actor=actor, action="timetable.plan_create", target=plan, note=plan.name)
    return plan


def _check_days(days: list[str]) -> None:
    if not days or len(days) > 7 or len(set(days)) != len(days):
        raise DomainError(_("请选择 1 到 7 个不同的上课日"))


def update_shape(*, actor: Any, plan_id: int, name: str, days: list[str], periods_source: str) -> TimetablePlan:
    """The plan's name, school days and periods (with their sessions, times and breaks)."""
    with transaction.atomic():
        plan = _plan(actor, plan_id, lock=True)
        _editable(plan)
        if not name.strip():
            raise DomainError(_("请填写方案名称"))
        _check_days(days)
        periods, breaks = parse_periods(periods_source)
        if plan.is_fet and (len(days) != len(plan.days) or len(periods) != len(plan.periods)):
            raise DomainError(_("导入的方案不能改变天数和节数，只能修改名称、时间和上下午"))
        before = {"name": plan.name, "days": plan.days, "periods": plan.periods, "breaks": plan.breaks}
        plan.name, plan.days, plan.periods, plan.breaks = name.strip()[:100], days, periods, breaks
        plan.save(update_fields=["name", "days", "periods", "breaks", "updated_at"])
        after = {"name": plan.name, "days": plan.days, "periods": plan.periods, "breaks": plan.breaks}
        audit.record(actor=actor, action="timetable.plan_shape", target=plan, changes=audit.diff(before, after))
    return plan


# --- rooms, teaching classes, courses -----------------------------------------------------------------


def save_room(
    *, actor: Any, plan_id: int, name: str, kind: str, capacity: int, building: str = "", room_id: int | None = None
) -> Room:
    with transaction.atomic():
        plan = _plan(actor, plan_id, lock=True)
        _editable(plan)
        name = name.strip()
        if not name:
            raise DomainError(_("请填写教室名称"))
        if kind not in RoomKind.values:
            raise DomainError(_("未知的教室类型"))
        if not 1 <= capacity <= 10000:
            raise DomainError(_("容量应在 1 到 10000 之间"))
        if plan.rooms.filter(name=name).exclude(pk=room_id or 0).exists():
            raise DomainError(_("已有同名教室：{name}").format(name=name))
        if room_id:
            room = plan.rooms.filter(pk=room_id).first()
            if room is None:
                raise DomainError(_("教室不存在"))
        else:
            room = Room(plan=plan, school_id=plan.school_id)
        room.name, room.kind, room.capacity, room.building = name[:50], kind, capacity, building.strip()[:50]
        room.save()
        audit.record(actor=actor, action="timetable.room_save", target=room, school_id=plan.school_id)
    return room


def delete_room(*, actor: Any, plan_id: int, room_id: int) -> None:
    with transaction.atomic():
        plan = _plan(actor, plan_id, lock=True)
        _editable(plan)
        room = plan.rooms.filter(pk=room_id).first()
        if room is None:
            raise DomainError(_("教室不存在"))
        audit.record(actor=actor, action="timetable.room_delete", target=room, note=room.name)
        room.delete()


def save_teaching_class(
    *, actor: Any, plan_id: int, name: str, subject: str, student_numbers: Iterable[str]
) -> TeachingClass:
    """A 教学班 from its students' 学籍号 (enrolled students of the school)."""
    with transaction.atomic():
        plan = _plan(actor, plan_id, lock=True)
        _editable(plan)
        name, subject = name.strip(), subject.strip()
        if not name or not subject:
            raise DomainError(_("请填写教学班名称和科目"))
        ids: list[int] = []
        unknown: list[str] = []
        for no in dict.fromkeys(n.strip() for n in student_numbers if n.strip()):
            found = people_selectors.enrolled_student_by_no(school_id=plan.school_id, student_no=no)
            if found is None:
                unknown.append(no)
            else:
                ids.append(found[0])
        if unknown:
            raise DomainError(_("找不到这些学籍号的在读学生：{numbers}").format(numbers="、".join(unknown[:10])))
        if not ids:
            raise DomainError(_("教学班至少要有一名学生"))
        tc, _created = TeachingClass.objects.update_or_create(
            plan=plan,
            name=name[:50],
            defaults={"school_id": plan.school_id, "subject": subject[:30], "student_ids": ids},
        )
        audit.record(actor=actor, action="timetable.teaching_class_save", target=tc, note=f"{len(ids)} 人")
    return tc


@dataclass
class CourseRow:
    """One line of a class's grid: a subject, its periods a week, doubles, teachers, room kind."""

    subject: str
    lessons: int
    doubles: int = 0
    teacher_ids: list[int] = field(default_factory=list)
    room_kind: str = ""
    max_per_day: int = 2


def save_class_courses(
    *,
    actor: Any,
    plan_id: int,
    rows: Iterable[CourseRow],
    class_id: int | None = None,
    teaching_class_id: int | None = None,
) -> list[Course]:
    """Replace what one class (or teaching class) is taught: rows with 0 periods are dropped."""
    with transaction.atomic():
        plan = _plan(actor, plan_id, lock=True)
        _editable(plan)
        if plan.is_fet:
            raise DomainError(_("导入的方案请在 FET 中修改课程后重新导入"))
        if class_id is not None:
            row = next((c for c in org_selectors.class_rows(school_id=plan.school_id) if c["id"] == class_id), None)
            if row is None:
                raise DomainError(_("班级不存在"))
            target: dict[str, Any] = {"admin_class_id": class_id, "teaching_class": None}
            class_name = row["name"]
        else:
            tc = plan.teaching_classes.filter(pk=teaching_class_id or 0).first()
            if tc is None:
                raise DomainError(_("教学班不存在"))
            target = {"admin_class_id": None, "teaching_class": tc}
            class_name = tc.name
        staff = {a for a, _label in people_selectors.staff_choices(school_id=plan.school_id)}
        existing = plan.courses.filter(class_name=class_name)
        before = sorted(f"{c.subject}×{c.lessons_per_week}" for c in existing)
        existing.delete()
        created: list[Course] = []
        errors: list[str] = []
        seen: set[str] = set()
        for r in rows:
            if r.lessons <= 0:
                continue
            subject = r.subject.strip()[:30]
            if not subject or subject in seen:
                errors.append(
                    _("{class_name}：科目 “{subject}” 为空或重复").format(class_name=class_name, subject=subject)
                )
                continue
            seen.add(subject)
            if r.lessons > MAX_PARTS or r.doubles < 0 or r.doubles * 2 > r.lessons:
                errors.append(_("{subject}：周课时应为 1–63，连堂次数不超过周课时的一半").format(subject=subject))
                continue
            if not 1 <= r.max_per_day <= 16:
                errors.append(_("{subject}：每天最多次数应为 1–16").format(subject=subject))
                continue
            if not r.teacher_ids:
                errors.append(_("{subject}：请选择任课教师").format(subject=subject))
                continue
            if any(t not in staff for t in r.teacher_ids):
                errors.append(_("{subject}：任课教师不是本校在职教职工").format(subject=subject))
                continue
            if r.room_kind and r.room_kind not in RoomKind.values:
                errors.append(_("{subject}：未知的教室类型").format(subject=subject))
                continue
            created.append(
                Course(
                    school_id=plan.school_id,
                    plan=plan,
                    subject=subject,
                    class_name=class_name,
                    teacher_ids=list(dict.fromkeys(r.teacher_ids)),
                    lessons_per_week=r.lessons,
                    double_lessons=r.doubles,
                    max_per_day=r.max_per_day,
                    room_kind=r.room_kind,
                    **target,
                )
            )
        if errors:
            raise ProblemErrors(errors)
        Course.objects.bulk_create(created)
        after = sorted(f"{c.subject}×{c.lessons_per_week}" for c in created)
        audit.record(
            actor=actor,
            action="timetable.courses_save",
            target=plan,
            changes={class_name: [before, after]},
        )
    return created


def generate_courses(*, actor: Any, plan_id: int, lessons: Mapping[str, int] | None = None) -> int:
    """Courses for every class from the term's teaching assignments (任课), with the usual periods a week per
    subject, and a room for every class that names its own; what a class already has is kept."""
    lessons = {**DEFAULT_LESSONS, **(lessons or {})}
    with transaction.atomic():
        plan = _plan(actor, plan_id, lock=True)
        _editable(plan)
        if plan.is_fet:
            raise DomainError(_("导入的方案请在 FET 中修改课程后重新导入"))
        term_id = plan.term_id or getattr(org_selectors.current_term(school_id=plan.school_id), "pk", None)
        if term_id is None:
            raise DomainError(_("学校还没有当前学期，无法读取任课安排"))
        classes = {c["id"]: c for c in org_selectors.class_rows(school_id=plan.school_id)}
        taught: dict[tuple[int, str], list[int]] = defaultdict(list)
        for class_id, subject, account_id in people_selectors.teaching_rows(school_id=plan.school_id, term_id=term_id):
            taught[(class_id, subject)].append(account_id)
        if not taught:
            raise DomainError(_("本学期还没有任课安排，请先在“任课”中安排教师"))
        have = set(plan.courses.values_list("class_name", "subject"))
        kinds = set(plan.rooms.values_list("kind", flat=True))
        created = []
        for (class_id, subject), teachers in sorted(taught.items()):
            cls = classes.get(class_id)
            n = lessons.get(subject, 2)
            if cls is None or (cls["name"], subject) in have or n <= 0:
                continue
            kind = DEFAULT_ROOM_KIND.get(subject, "")
            created.append(
                Course(
                    school_id=plan.school_id,
                    plan=plan,
                    subject=subject,
                    admin_class_id=class_id,
                    class_name=cls["name"],
                    teacher_ids=teachers[:1],
                    lessons_per_week=min(n, MAX_PARTS),
                    max_per_day=1 if n <= len(plan.days) else 2,
                    room_kind=kind if kind in kinds else "",
                )
            )
        Course.objects.bulk_create(created)
        rooms = set(plan.rooms.values_list("name", flat=True))
        new_rooms = [
            Room(school_id=plan.school_id, plan=plan, name=c["room"][:50], kind=RoomKind.CLASSROOM, capacity=60)
            for c in classes.values()
            if c["room"] and c["room"] not in rooms and any(x.admin_class_id == c["id"] for x in created)
        ]
        Room.objects.bulk_create(new_rooms)
        audit.record(
            actor=actor,
            action="timetable.courses_generate",
            target=plan,
            note=f"{len(created)} 门课程，{len(new_rooms)} 间教室",
        )
    return len(created)


# --- rules ---------------------------------------------------------------------------------------------


def _slots_in(plan: TimetablePlan, slots: Iterable[Any]) -> list[list[int]]:
    cells: set[tuple[int, int]] = set()
    for s in slots:
        try:
            d, p = int(s[0]), int(s[1])
        except (TypeError, ValueError, IndexError):
            raise DomainError(_("时间格式不对")) from None
        if not (0 <= d < len(plan.days) and 0 <= p < len(plan.periods)):
            raise DomainError(_("时间超出方案的上课日或节次"))
        cells.add((d, p))
    return [[d, p] for d, p in sorted(cells)]


def _int_param(params: Mapping[str, Any], key: str, low: int, high: int) -> int:
    try:
        value = int(params.get(key, ""))
    except (TypeError, ValueError):
        raise DomainError(_("请填写数字")) from None
    if not low <= value <= high:
        raise DomainError(_("数值应在 {low} 到 {high} 之间").format(low=low, high=high))
    return value


def _clean_params(plan: TimetablePlan, kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The rule's parameters checked and in their stored form."""
    out: dict[str, Any] = {}
    if kind in (RuleKind.TEACHER_UNAVAILABLE, RuleKind.TEACHER_BALANCED) and (
        params.get("teacher_id") or params.get("teacher")
    ):
        if params.get("teacher_id"):
            out["teacher_id"] = int(params["teacher_id"])
        else:
            out["teacher"] = str(params["teacher"])[:60]
    elif kind == RuleKind.TEACHER_UNAVAILABLE:
        raise DomainError(_("请选择教师"))
    if kind == RuleKind.CLASS_UNAVAILABLE:
        if not params.get("students"):
            raise DomainError(_("请选择班级"))
        out["students"] = str(params["students"])[:60]
    if kind in (RuleKind.TEACHER_UNAVAILABLE, RuleKind.CLASS_UNAVAILABLE, RuleKind.BREAK):
        out["slots"] = _slots_in(plan, params.get("slots") or [])
        if not out["slots"]:
            raise DomainError(_("请至少选择一个时间"))
    if kind == RuleKind.MORNING_SUBJECTS:
        subjects = [str(s).strip() for s in params.get("subjects") or [] if str(s).strip()]
        out["subjects"] = subjects or list(CORE_SUBJECTS)
    if kind in (RuleKind.TEACHER_MAX_GAPS, RuleKind.TEACHER_MAX_CONSECUTIVE, RuleKind.TEACHER_MAX_DAILY):
        out["max"] = _int_param(params, "max", 0 if kind == RuleKind.TEACHER_MAX_GAPS else 1, len(plan.periods))
    if kind == RuleKind.SUBJECT_MAX_PER_DAY:
        if not str(params.get("subject") or "").strip():
            raise DomainError(_("请填写科目"))
        out["subject"] = str(params["subject"]).strip()[:30]
        out["max"] = _int_param(params, "max", 1, len(plan.periods))
    if kind == RuleKind.FIXED_LESSON:
        out["activity"] = int(params["activity"])
        out["day"] = _int_param(params, "day", 0, len(plan.days) - 1)
        out["period"] = _int_param(params, "period", 0, len(plan.periods) - 1)
    return out


def save_rule(
    *,
    actor: Any,
    plan_id: int,
    kind: str,
    weight: float = 100.0,
    params: Mapping[str, Any] | None = None,
    label: str = "",
) -> PlanRule:
    """A rule of the school's for this plan; weight 100 must hold, below it the solver may trade it off."""
    if kind not in RuleKind.values:
        raise DomainError(_("未知的排课规则"))
    try:
        weight = float(weight)
    except (TypeError, ValueError):
        raise DomainError(_("权重应为 1 到 100 的数")) from None
    if not 0 < weight <= 100:
        raise DomainError(_("权重应为 1 到 100 的数"))
    with transaction.atomic():
        plan = _plan(actor, plan_id, lock=True)
        _editable(plan)
        clean = _clean_params(plan, kind, params or {})
        rule = PlanRule.objects.create(
            school_id=plan.school_id, plan=plan, kind=kind, weight=weight, params=clean, label=label.strip()[:200]
        )
        audit.record(actor=actor, action="timetable.rule_add", target=rule, changes={"params": clean, "weight": weight})
    return rule


def delete_rule(*, actor: Any, plan_id: int, rule_id: int) -> None:
    with transaction.atomic():
        plan = _plan(actor, plan_id, lock=True)
        _editable(plan)
        rule = plan.rules.filter(pk=rule_id).first()
        if rule is None:
            raise DomainError(_("规则不存在"))
        audit.record(actor=actor, action="timetable.rule_delete", target=rule, changes={"params": rule.params})
        rule.delete()


def set_teacher_unavailable(
    *, actor: Any, plan_id: int, slots: Iterable[Any], teacher_id: int | None = None, teacher: str = ""
) -> PlanRule | None:
    """A teacher's times without lessons, from the week grid: replaces what was set before (none: cleared)."""
    if not teacher_id and not teacher:
        raise DomainError(_("请选择教师"))
    key: dict[str, Any] = {"teacher_id": teacher_id} if teacher_id else {"teacher": teacher}
    with transaction.atomic():
        plan = _plan(actor, plan_id, lock=True)
        _editable(plan)
        clean = _slots_in(plan, slots)
        old = [
            r
            for r in plan.rules.filter(kind=RuleKind.TEACHER_UNAVAILABLE)
            if all(r.params.get(k) == v for k, v in key.items())
        ]
        before = sorted(tuple(s) for r in old for s in r.params.get("slots", []))
        for r in old:
            r.delete()
        rule = None
        if clean:
            rule = PlanRule.objects.create(
                school_id=plan.school_id, plan=plan, kind=RuleKind.TEACHER_UNAVAILABLE, params={**key, "slots": clean}
            )
        audit.record(
            actor=actor,
            action="timetable.teacher_unavailable",
            target=plan,
            changes={"teacher": key, "slots": [before, [tuple(s) for s in clean]]},
        )
    return rule


def lock_lesson(*, actor: Any, plan_id: int, activity_id: int, locked: bool = True) -> None:
    """Fix a lesson where it is now (固定课): later solves and repairs keep it there."""
    with transaction.atomic():
        plan = _plan(actor, plan_id, lock=True)
        _editable(plan)
        existing = [r for r in plan.rules.filter(kind=RuleKind.FIXED_LESSON) if r.params.get("activity") == activity_id]
        for r in existing:
            r.delete()
        if locked:
            problem, solution = _working(plan)
            p = solution.placements.get(activity_id)
            if p is None:
                raise DomainError(_("该课不在课表中"))
            PlanRule.objects.create(
                school_id=plan.school_id,
                plan=plan,
                kind=RuleKind.FIXED_LESSON,
                params={"activity": activity_id, "day": p.day, "period": p.period},
                label=activity_label(problem.activity(activity_id)),
            )
        audit.record(
            actor=actor, action="timetable.lock" if locked else "timetable.unlock", target=plan, note=str(activity_id)
        )


# --- FET import ----------------------------------------------------------------------------------------


def import_fet(*, actor: Any, school_id: int, name: str, filename: str, data: bytes) -> TimetablePlan:
    """A plan from a FET file: its problem is kept as it was read, with a report (counts, constraints we do not
    support, warnings). An unreadable file is refused with every problem found, in Chinese."""
    from .engine import fet

    if not may_manage_school(actor, school_id):
        raise NotPermitted(_("没有权限为该校排课"))
    if len(data) > 20 * 1024 * 1024:
        raise DomainError(_("文件过大，上限为 20 MB"))
    try:
        imported = fet.read_fet(data)
    except fet.FetError as exc:
        raise ProblemErrors(exc.errors or [str(exc)]) from None
    problem = imported.problem
    short = filename.rsplit("/", 1)[-1][:200]
    report = {
        "filename": short,
        "version": imported.version,
        "counts": {
            "days": problem.n_days,
            "periods": problem.n_periods,
            "activities": len(problem.activities),
            "teachers": len(problem.teachers),
            "subjects": len(problem.subjects),
            "student_sets": len(problem.student_sets),
            "rooms": len(problem.rooms),
            "constraints": len(problem.constraints),
        },
        "unsupported": list(imported.unsupported),
        "warnings": list(imported.warnings),
        "ignored_inactive": imported.ignored_inactive,
    }
    with transaction.atomic():
        plan = _new_plan(
            actor,
            school_id,
            name.strip() or short or "FET",
            None,
            list(problem.days),
            [{"name": p, "start": "", "end": "", "session": ""} for p in problem.periods],
            [],
            source=PlanSource.FET,
            fet_problem=snapshots.problem_to_json(problem),
            import_report=report,
        )
        audit.record(
            actor=actor,
            action="timetable.fet_import",
            target=plan,
            note=f"{short}：{len(problem.activities)} 项活动，{len(imported.unsupported)} 条不支持的约束",
        )
    return plan


# --- the problem -----------------------------------------------------------------------------------------


@dataclass
class Built:
    problem: Problem
    links: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def build_problem(plan: TimetablePlan) -> Problem:
    """The engine's problem for the plan as its data stands (ProblemErrors when the data cannot make one)."""
    built = build(plan)
    if built.errors:
        raise ProblemErrors(built.errors)
    return built.problem


def build(plan: TimetablePlan) -> Built:
    """The problem and how its names link back to the school (teachers' accounts, classes, teaching classes),
    with every error and warning found on the way."""
    built = _from_fet(plan) if plan.is_fet and plan.fet_problem else _from_rows(plan)
    _add_rules(plan, built)
    return built


def _teacher_names(school_id: int, account_ids: Iterable[int]) -> dict[int, str]:
    """A name per teacher account, unique within the plan: the name, or "name（工号）" when two share it."""
    ids = sorted(set(account_ids))
    names = people_selectors.staff_choices_for(account_ids=ids)
    labels = dict(people_selectors.staff_choices(school_id=school_id))
    count: dict[str, int] = defaultdict(int)
    for i in ids:
        count[names.get(i, "")] += 1
    out = {}
    for i in ids:
        name = names.get(i, "")
        out[i] = labels.get(i, f"{name}（{i}）") if not name or count[name] > 1 else name
    return out


def block_label(block: int) -> str:
    """What the timetable calls a 走班 block: 选考A, 选考B … (data, like subject names: not translated)."""
    letters = "ABCDEFGH"
    return f"选考{letters[block] if block < len(letters) else block + 1}"


def activity_label(a: Activity) -> str:
    return a.label or f"{'、'.join(a.students)} {a.subject}"


def _from_rows(plan: TimetablePlan) -> Built:
    errors: list[str] = []
    courses = list(plan.courses.select_related("teaching_class").order_by("pk"))
    teaching = list(plan.teaching_classes.all())
    classes = {c["id"]: c for c in org_selectors.class_rows(school_id=plan.school_id)}
    teacher_ids = {t for c in courses for t in c.teacher_ids}
    serving = {a for a, _label in people_selectors.staff_choices(school_id=plan.school_id)}
    for c in courses:
        gone = [t for t in c.teacher_ids if t not in serving]
        if gone:
            errors.append(_("{course}：任课教师已不在本校在职名单中").format(course=c))
    teacher_names = _teacher_names(plan.school_id, teacher_ids)
    # who sits in which class, and in which teaching classes (走班): atomic sets from their combinations
    roster = [s for s in people_selectors.gate_students(school_id=plan.school_id) if s["status"] in ("01", "02")]
    class_of = {s["id"]: s["admin_class_id"] for s in roster}
    size_of_class: dict[int, int] = defaultdict(int)
    for s in roster:
        if s["admin_class_id"]:
            size_of_class[s["admin_class_id"]] += 1
    joined: dict[int, set[str]] = defaultdict(set)
    for tc in teaching:
        for sid in tc.student_ids:
            joined[sid].add(tc.name)
    sets: dict[str, StudentSet] = {}
    class_ids = {c.admin_class_id for c in courses if c.admin_class_id} | {
        class_of[sid] for sid in joined if class_of.get(sid)
    }
    links: dict[str, Any] = {"teachers": {}, "classes": {}, "teaching_classes": {}, "courses": {}}
    members_of_tc: dict[str, list[str]] = defaultdict(list)
    for class_id in sorted(class_ids):
        cls = classes.get(class_id)
        if cls is None:
            errors.append(_("班级（编号 {id}）已不存在").format(id=class_id))
            continue
        links["classes"][cls["name"]] = class_id
        if not teaching:
            sets[cls["name"]] = StudentSet(cls["name"], size_of_class.get(class_id, 0), (), "行政班")
            continue
        combos: dict[frozenset[str], int] = defaultdict(int)
        for s in roster:
            if s["admin_class_id"] == class_id:
                combos[frozenset(joined.get(s["id"], set()))] += 1
        if not combos:
            combos[frozenset()] = 0
        atoms = []
        for combo, n in sorted(combos.items(), key=lambda kv: sorted(kv[0])):
            atom = f"{cls['name']}·{'/'.join(sorted(combo)) or _('不走班')}"
            sets[atom] = StudentSet(atom, n, (), "走班组")
            atoms.append(atom)
            for tc_name in combo:
                members_of_tc[tc_name].append(atom)
        sets[cls["name"]] = StudentSet(cls["name"], size_of_class.get(class_id, 0), tuple(atoms), "行政班")
    for tc in teaching:
        if not tc.student_ids:
            errors.append(_("教学班 {name} 没有学生").format(name=tc.name))
        sets[tc.name] = StudentSet(tc.name, len(tc.student_ids), tuple(members_of_tc.get(tc.name, [])), "教学班")
        links["teaching_classes"][tc.name] = list(tc.student_ids)
    rooms = {r.name: EngineRoom(r.name, r.capacity, r.building, r.kind) for r in plan.rooms.all()}
    by_kind: dict[str, list[str]] = defaultdict(list)
    for r in rooms.values():
        by_kind[r.kind].append(r.name)
    days = len(plan.days)
    activities: list[Activity] = []
    constraints: list[Constraint] = [Constraint("BasicCompulsoryTime"), Constraint("BasicCompulsorySpace")]
    # 走班 blocks: the parts of the courses of one block's teaching classes, to be tied to the same times
    block_parts: dict[int, list[list[tuple[int, int]]]] = defaultdict(list)
    for c in courses:
        set_name = c.teaching_class.name if c.teaching_class else c.class_name
        if set_name not in sets:
            continue
        walk = c.teaching_class
        block = walk.block if walk is not None else None
        tags = ("走班", block_label(block)) if block is not None else ()
        parts = [2] * c.double_lessons + [1] * (c.lessons_per_week - 2 * c.double_lessons)
        if len(parts) > days * c.max_per_day:
            errors.append(
                _("{course}：每周 {n} 次课，但每天最多 {k} 次、每周只有 {days} 天").format(
                    course=c, n=len(parts), k=c.max_per_day, days=days
                )
            )
        teachers = tuple(teacher_names[t] for t in c.teacher_ids if t in teacher_names)
        label = f"{set_name} {c.subject}" + (f"（{block_label(block)}）" if block is not None else "")
        ids = []
        for i, duration in enumerate(parts):
            aid = c.pk * (MAX_PARTS + 1) + i
            ids.append(aid)
            activities.append(
                Activity(
                    id=aid,
                    subject=c.subject,
                    teachers=teachers,
                    students=(set_name,),
                    duration=duration,
                    tags=tags,
                    group_id=c.pk if len(parts) > 1 else 0,
                    label=label,
                )
            )
            links["courses"][str(aid)] = c.pk
        if block is not None and walk is not None and not walk.fixed:
            block_parts[block].append(list(zip(ids, parts, strict=True)))
        if len(parts) > 1:
            constraints.append(
                Constraint(
                    "ActivitiesMaxPerDay",
                    100.0,
                    {"activities": ids, "max": c.max_per_day},
                    _("{label} 每天最多 {k} 次").format(label=label, k=c.max_per_day),
                )
            )
            if len(parts) <= days:
                constraints.append(
                    Constraint(
                        "MinDaysBetweenActivities",
                        95.0,
                        {"activities": ids, "min_days": 1, "consecutive_if_same_day": True},
                        _("{label} 分散到不同的日子").format(label=label),
                    )
                )
        room_names: list[str] = []
        if c.room_kind:
            room_names = sorted(by_kind.get(c.room_kind, []))
            if not room_names:
                errors.append(_("{course} 需要{kind}，但方案里没有这类教室").format(course=c, kind=c.room_kind))
        elif c.admin_class_id and classes.get(c.admin_class_id, {}).get("room") in rooms:
            room_names = [classes[c.admin_class_id]["room"]]
        for aid in ids if room_names else []:
            if len(room_names) == 1:
                constraints.append(Constraint("ActivityPreferredRoom", 100.0, {"activity": aid, "room": room_names[0]}))
            else:
                constraints.append(Constraint("ActivityPreferredRooms", 100.0, {"activity": aid, "rooms": room_names}))
    for block, courses_parts in sorted(block_parts.items()):
        # lesson by lesson: the i-th lessons of the block's classes start together (a 4-lesson subject in a
        # 5-lesson block follows the first four); a double period ties only to double periods
        for i in range(max(len(p) for p in courses_parts)):
            for duration in (2, 1):
                same = [p[i][0] for p in courses_parts if i < len(p) and p[i][1] == duration]
                if len(same) > 1:
                    constraints.append(
                        Constraint(
                            "ActivitiesSameStartingTime",
                            100.0,
                            {"activities": same},
                            _("{block} 第{n}次课各教学班同时上").format(block=block_label(block), n=i + 1),
                        )
                    )
    links["teachers"] = {name: account for account, name in teacher_names.items()}
    problem = Problem(
        name=plan.name,
        days=list(plan.days),
        periods=[p["name"] for p in plan.periods],
        activities=activities,
        teachers=sorted(teacher_names.values()),
        subjects=sorted({a.subject for a in activities}),
        student_sets=sets,
        rooms=rooms,
        constraints=constraints,
        tags=["走班", *sorted({block_label(b) for b in block_parts})] if block_parts else [],
    )
    return Built(problem, links, errors)


def _from_fet(plan: TimetablePlan) -> Built:
    """A FET plan's problem, with its teachers and sets linked to the school's staff and classes by name."""
    problem = snapshots.problem_from_json(plan.fet_problem or {})
    staff = people_selectors.staff_choices(school_id=plan.school_id)
    names = people_selectors.staff_choices_for(account_ids=[a for a, _label in staff])
    by_name: dict[str, list[int]] = defaultdict(list)
    for account, name in names.items():
        by_name[name].append(account)
    for account, label in staff:
        by_name[label].append(account)
    teachers = {t: by_name[t][0] for t in problem.teachers if len(by_name.get(t, [])) == 1}
    classes = {c["name"]: c["id"] for c in org_selectors.class_rows(school_id=plan.school_id)}
    links = {
        "teachers": teachers,
        "classes": {s: classes[s] for s in problem.student_sets if s in classes},
        "teaching_classes": {},
        "courses": {},
    }
    return Built(problem, links)


def morning_slots(plan: TimetablePlan) -> list[tuple[int, int]]:
    """The slots of the morning sessions (a plan without sessions: the first half of the day)."""
    periods = [i for i, p in enumerate(plan.periods) if p.get("session") == "上午"]
    if not periods:
        periods = list(range(math.ceil(len(plan.periods) / 2)))
    return [(d, p) for d in range(len(plan.days)) for p in periods]


def _add_rules(plan: TimetablePlan, built: Built) -> None:
    """The school's rules as engine constraints, labelled in its words."""
    problem = built.problem
    teachers_by_id = {v: k for k, v in built.links.get("teachers", {}).items()}
    known_teachers = set(problem.teachers)
    ids = {a.id for a in problem.activities}
    for rule in plan.rules.all():
        p = rule.params
        w = float(rule.weight)
        title = rule.label or str(RuleKind(rule.kind).label)
        kind = rule.kind
        if kind in (RuleKind.TEACHER_UNAVAILABLE, RuleKind.TEACHER_BALANCED):
            teacher = teachers_by_id.get(p.get("teacher_id")) if p.get("teacher_id") else p.get("teacher")
            if (p.get("teacher_id") or p.get("teacher")) and teacher not in known_teachers:
                continue  # a teacher without lessons in this plan
            if kind == RuleKind.TEACHER_UNAVAILABLE:
                slots = [tuple(s) for s in p["slots"]]
                when = _("、").join(f"{plan.days[d]}{plan.periods[h]['name']}" for d, h in slots[:6])
                problem.constraints.append(
                    Constraint(
                        "TeacherNotAvailableTimes",
                        w,
                        {"teacher": teacher, "slots": slots},
                        f"{title}：{teacher} {when}",
                    )
                )
            else:
                problem.constraints.append(
                    Constraint("TeacherBalancedDays", w, {"teacher": teacher}, f"{title}：{teacher or _('全体教师')}")
                )
        elif kind == RuleKind.CLASS_UNAVAILABLE:
            if p["students"] not in problem.student_sets:
                continue
            problem.constraints.append(
                Constraint(
                    "StudentsSetNotAvailableTimes",
                    w,
                    {"students": p["students"], "slots": [tuple(s) for s in p["slots"]]},
                    f"{title}：{p['students']}",
                )
            )
        elif kind == RuleKind.BREAK:
            problem.constraints.append(
                Constraint("BreakTimes", 100.0, {"slots": [tuple(s) for s in p["slots"]]}, title)
            )
        elif kind == RuleKind.MORNING_SUBJECTS:
            slots = morning_slots(plan)
            for subject in p.get("subjects", []):
                if subject in problem.subjects:
                    problem.constraints.append(
                        Constraint(
                            "ActivitiesPreferredTimeSlots",
                            w,
                            {"filter": {"subject": subject}, "slots": slots},
                            f"{title}：{subject}",
                        )
                    )
        elif kind == RuleKind.CLASS_NO_GAPS:
            problem.constraints.append(Constraint("StudentsSetMaxGapsPerWeek", w, {"students": None, "max": 0}, title))
        elif kind == RuleKind.TEACHER_MAX_GAPS:
            problem.constraints.append(
                Constraint("TeacherMaxGapsPerDay", w, {"teacher": None, "max": p["max"]}, f"{title} {p['max']}")
            )
        elif kind == RuleKind.TEACHER_MAX_CONSECUTIVE:
            problem.constraints.append(
                Constraint("TeacherMaxHoursContinuously", w, {"teacher": None, "max": p["max"]}, f"{title} {p['max']}")
            )
        elif kind == RuleKind.TEACHER_MAX_DAILY:
            problem.constraints.append(
                Constraint("TeacherMaxHoursDaily", w, {"teacher": None, "max": p["max"]}, f"{title} {p['max']}")
            )
        elif kind == RuleKind.SUBJECT_MAX_PER_DAY:
            groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
            for a in problem.activities:
                if a.subject == p["subject"]:
                    groups[(a.group_id or a.id, a.students)].append(a.id)
            for (_g, students), group in sorted(groups.items()):
                if len(group) > p["max"]:
                    problem.constraints.append(
                        Constraint(
                            "ActivitiesMaxPerDay",
                            w,
                            {"activities": group, "max": p["max"]},
                            f"{title}：{'、'.join(students)} {p['subject']} ≤ {p['max']}",
                        )
                    )
        elif kind == RuleKind.FIXED_LESSON and p["activity"] in ids:
            problem.constraints.append(
                Constraint(
                    "ActivityPreferredStartingTime",
                    100.0,
                    {"activity": p["activity"], "day": p["day"], "period": p["period"], "locked": True},
                    f"{title}：{rule.label}",
                )
            )


# --- solving in the background --------------------------------------------------------------------------


def _expire_stale_runs(plan: TimetablePlan) -> int:
    """Runs still "running" long past their time limit lost their worker (killed, restarted): failed."""
    now = timezone.now()
    expired = 0
    for run in plan.runs.filter(status=RunStatus.RUNNING):
        if run.started_at and run.started_at + dt.timedelta(seconds=run.time_limit) + STALE_GRACE < now:
            run.status, run.finished_at = RunStatus.FAILED, now
            run.error = _("任务中断：工作进程在求解时停止了")
            run.save(update_fields=["status", "finished_at", "error"])
            expired += 1
    return expired


def latest_version(plan: TimetablePlan) -> TimetableVersion | None:
    return plan.versions.order_by("-number").first()


def start_solve(*, actor: Any, plan_id: int, time_limit: int = 60, mode: str = RunMode.FULL, seed: int = 0) -> SolveRun:
    """Queue a solve of the plan as its data stands now; repair mode keeps as much of the published timetable
    as it can and reports what moved. One solve at a time per plan."""
    if mode not in RunMode.values:
        raise DomainError(_("未知的排课方式"))
    if not 1 <= int(time_limit) <= MAX_TIME_LIMIT:
        raise DomainError(_("时间上限应在 1 到 {max} 秒之间").format(max=MAX_TIME_LIMIT))
    with transaction.atomic():
        plan = _plan(actor, plan_id, lock=True)
        _editable(plan)
        built = build(plan)
        if built.errors:
            raise ProblemErrors(built.errors)
        if not built.problem.activities:
            raise DomainError(_("还没有任何课程，请先录入各班的课程"))
        previous = None
        if mode == RunMode.REPAIR:
            version = latest_version(plan)
            if version is None:
                raise DomainError(_("还没有已发布的课表，请先完整排课并发布"))
            previous = version.placements
        run = SolveRun.objects.create(
            school_id=plan.school_id,
            plan=plan,
            mode=mode,
            time_limit=int(time_limit),
            seed=seed,
            problem=snapshots.problem_to_json(built.problem),
            links=built.links,
            previous=previous,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        plan.status = PlanStatus.SOLVING
        plan.save(update_fields=["status", "updated_at"])
        audit.record(
            actor=actor,
            action="timetable.solve_start",
            target=run,
            note=f"{run.get_mode_display()}，{len(built.problem.activities)} 项，{time_limit} 秒",
        )
        transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(run_id: int) -> None:
    from .tasks import run_solve_task  # the task module imports this one

    run_solve_task.enqueue(run_id)


def cancel_solve(*, actor: Any, run_id: int) -> SolveRun:
    """Stop a solve: a queued one at once, a running one at its next progress report (a timetable found by
    then is kept)."""
    with transaction.atomic():
        run = SolveRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            raise DomainError(_("排课任务不存在"))
        plan = _plan(actor, run.plan_id, lock=True)
        if run.finished:
            raise DomainError(_("该任务已经结束"))
        run.cancel_requested = True
        fields = ["cancel_requested"]
        if run.status == RunStatus.QUEUED:
            run.status, run.finished_at = RunStatus.CANCELLED, timezone.now()
            fields += ["status", "finished_at"]
        run.save(update_fields=fields)
        if run.status == RunStatus.CANCELLED:
            _settle(plan)
        audit.record(actor=actor, action="timetable.solve_cancel", target=run)
    return run


def run_solve(*, run_id: int, observe: Callable[[SolveRun], None] | None = None) -> SolveRun | None:
    """The worker's part: solve in a thread of its own while this one keeps the progress row current and
    watches for a cancel; then store the report and, when a timetable was found, make it the plan's.
    `observe` sees the run row after each progress report (the command line prints it)."""
    from .engine import solver

    tenancy.deactivate()  # the worker serves every school; the permission was checked when the run started
    with transaction.atomic():
        run = SolveRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != RunStatus.QUEUED:
            return run
        run.status, run.started_at = RunStatus.RUNNING, timezone.now()
        run.save(update_fields=["status", "started_at"])
    if run.mode == RunMode.ELECTIVES:  # forming 走班 teaching classes: the same row, progress and cancel
        from . import electives

        return electives.run_formation(run)
    problem = snapshots.problem_from_json(run.problem)
    previous = placements_from_json(run.previous) if run.previous else None
    latest: list[Progress] = []
    stop = threading.Event()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = solver.solve(
                problem,
                time_limit=float(run.time_limit),
                workers=WORKERS,
                seed=run.seed,
                progress=latest.append,
                previous=previous,
                stop=stop.is_set,
            )
        except Exception as exc:  # the engine's bug must not leave the run "running" for ever
            logger.exception("timetable solve %s failed", run.pk)
            outcome["error"] = exc

    thread = threading.Thread(target=work, name=f"timetable-solve-{run.pk}", daemon=True)
    thread.start()
    shown: Progress | None = None
    while thread.is_alive():
        thread.join(POLL_SECONDS)
        if latest and latest[-1] is not shown:
            shown = latest[-1]
            del latest[:-1]
            SolveRun.objects.filter(pk=run.pk).update(
                fraction=round(shown.fraction, 4), solutions=shown.solutions, best_cost=shown.soft_cost
            )
            if observe is not None:
                observe(SolveRun.objects.get(pk=run.pk))
        if not stop.is_set() and SolveRun.objects.filter(pk=run.pk, cancel_requested=True).exists():
            stop.set()
    return _finish(run.pk, outcome, cancelled=stop.is_set())


def _finish(run_id: int, outcome: dict[str, Any], *, cancelled: bool) -> SolveRun:
    now = timezone.now()
    with transaction.atomic():
        run = SolveRun.objects.select_for_update().get(pk=run_id)
        plan = TimetablePlan.objects.select_for_update().get(pk=run.plan_id)
        result = outcome.get("result")
        run.finished_at, run.fraction = now, 1.0
        if result is None:
            run.status = RunStatus.FAILED
            run.error = (_("排课引擎出错：{error}").format(error=outcome.get("error")))[:500]
        else:
            run.report = result.report()
            run.solutions = max(run.solutions, 1 if result.solution else 0)
            if result.solution is not None:
                run.best_cost = result.soft_cost
            if result.solved and result.solution is not None:
                run.status = RunStatus.DONE
                run.placements = placements_to_json(result.solution)
                plan.problem, plan.placements, plan.links = run.problem, run.placements, run.links
                plan.report = run.report
                plan.save(update_fields=["problem", "placements", "links", "report", "updated_at"])
            else:
                run.status = RunStatus.CANCELLED if cancelled else RunStatus.FAILED
        run.save()
        _settle(plan)
        audit.record(
            actor=None,
            action="timetable.solve_end",
            target=run,
            note=f"{run.status} {run.report.get('status', '')} {run.report.get('seconds', '')}s",
        )
    return run


def _settle(plan: TimetablePlan) -> None:
    """The plan's status from what it holds: solving, no timetable yet, one not yet published, or published."""
    if plan.runs.filter(status__in=ACTIVE_RUN).exists():
        status = PlanStatus.SOLVING
    elif plan.placements is None:
        status = PlanStatus.DRAFT
    else:
        version = latest_version(plan)
        same = version is not None and version.placements == plan.placements and version.problem == plan.problem
        status = PlanStatus.PUBLISHED if same else PlanStatus.SOLVED
    if plan.status != status:
        plan.status = status
        plan.save(update_fields=["status", "updated_at"])


def solve_now(*, actor: Any, plan_id: int, time_limit: float = 20.0, workers: int = WORKERS) -> SolveRun:
    """Solve in this process and wait (the demo, the command line); the same run row and report as the worker."""
    run = start_solve(actor=actor, plan_id=plan_id, time_limit=max(1, int(time_limit)))
    run.refresh_from_db()
    if run.status == RunStatus.QUEUED:  # no worker ran it on commit (a deferring backend, or a test transaction)
        run = run_solve(run_id=run.pk) or run
    return run


# --- the working timetable: moves, locks, publishing ----------------------------------------------------


def _working(plan: TimetablePlan) -> tuple[Problem, Solution]:
    if plan.problem is None or plan.placements is None:
        raise DomainError(_("还没有排出课表"))
    return snapshots.problem_from_json(plan.problem), placements_from_json(plan.placements)


@dataclass
class MoveCheck:
    """What a move (or a swap) would do: the clashes it adds, in words. Saving is refused while there are any."""

    activity: Activity
    to: Placement
    other: Activity | None = None
    other_to: Placement | None = None
    conflicts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.conflicts


def when(problem: Problem, day: int, period: int) -> str:
    day_name = problem.days[day] if 0 <= day < len(problem.days) else str(day)
    period_name = problem.periods[period] if 0 <= period < len(problem.periods) else str(period)
    return f"{day_name} {period_name}"


def _judge(
    problem: Problem, solution: Solution, activity_id: int, day: int, period: int, swap_with: int | None
) -> MoveCheck:
    if activity_id not in solution.placements or activity_id not in problem._by_id():
        raise DomainError(_("该课不在课表中"))
    a = problem.activity(activity_id)
    here = solution.placements[activity_id]
    if swap_with is not None:
        if swap_with == activity_id or swap_with not in solution.placements or swap_with not in problem._by_id():
            raise DomainError(_("要交换的课不在课表中"))
        b = problem.activity(swap_with)
        there = solution.placements[swap_with]
        a_to, b_to = Placement(there.day, there.period, here.rooms), Placement(here.day, here.period, there.rooms)
        for act, to in ((a, a_to), (b, b_to)):
            if to.period + act.duration > problem.n_periods:
                raise DomainError(_("{name} 是连堂课，放不进该时间").format(name=activity_label(act)))
        before = {(v.constraint, v.message) for v in checker.check(problem, solution)[0]}
        moved = Solution({**solution.placements, a.id: a_to, b.id: b_to})
        after = checker.check(problem, moved)[0]
        conflicts = [v.message for v in after if (v.constraint, v.message) not in before]
        return MoveCheck(a, a_to, b, b_to, conflicts)
    if not (0 <= day < problem.n_days and period >= 0 and period + a.duration <= problem.n_periods):
        raise DomainError(_("目标时间超出课表范围"))
    to = Placement(day, period, here.rooms)
    conflicts = [v.message for v in checker.conflicts_of_move(problem, solution, activity_id, to)]
    return MoveCheck(a, to, conflicts=conflicts)


def check_move(
    *, actor: Any, plan_id: int, activity_id: int, day: int = 0, period: int = 0, swap_with: int | None = None
) -> MoveCheck:
    """The live conflict check before a move or swap is saved."""
    plan = _plan(actor, plan_id)
    problem, solution = _working(plan)
    return _judge(problem, solution, activity_id, day, period, swap_with)


def move_lesson(
    *, actor: Any, plan_id: int, activity_id: int, day: int = 0, period: int = 0, swap_with: int | None = None
) -> MoveCheck:
    """Move a lesson to another time, or swap two; refused with the clashes in words if it adds any."""
    with transaction.atomic():
        plan = _plan(actor, plan_id, lock=True)
        _editable(plan)
        problem, solution = _working(plan)
        result = _judge(problem, solution, activity_id, day, period, swap_with)
        if not result.ok:
            raise DomainError(_("不能调课：") + "；".join(result.conflicts[:5]))
        placements = dict(solution.placements)
        placements[activity_id] = result.to
        changes = {
            activity_label(result.activity): [
                when(problem, solution.placements[activity_id].day, solution.placements[activity_id].period),
                when(problem, result.to.day, result.to.period),
            ]
        }
        if result.other is not None and result.other_to is not None:
            placements[result.other.id] = result.other_to
            changes[activity_label(result.other)] = [
                when(problem, solution.placements[result.other.id].day, solution.placements[result.other.id].period),
                when(problem, result.other_to.day, result.other_to.period),
            ]
        plan.placements = placements_to_json(Solution(placements))
        plan.save(update_fields=["placements", "updated_at"])
        _settle(plan)
        audit.record(
            actor=actor,
            action="timetable.swap" if result.other is not None else "timetable.move",
            target=plan,
            changes=changes,
        )
    return result


def publish(*, actor: Any, plan_id: int, note: str = "") -> TimetableVersion:
    """Publish the working timetable as a new version (earlier versions are kept); its teachers are told, and
    teachers, students and guardians see it on their 我的课表."""
    with transaction.atomic():
        plan = _plan(actor, plan_id, lock=True)
        _editable(plan)
        problem, solution = _working(plan)
        hard = checker.check(problem, solution)[0]
        if hard:
            raise DomainError(_("课表还有 {n} 处冲突，不能发布：{first}").format(n=len(hard), first=hard[0].message))
        last = latest_version(plan)
        version = TimetableVersion.objects.create(
            school_id=plan.school_id,
            plan=plan,
            number=(last.number + 1) if last else 1,
            problem=plan.problem,
            placements=plan.placements,
            links=plan.links,
            report=plan.report,
            note=note.strip()[:200],
            published_by=actor if getattr(actor, "pk", None) else None,
            published_at=timezone.now(),
        )
        _settle(plan)
        audit.record(actor=actor, action="timetable.publish", target=version, note=version.note)
        teachers = sorted(set(plan.links.get("teachers", {}).values()))
        if teachers:
            notifications.notify(
                recipients=teachers,
                template="timetable.published",
                context={"plan": plan.name, "version": version.number},
                dedup_key=f"timetable:version:{version.pk}",
                school_id=plan.school_id,
                url="/timetable/my/",
            )
    return version


# --- substitutions (代课) for a teacher on approved leave ---------------------------------------------------


def current_versions(school_id: int) -> list[TimetableVersion]:
    """The newest version of every plan of the school that is for the current term (or for no term)."""
    term = org_selectors.current_term(school_id=school_id)
    plans = TimetablePlan.objects.filter(school_id=school_id, versions__isnull=False).distinct()
    out = []
    for plan in plans:
        if plan.term_id is not None and term is not None and plan.term_id != term.pk:
            continue
        version = latest_version(plan)
        if version is not None:
            out.append(version)
    return out


def day_index(problem_days: list[str], date: dt.date) -> int | None:
    """Which of the plan's days a date is: by the weekday's name (周一…), else by position from Monday."""
    return weekday_index(problem_days, date.weekday())


def weekday_index(problem_days: list[str], weekday: int | None) -> int | None:
    """The plan's day for a weekday (0 = Monday), None if the plan has no such day."""
    if weekday is None:
        return None
    names = {name: i for i, name in enumerate(problem_days)}
    if WEEKDAYS[weekday] in names:
        return names[WEEKDAYS[weekday]]
    if any(d in WEEKDAYS for d in problem_days):
        return None
    return weekday if weekday < len(problem_days) else None


def taught_day(school_id: int, problem_days: list[str], date: dt.date) -> int | None:
    """The plan's day whose lessons are taught on `date` at the school: none on a day off, another weekday's
    on a 调休 or 补课 day (the school calendar says which)."""
    return weekday_index(problem_days, org_selectors.timetable_weekday(school_id=school_id, date=date))


def on_leave_event(event: workflow_events.RequestEvent) -> None:
    """A teacher's leave approved: each lesson of his in the published timetables on the school days of the
    leave becomes a lesson to cover. A cover the teacher named on the form (the office tells that colleague)
    is taken over as assigned; the others wait for 教务处, who are told."""
    if event.event != workflow_events.APPROVED:
        return
    try:
        start = dt.date.fromisoformat(str(event.values.get("start")))
        end = dt.date.fromisoformat(str(event.values.get("end")))
    except ValueError:
        return
    end = min(end, start + dt.timedelta(days=90))
    named: dict[tuple[str, int], int] = {}
    for row in event.values.get("lessons") or []:
        substitute = (row.get("substitute") or {}).get("id")
        if substitute and row.get("date") and row.get("period"):
            named[(str(row["date"]), int(row["period"]))] = int(substitute)
    rows: list[Substitution] = []
    for version in current_versions(event.school_id):
        names = {n for n, account in version.links.get("teachers", {}).items() if account == event.applicant_id}
        if not names:
            continue
        problem = snapshots.problem_from_json(version.problem)
        solution = placements_from_json(version.placements)
        mine = [a for a in problem.activities if names & set(a.teachers) and a.id in solution.placements]
        date = start
        while date <= end:
            d = taught_day(event.school_id, problem.days, date)
            if d is not None:
                for a in mine:
                    p = solution.placements[a.id]
                    if p.day != d:
                        continue
                    for k in range(a.duration):
                        period = p.period + k
                        substitute = named.get((date.isoformat(), period + 1))
                        rows.append(
                            Substitution(
                                school_id=event.school_id,
                                version=version,
                                request_id=event.request_id,
                                request_number=event.number,
                                absent_teacher_id=event.applicant_id,
                                date=date,
                                day=d,
                                period=period,
                                period_name=problem.periods[period][:20],
                                activity_id=a.id,
                                subject=a.subject[:30],
                                class_name="、".join(a.students)[:100],
                                substitute_id=substitute,
                                status=SubstitutionStatus.ASSIGNED if substitute else SubstitutionStatus.OPEN,
                            )
                        )
            date += dt.timedelta(days=1)
    if not rows:
        return
    Substitution.objects.bulk_create(rows, ignore_conflicts=True)
    open_count = sum(1 for r in rows if r.status == SubstitutionStatus.OPEN)
    if open_count:
        academic = org_selectors.department_ids_named(school_id=event.school_id, name=ACADEMIC_DEPARTMENT)
        managers = identity_selectors.holders_of_role(
            school_id=event.school_id, role=Role.DEPARTMENT_HEAD, department_ids=academic
        ) or identity_selectors.holders_of_role(school_id=event.school_id, role=Role.SCHOOL_ADMIN)
        if managers:
            notifications.notify(
                recipients=managers,
                template="timetable.substitutions_needed",
                context={
                    "teacher": people_selectors.staff_choices_for(account_ids=[event.applicant_id]).get(
                        event.applicant_id, ""
                    ),
                    "count": open_count,
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                },
                dedup_key=f"timetable:leave:{event.request_id}",
                school_id=event.school_id,
                url="/timetable/substitutions/",
            )


@dataclass
class Candidate:
    account_id: int
    name: str
    same_subject: bool
    lessons_that_day: int


def busy_teachers(school_id: int, date: dt.date, period: int) -> set[int]:
    """Accounts with a lesson (or a cover, or a leave) at that date and period in the school's timetables."""
    busy: set[int] = set()
    for version in current_versions(school_id):
        problem = snapshots.problem_from_json(version.problem)
        solution = placements_from_json(version.placements)
        d = taught_day(school_id, problem.days, date)
        if d is None:
            continue
        accounts = version.links.get("teachers", {})
        for a in problem.activities:
            p = solution.placements.get(a.id)
            if p is not None and p.day == d and p.period <= period < p.period + a.duration:
                busy.update(accounts[t] for t in a.teachers if t in accounts)
    taken = Substitution.objects.filter(school_id=school_id, date=date, period=period).exclude(
        status=SubstitutionStatus.CANCELLED
    )
    busy.update(x for x in taken.values_list("substitute_id", flat=True) if x)
    busy.update(
        Substitution.objects.filter(school_id=school_id, date=date)
        .exclude(status=SubstitutionStatus.CANCELLED)
        .values_list("absent_teacher_id", flat=True)
    )
    return busy


def substitute_candidates(substitution: Substitution, limit: int | None = 6) -> list[Candidate]:
    """Colleagues free at that time: those who teach the same subject first, then the least loaded that day."""
    version = substitution.version
    problem = snapshots.problem_from_json(version.problem)
    solution = placements_from_json(version.placements)
    accounts: dict[str, int] = version.links.get("teachers", {})
    busy = busy_teachers(substitution.school_id, substitution.date, substitution.period)
    serving = dict(people_selectors.staff_choices(school_id=substitution.school_id))
    names = people_selectors.staff_choices_for(account_ids=list(serving))
    subjects: dict[int, set[str]] = defaultdict(set)
    load: dict[int, int] = defaultdict(int)
    for a in problem.activities:
        p = solution.placements.get(a.id)
        for t in a.teachers:
            if t in accounts:
                subjects[accounts[t]].add(a.subject)
                if p is not None and p.day == substitution.day:
                    load[accounts[t]] += a.duration
    out = [
        Candidate(account, names.get(account, label), substitution.subject in subjects[account], load[account])
        for account, label in serving.items()
        if account not in busy and account in subjects
    ]
    out.sort(key=lambda c: (not c.same_subject, c.lessons_that_day, c.name))
    return out[:limit] if limit else out


def assign_substitute(*, actor: Any, substitution_id: int, substitute_id: int) -> Substitution:
    """教务处 gives a lesson to a free colleague; he is told at once."""
    with transaction.atomic():
        sub = Substitution.objects.select_for_update().select_related("version").filter(pk=substitution_id).first()
        if sub is None:
            raise DomainError(_("代课记录不存在"))
        _plan(actor, sub.version.plan_id)
        if sub.status == SubstitutionStatus.CANCELLED:
            raise DomainError(_("该代课已取消"))
        if substitute_id not in {c.account_id for c in substitute_candidates(sub, limit=None)}:
            raise DomainError(_("该教师此时有课或不在本校，不能代课"))
        before = sub.substitute_id
        sub.substitute_id, sub.status = substitute_id, SubstitutionStatus.ASSIGNED
        sub.assigned_by = actor if getattr(actor, "pk", None) else None
        sub.assigned_at = timezone.now()
        sub.save(update_fields=["substitute", "status", "assigned_by", "assigned_at"])
        audit.record(
            actor=actor,
            action="timetable.substitute_assign",
            target=sub,
            changes={"substitute": [before, substitute_id]},
        )
        absent = people_selectors.staff_choices_for(account_ids=[sub.absent_teacher_id]).get(sub.absent_teacher_id, "")
        notifications.notify(
            recipients=[substitute_id],
            template="timetable.substitute",
            context={
                "date": sub.date.isoformat(),
                "period": sub.period_name,
                "class_name": sub.class_name,
                "subject": sub.subject,
                "teacher": absent,
            },
            dedup_key=f"timetable:substitution:{sub.pk}:{substitute_id}",
            school_id=sub.school_id,
            url="/timetable/my/",
        )
    return sub
