"""Excel import of students (with guardians) and of staff, and the matching template and export.

Every row and every cell is checked (the same record checks as the forms and the API, then checks
across rows and against the database) before anything is written; a file with any error writes
nothing. A clean file is written in one transaction with bulk inserts, audited one entry per created
row. Errors come back as a list (Excel row, column header, value, reason) and as the uploaded workbook
with the bad cells marked. The same functions back the upload page (through a background job), the
CLI and the benchmark.
"""

from __future__ import annotations

import dataclasses
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from simple_history.utils import bulk_create_with_history

from zhixiao.identity import selectors as identity_selectors
from zhixiao.identity import services as identity_services
from zhixiao.kernel import audit, codes, domain_events, permissions, spreadsheets
from zhixiao.kernel.errors import NotPermitted
from zhixiao.kernel.permissions import Grant, Role, Scope
from zhixiao.org import selectors as org_selectors

from . import exports, selectors
from .models import Boarding, Gender, Guardian, GuardianLink, Post, Relation, Staff, Student
from .records import Checker, check_guardian, check_staff, check_student, text

STUDENTS = "students"
STAFF = "staff"
KINDS = (STUDENTS, STAFF)
IMPORT_ACTION = {STUDENTS: permissions.IMPORT_STUDENT, STAFF: permissions.IMPORT_STAFF}
EXPORT_ACTION = {STUDENTS: permissions.EXPORT_STUDENT, STAFF: permissions.EXPORT_STAFF}

MAX_ROWS = 50_000
HEADER_SEARCH_ROWS = 10  # a title line or two above the header is common in school spreadsheets
TEMPLATE_ROWS = 10_000  # rows the template's drop-downs and formats cover
ERROR_SHEET = "错误清单"
CODE_SHEET = "代码表"
GUIDE_SHEET = "填写说明"
WRITE_PHASE = 0.75  # progress fraction at which checking ends and writing starts
ERROR_FILL = PatternFill("solid", fgColor="FF9999")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
DEPARTMENT_SEPARATORS = re.compile(r"[、,，;；/|\s]+")
XLS_MAGIC = b"\xd0\xcf\x11\xe0"

Progress = Callable[[float], None]


# --- columns -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False  # the column must be present (a value may still be optional)
    aliases: tuple[str, ...] = ()
    kind: str = "text"  # text | number_text (long digits, kept as text) | date
    choices: str = ""  # name of a drop-down list in the template
    hint: str = ""
    width: int = 14


def _guardian_columns(n: int, hint_first: str) -> tuple[Column, ...]:
    return (
        Column(f"guardian{n}_name", f"监护人{n}姓名", hint=hint_first),
        Column(f"guardian{n}_relation", f"监护人{n}关系", choices="relation", hint="父亲、母亲、祖父/外祖父…"),
        Column(
            f"guardian{n}_mobile",
            f"监护人{n}手机",
            aliases=(f"监护人{n}手机号", f"监护人{n}手机号码", f"监护人{n}电话"),
            kind="number_text",
            hint="11位手机号；同一手机号视为同一监护人，姓名须一致",
        ),
    )


STUDENT_COLUMNS: tuple[Column, ...] = (
    Column(
        "student_no",
        "学籍号",
        required=True,
        aliases=("全国学籍号", "学籍号码"),
        kind="number_text",
        hint="必填；9–32位字母或数字，如 G + 身份证号；不可与已有学生重复",
        width=22,
    ),
    Column("name", "姓名", required=True, hint="必填"),
    Column("gender", "性别", required=True, choices="gender", hint="必填；男 或 女", width=8),
    Column("id_type", "证件类型", choices="id_type", hint="空白视为居民身份证", width=16),
    Column(
        "id_number",
        "证件号码",
        aliases=("身份证号", "身份证号码", "身份证件号"),
        kind="number_text",
        hint="居民身份证18位，须通过校验码检查；出生日期和性别须与之相符",
        width=22,
    ),
    Column("birth_date", "出生日期", kind="date", hint="如 2010-09-01；有身份证号时可空白", width=12),
    Column("ethnicity", "民族", choices="ethnicity", hint="空白视为汉族", width=10),
    Column("household_type", "户口性质", choices="household", width=16),
    Column("boarding", "走读/住校", aliases=("住宿情况", "是否住校"), choices="boarding", hint="空白视为走读"),
    Column(
        "class_name", "班级", aliases=("班级名称", "行政班"), choices="class", hint="本校已有班级的名称，如 高一(1)班"
    ),
    Column("enrolled_on", "入学日期", kind="date", hint="如 2025-09-01；空白视为今天", width=12),
    Column("address", "家庭住址", aliases=("家庭地址", "住址"), width=30),
    *_guardian_columns(1, "可空白；填写时姓名、关系、手机须齐全"),
    *_guardian_columns(2, "可空白"),
)

