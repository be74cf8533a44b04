"""/api/v1/students, /classes/{id}/students, /staff: scoped exactly as the pages are."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from zhixiao.kernel import permissions
from zhixiao.kernel.api import PageNumber, RowId, request_actor
from zhixiao.org import selectors as org_selectors

from . import presenters, selectors, services

router = Router(tags=["people"])
PAGE_SIZE = 50


class StudentOut(Schema):
    id: int
    student_no: str
    name: str
    gender: str
    id_type: str
    id_number: str
    birth_date: str
    ethnicity: str
    household_type: str
    boarding: str
    class_id: int | None
    class_name: str
    school_code: str
    status: str
    status_since: str
    address: str


class GuardianOut(Schema):
    id: int
    name: str
    relation: str
    mobile: str
    may_notify: bool


class StudentDetailOut(StudentOut):
    guardians: list[GuardianOut]


class StudentPage(Schema):
    count: int
    page: int
    pages: int
    results: list[StudentOut]


class StudentFilters(Schema):
    q: str = ""
    class_id: RowId | None = None
    grade_id: RowId | None = None
    status: str | None = None
    page: PageNumber = 1


def _page(qs: Any, page: int) -> StudentPage:
    paginator = Paginator(qs, PAGE_SIZE)
    page = max(1, min(page, paginator.num_pages or 1))
    return StudentPage(
        count=paginator.count,
        page=page,
        pages=paginator.num_pages,
        results=[StudentOut(**presenters.student_row(s)) for s in paginator.page(page).object_list],
    )


@router.get("/students", response=StudentPage, summary="Students the caller may see (search, filter, paginate)")
def list_students(request: HttpRequest, filters: Query[StudentFilters]) -> StudentPage:
    qs = selectors.search_students(
        actor=request_actor(request),
        q=filters.q,
        class_id=filters.class_id,
        grade_id=filters.grade_id,
        status=filters.status,
    )
    return _page(qs, filters.page)


@router.get("/students/{student_id}", response=StudentDetailOut, summary="One student; unmask=true reveals (logged)")
def get_student(request: HttpRequest, student_id: RowId, unmask: bool = False) -> StudentDetailOut:
    student = selectors.student_for(actor=request_actor(request), student_id=student_id)
    if student is None:
        raise HttpError(404, "学生不存在或无权查看")
    actor = request_actor(request)
    ip = str(request.META.get("REMOTE_ADDR", ""))
    unmasked: dict[str, str] = {}
    if unmask:
        unmasked = {f: services.reveal(actor=actor, obj=student, field=f, ip=ip) for f in ("id_number", "address")}
    guardians = []
    for link in selectors.guardians_of(actor=request_actor(request), student_id=student.pk):
        mobile = services.reveal(actor=actor, obj=link.guardian, field="mobile", ip=ip) if unmask else None
        guardians.append(
            GuardianOut(
                **presenters.guardian_row(
                    link.guardian, link.get_relation_display(), link.may_notify, unmasked_mobile=mobile
                )
            )
        )
    return StudentDetailOut(**presenters.student_row(student, unmasked=unmasked), guardians=guardians)


@router.get("/classes/{class_id}/students", response=StudentPage, summary="A class roster")
def class_students(request: HttpRequest, class_id: RowId, page: PageNumber = 1) -> StudentPage:
    if org_selectors.class_for(actor=request_actor(request), class_id=class_id) is None:
        raise HttpError(404, "班级不存在或无权查看")
    if not permissions.has_any(request_actor(request), permissions.VIEW_STUDENT):
        raise HttpError(403, "没有权限")
    return _page(selectors.class_roster(actor=request_actor(request), class_id=class_id), page)


class StaffOut(Schema):
    id: int
    staff_no: str
    name: str
    gender: str
    id_number: str
    mobile: str
    post: str
    title: str
    status: str
    departments: list[str]
    political_status: str


class StaffPage(Schema):
    count: int
    page: int
    pages: int
    results: list[StaffOut]


@router.get("/staff", response=StaffPage, summary="Staff the caller may see")
def list_staff(
    request: HttpRequest, q: str = "", department_id: RowId | None = None, page: PageNumber = 1
) -> StaffPage:
    qs = selectors.search_staff(actor=request_actor(request), q=q, department_id=department_id)
    paginator = Paginator(qs, PAGE_SIZE)
    page = max(1, min(page, paginator.num_pages or 1))
    return StaffPage(
        count=paginator.count,
        page=page,
        pages=paginator.num_pages,
        results=[StaffOut(**presenters.staff_row(s)) for s in paginator.page(page).object_list],
    )
