"""Accounts (one per person), explicit role assignments, and API keys for integrations."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhixiao.kernel.permissions import ROLE_LABELS, Role, ScopePaths


class AccountManager(BaseUserManager["Account"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra: Any) -> Account:
        account = self.model(username=username, **extra)
        account.set_password(password)
        account.save(using=self._db)
        return account

    def create_superuser(self, username: str, password: str | None = None, **extra: Any) -> Account:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("kind", Account.Kind.SYSTEM)
        return self.create_user(username, password, **extra)


class Account(AbstractBaseUser, PermissionsMixin):
    """One account per person. Staff log in with 工号, students with 学籍号, guardians with a mobile."""

    class Kind(models.TextChoices):
        STAFF = "staff", _("教职工")
        STUDENT = "student", _("学生")
        GUARDIAN = "guardian", _("家长")
        SYSTEM = "system", _("系统")

    username = models.CharField(_("登录名"), max_length=64, unique=True)
    display_name = models.CharField(_("姓名"), max_length=64, blank=True)
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices, default=Kind.STAFF)
    mobile = models.CharField(_("手机号"), max_length=11, null=True, blank=True, unique=True)
    must_change_password = models.BooleanField(_("首次登录须改密码"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    is_staff = models.BooleanField(_("可进入后台"), default=False)
    date_joined = models.DateTimeField(_("创建时间"), default=timezone.now)

    objects: ClassVar[AccountManager] = AccountManager()  # type: ignore[assignment]

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("账号")
        verbose_name_plural = _("账号")

    def __str__(self) -> str:
        return self.display_name or self.username

    def get_full_name(self) -> str:
        return str(self)

    def get_short_name(self) -> str:
        return str(self)


ROLE_CHOICES = [(r.value, ROLE_LABELS[r]) for r in Role]
EXPLICIT_ROLES = (
    Role.SYSTEM_ADMIN,
    Role.BUREAU_OFFICER,
    Role.SCHOOL_ADMIN,
    Role.PRINCIPAL,
    Role.DEPARTMENT_HEAD,
    Role.GRADE_HEAD,
    Role.GUARD,
    Role.CANTEEN_STAFF,
    Role.IT_STAFF,
)


class RoleAssignment(models.Model):
    """A role given explicitly over an org unit. Homeroom, teaching, guardian and student roles are not
    stored here: they follow from the class, the teaching assignment and the guardian link themselves."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("角色"), max_length=32, choices=ROLE_CHOICES)
    region_code = models.CharField(_("行政区划"), max_length=6, blank=True)
    school = models.ForeignKey("org.School", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey("org.Department", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    grade = models.ForeignKey("org.Grade", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    granted_by = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("角色分配")
        verbose_name_plural = _("角色分配")
        constraints = [
            models.CheckConstraint(
                name="role_scope_matches_role",
                condition=(
                    Q(role="system_admin", school__isnull=True, region_code="")
                    | Q(role="bureau_officer", school__isnull=True) & ~Q(region_code="")
                    | Q(role="department_head", school__isnull=False, department__isnull=False)
                    | Q(role="grade_head", school__isnull=False, grade__isnull=False)
                    | Q(
                        role__in=["school_admin", "principal", "guard", "canteen_staff", "it_staff"],
                        school__isnull=False,
                    )
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} · {self.get_role_display()}"


class ApiKey(models.Model):
    """A key for an integration or a device: acts with one role in one school, shown once, hashed."""

    ROLES = (Role.PRINCIPAL, Role.IT_STAFF, Role.GUARD, Role.CANTEEN_STAFF)

    name = models.CharField(_("名称"), max_length=100)
    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(
        _("权限角色"),
        max_length=32,
        choices=[(r.value, ROLE_LABELS[r]) for r in ROLES],
        default=Role.IT_STAFF,
    )
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(Account, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    scoping = ScopePaths(school="school_id", region="school__division_code")
    rls_exempt = True  # looked up by prefix before the caller is known; selectors scope the lists

    class Meta:
        verbose_name = _("API 密钥")
        verbose_name_plural = _("API 密钥")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class ApiKeyUse(models.Model):
    """Each request made with an API key (not hash-chained: devices call often)."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="uses")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    ip = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.key_id} {self.method} {self.path}"
