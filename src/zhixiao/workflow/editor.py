"""The step editor: a definition's steps as rows of a form a school admin fills in (who approves, 或签/会签,
when, time limit and escalation, CC), and the form back into the definition. Fields, branches and other
advanced settings stay as they are (the YAML tab edits them). Pure functions over dicts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RULES = ("principal", "grade_head", "department_head", "homeroom_teacher", "role", "person", "staff_field")
OPS = ("==", "!=", ">", ">=", "<", "<=", "in")  # "in": one of a list, written 甲、乙、丙
MAX_RULES = 2  # approver rules per step in the editor (more: the YAML tab)
BLANK_ROWS = 2


def _rule_param(rule: Mapping[str, Any]) -> str:
    return str(rule.get("role") or rule.get("department") or rule.get("staff_no") or rule.get("field") or "")


def _rule_from(kind: str, param: str) -> dict[str, Any] | None:
    kind, param = kind.strip(), param.strip()
    if kind not in RULES:
        return None
    rule: dict[str, Any] = {"rule": kind}
    key = {"role": "role", "department_head": "department", "person": "staff_no", "staff_field": "field"}.get(kind)
    if key and param:
        rule[key] = param
    if kind in ("grade_head", "homeroom_teacher") and param:
        rule["of"] = param  # a student field; empty: the applicant's
    return rule


def simple(step: Mapping[str, Any]) -> bool:
    """Can the editor show this step without losing anything?"""
    when = step.get("when")
    return (
        len(step.get("approvers") or []) <= MAX_RULES
        and not step.get("branches")
        and step.get("next") in (None, "end")
        and len(step.get("cc") or []) <= 1
        and all(r.get("rule") == "principal" for r in step.get("escalate_to") or [])
        and (when is None or ({"field", "op"} <= set(when) and when.get("op") in OPS))
    )


def editable(raw: Mapping[str, Any]) -> bool:
    return all(simple(s) for s in raw.get("steps") or [])


def rows(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per step plus blank rows for new ones, as the template shows them."""
    out = []
    for s in raw.get("steps") or []:
        approvers = list(s.get("approvers") or [])[:MAX_RULES]
        approvers += [{}] * (MAX_RULES - len(approvers))
        when = s.get("when") or {}
        cc = (s.get("cc") or [{}])[0]
        out.append(
            {
                "id": s.get("id", ""),
                "name": s.get("name", ""),
                "rules": [(a.get("rule", ""), _rule_param(a)) for a in approvers],
                "mode": s.get("mode", "any"),
                "when_field": when.get("field", ""),
                "when_op": when.get("op", ""),
                "when_value": _shown(when.get("value")),
                "limit": "" if not s.get("time_limit_hours") else f"{s['time_limit_hours']:g}",
                "escalate": bool(s.get("escalate_to")),
                "cc_rule": cc.get("rule", ""),
                "cc_param": _rule_param(cc),
                "end_after": s.get("next") == "end",
            }
        )
    for _ in range(BLANK_ROWS):
        out.append(
            {
                "id": "",
                "name": "",
                "rules": [("", "")] * MAX_RULES,
                "mode": "any",
                "when_field": "",
                "when_op": "",
                "when_value": "",
                "limit": "",
                "escalate": False,
                "cc_rule": "",
                "cc_param": "",
                "end_after": False,
            }
        )
    return out


def _shown(value: Any) -> str:
    if value is None:
        return ""
    return "、".join(map(str, value)) if isinstance(value, list) else str(value)


def _value(text: str) -> Any:
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number


def from_post(raw: Mapping[str, Any], post: Mapping[str, Any], count: int) -> dict[str, Any]:
    """The definition with its steps replaced by the form's rows (in the order given, rows without a
    name or an approver dropped, rows marked for deletion dropped); everything else unchanged."""
    taken: set[str] = set()
    ordered: list[tuple[float, dict[str, Any]]] = []
    for i in range(count):
        g = lambda name, i=i: str(post.get(f"step-{i}-{name}", "") or "")  # noqa: E731
        approvers = [r for n in range(MAX_RULES) if (r := _rule_from(g(f"rule{n}"), g(f"param{n}")))]
        if g("delete") or not g("name").strip() or not approvers:
            continue
        step: dict[str, Any] = {"id": g("id").strip() or f"step{i + 1}", "name": g("name").strip()}
        while step["id"] in taken:
            step["id"] += "_"
        taken.add(step["id"])
        step["approvers"] = approvers
        if g("mode") == "all":  # 或签 is the default, left unwritten
            step["mode"] = "all"
        if g("when_field") and g("when_op") in OPS:
            text = g("when_value").strip()
            value = (
                [v.strip() for v in text.replace(",", "、").split("、") if v.strip()]
                if g("when_op") == "in"
                else _value(text)
            )
            step["when"] = {"field": g("when_field"), "op": g("when_op"), "value": value}
        if g("limit").strip():
            step["time_limit_hours"] = _value(g("limit").strip())
        if g("escalate"):
            step["escalate_to"] = [{"rule": "principal"}]
        if cc := _rule_from(g("cc_rule"), g("cc_param")):
            step["cc"] = [cc]
        if g("end_after"):
            step["next"] = "end"
        try:
            order = float(g("order") or i)
        except ValueError:
            order = float(i)
        ordered.append((order, step))
    return {**raw, "steps": [s for _, s in sorted(ordered, key=lambda pair: pair[0])]}
