from django.urls import path

from . import views

app_name = "faces"

urlpatterns = [
    path("", views.guardian, name="guardian"),
    path("children/<id:student_id>/enrol/", views.enrol, name="enrol"),
    path("children/<id:student_id>/replace/", views.replace, name="replace"),
    path("children/<id:student_id>/withdraw/", views.withdraw, name="withdraw"),
    path("photos/<id:enrolment_id>/", views.photo, name="photo"),
    path("school/", views.school, name="school"),
    path("school/students/<id:student_id>/withdraw/", views.school_withdraw, name="school_withdraw"),
]
