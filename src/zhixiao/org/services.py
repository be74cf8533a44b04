"""Write actions on the school structure: permission-checked, validated, atomic and audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DO_NOTHING, Model, ProtectedError
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _

from zhixiao.kernel import audit, codes, identifiers, permissions, tenancy
from zhixiao.kernel.errors import DomainError
from zhixiao.kernel.permissions import Scope

from .models import AdminClass, CalendarDay, Campus, Department, Grade, School, SchoolYear, Stage, Subject, Term

DEFAULT_DEPARTMENTS = ["校长办公室", "教务处", "学生处", "总务处", "信息中心", "德育处", "教科室"]


def _require_manage(actor: Any, school: School) -> None:
    if actor is None:  # system contexts: CLI init, demo builder
        return
    permissions.require(actor, permissions.MANAGE_SCHOOL, school)


def _save(actor: Any, obj: Model, action: str, before: dict[str, Any] | None = None) -> Model:
    """Validate, save and audit one org row inside the caller's transaction."""
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise DomainError("；".join(f"{v}" for msgs in exc.message_dict.values() for v in msgs)) from exc
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise DomainError(_("与已有记录重复或违反约束")) from exc
    after = model_to_dict(obj)
    audit.record(actor=actor, action=action, target=obj, changes=audit.diff(before or {}, after))
    return obj


def _require_unique(model: type[Model], *, school_id: int, exclude_pk: int | None = None, **fields: str) -> None:
    """A clear message for a duplicate name or code in the school (the constraint stays the last word)."""
    for key, value in fields.items():
        rows = model._default_manager.filter(school_id=school_id, **{key: value})
        if exclude_pk is not None:
            rows = rows.exclude(pk=exclude_pk)
        if rows.exists():
            raise DomainError(
                _("本校已有{field}为“{value}”的{kind}").format(
                    field=getattr(model._meta.get_field(key), "verbose_name", key),
                    value=value,
                    kind=model._meta.verbose_name,
                )
            )


def _validate_school_fields(*, code: str, school_type: str, division_code: str) -> str:
    try:
        code = identifiers.validate_school_code(code)
    except ValueError as exc:
        raise DomainError(str(exc)) from exc
    if school_type not in dict(codes.school_type_choices()):
        raise DomainError(_("未知的办学类型代码：{code}").format(code=school_type))
    if division_code not in codes.code_list(codes.DIVISION).by_code:
        raise DomainError(_("未知的行政区划代码：{code}").format(code=division_code))
    return code


@transaction.atomic
def create_school(
    *,
    actor: Any,
    code: str,
    name: str,
    school_type: str,
    division_code: str,
    address: str = "",
    with_default_departments: bool = True,
) -> School:
    """Only a system admin (or the CLI) creates a school; it starts with the usual 处室."""
    if actor is not None and not any(g.scope is Scope.SYSTEM for g in permissions.grants_of(actor)):
        raise permissions.NotPermitted(_("只有系统管理员可以新建学校"))
    code = _validate_school_fields(code=code, school_type=school_type, division_code=division_code)
    with tenancy.unscoped():  # unique nationwide
        taken = School.objects.filter(code=code).exists()
    if taken:
        raise DomainError(_("学校标识码 {code} 已存在").format(code=code))
    school = School(code=code, name=name.strip(), school_type=school_type, division_code=division_code, address=address)
    _save(actor, school, "school.create")
    if with_default_departments:
        for i, dept in enumerate(DEFAULT_DEPARTMENTS):
            _save(actor, Department(school=school, name=dept, sort_order=i), "department.create")
    return school


