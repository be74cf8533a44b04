"""Embeddable CJK fonts for ReportLab PDFs, found on the machine (never downloaded). No Django here.

Timetable exports, answer sheets and report cards all print Chinese; they share this one lookup so
that one Debian package (fonts-wqy-zenhei, installed by CI and the deploy guide) serves them all.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

# TrueType CJK fonts from Debian packages, best first. ReportLab embeds only TrueType outlines, so
# fonts-noto-cjk (OpenType/CFF) cannot be embedded by it and is not listed.
FONT_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),  # fonts-wqy-zenhei
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),  # fonts-wqy-microhei
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),  # fonts-arphic-uming
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),  # fonts-droid-fallback
)
FONT_PACKAGE = "fonts-wqy-zenhei"


class CjkFontError(ValueError):
    """No usable CJK font; the message says what to install, in Chinese."""


def register_cjk_font(font: str | Path | None = None) -> str:
    """Register an embeddable TrueType CJK font with ReportLab and return its name; say what to install if none."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    candidates = [(str(font), 0)] if font is not None else list(FONT_CANDIDATES)
    problems = []
    for path, index in candidates:
        if not Path(path).is_file():
            continue
        name = "zhixiao-cjk-" + hashlib.sha1(f"{path}#{index}".encode(), usedforsecurity=False).hexdigest()[:10]
        if name in pdfmetrics.getRegisteredFontNames():
            return name
        try:
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
        except TTFError as exc:
            problems.append(f"{path}：{exc}")
            continue
        return name
    if font is not None:
        why = problems[0] if problems else f"找不到字体文件 {font}"
        raise CjkFontError(f"无法使用字体（需要可嵌入的 TrueType 中文字体）：{why}")
    raise CjkFontError(
        "找不到可嵌入 PDF 的中文字体（TrueType）。请安装：apt-get install "
        f"{FONT_PACKAGE}（已查找：{'、'.join(p for p, _ in FONT_CANDIDATES)}）"
    )
