"""Approvals under real concurrency on PostgreSQL: approvers acting at the same instant on their own
connections can never both decide one step, a double click decides once, and a withdrawal racing an
approval leaves one consistent outcome. The tests commit; they delete their requests afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from zhixiao.identity.models import Account
from zhixiao.kernel.errors import DomainError
from zhixiao.notifications.models import Outbox
from zhixiao.people import selectors as people_selectors
from zhixiao.workflow import events, services
from zhixiao.workflow.models import Action, Definition, Request, Task, TaskStatus

from .test_concurrency import run_together

pytestmark = pytest.mark.postgres


def _login(role: str, school: int = 0) -> Account:
    rows = [x for x in pytest.demo_logins if x.role == role]  # type: ignore[attr-defined]
    schools = sorted({x.school for x in pytest.demo_logins if x.school})  # type: ignore[attr-defined]
    if len(rows) > 1:
        rows = [x for x in rows if x.school == schools[school]]
    return Account.objects.get(username=rows[0].username)


@pytest.fixture
def approvers(committed_db: Any) -> Iterator[tuple[Account, list[Account], str]]:
    """An any-of step shared by three people, and clean-up of every request the test files."""
    teacher = _login("subject_teacher")
    people = [_login("principal"), _login("grade_head"), _login("it_staff")]
    school_id = people_selectors.staff_by_account(teacher.pk).school_id  # type: ignore[union-attr]
    numbers = [people_selectors.staff_by_account(p.pk).staff_no for p in people]  # type: ignore[union-attr]
    services.save_definition(
        actor=None,
        school_id=school_id,
        raw={
            "key": "race",
            "name": "并发测试",
            "steps": [
                {"id": "one", "mode": "any", "approvers": [{"rule": "person", "staff_no": n} for n in numbers]},
                {"id": "two", "approvers": [{"rule": "person", "staff_no": numbers[0]}]},
            ],
        },
    )
    before = set(Request.objects.values_list("pk", flat=True))
    yield teacher, people, "race"
    created = Request.objects.exclude(pk__in=before)
    for pk in created.values_list("pk", flat=True):
        Outbox.objects.filter(dedup_key__startswith=f"wf:{pk}:").delete()
    created.delete()
    Definition.objects.filter(school_id=school_id, key="race").delete()


def test_three_approvers_of_an_any_of_step_at_once_decide_it_once(approvers: Any) -> None:
    teacher, people, key = approvers
    published: list[str] = []

    def count(event: events.RequestEvent) -> None:
        published.append(event.event)

    events.subscribe(key, count)
    try:
        for _ in range(5):
            ref = services.start_request(actor=teacher, key=key, data={})
            tasks = {t.assignee_id: t.pk for t in Task.objects.filter(request_id=ref.id)}
            results = run_together(
                3,
                lambda i, tasks=tasks: services.decide(  # type: ignore[misc]
                    actor=people[i], task_id=tasks[people[i].pk], decision="approve"
                ),
            )
            winners = [r for r in results if not isinstance(r, Exception)]
            losers = [r for r in results if isinstance(r, Exception)]
            assert len(winners) == 1, results
            assert all(isinstance(e, DomainError) for e in losers), losers
            approvals = Action.objects.filter(request_id=ref.id, kind="approve", step_name="one").count()
            assert approvals == 1
            req = Request.objects.get(pk=ref.id)
            assert req.current_step == "two"
            assert Task.objects.filter(request_id=ref.id, step="two", status=TaskStatus.WAITING).count() == 1
    finally:
        events._handlers[key].remove(count)


def test_a_double_click_decides_once(approvers: Any) -> None:
    teacher, people, key = approvers
    ref = services.start_request(actor=teacher, key=key, data={})
    task = Task.objects.get(request_id=ref.id, assignee=people[1])
    results = run_together(2, lambda i: services.decide(actor=people[1], task_id=task.pk, decision="approve"))
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert Action.objects.filter(request_id=ref.id, kind="approve").count() == 1


def test_a_withdrawal_racing_the_last_approval_leaves_one_outcome(approvers: Any) -> None:
    teacher, people, key = approvers
    for _ in range(5):
        ref = services.start_request(actor=teacher, key=key, data={})
        first = Task.objects.get(request_id=ref.id, assignee=people[0])
        services.decide(actor=people[0], task_id=first.pk, decision="approve")
        last = Task.objects.get(request_id=ref.id, step="two", status=TaskStatus.WAITING)

        def act(i: int, last: Task = last, ref: Any = ref) -> Any:
            if i == 0:
                return services.decide(actor=people[0], task_id=last.pk, decision="approve")
            return services.withdraw(actor=teacher, request_id=ref.id)

        results = run_together(2, act)
        req = Request.objects.get(pk=ref.id)
        outcomes = [r.status for r in results if not isinstance(r, Exception)]
        assert len(outcomes) == 1 and outcomes[0] == req.status in ("approved", "withdrawn")
        assert not Task.objects.filter(request_id=ref.id, status=TaskStatus.WAITING).exists()
        assert Action.objects.filter(request_id=ref.id, kind="finish").count() == 1
