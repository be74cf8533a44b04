"""Reads about accounts, roles and keys, scoped to the actor."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet

from zhixiao.kernel import permissions
from zhixiao.kernel.permissions import Grant, Role, Scope
from zhixiao.org import selectors as org_selectors

from .models import Account, ApiKey, RoleAssignment


def explicit_grants(actor: Any) -> Iterator[Grant]:
    """Grant provider: the roles assigned explicitly to an account."""
    if not isinstance(actor, Account):
        return
    if actor.is_superuser:
        yield Grant(role=Role.SYSTEM_ADMIN, scope=Scope.SYSTEM, label="superuser")
    rows = RoleAssignment.objects.filter(account=actor).select_related("school", "department", "grade")
    for ra in rows:
        if ra.role == Role.SYSTEM_ADMIN:
            yield Grant(role=ra.role, scope=Scope.SYSTEM)
        elif ra.role == Role.BUREAU_OFFICER:
            yield Grant(role=ra.role, scope=Scope.REGION, key=ra.region_code, label=ra.region_code)
        elif ra.role == Role.DEPARTMENT_HEAD and ra.department_id:
            yield Grant(
                role=ra.role,
                scope=Scope.DEPARTMENT,
                key=ra.department_id,
                school_id=ra.school_id,
                label=str(ra.department),
            )
        elif ra.role == Role.GRADE_HEAD and ra.grade_id:
            yield Grant(role=ra.role, scope=Scope.GRADE, key=ra.grade_id, school_id=ra.school_id, label=str(ra.grade))
        elif ra.school_id:
            yield Grant(
                role=ra.role, scope=Scope.SCHOOL, key=ra.school_id, school_id=ra.school_id, label=str(ra.school)
            )


def api_keys_visible_to(*, actor: Any) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(permissions.scope_q(actor, permissions.MANAGE_API_KEYS, ApiKey)).select_related(
        "school", "created_by"
    )


def account_by_login_name(name: str) -> Account | None:
    return Account.objects.filter(username=name).first()


def role_assignments_of(account: Account) -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.filter(account=account).select_related("school", "department", "grade")


def login_names_taken(names: Iterable[str]) -> set[str]:
    """Which of these login names already belong to an account (bulk imports check thousands at once)."""
    wanted = sorted(set(names))
    taken: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        taken.update(Account.objects.filter(username__in=chunk).values_list("username", flat=True))
    return taken


def mobiles_taken(mobiles: Iterable[str]) -> set[str]:
    """Which of these mobiles are already an account's mobile (unique across accounts)."""
    wanted = sorted(set(mobiles))
    taken: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        taken.update(m for m in Account.objects.filter(mobile__in=chunk).values_list("mobile", flat=True) if m)
    return taken


def role_assignments_in_school(*, actor: Any, school_id: int) -> QuerySet[RoleAssignment]:
    """Who holds which explicit role in a school, for those who may see the school's staff."""
    if not org_selectors.schools_where(actor=actor, action=permissions.VIEW_STAFF).filter(pk=school_id).exists():
        return RoleAssignment.objects.none()
    return (
        RoleAssignment.objects.filter(school_id=school_id)
        .select_related("account", "department", "grade")
        .order_by("role", "account__username")
    )


def holders_of_role(
    *, school_id: int, role: str, department_ids: Iterable[int] | None = None, grade_ids: Iterable[int] | None = None
) -> list[int]:
    """Active accounts holding an explicit role in a school (optionally over given departments or grades),
    for services that route work to people (an approval step, an alarm)."""
    qs = RoleAssignment.objects.filter(school_id=school_id, role=role, account__is_active=True)
    if department_ids is not None:
        qs = qs.filter(department_id__in=list(department_ids))
    if grade_ids is not None:
        qs = qs.filter(grade_id__in=list(grade_ids))
    return sorted(set(qs.values_list("account_id", flat=True)))


def account_labels(account_ids: Iterable[int]) -> dict[int, str]:
    """Display names for a set of accounts (timelines, lists)."""
    return {
        pk: name or username
        for pk, name, username in Account.objects.filter(pk__in=list(account_ids)).values_list(
            "pk", "display_name", "username"
        )
    }
