"""Workflow definitions as data: parse, validate and route. Pure Python, no Django.

A definition is a form (typed fields) plus steps. Steps run in list order unless a step that ran names
its `next` step or `branches` (conditional jumps); a step with `when` runs only when its condition holds
on the form values, otherwise the flow goes on to the step listed after it, as if it were not there.
Parsing checks everything that can be checked without the school (unknown fields in conditions,
duplicate ids, cycles, unreachable steps); whether an approver rule finds anybody is asked through `probe`.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

END = "end"

FIELD_TYPES = frozenset(
    {
        "text",
        "textarea",
        "integer",
        "decimal",
        "date",
        "datetime",
        "choice",
        "multichoice",
        "boolean",
        "staff",
        "student",
        "table",
    }
)
MODES = frozenset({"one", "any", "all"})
APPROVER_RULES = frozenset(
    {"principal", "role", "department_head", "grade_head", "homeroom_teacher", "person", "staff_field"}
)
OPS = {"==": "eq", "!=": "ne", ">": "gt", ">=": "ge", "<": "lt", "<=": "le"}
OP_NAMES = frozenset({"eq", "ne", "gt", "ge", "lt", "le", "in", "contains", "empty", "not_empty"})


class SpecError(ValueError):
    """A definition that cannot be saved; `problems` are sentences for the person editing it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class FormError(ValueError):
    """Form values that do not fit the definition; `errors` maps a field name to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: str
    required: bool = False
    choices: tuple[str, ...] = ()
    min: Decimal | None = None
    max: Decimal | None = None
    max_length: int | None = None
    columns: tuple[FieldSpec, ...] = ()  # for "table": the columns of each row
    max_rows: int = 20
    help: str = ""


@dataclass(frozen=True)
class ApproverRule:
    rule: str
    role: str = ""
    department: str = ""  # a department's name or code
    of: str = "applicant"  # whose grade/class: "applicant" or a form field naming a student
    staff_no: str = ""
    field: str = ""

    def describe(self) -> str:
        parts = [self.rule]
        for name in ("role", "department", "staff_no", "field"):
            if getattr(self, name):
                parts.append(f"{name}={getattr(self, name)}")
        if self.rule in ("grade_head", "homeroom_teacher"):
            parts.append(f"of={self.of}")
        return " ".join(parts)


@dataclass(frozen=True)
class Branch:
    when: Any
    goto: str


@dataclass(frozen=True)
class StepSpec:
    id: str
    name: str
    approvers: tuple[ApproverRule, ...]
    mode: str = "any"
    when: Any = None
    cc: tuple[ApproverRule, ...] = ()
    next: str | None = None
    branches: tuple[Branch, ...] = ()
    time_limit_hours: float | None = None
    escalate_to: tuple[ApproverRule, ...] = ()


@dataclass(frozen=True)
class Definition:
    key: str
    name: str
    fields: tuple[FieldSpec, ...]
    steps: tuple[StepSpec, ...]
    title: str = ""  # a format string over the form values, e.g. "{leave_type} {days}天"
    cc_on_finish: tuple[ApproverRule, ...] = ()
    allow_attachments: bool = True
    description: str = ""
    # who may file it: staff always; "guardian" (for their own child) and "student" (for themselves) when listed,
    # the child being the student named in `student_field`
    applicants: tuple[str, ...] = ("staff",)
    student_field: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def step(self, step_id: str) -> StepSpec:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def field_named(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


# --- parsing ---------------------------------------------------------------------------------------


def _rules(raw: Any, where: str, problems: list[str]) -> tuple[ApproverRule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(f"{where}: 应为列表")
        return ()
    out = []
    for item in raw:
        if not isinstance(item, Mapping) or item.get("rule") not in APPROVER_RULES:
            problems.append(f"{where}: 未知的审批人规则 {item!r}（可用：{'、'.join(sorted(APPROVER_RULES))}）")
            continue
        rule = ApproverRule(
            rule=str(item["rule"]),
            role=str(item.get("role", "")),
            department=str(item.get("department", "")),
            of=str(item.get("of", "applicant")),
            staff_no=str(item.get("staff_no", "")),
            field=str(item.get("field", "")),
        )
        if rule.rule == "role" and not rule.role:
            problems.append(f"{where}: 规则 role 须指定 role")
        if rule.rule == "person" and not rule.staff_no:
            problems.append(f"{where}: 规则 person 须指定 staff_no（工号）")
        if rule.rule == "staff_field" and not rule.field:
            problems.append(f"{where}: 规则 staff_field 须指定 field")
        out.append(rule)
    return tuple(out)


def _field(raw: Any, where: str, problems: list[str]) -> FieldSpec | None:
    if not isinstance(raw, Mapping) or not raw.get("name") or raw.get("type") not in FIELD_TYPES:
        problems.append(f"{where}: 字段须有 name 和 type（可用类型：{'、'.join(sorted(FIELD_TYPES))}）")
        return None
    choices = tuple(str(c) for c in raw.get("choices", ()) or ())
    if raw["type"] in ("choice", "multichoice") and not choices:
        problems.append(f"{where}: 选择字段 {raw['name']} 须列出 choices")
    columns: tuple[FieldSpec, ...] = ()
    if raw["type"] == "table":
        cols = [_field(c, f"{where}.{raw['name']}", problems) for c in raw.get("columns", []) or []]
        columns = tuple(c for c in cols if c is not None)
        if not columns:
            problems.append(f"{where}: 表格字段 {raw['name']} 须列出 columns")
        if any(c.type == "table" for c in columns):
            problems.append(f"{where}: 表格字段不能嵌套表格")

    def number(key: str) -> Decimal | None:
        if raw.get(key) is None:
            return None
        try:
            return Decimal(str(raw[key]))
        except InvalidOperation:
            problems.append(f"{where}: {key} 须为数字")
            return None

    return FieldSpec(
        name=str(raw["name"]),
        label=str(raw.get("label") or raw["name"]),
        type=str(raw["type"]),
        required=bool(raw.get("required", False)),
        choices=choices,
        min=number("min"),
        max=number("max"),
        max_length=int(raw["max_length"]) if raw.get("max_length") else None,
        columns=columns,
        max_rows=int(raw.get("max_rows", 20)),
        help=str(raw.get("help", "")),
    )


def _check_condition(cond: Any, fields: set[str], where: str, problems: list[str]) -> None:
    if cond is None:
        return
    if not isinstance(cond, Mapping):
        problems.append(f"{where}: 条件格式不对：{cond!r}")
        return
    for combinator in ("all", "any"):
        if combinator in cond:
            parts = cond[combinator]
            if not isinstance(parts, list) or not parts:
                problems.append(f"{where}: {combinator} 须为非空列表")
                return
            for part in parts:
                _check_condition(part, fields, where, problems)
            return
    if "not" in cond:
        _check_condition(cond["not"], fields, where, problems)
        return
    name, op = cond.get("field"), OPS.get(str(cond.get("op")), cond.get("op"))
    if name not in fields:
        problems.append(f"{where}: 条件引用了不存在的字段 {name!r}")
    if op not in OP_NAMES:
        problems.append(f"{where}: 不支持的比较 {cond.get('op')!r}")


def parse(raw: Any, probe: Callable[[ApproverRule], bool] | None = None) -> Definition:
    """Turn a dict (from the editor, YAML or JSON) into a Definition, or raise SpecError listing every
    problem. `probe(rule)` says whether an approver rule finds at least one person in the school."""
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise SpecError(["流程定义须为一个对象（键值对）"])
    key, name = str(raw.get("key", "")).strip(), str(raw.get("name", "")).strip()
    if not key or not key.replace("_", "").isalnum() or not key.isascii():
        problems.append("key 须为英文字母、数字或下划线")
    if not name:
        problems.append("须填写流程名称 name")
    fields = tuple(f for i, r in enumerate(raw.get("fields", []) or []) if (f := _field(r, f"字段{i + 1}", problems)))
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        problems.append("字段名重复：" + "、".join(sorted({n for n in names if names.count(n) > 1})))
    field_names = set(names)
    raw_steps = raw.get("steps", []) or []
    if not isinstance(raw_steps, list) or not raw_steps:
        problems.append("至少需要一个审批步骤 steps")
        raw_steps = []
    steps: list[StepSpec] = []
    for i, rs in enumerate(raw_steps):
        where = f"步骤{i + 1}"
        if not isinstance(rs, Mapping) or not rs.get("id"):
            problems.append(f"{where}: 须有 id")
            continue
        where = f"步骤 {rs['id']}"
        mode = str(rs.get("mode", "any"))
        if mode not in MODES:
            problems.append(f"{where}: mode 须为 one（单人）、any（或签）或 all（会签）")
        approvers = _rules(rs.get("approvers"), where, problems)
        if not approvers:
            problems.append(f"{where}: 须指定审批人 approvers")
        _check_condition(rs.get("when"), field_names, where, problems)
        branches = []
        for b in rs.get("branches", []) or []:
            if not isinstance(b, Mapping) or "goto" not in b:
                problems.append(f"{where}: 分支须有 goto")
                continue
            _check_condition(b.get("when"), field_names, where, problems)
            branches.append(Branch(when=b.get("when"), goto=str(b["goto"])))
        limit = rs.get("time_limit_hours")
        steps.append(
            StepSpec(
                id=str(rs["id"]),
                name=str(rs.get("name") or rs["id"]),
                approvers=approvers,
                mode=mode,
                when=rs.get("when"),
                cc=_rules(rs.get("cc"), where, problems),
                next=str(rs["next"]) if rs.get("next") else None,
                branches=tuple(branches),
                time_limit_hours=float(limit) if limit else None,
                escalate_to=_rules(rs.get("escalate_to"), where, problems),
            )
        )
    ids = [s.id for s in steps]
    if len(set(ids)) != len(ids):
        problems.append("步骤 id 重复：" + "、".join(sorted({i for i in ids if ids.count(i) > 1})))
    if END in ids:
        problems.append(f"步骤 id 不能叫 {END}")
    known = set(ids) | {END}
    for s in steps:
        for target in [s.next, *(b.goto for b in s.branches)]:
            if target is not None and target not in known:
                problems.append(f"步骤 {s.id}: 跳转到不存在的步骤 {target}")
        for rule in [*s.approvers, *s.cc, *s.escalate_to]:
            if rule.rule == "staff_field" and (f := dict(zip(names, fields, strict=True)).get(rule.field)) is None:
                problems.append(f"步骤 {s.id}: 审批人字段 {rule.field} 不存在")
            elif rule.rule == "staff_field" and f is not None and f.type != "staff":
                problems.append(f"步骤 {s.id}: 审批人字段 {rule.field} 须为 staff 类型")
            elif rule.of not in ("applicant",) and rule.of not in field_names:
                problems.append(f"步骤 {s.id}: of 须为 applicant 或一个表单字段，{rule.of} 不存在")
    if not problems:
        problems.extend(_graph_problems(steps))
    cc_on_finish = _rules(raw.get("cc_on_finish"), "cc_on_finish", problems)
    applicants = raw.get("applicants", ["staff"])
    if not isinstance(applicants, list) or not set(applicants) <= {"staff", "guardian", "student"}:
        problems.append("applicants 须为 staff、guardian、student 组成的列表")
        applicants = ["staff"]
    student_field = str(raw.get("student_field", ""))
    if set(applicants) - {"staff"}:
        f = next((f for f in fields if f.name == student_field), None)
        if f is None or f.type != "student" or not f.required:
            problems.append("家长或学生可发起的流程须用 student_field 指明一个必填的 student 字段")
    if not problems and probe is not None:
        seen: set[ApproverRule] = set()
        for s in steps:
            for rule in [*s.approvers, *s.cc, *s.escalate_to]:
                if rule in seen or rule.rule in ("staff_field",) or rule.of != "applicant":
                    continue
                seen.add(rule)
                if rule.rule in ("grade_head", "homeroom_teacher"):
                    continue  # depends on who applies; checked when a request starts (fallback: school admin)
                if not probe(rule):
                    problems.append(f"步骤 {s.id}: 审批人规则「{rule.describe()}」在本校找不到任何人")
    if problems:
        raise SpecError(problems)
    return Definition(
        key=key,
        name=name,
        fields=fields,
        steps=tuple(steps),
        title=str(raw.get("title", "")),
        cc_on_finish=cc_on_finish,
        allow_attachments=bool(raw.get("allow_attachments", True)),
        description=str(raw.get("description", "")),
        applicants=("staff", *[a for a in applicants if a != "staff"]),
        student_field=student_field,
        raw=dict(raw),
    )


def _following(steps: list[StepSpec], index: int) -> str:
    return steps[index + 1].id if index + 1 < len(steps) else END


def _successors(steps: list[StepSpec], index: int) -> list[str]:
    """Where the flow may go after step `index`: its branches and its `next` when it ran, and the step
    listed after it when its condition skips it."""
    s = steps[index]
    out = [b.goto for b in s.branches] + [s.next or _following(steps, index)]
    if s.when is not None:
        out.append(_following(steps, index))
    return out


def _graph_problems(steps: list[StepSpec]) -> list[str]:
    """Cycles and steps that no path from the first step reaches."""
    graph = {s.id: [t for t in _successors(steps, i) if t != END] for i, s in enumerate(steps)}
    problems = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                problems.append("步骤形成循环：" + " → ".join(cycle))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    visit(steps[0].id, [steps[0].id])
    unreachable = [s.id for s in steps if s.id not in state]
    if unreachable:
        problems.append("以下步骤永远不会被执行到：" + "、".join(unreachable))
    return problems


# --- conditions and routing ------------------------------------------------------------------------


_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


def _compare(value: Any, op: str, expected: Any) -> bool:
    if op == "empty":
        return value in (None, "", [], {})
    if op == "not_empty":
        return value not in (None, "", [], {})
    if value is None:
        return False
    if op == "in":
        return value in (expected or [])
    if op == "contains":
        return expected in (value or [])
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        try:
            expected = Decimal(str(expected))
            value = Decimal(str(value))
        except InvalidOperation:
            return False
    elif isinstance(value, (dt.date, dt.datetime)) and isinstance(expected, str):
        value = value.isoformat()
    try:
        return bool(_COMPARISONS[op](value, expected))
    except TypeError:
        return False


def holds(cond: Any, values: Mapping[str, Any]) -> bool:
    """Evaluate a condition over the form values (no condition holds)."""
    if cond is None:
        return True
    if "all" in cond:
        return all(holds(c, values) for c in cond["all"])
    if "any" in cond:
        return any(holds(c, values) for c in cond["any"])
    if "not" in cond:
        return not holds(cond["not"], values)
    op = OPS.get(str(cond["op"]), str(cond["op"]))
    return _compare(values.get(cond["field"]), op, cond.get("value"))


def next_step(defn: Definition, values: Mapping[str, Any], after: str | None) -> StepSpec | None:
    """The step that runs after `after` (None: the first), skipping steps whose `when` does not hold."""
    steps = list(defn.steps)
    index = {s.id: i for i, s in enumerate(steps)}
    if after is None:
        candidate: str = steps[0].id
    else:
        i = index[after]
        s = steps[i]
        candidate = next((b.goto for b in s.branches if holds(b.when, values)), None) or s.next or _following(steps, i)
    for _ in range(len(steps) + 1):  # a validated graph has no cycle; the bound is a guard
        if candidate == END:
            return None
        s = steps[index[candidate]]
        if holds(s.when, values):
            return s
        candidate = _following(steps, index[candidate])
    return None


def planned_route(defn: Definition, values: Mapping[str, Any]) -> list[StepSpec]:
    """Every step this request will pass through with its current values (for the progress bar)."""
    route: list[StepSpec] = []
    step = next_step(defn, values, None)
    while step is not None and len(route) <= len(defn.steps):  # validation rules out cycles; bound anyway
        route.append(step)
        step = next_step(defn, values, step.id)
    return route


# --- step decisions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vote:
    """One approver's task on a step: `required` marks an added approver (加签), who must approve too."""

    status: str  # waiting | approved | rejected
    required: bool = False


def step_outcome(mode: str, votes: list[Vote]) -> str:
    """approved / rejected / waiting for a step: any-of (或签) needs one approval, all-of (会签) needs every
    approver; a rejection by anyone ends the step; added approvers must approve in either mode."""
    if any(v.status == "rejected" for v in votes):
        return "rejected"
    required = [v for v in votes if v.required]
    others = [v for v in votes if not v.required]
    if any(v.status != "approved" for v in required):
        return "waiting"
    if mode == "all":
        return "approved" if all(v.status == "approved" for v in others) else "waiting"
    return "approved" if any(v.status == "approved" for v in others) or not others else "waiting"
