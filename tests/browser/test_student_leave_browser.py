"""A real browser and a real gate: a guardian files his boarding child's leave on a phone; the homeroom teacher
approves it from 待我审批; the school gate (signed device API over HTTP) refuses the child before approval,
lets him out inside the window and refuses again after it; the child walks out; the guardian's inbox shows
the approval and the departure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from zhixiao.devices.client import DeviceClient
from zhixiao.notifications import services as notifications
from zhixiao.people.models import GuardianLink

from .test_leave_browser import run_on, sessions, test_connection  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def setup_connection(test_connection: Any) -> Iterator[Any]:  # noqa: F811
    """Where the test's own set-up is written so the live server sees it: the test's connection on the unit
    phase's SQLite (rolled back afterwards); on PostgreSQL a connection of its own, committed, cleaned after."""
    if connection.vendor != "postgresql":
        yield test_connection
        return
    conn = connections.create_connection("default")
    try:
        yield conn
    finally:
        conn.close()


def _cleanup_pg(student_id: int, device_id: int, school_id: int, date: dt.date, boarding: str) -> None:
    if connection.vendor != "postgresql":
        return
    conn = connections.create_connection("default")
    try:
        with conn.cursor() as c:
            c.execute("SELECT request_id FROM attendance_studentleave WHERE student_id = %s", [student_id])
            ids = [r[0] for r in c.fetchall()]
            for table in ("workflow_attachment", "workflow_action", "workflow_carbon", "workflow_task"):
                c.execute(f"DELETE FROM {table} WHERE request_id = ANY(%s)", [ids])  # noqa: S608
            c.execute(
                "DELETE FROM notifications_inboxitem WHERE outbox_id IN (SELECT id FROM notifications_outbox "
                "WHERE dedup_key LIKE 'student_leave:%%' OR dedup_key LIKE 'wf:%%' OR dedup_key LIKE %s)",
                [f"%:{student_id}:%"],
            )
            c.execute(
                "DELETE FROM notifications_outbox WHERE dedup_key LIKE 'student_leave:%%' OR dedup_key LIKE 'wf:%%' "
                "OR dedup_key LIKE %s",
                [f"%:{student_id}:%"],
            )
            c.execute("DELETE FROM attendance_studentleave WHERE student_id = %s", [student_id])
            c.execute("DELETE FROM workflow_request WHERE id = ANY(%s)", [ids])
            c.execute("DELETE FROM attendance_gateevent WHERE device_id = %s", [device_id])
            c.execute("DELETE FROM attendance_attendanceday WHERE student_id = %s", [student_id])
            c.execute("DELETE FROM devices_devicenonce WHERE device_id = %s", [device_id])
            c.execute("DELETE FROM devices_device WHERE id = %s", [device_id])
            c.execute("DELETE FROM org_calendarday WHERE school_id = %s AND date = %s", [school_id, date])
            c.execute("UPDATE people_student SET boarding = %s WHERE id = %s", [boarding, student_id])
    finally:
        conn.close()
    from zhixiao.attendance import services

    run_on(conn := connections.create_connection("default"), lambda: services.refresh_passes(school_id=school_id))
    conn.close()


def test_guardian_leave_on_a_phone_opens_the_gate_only_inside_the_window(
    site: str,
    setup_connection: Any,
    test_connection: Any,  # noqa: F811
    sessions: Any,  # noqa: F811
    login_for: Any,
    account_for: Any,
) -> None:
    from zhixiao.attendance import services
    from zhixiao.devices import services as devices
    from zhixiao.org.models import CalendarDay
    from zhixiao.people.models import Student

    guardian_demo = login_for("guardian")
    link = GuardianLink.objects.filter(guardian__account=account_for("guardian")).select_related("student").first()
    assert link is not None
    child = link.student
    today = timezone.localdate()
    now = timezone.localtime().replace(second=0, microsecond=0)
    start, end = now - dt.timedelta(minutes=30), now + dt.timedelta(hours=3)

    def prepare() -> tuple[Any, str]:
        # a boarder on a school day (CI may run on a Sunday: the school makes today an extra day)
        CalendarDay.objects.update_or_create(
            school_id=child.school_id, date=today, defaults={"is_school_day": True, "note": "补课"}
        )
        Student.objects.filter(pk=child.pk).update(boarding="boarding")
        services.forget_rules(child.school_id)
        services.refresh_passes(school_id=child.school_id, student_ids=[child.pk])
        return devices.register_device(actor=None, school_id=child.school_id, kind="gate", name="浏览器测试南门")

    device, secret = run_on(setup_connection, prepare)
    gate = DeviceClient(site, device.pk, secret, timeout=15)
    try:
        inside, after = now, end + dt.timedelta(minutes=5)
        assert gate.decide(child.student_no, "out", inside)["allow"] is False

        parent = sessions(guardian_demo, site, phone=True)
        parent.click("label.navbtn")
        parent.click("nav.nav a[href='/attendance/my/']")
        parent.click("a.btn[href='/attendance/leave/new/']")
        parent.select_option("select[name=student]", str(child.pk))
        parent.select_option("select[name=leave_type]", "病假")
        parent.fill("input[name=start]", start.strftime("%Y-%m-%dT%H:%M"))
        parent.fill("input[name=end]", end.strftime("%Y-%m-%dT%H:%M"))
        parent.fill("textarea[name=reason]", "发烧，带去医院看病")
        assert parent.evaluate("document.documentElement.scrollWidth") <= 390
        parent.click("#leave-form button[type=submit]")
        parent.wait_for_url("**/attendance/leave/**")
        assert "审批中" in parent.inner_text("#leave-status")
        assert parent.evaluate("document.documentElement.scrollWidth") <= 390
        assert gate.decide(child.student_no, "out", inside)["allow"] is False  # filed, not yet approved

        teacher = sessions(login_for("homeroom_teacher"), site)
        teacher.goto(f"{site}/workflow/?tab=todo")
        row = teacher.locator("#worklist tr", has_text=child.name)
        assert row.count() == 1
        row.locator("td.act button[value=approve]").click()
        teacher.wait_for_selector("#worklist .badge.ok")

        opened = gate.decide(child.student_no, "out", inside)
        assert opened["allow"] is True and opened["code"] == "leave" and opened["person"]["name"] == child.name
        closed = gate.decide(child.student_no, "out", after)
        assert closed["allow"] is False and closed["code"] == "no_leave"

        walked = gate.post_events(
            [
                {
                    "event_id": "browser-leave-out",
                    "credential": child.student_no,
                    "direction": "out",
                    "time": inside.isoformat(),
                }
            ]
        )
        assert walked["accepted"] == 1

        run_on(test_connection, notifications.deliver_due)  # the worker's turn (see test_leave_browser)
        parent.goto(f"{site}/inbox/")
        inbox = parent.inner_text("main")
        assert f"请假已批准：{child.name}" in inbox
        assert f"{child.name} 已离校" in inbox
        parent.goto(f"{site}/attendance/my/")
        assert "已离校" in parent.inner_text("main")
        assert parent.evaluate("document.documentElement.scrollWidth") <= 390
        parent.screenshot(path="test-artifacts/student-leave-phone.png", full_page=True)
    finally:
        _cleanup_pg(child.pk, device.pk, child.school_id, today, child.boarding)
