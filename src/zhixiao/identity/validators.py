"""Password rules as 等保2.0 level 3 asks: length (settings) and at least three character classes."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class CharacterClassValidator:
    CLASSES = (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]")

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        found = sum(1 for pattern in self.CLASSES if re.search(pattern, password))
        if found < self.min_classes:
            raise ValidationError(
                _("密码须包含大写字母、小写字母、数字、符号中的至少%(n)d种") % {"n": self.min_classes},
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return _("密码须包含大写字母、小写字母、数字、符号中的至少%(n)d种") % {"n": self.min_classes}


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's rule with its message in our catalogue: Django 5.2 changed the message's msgid and its
    zh_Hans catalogue has not caught up, so Chinese users were told "This password is too short" in English."""

    def get_error_message(self) -> str:
        return _("密码长度太短，至少需要%(n)d个字符") % {"n": self.min_length}

    def get_help_text(self) -> str:
        return _("密码至少需要%(n)d个字符") % {"n": self.min_length}
