"""Excel import: a clean file writes everything in one go; a file with any bad row or cell writes
nothing and says, in Chinese, which row, which column, which value and why."""

from __future__ import annotations

import base64
import datetime as dt
import io
import zipfile
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django_otp.oath import TOTP
from openpyxl import load_workbook

from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.kernel.masking import mask_id_number
from zhixiao.kernel.models import AuditRecord
from zhixiao.org import selectors as org_selectors
from zhixiao.people import import_jobs, importing
from zhixiao.people.models import Guardian, GuardianLink, ImportJob, Staff, Student

from .workbooks import STAFF_HEADERS, STUDENT_HEADERS, People, resident_id, workbook

pytestmark = pytest.mark.django_db


# --- fixtures and helpers -----------------------------------------------------------------------------
@pytest.fixture
def admin(account_for: Any) -> Any:
    return account_for("school_admin")


@pytest.fixture
def school(login_for: Any) -> Any:
    return org_selectors.school_by_code(login_for("school_admin").school)


@pytest.fixture
def class_names(admin: Any, school: Any) -> list[str]:
    return [c.name for c in org_selectors.classes_visible_to(actor=admin, school_id=school.pk)]


@pytest.fixture
def department_names(admin: Any, school: Any) -> list[str]:
    return [d.name for d in org_selectors.departments_of(actor=admin, school_id=school.pk)]


def counts() -> dict[str, int]:
    return {
        "students": Student.objects.count(),
        "guardians": Guardian.objects.count(),
        "links": GuardianLink.objects.count(),
        "staff": Staff.objects.count(),
        "accounts": get_user_model().objects.count(),
        "audit": AuditRecord.objects.count(),
        "student_history": Student.history.count(),
    }


def students_file(rows: list[dict[str, Any]], **kwargs: Any) -> bytes:
    return workbook(STUDENT_HEADERS, rows, **kwargs)


def run(admin: Any, school: Any, data: bytes, kind: str = importing.STUDENTS, **kwargs: Any) -> importing.ImportResult:
    kwargs.setdefault("filename", "名单.xlsx")
    return importing.run_import(actor=admin, school_id=school.pk, kind=kind, data=data, **kwargs)


def only_error(result: importing.ImportResult) -> importing.RowError:
    assert len(result.errors) == 1, [e.as_line() for e in result.errors]
    return result.errors[0]


def assert_rejected_without_writing(
    admin: Any, school: Any, data: bytes, *, row: int | None, column: str, reason: str, **kwargs: Any
) -> importing.RowError:
    before = counts()
    result = run(admin, school, data, **kwargs)
    assert not result.ok
    assert counts() == before
    assert result.initial_password == ""
    matching = [e for e in result.errors if e.row == row and e.column == column and reason in e.reason]
    assert matching, [e.as_line() for e in result.errors]
    return matching[0]


def valid_rows(class_names: list[str], n: int, seed: int = 1) -> list[dict[str, Any]]:
    people = People(seed)
    return [people.student(class_names[i % len(class_names)]) for i in range(n)]


# --- a clean file -------------------------------------------------------------------------------------
def test_valid_file_writes_students_guardians_links_accounts_history_and_audit(admin, school, class_names):
    rows = valid_rows(class_names, 30)
    # Siblings: row 3's father is row 2's father (same mobile, same name) and is stored once.
    rows[1]["监护人1姓名"], rows[1]["监护人1手机"] = rows[0]["监护人1姓名"], rows[0]["监护人1手机"]
    before = counts()
    fractions: list[float] = []
    result = run(admin, school, students_file(rows), progress=fractions.append)

    assert result.ok, [e.as_line() for e in result.errors]
    assert result.rows == 30
    after = counts()
    assert after["students"] - before["students"] == 30
    assert after["guardians"] - before["guardians"] == 59
    assert after["links"] - before["links"] == 60
    assert after["accounts"] - before["accounts"] == 30 + 59
    assert after["student_history"] - before["student_history"] == 30
    # One audit entry per created record: each student, each new guardian, each link (accounts named in them).
    assert after["audit"] - before["audit"] == 30 + 59 + 60
    assert result.created == {
        "students": 30,
        "guardians": 59,
        "guardians_reused": 0,
        "guardian_links": 60,
        "accounts": 89,
    }
    assert fractions[-1] == 1.0 and fractions == sorted(fractions)

    first = Student.objects.select_related("admin_class", "account").get(student_no=rows[0]["学籍号"])
    assert first.school_id == school.pk
    assert first.admin_class.name == rows[0]["班级"]
    assert first.birth_date == rows[0]["出生日期"]
    assert first.account.username == first.student_no
    assert first.account.must_change_password
    assert first.account.check_password(result.initial_password)
    father = Guardian.objects.get(mobile=rows[0]["监护人1手机"])
    assert father.links.count() == 2
    assert father.account.check_password(result.initial_password)
    assert GuardianLink.objects.get(student=first, guardian=father).is_primary
    entries = AuditRecord.objects.filter(action="student.import", target_id=str(first.pk))
    assert entries.count() == 1
    entry = entries.get()
    assert entry.school_id == school.pk
    assert first.id_number not in str(entry.changes) and first.address not in str(entry.changes)
    history = first.history.get()
    assert history.history_user_id == admin.pk


