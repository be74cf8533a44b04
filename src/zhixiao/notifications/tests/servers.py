"""Real servers on loopback for the delivery tests: an SMTP server (aiosmtpd), group robots that check
DingTalk's signature and enforce 20 messages a minute, and an SMS provider that checks the HMAC header."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- SMTP -----------------------------------------------------------------------------------------------------
@dataclass
class MailBox:
    delay: float = 0.0  # seconds per message: a slow server
    refuse: int = 0  # refuse this many messages (451) before accepting
    messages: list[email.message.Message] = field(default_factory=list)
    refused: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refused < self.refuse:
            self.refused += 1
            return "451 4.3.0 try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


@contextmanager
def smtp_server(box: MailBox | None = None) -> Iterator[tuple[MailBox, int]]:
    box = box or MailBox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


# --- group robots ---------------------------------------------------------------------------------------------
@dataclass
class RobotServer:
    """POST /dingtalk?access_token=… (signature checked when `secret` is set) and /wecom?key=…; after
    `limit` messages in a sliding minute it answers with the platform's throttle errcode."""

    secret: str = ""
    limit: int = 20
    throttle_all: bool = False
    fail_with: int = 0  # an HTTP status to answer every request with (e.g. 500)
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    bad_signatures: int = 0
    throttled: int = 0
    sends: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, query: dict[str, list[str]], body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        kind = path.strip("/")
        if self.fail_with:
            return self.fail_with, {}
        if kind == "dingtalk" and self.secret:
            timestamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
            expected = base64.b64encode(
                hmac.new(self.secret.encode(), f"{timestamp}\n{self.secret}".encode(), hashlib.sha256).digest()
            ).decode()
            fresh = timestamp.isdigit() and abs(time.time() * 1000 - int(timestamp)) < 3600_000
            if not fresh or not hmac.compare_digest(sign, expected):
                self.bad_signatures += 1
                return 200, {"errcode": 310000, "errmsg": "sign not match"}
        throttle = {"dingtalk": 130101, "wecom": 45009}[kind]
        with self.lock:
            now = time.time()
            self.sends = [t for t in self.sends if t > now - 60]
            if self.throttle_all or len(self.sends) >= self.limit:
                self.throttled += 1
                return 200, {"errcode": throttle, "errmsg": "send too fast, exceed 20 times per minute"}
            self.sends.append(now)
            self.received.append((kind, body))
        return 200, {"errcode": 0, "errmsg": "ok"}


# --- SMS provider ---------------------------------------------------------------------------------------------
@dataclass
class SmsServer:
    secret: str = "sms-secret"
    fail_with: int = 0
    received: dict[str, dict[str, Any]] = field(default_factory=dict)  # by Idempotency-Key
    requests: int = 0
    bad_signatures: int = 0

    def answer(self, headers: Any, raw: bytes) -> tuple[int, dict[str, Any]]:
        self.requests += 1
        if self.fail_with:
            return self.fail_with, {"ok": False}
        timestamp = headers.get("X-Zhixiao-Timestamp", "")
        expected = hmac.new(self.secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get("X-Zhixiao-Signature", ""), expected):
            self.bad_signatures += 1
            return 401, {"ok": False, "error": "bad signature"}
        key = headers.get("Idempotency-Key", "")
        self.received.setdefault(key, json.loads(raw))  # a repeated key is accepted but not sent again
        return 200, {"ok": True, "id": f"sms-{len(self.received)}"}


@contextmanager
def http_server(target: RobotServer | SmsServer) -> Iterator[str]:
    """Serve `target` on a free loopback port; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            parsed = urllib.parse.urlparse(self.path)
            if isinstance(target, RobotServer):
                status, answer = target.answer(parsed.path, urllib.parse.parse_qs(parsed.query), json.loads(raw))
            else:
                status, answer = target.answer(self.headers, raw)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
