from django.urls import path

from . import views

app_name = "org"

urlpatterns = [
    path("school/", views.school, name="school"),
    path("school/edit/", views.school_edit, name="school_edit"),
    path("school/division/", views.division_name, name="division_name"),
    path("campuses/", views.units, {"kind": "campus"}, name="campuses"),
    path("departments/", views.units, {"kind": "department"}, name="departments"),
    path("subjects/", views.units, {"kind": "subject"}, name="subjects"),
    path("units/<str:kind>/<id:pk>/rename/", views.unit_rename, name="unit_rename"),
    path("units/<str:kind>/<id:pk>/delete/", views.unit_delete, name="unit_delete"),
    path("grades/", views.grades, name="grades"),
    path("grades/add/", views.grade_add, name="grade_add"),
    path("classes/", views.classes, name="classes"),
    path("classes/add/", views.class_add, name="class_add"),
    path("years/", views.years, name="years"),
    path("years/add/", views.year_add, name="year_add"),
    path("terms/<id:term_id>/current/", views.term_current, name="term_current"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/set/", views.calendar_set, name="calendar_set"),
    path("calendar/remove/", views.calendar_remove, name="calendar_remove"),
]