def test_guardian_already_in_the_database_is_reused_by_mobile(admin, school, class_names):
    existing = GuardianLink.objects.select_related("guardian").filter(school=school).first().guardian
    rows = valid_rows(class_names, 2, seed=2)
    rows[0]["监护人1姓名"], rows[0]["监护人1手机"] = existing.name, existing.mobile
    guardians_before = Guardian.objects.count()
    result = run(admin, school, students_file(rows))
    assert result.ok, [e.as_line() for e in result.errors]
    assert result.created["guardians_reused"] == 1
    assert Guardian.objects.count() == guardians_before + 3
    assert existing.links.filter(student__student_no=rows[0]["学籍号"]).exists()


def test_header_found_below_a_title_and_in_any_column_order(admin, school, class_names):
    rows = valid_rows(class_names, 3, seed=3)
    headers = [*reversed(STUDENT_HEADERS), "备注"]
    data = workbook(headers, rows, title_rows=["滁州市第一高级中学 2025级新生名单", ""])
    result = run(admin, school, data)
    assert result.ok, [e.as_line() for e in result.errors]
    assert Student.objects.filter(student_no__in=[r["学籍号"] for r in rows]).count() == 3

    # Row numbers in errors are those Excel shows: title (1), blank (2), header (3), data from 4.
    bad = valid_rows(class_names, 2, seed=4)
    bad[1]["姓名"] = ""
    err = only_error(run(admin, school, workbook(headers, bad, title_rows=["标题", ""])))
    assert (err.row, err.column, err.reason) == (5, "姓名", "必填")
    assert err.col == headers.index("姓名")


def test_dry_run_checks_everything_and_writes_nothing(admin, school, class_names):
    before = counts()
    result = run(admin, school, students_file(valid_rows(class_names, 5, seed=5)), dry_run=True)
    assert result.ok and result.dry_run
    assert result.created == {"students": 5}
    assert result.initial_password == ""
    assert counts() == before


# --- any bad row writes nothing -------------------------------------------------------------------------
def test_one_bad_row_among_many_writes_nothing(admin, school, class_names):
    rows = valid_rows(class_names, 200, seed=6)
    rows[150]["性别"] = "未知"
    err = assert_rejected_without_writing(admin, school, students_file(rows), row=152, column="性别", reason="")
    assert err.value == "未知"


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("出生日期", "2010-02-30", "该日期不存在"),
        ("出生日期", "2010/13/01", "日期格式"),
        ("入学日期", "明年九月", "日期格式"),
        ("民族", "火星族", "GB/T 3304"),
        ("证件类型", "学生证", "JY/T 1001"),
        ("户口性质", "城镇", "GA 324.1"),
        ("走读/住校", "半住", "应为：走读、住校"),
        ("班级", "高九(9)班", "本校没有这个班级"),
        ("监护人1关系", "邻居", "应为："),
        ("监护人1手机", "12345", "手机号应为11位"),
        ("监护人2手机", "10012345678", "号段"),
        ("学籍号", "G12", "学籍号应为"),
        ("姓名", '=HYPERLINK("http://evil","点我")', "不能以 = + - @ 开头"),
        ("姓名", "@SUM(A1)", "不能以 = + - @ 开头"),
        ("姓名", "<script>alert(1)</script>", "不允许的字符"),
        ("姓名", "Robert'); DROP TABLE people_student;--", "不允许的字符"),
        ("家庭住址", "安徽省{滁州市}", "不允许的字符"),
        ("家庭住址", "-1 OR 1=1", "不能以 = + - @ 开头"),
        ("姓名", "王" * 51, "过长"),
    ],
)
def test_bad_cell_is_named_by_row_column_value_and_reason(admin, school, class_names, column, value, reason):
    rows = valid_rows(class_names, 3, seed=7)
    rows[2][column] = value
    err = assert_rejected_without_writing(admin, school, students_file(rows), row=4, column=column, reason=reason)
    assert err.col == STUDENT_HEADERS.index(column)


