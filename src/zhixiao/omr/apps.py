from django.apps import AppConfig


class OmrConfig(AppConfig):
    name = "zhixiao.omr"
    label = "omr"
    verbose_name = "omr"
