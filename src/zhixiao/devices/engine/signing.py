"""The device API's request signature (docs/device-api.md), framework-free so a vendor's test harness, our
simulator and the server compute it the same way.

X-Signature = hex(HMAC-SHA256(secret, METHOD "\n" PATH_WITH_QUERY "\n" TIMESTAMP "\n" NONCE "\n" hex(SHA-256(body))))
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

MAX_SKEW_SECONDS = 300
NONCE_MAX_LENGTH = 64


def canonical(method: str, path_with_query: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join([method.upper(), path_with_query, timestamp, nonce, digest]).encode()


def sign(secret: str, method: str, path_with_query: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac.new(
        secret.encode(), canonical(method, path_with_query, timestamp, nonce, body), hashlib.sha256
    ).hexdigest()


def signed_headers(device_id: int, secret: str, method: str, path_with_query: str, body: bytes) -> dict[str, str]:
    """The four headers a device sends with one request (a fresh nonce and the current time)."""
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(16)
    return {
        "X-Device-Id": str(device_id),
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
        "X-Signature": sign(secret, method, path_with_query, timestamp, nonce, body),
    }


def matches(
    secret: str, signature: str, method: str, path_with_query: str, timestamp: str, nonce: str, body: bytes
) -> bool:
    expected = sign(secret, method, path_with_query, timestamp, nonce, body)
    return hmac.compare_digest(expected, signature.strip().lower())


def skew(timestamp: str, now: float | None = None) -> float | None:
    """Seconds between the device's clock and ours; None when the header is not a Unix time."""
    try:
        value = int(timestamp)
    except (TypeError, ValueError):
        return None
    return value - (time.time() if now is None else now)
