from django.urls import path

from . import views

app_name = "devices"

urlpatterns = [
    path("", views.devices, name="list"),
    path("<id:device_id>/rotate/", views.rotate, name="rotate"),
    path("<id:device_id>/toggle/", views.toggle, name="toggle"),
]
