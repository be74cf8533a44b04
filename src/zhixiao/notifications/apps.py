from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "zhixiao.notifications"
    label = "notifications"
    verbose_name = "notifications"

    def ready(self) -> None:
        from zhixiao.kernel import worker

        from .tasks import enqueue_delivery
        from .templates_registry import register_template

        worker.on_start(enqueue_delivery)

        # For trying a channel from the command line or a test: `notify(template="notifications.test", …)`.
        register_template("notifications.test", title=_("测试通知"), body=_("这是一条测试通知：{note}"))
