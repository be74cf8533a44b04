"""Who approves: a step's approver rules turned into accounts, at run time, from the organisation.

Rules are relative to the applicant ("the grade head of the applicant's grade") or to a form field naming
a student or a staff member. Only serving staff with an active login are returned; the caller falls back
to the school admin when nobody is left.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zhixiao.identity import selectors as identity_selectors
from zhixiao.kernel.permissions import Role
from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors

from .engine.spec import ApproverRule

# roles a step may name with {rule: role, role: …}
ROUTABLE_ROLES = frozenset(
    {
        Role.SCHOOL_ADMIN,
        Role.PRINCIPAL,
        Role.DEPARTMENT_HEAD,
        Role.GRADE_HEAD,
        Role.GUARD,
        Role.CANTEEN_STAFF,
        Role.IT_STAFF,
    }
)


def _classes_of(
    rule: ApproverRule, *, school_id: int, applicant_id: int | None, values: Mapping[str, Any]
) -> list[int]:
    """The classes a rule's `of` points at: the applicant's (the classes they teach or lead, or a student's
    own class) or the class of the student a form field names."""
    if rule.of != "applicant":
        student_id = values.get(rule.of)
        if isinstance(student_id, Mapping):
            student_id = student_id.get("id")
        class_id = people_selectors.class_of_student(int(student_id)) if student_id else None
        return [class_id] if class_id else []
    if applicant_id is None:
        return []
    own = people_selectors.class_of_student_account(applicant_id)
    if own is not None:
        return [own]
    return people_selectors.workplace_of(account_id=applicant_id, school_id=school_id)[1]


def resolve(
    rule: ApproverRule, *, school_id: int, applicant_id: int | None, values: Mapping[str, Any] | None = None
) -> list[int]:
    """Account ids a rule names right now (may be empty)."""
    values = values or {}
    ids: list[int] = []
    if rule.rule == "principal":
        ids = identity_selectors.holders_of_role(school_id=school_id, role=Role.PRINCIPAL)
    elif rule.rule == "role":
        if rule.role in ROUTABLE_ROLES:
            ids = identity_selectors.holders_of_role(school_id=school_id, role=rule.role)
    elif rule.rule == "department_head":
        if rule.department:
            departments = org_selectors.department_ids_named(school_id=school_id, name=rule.department)
        elif applicant_id is not None:
            departments = people_selectors.workplace_of(account_id=applicant_id, school_id=school_id)[0]
        else:
            departments = []
        if departments:
            ids = identity_selectors.holders_of_role(
                school_id=school_id, role=Role.DEPARTMENT_HEAD, department_ids=departments
            )
    elif rule.rule == "grade_head":
        classes = _classes_of(rule, school_id=school_id, applicant_id=applicant_id, values=values)
        grades = org_selectors.grade_ids_of_classes(classes)
        if grades:
            ids = identity_selectors.holders_of_role(school_id=school_id, role=Role.GRADE_HEAD, grade_ids=grades)
    elif rule.rule == "homeroom_teacher":
        classes = _classes_of(rule, school_id=school_id, applicant_id=applicant_id, values=values)
        ids = [t for c in classes if (t := org_selectors.homeroom_teacher_of(c)) is not None]
    elif rule.rule == "person":
        found = people_selectors.staff_account_by_no(school_id=school_id, staff_no=rule.staff_no)
        ids = [found] if found else []
    elif rule.rule == "staff_field":
        value = values.get(rule.field)
        if isinstance(value, Mapping):
            value = value.get("id")
        ids = [int(value)] if value else []
    if not ids:
        return []
    serving = people_selectors.serving_staff_accounts(school_id=school_id, account_ids=ids)
    return [i for i in dict.fromkeys(ids) if i in serving]


def school_admins(school_id: int) -> list[int]:
    """The fallback for a step nobody can take: the school's admins (serving, active)."""
    ids = identity_selectors.holders_of_role(school_id=school_id, role=Role.SCHOOL_ADMIN)
    serving = people_selectors.serving_staff_accounts(school_id=school_id, account_ids=ids)
    return [i for i in ids if i in serving] or ids


def probe_for(school_id: int) -> Any:
    """A save-time check that a rule not tied to the applicant finds somebody in this school."""

    def probe(rule: ApproverRule) -> bool:
        if rule.rule == "role" and rule.role not in ROUTABLE_ROLES:
            return False
        if rule.rule == "department_head" and not rule.department:
            return True  # the applicant's own department: known only when someone applies
        return bool(resolve(rule, school_id=school_id, applicant_id=None))

    return probe