def test_wrong_check_digit_is_refused(admin, school, class_names):
    rows = valid_rows(class_names, 2, seed=8)
    number = rows[1]["证件号码"]
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    rows[1]["证件号码"] = wrong
    err = assert_rejected_without_writing(
        admin, school, students_file(rows), row=3, column="证件号码", reason="校验码错误"
    )
    assert err.value == wrong


def test_gender_and_birth_date_must_agree_with_the_id_number(admin, school, class_names):
    rows = valid_rows(class_names, 1, seed=9)
    rows[0]["性别"] = "女" if rows[0]["性别"] == "男" else "男"
    rows[0]["出生日期"] = dt.date(2001, 1, 1)
    result = run(admin, school, students_file(rows))
    assert {(e.column, e.reason[:9]) for e in result.errors} == {
        ("性别", "与身份证号不符（身"),
        ("出生日期", "与身份证号不符（身"),
    }


def test_duplicate_student_number_in_the_file(admin, school, class_names):
    rows = valid_rows(class_names, 4, seed=10)
    rows[3]["学籍号"] = rows[1]["学籍号"]
    assert_rejected_without_writing(admin, school, students_file(rows), row=5, column="学籍号", reason="与第 3 行")


def test_duplicate_id_number_in_the_file(admin, school, class_names):
    rows = valid_rows(class_names, 3, seed=11)
    rows[2]["证件号码"], rows[2]["出生日期"], rows[2]["性别"] = (
        rows[0]["证件号码"],
        rows[0]["出生日期"],
        rows[0]["性别"],
    )
    assert_rejected_without_writing(admin, school, students_file(rows), row=4, column="证件号码", reason="与第 2 行")


def test_student_number_and_id_number_already_in_the_database(admin, school, class_names):
    first = valid_rows(class_names, 2, seed=12)
    assert run(admin, school, students_file(first)).ok
    rows = valid_rows(class_names, 3, seed=112)
    rows[0]["学籍号"] = first[0]["学籍号"]
    rows[1].update({k: first[1][k] for k in ("证件号码", "出生日期", "性别")})
    data = students_file(rows)
    assert_rejected_without_writing(admin, school, data, row=2, column="学籍号", reason="学籍号已存在")
    assert_rejected_without_writing(admin, school, data, row=3, column="证件号码", reason="其他学生使用")


def test_student_number_used_as_another_accounts_login_name(admin, school, class_names):
    rows = valid_rows(class_names, 1, seed=13)
    get_user_model().objects.create_user(username=rows[0]["学籍号"], password=None, display_name="某人")
    assert_rejected_without_writing(admin, school, students_file(rows), row=2, column="学籍号", reason="登录名")


def test_same_guardian_mobile_with_another_name_in_the_file(admin, school, class_names):
    rows = valid_rows(class_names, 3, seed=14)
    rows[2]["监护人2手机"] = rows[0]["监护人1手机"]
    err = assert_rejected_without_writing(
        admin, school, students_file(rows), row=4, column="监护人2姓名", reason="同一手机号须是同一监护人"
    )
    assert "第 2 行" in err.reason


def test_same_guardian_mobile_with_another_name_in_the_database(admin, school, class_names):
    existing = GuardianLink.objects.select_related("guardian").filter(school=school).first().guardian
    rows = valid_rows(class_names, 2, seed=15)
    rows[1]["监护人1手机"] = existing.mobile
    rows[1]["监护人1姓名"] = existing.name + "某"
    err = assert_rejected_without_writing(
        admin, school, students_file(rows), row=3, column="监护人1姓名", reason="姓名与本行不一致"
    )
    assert existing.name not in err.reason  # another school's guardian stays private


def test_guardian_mobile_held_by_a_staff_account(admin, school, class_names):
    teacher = Staff.objects.filter(school=school).exclude(mobile="").select_related("account").first()
    get_user_model().objects.filter(pk=teacher.account_id).update(mobile=teacher.mobile)
    rows = valid_rows(class_names, 1, seed=16)
    rows[0]["监护人2手机"] = teacher.mobile
    assert_rejected_without_writing(admin, school, students_file(rows), row=2, column="监护人2手机", reason="其他账号")


