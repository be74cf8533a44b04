from django.urls import path

from . import edit_views, import_views, views

app_name = "people"

urlpatterns = [
    path("students/", views.students, name="students"),
    path("students/<id:student_id>/", views.student, name="student"),
    path("students/<id:student_id>/edit/", edit_views.student_edit, name="student_edit"),
    path("students/<id:student_id>/status/", edit_views.student_status, name="student_status"),
    path("students/<id:student_id>/guardians/add/", edit_views.guardian_add, name="guardian_add"),
    path("guardian-links/<id:link_id>/notify/", edit_views.guardian_notify, name="guardian_notify"),
    path("classes/<id:class_id>/roster/", views.roster, name="roster"),
    path("classes/<id:class_id>/students/add/", edit_views.student_create, name="student_create"),
    path("staff/", views.staff, name="staff"),
    path("staff/<id:staff_id>/", views.staff_detail, name="staff_detail"),
    path("staff/add/", edit_views.staff_create, name="staff_create"),
    path("staff/<id:staff_id>/edit/", edit_views.staff_edit, name="staff_edit"),
    path("password-reset/<str:kind>/<id:pk>/", edit_views.password_reset, name="password_reset"),
    path("reveal/<str:kind>/<id:pk>/<str:field>/", views.reveal, name="reveal"),
    path("imports/", import_views.imports, name="imports"),
    path("imports/template/<str:kind>/", import_views.template, name="import_template"),
    path("imports/<id:job_id>/", import_views.job_page, name="import_job"),
    path("imports/<id:job_id>/status/", import_views.job_status, name="import_job_status"),
    path("imports/<id:job_id>/errors.xlsx", import_views.job_errors_workbook, name="import_job_errors"),
]
