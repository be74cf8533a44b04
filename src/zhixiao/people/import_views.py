"""Excel import pages (upload, progress, errors)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from zhixiao.kernel import permissions


@login_required
def imports(request: HttpRequest) -> HttpResponse:
    if not permissions.has_any(request.user, permissions.IMPORT_STUDENT):
        return render(request, "403.html", status=403)
    return render(request, "people/imports.html", {})
