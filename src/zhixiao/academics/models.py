"""Exams of a school (考试), their subjects with full marks and lines, the students who sit them and their
scores. The analysis engine (engine/) reads none of these tables: `selectors.score_frame` turns them into the
engine's polars frame.

Students and classes are copied onto ExamStudent when the exam is created (id, 学籍号, name, class), so an
exam keeps the classes it was sat in after students move on; no foreign key reaches into another domain's
tables except the school, grade and term (by string), as the other domains do."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhixiao.kernel.permissions import ScopePaths

# exam.manage for a department head reaches the exams of the school's 教务处 only (academic_department_id)
_EXAM_PATHS = ScopePaths(
    school="school_id", region="school__division_code", department="academic_department_id", grade="grade_id"
)
_STUDENT_PATHS = ScopePaths(
    school="school_id",
    region="school__division_code",
    department="exam__academic_department_id",
    grade="exam__grade_id",
    klass="class_id",
    student="student_id",
)
_SCORE_PATHS = ScopePaths(
    school="school_id",
    region="school__division_code",
    department="exam__academic_department_id",
    grade="exam__grade_id",
    klass="exam_student__class_id",
    student="exam_student__student_id",
)


class ExamKind(models.TextChoices):
    UNIT = "unit", _("单元测验")
    MONTHLY = "monthly", _("月考")
    MIDTERM = "midterm", _("期中")
    FINAL = "final", _("期末")
    MOCK = "mock", _("模拟")


class ExamStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    ENTERING = "entering", _("录入中")
    LOCKED = "locked", _("已锁定")
    PUBLISHED = "published", _("已发布")


class Exam(models.Model):
    """One exam of one grade: draft → entering (scores come in) → locked (checked, read-only) → published
    (families see their own child's scores)."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("考试名称"), max_length=60)
    kind = models.CharField(_("类型"), max_length=10, choices=ExamKind.choices, default=ExamKind.MIDTERM)
    term = models.ForeignKey(
        "org.Term", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("学期")
    )
    grade = models.ForeignKey("org.Grade", on_delete=models.PROTECT, related_name="+", verbose_name=_("年级"))
    grade_name = models.CharField(_("年级"), max_length=30)  # as the school called it then (高二)
    date = models.DateField(_("考试日期"))
    status = models.CharField(_("状态"), max_length=10, choices=ExamStatus.choices, default=ExamStatus.DRAFT)
    # ranks are never shown to students and guardians unless the school turns this on for itself
    ranks_for_families = models.BooleanField(_("向学生和家长显示排名"), default=False)
    academic_department_id = models.BigIntegerField(null=True, blank=True)  # the school's 教务处 at creation
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    scoping = _EXAM_PATHS

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("考试")
        verbose_name_plural = _("考试")
        indexes = [models.Index(fields=["school", "status"])]

    def __str__(self) -> str:
        return self.name

    @property
    def editable(self) -> bool:
        return self.status in (ExamStatus.DRAFT, ExamStatus.ENTERING)


class ExamSubject(models.Model):
    """A subject of an exam with its full marks and the school's lines in % of them (优秀, 及格, 低分)."""

    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="subjects")
    subject = models.CharField(_("科目"), max_length=30)
    position = models.PositiveSmallIntegerField(default=0)
    full_marks = models.DecimalField(_("满分"), max_digits=5, decimal_places=1)
    excellent = models.DecimalField(_("优秀线"), max_digits=4, decimal_places=1, default=Decimal("85"))
    passing = models.DecimalField(_("及格线"), max_digits=4, decimal_places=1, default=Decimal("60"))
    low = models.DecimalField(_("低分线"), max_digits=4, decimal_places=1, default=Decimal("40"))

    scoping = ScopePaths(school="exam__school_id", department="exam__academic_department_id", grade="exam__grade_id")

    class Meta:
        ordering = ["exam", "position", "id"]
        verbose_name = _("考试科目")
        verbose_name_plural = _("考试科目")
        constraints = [models.UniqueConstraint(fields=["exam", "subject"], name="academics_subject_once")]

    def __str__(self) -> str:
        return self.subject


class ExamStudent(models.Model):
    """A student who sits the exam, with the class he sat it in."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="students")
    student_id = models.BigIntegerField()
    student_no = models.CharField(_("学籍号"), max_length=32)
    name = models.CharField(_("姓名"), max_length=50)
    class_id = models.BigIntegerField()
    class_name = models.CharField(_("班级"), max_length=50)

    scoping = _STUDENT_PATHS

    class Meta:
        ordering = ["exam", "class_name", "student_no"]
        verbose_name = _("考生")
        verbose_name_plural = _("考生")
        constraints = [
            models.UniqueConstraint(fields=["exam", "student_id"], name="academics_student_once"),
            models.UniqueConstraint(fields=["exam", "student_no"], name="academics_student_no_once"),
        ]
        indexes = [models.Index(fields=["exam", "class_id"]), models.Index(fields=["student_id"])]

    def __str__(self) -> str:
        return f"{self.student_no} {self.name}"


class ScoreStatus(models.TextChoices):
    SAT = "sat", _("正常")
    ABSENT = "absent", _("缺考")
    EXEMPT = "exempt", _("免考")
    CHEATING = "cheating", _("作弊")


class Score(models.Model):
    """One student's score in one subject: a value, or a status (缺考, 免考, 作弊) with no value."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="scores")
    exam_subject = models.ForeignKey(ExamSubject, on_delete=models.CASCADE, related_name="scores")
    exam_student = models.ForeignKey(ExamStudent, on_delete=models.CASCADE, related_name="scores")
    value = models.DecimalField(_("分数"), max_digits=5, decimal_places=1, null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=ScoreStatus.choices, default=ScoreStatus.SAT)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_at = models.DateTimeField(auto_now=True)

    scoping = _SCORE_PATHS

    class Meta:
        verbose_name = _("成绩")
        verbose_name_plural = _("成绩")
        constraints = [
            models.UniqueConstraint(fields=["exam_subject", "exam_student"], name="academics_score_once"),
            models.CheckConstraint(
                condition=(models.Q(status="sat", value__isnull=False) | ~models.Q(status="sat")),
                name="academics_score_value_when_sat",
            ),
        ]
        indexes = [models.Index(fields=["exam", "exam_subject"])]

    def __str__(self) -> str:
        return f"{self.exam_student_id}/{self.exam_subject_id}: {self.value if self.value is not None else self.status}"

    @property
    def text(self) -> str:
        """As the grid shows it: 92.5, 缺, 免, 弊."""
        if self.status == ScoreStatus.SAT and self.value is not None:
            return format(self.value.normalize(), "f")
        return CODES_SHORT.get(self.status, "")


CODES_SHORT: dict[str, str] = {ScoreStatus.ABSENT: "缺", ScoreStatus.EXEMPT: "免", ScoreStatus.CHEATING: "弊"}