STAFF_COLUMNS: tuple[Column, ...] = (
    Column(
        "staff_no",
        "工号",
        required=True,
        aliases=("教职工号",),
        kind="number_text",
        hint="必填；2–32位字母或数字；即登录名，不可与已有账号重复",
    ),
    Column("name", "姓名", required=True, hint="必填"),
    Column("gender", "性别", required=True, choices="gender", hint="必填；男 或 女", width=8),
    Column("id_type", "证件类型", choices="id_type", hint="空白视为居民身份证", width=16),
    Column(
        "id_number",
        "证件号码",
        aliases=("身份证号", "身份证号码", "身份证件号"),
        kind="number_text",
        hint="居民身份证18位，须通过校验码检查",
        width=22,
    ),
    Column("birth_date", "出生日期", kind="date", hint="如 1985-03-12；有身份证号时可空白", width=12),
    Column("ethnicity", "民族", choices="ethnicity", hint="空白视为汉族", width=10),
    Column("political_status", "政治面貌", choices="political_status", hint="空白视为群众", width=16),
    Column("mobile", "手机号", aliases=("手机", "手机号码", "联系电话"), kind="number_text", hint="11位手机号，可空白"),
    Column("post", "岗位", choices="post", hint="空白视为专任教师"),
    Column("title", "职务/职称", aliases=("职务", "职称"), width=16),
    Column("departments", "处室", aliases=("部门", "所在处室"), hint="本校已有处室名称，多个用“、”分隔", width=20),
    Column("hired_on", "入职日期", kind="date", hint="如 2015-08-20", width=12),
)

COLUMNS = {STUDENTS: STUDENT_COLUMNS, STAFF: STAFF_COLUMNS}
SHEET_TITLES = {STUDENTS: "学生信息", STAFF: "教职工信息"}
# Fields a record check may complain about that have no column of their own.
EXTRA_LABELS = {"status": "学籍状态", "status_since": "状态日期"}


def _norm_header(value: Any) -> str:
    s = unicodedata.normalize("NFKC", text(value))
    s = re.sub(r"\s+|\*", "", s)
    return re.sub(r"\(必填\)$", "", s)


def _norm_name(value: Any) -> str:
    """Class and department names compare without blanks and with full-width brackets as ASCII."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text(value)))


# --- results ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RowError:
    """One problem: the Excel row (None for the whole file), the column header, the value, the reason."""

    row: int | None
    column: str
    value: str
    reason: str
    col: int | None = None  # 0-based column in the uploaded sheet, for marking the cell

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason, "col": self.col}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RowError:
        return cls(
            d.get("row"), str(d.get("column", "")), str(d.get("value", "")), str(d.get("reason", "")), d.get("col")
        )

    def as_line(self) -> str:
        """One line of the CLI's error table: row, column, value, reason separated by tabs."""
        value = self.value.replace("\t", " ").replace("\n", " ")
        return f"{self.row if self.row is not None else '-'}\t{self.column or '-'}\t{value}\t{self.reason}"


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)
    initial_password: str = ""
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def _file_error(reason: str, value: str = "") -> RowError:
    return RowError(row=None, column="", value=value, reason=reason)


# --- the system actor for the command line ----------------------------------------------------------
class SystemActor:
    """Whoever runs `zhixiao import/export` on the server acts as the system, like migrations do."""

    is_authenticated = True
    is_active = True
    pk = None
    fixed_grants = (Grant(role=Role.SYSTEM_ADMIN, scope=Scope.SYSTEM, label="cli"),)

    def __str__(self) -> str:
        return "system (CLI)"


def school_for(*, actor: Any, action: str, school_id: int) -> Any:
    """The school, if the actor may `action` there; else NotPermitted."""
    school = org_selectors.schools_where(actor=actor, action=action).filter(pk=school_id).first()
    if school is None:
        raise NotPermitted(_("没有权限在该学校执行此操作"))
    return school


# --- upload checks ------------------------------------------------------------------------------------
def max_upload_bytes() -> int:
    return int(settings.ZHIXIAO_MAX_UPLOAD_BYTES)


def size_error(size: int, name: str = "") -> RowError | None:
    limit = max_upload_bytes()
    if size <= limit:
        return None
    return _file_error(
        _("文件过大（{size:.1f} MB），上限为 {limit:.0f} MB").format(
            size=size / 1024 / 1024, limit=limit / 1024 / 1024
        ),
        name,
    )


def check_upload(data: bytes, filename: str = "") -> list[RowError]:
    """Size and type, before the file is opened: an answer the uploader understands at once."""
    name = filename.rsplit("/", 1)[-1]
    oversize = size_error(len(data), name)
    if oversize is not None:
        return [oversize]
    if not data:
        return [_file_error(_("文件是空的"), name)]
    if data.startswith(XLS_MAGIC) or name.lower().endswith(".xls"):
        return [_file_error(_("这是旧版 .xls 文件，请在 Excel 中另存为 .xlsx 后再上传"), name)]
    if name and not name.lower().endswith((".xlsx", ".xlsm")):
        return [_file_error(_("只能上传 .xlsx 格式的 Excel 文件"), name)]
    if not data.startswith(b"PK"):
        return [_file_error(_("文件不是 .xlsx 格式的 Excel 工作簿（可能已损坏或被改了扩展名）"), name)]
    return []


