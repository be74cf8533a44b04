from django.urls import path

from . import report_urls, views

app_name = "attendance"

urlpatterns = [
    path("my/", views.my, name="my"),
    path("days/", views.days, name="days"),
    path("days/<id:day_id>/correct/", views.day_correct, name="day_correct"),
    path("leave/", views.leaves, name="leaves"),
    path("leave/new/", views.leave_new, name="leave_new"),
    path("leave/<id:leave_id>/", views.leave, name="leave"),
    path("leave/<id:leave_id>/cancel/", views.leave_cancel, name="leave_cancel"),
    path("settings/", views.settings_page, name="settings"),
    *report_urls.urlpatterns,
]
