"""The consent statement a guardian reads before enrolling a child's face. A change of wording is a new
VERSION: a consent records the version and the text as shown, and a form filled against an older version
is refused so nobody consents to words they did not see."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

VERSION = "2026.1"

TITLE = _("人脸识别信息采集授权书")

PARAGRAPHS = (
    _(
        "收集的信息：孩子的一张正面免冠照片，以及校门设备由照片生成的人脸特征。"
        "人脸属于《个人信息保护法》规定的敏感个人信息；不满十四周岁未成年人的个人信息均为敏感个人信息，"
        "须由监护人单独同意后方可处理。"
    ),
    _("用途：仅用于孩子进出校门、宿舍门禁的身份识别和考勤记录，不用于其他目的，不向其他单位或个人提供。"),
    _(
        "保存期限：保存至您撤回授权或孩子毕业、转学离校时为止；届时照片立即删除，"
        "校门设备上的人脸信息随之移除，仅保留授权和删除的记录。"
    ),
    _(
        "如何撤回：孩子的任一监护人可随时在本页点击“撤回授权”；也可向学校提交书面申请，由学校管理员代为撤回。"
        "不授权或撤回授权不影响孩子入校，可改用校园卡等方式通行。"
    ),
    _("谁能看到照片：只有孩子的监护人本人可在本页查看；其他家长看不到，学校页面也不显示照片。"),
)


def text() -> str:
    """The statement as shown now (in the reader's language), to be kept with the consent."""
    return "\n".join([str(TITLE), *(str(p) for p in PARAGRAPHS), f"({VERSION})"])
