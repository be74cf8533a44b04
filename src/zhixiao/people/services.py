"""Write actions on students, guardians and staff: permission-checked, validated, atomic, audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _

from zhixiao.identity import services as identity_services
from zhixiao.kernel import audit, domain_events, permissions, tenancy
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.org import selectors as org_selectors

from .models import Guardian, GuardianLink, Staff, Student, StudentStatus, TeachingAssignment
from .records import RecordErrors, check_guardian, check_staff, check_student

SENSITIVE = {
    "id_number": (permissions.UNMASK_STUDENT, permissions.UNMASK_STAFF),
    "mobile": (None, permissions.UNMASK_STAFF),
    "address": (permissions.UNMASK_STUDENT, None),
}


def _class_in_school(*, actor: Any, school_id: int, class_id: int | None) -> None:
    if class_id is None:
        return
    cls = (
        org_selectors.classes_visible_to(actor=actor, school_id=school_id).filter(pk=class_id).first()
        if actor
        else None
    )
    if actor is not None and cls is None:
        raise DomainError(_("班级不存在或不属于本校"))


@transaction.atomic
def create_student(*, actor: Any, school_id: int, class_id: int | None, data: dict[str, Any]) -> Student:
    """Enrol one student (form or API); the record is checked like an imported row."""
    school = org_selectors.schools_managed_by(actor=actor).filter(pk=school_id).first() if actor else None
    if actor is not None and (school is None or not permissions.has_any(actor, permissions.EDIT_STUDENT)):
        raise NotPermitted(_("没有权限执行此操作"))
    _class_in_school(actor=actor, school_id=school_id, class_id=class_id)
    checked = check_student(data)
    if checked.problems:
        raise RecordErrors(checked.problems)
    if Student.objects.filter(student_no=checked.cleaned["student_no"]).exists():
        raise DomainError(_("学籍号 {no} 已存在").format(no=checked.cleaned["student_no"]))
    try:
        with transaction.atomic():
            student = Student.objects.create(school_id=school_id, admin_class_id=class_id, **checked.cleaned)
    except IntegrityError as exc:
        raise DomainError(_("证件号码已被其他学生使用")) from exc
    audit.record(actor=actor, action="student.create", target=student, changes=audit.diff({}, model_to_dict(student)))
    _students_changed(student)
    return student


def _apply_checked(
    record: Any, *, keep: tuple[str, ...], editable: tuple[str, ...], data: dict[str, Any], check: Any
) -> dict[str, Any]:
    """Merge the editable fields of `data` over the record, check the whole record the way a form or an
    imported row is checked, and set the cleaned values. Returns the record's values before the change."""
    before = model_to_dict(record)
    merged = {k: before.get(k) for k in (*keep, *editable)}
    merged.update({k: v for k, v in data.items() if k in editable})
    checked = check(merged)
    if checked.problems:
        raise RecordErrors(checked.problems)
    for key in editable:
        setattr(record, key, checked.cleaned[key])
    return before


def _students_changed(student: Student) -> None:
    """Tell other domains (the gates) that a student's roster entry changed, inside this transaction."""
    domain_events.publish(domain_events.STUDENTS_CHANGED, school_id=student.school_id, student_ids=[student.pk])


EDITABLE_STUDENT_FIELDS = (
    "name",
    "gender",
    "id_type",
    "id_number",
    "birth_date",
    "ethnicity",
    "household_type",
    "boarding",
    "address",
)


@transaction.atomic
def update_student(*, actor: Any, student_id: int, data: dict[str, Any]) -> Student:
    """Change a student's record (homeroom teacher of the class, or the school's admin)."""
    student = Student.objects.select_for_update().get(pk=student_id)
    permissions.require(actor, permissions.EDIT_STUDENT, student)
    before = _apply_checked(
        student,
        keep=("student_no", "enrolled_on", "status", "status_since"),
        editable=EDITABLE_STUDENT_FIELDS,
        data=data,
        check=check_student,
    )
    try:
        with transaction.atomic():
            student.save()
    except IntegrityError as exc:
        raise DomainError(_("证件号码已被其他学生使用")) from exc
    audit.record(
        actor=actor,
        action="student.update",
        target=student,
        changes=audit.diff(before, model_to_dict(student)),
    )
    _students_changed(student)
    return student


@transaction.atomic
def change_student_status(*, actor: Any, student_id: int, status: str, since: dt.date, note: str = "") -> Student:
    """在读 → 休学 / 转出 / 毕业 (and back to 在读 after 休学), with the date it took effect."""
    student = Student.objects.select_for_update().get(pk=student_id)
    permissions.require(actor, permissions.EDIT_STUDENT, student)
    if status not in StudentStatus.values:
        raise DomainError(_("未知的学籍状态"))
    if status == student.status:
        raise DomainError(_("学籍状态没有变化"))
    if student.status in (StudentStatus.GRADUATED, StudentStatus.TRANSFERRED_OUT) and status == StudentStatus.ENROLLED:
        raise DomainError(_("已毕业或转出的学生不能直接恢复在读，请走转入手续"))
    if since < student.enrolled_on:
        raise DomainError(_("状态日期不能早于入学日期"))
    before = {"status": student.status, "status_since": student.status_since.isoformat()}
    student.status, student.status_since = status, since
    student.save(update_fields=["status", "status_since"])
    audit.record(
        actor=actor,
        action="student.status",
        target=student,
        note=note,
        changes=audit.diff(before, {"status": status, "status_since": since.isoformat()}),
    )
    _students_changed(student)
    return student


