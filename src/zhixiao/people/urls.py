from django.urls import path

from . import import_views, views

app_name = "people"

urlpatterns = [
    path("students/", views.students, name="students"),
    path("students/<int:student_id>/", views.student, name="student"),
    path("classes/<int:class_id>/roster/", views.roster, name="roster"),
    path("staff/", views.staff, name="staff"),
    path("staff/<int:staff_id>/", views.staff_detail, name="staff_detail"),
    path("reveal/<str:kind>/<int:pk>/<str:field>/", views.reveal, name="reveal"),
    path("imports/", import_views.imports, name="imports"),
]
