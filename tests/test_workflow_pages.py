"""The approval pages as people use them: filing a leave with lessons to cover and a photo, the four lists
with counts, approving in place (htmx), the timeline, and the school admin's flow editor."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zhixiao.kernel.permissions import Role
from zhixiao.org.tests.signin import signed_in
from zhixiao.workflow.models import Definition, Request, Task, TaskStatus

pytestmark = pytest.mark.django_db


def _leave_form(substitute_id: int, days: str = "3") -> dict[str, Any]:
    return {
        "leave_type": "病假",
        "start": "2026-12-07",
        "end": "2026-12-09",
        "days": days,
        "reason": "发烧，医嘱休息",
        "lessons__0__date": "2026-12-07",
        "lessons__0__period": "3",
        "lessons__0__class_name": "高一(1)班",
        "lessons__0__subject": "语文",
        "lessons__0__substitute": str(substitute_id),
    }


def test_a_teacher_files_a_leave_and_the_grade_head_approves_it_in_place(login_for: Any, account_for: Any) -> None:
    teacher = signed_in(login_for(Role.HOMEROOM_TEACHER))
    substitute = account_for(Role.SUBJECT_TEACHER)
    page = teacher.get("/workflow/new/teacher_leave/")
    assert page.status_code == 200 and "需调代的课" in page.content.decode()
    photo = SimpleUploadedFile("病历.png", b"\x89PNG\r\n\x1a\n" + b"1" * 32, content_type="image/png")
    response = teacher.post("/workflow/new/teacher_leave/", {**_leave_form(substitute.pk), "files": photo})
    assert response.status_code == 302
    req = Request.objects.latest("pk")
    detail = teacher.get(response["Location"]).content.decode()
    assert "年级组长审批" in detail and "病历.png" in detail and "高一(1)班" in detail

    head = signed_in(login_for(Role.GRADE_HEAD))
    todo = head.get("/workflow/?tab=todo").content.decode()
    assert req.title in todo and 'id="nav-todo">1<' in todo.replace(" ", "")
    task = Task.objects.get(request=req, status=TaskStatus.WAITING)
    row = head.post(
        f"/workflow/tasks/{task.pk}/decide/", {"decision": "approve", "comment": "早日康复"}, HTTP_HX_REQUEST="true"
    )
    assert row.status_code == 200 and "已同意" in row.content.decode() and "<tr" in row.content.decode()
    again = head.post(f"/workflow/tasks/{task.pk}/decide/", {"decision": "approve"}, HTTP_HX_REQUEST="true")
    assert again.status_code == 409 and "已处理" in again.content.decode()
    assert Request.objects.get(pk=req.pk).current_step == "principal"
    assert req.title in head.get("/workflow/?tab=done").content.decode()


def test_a_form_with_mistakes_comes_back_with_each_field_marked(login_for: Any, account_for: Any) -> None:
    teacher = signed_in(login_for(Role.HOMEROOM_TEACHER))
    form = {**_leave_form(account_for(Role.SUBJECT_TEACHER).pk), "days": "abc", "lessons__0__period": "15"}
    response = teacher.post("/workflow/new/teacher_leave/", form)
    body = response.content.decode()
    assert response.status_code == 400 and "须为数字" in body and "不能大于 12" in body
    assert "发烧，医嘱休息" in body  # what was typed stays


def test_the_school_admin_edits_a_flow_and_a_broken_one_is_refused(login_for: Any) -> None:
    admin = signed_in(login_for(Role.SCHOOL_ADMIN))
    definition = Definition.objects.filter(key="general").order_by("pk").first()
    assert definition is not None
    page = admin.get(f"/workflow/definitions/{definition.pk}/").content.decode()
    assert "key: general" in page
    bad = "key: general\nname: 通用申请\nsteps:\n- id: a\n  approvers: [{rule: principal}]\n  next: a\n"
    response = admin.post(f"/workflow/definitions/{definition.pk}/", {"text": bad})
    assert response.status_code == 400 and "循环" in response.content.decode()
    good = (
        "key: general\nname: 通用申请\nfields:\n- {name: subject, label: 事项, type: text, required: true}\n"
        "steps:\n- id: a\n  name: 校长审批\n  approvers: [{rule: principal}]\n"
    )
    assert admin.post(f"/workflow/definitions/{definition.pk}/", {"text": good}).status_code == 302
    definition.refresh_from_db()
    assert definition.current.number == 2  # type: ignore[union-attr]
    exported = admin.get(f"/workflow/definitions/{definition.pk}/export/?fmt=json")
    assert exported["Content-Type"] == "application/json" and "校长审批" in exported.content.decode()


def test_a_teacher_cannot_open_the_flow_editor(login_for: Any) -> None:
    teacher = signed_in(login_for(Role.HOMEROOM_TEACHER))
    assert teacher.get("/workflow/definitions/").status_code == 403