# --- reading --------------------------------------------------------------------------------------------
@dataclass
class Sheet:
    columns: dict[int, Column]  # position in the sheet → column
    rows: list[tuple[int, dict[str, Any]]]  # (Excel row number, raw values by key)

    def position(self, key: str) -> int | None:
        for pos, col in self.columns.items():
            if col.key == key:
                return pos
        return None


def read_sheet(data: bytes, kind: str) -> tuple[Sheet | None, list[RowError]]:
    """The first sheet's header (found by name, in any order) and its non-empty data rows."""
    try:
        rows = spreadsheets.read_rows(data, max_rows=MAX_ROWS + HEADER_SEARCH_ROWS)
    except spreadsheets.SpreadsheetError as exc:
        return None, [_file_error(str(exc))]
    columns = COLUMNS[kind]
    by_name: dict[str, Column] = {}
    for col in columns:
        for alias in (col.header, *col.aliases):
            by_name[_norm_header(alias)] = col
    key_header = _norm_header(columns[0].header)
    header_index = next(
        (i for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]) if key_header in {_norm_header(v) for v in row}),
        None,
    )
    if header_index is None:
        return None, [
            _file_error(
                _("找不到表头行：前 {n} 行中没有“{header}”列，请使用导入模板").format(
                    n=HEADER_SEARCH_ROWS, header=columns[0].header
                )
            )
        ]
    errors: list[RowError] = []
    mapping: dict[int, Column] = {}
    seen: dict[str, int] = {}
    for pos, value in enumerate(rows[header_index]):
        found = by_name.get(_norm_header(value))
        if found is None:
            continue  # extra columns (序号, 备注 …) are ignored
        if found.key in seen:
            errors.append(
                RowError(
                    header_index + 1,
                    found.header,
                    text(value),
                    _("表头重复（第 {a} 列和第 {b} 列）").format(
                        a=get_column_letter(seen[found.key] + 1), b=get_column_letter(pos + 1)
                    ),
                    pos,
                )
            )
            continue
        seen[found.key] = pos
        mapping[pos] = found
    for col in columns:
        if col.required and col.key not in seen:
            errors.append(
                RowError(header_index + 1, col.header, "", _("缺少必需的列“{header}”").format(header=col.header))
            )
    if errors:
        return None, errors
    data_rows: list[tuple[int, dict[str, Any]]] = []
    for index in range(header_index + 1, len(rows)):
        row = rows[index]
        if all(v in ("", None) for v in row):
            continue
        raw = {col.key: (row[pos] if pos < len(row) else None) for pos, col in mapping.items()}
        data_rows.append((index + 1, raw))
    if not data_rows:
        return None, [_file_error(_("文件中没有数据行"))]
    if len(data_rows) > MAX_ROWS:
        return None, [_file_error(_("文件行数过多（最多 {max} 行）").format(max=MAX_ROWS))]
    return Sheet(columns=mapping, rows=data_rows), []


# --- checking -----------------------------------------------------------------------------------------
class _Collector:
    """Turns record problems into RowErrors that name the Excel row and column."""

    def __init__(self, sheet: Sheet, kind: str) -> None:
        self.errors: list[RowError] = []
        self.headers = {c.key: c.header for c in COLUMNS[kind]}
        self.positions = {c.key: pos for pos, c in sheet.columns.items()}

    def add(self, row: int, key: str, value: Any, reason: str) -> None:
        header = self.headers.get(key) or EXTRA_LABELS.get(key, key)
        self.errors.append(RowError(row, header, text(value)[:200], reason, self.positions.get(key)))

    def first_use(self, seen: dict[Any, int], key: Any, row: int, field: str, shown: Any, message: str) -> bool:
        """Remember the first row that uses `key`; a later row repeating it is an error naming that row."""
        if key in seen:
            self.add(row, field, shown, message.format(row=seen[key]))
            return False
        seen[key] = row
        return True

    def record(self, row: int, checker: Checker) -> bool:
        for p in checker.problems:
            self.add(row, p.field, p.value, p.reason)
        return not checker.problems


def _long_number_problems(c: _Collector, row: int, raw: dict[str, Any], kind: str) -> set[str]:
    """Digits typed into a number cell: Excel keeps 15 significant digits, so longer ones are already wrong."""
    bad = set()
    for col in COLUMNS[kind]:
        value = raw.get(col.key)
        if col.kind == "number_text" and isinstance(value, float) and abs(value) >= 1e15:
            c.add(row, col.key, value, _("数字过长，Excel 已改动了末尾数字；请把该列设为“文本”格式后重新填写"))
            bad.add(col.key)
    return bad


