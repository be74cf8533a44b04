"""`zhixiao simulate gates`: a school's gates driving the device API exactly as real ones do, against a running
server (`make demo`'s by default).

It registers (or reuses, with a fresh secret) a few simulated gates of the school, takes N enrolled students
(their 学籍号 are the credentials), and for M minutes at R passages a second: per passage a decide call, then
the passage queued and uploaded in small batches per gate about every second; some answers are lost on the
way back (the gate retries the same event ids), each gate goes offline once for a share of the run (it
decides from its copy of the permissions feed and uploads its backlog in batches of 500 when back), and a
few unknown cards are presented. Morning traffic: mostly "in".

At the end it checks the database the server writes to (the same settings) for every event it sent, stored
once, and prints a summary (with --json, one JSON object)."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from zhixiao.attendance.models import GateEvent
from zhixiao.devices import selectors as device_selectors
from zhixiao.devices import services as device_services
from zhixiao.devices.client import SHANGHAI, DeviceApiError, DeviceClient, new_event, percentile
from zhixiao.kernel.errors import DomainError
from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors

ENROLLED = "01"
DEVICE_PREFIX = "模拟闸机"


# --- set-up: devices and credentials ---------------------------------------------------------------------


@dataclass(frozen=True)
class SimDevice:
    id: int
    name: str
    secret: str
    school_id: int


def prepare_devices(*, school_id: int, count: int, prefix: str = DEVICE_PREFIX) -> list[SimDevice]:
    """`count` gates named "<prefix>1…" of the school: registered on first use, re-keyed on later runs (the
    secret is shown only once, so a rerun draws a new one)."""
    out = []
    for i in range(1, count + 1):
        name = f"{prefix}{i}"
        try:
            device, secret = device_services.register_device(
                actor=None, school_id=school_id, kind="gate", name=name, place="模拟校门", direction="both"
            )
        except DomainError:
            existing = device_selectors.device_named(school_id=school_id, name=name)
            if existing is None:
                raise
            device, secret = device_services.rotate_secret(actor=None, device_id=existing)
            if not device.is_active:
                device = device_services.set_active(actor=None, device_id=device.pk, active=True)
        out.append(SimDevice(device.pk, name, secret, school_id))
    return out


def enrolled_credentials(*, school_id: int, limit: int, rng: random.Random) -> list[str]:
    """The 学籍号 of up to `limit` enrolled students of the school, in a random order."""
    numbers = sorted(
        s["student_no"]
        for s in people_selectors.gate_students(school_id=school_id)
        if s["status"] == ENROLLED and s["student_no"]
    )
    rng.shuffle(numbers)
    return numbers[:limit]


# --- the plan: who passes which gate when ----------------------------------------------------------------


@dataclass(frozen=True)
class Passage:
    offset: float  # seconds after the start of the run
    device: int  # index into the devices
    credential: str
    direction: str
    at: dt.datetime | None = None  # the passage's clock time; None: the time it happens


def poisson_plan(
    *,
    credentials: list[str],
    devices: int,
    seconds: float,
    rate: float,
    rng: random.Random,
    out_share: float = 0.1,
    unknown_share: float = 0.02,
) -> list[Passage]:
    """Passages at `rate` a second on average (exponential gaps), spread over the gates; each student first
    comes in, then now and then goes out or in again; a share are unknown cards."""
    plan: list[Passage] = []
    t = rng.expovariate(rate)
    entered: list[str] = []
    waiting = list(credentials)
    while t < seconds:
        if rng.random() < unknown_share or not credentials:
            credential, direction = f"UNKNOWN-{rng.randrange(10**8):08d}", "in"
        elif waiting and (rng.random() >= out_share or not entered):
            credential, direction = waiting.pop(), "in"
            entered.append(credential)
        else:
            credential = rng.choice(entered or credentials)
            direction = "out" if rng.random() < 0.8 else "in"
        plan.append(Passage(t, rng.randrange(devices), credential, direction))
        t += rng.expovariate(rate)
        if not waiting:
            waiting = list(credentials)  # a long run: everyone comes round again
            rng.shuffle(waiting)
    return plan


def offline_windows(*, devices: int, seconds: float, share: float, rng: random.Random) -> list[tuple[float, float]]:
    """One offline spell per gate, `share` of the run long, somewhere in its middle (none if share is 0)."""
    if share <= 0:
        return [(math.inf, math.inf)] * devices
    length = min(share, 0.9) * seconds
    out = []
    for _ in range(devices):
        start = rng.uniform(0.05 * seconds, max(0.05 * seconds, 0.95 * seconds - length))
        out.append((start, start + length))
    return out


# --- the run ---------------------------------------------------------------------------------------------


@dataclass
class GateRun:
    """One simulated gate: its client, its share of the plan, and what came back."""

    device: SimDevice
    client: DeviceClient
    passages: list[Passage]
    offline: tuple[float, float]
    known: set[str] = field(default_factory=set)  # the offline copy: credentials the feed says may pass
    cursor: int | None = None
    sent: list[str] = field(default_factory=list)  # event ids in the order they were queued
    statuses: dict[str, str] = field(default_factory=dict)  # event id → the last status the server gave
    reported: Counter[str] = field(default_factory=Counter)  # accepted, duplicates, anomalies as summed
    decisions: Counter[str] = field(default_factory=Counter)
    upload_batches: list[int] = field(default_factory=list)
    max_backlog: int = 0
    errors: list[str] = field(default_factory=list)


def _credentials_of(feed: dict[str, Any]) -> set[str]:
    """Every credential in a permissions feed's passes (the gate's offline list)."""
    out: set[str] = set()
    for p in feed.get("passes") or []:
        if not isinstance(p, dict) or p.get("active") is False:
            continue
        for key in ("credentials", "credential", "number", "student_no", "staff_no"):
            value = p.get(key)
            if isinstance(value, str):
                out.add(value)
            elif isinstance(value, list):
                out.update(v if isinstance(v, str) else str(v.get("credential", "")) for v in value)
    return out


class GateSimulation:
    """Runs a plan against a server: per gate one thread for the passages (decide, then queue the passage)
    and one for uploads (every `upload_every` seconds), then a final upload of whatever is still queued."""

    def __init__(
        self,
        *,
        base_url: str,
        devices: list[SimDevice],
        plan: list[Passage],
        windows: list[tuple[float, float]] | None = None,
        lost_answer_share: float = 0.02,
        decide: bool = True,
        upload_every: float = 1.0,
        timeout: float = 30.0,  # a 500-passage backlog batch may take seconds on a busy server
        seed: int = 1,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.base_url = base_url
        self.decide = decide
        self.upload_every = upload_every
        self.progress = progress
        self.windows = windows or [(math.inf, math.inf)] * len(devices)
        self.stop = threading.Event()
        self.started = 0.0
        self.run_id = f"{int(time.time() * 1000):x}"  # event ids unique per device across runs too
        self.gates: list[GateRun] = []
        for i, d in enumerate(devices):
            rng = random.Random(f"{seed}:{d.id}")
            lossy = rng.random

            def fault(kind: str, lossy: Callable[[], float] = lossy) -> bool:
                return kind in ("events", "decide") and lossy() < lost_answer_share

            client = DeviceClient(
                base_url, d.id, d.secret, timeout=timeout, deadline=120.0, fault=fault, rng=random.Random(rng.random())
            )
            self.gates.append(GateRun(d, client, [p for p in plan if p.device == i], self.windows[i]))

    # a rotated secret reaches every server process within a few seconds (they cache device rows)
    def _handshake(self, gate: GateRun) -> None:
        deadline = time.monotonic() + 15
        while True:
            try:
                feed = gate.client.permissions()
            except DeviceApiError as e:
                if e.status == 401 and time.monotonic() < deadline:
                    time.sleep(0.5)
                    continue
                raise
            gate.known = _credentials_of(feed)
            gate.cursor = feed.get("cursor")
            return

    def _offline(self, gate: GateRun, now: float) -> bool:
        start, end = gate.offline
        return start <= now - self.started < end

    def _gate_loop(self, gate: GateRun) -> None:
        for p in gate.passages:
            if self.stop.is_set():
                return
            delay = self.started + p.offset - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            offline = self._offline(gate, time.monotonic())
            gate.client.offline = offline
            at = p.at or dt.datetime.now(SHANGHAI)
            if offline:  # decided from the gate's own copy
                gate.decisions["allow" if p.credential in gate.known else "deny"] += 1
                gate.decisions["offline"] += 1
            elif self.decide:
                try:
                    answer = gate.client.decide(p.credential, p.direction, at)
                except DeviceApiError as e:
                    gate.errors.append(f"decide: {e}")
                    gate.decisions["error"] += 1
                else:
                    gate.decisions["allow" if answer.get("allow") else "deny"] += 1
                    if answer.get("late"):
                        gate.decisions["late"] += 1
            event = new_event(p.credential, p.direction, at, event_id=f"sim-{self.run_id}-{len(gate.sent):07d}")
            gate.sent.append(event["event_id"])
            gate.client.queue([event])
            gate.max_backlog = max(gate.max_backlog, gate.client.backlog)

    def _upload(self, gate: GateRun) -> None:
        try:
            answers = gate.client.flush()
        except DeviceApiError as e:
            gate.errors.append(f"events: {e}")
            if e.status is not None and 400 <= e.status < 500 and e.status != 429:
                self.stop.set()  # a refused batch would be refused for ever: a bug to look at, not to retry
            return
        for a in answers:
            gate.upload_batches.append(len(a.get("results") or []))
            for key in ("accepted", "duplicates", "anomalies"):
                gate.reported[key] += int(a.get(key) or 0)
            for r in a.get("results") or []:
                gate.statuses[r["event_id"]] = r["status"]

    def _upload_loop(self, gate: GateRun, done: threading.Event) -> None:
        while not done.is_set() and not self.stop.is_set():
            done.wait(self.upload_every)
            if not self._offline(gate, time.monotonic()):
                gate.client.offline = False
                self._upload(gate)

    def run(self) -> dict[str, Any]:
        for gate in self.gates:
            self._handshake(gate)
        self.started = time.monotonic()
        done = threading.Event()
        gate_threads = [threading.Thread(target=self._gate_loop, args=(g,), daemon=True) for g in self.gates]
        uploaders = [threading.Thread(target=self._upload_loop, args=(g, done), daemon=True) for g in self.gates]
        for t in gate_threads + uploaders:
            t.start()
        total = max((p.offset for g in self.gates for p in g.passages), default=0.0)
        while any(t.is_alive() for t in gate_threads):
            for t in gate_threads:
                t.join(timeout=5)
            if self.progress:
                elapsed = time.monotonic() - self.started
                sent = sum(len(g.sent) for g in self.gates)
                self.progress(
                    f"{elapsed:5.0f}/{total:.0f} s  sent {sent}  backlog {sum(g.client.backlog for g in self.gates)}"
                )
        done.set()
        for t in uploaders:
            t.join()
        ended = time.monotonic()
        for gate in self.gates:  # what is still queued (a spell offline at the very end), all back online
            gate.client.offline = False
            while gate.client.backlog and not self.stop.is_set():
                before = gate.client.backlog
                self._upload(gate)
                if gate.client.backlog == before:
                    break
        return self.summary(ended - self.started, time.monotonic() - self.started)

    def summary(self, passages_seconds: float, total_seconds: float) -> dict[str, Any]:
        sent = sum(len(g.sent) for g in self.gates)
        statuses: Counter[str] = Counter()
        reported: Counter[str] = Counter()
        decisions: Counter[str] = Counter()
        latencies: dict[str, list[float]] = {}
        failures: Counter[str] = Counter()
        unanswered = 0
        for g in self.gates:
            statuses.update(g.statuses.values())
            reported.update(g.reported)
            decisions.update(g.decisions)
            unanswered += sum(1 for e in g.sent if e not in g.statuses)
            failures.update(g.client.stats.failures)
            for k, v in g.client.stats.latencies.items():
                latencies.setdefault(k, []).extend(v)

        def pct(kind: str) -> dict[str, Any]:
            values = latencies.get(kind, [])
            p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
            return {
                "n": len(values),
                "p50_ms": None if p50 is None else round(p50, 1),
                "p99_ms": None if p99 is None else round(p99, 1),
            }

        batches = [n for g in self.gates for n in g.upload_batches]
        return {
            "devices": len(self.gates),
            "seconds": round(passages_seconds, 1),
            "seconds_with_final_upload": round(total_seconds, 1),
            "sent": sent,
            "rate_per_s": round(sent / passages_seconds, 1) if passages_seconds else None,
            "answered": sent - unanswered,
            "unanswered": unanswered,
            "final_status": dict(statuses),  # per event id: recorded, duplicate (its first answer was lost), anomaly
            "accepted": reported["accepted"],
            "duplicates": reported["duplicates"],
            "anomalies": reported["anomalies"],
            "retries": sum(g.client.stats.retries for g in self.gates),
            "failures": dict(failures),
            "decisions": dict(decisions),
            "decide": pct("decide"),
            "upload": pct("events"),
            "permissions": pct("permissions"),
            "upload_batches": len(batches),
            "events_per_batch_max": max(batches, default=0),
            "max_backlog": max((g.max_backlog for g in self.gates), default=0),
            "errors": [e for g in self.gates for e in g.errors][:20],
        }

    def sent_by_device(self) -> dict[int, list[str]]:
        return {g.device.id: list(g.sent) for g in self.gates}


def stored_counts(sent: dict[int, list[str]]) -> dict[str, int]:
    """How many of the sent passages the database holds, and whether any is held twice."""
    stored = duplicates = 0
    for device_id, event_ids in sent.items():
        for i in range(0, len(event_ids), 500):
            chunk = event_ids[i : i + 500]
            rows = Counter(
                GateEvent.objects.filter(device_id=device_id, event_id__in=chunk).values_list("event_id", flat=True)
            )
            stored += len(rows)
            duplicates += sum(n - 1 for n in rows.values())
    total = sum(len(v) for v in sent.values())
    return {"stored": stored, "lost": total - stored, "stored_twice": duplicates}


class Command(BaseCommand):
    help = "Simulate a school's gates against a running server through the signed device API."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["gates"])
        parser.add_argument("--school", required=True, help="学校标识码 (10 digits)")
        parser.add_argument("--students", type=int, default=200, help="enrolled students who pass (default 200)")
        parser.add_argument("--minutes", type=float, default=1.0, help="how long to run (default 1)")
        parser.add_argument("--rate", type=float, default=5.0, help="passages a second over all gates (default 5)")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the server (default: make demo's)")
        parser.add_argument("--devices", type=int, default=0, help="gates (default: one per 10 passages/s, 2–8)")
        parser.add_argument("--offline-share", type=float, default=0.1, help="share of the run each gate is offline")
        parser.add_argument("--lost-share", type=float, default=0.02, help="share of answers lost (timeouts)")
        parser.add_argument("--unknown-share", type=float, default=0.02, help="share of unknown cards")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")

    def handle(self, *args: Any, **opts: Any) -> None:
        school = org_selectors.school_by_code(opts["school"])
        if school is None:
            raise CommandError(f"找不到学校标识码为 {opts['school']} 的学校")
        if opts["rate"] <= 0 or opts["minutes"] <= 0 or opts["students"] <= 0:
            raise CommandError("--rate, --minutes and --students must be positive")
        rng = random.Random(opts["seed"])
        count = opts["devices"] or max(2, min(8, math.ceil(opts["rate"] / 10)))
        credentials = enrolled_credentials(school_id=school.pk, limit=opts["students"], rng=rng)
        if not credentials:
            raise CommandError("本校没有在读学生")
        devices = prepare_devices(school_id=school.pk, count=count)
        seconds = opts["minutes"] * 60
        plan = poisson_plan(
            credentials=credentials,
            devices=count,
            seconds=seconds,
            rate=opts["rate"],
            rng=rng,
            unknown_share=opts["unknown_share"],
        )
        windows = offline_windows(devices=count, seconds=seconds, share=opts["offline_share"], rng=rng)
        close_old_connections()  # the run is long; the checks at the end open a fresh connection
        progress = None if opts["json"] else (lambda line: self.stderr.write(line))
        simulation = GateSimulation(
            base_url=opts["url"],
            devices=devices,
            plan=plan,
            windows=windows,
            lost_answer_share=opts["lost_share"],
            seed=opts["seed"],
            progress=progress,
        )
        try:
            summary = simulation.run()
        except DeviceApiError as e:
            raise CommandError(f"the server refused the simulated gates: {e}") from None
        except OSError as e:
            raise CommandError(f"cannot reach {opts['url']}: {e}") from None
        close_old_connections()
        summary.update(stored_counts(simulation.sent_by_device()))
        summary.update(school=school.code, students=len(credentials), url=opts["url"])
        if opts["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
        else:
            self.stdout.write(_text(summary))
        if summary["lost"] or summary["stored_twice"] or summary["unanswered"] or summary["errors"]:
            sys.exit(1)


def _text(s: dict[str, Any]) -> str:
    def ms(d: dict[str, Any]) -> str:
        return f"p50 {d['p50_ms']} ms, p99 {d['p99_ms']} ms (n={d['n']})"

    lines: Iterable[str] = [
        f"学校 {s['school']}: {s['devices']} 台模拟闸机, {s['students']} 名学生, {s['seconds']} s",
        f"sent        {s['sent']} passages ({s['rate_per_s']}/s)",
        f"accepted    {s['accepted']} (anomalies {s['anomalies']}), duplicates {s['duplicates']} (retried batches)",
        f"stored      {s['stored']}, lost {s['lost']}, stored twice {s['stored_twice']}",
        f"retries     {s['retries']} {s['failures'] or ''}",
        f"decisions   {s['decisions']}",
        f"decide      {ms(s['decide'])}",
        f"upload      {ms(s['upload'])}, {s['upload_batches']} batches, largest {s['events_per_batch_max']}",
        f"offline     largest backlog {s['max_backlog']} passages",
    ]
    if s["errors"]:
        lines = [*lines, "errors:", *s["errors"]]
    return "\n".join(lines)
