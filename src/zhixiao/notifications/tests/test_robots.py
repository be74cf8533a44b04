"""Group robots against a real HTTP server on loopback that checks DingTalk's signature and, like the
platforms, throttles after 20 messages a minute; and SMS through the default HTTP provider adapter."""

from __future__ import annotations

import datetime as dt
import urllib.parse

import pytest
from django.utils import timezone

from zhixiao.notifications import channels, delivery, services
from zhixiao.notifications.models import Channel, GroupRobot, InboxItem, Outbox, Preference, Status

pytestmark = pytest.mark.django_db

SCHOOL = 900_001


def _robot(base: str, kind: str = "dingtalk", secret: str = "SECtest-signing-secret") -> GroupRobot:
    url = f"{base}/dingtalk?access_token=tok" if kind == "dingtalk" else f"{base}/wecom?key=k"
    return GroupRobot.objects.create(school_id=SCHOOL, kind=kind, name=kind, webhook_url=url, secret=secret)


def _people(make_account, n: int, channels_on: list[str], **pref) -> list:
    people = [make_account() for _ in range(n)]
    for p in people:
        Preference.objects.create(account=p, channels=channels_on, **pref)
    return people


def test_dingtalk_signing_follows_the_documented_recipe():
    url = channels.dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=t", "SECabc", 1577808000000)
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    # base64(HMAC-SHA256(key=secret, msg="1577808000000\nSECabc")), computed with `openssl dgst -sha256 -hmac`
    assert query["timestamp"] == ["1577808000000"]
    assert query["sign"] == ["d8MiemiW5bT/XT2zgWrhyRQdANlJ4zkTa39rkwaldRU="]


def test_a_dingtalk_message_is_signed_and_mentions_the_recipient(make_account, robot_server):
    server, base = robot_server
    _robot(base)
    [person] = _people(make_account, 1, ["dingtalk"])

    written = services.notify(
        recipients=[person], template="test.hello", context={"name": "周"}, dedup_key="d1", school_id=SCHOOL
    )
    delivery.deliver_due()

    assert written == 2
    assert server.bad_signatures == 0
    [(kind, body)] = server.received
    assert kind == "dingtalk" and body["msgtype"] == "markdown"
    assert body["at"]["atMobiles"] == [person.mobile]
    assert "你好，周" in body["markdown"]["text"] and f"@{person.mobile}" in body["markdown"]["text"]
    assert Outbox.objects.get(recipient=person, channel=Channel.DINGTALK).status == Status.SENT


def test_a_wrong_secret_is_refused_by_the_robot_and_the_message_goes_elsewhere(make_account, robot_server):
    server, base = robot_server
    _robot(base, secret="SECwrong")
    [person] = _people(make_account, 1, ["dingtalk"])
    services.notify(
        recipients=[person], template="test.hello", context={"name": "吴"}, dedup_key="d2", school_id=SCHOOL
    )
    delivery.deliver_due()

    assert server.bad_signatures == 1 and server.received == []
    row = Outbox.objects.get(recipient=person, channel=Channel.DINGTALK)
    assert row.status == Status.FALLEN_BACK and "310000" in row.last_error  # not retried: it cannot get better
    assert InboxItem.objects.filter(recipient=person).count() == 1


def test_queued_messages_for_one_robot_go_as_one_digest(make_account, robot_server):
    server, base = robot_server
    _robot(base)
    people = _people(make_account, 45, ["dingtalk"])
    for i, p in enumerate(people):
        services.notify(recipients=[p], template="test.hello", context={"name": i}, dedup_key=f"g{i}", school_id=SCHOOL)

    delivery.deliver_due()

    assert len(server.received) == 1 and server.throttled == 0
    body = server.received[0][1]
    assert body["markdown"]["title"] == "45 条新通知"
    assert sorted(body["at"]["atMobiles"]) == sorted(p.mobile for p in people)
    assert Outbox.objects.filter(channel=Channel.DINGTALK, status=Status.SENT).count() == 45


def test_wecom_digests_are_split_to_fit_its_2048_bytes(make_account, robot_server):
    server, base = robot_server
    _robot(base, kind="wecom", secret="")
    people = _people(make_account, 60, ["wecom"])
    for i, p in enumerate(people):
        services.notify(recipients=[p], template="test.hello", context={"name": i}, dedup_key=f"w{i}", school_id=SCHOOL)

    delivery.deliver_due()

    assert 2 <= len(server.received) <= channels.ROBOT_LIMIT_PER_MINUTE
    for kind, body in server.received:
        assert kind == "wecom" and body["msgtype"] == "text"
        assert len(body["text"]["content"].encode()) <= 2048
    mentioned = [m for _kind, body in server.received for m in body["text"]["mentioned_mobile_list"]]
    assert sorted(mentioned) == sorted(p.mobile for p in people)  # each once


