from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _install_flows(sender: Any, **kwargs: Any) -> None:
    from . import services

    services.install_for_all_schools()


class OfficeConfig(AppConfig):
    name = "zhixiao.office"
    label = "office"
    verbose_name = "office"

    def ready(self) -> None:
        from zhixiao.notifications.services import register_template
        from zhixiao.workflow import events

        from . import flows, services

        events.subscribe(flows.TEACHER_LEAVE, services.on_leave_event)
        events.subscribe(flows.REPAIR, services.on_repair_event)
        register_template("office.cover", title=_("代课安排：{count} 节"), body=_("您有代课安排：{lessons}"))
        register_template("office.repair_done", title=_("已修好：{title}"), body=_("维修记录：{note}。请评价。"))
        # every school gets the office's default flows (idempotent: only what a school lacks)
        post_migrate.connect(_install_flows, sender=self)