def test_half_filled_guardian_and_twice_the_same_mobile_in_a_row(admin, school, class_names):
    rows = valid_rows(class_names, 2, seed=17)
    rows[0]["监护人2关系"] = ""
    rows[1]["监护人2手机"] = rows[1]["监护人1手机"]
    result = run(admin, school, students_file(rows))
    lines = {(e.row, e.column, e.reason) for e in result.errors}
    assert (2, "监护人2关系", "必填") in lines
    assert (3, "监护人2手机", "两位监护人的手机号相同") in lines


def test_long_number_typed_into_a_number_cell_is_caught(admin, school, class_names):
    rows = valid_rows(class_names, 1, seed=18)
    rows[0]["证件号码"] = float(rows[0]["证件号码"][:17] + "1")
    assert_rejected_without_writing(admin, school, students_file(rows), row=2, column="证件号码", reason="文本")


def test_every_error_of_every_row_is_reported_at_once(admin, school, class_names):
    rows = valid_rows(class_names, 5, seed=19)
    rows[0]["性别"] = "X"
    rows[2]["民族"] = "不存在"
    rows[2]["班级"] = "不存在的班"
    rows[4]["出生日期"] = "2009-02-29"
    result = run(admin, school, students_file(rows))
    assert [(e.row, e.column) for e in result.errors] == [(2, "性别"), (4, "民族"), (4, "班级"), (6, "出生日期")]


# --- the whole file is wrong --------------------------------------------------------------------------
def _zip_without_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("readme.txt", "not a workbook")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "reason"),
    [
        (b"\x00\x01garbage" * 100, "学生.xlsx", "不是 .xlsx 格式"),
        (_zip_without_workbook(), "学生.xlsx", "无法读取该 Excel 文件"),
        (b"PK\x03\x04" + b"\x00" * 200, "学生.xlsx", "无法读取该 Excel 文件"),
        ("学籍号,姓名\nG1,张三\n".encode(), "学生.csv", "只能上传 .xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "学生.xls", "另存为 .xlsx"),
        (b"", "学生.xlsx", "文件是空的"),
    ],
)
def test_malformed_and_wrong_type_files_are_refused(admin, school, data, filename, reason):
    assert_rejected_without_writing(admin, school, data, row=None, column="", reason=reason, filename=filename)


def test_oversized_file_is_refused(admin, school, class_names, settings):
    data = students_file(valid_rows(class_names, 20, seed=20))
    settings.ZHIXIAO_MAX_UPLOAD_BYTES = len(data) - 1
    assert_rejected_without_writing(admin, school, data, row=None, column="", reason="文件过大")


def test_too_many_rows_is_refused(admin, school, class_names, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 5)
    data = students_file(valid_rows(class_names, 6, seed=21))
    assert_rejected_without_writing(admin, school, data, row=None, column="", reason="行数过多")


def test_missing_required_column_and_empty_file(admin, school, class_names):
    headers = [h for h in STUDENT_HEADERS if h != "性别"]
    data = workbook(headers, valid_rows(class_names, 2, seed=22))
    assert_rejected_without_writing(admin, school, data, row=1, column="性别", reason="缺少必需的列")
    assert_rejected_without_writing(
        admin, school, workbook(STUDENT_HEADERS, []), row=None, column="", reason="没有数据行"
    )
    assert_rejected_without_writing(
        admin,
        school,
        workbook(["序号", "名字"], [{"序号": 1, "名字": "张三"}]),
        row=None,
        column="",
        reason="找不到表头",
    )


def test_duplicated_header_is_refused(admin, school, class_names):
    data = workbook([*STUDENT_HEADERS, "姓名"], valid_rows(class_names, 1, seed=23))
    assert_rejected_without_writing(admin, school, data, row=1, column="姓名", reason="表头重复")


def test_import_needs_the_import_permission_in_that_school(account_for, login_for, school, class_names):
    data = students_file(valid_rows(class_names, 1, seed=24))
    with pytest.raises(NotPermitted):
        run(account_for("homeroom_teacher"), school, data)
    with pytest.raises(NotPermitted):
        run(account_for("school_admin", 1), school, data)  # the other school's admin


