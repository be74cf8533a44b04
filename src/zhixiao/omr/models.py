"""阅卷 per school: exam papers (试卷结构 + 答题卡), scan batches read in the worker, the pages and students'
sheets they produced, the review queue, written-answer crops and their marks (分题阅卷, 双评, 仲裁), and the
final scores.

The engine (engine/) reads none of these tables: the paper's JSON and the sheet's layout JSON are kept on the
paper, the batch hands the engine files in storage and gets JSON records back. Images (page scans for review,
written-answer crops) live in the default storage under `omr/`; rows keep their storage names.
Students are referred to by id (people.Student) and by the 考号 read from the sheet, never by a foreign key
into another domain's tables."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhixiao.kernel.permissions import ScopePaths

# exam.manage for a department head reaches the papers of the school's 教务处 only (academic_department_id)
_PAPER_PATHS = ScopePaths(school="school_id", region="school__division_code", department="academic_department_id")
_ROW_PATHS = ScopePaths(school="school_id", region="school__division_code", department="paper__academic_department_id")


class ExamPaper(models.Model):
    """One subject's paper of an exam as its answer sheet sees it: the paper JSON (docs/omr.md), the layout of
    the generated sheet, and the answer key in force (a corrected key replaces the JSON's)."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("考试名称"), max_length=60)
    subject = models.CharField(_("科目"), max_length=30)
    exam_code = models.CharField(max_length=32)
    subject_code = models.CharField(max_length=32)
    definition = models.JSONField(_("试卷结构"))  # the paper JSON as entered
    layout = models.JSONField(editable=False)  # the sheet's layout JSON (A4 or A3 as the definition says)
    answer_key = models.JSONField(_("答案"), default=dict)  # {"1": "A", "31": "ACD", …}
    score_step = models.DecimalField(_("给分步长"), max_digits=4, decimal_places=2, default=Decimal("0.5"))
    academic_department_id = models.BigIntegerField(null=True, blank=True)  # the school's 教务处 at creation
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scoping = _PAPER_PATHS

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("试卷")
        verbose_name_plural = _("试卷")
        constraints = [
            models.UniqueConstraint(fields=["school", "exam_code", "subject_code"], name="omr_paper_once_per_school")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.subject}"


class BatchStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("识别中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已取消")


class ScanBatch(models.Model):
    """One upload of scans: the files kept in storage, read by the worker with a progress bar; a batch that
    stopped (cancelled, a worker that died) resumes where it was (the engine's state file)."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    paper = models.ForeignKey(ExamPaper, on_delete=models.CASCADE, related_name="batches")
    status = models.CharField(_("状态"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.QUEUED)
    files = models.JSONField(default=list, editable=False)  # [{"name": original, "stored": storage name, "size"}]
    rejected = models.JSONField(default=list, editable=False)  # [{"name", "message"}]: refused at upload
    storage_dir = models.CharField(max_length=200, editable=False)
    pages_total = models.PositiveIntegerField(_("总页数"), default=0)
    pages_done = models.PositiveIntegerField(_("已识别"), default=0)
    students = models.PositiveIntegerField(_("考生数"), default=0)
    review_items = models.PositiveIntegerField(_("待复核"), default=0)
    errors = models.PositiveIntegerField(_("无法读取"), default=0)
    summary = models.JSONField(default=dict, editable=False)
    cancel_requested = models.BooleanField(default=False)
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
        verbose_name = _("扫描批次")
        verbose_name_plural = _("扫描批次")
        indexes = [models.Index(fields=["paper", "status"])]

    def __str__(self) -> str:
        return f"{self.paper_id}#{self.pk} {self.status}"

    @property
    def finished(self) -> bool:
        return self.status in (BatchStatus.DONE, BatchStatus.FAILED, BatchStatus.CANCELLED)

    @property
    def percent(self) -> int:
        if self.status == BatchStatus.DONE:
            return 100
        if not self.pages_total:
            return 0
        return min(99, round(self.pages_done * 100 / self.pages_total))


class AnswerSheet(models.Model):
    """One student's answer sheet of a paper (all its pages): the 考号 read, the student it belongs to, the
    answers, their confidence and the objective scores from the key in force."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    paper = models.ForeignKey(ExamPaper, on_delete=models.CASCADE, related_name="sheets")
    batch = models.ForeignKey(ScanBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="sheets")
    student_number = models.CharField(_("考号"), max_length=20)
    student_id = models.BigIntegerField(null=True, blank=True, db_index=True)  # people.Student, once matched
    answers = models.JSONField(default=dict)  # {"1": "A", "31": "AC", "7": ""}
    confidence = models.JSONField(default=dict)  # {"1": 0.93, …}
    objective_scores = models.JSONField(default=dict)  # {"1": 2.0, …}
    objective_total = models.DecimalField(max_digits=7, decimal_places=2, default=Decimal(0))

    scoping = _ROW_PATHS

    class Meta:
        ordering = ["student_number"]
        verbose_name = _("答题卡")
        verbose_name_plural = _("答题卡")
        constraints = [
            models.UniqueConstraint(fields=["paper", "student_number"], name="omr_sheet_once_per_number"),
        ]

    def __str__(self) -> str:
        return f"{self.paper_id}:{self.student_number}"


class ScannedPage(models.Model):
    """One scanned page as the engine read it (its JSON record), the sheet it belongs to, and its image kept
    for review."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    paper = models.ForeignKey(ExamPaper, on_delete=models.CASCADE, related_name="pages")
    batch = models.ForeignKey(ScanBatch, on_delete=models.CASCADE, related_name="pages")
    sheet = models.ForeignKey(AnswerSheet, null=True, blank=True, on_delete=models.SET_NULL, related_name="pages")
    file = models.CharField(_("文件"), max_length=300)
    index = models.PositiveIntegerField(default=0)  # page within the file, from 0
    page = models.PositiveSmallIntegerField(_("答题卡页码"), null=True, blank=True)
    student_number = models.CharField(_("考号"), max_length=20, blank=True)
    record = models.JSONField(default=dict, editable=False)  # answers, confidence, review, crops …
    image = models.CharField(max_length=300, blank=True)  # storage name of the upright page (pages for review)

    scoping = _ROW_PATHS

    class Meta:
        ordering = ["batch_id", "id"]
        verbose_name = _("扫描页")
        verbose_name_plural = _("扫描页")

    def __str__(self) -> str:
        return f"{self.file}#{self.index + 1}"


class ReviewStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    RESOLVED = "resolved", _("已处理")


# short names of the review codes (docs/omr.md): the engine's, the batch's and the import's
REVIEW_CODE_LABELS = {
    "ambiguous": _("填涂不清"),
    "multiple_marks": _("单选多涂"),
    "id_unreadable": _("考号无法识别"),
    "id_mismatch": _("考号与预印不符"),
    "no_qr": _("二维码无法识别"),
    "wrong_exam": _("非本场考试"),
    "marker_estimated": _("定位标记缺损"),
    "no_markers": _("无法定位"),
    "blank_page": _("空白页"),
    "duplicate_id": _("重复扫描"),
    "missing_pages": _("缺页"),
    "unassigned_page": _("无法对应考生"),
    "unknown_student": _("考号不在本校"),
    "ambiguous_id": _("考号对应多人"),
}


class ReviewItem(models.Model):
    """Something a person must look at (docs/omr.md lists the codes), with the page image; nothing is dropped."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    paper = models.ForeignKey(ExamPaper, on_delete=models.CASCADE, related_name="review_items")
    batch = models.ForeignKey(ScanBatch, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    page = models.ForeignKey(ScannedPage, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    sheet = models.ForeignKey(AnswerSheet, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("原因"), max_length=30)
    message = models.CharField(_("说明"), max_length=500)
    question = models.PositiveIntegerField(_("题号"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.OPEN)
    resolution = models.CharField(_("处理结果"), max_length=300, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    scoping = _ROW_PATHS

    class Meta:
        ordering = ["status", "id"]
        verbose_name = _("复核")
        verbose_name_plural = _("复核")
        indexes = [models.Index(fields=["paper", "status"])]

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    @property
    def code_label(self) -> str:
        """The reason in a few words (a file that could not be read, for the file codes)."""
        return str(REVIEW_CODE_LABELS.get(self.code, _("文件无法读取")))


class CropStatus(models.TextChoices):
    MARKING = "marking", _("评阅中")
    ARBITRATION = "arbitration", _("待仲裁")
    DONE = "done", _("已完成")


class AnswerCrop(models.Model):
    """One student's answer to one written question, cut from the scan; its final score once marked."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    paper = models.ForeignKey(ExamPaper, on_delete=models.CASCADE, related_name="crops")
    sheet = models.ForeignKey(AnswerSheet, on_delete=models.CASCADE, related_name="crops")
    question = models.PositiveIntegerField(_("题号"))
    image = models.CharField(max_length=300)
    status = models.CharField(_("状态"), max_length=12, choices=CropStatus.choices, default=CropStatus.MARKING)
    final_score = models.DecimalField(_("得分"), max_digits=6, decimal_places=2, null=True, blank=True)

    scoping = _ROW_PATHS

    class Meta:
        ordering = ["question", "id"]
        verbose_name = _("主观题答卷")
        verbose_name_plural = _("主观题答卷")
        constraints = [models.UniqueConstraint(fields=["sheet", "question"], name="omr_crop_once_per_question")]
        indexes = [models.Index(fields=["paper", "question", "status"])]

    def __str__(self) -> str:
        return f"{self.sheet_id} q{self.question}"


class Arbitration(models.TextChoices):
    HEAD = "head", _("题组长仲裁")
    THIRD = "third", _("第三位阅卷教师仲裁")


class MarkingAssignment(models.Model):
    """分题阅卷: who marks a written question, its head marker (题组长), double marking (双评) and tolerance."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    paper = models.ForeignKey(ExamPaper, on_delete=models.CASCADE, related_name="assignments")
    question = models.PositiveIntegerField(_("题号"))
    markers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", verbose_name=_("阅卷教师"))
    head_marker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("题组长")
    )
    double_marking = models.BooleanField(_("双评"), default=False)
    tolerance = models.DecimalField(_("误差阈值"), max_digits=5, decimal_places=2, default=Decimal(1))
    arbitration = models.CharField(_("仲裁"), max_length=8, choices=Arbitration.choices, default=Arbitration.HEAD)

    scoping = _ROW_PATHS

    class Meta:
        ordering = ["question"]
        verbose_name = _("阅卷分工")
        verbose_name_plural = _("阅卷分工")
        constraints = [models.UniqueConstraint(fields=["paper", "question"], name="omr_assignment_once_per_question")]

    def __str__(self) -> str:
        return f"{self.paper_id} q{self.question}"


class MarkRole(models.TextChoices):
    FIRST = "first", _("一评")
    SECOND = "second", _("二评")
    THIRD = "third", _("三评")
    HEAD = "head", _("题组长")


class Mark(models.Model):
    """One marker's score for one crop: a first or second mark, an arbitration (third marker or head marker), or
    the head marker's re-mark. Never edited: a new mark is a new row."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    paper = models.ForeignKey(ExamPaper, on_delete=models.CASCADE, related_name="marks")
    crop = models.ForeignKey(AnswerCrop, on_delete=models.CASCADE, related_name="marks")
    marker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("评次"), max_length=8, choices=MarkRole.choices)
    score = models.DecimalField(_("分数"), max_digits=6, decimal_places=2)
    marked_at = models.DateTimeField(_("时间"), auto_now_add=True)

    scoping = _ROW_PATHS

    class Meta:
        ordering = ["crop_id", "marked_at", "id"]
        verbose_name = _("评分")
        verbose_name_plural = _("评分")
        constraints = [
            # one regular mark per marker and crop, and one first and one second mark per crop
            models.UniqueConstraint(
                fields=["crop", "marker"],
                condition=models.Q(role__in=["first", "second"]),
                name="omr_mark_once_per_marker",
            ),
            models.UniqueConstraint(
                fields=["crop", "role"], condition=models.Q(role__in=["first", "second"]), name="omr_mark_role_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.crop_id} {self.role} {self.score}"


class FinalScore(models.Model):
    """A student's score on the paper: objective total + each written question's final score = total. Complete
    once every written question has its final score."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+")
    paper = models.ForeignKey(ExamPaper, on_delete=models.CASCADE, related_name="final_scores")
    sheet = models.OneToOneField(AnswerSheet, on_delete=models.CASCADE, related_name="final")
    objective = models.DecimalField(_("客观题"), max_digits=7, decimal_places=2, default=Decimal(0))
    written = models.JSONField(_("主观题"), default=dict)  # {"41": 6.5, "42": null}
    total = models.DecimalField(_("总分"), max_digits=7, decimal_places=2, default=Decimal(0))
    complete = models.BooleanField(_("已全部评完"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    scoping = _ROW_PATHS

    class Meta:
        ordering = ["sheet__student_number"]
        verbose_name = _("成绩")
        verbose_name_plural = _("成绩")

    def __str__(self) -> str:
        return f"{self.sheet_id}: {self.total}"
