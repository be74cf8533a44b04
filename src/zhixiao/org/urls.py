from django.urls import path

from . import views

app_name = "org"

urlpatterns = [
    path("school/", views.school, name="school"),
    path("classes/", views.classes, name="classes"),
    path("calendar/", views.calendar, name="calendar"),
]
