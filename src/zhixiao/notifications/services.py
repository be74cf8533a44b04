"""Write actions of the notifications service: notify (the outbox), the inbox, preferences, group robots
and resending. Keyword-only, atomic, permission-checked where a person acts, audited for admin changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixiao.kernel import audit, permissions
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.kernel.permissions import Scope

from . import delivery
from .delivery import Report, deliver_due
from .models import EXTERNAL_CHANNELS, Channel, GroupRobot, InboxItem, Outbox, Preference, Status
from .templates_registry import get_template, register_template

__all__ = [
    "Notice",
    "Report",
    "deliver_due",
    "mark_all_read",
    "mark_read",
    "notify",
    "notify_many",
    "register_template",
    "retry_delivery",
    "save_preferences",
    "save_robot",
    "set_robot_enabled",
]


def _account_id(recipient: Any) -> int:
    return int(getattr(recipient, "pk", recipient))


@dataclass(frozen=True)
class Notice:
    """One notify() call's arguments, for notify_many()."""

    recipients: Iterable[Any]
    template: str
    context: dict[str, Any]
    dedup_key: str
    school_id: int | None = None
    url: str = ""


def notify(
    *,
    recipients: Iterable[Any],
    template: str,
    context: dict[str, Any],
    dedup_key: str,
    school_id: int | None = None,
    url: str = "",
) -> int:
    """Call inside the business transaction. Writes one outbox row per (recipient, channel) the recipient
    allows, unique on (dedup_key, recipient, channel) so a repeated call is a no-op for what exists;
    enqueues delivery on commit. recipients: Account objects or account ids. Returns rows written."""
    return notify_many(
        [
            Notice(
                recipients=recipients,
                template=template,
                context=context,
                dedup_key=dedup_key,
                school_id=school_id,
                url=url,
            )
        ]
    )


def notify_many(notices: Iterable[Notice]) -> int:
    """notify() for many notices at once (a gate's batch of passages): the recipients' channels, preferences,
    robots and the rows already written are read once for all of them, and the rows written in one insert."""
    batch = []
    for n in notices:
        spec = get_template(n.template)  # ValueError for an unknown key, at once rather than in the worker
        try:
            spec.render(n.context)
        except (KeyError, IndexError) as exc:
            raise ValueError(f"template {n.template!r} needs {exc} in its context") from exc
        ids = sorted({_account_id(r) for r in n.recipients})
        if ids:
            batch.append((n, spec, ids))
    if not batch:
        return 0
    now = timezone.now()
    # no savepoint of its own: inside the business transaction a failure here fails that transaction, which is
    # what the caller wants; it saves two round trips on every approval step
    with transaction.atomic(savepoint=False):
        everyone = sorted({i for _n, _s, ids in batch for i in ids})
        mobiles = dict(
            get_user_model().objects.filter(pk__in=everyone, is_active=True).values_list("pk", "mobile")  # type: ignore[arg-type]
        )
        prefs = delivery._prefs(mobiles)
        robots: dict[int | None, set[str]] = {}
        existing = set(
            Outbox.objects.filter(
                dedup_key__in=sorted({n.dedup_key for n, _s, _i in batch}), recipient_id__in=list(mobiles)
            ).values_list("dedup_key", "recipient_id", "channel")
        )
        rows = []
        for n, spec, ids in batch:
            if n.school_id not in robots:
                robots[n.school_id] = delivery.robot_kinds_of(n.school_id)
            for account_id in ids:
                if account_id not in mobiles:
                    continue
                pref = prefs.get(account_id)
                for channel in delivery.allowed_channels(
                    pref=pref, mobile=mobiles[account_id], robot_kinds=robots[n.school_id]
                ):
                    if (n.dedup_key, account_id, channel) in existing:
                        continue
                    existing.add((n.dedup_key, account_id, channel))
                    at = now
                    if channel != Channel.INAPP and not spec.urgent:
                        at = delivery.quiet_until(pref, now) or now
                    rows.append(
                        Outbox(
                            recipient_id=account_id,
                            channel=channel,
                            template=n.template,
                            context=n.context,
                            dedup_key=n.dedup_key,
                            school_id=n.school_id,
                            url=n.url,
                            urgent=spec.urgent,
                            next_attempt_at=at,
                            created_at=now,
                        )
                    )
        # ignore_conflicts: a concurrent identical notify() may have written some of them meanwhile
        Outbox.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        if rows and not any(entry[1] is _enqueue for entry in connection.run_on_commit):
            transaction.on_commit(_enqueue)  # once per transaction, however many notify() calls it makes
    return len(rows)


def _enqueue() -> None:
    from .tasks import enqueue_delivery  # the task module imports delivery, which this module imports

    enqueue_delivery()


# --- the inbox ------------------------------------------------------------------------------------------------
def mark_read(*, actor: Any, item_id: int) -> InboxItem:
    """A person marks one of their own notifications read (anyone else's is 'not found')."""
    item = InboxItem.objects.filter(pk=item_id, recipient_id=actor.pk).first()
    if item is None:
        raise InboxItem.DoesNotExist
    if item.read_at is None:
        item.read_at = timezone.now()
        InboxItem.objects.filter(pk=item.pk, read_at__isnull=True).update(read_at=item.read_at)
    return item