def _checked_rows(
    c: _Collector,
    sheet: Sheet,
    *,
    kind: str,
    check: Callable[[dict[str, Any]], Checker],
    number_field: str,
    number_repeated: str,
    progress: Progress | None,
    first_no: dict[str, int],
    first_id: dict[tuple[Any, Any], int],
) -> Iterable[tuple[int, dict[str, Any], dict[str, Any], bool]]:
    """Every data row checked on its own and against the rows above it (the person's number and ID
    number must not repeat; `first_no` and `first_id` keep where each was first seen, for the database
    checks after): yields (row, raw, cleaned, ok). Kind-specific checks follow in the caller."""
    total = len(sheet.rows)
    for i, (row, raw) in enumerate(sheet.rows):
        if i % 250 == 0:
            _report(progress, 0.05 + 0.55 * i / total)
        skip = _long_number_problems(c, row, raw, kind)
        checked = check({k: v for k, v in raw.items() if k not in skip})
        ok = c.record(row, checked) and not skip
        s = checked.cleaned
        no = s.get(number_field)
        if no and not c.first_use(first_no, no, row, number_field, no, number_repeated):
            ok = False
        id_key = (s.get("id_type"), s.get("id_number"))
        duplicate_id = _("与第 {row} 行的证件号码重复")
        if id_key[1] and not c.first_use(first_id, id_key, row, "id_number", raw.get("id_number"), duplicate_id):
            ok = False
        yield row, raw, s, ok


def _report(progress: Progress | None, fraction: float) -> None:
    if progress is not None:
        progress(max(0.0, min(1.0, fraction)))