def test_the_robot_minute_is_kept_so_the_platform_never_throttles(make_account, robot_server):
    server, base = robot_server
    robot = _robot(base)
    people = _people(make_account, 25, ["dingtalk"])
    now = timezone.now() + dt.timedelta(seconds=30)  # a clock a little ahead, so every row is due
    for i, p in enumerate(people):  # one at a time: 25 separate messages within the same minute
        services.notify(recipients=[p], template="test.hello", context={"name": i}, dedup_key=f"m{i}", school_id=SCHOOL)
        delivery.deliver_due(now=now)

    assert len(server.received) == 20 and server.throttled == 0
    waiting = Outbox.objects.filter(channel=Channel.DINGTALK, status=Status.PENDING)
    assert waiting.count() == 5
    assert all(r.attempts == 0 for r in waiting)  # waiting for the robot is not a failed attempt
    robot.refresh_from_db()
    assert len(robot.recent_sends) == 20

    # A minute later by our clock the five go as one digest; the test server's own minute is real time and
    # still full, so it answers 130101, as the platform would to another sender sharing the robot.
    delivery.deliver_due(now=now + dt.timedelta(seconds=61))
    robot.refresh_from_db()
    assert server.throttled == 1 and len(server.received) == 20
    assert robot.throttled_until == now + dt.timedelta(seconds=61 + 600)
    assert sorted(r.next_attempt_at for r in waiting.all()) == [robot.throttled_until] * 5


def test_a_throttled_robot_backs_off_then_hands_messages_to_other_channels(make_account, robot_server, mailbox):
    server, base = robot_server
    server.throttle_all = True  # the platform says 130101 whatever we do
    robot = _robot(base)
    people = _people(make_account, 3, ["dingtalk"])
    urgent_person = people[0]
    for i, p in enumerate(people[1:]):
        services.notify(recipients=[p], template="test.hello", context={"name": i}, dedup_key=f"t{i}", school_id=SCHOOL)
    services.notify(
        recipients=[urgent_person], template="test.urgent", context={"name": "急"}, dedup_key="tu", school_id=SCHOOL
    )
    now = timezone.now()

    delivery.deliver_due(now=now)

    robot.refresh_from_db()
    assert server.throttled == 1  # one digest tried, refused
    assert robot.throttled_until is not None and robot.throttled_until >= now + dt.timedelta(minutes=10)
    urgent_row = Outbox.objects.get(recipient=urgent_person, channel=Channel.DINGTALK)
    assert urgent_row.status == Status.FALLEN_BACK  # urgent: does not wait out the 10 minutes
    waiting = Outbox.objects.filter(channel=Channel.DINGTALK, status=Status.PENDING)
    assert waiting.count() == 2 and all(r.next_attempt_at == robot.throttled_until for r in waiting)

    delivery.deliver_due(now=now + dt.timedelta(minutes=5))  # still throttled: nothing is tried
    assert server.throttled == 1

    # E-mail switched on meanwhile; after the longest wait for a robot (15 min) the rest go by e-mail.
    for p in people[1:]:
        Preference.objects.filter(account=p).update(channels=["dingtalk", "email"], email=f"{p.username}@example.cn")
    delivery.deliver_due(now=now + dt.timedelta(minutes=16))
    delivery.deliver_due(now=now + dt.timedelta(minutes=16))
    assert Outbox.objects.filter(channel=Channel.DINGTALK, status=Status.FALLEN_BACK).count() == 3
    assert sorted(m["To"] for m in mailbox.messages) == sorted(f"{p.username}@example.cn" for p in people[1:])
    assert InboxItem.objects.filter(recipient__in=people).count() == 3  # and nobody lost the in-app copy


def test_a_disabled_robot_hands_its_queue_to_other_channels(make_account, robot_server):
    server, base = robot_server
    robot = _robot(base)
    [person] = _people(make_account, 1, ["dingtalk"])
    services.notify(
        recipients=[person], template="test.hello", context={"name": "郑"}, dedup_key="off", school_id=SCHOOL
    )
    GroupRobot.objects.filter(pk=robot.pk).update(enabled=False)
    delivery.deliver_due()
    assert server.received == []
    assert Outbox.objects.get(recipient=person, channel=Channel.DINGTALK).status == Status.FALLEN_BACK


# --- SMS ------------------------------------------------------------------------------------------------------
def test_sms_is_signed_and_carries_its_idempotency_key(make_account, sms_server):
    [person] = _people(make_account, 1, ["sms"])
    services.notify(recipients=[person], template="test.hello", context={"name": "冯"}, dedup_key="s1", url="/inbox/")
    delivery.deliver_due()

    row = Outbox.objects.get(recipient=person, channel=Channel.SMS)
    assert row.status == Status.SENT and sms_server.bad_signatures == 0
    sent = sms_server.received[row.reference]
    assert sent["mobile"] == person.mobile and sent["text"].startswith("你好，冯：冯 有一条新消息")
    assert sent["sign_name"] == "智校"


def test_sms_provider_errors_are_retried_and_a_resend_reuses_the_key(make_account, sms_server):
    sms_server.fail_with = 503
    [person] = _people(make_account, 1, ["sms"])
    services.notify(recipients=[person], template="test.hello", context={"name": "陈"}, dedup_key="s2")
    now = timezone.now()
    delivery.deliver_due(now=now)
    row = Outbox.objects.get(recipient=person, channel=Channel.SMS)
    assert (row.status, row.attempts) == (Status.FAILED, 1) and "503" in row.last_error

    sms_server.fail_with = 0
    delivery.deliver_due(now=row.next_attempt_at)
    row.refresh_from_db()
    assert row.status == Status.SENT and sms_server.requests == 2
    assert list(sms_server.received) == [row.reference]


def test_an_sms_refused_for_good_is_not_retried(make_account, sms_server):
    sms_server.fail_with = 400
    [person] = _people(make_account, 1, ["sms"])
    services.notify(recipients=[person], template="test.hello", context={"name": "褚"}, dedup_key="s3")
    delivery.deliver_due()
    row = Outbox.objects.get(recipient=person, channel=Channel.SMS)
    assert row.status == Status.FALLEN_BACK and row.attempts == 1 and sms_server.requests == 1
