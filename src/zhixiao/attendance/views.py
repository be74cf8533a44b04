"""Attendance pages: a guardian's phone view of his children and their leave, filing a leave, the class's
day records with corrections, and the school's rules. The board and reports live in report_views."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhixiao.kernel import permissions
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.people import selectors as people_selectors
from zhixiao.workflow import services as workflow_services
from zhixiao.workflow.services import FormInvalid

from . import flows, selectors, services
from .models import DayStatus, NotifyMode


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "403.html", status=403)


@login_required
def my(request: HttpRequest) -> HttpResponse:
    """家长/学生: each child's recent days, passages and leaves."""
    if getattr(request.user, "kind", "") not in ("guardian", "student"):
        return redirect("attendance:days")
    return render(request, "attendance/my.html", {"children": selectors.children_overview(actor=request.user)})


def _leave_students(actor: Any) -> list[Any]:
    kind = getattr(actor, "kind", "")
    if kind == "guardian":
        return list(people_selectors.children_of(actor=actor))
    if kind == "student":
        own = people_selectors.student_of_account(actor.pk)
        return [own] if own else []
    return []


def _parse_time(value: str) -> dt.datetime:
    try:
        return services.local(dt.datetime.fromisoformat(value.strip()))
    except ValueError:
        raise DomainError(_("时间格式应为 2026-09-01 08:00")) from None


@login_required
def leave_new(request: HttpRequest) -> HttpResponse:
    """File a leave: a guardian for his child (a phone page), a student for himself, staff by 学籍号."""
    students = _leave_students(request.user)
    is_staff = getattr(request.user, "kind", "") == "staff"
    if not students and not is_staff:
        return _forbidden(request)
    errors: list[str] = []
    values: dict[str, str] = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("student", "student_no", "leave_type", "start", "end", "reason")}
        try:
            if is_staff:
                found = people_selectors.students_visible_to(
                    actor=request.user, action=permissions.EDIT_ATTENDANCE
                ).filter(student_no=values["student_no"].strip())
                student = found.first()
                if student is None:
                    raise DomainError(_("找不到该学籍号的学生，或不在您的班级"))
                student_id = student.pk
            else:
                ids = {s.pk for s in students}
                student_id = int(values["student"] or 0)
                if student_id not in ids:
                    raise DomainError(_("请选择孩子"))
            leave = services.file_leave(
                actor=request.user,
                student_id=student_id,
                leave_type=values["leave_type"],
                start=_parse_time(values["start"]),
                end=_parse_time(values["end"]),
                reason=values["reason"],
                files=[
                    workflow_services.Upload(
                        name=f.name or "file", content_type=f.content_type or "application/octet-stream", data=f.read()
                    )
                    for f in request.FILES.getlist("files")
                ],
            )
        except FormInvalid as e:
            errors = [f"{k}: {'；'.join(v)}" for k, v in e.errors.items()]
        except (DomainError, NotPermitted) as e:
            errors = [str(e)]
        else:
            messages.success(request, _("请假已提交，等待班主任审批"))
            return redirect("attendance:leave", leave_id=leave.pk)
    now = timezone.localtime().replace(second=0, microsecond=0)
    return render(
        request,
        "attendance/leave_new.html",
        {
            "students": students,
            "is_staff": is_staff,
            "types": flows.LEAVE_TYPES,
            "errors": errors,
            "values": values,
            "default_start": (now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "default_end": (now + dt.timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M"),
        },
    )


@login_required
def leave(request: HttpRequest, leave_id: int) -> HttpResponse:
    row = selectors.leave_for(actor=request.user, leave_id=leave_id)
    if row is None:
        raise Http404
    return render(request, "attendance/leave.html", {"leave": row})


@login_required
@require_POST
def leave_cancel(request: HttpRequest, leave_id: int) -> HttpResponse:
    if selectors.leave_for(actor=request.user, leave_id=leave_id) is None:
        raise Http404
    try:
        services.cancel_leave(actor=request.user, leave_id=leave_id, reason=request.POST.get("reason", ""))
    except NotPermitted:
        return _forbidden(request)
    except DomainError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("请假已取消"))
    return redirect("attendance:leave", leave_id=leave_id)


@login_required
def leaves(request: HttpRequest) -> HttpResponse:
    if not permissions.has_any(request.user, permissions.VIEW_ATTENDANCE):
        return _forbidden(request)
    rows = selectors.leaves_visible_to(actor=request.user)
    status = request.GET.get("status", "")
    if status:
        rows = rows.filter(status=status)
    return render(request, "attendance/leaves.html", {"leaves": rows[:200], "status": status})


@login_required
def days(request: HttpRequest) -> HttpResponse:
    """A date's day records in the actor's scope (a homeroom teacher: his class), with corrections."""
    if not permissions.has_any(request.user, permissions.VIEW_ATTENDANCE) or getattr(request.user, "kind", "") in (
        "guardian",
        "student",
    ):
        return _forbidden(request)
    try:
        date = dt.date.fromisoformat(request.GET.get("date", "")) if request.GET.get("date") else timezone.localdate()
    except ValueError:
        date = timezone.localdate()
    rows = selectors.days_of(actor=request.user, date=date)
    return render(
        request,
        "attendance/days.html",
        {
            "date": date,
            "rows": rows[:1000],
            "statuses": services.DAY_STATUSES_SETTABLE,
            "status_labels": dict(DayStatus.choices),
            "can_edit": permissions.has_any(request.user, permissions.EDIT_ATTENDANCE),
        },
    )


@login_required
@require_POST
def day_correct(request: HttpRequest, day_id: int) -> HttpResponse:
    day = selectors.day_for(actor=request.user, day_id=day_id)
    if day is None:
        raise Http404
    try:
        services.correct_day(
            actor=request.user,
            day_id=day_id,
            status=request.POST.get("status", ""),
            reason=request.POST.get("reason", ""),
        )
    except NotPermitted:
        return _forbidden(request)
    except DomainError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("已更正 %(name)s 的考勤") % {"name": day.student.name})
    return redirect(reverse("attendance:days") + f"?date={day.date.isoformat()}")


