"""Excel import pages: upload with template links, a job page with a live progress bar, the error table
and the marked-up errors workbook."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from zhixiao.kernel import permissions, spreadsheets
from zhixiao.kernel.converters import row_id
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.org import selectors as org_selectors

from . import import_jobs, importing
from .models import ImportJob

ERRORS_SHOWN = 500  # the page lists the first ones; the workbook holds all
COUNT_LABELS = {
    "students": _("学生"),
    "guardians": _("新监护人"),
    "guardians_reused": _("已有监护人（按手机号沿用）"),
    "guardian_links": _("监护关系"),
    "staff": _("教职工"),
    "department_memberships": _("处室归属"),
    "accounts": _("新账号"),
}


def _may_import(actor: object) -> bool:
    return permissions.has_any(actor, permissions.IMPORT_STUDENT) or permissions.has_any(
        actor, permissions.IMPORT_STAFF
    )


def _schools(actor: object) -> list[tuple[int, str]]:
    ids: dict[int, str] = {}
    for action in (permissions.IMPORT_STUDENT, permissions.IMPORT_STAFF):
        for school in org_selectors.schools_where(actor=actor, action=action):
            ids[school.pk] = school.name
    return sorted(ids.items(), key=lambda item: item[1])


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("导入内容"), choices=ImportJob.Kind.choices)
    school = forms.TypedChoiceField(label=_("学校"), coerce=int)
    file = forms.FileField(label=_("Excel 文件（.xlsx）"))

    def __init__(self, *args: object, schools: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["school"].choices = schools  # type: ignore[attr-defined]
        self.fields["file"].widget.attrs["accept"] = ".xlsx"

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        limit = importing.max_upload_bytes()
        if upload.size > limit:  # refused before the file is read into memory
            raise forms.ValidationError(
                _("文件过大（{size:.1f} MB），上限为 {limit:.0f} MB").format(
                    size=upload.size / 1024 / 1024, limit=limit / 1024 / 1024
                )
            )
        return upload


@login_required
def imports(request: HttpRequest) -> HttpResponse:
    actor = request.user
    if not _may_import(actor):
        return render(request, "403.html", status=403)
    schools = _schools(actor)
    form = UploadForm(request.POST or None, request.FILES or None, schools=schools)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = import_jobs.start_import(
                actor=actor,
                school_id=form.cleaned_data["school"],
                kind=form.cleaned_data["kind"],
                filename=upload.name or "",
                data=upload.read(),
            )
        except NotPermitted as exc:
            form.add_error("school", str(exc))
        except DomainError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("people:import_job", job_id=job.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "people/imports.html",
        {
            "form": form,
            "schools": schools,
            "jobs": import_jobs.jobs_visible_to(actor=actor)[:20],
            "max_mb": importing.max_upload_bytes() // 1024 // 1024,
            "max_rows": importing.MAX_ROWS,
        },
        status=status,
    )


@login_required
@require_GET
def template(request: HttpRequest, kind: str) -> HttpResponse:
    school = request.GET.get("school", "")
    try:
        data = importing.template_for(actor=request.user, kind=kind, school_id=row_id(school))
    except NotPermitted:
        return render(request, "403.html", status=403)
    except ValueError as exc:
        raise Http404 from exc
    return spreadsheets.xlsx_response(data, f"zhixiao-{kind}-template.xlsx")


def _job_context(request: HttpRequest, job: ImportJob) -> dict[str, object]:
    errors = import_jobs.errors_of(job)
    return {
        "job": job,
        "errors": errors[:ERRORS_SHOWN],
        "more_errors": max(0, len(errors) - ERRORS_SHOWN),
        "counts": [(COUNT_LABELS.get(k, k), n) for k, n in job.created_counts.items()],
        "initial_password": import_jobs.take_initial_password(actor=request.user, job=job)
        if job.status == ImportJob.Status.DONE
        else "",
    }


@login_required
@require_GET
def job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    job = import_jobs.job_for(actor=request.user, job_id=job_id)
    if job is None:
        raise Http404
    return render(request, "people/import_job.html", _job_context(request, job))


@login_required
@require_GET
def job_status(request: HttpRequest, job_id: int) -> HttpResponse:
    """htmx: the progress panel, polled every second until the job has finished."""
    job = import_jobs.job_for(actor=request.user, job_id=job_id)
    if job is None:
        raise Http404
    return render(request, "people/import_status.html", _job_context(request, job))


@login_required
@require_GET
def job_errors_workbook(request: HttpRequest, job_id: int) -> HttpResponse:
    data = import_jobs.errors_workbook_for(actor=request.user, job_id=job_id)
    if data is None:
        raise Http404
    return spreadsheets.xlsx_response(data, f"import-{job_id}-errors.xlsx")