def mark_all_read(*, actor: Any) -> int:
    return InboxItem.objects.filter(recipient_id=actor.pk, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def save_preferences(
    *,
    actor: Any,
    channels: Iterable[str],
    email: str = "",
    quiet_start: dt.time | None = None,
    quiet_end: dt.time | None = None,
    language: str = "",
) -> Preference:
    """A person chooses how to be reached; in-app stays on. E-mail needs an address, SMS and the group
    robots a mobile number on the account."""
    chosen = [c for c in dict.fromkeys(channels) if c in {ch.value for ch in EXTERNAL_CHANNELS}]
    if Channel.EMAIL in chosen and not email:
        raise DomainError(_("选择邮件通知须填写邮箱"))
    mobile = get_user_model().objects.filter(pk=actor.pk).values_list("mobile", flat=True).first()
    if not mobile and any(c in chosen for c in (Channel.SMS, Channel.DINGTALK, Channel.WECOM)):
        raise DomainError(_("账号没有手机号，不能选择短信或群机器人通知"))
    if (quiet_start is None) != (quiet_end is None):
        raise DomainError(_("免打扰时段须同时填写开始和结束时间"))
    if language and language not in dict(settings.LANGUAGES):
        raise DomainError(_("不支持的语言"))
    pref, _created = Preference.objects.update_or_create(
        account_id=actor.pk,
        defaults={
            "channels": chosen,
            "email": email,
            "quiet_start": quiet_start,
            "quiet_end": quiet_end,
            "language": language or settings.LANGUAGE_CODE,
        },
    )
    return pref


# --- administration: group robots and resending --------------------------------------------------------------
def manageable_school_ids(actor: Any) -> set[int] | None:
    """Schools whose notifications the actor manages; None: every school (a system grant)."""
    ids: set[int] = set()
    for g in permissions.grants_of(actor):
        if not g.allows(permissions.MANAGE_NOTIFICATIONS):
            continue
        if g.scope is Scope.SYSTEM:
            return None
        if g.school_id is not None:
            ids.add(g.school_id)
    return ids


def _require_school(actor: Any, school_id: int) -> None:
    allowed = manageable_school_ids(actor)
    if allowed is not None and school_id not in allowed:
        raise NotPermitted(_("没有权限执行此操作"))


_ROBOT_FIELDS = ("kind", "name", "webhook_url", "enabled")


@transaction.atomic
def save_robot(
    *,
    actor: Any,
    school_id: int,
    kind: str,
    name: str,
    webhook_url: str,
    secret: str = "",
    enabled: bool = True,
    robot_id: int | None = None,
) -> GroupRobot:
    """Add or change a school's group robot (notification.manage over the school). The secret is kept when
    left empty on an edit, and never written into the audit log."""
    _require_school(actor, school_id)
    if kind not in GroupRobot.Kind.values:
        raise DomainError(_("未知的机器人类型"))
    if not webhook_url.startswith(("https://", "http://")):
        raise DomainError(_("Webhook 地址须以 http:// 或 https:// 开头"))
    if robot_id is None:
        robot = GroupRobot(school_id=school_id)
        before: dict[str, Any] = {}
    else:
        found = GroupRobot.objects.select_for_update().filter(pk=robot_id).first()
        if found is None or not permissions.can(actor, permissions.MANAGE_NOTIFICATIONS, found):
            raise NotPermitted(_("没有权限执行此操作"))
        robot = found
        before = {f: getattr(robot, f) for f in _ROBOT_FIELDS}
    robot.kind, robot.name, robot.webhook_url, robot.enabled = kind, name.strip()[:100] or kind, webhook_url, enabled
    secret_changed = bool(secret) and secret != robot.secret
    if secret:
        robot.secret = secret
    if enabled:
        robot.throttled_until = None  # an admin turning it (back) on wants it tried now
    robot.save()
    changes = audit.diff(before, {f: getattr(robot, f) for f in _ROBOT_FIELDS})
    if secret_changed:
        changes["secret"] = ["***", "***"]
    audit.record(
        actor=actor,
        action="notification.robot_add" if robot_id is None else "notification.robot_edit",
        target=robot,
        changes=changes,
    )
    return robot


@transaction.atomic
def set_robot_enabled(*, actor: Any, robot_id: int, enabled: bool) -> GroupRobot:
    """Switch a robot off (its queued messages fall back to other channels) or on again."""
    robot = GroupRobot.objects.select_for_update().filter(pk=robot_id).first()
    if robot is None or not permissions.can(actor, permissions.MANAGE_NOTIFICATIONS, robot):
        raise NotPermitted(_("没有权限执行此操作"))
    if robot.enabled != enabled:
        GroupRobot.objects.filter(pk=robot.pk).update(enabled=enabled, throttled_until=None)
        audit.record(
            actor=actor,
            action="notification.robot_enable" if enabled else "notification.robot_disable",
            target=robot,
            changes={"enabled": [robot.enabled, enabled]},
        )
        robot.enabled = enabled
    return robot


RETRYABLE = (Status.DEAD, Status.FAILED)


@transaction.atomic
def retry_delivery(*, actor: Any, outbox_id: int) -> bool:
    """Send a dead (or waiting) message again now, with a fresh set of attempts. False: nothing to do
    (it was sent or handed to another channel meanwhile)."""
    row = Outbox.objects.select_for_update().filter(pk=outbox_id).first()
    if row is None or not permissions.can(actor, permissions.MANAGE_NOTIFICATIONS, row):
        raise NotPermitted(_("没有权限执行此操作"))
    if row.status not in RETRYABLE:
        return False
    Outbox.objects.filter(pk=row.pk).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_until=None
    )
    audit.record(
        actor=actor,
        action="notification.retry",
        target=row,
        changes={"status": [row.status, Status.PENDING]},
        note=row.last_error[:200],
    )
    transaction.on_commit(_enqueue)
    return True
