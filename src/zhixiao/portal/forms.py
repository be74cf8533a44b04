"""Forms for the school admin's staff pages (roles, teaching assignments, homeroom teachers). The choices
are filled by the view from selectors of the one school, so a posted id from elsewhere is refused."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from zhixiao.kernel.permissions import ROLE_LABELS, Role

# The explicit roles a school admin hands out inside her school (system and bureau roles are not hers).
SCHOOL_ROLES = (
    Role.SCHOOL_ADMIN,
    Role.PRINCIPAL,
    Role.DEPARTMENT_HEAD,
    Role.GRADE_HEAD,
    Role.GUARD,
    Role.CANTEEN_STAFF,
    Role.IT_STAFF,
)

Choices = list[tuple[int, str]]


def _id_field(label: Any, *, required: bool = True) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(label=label, coerce=int, required=required, empty_value=None)


class RoleGrantForm(forms.Form):
    staff = _id_field(_("教职工"))
    role = forms.ChoiceField(label=_("角色"), choices=[(r.value, ROLE_LABELS[r]) for r in SCHOOL_ROLES])
    department = _id_field(_("处室（处室主任）"), required=False)
    grade = _id_field(_("年级（年级组长）"), required=False)

    def __init__(self, *args: Any, staff: Choices, departments: Choices, grades: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [("", "—"), *staff]  # type: ignore[attr-defined]
        self.fields["department"].choices = [("", "—"), *departments]  # type: ignore[attr-defined]
        self.fields["grade"].choices = [("", "—"), *grades]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        role = data.get("role")
        if role == Role.DEPARTMENT_HEAD and not data.get("department"):
            self.add_error("department", _("处室主任须选择所管的处室"))
        if role == Role.GRADE_HEAD and not data.get("grade"):
            self.add_error("grade", _("年级组长须选择所管的年级"))
        # the scope follows the role: only these two roles are held over a part of the school
        if role != Role.DEPARTMENT_HEAD:
            data["department"] = None
        if role != Role.GRADE_HEAD:
            data["grade"] = None
        return data


class TeachingForm(forms.Form):
    staff = _id_field(_("教师"))
    admin_class = _id_field(_("班级"))
    subject = _id_field(_("科目"))

    def __init__(self, *args: Any, staff: Choices, classes: Choices, subjects: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [("", "—"), *staff]  # type: ignore[attr-defined]
        self.fields["admin_class"].choices = [("", "—"), *classes]  # type: ignore[attr-defined]
        self.fields["subject"].choices = [("", "—"), *subjects]  # type: ignore[attr-defined]


class HomeroomForm(forms.Form):
    """One class's 班主任: a staff account of the school, or none."""

    account = _id_field(_("班主任"), required=False)

    def __init__(self, *args: Any, accounts: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [("", "—"), *accounts]  # type: ignore[attr-defined]
        self.fields["account"].widget.attrs["aria-label"] = str(_("班主任"))


class OpenSchoolForm(forms.Form):
    code = forms.CharField(label=_("学校标识码"), max_length=10, min_length=10)
    name = forms.CharField(label=_("学校名称"), max_length=100)
    school_type = forms.ChoiceField(label=_("办学类型"), choices=[])
    division_code = forms.CharField(label=_("行政区划代码"), max_length=6, min_length=6)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    admin_staff_no = forms.CharField(label=_("学校管理员工号"), max_length=32)
    admin_name = forms.CharField(label=_("学校管理员姓名"), max_length=50)
    admin_gender = forms.ChoiceField(label=_("性别"), choices=[("1", _("男")), ("2", _("女"))])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from zhixiao.kernel import codes

        super().__init__(*args, **kwargs)
        self.fields["school_type"].choices = codes.school_type_choices()  # type: ignore[attr-defined]


class BureauOfficerForm(forms.Form):
    username = forms.CharField(label=_("登录名"), max_length=64)
    display_name = forms.CharField(label=_("姓名或单位"), max_length=64)
    region_code = forms.CharField(label=_("行政区划代码（2/4/6位）"), max_length=6)
