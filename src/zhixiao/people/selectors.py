"""Reads of students, guardians and staff, always from the actor's scope. Sensitive fields leave here
masked; the full value only through services.reveal (which logs the view)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet

from zhixiao.kernel import permissions
from zhixiao.kernel.permissions import Grant, Role, Scope
from zhixiao.org import selectors as org_selectors

from .models import Guardian, GuardianLink, Staff, StaffStatus, Student, StudentStatus, TeachingAssignment


def people_grants(actor: Any) -> Iterator[Grant]:
    """Grant provider: guardians hold their children, students themselves, teachers their classes."""
    kind = getattr(actor, "kind", None)
    if not getattr(actor, "pk", None):
        return
    if kind == "guardian":
        links = GuardianLink.objects.filter(guardian__account_id=actor.pk).select_related("student")
        for link in links:
            yield Grant(
                role=Role.GUARDIAN,
                scope=Scope.STUDENT,
                key=link.student_id,
                school_id=link.school_id,
                label=link.student.name,
            )
        yield Grant(role=Role.GUARDIAN, scope=Scope.SELF, key=actor.pk)
    elif kind == "student":
        student = Student.objects.filter(account_id=actor.pk).only("id", "school_id", "name").first()
        if student is not None:
            yield Grant(
                role=Role.STUDENT,
                scope=Scope.STUDENT,
                key=student.pk,
                school_id=student.school_id,
                label=student.name,
            )
    elif kind == "staff":
        rows = (
            TeachingAssignment.objects.filter(staff__account_id=actor.pk, term__is_current=True)
            .values_list("admin_class_id", "school_id", "admin_class__name", "subject__name")
            .distinct()
        )
        for class_id, school_id, class_name, subject_name in rows:
            yield Grant(
                role=Role.SUBJECT_TEACHER,
                scope=Scope.CLASS,
                key=class_id,
                school_id=school_id,
                label=f"{class_name} {subject_name}",
            )


def students_visible_to(*, actor: Any, action: str = permissions.VIEW_STUDENT) -> QuerySet[Student]:
    return Student.objects.filter(permissions.scope_q(actor, action, Student))


def search_students(
    *,
    actor: Any,
    q: str = "",
    school_id: int | None = None,
    class_id: int | None = None,
    grade_id: int | None = None,
    status: str | None = None,
    boarding: str | None = None,
) -> QuerySet[Student]:
    """The student list: search by name or 学籍号 (prefix), filter by class, grade, status, boarding."""
    qs = students_visible_to(actor=actor)
    if school_id:
        qs = qs.filter(school_id=school_id)
    if class_id:
        qs = qs.filter(admin_class_id=class_id)
    if grade_id:
        qs = qs.filter(admin_class__grade_id=grade_id)
    if status:
        qs = qs.filter(status=status)
    if boarding:
        qs = qs.filter(boarding=boarding)
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(name__startswith=q) | Q(student_no__startswith=q) | Q(name__contains=q))
    return qs.select_related("admin_class", "school").order_by("admin_class_id", "student_no")


def student_for(*, actor: Any, student_id: int) -> Student | None:
    return (
        students_visible_to(actor=actor)
        .filter(pk=student_id)
        .select_related("admin_class", "admin_class__grade", "school", "account")
        .prefetch_related(Prefetch("guardian_links", queryset=GuardianLink.objects.select_related("guardian")))
        .first()
    )


def class_roster(*, actor: Any, class_id: int) -> QuerySet[Student]:
    """A class's students in 学籍号 order (enrolled and suspended; not those who left)."""
    return (
        students_visible_to(actor=actor)
        .filter(admin_class_id=class_id, status__in=[StudentStatus.ENROLLED, StudentStatus.SUSPENDED])
        .order_by("student_no")
    )


def guardians_of(*, actor: Any, student_id: int) -> QuerySet[GuardianLink]:
    return GuardianLink.objects.filter(
        permissions.scope_q(actor, permissions.VIEW_GUARDIAN, GuardianLink), student_id=student_id
    ).select_related("guardian")


def children_of(*, actor: Any) -> QuerySet[Student]:
    """A guardian's own children (what the guardian home page shows)."""
    return students_visible_to(actor=actor).filter(guardian_links__guardian__account_id=actor.pk).distinct()


def guardians_to_notify(*, student_id: int) -> QuerySet[Guardian]:
    """For other domains (leave, gates): who to tell about a student."""
    return Guardian.objects.filter(links__student_id=student_id, links__may_notify=True)


def staff_visible_to(*, actor: Any, action: str = permissions.VIEW_STAFF) -> QuerySet[Staff]:
    return Staff.objects.filter(permissions.scope_q(actor, action, Staff))