# --- the errors workbook ----------------------------------------------------------------------------
def test_errors_workbook_marks_exactly_the_bad_cells(admin, school, class_names):
    rows = valid_rows(class_names, 6, seed=25)
    rows[1]["性别"] = "不男不女"
    rows[4]["班级"] = "火星班"
    rows[4]["姓名"] = "=1+1"
    data = students_file(rows)
    result = run(admin, school, data)
    book = load_workbook(io.BytesIO(importing.errors_workbook(data, result.errors)))

    sheet = book.worksheets[0]  # still the data sheet, so the corrected file can be uploaded again
    assert sheet.title == "Sheet1"
    marked = {
        (cell.row, cell.column)
        for row in sheet.iter_rows()
        for cell in row
        if cell.fill is not None and cell.fill.fgColor.rgb in ("FFFF9999", "00FF9999")
    }
    col = {h: i + 1 for i, h in enumerate(STUDENT_HEADERS)}
    assert marked == {(3, col["性别"]), (6, col["班级"]), (6, col["姓名"])}
    assert "GB/T 2261.1" in sheet.cell(row=3, column=col["性别"]).comment.text
    assert "本校没有这个班级" in sheet.cell(row=6, column=col["班级"]).comment.text
    listing = book[importing.ERROR_SHEET]
    lines = [tuple(c.value for c in r) for r in listing.iter_rows(min_row=2)]
    assert len(lines) == 3
    assert (6, "姓名", "'=1+1") in {line[:3] for line in lines}  # echoed back, never as a formula


def test_errors_workbook_of_an_unreadable_file_is_just_the_list():
    errors = [importing.RowError(None, "", "x.xlsx", "文件不是 .xlsx 格式的 Excel 工作簿")]
    book = load_workbook(io.BytesIO(importing.errors_workbook(b"nonsense", errors)))
    assert book.sheetnames == [importing.ERROR_SHEET]
    assert book.active.cell(row=2, column=4).value == errors[0].reason


# --- staff --------------------------------------------------------------------------------------------
def test_staff_import_writes_staff_accounts_and_departments(admin, school, department_names):
    people = People(30)
    rows = [people.staff(f"T9{i:03d}", department_names[i % 2 : i % 2 + 2]) for i in range(12)]
    before = counts()
    result = run(admin, school, workbook(STAFF_HEADERS, rows), kind=importing.STAFF)
    assert result.ok, [e.as_line() for e in result.errors]
    assert counts()["staff"] - before["staff"] == 12
    assert counts()["accounts"] - before["accounts"] == 12
    teacher = Staff.objects.select_related("account").get(school=school, staff_no="T9001")
    assert sorted(d.name for d in teacher.departments.all()) == sorted(department_names[1:3])
    assert teacher.account.username == "T9001" and teacher.account.must_change_password
    assert teacher.account.check_password(result.initial_password)
    assert AuditRecord.objects.filter(action="staff.import", target_id=str(teacher.pk)).count() == 1


def test_staff_number_that_is_already_a_login_name_or_repeated(admin, school, department_names):
    people = People(31)
    existing = Staff.objects.filter(school=school).first()
    rows = [people.staff("admin"), people.staff("T8001"), people.staff("T8001"), people.staff(existing.staff_no)]
    rows[1]["处室"] = "不存在的处"
    result = run(admin, school, workbook(STAFF_HEADERS, rows), kind=importing.STAFF)
    lines = {(e.row, e.column, e.reason[:6]) for e in result.errors}
    assert (2, "工号", "工号已被其他") in lines
    assert (3, "处室", "本校没有处室") in lines
    assert (4, "工号", "与第 3 行") in lines
    assert (5, "工号", "工号已存在（") in lines
    assert Staff.objects.filter(staff_no="T8001").count() == 0


def test_staff_mobile_repeated_or_held_by_another_account(admin, school):
    people = People(32)
    rows = [people.staff("T7001"), people.staff("T7002"), people.staff("T7003")]
    rows[1]["手机号"] = rows[0]["手机号"]
    guardian = Guardian.objects.exclude(account=None).first()
    get_user_model().objects.filter(pk=guardian.account_id).update(mobile=guardian.mobile)
    rows[2]["手机号"] = guardian.mobile
    result = run(admin, school, workbook(STAFF_HEADERS, rows), kind=importing.STAFF)
    lines = {(e.row, e.column, e.reason[:4]) for e in result.errors}
    assert lines == {(3, "手机号", "与第 2"), (4, "手机号", "该手机号")}


