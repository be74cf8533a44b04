"""走班 on the plan's pages: students' subject choices (选科) for the plan's grade, imported from Excel or
entered per student; teaching classes (教学班) and blocks (走班时段) formed from them by the engine in the
worker (a SolveRun of mode `electives`, with the same progress and cancel as a solve); and the result applied
as the plan's TeachingClass and Course rows, whose blocks `services.build` ties to the same times.

Every write is permission-checked against the plan (timetable.manage), atomic and audited, like services.py."""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixiao.kernel import audit, spreadsheets, tenancy
from zhixiao.kernel.errors import DomainError
from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors

from . import services
from .engine import electives as engine
from .models import Course, PlanStatus, RunMode, RunStatus, SolveRun, SubjectChoice, TeachingClass, TimetablePlan

logger = logging.getLogger(__name__)

SCHEME_312 = "3+1+2"
SCHEME_33 = "3+3"
SCHEMES = (SCHEME_312, SCHEME_33)
SUBJECTS = ("物理", "历史", "化学", "生物", "政治", "地理")  # the electives, in the order combinations name them
FIRST = ("物理", "历史")  # 3+1+2: 首选, exactly one
SECOND = ("化学", "生物", "政治", "地理")  # 3+1+2: 再选, two
DEFAULT_LESSONS = {"物理": 5, "历史": 5, "化学": 4, "生物": 4, "政治": 4, "地理": 4}
# what schools write for a subject: full names, 思想政治, and the one-character names of combinations (物化生)
ALIASES = {
    **{s: s for s in SUBJECTS},
    "思想政治": "政治",
    "思政": "政治",
    **{short: full for full, short in engine.SHORT_NAMES.items() if full in SUBJECTS},
}
YES = {"是", "√", "✓", "✔", "1", "y", "yes", "选", "v", "○", "●"}
NO = {"", "否", "×", "✗", "0", "n", "no", "不选", "-", "—"}
SEPARATORS = re.compile(r"[+＋、,，;；/|\s]+")
NUMBER_HEADERS = ("学籍号", "学号", "全国学籍号", "学籍号码")
NAME_HEADERS = ("姓名", "学生姓名")
COMBINATION_HEADERS = ("选科组合", "选科", "组合", "选考科目", "选考组合", "选课组合")
HEADER_SEARCH_ROWS = 10
MAX_ROWS = 5000
MAX_FORMATION_SECONDS = 300
BLOCK_LETTERS = "ABCDEFGH"


block_label = services.block_label


def ordered(subjects: Iterable[str]) -> tuple[str, ...]:
    chosen = set(subjects)
    return tuple(s for s in SUBJECTS if s in chosen)


def combination_label(subjects: Iterable[str]) -> str:
    """物化生, 史政地."""
    return engine.combination_name(ordered(subjects))


def combinations(scheme: str) -> list[tuple[str, ...]]:
    """Every valid combination of the scheme: 12 under 3+1+2, 20 under 3+3."""
    if scheme == SCHEME_312:
        return [ordered((f, *rest)) for f in FIRST for rest in itertools.combinations(SECOND, 2)]
    return [ordered(c) for c in itertools.combinations(SUBJECTS, 3)]


def parse_combination(text: Any) -> tuple[str, ...] | None:
    """ "物化生", "物理+化学+生物", "历史 政治 地理", "物理化学生物" → the subjects (None: a word we do not know)."""
    value = unicodedata.normalize("NFKC", str(text or "")).strip()
    out: list[str] = []
    for part in (p for p in SEPARATORS.split(value) if p):
        if part in ALIASES:
            out.append(ALIASES[part])
            continue
        at = 0
        while at < len(part):  # names written together: the longest known name first
            for size in (4, 2, 1):
                word = part[at : at + size]
                if len(word) == size and word in ALIASES:
                    out.append(ALIASES[word])
                    at += size
                    break
            else:
                return None
    return tuple(out)