def _time(value: str, required: bool = True) -> dt.time | None:
    if not value and not required:
        return None
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        raise DomainError(_("时间格式应为 07:30")) from None


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """The school's attendance rules and how guardians are told (school admin)."""
    school_id = selectors.manageable_school_id(request.user)
    if school_id is None:
        return _forbidden(request)
    if request.method == "POST":
        p = request.POST
        try:
            if p.get("form") == "policy":
                services.save_policy(
                    actor=request.user,
                    school_id=school_id,
                    notify_mode=p.get("notify_mode", ""),
                    absent_alert_at=_time(p.get("absent_alert_at", "")) or dt.time(8, 10),
                )
            else:
                grade = p.get("grade_id", "")
                services.save_rule(
                    actor=request.user,
                    school_id=school_id,
                    grade_id=int(grade) if grade.isdigit() else None,
                    boarding=p.get("boarding", ""),
                    on_time_by=_time(p.get("on_time_by", "")) or dt.time(7, 30),
                    late_until=_time(p.get("late_until", "")) or dt.time(8, 0),
                    dismissal_at=_time(p.get("dismissal_at", "")) or dt.time(17, 10),
                    evening_study_end=_time(p.get("evening_study_end", ""), required=False),
                    dorm_check_in_by=_time(p.get("dorm_check_in_by", ""), required=False),
                )
        except DomainError as e:
            messages.error(request, str(e))
        else:
            messages.success(request, _("已保存"))
        return redirect("attendance:settings")
    from zhixiao.org import selectors as org_selectors

    return render(
        request,
        "attendance/settings.html",
        {
            "rules": selectors.rules_of(school_id=school_id),
            "policy": selectors.policy_of(school_id=school_id),
            "modes": NotifyMode.choices,
            "grades": org_selectors.grades_of(actor=request.user, school_id=school_id),
        },
    )
