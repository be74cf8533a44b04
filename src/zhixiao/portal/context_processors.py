"""The navigation: what the logged-in person may open, computed from the permissions service."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import pgettext_lazy

from zhixiao.academics import selectors as academics_selectors
from zhixiao.kernel import permissions as p
from zhixiao.omr import selectors as omr_selectors
from zhixiao.timetable import selectors as timetable_selectors
from zhixiao.workflow import selectors as workflow_selectors

STAFF = "staff"  # shown to staff accounts: the office is where staff file and approve requests


def _family(user: Any) -> bool:
    """Guardians and students: their own arrivals, departures and leave."""
    return getattr(user, "kind", "") in ("guardian", "student")


def _own_timetable(user: Any) -> bool:
    """Teachers, students and guardians: their own published timetable."""
    return getattr(user, "kind", "") in (STAFF, "guardian", "student")


def _staff_attendance(user: Any) -> bool:
    return getattr(user, "kind", "") == STAFF and p.has_any(user, p.VIEW_ATTENDANCE)


# (label, url name, action that shows it); the "menu" context lets English say "Classes" here
# and "Class" in a table heading, where Chinese uses 班级 for both.
MENU = [
    (pgettext_lazy("menu", "首页"), "portal:home", None),
    (pgettext_lazy("menu", "办公"), "office:home", STAFF),
    (pgettext_lazy("menu", "审批"), "workflow:lists", STAFF),
    (pgettext_lazy("menu", "我的课表"), "timetable:my", _own_timetable),
    (pgettext_lazy("menu", "到校与请假"), "attendance:my", _family),
    (pgettext_lazy("menu", "我的成绩"), "academics:mine", _family),
    (pgettext_lazy("menu", "考勤"), "attendance:days", _staff_attendance),
    (pgettext_lazy("menu", "人脸识别授权"), "faces:guardian", lambda user: getattr(user, "kind", "") == "guardian"),
    (pgettext_lazy("menu", "全部学校"), "portal:schools", p.MANAGE_SYSTEM),
    (pgettext_lazy("menu", "学校"), "org:school", p.VIEW_SCHOOL),
    (pgettext_lazy("menu", "班级"), "org:classes", p.VIEW_CLASS),
    (pgettext_lazy("menu", "学生"), "people:students", p.VIEW_STUDENT),
    (pgettext_lazy("menu", "教职工"), "people:staff", p.VIEW_STAFF),
    (pgettext_lazy("menu", "校历"), "org:calendar", p.VIEW_SCHOOL),
    (pgettext_lazy("menu", "任课"), "portal:teaching", p.MANAGE_SCHOOL),
    (pgettext_lazy("menu", "排课"), "timetable:plans", timetable_selectors.may_use),
    (pgettext_lazy("menu", "阅卷"), "omr:papers", omr_selectors.may_use),
    (pgettext_lazy("menu", "考试"), "academics:exams", academics_selectors.may_use),
    (pgettext_lazy("menu", "角色"), "portal:roles", p.MANAGE_SCHOOL),
    (pgettext_lazy("menu", "导入"), "people:imports", p.IMPORT_STUDENT),
    (pgettext_lazy("menu", "流程设置"), "workflow:definitions", p.MANAGE_WORKFLOWS),
    (pgettext_lazy("menu", "考勤设置"), "attendance:settings", p.MANAGE_ATTENDANCE),
    (pgettext_lazy("menu", "设备"), "devices:list", p.MANAGE_DEVICES),
    (pgettext_lazy("menu", "人脸库"), "faces:school", p.MANAGE_DEVICES),
    (pgettext_lazy("menu", "审计"), "portal:audit", p.VIEW_AUDIT),
    (pgettext_lazy("menu", "API 密钥"), "identity:api_keys", p.MANAGE_API_KEYS),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    items = []
    is_staff = getattr(user, "kind", "") == STAFF
    for label, name, action in MENU:
        if callable(action):
            shown = action(user)
        else:
            shown = action is None or (action == STAFF and is_staff) or (action != STAFF and p.has_any(user, action))
        if shown:
            url = reverse(name)
            items.append(
                {
                    "label": label,
                    "url": url,
                    "active": request.path == url or (url != "/" and request.path.startswith(url)),
                    "badge": workflow_selectors.counts(actor=user)["todo"] if name == "workflow:lists" else 0,
                }
            )
    roles = sorted({str(p.ROLE_LABELS.get(g.role, g.role)) for g in p.grants_of(user)})
    return {"nav": items, "my_roles": roles}
