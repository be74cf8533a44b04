from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "zhixiao.attendance"
    label = "attendance"
    verbose_name = "attendance"
