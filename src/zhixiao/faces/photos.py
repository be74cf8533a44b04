"""Checking an enrolment photo without an imaging library: the type from its magic bytes, the size in
pixels from its header (PNG IHDR, JPEG SOF), so a renamed document or a thumbnail is refused at upload
rather than at the gate."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from django.utils.translation import gettext as _

from zhixiao.kernel.errors import DomainError

MAX_BYTES = 512 * 1024
MIN_SIDE = 100  # pixels; gate terminals need about this much face to recognise it
MAX_SIDE = 4096

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
# SOF markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


@dataclass(frozen=True)
class Photo:
    content_type: str
    width: int
    height: int


def _png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if length < 2:
            return None
        if marker in _SOF_MARKERS:
            if i + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        if marker == 0xDA:  # start of scan before any frame header
            return None
        i += 2 + length
    return None


def check(data: bytes) -> Photo:
    """The photo's type and size, or a DomainError saying what is wrong with it (for the guardian)."""
    if not data:
        raise DomainError(_("请选择一张照片"))
    if len(data) > MAX_BYTES:
        raise DomainError(_("照片不能大于 %(kb)d KB，请压缩后再上传") % {"kb": MAX_BYTES // 1024})
    if data.startswith(PNG_SIGNATURE):
        content_type, size = "image/png", _png_size(data)
    elif data.startswith(JPEG_SIGNATURE):
        content_type, size = "image/jpeg", _jpeg_size(data)
    else:
        raise DomainError(_("照片须为 JPEG 或 PNG 格式"))
    if size is None:
        raise DomainError(_("照片文件已损坏，无法读取"))
    width, height = size
    if min(width, height) < MIN_SIDE:
        raise DomainError(_("照片太小（至少 %(px)d×%(px)d 像素）") % {"px": MIN_SIDE})
    if max(width, height) > MAX_SIDE:
        raise DomainError(_("照片太大（不超过 %(px)d×%(px)d 像素）") % {"px": MAX_SIDE})
    return Photo(content_type=content_type, width=width, height=height)
