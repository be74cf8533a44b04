"""The demo: believable schools in 滁州市 (a 高级中学 first), built through the domains' services and
bulk builders. Deterministic for a seed. Prints one login per role."""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import random
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from zhixiao.attendance import services as attendance_services
from zhixiao.identity import services as identity_services
from zhixiao.identity.models import Account
from zhixiao.kernel import audit
from zhixiao.kernel.permissions import Role
from zhixiao.office import services as office_services
from zhixiao.org import services as org_services
from zhixiao.org.models import AdminClass, Department, Grade, School, Stage, Subject
from zhixiao.people import demo as people_demo
from zhixiao.people.models import GuardianLink, Staff, Student

PASSWORD = "Zhixiao@2026"  # noqa: S105 - the published demo password
REGION = "3411"  # 滁州市
COUNTIES = ["341102", "341103", "341122", "341124", "341125", "341126", "341181", "341182"]
SUBJECTS = [
    ("01", "语文"),
    ("02", "数学"),
    ("03", "英语"),
    ("04", "物理"),
    ("05", "化学"),
    ("06", "生物"),
    ("07", "思想政治"),
    ("08", "历史"),
    ("09", "地理"),
    ("10", "信息技术"),
    ("11", "体育与健康"),
    ("12", "音乐"),
    ("13", "美术"),
]
CORE = ["语文", "数学", "英语", "物理", "化学", "生物", "思想政治", "历史", "地理"]
SCHOOL_KINDS = [
    ("342", "高级中学", Stage.SENIOR),
    ("311", "初级中学", Stage.JUNIOR),
    ("341", "完全中学", Stage.SENIOR),
    ("211", "小学", Stage.PRIMARY),
    ("365", "职业高级中学", Stage.VOCATIONAL),
]
CITY_NAMES = ["滁州", "琅琊", "南谯", "来安", "全椒", "定远", "凤阳", "天长", "明光"]
ORDINALS = "一二三四五六七八九十"

# TOTP keys of the demo admin logins (hex for django-otp; printed in base32 for authenticator apps).
_TOTP_HEX = "3132333435363738393031323334353637383930"


@dataclass
class DemoLogin:
    role: str
    username: str
    password: str
    school: str
    scope: str
    totp_secret: str | None = None


def school_year_start(today: dt.date) -> int:
    return today.year if today.month >= 8 else today.year - 1


