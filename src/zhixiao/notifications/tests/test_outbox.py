"""notify() writes the outbox; the worker delivers: in-app exactly once, e-mail to a real SMTP server,
retries with back-off, then another channel; quiet hours; a lease that ran out."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from zhixiao.notifications import delivery, selectors, services
from zhixiao.notifications.models import Channel, InboxItem, Outbox, Preference, Status

pytestmark = pytest.mark.django_db


def _prefs(account, **fields):
    return Preference.objects.update_or_create(account=account, defaults=fields)[0]


def test_unknown_template_or_missing_placeholder_is_refused_at_notify_time(make_account):
    person = make_account()
    with pytest.raises(ValueError, match="unknown notification template"):
        services.notify(recipients=[person], template="nope.nothing", context={}, dedup_key="k")
    with pytest.raises(ValueError, match="name"):
        services.notify(recipients=[person], template="test.hello", context={}, dedup_key="k")
    assert not Outbox.objects.filter(recipient=person).exists()


def test_the_same_notification_twice_is_written_and_delivered_once(make_account):
    person, other = make_account(), make_account()

    first = services.notify(
        recipients=[person, other.pk, person.pk], template="test.hello", context={"name": "张三"}, dedup_key="leave:1"
    )
    again = services.notify(recipients=[person], template="test.hello", context={"name": "张三"}, dedup_key="leave:1")
    delivery.deliver_due()
    delivery.deliver_due()

    assert (first, again) == (2, 0)  # in-app only by default: one row each
    items = InboxItem.objects.filter(recipient=person)
    assert [(i.title, i.body) for i in items] == [("你好，张三", "张三 有一条新消息")]
    assert selectors.unread_count(actor=person) == 1
    assert Outbox.objects.get(recipient=person).status == Status.SENT


def test_rows_are_written_in_the_business_transaction_and_delivered_after_commit(
    make_account, django_capture_on_commit_callbacks
):
    person = make_account()

    def failing_action() -> None:
        with transaction.atomic():
            services.notify(recipients=[person], template="test.hello", context={"name": "甲"}, dedup_key="rolled")
            raise RuntimeError("the business action failed")

    with pytest.raises(RuntimeError):
        failing_action()
    assert not Outbox.objects.filter(dedup_key="rolled").exists()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.notify(recipients=[person], template="test.hello", context={"name": "乙"}, dedup_key="kept")
        assert not InboxItem.objects.filter(recipient=person).exists()  # nothing before the commit
    assert len(callbacks) == 1
    assert InboxItem.objects.get(recipient=person).title == "你好，乙"  # the task ran (immediate backend)


def test_one_delivery_run_is_queued_per_transaction_however_many_notifications_it_writes(
    make_account, django_capture_on_commit_callbacks
):
    first, second = make_account(), make_account()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.notify(recipients=[first], template="test.hello", context={"name": "甲"}, dedup_key="one")
        services.notify(recipients=[second], template="test.hello", context={"name": "乙"}, dedup_key="two")
    assert len(callbacks) == 1
    assert InboxItem.objects.filter(recipient__in=[first, second]).count() == 2  # both delivered by that run


def test_in_app_is_rendered_in_the_recipients_language(make_account):
    english, chinese = make_account(), make_account()
    _prefs(english, language="en")
    services.notify(recipients=[english, chinese], template="test.school", context={"name": "x"}, dedup_key="lang")
    delivery.deliver_due()
    assert InboxItem.objects.get(recipient=english).title == "School"
    assert InboxItem.objects.get(recipient=chinese).title == "学校"


def test_inbox_lists_unread_first_and_marks_read(make_account):
    person, stranger = make_account(), make_account()
    for n in range(3):
        services.notify(recipients=[person], template="test.hello", context={"name": n}, dedup_key=f"m{n}")
    delivery.deliver_due()
    oldest = InboxItem.objects.filter(recipient=person).order_by("created_at", "pk").first()
    services.mark_read(actor=person, item_id=oldest.pk)
    with pytest.raises(InboxItem.DoesNotExist):
        services.mark_read(actor=stranger, item_id=oldest.pk)

    listed = list(selectors.inbox_of(actor=person))
    assert listed[-1].pk == oldest.pk and listed[-1].read_at is not None
    assert all(i.read_at is None for i in listed[:2])
    assert services.mark_all_read(actor=person) == 2
    assert selectors.unread_count(actor=person) == 0


def test_email_goes_to_a_real_smtp_server_with_a_stable_message_id(make_account, mailbox):
    person = make_account()
    _prefs(person, channels=["email"], email="parent@example.cn")

    written = services.notify(
        recipients=[person], template="test.hello", context={"name": "李四"}, dedup_key="mail:1", url="/inbox/"
    )
    report = delivery.deliver_due()

    assert written == 2 and report.sent == 2
    row = Outbox.objects.get(recipient=person, channel=Channel.EMAIL)
    [message] = mailbox.messages
    assert message["To"] == "parent@example.cn"
    assert message["Subject"] == "你好，李四"
    assert message["Message-ID"] == row.message_id == f"<zhixiao.outbox.{row.pk}@zhixiao.local>"
    assert "李四 有一条新消息" in message.get_content()


def test_failed_email_is_retried_with_doubling_back_off_then_handed_to_sms(make_account, mailbox, sms_server):
    mailbox.refuse = 1000  # the mail server keeps answering 451
    person = make_account()
    _prefs(person, channels=["email"], email="p@example.cn")
    services.notify(recipients=[person], template="test.hello", context={"name": "王五"}, dedup_key="retry:1")
    _prefs(person, channels=["email", "sms"], email="p@example.cn")  # SMS switched on after the notice was written

    now = timezone.now()
    delivery.deliver_due(now=now)
    row = Outbox.objects.get(recipient=person, channel=Channel.EMAIL)
    gaps = []
    while row.status == Status.FAILED:
        assert delivery.deliver_due(now=row.next_attempt_at - dt.timedelta(seconds=1)).sent == 0  # not yet due
        gaps.append(round((row.next_attempt_at - now).total_seconds()))
        now = row.next_attempt_at
        delivery.deliver_due(now=now)
        row.refresh_from_db()

    assert gaps == [30, 60, 120, 240]  # after attempts 1-4; the 5th failure hands over
    assert row.status == Status.FALLEN_BACK and row.attempts == 5
    assert "451" in row.last_error
    assert mailbox.refused == 5 and mailbox.messages == []
    sms = Outbox.objects.get(recipient=person, channel=Channel.SMS)
    assert sms.fallback_of_id == row.pk and sms.status == Status.SENT
    assert list(sms_server.received) == [sms.reference]
    assert sms_server.received[sms.reference]["mobile"] == person.mobile
    assert "王五" in sms_server.received[sms.reference]["text"]


def test_an_email_that_cannot_go_anywhere_else_counts_as_handed_to_the_inbox(make_account, mailbox):
    mailbox.refuse = 1000
    person = make_account()
    _prefs(person, channels=["email"], email="p@example.cn")
    services.notify(recipients=[person], template="test.hello", context={"name": "赵"}, dedup_key="inbox-only")
    now = timezone.now()
    for _ in range(5):
        delivery.deliver_due(now=now)
        now += dt.timedelta(hours=1)
    row = Outbox.objects.get(recipient=person, channel=Channel.EMAIL)
    assert row.status == Status.FALLEN_BACK
    assert InboxItem.objects.filter(recipient=person).count() == 1  # never dropped


def test_a_row_left_sending_by_a_dead_worker_goes_again_with_the_same_message_id(make_account, mailbox):
    person = make_account()
    _prefs(person, channels=["email"], email="p@example.cn")
    services.notify(recipients=[person], template="test.hello", context={"name": "钱"}, dedup_key="lease")
    now = timezone.now()
    [claimed] = delivery.claim(now=now, channel_set=[Channel.EMAIL], limit=10)  # …and the worker dies here

    assert delivery.deliver_due(now=now + dt.timedelta(seconds=60)).sent == 1  # the in-app row only
    assert mailbox.messages == []  # the lease (120 s) still holds
    delivery.deliver_due(now=now + dt.timedelta(seconds=121))

    row = Outbox.objects.get(pk=claimed.pk)
    assert row.status == Status.SENT and row.attempts == 2
    assert mailbox.message_ids() == [claimed.message_id]


def test_quiet_hours_hold_external_messages_but_not_the_inbox(make_account, mailbox):
    local = timezone.localtime()
    person = make_account()
    _prefs(
        person,
        channels=["email"],
        email="p@example.cn",
        quiet_start=(local - dt.timedelta(hours=1)).time().replace(second=0, microsecond=0),
        quiet_end=(local + dt.timedelta(hours=1)).time().replace(second=0, microsecond=0),
    )
    services.notify(recipients=[person], template="test.hello", context={"name": "孙"}, dedup_key="quiet")
    services.notify(recipients=[person], template="test.urgent", context={"name": "孙"}, dedup_key="urgent")

    delivery.deliver_due()
    assert InboxItem.objects.filter(recipient=person).count() == 2  # in-app is immediate
    assert [m["Subject"] for m in mailbox.messages] == ["紧急：孙"]  # urgent ignores quiet hours
    held = Outbox.objects.get(recipient=person, channel=Channel.EMAIL, dedup_key="quiet")
    assert held.status == Status.PENDING
    assert abs((held.next_attempt_at - (local + dt.timedelta(hours=1))).total_seconds()) < 60

    delivery.deliver_due(now=held.next_attempt_at)
    assert sorted(m["Subject"] for m in mailbox.messages) == ["你好，孙", "紧急：孙"]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-03-02 23:30", "2026-03-03 07:00"),
        ("2026-03-03 06:59", "2026-03-03 07:00"),
        ("2026-03-03 07:00", None),
        ("2026-03-03 12:00", None),
        ("2026-03-03 22:00", "2026-03-04 07:00"),
    ],
)
def test_quiet_hours_may_span_midnight(at, expected):
    pref = Preference(quiet_start=dt.time(22, 0), quiet_end=dt.time(7, 0))
    tz = timezone.get_current_timezone()
    moment = timezone.make_aware(dt.datetime.strptime(at, "%Y-%m-%d %H:%M"), tz)
    until = delivery.quiet_until(pref, moment)
    assert (timezone.localtime(until).strftime("%Y-%m-%d %H:%M") if until else None) == expected


def test_preferences_need_an_address_for_email_and_a_mobile_for_sms(make_account):
    from zhixiao.kernel.errors import DomainError

    no_mobile = make_account(mobile=False)
    with pytest.raises(DomainError):
        services.save_preferences(actor=no_mobile, channels=["email"], email="")
    with pytest.raises(DomainError):
        services.save_preferences(actor=no_mobile, channels=["sms"])
    pref = services.save_preferences(actor=no_mobile, channels=["email", "inapp", "bogus"], email="a@b.cn")
    assert pref.channels == ["email"]