# --- templates ----------------------------------------------------------------------------------------
def test_student_template_has_instructions_dropdowns_and_imports_once_filled(admin, school, class_names):
    data = importing.template_for(actor=admin, kind=importing.STUDENTS, school_id=school.pk)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames[:2] == ["学生信息", importing.GUIDE_SHEET]
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == STUDENT_HEADERS
    validated = {str(dv.sqref).split(":")[0] for dv in sheet.data_validations.dataValidation}
    col = {h: i + 1 for i, h in enumerate(STUDENT_HEADERS)}
    for header in ("性别", "证件类型", "民族", "户口性质", "走读/住校", "班级", "监护人1关系", "监护人2关系"):
        letter = sheet.cell(row=1, column=col[header]).column_letter
        assert f"{letter}2" in validated, header
    codes = book[importing.CODE_SHEET]
    assert codes.sheet_state == "hidden"
    assert set(class_names) <= {c.value for column in codes.iter_cols() for c in column}
    # Fill the template as a user would, then import it.
    for r, row in enumerate(valid_rows(class_names, 3, seed=33), start=2):
        for h, value in row.items():
            sheet.cell(row=r, column=col[h], value=value)
    out = io.BytesIO()
    book.save(out)
    result = run(admin, school, out.getvalue())
    assert result.ok, [e.as_line() for e in result.errors]
    assert result.created["students"] == 3


def test_staff_template_lists_the_schools_departments(admin, school, department_names):
    book = load_workbook(io.BytesIO(importing.template_for(actor=admin, kind=importing.STAFF, school_id=school.pk)))
    assert [c.value for c in book.worksheets[0][1]] == STAFF_HEADERS
    values = {c.value for column in book[importing.CODE_SHEET].iter_cols() for c in column}
    assert set(department_names) <= values
    guide = " ".join(str(c.value) for row in book[importing.GUIDE_SHEET].iter_rows() for c in row if c.value)
    assert "登录名为工号" in guide


def test_template_needs_the_import_permission(account_for, school):
    with pytest.raises(NotPermitted):
        importing.template_for(actor=account_for("guard"), kind=importing.STUDENTS, school_id=school.pk)


# --- the command line ---------------------------------------------------------------------------------
def test_cli_import_exit_codes_error_table_and_dry_run(school, class_names, tmp_path, capsys):
    good = tmp_path / "good.xlsx"
    good.write_bytes(students_file(valid_rows(class_names, 4, seed=40)))
    before = counts()
    call_command("zx_import", "students", str(good), "--school", school.code, "--dry-run")
    assert counts() == before
    assert "检查通过" in capsys.readouterr().out

    call_command("zx_import", "students", str(good), "--school", school.code)
    assert counts()["students"] == before["students"] + 4
    out = capsys.readouterr().out
    assert "已导入 4 行" in out and "初始密码" in out
    assert AuditRecord.objects.filter(action="student.import", actor_label="system (CLI)").count() == 4

    bad_rows = valid_rows(class_names, 3, seed=41)
    bad_rows[1]["出生日期"] = "2011-04-31"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(students_file(bad_rows))
    middle = counts()
    with pytest.raises(SystemExit) as exit_info:
        call_command("zx_import", "students", str(bad), "--school", school.code)
    assert exit_info.value.code == 1
    assert counts() == middle
    err = capsys.readouterr().err
    assert "行\t列\t内容\t原因" in err
    assert "3\t出生日期\t2011-04-31\t日期格式应为 2010-09-01，或该日期不存在" in err

    with pytest.raises(SystemExit) as exit_info:
        call_command("zx_import", "staff", str(tmp_path / "missing.xlsx"), "--school", school.code)
    assert exit_info.value.code == 1
    with pytest.raises(SystemExit) as exit_info:
        call_command("zx_import", "students", str(good), "--school", "0000000000")
    assert exit_info.value.code == 1


