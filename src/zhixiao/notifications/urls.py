from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<id:item_id>/read/", views.mark_read, name="read"),
    path("read-all/", views.mark_all_read, name="read_all"),
    path("settings/", views.settings_page, name="settings"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/<id:outbox_id>/retry/", views.retry, name="retry"),
    path("robots/", views.robots, name="robots"),
    path("robots/add/", views.robot_add, name="robot_add"),
    path("robots/<id:robot_id>/edit/", views.robot_edit, name="robot_edit"),
    path("robots/<id:robot_id>/enable/", views.robot_enable, name="robot_enable"),
]
