"""阅卷 pages: papers (from JSON, with the Chinese problem list), the answer sheet (blank or pre-printed for a
class), scan uploads with a live progress bar, the review queue with the page image, the answer key, marking
assignments, the marker's one-answer-at-a-time page, the head marker's arbitration and re-marking, and scores."""

from __future__ import annotations

import json
import mimetypes
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from zhixiao.kernel import permissions
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.kernel.pages import show_errors
from zhixiao.kernel.spreadsheets import xlsx_response
from zhixiao.org import selectors as org_selectors
from zhixiao.people import selectors as people_selectors

from . import selectors, services
from .models import Arbitration, ExamPaper, ReviewStatus

EXAMPLE_NOTE = "examples/omr/paper.json"


def _paper(request: HttpRequest, paper_id: int) -> ExamPaper:
    """The paper if the actor manages it; 403 if it is his school's, 404 otherwise."""
    paper = selectors.paper_for_manager(actor=request.user, paper_id=paper_id)
    if paper is None:
        if selectors.paper_seen_by(actor=request.user, paper_id=paper_id):
            raise PermissionDenied
        raise Http404
    return paper


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _schools(actor: Any) -> list[tuple[int, str]]:
    ids = selectors.manageable_school_ids(actor)
    return [
        (s.pk, s.name) for s in org_selectors.schools_where(actor=actor, action=permissions.VIEW_SCHOOL) if s.pk in ids
    ]


