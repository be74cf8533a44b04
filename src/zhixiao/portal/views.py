"""The home page each role lands on, the audit log, and the error pages."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixiao.kernel import audit, permissions, spreadsheets
from zhixiao.kernel.models import AuditRecord
from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    actor = request.user
    context: dict[str, Any] = {
        "grants": [
            (permissions.ROLE_LABELS.get(g.role, g.role), g.label)
            for g in permissions.grants_of(actor)
            if g.scope is not permissions.Scope.SELF  # "own record" is implied, not a role to show
        ],
        "schools": _school_overview(actor),
        "children": people_selectors.children_of(actor=actor).select_related("admin_class", "school")
        if permissions.roles_of(actor) & {permissions.Role.GUARDIAN}
        else [],
        "my_classes": org_selectors.classes_visible_to(actor=actor).filter(homeroom_teacher_id=actor.pk),
    }
    family = getattr(actor, "kind", "") in ("guardian", "student")  # they see "my children" instead of counts
    if permissions.has_any(actor, permissions.VIEW_STUDENT) and not family:
        context["student_count"] = people_selectors.students_visible_to(actor=actor).count()
    if permissions.has_any(actor, permissions.VIEW_CLASS):
        context["class_count"] = org_selectors.classes_visible_to(actor=actor).count()
    if permissions.has_any(actor, permissions.VIEW_STAFF):
        context["staff_count"] = people_selectors.staff_visible_to(actor=actor).count()
    return render(request, "portal/home.html", context)


def _school_overview(actor: Any) -> list[dict[str, Any]]:
    """For someone who sees several schools (a bureau, a system admin): each school's size at a glance."""
    schools = list(org_selectors.schools_visible_to(actor=actor)[:500])
    if len(schools) < 2:
        return []
    counts = people_selectors.enrolment_by_school(actor=actor)
    empty = {"students": 0, "boarders": 0, "staff": 0}
    largest = max((c["students"] for c in counts.values()), default=0) or 1
    return [
        {"school": s, **counts.get(s.pk, empty), "bar": round(100 * counts.get(s.pk, empty)["students"] / largest)}
        for s in schools
    ]


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """Admins read the audit log of their schools; a system admin also checks the hash chain."""
    actor = request.user
    if not permissions.has_any(actor, permissions.VIEW_AUDIT):
        return forbidden(request)
    schools = org_selectors.schools_where(actor=actor, action=permissions.VIEW_AUDIT)
    is_system = any(g.scope is permissions.Scope.SYSTEM for g in permissions.grants_of(actor))
    qs = AuditRecord.objects.all() if is_system else AuditRecord.objects.filter(school_id__in=schools.values("id"))
    action = request.GET.get("action", "").strip()
    if action:
        qs = qs.filter(action__startswith=action)
    if request.GET.get("export") == "xlsx":
        headers = [_("序号"), _("时间"), _("操作人"), _("操作"), _("对象"), _("说明"), _("变更")]
        rows = (
            [
                r.seq,
                timezone.localtime(r.at).strftime("%Y-%m-%d %H:%M:%S"),
                r.actor_label,
                r.action,
                r.target_label,
                r.note,
                json.dumps(r.changes, ensure_ascii=False),
            ]
            for r in qs.order_by("-seq")[:50_000]
        )
        return spreadsheets.xlsx_response(spreadsheets.write_table(headers, rows, title=_("审计日志")), "audit.xlsx")
    page = Paginator(qs.order_by("-seq"), 50).get_page(request.GET.get("page"))
    chain = None
    if is_system and request.GET.get("verify"):
        chain = audit.verify_chain() or "ok"
    return render(
        request, "portal/audit.html", {"page": page, "action": action, "chain": chain, "is_system": is_system}
    )


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)