def _chunks(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass
class _StudentRow:
    row: int
    data: dict[str, Any]
    class_id: int | None
    class_name: str
    guardians: list[tuple[int, dict[str, Any]]]  # (1 or 2, cleaned guardian)


@dataclass
class _StaffRow:
    row: int
    data: dict[str, Any]
    department_ids: list[int]


def _check_students(
    *, actor: Any, school_id: int, sheet: Sheet, progress: Progress | None
) -> tuple[list[_StudentRow], list[RowError]]:
    c = _Collector(sheet, STUDENTS)
    classes = {
        _norm_name(name): (pk, name)
        for pk, name in org_selectors.classes_visible_to(actor=actor, school_id=school_id).values_list("id", "name")
    }
    good: list[_StudentRow] = []
    first_no: dict[str, int] = {}
    first_id: dict[tuple[Any, Any], int] = {}
    first_mobile: dict[str, tuple[int, str]] = {}
    rows = _checked_rows(
        c,
        sheet,
        kind=STUDENTS,
        check=check_student,
        number_field="student_no",
        number_repeated=_("与第 {row} 行的学籍号重复"),
        progress=progress,
        first_no=first_no,
        first_id=first_id,
    )
    for row, raw, s, ok in rows:
        class_id, class_name = None, ""
        wanted = text(raw.get("class_name"))
        if wanted:
            found = classes.get(_norm_name(wanted))
            if found is None:
                c.add(row, "class_name", wanted, _("本校没有这个班级"))
                ok = False
            else:
                class_id, class_name = found
        guardians: list[tuple[int, dict[str, Any]]] = []
        mobiles_in_row: set[str] = set()
        for n in (1, 2):
            g_raw = {f: raw.get(f"guardian{n}_{f}") for f in ("name", "relation", "mobile")}
            if all(not text(v) for v in g_raw.values()):
                continue
            g = check_guardian(g_raw, prefix=f"guardian{n}")
            if not c.record(row, g):
                ok = False
                continue
            mobile, name = g.cleaned["mobile"], g.cleaned["name"]
            if mobile in mobiles_in_row:
                c.add(row, f"guardian{n}_mobile", mobile, _("两位监护人的手机号相同"))
                ok = False
                continue
            mobiles_in_row.add(mobile)
            earlier = first_mobile.get(mobile)
            if earlier is None:
                first_mobile[mobile] = (row, name)
            elif earlier[1] != name:
                c.add(
                    row,
                    f"guardian{n}_name",
                    name,
                    _("手机号 {mobile} 在第 {row} 行登记为“{name}”，同一手机号须是同一监护人").format(
                        mobile=mobile, row=earlier[0], name=earlier[1]
                    ),
                )
                ok = False
                continue
            guardians.append((n, g.cleaned))
        if ok:
            good.append(_StudentRow(row, s, class_id, class_name, guardians))
    _report(progress, 0.62)

    # Against the database: what exists already, in bulk queries (5,000 rows must not mean 5,000 queries).
    nos = list(first_no)
    existing_nos: set[str] = set()
    for chunk in _chunks(nos):
        existing_nos.update(Student.objects.filter(student_no__in=chunk).values_list("student_no", flat=True))
    taken_names = identity_selectors.login_names_taken(no for no in nos if no not in existing_nos)
    for no in existing_nos:
        c.add(first_no[no], "student_no", no, _("学籍号已存在（系统中已有该学生）"))
    for no in taken_names:
        c.add(first_no[no], "student_no", no, _("学籍号已被其他账号用作登录名"))
    ids = [n for _t, n in first_id]
    existing_ids: set[tuple[str, str]] = set()
    for chunk in _chunks(ids):
        existing_ids.update(
            (t, n) for t, n in Student.objects.filter(id_number__in=chunk).values_list("id_type", "id_number") if n
        )
    for key in existing_ids & set(first_id):
        c.add(first_id[key], "id_number", key[1], _("证件号码已被系统中的其他学生使用"))
    mobiles = list(first_mobile)
    known: dict[str, str] = {}
    for chunk in _chunks(mobiles):
        known.update(Guardian.objects.filter(mobile__in=chunk).values_list("mobile", "name"))
    # A new guardian's account logs in with the mobile and holds it as its mobile: both must be free.
    new_mobiles = [m for m in mobiles if m not in known]
    taken_mobiles = identity_selectors.mobiles_taken(new_mobiles) | identity_selectors.login_names_taken(new_mobiles)
    for r in good:
        for n, guardian in r.guardians:
            name_in_db = known.get(guardian["mobile"])
            if name_in_db is not None and name_in_db != guardian["name"]:
                c.add(
                    r.row,
                    f"guardian{n}_name",
                    guardian["name"],
                    _("手机号 {mobile} 已登记为另一位监护人，姓名与本行不一致").format(mobile=guardian["mobile"]),
                )
            elif guardian["mobile"] in taken_mobiles:
                c.add(r.row, f"guardian{n}_mobile", guardian["mobile"], _("该手机号已被系统中的其他账号使用"))
    _report(progress, 0.7)
    return good, c.errors


def _check_staff(
    *, actor: Any, school_id: int, sheet: Sheet, progress: Progress | None
) -> tuple[list[_StaffRow], list[RowError]]:
    c = _Collector(sheet, STAFF)
    departments = {
        _norm_name(name): pk
        for pk, name in org_selectors.departments_of(actor=actor, school_id=school_id).values_list("id", "name")
    }
    good: list[_StaffRow] = []
    first_no: dict[str, int] = {}
    first_id: dict[tuple[Any, Any], int] = {}
    first_mobile: dict[str, int] = {}
    rows = _checked_rows(
        c,
        sheet,
        kind=STAFF,
        check=check_staff,
        number_field="staff_no",
        number_repeated=_("与第 {row} 行的工号重复"),
        progress=progress,
        first_no=first_no,
        first_id=first_id,
    )
    for row, raw, s, ok in rows:
        mobile = s.get("mobile")
        if mobile and not c.first_use(first_mobile, mobile, row, "mobile", mobile, _("与第 {row} 行的手机号重复")):
            ok = False
        department_ids: list[int] = []
        for name in DEPARTMENT_SEPARATORS.split(text(raw.get("departments"))):
            if not name:
                continue
            dept = departments.get(_norm_name(name))
            if dept is None:
                c.add(row, "departments", raw.get("departments"), _("本校没有处室“{name}”").format(name=name[:50]))
                ok = False
            elif dept not in department_ids:
                department_ids.append(dept)
        if ok:
            good.append(_StaffRow(row, s, department_ids))
    _report(progress, 0.62)

    nos = list(first_no)
    existing_nos: set[str] = set()
    for chunk in _chunks(nos):
        existing_nos.update(
            Staff.objects.filter(school_id=school_id, staff_no__in=chunk).values_list("staff_no", flat=True)
        )
    for no in existing_nos:
        c.add(first_no[no], "staff_no", no, _("工号已存在（本校已有该教职工）"))
    for no in identity_selectors.login_names_taken(no for no in nos if no not in existing_nos):
        c.add(first_no[no], "staff_no", no, _("工号已被其他账号用作登录名"))
    existing_ids: set[tuple[str, str]] = set()
    for chunk in _chunks([n for _t, n in first_id]):
        existing_ids.update(
            (t, n) for t, n in Staff.objects.filter(id_number__in=chunk).values_list("id_type", "id_number") if n
        )
    for key in existing_ids & set(first_id):
        c.add(first_id[key], "id_number", key[1], _("证件号码已被系统中的其他教职工使用"))
    for mobile in identity_selectors.mobiles_taken(first_mobile):
        c.add(first_mobile[mobile], "mobile", mobile, _("该手机号已被系统中的其他账号使用"))
    _report(progress, 0.7)
    return good, c.errors


# --- writing ------------------------------------------------------------------------------------------
def _history_user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _write_students(*, actor: Any, school_id: int, rows: list[_StudentRow], password: str, note: str) -> dict[str, int]:
    user = _history_user(actor)
    reason = "Excel 导入"
    accounts = identity_services.bulk_create_accounts(
        [{"username": r.data["student_no"], "display_name": r.data["name"], "kind": "student"} for r in rows],
        password=password,
        must_change_password=True,
    )
    students = [
        Student(school_id=school_id, admin_class_id=r.class_id, account_id=acc.pk, **r.data)
        for r, acc in zip(rows, accounts, strict=True)
    ]
    students = bulk_create_with_history(
        students, Student, batch_size=1000, default_user=user, default_change_reason=reason
    )
    wanted = sorted({g["mobile"] for r in rows for _n, g in r.guardians})
    known = {g.mobile: g for chunk in _chunks(wanted) for g in Guardian.objects.filter(mobile__in=chunk)}
    fresh: dict[str, dict[str, Any]] = {}
    for r in rows:
        for _n, g in r.guardians:
            if g["mobile"] not in known:
                fresh.setdefault(g["mobile"], g)
    guardian_accounts = identity_services.bulk_create_accounts(
        [{"username": m, "display_name": g["name"], "kind": "guardian", "mobile": m} for m, g in fresh.items()],
        password=password,
        must_change_password=True,
    )
    new_guardians = [
        Guardian(name=g["name"], mobile=m, account_id=acc.pk)
        for (m, g), acc in zip(fresh.items(), guardian_accounts, strict=True)
    ]
    new_guardians = bulk_create_with_history(
        new_guardians, Guardian, batch_size=1000, default_user=user, default_change_reason=reason
    )
    by_mobile = {**known, **{g.mobile: g for g in new_guardians}}
    links = [
        GuardianLink(  # objects, not ids: the audit label (str(link)) then needs no query
            school_id=school_id,
            student=student,
            guardian=by_mobile[g["mobile"]],
            relation=g["relation"],
            may_notify=g["may_notify"],
            is_primary=(n == min(m for m, _g in r.guardians)),
        )
        for r, student in zip(rows, students, strict=True)
        for n, g in r.guardians
    ]
    links = bulk_create_with_history(
        links, GuardianLink, batch_size=1000, default_user=user, default_change_reason=reason
    )

    # One entry per created record; a person's new account is named in that person's entry.
    entries: list[audit.Entry] = []
    for r, student, acc in zip(rows, students, accounts, strict=True):
        changes = {"name": [None, student.name], "admin_class": [None, r.class_name], "account": [None, acc.pk]}
        entries.append(audit.entry_for(student, "student.import", changes, note))
    for guardian in new_guardians:
        changes = {"name": [None, guardian.name], "account": [None, guardian.account_id]}
        entries.append(audit.entry_for(guardian, "guardian.import", changes, note))
    for link in links:
        entries.append(audit.entry_for(link, "guardian.link", {"relation": [None, link.relation]}, note))
    audit.record_many(actor=actor, entries=_with_school(entries, school_id))
    domain_events.publish(domain_events.STUDENTS_CHANGED, school_id=school_id, student_ids=[s.pk for s in students])
    return {
        "students": len(students),
        "guardians": len(new_guardians),
        "guardians_reused": len({g["mobile"] for r in rows for _n, g in r.guardians} & set(known)),
        "guardian_links": len(links),
        "accounts": len(accounts) + len(guardian_accounts),
    }


def _with_school(entries: list[audit.Entry], school_id: int) -> list[audit.Entry]:
    """Accounts and guardians carry no school; their audit entries still belong to the importing school."""
    return [e if e.school_id else dataclasses.replace(e, school_id=school_id) for e in entries]


def _write_staff(*, actor: Any, school_id: int, rows: list[_StaffRow], password: str, note: str) -> dict[str, int]:
    user = _history_user(actor)
    accounts = identity_services.bulk_create_accounts(
        [
            {
                "username": r.data["staff_no"],
                "display_name": r.data["name"],
                "kind": "staff",
                "mobile": r.data["mobile"] or None,
            }
            for r in rows
        ],
        password=password,
        must_change_password=True,
    )
    staff = [Staff(school_id=school_id, account_id=acc.pk, **r.data) for r, acc in zip(rows, accounts, strict=True)]
    staff = bulk_create_with_history(
        staff, Staff, batch_size=1000, default_user=user, default_change_reason="Excel 导入"
    )
    through = Staff.departments.through
    memberships = [
        through(staff_id=s.pk, department_id=d) for r, s in zip(rows, staff, strict=True) for d in r.department_ids
    ]
    through.objects.bulk_create(memberships, batch_size=2000)
    entries = [
        audit.entry_for(
            s, "staff.import", {"name": [None, s.name], "post": [None, s.post], "account": [None, acc.pk]}, note
        )
        for s, acc in zip(staff, accounts, strict=True)
    ]
    audit.record_many(actor=actor, entries=_with_school(entries, school_id))
    domain_events.publish(domain_events.STAFF_CHANGED, school_id=school_id, staff_ids=[s.pk for s in staff])
    return {"staff": len(staff), "department_memberships": len(memberships), "accounts": len(accounts)}


# --- the import ---------------------------------------------------------------------------------------
def run_import(
    *,
    actor: Any,
    school_id: int,
    kind: str,
    data: bytes,
    filename: str = "",
    dry_run: bool = False,
    progress: Progress | None = None,
    note: str = "",
) -> ImportResult:
    """Check the whole file; with no error (and not a dry run) write it all in one transaction.

    Students get accounts (login 学籍号), new guardians accounts (login: mobile), staff accounts (login 工号);
    all with one initial password for this import, to be changed at first login.
    """
    if kind not in KINDS:
        raise ValueError(kind)
    school_for(actor=actor, action=IMPORT_ACTION[kind], school_id=school_id)
    result = ImportResult(kind=kind, dry_run=dry_run)
    result.errors = check_upload(data, filename)
    if result.errors:
        return result
    _report(progress, 0.01)
    sheet, result.errors = read_sheet(data, kind)
    if sheet is None:
        return result
    result.rows = len(sheet.rows)
    _report(progress, 0.05)
    students: list[_StudentRow] = []
    staff: list[_StaffRow] = []
    if kind == STUDENTS:
        students, result.errors = _check_students(actor=actor, school_id=school_id, sheet=sheet, progress=progress)
    else:
        staff, result.errors = _check_staff(actor=actor, school_id=school_id, sheet=sheet, progress=progress)
    result.errors.sort(key=lambda e: (e.row or 0, e.col if e.col is not None else 999))
    if result.errors:
        return result
    if dry_run:
        result.created = {kind: len(students) + len(staff)}
        _report(progress, 1.0)
        return result
    _report(progress, WRITE_PHASE)
    password = identity_services.generate_password()
    note = note or f"Excel 导入 {filename}"[:200]
    try:
        with transaction.atomic():
            if kind == STUDENTS:
                result.created = _write_students(
                    actor=actor, school_id=school_id, rows=students, password=password, note=note
                )
            else:
                result.created = _write_staff(
                    actor=actor, school_id=school_id, rows=staff, password=password, note=note
                )
    except IntegrityError:
        # Checked a moment ago; someone else wrote the same 学籍号/工号/证件号/手机号 in between.
        result.errors = [_file_error(_("写入时与他人同时录入的数据冲突，未导入任何数据；请重新上传"))]
        result.created = {}
        return result
    result.initial_password = password
    _report(progress, 1.0)
    return result


# --- the errors workbook ------------------------------------------------------------------------------
def _cell_text(value: Any) -> Any:
    """What we write back into a sheet must never run as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def errors_workbook(data: bytes, errors: Sequence[RowError]) -> bytes:
    """The uploaded workbook with every bad cell filled red and commented, plus a 错误清单 sheet."""
    try:
        book = load_workbook(io.BytesIO(data))
        sheet = book.worksheets[0]
    except Exception:  # a file that could not be opened at all: the list alone
        book = Workbook()
        sheet = None
    if sheet is not None:
        reasons: dict[tuple[int, int], list[str]] = {}
        for e in errors:
            if e.row is not None and e.col is not None:
                reasons.setdefault((e.row, e.col), []).append(f"{e.column}：{e.reason}")
        for (row, col), texts in reasons.items():
            cell = sheet.cell(row=row, column=col + 1)
            cell.fill = ERROR_FILL
            comment = Comment("\n".join(texts), "智校")
            comment.width, comment.height = 300, 60 + 20 * len(texts)
            cell.comment = comment
    if ERROR_SHEET in book.sheetnames:  # an errors workbook uploaded again
        del book[ERROR_SHEET]
    if sheet is None:
        listing = book.active
        listing.title = ERROR_SHEET
    else:
        listing = book.create_sheet(ERROR_SHEET)
    listing.append(["行", "列", "内容", "原因"])
    for cell in listing[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for e in errors:
        listing.append(
            [e.row if e.row is not None else "", _cell_text(e.column), _cell_text(e.value), _cell_text(e.reason)]
        )
    for letter, width in zip("ABCD", (8, 16, 28, 60), strict=True):
        listing.column_dimensions[letter].width = width
    listing.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- templates ----------------------------------------------------------------------------------------
def _choice_lists(class_names: Sequence[str], department_names: Sequence[str]) -> dict[str, list[str]]:
    def names(key: str) -> list[str]:
        return [c.name_zh for c in codes.code_list(key).codes]

    return {
        "gender": [str(Gender.MALE.label), str(Gender.FEMALE.label)],
        "id_type": names(codes.ID_TYPE),
        "ethnicity": names(codes.ETHNICITY),
        "household": names(codes.HOUSEHOLD),
        "political_status": names(codes.POLITICAL_STATUS),
        "boarding": [str(label) for _v, label in Boarding.choices],
        "relation": [str(label) for _v, label in Relation.choices],
        "post": [str(label) for _v, label in Post.choices],
        "class": list(class_names),
        "department": list(department_names),
    }


def template_workbook(*, kind: str, class_names: Sequence[str] = (), department_names: Sequence[str] = ()) -> bytes:
    """The import template: the data sheet first (read by the import), then instructions and code lists,
    with drop-downs on coded columns and text format on long-number columns."""
    columns = COLUMNS[kind]
    book = Workbook()
    data = book.active
    data.title = SHEET_TITLES[kind]
    lists = _choice_lists(class_names, department_names)
    code_sheet = book.create_sheet(CODE_SHEET)
    list_refs: dict[str, str] = {}
    for i, (key, values) in enumerate(item for item in lists.items() if item[1]):
        letter = get_column_letter(i + 1)
        code_sheet.cell(row=1, column=i + 1, value=key)
        for r, value in enumerate(values, start=2):
            code_sheet.cell(row=r, column=i + 1, value=value)
        list_refs[key] = f"'{CODE_SHEET}'!${letter}$2:${letter}${len(values) + 1}"
    code_sheet.sheet_state = "hidden"
    for pos, col in enumerate(columns, start=1):
        letter = get_column_letter(pos)
        cell = data.cell(row=1, column=pos, value=col.header)
        cell.font = Font(bold=True, color="C00000" if col.required else "000000")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
        if col.hint:
            cell.comment = Comment(col.hint, "智校")
        data.column_dimensions[letter].width = col.width
        if col.kind == "number_text":
            data.column_dimensions[letter].number_format = "@"
        elif col.kind == "date":
            data.column_dimensions[letter].number_format = "yyyy-mm-dd"
        if col.choices and col.choices in list_refs:
            dv = DataValidation(
                type="list",
                formula1=list_refs[col.choices],
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="输入有误",
                error="请从下拉列表中选择",
            )
            dv.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            data.add_data_validation(dv)
    data.freeze_panes = "A2"
    guide = book.create_sheet(GUIDE_SHEET, 1)
    _fill_guide(guide, kind, columns)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _fill_guide(sheet: Any, kind: str, columns: Sequence[Column]) -> None:
    what = "学生及其监护人" if kind == STUDENTS else "教职工"
    lines = [
        f"{what}导入说明",
        f"1. 在第一个工作表“{SHEET_TITLES[kind]}”中从第2行起每行填写一人；表头名称不要改动，列的顺序可以调整。",
        "2. 红色表头为必填列。带下拉箭头的列请从列表中选择（也可填写国家标准代码）。",
        "3. 证件号码、学籍号、手机号等长数字列已设为文本格式，请勿改成数字格式，否则末尾数字会丢失。",
        "4. 上传后系统先检查每一行每一格：只要有一处错误，整个文件都不会写入；"
        "可下载标红的错误文件，按批注修改后重新上传。",
        f"5. 一次最多 {MAX_ROWS} 行。导入成功后会显示本次的初始密码（只显示一次），首次登录须修改密码。",
    ]
    if kind == STUDENTS:
        lines.append("6. 学生的登录名为学籍号；新监护人的登录名为手机号。同一手机号视为同一监护人，姓名必须一致。")
    else:
        lines.append("6. 教职工的登录名为工号。处室须为本校已有处室，多个处室用“、”分隔。")
    for line in lines:
        sheet.append([line])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([])
    sheet.append(["列名", "是否必填列", "填写要求"])
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for col in columns:
        sheet.append([col.header, "是" if col.required else "", col.hint])
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["B"].width = 12
    sheet.column_dimensions["C"].width = 70


def template_for(*, actor: Any, kind: str, school_id: int | None) -> bytes:
    """The template, with the school's own classes or departments in the drop-downs when one is given."""
    if kind not in KINDS:
        raise ValueError(kind)
    if not permissions.has_any(actor, IMPORT_ACTION[kind]):
        raise NotPermitted(_("没有权限执行此操作"))
    class_names: list[str] = []
    department_names: list[str] = []
    if school_id is not None:
        school_for(actor=actor, action=IMPORT_ACTION[kind], school_id=school_id)
        if kind == STUDENTS:
            class_names = [c.name for c in org_selectors.classes_visible_to(actor=actor, school_id=school_id)]
        else:
            department_names = [d.name for d in org_selectors.departments_of(actor=actor, school_id=school_id)]
    return template_workbook(kind=kind, class_names=class_names, department_names=department_names)


# --- export -------------------------------------------------------------------------------------------
def export_workbook(*, actor: Any, kind: str, school_id: int) -> bytes:
    """A school's whole list as .xlsx, sensitive columns masked (the same export as the list pages)."""
    if kind not in KINDS:
        raise ValueError(kind)
    school_for(actor=actor, action=EXPORT_ACTION[kind], school_id=school_id)
    if kind == STUDENTS:
        return exports.students_workbook(
            actor=actor, students=selectors.search_students(actor=actor, school_id=school_id)
        )
    staff = selectors.search_staff(actor=actor, school_id=school_id)
    audit.record(actor=actor, action="staff.export", note=f"{staff.count()} rows", school_id=school_id)
    return exports.staff_workbook(staff=staff)
