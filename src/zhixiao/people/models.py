"""Students, guardians and staff, with their links to classes and to each other."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from zhixiao.kernel import codes
from zhixiao.kernel.permissions import ScopePaths


class Gender(models.TextChoices):  # GB/T 2261.1
    MALE = "1", _("男")
    FEMALE = "2", _("女")


class Boarding(models.TextChoices):
    DAY = "day", _("走读")
    BOARDING = "boarding", _("住校")


class StudentStatus(models.TextChoices):  # JY/T 1001 XSDQZT codes
    ENROLLED = "01", _("在读")
    SUSPENDED = "02", _("休学")
    TRANSFERRED_OUT = "10", _("转出")
    GRADUATED = "07", _("毕业")


class Student(models.Model):
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    student_no = models.CharField(_("学籍号"), max_length=32, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    id_type = models.CharField(_("证件类型"), max_length=2, default=codes.RESIDENT_ID_CARD)
    id_number = models.CharField(_("证件号码"), max_length=32, null=True, blank=True)
    birth_date = models.DateField(_("出生日期"))
    ethnicity = models.CharField(_("民族"), max_length=2, default="01")
    household_type = models.CharField(_("户口性质"), max_length=1, blank=True)
    boarding = models.CharField(_("走读/住校"), max_length=10, choices=Boarding.choices, default=Boarding.DAY)
    admin_class = models.ForeignKey(
        "org.AdminClass",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("班级"),
    )
    status = models.CharField(
        _("学籍状态"), max_length=2, choices=StudentStatus.choices, default=StudentStatus.ENROLLED
    )
    status_since = models.DateField(_("状态日期"))
    enrolled_on = models.DateField(_("入学日期"))
    address = models.CharField(_("家庭住址"), max_length=200, blank=True)
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="student"
    )
    history = HistoricalRecords(excluded_fields=["account"])

    scoping = ScopePaths(
        school="school_id",
        region="school__division_code",
        grade="admin_class__grade_id",
        klass="admin_class_id",
        student="id",
        account="account_id",
    )

    class Meta:
        ordering = ["admin_class_id", "student_no"]
        verbose_name = _("学生")
        verbose_name_plural = _("学生")
        constraints = [
            models.UniqueConstraint(
                fields=["id_type", "id_number"],
                condition=Q(id_number__isnull=False),
                name="student_id_unique",
            ),
        ]
        indexes = [models.Index(fields=["school", "name"]), models.Index(fields=["school", "status"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.student_no}）"


class Guardian(models.Model):
    """A parent or other guardian; may have several children, in several schools."""

    name = models.CharField(_("姓名"), max_length=50)
    mobile = models.CharField(_("手机号"), max_length=11, unique=True)
    id_type = models.CharField(_("证件类型"), max_length=2, blank=True)
    id_number = models.CharField(_("证件号码"), max_length=32, blank=True)
    work_unit = models.CharField(_("工作单位"), max_length=100, blank=True)
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="guardian"
    )
    history = HistoricalRecords(excluded_fields=["account"])

    scoping = ScopePaths(
        school="links__school_id",
        region="links__school__division_code",
        grade="links__student__admin_class__grade_id",
        klass="links__student__admin_class_id",
        student="links__student_id",
        account="account_id",
        multi=frozenset({"school", "region", "grade", "class", "student"}),
    )
    # Row-level security: a guardian row is visible where one of its links is.
    rls_school_sql = (
        "EXISTS (SELECT 1 FROM people_guardianlink l WHERE l.guardian_id = people_guardian.id "
        "AND l.school_id = ANY (zhixiao_school_ids()))"
    )

    class Meta:
        verbose_name = _("监护人")
        verbose_name_plural = _("监护人")

    def __str__(self) -> str:
        return self.name


class Relation(models.TextChoices):
    FATHER = "father", _("父亲")
    MOTHER = "mother", _("母亲")
    GRANDFATHER = "grandfather", _("祖父/外祖父")
    GRANDMOTHER = "grandmother", _("祖母/外祖母")
    OTHER = "other", _("其他监护人")


class GuardianLink(models.Model):
    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="guardian_links")
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="links")
    relation = models.CharField(_("关系"), max_length=16, choices=Relation.choices)
    may_notify = models.BooleanField(_("接收通知"), default=True)
    is_primary = models.BooleanField(_("主要联系人"), default=False)
    history = HistoricalRecords()

    scoping = ScopePaths(
        school="school_id",
        region="school__division_code",
        grade="student__admin_class__grade_id",
        klass="student__admin_class_id",
        student="student_id",
        account="guardian__account_id",
    )

    class Meta:
        verbose_name = _("监护关系")
        verbose_name_plural = _("监护关系")
        constraints = [models.UniqueConstraint(fields=["student", "guardian"], name="guardian_link_unique")]

    def __str__(self) -> str:
        return f"{self.guardian} → {self.student}"


class StaffStatus(models.TextChoices):
    ACTIVE = "active", _("在职")
    LEFT = "left", _("离职")
    RETIRED = "retired", _("退休")


class Post(models.TextChoices):
    TEACHER = "teacher", _("专任教师")
    ADMIN = "admin", _("行政人员")
    SUPPORT = "support", _("教辅人员")
    WORKER = "worker", _("工勤人员")
    SECURITY = "security", _("安保人员")


class Staff(models.Model):
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, related_name="+")
    staff_no = models.CharField(_("工号"), max_length=32)
    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    id_type = models.CharField(_("证件类型"), max_length=2, default=codes.RESIDENT_ID_CARD)
    id_number = models.CharField(_("证件号码"), max_length=32, null=True, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    ethnicity = models.CharField(_("民族"), max_length=2, default="01")
    political_status = models.CharField(_("政治面貌"), max_length=2, default="13")
    mobile = models.CharField(_("手机号"), max_length=11, blank=True)
    post = models.CharField(_("岗位"), max_length=16, choices=Post.choices, default=Post.TEACHER)
    title = models.CharField(_("职务/职称"), max_length=50, blank=True)
    departments = models.ManyToManyField("org.Department", blank=True, related_name="+", verbose_name=_("处室"))
    status = models.CharField(_("状态"), max_length=10, choices=StaffStatus.choices, default=StaffStatus.ACTIVE)
    hired_on = models.DateField(_("入职日期"), null=True, blank=True)
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="staff"
    )
    history = HistoricalRecords(excluded_fields=["account"])

    scoping = ScopePaths(
        school="school_id",
        region="school__division_code",
        department="departments__id",
        account="account_id",
        multi=frozenset({"department"}),
    )

    class Meta:
        ordering = ["school", "staff_no"]
        verbose_name = _("教职工")
        verbose_name_plural = _("教职工")
        constraints = [
            models.UniqueConstraint(fields=["school", "staff_no"], name="staff_no_unique_in_school"),
            models.UniqueConstraint(
                fields=["id_type", "id_number"], condition=Q(id_number__isnull=False), name="staff_id_unique"
            ),
        ]
        indexes = [models.Index(fields=["school", "name"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.staff_no}）"


class TeachingAssignment(models.Model):
    """任课: a teacher teaches a subject to a class in a term."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    term = models.ForeignKey("org.Term", on_delete=models.CASCADE, related_name="+", verbose_name=_("学期"))
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="teaching", verbose_name=_("教师"))
    admin_class = models.ForeignKey(
        "org.AdminClass", on_delete=models.CASCADE, related_name="+", verbose_name=_("班级")
    )
    subject = models.ForeignKey("org.Subject", on_delete=models.PROTECT, related_name="+", verbose_name=_("科目"))
    history = HistoricalRecords()

    scoping = ScopePaths(
        school="school_id",
        region="school__division_code",
        grade="admin_class__grade_id",
        klass="admin_class_id",
        account="staff__account_id",
    )

    class Meta:
        verbose_name = _("任课安排")
        verbose_name_plural = _("任课安排")
        constraints = [
            models.UniqueConstraint(fields=["term", "admin_class", "subject", "staff"], name="teaching_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.staff.name} {self.admin_class} {self.subject}"


class ImportJob(models.Model):
    """An Excel import of students (with guardians) or staff, run by the worker; all rows or none."""

    class Kind(models.TextChoices):
        STUDENTS = "students", _("学生及监护人")
        STAFF = "staff", _("教职工")

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        VALIDATING = "validating", _("校验中")
        WRITING = "writing", _("写入中")
        FAILED = "failed", _("未导入（有错误）")
        DONE = "done", _("已导入")

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+", verbose_name=_("学校"))
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    filename = models.CharField(_("文件名"), max_length=200)
    # The upload itself, so the worker (another process, maybe another machine) reads it from the database.
    upload = models.BinaryField(_("上传文件"), editable=False)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    errors = models.JSONField(_("错误清单"), default=list, blank=True)
    created_counts = models.JSONField(_("写入数量"), default=dict, blank=True)
    # Shown once on the job page, then blanked.
    initial_password = models.CharField(_("初始密码"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    scoping = ScopePaths(school="school_id", region="school__division_code")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        indexes = [models.Index(fields=["school", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.FAILED, self.Status.DONE)