@transaction.atomic
def update_school(*, actor: Any, school_id: int, **fields: Any) -> School:
    """The school admin corrects the school's details, 学校标识码 included (checked and kept unique)."""
    school = School.objects.select_for_update().get(pk=school_id)
    _require_manage(actor, school)
    before = model_to_dict(school)
    allowed = {"code", "name", "short_name", "school_type", "division_code", "address", "phone"}
    for key, value in fields.items():
        if key not in allowed:
            raise DomainError(_("不能修改字段 {field}").format(field=key))
        setattr(school, key, value.strip() if isinstance(value, str) else value)
    school.code = _validate_school_fields(
        code=school.code, school_type=school.school_type, division_code=school.division_code
    )
    if not school.name:
        raise DomainError(_("请填写学校名称"))
    with tenancy.unscoped():  # 学校标识码 is unique nationwide, not only among the schools one can see
        taken = School.objects.filter(code=school.code).exclude(pk=school.pk).exists()
    if taken:
        raise DomainError(_("学校标识码 {code} 已存在").format(code=school.code))
    _save(actor, school, "school.update", before)
    return school


@transaction.atomic
def add_campus(*, actor: Any, school_id: int, name: str, address: str = "") -> Campus:
    school = School.objects.get(pk=school_id)
    _require_manage(actor, school)
    _require_unique(Campus, school_id=school.pk, name=name.strip())
    return _save(actor, Campus(school=school, name=name.strip(), address=address), "campus.create")  # type: ignore[return-value]


@transaction.atomic
def add_department(*, actor: Any, school_id: int, name: str, sort_order: int = 0) -> Department:
    school = School.objects.get(pk=school_id)
    _require_manage(actor, school)
    _require_unique(Department, school_id=school.pk, name=name.strip())
    dept = Department(school=school, name=name.strip(), sort_order=sort_order)
    return _save(actor, dept, "department.create")  # type: ignore[return-value]


@transaction.atomic
def add_grade(*, actor: Any, school_id: int, stage: str, entry_year: int) -> Grade:
    school = School.objects.get(pk=school_id)
    _require_manage(actor, school)
    if not 1990 <= entry_year <= dt.date.today().year + 1:
        raise DomainError(_("入学年份不合理：{year}").format(year=entry_year))
    if stage not in Stage.values:
        raise DomainError(_("未知的学段：{stage}").format(stage=stage))
    if Grade.objects.filter(school=school, stage=stage, entry_year=entry_year).exists():
        raise DomainError(_("本校已有{stage}{year}级").format(stage=Stage(stage).label, year=entry_year))
    return _save(actor, Grade(school=school, stage=stage, entry_year=entry_year), "grade.create")  # type: ignore[return-value]


@transaction.atomic
def add_class(
    *,
    actor: Any,
    grade_id: int,
    number: int,
    name: str = "",
    homeroom_teacher_id: int | None = None,
    room: str = "",
    campus_id: int | None = None,
) -> AdminClass:
    grade = Grade.objects.select_related("school").get(pk=grade_id)
    _require_manage(actor, grade.school)
    if number < 1 or number > 99:
        raise DomainError(_("班号应在 1–99 之间"))
    if AdminClass.objects.filter(grade=grade, number=number).exists():
        raise DomainError(_("{grade}已有{number}班").format(grade=grade, number=number))
    if campus_id is not None and not Campus.objects.filter(pk=campus_id, school_id=grade.school_id).exists():
        raise DomainError(_("校区不属于本校"))
    if not name:
        from .selectors import current_school_year_start

        name = f"{grade.level_name(current_school_year_start(school_id=grade.school_id))}({number})班"
    cls = AdminClass(
        school=grade.school,
        grade=grade,
        number=number,
        name=name.strip(),
        room=room,
        homeroom_teacher_id=homeroom_teacher_id,
        campus_id=campus_id,
    )
    return _save(actor, cls, "class.create")  # type: ignore[return-value]


@transaction.atomic
def set_homeroom_teacher(*, actor: Any, class_id: int, account_id: int | None) -> AdminClass:
    """The school names (or clears) a class's 班主任; her access to the class follows at once."""
    cls = AdminClass.objects.select_for_update().select_related("school").get(pk=class_id)
    _require_manage(actor, cls.school)
    before = {"homeroom_teacher": cls.homeroom_teacher_id}
    cls.homeroom_teacher_id = account_id
    cls.save(update_fields=["homeroom_teacher"])
    audit.record(
        actor=actor,
        action="class.set_homeroom",
        target=cls,
        changes=audit.diff(before, {"homeroom_teacher": account_id}),
    )
    return cls