@transaction.atomic
def move_student(*, actor: Any, student_id: int, class_id: int) -> Student:
    """Move a student to another class of the same school (分班/调班)."""
    student = Student.objects.select_for_update().get(pk=student_id)
    permissions.require(actor, permissions.EDIT_STUDENT, student)
    if not permissions.has_any(actor, permissions.MANAGE_SCHOOL):
        raise NotPermitted(_("调班需要学校管理员操作"))
    _class_in_school(actor=actor, school_id=student.school_id, class_id=class_id)
    before = {"admin_class": student.admin_class_id}
    student.admin_class_id = class_id
    student.save(update_fields=["admin_class"])
    audit.record(
        actor=actor,
        action="student.move",
        target=student,
        changes=audit.diff(before, {"admin_class": class_id}),
    )
    _students_changed(student)
    return student


@transaction.atomic
def link_guardian(*, actor: Any, student_id: int, data: dict[str, Any], is_primary: bool = False) -> GuardianLink:
    """Add a guardian to a student; an existing guardian (same mobile) is reused, not duplicated."""
    student = Student.objects.select_for_update().get(pk=student_id)
    permissions.require(actor, permissions.EDIT_STUDENT, student)
    checked = check_guardian(data)
    if checked.problems:
        raise RecordErrors(checked.problems)
    g = checked.cleaned
    # A guardian may already be registered by another school; a new one is visible only once linked.
    with tenancy.unscoped():
        guardian = Guardian.objects.filter(mobile=g["mobile"]).first()
        if guardian is None:
            account = identity_services.create_account(
                username=g["mobile"], display_name=g["name"], kind="guardian", mobile=g["mobile"]
            )
            guardian = Guardian.objects.create(name=g["name"], mobile=g["mobile"], account=account)
    if guardian.name != g["name"]:
        raise DomainError(
            _("手机号 {mobile} 已登记为“{name}”，姓名不一致").format(mobile=g["mobile"], name=guardian.name)
        )
    if GuardianLink.objects.filter(student=student, guardian=guardian).exists():
        raise DomainError(_("该监护人已关联此学生"))
    link = GuardianLink.objects.create(
        school_id=student.school_id,
        student=student,
        guardian=guardian,
        relation=g["relation"],
        may_notify=g["may_notify"],
        is_primary=is_primary,
    )
    audit.record(actor=actor, action="guardian.link", target=link, changes={"relation": [None, g["relation"]]})
    return link


@transaction.atomic
def set_guardian_notification(*, actor: Any, link_id: int, may_notify: bool) -> GuardianLink:
    """Whether a guardian is told about this child (a homeroom teacher changes it at the family's request)."""
    link = GuardianLink.objects.select_for_update().select_related("student").get(pk=link_id)
    permissions.require(actor, permissions.EDIT_STUDENT, link.student)
    if link.may_notify != may_notify:
        before = {"may_notify": link.may_notify}
        link.may_notify = may_notify
        link.save(update_fields=["may_notify"])
        audit.record(
            actor=actor,
            action="guardian.notify",
            target=link.student,
            changes=audit.diff(before, {"may_notify": may_notify}),
            note=str(link.guardian_id),
        )
    return link


@transaction.atomic
def create_staff(
    *,
    actor: Any,
    school_id: int,
    data: dict[str, Any],
    department_ids: list[int] | None = None,
    password: str | None = None,
) -> Staff:
    """Add a staff member with an account (login: 工号) that must change its password on first login."""
    if actor is not None and not org_selectors.schools_managed_by(actor=actor).filter(pk=school_id).exists():
        raise NotPermitted(_("没有权限执行此操作"))
    checked = check_staff(data)
    if checked.problems:
        raise RecordErrors(checked.problems)
    s = checked.cleaned
    if Staff.objects.filter(school_id=school_id, staff_no=s["staff_no"]).exists():
        raise DomainError(_("工号 {no} 已存在").format(no=s["staff_no"]))
    account = identity_services.create_account(
        username=s["staff_no"],
        display_name=s["name"],
        kind="staff",
        mobile=s["mobile"] or None,
        password=password,
        must_change_password=True,
    )
    try:
        with transaction.atomic():
            staff = Staff.objects.create(school_id=school_id, account=account, **s)
    except IntegrityError as exc:
        raise DomainError(_("证件号码已被其他教职工使用")) from exc
    if department_ids:
        staff.departments.set(department_ids)
    audit.record(actor=actor, action="staff.create", target=staff, changes=audit.diff({}, model_to_dict(staff)))
    domain_events.publish(domain_events.STAFF_CHANGED, school_id=staff.school_id, staff_ids=[staff.pk])
    return staff


