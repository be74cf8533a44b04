"""The kill test of the device API: the real web server (gunicorn, two workers) takes a rush of signed passage
uploads from three gates, is SIGKILLed in the middle (master and workers, mid-request), and started again;
the gates' client retries every unanswered batch with the same event ids (and some answers are lost on the
way back even while the server is up). Afterwards every passage a gate sent is stored exactly once, and no
guardian got two messages for one passage.

The server and the set-up are separate processes on their own database: a SQLite file in a temporary data
directory, or, when DATABASE_URL names PostgreSQL (`make pg`), a fresh database on that server (a test
database of this process cannot be shared with a subprocess)."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from zhixiao.devices.client import DeviceApiError, DeviceClient, new_event

GATES = 3
EVENTS_PER_GATE = 600
BATCH = 20
UNKNOWN_SHARE = 0.03
LOST_ANSWER_SHARE = 0.05

SETUP_SCRIPT = """
import datetime as dt, json, random
import django
django.setup()
from zhixiao.attendance import services as attendance
from zhixiao.attendance.management.commands.zx_simulate import enrolled_credentials, prepare_devices
from zhixiao.org import selectors as org_selectors

school_id = org_selectors.all_school_ids()[0]
# every passage is its own message ("gate:<passage id>"), the strictest case for sending once
attendance.save_policy(actor=None, school_id=school_id, notify_mode="every", absent_alert_at=dt.time(8, 10))
devices = prepare_devices(school_id=school_id, count={gates}, prefix="故障测试闸机")
print(json.dumps({{
    "devices": [{{"id": d.id, "secret": d.secret}} for d in devices],
    "credentials": enrolled_credentials(school_id=school_id, limit=10**6, rng=random.Random(3)),
}}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def database(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of the server's processes: its own SQLite file, or its own PostgreSQL database."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        ZHIXIAO_DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="zhixiao.config.settings.local",
        ZHIXIAO_NOTIFY_LEASE_SECONDS="3",
    )
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield env
        return
    import psycopg

    name = f"zx_gate_faults_{os.getpid()}_{int(time.time())}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        yield env
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rows(env: dict[str, str], sql: str) -> list[tuple[Any, ...]]:
    url = env.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url) as conn:
            return list(conn.execute(sql).fetchall())
    with sqlite3.connect(Path(env["ZHIXIAO_DATA_DIR"]) / "zhixiao.sqlite3", timeout=30) as conn:
        return list(conn.execute(sql).fetchall())


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """gunicorn as `zhixiao serve` runs it, in its own process group so one SIGKILL takes every worker."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "zhixiao.config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--graceful-timeout",
            "2",
        ],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_up(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not come up")


def _stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


class Gate(threading.Thread):
    """One gate's controller: its passages in batches of BATCH, each batch retried until answered."""

    def __init__(self, port: int, device: dict[str, Any], credentials: list[str], seed: int) -> None:
        super().__init__(daemon=True)
        rng = random.Random(seed)
        lossy = random.Random(seed + 1000)
        self.client = DeviceClient(
            f"http://127.0.0.1:{port}",
            device["id"],
            device["secret"],
            timeout=15,
            deadline=120,
            backoff=0.1,
            backoff_max=1.0,
            fault=lambda kind: lossy.random() < LOST_ANSWER_SHARE,
            rng=rng,
        )
        start = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))) - dt.timedelta(seconds=EVENTS_PER_GATE + 60)
        self.events = []
        for i in range(EVENTS_PER_GATE):
            unknown = rng.random() < UNKNOWN_SHARE
            credential = f"UNKNOWN-{seed}-{i}" if unknown else rng.choice(credentials)
            direction = "in" if unknown or rng.random() < 0.7 else "out"
            at = start + dt.timedelta(seconds=i)
            self.events.append(new_event(credential, direction, at, event_id=f"g{device['id']}-{i:05d}"))
        self.answered = 0  # batches
        self.statuses: dict[str, str] = {}
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for i in range(0, len(self.events), BATCH):
                answer = self.client.post_events(self.events[i : i + BATCH])
                for r in answer["results"]:
                    self.statuses[r["event_id"]] = r["status"]
                self.answered += 1
        except (DeviceApiError, AssertionError) as e:
            self.error = e


