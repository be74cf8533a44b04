from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TimetableConfig(AppConfig):
    name = "zhixiao.timetable"
    label = "timetable"
    verbose_name = "timetable"

    def ready(self) -> None:
        from zhixiao.notifications.services import register_template
        from zhixiao.workflow import events

        from . import services

        # a teacher's approved leave (the office's 教师请假 flow) leaves lessons to cover
        events.subscribe(services.TEACHER_LEAVE_FLOW, services.on_leave_event)
        register_template(
            "timetable.published",
            title=_("课表已发布：{plan}"),
            body=_("{plan} 第 {version} 版已发布，请在“我的课表”查看。"),
        )
        register_template(
            "timetable.substitute",
            title=_("代课安排：{date} {period}"),
            body=_("{teacher} 请假，请您于 {date} {period} 为 {class_name} 代 {subject} 课。"),
        )
        register_template(
            "timetable.substitutions_needed",
            title=_("需要安排代课：{teacher}"),
            body=_("{teacher} 的请假（{start} 至 {end}）已批准，有 {count} 节课需要安排代课教师。"),
        )
