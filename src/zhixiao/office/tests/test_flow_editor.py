"""The workflow's step editor on the office's flows: every default flow survives the round trip through the
form unchanged, and a school admin's edits in the form become a new version (or are refused with the reason)."""

from __future__ import annotations

from typing import Any

import pytest

from zhixiao.kernel.permissions import Role
from zhixiao.office.flows import DEFAULT_FLOWS
from zhixiao.org.tests.signin import signed_in
from zhixiao.workflow import editor
from zhixiao.workflow.models import Definition


def _as_post(raw: dict[str, Any]) -> tuple[dict[str, str], int]:
    """What a browser sends back for the editor's rows, untouched."""
    post: dict[str, str] = {}
    rows = editor.rows(raw)
    for i, r in enumerate(rows):
        post.update(
            {
                f"step-{i}-order": str(i + 1),
                f"step-{i}-id": r["id"],
                f"step-{i}-name": r["name"],
                f"step-{i}-mode": r["mode"],
                f"step-{i}-when_field": r["when_field"],
                f"step-{i}-when_op": r["when_op"],
                f"step-{i}-when_value": r["when_value"],
                f"step-{i}-limit": r["limit"],
                f"step-{i}-cc_rule": r["cc_rule"],
                f"step-{i}-cc_param": r["cc_param"],
            }
        )
        for n, (kind, param) in enumerate(r["rules"]):
            post[f"step-{i}-rule{n}"], post[f"step-{i}-param{n}"] = kind, param
        if r["escalate"]:
            post[f"step-{i}-escalate"] = "1"
        if r["end_after"]:
            post[f"step-{i}-end_after"] = "1"
    return post, len(rows)


def _meaning(raw: dict[str, Any]) -> dict[str, Any]:
    """The same flow, with the default 或签 spelled out or not."""
    return {**raw, "steps": [{k: v for k, v in s.items() if (k, v) != ("mode", "any")} for s in raw["steps"]]}


@pytest.mark.parametrize("raw", DEFAULT_FLOWS, ids=[f["key"] for f in DEFAULT_FLOWS])
def test_every_default_flow_survives_the_form_unchanged(raw: dict[str, Any]) -> None:
    assert editor.editable(raw)
    post, count = _as_post(raw)
    assert _meaning(editor.from_post(raw, post, count)) == _meaning(raw)


@pytest.mark.django_db
def test_the_school_admin_changes_who_approves_in_the_form(login_for: Any) -> None:
    admin = signed_in(login_for(Role.SCHOOL_ADMIN))
    definition = Definition.objects.filter(key="teacher_leave").order_by("pk").first()
    assert definition is not None and definition.current is not None
    page = admin.get(f"/workflow/definitions/{definition.pk}/").content.decode()
    assert 'id="steps-form"' in page
    post, count = _as_post(definition.current.spec)
    # step 1 also to the head of 教务处 (或签); a new last step: 校长办公室主任, for leave of 5 days or more
    post.update({"step-0-rule1": "department_head", "step-0-param1": "教务处"})
    post.update(
        {
            "step-2-name": "校长办公室备案",
            "step-2-rule0": "department_head",
            "step-2-param0": "校长办公室",
            "step-2-when_field": "days",
            "step-2-when_op": ">=",
            "step-2-when_value": "5",
        }
    )
    response = admin.post(f"/workflow/definitions/{definition.pk}/", {"form": "steps", "count": count, **post})
    assert response.status_code == 302
    definition.refresh_from_db()
    steps = definition.current.spec["steps"]  # type: ignore[union-attr]
    assert definition.current.number == 2  # type: ignore[union-attr]
    assert steps[0]["approvers"] == [{"rule": "grade_head"}, {"rule": "department_head", "department": "教务处"}]
    assert steps[2] == {
        "id": "step3",
        "name": "校长办公室备案",
        "approvers": [{"rule": "department_head", "department": "校长办公室"}],
        "when": {"field": "days", "op": ">=", "value": 5},
    }

    post.update({"step-2-param0": "不存在的处"})
    refused = admin.post(f"/workflow/definitions/{definition.pk}/", {"form": "steps", "count": count, **post})
    assert refused.status_code == 400 and "找不到任何人" in refused.content.decode()
    assert 'value="不存在的处"' in refused.content.decode()  # what was typed stays in the form
