from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _after_migrate(using: str = "default", **kwargs: object) -> None:
    from . import tenancy

    tenancy.install_row_level_security(using)


class KernelConfig(AppConfig):
    name = "zhixiao.kernel"
    label = "kernel"
    verbose_name = "kernel"

    def ready(self) -> None:
        # Once per migrate run (sender=this app), after every app's tables exist.
        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="zhixiao-rls")