def test_a_killed_server_stores_every_passage_once_and_tells_each_guardian_once(database, tmp_path):
    env = database
    _run(["-m", "zhixiao.cli", "migrate", "--verbosity", "0"], env)
    _run(["-m", "zhixiao.cli", "demo", "--students", "60", "--schools", "1", "--json"], env)
    setup = json.loads(_run(["-c", SETUP_SCRIPT.format(gates=GATES)], env))
    devices, credentials = setup["devices"], setup["credentials"]
    assert len(devices) == GATES
    assert len(credentials) >= 30

    port = _free_port()
    log = tmp_path / "server.log"
    server = _server(env, port, log)
    try:
        _wait_up(port)
        gates = [Gate(port, d, credentials, seed=n) for n, d in enumerate(devices)]
        for g in gates:
            g.start()
        batches = GATES * EVENTS_PER_GATE // BATCH
        deadline = time.monotonic() + 120
        while sum(g.answered for g in gates) < batches // 4:
            assert time.monotonic() < deadline, f"the uploads did not get going: {log.read_text()[-2000:]}"
            assert all(g.is_alive() or g.error is None for g in gates), [g.error for g in gates]
            time.sleep(0.02)
        answered_at_kill = sum(g.answered for g in gates)
        os.killpg(server.pid, signal.SIGKILL)  # the master and both workers, mid-request
        server.wait(timeout=10)
        time.sleep(1.0)  # the gates keep retrying against a closed port meanwhile
        assert answered_at_kill < batches, "every batch was answered before the kill"
        server = _server(env, port, log)
        _wait_up(port)
        for g in gates:
            g.join(timeout=180)
        assert not any(g.is_alive() for g in gates), "a gate is still retrying"
        assert [g.error for g in gates] == [None] * GATES
    finally:
        _stop(server)
    retries = sum(g.client.stats.retries for g in gates)
    failures: dict[str, int] = {}
    for g in gates:
        for k, n in g.client.stats.failures.items():
            failures[k] = failures.get(k, 0) + n
    assert set(failures) - {"SimulatedTimeout"}, f"the kill was not felt by any gate: {failures}"

    # the worker delivers what the passages queued (a killed web process leaves its rows for it)
    _run(["-m", "zhixiao.cli", "worker", "--batch", "--interval", "0", "--no-startup-delay"], env)

    # every passage sent is stored, once
    sent = {(d["id"], e["event_id"]) for d, g in zip(devices, gates, strict=True) for e in g.events}
    # (the database is this test's own; the demo's own gates recorded its sample mornings, these gates the rest)
    ids = ",".join(str(int(d["id"])) for d in devices)
    stored = _rows(
        env,
        f"SELECT device_id, event_id, count(*) FROM attendance_gateevent WHERE device_id IN ({ids}) GROUP BY 1, 2",  # noqa: S608
    )
    assert {(int(r[0]), r[1]) for r in stored} == sent
    assert max(r[2] for r in stored) == 1
    # and every one was answered: recorded, or duplicate where an earlier answer was lost
    assert all(len(g.statuses) == EVENTS_PER_GATE for g in gates)
    unknown = sum(1 for g in gates for e in g.events if e["credential"].startswith("UNKNOWN-"))
    assert sum(1 for g in gates for s in g.statuses.values() if s == "anomaly") <= unknown

    # no guardian got two messages for one passage, and every message is about a stored passage
    twice = _rows(
        env,
        "SELECT dedup_key, recipient_id, channel, count(*) FROM notifications_outbox "
        "GROUP BY 1, 2, 3 HAVING count(*) > 1",
    )
    assert twice == []
    gate_messages = _rows(
        env, "SELECT dedup_key, recipient_id, channel FROM notifications_outbox WHERE dedup_key LIKE 'gate:%'"
    )
    passage_ids = {
        int(r[0])
        for r in _rows(
            env,
            f"SELECT id FROM attendance_gateevent WHERE student_id IS NOT NULL AND device_id IN ({ids})",  # noqa: S608
        )
    }
    told = {int(key.split(":")[1]) for key, _r, _c in gate_messages}
    assert told <= passage_ids
    assert len(told) > len(passage_ids) // 2, "guardians heard about too few passages"
    inbox_twice = _rows(
        env,
        "SELECT o.dedup_key, i.recipient_id, count(*) FROM notifications_inboxitem i "
        "JOIN notifications_outbox o ON o.id = i.outbox_id GROUP BY 1, 2 HAVING count(*) > 1",
    )
    assert inbox_twice == []
    print(
        f"batches answered before the kill: {answered_at_kill}/{batches}; retries {retries}; failures {failures}; "
        f"passages {len(sent)}; guardian messages {len(gate_messages)}; on {env.get('DATABASE_URL', 'SQLite')[:10]}"
    )


def test_zhixiao_simulate_gates_drives_a_running_server(database, tmp_path):
    """`zhixiao simulate gates` as the README suggests it against `make demo`'s server: registers its gates,
    sends passages with decisions, lost answers and a spell offline, and finds every one stored once."""
    env = database
    _run(["-m", "zhixiao.cli", "migrate", "--verbosity", "0"], env)
    logins = json.loads(_run(["-m", "zhixiao.cli", "demo", "--students", "60", "--schools", "1", "--json"], env))
    school = next(x["school"] for x in logins if x["school"])
    port = _free_port()
    server = _server(env, port, tmp_path / "server.log")
    try:
        _wait_up(port)
        simulate = [
            *("-m", "zhixiao.cli", "simulate", "gates", "--school", school, "--students", "40"),
            *("--minutes", "0.15", "--rate", "8", "--url", f"http://127.0.0.1:{port}", "--offline-share", "0.3"),
            *("--lost-share", "0.1", "--json"),
        ]
        first = json.loads(_run(simulate, env))
        again = json.loads(_run(simulate, env))  # the same gates, re-keyed; new event ids
    finally:
        _stop(server)
    for summary in (first, again):
        assert summary["sent"] > 30
        assert summary["stored"] == summary["sent"]
        assert summary["lost"] == summary["stored_twice"] == summary["unanswered"] == 0
        assert summary["accepted"] + summary["duplicates"] >= summary["sent"]
        assert summary["decide"]["n"] > 0
        assert summary["upload"]["p99_ms"] is not None
        assert summary["errors"] == []
    assert first["retries"] + again["retries"] > 0  # a tenth of the answers were lost
    assert max(first["max_backlog"], again["max_backlog"]) > 3  # offline spells queued passages