EDITABLE_STAFF_FIELDS = (
    "name",
    "gender",
    "id_type",
    "id_number",
    "birth_date",
    "ethnicity",
    "political_status",
    "mobile",
    "post",
    "title",
    "hired_on",
)


@transaction.atomic
def update_staff(*, actor: Any, staff_id: int, data: dict[str, Any], department_ids: list[int] | None = None) -> Staff:
    """Change a staff member's record and departments; the 工号 (the login) stays."""
    staff = Staff.objects.select_for_update().get(pk=staff_id)
    permissions.require(actor, permissions.EDIT_STAFF, staff)
    before = _apply_checked(staff, keep=("staff_no",), editable=EDITABLE_STAFF_FIELDS, data=data, check=check_staff)
    try:
        with transaction.atomic():
            staff.save()
            if department_ids is not None:
                own = set(
                    org_selectors.departments_of(actor=actor, school_id=staff.school_id).values_list("id", flat=True)
                )
                if not set(department_ids) <= own:
                    raise DomainError(_("处室不属于本校"))
                staff.departments.set(department_ids)
    except IntegrityError as exc:
        raise DomainError(_("证件号码已被其他教职工使用")) from exc
    after = model_to_dict(staff)
    audit.record(actor=actor, action="staff.update", target=staff, changes=audit.diff(before, after))
    domain_events.publish(domain_events.STAFF_CHANGED, school_id=staff.school_id, staff_ids=[staff.pk])
    return staff


def reset_password(*, actor: Any, person: Staff | Student) -> str:
    """IT staff or the school admin give a staff member or a student a temporary password (shown once);
    it must be changed at the next login."""
    permissions.require(actor, permissions.MANAGE_ACCOUNTS, person)
    if person.account is None:
        raise DomainError(_("此人没有账号"))
    return identity_services.set_temporary_password(actor=actor, account=person.account)


@transaction.atomic
def add_teaching_assignment(
    *, actor: Any, term_id: int, staff_id: int, class_id: int, subject_id: int
) -> TeachingAssignment:
    staff = Staff.objects.get(pk=staff_id)
    if actor is not None and not org_selectors.schools_managed_by(actor=actor).filter(pk=staff.school_id).exists():
        raise NotPermitted(_("没有权限执行此操作"))
    # class, subject and term must be the teacher's own school's: a teaching assignment opens the class
    _class_in_school(actor=actor, school_id=staff.school_id, class_id=class_id)
    if actor is not None and not (
        org_selectors.subjects_of(actor=actor, school_id=staff.school_id).filter(pk=subject_id).exists()
        and org_selectors.terms_of(actor=actor, school_id=staff.school_id).filter(pk=term_id).exists()
    ):
        raise DomainError(_("科目或学期不属于本校"))
    try:
        with transaction.atomic():
            ta = TeachingAssignment.objects.create(
                school_id=staff.school_id,
                term_id=term_id,
                staff=staff,
                admin_class_id=class_id,
                subject_id=subject_id,
            )
    except IntegrityError as exc:
        raise DomainError(_("该任课安排已存在")) from exc
    audit.record(actor=actor, action="teaching.create", target=ta)
    return ta


@transaction.atomic
def remove_teaching_assignment(*, actor: Any, assignment_id: int) -> None:
    """The school takes a teacher off a class and subject; her access to the class goes with it."""
    ta = (
        TeachingAssignment.objects.select_for_update()
        .select_related("staff", "admin_class", "subject")
        .get(pk=assignment_id)
    )
    if actor is not None and not org_selectors.schools_managed_by(actor=actor).filter(pk=ta.school_id).exists():
        raise NotPermitted(_("没有权限执行此操作"))
    audit.record(actor=actor, action="teaching.delete", target=ta)
    ta.delete()


def reveal(*, actor: Any, obj: Student | Staff | Guardian, field: str, ip: str = "") -> str:
    """The full value of a masked field, for someone allowed to see it; every reveal is logged."""
    if isinstance(obj, Guardian):
        link = GuardianLink.objects.filter(guardian=obj).select_related("student")
        allowed = any(permissions.can(actor, permissions.UNMASK_STUDENT, lk.student) for lk in link)
    else:
        actions = SENSITIVE.get(field)
        action = None if actions is None else actions[0 if isinstance(obj, Student) else 1]
        allowed = action is not None and permissions.can(actor, action, obj)
    if field not in ("id_number", "mobile", "address") or not allowed:
        raise NotPermitted(_("没有权限查看完整信息"))
    value = str(getattr(obj, field) or "")
    audit.record(
        actor=actor,
        action="sensitive.view",
        target=obj,
        note=field,
        ip=ip,
        school_id=getattr(obj, "school_id", None),
    )
    return value
