from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "zhixiao.portal"
    label = "portal"
    verbose_name = "portal"
