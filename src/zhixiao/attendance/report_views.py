"""The live attendance board (htmx polls its three parts) and the attendance reports with their Excel
export. Thin: parse, call `reports`, render; guardians and students are refused (they see their own
child's days on their own pages)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhixiao.kernel import spreadsheets
from zhixiao.kernel.converters import row_id

from . import charts, reports

POLL_SECONDS = 5

DIRECTIONS = {"in": gettext_lazy("进校"), "out": gettext_lazy("离校")}
DEVICE_KINDS = {
    "gate": gettext_lazy("校门闸机"),
    "dorm_gate": gettext_lazy("宿舍门禁"),
    "classroom": gettext_lazy("班级考勤终端"),
    "canteen": gettext_lazy("食堂终端"),
}
# flag → (label, badge class)
FLAGS = {
    "late": (gettext_lazy("迟到"), "warn"),
    "early": (gettext_lazy("早退"), "warn"),
    "left_early": (gettext_lazy("早退"), "warn"),
    "no_leave": (gettext_lazy("无假离校"), "bad"),
    "unknown": (gettext_lazy("未知凭证"), "bad"),
    "refused": (gettext_lazy("拒绝通行"), "bad"),
    "overdue": (gettext_lazy("逾期未归"), "bad"),
}


def _school(request: HttpRequest) -> Any:
    """The school the page is about (?school=), or None when the actor may not watch any board."""
    if not reports.may_watch(request.user):
        return None
    wanted = request.GET.get("school")
    school = reports.school_for(actor=request.user, school_id=row_id(wanted) if wanted else None)
    if school is None:
        raise Http404
    return school


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "403.html", status=403)


# --- the live board ------------------------------------------------------------------------------------------
def _passage(e: dict[str, Any]) -> dict[str, Any]:
    label, badge = FLAGS.get(e["flag"], (e["flag"], ""))
    if e.get("student_id") is None and e.get("staff_id") is None and not e["flag"]:
        label, badge = FLAGS["unknown"]
    credential = str(e.get("credential") or "")
    return {
        **e,
        "at": timezone.localtime(e["occurred_at"]),
        "direction_label": DIRECTIONS.get(e["direction"], e["direction"]),
        "device_label": f"{DEVICE_KINDS.get(e['device_kind'], e['device_kind'])} #{e['device_id']}",
        "flag_label": label,
        "flag_badge": badge,
        # a card number names a person: show enough to find the card, not to copy it
        "credential_masked": ("*" * max(len(credential) - 4, 2) + credential[-4:]) if credential else "—",
    }


def _counts_context(request: HttpRequest, school: Any) -> dict[str, Any]:
    return {"school": school, "summary": reports.board_summary(actor=request.user, school_id=school.pk)}


def _feed_context(request: HttpRequest, school: Any) -> dict[str, Any]:
    whole = reports.sees_whole_school(request.user, school.pk)
    return {
        "school": school,
        "feed": [_passage(e) for e in reports.gate_feed(actor=request.user, school_id=school.pk)],
        "show_anomalies": whole,
        "anomalies": [_passage(e) for e in reports.anomalies(actor=request.user, school_id=school.pk)] if whole else [],
    }


def _absent_context(request: HttpRequest, school: Any) -> dict[str, Any]:
    return {"school": school, "absent": reports.absent_without_leave(actor=request.user, school_id=school.pk)}


def _poll(school: Any) -> dict[str, Any]:
    return {"poll_seconds": POLL_SECONDS, "school_q": urlencode({"school": school.pk})}


@login_required
def board(request: HttpRequest) -> HttpResponse:
    school = _school(request)
    if school is None:
        return _forbidden(request)
    schools = list(reports.schools_watched(actor=request.user)[:200])
    context = {
        **_counts_context(request, school),
        **_feed_context(request, school),
        **_absent_context(request, school),
        **_poll(school),
        "schools": schools if len(schools) > 1 else [],
        "today": timezone.localdate(),
    }
    return render(request, "attendance/board.html", context)


def _partial(request: HttpRequest, template: str, build: Any) -> HttpResponse:
    school = _school(request)
    if school is None:
        return HttpResponse(status=403)
    response = render(request, template, {**build(request, school), **_poll(school)})
    response["Cache-Control"] = "no-store"
    return response


@login_required
def board_counts(request: HttpRequest) -> HttpResponse:
    """htmx, every few seconds: today's counts for the school, its grades and its classes."""
    return _partial(request, "attendance/board_counts.html", _counts_context)


