"""Gate passes, passages, attendance rules, day records and student leave.

The gate decides from `GatePass` rows (one per person, kept current when the roster, a leave or a face
changes) and the school's rules; devices copy the same rows for offline use, ordered by `seq`. Passages
(`GateEvent`) are stored once per (device, event_id) and folded into one `AttendanceDay` per student."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhixiao.kernel.permissions import ScopePaths


class PersonKind(models.TextChoices):
    STUDENT = "student", _("学生")
    STAFF = "staff", _("教职工")


class NotifyMode(models.TextChoices):
    EVERY = "every", _("每次进出")
    FIRST_LAST = "first_last", _("首次进校和最后离校")
    EXCEPTIONS = "exceptions", _("仅异常（迟到、早退、缺勤、未归）")


class AttendancePolicy(models.Model):
    """A school's gate settings, and the counter that orders its gate-pass changes (locked while one is
    written, so devices reading `since=cursor` never skip a change committed late)."""

    school = models.OneToOneField("org.School", on_delete=models.CASCADE, related_name="+", primary_key=True)
    notify_mode = models.CharField(
        _("家长进出校通知"), max_length=12, choices=NotifyMode.choices, default=NotifyMode.FIRST_LAST
    )
    absent_alert_at = models.TimeField(_("缺勤提醒时间"), default=dt.time(8, 10))
    leave_return_grace_minutes = models.PositiveSmallIntegerField(_("销假宽限（分钟）"), default=30)
    pass_seq = models.BigIntegerField(default=0, editable=False)

    scoping = ScopePaths(school="school_id", region="school__division_code")

    class Meta:
        verbose_name = _("考勤设置")
        verbose_name_plural = _("考勤设置")

    def __str__(self) -> str:
        return f"{self.school_id} {self.notify_mode}"


class AttendanceRule(models.Model):
    """Time windows for a school, optionally narrowed to a grade and/or day or boarding students; the most
    specific rule for a student applies."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    grade_id = models.BigIntegerField(_("年级"), null=True, blank=True)
    boarding = models.CharField(_("学生类型"), max_length=10, blank=True)  # '' all, 'day', 'boarding'
    on_time_by = models.TimeField(_("准时到校截止"), default=dt.time(7, 30))
    late_until = models.TimeField(_("迟到截止（之后未到为缺勤）"), default=dt.time(8, 0))
    dismissal_at = models.TimeField(_("放学时间"), default=dt.time(17, 10))
    evening_study_end = models.TimeField(_("晚自习结束"), null=True, blank=True)
    dorm_check_in_by = models.TimeField(_("宿舍归寝截止"), null=True, blank=True)
    periods = models.JSONField(
        _("课节（班级终端签到）"), default=list, blank=True
    )  # [{"n":1,"start":"08:00","end":"08:45"}]

    scoping = ScopePaths(school="school_id", region="school__division_code", open_to_members=True)

    class Meta:
        ordering = ["school", "grade_id", "boarding"]
        verbose_name = _("考勤规则")
        verbose_name_plural = _("考勤规则")
        constraints = [
            models.UniqueConstraint(fields=["school", "grade_id", "boarding"], name="attendance_rule_unique"),
            models.CheckConstraint(
                condition=models.Q(late_until__gte=models.F("on_time_by")), name="rule_late_after_on_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school_id}/{self.grade_id or '*'}/{self.boarding or '*'}"


class GatePass(models.Model):
    """Who may pass, as devices see it: a person's summary, status and approved leave windows."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    person_kind = models.CharField(max_length=8, choices=PersonKind.choices)
    person_id = models.BigIntegerField()
    name = models.CharField(max_length=50)
    number = models.CharField(max_length=32)  # 学籍号 or 工号
    class_name = models.CharField(max_length=50, blank=True)
    admin_class_id = models.BigIntegerField(null=True, blank=True)
    grade_id = models.BigIntegerField(null=True, blank=True)
    boarding = models.CharField(max_length=10, blank=True)
    status = models.CharField(max_length=10)  # the student's 学籍状态 code or the staff status
    active = models.BooleanField(default=True)  # False: removed from the devices (left, graduated)
    leave_windows = models.JSONField(default=list)  # [[start ISO, end ISO, leave id], …] approved, not returned
    seq = models.BigIntegerField(db_index=True)

    scoping = ScopePaths(school="school_id", region="school__division_code")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "person_kind", "person_id"], name="gate_pass_one_per_person")
        ]
        indexes = [models.Index(fields=["school", "seq"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.number}）"


class GateCredential(models.Model):
    """A card number, face-library id, 学籍号 or 工号 that names a pass at the school's devices."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    credential = models.CharField(max_length=64)
    kind = models.CharField(max_length=12)  # card, face, student_no, staff_no
    gate_pass = models.ForeignKey(GatePass, on_delete=models.CASCADE, related_name="credentials")

    scoping = ScopePaths(school="school_id", region="school__division_code")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "credential"], name="gate_credential_unique")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.credential}"


