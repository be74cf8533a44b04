"""The device client against a small HTTP server on loopback that checks signatures and misbehaves on cue:
retries resend the same events under a fresh nonce, 4xx answers are final, the offline buffer uploads in
batches of 500 once back."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from zhixiao.devices.client import DeviceApiError, DeviceClient, new_event
from zhixiao.devices.engine import signing

SECRET = "test-device-secret"


class Gatekeeper:
    """What the server saw, and what it does next: a list of planned answers ("503", "drop", "401")."""

    def __init__(self) -> None:
        self.plan: list[str] = []
        self.seen: list[dict[str, Any]] = []
        self.lock = threading.Lock()


@contextmanager
def server(keeper: Gatekeeper) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, data: Any) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _handle(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            h = self.headers
            ok = signing.matches(
                SECRET, h["X-Signature"], self.command, self.path, h["X-Timestamp"], h["X-Nonce"], body
            )
            with keeper.lock:
                keeper.seen.append({"path": self.path, "nonce": h["X-Nonce"], "body": body, "signed": ok})
                step = keeper.plan.pop(0) if keeper.plan else "ok"
            if step == "drop":
                self.close_connection = True
                self.connection.close()
                return
            if step != "ok":
                self._answer(int(step), {"detail": "planned failure"})
                return
            if not ok:
                self._answer(401, {"detail": "签名不正确"})
                return
            if self.path.endswith("/events"):
                events = json.loads(body)["events"]
                self._answer(200, {"accepted": len(events), "duplicates": 0, "anomalies": 0, "results": []})
            else:
                self._answer(200, {"allow": True, "cursor": 1})

        do_GET = do_POST = _handle

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_failed_upload_is_retried_with_the_same_events_and_a_fresh_nonce():
    keeper = Gatekeeper()
    keeper.plan = ["503", "drop", "502"]
    with server(keeper) as url:
        client = DeviceClient(url, 7, SECRET, timeout=2, backoff=0.001)
        events = [new_event("G2024001", "in"), new_event("G2024002", "in")]
        answer = client.post_events(events)
    assert answer["accepted"] == 2
    assert len(keeper.seen) == 4
    assert all(s["signed"] for s in keeper.seen)
    assert len({s["nonce"] for s in keeper.seen}) == 4
    assert len({s["body"] for s in keeper.seen}) == 1  # same event ids every time
    assert client.stats.retries == 3


def test_a_refusal_is_final_and_says_why():
    keeper = Gatekeeper()
    with server(keeper) as url:
        client = DeviceClient(url, 7, "a-wrong-secret", timeout=2, backoff=0.001)
        with pytest.raises(DeviceApiError) as refused:
            client.decide("G2024001", "in")
    assert refused.value.status == 401
    assert refused.value.detail == "签名不正确"
    assert len(keeper.seen) == 1


def test_a_server_that_stays_away_exhausts_the_attempts():
    keeper = Gatekeeper()
    keeper.plan = ["503"] * 10
    with server(keeper) as url:
        client = DeviceClient(url, 7, SECRET, timeout=2, max_attempts=3, backoff=0.001)
        with pytest.raises(DeviceApiError):
            client.permissions(since=5)
    assert [s["path"] for s in keeper.seen] == ["/api/v1/devices/7/permissions?since=5"] * 3


def test_the_offline_backlog_goes_up_in_batches_of_500_once_back():
    keeper = Gatekeeper()
    with server(keeper) as url:
        client = DeviceClient(url, 7, SECRET, timeout=2, backoff=0.001)
        client.offline = True
        client.queue(new_event(f"G{i:07d}", "in") for i in range(1203))
        assert client.flush() == []
        assert keeper.seen == []
        client.offline = False
        keeper.plan = ["503"]
        answers = client.flush()
    assert [a["accepted"] for a in answers] == [500, 500, 203]
    assert client.backlog == 0
    sizes = [len(json.loads(s["body"])["events"]) for s in keeper.seen]
    assert sizes == [500, 500, 500, 203]  # the failed first batch went again whole


def test_the_backlog_stays_queued_while_the_server_is_away():
    keeper = Gatekeeper()
    keeper.plan = ["503"] * 3
    with server(keeper) as url:
        client = DeviceClient(url, 7, SECRET, timeout=2, max_attempts=3, backoff=0.001)
        client.queue([new_event("G1", "in"), new_event("G2", "out")])
        with pytest.raises(DeviceApiError):
            client.flush()
        assert client.backlog == 2
        assert client.flush()[0]["accepted"] == 2
    assert client.backlog == 0


def test_a_lost_answer_counts_as_a_timeout_and_is_retried():
    keeper = Gatekeeper()
    lost = iter([True, False])
    with server(keeper) as url:
        client = DeviceClient(url, 7, SECRET, timeout=2, backoff=0.001, fault=lambda kind: next(lost))
        client.post_events([new_event("G1", "in", event_id="e-1")])
    assert len(keeper.seen) == 2
    assert keeper.seen[0]["body"] == keeper.seen[1]["body"]
    assert client.stats.failures == {"SimulatedTimeout": 1}