@transaction.atomic
def add_subject(*, actor: Any, school_id: int, code: str, name: str) -> Subject:
    school = School.objects.get(pk=school_id)
    _require_manage(actor, school)
    _require_unique(Subject, school_id=school.pk, code=code.strip(), name=name.strip())
    return _save(actor, Subject(school=school, code=code.strip(), name=name.strip()), "subject.create")  # type: ignore[return-value]


@transaction.atomic
def add_school_year(
    *,
    actor: Any,
    school_id: int,
    start_year: int,
    starts_on: dt.date,
    ends_on: dt.date,
    terms: list[tuple[dt.date, dt.date]] | None = None,
    make_current: bool = False,
) -> SchoolYear:
    """A school year with its (usually two) terms; optionally the first term becomes current."""
    school = School.objects.get(pk=school_id)
    _require_manage(actor, school)
    if SchoolYear.objects.filter(school=school, start_year=start_year).exists():
        raise DomainError(_("{year}-{next}学年已存在").format(year=start_year, next=start_year + 1))
    year = SchoolYear(school=school, start_year=start_year, starts_on=starts_on, ends_on=ends_on)
    _save(actor, year, "school_year.create")
    previous_end: dt.date | None = None
    for number, (t_start, t_end) in enumerate(terms or [], start=1):
        if not (starts_on <= t_start < t_end <= ends_on):
            raise DomainError(_("学期日期须在学年之内且结束晚于开始"))
        if previous_end is not None and t_start <= previous_end:
            raise DomainError(_("第二学期须在第一学期结束之后开始"))
        previous_end = t_end
        _save(
            actor,
            Term(school=school, school_year=year, number=number, starts_on=t_start, ends_on=t_end),
            "term.create",
        )
    if make_current and terms:
        first = year.terms.order_by("number").first()
        if first is not None:
            set_current_term(actor=actor, term_id=first.pk)
    return year


@transaction.atomic
def set_current_term(*, actor: Any, term_id: int) -> Term:
    term = Term.objects.select_related("school").get(pk=term_id)
    _require_manage(actor, term.school)
    Term.objects.filter(school=term.school, is_current=True).exclude(pk=term.pk).update(is_current=False)
    term.is_current = True
    term.save(update_fields=["is_current"])
    audit.record(actor=actor, action="term.set_current", target=term)
    return term


@transaction.atomic
def set_calendar_day(
    *, actor: Any, school_id: int, date: dt.date, is_school_day: bool, note: str, follows_weekday: int | None = None
) -> CalendarDay:
    """The school's own day off (or extra school day) on top of the national calendar; an extra day may take
    another weekday's timetable (a Saturday 补课 “按周五课表”)."""
    school = School.objects.get(pk=school_id)
    _require_manage(actor, school)
    if not note.strip():
        raise DomainError(_("请填写说明，例如“运动会”“校庆”"))
    if follows_weekday is not None and not is_school_day:
        raise DomainError(_("放假的日子不上课，不能指定按周几课表"))
    if follows_weekday is not None and not 0 <= follows_weekday <= 6:
        raise DomainError(_("按周几课表应为周一到周日之一"))
    day, _created = CalendarDay.objects.update_or_create(
        school=school,
        date=date,
        defaults={"is_school_day": is_school_day, "note": note.strip()[:100], "follows_weekday": follows_weekday},
    )
    audit.record(
        actor=actor,
        action="calendar.set_day",
        target=day,
        changes={
            "date": [None, date.isoformat()],
            "is_school_day": [None, is_school_day],
            "note": [None, note],
            "follows_weekday": [None, follows_weekday],
        },
    )
    return day


@transaction.atomic
def remove_calendar_day(*, actor: Any, school_id: int, date: dt.date) -> None:
    school = School.objects.get(pk=school_id)
    _require_manage(actor, school)
    deleted, _rows = CalendarDay.objects.filter(school=school, date=date).delete()
    if deleted:
        audit.record(actor=actor, action="calendar.remove_day", school_id=school.pk, note=date.isoformat())