def test_cli_export_round_trip_masks_id_numbers(school, class_names, tmp_path):
    rows = valid_rows(class_names, 3, seed=42)
    source = tmp_path / "in.xlsx"
    source.write_bytes(students_file(rows))
    call_command("zx_import", "students", str(source), "--school", school.code)
    out = tmp_path / "out.xlsx"
    call_command("zx_export", "students", "--school", school.code, "--out", str(out))
    sheet = load_workbook(out).worksheets[0]
    header = [c.value for c in sheet[1]]
    by_no = {r[header.index("学籍号")]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert len(by_no) == Student.objects.filter(school=school).count()
    for row in rows:
        # the 学籍号 embeds the ID number ("G" + ID), so it is masked the same way
        masked_no = row["学籍号"].replace(row["证件号码"], mask_id_number(row["证件号码"]))
        assert row["学籍号"] not in by_no
        exported = by_no[masked_no]
        masked = exported[header.index("证件号码")]
        assert masked != row["证件号码"] and "*" in masked
        assert masked[:4] == row["证件号码"][:4] and masked[-4:] == row["证件号码"][-4:]
        assert exported[header.index("班级")] == row["班级"]

    staff_out = tmp_path / "staff.xlsx"
    call_command("zx_export", "staff", "--school", school.code, "--out", str(staff_out))
    staff_sheet = load_workbook(staff_out).worksheets[0]
    staff_header = [c.value for c in staff_sheet[1]]
    mobiles = [r[staff_header.index("手机号")] for r in staff_sheet.iter_rows(min_row=2, values_only=True)]
    assert mobiles and all("*" in m for m in mobiles if m)


# --- the job and its pages ----------------------------------------------------------------------------
def signed_in(login: Any) -> Client:
    client = Client()
    assert client.post("/account/login/", {"username": login.username, "password": login.password}).status_code == 302
    if login.totp_secret:
        code = TOTP(base64.b32decode(login.totp_secret)).token()
        assert client.post("/account/2fa/verify/", {"code": f"{code:06d}"}).status_code == 302
    return client


def test_upload_page_runs_the_job_and_shows_progress_and_password_once(
    login_for, school, class_names, django_capture_on_commit_callbacks
):
    client = signed_in(login_for("school_admin"))
    page = client.get("/people/imports/")
    assert page.status_code == 200
    assert f"/people/imports/template/students/?school={school.pk}" in page.content.decode()
    template = client.get(f"/people/imports/template/students/?school={school.pk}")
    assert template.status_code == 200 and template.content.startswith(b"PK")

    data = students_file(valid_rows(class_names, 5, seed=50))
    upload = io.BytesIO(data)
    upload.name = "新生.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/people/imports/", {"kind": "students", "school": school.pk, "file": upload})
    assert response.status_code == 302
    job = ImportJob.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[-1]))
    assert job.status == ImportJob.Status.DONE and job.progress == 100
    assert job.created_counts["students"] == 5

    html = client.get(response["Location"]).content.decode()
    assert '<div class="progress"' in html and 'style="width:100%"' in html
    assert 'id="initial-password"' in html
    assert 'hx-trigger="every 1s"' not in html  # finished: polling stops
    again = client.get(f"/people/imports/{job.pk}/status/").content.decode()
    assert 'id="initial-password"' not in again and "已显示过" in again


def test_bad_upload_job_lists_errors_and_serves_the_marked_workbook(
    login_for, school, class_names, django_capture_on_commit_callbacks
):
    client = signed_in(login_for("school_admin"))
    rows = valid_rows(class_names, 4, seed=51)
    rows[2]["民族"] = "火星族"
    upload = io.BytesIO(students_file(rows))
    upload.name = "有错.xlsx"
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/people/imports/", {"kind": "students", "school": school.pk, "file": upload})
    job = ImportJob.objects.latest("id")
    assert job.status == ImportJob.Status.FAILED and job.error_count == 1
    assert counts()["students"] == before["students"]
    html = client.get(response["Location"]).content.decode()
    assert "火星族" in html and "GB/T 3304" in html and "未写入任何数据" in html
    marked = client.get(f"/people/imports/{job.pk}/errors.xlsx")
    assert marked.status_code == 200
    sheet = load_workbook(io.BytesIO(marked.content)).worksheets[0]
    assert sheet.cell(row=4, column=STUDENT_HEADERS.index("民族") + 1).comment is not None


def test_pending_job_page_polls_every_second(admin, school, login_for):
    job = ImportJob.objects.create(school=school, kind="students", filename="a.xlsx", upload=b"PK", created_by=admin)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.VALIDATING, progress=42)
    html = signed_in(login_for("school_admin")).get(f"/people/imports/{job.pk}/").content.decode()
    assert f'hx-get="/people/imports/{job.pk}/status/"' in html and 'hx-trigger="every 1s"' in html
    assert 'style="width:42%"' in html


