"""Every list exports to .xlsx, scoped like the page and masked like the page."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from zhixiao.org.tests.signin import signed_in

pytestmark = pytest.mark.django_db


def _sheet(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    return rows[0], rows[1:]


def test_a_homeroom_teacher_exports_only_her_class(client, account_for):
    teacher = account_for("homeroom_teacher")
    client.force_login(teacher)
    header, rows = _sheet(client.get("/org/classes/?export=xlsx"))
    assert header[0] == "班级"
    assert len(rows) == 1
    header, students = _sheet(client.get("/people/students/?export=xlsx"))
    assert {r[header.index("班级")] for r in students} == {rows[0][0]}
    for r in students:
        assert "*" in r[header.index("证件号码")]
        assert "*" in r[header.index("学籍号")]


def test_the_audit_log_exports_for_admins_only(client, login_for, account_for):
    admin = signed_in(login_for("school_admin"))
    header, rows = _sheet(admin.get("/audit/?export=xlsx"))
    assert header[:4] == ("序号", "时间", "操作人", "操作")
    assert rows
    client.force_login(account_for("homeroom_teacher"))
    assert client.get("/audit/?export=xlsx").status_code == 403
