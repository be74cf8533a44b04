from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _setup(sender: Any, **kwargs: Any) -> None:
    from . import services

    services.setup_all_schools()


class AttendanceConfig(AppConfig):
    name = "zhixiao.attendance"
    label = "attendance"
    verbose_name = "attendance"

    def ready(self) -> None:
        from zhixiao.kernel import domain_events, worker
        from zhixiao.notifications.services import register_template
        from zhixiao.workflow import events

        from . import flows, services, tasks

        events.subscribe(flows.STUDENT_LEAVE, services.on_leave_event)
        domain_events.subscribe(domain_events.STUDENTS_CHANGED, services._on_students_changed)
        domain_events.subscribe(domain_events.STAFF_CHANGED, services._on_staff_changed)
        domain_events.subscribe(domain_events.FACES_CHANGED, services._on_students_changed)
        register_template("attendance.arrived", title=_("{name} 已到校"), body=_("{name} 于 {date} {time} 进校。"))
        register_template("attendance.late", title=_("{name} 迟到"), body=_("{name} 于 {date} {time} 进校，已迟到。"))
        register_template("attendance.departed", title=_("{name} 已离校"), body=_("{name} 于 {date} {time} 离校。"))
        register_template(
            "attendance.left_early",
            title=_("{name} 提前离校"),
            body=_("{name} 于 {date} {time} 在放学前离校，且没有已批准的请假，请及时联系班主任。"),
            urgent=True,
        )
        register_template(
            "attendance.absent",
            title=_("{name} 今日未到校"),
            body=_("截至 {date} {time}，{name} 未到校且没有请假，请及时联系班主任。"),
            urgent=True,
        )
        register_template(
            "attendance.leave_approved",
            title=_("请假已批准：{name}"),
            body=_("{name} 的{type}（{start} 至 {end}）已批准，请假时间内可刷卡出校，返校刷卡即销假。编号 {number}。"),
        )
        register_template(
            "attendance.leave_rejected",
            title=_("请假未批准：{name}"),
            body=_("{name} 的{type}（{start} 至 {end}）未获批准。"),
        )
        register_template(
            "attendance.leave_cancelled",
            title=_("请假已取消：{name}"),
            body=_("{name} 的{type}（{start} 至 {end}）已取消。"),
        )
        register_template(
            "attendance.leave_returned", title=_("已销假：{name}"), body=_("{name} 已于 {returned} 返校，请假已销。")
        )
        register_template(
            "attendance.leave_overdue",
            title=_("请假逾期未归：{name}"),
            body=_("{name} 的请假已于 {end} 结束，至今未返校，请尽快联系。"),
            urgent=True,
        )
        register_template(
            "attendance.not_back",
            title=_("{name} 未按时归寝"),
            body=_("{date} 晚 {name} 未按时回到宿舍，且没有请假，请尽快联系。"),
            urgent=True,
        )
        worker.on_start(tasks.schedule_sweep)
        post_migrate.connect(_setup, sender=self)
