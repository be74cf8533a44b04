"""The smart office's default flows, installed for every school and edited by its admin afterwards.

Each is ordinary workflow data; the office app adds only what the flow's outcome means for the school
(lessons covered by a colleague, a repair dispatched and done)."""

from __future__ import annotations

from typing import Any

TEACHER_LEAVE = "teacher_leave"
REPAIR = "repair"
SEAL = "seal"
VEHICLE = "vehicle"
GENERAL = "general"

LEAVE_TYPES = ["事假", "病假", "公假", "婚假", "丧假", "产假", "陪产假", "育儿假", "年休假", "其他"]
REPAIR_CATEGORIES_IT = ["电脑/网络", "多媒体/投影", "广播/监控"]
REPAIR_CATEGORIES_GENERAL = ["水电", "门窗/桌椅", "空调", "照明", "其他"]

DEFAULT_FLOWS: list[dict[str, Any]] = [
    {
        "key": TEACHER_LEAVE,
        "name": "教师请假",
        "category": "人事",
        "title": "{leave_type} {start}至{end}（{days}天）",
        "description": "三天及以上的请假报校长审批；有课的请写明调代课安排，批准后代课教师会收到通知。",
        "fields": [
            {"name": "leave_type", "label": "请假类型", "type": "choice", "required": True, "choices": LEAVE_TYPES},
            {"name": "start", "label": "开始日期", "type": "date", "required": True},
            {"name": "end", "label": "结束日期", "type": "date", "required": True},
            {"name": "days", "label": "天数", "type": "decimal", "required": True, "min": 0.5, "max": 365},
            {"name": "reason", "label": "事由", "type": "textarea", "required": True, "max_length": 500},
            {
                "name": "lessons",
                "label": "需调代的课",
                "type": "table",
                "max_rows": 40,
                "columns": [
                    {"name": "date", "label": "日期", "type": "date", "required": True},
                    {"name": "period", "label": "节次", "type": "integer", "required": True, "min": 1, "max": 12},
                    {"name": "class_name", "label": "班级", "type": "text", "required": True, "max_length": 50},
                    {"name": "subject", "label": "科目", "type": "text", "max_length": 20},
                    {"name": "substitute", "label": "代课教师", "type": "staff", "required": True},
                ],
            },
        ],
        "steps": [
            {
                "id": "grade_head",
                "name": "年级组长审批",
                "approvers": [{"rule": "grade_head"}],
                "time_limit_hours": 24,
                "escalate_to": [{"rule": "principal"}],
            },
            {
                "id": "principal",
                "name": "校长审批",
                "when": {"field": "days", "op": ">=", "value": 3},
                "approvers": [{"rule": "principal"}],
                "time_limit_hours": 48,
            },
        ],
        "cc_on_finish": [{"rule": "department_head", "department": "教务处"}],
    },
    {
        "key": REPAIR,
        "name": "报修",
        "category": "后勤",
        "title": "{category}：{place}",
        "description": "电脑、网络、多媒体由信息中心受理，其他由总务处受理；修好后请评价。",
        "fields": [
            {"name": "place", "label": "地点", "type": "text", "required": True, "max_length": 100},
            {
                "name": "category",
                "label": "类别",
                "type": "choice",
                "required": True,
                "choices": REPAIR_CATEGORIES_IT + REPAIR_CATEGORIES_GENERAL,
            },
            {"name": "description", "label": "故障描述", "type": "textarea", "required": True, "max_length": 500},
            {"name": "urgent", "label": "紧急（影响上课）", "type": "boolean"},
        ],
        "steps": [
            {
                "id": "it_centre",
                "name": "信息中心受理",
                "when": {"field": "category", "op": "in", "value": REPAIR_CATEGORIES_IT},
                "approvers": [
                    {"rule": "department_head", "department": "信息中心"},
                    {"rule": "role", "role": "it_staff"},
                ],
                "mode": "any",
                "time_limit_hours": 4,
                "next": "end",
            },
            {
                "id": "general_affairs",
                "name": "总务处受理",
                "approvers": [{"rule": "department_head", "department": "总务处"}],
                "time_limit_hours": 8,
            },
        ],
    },
    {
        "key": SEAL,
        "name": "用印申请",
        "category": "行政",
        "title": "用印：{document}（{seal}）",
        "fields": [
            {"name": "document", "label": "文件名称", "type": "text", "required": True, "max_length": 100},
            {
                "name": "seal",
                "label": "印章",
                "type": "choice",
                "required": True,
                "choices": ["学校公章", "党组织印章", "校长签名章", "财务专用章"],
            },
            {"name": "copies", "label": "份数", "type": "integer", "required": True, "min": 1, "max": 500},
            {"name": "purpose", "label": "用途", "type": "textarea", "required": True, "max_length": 300},
        ],
        "steps": [
            {"id": "department", "name": "处室负责人审核", "approvers": [{"rule": "department_head"}]},
            {
                "id": "office",
                "name": "校长办公室审批",
                "approvers": [{"rule": "department_head", "department": "校长办公室"}],
            },
        ],
    },
    {
        "key": VEHICLE,
        "name": "用车申请",
        "category": "行政",
        "title": "用车：{destination} {departure}",
        "fields": [
            {"name": "departure", "label": "出发时间", "type": "datetime", "required": True},
            {"name": "return_at", "label": "返回时间", "type": "datetime", "required": True},
            {"name": "destination", "label": "目的地", "type": "text", "required": True, "max_length": 100},
            {"name": "passengers", "label": "人数", "type": "integer", "required": True, "min": 1, "max": 60},
            {"name": "purpose", "label": "事由", "type": "textarea", "required": True, "max_length": 300},
        ],
        "steps": [
            {
                "id": "general_affairs",
                "name": "总务处派车",
                "approvers": [{"rule": "department_head", "department": "总务处"}],
            },
            {
                "id": "principal",
                "name": "校长审批",
                "when": {"field": "passengers", "op": ">", "value": 7},
                "approvers": [{"rule": "principal"}],
            },
        ],
    },
    {
        "key": GENERAL,
        "name": "通用申请",
        "category": "行政",
        "title": "{subject}",
        "fields": [
            {"name": "subject", "label": "事项", "type": "text", "required": True, "max_length": 100},
            {"name": "content", "label": "内容", "type": "textarea", "required": True, "max_length": 1000},
            {"name": "amount", "label": "涉及金额（元）", "type": "decimal", "min": 0, "max": 10000000},
        ],
        "steps": [
            {"id": "department", "name": "处室负责人审核", "approvers": [{"rule": "department_head"}]},
            {
                "id": "principal",
                "name": "校长审批",
                "when": {"field": "amount", "op": ">=", "value": 5000},
                "approvers": [{"rule": "principal"}],
            },
        ],
    },
]
