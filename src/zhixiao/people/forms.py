"""Forms for one student or staff member. They only collect raw values: records.py checks them, the
same way as an imported row, so the rules live in one place."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zhixiao.kernel import codes

from .models import Boarding, Gender, Post, Relation, StudentStatus


def _code_choices(key: str) -> list[tuple[str, str]]:
    return [("", "—"), *codes.code_list(key).choices()]


class StudentForm(forms.Form):
    student_no = forms.CharField(label=_("学籍号"), max_length=32)
    name = forms.CharField(label=_("姓名"), max_length=50)
    gender = forms.ChoiceField(label=_("性别"), choices=Gender.choices)
    id_type = forms.ChoiceField(label=_("证件类型"), choices=[])
    id_number = forms.CharField(label=_("证件号码"), max_length=32, required=False)
    birth_date = forms.CharField(
        label=_("出生日期"), required=False, help_text=_("例如 2010-09-01；有身份证号时可不填")
    )
    ethnicity = forms.ChoiceField(label=_("民族"), choices=[])
    household_type = forms.ChoiceField(label=_("户口性质"), choices=[], required=False)
    boarding = forms.ChoiceField(label=_("走读/住校"), choices=Boarding.choices)
    enrolled_on = forms.CharField(label=_("入学日期"), required=False)
    address = forms.CharField(label=_("家庭住址"), max_length=200, required=False)

    def __init__(self, *args: object, editing: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["id_type"].choices = codes.code_list(codes.ID_TYPE).choices()  # type: ignore[attr-defined]
        self.fields["ethnicity"].choices = codes.code_list(codes.ETHNICITY).choices()  # type: ignore[attr-defined]
        self.fields["household_type"].choices = _code_choices(codes.HOUSEHOLD)  # type: ignore[attr-defined]
        if editing:
            for name in ("student_no", "enrolled_on"):
                self.fields[name].disabled = True
                self.fields[name].required = False


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("学籍状态"), choices=StudentStatus.choices)
    since = forms.DateField(label=_("生效日期"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("说明"), max_length=200, required=False)


class GuardianForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    relation = forms.ChoiceField(label=_("关系"), choices=Relation.choices)
    mobile = forms.CharField(label=_("手机号"), max_length=20)
    may_notify = forms.BooleanField(label=_("接收通知"), required=False, initial=True)


class StaffForm(forms.Form):
    staff_no = forms.CharField(label=_("工号"), max_length=32)
    name = forms.CharField(label=_("姓名"), max_length=50)
    gender = forms.ChoiceField(label=_("性别"), choices=Gender.choices)
    id_type = forms.ChoiceField(label=_("证件类型"), choices=[])
    id_number = forms.CharField(label=_("证件号码"), max_length=32, required=False)
    birth_date = forms.CharField(label=_("出生日期"), required=False)
    ethnicity = forms.ChoiceField(label=_("民族"), choices=[])
    political_status = forms.ChoiceField(label=_("政治面貌"), choices=[])
    mobile = forms.CharField(label=_("手机号"), max_length=20, required=False)
    post = forms.ChoiceField(label=_("岗位"), choices=Post.choices)
    title = forms.CharField(label=_("职务/职称"), max_length=50, required=False)
    hired_on = forms.CharField(label=_("入职日期"), required=False)
    departments = forms.MultipleChoiceField(label=_("处室"), required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(
        self, *args: object, departments: list[tuple[int, str]], editing: bool = False, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["id_type"].choices = codes.code_list(codes.ID_TYPE).choices()  # type: ignore[attr-defined]
        self.fields["ethnicity"].choices = codes.code_list(codes.ETHNICITY).choices()  # type: ignore[attr-defined]
        self.fields["political_status"].choices = codes.code_list(codes.POLITICAL_STATUS).choices()  # type: ignore[attr-defined]
        self.fields["departments"].choices = departments  # type: ignore[attr-defined]
        if editing:
            self.fields["staff_no"].disabled = True
            self.fields["staff_no"].required = False
