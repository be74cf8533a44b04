from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "zhixiao.org"
    label = "org"
    verbose_name = "organisation"

    def ready(self) -> None:
        from zhixiao.kernel import permissions, tenancy

        from . import selectors

        permissions.register_grant_provider(selectors.homeroom_grants)
        tenancy.register_region_resolver(selectors.school_ids_in_region)
