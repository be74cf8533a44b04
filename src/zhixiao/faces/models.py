"""The face library for school gates: a guardian's consent, the enrolment photo taken under it, and the
counter that orders the library's changes for the devices.

A minor's face is sensitive personal information (PIPL art. 28, 31): no photo without a consent row, the
photo's bytes are deleted when the consent ends, and the rows stay as the record of what was held when.
No row history (django-simple-history) here on purpose: it would keep a copy of every photo."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhixiao.kernel.permissions import ScopePaths


def new_face_id() -> str:
    """An opaque credential for the gates: says nothing about the student, cannot be guessed."""
    return "F" + secrets.token_hex(10)


class FaceConsent(models.Model):
    """A guardian's consent to collect one child's face for the gates, with the statement they read."""

    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+", verbose_name=_("学校"))
    student = models.ForeignKey("people.Student", on_delete=models.PROTECT, related_name="+", verbose_name=_("学生"))
    guardian = models.ForeignKey(
        "people.Guardian", on_delete=models.PROTECT, related_name="+", verbose_name=_("授权监护人")
    )
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    given_at = models.DateTimeField(_("授权时间"), default=timezone.now)
    statement_version = models.CharField(_("授权书版本"), max_length=20)
    statement_text = models.TextField(_("授权书内容"))
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawal_note = models.CharField(_("撤回说明"), max_length=300, blank=True)

    scoping = ScopePaths(
        school="school_id",
        region="school__division_code",
        grade="student__admin_class__grade_id",
        klass="student__admin_class_id",
        student="student_id",
        account="guardian__account_id",
    )

    class Meta:
        ordering = ["-given_at", "-id"]
        verbose_name = _("人脸识别授权")
        verbose_name_plural = _("人脸识别授权")
        constraints = [
            models.UniqueConstraint(
                fields=["student"], condition=Q(withdrawn_at__isnull=True), name="face_consent_one_active"
            ),
        ]
        indexes = [models.Index(fields=["school", "-given_at"])]

    def __str__(self) -> str:
        return f"{self.student_id} {self.given_at:%Y-%m-%d}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class RemovalReason(models.TextChoices):
    WITHDRAWN = "withdrawn", _("撤回授权")
    REPLACED = "replaced", _("更换照片")
    LEFT_SCHOOL = "left", _("离校")


class FaceEnrolment(models.Model):
    """One photo of a student in the school's face library. A change (added, removed) takes the school's
    next `seq`, so a device that asks for changes since its last cursor gets each row in its latest state."""

    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+", verbose_name=_("学校"))
    student = models.ForeignKey("people.Student", on_delete=models.PROTECT, related_name="+", verbose_name=_("学生"))
    consent = models.ForeignKey(FaceConsent, on_delete=models.PROTECT, related_name="enrolments")
    face_id = models.CharField(_("人脸编号"), max_length=21, unique=True, default=new_face_id, editable=False)
    # JPEG or PNG bytes; NULL once removed (the row stays as the record)
    photo = models.BinaryField(null=True, editable=False)
    photo_type = models.CharField(max_length=16, editable=False)
    photo_sha256 = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("采集时间"), default=timezone.now)
    removed_at = models.DateTimeField(_("删除时间"), null=True, blank=True)
    removal_reason = models.CharField(_("删除原因"), max_length=10, choices=RemovalReason.choices, blank=True)
    seq = models.BigIntegerField(editable=False)

    scoping = ScopePaths(
        school="school_id",
        region="school__division_code",
        grade="student__admin_class__grade_id",
        klass="student__admin_class_id",
        student="student_id",
        account="consent__guardian__account_id",
    )

    class Meta:
        ordering = ["school", "seq"]
        verbose_name = _("人脸照片")
        verbose_name_plural = _("人脸照片")
        constraints = [
            models.UniqueConstraint(fields=["school", "seq"], name="face_enrolment_seq_unique"),
            models.UniqueConstraint(
                fields=["student"], condition=Q(removed_at__isnull=True), name="face_enrolment_one_active"
            ),
            models.CheckConstraint(
                name="face_enrolment_removed_has_no_photo",
                condition=Q(removed_at__isnull=True) | Q(photo__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.face_id

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


class FaceLibraryCounter(models.Model):
    """The last `seq` a school's face library handed out. Locked (select_for_update) by every change until
    it commits, so changes commit in seq order and a device reading since=cursor never skips one."""

    school = models.OneToOneField("org.School", on_delete=models.CASCADE, related_name="+", primary_key=True)
    seq = models.BigIntegerField(default=0)

    scoping = ScopePaths(school="school_id", region="school__division_code")

    def __str__(self) -> str:
        return f"{self.school_id}: {self.seq}"
