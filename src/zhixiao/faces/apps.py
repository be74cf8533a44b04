from django.apps import AppConfig


class FacesConfig(AppConfig):
    name = "zhixiao.faces"
    label = "faces"
    verbose_name = "faces"