def example_definition() -> str:
    """The example paper (高三一模 生物) for the textarea, as shipped in examples/omr/paper.json."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / EXAMPLE_NOTE
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return json.dumps(_MINIMAL_EXAMPLE, ensure_ascii=False, indent=1)


_MINIMAL_EXAMPLE = {
    "exam": "期中考试",
    "exam_code": "QZ2026",
    "subject": "数学",
    "subject_code": "math",
    "sections": [
        {"title": "一、选择题", "questions": [{"from": 1, "to": 10, "type": "single", "options": 4, "score": 5}]},
        {"title": "二、解答题", "questions": [{"no": 11, "type": "written", "score": 10, "height_mm": 60}]},
    ],
    "answer_key": {str(i): "A" for i in range(1, 11)},
}


# --- papers -----------------------------------------------------------------------------------------------------


@login_required
@require_GET
def papers(request: HttpRequest) -> HttpResponse:
    actor = request.user
    if not selectors.may_use(actor):
        raise PermissionDenied
    managed = list(selectors.papers_managed_by(actor=actor).select_related("school")[:200])
    return render(
        request,
        "omr/papers.html",
        {
            "rows": [{"paper": p, "review": selectors.open_review_count(p)} for p in managed],
            "assignments": list(selectors.assignments_of(actor=actor)[:200]),
            "can_create": bool(selectors.manageable_school_ids(actor)),
        },
    )


def _definition_form(request: HttpRequest) -> tuple[str | bytes, str]:
    upload = request.FILES.get("file")
    text = request.POST.get("definition", "")
    source: str | bytes = upload.read() if upload is not None else text
    return source, text


@login_required
def paper_new(request: HttpRequest) -> HttpResponse:
    actor = request.user
    schools = _schools(actor)
    if not schools:
        raise PermissionDenied
    errors: list[str] = []
    text = example_definition()
    status = 200
    if request.method == "POST":
        source, text = _definition_form(request)
        try:
            paper = services.create_paper(
                actor=actor,
                school_id=_int(request.POST.get("school"), schools[0][0]),
                source=source,
                paper_size=request.POST.get("paper_size", ""),
                score_step=request.POST.get("score_step", "0.5"),
            )
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            errors, status = list(getattr(exc, "errors", None) or [str(exc)]), 400
        else:
            messages.success(request, _("已创建试卷，可以下载答题卡"))
            return redirect("omr:paper", paper_id=paper.pk)
    return render(
        request,
        "omr/paper_form.html",
        {"schools": schools, "errors": errors[:200], "definition": text, "paper": None, "step": "0.5"},
        status=status,
    )


@login_required
def paper_edit(request: HttpRequest, paper_id: int) -> HttpResponse:
    p = _paper(request, paper_id)
    errors: list[str] = []
    text = json.dumps(p.definition, ensure_ascii=False, indent=1)
    status = 200
    if request.method == "POST":
        source, text = _definition_form(request)
        try:
            services.update_paper(
                actor=request.user,
                paper_id=p.pk,
                source=source,
                paper_size=request.POST.get("paper_size", ""),
                score_step=request.POST.get("score_step", ""),
            )
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            errors, status = list(getattr(exc, "errors", None) or [str(exc)]), 400
        else:
            messages.success(request, _("已保存"))
            return redirect("omr:paper", paper_id=p.pk)
    return render(
        request,
        "omr/paper_form.html",
        {"errors": errors[:200], "definition": text, "paper": p, "step": p.score_step.normalize()},
        status=status,
    )


@login_required
@require_GET
def paper(request: HttpRequest, paper_id: int) -> HttpResponse:
    p = _paper(request, paper_id)
    layout = services.layout_of(p)
    batches = list(p.batches.all()[:20])
    return render(
        request,
        "omr/paper.html",
        {
            "paper": p,
            "tab": "paper",
            "layout": layout,
            "sections": selectors.structure(p),
            "total": sum(q.score for q in layout.questions),
            "batches": batches,
            "active": [b for b in batches if not b.finished],
            "review_open": selectors.open_review_count(p),
            "progress": services.progress_by_question(p),
            "classes": org_selectors.class_rows(school_id=p.school_id),
            "sheets": p.sheets.count(),
            "key_text": " ".join(f"{k}={v}" for k, v in p.answer_key.items()),
            "has_key": bool(p.answer_key),
        },
    )


@login_required
@require_GET
def sheet_pdf(request: HttpRequest, paper_id: int) -> HttpResponse:
    p = _paper(request, paper_id)
    class_id = _int(request.GET.get("class")) or None
    try:
        download = services.sheet_pdf(actor=request.user, paper_id=p.pk, class_id=class_id)
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        show_errors(request, exc)
        return redirect("omr:paper", paper_id=p.pk)
    response = HttpResponse(download.data, content_type=download.content_type)
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return response


@login_required
@require_GET
def layout_json(request: HttpRequest, paper_id: int) -> HttpResponse:
    p = _paper(request, paper_id)
    response = JsonResponse(p.layout, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = f'attachment; filename="answer-sheet-{p.exam_code}-{p.subject_code}.layout.json"'
    return response


def _parse_key(text: str) -> dict[str, str]:
    """ "12=B 31=ACD" (spaces, commas or new lines between)."""
    out: dict[str, str] = {}
    for part in text.replace("，", " ").replace(",", " ").split():
        q, sep, v = part.partition("=")
        if not sep or not q.strip().isdigit():
            raise DomainError(_("答案应写成“题号=答案”，如 12=B 31=ACD，实为“{part}”").format(part=part))
        out[q.strip()] = v.strip()
    return out


@login_required
@require_POST
def answer_key(request: HttpRequest, paper_id: int) -> HttpResponse:
    p = _paper(request, paper_id)
    try:
        n = services.correct_answer_key(actor=request.user, paper_id=p.pk, key=_parse_key(request.POST.get("key", "")))
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("已更正答案，{n} 份答题卡已重新计分").format(n=n))
    return redirect("omr:paper", paper_id=p.pk)


# --- scans ---------------------------------------------------------------------------------------------------------


@login_required
@require_POST
def scans_upload(request: HttpRequest, paper_id: int) -> HttpResponse:
    p = _paper(request, paper_id)
    try:
        batch = services.upload_scans(actor=request.user, paper_id=p.pk, files=request.FILES.getlist("files"))
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        show_errors(request, exc)
    else:
        for r in batch.rejected:
            messages.error(request, f"{r['name']}：{r['message']}")
        messages.success(request, _("已上传 {n} 个文件，正在识别").format(n=len(batch.files)))
    return redirect("omr:paper", paper_id=p.pk)


def _batch(request: HttpRequest, batch_id: int) -> Any:
    b = selectors.batch_for(actor=request.user, batch_id=batch_id)
    if b is None:
        raise Http404
    return b


@login_required
@require_GET
def batch_status(request: HttpRequest, batch_id: int) -> HttpResponse:
    """htmx: one batch's progress panel, polled every second until it has finished."""
    b = _batch(request, batch_id)
    response = render(request, "omr/batch_status.html", {"batch": b, "paper": b.paper})
    if b.finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # it was polling: reload the page for the new counts and review items
    return response


