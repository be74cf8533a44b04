from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, register_converter

from zhixiao.kernel.converters import RowIdConverter

from .api import api

register_converter(RowIdConverter, "id")  # before the apps' urls are read


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("", include("zhixiao.portal.urls")),
    path("account/", include("zhixiao.identity.urls")),
    path("org/", include("zhixiao.org.urls")),
    path("people/", include("zhixiao.people.urls")),
    path("inbox/", include("zhixiao.notifications.urls")),
    path("workflow/", include("zhixiao.workflow.urls")),
    path("office/", include("zhixiao.office.urls")),
    path("attendance/", include("zhixiao.attendance.urls")),
    path("devices/", include("zhixiao.devices.urls")),
    path("faces/", include("zhixiao.faces.urls")),
    path("timetable/", include("zhixiao.timetable.urls")),
    path("omr/", include("zhixiao.omr.urls")),
    path("exams/", include("zhixiao.academics.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("sysadmin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]

handler403 = "zhixiao.portal.views.forbidden"
handler404 = "zhixiao.portal.views.not_found"
