from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "zhixiao.workflow"
    label = "workflow"
    verbose_name = "workflow"
