"""What approved office requests mean for the school: lessons a colleague covers, repairs to do.

Rows are written by the office's handlers of workflow events; they keep the request's id, never a key
into the workflow tables."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhixiao.kernel.permissions import ScopePaths


class CoverStatus(models.TextChoices):
    PENDING = "pending", _("待批准")
    CONFIRMED = "confirmed", _("已确认")
    CANCELLED = "cancelled", _("已取消")


class LessonCover(models.Model):
    """代课: one lesson of a teacher on leave, taught by a colleague."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    request_id = models.BigIntegerField(db_index=True)
    request_number = models.CharField(max_length=32)
    absent_teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("代课教师")
    )
    date = models.DateField(_("日期"))
    period = models.PositiveSmallIntegerField(_("节次"))
    class_name = models.CharField(_("班级"), max_length=50)
    subject = models.CharField(_("科目"), max_length=20, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=CoverStatus.choices, default=CoverStatus.PENDING)

    scoping = ScopePaths(school="school_id", region="school__division_code", account="substitute_id")

    class Meta:
        ordering = ["date", "period"]
        verbose_name = _("代课")
        verbose_name_plural = _("代课")
        indexes = [models.Index(fields=["substitute", "status", "date"])]

    def __str__(self) -> str:
        return f"{self.date} 第{self.period}节 {self.class_name}"


class RepairStatus(models.TextChoices):
    WAITING = "waiting", _("待受理")
    DISPATCHED = "dispatched", _("维修中")
    DONE = "done", _("已修好")
    CLOSED = "closed", _("已关闭")


class RepairOrder(models.Model):
    """报修单: from the request's acceptance by the IT centre or 总务处 to the work done and its rating."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    request_id = models.BigIntegerField(unique=True)
    request_number = models.CharField(max_length=32)
    title = models.CharField(_("报修"), max_length=200)
    place = models.CharField(_("地点"), max_length=100)
    category = models.CharField(_("类别"), max_length=20)
    urgent = models.BooleanField(_("紧急"), default=False)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=12, choices=RepairStatus.choices, default=RepairStatus.WAITING)
    reported_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    work_note = models.CharField(_("维修记录"), max_length=500, blank=True)
    rating = models.PositiveSmallIntegerField(_("评价"), null=True, blank=True)
    rating_note = models.CharField(_("评价说明"), max_length=300, blank=True)

    scoping = ScopePaths(school="school_id", region="school__division_code", account="reporter_id")

    class Meta:
        ordering = ["-reported_at"]
        verbose_name = _("报修单")
        verbose_name_plural = _("报修单")
        constraints = [
            models.CheckConstraint(
                name="repair_rating_1_to_5", condition=models.Q(rating__isnull=True) | models.Q(rating__range=(1, 5))
            )
        ]

    def __str__(self) -> str:
        return self.title
