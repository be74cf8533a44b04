from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "zhixiao.identity"
    label = "identity"
    verbose_name = "identity"

    def ready(self) -> None:
        from zhixiao.kernel import permissions

        from . import selectors

        permissions.register_grant_provider(selectors.explicit_grants)
