"""The school's structure: school, campuses, departments (处室), grades by cohort, classes (行政班),
subjects, school years and terms, and the school's own calendar days."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhixiao.kernel import codes
from zhixiao.kernel.permissions import ScopePaths

_MEMBERS = ScopePaths(school="school_id", region="school__division_code", open_to_members=True)


class School(models.Model):
    code = models.CharField(_("学校标识码"), max_length=10, unique=True)
    name = models.CharField(_("学校名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=30, blank=True)
    school_type = models.CharField(_("办学类型"), max_length=3)  # JY/T 1001 BXLX
    division_code = models.CharField(_("行政区划"), max_length=6, db_index=True)  # GB/T 2260
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    scoping = ScopePaths(school="id", region="division_code", open_to_members=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("学校")
        verbose_name_plural = _("学校")

    def __str__(self) -> str:
        return self.name

    @property
    def school_type_name(self) -> str:
        return codes.code_list(codes.SCHOOL_TYPE).name(self.school_type)

    @property
    def division_name(self) -> str:
        return "".join(c.name_zh for c in codes.division_path(self.division_code))


class Campus(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="campuses")
    name = models.CharField(_("校区名称"), max_length=100)
    address = models.CharField(_("地址"), max_length=200, blank=True)

    scoping = _MEMBERS

    class Meta:
        ordering = ["school", "id"]
        verbose_name = _("校区")
        verbose_name_plural = _("校区")
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="campus_name_unique_in_school")]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """处室: 办公室, 教务处, 学生处, 总务处, 信息中心 …"""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="departments")
    name = models.CharField(_("处室名称"), max_length=50)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    scoping = ScopePaths(school="school_id", region="school__division_code", department="id", open_to_members=True)

    class Meta:
        ordering = ["school", "sort_order", "id"]
        verbose_name = _("处室")
        verbose_name_plural = _("处室")
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="department_name_unique_in_school")]

    def __str__(self) -> str:
        return self.name


class Stage(models.TextChoices):
    PRIMARY = "primary", _("小学")
    JUNIOR = "junior", _("初中")
    SENIOR = "senior", _("高中")
    VOCATIONAL = "vocational", _("中职")


STAGE_YEARS = {Stage.PRIMARY: 6, Stage.JUNIOR: 3, Stage.SENIOR: 3, Stage.VOCATIONAL: 3}
STAGE_GRADE_NAMES = {
    Stage.PRIMARY: ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"],
    Stage.JUNIOR: ["初一", "初二", "初三"],
    Stage.SENIOR: ["高一", "高二", "高三"],
    Stage.VOCATIONAL: ["中职一年级", "中职二年级", "中职三年级"],
}


class Grade(models.Model):
    """A cohort by entry year (2024级); its everyday name (高二) follows from the school year."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="grades")
    stage = models.CharField(_("学段"), max_length=16, choices=Stage.choices)
    entry_year = models.PositiveSmallIntegerField(_("入学年份"))
    graduated = models.BooleanField(_("已毕业"), default=False)

    scoping = ScopePaths(school="school_id", region="school__division_code", grade="id", open_to_members=True)

    class Meta:
        ordering = ["school", "stage", "-entry_year"]
        verbose_name = _("年级")
        verbose_name_plural = _("年级")
        constraints = [models.UniqueConstraint(fields=["school", "stage", "entry_year"], name="grade_unique_cohort")]

    def __str__(self) -> str:
        return f"{self.entry_year}级"

    def level_name(self, school_year_start: int) -> str:
        """高一/高二… in the school year that starts in `school_year_start` (September)."""
        index = school_year_start - self.entry_year
        names = STAGE_GRADE_NAMES[Stage(self.stage)]
        if 0 <= index < len(names):
            return names[index]
        return str(self)


