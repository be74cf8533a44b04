from django.apps import AppConfig


class AcademicsConfig(AppConfig):
    name = "zhixiao.academics"
    label = "academics"
    verbose_name = "academics"
