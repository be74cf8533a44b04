from django.urls import path

from . import views

app_name = "office"

urlpatterns = [
    path("", views.home, name="home"),
    path("covers/", views.covers, name="covers"),
    path("repairs/", views.repairs, name="repairs"),
    path("repairs/<id:order_id>/done/", views.repair_done, name="repair_done"),
    path("repairs/<id:order_id>/rate/", views.repair_rate, name="repair_rate"),
]
