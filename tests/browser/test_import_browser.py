"""A real browser: the school admin downloads the template, uploads a workbook with a bad row and gets the
error table in Chinese with the marked workbook to download, and nothing is written."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django_otp.oath import TOTP

from zhixiao.org import selectors as org_selectors
from zhixiao.people import import_jobs
from zhixiao.people.models import ImportJob, Student
from zhixiao.people.tests.test_importing import students_file, valid_rows

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def admin_page(chromium: Any, site: str, login_for: Any) -> Iterator[Any]:
    demo = login_for("school_admin")
    context = chromium.new_context(locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{site}/account/login/")
    page.fill("input[name=username]", demo.username)
    page.fill("input[name=password]", demo.password)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/2fa/verify/**")
    page.fill("input[name=code]", f"{TOTP(base64.b32decode(demo.totp_secret)).token():06d}")
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{site}/")
    yield page
    context.close()
    if connection.vendor == "postgresql":
        _forget_used_totp_code(demo.username)


def _forget_used_totp_code(username: str) -> None:
    """On PostgreSQL the live server logged in on its own connection and committed the device's last used
    time step; TOTP refuses a code twice, so later tests in the same 30 s step would be refused. Reset it on
    a connection of its own (the test's transaction rolls back; this must not)."""
    from django.db import connections

    conn = connections.create_connection("default")
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "UPDATE otp_totp_totpdevice SET last_t = -1, throttling_failure_count = 0 "
                "WHERE user_id = (SELECT id FROM identity_account WHERE username = %s)",
                [username],
            )
    finally:
        conn.close()


@pytest.fixture
def bad_upload(login_for: Any, account_for: Any, tmp_path: Path) -> tuple[Path, int]:
    """A workbook whose 4th record has a wrong check digit; read the database before the browser starts
    (the live server shares this in-memory database and may be mid-request later)."""
    school = org_selectors.school_by_code(login_for("school_admin").school)
    classes = [c.name for c in org_selectors.classes_visible_to(actor=account_for("school_admin"), school_id=school.pk)]
    rows = valid_rows(classes, 5, seed=5)
    rows[3]["证件号码"] = rows[3]["证件号码"][:-1] + ("1" if rows[3]["证件号码"][-1] != "1" else "2")
    upload = tmp_path / "学生名单.xlsx"
    upload.write_bytes(students_file(rows))
    return upload, Student.objects.count()


def test_a_bad_row_comes_back_as_a_table_and_nothing_is_written(bad_upload, site, admin_page, monkeypatch):
    # On the unit phase's in-memory SQLite the live server shares this test's transaction, so the job's
    # on-commit enqueue would wait for a commit that never comes: enqueue at once instead (the tests'
    # task backend then runs the job in the upload request). On PostgreSQL this changes nothing.
    monkeypatch.setattr(import_jobs.transaction, "on_commit", lambda func, using=None, robust=False: func())
    page = admin_page
    upload, before = bad_upload

    page.goto(f"{site}/people/imports/")
    with page.expect_download() as template:
        page.click("text=下载学生模板")
    assert template.value.suggested_filename.endswith(".xlsx")
    page.set_input_files("input[type=file]", str(upload))
    page.click("form button[type=submit]:has-text('上传并导入')")
    page.wait_for_url("**/people/imports/*/")
    page.wait_for_selector("text=身份证号校验码错误")
    body = page.inner_text("main")
    assert "证件号码" in body
    assert "5" in body  # the Excel row of the bad record (header is row 1)
    with page.expect_download() as marked:
        page.click("a[href$='errors.xlsx']")
    assert marked.value.suggested_filename.endswith(".xlsx")
    page.screenshot(path=str(ARTIFACTS / "import-errors.png"), full_page=True)
    page.wait_for_load_state("networkidle")
    assert Student.objects.count() == before
    if connection.vendor == "postgresql":  # the live server's own connection committed the job row
        ImportJob.objects.filter(filename="学生名单.xlsx").delete()
