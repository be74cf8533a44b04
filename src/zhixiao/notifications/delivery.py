"""The worker's side of the outbox: claim due rows with a lease, send, mark sent; retry with exponential
back-off; after the last attempt hand the message to another channel the person allows.

Guarantees (see docs/notifications.md):
- in-app: exactly once (the inbox insert and the status update share one transaction, and the inbox item
  is one-to-one with its outbox row);
- external channels: at least once, and at most twice for the one message that was in flight when a worker
  died (its row stays `sending` until the lease runs out, then goes again with the same Message-ID or
  idempotency reference).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zhixiao.kernel import tenancy

from . import channels
from .channels import DeliveryError, RobotMessage
from .models import EXTERNAL_CHANNELS, ROBOT_CHANNELS, Channel, GroupRobot, InboxItem, Outbox, Preference, Status
from .templates_registry import get_template

logger = logging.getLogger(__name__)

INAPP_BATCH = 500
DIRECT_BATCH = 20  # e-mail and SMS rows claimed at a time: small, so a lease never outlives its batch
ROBOT_BATCH = 200
# When a message falls back, the next channel tried: most direct first; in-app last (it normally has its row).
FALLBACK_ORDER = (Channel.SMS, Channel.EMAIL, Channel.DINGTALK, Channel.WECOM, Channel.INAPP)
WAITING = (Status.PENDING, Status.FAILED)


@dataclass
class Report:
    sent: int = 0
    retried: int = 0
    postponed: int = 0
    fallen_back: int = 0
    dead: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _max_attempts() -> int:
    return int(settings.ZHIXIAO_NOTIFY_MAX_ATTEMPTS)


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 60 s, 120 s … after the 1st, 2nd, 3rd failed attempt (capped at 6 hours)."""
    seconds = settings.ZHIXIAO_NOTIFY_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, 6 * 3600))


def quiet_until(pref: Preference | None, at: dt.datetime) -> dt.datetime | None:
    """The end of the person's quiet hours if `at` falls inside them (local time; may span midnight)."""
    if pref is None or pref.quiet_start is None or pref.quiet_end is None or pref.quiet_start == pref.quiet_end:
        return None
    local = timezone.localtime(at)
    t, start, end = local.time(), pref.quiet_start, pref.quiet_end
    if start < end:
        inside, day = start <= t < end, local.date()
    else:
        inside = t >= start or t < end
        day = local.date() + dt.timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    return timezone.make_aware(dt.datetime.combine(day, end), timezone.get_current_timezone())


def language_of(pref: Preference | None) -> str:
    return pref.language if pref and pref.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _prefs(account_ids: Iterable[int]) -> dict[int, Preference]:
    return {p.account_id: p for p in Preference.objects.filter(account_id__in=set(account_ids))}


def _due_q(now: dt.datetime) -> Q:
    return Q(status__in=WAITING, next_attempt_at__lte=now) | Q(status=Status.SENDING, claimed_until__lt=now)


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.ZHIXIAO_NOTIFY_LEASE_SECONDS)


def _locking(qs: Any) -> Any:
    # Several workers on PostgreSQL skip each other's rows; SQLite serialises writers anyway.
    return qs.select_for_update(skip_locked=True) if connection.vendor == "postgresql" else qs


