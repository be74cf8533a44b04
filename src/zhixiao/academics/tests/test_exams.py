"""Exams, score entry and import, locking and publishing, the analysis on the database against the engine, and
the rank policy (who sees which scores and ranks)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from django.test import Client

from zhixiao.academics import selectors, services
from zhixiao.academics.engine.analysis import Lines, analyse
from zhixiao.academics.engine.scores import check_scores
from zhixiao.academics.models import ExamStatus, Score
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.kernel.models import AuditRecord

from .helpers import make_exam, workbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def teacher(account_for: Any) -> Any:
    return account_for("homeroom_teacher")


@pytest.fixture
def exam(teacher: Any) -> Any:
    return make_exam(teacher)


def _fill(exam: Any) -> None:
    """Every student a score in each subject (deterministic), one absent, one cheating."""
    subjects = list(exam.subjects.all())
    rows = list(exam.students.order_by("student_no"))
    for i, st in enumerate(rows):
        for j, sub in enumerate(subjects):
            text = str((i * 37 + j * 11) % 150)
            if i == 0 and j == 0:
                text = "缺"
            if i == 1 and j == 1:
                text = "弊"
            services.enter_score(actor=None, exam_student_id=st.pk, exam_subject_id=sub.pk, text=text)


# --- creating and entering ------------------------------------------------------------------------------------


def test_exam_of_a_grade_takes_its_classes_enrolled_students(exam, teacher):
    from zhixiao.people import selectors as people_selectors

    grade_classes = {s.class_id for s in exam.students.all()}
    assert exam.status == ExamStatus.DRAFT and exam.grade_name
    assert len(grade_classes) >= 1
    enrolled = [
        r
        for r in people_selectors.enrolled_students_of(school_id=exam.school_id)
        if r["admin_class_id"] in grade_classes
    ]
    assert exam.students.count() == len(enrolled)
    assert AuditRecord.objects.filter(action="exam.create", target_id=str(exam.pk)).exists()


def test_only_managers_create_exams(teacher, account_for):
    with pytest.raises(NotPermitted):
        services.create_exam(
            actor=account_for("subject_teacher"),
            school_id=exam_school(teacher),
            name="x",
            kind="midterm",
            grade_id=0,
            date=__import__("datetime").date(2026, 1, 1),
            subjects=[services.SubjectSpec("语文", Decimal(150))],
        )


def exam_school(teacher: Any) -> int:
    from zhixiao.org.models import AdminClass

    return AdminClass.objects.get(homeroom_teacher=teacher).school_id


@pytest.mark.parametrize(
    ("text", "error"),
    [("151", "超过满分"), ("-1", "负数"), ("abc", "不是分数"), ("9.25", "一位小数")],
)
def test_a_bad_score_is_refused_with_a_chinese_reason(exam, text, error):
    st, sub = exam.students.first(), exam.subjects.first()
    with pytest.raises(services.ScoreErrors) as caught:
        services.enter_score(actor=None, exam_student_id=st.pk, exam_subject_id=sub.pk, text=text)
    assert error in caught.value.errors[0]
    assert not Score.objects.filter(exam=exam).exists()


def test_codes_and_changes_are_saved_and_audited(exam):
    st, sub = exam.students.first(), exam.subjects.first()
    services.enter_score(actor=None, exam_student_id=st.pk, exam_subject_id=sub.pk, text="120.5")
    row = services.enter_score(actor=None, exam_student_id=st.pk, exam_subject_id=sub.pk, text="缺")
    assert row is not None and row.status == "absent" and row.value is None and row.text == "缺"
    assert services.enter_score(actor=None, exam_student_id=st.pk, exam_subject_id=sub.pk, text="") is None
    assert AuditRecord.objects.filter(action="score.enter").count() == 3
    exam.refresh_from_db()
    assert exam.status == ExamStatus.ENTERING


def test_subject_teacher_enters_only_in_his_classes(exam, account_for):
    teacher = account_for("subject_teacher")
    mine = selectors.students_entered_by(actor=teacher, exam=exam)
    sub = exam.subjects.first()
    others = exam.students.exclude(pk__in=mine.values("pk"))
    if mine.exists():
        services.enter_score(actor=teacher, exam_student_id=mine.first().pk, exam_subject_id=sub.pk, text="99")
    if others.exists():
        with pytest.raises(NotPermitted):
            services.enter_score(actor=teacher, exam_student_id=others.first().pk, exam_subject_id=sub.pk, text="99")
    guardian = account_for("guardian")
    with pytest.raises(NotPermitted):
        services.enter_score(actor=guardian, exam_student_id=exam.students.first().pk, exam_subject_id=sub.pk, text="1")


def test_a_locked_exam_refuses_scores_until_unlocked_and_publish_needs_a_lock(exam, account_for):
    head = account_for("department_head")
    st, sub = exam.students.first(), exam.subjects.first()
    with pytest.raises(DomainError):
        services.publish_exam(actor=head, exam_id=exam.pk)
    services.lock_exam(actor=head, exam_id=exam.pk)
    with pytest.raises(DomainError, match="锁定"):
        services.enter_score(actor=None, exam_student_id=st.pk, exam_subject_id=sub.pk, text="1")
    with pytest.raises(DomainError):
        services.import_scores(actor=head, exam_id=exam.pk, data=workbook([["考号"], ["1"]]))
    services.unlock_exam(actor=head, exam_id=exam.pk)
    services.enter_score(actor=None, exam_student_id=st.pk, exam_subject_id=sub.pk, text="1")
    services.lock_exam(actor=head, exam_id=exam.pk)
    assert services.publish_exam(actor=head, exam_id=exam.pk).status == ExamStatus.PUBLISHED
    with pytest.raises(NotPermitted):
        services.unlock_exam(actor=account_for("homeroom_teacher"), exam_id=exam.pk)
    assert AuditRecord.objects.filter(action="exam.publish", target_id=str(exam.pk)).exists()


# --- import ---------------------------------------------------------------------------------------------------


def _sheet(exam: Any) -> list[list[Any]]:
    students = list(exam.students.order_by("student_no")[:3])
    return [["考号", "姓名", "语文", "数学"], *[[s.student_no, s.name, 100, 90.5] for s in students]]


def test_import_writes_every_cell_of_a_good_sheet(exam):
    summary = services.import_scores(actor=None, exam_id=exam.pk, data=workbook(_sheet(exam)))
    assert summary == {"written": 6, "replaced": 0, "students": 3}
    assert sorted(str(s.value) for s in Score.objects.filter(exam=exam)) == ["100.0"] * 3 + ["90.5"] * 3


def test_import_of_the_long_format(exam):
    s = exam.students.order_by("student_no").first()
    rows = [["学校", "班级", "考号", "科目", "分数", "满分"], ["x", s.class_name, s.student_no, "语文", "缺考", 150]]
    assert services.import_scores(actor=None, exam_id=exam.pk, data=workbook(rows))["written"] == 1
    assert Score.objects.get(exam=exam).status == "absent"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda rows: rows[1].__setitem__(2, 151), "第 2 行“语文”列：分数 151 超过满分 150"),
        (lambda rows: rows[2].__setitem__(3, -3), "第 3 行“数学”列：分数 -3 是负数"),
        (lambda rows: rows[3].__setitem__(2, "九十"), "第 4 行“语文”列：“九十”不是分数"),
        (lambda rows: rows.append(list(rows[1])), "与第 2 行重复"),
        (lambda rows: rows.append(["9999999999", "", 1, 1]), "9999999999 不是本次考试的考生"),
        (lambda rows: rows[0].append("物理"), "第 1 行“物理”列：不是本次考试的科目"),
    ],
)
def test_import_with_one_bad_cell_writes_nothing(exam, change, message):
    services.enter_score(
        actor=None, exam_student_id=exam.students.first().pk, exam_subject_id=exam.subjects.first().pk, text="7"
    )
    rows = _sheet(exam)
    change(rows)
    with pytest.raises(services.ScoreErrors) as caught:
        services.import_scores(actor=None, exam_id=exam.pk, data=workbook(rows))
    assert any(message in e for e in caught.value.errors), caught.value.errors
    assert Score.objects.filter(exam=exam).count() == 1


# --- the analysis on the database -------------------------------------------------------------------------------


def test_figures_on_the_database_equal_the_engines_on_the_same_data(exam):
    _fill(exam)
    result = selectors.analysis(exam)
    assert result is not None
    rows = []
    for sc in Score.objects.filter(exam=exam).select_related("exam_student", "exam_subject"):
        rows.append(
            {
                "学校": "s",
                "班级": sc.exam_student.class_name,
                "考号": sc.exam_student.student_no,
                "科目": sc.exam_subject.subject,
                "分数": {"absent": "缺考", "cheating": "作弊", "exempt": "免考"}.get(sc.status, str(sc.value)),
                "满分": "150",
            }
        )
    expected = analyse(check_scores(pl.DataFrame(rows)), Lines())
    cols = ["subject", "level", "key", "count", "mean", "median", "std", "max", "min", "pass_rate"]
    got = result.stats.filter(pl.col("level") != "school").select(cols).sort("subject", "level", "key")
    want = expected.stats.filter(pl.col("level") != "school").select(cols).sort("subject", "level", "key")
    assert got.equals(want)
    n = exam.students.count()
    assert result.students.height == n
    assert result.stats.filter((pl.col("subject") == "语文") & (pl.col("level") == "all"))["count"][0] == n - 1


def test_a_subject_with_its_own_lines_is_figured_at_them(exam):
    _fill(exam)
    sub = exam.subjects.get(subject="数学")
    services.update_subject(actor=None, exam_subject_id=sub.pk, full_marks="150", excellent="50", passing="10", low="5")
    result = selectors.analysis(exam)
    math = result.stats.filter((pl.col("subject") == "数学") & (pl.col("level") == "all")).to_dicts()[0]
    chinese = result.stats.filter((pl.col("subject") == "语文") & (pl.col("level") == "all")).to_dicts()[0]
    assert math["pass_rate"] > chinese["pass_rate"]


def test_full_marks_cannot_drop_below_a_score(exam):
    st, sub = exam.students.first(), exam.subjects.first()
    services.enter_score(actor=None, exam_student_id=st.pk, exam_subject_id=sub.pk, text="140")
    with pytest.raises(DomainError, match="高于 120"):
        services.update_subject(actor=None, exam_subject_id=sub.pk, full_marks="120", excellent=85, passing=60, low=40)


# --- the rank policy --------------------------------------------------------------------------------------------


def _child_and_exam(account_for: Any) -> tuple[Any, Any]:
    from zhixiao.people.models import Student

    child = Student.objects.get(account=account_for("student"))
    teacher = account_for("homeroom_teacher")
    from zhixiao.org.models import AdminClass

    klass = child.admin_class
    assert klass is not None
    exam = make_exam(AdminClass.objects.get(pk=klass.pk).homeroom_teacher or teacher)
    _fill(exam)
    mine = exam.students.get(student_id=child.pk)
    for sub in exam.subjects.all():  # the child sat every subject (so he has a total and ranks)
        services.enter_score(actor=None, exam_student_id=mine.pk, exam_subject_id=sub.pk, text="130")
    return child, exam


@pytest.mark.parametrize(
    ("role", "sees_all", "sees_none"),
    [
        ("school_admin", True, False),
        ("department_head", True, False),
        ("principal", True, False),
        ("homeroom_teacher", False, False),
        ("guardian", False, True),
        ("student", False, True),
        ("guard", False, True),
        ("canteen_staff", False, True),
        ("it_staff", False, True),
    ],
)
def test_who_reads_students_scores_and_ranks(account_for, role, sees_all, sees_none):
    _child, exam = _child_and_exam(account_for)
    seen = selectors.students_seen_by(actor=account_for(role), exam=exam)
    if sees_all:
        assert seen.count() == exam.students.count()
    elif sees_none:
        assert not seen.exists()
    else:
        from zhixiao.org.models import AdminClass

        own = set(AdminClass.objects.filter(homeroom_teacher=account_for(role)).values_list("pk", flat=True))
        assert seen.exists() and {s.class_id for s in seen} <= own


def test_families_see_only_the_childs_published_scores_with_bands_and_no_rank(account_for):
    child, exam = _child_and_exam(account_for)
    for role in ("guardian", "student"):
        assert selectors.my_results(actor=account_for(role)) == []  # not published yet
    head = account_for("department_head")
    services.lock_exam(actor=head, exam_id=exam.pk)
    services.publish_exam(actor=head, exam_id=exam.pk)
    for role in ("guardian", "student"):
        results = selectors.my_results(actor=account_for(role))
        assert [r["student"].student_id for r in results] == [child.pk]
        assert results[0]["ranks"] is None
        assert {row["band"] for row in results[0]["rows"]} <= {"优秀", "良好", "及格", "待及格", ""}
    client = Client()
    client.force_login(account_for("guardian"))
    html = client.get("/exams/mine/").content.decode()
    assert exam.name in html and "名" not in html.split("等级")[-1].split("</section>")[0].replace("姓名", "")
    others = exam.students.exclude(student_id=child.pk).values_list("name", flat=True)
    assert not any(f">{name}<" in html or f"{name} ·" in html for name in others)
    services.set_ranks_for_families(actor=head, exam_id=exam.pk, allowed=True)
    results = selectors.my_results(actor=account_for("guardian"))
    assert results[0]["ranks"]["class"] >= 1
    assert "年级第" in client.get("/exams/mine/").content.decode()


def test_families_cannot_open_staff_pages_of_an_exam(account_for):
    _child, exam = _child_and_exam(account_for)
    for role in ("guardian", "student"):
        client = Client()
        client.force_login(account_for(role))
        for url in ("/exams/", f"/exams/{exam.pk}/", f"/exams/{exam.pk}/analysis/", f"/exams/{exam.pk}/grid/"):
            assert client.get(url).status_code in (403, 404), (role, url)


# --- pages ------------------------------------------------------------------------------------------------------


def test_pages_for_the_head_of_academic_affairs(account_for, exam):
    _fill(exam)
    client = Client()
    client.force_login(account_for("department_head"))
    assert "期中考试" in client.get("/exams/").content.decode()
    assert client.get("/exams/new/").status_code == 200
    assert "score-grid" in client.get(f"/exams/{exam.pk}/grid/").content.decode()
    html = client.get(f"/exams/{exam.pk}/analysis/").content.decode()
    assert 'id="chart-means"' in html and 'id="chart-bands"' in html and 'id="one-point"' in html
    assert "年级排名" in html
    assert client.get(f"/exams/{exam.pk}/analysis/?subject=数学").status_code == 200
    export = client.get(f"/exams/{exam.pk}/analysis.xlsx")
    assert export.status_code == 200 and export.content.startswith(b"PK")
    template = client.get(f"/exams/{exam.pk}/template.xlsx")
    from zhixiao.kernel.spreadsheets import read_rows

    rows = read_rows(template.content, max_rows=5000)
    assert rows[0][:3] == ["考号", "姓名", "班级"] and len(rows) == exam.students.count() + 1


def test_the_cell_endpoint_answers_json(account_for, exam):
    client = Client()
    client.force_login(account_for("department_head"))
    st, sub = exam.students.first(), exam.subjects.first()
    ok = client.post(f"/exams/{exam.pk}/cell/", {"student": st.pk, "subject": sub.pk, "value": "88"})
    assert ok.json() == {"ok": True, "value": "88"}
    bad = client.post(f"/exams/{exam.pk}/cell/", {"student": st.pk, "subject": sub.pk, "value": "188"})
    assert bad.status_code == 400 and "超过满分" in bad.json()["error"]


def test_create_exam_through_the_form(account_for, teacher):
    from zhixiao.org.models import AdminClass

    client = Client()
    client.force_login(account_for("department_head"))
    klass = AdminClass.objects.get(homeroom_teacher=teacher)
    response = client.post(
        "/exams/new/",
        {
            "name": "月考",
            "kind": "monthly",
            "grade": klass.grade_id,
            "date": "2026-10-08",
            "subject": ["语文"],
            "full_语文": "120",
        },
    )
    assert response.status_code == 302
    bad = client.post("/exams/new/", {"name": "", "kind": "monthly", "grade": klass.grade_id, "date": "2026-10-08"})
    assert bad.status_code == 400 and "请填写考试名称" in bad.content.decode()


# --- printable reports ------------------------------------------------------------------------------------------


def _pdf_text(data: bytes) -> str:
    import subprocess

    assert data.startswith(b"%PDF")
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def test_staff_print_class_and_grade_reports_within_what_they_may_read(account_for, exam):
    _fill(exam)
    head = Client()
    head.force_login(account_for("department_head"))
    klass = exam.students.order_by("class_name").first()
    html = head.get(f"/exams/{exam.pk}/analysis/").content.decode()
    assert 'id="grade-pdf"' in html and 'id="class-pdf"' in html
    response = head.get(f"/exams/{exam.pk}/class.pdf?class={klass.class_id}")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert klass.class_name in text and "班级名次" in text and klass.student_no in text
    grade = head.get(f"/exams/{exam.pk}/grade.pdf")
    assert grade.status_code == 200 and "年级成绩分析" in _pdf_text(grade.content)
    # the homeroom teacher reads his class only: his class's report, not the grade's
    teacher = Client()
    teacher.force_login(account_for("homeroom_teacher"))
    seen = selectors.classes_of(selectors.students_seen_by(actor=account_for("homeroom_teacher"), exam=exam))
    own = exam.students.filter(class_id__in=[c["id"] for c in seen]).first()
    assert own is not None
    assert teacher.get(f"/exams/{exam.pk}/class.pdf?class={own.class_id}").status_code == 200
    assert teacher.get(f"/exams/{exam.pk}/class.pdf?class=999999").status_code == 404  # not a class he reads
    family = Client()
    family.force_login(account_for("guardian"))
    for url in (f"/exams/{exam.pk}/class.pdf?class={own.class_id}", f"/exams/{exam.pk}/grade.pdf"):
        assert family.get(url).status_code in (403, 404)


def test_a_family_downloads_its_own_report_card_without_rank_unless_allowed(account_for):
    child, exam = _child_and_exam(account_for)
    mine = exam.students.get(student_id=child.pk)
    other = exam.students.exclude(pk=mine.pk).first()
    guardian = Client()
    guardian.force_login(account_for("guardian"))
    assert guardian.get(f"/exams/cards/{mine.pk}.pdf").status_code == 404  # not published yet
    head = account_for("department_head")
    services.lock_exam(actor=head, exam_id=exam.pk)
    services.publish_exam(actor=head, exam_id=exam.pk)
    assert f"/exams/cards/{mine.pk}.pdf" in guardian.get("/exams/mine/").content.decode()
    card = guardian.get(f"/exams/cards/{mine.pk}.pdf")
    assert card.status_code == 200
    text = _pdf_text(card.content)
    assert mine.name in text and "名次" not in text and "按规定不公布学生排名" in text
    assert guardian.get(f"/exams/cards/{other.pk}.pdf").status_code == 404  # never another child's
    services.set_ranks_for_families(actor=head, exam_id=exam.pk, allowed=True)
    assert "班级名次" in _pdf_text(guardian.get(f"/exams/cards/{mine.pk}.pdf").content)
