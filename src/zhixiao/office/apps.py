from django.apps import AppConfig


class OfficeConfig(AppConfig):
    name = "zhixiao.office"
    label = "office"
    verbose_name = "office"
