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