@login_required
@require_POST
def batch_cancel(request: HttpRequest, batch_id: int) -> HttpResponse:
    b = _batch(request, batch_id)
    try:
        services.cancel_batch(actor=request.user, batch_id=b.pk)
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("已请求取消"))
    return redirect("omr:paper", paper_id=b.paper_id)


@login_required
@require_POST
def batch_resume(request: HttpRequest, batch_id: int) -> HttpResponse:
    b = _batch(request, batch_id)
    try:
        services.resume_batch(actor=request.user, batch_id=b.pk)
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("已继续识别"))
    return redirect("omr:paper", paper_id=b.paper_id)


# --- review ----------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def review_list(request: HttpRequest, paper_id: int) -> HttpResponse:
    p = _paper(request, paper_id)
    status = ReviewStatus.RESOLVED if request.GET.get("status") == "resolved" else ReviewStatus.OPEN
    return render(
        request,
        "omr/review_list.html",
        {"paper": p, "tab": "review", "items": selectors.review_queue(p, status=status)[:500], "status": status},
    )


@login_required
def review(request: HttpRequest, item_id: int) -> HttpResponse:
    item = selectors.review_for(actor=request.user, item_id=item_id)
    if item is None:
        raise Http404
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            services.resolve_review(
                actor=request.user,
                item_id=item.pk,
                student_id=_int(request.POST.get("student")) or None if action == "student" else None,
                answer=request.POST.get("answer", "") if action == "answer" else None,
                note=request.POST.get("note", ""),
            )
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            show_errors(request, exc)
            return redirect("omr:review", item_id=item.pk)
        messages.success(request, _("已处理"))
        following = selectors.review_queue(item.paper).first()
        if following is not None:
            return redirect("omr:review", item_id=following.pk)
        return redirect("omr:review_list", paper_id=item.paper_id)
    query = request.GET.get("q", "")
    sheet = item.sheet or (item.page.sheet if item.page else None)
    return render(
        request,
        "omr/review.html",
        {
            "paper": item.paper,
            "tab": "review",
            "item": item,
            "sheet": sheet,
            "kind": "student"
            if item.code in services.STUDENT_CODES
            else "answer"
            if item.code in services.ANSWER_CODES and item.question
            else "confirm",
            "students": services.student_choices(item.paper, query) if item.code in services.STUDENT_CODES else [],
            "query": query,
            "read": (item.page.record.get("answers") or {}).get(str(item.question), "")
            if item.page and item.question
            else "",
            "left": selectors.open_review_count(item.paper),
        },
    )


def _image(name: str) -> FileResponse:
    if not name or not default_storage.exists(name):
        raise Http404
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_GET
def page_image(request: HttpRequest, page_id: int) -> FileResponse:
    page = selectors.page_for(actor=request.user, page_id=page_id)
    if page is None:
        raise Http404
    return _image(page.image)


@login_required
@require_GET
def crop_image(request: HttpRequest, crop_id: int) -> FileResponse:
    try:
        crop = services.marker_crop(actor=request.user, crop_id=crop_id)
    except NotPermitted as exc:
        raise Http404 from exc
    except DomainError as exc:
        raise Http404 from exc
    return _image(crop.image)


# --- assignments, marking ------------------------------------------------------------------------------------------


@login_required
def assignments(request: HttpRequest, paper_id: int) -> HttpResponse:
    p = _paper(request, paper_id)
    if request.method == "POST":
        try:
            services.save_assignment(
                actor=request.user,
                paper_id=p.pk,
                question=_int(request.POST.get("question")),
                marker_ids=[_int(m) for m in request.POST.getlist("markers") if _int(m)],
                head_marker_id=_int(request.POST.get("head")),
                double_marking=request.POST.get("double") == "on",
                tolerance=request.POST.get("tolerance", "1") or "1",
                arbitration=request.POST.get("arbitration", Arbitration.HEAD),
            )
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, _("已保存阅卷分工"))
        return redirect("omr:assignments", paper_id=p.pk)
    return render(
        request,
        "omr/assignments.html",
        {
            "paper": p,
            "tab": "assignments",
            "progress": services.progress_by_question(p),
            "by_marker": services.progress_by_marker(p),
            "staff": people_selectors.staff_choices(school_id=p.school_id),
            "arbitrations": Arbitration.choices,
        },
    )


