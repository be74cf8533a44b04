"""The engine's Problem as JSON, so a solve and a published version keep exactly what they were made from.

Tuples become lists in JSON; on the way back the shapes the engine hashes (time slots, a room's real-room
sets, an activity's teachers and sets) are tuples again."""

from __future__ import annotations

from typing import Any

from .engine.model import Activity, Constraint, Problem, Room, StudentSet


def _slot_list(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [tuple(s) if isinstance(s, list | tuple) else s for s in value]
    return value


def _params_in(params: dict[str, Any]) -> dict[str, Any]:
    out = dict(params)
    for key in ("slots",):
        if key in out:
            out[key] = _slot_list(out[key])
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    return value


def _params_out(params: dict[str, Any]) -> dict[str, Any]:
    return {str(k): _plain(v) for k, v in params.items()}


def problem_to_json(problem: Problem) -> dict[str, Any]:
    return {
        "name": problem.name,
        "days": list(problem.days),
        "periods": list(problem.periods),
        "teachers": list(problem.teachers),
        "subjects": list(problem.subjects),
        "tags": list(problem.tags),
        "student_sets": [
            {"name": s.name, "size": s.size, "members": list(s.members), "kind": s.kind}
            for s in problem.student_sets.values()
        ],
        "rooms": [
            {
                "name": r.name,
                "capacity": r.capacity,
                "building": r.building,
                "kind": r.kind,
                "real_room_sets": [list(x) for x in r.real_room_sets],
            }
            for r in problem.rooms.values()
        ],
        "activities": [
            {
                "id": a.id,
                "subject": a.subject,
                "teachers": list(a.teachers),
                "students": list(a.students),
                "duration": a.duration,
                "tags": list(a.tags),
                "group_id": a.group_id,
                "n_students": a.n_students,
                "label": a.label,
            }
            for a in problem.activities
        ],
        "constraints": [
            {"kind": c.kind, "weight": c.weight, "params": _params_out(c.params), "label": c.label}
            for c in problem.constraints
        ],
    }


def problem_from_json(data: dict[str, Any]) -> Problem:
    return Problem(
        name=data.get("name", ""),
        days=list(data["days"]),
        periods=list(data["periods"]),
        teachers=list(data.get("teachers", [])),
        subjects=list(data.get("subjects", [])),
        tags=list(data.get("tags", [])),
        student_sets={
            s["name"]: StudentSet(
                name=s["name"], size=int(s.get("size", 0)), members=tuple(s.get("members", [])), kind=s.get("kind", "")
            )
            for s in data.get("student_sets", [])
        },
        rooms={
            r["name"]: Room(
                name=r["name"],
                capacity=int(r.get("capacity", 10**6)),
                building=r.get("building", ""),
                kind=r.get("kind", ""),
                real_room_sets=tuple(tuple(x) for x in r.get("real_room_sets", [])),
            )
            for r in data.get("rooms", [])
        },
        activities=[
            Activity(
                id=int(a["id"]),
                subject=a["subject"],
                teachers=tuple(a.get("teachers", [])),
                students=tuple(a.get("students", [])),
                duration=int(a.get("duration", 1)),
                tags=tuple(a.get("tags", [])),
                group_id=int(a.get("group_id", 0)),
                n_students=a.get("n_students"),
                label=a.get("label", ""),
            )
            for a in data.get("activities", [])
        ],
        constraints=[
            Constraint(
                kind=c["kind"],
                weight=float(c.get("weight", 100.0)),
                params=_params_in(c.get("params", {})),
                label=c.get("label", ""),
            )
            for c in data.get("constraints", [])
        ],
    )
