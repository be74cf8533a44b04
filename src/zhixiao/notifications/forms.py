"""Forms for the inbox settings and the group robots: they parse input; the services keep the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import EXTERNAL_CHANNELS, GroupRobot

_TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class PreferenceForm(forms.Form):
    channels = forms.MultipleChoiceField(
        label=_("另外通过以下渠道通知我"),
        choices=[(c.value, c.label) for c in EXTERNAL_CHANNELS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("站内信总是开启。群机器人在学校设置了钉钉或企业微信群时，会在群里 @ 您的手机号。"),
    )
    email = forms.EmailField(label=_("邮箱"), required=False)
    quiet_start = forms.TimeField(label=_("免打扰开始"), required=False, widget=_TIME)
    quiet_end = forms.TimeField(label=_("免打扰结束"), required=False, widget=_TIME)
    language = forms.ChoiceField(label=_("通知语言"), choices=settings.LANGUAGES)


class RobotForm(forms.Form):
    school_id = forms.TypedChoiceField(label=_("学校"), coerce=int)
    kind = forms.ChoiceField(label=_("类型"), choices=GroupRobot.Kind.choices)
    name = forms.CharField(label=_("名称"), max_length=100)
    webhook_url = forms.URLField(label=_("Webhook 地址"), max_length=500, assume_scheme="https")
    secret = forms.CharField(
        label=_("加签密钥"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("钉钉机器人的“加签”密钥；编辑时留空表示不修改"),
    )
    enabled = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, school_ids: list[int] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["school_id"]
        if school_ids is None:  # a system grant: any school, by its number
            self.fields["school_id"] = forms.IntegerField(label=_("学校编号"), min_value=1)
        else:
            field.choices = [(i, _("学校 #{id}").format(id=i)) for i in school_ids]  # type: ignore[attr-defined]