class AdminClass(models.Model):
    """行政班: the class a student belongs to, with its homeroom teacher (班主任)."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="classes")
    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, related_name="classes")
    number = models.PositiveSmallIntegerField(_("班号"))
    name = models.CharField(_("班级名称"), max_length=50)
    campus = models.ForeignKey(Campus, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    homeroom_teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="homeroom_classes",
        verbose_name=_("班主任"),
    )
    room = models.CharField(_("教室"), max_length=50, blank=True)

    scoping = ScopePaths(school="school_id", region="school__division_code", grade="grade_id", klass="id")

    class Meta:
        ordering = ["school", "grade__stage", "-grade__entry_year", "number"]
        verbose_name = _("班级")
        verbose_name_plural = _("班级")
        constraints = [
            models.UniqueConstraint(fields=["grade", "number"], name="class_number_unique_in_grade"),
            models.UniqueConstraint(fields=["school", "name"], name="class_name_unique_in_school"),
        ]

    def __str__(self) -> str:
        return self.name


class Subject(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="subjects")
    code = models.CharField(_("科目代码"), max_length=10)
    name = models.CharField(_("科目名称"), max_length=30)

    scoping = _MEMBERS

    class Meta:
        ordering = ["school", "code"]
        verbose_name = _("科目")
        verbose_name_plural = _("科目")
        constraints = [
            models.UniqueConstraint(fields=["school", "code"], name="subject_code_unique_in_school"),
            models.UniqueConstraint(fields=["school", "name"], name="subject_name_unique_in_school"),
        ]

    def __str__(self) -> str:
        return self.name


class SchoolYear(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="school_years")
    start_year = models.PositiveSmallIntegerField(_("起始年份"))
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))

    scoping = _MEMBERS

    class Meta:
        ordering = ["school", "-start_year"]
        verbose_name = _("学年")
        verbose_name_plural = _("学年")
        constraints = [
            models.UniqueConstraint(fields=["school", "start_year"], name="school_year_unique"),
            models.CheckConstraint(condition=models.Q(ends_on__gt=models.F("starts_on")), name="school_year_order"),
        ]

    def __str__(self) -> str:
        return f"{self.start_year}-{self.start_year + 1}学年"


class Term(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="terms")
    school_year = models.ForeignKey(SchoolYear, on_delete=models.CASCADE, related_name="terms")
    number = models.PositiveSmallIntegerField(_("学期"), choices=[(1, _("第一学期")), (2, _("第二学期"))])
    starts_on = models.DateField(_("开学日期"))
    ends_on = models.DateField(_("结束日期"))
    is_current = models.BooleanField(_("当前学期"), default=False)

    scoping = _MEMBERS

    class Meta:
        ordering = ["school", "-starts_on"]
        verbose_name = _("学期")
        verbose_name_plural = _("学期")
        constraints = [
            models.UniqueConstraint(fields=["school_year", "number"], name="term_unique_in_year"),
            models.UniqueConstraint(
                fields=["school"], condition=models.Q(is_current=True), name="one_current_term_per_school"
            ),
            models.CheckConstraint(condition=models.Q(ends_on__gt=models.F("starts_on")), name="term_order"),
        ]

    def __str__(self) -> str:
        return f"{self.school_year} {self.get_number_display()}"


class CalendarDay(models.Model):
    """The school's own exception to the national calendar: a day off, or an extra school day."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="calendar_days")
    date = models.DateField(_("日期"))
    is_school_day = models.BooleanField(_("上课"), default=False)
    note = models.CharField(_("说明"), max_length=100)
    # an extra school day (补课, 调休) takes this weekday's timetable (0 = 周一); empty: its own weekday's
    follows_weekday = models.PositiveSmallIntegerField(
        _("按周几课表"), null=True, blank=True, validators=[MaxValueValidator(6)]
    )

    scoping = _MEMBERS

    class Meta:
        ordering = ["school", "date"]
        verbose_name = _("校历调整")
        verbose_name_plural = _("校历调整")
        constraints = [models.UniqueConstraint(fields=["school", "date"], name="calendar_day_unique")]

    def __str__(self) -> str:
        return f"{self.date} {self.note}"
