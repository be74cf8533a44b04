"""A real browser, four people: a teacher files a three-day leave with a lesson to cover; the grade head
approves it in place from 待我审批, the principal from the request page, each in their own session; the
teacher sees the approved timeline and an unread notification; the substitute sees the lesson she covers.
Also on a phone's screen."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections
from django_otp.oath import TOTP

from zhixiao.notifications import services as notifications
from zhixiao.workflow.models import Request

from .test_import_browser import _forget_used_totp_code

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def test_connection(site: str) -> Any:
    """The test's own database connection, taken before Playwright starts: inside Playwright's loop the ORM
    would hand this thread another one, which on the unit phase's in-memory SQLite cannot read what the
    live server (sharing the test's connection, its transaction never committed) has written."""
    return connections["default"]


def run_on(conn: Any, work: Any) -> Any:
    previous = connections["default"]
    connections["default"] = conn
    try:
        return work()
    finally:
        connections["default"] = previous


@pytest.fixture
def sessions(chromium: Any) -> Iterator[Any]:
    """Each person in a browser context of their own (own cookies), like four phones."""
    opened: list[Any] = []

    def open_for(demo: Any, site: str, phone: bool = False) -> Any:
        context = chromium.new_context(
            locale="zh-CN", **({"viewport": {"width": 390, "height": 844}, "is_mobile": True} if phone else {})
        )
        opened.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{site}/account/login/")
        page.fill("input[name=username]", demo.username)
        page.fill("input[name=password]", demo.password)
        page.click("form.form button[type=submit]")
        if demo.totp_secret:
            page.wait_for_url("**/2fa/verify/**")
            page.fill("input[name=code]", f"{TOTP(base64.b32decode(demo.totp_secret)).token():06d}")
            page.click("form.form button[type=submit]")
        page.wait_for_url(f"{site}/")
        return page

    yield open_for
    for context in opened:
        context.close()


def _forget_requests(ids: list[int]) -> None:
    """On PostgreSQL the live server committed what the people did; remove it again so the tests after this
    one find the demo as it was (the audit records stay: they are append-only by design)."""
    if connection.vendor != "postgresql" or not ids:
        return
    conn = connections.create_connection("default")
    try:
        with conn.cursor() as cursor:
            for table in ("workflow_attachment", "workflow_action", "workflow_carbon", "workflow_task"):
                cursor.execute(f"DELETE FROM {table} WHERE request_id = ANY(%s)", [ids])  # noqa: S608
            cursor.execute("DELETE FROM office_lessoncover WHERE request_id = ANY(%s)", [ids])
            for pk in ids:
                like = [f"wf:{pk}:%", f"office:cover:{pk}"]
                cursor.execute(
                    "DELETE FROM notifications_inboxitem WHERE outbox_id IN "
                    "(SELECT id FROM notifications_outbox WHERE dedup_key LIKE %s OR dedup_key = %s)",
                    like,
                )
                cursor.execute("DELETE FROM notifications_outbox WHERE dedup_key LIKE %s OR dedup_key = %s", like)
            cursor.execute("DELETE FROM workflow_request WHERE id = ANY(%s)", [ids])
    finally:
        conn.close()


def test_a_three_day_leave_through_two_approvers_to_the_substitute(
    site: str, test_connection: Any, sessions: Any, login_for: Any, account_for: Any
) -> None:
    before = set(Request.objects.values_list("pk", flat=True))
    substitute = account_for("subject_teacher")
    created: list[int] = []
    try:
        teacher = sessions(login_for("homeroom_teacher"), site, phone=True)
        teacher.goto(f"{site}/office/")
        teacher.click("a.card[href='/workflow/new/teacher_leave/']")
        teacher.select_option("select[name=leave_type]", "事假")
        teacher.fill("input[name=start]", "2026-12-14")
        teacher.fill("input[name=end]", "2026-12-16")
        teacher.fill("input[name=days]", "3")
        teacher.fill("textarea[name=reason]", "参加市级教研活动")
        teacher.fill("input[name=lessons__0__date]", "2026-12-15")
        teacher.fill("input[name=lessons__0__period]", "4")
        teacher.fill("input[name=lessons__0__class_name]", "高一(1)班")
        teacher.fill("input[name=lessons__0__subject]", "语文")
        teacher.select_option("select[name=lessons__0__substitute]", str(substitute.pk))
        teacher.click("form.wf-form button[type=submit]")
        teacher.wait_for_url("**/workflow/requests/**")
        assert "年级组长审批" in teacher.inner_text("ol.route")
        created = [int(teacher.url.rstrip("/").rsplit("/", 1)[1])]  # not the ORM: the server is busy on it
        assert created[0] not in before
        title = teacher.inner_text("h1")

        head = sessions(login_for("grade_head"), site, phone=True)
        assert head.inner_text("#nav-todo") == "1"
        head.click("label.navbtn")  # the phone's menu
        head.click("nav.nav a[href='/workflow/']")
        head.wait_for_selector("#worklist")  # the list has loaded (measuring mid-navigation finds no document)
        assert head.evaluate("document.documentElement.scrollWidth") <= 390  # one card per request
        assert head.locator("#worklist tr", has_text="事假 2026-12-14至2026-12-16（3天）").count() == 1
        head.fill("#worklist td.act input[name=comment]", "同意，注意安排好代课")
        head.click("#worklist td.act button[value=approve]")
        head.wait_for_selector("#worklist .badge.ok")  # the row swapped in place (htmx), no page load
        assert "已同意" in head.inner_text("#worklist")

        principal_demo = login_for("principal")
        principal = sessions(principal_demo, site)
        principal.goto(f"{site}/workflow/?tab=todo")
        principal.click(f"#worklist a[href='/workflow/requests/{created[0]}/']")
        principal.fill("#my-task textarea[name=comment]", "同意")
        principal.click("#my-task button[value=approve]")
        principal.wait_for_selector("#req-status.st-approved")

        # the worker's turn: on PostgreSQL delivery already ran when the decision committed; on the unit
        # phase's SQLite the live server shares the test's never-committed transaction, so run it here
        run_on(test_connection, notifications.deliver_due)
        teacher.reload()
        assert "已通过" in teacher.inner_text("#req-status")
        timeline = teacher.inner_text("#timeline")
        assert timeline.count("同意") >= 2 and "同意，注意安排好代课" in timeline
        assert int(teacher.inner_text("#bell .count")) >= 1
        assert teacher.evaluate("document.documentElement.scrollWidth") <= 390  # fits the phone
        teacher.click("#bell")
        assert "已通过" in teacher.inner_text("main")
        assert title.split()[0] in teacher.inner_text("main")

        covering = sessions(login_for("subject_teacher"), site, phone=True)
        covering.goto(f"{site}/office/covers/")
        covers = covering.inner_text("#covers")
        assert "2026-12-15" in covers and "高一(1)班" in covers and "语文" in covers
        assert covering.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        _forget_requests(created)
        if connection.vendor == "postgresql":
            _forget_used_totp_code(login_for("principal").username)
