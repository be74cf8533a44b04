"""Form values for a definition: check what a person typed and keep it as JSON. Pure Python."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .spec import Definition, FieldSpec, FormError

# Resolves a staff field's input (an account id as text) to (account id, label), or None if not staff here;
# a student field's input (a 学籍号) to (student id, label), or None if no such student is at the school.
StaffLookup = Callable[[str], "tuple[int, str] | None"]
StudentLookup = Callable[[str], "tuple[int, str] | None"]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _one(f: FieldSpec, value: Any, staff: StaffLookup | None, student: StudentLookup | None = None) -> Any:
    """One value, cleaned to its JSON form, or raise ValueError with a message for the person."""
    if f.type in ("text", "textarea"):
        text = str(value).strip()
        if f.max_length and len(text) > f.max_length:
            raise ValueError(f"最多 {f.max_length} 个字")
        return text
    if f.type in ("integer", "decimal"):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError("须为数字") from None
        if f.type == "integer" and number != number.to_integral_value():
            raise ValueError("须为整数")
        if f.min is not None and number < f.min:
            raise ValueError(f"不能小于 {f.min}")
        if f.max is not None and number > f.max:
            raise ValueError(f"不能大于 {f.max}")
        return int(number) if f.type == "integer" else str(number.normalize())
    if f.type == "date":
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError("日期格式应为 2026-09-01") from None
    if f.type == "datetime":
        try:
            return dt.datetime.fromisoformat(str(value).strip()).replace(second=0, microsecond=0).isoformat()
        except ValueError:
            raise ValueError("时间格式应为 2026-09-01 08:00") from None
    if f.type == "choice":
        if str(value) not in f.choices:
            raise ValueError("请从选项中选择")
        return str(value)
    if f.type == "multichoice":
        items = [str(v) for v in (value if isinstance(value, list) else [value])]
        if any(v not in f.choices for v in items):
            raise ValueError("请从选项中选择")
        return items
    if f.type == "boolean":
        return str(value).lower() in ("1", "true", "on", "yes", "是")
    if f.type == "staff":
        found = staff(str(value)) if staff else None
        if found is None:
            raise ValueError("找不到这位教职工")
        return {"id": found[0], "label": found[1]}
    if f.type == "student":
        found = student(str(value).strip()) if student else None
        if found is None:
            raise ValueError("本校没有这个学籍号的在校学生")
        return {"id": found[0], "label": found[1], "no": str(value).strip()}
    raise ValueError(f"不支持的字段类型 {f.type}")


def clean(
    defn: Definition,
    data: Mapping[str, Any],
    staff: StaffLookup | None = None,
    student: StudentLookup | None = None,
) -> dict[str, Any]:
    """Check every field; return the values as JSON-ready data or raise FormError with every problem.
    A table field takes a list of row dicts; rows left entirely blank are dropped."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for f in defn.fields:
        value = data.get(f.name)
        if f.type == "table":
            rows = [r for r in (value or []) if isinstance(r, Mapping) and not all(_blank(v) for v in r.values())]
            if len(rows) > f.max_rows:
                errors.setdefault(f.name, []).append(f"最多 {f.max_rows} 行")
            cleaned_rows = []
            for i, row in enumerate(rows, start=1):
                cleaned: dict[str, Any] = {}
                for col in f.columns:
                    cell = row.get(col.name)
                    if _blank(cell):
                        if col.required:
                            errors.setdefault(f.name, []).append(f"第 {i} 行「{col.label}」必填")
                        cleaned[col.name] = None
                        continue
                    try:
                        cleaned[col.name] = _one(col, cell, staff, student)
                    except ValueError as e:
                        errors.setdefault(f.name, []).append(f"第 {i} 行「{col.label}」{e}")
                cleaned_rows.append(cleaned)
            if f.required and not cleaned_rows:
                errors.setdefault(f.name, []).append("至少填写一行")
            out[f.name] = cleaned_rows
            continue
        if _blank(value) and f.type != "boolean":
            if f.required:
                errors.setdefault(f.name, []).append("必填")
            out[f.name] = [] if f.type == "multichoice" else None
            continue
        try:
            out[f.name] = _one(f, value, staff, student)
        except ValueError as e:
            errors.setdefault(f.name, []).append(str(e))
    if errors:
        raise FormError(errors)
    return out


def typed(defn: Definition, stored: Mapping[str, Any]) -> dict[str, Any]:
    """Stored JSON values as Python values for conditions: numbers as Decimal, dates as date."""
    out = dict(stored)
    for f in defn.fields:
        v = stored.get(f.name)
        if v is None:
            continue
        if f.type in ("integer", "decimal"):
            out[f.name] = Decimal(str(v))
        elif f.type == "date":
            out[f.name] = dt.date.fromisoformat(v)
        elif f.type == "datetime":
            out[f.name] = dt.datetime.fromisoformat(v)
        elif f.type in ("staff", "student"):
            out[f.name] = v.get("id") if isinstance(v, Mapping) else v
    return out


def display(f: FieldSpec, value: Any) -> str:
    """A stored value as a person reads it."""
    if value is None or value == []:
        return ""
    if f.type == "boolean":
        return "是" if value else "否"
    if f.type == "multichoice":
        return "、".join(value)
    if f.type in ("staff", "student"):
        return str(value.get("label", "")) if isinstance(value, Mapping) else str(value)
    if f.type == "datetime":
        return str(value).replace("T", " ")[:16]
    return str(value)


def render_title(defn: Definition, stored: Mapping[str, Any]) -> str:
    """The request's title from the definition's template; falls back to the definition's name."""
    if not defn.title:
        return defn.name
    shown = {f.name: display(f, stored.get(f.name)) for f in defn.fields if f.type != "table"}
    try:
        return defn.title.format(**shown)[:200]
    except (KeyError, IndexError, ValueError):
        return defn.name
