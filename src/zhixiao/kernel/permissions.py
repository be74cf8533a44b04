"""One authorisation service for pages, API, CLI and tasks: roles scoped to the organisation.

A *grant* is a role held over an org unit (a region, a school, a department, a grade, a class, a
student, or the actor's own record). Grants come from providers that the domains register at start-up
(explicit role assignments, homeroom classes, teaching assignments, guardian links, a student's own
account), so the kernel knows no domain. A model says how its rows sit in the organisation with
`scoping = ScopePaths(...)`; `scope_q(actor, action, Model)` turns the actor's grants into one filter and
`can(actor, action, obj)` asks the same question of one row, so a page and the API can never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .errors import NotPermitted


class Role(StrEnum):
    SYSTEM_ADMIN = "system_admin"
    BUREAU_OFFICER = "bureau_officer"
    SCHOOL_ADMIN = "school_admin"
    PRINCIPAL = "principal"
    DEPARTMENT_HEAD = "department_head"
    GRADE_HEAD = "grade_head"
    HOMEROOM_TEACHER = "homeroom_teacher"
    SUBJECT_TEACHER = "subject_teacher"
    GUARD = "guard"
    CANTEEN_STAFF = "canteen_staff"
    IT_STAFF = "it_staff"
    GUARDIAN = "guardian"
    STUDENT = "student"


ROLE_LABELS: dict[str, Any] = {
    Role.SYSTEM_ADMIN: _("系统管理员"),
    Role.BUREAU_OFFICER: _("教育局管理员"),
    Role.SCHOOL_ADMIN: _("学校管理员"),
    Role.PRINCIPAL: _("校长"),
    Role.DEPARTMENT_HEAD: _("处室主任"),
    Role.GRADE_HEAD: _("年级组长"),
    Role.HOMEROOM_TEACHER: _("班主任"),
    Role.SUBJECT_TEACHER: _("任课教师"),
    Role.GUARD: _("门卫"),
    Role.CANTEEN_STAFF: _("食堂工作人员"),
    Role.IT_STAFF: _("信息中心"),
    Role.GUARDIAN: _("家长"),
    Role.STUDENT: _("学生"),
}


class Scope(StrEnum):
    """The kinds of org unit a grant can be held over, widest first."""

    SYSTEM = "system"
    REGION = "region"  # key: a GB/T 2260 code prefix (e.g. "3411" for 滁州市)
    SCHOOL = "school"
    DEPARTMENT = "department"
    GRADE = "grade"
    CLASS = "class"
    STUDENT = "student"
    SELF = "self"  # key: the account's own id


# Actions, named <object>.<verb>. Every service, page and endpoint asks for one of these.
VIEW_SCHOOL = "school.view"
MANAGE_SCHOOL = "school.manage"
VIEW_CLASS = "class.view"
VIEW_STUDENT = "student.view"
EDIT_STUDENT = "student.edit"
IMPORT_STUDENT = "student.import"
EXPORT_STUDENT = "student.export"
UNMASK_STUDENT = "student.unmask"
VIEW_GUARDIAN = "guardian.view"
VIEW_STAFF = "staff.view"
EDIT_STAFF = "staff.edit"
IMPORT_STAFF = "staff.import"
EXPORT_STAFF = "staff.export"
UNMASK_STAFF = "staff.unmask"
VIEW_AUDIT = "audit.view"
MANAGE_API_KEYS = "apikey.manage"
MANAGE_ACCOUNTS = "account.manage"
MANAGE_SYSTEM = "system.manage"  # open schools, appoint their first admin and the bureaus' officers
MANAGE_WORKFLOWS = "workflow.manage"  # edit the school's approval flows (definitions)
VIEW_WORKFLOWS = "workflow.view"  # read every request of the school (oversight), not only one's own
MANAGE_NOTIFICATIONS = "notification.manage"  # group robots, delivery status, resending
MANAGE_DEVICES = "device.manage"  # register gates and terminals, rotate their secrets
VIEW_ATTENDANCE = "attendance.view"  # day records, the gate feed and the reports, within one's scope
EDIT_ATTENDANCE = "attendance.edit"  # correct a day record (with a reason, audited)
MANAGE_ATTENDANCE = "attendance.manage"  # the school's attendance rules and guardian message policy
VIEW_TIMETABLE = "timetable.view"  # the school's timetables (staff); families see their own on the portal only
MANAGE_TIMETABLE = "timetable.manage"  # enter timetable data, solve, move lessons, publish, substitutions (教务处)
MANAGE_EXAMS = "exam.manage"  # exam papers, answer sheets, scans, review and marking assignments (阅卷, 教务处)
# exams' scores: students' scores and ranks within one's scope (never families: they see their own child's
# scores through the academics selectors, ranks only if the school allows it); entering scores in the grid
VIEW_SCORES = "score.view"
ENTER_SCORES = "score.enter"

ALL_ACTIONS = frozenset(
    {
        VIEW_SCHOOL,
        MANAGE_SCHOOL,
        VIEW_CLASS,
        VIEW_STUDENT,
        EDIT_STUDENT,
        IMPORT_STUDENT,
        EXPORT_STUDENT,
        UNMASK_STUDENT,
        VIEW_GUARDIAN,
        VIEW_STAFF,
        EDIT_STAFF,
        IMPORT_STAFF,
        EXPORT_STAFF,
        UNMASK_STAFF,
        VIEW_AUDIT,
        MANAGE_API_KEYS,
        MANAGE_ACCOUNTS,
        MANAGE_SYSTEM,
        MANAGE_WORKFLOWS,
        VIEW_WORKFLOWS,
        MANAGE_NOTIFICATIONS,
        MANAGE_DEVICES,
        VIEW_ATTENDANCE,
        EDIT_ATTENDANCE,
        MANAGE_ATTENDANCE,
        VIEW_TIMETABLE,
        MANAGE_TIMETABLE,
        MANAGE_EXAMS,
        VIEW_SCORES,
        ENTER_SCORES,
    }
)

_READ_SCHOOL = {VIEW_SCHOOL, VIEW_CLASS, VIEW_STUDENT, VIEW_GUARDIAN, VIEW_STAFF}

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.SYSTEM_ADMIN: ALL_ACTIONS,
    Role.BUREAU_OFFICER: frozenset(
        _READ_SCHOOL | {EXPORT_STUDENT, EXPORT_STAFF, VIEW_AUDIT, VIEW_ATTENDANCE, VIEW_TIMETABLE}
    ),
    Role.SCHOOL_ADMIN: ALL_ACTIONS - {MANAGE_SYSTEM},
    Role.PRINCIPAL: frozenset(
        _READ_SCHOOL
        | {
            EXPORT_STUDENT,
            EXPORT_STAFF,
            UNMASK_STUDENT,
            UNMASK_STAFF,
            VIEW_AUDIT,
            VIEW_WORKFLOWS,
            VIEW_ATTENDANCE,
            VIEW_TIMETABLE,
            VIEW_SCORES,
        }
    ),
    # timetable.manage and exam.manage reach only the plans and papers of the head's own department: the
    # school's 教务处 (TimetablePlan.academic_department_id, ExamPaper.academic_department_id)
    Role.DEPARTMENT_HEAD: frozenset(
        {
            VIEW_SCHOOL,
            VIEW_CLASS,
            VIEW_STAFF,
            EXPORT_STAFF,
            VIEW_TIMETABLE,
            MANAGE_TIMETABLE,
            MANAGE_EXAMS,
            VIEW_SCORES,
            ENTER_SCORES,
        }
    ),
    Role.GRADE_HEAD: frozenset(
        {
            VIEW_SCHOOL,
            VIEW_CLASS,
            VIEW_STUDENT,
            VIEW_GUARDIAN,
            EXPORT_STUDENT,
            VIEW_ATTENDANCE,
            VIEW_TIMETABLE,
            VIEW_SCORES,
        }
    ),
    Role.HOMEROOM_TEACHER: frozenset(
        {
            VIEW_SCHOOL,
            VIEW_CLASS,
            VIEW_STUDENT,
            EDIT_STUDENT,
            EXPORT_STUDENT,
            UNMASK_STUDENT,
            VIEW_GUARDIAN,
            VIEW_ATTENDANCE,
            EDIT_ATTENDANCE,
            VIEW_TIMETABLE,
            VIEW_SCORES,
        }
    ),
    Role.SUBJECT_TEACHER: frozenset({VIEW_SCHOOL, VIEW_CLASS, VIEW_STUDENT, VIEW_TIMETABLE, VIEW_SCORES, ENTER_SCORES}),
    Role.GUARD: frozenset({VIEW_SCHOOL, VIEW_STUDENT, VIEW_ATTENDANCE}),
    Role.CANTEEN_STAFF: frozenset({VIEW_SCHOOL, VIEW_STUDENT}),
    Role.IT_STAFF: frozenset(
        {
            VIEW_SCHOOL,
            VIEW_CLASS,
            VIEW_STUDENT,
            VIEW_STAFF,
            VIEW_AUDIT,
            MANAGE_API_KEYS,
            MANAGE_ACCOUNTS,
            MANAGE_NOTIFICATIONS,
            MANAGE_DEVICES,
            VIEW_TIMETABLE,
        }
    ),
    Role.GUARDIAN: frozenset({VIEW_SCHOOL, VIEW_STUDENT, VIEW_GUARDIAN, VIEW_ATTENDANCE}),
    Role.STUDENT: frozenset({VIEW_SCHOOL, VIEW_STUDENT, VIEW_ATTENDANCE}),
}

# 等保2.0: accounts holding these roles must use a second factor (TOTP).
ROLES_REQUIRING_SECOND_FACTOR = frozenset(
    {Role.SYSTEM_ADMIN, Role.BUREAU_OFFICER, Role.SCHOOL_ADMIN, Role.PRINCIPAL, Role.IT_STAFF}
)


@dataclass(frozen=True)
class Grant:
    role: str
    scope: Scope
    key: int | str | None = None
    school_id: int | None = None  # the school the grant lives in (None for system and region grants)
    label: str = ""  # e.g. "高一(3)班", for pages that list a person's roles

    def allows(self, action: str) -> bool:
        return action in ROLE_ACTIONS.get(self.role, frozenset())


@dataclass(frozen=True)
class ScopePaths:
    """How a model's rows sit in the organisation: ORM paths from the model to each kind of unit.

    `multi` names the kinds whose path crosses a to-many relation (wrapped in a subquery so rows are
    not repeated). `open_to_members` marks org-structure tables that anyone holding any grant in a
    school may read (the school's own name, grades, subjects, calendar).
    """

    school: str | None = None
    region: str | None = None
    department: str | None = None
    grade: str | None = None
    klass: str | None = None
    student: str | None = None
    account: str | None = None
    multi: frozenset[str] = field(default_factory=frozenset)
    open_to_members: bool = False

    def path(self, scope: Scope) -> str | None:
        return {
            Scope.SCHOOL: self.school,
            Scope.REGION: self.region,
            Scope.DEPARTMENT: self.department,
            Scope.GRADE: self.grade,
            Scope.CLASS: self.klass,
            Scope.STUDENT: self.student,
            Scope.SELF: self.account,
        }.get(scope)


class Actor(Protocol):
    pk: Any

    @property
    def is_authenticated(self) -> bool: ...


GrantProvider = Callable[[Any], Iterable[Grant]]
_providers: list[GrantProvider] = []


def register_grant_provider(provider: GrantProvider) -> None:
    """Domains call this from AppConfig.ready() to contribute the grants they know about."""
    if provider not in _providers:
        _providers.append(provider)


_CACHE_ATTR = "_zhixiao_grants"


def grants_of(actor: Any) -> tuple[Grant, ...]:
    """All grants an actor holds, cached on the actor object for the rest of the request."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", True):
        return ()
    cached = getattr(actor, _CACHE_ATTR, None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    explicit = getattr(actor, "fixed_grants", None)  # API keys carry their grants with them
    grants = tuple(explicit) if explicit is not None else tuple(g for p in _providers for g in p(actor))
    setattr(actor, _CACHE_ATTR, grants)
    return grants


def forget_grants(actor: Any) -> None:
    if hasattr(actor, _CACHE_ATTR):
        delattr(actor, _CACHE_ATTR)


def roles_of(actor: Any) -> set[str]:
    return {g.role for g in grants_of(actor)}


def has_any(actor: Any, action: str) -> bool:
    """May the actor do this to anything at all (used to show a menu entry or a page)?"""
    return any(g.allows(action) for g in grants_of(actor))


def scope_q(actor: Any, action: str, model: type[models.Model]) -> Q:
    """A filter for `model` selecting exactly the rows the actor may `action`."""
    paths: ScopePaths | None = getattr(model, "scoping", None)
    if paths is None:
        raise TypeError(f"{model.__name__} declares no scoping")
    by_scope: dict[Scope, set[Any]] = defaultdict(set)
    for g in grants_of(actor):
        if not g.allows(action):
            continue
        if g.scope is Scope.SYSTEM:
            return Q()
        scope: Scope = g.scope
        key = g.key
        if paths.open_to_members and scope not in (Scope.REGION,) and g.school_id is not None:
            scope, key = Scope.SCHOOL, g.school_id
        by_scope[scope].add(key)
    q = Q(pk__in=[])
    for scope, keys in by_scope.items():
        path = paths.path(scope)
        if path is None:
            continue
        if scope is Scope.REGION:
            part = Q()
            for prefix in sorted(keys):
                part |= Q(**{f"{path}__startswith": prefix})
        else:
            part = Q(**{f"{path}__in": sorted(keys)})
        if scope.value in paths.multi:
            part = Q(pk__in=model._default_manager.filter(part).values("pk"))
        q |= part
    return q


def scope_or(actor: Any, action: str, model: type[models.Model], *also: Q) -> Q:
    """The rows the actor may `action` through their grants, or that match any of `also` (their own rows, rows
    they take part in). scope_q's "every row" is Q(), which would vanish if OR-ed, so it is kept as it is."""
    scope = scope_q(actor, action, model)
    if not scope.children:
        return scope
    for q in also:
        scope |= q
    return scope


def can(actor: Any, action: str, target: models.Model | None = None) -> bool:
    """May `actor` do `action` to `target` (or to anything, when target is None)?"""
    if target is None:
        return has_any(actor, action)
    model = type(target)
    return model._default_manager.filter(scope_q(actor, action, model), pk=target.pk).exists()


def may_in_school(actor: Any, action: str, school_id: int, department_ids: Iterable[int] = ()) -> bool:
    """Does the actor hold `action` over the whole school, or over one of its departments in `department_ids`
    (e.g. the head of 教务处 for timetables and exams)? None is the system itself (the demo, a worker)."""
    if actor is None:
        return True
    departments = set(department_ids)
    for g in grants_of(actor):
        if not g.allows(action):
            continue
        if g.scope is Scope.SYSTEM:
            return True
        if g.school_id != school_id:
            continue
        if g.scope is Scope.SCHOOL or (g.scope is Scope.DEPARTMENT and g.key in departments):
            return True
    return False


def school_where(actor: Any, action: str) -> int | None:
    """The school in which the actor holds `action` over the whole school (a settings or devices page)."""
    for g in grants_of(actor):
        if g.allows(action) and g.scope is Scope.SCHOOL and g.school_id:
            return g.school_id
    return None


def require(actor: Any, action: str, target: models.Model | None = None) -> None:
    if not can(actor, action, target):
        raise NotPermitted(_("没有权限执行此操作"))


def requires_second_factor(actor: Any) -> bool:
    return bool(roles_of(actor) & ROLES_REQUIRING_SECOND_FACTOR)
