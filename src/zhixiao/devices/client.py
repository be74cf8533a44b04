"""A device-side client for the device API (docs/device-api.md), standard library only, so it runs on a gate's
controller, in the simulator (`zhixiao simulate gates`), the fault tests and the benchmarks alike.

Every request is signed (engine/signing.py) with a fresh nonce and the current time, including each retry.
Timeouts, connection errors and 5xx answers are retried with exponential backoff and jitter, sending the
*same* body, so the same event_ids: the server stores a passage once per (device, event_id), and a batch
whose answer was lost comes back as "duplicate" on the retry. 4xx answers are not retried (they would fail
the same way) and raise DeviceApiError.

Offline: `queue()` keeps passages in memory (in order, never dropped); `flush()` uploads them in batches of
at most 500 once the server answers again, and keeps whatever is still unsent if it stops answering.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import random
import socket
import threading
import time
import urllib.parse
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .engine.signing import signed_headers

MAX_BATCH = 500
SHANGHAI = dt.timezone(dt.timedelta(hours=8))

# What a retry can cure: the server did not answer (in time), or answered that it failed.
RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError,  # socket.timeout is an alias since 3.10
    ConnectionError,  # refused, reset, aborted, broken pipe
    http.client.RemoteDisconnected,
    http.client.IncompleteRead,
    http.client.BadStatusLine,
    socket.gaierror,
    OSError,
)
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class DeviceApiError(Exception):
    """The server refused the request (4xx) or never answered within the attempts allowed."""

    def __init__(self, message: str, status: int | None = None, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class SimulatedTimeout(TimeoutError):
    """Raised by a fault hook: the answer is treated as lost although the server may have acted on it."""


@dataclass
class Response:
    status: int
    data: Any
    elapsed_ms: float  # the last attempt's round trip
    attempts: int


@dataclass
class ClientStats:
    """Counters and per-attempt round trips (ms) of one client; safe to read after the threads stop."""

    attempts: int = 0
    retries: int = 0
    failures: dict[str, int] = field(default_factory=dict)  # kind of failure → count
    latencies: dict[str, list[float]] = field(default_factory=dict)  # "events"/"decide"/"permissions" → ms

    def failed(self, kind: str) -> None:
        self.failures[kind] = self.failures.get(kind, 0) + 1


def new_event(
    credential: str,
    direction: str,
    at: dt.datetime | None = None,
    *,
    event_id: str | None = None,
    snapshot: str | None = None,
) -> dict[str, Any]:
    """A passage as the device records it: its own unique event_id, the local time with its offset."""
    when = at or dt.datetime.now(SHANGHAI)
    if when.tzinfo is None:
        when = when.replace(tzinfo=SHANGHAI)
    event: dict[str, Any] = {
        "event_id": event_id or uuid.uuid4().hex,
        "credential": credential,
        "direction": direction,
        "time": when.isoformat(timespec="seconds"),
    }
    if snapshot is not None:
        event["snapshot"] = snapshot
    return event


class DeviceClient:
    """One device's connection to the server. Not shared between threads except through `queue()`/`flush()`,
    which are locked; use one client per device (a gate has one controller)."""

    def __init__(
        self,
        base_url: str,
        device_id: int,
        secret: str,
        timeout: float = 10.0,
        *,
        max_attempts: int = 8,
        backoff: float = 0.25,
        backoff_max: float = 8.0,
        deadline: float | None = None,
        fault: Callable[[str], bool] | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`max_attempts` per request, or, if `deadline` is given, as many as fit in that many seconds from
        the first attempt; between attempts `backoff` · 2^n seconds (capped at `backoff_max`) with ±25 % jitter.
        `fault(kind)`, if given, is asked before each attempt whether to lose that attempt's answer (the
        request is sent and answered, then treated as a timeout): the simulator's and tests' lossy network."""
        url = urllib.parse.urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"base_url must be http(s)://host[:port]: {base_url!r}")
        self.scheme = url.scheme
        self.host = url.hostname
        self.port = url.port
        self.prefix = url.path.rstrip("/")
        self.device_id = int(device_id)
        self.secret = secret
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.deadline = deadline
        self.fault = fault
        self.rng = rng or random.Random()  # jitter, not security
        self.sleep = sleep
        self.stats = ClientStats()
        self.offline = False  # set by the owner: while True, flush() keeps everything queued
        self._buffer: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()

    # --- the three endpoints -----------------------------------------------------------------------------

    def post_events(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        """Upload 1–500 passages; retried with the same body until answered. Returns the server's summary
        ({"accepted", "duplicates", "anomalies", "results": [{"event_id", "status"}]})."""
        if not 1 <= len(events) <= MAX_BATCH:
            raise ValueError(f"a batch holds 1–{MAX_BATCH} events, not {len(events)}")
        return dict(self.request("POST", "/api/v1/devices/events", {"events": events}, kind="events").data)

    def decide(self, credential: str, direction: str, at: dt.datetime | str | None = None) -> dict[str, Any]:
        """May this person pass now? {"allow", "reason", "code", "late", "person"}."""
        when = at if isinstance(at, str) else (at or dt.datetime.now(SHANGHAI)).isoformat(timespec="seconds")
        body = {"credential": credential, "direction": direction, "time": when}
        return dict(self.request("POST", "/api/v1/devices/decide", body, kind="decide").data)

    def permissions(self, since: int | None = None) -> dict[str, Any]:
        """The passes changed after cursor `since` (all of them, "full": true, without one or after a reset)."""
        path = f"/api/v1/devices/{self.device_id}/permissions"
        if since is not None:
            path += f"?since={int(since)}"
        return dict(self.request("GET", path, None, kind="permissions").data)

    # --- the offline buffer ----------------------------------------------------------------------------

    def queue(self, events: Iterable[dict[str, Any]]) -> None:
        """Keep passages for the next flush (in order; nothing is dropped however long the server is away)."""
        with self._lock:
            self._buffer.extend(events)

    @property
    def backlog(self) -> int:
        with self._lock:
            return len(self._buffer)

    def flush(self, max_events: int | None = None) -> list[dict[str, Any]]:
        """Upload what is queued, oldest first, in batches of at most 500; returns the answers. A batch leaves
        the buffer only once the server has answered it. While `offline` nothing is sent; if the server stays
        away beyond the retries, DeviceApiError is raised and the unsent events stay queued."""
        answers: list[dict[str, Any]] = []
        with self._flush_lock:  # one upload at a time per device, so batches stay in order
            sent = 0
            while not self.offline and (max_events is None or sent < max_events):
                with self._lock:
                    size = min(MAX_BATCH, len(self._buffer), (max_events - sent) if max_events else MAX_BATCH)
                    batch = [self._buffer[i] for i in range(size)]
                if not batch:
                    break
                answers.append(self.post_events(batch))
                with self._lock:
                    for _ in batch:
                        self._buffer.popleft()
                sent += len(batch)
        return answers

    # --- signing, sending and retrying ------------------------------------------------------------------

    def request(self, method: str, path: str, payload: Any = None, *, kind: str = "other") -> Response:
        """Send one signed request, retrying what a retry can cure. `path` may carry a query string."""
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        full_path = self.prefix + path
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            with self._lock:
                self.stats.attempts += 1
            last_status: int | None = None
            try:
                status, data, elapsed = self._send_once(method, full_path, body, kind)
            except RETRYABLE_ERRORS as exc:
                failure = type(exc).__name__
            else:
                if status < 400:
                    return Response(status, data, elapsed, attempt)
                if status not in RETRYABLE_STATUSES:
                    detail = data.get("detail") if isinstance(data, dict) else data
                    raise DeviceApiError(f"{method} {path}: HTTP {status}: {detail}", status, detail)
                failure, last_status = f"HTTP {status}", status
            with self._lock:
                self.stats.failed(failure)
            if self.deadline is not None:  # a deadline, when given, replaces the count of attempts
                if time.monotonic() - started >= self.deadline:
                    message = f"{method} {path}: no answer within {self.deadline:g} s ({failure})"
                    raise DeviceApiError(message, last_status)
            elif attempt >= self.max_attempts:
                raise DeviceApiError(f"{method} {path}: no answer after {attempt} attempts ({failure})", last_status)
            with self._lock:
                self.stats.retries += 1
            delay = min(self.backoff_max, self.backoff * 2 ** (attempt - 1))
            self.sleep(delay * self.rng.uniform(0.75, 1.25))

    def _connection(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=self.timeout)

    def _send_once(self, method: str, path: str, body: bytes, kind: str) -> tuple[int, Any, float]:
        headers: dict[str, str] = {"Accept": "application/json", "Connection": "close"}
        if body:
            headers["Content-Type"] = "application/json"
        headers.update(signed_headers(self.device_id, self.secret, method, path, body))
        lose = self.fault is not None and self.fault(kind)
        conn = self._connection()
        began = time.perf_counter()
        try:
            conn.request(method, path, body=body or None, headers=headers)
            answer = conn.getresponse()
            raw = answer.read()
            status = answer.status
        finally:
            conn.close()
        elapsed = (time.perf_counter() - began) * 1000
        with self._lock:
            self.stats.latencies.setdefault(kind, []).append(elapsed)
        if lose:
            raise SimulatedTimeout(f"{kind}: the answer was lost on the way back")
        return status, _json(raw), elapsed


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")[:500]


def percentile(samples: Iterable[float], q: float) -> float | None:
    """The q-quantile (0–1) of the samples by the nearest-rank rule; None if there are none."""
    ordered = sorted(samples)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999999) - 1))]


def summarise(stats: Iterable[ClientStats]) -> dict[str, Any]:
    """Counters and p50/p99 round trips over several clients."""
    attempts = retries = 0
    failures: dict[str, int] = {}
    latencies: dict[str, list[float]] = {}
    for s in stats:
        attempts += s.attempts
        retries += s.retries
        for k, n in s.failures.items():
            failures[k] = failures.get(k, 0) + n
        for k, values in s.latencies.items():
            latencies.setdefault(k, []).extend(values)
    out: dict[str, Any] = {"attempts": attempts, "retries": retries, "failures": failures}
    for k, values in latencies.items():
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        out[k] = {
            "n": len(values),
            "p50_ms": None if p50 is None else round(p50, 1),
            "p99_ms": None if p99 is None else round(p99, 1),
        }
    return out
