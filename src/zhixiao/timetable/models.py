"""Timetable plans (排课方案) per school and term: the week's shape, the school's rooms, what each class is
taught by whom and how often, the school's rules, the background solves and the published versions.

The solver reads none of these tables: `services.build_problem(plan)` turns them into the engine's
`Problem` (plain data). A solve keeps the problem it solved as JSON beside its result, and so does every
published version, so what a teacher sees on the portal never changes under him when the data is edited.
A plan imported from a FET file keeps FET's problem as JSON instead of rows; the school's own rules
(a teacher away on Tuesdays) are added on top of either."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhixiao.kernel.permissions import ScopePaths

# timetable.manage for a department head reaches the plans of the school's 教务处 only (academic_department_id)
_PLAN_PATHS = ScopePaths(school="school_id", region="school__division_code", department="academic_department_id")
_ROW_PATHS = ScopePaths(school="school_id", region="school__division_code", department="plan__academic_department_id")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SOLVING = "solving", _("排课中")
    SOLVED = "solved", _("已排出")
    PUBLISHED = "published", _("已发布")


class PlanSource(models.TextChoices):
    MANUAL = "manual", _("本校录入")
    FET = "fet", _("FET 文件导入")


class TimetablePlan(models.Model):
    """One week's timetable for a school and term: its days and periods, and the working solution that
    moves edit until it is published."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    term = models.ForeignKey(
        "org.Term", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("学期")
    )
    name = models.CharField(_("方案名称"), max_length=100)
    academic_department_id = models.BigIntegerField(null=True, blank=True)  # the school's 教务处 at creation
    days = models.JSONField(_("上课日"), default=list)  # ["周一", …]
    periods = models.JSONField(_("节次"), default=list)  # [{"name","start","end","session"}]
    breaks = models.JSONField(_("课间"), default=list)  # [{"after": 2, "name": "大课间", "start", "end"}]
    status = models.CharField(_("状态"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    source = models.CharField(_("来源"), max_length=10, choices=PlanSource.choices, default=PlanSource.MANUAL)
    fet_problem = models.JSONField(null=True, blank=True, editable=False)  # a FET import's problem
    # 走班: the grade whose students' subject choices form the teaching classes, and its scheme (3+1+2, 3+3)
    elective_grade_id = models.BigIntegerField(_("选科年级"), null=True, blank=True)
    elective_scheme = models.CharField(_("选科模式"), max_length=5, blank=True)
    import_report = models.JSONField(default=dict, blank=True, editable=False)
    # the working timetable: the problem it was solved for, its placements, and the solve's report
    problem = models.JSONField(null=True, blank=True, editable=False)
    placements = models.JSONField(null=True, blank=True, editable=False)
    links = models.JSONField(default=dict, blank=True, editable=False)  # teachers → accounts, sets → classes
    report = models.JSONField(default=dict, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scoping = _PLAN_PATHS

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("排课方案")
        verbose_name_plural = _("排课方案")
        indexes = [models.Index(fields=["school", "status"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_fet(self) -> bool:
        return self.source == PlanSource.FET


class RoomKind(models.TextChoices):
    CLASSROOM = "普通教室", _("普通教室")
    LAB = "实验室", _("实验室")
    COMPUTER = "机房", _("机房")
    GYM = "体育馆", _("体育馆")
    PLAYGROUND = "操场", _("操场")
    MUSIC = "音乐教室", _("音乐教室")
    ART = "美术教室", _("美术教室")
    OTHER = "其他", _("其他")


class Room(models.Model):
    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(TimetablePlan, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(_("名称"), max_length=50)
    kind = models.CharField(_("类型"), max_length=10, choices=RoomKind.choices, default=RoomKind.CLASSROOM)
    capacity = models.PositiveIntegerField(_("容量"), default=50)
    building = models.CharField(_("楼宇"), max_length=50, blank=True)

    scoping = _ROW_PATHS

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("教室")
        verbose_name_plural = _("教室")
        constraints = [models.UniqueConstraint(fields=["plan", "name"], name="timetable_room_unique_in_plan")]

    def __str__(self) -> str:
        return self.name


class TeachingClass(models.Model):
    """教学班: students from several administrative classes taught together (走班)."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(TimetablePlan, on_delete=models.CASCADE, related_name="teaching_classes")
    name = models.CharField(_("教学班名称"), max_length=50)
    subject = models.CharField(_("科目"), max_length=30)
    student_ids = models.JSONField(_("学生"), default=list)
    # formed from subject choices: the block (走班时段, 0 = 选考A) whose classes meet at the same times, and
    # whether the class is exactly one 行政班 (定: it keeps the subject at home, free of its block)
    block = models.PositiveSmallIntegerField(_("走班时段"), null=True, blank=True)
    fixed = models.BooleanField(_("固定（定）"), default=False)

    scoping = _ROW_PATHS

    class Meta:
        ordering = ["subject", "name"]
        verbose_name = _("教学班")
        verbose_name_plural = _("教学班")
        constraints = [models.UniqueConstraint(fields=["plan", "name"], name="timetable_teaching_class_unique_in_plan")]

    def __str__(self) -> str:
        return self.name


class SubjectChoice(models.Model):
    """选科: one student's elective subjects (选考科目) for the plan's grade."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(TimetablePlan, on_delete=models.CASCADE, related_name="subject_choices")
    student_id = models.BigIntegerField()
    admin_class_id = models.BigIntegerField(null=True, blank=True)
    subjects = models.JSONField(_("选考科目"), default=list)  # in the order of electives.SUBJECTS

    scoping = _ROW_PATHS

    class Meta:
        ordering = ["plan", "admin_class_id", "student_id"]
        verbose_name = _("选科")
        verbose_name_plural = _("选科")
        constraints = [models.UniqueConstraint(fields=["plan", "student_id"], name="timetable_choice_once_per_student")]

    def __str__(self) -> str:
        return f"{self.student_id} {'、'.join(self.subjects)}"


class Course(models.Model):
    """What one class (行政班) or teaching class (教学班) is taught in a subject: by whom, how many periods a
    week, how many of them as double periods (连堂), in which kind of room."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(TimetablePlan, on_delete=models.CASCADE, related_name="courses")
    subject = models.CharField(_("科目"), max_length=30)
    admin_class_id = models.BigIntegerField(null=True, blank=True)
    teaching_class = models.ForeignKey(
        TeachingClass, null=True, blank=True, on_delete=models.CASCADE, related_name="courses"
    )
    class_name = models.CharField(_("班级"), max_length=50)
    teacher_ids = models.JSONField(_("教师"), default=list)  # account ids
    lessons_per_week = models.PositiveSmallIntegerField(_("周课时"))
    double_lessons = models.PositiveSmallIntegerField(_("连堂次数"), default=0)
    max_per_day = models.PositiveSmallIntegerField(_("每天最多"), default=2)
    room_kind = models.CharField(_("教室类型"), max_length=10, blank=True)

    scoping = _ROW_PATHS

    class Meta:
        ordering = ["class_name", "subject"]
        verbose_name = _("课程安排")
        verbose_name_plural = _("课程安排")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "class_name", "subject"], name="timetable_course_once_per_class_subject"
            ),
            models.CheckConstraint(
                condition=models.Q(lessons_per_week__gte=models.F("double_lessons") * 2),
                name="timetable_course_doubles_fit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.class_name} {self.subject}"


class RuleKind(models.TextChoices):
    TEACHER_UNAVAILABLE = "teacher_unavailable", _("教师不排课时间")
    CLASS_UNAVAILABLE = "class_unavailable", _("班级不排课时间")
    BREAK = "break", _("全校不排课时间（班会、活动）")
    MORNING_SUBJECTS = "morning_subjects", _("主科尽量排上午")
    CLASS_NO_GAPS = "class_no_gaps", _("班级课表不留空节")
    TEACHER_MAX_GAPS = "teacher_max_gaps", _("教师每天空节不超过")
    TEACHER_MAX_CONSECUTIVE = "teacher_max_consecutive", _("教师连续上课不超过")
    TEACHER_MAX_DAILY = "teacher_max_daily", _("教师每天课时不超过")
    SUBJECT_MAX_PER_DAY = "subject_max_per_day", _("同一科目每天不超过")
    TEACHER_BALANCED = "teacher_balanced", _("教师每天课时均衡")
    FIXED_LESSON = "fixed_lesson", _("固定课（锁定时间）")


class PlanRule(models.Model):
    """A school's rule for its timetable, with a weight: 100 must hold, below 100 the solver may break it
    at a cost (the higher, the dearer)."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(TimetablePlan, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(_("规则"), max_length=30, choices=RuleKind.choices)
    weight = models.FloatField(_("权重"), default=100.0)
    params = models.JSONField(_("参数"), default=dict)
    label = models.CharField(_("说明"), max_length=200, blank=True)

    scoping = _ROW_PATHS

    class Meta:
        ordering = ["kind", "id"]
        verbose_name = _("排课规则")
        verbose_name_plural = _("排课规则")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight__gt=0) & models.Q(weight__lte=100), name="timetable_rule_weight_range"
            )
        ]

    def __str__(self) -> str:
        return self.label or self.get_kind_display()


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("求解中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("未排出")
    CANCELLED = "cancelled", _("已取消")


class RunMode(models.TextChoices):
    FULL = "full", _("完整排课")
    REPAIR = "repair", _("调整（以已发布课表为基础）")
    ELECTIVES = "electives", _("走班分班")


class SolveRun(models.Model):
    """One background solve of a plan: its progress while it runs, its report when it ends."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(TimetablePlan, on_delete=models.CASCADE, related_name="runs")
    mode = models.CharField(_("方式"), max_length=10, choices=RunMode.choices, default=RunMode.FULL)
    status = models.CharField(_("状态"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    time_limit = models.PositiveIntegerField(_("时间上限（秒）"), default=60)
    seed = models.IntegerField(default=0)
    fraction = models.FloatField(default=0.0)
    solutions = models.PositiveIntegerField(_("已找到方案"), default=0)
    best_cost = models.FloatField(_("最优代价"), null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    problem = models.JSONField(editable=False)  # what was solved (the data as it was when the run started)
    links = models.JSONField(default=dict, editable=False)
    previous = models.JSONField(null=True, blank=True, editable=False)  # repair: the published placements
    placements = models.JSONField(null=True, blank=True, editable=False)
    report = models.JSONField(default=dict, editable=False)
    error = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    scoping = _ROW_PATHS

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("排课任务")
        verbose_name_plural = _("排课任务")
        indexes = [models.Index(fields=["plan", "status"])]

    def __str__(self) -> str:
        return f"{self.plan_id}#{self.pk} {self.status}"

    @property
    def finished(self) -> bool:
        return self.status in (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED)

    @property
    def percent(self) -> int:
        return 100 if self.finished else round(min(self.fraction, 0.99) * 100)


class TimetableVersion(models.Model):
    """A published timetable. Publishing again adds a version; the old ones stay as they were."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(TimetablePlan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本"))
    problem = models.JSONField(editable=False)
    placements = models.JSONField(editable=False)
    links = models.JSONField(default=dict, editable=False)
    report = models.JSONField(default=dict, editable=False)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(_("发布时间"))

    scoping = _ROW_PATHS

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("已发布课表")
        verbose_name_plural = _("已发布课表")
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="timetable_version_number_once")]

    def __str__(self) -> str:
        return f"{self.plan} v{self.number}"


class SubstitutionStatus(models.TextChoices):
    OPEN = "open", _("待安排")
    ASSIGNED = "assigned", _("已安排")
    CANCELLED = "cancelled", _("已取消")


class Substitution(models.Model):
    """代课: one lesson of a teacher on approved leave, on one date, and who covers it."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(TimetableVersion, on_delete=models.CASCADE, related_name="substitutions")
    request_id = models.BigIntegerField(db_index=True)
    request_number = models.CharField(max_length=32)
    absent_teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    date = models.DateField(_("日期"))
    day = models.PositiveSmallIntegerField()
    period = models.PositiveSmallIntegerField()  # 0-based, as in the plan
    period_name = models.CharField(_("节次"), max_length=20)
    activity_id = models.BigIntegerField()
    subject = models.CharField(_("科目"), max_length=30)
    class_name = models.CharField(_("班级"), max_length=100)
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("代课教师"),
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=SubstitutionStatus.choices, default=SubstitutionStatus.OPEN
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)

    scoping = ScopePaths(
        school="school_id",
        region="school__division_code",
        department="version__plan__academic_department_id",
    )

    class Meta:
        ordering = ["date", "period", "id"]
        verbose_name = _("代课")
        verbose_name_plural = _("代课")
        constraints = [
            models.UniqueConstraint(
                fields=["request_id", "date", "period", "activity_id"], name="timetable_substitution_once"
            )
        ]
        indexes = [models.Index(fields=["school", "status", "date"])]

    def __str__(self) -> str:
        return f"{self.date} {self.period_name} {self.class_name} {self.subject}"
