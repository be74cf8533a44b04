"""Write actions of the approval engine. Every action locks the request row first (an UPDATE, so SQLite
and PostgreSQL both serialise on it), checks, changes, writes the timeline and the audit log, queues the
notifications in the same transaction, and publishes the outcome to the module that owns the definition.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixiao.kernel import audit, permissions
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.notifications import services as notifications
from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors

from . import events, resolvers
from .engine import forms, spec
from .models import (
    FINAL_STATUSES,
    Action,
    ActionKind,
    Attachment,
    Carbon,
    Definition,
    DefinitionVersion,
    Request,
    RequestStatus,
    Task,
    TaskOrigin,
    TaskStatus,
)

ALLOWED_ATTACHMENT_TYPES = (
    "image/",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument",
    "application/msword",
    "application/vnd.ms-excel",
    "text/plain",
)
MAX_ATTACHMENTS = 9


class DefinitionInvalid(DomainError):
    """A definition that cannot be saved; `problems` lists each reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(_("流程定义有误：") + "；".join(problems))
        self.problems = problems


class FormInvalid(DomainError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(_("表单填写有误"))
        self.errors = errors


@dataclass(frozen=True)
class Upload:
    """A file as the services take it (views turn Django's uploads into these)."""

    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class RequestRef:
    id: int
    number: str
    title: str
    status: str


def _ref(req: Request) -> RequestRef:
    return RequestRef(id=req.pk, number=req.number, title=req.title, status=req.status)


# --- definitions ---------------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _parsed(version_id: int, spec_json: str) -> spec.Definition:
    return spec.parse(json.loads(spec_json))


def definition_of(version: DefinitionVersion) -> spec.Definition:
    """A version's parsed definition (versions never change, so the parse is cached)."""
    return _parsed(version.pk, json.dumps(version.spec, sort_keys=True, ensure_ascii=False))


def _require_manage(actor: Any, school_id: int) -> None:
    if actor is None:
        return  # system seeding (a new school's default flows, the demo)
    if not org_selectors.schools_where(actor=actor, action=permissions.MANAGE_WORKFLOWS).filter(pk=school_id).exists():
        raise NotPermitted(_("没有权限修改本校的审批流程"))


def save_definition(
    *, actor: Any, school_id: int, raw: Mapping[str, Any], module: str = "", check_people: bool = True
) -> Definition:
    """Save a definition as its next version. Refused (nothing written) when it has cycles, unreachable
    steps, unknown fields or an approver rule that finds nobody in the school (`check_people=False`
    only for the system's default flows in a new school, whose people are not appointed yet)."""
    _require_manage(actor, school_id)
    try:
        parsed = spec.parse(raw, probe=resolvers.probe_for(school_id) if check_people else None)
    except spec.SpecError as e:
        raise DefinitionInvalid(e.problems) from None
    with transaction.atomic():
        definition, created = Definition.objects.select_for_update().get_or_create(
            school_id=school_id,
            key=parsed.key,
            defaults={"name": parsed.name, "category": str(raw.get("category", "")), "module": module},
        )
        current = definition.current
        if current is not None and current.spec == dict(raw):
            return definition
        number = (definition.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        version = DefinitionVersion.objects.create(
            school_id=school_id,
            definition=definition,
            number=number,
            spec=dict(raw),
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        definition.current = version
        definition.name = parsed.name
        definition.category = str(raw.get("category", definition.category))
        if module:
            definition.module = module
        definition.save()
        audit.record(
            actor=actor,
            action="workflow.definition.save",
            target=definition,
            changes={"version": number, "created": created},
            school_id=school_id,
        )
    return definition


def definition_keys(*, school_id: int) -> list[str]:
    return list(Definition.objects.filter(school_id=school_id).values_list("key", flat=True))


def set_definition_active(*, actor: Any, definition_id: int, active: bool) -> Definition:
    definition = Definition.objects.get(pk=definition_id)
    _require_manage(actor, definition.school_id)
    with transaction.atomic():
        definition.active = active
        definition.save(update_fields=["active"])
        audit.record(actor=actor, action="workflow.definition.active", target=definition, changes={"active": active})
    return definition


def load_definitions_text(text: str) -> list[dict[str, Any]]:
    """YAML or JSON (JSON is YAML) holding one definition or a list of them."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = _("第 {line} 行").format(line=mark.line + 1) if mark is not None else ""
        raise DefinitionInvalid([_("无法读取 YAML/JSON {where}").format(where=where).strip()]) from None
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(i, dict) for i in items):
        raise DefinitionInvalid([_("文件须包含一个或多个流程定义（键值对）")])
    return items


def import_definitions(*, actor: Any, school_id: int, text: str) -> list[Definition]:
    """Import one or several definitions: all are checked first; any problem and none is saved."""
    items = load_definitions_text(text)
    problems: list[str] = []
    probe = resolvers.probe_for(school_id)
    for item in items:
        try:
            spec.parse(item, probe=probe)
        except spec.SpecError as e:
            problems.extend(f"{item.get('key', '?')}: {p}" for p in e.problems)
    if problems:
        raise DefinitionInvalid(problems)
    with transaction.atomic():
        return [save_definition(actor=actor, school_id=school_id, raw=item) for item in items]


def export_definition(definition: Definition, fmt: str = "yaml") -> str:
    data = (definition.current.spec if definition.current else {}) | {"category": definition.category}
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


# --- requests ----------------------------------------------------------------------------------------


def _staff_lookup(school_id: int) -> forms.StaffLookup:
    choices: dict[str, str] | None = None

    def lookup(value: str) -> tuple[int, str] | None:
        nonlocal choices
        if choices is None:
            choices = {str(pk): label for pk, label in people_selectors.staff_choices(school_id=school_id)}
        return (int(value), choices[value]) if value in choices else None

    return lookup


def _student_lookup(school_id: int) -> forms.StudentLookup:
    def lookup(student_no: str) -> tuple[int, str] | None:
        return people_selectors.enrolled_student_by_no(school_id=school_id, student_no=student_no)

    return lookup


def _clean(defn: spec.Definition, school_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return forms.clean(defn, data, staff=_staff_lookup(school_id), student=_student_lookup(school_id))
    except spec.FormError as e:
        raise FormInvalid(e.errors) from None


def _check_uploads(files: Sequence[Upload]) -> None:
    limit = int(getattr(settings, "ZHIXIAO_MAX_UPLOAD_BYTES", 20 * 1024 * 1024))
    if len(files) > MAX_ATTACHMENTS:
        raise DomainError(_("附件最多 {n} 个").format(n=MAX_ATTACHMENTS))
    for f in files:
        if len(f.data) > limit:
            raise DomainError(_("附件 {name} 太大").format(name=f.name))
        if not f.content_type.startswith(ALLOWED_ATTACHMENT_TYPES):
            raise DomainError(_("附件 {name} 的类型不支持（可上传图片、PDF、Office 文档）").format(name=f.name))


def _attach(req: Request, action: Action | None, files: Sequence[Upload], actor: Any) -> None:
    Attachment.objects.bulk_create(
        [
            Attachment(
                school_id=req.school_id,
                request=req,
                action=action,
                name=f.name[:200],
                content_type=f.content_type[:100],
                size=len(f.data),
                data=f.data,
                uploaded_by_id=getattr(actor, "pk", None),
            )
            for f in files
        ]
    )


def _log(req: Request, kind: str, actor: Any, comment: str = "", step_name: str = "", **data: Any) -> Action:
    return Action.objects.create(
        school_id=req.school_id,
        request=req,
        kind=kind,
        actor_id=getattr(actor, "pk", None) if actor is not None and not isinstance(actor, int) else actor,
        step_name=step_name,
        comment=comment[:500],
        data=data,
    )


def _url(req: Request) -> str:
    return reverse("workflow:request", args=[req.pk])


def _context(req: Request, defn: spec.Definition, **extra: Any) -> dict[str, Any]:
    return {
        "title": req.title,
        "kind": defn.name,
        "number": req.number,
        "applicant": _names([req.applicant_id], req)[0],
        "step": req.current_step_name,
        **extra,
    }


def _notify(req: Request, recipients: Iterable[int], template: str, dedup: str, context: dict[str, Any]) -> None:
    ids = sorted(set(recipients))
    if ids:
        notifications.notify(
            recipients=ids,
            template=template,
            context=context,
            dedup_key=f"wf:{req.pk}:{dedup}",
            school_id=req.school_id,
            url=_url(req),
        )


def _publish(req: Request, event: str, actor: Any) -> None:
    events.publish(
        events.RequestEvent(
            event=event,
            request_id=req.pk,
            number=req.number,
            key=req.definition.key,
            school_id=req.school_id,
            applicant_id=req.applicant_id,
            title=req.title,
            values=dict(req.values),
            actor_id=getattr(actor, "pk", None),
        )
    )


def _carbon(req: Request, defn: spec.Definition, rules: Iterable[spec.ApproverRule], step_id: str) -> None:
    values = forms.typed(defn, req.values)
    ids: set[int] = set()
    for rule in rules:
        ids.update(resolvers.resolve(rule, school_id=req.school_id, applicant_id=req.applicant_id, values=values))
    ids.discard(req.applicant_id)
    new = ids - set(Carbon.objects.filter(request=req, account_id__in=ids).values_list("account_id", flat=True))
    if not new:
        return
    Carbon.objects.bulk_create(
        [Carbon(school_id=req.school_id, request=req, account_id=a, step=step_id) for a in sorted(new)]
    )
    _log(req, ActionKind.CC, None, names=_names(new, req))
    _notify(req, new, "workflow.cc", f"cc:{step_id}", _context(req, defn))


def _names(ids: Iterable[int], req: Request | None = None) -> list[str]:
    """People's names for the timeline and messages (remembered on the request for the rest of the action)."""
    wanted = sorted(set(ids))
    known: dict[int, str] = getattr(req, "_names", {}) if req is not None else {}
    missing = [i for i in wanted if i not in known]
    if missing:
        known.update(people_selectors.staff_choices_for(account_ids=missing))
        if req is not None:
            req._names = known  # type: ignore[attr-defined]
    return [known.get(i, str(i)) for i in wanted]


def _add_tasks(
    req: Request,
    defn: spec.Definition,
    step: spec.StepSpec,
    assignees: Iterable[int],
    origin: str,
    required: bool = False,
    now: dt.datetime | None = None,
) -> list[Task]:
    now = now or timezone.now()
    due = now + dt.timedelta(hours=step.time_limit_hours) if step.time_limit_hours else None
    tasks = [
        Task(
            school_id=req.school_id,
            request=req,
            step=step.id,
            step_name=step.name,
            round=req.round,
            assignee_id=a,
            origin=origin,
            required=required,
            due_at=due,
            created_at=now,
        )
        for a in dict.fromkeys(assignees)
    ]
    Task.objects.bulk_create(tasks)
    for t in Task.objects.filter(request=req, round=req.round, step=step.id, status=TaskStatus.WAITING).filter(
        assignee_id__in=[t.assignee_id for t in tasks]
    ):
        _notify(req, [t.assignee_id], "workflow.pending", f"task:{t.pk}", _context(req, defn))
    if due is not None:
        from . import tasks as background

        limit = dt.timedelta(hours=step.time_limit_hours or 0)
        transaction.on_commit(lambda: background.enqueue_overdue_check(due, limit))
    return tasks


def _enter(req: Request, defn: spec.Definition, step: spec.StepSpec | None, actor: Any) -> None:
    """Move the request into `step` (None: the flow is complete), skipping steps the applicant approves."""
    values = forms.typed(defn, req.values)
    while step is not None:
        assignees: list[int] = []
        for rule in step.approvers:
            assignees.extend(
                resolvers.resolve(rule, school_id=req.school_id, applicant_id=req.applicant_id, values=values)
            )
        req.current_step, req.current_step_name = step.id, step.name
        if req.applicant_id in assignees:
            # the applicant holds this step themselves (a grade head's own leave): their part passes, as in
            # any OA system; in a 会签 step the other approvers still decide
            _log(req, ActionKind.APPROVE, req.applicant_id, _("申请人即本步审批人，自动通过"), step.name)
            assignees = [a for a in assignees if a != req.applicant_id]
            if step.mode != "all" or not assignees:
                if step.cc:
                    _carbon(req, defn, step.cc, step.id)
                step = spec.next_step(defn, values, step.id)
                continue
        origin = TaskOrigin.RULE
        if not assignees:
            assignees = [a for a in resolvers.school_admins(req.school_id) if a != req.applicant_id]
            origin = TaskOrigin.FALLBACK
            _log(
                req,
                ActionKind.FALLBACK,
                None,
                _("找不到审批人（{rules}），转学校管理员").format(
                    rules="；".join(r.describe() for r in step.approvers)
                ),
                step.name,
            )
        if not assignees:
            raise DomainError(_("本校没有可处理此申请的审批人，请联系学校管理员"))
        req.save(update_fields=["current_step", "current_step_name", "updated_at"])
        _add_tasks(req, defn, step, assignees, origin)
        _log(req, ActionKind.STEP, None, "", step.name, assignees=_names(assignees, req))
        if step.cc:
            _carbon(req, defn, step.cc, step.id)
        return
    _finish(req, defn, RequestStatus.APPROVED, actor)


def _finish(req: Request, defn: spec.Definition, status: str, actor: Any, comment: str = "") -> None:
    now = timezone.now()
    req.status = status
    req.finished_at = now
    req.current_step, req.current_step_name = "", ""
    req.save(update_fields=["status", "finished_at", "current_step", "current_step_name", "updated_at"])
    waiting = list(Task.objects.filter(request=req, status=TaskStatus.WAITING).values_list("assignee_id", flat=True))
    Task.objects.filter(request=req, status=TaskStatus.WAITING).update(status=TaskStatus.CLOSED, decided_at=now)
    _log(req, ActionKind.FINISH, None, "", "", status=status)
    template = {
        RequestStatus.APPROVED: "workflow.approved",
        RequestStatus.REJECTED: "workflow.rejected",
        RequestStatus.WITHDRAWN: "workflow.withdrawn",
    }[RequestStatus(status)]
    ctx = _context(req, defn, actor=_names([actor.pk], req)[0] if getattr(actor, "pk", None) else "", comment=comment)
    if status == RequestStatus.WITHDRAWN:
        _notify(req, waiting, template, f"r{req.round}:withdrawn", ctx)
    else:
        _notify(req, [req.applicant_id], template, f"r{req.round}:{status}", ctx)
        if status == RequestStatus.APPROVED and defn.cc_on_finish:
            _carbon(req, defn, defn.cc_on_finish, "finish")
    _publish(req, status, actor)


def _lock(request_id: int) -> Request:
    """Take the request's row lock (an UPDATE: PostgreSQL locks the row, SQLite takes its write lock) and read
    it afresh, so whatever follows sees every earlier decision and no later one can interleave."""
    if not Request.objects.filter(pk=request_id).update(updated_at=timezone.now()):
        raise DomainError(_("申请不存在"))
    return Request.objects.select_related("version", "definition").get(pk=request_id)


def _non_staff_applicant(actor: Any, defn: spec.Definition, values: Mapping[str, Any]) -> None:
    """A guardian files for their own child, a student for themselves, where the definition allows it."""
    kind = getattr(actor, "kind", "")
    if kind not in defn.applicants or kind == "staff":
        raise NotPermitted(_("只有在职教职工可以发起申请"))
    named = values.get(defn.student_field) or {}
    student_id = int(named.get("id", 0)) if isinstance(named, Mapping) else 0
    if kind == "guardian" and not people_selectors.is_guardian_of(account_id=actor.pk, student_id=student_id):
        raise NotPermitted(_("只能为自己的孩子提交申请"))
    if kind == "student":
        own = people_selectors.student_of_account(actor.pk)
        if own is None or own.pk != student_id:
            raise NotPermitted(_("学生只能为自己提交申请"))


def start_request(
    *, actor: Any, key: str, data: Mapping[str, Any], files: Sequence[Upload] = (), school_id: int | None = None
) -> RequestRef:
    """A staff member files a request with their school's current version of definition `key`; a guardian or a
    student may file one whose definition lists them (a student leave), naming the school."""
    staff = people_selectors.staff_by_account(actor.pk) if getattr(actor, "pk", None) else None
    if staff is not None and staff.status == "active":
        school_id = school_id or int(staff.school_id)
        if int(staff.school_id) != school_id:
            raise NotPermitted(_("只能向本校发起申请"))
    elif school_id is None or getattr(actor, "kind", "") not in ("guardian", "student"):
        raise NotPermitted(_("只有在职教职工可以发起申请"))
    definition = Definition.objects.filter(school_id=school_id, key=key, active=True).select_related("current").first()
    if definition is None or definition.current is None:
        raise DomainError(_("本校没有启用这个流程"))
    defn = definition_of(definition.current)
    values = _clean(defn, school_id, data)
    if staff is None or staff.status != "active":
        _non_staff_applicant(actor, defn, values)
    _check_uploads(files)
    if files and not defn.allow_attachments:
        raise DomainError(_("此流程不接受附件"))
    with transaction.atomic():
        now = timezone.now()
        req = Request.objects.create(
            school_id=school_id,
            version=definition.current,
            definition=definition,
            number=f"tmp-{now.timestamp()}-{actor.pk}",
            title=forms.render_title(defn, values),
            applicant_id=actor.pk,
            values=values,
            created_at=now,
            updated_at=now,
        )
        req.number = f"{timezone.localdate(now):%Y%m%d}{req.pk:06d}"
        req.save(update_fields=["number"])
        submitted = _log(req, ActionKind.SUBMIT, actor, "", "", version=definition.current.number)
        _attach(req, submitted, files, actor)
        audit.record(actor=actor, action="workflow.request.submit", target=req, school_id=school_id)
        _publish(req, events.SUBMITTED, actor)
        _enter(req, defn, spec.next_step(defn, forms.typed(defn, values), None), actor)
    return _ref(req)


def _open_task(actor: Any, task_id: int) -> tuple[Request, Task, spec.Definition]:
    request_id = Task.objects.filter(pk=task_id).values_list("request_id", flat=True).first()
    if request_id is None:
        raise DomainError(_("审批任务不存在"))
    req = _lock(request_id)
    task = Task.objects.get(pk=task_id)
    if task.assignee_id != getattr(actor, "pk", None):
        raise NotPermitted(_("这不是您的审批任务"))
    if task.status != TaskStatus.WAITING or req.status != RequestStatus.RUNNING:
        raise DomainError(_("该审批已处理（可能已由他人审批或申请已撤回），请刷新页面"))
    return req, task, definition_of(req.version)


DECISIONS = {
    "approve": (TaskStatus.APPROVED, ActionKind.APPROVE),
    "reject": (TaskStatus.REJECTED, ActionKind.REJECT),
    "return": (TaskStatus.RETURNED, ActionKind.RETURN),
}


def decide(*, actor: Any, task_id: int, decision: str, comment: str = "", files: Sequence[Upload] = ()) -> RequestRef:
    """An approver decides their task: approve; reject (the request ends); or return it to the applicant
    for changes. A step completes by its mode: any-of (或签) on one approval, all-of (会签) on all."""
    with transaction.atomic():
        req, task, defn = _open_task(actor, task_id)
        if decision not in DECISIONS:
            raise DomainError(_("未知的审批操作"))
        if decision in ("reject", "return") and not comment.strip():
            raise DomainError(_("驳回或退回时请填写理由"))
        _check_uploads(files)
        status, kind = DECISIONS[decision]
        now = timezone.now()
        if not Task.objects.filter(pk=task.pk, status=TaskStatus.WAITING).update(
            status=status, decided_at=now, comment=comment[:500]
        ):
            raise DomainError(_("该审批已处理，请刷新页面"))
        action = _log(req, kind, actor, comment, task.step_name)
        _attach(req, action, files, actor)
        audit.record(
            actor=actor, action=f"workflow.task.{decision}", target=req, note=comment[:200], school_id=req.school_id
        )
        if decision == "return":
            Task.objects.filter(request=req, status=TaskStatus.WAITING).update(status=TaskStatus.CLOSED, decided_at=now)
            req.status = RequestStatus.RETURNED
            req.save(update_fields=["status", "updated_at"])
            ctx = _context(req, defn, actor=_names([actor.pk], req)[0], comment=comment)
            _notify(req, [req.applicant_id], "workflow.returned", f"r{req.round}:returned", ctx)
            _publish(req, events.RETURNED, actor)
            return _ref(req)
        step = defn.step(task.step)
        votes = [
            spec.Vote(status=s, required=r)
            for s, r in Task.objects.filter(request=req, step=task.step, round=req.round)
            .exclude(status__in=[TaskStatus.DELEGATED, TaskStatus.CLOSED])
            .values_list("status", "required")
        ]
        outcome = spec.step_outcome(step.mode, votes)
        if outcome == "rejected":
            _finish(req, defn, RequestStatus.REJECTED, actor, comment)
        elif outcome == "approved":
            Task.objects.filter(request=req, step=task.step, round=req.round, status=TaskStatus.WAITING).update(
                status=TaskStatus.CLOSED, decided_at=now
            )
            _enter(req, defn, spec.next_step(defn, forms.typed(defn, req.values), step.id), actor)
    return _ref(req)


def withdraw(*, actor: Any, request_id: int, comment: str = "") -> RequestRef:
    """The applicant takes back a request before its final decision."""
    with transaction.atomic():
        req = _lock(request_id)
        if req.applicant_id != getattr(actor, "pk", None):
            raise NotPermitted(_("只有申请人可以撤回"))
        if req.status in FINAL_STATUSES:
            raise DomainError(_("申请已有最终结果，不能撤回"))
        _log(req, ActionKind.WITHDRAW, actor, comment)
        audit.record(actor=actor, action="workflow.request.withdraw", target=req, school_id=req.school_id)
        _finish(req, definition_of(req.version), RequestStatus.WITHDRAWN, actor, comment)
    return _ref(req)


def resubmit(*, actor: Any, request_id: int, data: Mapping[str, Any], files: Sequence[Upload] = ()) -> RequestRef:
    """The applicant corrects a returned request; it starts again from the first step (same version)."""
    _check_uploads(files)
    with transaction.atomic():
        req = _lock(request_id)
        if req.applicant_id != getattr(actor, "pk", None):
            raise NotPermitted(_("只有申请人可以修改"))
        if req.status != RequestStatus.RETURNED:
            raise DomainError(_("只有退回修改的申请可以重新提交"))
        defn = definition_of(req.version)
        before = req.values
        req.values = _clean(defn, req.school_id, data)
        req.title = forms.render_title(defn, req.values)
        req.status = RequestStatus.RUNNING
        req.round = F("round") + 1
        req.save(update_fields=["values", "title", "status", "round", "updated_at"])
        req.refresh_from_db(fields=["round"])
        action = _log(req, ActionKind.RESUBMIT, actor, "", "", changes=audit.diff(before, req.values))
        _attach(req, action, files, actor)
        audit.record(
            actor=actor,
            action="workflow.request.resubmit",
            target=req,
            changes=audit.diff(before, req.values),
            school_id=req.school_id,
        )
        _publish(req, events.SUBMITTED, actor)
        _enter(req, defn, spec.next_step(defn, forms.typed(defn, req.values), None), actor)
    return _ref(req)


def _serving(req: Request, account_id: int) -> None:
    if not people_selectors.serving_staff_accounts(school_id=req.school_id, account_ids=[account_id]):
        raise DomainError(_("只能选择本校在职教职工"))
    if account_id == req.applicant_id:
        raise DomainError(_("不能交给申请人本人审批"))


def _new_approver(req: Request, task: Task, account_id: int) -> None:
    """Someone joining a step (转交 or 加签): serving staff of the school, not the applicant, not already on it.
    The request's row lock makes the check hold until the task is written."""
    _serving(req, account_id)
    if Task.objects.filter(
        request=req, step=task.step, round=req.round, assignee_id=account_id, status=TaskStatus.WAITING
    ).exists():
        raise DomainError(_("对方已是本步骤的审批人"))


def delegate(*, actor: Any, task_id: int, to_account_id: int, comment: str = "") -> RequestRef:
    """转交: the approver hands their task to a colleague, who decides in their place."""
    with transaction.atomic():
        req, task, defn = _open_task(actor, task_id)
        _new_approver(req, task, to_account_id)
        Task.objects.filter(pk=task.pk).update(status=TaskStatus.DELEGATED, decided_at=timezone.now(), comment=comment)
        _add_tasks(req, defn, defn.step(task.step), [to_account_id], TaskOrigin.DELEGATED, required=task.required)
        _log(req, ActionKind.DELEGATE, actor, comment, task.step_name, to=_names([to_account_id], req)[0])
        audit.record(
            actor=actor,
            action="workflow.task.delegate",
            target=req,
            changes={"to": to_account_id},
            school_id=req.school_id,
        )
    return _ref(req)


def add_approver(*, actor: Any, task_id: int, account_id: int, comment: str = "") -> RequestRef:
    """加签: the approver asks a colleague to approve this step too; the step cannot pass without them."""
    with transaction.atomic():
        req, task, defn = _open_task(actor, task_id)
        _new_approver(req, task, account_id)
        _add_tasks(req, defn, defn.step(task.step), [account_id], TaskOrigin.ADDED, required=True)
        _log(req, ActionKind.ADD_APPROVER, actor, comment, task.step_name, to=_names([account_id], req)[0])
        audit.record(
            actor=actor,
            action="workflow.task.add_approver",
            target=req,
            changes={"added": account_id},
            school_id=req.school_id,
        )
    return _ref(req)


def remind(*, actor: Any, request_id: int) -> int:
    """催办: the applicant nudges the current approvers (at most once an hour). Returns how many were told."""
    with transaction.atomic():
        req = _lock(request_id)
        if req.applicant_id != getattr(actor, "pk", None):
            raise NotPermitted(_("只有申请人可以催办"))
        if req.status != RequestStatus.RUNNING:
            raise DomainError(_("申请不在审批中"))
        waiting = list(
            Task.objects.filter(request=req, status=TaskStatus.WAITING).values_list("assignee_id", flat=True)
        )
        hour = timezone.now().strftime("%Y%m%d%H")
        _log(req, ActionKind.REMIND, actor, "", req.current_step_name)
        _notify(req, waiting, "workflow.reminder", f"remind:{hour}", _context(req, definition_of(req.version)))
    return len(waiting)


def process_overdue(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Tasks past their step's time limit: remind the approver once; past twice the limit, hand the task to
    the step's escalation approvers (超时升级). Idempotent; run by the worker. Returns (reminded, escalated)."""
    now = now or timezone.now()
    reminded = escalated = 0
    due = Task.objects.filter(status=TaskStatus.WAITING, due_at__lte=now).values_list("pk", "request_id")
    for task_id, request_id in list(due):
        with transaction.atomic():
            req = _lock(request_id)
            task = Task.objects.get(pk=task_id)
            if task.status != TaskStatus.WAITING or req.status != RequestStatus.RUNNING or task.due_at is None:
                continue
            defn = definition_of(req.version)
            step = defn.step(task.step)
            if task.reminded_at is None:
                task.reminded_at = now
                task.save(update_fields=["reminded_at"])
                _log(req, ActionKind.REMIND, None, _("超过处理时限，系统提醒"), task.step_name)
                _notify(req, [task.assignee_id], "workflow.reminder", f"overdue:{task.pk}", _context(req, defn))
                reminded += 1
            limit = dt.timedelta(hours=step.time_limit_hours or 0)
            if step.escalate_to and task.escalated_at is None and task.created_at + 2 * limit <= now:
                values = forms.typed(defn, req.values)
                targets: list[int] = []
                for rule in step.escalate_to:
                    targets.extend(
                        resolvers.resolve(rule, school_id=req.school_id, applicant_id=req.applicant_id, values=values)
                    )
                targets = [t for t in dict.fromkeys(targets) if t not in (req.applicant_id, task.assignee_id)]
                task.escalated_at = now
                task.save(update_fields=["escalated_at"])
                if not targets:
                    continue
                Task.objects.filter(pk=task.pk).update(
                    status=TaskStatus.DELEGATED, decided_at=now, comment=_("超时未处理，已升级")
                )
                fresh = [
                    t
                    for t in targets
                    if not Task.objects.filter(
                        request=req, step=task.step, round=req.round, assignee_id=t, status=TaskStatus.WAITING
                    ).exists()
                ]
                _add_tasks(req, defn, step, fresh, TaskOrigin.ESCALATED, required=task.required, now=now)
                _log(req, ActionKind.ESCALATE, None, "", task.step_name, to=_names(targets, req))
                escalated += 1
    return reminded, escalated


def reassign_departed() -> int:
    """Waiting tasks whose approver has since left the school (or lost their login) go to the school admin,
    so no request hangs on someone who is gone. Returns how many were handed over."""
    moved = 0
    waiting = Task.objects.filter(status=TaskStatus.WAITING).values_list("school_id", "assignee_id").distinct()
    by_school: dict[int, set[int]] = {}
    for school_id, assignee_id in waiting:
        by_school.setdefault(school_id, set()).add(assignee_id)
    for school_id, assignees in by_school.items():
        gone = assignees - people_selectors.serving_staff_accounts(school_id=school_id, account_ids=assignees)
        for task_id, request_id in Task.objects.filter(
            school_id=school_id, status=TaskStatus.WAITING, assignee_id__in=gone
        ).values_list("pk", "request_id"):
            with transaction.atomic():
                req = _lock(request_id)
                task = Task.objects.get(pk=task_id)
                if task.status != TaskStatus.WAITING or req.status != RequestStatus.RUNNING:
                    continue
                defn = definition_of(req.version)
                admins = [
                    a for a in resolvers.school_admins(school_id) if a not in (req.applicant_id, task.assignee_id)
                ]
                if not admins:
                    continue
                Task.objects.filter(pk=task.pk).update(
                    status=TaskStatus.DELEGATED, decided_at=timezone.now(), comment=_("审批人已离开本校")
                )
                taken = set(
                    Task.objects.filter(
                        request=req, step=task.step, round=req.round, status=TaskStatus.WAITING
                    ).values_list("assignee_id", flat=True)
                )
                _add_tasks(
                    req,
                    defn,
                    defn.step(task.step),
                    [a for a in admins if a not in taken],
                    TaskOrigin.FALLBACK,
                    required=task.required,
                )
                _log(
                    req,
                    ActionKind.FALLBACK,
                    None,
                    _("原审批人已离开本校，转学校管理员"),
                    task.step_name,
                    to=_names(admins, req),
                )
                moved += 1
    return moved


def mark_carbons_read(*, actor: Any, request_id: int) -> None:
    Carbon.objects.filter(request_id=request_id, account_id=actor.pk, read_at=None).update(read_at=timezone.now())
