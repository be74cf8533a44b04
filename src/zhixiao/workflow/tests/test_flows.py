"""The approval engine on the demo school: real routing through grade heads and the principal, the four
decisions, 会签/或签, 转交/加签, withdraw, versions, fallbacks, reminders and escalation, and the events
other modules hear. Each test reads as the rule it checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.kernel.permissions import Role
from zhixiao.people import selectors as people_selectors
from zhixiao.workflow import events, selectors, services
from zhixiao.workflow.models import Action, Definition, Request, Task, TaskStatus

pytestmark = pytest.mark.django_db


def _leave(days: str = "3", lessons: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    start = dt.date(2026, 12, 1)
    return {
        "leave_type": "事假",
        "start": start.isoformat(),
        "end": (start + dt.timedelta(days=int(float(days)) - 1 or 0)).isoformat(),
        "days": days,
        "reason": "家中有事",
        "lessons": lessons or [],
    }


def _task_of(account: Any, req_id: int) -> Task:
    return Task.objects.get(request_id=req_id, assignee=account, status=TaskStatus.WAITING)


def _school_id(account: Any) -> int:
    staff = people_selectors.staff_by_account(account.pk)
    assert staff is not None
    return int(staff.school_id)


def test_a_one_day_leave_needs_only_the_grade_head(account_for: Any) -> None:
    teacher, grade_head = account_for(Role.HOMEROOM_TEACHER), account_for(Role.GRADE_HEAD)
    ref = services.start_request(actor=teacher, key="teacher_leave", data=_leave("1"))
    assert services.decide(actor=grade_head, task_id=_task_of(grade_head, ref.id).pk, decision="approve").status == (
        "approved"
    )


def test_a_bad_form_is_refused_field_by_field_and_nothing_is_written(account_for: Any) -> None:
    teacher = account_for(Role.HOMEROOM_TEACHER)
    before = Request.objects.count()
    with pytest.raises(services.FormInvalid) as e:
        services.start_request(actor=teacher, key="teacher_leave", data={**_leave(), "days": "0", "leave_type": "旷工"})
    assert set(e.value.errors) == {"days", "leave_type"}
    assert Request.objects.count() == before


def test_rejecting_needs_a_reason_and_ends_the_request(account_for: Any) -> None:
    teacher, grade_head = account_for(Role.HOMEROOM_TEACHER), account_for(Role.GRADE_HEAD)
    ref = services.start_request(actor=teacher, key="teacher_leave", data=_leave("5"))
    task = _task_of(grade_head, ref.id)
    with pytest.raises(DomainError):
        services.decide(actor=grade_head, task_id=task.pk, decision="reject")
    assert services.decide(actor=grade_head, task_id=task.pk, decision="reject", comment="期末考试周").status == (
        "rejected"
    )
    assert not Task.objects.filter(request_id=ref.id, status=TaskStatus.WAITING).exists()


def test_returned_for_changes_the_applicant_resubmits_and_it_starts_again(account_for: Any) -> None:
    teacher, grade_head = account_for(Role.HOMEROOM_TEACHER), account_for(Role.GRADE_HEAD)
    principal = account_for(Role.PRINCIPAL)
    ref = services.start_request(actor=teacher, key="teacher_leave", data=_leave("1"))
    services.decide(
        actor=grade_head, task_id=_task_of(grade_head, ref.id).pk, decision="return", comment="请写清代课安排"
    )
    assert Request.objects.get(pk=ref.id).status == "returned"
    with pytest.raises(NotPermitted):
        services.resubmit(actor=grade_head, request_id=ref.id, data=_leave("4"))
    again = services.resubmit(actor=teacher, request_id=ref.id, data=_leave("4"))
    req = Request.objects.get(pk=again.id)
    assert req.status == "running" and req.round == 2 and req.current_step == "grade_head"
    services.decide(actor=grade_head, task_id=_task_of(grade_head, ref.id).pk, decision="approve")
    assert Request.objects.get(pk=ref.id).current_step == "principal"  # 4 days now: the principal too
    assert _task_of(principal, ref.id).round == 2


def test_only_the_applicant_withdraws_and_only_before_the_end(account_for: Any) -> None:
    teacher, grade_head = account_for(Role.HOMEROOM_TEACHER), account_for(Role.GRADE_HEAD)
    ref = services.start_request(actor=teacher, key="teacher_leave", data=_leave("1"))
    with pytest.raises(NotPermitted):
        services.withdraw(actor=grade_head, request_id=ref.id)
    assert services.withdraw(actor=teacher, request_id=ref.id, comment="不请了").status == "withdrawn"
    with pytest.raises(DomainError):
        services.withdraw(actor=teacher, request_id=ref.id)
    with pytest.raises(DomainError, match="已处理"):
        services.decide(actor=grade_head, task_id=Task.objects.get(request_id=ref.id).pk, decision="approve")


def _flow(school_id: int, key: str, steps: list[dict[str, Any]], **extra: Any) -> None:
    raw = {
        "key": key,
        "name": f"测试流程{key}",
        "fields": [{"name": "note", "label": "说明", "type": "text"}],
        "steps": steps,
        **extra,
    }
    services.save_definition(actor=None, school_id=school_id, raw=raw)


def _staff_no(account: Any) -> str:
    staff = people_selectors.staff_by_account(account.pk)
    assert staff is not None
    return str(staff.staff_no)


def test_all_of_needs_every_approver_and_any_of_the_first(account_for: Any) -> None:
    teacher, a, b = account_for(Role.SUBJECT_TEACHER), account_for(Role.PRINCIPAL), account_for(Role.GRADE_HEAD)
    school = _school_id(teacher)
    people = [{"rule": "person", "staff_no": _staff_no(a)}, {"rule": "person", "staff_no": _staff_no(b)}]
    _flow(school, "countersign", [{"id": "both", "mode": "all", "approvers": people}])
    _flow(school, "either", [{"id": "one", "mode": "any", "approvers": people}])

    ref = services.start_request(actor=teacher, key="countersign", data={})
    services.decide(actor=a, task_id=_task_of(a, ref.id).pk, decision="approve")
    assert Request.objects.get(pk=ref.id).status == "running"
    services.decide(actor=b, task_id=_task_of(b, ref.id).pk, decision="approve")
    assert Request.objects.get(pk=ref.id).status == "approved"

    ref = services.start_request(actor=teacher, key="either", data={})
    b_task = _task_of(b, ref.id)
    services.decide(actor=a, task_id=_task_of(a, ref.id).pk, decision="approve")
    assert Request.objects.get(pk=ref.id).status == "approved"
    with pytest.raises(DomainError, match="已处理"):
        services.decide(actor=b, task_id=b_task.pk, decision="approve")


def test_delegated_the_colleague_decides_and_added_approvers_must_agree_too(account_for: Any) -> None:
    teacher, grade_head = account_for(Role.HOMEROOM_TEACHER), account_for(Role.GRADE_HEAD)
    principal, colleague = account_for(Role.PRINCIPAL), account_for(Role.IT_STAFF)
    ref = services.start_request(actor=teacher, key="teacher_leave", data=_leave("1"))
    task = _task_of(grade_head, ref.id)
    with pytest.raises(DomainError):
        services.delegate(actor=grade_head, task_id=task.pk, to_account_id=teacher.pk)  # never to the applicant
    services.delegate(actor=grade_head, task_id=task.pk, to_account_id=colleague.pk, comment="我出差")
    with pytest.raises(DomainError):
        services.decide(actor=grade_head, task_id=task.pk, decision="approve")
    mine = _task_of(colleague, ref.id)
    services.add_approver(actor=colleague, task_id=mine.pk, account_id=principal.pk, comment="请校长也看看")
    services.decide(actor=colleague, task_id=mine.pk, decision="approve")
    assert Request.objects.get(pk=ref.id).status == "running"  # the added approver has not agreed yet
    services.decide(actor=principal, task_id=_task_of(principal, ref.id).pk, decision="approve")
    assert Request.objects.get(pk=ref.id).status == "approved"
    assert {"delegate", "add_approver"} <= set(Action.objects.filter(request_id=ref.id).values_list("kind", flat=True))


def test_a_running_request_keeps_the_version_it_started_with(account_for: Any) -> None:
    teacher, grade_head, admin = (
        account_for(Role.HOMEROOM_TEACHER),
        account_for(Role.GRADE_HEAD),
        account_for(Role.SCHOOL_ADMIN),
    )
    ref = services.start_request(actor=teacher, key="teacher_leave", data=_leave("5"))
    definition = Definition.objects.get(school_id=_school_id(teacher), key="teacher_leave")
    raw = dict(definition.current.spec)  # type: ignore[union-attr]
    raw["steps"] = [raw["steps"][0]]  # the new version drops the principal
    services.save_definition(actor=admin, school_id=definition.school_id, raw=raw)
    definition.refresh_from_db()
    assert definition.current.number == 2  # type: ignore[union-attr]
    services.decide(actor=grade_head, task_id=_task_of(grade_head, ref.id).pk, decision="approve")
    assert Request.objects.get(pk=ref.id).current_step == "principal"  # still v1's route
    newer = services.start_request(actor=teacher, key="teacher_leave", data=_leave("5"))
    services.decide(actor=grade_head, task_id=_task_of(grade_head, newer.id).pk, decision="approve")
    assert Request.objects.get(pk=newer.id).status == "approved"


def test_bad_definitions_are_refused_with_every_reason_and_nothing_saved(account_for: Any) -> None:
    admin = account_for(Role.SCHOOL_ADMIN)
    school = _school_id(admin)
    before = Definition.objects.count()
    with pytest.raises(services.DefinitionInvalid) as e:
        services.save_definition(
            actor=admin,
            school_id=school,
            raw={
                "key": "broken",
                "name": "坏流程",
                "fields": [],
                "steps": [
                    {"id": "a", "approvers": [{"rule": "person", "staff_no": "NOBODY"}], "next": "b"},
                    {"id": "b", "approvers": [{"rule": "principal"}], "next": "a"},
                ],
            },
        )
    assert any("循环" in p for p in e.value.problems)
    with pytest.raises(services.DefinitionInvalid) as e:
        services.save_definition(
            actor=admin,
            school_id=school,
            raw={
                "key": "nobody",
                "name": "无人",
                "steps": [{"id": "a", "approvers": [{"rule": "person", "staff_no": "NOBODY"}]}],
            },
        )
    assert any("找不到任何人" in p for p in e.value.problems)
    assert Definition.objects.count() == before


def test_only_the_school_admin_edits_flows(account_for: Any) -> None:
    teacher = account_for(Role.HOMEROOM_TEACHER)
    with pytest.raises(NotPermitted):
        services.save_definition(
            actor=teacher, school_id=_school_id(teacher), raw={"key": "x", "name": "x", "steps": []}
        )


def test_a_step_whose_approver_left_goes_to_the_school_admin(account_for: Any) -> None:
    teacher, grade_head, admin = (
        account_for(Role.HOMEROOM_TEACHER),
        account_for(Role.GRADE_HEAD),
        account_for(Role.SCHOOL_ADMIN),
    )
    staff = people_selectors.staff_by_account(grade_head.pk)
    assert staff is not None
    staff.status = "left"
    staff.save(update_fields=["status"])
    ref = services.start_request(actor=teacher, key="teacher_leave", data=_leave("1"))
    task = Task.objects.get(request_id=ref.id, status=TaskStatus.WAITING)
    assert task.assignee_id == admin.pk and task.origin == "fallback"
    assert Action.objects.filter(request_id=ref.id, kind="fallback").exists()


def test_a_task_whose_approver_leaves_meanwhile_moves_to_the_school_admin(account_for: Any) -> None:
    teacher, grade_head, admin = (
        account_for(Role.HOMEROOM_TEACHER),
        account_for(Role.GRADE_HEAD),
        account_for(Role.SCHOOL_ADMIN),
    )
    ref = services.start_request(actor=teacher, key="teacher_leave", data=_leave("1"))
    assert services.reassign_departed() == 0
    staff = people_selectors.staff_by_account(grade_head.pk)
    assert staff is not None
    staff.status = "left"
    staff.save(update_fields=["status"])
    assert services.reassign_departed() == 1
    assert Task.objects.get(request_id=ref.id, assignee=grade_head).status == TaskStatus.DELEGATED
    services.decide(actor=admin, task_id=_task_of(admin, ref.id).pk, decision="approve")
    assert Request.objects.get(pk=ref.id).status == "approved"


def test_an_overdue_step_is_reminded_then_escalated_to_the_principal(account_for: Any) -> None:
    teacher, grade_head, principal = (
        account_for(Role.HOMEROOM_TEACHER),
        account_for(Role.GRADE_HEAD),
        account_for(Role.PRINCIPAL),
    )
    ref = services.start_request(actor=teacher, key="teacher_leave", data=_leave("1"))
    now = timezone.now()
    assert services.process_overdue(now=now) == (0, 0)
    assert services.process_overdue(now=now + dt.timedelta(hours=25)) == (1, 0)
    assert services.process_overdue(now=now + dt.timedelta(hours=26)) == (0, 0)  # reminded once only
    assert services.process_overdue(now=now + dt.timedelta(hours=49)) == (0, 1)
    assert Task.objects.get(request_id=ref.id, assignee=grade_head).status == TaskStatus.DELEGATED
    services.decide(actor=principal, task_id=_task_of(principal, ref.id).pk, decision="approve")
    assert Request.objects.get(pk=ref.id).status == "approved"


def test_modules_hear_outcomes_through_events(account_for: Any) -> None:
    heard: list[tuple[str, str]] = []

    def listener(event: events.RequestEvent) -> None:
        heard.append((event.key, event.event))

    events.subscribe("*", listener)
    try:
        teacher, grade_head = account_for(Role.HOMEROOM_TEACHER), account_for(Role.GRADE_HEAD)
        ref = services.start_request(actor=teacher, key="teacher_leave", data=_leave("1"))
        services.decide(actor=grade_head, task_id=_task_of(grade_head, ref.id).pk, decision="approve")
    finally:
        events._handlers["*"].remove(listener)
    assert heard == [("teacher_leave", "submitted"), ("teacher_leave", "approved")]


def test_a_request_is_visible_to_those_involved_and_school_overseers_only(account_for: Any) -> None:
    teacher, grade_head, principal = (
        account_for(Role.HOMEROOM_TEACHER),
        account_for(Role.GRADE_HEAD),
        account_for(Role.PRINCIPAL),
    )
    ref = services.start_request(actor=teacher, key="teacher_leave", data=_leave("1"))
    for who in (teacher, grade_head, principal):
        assert selectors.request_for(actor=who, request_id=ref.id) is not None
    for who in (account_for(Role.SUBJECT_TEACHER), account_for(Role.PRINCIPAL, 1), account_for(Role.GUARDIAN)):
        assert selectors.request_for(actor=who, request_id=ref.id) is None


def test_definitions_round_trip_through_yaml_and_json(account_for: Any) -> None:
    admin = account_for(Role.SCHOOL_ADMIN)
    definition = Definition.objects.get(school_id=_school_id(admin), key="vehicle")
    for fmt in ("yaml", "json"):
        text = services.export_definition(definition, fmt)
        assert "用车申请" in text
        saved = services.import_definitions(actor=admin, school_id=definition.school_id, text=text)
        assert [d.key for d in saved] == ["vehicle"]
    definition.refresh_from_db()
    assert definition.current.number == 1  # type: ignore[union-attr]  # unchanged content: no new version
    with pytest.raises(services.DefinitionInvalid):
        services.import_definitions(actor=admin, school_id=definition.school_id, text="key: [unclosed")


def test_a_step_with_a_time_limit_books_a_sweep_at_its_due_time(
    account_for: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """With the worker's database backend, filing a leave books one sweep at the grade head's due time and
    one at twice the limit; a second leave due minutes later shares them."""
    from django_tasks_db.models import DBTaskResult

    from zhixiao.workflow import tasks

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    teacher = account_for(Role.HOMEROOM_TEACHER)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            services.start_request(actor=teacher, key="teacher_leave", data=_leave("1"))
    booked = sorted(DBTaskResult.objects.filter(task_path=tasks.sweep.module_path).values_list("run_after", flat=True))
    assert len(booked) == 2
    assert dt.timedelta(hours=23, minutes=59) < booked[0] - timezone.now() <= dt.timedelta(hours=24)
    assert booked[1] - booked[0] == dt.timedelta(hours=24)


def test_a_step_can_go_to_the_homeroom_teacher_of_the_student_a_form_names(account_for: Any) -> None:
    """E.g. a teacher asks for a student's records: the student's own 班主任 approves, whoever files."""
    from zhixiao.people.models import Student

    subject_teacher, admin = account_for(Role.SUBJECT_TEACHER), account_for(Role.SCHOOL_ADMIN)
    school = _school_id(subject_teacher)
    student = Student.objects.filter(school_id=school, admin_class__homeroom_teacher__isnull=False).order_by("pk")[5]
    services.save_definition(
        actor=admin,
        school_id=school,
        raw={
            "key": "records",
            "name": "查阅学生档案",
            "fields": [{"name": "student", "label": "学生", "type": "student", "required": True}],
            "steps": [{"id": "homeroom", "approvers": [{"rule": "homeroom_teacher", "of": "student"}]}],
        },
    )
    with pytest.raises(services.FormInvalid) as e:
        services.start_request(actor=subject_teacher, key="records", data={"student": "G000000000000000000"})
    assert "学籍号" in e.value.errors["student"][0]
    ref = services.start_request(actor=subject_teacher, key="records", data={"student": student.student_no})
    task = Task.objects.get(request_id=ref.id)
    assert task.assignee_id == student.admin_class.homeroom_teacher_id  # type: ignore[union-attr]
    assert Request.objects.get(pk=ref.id).values["student"]["label"].startswith(student.name)


def test_a_starting_worker_books_one_sweep(settings: Any) -> None:
    from django_tasks_db.models import DBTaskResult

    from zhixiao.kernel import worker
    from zhixiao.workflow import tasks

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    worker.starting()
    worker.starting()  # a second worker: still one booked sweep
    assert DBTaskResult.objects.filter(task_path=tasks.sweep.module_path, status="READY").count() == 1


def test_an_applicant_who_is_one_of_a_countersign_steps_approvers_still_needs_the_others(account_for: Any) -> None:
    head, principal = account_for(Role.GRADE_HEAD), account_for(Role.PRINCIPAL)
    school = _school_id(head)
    people = [{"rule": "person", "staff_no": _staff_no(head)}, {"rule": "person", "staff_no": _staff_no(principal)}]
    _flow(school, "countersign_self", [{"id": "both", "mode": "all", "approvers": people}])
    _flow(school, "either_self", [{"id": "one", "mode": "any", "approvers": people}])
    ref = services.start_request(actor=head, key="countersign_self", data={})
    assert [t.assignee_id for t in Task.objects.filter(request_id=ref.id)] == [principal.pk]
    assert Request.objects.get(pk=ref.id).status == "running"
    assert services.start_request(actor=head, key="either_self", data={}).status == "approved"