def combination_problem(subjects: tuple[str, ...], scheme: str) -> str:
    """Why the subjects are not a valid choice under the scheme ("" when they are)."""
    if len(set(subjects)) != len(subjects):
        return _("同一科目选了两次")
    if scheme == SCHEME_312:
        first = [s for s in subjects if s in FIRST]
        if len(first) != 1:
            return _("3+1+2 须在物理、历史中选且只选一科")
        if len(subjects) != 3:
            return _("3+1+2 须再从化学、生物、政治、地理中选两科")
        return ""
    if len(subjects) != 3:
        return _("3+3 须从物理、化学、生物、政治、历史、地理中选三科")
    return ""


# --- the plan's grade and scheme -------------------------------------------------------------------------


def grade_options(*, actor: Any, school_id: int) -> list[tuple[int, str]]:
    """The school's grades that have classes, for the grade select."""
    with_classes = {c["grade_id"] for c in org_selectors.class_rows(school_id=school_id)}
    return [(g.pk, str(g)) for g in org_selectors.grades_of(actor=actor, school_id=school_id) if g.pk in with_classes]


def grade_classes(plan: TimetablePlan) -> list[dict[str, Any]]:
    if plan.elective_grade_id is None:
        return []
    return [c for c in org_selectors.class_rows(school_id=plan.school_id) if c["grade_id"] == plan.elective_grade_id]


def grade_students(plan: TimetablePlan) -> list[dict[str, Any]]:
    """The enrolled students of the plan's grade: id, name, student_no, admin_class_id, class_name."""
    classes = {c["id"] for c in grade_classes(plan)}
    if not classes:
        return []
    return [
        s for s in people_selectors.enrolled_students_of(school_id=plan.school_id) if s["admin_class_id"] in classes
    ]


def set_grade(*, actor: Any, plan_id: int, grade_id: int, scheme: str) -> TimetablePlan:
    """Which grade chooses subjects for this plan, under which scheme. A new grade clears the choices; a new
    scheme is refused while a saved choice does not fit it."""
    if scheme not in SCHEMES:
        raise DomainError(_("选科模式应为 3+1+2 或 3+3"))
    with transaction.atomic():
        plan = services._plan(actor, plan_id, lock=True)
        services._editable(plan)
        if plan.is_fet:
            raise DomainError(_("导入的方案请在 FET 中修改课程后重新导入"))
        if not any(c["grade_id"] == grade_id for c in org_selectors.class_rows(school_id=plan.school_id)):
            raise DomainError(_("该年级不存在或没有班级"))
        before = {"grade": plan.elective_grade_id, "scheme": plan.elective_scheme}
        cleared = 0
        if plan.elective_grade_id != grade_id:
            cleared, _detail = plan.subject_choices.all().delete()
        else:
            misfits = [c for c in plan.subject_choices.all() if combination_problem(tuple(c.subjects), scheme)]
            if misfits:
                raise DomainError(
                    _("已录入的 {n} 名学生的选科不符合 {scheme}，请先修改这些选科").format(
                        n=len(misfits), scheme=scheme
                    )
                )
        plan.elective_grade_id, plan.elective_scheme = grade_id, scheme
        plan.save(update_fields=["elective_grade_id", "elective_scheme", "updated_at"])
        audit.record(
            actor=actor,
            action="timetable.electives_grade",
            target=plan,
            changes=audit.diff(before, {"grade": grade_id, "scheme": scheme}),
            note=f"清除 {cleared} 条选科" if cleared else "",
        )
    return plan


def _grade_ready(plan: TimetablePlan) -> None:
    if plan.elective_grade_id is None or plan.elective_scheme not in SCHEMES:
        raise DomainError(_("请先选择选科年级和选科模式"))


# --- choices: Excel import, template, per-student entry -------------------------------------------------


