"""Forms of the face-library pages: they parse input; the services keep the rules."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import photos, statement

_PHOTO = forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"})


def _photo_field() -> forms.FileField:
    return forms.FileField(
        label=_("孩子的正面免冠照片"),
        widget=_PHOTO,
        help_text=format_lazy(_("JPEG 或 PNG，不大于 {kb} KB；光线均匀，不戴帽子和口罩"), kb=photos.MAX_BYTES // 1024),
    )


class _PhotoForm(forms.Form):
    photo = _photo_field()

    def clean_photo(self) -> bytes:
        upload = self.cleaned_data["photo"]
        if upload.size > photos.MAX_BYTES:  # before reading it into memory
            raise forms.ValidationError(
                gettext("照片不能大于 %(kb)d KB，请压缩后再上传") % {"kb": photos.MAX_BYTES // 1024}
            )
        return bytes(upload.read())


class EnrolForm(_PhotoForm):
    agree = forms.BooleanField(
        label=_("我是该学生的监护人，已阅读并同意上述授权书，同意学校为校门通行和考勤处理孩子的人脸信息"),
        required=True,
        error_messages={"required": _("请勾选同意授权书后再上传")},
    )
    statement_version = forms.CharField(widget=forms.HiddenInput, initial=statement.VERSION)


class ReplaceForm(_PhotoForm):
    pass


class WithdrawOnRequestForm(forms.Form):
    note = forms.CharField(
        label=_("书面申请"),
        max_length=300,
        help_text=_("申请人、申请日期，如：父亲王某 2026-11-20 书面申请"),
    )
