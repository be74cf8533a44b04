from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "zhixiao.workflow"
    label = "workflow"
    verbose_name = "workflow"

    def ready(self) -> None:
        from zhixiao.kernel import worker
        from zhixiao.notifications.services import register_template

        from .tasks import schedule_sweep

        worker.on_start(schedule_sweep)

        register_template(
            "workflow.pending", title=_("待审批：{title}"), body=_("{applicant}提交的「{kind}」等待您审批（{step}）。")
        )
        register_template("workflow.approved", title=_("已通过：{title}"), body=_("您的「{kind}」已审批通过。"))
        register_template(
            "workflow.rejected", title=_("已驳回：{title}"), body=_("您的「{kind}」被{actor}驳回：{comment}")
        )
        register_template(
            "workflow.returned", title=_("退回修改：{title}"), body=_("您的「{kind}」被{actor}退回修改：{comment}")
        )
        register_template("workflow.withdrawn", title=_("已撤回：{title}"), body=_("{applicant}撤回了「{kind}」。"))
        register_template("workflow.cc", title=_("抄送：{title}"), body=_("{applicant}的「{kind}」抄送给您。"))
        register_template(
            "workflow.reminder", title=_("催办：{title}"), body=_("{applicant}的「{kind}」正等待您审批（{step}）。")
        )
