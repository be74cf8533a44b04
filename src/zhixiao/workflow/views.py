"""Pages of the approval engine: the four lists (待我审批, 我已审批, 我发起的, 抄送我的) with approve/reject in
place, a request with its timeline, the form to file a request, and the school admin's flow editor."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from zhixiao.kernel import permissions
from zhixiao.kernel.converters import row_id
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.people import selectors as people_selectors

from . import editor, presenters, selectors, services
from .engine import forms, spec
from .models import RequestStatus, TaskStatus

PAGE_SIZE = 20
RULE_LABELS = {
    "principal": gettext_lazy("校长"),
    "grade_head": gettext_lazy("年级组长（可填学生字段）"),
    "department_head": gettext_lazy("处室主任（填处室名）"),
    "homeroom_teacher": gettext_lazy("班主任（可填学生字段）"),
    "role": gettext_lazy("角色（填角色代码）"),
    "person": gettext_lazy("指定人员（填工号）"),
    "staff_field": gettext_lazy("表单所选人员（填字段名）"),
}
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})
TAB_LABELS = {
    selectors.TODO: gettext_lazy("待我审批"),
    selectors.DONE: gettext_lazy("我已审批"),
    selectors.MINE: gettext_lazy("我发起的"),
    selectors.CC: gettext_lazy("抄送我的"),
}


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _uploads(request: HttpRequest, name: str = "files") -> list[services.Upload]:
    return [
        services.Upload(name=f.name or "file", content_type=f.content_type or "application/octet-stream", data=f.read())
        for f in request.FILES.getlist(name)
    ]


@login_required
def lists(request: HttpRequest) -> HttpResponse:
    """One page, four tabs; filters by kind, status, title/number and dates."""
    actor, g = request.user, request.GET
    tab = g.get("tab") or ""
    if tab not in selectors.TABS:
        tab = selectors.TODO
    f = selectors.Filters(
        key=g.get("key", ""),
        status=g.get("status", ""),
        q=g.get("q", "").strip(),
        since=_date(g.get("since")),
        until=_date(g.get("until")),
    )
    qs: Any = {
        selectors.TODO: selectors.waiting_tasks,
        selectors.DONE: selectors.decided_requests,
        selectors.MINE: selectors.my_requests,
        selectors.CC: selectors.carbons,
    }[tab](actor=actor, filters=f)
    page = Paginator(qs, PAGE_SIZE).get_page(g.get("page"))
    params = {k: str(v) for k, v in g.items() if k != "page" and v}
    school_id = people_selectors.home_school_id(actor)
    return render(
        request,
        "workflow/lists.html",
        {
            "tab": tab,
            "tabs": [(k, TAB_LABELS[k]) for k in selectors.TABS],
            "counts": selectors.counts(actor=actor),
            "page": page,
            "f": g,
            "kinds": selectors.definitions_to_start(actor=actor, school_id=school_id) if school_id else [],
            "statuses": RequestStatus.choices,
            "querystring_base": urlencode(params) + "&" if params else "",
        },
    )


def _staff_options(school_id: int) -> list[tuple[int, str]]:
    return people_selectors.staff_choices(school_id=school_id)


def _form_rows(defn: spec.Definition, values: dict[str, Any], errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    """What the form template needs per field: its spec, current raw value(s) and errors."""
    out = []
    for f in defn.fields:
        value = values.get(f.name)
        row: dict[str, Any] = {"f": f, "value": value, "errors": errors.get(f.name, [])}
        if f.type == "table":
            rows = list(value or [])
            blank = max(3, len(rows) + 2) if len(rows) < f.max_rows else len(rows)
            rows = rows + [{}] * (min(blank, f.max_rows) - len(rows))
            row["rows"] = [
                [
                    (c, (r.get(c.name) or "") if isinstance(r, dict) else "", f"{f.name}__{i}__{c.name}")
                    for c in f.columns
                ]
                for i, r in enumerate(rows)
            ]
        elif f.type == "staff" and isinstance(value, dict):
            row["value"] = str(value.get("id"))
        elif f.type == "student" and isinstance(value, dict):
            row["value"] = value.get("no", "")
        out.append(row)
    return out


def _read_form(defn: spec.Definition, post: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for f in defn.fields:
        if f.type == "multichoice":
            data[f.name] = post.getlist(f.name)
        elif f.type == "table":
            rows = []
            for i in range(f.max_rows):
                cells = {c.name: post.get(f"{f.name}__{i}__{c.name}", "") for c in f.columns}
                rows.append(cells)
            data[f.name] = rows
        else:
            data[f.name] = post.get(f.name)
    return data


def _form_page(
    request: HttpRequest, *, defn: spec.Definition, school_id: int, title: str, submit: Any, initial: dict[str, Any]
) -> HttpResponse:
    values, errors, error = initial, {}, ""
    if request.method == "POST":
        values = _read_form(defn, request.POST)
        try:
            ref = submit(values, _uploads(request))
        except services.FormInvalid as e:
            errors, error = e.errors, str(e)
        except DomainError as e:
            error = str(e)
        else:
            messages.success(request, _("已提交：{title}").format(title=ref.title))
            return redirect("workflow:request", ref.id)
    route = spec.planned_route(defn, forms.typed(defn, {}))
    return render(
        request,
        "workflow/start.html",
        {
            "defn": defn,
            "title": title,
            "fields": _form_rows(defn, values, errors),
            "error": error,
            "staff": _staff_options(school_id),
            "route": route,
        },
        status=400 if error else 200,
    )


@login_required
def new(request: HttpRequest) -> HttpResponse:
    staff = people_selectors.staff_by_account(int(request.user.pk or 0))  # only staff file requests (for now)
    kinds = selectors.definitions_to_start(actor=request.user, school_id=staff.school_id) if staff else []
    return render(request, "workflow/new.html", {"kinds": kinds})


@login_required
def start(request: HttpRequest, key: str) -> HttpResponse:
    staff = people_selectors.staff_by_account(int(request.user.pk or 0))
    if staff is None:
        return render(request, "403.html", status=403)
    definition = selectors.definition_to_start(school_id=staff.school_id, key=key)
    if definition is None or definition.current is None:
        raise Http404
    defn = services.definition_of(definition.current)
    return _form_page(
        request,
        defn=defn,
        school_id=staff.school_id,
        title=defn.name,
        initial={},
        submit=lambda data, files: services.start_request(actor=request.user, key=key, data=data, files=files),
    )


@login_required
def resubmit(request: HttpRequest, request_id: int) -> HttpResponse:
    req = selectors.request_for(actor=request.user, request_id=request_id)
    if req is None:
        raise Http404
    if req.applicant_id != request.user.pk or req.status != RequestStatus.RETURNED:
        return render(request, "403.html", status=403)
    defn = services.definition_of(req.version)
    return _form_page(
        request,
        defn=defn,
        school_id=req.school_id,
        title=_("修改后重新提交：{title}").format(title=req.title),
        initial=dict(req.values),
        submit=lambda data, files: services.resubmit(actor=request.user, request_id=req.pk, data=data, files=files),
    )


@login_required
def detail(request: HttpRequest, request_id: int) -> HttpResponse:
    req = selectors.request_for(actor=request.user, request_id=request_id)
    if req is None:
        raise Http404
    services.mark_carbons_read(actor=request.user, request_id=req.pk)
    defn = services.definition_of(req.version)
    shown = []
    for f in defn.fields:
        value = req.values.get(f.name)
        if f.type == "table":
            shown.append({"f": f, "table": [[forms.display(c, r.get(c.name)) for c in f.columns] for r in value or []]})
        else:
            shown.append({"f": f, "text": forms.display(f, value)})
    tasks = list(selectors.tasks_of(req))
    route = spec.planned_route(defn, forms.typed(defn, req.values))
    passed = {t.step for t in tasks if t.round == req.round and t.status == TaskStatus.APPROVED}
    return render(
        request,
        "workflow/detail.html",
        {
            "req": req,
            "defn": defn,
            "shown": shown,
            "timeline": selectors.timeline(req),
            "tasks": tasks,
            "route": [
                {
                    "name": s.name,
                    "mode": s.mode,
                    "state": "current" if s.id == req.current_step else ("done" if s.id in passed else ""),
                }
                for s in route
            ],
            "task": selectors.my_open_task(actor=request.user, request=req),
            "is_applicant": req.applicant_id == request.user.pk,
            "staff": _staff_options(req.school_id),
        },
    )


@login_required
@require_POST
def decide(request: HttpRequest, task_id: int) -> HttpResponse:
    """Approve, reject or return — from the request page or in place from 待我审批 (htmx swaps the row)."""
    decision = request.POST.get("decision", "")
    comment = request.POST.get("comment", "")
    try:
        ref = services.decide(
            actor=request.user, task_id=task_id, decision=decision, comment=comment, files=_uploads(request)
        )
    except NotPermitted:
        return render(request, "403.html", status=403)
    except DomainError as e:
        if request.headers.get("HX-Request"):
            return render(request, "workflow/_row_result.html", {"error": str(e), "task_id": task_id}, status=409)
        messages.error(request, str(e))
        return redirect(request.POST.get("next") or "workflow:lists")
    label = {"approve": _("已同意"), "reject": _("已驳回"), "return": _("已退回修改")}[decision]
    if request.headers.get("HX-Request"):
        return render(request, "workflow/_row_result.html", {"label": label, "ref": ref, "task_id": task_id})
    messages.success(request, f"{label}：{ref.title}")
    return redirect("workflow:request", ref.id)


def _task_action(request: HttpRequest, task_id: int, act: Any, done: str) -> HttpResponse:
    account_id = row_id(request.POST.get("account")) or 0  # 0: nobody chosen, refused after the task check
    try:
        ref = act(actor=request.user, task_id=task_id, account_id=account_id, comment=request.POST.get("comment", ""))
    except NotPermitted:
        return render(request, "403.html", status=403)
    except DomainError as e:
        messages.error(request, str(e))
        return redirect(request.POST.get("next") or "workflow:lists")
    messages.success(request, done)
    return redirect("workflow:request", ref.id)


@login_required
@require_POST
def delegate(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_action(
        request,
        task_id,
        lambda **kw: services.delegate(
            actor=kw["actor"], task_id=kw["task_id"], to_account_id=kw["account_id"], comment=kw["comment"]
        ),
        _("已转交"),
    )


@login_required
@require_POST
def add_approver(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_action(request, task_id, services.add_approver, _("已加签"))


def _applicant_action(request: HttpRequest, request_id: int, act: Any, done: Any) -> HttpResponse:
    """Withdraw or remind: hidden requests are 404, someone else's 403, a refused action a message."""
    if selectors.request_for(actor=request.user, request_id=request_id) is None:
        raise Http404
    try:
        result = act()
    except NotPermitted:
        return render(request, "403.html", status=403)
    except DomainError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, done(result))
    return redirect("workflow:request", request_id)


