"""The pages: my inbox with the bell, marking read (htmx), my settings; the delivery status page and the
group robots for notification managers (audited)."""

from __future__ import annotations

import pytest
from django.test import Client

from zhixiao.kernel.models import AuditRecord
from zhixiao.notifications import delivery, services
from zhixiao.notifications.models import GroupRobot, InboxItem, Outbox, Preference, Status
from zhixiao.notifications.tests import conftest as notification_fixtures  # registers the test templates
from zhixiao.org.models import School
from zhixiao.org.tests.signin import signed_in

pytestmark = pytest.mark.django_db
assert notification_fixtures


def test_the_bell_counts_unread_and_the_inbox_lists_them_unread_first(login_for, account_for):
    guardian = account_for("guardian")
    services.notify(recipients=[guardian], template="test.hello", context={"name": "旧"}, dedup_key="p1")
    delivery.deliver_due()
    services.mark_all_read(actor=guardian)
    services.notify(recipients=[guardian], template="test.hello", context={"name": "新"}, dedup_key="p2", url="/")
    delivery.deliver_due()
    client = signed_in(login_for("guardian"))

    page = client.get("/inbox/").content.decode()

    assert '<span class="count">1</span>' in page  # the bell in the header
    assert page.index("你好，新") < page.index("你好，旧")
    assert page.count(">标为已读<") == 1


def test_marking_one_read_with_htmx_swaps_the_item_and_the_bell(login_for, account_for):
    guardian = account_for("guardian")
    services.notify(recipients=[guardian], template="test.hello", context={"name": "甲"}, dedup_key="h1")
    delivery.deliver_due()
    item = InboxItem.objects.get(recipient=guardian)
    client = signed_in(login_for("guardian"))

    response = client.post(f"/inbox/{item.pk}/read/", HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="item-{item.pk}"' in body and ">标为已读<" not in body
    assert 'id="bell"' in body and 'hx-swap-oob="true"' in body and "count" not in body
    item.refresh_from_db()
    assert item.read_at is not None
    # someone else's item is not found
    other = signed_in(login_for("student"))
    assert other.post(f"/inbox/{item.pk}/read/").status_code == 404


def test_settings_page_saves_channels_email_quiet_hours_and_language(login_for, account_for):
    client = signed_in(login_for("homeroom_teacher"))
    assert client.get("/inbox/settings/").status_code == 200

    response = client.post(
        "/inbox/settings/",
        {
            "channels": ["email"],
            "email": "t@example.cn",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
            "language": "en",
        },
    )

    assert response.status_code == 302
    pref = Preference.objects.get(account=account_for("homeroom_teacher"))
    assert (pref.channels, pref.email, str(pref.quiet_start), pref.language) == (
        ["email"],
        "t@example.cn",
        "22:00:00",
        "en",
    )
    refused = client.post("/inbox/settings/", {"channels": ["email"], "email": "", "language": "zh-hans"})
    assert "选择邮件通知须填写邮箱" in refused.content.decode()


def test_school_admin_sees_delivery_counts_and_retries_a_dead_row(login_for, account_for):
    s1 = School.objects.order_by("pk").first()
    guardian = account_for("guardian")
    row = Outbox.objects.create(
        recipient=guardian,
        channel="email",
        template="test.hello",
        context={"name": "x"},
        dedup_key="dead-1",
        school_id=s1.pk,
        status=Status.DEAD,
        attempts=5,
        last_error="SMTP: 550 mailbox unavailable",
    )
    client = signed_in(login_for("school_admin"))

    page = client.get("/inbox/deliveries/?status=dead").content.decode()
    assert "550 mailbox unavailable" in page and "重发" in page

    response = client.post(f"/inbox/deliveries/{row.pk}/retry/")
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.PENDING, 0)
    assert AuditRecord.objects.filter(action="notification.retry", target_id=str(row.pk)).exists()


def test_school_admin_adds_edits_and_disables_a_robot_and_the_secret_stays_out_of_the_log(login_for):
    s1 = School.objects.order_by("pk").first()
    client: Client = signed_in(login_for("school_admin"))
    assert client.get("/inbox/robots/").status_code == 200

    response = client.post(
        "/inbox/robots/add/",
        {
            "school_id": s1.pk,
            "kind": "dingtalk",
            "name": "高一家长群",
            "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=abc",
            "secret": "SECsecret123",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    robot = GroupRobot.objects.get(name="高一家长群")
    assert (robot.school_id, robot.secret, robot.enabled) == (s1.pk, "SECsecret123", True)

    client.post(
        f"/inbox/robots/{robot.pk}/edit/",
        {"kind": "dingtalk", "name": "高一家长群（新）", "webhook_url": robot.webhook_url, "enabled": "on"},
    )
    client.post(f"/inbox/robots/{robot.pk}/enable/", {"enabled": "0"})
    robot.refresh_from_db()
    assert (robot.name, robot.secret, robot.enabled) == ("高一家长群（新）", "SECsecret123", False)
    log = AuditRecord.objects.filter(target_type="notifications.grouprobot", target_id=str(robot.pk))
    assert sorted(log.values_list("action", flat=True)) == [
        "notification.robot_add",
        "notification.robot_disable",
        "notification.robot_edit",
    ]
    assert "SECsecret123" not in str(list(log.values_list("changes", flat=True)))
