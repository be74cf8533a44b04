"""The smart office on the engine: a teacher's leave with lessons to cover (the substitute sees them once
the leave is approved), and repairs routed by category, dispatched, done and rated."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.kernel.permissions import Role
from zhixiao.notifications import selectors as inbox
from zhixiao.notifications import services as notifications
from zhixiao.office import selectors as office_selectors
from zhixiao.office import services as office
from zhixiao.workflow import selectors, services
from zhixiao.workflow.models import Action, Request, Task, TaskStatus
from zhixiao.workflow.tests.test_flows import _leave, _task_of

pytestmark = pytest.mark.django_db


def test_a_three_day_leave_goes_to_the_grade_head_then_the_principal_and_the_substitute_is_told(
    account_for: Any,
) -> None:
    teacher, grade_head = account_for(Role.HOMEROOM_TEACHER), account_for(Role.GRADE_HEAD)
    principal, substitute = account_for(Role.PRINCIPAL), account_for(Role.SUBJECT_TEACHER)
    lessons = [
        {
            "date": "2026-12-01",
            "period": "2",
            "class_name": "高一(1)班",
            "subject": "语文",
            "substitute": str(substitute.pk),
        }
    ]
    ref = services.start_request(actor=teacher, key="teacher_leave", data=_leave("3", lessons))
    assert ref.status == "running" and ref.title.startswith("事假 2026-12-01")
    assert [t.assignee_id for t in Task.objects.filter(request_id=ref.id)] == [grade_head.pk]
    assert selectors.counts(actor=grade_head)["todo"] == 1

    services.decide(actor=grade_head, task_id=_task_of(grade_head, ref.id).pk, decision="approve", comment="同意")
    assert Request.objects.get(pk=ref.id).current_step == "principal"
    assert not office_selectors.covers_taught_by(actor=substitute, since=dt.date(2026, 11, 1)).exists()

    done = services.decide(actor=principal, task_id=_task_of(principal, ref.id).pk, decision="approve")
    assert done.status == "approved"
    kinds = list(Action.objects.filter(request_id=ref.id).values_list("kind", flat=True))
    assert kinds[0] == "submit" and kinds.count("approve") == 2 and kinds[-1] in ("finish", "cc")
    covers = office_selectors.covers_taught_by(actor=substitute, since=dt.date(2026, 11, 1))
    assert [(c.period, c.class_name) for c in covers] == [(2, "高一(1)班")]

    notifications.deliver_due()
    assert inbox.unread_count(actor=teacher) >= 1
    titles = [i.title for i in inbox.inbox_of(actor=teacher)]
    assert any(t.startswith("已通过") for t in titles)
    assert any("代课" in i.title for i in inbox.inbox_of(actor=substitute))


def test_repairs_are_dispatched_by_category_done_and_rated(account_for: Any) -> None:
    teacher = account_for(Role.HOMEROOM_TEACHER)
    ref = services.start_request(
        actor=teacher,
        key="repair",
        data={"place": "高一(1)班教室", "category": "多媒体/投影", "description": "投影仪不亮", "urgent": "on"},
        files=[services.Upload("坏了.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 64)],
    )
    waiting = list(Task.objects.filter(request_id=ref.id, status=TaskStatus.WAITING))
    assert {t.step for t in waiting} == {"it_centre"} and len(waiting) == 2  # 信息中心's head or its IT staff
    task = waiting[0]
    handler = task.assignee
    services.decide(actor=handler, task_id=task.pk, decision="approve", comment="下午去修")
    order = office_selectors.repairs_for(actor=teacher).get(request_id=ref.id)
    assert order.status == "dispatched" and order.handler_id == handler.pk and order.urgent
    with pytest.raises(NotPermitted):
        office.finish_repair(actor=teacher, order_id=order.pk, note="自己修好了")
    office.finish_repair(actor=handler, order_id=order.pk, note="更换灯泡")
    with pytest.raises(DomainError):
        office.rate_repair(actor=teacher, order_id=order.pk, rating=6)
    assert office.rate_repair(actor=teacher, order_id=order.pk, rating=5).rating == 5

    water = services.start_request(
        actor=teacher, key="repair", data={"place": "三楼卫生间", "category": "水电", "description": "漏水"}
    )
    assert Task.objects.get(request_id=water.id, status=TaskStatus.WAITING).step == "general_affairs"
