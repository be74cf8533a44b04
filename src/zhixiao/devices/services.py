"""Registering devices and checking every device request's signature (docs/device-api.md)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixiao.kernel import audit, permissions, tenancy
from zhixiao.kernel.errors import DomainError, NotPermitted

from .engine import signing
from .models import Device, DeviceKind, DeviceNonce, Direction

MANAGE = permissions.MANAGE_DEVICES


class DeviceAuthError(Exception):
    """A device request refused before it reaches the endpoint (HTTP 401 with the reason)."""


@dataclass(frozen=True)
class DeviceIdentity:
    """What an endpoint knows about the device that signed the request."""

    id: int
    school_id: int
    kind: str
    name: str
    direction: str
    admin_class_id: int | None
    school_code: str = ""

    # a device is not a person: it holds no grants and reaches no page
    is_authenticated = True
    is_active = True
    pk = None


def _secret(device_id: int, salt: str) -> str:
    key = hmac.new(settings.SECRET_KEY.encode(), b"zhixiao.devices.secret", hashlib.sha256).digest()
    raw = hmac.new(key, f"{device_id}:{salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _require(actor: Any, school_id: int) -> None:
    """The school admin or the IT centre of that school (the CLI acts as the system: actor None)."""
    if actor is None:
        return
    for g in permissions.grants_of(actor):
        if g.allows(MANAGE) and (g.scope is permissions.Scope.SYSTEM or g.school_id == school_id):
            return
    raise NotPermitted(_("没有权限管理本校设备"))


def register_device(
    *,
    actor: Any,
    school_id: int,
    kind: str,
    name: str,
    place: str = "",
    direction: str = Direction.BOTH,
    admin_class_id: int | None = None,
) -> tuple[Device, str]:
    """Register a device of the school; returns it and its secret, which is shown this once."""
    _require(actor, school_id)
    if kind not in DeviceKind.values:
        raise DomainError(
            _("设备类型不正确：%(kind)s（可选：%(choices)s）") % {"kind": kind, "choices": "、".join(DeviceKind.values)}
        )
    if direction not in Direction.values:
        raise DomainError(_("方向不正确：%(d)s（可选：in、out、both）") % {"d": direction})
    name = name.strip()
    if not name:
        raise DomainError(_("请填写设备名称"))
    with transaction.atomic():
        if Device.objects.filter(school_id=school_id, name=name).exists():
            raise DomainError(_("本校已有名为“%(name)s”的设备") % {"name": name})
        device = Device.objects.create(
            school_id=school_id,
            kind=kind,
            name=name,
            place=place.strip(),
            direction=direction,
            admin_class_id=admin_class_id,
            salt=secrets.token_hex(16),
        )
        audit.record(actor=actor, action="device.register", target=device, school_id=school_id)
    return device, _secret(device.pk, device.salt)


def rotate_secret(*, actor: Any, device_id: int) -> tuple[Device, str]:
    """A new secret for a device (the old one stops working at once)."""
    with transaction.atomic():
        device = Device.objects.select_for_update().get(pk=device_id)
        _require(actor, device.school_id)
        device.salt = secrets.token_hex(16)
        device.save(update_fields=["salt"])
        audit.record(actor=actor, action="device.rotate_secret", target=device, school_id=device.school_id)
    _forget(device.pk)
    return device, _secret(device.pk, device.salt)


def set_active(*, actor: Any, device_id: int, active: bool) -> Device:
    with transaction.atomic():
        device = Device.objects.select_for_update().get(pk=device_id)
        _require(actor, device.school_id)
        device.is_active = active
        device.save(update_fields=["is_active"])
        audit.record(
            actor=actor,
            action="device.enable" if active else "device.disable",
            target=device,
            school_id=device.school_id,
        )
    _forget(device.pk)
    return device


# --- the signature check -------------------------------------------------------------------------------

# Per process: a device row for a few seconds (a disabled or re-keyed device is refused within that time in
# other processes, at once in this one), and when its last contact was last written.
_CACHE_SECONDS = 5.0
_cache: dict[int, tuple[float, Device | None]] = {}
_seen_written: dict[int, float] = {}


def _forget(device_id: int) -> None:
    _cache.pop(device_id, None)


def _device(device_id: int, *, fresh: bool = False) -> Device | None:
    now = time.monotonic()
    hit = _cache.get(device_id)
    if hit is not None and now - hit[0] < _CACHE_SECONDS and not fresh:
        return hit[1]
    tenancy.deactivate()  # the device row is read before any school is in scope
    device = Device.objects.filter(pk=device_id).select_related("school").first()
    _cache[device_id] = (now, device)
    return device


def authenticate(*, method: str, path: str, headers: Mapping[str, str], body: bytes) -> DeviceIdentity:
    """Check a device request's four signature headers; raises DeviceAuthError with the reason.
    On success the connection is scoped to the device's school (row-level security on PostgreSQL)."""
    missing = [h for h in ("X-Device-Id", "X-Timestamp", "X-Nonce", "X-Signature") if not headers.get(h)]
    if missing:
        raise DeviceAuthError(_("缺少签名请求头：%(h)s") % {"h": ", ".join(missing)})
    try:
        device_id = int(headers["X-Device-Id"])
    except ValueError:
        raise DeviceAuthError(_("X-Device-Id 必须是设备编号（整数）")) from None
    nonce = headers["X-Nonce"]
    if len(nonce) > signing.NONCE_MAX_LENGTH or len(nonce) < 8:
        raise DeviceAuthError(_("X-Nonce 长度应为 8–64 个字符"))
    device = _device(device_id) if 0 < device_id < 2**63 else None
    if device is None or not device.is_active:
        device = _device(device_id, fresh=True)  # registered or re-enabled in another process meanwhile?
    if device is None or not device.is_active:
        raise DeviceAuthError(_("未知设备或设备已停用：%(id)s") % {"id": headers["X-Device-Id"]})
    off = signing.skew(headers["X-Timestamp"])
    if off is None:
        raise DeviceAuthError(_("X-Timestamp 必须是 Unix 时间（秒）"))
    if abs(off) > signing.MAX_SKEW_SECONDS:
        raise DeviceAuthError(_("设备时钟偏差 %(s)d 秒，超过 5 分钟，请校准设备时间") % {"s": int(off)})

    def valid(d: Device) -> bool:
        return signing.matches(
            _secret(d.pk, d.salt), headers["X-Signature"], method, path, headers["X-Timestamp"], nonce, body
        )

    if not valid(device):
        # maybe re-keyed in another process within the cache's few seconds: read the row once more
        device = _device(device_id, fresh=True)
        if device is None or not device.is_active or not valid(device):
            raise DeviceAuthError(_("签名不正确"))
    now = timezone.now()
    try:
        if connection.in_atomic_block:  # (a test's transaction): a savepoint keeps it usable after a replay
            with transaction.atomic():
                DeviceNonce.objects.create(device_id=device.pk, nonce=nonce, seen_at=now)
        else:  # a request in autocommit: one statement, no BEGIN/COMMIT round trips on the hot path
            DeviceNonce.objects.create(device_id=device.pk, nonce=nonce, seen_at=now)
    except IntegrityError:
        raise DeviceAuthError(_("X-Nonce 已使用过（重放的请求）")) from None
    last = _seen_written.get(device.pk, 0.0)
    if time.monotonic() - last > 60:
        _seen_written[device.pk] = time.monotonic()
        Device.objects.filter(pk=device.pk).update(last_seen_at=now)
    tenancy.activate_schools([device.school_id])
    return DeviceIdentity(
        id=device.pk,
        school_id=device.school_id,
        kind=device.kind,
        name=device.name,
        direction=device.direction,
        admin_class_id=device.admin_class_id,
        school_code=device.school.code,
    )


def prune_nonces(*, older_than: dt.timedelta = dt.timedelta(minutes=15)) -> int:
    """Nonces older than the accepted clock skew can never be replayed successfully: drop them."""
    deleted, _rows = DeviceNonce.objects.filter(seen_at__lt=timezone.now() - older_than).delete()
    return deleted