def _assignment(request: HttpRequest, paper_id: int, question: int) -> Any:
    a = selectors.assignment_for(actor=request.user, paper_id=paper_id, question=question)
    if a is None:
        raise Http404
    return a


@login_required
def mark(request: HttpRequest, paper_id: int, question: int) -> HttpResponse:
    """One answer at a time, large, with score buttons and keyboard entry; no name, no 考号."""
    a = _assignment(request, paper_id, question)
    if not services.is_marker(request.user, a):
        raise PermissionDenied
    if request.method == "POST":
        try:
            services.submit_mark(
                actor=request.user, crop_id=_int(request.POST.get("crop")), score=request.POST.get("score", "")
            )
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            show_errors(request, exc)
            return redirect(f"{request.path}?crop={_int(request.POST.get('crop'))}")
        return redirect("omr:mark", paper_id=paper_id, question=question)
    crop = None
    wanted = _int(request.GET.get("crop"))
    if wanted:
        crop = services.crop_in_queue(actor=request.user, assignment=a, crop_id=wanted)
    if crop is None:
        crop = services.next_crop(actor=request.user, paper_id=paper_id, question=question)
    full = dict(services.written_questions(a.paper))[question]
    return render(
        request,
        "omr/mark.html",
        {
            "assignment": a,
            "paper": a.paper,
            "crop": crop,
            "full": full,
            "choices": [services.shown(c) for c in services.score_choices(full, a.paper.score_step)],
            "left": services.remaining_for(actor=request.user, paper_id=paper_id, question=question),
            "mine": a.paper.marks.filter(marker=request.user, crop__question=question).count(),
        },
    )


@login_required
def head(request: HttpRequest, paper_id: int, question: int) -> HttpResponse:
    """The head marker: crops waiting for arbitration (with both marks), and every marked crop to re-mark."""
    a = _assignment(request, paper_id, question)
    if not services.is_head(request.user, a):
        raise PermissionDenied
    if request.method == "POST":
        try:
            services.head_mark(
                actor=request.user, crop_id=_int(request.POST.get("crop")), score=request.POST.get("score", "")
            )
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, _("已给分"))
        return redirect("omr:head", paper_id=paper_id, question=question)
    full = dict(services.written_questions(a.paper))[question]
    arbitration = list(selectors.arbitration_queue(a)[:50])
    marked = list(selectors.marked_crops(a))
    labels = selectors.marker_labels({m.marker_id for c in arbitration + marked for m in c.marks.all()})
    for c in arbitration + marked:
        for m in c.marks.all():
            m.label = labels.get(m.marker_id, "")  # type: ignore[attr-defined]
    return render(
        request,
        "omr/head.html",
        {
            "assignment": a,
            "paper": a.paper,
            "full": full,
            "choices": [services.shown(c) for c in services.score_choices(full, a.paper.score_step)],
            "arbitration": arbitration,
            "marked": marked,
            "progress": next(r for r in services.progress_by_question(a.paper) if r["question"] == question),
        },
    )


# --- scores ---------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def scores(request: HttpRequest, paper_id: int) -> HttpResponse:
    p = _paper(request, paper_id)
    return render(
        request,
        "omr/scores.html",
        {
            "paper": p,
            "tab": "scores",
            "questions": [q for q, _full in services.written_questions(p)],
            "rows": selectors.score_rows(p),
        },
    )


@login_required
@require_GET
def scores_export(request: HttpRequest, paper_id: int) -> HttpResponse:
    p = _paper(request, paper_id)
    return xlsx_response(selectors.scores_xlsx(p), f"scores-{p.exam_code}-{p.subject_code}.xlsx")
