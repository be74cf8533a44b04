from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "zhixiao.devices"
    label = "devices"
    verbose_name = "devices"