class GateEvent(models.Model):
    """One passage reported by a device; stored once per (device, event_id) however often it is sent."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    device_id = models.BigIntegerField()
    device_kind = models.CharField(max_length=16)
    event_id = models.CharField(max_length=64)
    credential = models.CharField(max_length=64)
    direction = models.CharField(max_length=4)  # in, out
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    student_id = models.BigIntegerField(null=True, blank=True)  # neither student nor staff: an unknown credential
    staff_id = models.BigIntegerField(null=True, blank=True)
    name = models.CharField(max_length=50, blank=True)
    class_name = models.CharField(max_length=50, blank=True)
    admin_class_id = models.BigIntegerField(null=True, blank=True)
    grade_id = models.BigIntegerField(null=True, blank=True)
    flag = models.CharField(max_length=16, blank=True)  # late, early, no_leave, unknown, refused…
    period = models.PositiveSmallIntegerField(null=True, blank=True)  # a classroom terminal's lesson (节次)
    snapshot = models.BinaryField(null=True, blank=True, editable=False)

    scoping = ScopePaths(
        school="school_id",
        region="school__division_code",
        grade="grade_id",
        klass="admin_class_id",
        student="student_id",
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("通行记录")
        verbose_name_plural = _("通行记录")
        constraints = [models.UniqueConstraint(fields=["device_id", "event_id"], name="gate_event_once_per_device")]
        indexes = [
            models.Index(fields=["school", "-occurred_at"]),
            models.Index(fields=["student_id", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.name or self.credential} {self.direction}"

    @property
    def is_anomaly(self) -> bool:
        return self.student_id is None and self.staff_id is None


class DayStatus(models.TextChoices):
    PENDING = "pending", _("未到（未过截止）")
    PRESENT = "present", _("出勤")
    LATE = "late", _("迟到")
    ABSENT = "absent", _("缺勤")
    ON_LEAVE = "on_leave", _("请假")
    LEFT_EARLY = "left_early", _("早退")


class DormStatus(models.TextChoices):
    NONE = "", _("—")
    BACK = "back", _("已归寝")
    LATE_BACK = "late_back", _("晚归")
    NOT_BACK = "not_back", _("未归")


class AttendanceDay(models.Model):
    """One student's day: computed from the passages as they arrive, unless a teacher corrected it."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey("people.Student", on_delete=models.CASCADE, related_name="+")
    date = models.DateField(_("日期"))
    admin_class_id = models.BigIntegerField(null=True)
    grade_id = models.BigIntegerField(null=True)
    status = models.CharField(_("状态"), max_length=12, choices=DayStatus.choices, default=DayStatus.PENDING)
    dorm_status = models.CharField(_("归寝"), max_length=10, choices=DormStatus.choices, blank=True, default="")
    first_in = models.DateTimeField(_("首次进校"), null=True, blank=True)
    last_out = models.DateTimeField(_("最后离校"), null=True, blank=True)
    late_minutes = models.PositiveSmallIntegerField(_("迟到分钟"), default=0)
    periods = models.JSONField(_("课节签到"), default=list, blank=True)  # period numbers checked in
    leave_id = models.BigIntegerField(null=True, blank=True)
    corrected = models.BooleanField(_("已更正"), default=False)
    correction_reason = models.CharField(_("更正原因"), max_length=200, blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    alerted = models.BooleanField(default=False)  # the absent-without-leave alert went out
    dorm_alerted = models.BooleanField(default=False)  # the not-back-in-the-dorm alert went out
    updated_at = models.DateTimeField(auto_now=True)

    scoping = ScopePaths(
        school="school_id",
        region="school__division_code",
        grade="grade_id",
        klass="admin_class_id",
        student="student_id",
        account="student__account_id",
    )

    class Meta:
        ordering = ["date", "admin_class_id", "student_id"]
        verbose_name = _("考勤日记录")
        verbose_name_plural = _("考勤日记录")
        constraints = [models.UniqueConstraint(fields=["student", "date"], name="attendance_day_once")]
        indexes = [
            models.Index(fields=["school", "date", "status"]),
            models.Index(fields=["school", "date", "admin_class_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.student_id} {self.status}"


class LeaveStatus(models.TextChoices):
    PENDING = "pending", _("审批中")
    APPROVED = "approved", _("已批准")
    OUT = "out", _("已离校")
    RETURNED = "returned", _("已销假")
    OVERDUE = "overdue", _("逾期未归")
    REJECTED = "rejected", _("未批准")
    WITHDRAWN = "withdrawn", _("已撤回")
    CANCELLED = "cancelled", _("已取消")
    EXPIRED = "expired", _("已过期（未离校）")


class StudentLeave(models.Model):
    """学生请假: filed through the approval engine; its window opens the gate once approved. Never deleted."""

    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey("people.Student", on_delete=models.PROTECT, related_name="+", verbose_name=_("学生"))
    request_id = models.BigIntegerField(unique=True)
    request_number = models.CharField(_("申请编号"), max_length=32)
    leave_type = models.CharField(_("请假类型"), max_length=20)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    reason = models.CharField(_("事由"), max_length=500)
    status = models.CharField(_("状态"), max_length=10, choices=LeaveStatus.choices, default=LeaveStatus.PENDING)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(_("提交时间"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    departed_at = models.DateTimeField(_("离校时间"), null=True, blank=True)
    returned_at = models.DateTimeField(_("返校时间"), null=True, blank=True)
    overdue_alerted = models.BooleanField(default=False)
    admin_class_id = models.BigIntegerField(null=True)
    grade_id = models.BigIntegerField(null=True)

    scoping = ScopePaths(
        school="school_id",
        region="school__division_code",
        grade="grade_id",
        klass="admin_class_id",
        student="student_id",
        account="student__account_id",
    )

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("学生请假")
        verbose_name_plural = _("学生请假")
        indexes = [models.Index(fields=["school", "status", "ends_at"]), models.Index(fields=["student", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.request_number} {self.leave_type}"
