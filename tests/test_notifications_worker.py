"""The kill test: a real `zhixiao worker` delivering a few hundred e-mails to a slow SMTP server on loopback
is SIGKILLed midway and started again. No notification is lost; none arrives twice except possibly the one
that was in flight when the worker died, and that one carries the same Message-ID (the row's own).

The worker and the script that writes the notifications are separate processes on one SQLite file in a
temporary data directory (the test database of this process is not shared with a subprocess)."""

from __future__ import annotations

import collections
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from zhixiao.notifications.tests.servers import MailBox, smtp_server

MESSAGES = 300

WRITE_SCRIPT = """
import django
django.setup()
from django.contrib.auth import get_user_model
from django.db import transaction
from zhixiao.notifications import services
from zhixiao.notifications.models import Preference

Account = get_user_model()
for i in range({n}):
    with transaction.atomic():  # one business transaction per notice, as a page would do
        a = Account.objects.create_user(username=f"kill-{{i}}", password=None)  # no hashing: fast
        Preference.objects.create(account=a, channels=["email"], email=f"p{{i}}@example.cn")
        services.notify(recipients=[a], template="notifications.test", context={{"note": i}}, dedup_key=f"kill:{{i}}")
"""


def _env(data_dir: Path, smtp_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        ZHIXIAO_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="zhixiao.config.settings.local",
        ZHIXIAO_EMAIL_HOST="127.0.0.1",
        ZHIXIAO_EMAIL_PORT=str(smtp_port),
        ZHIXIAO_NOTIFY_LEASE_SECONDS="3",  # a dead worker's rows go again after 3 s, not 2 minutes
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "zhixiao.cli", "worker", "--interval", "0.2", "--no-startup-delay"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _statuses(db: Path) -> dict[str, int]:
    with sqlite3.connect(db, timeout=30) as conn:
        rows = conn.execute(
            "SELECT status, count(*) FROM notifications_outbox WHERE channel = 'email' GROUP BY status"
        ).fetchall()
    return dict(rows)


def _row_message_ids(db: Path) -> set[str]:
    with sqlite3.connect(db, timeout=30) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM notifications_outbox WHERE channel = 'email'")]
    return {f"<zhixiao.outbox.{pk}@zhixiao.local>" for pk in ids}


def _wait(condition, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_worker_loses_nothing_and_resends_only_the_message_in_flight(tmp_path):
    box = MailBox(delay=0.03)  # a slow server: ~10 s for the lot, so the kill lands mid-run
    with smtp_server(box) as (box, port):
        env = _env(tmp_path, port)
        db = tmp_path / "zhixiao.sqlite3"
        _run(["-m", "zhixiao.cli", "migrate", "--verbosity", "0"], env)
        _run(["-c", WRITE_SCRIPT.format(n=MESSAGES)], env)
        assert _statuses(db) == {"pending": MESSAGES}
        expected = _row_message_ids(db)

        log = tmp_path / "worker.log"
        first = _worker(env, log)
        try:
            _wait(lambda: len(box.messages) >= MESSAGES // 3, 120, "the first hundred messages")
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
        delivered_before_restart = len(box.messages)
        assert delivered_before_restart < MESSAGES, "the worker finished before it could be killed"

        second = _worker(env, log)
        try:
            _wait(lambda: _statuses(db).get("sent") == MESSAGES, 180, "every row to be marked sent")
        finally:
            second.send_signal(signal.SIGTERM)
            try:
                second.wait(timeout=10)
            except subprocess.TimeoutExpired:
                second.kill()

    ids = box.message_ids()
    counts = collections.Counter(ids)
    twice = [mid for mid, n in counts.items() if n > 1]
    assert set(ids) == expected  # nothing lost, nothing foreign
    assert len(twice) <= 1, f"more than the in-flight message went twice: {twice}"
    assert all(n <= 2 for n in counts.values())
    for mid in twice:  # the resend is the same message (same id, same recipient), a later attempt
        copies = [m for m in box.messages if m["Message-ID"] == mid]
        assert len({m["To"] for m in copies}) == 1
        assert [m["X-Zhixiao-Attempt"] for m in copies] == ["1", "2"]
    assert len(ids) in (MESSAGES, MESSAGES + 1)
    print(f"delivered before the kill: {delivered_before_restart}; sent twice: {twice or 'none'}")