@dataclass(frozen=True)
class ChoiceError:
    """One problem of an imported file: the Excel row (None: the whole file), the column, the value, why."""

    row: int | None
    column: str
    value: str
    reason: str

    def line(self) -> str:
        if self.row is None:
            return self.reason
        where = _("第 {row} 行").format(row=self.row) + (f"「{self.column}」" if self.column else "")
        shown = f"（{self.value}）" if self.value else ""
        return f"{where}{shown}：{self.reason}"


class ChoiceErrors(services.ProblemErrors):
    """The file was refused; nothing was written. `rows` are the problems one by one."""

    def __init__(self, rows: list[ChoiceError]) -> None:
        super().__init__([r.line() for r in rows])
        self.rows = rows


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value if value is not None else "")).strip()


def _norm_header(value: Any) -> str:
    return re.sub(r"\s+|\*|\(必填\)", "", _text(value))


def _file_checks(data: bytes, filename: str) -> list[ChoiceError]:
    name = filename.rsplit("/", 1)[-1]
    limit = int(settings.ZHIXIAO_MAX_UPLOAD_BYTES)
    if len(data) > limit:
        return [ChoiceError(None, "", name, _("文件过大，上限为 {mb} MB").format(mb=limit // 1024 // 1024))]
    if not data:
        return [ChoiceError(None, "", name, _("文件是空的"))]
    if name.lower().endswith(".xls") or data.startswith(b"\xd0\xcf\x11\xe0"):
        return [ChoiceError(None, "", name, _("这是旧版 .xls 文件，请在 Excel 中另存为 .xlsx 后再上传"))]
    return []


@dataclass
class _Layout:
    header_row: int  # 0-based
    number: int
    name: int | None
    combination: int | None
    subjects: dict[int, str] = field(default_factory=dict)  # column → subject


def _layout(rows: list[list[Any]]) -> _Layout | ChoiceError:
    numbers = {_norm_header(h) for h in NUMBER_HEADERS}
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        headers = [_norm_header(v) for v in row]
        number = next((j for j, h in enumerate(headers) if h in numbers), None)
        if number is None:
            continue
        name = next((j for j, h in enumerate(headers) if h in NAME_HEADERS), None)
        combination = next((j for j, h in enumerate(headers) if h in COMBINATION_HEADERS), None)
        subjects = {j: ALIASES[h] for j, h in enumerate(headers) if h in ALIASES and len(h) > 1}
        if combination is None and not subjects:
            return ChoiceError(
                i + 1, "", "", _("没有“选科组合”列，也没有各科目（物理、历史、化学、生物、政治、地理）的列")
            )
        return _Layout(i, number, name, combination, subjects)
    return ChoiceError(
        None, "", "", _("前 {n} 行中找不到“学籍号”或“学号”列，请使用下载的模板").format(n=HEADER_SEARCH_ROWS)
    )


def check_choices_file(plan: TimetablePlan, data: bytes, filename: str = "") -> dict[int, tuple[str, ...]]:
    """The choices in an uploaded workbook, by student id, every row checked against the grade's roster and
    the plan's scheme; ChoiceErrors listing every problem (row and column named) when any row is wrong."""
    _grade_ready(plan)
    problems = _file_checks(data, filename)
    if problems:
        raise ChoiceErrors(problems)
    try:
        rows = spreadsheets.read_rows(data, max_rows=MAX_ROWS + HEADER_SEARCH_ROWS)
    except spreadsheets.SpreadsheetError as exc:
        raise ChoiceErrors([ChoiceError(None, "", "", str(exc))]) from None
    layout = _layout(rows)
    if isinstance(layout, ChoiceError):
        raise ChoiceErrors([layout])
    header = rows[layout.header_row]
    number_header = _text(header[layout.number])
    name_header = _text(header[layout.name]) if layout.name is not None else ""
    combination_header = _text(header[layout.combination]) if layout.combination is not None else _("选科")
    roster = {s["student_no"]: s for s in grade_students(plan)}
    errors: list[ChoiceError] = []
    first_row: dict[int, int] = {}
    out: dict[int, tuple[str, ...]] = {}

    def cell(row: list[Any], col: int | None) -> Any:
        return row[col] if col is not None and col < len(row) else None

    for index in range(layout.header_row + 1, len(rows)):
        row, excel_row = rows[index], index + 1
        if all(_text(v) == "" for v in row):
            continue
        number = _text(cell(row, layout.number))
        student = roster.get(number)
        if not number:
            errors.append(ChoiceError(excel_row, number_header, "", _("学籍号为空")))
            continue
        if student is None:
            errors.append(ChoiceError(excel_row, number_header, number, _("本年级没有这个学籍号的在读学生")))
            continue
        if student["id"] in first_row:
            errors.append(
                ChoiceError(
                    excel_row,
                    number_header,
                    number,
                    _("学生重复：与第 {row} 行是同一名学生").format(row=first_row[student["id"]]),
                )
            )
            continue
        first_row[student["id"]] = excel_row
        if layout.name is not None:
            name = _text(cell(row, layout.name)).replace(" ", "")
            if name and name != student["name"].replace(" ", ""):
                errors.append(
                    ChoiceError(
                        excel_row,
                        name_header,
                        name,
                        _("姓名与学籍号不符：名册中该学生是“{name}”").format(name=student["name"]),
                    )
                )
                continue
        if layout.combination is not None:
            raw = _text(cell(row, layout.combination))
            subjects = parse_combination(raw)
            if subjects is None:
                errors.append(
                    ChoiceError(
                        excel_row, combination_header, raw, _("无法识别的科目，请写成“物化生”或“物理+化学+生物”")
                    )
                )
                continue
        else:
            raw, chosen = "", []
            for col, subject in layout.subjects.items():
                mark = _text(cell(row, col)).lower()
                if mark in YES:
                    chosen.append(subject)
                elif mark not in NO:
                    errors.append(ChoiceError(excel_row, _text(header[col]), mark, _("请填“是”“√”或“1”，不选则留空")))
            subjects = tuple(chosen)
            raw = "、".join(subjects)
        reason = combination_problem(subjects, plan.elective_scheme)
        if reason:
            errors.append(
                ChoiceError(
                    excel_row,
                    combination_header,
                    raw,
                    _("不是有效的 {scheme} 选科组合：{reason}").format(scheme=plan.elective_scheme, reason=reason),
                )
            )
            continue
        out[student["id"]] = ordered(subjects)
    if errors:
        raise ChoiceErrors(errors)
    if not out:
        raise ChoiceErrors([ChoiceError(None, "", "", _("文件中没有数据行"))])
    return out


def _write_choices(plan: TimetablePlan, chosen: Mapping[int, tuple[str, ...] | None]) -> tuple[int, int]:
    """Upsert (or, for None, remove) the choices; returns (saved, removed)."""
    class_of = {s["id"]: s["admin_class_id"] for s in grade_students(plan)}
    existing = {c.student_id: c for c in plan.subject_choices.filter(student_id__in=list(chosen))}
    new, changed, gone = [], [], []
    for sid, subjects in chosen.items():
        row = existing.get(sid)
        if subjects is None:
            if row is not None:
                gone.append(row.pk)
            continue
        if row is None:
            new.append(
                SubjectChoice(
                    school_id=plan.school_id,
                    plan=plan,
                    student_id=sid,
                    admin_class_id=class_of.get(sid),
                    subjects=list(subjects),
                )
            )
        elif row.subjects != list(subjects) or row.admin_class_id != class_of.get(sid):
            row.subjects, row.admin_class_id = list(subjects), class_of.get(sid)
            changed.append(row)
    SubjectChoice.objects.bulk_create(new)
    SubjectChoice.objects.bulk_update(changed, ["subjects", "admin_class_id"])
    SubjectChoice.objects.filter(pk__in=gone).delete()
    return len(new) + len(changed), len(gone)


def import_choices(*, actor: Any, plan_id: int, filename: str, data: bytes) -> int:
    """Subject choices from an Excel workbook: every row is checked first, and a file with any error writes
    nothing. Students in the file get their choice (replacing an earlier one); the others keep theirs."""
    with transaction.atomic():
        plan = services._plan(actor, plan_id, lock=True)
        services._editable(plan)
        chosen = check_choices_file(plan, data, filename)
        saved, _removed = _write_choices(plan, dict(chosen))
        audit.record(
            actor=actor,
            action="timetable.choices_import",
            target=plan,
            note=f"{filename.rsplit('/', 1)[-1][:100]}：{len(chosen)} 名学生，{saved} 条变更",
            changes={"combinations": dict(Counter(combination_label(s) for s in chosen.values()))},
        )
    return len(chosen)


def save_choices(*, actor: Any, plan_id: int, entries: Mapping[int, str]) -> int:
    """Choices entered on the page: per student a combination ("物化生"), or "" to remove it."""
    with transaction.atomic():
        plan = services._plan(actor, plan_id, lock=True)
        services._editable(plan)
        _grade_ready(plan)
        names = {s["id"]: f"{s['name']}（{s['student_no']}）" for s in grade_students(plan)}
        errors: list[str] = []
        chosen: dict[int, tuple[str, ...] | None] = {}
        for sid, text in entries.items():
            if sid not in names:
                errors.append(_("学生（编号 {id}）不在本年级").format(id=sid))
                continue
            if not str(text).strip():
                chosen[sid] = None
                continue
            subjects = parse_combination(text)
            reason = _("无法识别的科目") if subjects is None else combination_problem(subjects, plan.elective_scheme)
            if reason or subjects is None:
                errors.append(f"{names[sid]}：{reason}")
                continue
            chosen[sid] = ordered(subjects)
        if errors:
            raise services.ProblemErrors(errors)
        saved, removed = _write_choices(plan, chosen)
        audit.record(
            actor=actor, action="timetable.choices_save", target=plan, note=f"{saved} 条保存，{removed} 条清除"
        )
    return saved


def choices_template(plan: TimetablePlan) -> bytes:
    """The import template, pre-filled with the grade's students (and the choices saved so far)."""
    _grade_ready(plan)
    saved = {c.student_id: combination_label(c.subjects) for c in plan.subject_choices.all()}
    rows = [
        [s["student_no"], s["name"], s["class_name"], saved.get(s["id"], "")]
        for s in sorted(grade_students(plan), key=lambda s: (s["class_name"] or "", s["student_no"]))
    ]
    return spreadsheets.write_table(
        ["学籍号", "姓名", "班级", "选科组合"], rows, title=_("选科"), widths=[24, 12, 16, 14]
    )


@dataclass
class ChoiceSummary:
    students: int  # in the grade
    chosen: int
    combinations: list[tuple[str, int]]  # (物化生, students), most chosen first
    subjects: list[tuple[str, int]]

    @property
    def missing(self) -> int:
        return self.students - self.chosen

    @property
    def largest(self) -> int:
        return max((n for _c, n in self.combinations), default=0)


def choice_summary(plan: TimetablePlan) -> ChoiceSummary:
    enrolled = {s["id"] for s in grade_students(plan)}
    rows = [c for c in plan.subject_choices.all() if c.student_id in enrolled]
    combos = Counter(combination_label(c.subjects) for c in rows)
    subjects = Counter(s for c in rows for s in c.subjects)
    return ChoiceSummary(
        students=len(enrolled),
        chosen=len(rows),
        combinations=sorted(combos.items(), key=lambda kv: (-kv[1], kv[0])),
        subjects=[(s, subjects[s]) for s in SUBJECTS if subjects[s]],
    )


# --- forming the teaching classes (in the worker) ------------------------------------------------------


@dataclass
class FormationSpec:
    """The school's rules for forming teaching classes (the engine's ElectiveSpec, with teachers as accounts)."""

    lessons: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_LESSONS))
    min_size: int = 35
    max_size: int = 50
    max_blocks: int = 3
    rooms: int = 10
    teachers: dict[str, list[int]] = field(default_factory=dict)  # subject → accounts (round-robin, ≤ per block)
    max_classes_per_teacher: int = 0
    time_limit: int = 30

    def check(self) -> list[str]:
        errors = []
        if not all(0 <= n <= services.MAX_PARTS for n in self.lessons.values()):
            errors.append(_("周课时应在 0 到 63 之间"))
        if not 1 <= self.min_size <= self.max_size <= 200:
            errors.append(_("班额应满足 1 ≤ 最小班额 ≤ 最大班额 ≤ 200"))
        if not 1 <= self.max_blocks <= len(BLOCK_LETTERS):
            errors.append(_("走班时段数应在 1 到 {n} 之间").format(n=len(BLOCK_LETTERS)))
        if not 1 <= self.rooms <= 500:
            errors.append(_("每个时段可用教室应在 1 到 500 间之间"))
        if not 0 <= self.max_classes_per_teacher <= 20:
            errors.append(_("每位教师最多带班数应在 0 到 20 之间（0 表示不限）"))
        if not 1 <= self.time_limit <= MAX_FORMATION_SECONDS:
            errors.append(_("计算时间应在 1 到 {n} 秒之间").format(n=MAX_FORMATION_SECONDS))
        return errors


def start_formation(*, actor: Any, plan_id: int, spec: FormationSpec) -> SolveRun:
    """Queue the forming of teaching classes from the grade's choices, under the school's rules."""
    errors = spec.check()
    if errors:
        raise services.ProblemErrors(errors)
    with transaction.atomic():
        plan = services._plan(actor, plan_id, lock=True)
        services._editable(plan)
        _grade_ready(plan)
        classes = {c["id"]: c["name"] for c in grade_classes(plan)}
        enrolled = {s["id"] for s in grade_students(plan)}
        choices = [
            [c.student_id, classes.get(c.admin_class_id or 0, ""), list(c.subjects)]
            for c in plan.subject_choices.all()
            if c.student_id in enrolled
        ]
        if not choices:
            raise DomainError(_("还没有学生的选科，请先导入或录入选科"))
        chosen = {s for _sid, _cls, subjects in choices for s in subjects}
        unused = sorted(s for s in chosen if not spec.lessons.get(s))
        if unused:
            raise DomainError(_("有学生选了 {subjects}，请填写它们的周课时").format(subjects="、".join(unused)))
        staff = {a for a, _label in people_selectors.staff_choices(school_id=plan.school_id)}
        teachers = {s: [t for t in dict.fromkeys(ids) if t in staff] for s, ids in spec.teachers.items() if ids}
        frozen = {**asdict(spec), "teachers": teachers, "lessons": {s: n for s, n in spec.lessons.items() if n}}
        run = SolveRun.objects.create(
            school_id=plan.school_id,
            plan=plan,
            mode=RunMode.ELECTIVES,
            time_limit=spec.time_limit,
            problem={"electives": {"spec": frozen, "choices": choices, "scheme": plan.elective_scheme}},
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        plan.status = PlanStatus.SOLVING
        plan.save(update_fields=["status", "updated_at"])
        audit.record(
            actor=actor,
            action="timetable.electives_start",
            target=run,
            note=f"{len(choices)} 名学生，{spec.min_size}–{spec.max_size} 人，"
            f"{spec.max_blocks} 个时段，{spec.rooms} 间教室",
        )
        transaction.on_commit(lambda: services._enqueue(run.pk))
    return run


def _engine_spec(frozen: Mapping[str, Any]) -> engine.ElectiveSpec:
    return engine.ElectiveSpec(
        lessons=dict(frozen["lessons"]),
        min_size=int(frozen["min_size"]),
        max_size=int(frozen["max_size"]),
        max_blocks=int(frozen["max_blocks"]),
        rooms=int(frozen["rooms"]),
        teachers={s: tuple(str(t) for t in ids) for s, ids in frozen.get("teachers", {}).items() if ids},
        max_classes_per_teacher=int(frozen.get("max_classes_per_teacher") or 0),
    )


def plan_to_json(result: engine.ElectivePlan) -> dict[str, Any]:
    """What the pages show and `apply_formation` writes: the classes with their students, and the figures."""
    combos = Counter(combination_label(c.subjects) for c in result.choices)
    return {
        "status": result.status,
        "feasible": result.feasible,
        "blocks": result.blocks,
        "seconds": round(result.seconds, 2),
        "lessons": dict(result.lessons),
        "classes": [
            {
                "name": c.name,
                "subject": c.subject,
                "block": c.block,
                "members": [int(m) for m in c.members],
                "teacher": int(c.teacher) if c.teacher else None,
                "admin_class": c.admin_class,
            }
            for c in result.classes
        ],
        "combinations": sorted(combos.items(), key=lambda kv: (-kv[1], kv[0])),
        "statistics": result.statistics() if result.feasible else {},
        "explanation": list(result.explanation),
        "notes": list(result.notes),
    }


def run_formation(run: SolveRun) -> SolveRun:
    """The worker's part for a formation run (already marked running): the engine in a thread of its own,
    while this one writes the elapsed share of the time limit to the row and watches for 取消."""
    tenancy.deactivate()
    data = run.problem["electives"]
    choices = [engine.Choice(str(sid), cls or "-", tuple(subjects)) for sid, cls, subjects in data["choices"]]
    spec = _engine_spec(data["spec"])
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = engine.form_teaching_classes(
                choices, spec, time_limit=float(run.time_limit), seed=run.seed, workers=services.WORKERS
            )
        except Exception as exc:  # the engine's bug must not leave the run "running" for ever
            logger.exception("timetable formation %s failed", run.pk)
            outcome["error"] = exc

    thread = threading.Thread(target=work, name=f"timetable-electives-{run.pk}", daemon=True)
    started = time.monotonic()
    thread.start()
    cancelled = False
    while thread.is_alive():
        thread.join(services.POLL_SECONDS)
        fraction = min(0.99, (time.monotonic() - started) / max(1, run.time_limit))
        SolveRun.objects.filter(pk=run.pk).update(fraction=round(fraction, 4))
        if SolveRun.objects.filter(pk=run.pk, cancel_requested=True).exists():
            cancelled = True
            break  # the engine cannot be interrupted: its answer is dropped
    with transaction.atomic():
        run = SolveRun.objects.select_for_update().get(pk=run.pk)
        plan = TimetablePlan.objects.select_for_update().get(pk=run.plan_id)
        run.finished_at, run.fraction = timezone.now(), 1.0
        result = outcome.get("result")
        if cancelled:
            run.status = RunStatus.CANCELLED
        elif result is None:
            run.status = RunStatus.FAILED
            run.error = _("分班引擎出错：{error}").format(error=outcome.get("error"))[:500]
        else:
            run.report = plan_to_json(result)
            run.solutions = 1 if result.feasible else 0
            run.status = RunStatus.DONE if result.feasible else RunStatus.FAILED
        run.save()
        services._settle(plan)
        audit.record(
            actor=None,
            action="timetable.electives_end",
            target=run,
            note=f"{run.status} {run.report.get('status', '')} {len(run.report.get('classes', []))} 个教学班",
        )
    return run


def form_now(*, actor: Any, plan_id: int, spec: FormationSpec) -> SolveRun:
    """Form in this process and wait (the demo, tests); the same run row as the worker."""
    run = start_formation(actor=actor, plan_id=plan_id, spec=spec)
    run.refresh_from_db()
    if run.status == RunStatus.QUEUED:
        run = services.run_solve(run_id=run.pk) or run
    return run


def latest_formation(plan: TimetablePlan) -> SolveRun | None:
    return plan.runs.filter(mode=RunMode.ELECTIVES).order_by("-created_at", "-id").first()


# --- applying a formation: the plan's teaching classes and their courses ----------------------------------


def apply_formation(*, actor: Any, plan_id: int, run_id: int, replace: bool = False) -> int:
    """The formed teaching classes become the plan's (replacing those it had, once confirmed), each with its
    course (weekly lessons from the rules, the teacher the engine gave it); the grade's 行政班 courses in
    elective subjects are dropped, as those lessons are now taught in the teaching classes."""
    with transaction.atomic():
        plan = services._plan(actor, plan_id, lock=True)
        services._editable(plan)
        run = plan.runs.filter(pk=run_id, mode=RunMode.ELECTIVES).first()
        if run is None or run.status != RunStatus.DONE or not run.report.get("classes"):
            raise DomainError(_("该分班任务没有可用的结果"))
        existing = plan.teaching_classes.count()
        if existing and not replace:
            raise DomainError(_("方案中已有 {n} 个教学班，请确认替换后再应用").format(n=existing))
        report = run.report
        lessons: dict[str, int] = report["lessons"]
        staff = {a for a, _label in people_selectors.staff_choices(school_id=plan.school_id)}
        grade_class_ids = {c["id"] for c in grade_classes(plan)}
        dropped = plan.courses.filter(admin_class_id__in=grade_class_ids, subject__in=[*SUBJECTS, "思想政治"]).delete()[
            0
        ]
        plan.teaching_classes.all().delete()  # their courses go with them
        rows = TeachingClass.objects.bulk_create(
            [
                TeachingClass(
                    school_id=plan.school_id,
                    plan=plan,
                    name=c["name"][:50],
                    subject=c["subject"][:30],
                    student_ids=list(c["members"]),
                    block=c["block"],
                    fixed=bool(c.get("admin_class")),
                )
                for c in report["classes"]
            ]
        )
        if any(tc.pk is None for tc in rows):  # backends that do not return keys from bulk inserts
            rows = list(plan.teaching_classes.order_by("pk"))
        by_name = {tc.name: tc for tc in rows}
        days = len(plan.days)
        Course.objects.bulk_create(
            [
                Course(
                    school_id=plan.school_id,
                    plan=plan,
                    subject=c["subject"][:30],
                    teaching_class=by_name[c["name"][:50]],
                    class_name=c["name"][:50],
                    teacher_ids=[c["teacher"]] if c.get("teacher") in staff else [],
                    lessons_per_week=lessons[c["subject"]],
                    max_per_day=1 if lessons[c["subject"]] <= days else 2,
                )
                for c in report["classes"]
            ]
        )
        plan.save(update_fields=["updated_at"])
        audit.record(
            actor=actor,
            action="timetable.electives_apply",
            target=plan,
            note=f"分班任务 #{run.pk}：{len(rows)} 个教学班，{report.get('blocks')} 个走班时段；"
            f"替换 {existing} 个教学班，删除行政班选考科目课程 {dropped} 门",
            changes={"teaching_classes": [existing, len(rows)]},
        )
    return len(rows)


def formation_view(run: SolveRun) -> dict[str, Any]:
    """A formation's result for its page: per block its teaching classes (subject, size, teacher, 定)."""
    report = run.report or {}
    teachers = people_selectors.staff_choices_for(
        account_ids=[c["teacher"] for c in report.get("classes", []) if c.get("teacher")]
    )
    blocks = []
    for b in range(int(report.get("blocks") or 0)):
        classes = [
            {
                **c,
                "size": len(c["members"]),
                "teacher_name": teachers.get(c["teacher"], "") if c.get("teacher") else "",
            }
            for c in report.get("classes", [])
            if c["block"] == b
        ]
        blocks.append({"label": block_label(b), "classes": classes, "rooms": len(classes)})
    combos = [tuple(x) for x in report.get("combinations", [])]
    return {
        "blocks": blocks,
        "combinations": combos,
        "largest": max((n for _c, n in combos), default=0),
        "statistics": report.get("statistics", {}),
        "explanation": report.get("explanation", []),
        "status": report.get("status", ""),
    }