def claim(*, now: dt.datetime, channel_set: Iterable[str], limit: int) -> list[Outbox]:
    """Take up to `limit` due rows: status `sending`, a lease, one more attempt counted (a worker that dies
    mid-send has used an attempt, so a message that crashes the worker cannot loop for ever)."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        qs = Outbox.objects.filter(_due_q(now), channel__in=list(channel_set)).order_by("next_attempt_at", "pk")
        ids = list(_locking(qs).values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        Outbox.objects.filter(pk__in=ids).update(
            status=Status.SENDING, claimed_until=now + _lease(), claim_token=token, attempts=F("attempts") + 1
        )
    return list(Outbox.objects.filter(pk__in=ids, claim_token=token).select_related("recipient").order_by("pk"))


def _mark_sent(rows: list[Outbox], report: Report) -> None:
    for token, ids in _by_token(rows).items():
        done = Outbox.objects.filter(pk__in=ids, claim_token=token, status=Status.SENDING).update(
            status=Status.SENT, sent_at=timezone.now(), claimed_until=None, last_error=""
        )
        report.sent += done


def _by_token(rows: list[Outbox]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        out[r.claim_token].append(r.pk)
    return out


def _postpone(row: Outbox, until: dt.datetime, report: Report, note: str = "") -> None:
    """Not the message's fault (quiet hours, the robot's minute is full): wait without using an attempt."""
    Outbox.objects.filter(pk=row.pk, claim_token=row.claim_token).update(
        status=Status.PENDING,
        next_attempt_at=until,
        claimed_until=None,
        attempts=F("attempts") - 1,
        last_error=note or row.last_error,
    )
    report.postponed += 1


def _failed(row: Outbox, error: DeliveryError, now: dt.datetime, report: Report, pref: Preference | None) -> None:
    if error.retryable and row.attempts < _max_attempts():
        at = now + backoff(row.attempts)
        if not row.urgent:
            at = quiet_until(pref, at) or at
        Outbox.objects.filter(pk=row.pk, claim_token=row.claim_token).update(
            status=Status.FAILED, next_attempt_at=at, claimed_until=None, last_error=str(error)[:2000]
        )
        report.retried += 1
        return
    fall_back(row=row, error=str(error), now=now, report=report)


def _channel_available(channel: str, *, pref: Preference | None, mobile: str | None, robot_kinds: set[str]) -> bool:
    if channel == Channel.INAPP:
        return True
    if pref is None or channel not in pref.channels:
        return False
    if channel == Channel.EMAIL:
        return bool(pref.email)
    if channel == Channel.SMS:
        return bool(mobile)
    return channel in robot_kinds and bool(mobile)


def allowed_channels(*, pref: Preference | None, mobile: str | None, robot_kinds: set[str]) -> list[str]:
    """In-app always; the others the person switched on and can be reached by."""
    return [
        c.value
        for c in (Channel.INAPP, *EXTERNAL_CHANNELS)
        if _channel_available(c, pref=pref, mobile=mobile, robot_kinds=robot_kinds)
    ]


def robot_kinds_of(school_id: int | None) -> set[str]:
    if school_id is None:
        return set()
    return set(GroupRobot.objects.filter(school_id=school_id, enabled=True).values_list("kind", flat=True))


def fall_back(*, row: Outbox, error: str, now: dt.datetime, report: Report) -> Outbox | None:
    """Give up on this row's channel. The message goes to the next channel the person allows that has not
    carried it yet; if every allowed channel already has it, it counts as handed over when one of them
    delivered it or still may (in-app normally has: nothing is dropped). Otherwise the row is dead: shown
    on the delivery page with its error, to be retried from there."""
    with transaction.atomic():
        pref = Preference.objects.filter(account_id=row.recipient_id).first()
        mobile = get_user_model().objects.filter(pk=row.recipient_id).values_list("mobile", flat=True).first()
        others = dict(
            Outbox.objects.filter(dedup_key=row.dedup_key, recipient_id=row.recipient_id)
            .exclude(pk=row.pk)
            .values_list("channel", "status")
        )
        kinds = robot_kinds_of(row.school_id)
        target = next(
            (
                c
                for c in FALLBACK_ORDER
                if c != row.channel
                and c not in others
                and _channel_available(c, pref=pref, mobile=mobile, robot_kinds=kinds)
            ),
            None,
        )
        new = None
        if target is not None:
            at = now if (row.urgent or target == Channel.INAPP) else (quiet_until(pref, now) or now)
            new = Outbox.objects.create(
                recipient_id=row.recipient_id,
                channel=target,
                template=row.template,
                context=row.context,
                dedup_key=row.dedup_key,
                school_id=row.school_id,
                url=row.url,
                urgent=row.urgent,
                next_attempt_at=at,
                fallback_of=row,
            )
        covered = new is not None or any(s in (*WAITING, Status.SENDING, Status.SENT) for s in others.values())
        status = Status.FALLEN_BACK if covered else Status.DEAD
        Outbox.objects.filter(pk=row.pk).update(status=status, claimed_until=None, last_error=error[:2000])
    if covered:
        report.fallen_back += 1
    else:
        report.dead += 1
    return new


# --- in-app ---------------------------------------------------------------------------------------------------
def _deliver_inapp(now: dt.datetime, report: Report, limit: int) -> None:
    done = 0
    while done < limit:
        with transaction.atomic():
            qs = Outbox.objects.filter(_due_q(now), channel=Channel.INAPP).order_by("next_attempt_at", "pk")
            rows = list(_locking(qs)[: min(INAPP_BATCH, limit - done)])
            if not rows:
                return
            prefs = _prefs(r.recipient_id for r in rows)
            items, ok, broken = [], [], []
            for r in rows:
                try:
                    title, body = get_template(r.template).render(r.context, language_of(prefs.get(r.recipient_id)))
                except (ValueError, KeyError, IndexError) as exc:
                    broken.append((r, repr(exc)))
                    continue
                items.append(
                    InboxItem(
                        recipient_id=r.recipient_id,
                        outbox_id=r.pk,
                        school_id=r.school_id,
                        title=title[:300],
                        body=body,
                        url=r.url,
                        created_at=r.created_at,
                    )
                )
                ok.append(r.pk)
            InboxItem.objects.bulk_create(items, ignore_conflicts=True)  # the one-to-one refuses a second copy
            Outbox.objects.filter(pk__in=ok).update(
                status=Status.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1, claimed_until=None
            )
            for r, problem in broken:  # a template that cannot render will not render next time either
                Outbox.objects.filter(pk=r.pk).update(status=Status.DEAD, last_error=f"template: {problem}"[:2000])
            report.sent += len(ok)
            report.dead += len(broken)
        done += len(rows)


# --- e-mail and SMS -------------------------------------------------------------------------------------------
def _render_for(row: Outbox, pref: Preference | None) -> tuple[str, str]:
    try:
        return get_template(row.template).render(row.context, language_of(pref))
    except (ValueError, KeyError, IndexError) as exc:
        raise DeliveryError(f"template: {exc!r}", retryable=False) from exc


def _link(url: str) -> str:
    if not url:
        return ""
    base = settings.ZHIXIAO_SITE_URL.rstrip("/")
    return f"{base}{url}" if url.startswith("/") else url


def _deliver_direct(now: dt.datetime, report: Report, limit: int) -> None:
    done = 0
    while done < limit:
        rows = claim(now=now, channel_set=(Channel.EMAIL, Channel.SMS), limit=min(DIRECT_BATCH, limit - done))
        if not rows:
            return
        done += len(rows)
        prefs = _prefs(r.recipient_id for r in rows)
        mail = None
        try:
            for row in rows:
                pref = prefs.get(row.recipient_id)
                if row.claimed_until is not None and timezone.now() >= row.claimed_until:
                    _postpone(row, now, report, note="lease ran out before sending")  # another worker may take it
                    continue
                until = None if row.urgent else quiet_until(pref, now)
                if until:
                    _postpone(row, until, report)
                    continue
                try:
                    title, body = _render_for(row, pref)
                    link = _link(row.url)
                    if row.channel == Channel.EMAIL:
                        if pref is None or not pref.email:
                            raise DeliveryError("no e-mail address", retryable=False)
                        if mail is None:
                            mail = channels.open_mail_connection()
                        text = f"{body}\n\n{link}" if link else body
                        channels.send_email(
                            mail,
                            to=pref.email,
                            subject=title,
                            body=text,
                            message_id=row.message_id,
                            reference=row.reference,
                            attempt=row.attempts,
                        )
                    else:
                        mobile = getattr(row.recipient, "mobile", None)
                        if not mobile:
                            raise DeliveryError("no mobile number", retryable=False)
                        text = f"{title}：{body}" + (f" {link}" if link else "")
                        channels.sms_provider().send(mobile=mobile, text=text, reference=row.reference)
                except DeliveryError as exc:
                    if row.channel == Channel.EMAIL and mail is not None and exc.retryable:
                        _close(mail)  # the connection may be broken; the next message opens a new one
                        mail = None
                    _failed(row, exc, now, report, pref)
                except OSError as exc:  # an SMTP connection that could not even be opened
                    mail = None
                    _failed(row, DeliveryError(str(exc)), now, report, pref)
                else:
                    _mark_sent([row], report)  # committed at once: a crash after this cannot resend it
        finally:
            if mail is not None:
                _close(mail)


def _close(mail: Any) -> None:
    with contextlib.suppress(Exception):  # closing a broken connection may fail; nothing to do about it
        mail.close()


# --- group robots -------------------------------------------------------------------------------------------
def _reserve_slot(robot_id: int, now: dt.datetime) -> tuple[GroupRobot | None, dt.datetime | None]:
    """Count one message against the robot's sliding minute, shared by every worker (row lock).
    Returns (robot, None) when a message may go now, else (robot, when to try again)."""
    with transaction.atomic():
        robot = _locking(GroupRobot.objects.filter(pk=robot_id)).first()
        if robot is None or not robot.enabled:
            return None, None
        if robot.throttled_until and robot.throttled_until > now:
            return robot, robot.throttled_until
        stamp = now.timestamp()
        recent = [t for t in robot.recent_sends if t > stamp - 60]
        if len(recent) >= channels.ROBOT_LIMIT_PER_MINUTE:
            return robot, dt.datetime.fromtimestamp(min(recent) + 60, tz=dt.UTC)
        robot.recent_sends = [*recent, stamp]
        robot.save(update_fields=["recent_sends"])
        return robot, None


def _robot_unavailable(rows: list[Outbox], until: dt.datetime, now: dt.datetime, report: Report, why: str) -> None:
    """Wait for the robot, unless the message is urgent or has waited long enough: then another channel."""
    max_wait = dt.timedelta(seconds=settings.ZHIXIAO_NOTIFY_ROBOT_MAX_WAIT_SECONDS)
    for r in rows:
        if r.urgent or now - r.created_at >= max_wait or until - r.created_at > max_wait:
            fall_back(row=r, error=why, now=now, report=report)
        else:
            _postpone(r, until, report, note=why)


def _digest(kind: str, rows: list[Outbox]) -> tuple[RobotMessage, list[Outbox], list[Outbox]]:
    """One message for as many queued rows as fit the platform's size limit (the rest wait for the next)."""
    limit = channels.MAX_MESSAGE_BYTES[kind]
    with translation.override(settings.LANGUAGE_CODE):  # a group chat reads the school's language
        lines: list[str] = []
        taken: list[Outbox] = []
        size = 200
        for r in rows:
            title, body = get_template(r.template).render(r.context)
            link = _link(r.url)
            mention = f"@{r.recipient.mobile}"  # type: ignore[attr-defined]
            if kind == "dingtalk":
                line = f"- **{title}** {body}" + (f" [{_('查看')}]({link})" if link else "") + f" {mention}"
            else:
                line = f"{title}：{body}" + (f" {link}" if link else "")
            if taken and size + len(line.encode()) > limit:
                break
            size += len(line.encode())
            lines.append(line)
            taken.append(r)
        rest = rows[len(taken) :]
        mobiles = sorted({str(r.recipient.mobile) for r in taken})  # type: ignore[attr-defined]
        if len(taken) == 1:
            title, body = get_template(taken[0].template).render(taken[0].context)
            link = _link(taken[0].url)
            text = (
                f"#### {title}\n\n{body}" + (f"\n\n[{_('查看')}]({link})" if link else "")
                if kind == "dingtalk"
                else f"{title}\n{body}" + (f"\n{link}" if link else "")
            )
        else:
            title = _("{n} 条新通知").format(n=len(taken))
            text = f"#### {title}\n\n" + "\n".join(lines) if kind == "dingtalk" else f"{title}\n" + "\n".join(lines)
    return RobotMessage(title=title, text=text, mobiles=mobiles), taken, rest