def test_upload_form_refuses_wrong_type_and_oversized_files_at_once(login_for, school, settings):
    client = signed_in(login_for("school_admin"))
    upload = io.BytesIO(b"name,id\n")
    upload.name = "list.csv"
    response = client.post("/people/imports/", {"kind": "staff", "school": school.pk, "file": upload})
    assert response.status_code == 400 and "只能上传 .xlsx" in response.content.decode()
    settings.ZHIXIAO_MAX_UPLOAD_BYTES = 10
    upload = io.BytesIO(b"PK" + b"0" * 100)
    upload.name = "big.xlsx"
    response = client.post("/people/imports/", {"kind": "staff", "school": school.pk, "file": upload})
    assert response.status_code == 400 and "文件过大" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_import_pages_and_jobs_stay_within_their_school(login_for, account_for, school):
    other_admin = account_for("school_admin", 1)
    job = ImportJob.objects.create(
        school=school, kind="students", filename="a.xlsx", upload=b"PK", created_by=account_for("school_admin")
    )
    assert import_jobs.job_for(actor=other_admin, job_id=job.pk) is None
    client = signed_in(login_for("school_admin", 1))
    assert client.get(f"/people/imports/{job.pk}/").status_code == 404
    assert client.get(f"/people/imports/{job.pk}/errors.xlsx").status_code == 404
    assert client.get(f"/people/imports/template/students/?school={school.pk}").status_code == 403
    teacher = Client()
    teacher.force_login(account_for("homeroom_teacher"))
    assert teacher.get("/people/imports/").status_code == 403


def test_initial_password_is_only_for_whoever_started_the_import(account_for, school):
    starter = account_for("school_admin")
    job = ImportJob.objects.create(
        school=school, kind="staff", filename="a.xlsx", upload=b"PK", created_by=starter, initial_password="Abc@123456"
    )
    assert import_jobs.take_initial_password(actor=account_for("principal"), job=job) == ""
    assert import_jobs.take_initial_password(actor=starter, job=job) == "Abc@123456"
    job.refresh_from_db()
    assert job.initial_password == ""
    assert import_jobs.take_initial_password(actor=starter, job=job) == ""


def test_resident_id_helper_makes_valid_numbers():
    from zhixiao.kernel import identifiers

    number = resident_id("110101", dt.date(2010, 5, 6), 7, male=False)
    parsed = identifiers.parse_resident_id(number)
    assert parsed.birth_date == dt.date(2010, 5, 6) and parsed.sex_code == "2"


def test_job_with_a_broken_file_fails_with_the_reason_and_runs_only_once(admin, school):
    job = ImportJob.objects.create(
        school=school, kind="students", filename="坏.xlsx", upload=b"PK\x03\x04broken", created_by=admin
    )
    done = import_jobs.run_job(job_id=job.pk)
    assert done.status == ImportJob.Status.FAILED and done.progress == 100 and done.finished_at
    assert done.error_count == 1 and "无法读取该 Excel 文件" in done.errors[0]["reason"]
    finished_at = done.finished_at
    assert import_jobs.run_job(job_id=job.pk).finished_at == finished_at


def test_job_of_someone_without_the_permission_writes_nothing(account_for, school, class_names):
    teacher = account_for("homeroom_teacher")
    job = ImportJob.objects.create(
        school=school,
        kind="students",
        filename="a.xlsx",
        upload=students_file(valid_rows(class_names, 2, seed=60)),
        created_by=teacher,
    )
    before = counts()
    done = import_jobs.run_job(job_id=job.pk)
    assert done.status == ImportJob.Status.FAILED and "没有权限" in done.errors[0]["reason"]
    assert counts()["students"] == before["students"]


def test_start_import_checks_permission_size_and_type(admin, account_for, school, settings):
    with pytest.raises(NotPermitted):
        import_jobs.start_import(
            actor=account_for("principal"), school_id=school.pk, kind="students", filename="a.xlsx", data=b"PK"
        )
    with pytest.raises(DomainError, match=r"只能上传 \.xlsx"):
        import_jobs.start_import(actor=admin, school_id=school.pk, kind="staff", filename="a.txt", data=b"hello")
    settings.ZHIXIAO_MAX_UPLOAD_BYTES = 3
    with pytest.raises(DomainError, match="文件过大"):
        import_jobs.start_import(actor=admin, school_id=school.pk, kind="staff", filename="a.xlsx", data=b"PK\x03\x04")
    assert not ImportJob.objects.exists()