def search_staff(
    *,
    actor: Any,
    q: str = "",
    school_id: int | None = None,
    department_id: int | None = None,
    status: str | None = None,
    post: str | None = None,
) -> QuerySet[Staff]:
    qs = staff_visible_to(actor=actor)
    if school_id:
        qs = qs.filter(school_id=school_id)
    if department_id:
        qs = qs.filter(departments__id=department_id)
    if status:
        qs = qs.filter(status=status)
    if post:
        qs = qs.filter(post=post)
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(staff_no__startswith=q))
    return qs.select_related("school").prefetch_related("departments").order_by("school_id", "staff_no")


def staff_for(*, actor: Any, staff_id: int) -> Staff | None:
    return staff_visible_to(actor=actor).filter(pk=staff_id).select_related("school", "account").first()


def staff_by_account(account_id: int) -> Staff | None:
    return Staff.objects.filter(account_id=account_id).select_related("school").first()


def teaching_of(
    *, actor: Any, staff_id: int | None = None, class_id: int | None = None
) -> QuerySet[TeachingAssignment]:
    qs = TeachingAssignment.objects.filter(permissions.scope_q(actor, permissions.VIEW_CLASS, TeachingAssignment))
    if staff_id:
        qs = qs.filter(staff_id=staff_id)
    if class_id:
        qs = qs.filter(admin_class_id=class_id)
    return qs.select_related("staff", "subject", "admin_class", "term")


def home_school_id(actor: Any) -> int | None:
    """The school an account belongs to, for pages that show one school."""
    for g in permissions.grants_of(actor):
        if g.school_id:
            return g.school_id
    return None


def guardian_link_for(*, actor: Any, guardian_id: int) -> GuardianLink | None:
    """A link through which the actor sees this guardian (None: the guardian is out of scope)."""
    return (
        GuardianLink.objects.filter(
            permissions.scope_q(actor, permissions.VIEW_GUARDIAN, GuardianLink), guardian_id=guardian_id
        )
        .select_related("guardian", "student")
        .first()
    )


def staff_members_of(*, actor: Any, school_id: int) -> QuerySet[Staff]:
    """Serving staff of a school who have an account: the people a homeroom class, a teaching assignment
    or a role can be given to."""
    return (
        staff_visible_to(actor=actor)
        .filter(school_id=school_id, status=StaffStatus.ACTIVE, account__isnull=False)
        .select_related("account")
        .order_by("staff_no")
    )


def teaching_in_term(*, actor: Any, school_id: int, term_id: int) -> QuerySet[TeachingAssignment]:
    """A school's teaching assignments (任课) in one term, class by class."""
    return (
        teaching_of(actor=actor)
        .filter(school_id=school_id, term_id=term_id)
        .order_by(
            "admin_class__grade__stage", "-admin_class__grade__entry_year", "admin_class__number", "subject__code"
        )
    )


def guardian_links_visible_to(*, actor: Any) -> QuerySet[GuardianLink]:
    return GuardianLink.objects.filter(permissions.scope_q(actor, permissions.VIEW_GUARDIAN, GuardianLink))


def enrolment_by_school(*, actor: Any) -> dict[int, dict[str, int]]:
    """Per school the actor sees: enrolled students, boarders, active staff (a bureau's overview)."""
    out: dict[int, dict[str, int]] = {}
    enrolled = Q(status=StudentStatus.ENROLLED)
    for row in (
        students_visible_to(actor=actor)
        .values("school_id")
        .annotate(students=Count("id", filter=enrolled), boarders=Count("id", filter=enrolled & Q(boarding="boarding")))
    ):
        out[row["school_id"]] = {"students": row["students"], "boarders": row["boarders"], "staff": 0}
    for row in staff_visible_to(actor=actor).filter(status="active").values("school_id").annotate(n=Count("id")):
        out.setdefault(row["school_id"], {"students": 0, "boarders": 0, "staff": 0})["staff"] = row["n"]
    return out


def workplace_of(*, account_id: int, school_id: int) -> tuple[list[int], list[int]]:
    """(department ids, class ids) where a staff member works in a school this term: their 处室, and the
    classes they teach or lead as homeroom teacher. Approval steps route by these."""
    staff = Staff.objects.filter(account_id=account_id, school_id=school_id).first()
    if staff is None:
        return [], []
    departments = list(staff.departments.values_list("pk", flat=True))
    classes = set(
        TeachingAssignment.objects.filter(staff=staff, term__is_current=True).values_list("admin_class_id", flat=True)
    )
    classes.update(org_selectors.classes_taught_by_homeroom(account_id).values_list("pk", flat=True))
    return departments, sorted(classes)


def class_of_student(student_id: int) -> int | None:
    return Student.objects.filter(pk=student_id).values_list("admin_class_id", flat=True).first()


def serving_staff_accounts(*, school_id: int, account_ids: Iterable[int]) -> set[int]:
    """Which of these accounts belong to serving staff of the school with an active login."""
    return set(
        Staff.objects.filter(
            school_id=school_id, status=StaffStatus.ACTIVE, account_id__in=list(account_ids), account__is_active=True
        ).values_list("account_id", flat=True)
    )


