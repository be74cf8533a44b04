"""学生请假 as a definition on the approval engine, installed for every school and editable by its admin.

Default chain (the issue's): the homeroom teacher; more than one day adds the grade head; more than three
days adds the head of 学生处. The leave page computes `days` from the window."""

from __future__ import annotations

from typing import Any

STUDENT_LEAVE = "student_leave"
LEAVE_TYPES = ["病假", "事假", "其他"]

DEFAULT_FLOWS: list[dict[str, Any]] = [
    {
        "key": STUDENT_LEAVE,
        "name": "学生请假",
        "category": "学生",
        "title": "{student} {leave_type} {start}至{end}",
        "description": "家长、班主任或学生本人提交；批准后学生只能在请假时间内出校门，返校刷卡即销假。",
        "applicants": ["staff", "guardian", "student"],
        "student_field": "student",
        "fields": [
            {"name": "student", "label": "学生", "type": "student", "required": True},
            {"name": "leave_type", "label": "请假类型", "type": "choice", "required": True, "choices": LEAVE_TYPES},
            {"name": "start", "label": "离校时间", "type": "datetime", "required": True},
            {"name": "end", "label": "返校时间", "type": "datetime", "required": True},
            {"name": "days", "label": "天数", "type": "decimal", "required": True, "min": 0, "max": 365},
            {"name": "reason", "label": "事由", "type": "textarea", "required": True, "max_length": 500},
        ],
        "steps": [
            {
                "id": "homeroom",
                "name": "班主任审批",
                "approvers": [{"rule": "homeroom_teacher", "of": "student"}],
                "time_limit_hours": 4,
                "escalate_to": [{"rule": "grade_head", "of": "student"}],
            },
            {
                "id": "grade_head",
                "name": "年级组长审批",
                "when": {"field": "days", "op": ">", "value": 1},
                "approvers": [{"rule": "grade_head", "of": "student"}],
                "time_limit_hours": 24,
            },
            {
                "id": "student_affairs",
                "name": "学生处审批",
                "when": {"field": "days", "op": ">", "value": 3},
                "approvers": [{"rule": "department_head", "department": "学生处"}],
                "time_limit_hours": 24,
            },
        ],
    }
]