# --- renaming and deleting units ----------------------------------------------------------------------
def _users_of(obj: Model) -> list[str]:
    """Names of the tables (in any app) whose rows still point at `obj`, found through Django's
    reverse relations so that org need not import the domains above it. History tables do not count."""
    found: list[str] = []
    for rel in obj._meta.get_fields(include_hidden=True):
        if not (rel.is_relation and rel.auto_created and not rel.concrete):
            continue
        field = rel.field  # type: ignore[union-attr]
        if rel.many_to_many:
            through = rel.through  # type: ignore[union-attr]
            rows = through._default_manager.filter(**{field.m2m_reverse_field_name(): obj.pk})  # type: ignore[union-attr]
        else:
            if getattr(rel, "on_delete", None) is DO_NOTHING:
                continue
            rows = rel.related_model._default_manager.filter(**{field.name: obj.pk})  # type: ignore[union-attr]
        name = str(rel.related_model._meta.verbose_name)  # type: ignore[union-attr]
        if rows.exists() and name not in found:
            found.append(name)
    return found


def _delete_unused(actor: Any, obj: Model, action: str) -> None:
    """Delete a unit only when nothing refers to it (classes, staff, teaching, roles …)."""
    kind = str(obj._meta.verbose_name)
    users = _users_of(obj)
    if users:
        raise DomainError(_("该{kind}已有{users}，不能删除").format(kind=kind, users="、".join(users)))
    audit.record(actor=actor, action=action, target=obj)
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError as exc:
        raise DomainError(_("该{kind}仍在使用，不能删除").format(kind=kind)) from exc


def _rename(actor: Any, obj: Model, action: str, **fields: str) -> Model:
    before = model_to_dict(obj)
    for key, value in fields.items():
        value = value.strip()
        if not value:
            raise DomainError(_("名称不能为空"))
        setattr(obj, key, value)
    return _save(actor, obj, action, before)


@transaction.atomic
def rename_campus(*, actor: Any, campus_id: int, name: str, address: str | None = None) -> Campus:
    campus = Campus.objects.select_for_update().select_related("school").get(pk=campus_id)
    _require_manage(actor, campus.school)
    if address is not None:
        campus.address = address.strip()
    _require_unique(Campus, school_id=campus.school_id, exclude_pk=campus.pk, name=name.strip())
    return _rename(actor, campus, "campus.update", name=name)  # type: ignore[return-value]


@transaction.atomic
def delete_campus(*, actor: Any, campus_id: int) -> None:
    """A campus goes only when no class is placed on it."""
    campus = Campus.objects.select_for_update().select_related("school").get(pk=campus_id)
    _require_manage(actor, campus.school)
    _delete_unused(actor, campus, "campus.delete")


@transaction.atomic
def rename_department(*, actor: Any, department_id: int, name: str) -> Department:
    dept = Department.objects.select_for_update().select_related("school").get(pk=department_id)
    _require_manage(actor, dept.school)
    _require_unique(Department, school_id=dept.school_id, exclude_pk=dept.pk, name=name.strip())
    return _rename(actor, dept, "department.update", name=name)  # type: ignore[return-value]


@transaction.atomic
def delete_department(*, actor: Any, department_id: int) -> None:
    """A 处室 goes only when it has no staff and no department head."""
    dept = Department.objects.select_for_update().select_related("school").get(pk=department_id)
    _require_manage(actor, dept.school)
    _delete_unused(actor, dept, "department.delete")


@transaction.atomic
def rename_subject(*, actor: Any, subject_id: int, code: str, name: str) -> Subject:
    subject = Subject.objects.select_for_update().select_related("school").get(pk=subject_id)
    _require_manage(actor, subject.school)
    _require_unique(Subject, school_id=subject.school_id, exclude_pk=subject.pk, code=code.strip(), name=name.strip())
    return _rename(actor, subject, "subject.update", code=code, name=name)  # type: ignore[return-value]


@transaction.atomic
def delete_subject(*, actor: Any, subject_id: int) -> None:
    """A subject goes only while no teaching assignment (or score, timetable …) uses it."""
    subject = Subject.objects.select_for_update().select_related("school").get(pk=subject_id)
    _require_manage(actor, subject.school)
    _delete_unused(actor, subject, "subject.delete")