@login_required
@require_POST
def withdraw(request: HttpRequest, request_id: int) -> HttpResponse:
    return _applicant_action(
        request,
        request_id,
        lambda: services.withdraw(actor=request.user, request_id=request_id, comment=request.POST.get("comment", "")),
        lambda _ref: _("已撤回"),
    )


@login_required
@require_POST
def remind(request: HttpRequest, request_id: int) -> HttpResponse:
    return _applicant_action(
        request,
        request_id,
        lambda: services.remind(actor=request.user, request_id=request_id),
        lambda n: _("已提醒 {n} 位审批人").format(n=n),
    )


@login_required
def attachment(request: HttpRequest, attachment_id: int) -> HttpResponse:
    att = selectors.attachment_for(actor=request.user, attachment_id=attachment_id)
    if att is None:
        raise Http404
    response = HttpResponse(bytes(att.data), content_type=att.content_type)
    # shown in the browser only when it cannot carry a script (no SVG or HTML); everything else downloads
    disposition = "inline" if att.content_type in INLINE_TYPES else "attachment"
    response["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{_quote(att.name)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


# --- the school admin's flow editor ------------------------------------------------------------------


@login_required
def definitions(request: HttpRequest) -> HttpResponse:
    if not permissions.has_any(request.user, permissions.MANAGE_WORKFLOWS):
        return render(request, "403.html", status=403)
    problems: list[str] = []
    school_id = people_selectors.home_school_id(request.user)
    if request.method == "POST" and school_id:
        upload = request.FILES.get("file")
        text = upload.read().decode("utf-8", errors="replace") if upload else request.POST.get("text", "")
        try:
            saved = services.import_definitions(actor=request.user, school_id=school_id, text=text)
        except services.DefinitionInvalid as e:
            problems = e.problems
        except DomainError as e:
            problems = [str(e)]
        else:
            messages.success(request, _("已导入 {n} 个流程").format(n=len(saved)))
            return redirect("workflow:definitions")
    return render(
        request,
        "workflow/definitions.html",
        {"definitions": selectors.definitions_managed(actor=request.user), "problems": problems},
        status=400 if problems else 200,
    )


@login_required
def definition_edit(request: HttpRequest, definition_id: int) -> HttpResponse:
    definition = selectors.definition_managed(actor=request.user, definition_id=definition_id)
    if definition is None:
        raise Http404
    problems: list[str] = []
    text = services.export_definition(definition)
    current = dict(definition.current.spec) if definition.current else {}
    step_rows = editor.rows(current)
    if request.method == "POST":
        text = request.POST.get("text", "")
        try:
            if request.POST.get("form") == "steps":
                count = min(int(request.POST.get("count") or 0), 50)
                raw = editor.from_post(current, request.POST, count)
                step_rows = editor.rows(raw)
                text = services.export_definition(definition)
            else:
                items = services.load_definitions_text(text)
                if len(items) != 1 or items[0].get("key") != definition.key:
                    raise services.DefinitionInvalid(
                        [_("这里只能修改本流程，key 须为 {key}").format(key=definition.key)]
                    )
                raw = items[0]
            services.save_definition(actor=request.user, school_id=definition.school_id, raw=raw)
        except services.DefinitionInvalid as e:
            problems = e.problems
        except DomainError as e:
            problems = [str(e)]
        else:
            messages.success(request, _("已保存为新版本；进行中的申请仍按原版本审批"))
            return redirect("workflow:definition_edit", definition.pk)
    return render(
        request,
        "workflow/definition_edit.html",
        {
            "d": definition,
            "text": text,
            "problems": problems,
            "versions": definition.versions.select_related("created_by").order_by("-number")[:20],
            "steps": presenters.steps_in_words(services.definition_of(definition.current))
            if definition.current
            else [],
            "fields": services.definition_of(definition.current).fields if definition.current else [],
            "step_rows": step_rows,
            "steps_editable": editor.editable(current),
            "rules": [(r, RULE_LABELS[r]) for r in editor.RULES],
            "ops": editor.OPS,
        },
        status=400 if problems else 200,
    )


@login_required
def definition_export(request: HttpRequest, definition_id: int) -> HttpResponse:
    definition = selectors.definition_managed(actor=request.user, definition_id=definition_id)
    if definition is None:
        raise Http404
    fmt = "json" if request.GET.get("fmt") == "json" else "yaml"
    response = HttpResponse(
        services.export_definition(definition, fmt),
        content_type="application/json" if fmt == "json" else "application/yaml; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{definition.key}.{fmt}"'
    return response


@login_required
@require_POST
def definition_active(request: HttpRequest, definition_id: int) -> HttpResponse:
    definition = selectors.definition_managed(actor=request.user, definition_id=definition_id)
    if definition is None:
        raise Http404
    services.set_definition_active(
        actor=request.user, definition_id=definition.pk, active=request.POST.get("active") == "1"
    )
    return redirect("workflow:definitions")
