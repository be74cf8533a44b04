from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FacesConfig(AppConfig):
    name = "zhixiao.faces"
    label = "faces"
    verbose_name = "faces"

    def ready(self) -> None:
        from zhixiao.kernel import domain_events
        from zhixiao.notifications.services import register_template

        from . import services

        # a student who graduates or transfers out leaves the face library with their photo
        domain_events.subscribe(domain_events.STUDENTS_CHANGED, services.on_students_changed)
        register_template(
            "faces.consent_given",
            title=_("人脸识别已授权：{student}"),
            body=_("孩子的另一位监护人已授权校门人脸识别并上传了照片。如不同意，可在“人脸识别授权”页面撤回。"),
        )
        register_template(
            "faces.consent_withdrawn",
            title=_("人脸识别授权已撤回：{student}"),
            body=_("照片已删除，校门设备上的人脸同步移除。{note}"),
        )
