"""Tenancy: one database, a school key on every school-scoped row, and PostgreSQL row-level security.

Selectors scope every query to the actor (permissions.scope_q). Behind them, on PostgreSQL, each
school-scoped table has a row-level security policy that reads the session setting
`zhixiao.school_ids`: '*' (or not set: migrations, CLI, the worker) sees every school, '-' sees none,
'1,7' sees schools 1 and 7. "Not set" includes '': once a session has set the placeholder, a rolled-back
transaction or RESET leaves '' behind rather than NULL, so '' cannot be the "nobody" marker.
A web request sets it from the actor's grants before any view runs and puts it back afterwards, so
even a faulty query cannot read another school's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.db import connection
from django.http import HttpRequest, HttpResponse

from . import permissions
from .permissions import Scope

SETTING = "zhixiao.school_ids"
ALL = "*"
NONE = "-"

RegionResolver = Callable[[str], Iterable[int]]
_region_resolvers: list[RegionResolver] = []


def register_region_resolver(resolver: RegionResolver) -> None:
    """The org app tells the kernel which schools lie in a region (GB/T 2260 code prefix)."""
    if resolver not in _region_resolvers:
        _region_resolvers.append(resolver)


def school_ids_for(actor: Any) -> frozenset[int] | None:
    """The schools an actor may touch at all; None means every school (system roles)."""
    ids: set[int] = set()
    for g in permissions.grants_of(actor):
        if g.scope is Scope.SYSTEM:
            return None
        if g.scope is Scope.REGION:
            for resolve in _region_resolvers:
                ids.update(resolve(str(g.key)))
        elif g.school_id is not None:
            ids.add(g.school_id)
    return frozenset(ids)


def _set(value: str) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, value])


def activate(actor: Any) -> None:
    """Limit this connection to the actor's schools (PostgreSQL; elsewhere selectors alone scope)."""
    # The grant providers read classes, teaching assignments and regions, which are policy-bound
    # themselves: read them unscoped (the connection may still hold the '' of an anonymous request,
    # as when an API bearer token is checked after the middleware ran), then narrow.
    _set(ALL)
    ids = school_ids_for(actor)
    _set(ALL if ids is None else ",".join(str(i) for i in sorted(ids)) or NONE)


def activate_schools(school_ids: Iterable[int]) -> None:
    """Limit this connection to these schools: a device acts only within its own school."""
    _set(",".join(str(int(i)) for i in sorted(school_ids)) or NONE)


def deactivate() -> None:
    _set(ALL)


@contextmanager
def acting_as(actor: Any) -> Iterator[None]:
    activate(actor)
    try:
        yield
    finally:
        deactivate()


def _get() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [SETTING])
        row = cursor.fetchone()
    return str(row[0] or "") if row else ""


@contextmanager
def unscoped() -> Iterator[None]:
    """For service code that must look past the actor's schools: checks of nationwide uniqueness (学校标识码,
    a guardian's mobile) and rows that become visible only through a link the same transaction writes
    (a new guardian). Never for reads that reach a page; the previous scope comes back afterwards."""
    if connection.vendor != "postgresql":
        yield
        return
    previous = _get()
    _set(ALL)
    try:
        yield
    finally:
        _set(previous or ALL)


class TenancyMiddleware:
    """Sets the row-level security scope for the logged-in user of a page request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            activate(user)
        else:
            _set(NONE)
        try:
            return self.get_response(request)
        finally:
            deactivate()


def school_scoped_tables() -> list[tuple[str, str]]:
    """(table, policy expression) for every model that carries its school, or reaches it by a link."""
    out: list[tuple[str, str]] = []
    for model in apps.get_models():
        # a row-history table (django-simple-history) is as school-scoped as the table it keeps
        paths = getattr(model, "scoping", None) or getattr(getattr(model, "instance_type", None), "scoping", None)
        rls = getattr(model, "rls_school_sql", None)
        kept = getattr(model, "instance_type", None)
        if rls is None and getattr(kept, "rls_school_sql", None):
            rls = kept.rls_school_sql.replace(f"{kept._meta.db_table}.", f"{model._meta.db_table}.")  # type: ignore[union-attr]
        if getattr(model, "rls_exempt", False):
            continue
        if rls:
            out.append((model._meta.db_table, rls))
        elif paths is not None and paths.school in ("school_id", "id"):
            column = "school_id" if paths.school == "school_id" else "id"
            out.append((model._meta.db_table, f"{column} = ANY (zhixiao_school_ids())"))
    return out


RLS_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION zhixiao_all_schools() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('{SETTING}', true), ''), '{ALL}') = '{ALL}'
$$;
CREATE OR REPLACE FUNCTION zhixiao_school_ids() RETURNS bigint[] LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN coalesce(current_setting('{SETTING}', true), '') IN ('', '{ALL}', '{NONE}')
              THEN ARRAY[]::bigint[]
              ELSE string_to_array(current_setting('{SETTING}', true), ',')::bigint[] END
$$;
"""


def install_row_level_security(using: str = "default") -> int:
    """(Re)create the policies; idempotent, run after every migrate. Returns the number of tables."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor != "postgresql":
        return 0
    tables = school_scoped_tables()
    with conn.cursor() as cursor:
        cursor.execute(RLS_FUNCTION_SQL)
        for table, expression in tables:
            cursor.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
            cursor.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
            cursor.execute(f'DROP POLICY IF EXISTS zhixiao_school_scope ON "{table}"')
            cursor.execute(
                f'CREATE POLICY zhixiao_school_scope ON "{table}" '
                f"USING (zhixiao_all_schools() OR {expression}) "
                f"WITH CHECK (zhixiao_all_schools() OR {expression})"
            )
    return len(tables)
