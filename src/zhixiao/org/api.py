"""/api/v1/schools and /api/v1/classes: the structure the caller may see."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from zhixiao.kernel.api import RowId, request_actor

from . import selectors

router = Router(tags=["org"])


class SchoolOut(Schema):
    id: int
    code: str
    name: str
    school_type: str
    school_type_name: str
    division_code: str


class ClassOut(Schema):
    id: int
    school_id: int
    grade_id: int
    name: str
    number: int
    homeroom_teacher: str


@router.get("/schools", response=list[SchoolOut], summary="Schools the caller may see")
def list_schools(request: HttpRequest) -> list[SchoolOut]:
    return [
        SchoolOut(
            id=s.pk,
            code=s.code,
            name=s.name,
            school_type=s.school_type,
            school_type_name=s.school_type_name,
            division_code=s.division_code,
        )
        for s in selectors.schools_visible_to(actor=request_actor(request))
    ]


@router.get("/classes", response=list[ClassOut], summary="Classes the caller may see")
def list_classes(request: HttpRequest, school_id: RowId | None = None) -> list[ClassOut]:
    return [
        ClassOut(
            id=c.pk,
            school_id=c.school_id,
            grade_id=c.grade_id,
            name=c.name,
            number=c.number,
            homeroom_teacher=str(c.homeroom_teacher) if c.homeroom_teacher_id else "",
        )
        for c in selectors.classes_visible_to(actor=request_actor(request), school_id=school_id)
    ]