@login_required
def board_feed(request: HttpRequest) -> HttpResponse:
    """htmx: the latest passages and, for school-wide readers, today's unknown credentials."""
    return _partial(request, "attendance/board_feed.html", _feed_context)


@login_required
def board_absent(request: HttpRequest) -> HttpResponse:
    """htmx: the students absent today without leave."""
    return _partial(request, "attendance/board_absent.html", _absent_context)


# --- reports -------------------------------------------------------------------------------------------------
def _int(value: str | None, default: int | None, low: int, high: int) -> int | None:
    text = (value or "").strip()
    if not text.isdigit() or len(text) > 4:
        return default
    return min(max(int(text), low), high)


def _params(request: HttpRequest) -> dict[str, Any]:
    g = request.GET
    period = g.get("period") or ""
    period = period if period in reports.PERIODS else "month"
    level = g.get("level") or ""
    level = level if level in reports.LEVELS else "class"
    try:
        date = dt.date.fromisoformat(g.get("date", ""))
    except ValueError:
        date = timezone.localdate()
    start, end = reports.period_bounds(period, date)
    return {
        "period": period,
        "level": level,
        "date": date,
        "start": start,
        "end": end,
        "grade_id": row_id(g.get("grade")),
        "min_absent": _int(g.get("min_absent"), 3, 1, 366),
        "below": _int(g.get("below"), None, 1, 100),
    }


def _report(request: HttpRequest, school: Any, p: dict[str, Any]) -> reports.Report:
    return reports.report(
        actor=request.user, school_id=school.pk, start=p["start"], end=p["end"], grade_id=p["grade_id"]
    )


def _filename(school: Any, p: dict[str, Any]) -> str:
    span = f"{p['start']:%Y%m%d}" if p["start"] == p["end"] else f"{p['start']:%Y%m%d}-{p['end']:%Y%m%d}"
    return f"attendance-{school.code}-{p['level']}-{span}.xlsx"


@login_required
def report_page(request: HttpRequest) -> HttpResponse:
    school = _school(request)
    if school is None:
        return _forbidden(request)
    p = _params(request)
    rep = _report(request, school, p)
    chart_rows = rep.summary.classes if p["level"] == "class" else rep.summary.grades
    bars = [
        charts.Point(r.label, r.counts.rate, _("出勤 {a} / 应到 {e}").format(a=r.counts.attended, e=r.counts.expected))
        for r in chart_rows
    ]
    line = [
        charts.Point(r.label, r.counts.rate, _("出勤 {a} / 应到 {e}").format(a=r.counts.attended, e=r.counts.expected))
        for r in rep.daily
    ]
    bar_title = _("各班出勤率") if p["level"] == "class" else _("各年级出勤率")
    line_title = _("每日出勤率")
    chronic = reports.chronic_absence(
        actor=request.user,
        school_id=school.pk,
        start=p["start"],
        end=p["end"],
        min_absent=p["min_absent"],
        below_percent=p["below"],
        grade_id=p["grade_id"],
    )
    query = request.GET.copy()
    query.pop("export", None)
    schools = list(reports.schools_watched(actor=request.user)[:200])
    return render(
        request,
        "attendance/report.html",
        {
            "school": school,
            "schools": schools if len(schools) > 1 else [],
            "grades": reports.grade_labels(actor=request.user, school_id=school.pk, year_start=rep.year_start),
            "p": p,
            "report": rep,
            "rows": rep.summary.classes if p["level"] == "class" else rep.summary.grades,
            # charts.py escapes every piece of text it draws
            "bar_chart": mark_safe(charts.bar_chart(bars, title=bar_title, empty=_("无数据"))),  # noqa: S308
            "bar_title": bar_title,
            "line_chart": mark_safe(charts.line_chart(line, title=line_title, empty=_("无数据"))),  # noqa: S308
            "line_title": line_title,
            "chronic": chronic,
            "export_q": query.urlencode(),
            "periods": [("day", _("日")), ("week", _("周")), ("month", _("月"))],
            "levels": [("class", _("按班级")), ("grade", _("按年级"))],
        },
    )


@login_required
def report_export(request: HttpRequest) -> HttpResponse:
    """The report's table as .xlsx, the same rows the page shows, with the period in the name."""
    school = _school(request)
    if school is None:
        return _forbidden(request)
    p = _params(request)
    headers, rows = reports.table(_report(request, school, p), p["level"])
    title = _("出勤统计 {start}至{end}").format(start=p["start"].isoformat(), end=p["end"].isoformat())
    data = spreadsheets.write_table(headers, rows, title=title)
    return spreadsheets.xlsx_response(data, _filename(school, p))
