"""Approval flows: definitions (versioned data), requests, approvers' tasks, CCs and the timeline.

Other domains never read these tables: they start requests and learn outcomes through
`workflow.services` and the events in `workflow.events`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhixiao.kernel.permissions import ScopePaths


class Definition(models.Model):
    """A kind of request in one school (教师请假, 报修, 用印…); its steps live in versions."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("代码"), max_length=50)
    name = models.CharField(_("名称"), max_length=100)
    category = models.CharField(_("分类"), max_length=50, blank=True)
    module = models.CharField(max_length=50, blank=True)  # the app that owns it ("office"), if any
    active = models.BooleanField(_("启用"), default=True)
    current = models.ForeignKey("DefinitionVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    scoping = ScopePaths(school="school_id", region="school__division_code")

    class Meta:
        ordering = ["school", "category", "name"]
        verbose_name = _("流程定义")
        verbose_name_plural = _("流程定义")
        constraints = [models.UniqueConstraint(fields=["school", "key"], name="definition_key_unique_in_school")]

    def __str__(self) -> str:
        return self.name


class DefinitionVersion(models.Model):
    """One saved state of a definition; never changed, so a running request keeps the rules it began with."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    definition = models.ForeignKey(Definition, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本"))
    spec = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    scoping = ScopePaths(school="school_id", region="school__division_code")

    class Meta:
        ordering = ["definition", "-number"]
        constraints = [models.UniqueConstraint(fields=["definition", "number"], name="definition_version_unique")]

    def __str__(self) -> str:
        return f"{self.definition} v{self.number}"


class RequestStatus(models.TextChoices):
    RUNNING = "running", _("审批中")
    RETURNED = "returned", _("退回修改")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("已驳回")
    WITHDRAWN = "withdrawn", _("已撤回")


FINAL_STATUSES = (RequestStatus.APPROVED, RequestStatus.REJECTED, RequestStatus.WITHDRAWN)


class Request(models.Model):
    """申请: one person's filled-in form travelling through a definition version's steps."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(DefinitionVersion, on_delete=models.PROTECT, related_name="requests")
    definition = models.ForeignKey(Definition, on_delete=models.PROTECT, related_name="requests")
    number = models.CharField(_("编号"), max_length=32, unique=True)
    title = models.CharField(_("标题"), max_length=200)
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    values = models.JSONField(default=dict)
    status = models.CharField(_("状态"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.RUNNING)
    current_step = models.CharField(max_length=50, blank=True)
    current_step_name = models.CharField(_("当前步骤"), max_length=100, blank=True)
    round = models.PositiveIntegerField(default=1)  # +1 each time the applicant resubmits after a return
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    scoping = ScopePaths(school="school_id", region="school__division_code", account="applicant_id")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("申请")
        verbose_name_plural = _("申请")
        indexes = [models.Index(fields=["applicant", "-created_at"]), models.Index(fields=["school", "status"])]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class TaskStatus(models.TextChoices):
    WAITING = "waiting", _("待审批")
    APPROVED = "approved", _("同意")
    REJECTED = "rejected", _("驳回")
    RETURNED = "returned", _("退回修改")
    DELEGATED = "delegated", _("已转交")
    CLOSED = "closed", _("无需处理")  # the step was decided by someone else, or the request ended


class TaskOrigin(models.TextChoices):
    RULE = "rule", _("流程规则")
    DELEGATED = "delegated", _("转交")
    ADDED = "added", _("加签")
    ESCALATED = "escalated", _("超时升级")
    FALLBACK = "fallback", _("无审批人，转学校管理员")


class Task(models.Model):
    """One approver's part in one step of one request (the rows of 待我审批 and 我已审批)."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="tasks")
    step = models.CharField(max_length=50)
    step_name = models.CharField(_("步骤"), max_length=100)
    round = models.PositiveIntegerField(default=1)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    origin = models.CharField(max_length=16, choices=TaskOrigin.choices, default=TaskOrigin.RULE)
    required = models.BooleanField(default=False)  # an added approver (加签) must approve in any mode
    status = models.CharField(_("状态"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.WAITING)
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.CharField(_("意见"), max_length=500, blank=True)

    scoping = ScopePaths(school="school_id", region="school__division_code", account="assignee_id")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # 待我审批 in its own order (oldest first): the page reads 20 rows off the index, not 500 then sort
            models.Index(fields=["assignee", "status", "created_at", "id"], name="task_worklist"),
            models.Index(fields=["status", "due_at"]),
        ]
        constraints = [
            # one open task per person per step and round: a double click or a race cannot add a second
            models.UniqueConstraint(
                fields=["request", "step", "round", "assignee"],
                condition=Q(status="waiting"),
                name="task_one_waiting_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.request.number} {self.step_name} {self.assignee}"


class Carbon(models.Model):
    """抄送: someone told about a request without deciding it."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="carbons")
    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    step = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    scoping = ScopePaths(school="school_id", region="school__division_code", account="account_id")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["request", "account"], name="carbon_once_per_person")]

    def __str__(self) -> str:
        return f"{self.request_id} → {self.account_id}"


class ActionKind(models.TextChoices):
    SUBMIT = "submit", _("提交")
    APPROVE = "approve", _("同意")
    REJECT = "reject", _("驳回")
    RETURN = "return", _("退回修改")
    RESUBMIT = "resubmit", _("重新提交")
    WITHDRAW = "withdraw", _("撤回")
    DELEGATE = "delegate", _("转交")
    ADD_APPROVER = "add_approver", _("加签")
    REMIND = "remind", _("催办")
    ESCALATE = "escalate", _("超时升级")
    FALLBACK = "fallback", _("转学校管理员")
    CC = "cc", _("抄送")
    STEP = "step", _("进入步骤")
    FINISH = "finish", _("流程结束")


class Action(models.Model):
    """The timeline: everything that happened to a request, who, when and why. Only ever added to."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(max_length=16, choices=ActionKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    step_name = models.CharField(max_length=100, blank=True)
    comment = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)  # e.g. {"to": "张老师"} or {"assignees": [...]}

    scoping = ScopePaths(school="school_id", region="school__division_code")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind}"


class Attachment(models.Model):
    """A file handed in with a request or with an approver's decision (photos of a broken projector…)."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="attachments")
    action = models.ForeignKey(Action, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    data = models.BinaryField()  # kept in the database: one backup holds everything, files are small
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    scoping = ScopePaths(school="school_id", region="school__division_code")

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name
