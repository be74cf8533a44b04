"""Shared test set-up: one small two-school demo per test database, built once per session.

Tests run inside transactions that roll back, so each starts from the same demo. Browser and PostgreSQL
tests are marked; with CI=true nothing may be skipped.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

DEMO_STUDENTS = 240
DEMO_SCHOOLS = 2


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:  # type: ignore[no-redef]
    from zhixiao.portal import demo

    with django_db_blocker.unblock():
        logins = demo.build(students=DEMO_STUDENTS, schools=DEMO_SCHOOLS, seed=7)
        pytest.demo_logins = logins  # type: ignore[attr-defined]


@pytest.fixture
def demo_logins(django_db_setup: Any) -> list[Any]:
    return pytest.demo_logins  # type: ignore[attr-defined, no-any-return]


@pytest.fixture
def login_for(demo_logins: list[Any]) -> Any:
    """login_for(role, school_index=0) → the DemoLogin of that role (in the first or second school)."""

    def find(role: str, school_index: int = 0) -> Any:
        rows = [x for x in demo_logins if x.role == role]
        schools = sorted({x.school for x in demo_logins if x.school})
        if len(rows) > 1:
            rows = [x for x in rows if x.school == schools[school_index]]
        return rows[0]

    return find


@pytest.fixture
def account_for(login_for: Any, db: Any) -> Any:
    from zhixiao.identity.models import Account

    def get(role: str, school_index: int = 0) -> Any:
        return Account.objects.get(username=login_for(role, school_index).username)

    return get


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """PostgreSQL-only tests belong to the PostgreSQL phase of `make test`; on SQLite they are
    deselected (not skipped), and that phase runs the whole suite again on a real server."""
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return
    keep, drop = [], []
    for item in items:
        (drop if "postgres" in item.keywords else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
