"""Notifications: the outbox (one row per recipient and channel), the in-app inbox, each person's
preferences, and the schools' group robots (DingTalk, WeCom).

The outbox row is written in the business transaction and is the single source of truth for delivery:
the worker claims due rows with a lease, sends, and marks them sent. Nothing here knows any domain;
accounts are `settings.AUTH_USER_MODEL` and schools are a plain `school_id`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhixiao.kernel.permissions import ScopePaths

# Rows without a school (a system-wide notice) stay readable by their recipient under row-level security;
# the selectors scope them to the recipient anyway.
_SCHOOL_OR_NONE_SQL = "school_id IS NULL OR school_id = ANY (zhixiao_school_ids())"


class Channel(models.TextChoices):
    INAPP = "inapp", _("站内信")
    EMAIL = "email", _("邮件")
    SMS = "sms", _("短信")
    DINGTALK = "dingtalk", _("钉钉群")
    WECOM = "wecom", _("企业微信群")


ROBOT_CHANNELS = (Channel.DINGTALK, Channel.WECOM)
EXTERNAL_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.DINGTALK, Channel.WECOM)


class Status(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("失败待重试")
    DEAD = "dead", _("已放弃")
    FALLEN_BACK = "fallen_back", _("已改由其他渠道")


class Outbox(models.Model):
    """One message to one person on one channel. Unique on (dedup_key, recipient, channel): a repeated
    notify() finds the row already there and writes nothing."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    template = models.CharField(_("模板"), max_length=100)
    context = models.JSONField(_("内容参数"), default=dict)
    dedup_key = models.CharField(_("去重键"), max_length=200)
    school_id = models.BigIntegerField(_("学校"), null=True, blank=True, db_index=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    urgent = models.BooleanField(_("紧急"), default=False)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送时间"), default=timezone.now)
    claimed_until = models.DateTimeField(_("租约到期"), null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    fallback_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    scoping = ScopePaths(school="school_id")
    rls_school_sql = _SCHOOL_OR_NONE_SQL

    class Meta:
        verbose_name = _("通知投递")
        verbose_name_plural = _("通知投递")
        constraints = [
            models.UniqueConstraint(fields=["dedup_key", "recipient", "channel"], name="outbox_once_per_channel"),
        ]
        indexes = [
            # the worker's claim: due pending rows, and sending rows whose lease ran out
            models.Index(
                fields=["channel", "next_attempt_at"],
                name="outbox_due",
                condition=Q(status__in=["pending", "failed", "sending"]),
            ),
            models.Index(fields=["school_id", "status", "channel"], name="outbox_status"),
        ]

    def __str__(self) -> str:
        return f"{self.template} → {self.recipient_id} ({self.channel})"

    @property
    def message_id(self) -> str:
        """The e-mail Message-ID: the same for every attempt of this row, so a resend is recognisable."""
        domain = getattr(settings, "ZHIXIAO_MAIL_DOMAIN", "zhixiao.local")
        return f"<zhixiao.outbox.{self.pk}@{domain}>"

    @property
    def reference(self) -> str:
        """The idempotency key handed to SMS providers and robots' logs: one per row, stable across retries."""
        return f"zhixiao-outbox-{self.pk}"


class InboxItem(models.Model):
    """A delivered in-app notification. One per in-app outbox row (the one-to-one makes it exactly once)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    outbox = models.OneToOneField(Outbox, on_delete=models.CASCADE, related_name="inbox_item")
    school_id = models.BigIntegerField(null=True, blank=True)
    title = models.CharField(_("标题"), max_length=300)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    scoping = ScopePaths(school="school_id")
    rls_school_sql = _SCHOOL_OR_NONE_SQL

    class Meta:
        verbose_name = _("站内通知")
        verbose_name_plural = _("站内通知")
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="inbox_of"),
            models.Index(fields=["recipient"], name="inbox_unread", condition=Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.title


class Preference(models.Model):
    """How one person wants to be reached. In-app is always on (it is where nothing gets lost); the
    others are opt-in. Accounts have no e-mail field, so the address lives here."""

    account = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channels = models.JSONField(_("接收渠道"), default=list)
    email = models.EmailField(_("邮箱"), blank=True)
    quiet_start = models.TimeField(_("免打扰开始"), null=True, blank=True)
    quiet_end = models.TimeField(_("免打扰结束"), null=True, blank=True)
    language = models.CharField(_("通知语言"), max_length=10, default="zh-hans")

    class Meta:
        verbose_name = _("通知偏好")
        verbose_name_plural = _("通知偏好")

    def __str__(self) -> str:
        return f"{self.account_id}: {','.join(self.channels)}"


class GroupRobot(models.Model):
    """A school's DingTalk or WeCom group robot. The send window (sliding minute) and any throttle the
    platform imposed are kept here so that every worker process respects the same limit."""

    class Kind(models.TextChoices):
        DINGTALK = "dingtalk", _("钉钉群机器人")
        WECOM = "wecom", _("企业微信群机器人")

    school_id = models.BigIntegerField(_("学校"), db_index=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100)
    webhook_url = models.URLField(_("Webhook 地址"), max_length=500)
    secret = models.CharField(_("加签密钥"), max_length=200, blank=True)
    enabled = models.BooleanField(_("启用"), default=True)
    recent_sends = models.JSONField(default=list)  # epoch seconds of the sends in the last minute
    throttled_until = models.DateTimeField(_("限流至"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    scoping = ScopePaths(school="school_id")

    class Meta:
        verbose_name = _("群机器人")
        verbose_name_plural = _("群机器人")
        indexes = [models.Index(fields=["school_id", "kind", "enabled"], name="robot_of_school")]

    def __str__(self) -> str:
        return self.name
