"""How a message leaves the building: e-mail over SMTP, group robots (DingTalk, WeCom) over their webhooks,
and SMS through a provider adapter. Each sender raises DeliveryError; `retryable=False` means trying again
cannot help (no address, the robot refused the message), so the row falls back at once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.module_loading import import_string


class DeliveryError(Exception):
    def __init__(self, message: str, *, retryable: bool = True, throttled: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.throttled = throttled


# --- e-mail -------------------------------------------------------------------------------------------------
def open_mail_connection() -> Any:
    """One SMTP connection for a batch of messages (settings EMAIL_*; Django's SMTP backend in production)."""
    connection = get_connection(fail_silently=False)
    connection.open()
    return connection


def send_email(
    connection: Any, *, to: str, subject: str, body: str, message_id: str, reference: str, attempt: int
) -> None:
    """Send one message. The Message-ID is the row's own, so a resend after a crash carries the same id and
    a mail client (or the test) can tell it is the same message."""
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "Message-ID": message_id,
            "Date": formatdate(localtime=True),
            "X-Zhixiao-Reference": reference,
            "X-Zhixiao-Attempt": str(attempt),
        },
        connection=connection,
    )
    try:
        sent = message.send(fail_silently=False)
    except Exception as exc:  # smtplib and socket errors alike: the server may come back
        raise DeliveryError(f"SMTP: {exc}") from exc
    if not sent:
        raise DeliveryError("SMTP: the message was not accepted")


# --- group robots -------------------------------------------------------------------------------------------
# The platforms' own limits: 20 messages a minute per robot; DingTalk then throttles for 10 minutes.
ROBOT_LIMIT_PER_MINUTE = 20
THROTTLE_SECONDS = {"dingtalk": 600, "wecom": 60}
THROTTLE_CODES = {"dingtalk": {130101, 130102}, "wecom": {45009, 45033}}
# Message size limits (bytes): DingTalk markdown ~20,000; WeCom text 2,048.
MAX_MESSAGE_BYTES = {"dingtalk": 18_000, "wecom": 2_000}


def dingtalk_signed_url(webhook_url: str, secret: str, timestamp_ms: int | None = None) -> str:
    """DingTalk's 加签: HMAC-SHA256 over "timestamp\\nsecret" keyed with the secret, base64, url-encoded,
    passed as `timestamp` and `sign` query parameters next to the access_token."""
    if not secret:
        return webhook_url
    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    joiner = "&" if "?" in webhook_url else "?"
    return f"{webhook_url}{joiner}timestamp={timestamp}&sign={sign}"


@dataclass
class RobotMessage:
    title: str
    text: str  # markdown (DingTalk) or plain text (WeCom)
    mobiles: list[str] = field(default_factory=list)


def robot_payload(kind: str, message: RobotMessage) -> dict[str, Any]:
    """The documented message formats: DingTalk markdown with at.atMobiles (the text must name each @mobile
    for the mention to show); WeCom text with mentioned_mobile_list (WeCom markdown cannot @ by mobile)."""
    if kind == "dingtalk":
        mentions = " ".join(f"@{m}" for m in message.mobiles)
        return {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": f"{message.text}\n\n{mentions}".strip()},
            "at": {"atMobiles": message.mobiles, "isAtAll": False},
        }
    return {"msgtype": "text", "text": {"content": message.text, "mentioned_mobile_list": message.mobiles}}


def post_to_robot(*, kind: str, webhook_url: str, secret: str, message: RobotMessage, timeout: float = 10) -> None:
    url = dingtalk_signed_url(webhook_url, secret) if kind == "dingtalk" else webhook_url
    body = json.dumps(robot_payload(kind, message), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - the school admin configures an http(s) webhook
        url, data=body, headers={"Content-Type": "application/json; charset=utf-8"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"{kind}: HTTP {exc.code}", retryable=exc.code >= 500 or exc.code == 429) from exc
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"{kind}: {exc}") from exc
    code = int(answer.get("errcode", 0) or 0)
    if code == 0:
        return
    if code in THROTTLE_CODES.get(kind, set()):
        raise DeliveryError(f"{kind}: throttled ({code} {answer.get('errmsg', '')})", throttled=True)
    # a wrong signature, keyword or token will not fix itself
    raise DeliveryError(f"{kind}: errcode {code} {answer.get('errmsg', '')}", retryable=False)


# --- SMS ----------------------------------------------------------------------------------------------------
class SmsProvider(Protocol):
    """What an SMS provider adapter does. `reference` is stable across retries of one message: a provider
    that supports idempotency keys must use it so a retry after an uncertain failure sends nothing twice.
    Raise DeliveryError (retryable or not) on failure; return the provider's message id on success."""

    def send(self, *, mobile: str, text: str, reference: str) -> str: ...


class HttpSmsProvider:
    """The default adapter: POST JSON {mobile, text, reference, sign_name} to ZHIXIAO_SMS_URL, signed with
    HMAC-SHA256 (hex) of "<timestamp>.<body>" under ZHIXIAO_SMS_SECRET in `X-Zhixiao-Signature`, the
    timestamp in `X-Zhixiao-Timestamp` and the reference in `Idempotency-Key`. A 2xx JSON answer with
    `"ok": true` is success ({"id": ...} is returned); 4xx other than 429 is permanent."""

    def __init__(self, url: str = "", secret: str = "", sign_name: str = "", timeout: float = 10) -> None:
        self.url = url or settings.ZHIXIAO_SMS_URL
        self.secret = secret or settings.ZHIXIAO_SMS_SECRET
        self.sign_name = sign_name or settings.ZHIXIAO_SMS_SIGN_NAME
        self.timeout = timeout

    def send(self, *, mobile: str, text: str, reference: str) -> str:
        if not self.url:
            raise DeliveryError("SMS: no provider configured (ZHIXIAO_SMS_URL)", retryable=False)
        body = json.dumps(
            {"mobile": mobile, "text": text, "reference": reference, "sign_name": self.sign_name}, ensure_ascii=False
        ).encode("utf-8")
        timestamp = str(int(time.time()))
        signature = hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(  # noqa: S310 - configured by the operator
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Zhixiao-Timestamp": timestamp,
                "X-Zhixiao-Signature": signature,
                "Idempotency-Key": reference,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"SMS: HTTP {exc.code}", retryable=exc.code >= 500 or exc.code == 429) from exc
        except (OSError, ValueError) as exc:
            raise DeliveryError(f"SMS: {exc}") from exc
        if not answer.get("ok"):
            raise DeliveryError(f"SMS: refused ({answer.get('error', '')})", retryable=False)
        return str(answer.get("id", ""))


def sms_provider() -> SmsProvider:
    """The adapter named by ZHIXIAO_SMS_PROVIDER (a dotted path to a class taking no arguments)."""
    cls = import_string(settings.ZHIXIAO_SMS_PROVIDER)
    return cls()  # type: ignore[no-any-return]
