"""Definitions as a school admin reads them: each step, who approves and when, in words."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhixiao.kernel.permissions import ROLE_LABELS

from .engine import spec

OP_WORDS = {
    "eq": "=",
    "ne": "≠",
    "gt": ">",
    "ge": "≥",
    "lt": "<",
    "le": "≤",
    "==": "=",
    "!=": "≠",
    ">": ">",
    ">=": "≥",
    "<": "<",
    "<=": "≤",
}


def _whose(rule: spec.ApproverRule, defn: spec.Definition) -> str:
    if rule.of == "applicant":
        return _("申请人")
    f = defn.field_named(rule.of)
    return _("表单中「{label}」").format(label=f.label if f else rule.of)


def rule_words(rule: spec.ApproverRule, defn: spec.Definition) -> str:
    if rule.rule == "principal":
        return _("校长")
    if rule.rule == "role":
        return _("本校的{role}").format(role=ROLE_LABELS.get(rule.role, rule.role))
    if rule.rule == "department_head":
        return _("{dept}主任").format(dept=rule.department) if rule.department else _("申请人所在处室的主任")
    if rule.rule == "grade_head":
        return _("{whose}所在年级的年级组长").format(whose=_whose(rule, defn))
    if rule.rule == "homeroom_teacher":
        return _("{whose}的班主任").format(whose=_whose(rule, defn))
    if rule.rule == "person":
        return _("工号 {no}").format(no=rule.staff_no)
    if rule.rule == "staff_field":
        f = defn.field_named(rule.field)
        return _("表单中「{label}」所填的人").format(label=f.label if f else rule.field)
    return rule.rule


def condition_words(cond: Any, defn: spec.Definition) -> str:
    if cond is None:
        return ""
    if "all" in cond:
        return _("且").join(condition_words(c, defn) for c in cond["all"])
    if "any" in cond:
        return _("或").join(condition_words(c, defn) for c in cond["any"])
    if "not" in cond:
        return _("并非（{c}）").format(c=condition_words(cond["not"], defn))
    f = defn.field_named(cond.get("field", ""))
    label = f.label if f else cond.get("field", "")
    op = str(cond.get("op"))
    if op == "in":
        return _("「{label}」为 {values} 之一").format(label=label, values="、".join(map(str, cond.get("value") or [])))
    if op == "contains":
        return _("「{label}」包含 {value}").format(label=label, value=cond.get("value"))
    if op == "empty":
        return _("「{label}」未填").format(label=label)
    if op == "not_empty":
        return _("「{label}」已填").format(label=label)
    return f"「{label}」{OP_WORDS.get(op, op)} {cond.get('value')}"


MODE_WORDS = {"one": "", "any": gettext_lazy("或签：一人同意即可"), "all": gettext_lazy("会签：须全部同意")}


def steps_in_words(defn: spec.Definition) -> list[dict[str, str]]:
    rows = []
    for s in defn.steps:
        rows.append(
            {
                "name": s.name,
                "approvers": "、".join(rule_words(r, defn) for r in s.approvers),
                "mode": str(MODE_WORDS[s.mode]),
                "when": condition_words(s.when, defn),
                "cc": "、".join(rule_words(r, defn) for r in s.cc),
                "limit": _("{h} 小时内处理").format(h=f"{s.time_limit_hours:g}") if s.time_limit_hours else "",
                "escalate": "、".join(rule_words(r, defn) for r in s.escalate_to),
                "next": s.next or "",
            }
        )
    return rows
