from django.urls import path

from . import admin_views, system_views, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", views.audit_log, name="audit"),
    path("manage/schools/", system_views.schools, name="schools"),
    path("manage/bureau/", system_views.bureau_officer, name="bureau_officer"),
    path("manage/roles/", admin_views.roles, name="roles"),
    path("manage/roles/<id:assignment_id>/revoke/", admin_views.role_revoke, name="role_revoke"),
    path("manage/teaching/", admin_views.teaching, name="teaching"),
    path("manage/teaching/<id:assignment_id>/remove/", admin_views.teaching_remove, name="teaching_remove"),
    path("manage/homerooms/", admin_views.homerooms, name="homerooms"),
    path("manage/homerooms/<id:class_id>/", admin_views.homeroom_set, name="homeroom_set"),
]
