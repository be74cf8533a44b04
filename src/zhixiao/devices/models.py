"""Devices that act for a school on the device API: gates, dorm gates, classroom and canteen terminals.

A device's secret is never stored: it is derived from the server's key and the device's random salt, so a
copy of the database alone cannot sign requests; rotating the secret draws a new salt."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from zhixiao.kernel.permissions import ScopePaths


class DeviceKind(models.TextChoices):
    SCHOOL_GATE = "gate", _("校门闸机")
    DORM_GATE = "dorm_gate", _("宿舍门禁")
    CLASSROOM = "classroom", _("班级考勤终端")
    CANTEEN = "canteen", _("食堂终端")


class Direction(models.TextChoices):
    IN = "in", _("进")
    OUT = "out", _("出")
    BOTH = "both", _("进出")


class Device(models.Model):
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+", verbose_name=_("学校"))
    kind = models.CharField(_("类型"), max_length=16, choices=DeviceKind.choices)
    name = models.CharField(_("名称"), max_length=60)
    place = models.CharField(_("位置"), max_length=100, blank=True)
    direction = models.CharField(_("方向"), max_length=4, choices=Direction.choices, default=Direction.BOTH)
    admin_class_id = models.BigIntegerField(_("班级"), null=True, blank=True)  # a classroom terminal's class
    salt = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("最近通信"), null=True, blank=True)

    scoping = ScopePaths(school="school_id", region="school__division_code")

    class Meta:
        ordering = ["school", "kind", "name"]
        verbose_name = _("设备")
        verbose_name_plural = _("设备")
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="device_name_unique_in_school")]

    def __str__(self) -> str:
        return self.name


class DeviceNonce(models.Model):
    """A nonce seen from a device in the last minutes: a second use is a replay."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    seen_at = models.DateTimeField(db_index=True)

    rls_exempt = True  # read and written only by the signature check, before any school is in scope

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "nonce"], name="device_nonce_once")]

    def __str__(self) -> str:
        return f"{self.device_id}:{self.nonce}"
