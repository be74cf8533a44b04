"""Forms for the school-structure pages: they parse and check input; the services keep the rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from zhixiao.kernel import codes, identifiers
from zhixiao.kernel.school_calendar import WEEKDAY_LABELS

from .models import Stage

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _short(size: int) -> forms.TextInput:
    """A text box about as wide as the names it holds, so a row fits a phone."""
    return forms.TextInput(attrs={"size": size})


def division_full_name(code: str) -> str:
    """安徽省滁州市琅琊区 for 341102; empty when the code is not in GB/T 2260."""
    return "".join(c.name_zh for c in codes.division_path(code.strip()))


class SchoolForm(forms.Form):
    code = forms.CharField(label=_("学校标识码"), max_length=10, help_text=_("10位数字，由教育部统一编制"))
    name = forms.CharField(label=_("学校名称"), max_length=100)
    short_name = forms.CharField(label=_("简称"), max_length=30, required=False)
    school_type = forms.ChoiceField(label=_("办学类型"))
    division_code = forms.CharField(label=_("行政区划代码"), max_length=6, help_text=_("GB/T 2260 六位代码"))
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    phone = forms.CharField(label=_("电话"), max_length=30, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school_type"].choices = codes.school_type_choices()  # type: ignore[attr-defined]
        self.fields["code"].widget.attrs.update({"inputmode": "numeric", "pattern": r"\d{10}"})
        self.fields["division_code"].widget.attrs.update({"inputmode": "numeric", "pattern": r"\d{6}"})

    def clean_code(self) -> str:
        try:
            return identifiers.validate_school_code(self.cleaned_data["code"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_division_code(self) -> str:
        code = self.cleaned_data["division_code"].strip()
        if code not in codes.code_list(codes.DIVISION).by_code:
            raise forms.ValidationError(_("未知的行政区划代码：{code}").format(code=code))
        return code


class CampusForm(forms.Form):
    name = forms.CharField(label=_("校区名称"), max_length=100, widget=_short(10))
    address = forms.CharField(label=_("地址"), max_length=200, required=False, widget=_short(16))


class DepartmentForm(forms.Form):
    name = forms.CharField(label=_("处室名称"), max_length=50, widget=_short(12))


class SubjectForm(forms.Form):
    code = forms.CharField(label=_("科目代码"), max_length=10, widget=_short(4))
    name = forms.CharField(label=_("科目名称"), max_length=30, widget=_short(10))


class GradeForm(forms.Form):
    stage = forms.ChoiceField(label=_("学段"), choices=Stage.choices)
    entry_year = forms.IntegerField(label=_("入学年份"), min_value=1990, max_value=2100)


class ClassForm(forms.Form):
    grade = forms.IntegerField(widget=forms.HiddenInput)
    number = forms.IntegerField(label=_("班号"), min_value=1, max_value=99)
    name = forms.CharField(label=_("班级名称"), max_length=50, required=False, help_text=_("留空则自动命名"))
    room = forms.CharField(label=_("教室"), max_length=50, required=False)
    campus = forms.TypedChoiceField(label=_("校区"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, campuses: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campus"].choices = [("", "—"), *(campuses or [])]  # type: ignore[attr-defined]


class SchoolYearForm(forms.Form):
    """A school year with its two terms; dates default to the usual September and February starts."""

    start_year = forms.IntegerField(label=_("起始年份"), min_value=1990, max_value=2100)
    starts_on = forms.DateField(label=_("学年开始"), widget=_DATE)
    ends_on = forms.DateField(label=_("学年结束"), widget=_DATE)
    term1_starts_on = forms.DateField(label=_("第一学期开学"), widget=_DATE)
    term1_ends_on = forms.DateField(label=_("第一学期结束"), widget=_DATE)
    term2_starts_on = forms.DateField(label=_("第二学期开学"), widget=_DATE)
    term2_ends_on = forms.DateField(label=_("第二学期结束"), widget=_DATE)
    make_current = forms.BooleanField(label=_("设第一学期为当前学期"), required=False)

    @staticmethod
    def defaults(start_year: int) -> dict[str, Any]:
        y = start_year
        return {
            "start_year": y,
            "starts_on": dt.date(y, 8, 25),
            "ends_on": dt.date(y + 1, 8, 24),
            "term1_starts_on": dt.date(y, 9, 1),
            "term1_ends_on": dt.date(y + 1, 1, 20),
            "term2_starts_on": dt.date(y + 1, 2, 20),
            "term2_ends_on": dt.date(y + 1, 7, 10),
        }


class CalendarDayForm(forms.Form):
    OFF, EXTRA = "off", "extra"
    date = forms.DateField(label=_("日期"), widget=_DATE)
    kind = forms.ChoiceField(label=_("类型"), choices=[(OFF, _("学校放假")), (EXTRA, _("学校补课"))])
    note = forms.CharField(label=_("说明"), max_length=100, help_text=_("例如：运动会、校庆"))
    follows = forms.TypedChoiceField(
        label=_("按周几课表"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("当天的课表（周末补课按周一）"))] + [(str(i), label) for i, label in enumerate(WEEKDAY_LABELS)],
        help_text=_("补课或调休上课时上哪一天的课"),
    )
