from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "zhixiao.people"
    label = "people"
    verbose_name = "people"

    def ready(self) -> None:
        from zhixiao.kernel import permissions

        from . import selectors

        permissions.register_grant_provider(selectors.people_grants)