def _deliver_robots(now: dt.datetime, report: Report, limit: int) -> None:
    rows = claim(now=now, channel_set=ROBOT_CHANNELS, limit=min(ROBOT_BATCH, limit))
    if not rows:
        return
    prefs = _prefs(r.recipient_id for r in rows)
    groups: dict[tuple[str, int | None], list[Outbox]] = defaultdict(list)
    for r in rows:
        until = None if r.urgent else quiet_until(prefs.get(r.recipient_id), now)
        if until:
            _postpone(r, until, report)
        elif not getattr(r.recipient, "mobile", None):
            fall_back(row=r, error="no mobile number to @", now=now, report=report)
        else:
            groups[(r.channel, r.school_id)].append(r)
    for (kind, school_id), group in groups.items():
        robot = (
            GroupRobot.objects.filter(school_id=school_id, kind=kind, enabled=True).order_by("pk").first()
            if school_id is not None
            else None
        )
        if robot is None:
            for r in group:
                fall_back(row=r, error=f"{kind}: no enabled robot for the school", now=now, report=report)
            continue
        pending = group
        while pending:
            locked, retry_at = _reserve_slot(robot.pk, now)
            if locked is None:
                for r in pending:
                    fall_back(row=r, error=f"{kind}: robot disabled", now=now, report=report)
                break
            if retry_at is not None:
                _robot_unavailable(pending, retry_at, now, report, why=f"{kind}: limit reached, waiting")
                break
            message, batch, pending = _digest(kind, pending)
            try:
                channels.post_to_robot(kind=kind, webhook_url=robot.webhook_url, secret=robot.secret, message=message)
            except DeliveryError as exc:
                GroupRobot.objects.filter(pk=robot.pk).update(last_error=str(exc)[:2000])
                if exc.throttled:
                    until = now + dt.timedelta(seconds=channels.THROTTLE_SECONDS[kind])
                    GroupRobot.objects.filter(pk=robot.pk).update(throttled_until=until)
                    _robot_unavailable(batch + pending, until, now, report, why=str(exc))
                    break
                for r in batch:
                    _failed(r, exc, now, report, prefs.get(r.recipient_id))
            else:
                _mark_sent(batch, report)


# --- the entry point ------------------------------------------------------------------------------------------
def deliver_due(*, now: dt.datetime | None = None, limit: int = 5000) -> Report:
    """Send everything that is due (the worker's task and `zhixiao manage zx_deliver` call this).
    Runs across schools: the rows were checked when they were written."""
    now = now or timezone.now()
    report = Report()
    with tenancy.unscoped():
        _deliver_inapp(now, report, limit)
        _deliver_direct(now, report, limit)
        _deliver_robots(now, report, limit)
    return report


def next_due_at() -> dt.datetime | None:
    """When the next waiting row becomes due (a retry, quiet hours, a robot's minute, a lease running out)."""
    with tenancy.unscoped():
        waiting = Outbox.objects.filter(status__in=WAITING).aggregate(at=Min("next_attempt_at"))["at"]
        leased = Outbox.objects.filter(status=Status.SENDING).aggregate(at=Min("claimed_until"))["at"]
    found = [t for t in (waiting, leased) if t is not None]
    return min(found) if found else None
