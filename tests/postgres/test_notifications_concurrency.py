"""Two workers draining the outbox at once on PostgreSQL, each on its own connection: every row is sent
exactly once (SKIP LOCKED claims, the one-to-one inbox item, the lease token on external rows).

These tests commit (see conftest.committed_db) and delete what they wrote."""

from __future__ import annotations

import collections
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings

from zhixiao.notifications import channels, delivery, services
from zhixiao.notifications.models import Channel, InboxItem, Outbox, Preference, Status
from zhixiao.notifications.tests import conftest as notification_fixtures  # registers the test templates

from .test_concurrency import run_together

pytestmark = pytest.mark.postgres
assert notification_fixtures

PEOPLE = 120


@pytest.fixture
def people(committed_db):
    Account = get_user_model()
    accounts = [Account.objects.create_user(username=f"pg-notify-{i}", password=None) for i in range(PEOPLE)]
    for a in accounts:
        Preference.objects.create(account=a, channels=["sms"])
        Account.objects.filter(pk=a.pk).update(mobile=f"1980000{a.pk % 10000:04d}")
    try:
        yield Account.objects.filter(pk__in=[a.pk for a in accounts])
    finally:
        Outbox.objects.filter(recipient__in=accounts).delete()
        Preference.objects.filter(account__in=accounts).delete()
        Account.objects.filter(pk__in=[a.pk for a in accounts]).delete()


def test_two_workers_draining_at_once_send_every_row_once(people, monkeypatch):
    sent: list[str] = []
    lock = threading.Lock()

    class CountingSms:
        def send(self, *, mobile: str, text: str, reference: str) -> str:
            with lock:
                sent.append(reference)
            return reference

    monkeypatch.setattr(channels, "sms_provider", CountingSms)
    monkeypatch.setattr(services, "_enqueue", lambda: None)  # no delivery on commit: the two threads do it
    for i, person in enumerate(people):
        services.notify(recipients=[person], template="test.hello", context={"name": i}, dedup_key=f"pg:{i}")
    assert Outbox.objects.filter(recipient__in=people).count() == 2 * PEOPLE
    pids: set[int] = set()

    def drain(_i: int) -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pids.add(cursor.fetchone()[0])
        totals: collections.Counter[str] = collections.Counter()
        with override_settings(ZHIXIAO_NOTIFY_LEASE_SECONDS=120):
            while True:  # small batches, so the two really interleave
                report = delivery.deliver_due(limit=7)
                totals.update(report.as_dict())
                if not any(report.as_dict().values()):
                    return dict(totals)

    results = run_together(2, drain)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(pids) == 2
    assert sum(r["sent"] for r in results) == 2 * PEOPLE
    assert all(r["sent"] > 0 for r in results), f"one worker did everything: {results}"
    assert len(sent) == PEOPLE and len(set(sent)) == PEOPLE  # each SMS once
    assert InboxItem.objects.filter(recipient__in=people).count() == PEOPLE  # each inbox item once
    assert set(Outbox.objects.filter(recipient__in=people).values_list("status", flat=True)) == {Status.SENT}
    assert not Outbox.objects.filter(recipient__in=people, channel=Channel.SMS, attempts__gt=1).exists()
