from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "zhixiao.notifications"
    label = "notifications"
    verbose_name = "notifications"
