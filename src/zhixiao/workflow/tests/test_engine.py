"""The engine as a specification: definitions are checked at save time, routes follow the form values,
steps complete by their mode, and forms are checked field by field. Pure Python, no database."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhixiao.workflow.engine import forms, spec

LEAVE: dict[str, Any] = {
    "key": "teacher_leave",
    "name": "教师请假",
    "title": "{leave_type} {days}天",
    "fields": [
        {"name": "leave_type", "label": "请假类型", "type": "choice", "required": True, "choices": ["事假", "病假"]},
        {"name": "days", "label": "天数", "type": "decimal", "required": True, "min": 0.5, "max": 30},
        {"name": "start", "label": "开始日期", "type": "date", "required": True},
        {
            "name": "lessons",
            "label": "需代的课",
            "type": "table",
            "columns": [
                {"name": "date", "label": "日期", "type": "date", "required": True},
                {"name": "period", "label": "节次", "type": "integer", "required": True, "min": 1, "max": 12},
                {"name": "substitute", "label": "代课教师", "type": "staff", "required": True},
            ],
        },
    ],
    "steps": [
        {"id": "grade_head", "name": "年级组长审批", "approvers": [{"rule": "grade_head"}]},
        {
            "id": "principal",
            "name": "校长审批",
            "when": {"field": "days", "op": ">=", "value": 3},
            "approvers": [{"rule": "principal"}],
        },
    ],
}


def _with_steps(steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {**LEAVE, "steps": steps}


def test_a_valid_definition_parses_with_its_steps_in_order() -> None:
    d = spec.parse(LEAVE)
    assert [s.id for s in d.steps] == ["grade_head", "principal"]
    assert d.step("principal").approvers[0].rule == "principal"


def test_a_cycle_is_refused_naming_the_loop() -> None:
    with pytest.raises(spec.SpecError) as e:
        spec.parse(
            _with_steps(
                [
                    {"id": "a", "approvers": [{"rule": "principal"}], "next": "b"},
                    {"id": "b", "approvers": [{"rule": "principal"}], "next": "a"},
                ]
            )
        )
    assert any("循环" in p and "a → b → a" in p for p in e.value.problems)


def test_a_step_no_path_reaches_is_refused() -> None:
    with pytest.raises(spec.SpecError) as e:
        spec.parse(
            _with_steps(
                [
                    {"id": "a", "approvers": [{"rule": "principal"}], "next": "end"},
                    {"id": "orphan", "approvers": [{"rule": "principal"}]},
                ]
            )
        )
    assert any("永远不会被执行到" in p and "orphan" in p for p in e.value.problems)


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(spec.SpecError) as e:
        spec.parse(
            {
                "key": "bad key!",
                "name": "",
                "fields": [{"name": "x", "type": "colour"}],
                "steps": [
                    {"id": "a", "mode": "most", "approvers": []},
                    {
                        "id": "a",
                        "approvers": [{"rule": "astrologer"}],
                        "when": {"field": "nope", "op": ">", "value": 1},
                    },
                    {"id": "c", "approvers": [{"rule": "principal"}], "next": "nowhere"},
                ],
            }
        )
    text = " ".join(e.value.problems)
    for expected in ("key", "name", "type", "mode", "approvers", "astrologer", "nope", "重复", "nowhere"):
        assert expected in text, expected


def test_a_rule_that_finds_nobody_is_refused_but_applicant_relative_rules_wait_for_the_applicant() -> None:
    asked: list[str] = []

    def probe(rule: spec.ApproverRule) -> bool:
        asked.append(rule.rule)
        return rule.rule != "principal"

    with pytest.raises(spec.SpecError) as e:
        spec.parse(LEAVE, probe=probe)
    assert any("principal" in p and "找不到任何人" in p for p in e.value.problems)
    assert asked == ["principal"]  # grade_head of the applicant is known only when someone applies


@pytest.mark.parametrize(("days", "route"), [("1", ["grade_head"]), ("3", ["grade_head", "principal"])])
def test_a_leave_of_three_days_or_more_adds_the_principal(days: str, route: list[str]) -> None:
    d = spec.parse(LEAVE)
    values = forms.typed(d, {"days": days})
    assert [s.id for s in spec.planned_route(d, values)] == route


def test_a_skipped_step_hands_on_to_the_step_listed_after_it_and_branches_jump() -> None:
    d = spec.parse(
        _with_steps(
            [
                {
                    "id": "it",
                    "approvers": [{"rule": "principal"}],
                    "when": {"field": "leave_type", "op": "==", "value": "病假"},
                    "next": "end",
                },
                {
                    "id": "general",
                    "approvers": [{"rule": "principal"}],
                    "branches": [{"when": {"field": "days", "op": ">", "value": 5}, "goto": "long"}],
                    "next": "end",
                },
                {"id": "long", "approvers": [{"rule": "principal"}]},
            ]
        )
    )
    assert [s.id for s in spec.planned_route(d, {"leave_type": "病假"})] == ["it"]
    assert [s.id for s in spec.planned_route(d, {"leave_type": "事假", "days": Decimal(2)})] == ["general"]
    assert [s.id for s in spec.planned_route(d, {"leave_type": "事假", "days": Decimal(9)})] == ["general", "long"]


def test_conditions_combine_with_all_any_and_not() -> None:
    cond = {
        "all": [
            {"field": "days", "op": ">", "value": 1},
            {
                "any": [
                    {"field": "leave_type", "op": "==", "value": "事假"},
                    {"not": {"field": "days", "op": "<", "value": 10}},
                ]
            },
        ]
    }
    assert spec.holds(cond, {"days": Decimal(2), "leave_type": "事假"})
    assert not spec.holds(cond, {"days": Decimal(2), "leave_type": "病假"})
    assert spec.holds(cond, {"days": Decimal(12), "leave_type": "病假"})
    assert not spec.holds({"field": "days", "op": ">", "value": 1}, {})  # a missing value never compares


@pytest.mark.parametrize(
    ("mode", "votes", "outcome"),
    [
        ("any", ["waiting", "approved"], "approved"),
        ("any", ["waiting", "waiting"], "waiting"),
        ("all", ["approved", "waiting"], "waiting"),
        ("all", ["approved", "approved"], "approved"),
        ("all", ["approved", "rejected"], "rejected"),
        ("any", ["rejected", "waiting"], "rejected"),
    ],
)
def test_a_step_completes_by_its_mode(mode: str, votes: list[str], outcome: str) -> None:
    assert spec.step_outcome(mode, [spec.Vote(v) for v in votes]) == outcome


def test_an_added_approver_must_approve_even_in_an_any_of_step() -> None:
    votes = [spec.Vote("approved"), spec.Vote("waiting", required=True)]
    assert spec.step_outcome("any", votes) == "waiting"
    assert spec.step_outcome("any", [spec.Vote("approved"), spec.Vote("approved", required=True)]) == "approved"


def _staff(value: str) -> tuple[int, str] | None:
    return (int(value), "王老师") if value == "7" else None


def test_form_values_are_checked_field_by_field_and_kept_as_json() -> None:
    d = spec.parse(LEAVE)
    values = forms.clean(
        d,
        {
            "leave_type": "事假",
            "days": "3.0",
            "start": "2026-11-30",
            "lessons": [
                {"date": "2026-11-30", "period": "2", "substitute": "7"},
                {"date": "", "period": "", "substitute": ""},
            ],
        },
        staff=_staff,
    )
    assert values["days"] == "3"
    assert values["lessons"] == [{"date": "2026-11-30", "period": 2, "substitute": {"id": 7, "label": "王老师"}}]
    assert forms.render_title(d, values) == "事假 3天"


def test_bad_form_values_come_back_in_chinese_per_field() -> None:
    d = spec.parse(LEAVE)
    with pytest.raises(spec.FormError) as e:
        forms.clean(
            d,
            {
                "leave_type": "旷工",
                "days": "40",
                "start": "30/11/2026",
                "lessons": [{"date": "2026-11-30", "period": "13", "substitute": "9"}],
            },
            staff=_staff,
        )
    errors = e.value.errors
    assert errors["leave_type"] == ["请从选项中选择"]
    assert errors["days"] == ["不能大于 30"]
    assert "日期格式" in errors["start"][0]
    assert any("节次" in m and "不能大于 12" in m for m in errors["lessons"])
    assert any("代课教师" in m and "找不到" in m for m in errors["lessons"])


@st.composite
def _flows(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(min_value=1, max_value=6))
    steps = []
    for i in range(n):
        step: dict[str, Any] = {"id": f"s{i}", "approvers": [{"rule": "principal"}]}
        if draw(st.booleans()):
            step["when"] = {"field": "days", "op": ">", "value": draw(st.integers(0, 5))}
        if draw(st.booleans()):
            step["next"] = draw(st.sampled_from([f"s{j}" for j in range(n)] + ["end"]))
        steps.append(step)
    return _with_steps(steps)


@given(_flows(), st.integers(min_value=0, max_value=6))
def test_any_definition_that_parses_routes_without_repeating_a_step(raw: dict[str, Any], days: int) -> None:
    try:
        d = spec.parse(raw)
    except spec.SpecError:
        return  # refused definitions never run
    route = spec.planned_route(d, {"days": Decimal(days)})
    assert len(route) == len({s.id for s in route})
    assert all(spec.holds(s.when, {"days": Decimal(days)}) for s in route)