def staff_account_by_no(*, school_id: int, staff_no: str) -> int | None:
    return (
        Staff.objects.filter(school_id=school_id, staff_no=staff_no, account__isnull=False)
        .values_list("account_id", flat=True)
        .first()
    )


def staff_choices(*, school_id: int) -> list[tuple[int, str]]:
    """(account id, "姓名（工号）") of a school's serving staff, for a person picker."""
    return [
        (account_id, f"{name}（{no}）")
        for account_id, name, no in Staff.objects.filter(
            school_id=school_id, status=StaffStatus.ACTIVE, account__isnull=False
        )
        .order_by("staff_no")
        .values_list("account_id", "name", "staff_no")
    ]


def class_of_student_account(account_id: int) -> int | None:
    """The class of the student who logs in with this account (None for staff and guardians)."""
    return Student.objects.filter(account_id=account_id).values_list("admin_class_id", flat=True).first()


def staff_choices_for(*, account_ids: Iterable[int]) -> dict[int, str]:
    """ "姓名" for staff accounts (falls back to the account's display name for others)."""
    ids = list(account_ids)
    out = {a: n for a, n in Staff.objects.filter(account_id__in=ids).values_list("account_id", "name") if a}
    missing = [i for i in ids if i not in out]
    if missing:
        from zhixiao.identity import selectors as identity_selectors

        out.update(identity_selectors.account_labels(missing))
    return out


def enrolled_student_by_no(*, school_id: int, student_no: str) -> tuple[int, str] | None:
    """(student id, "姓名（班级）") of an enrolled student of the school with this 学籍号, for a form field."""
    row = (
        Student.objects.filter(school_id=school_id, student_no=student_no, status=StudentStatus.ENROLLED)
        .values_list("pk", "name", "admin_class__name")
        .first()
    )
    return (row[0], f"{row[1]}（{row[2]}）") if row else None


# --- for the gates (attendance): the roster as the devices need it, unscoped (a device acts for its school) ---


def gate_students(*, school_id: int, student_ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Students of the school with what a gate decides by (every status: a transferred student is refused)."""
    qs = Student.objects.filter(school_id=school_id)
    if student_ids is not None:
        qs = qs.filter(pk__in=list(student_ids))
    return [
        dict(row)
        for row in qs.values(
            "id",
            "name",
            "student_no",
            "admin_class_id",
            "boarding",
            "status",
            class_name=F("admin_class__name"),
            grade_id=F("admin_class__grade_id"),
        )
    ]


def gate_staff(*, school_id: int, staff_ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
    qs = Staff.objects.filter(school_id=school_id)
    if staff_ids is not None:
        qs = qs.filter(pk__in=list(staff_ids))
    return [dict(row) for row in qs.values("id", "name", "staff_no", "status")]


def guardian_accounts_by_student(student_ids: Iterable[int]) -> dict[int, list[int]]:
    """Accounts of the guardians who receive notices about each student (may_notify, with a login)."""
    out: dict[int, list[int]] = {}
    rows = GuardianLink.objects.filter(
        student_id__in=list(student_ids), may_notify=True, guardian__account__isnull=False
    ).values_list("student_id", "guardian__account_id")
    for student_id, account_id in rows:
        out.setdefault(student_id, []).append(account_id)
    return out


def is_guardian_of(*, account_id: int, student_id: int) -> bool:
    return GuardianLink.objects.filter(guardian__account_id=account_id, student_id=student_id).exists()


def student_of_account(account_id: int) -> Student | None:
    return Student.objects.filter(account_id=account_id).first()


def school_of_student(student_id: int) -> int | None:
    return Student.objects.filter(pk=student_id).values_list("school_id", flat=True).first()


def teaching_rows(*, school_id: int, term_id: int) -> list[tuple[int, str, int]]:
    """For other domains (a timetable plan): (class id, subject name, teacher's account id) of a school's
    teaching assignments in a term, unscoped; the caller has checked its own permission over the school."""
    return list(
        TeachingAssignment.objects.filter(school_id=school_id, term_id=term_id, staff__account__isnull=False)
        .order_by("admin_class_id", "subject__code", "staff__staff_no")
        .values_list("admin_class_id", "subject__name", "staff__account_id")
    )


def enrolled_students_of(*, school_id: int, class_id: int | None = None) -> list[dict[str, Any]]:
    """For other domains (exam papers: pre-printed answer sheets, matching 考号 to students): the enrolled
    students of a school, or of one class, unscoped; the caller has checked its own permission over the school.
    Rows: id, name, student_no, admin_class_id, class_name; by class, then 学籍号."""
    qs = Student.objects.filter(school_id=school_id, status=StudentStatus.ENROLLED)
    if class_id is not None:
        qs = qs.filter(admin_class_id=class_id)
    return [
        dict(row)
        for row in qs.order_by("admin_class__name", "student_no").values(
            "id", "name", "student_no", "admin_class_id", class_name=F("admin_class__name")
        )
    ]
