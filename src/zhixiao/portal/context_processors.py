"""The navigation: what the logged-in person may open, computed from the permissions service."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zhixiao.kernel import permissions as p

# (label, url name, action that shows it)
MENU = [
    (_("首页"), "portal:home", None),
    (_("学校"), "org:school", p.VIEW_SCHOOL),
    (_("班级"), "org:classes", p.VIEW_CLASS),
    (_("学生"), "people:students", p.VIEW_STUDENT),
    (_("教职工"), "people:staff", p.VIEW_STAFF),
    (_("校历"), "org:calendar", p.VIEW_SCHOOL),
    (_("任课"), "portal:teaching", p.MANAGE_SCHOOL),
    (_("角色"), "portal:roles", p.MANAGE_SCHOOL),
    (_("导入"), "people:imports", p.IMPORT_STUDENT),
    (_("审计"), "portal:audit", p.VIEW_AUDIT),
    (_("API 密钥"), "identity:api_keys", p.MANAGE_API_KEYS),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    items = []
    for label, name, action in MENU:
        if action is None or p.has_any(user, action):
            url = reverse(name)
            items.append(
                {
                    "label": label,
                    "url": url,
                    "active": request.path == url or (url != "/" and request.path.startswith(url)),
                }
            )
    roles = sorted({str(p.ROLE_LABELS.get(g.role, g.role)) for g in p.grants_of(user)})
    return {"nav": items, "my_roles": roles}
