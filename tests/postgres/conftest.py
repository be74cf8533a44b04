"""PostgreSQL tests: helpers for scoped reads and for work that must commit on real connections."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection


def current_scope() -> str | None:
    """The row-level security setting this connection holds right now."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('zhixiao.school_ids', true)")
        return cursor.fetchone()[0]  # type: ignore[index]


@pytest.fixture
def committed_db(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """Database access without the per-test transaction, so threads on their own connections see
    each other's commits. Not `django_db(transaction=True)`: its teardown flush empties every table,
    which the append-only audit triggers refuse, and would drop the session's demo for the tests
    after it. Tests using this restore what they change (audit rows, being append-only, stay)."""
    with django_db_blocker.unblock():
        yield
        connection.close()