def build(
    *,
    students: int = 1800,
    schools: int = 1,
    seed: int = 20260901,
    today: dt.date | None = None,
    gates: bool = False,
    timetable: bool = False,
    omr: bool = False,
    exams: bool = False,
) -> list[DemoLogin]:
    """The demo: `gates` adds the first school's devices and the passages of its last school day and today;
    `timetable` a solved and published timetable for the first school; `omr` an exam paper of the first school
    with one class's scans read and marking under way (its subject and homeroom teachers mark, the grade head
    arbitrates); `exams` a published mid-term with scores of the first school's largest grade."""
    today = today or dt.date.today()
    rng = random.Random(seed)
    people = people_demo.DemoPeople(seed, PASSWORD)
    year = school_year_start(today)
    per_school = [students // schools + (1 if i < students % schools else 0) for i in range(schools)]
    logins: list[DemoLogin] = []
    with transaction.atomic():
        admin = identity_services.create_account(
            username="admin",
            display_name="系统管理员",
            kind="system",
            password=PASSWORD,
            must_change_password=False,
        )
        identity_services.grant_role(actor=None, account=admin, role=Role.SYSTEM_ADMIN)
        _totp(admin, 0)
        logins.append(DemoLogin(Role.SYSTEM_ADMIN, "admin", PASSWORD, "", "system", _b32(0)))
        bureau = identity_services.create_account(
            username="bureau",
            display_name="滁州市教育局",
            kind="staff",
            password=PASSWORD,
            must_change_password=False,
        )
        identity_services.grant_role(actor=None, account=bureau, role=Role.BUREAU_OFFICER, region_code=REGION)
        _totp(bureau, 1)
        logins.append(DemoLogin(Role.BUREAU_OFFICER, "bureau", PASSWORD, "", f"region:{REGION}", _b32(1)))
        for index, n_students in enumerate(per_school):
            school_logins = _build_school(index=index, n_students=n_students, year=year, people=people, rng=rng)
            if index < 2:
                logins.extend(school_logins)
        audit.record(actor=None, action="demo.build", note=f"{students} students, {schools} schools, seed {seed}")
        if gates:
            from zhixiao.attendance import demo as gate_demo

            gate_demo.build(school_id=School.objects.order_by("pk").values_list("pk", flat=True)[0], seed=seed)
        if timetable:
            from zhixiao.timetable import demo as timetable_demo

            timetable_demo.build(school_id=School.objects.order_by("pk").values_list("pk", flat=True)[0])
        if omr:
            _omr_demo(logins)
        if exams:
            from zhixiao.academics import demo as exams_demo

            exams_demo.build(school_id=School.objects.order_by("pk").values_list("pk", flat=True)[0], today=today)
    _save_logins(logins)
    return logins


def _omr_demo(logins: list[DemoLogin]) -> None:
    from zhixiao.omr import demo as omr_demo

    first = School.objects.order_by("pk").first()
    assert first is not None
    by_role = {x.role: x.username for x in logins if x.school == first.code}
    roles = (Role.SUBJECT_TEACHER, Role.HOMEROOM_TEACHER, Role.GRADE_HEAD)
    if not all(r in by_role for r in roles):
        return
    a, b, head = (Account.objects.get(username=by_role[r]) for r in roles)
    omr_demo.build(school_id=first.pk, markers=[a, b], head_marker=head)


def _b32(i: int) -> str:
    return base64.b32encode(bytes.fromhex(_key_hex(i))).decode()


def _key_hex(i: int) -> str:
    return _TOTP_HEX[:-2] + f"{i:02x}"


def _totp(account: Account, i: int) -> None:
    identity_services.set_totp_secret(account=account, secret_hex=_key_hex(i))


def _build_school(
    *, index: int, n_students: int, year: int, people: people_demo.DemoPeople, rng: random.Random
) -> list[DemoLogin]:
    type_code, kind_name, stage = SCHOOL_KINDS[0] if index == 0 else SCHOOL_KINDS[index % len(SCHOOL_KINDS)]
    county = COUNTIES[index % len(COUNTIES)]
    ordinal = ORDINALS[index // len(CITY_NAMES) % 10]
    name = f"{CITY_NAMES[index % len(CITY_NAMES)]}市第{ordinal}{kind_name}" if index else "滁州市第一高级中学"
    code = f"31{county[2:]}{index + 1:04d}"[:10]
    school = org_services.create_school(
        actor=None,
        code=code,
        name=name,
        school_type=type_code,
        division_code=county,
        address=f"安徽省滁州市{name}路{index + 1}号",
    )
    org_services.add_campus(actor=None, school_id=school.pk, name="主校区")
    for subject_code, subject_name in SUBJECTS:
        org_services.add_subject(actor=None, school_id=school.pk, code=subject_code, name=subject_name)
    sy = org_services.add_school_year(
        actor=None,
        school_id=school.pk,
        start_year=year,
        starts_on=dt.date(year, 8, 25),
        ends_on=dt.date(year + 1, 8, 24),
        terms=[(dt.date(year, 9, 1), dt.date(year + 1, 1, 23)), (dt.date(year + 1, 2, 22), dt.date(year + 1, 7, 10))],
        make_current=True,
    )
    term = sy.terms.get(number=1)
    org_services.set_calendar_day(
        actor=None, school_id=school.pk, date=dt.date(year, 10, 30), is_school_day=False, note="秋季运动会"
    )
    org_services.set_calendar_day(
        actor=None, school_id=school.pk, date=dt.date(year, 12, 30), is_school_day=False, note="元旦文艺汇演"
    )
    years = 3 if stage != Stage.PRIMARY else 6
    per_grade = max(1, n_students // years)
    class_count = max(1, round(per_grade / 50))
    size = max(1, math.ceil(per_grade / class_count))
    departments = list(Department.objects.filter(school=school).values_list("id", flat=True))
    n_staff = max(12, int(class_count * years * 3.7) + 14)
    prefix = f"{index + 1:02d}"
    staff = people.staff(school_id=school.pk, prefix=prefix, count=n_staff, division=county, department_ids=departments)
    staff_iter = iter(staff)
    subjects = {s.name: s.pk for s in Subject.objects.filter(school=school)}
    specs: list[people_demo.ClassSpec] = []
    teaching: list[tuple[int, int, int, int, int]] = []
    remaining = n_students
    first_class_of_grade: dict[int, AdminClass] = {}
    for g in range(years):
        entry = year - g
        grade = org_services.add_grade(actor=None, school_id=school.pk, stage=stage, entry_year=entry)
        grade_classes = []
        for number in range(1, class_count + 1):
            homeroom = next(staff_iter)
            cls = org_services.add_class(
                actor=None,
                grade_id=grade.pk,
                number=number,
                homeroom_teacher_id=homeroom.account_id,
                room=f"{g + 1}号楼{number:02d}0室",
            )
            grade_classes.append(cls)
            this_size = min(size, remaining)
            remaining -= this_size
            specs.append(
                people_demo.ClassSpec(cls.pk, school.pk, entry, this_size, 0.4 if stage != Stage.PRIMARY else 0.0)
            )
        first_class_of_grade[grade.pk] = grade_classes[0]
        # each core subject: one teacher per three classes of the grade
        for subject_name in CORE:
            for start in range(0, len(grade_classes), 3):
                teacher = next(staff_iter, None) or rng.choice(staff)
                for cls in grade_classes[start : start + 3]:
                    teaching.append((school.pk, term.pk, teacher.pk, cls.pk, subjects[subject_name]))
    people.teaching(iter(teaching))
    people.students(specs, COUNTIES[:3], dt.date.today())
    return _school_logins(school, staff, specs)


def _school_logins(school: School, staff: list[Staff], specs: list[people_demo.ClassSpec]) -> list[DemoLogin]:
    """One staff member per explicit role, and a homeroom teacher, subject teacher, guardian and student."""
    logins: list[DemoLogin] = []
    by_account = {s.account_id: s for s in staff}
    cls = AdminClass.objects.select_related("grade").get(pk=specs[0].id)
    homeroom = by_account[cls.homeroom_teacher_id]
    logins.append(DemoLogin(Role.HOMEROOM_TEACHER, homeroom.staff_no, PASSWORD, school.code, f"class:{cls.name}"))
    from zhixiao.people.models import TeachingAssignment

    subject_ta = (
        TeachingAssignment.objects.filter(school=school)
        .exclude(admin_class=cls)
        .exclude(staff__account_id__in=AdminClass.objects.filter(school=school).values("homeroom_teacher_id"))
        .select_related("staff", "admin_class", "subject")
        .first()
    )
    if subject_ta:
        logins.append(
            DemoLogin(
                Role.SUBJECT_TEACHER,
                subject_ta.staff.staff_no,
                PASSWORD,
                school.code,
                f"class:{subject_ta.admin_class.name}:{subject_ta.subject.name}",
            )
        )
    teaching_accounts = set(
        TeachingAssignment.objects.filter(school=school).values_list("staff__account_id", flat=True)
    )
    homerooms = set(AdminClass.objects.filter(school=school).values_list("homeroom_teacher_id", flat=True))
    free = iter(
        [s for s in staff if s.account_id not in teaching_accounts and s.account_id not in homerooms] + staff[-8:]
    )
    explicit = [
        (Role.SCHOOL_ADMIN, {"school_id": school.pk}, "信息中心", f"school:{school.code}"),
        (Role.PRINCIPAL, {"school_id": school.pk}, "校长办公室", f"school:{school.code}"),
        (Role.DEPARTMENT_HEAD, {"school_id": school.pk}, "教务处", "department:教务处"),
        (Role.GRADE_HEAD, {"school_id": school.pk, "grade_id": cls.grade_id}, "教务处", f"grade:{cls.grade}"),
        (Role.GUARD, {"school_id": school.pk}, "总务处", f"school:{school.code}"),
        (Role.CANTEEN_STAFF, {"school_id": school.pk}, "总务处", f"school:{school.code}"),
        (Role.IT_STAFF, {"school_id": school.pk}, "信息中心", f"school:{school.code}"),
    ]
    for n, (role, scope_kwargs, dept_name, scope) in enumerate(explicit):
        member = next(free)
        account = Account.objects.get(pk=int(member.account_id or 0))
        dept = Department.objects.get(school=school, name=dept_name)
        if role == Role.DEPARTMENT_HEAD:
            scope_kwargs = {**scope_kwargs, "department_id": dept.pk}
        identity_services.grant_role(actor=None, account=account, role=role, **scope_kwargs)  # type: ignore[arg-type]
        member.departments.set([dept.pk])
        totp = None
        if role in (Role.SCHOOL_ADMIN, Role.PRINCIPAL, Role.IT_STAFF):
            key = 10 + school.pk * 3 + n
            _totp(account, key)
            totp = _b32(key)
        logins.append(DemoLogin(role, member.staff_no, PASSWORD, school.code, scope, totp))
    student = Student.objects.filter(admin_class=cls).order_by("student_no").first()
    if student is None or student.account is None:
        raise RuntimeError("demo: the first class has no student")
    _appoint_heads(school, staff, keep_plain={subject_ta.staff.account_id} if subject_ta else set())
    office_services.install_default_flows(school_id=school.pk)
    attendance_services.setup_school(school_id=school.pk)
    logins.append(DemoLogin(Role.STUDENT, student.account.username, PASSWORD, school.code, f"student:{student.name}"))
    link = GuardianLink.objects.filter(student=student).select_related("guardian__account").first()
    if link is None or link.guardian.account is None:
        raise RuntimeError("demo: the first student has no guardian")
    logins.append(
        DemoLogin(Role.GUARDIAN, link.guardian.account.username, PASSWORD, school.code, f"student:{student.name}")
    )
    return logins


def _appoint_heads(school: School, staff: list[Staff], keep_plain: set[int | None]) -> None:
    """As in a real school: a grade head (年级组长, a teacher of that grade) for every grade, and heads of
    总务处, 信息中心, 校长办公室 and 学生处, so the office's and the leave flows route to people rather than
    to the fallback."""
    from zhixiao.identity.models import RoleAssignment
    from zhixiao.people.models import TeachingAssignment

    taken: set[int | None] = set(RoleAssignment.objects.filter(school=school).values_list("account_id", flat=True))
    taken |= keep_plain
    homerooms = set(AdminClass.objects.filter(school=school).values_list("homeroom_teacher_id", flat=True))
    headed = set(RoleAssignment.objects.filter(school=school, role=Role.GRADE_HEAD).values_list("grade_id", flat=True))
    for grade_id in Grade.objects.filter(school=school).exclude(pk__in=headed).values_list("pk", flat=True):
        teacher = (
            TeachingAssignment.objects.filter(school=school, admin_class__grade_id=grade_id)
            .exclude(staff__account_id__in=taken | homerooms)
            .select_related("staff__account")
            .first()
        )
        if teacher is not None and teacher.staff.account is not None:
            identity_services.grant_role(
                actor=None, account=teacher.staff.account, role=Role.GRADE_HEAD, school_id=school.pk, grade_id=grade_id
            )
            taken.add(teacher.staff.account.pk)
    spare = iter([s for s in reversed(staff) if s.account_id not in taken | homerooms])
    for dept_name in ("总务处", "信息中心", "校长办公室", "学生处"):
        dept = Department.objects.get(school=school, name=dept_name)
        if RoleAssignment.objects.filter(school=school, role=Role.DEPARTMENT_HEAD, department=dept).exists():
            continue
        member = next(spare, None)
        if member is None or member.account_id is None:
            continue
        account = Account.objects.get(pk=member.account_id)
        identity_services.grant_role(
            actor=None, account=account, role=Role.DEPARTMENT_HEAD, school_id=school.pk, department_id=dept.pk
        )
        member.departments.add(dept.pk)
        taken.add(int(member.account_id))


def _logins_file() -> Any:
    return settings.DATA_DIR / "demo-logins.json"


def _save_logins(logins: list[DemoLogin]) -> None:
    try:
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        _logins_file().write_text(as_json(logins))
    except OSError:
        pass


def saved_logins() -> list[dict[str, Any]]:
    path = _logins_file()
    return json.loads(path.read_text()) if path.exists() else []


def as_json(logins: list[DemoLogin]) -> str:
    out = []
    for login in logins:
        row = asdict(login)
        if row["totp_secret"] is None:
            row.pop("totp_secret")
        out.append(row)
    return json.dumps(out, ensure_ascii=False, indent=1)


def has_data() -> bool:
    return School.objects.exists()


__all__ = ["Grade", "build"]
