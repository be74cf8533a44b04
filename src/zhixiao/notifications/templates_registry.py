"""Message templates: domains register them at start-up (AppConfig.ready) by key; notify() refers to the
key. Title and body are lazy gettext strings with {placeholders}, filled with str.format at delivery time
in the recipient's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import translation


@dataclass(frozen=True)
class MessageTemplate:
    key: str
    title: Any  # a lazy translation
    body: Any
    urgent: bool = False

    def render(self, context: dict[str, Any], language: str | None = None) -> tuple[str, str]:
        """(title, body) in `language`; a missing placeholder raises KeyError."""
        with translation.override(language or None):
            return str(self.title).format(**context), str(self.body).format(**context)


_templates: dict[str, MessageTemplate] = {}


def register_template(key: str, *, title: Any, body: Any, urgent: bool = False) -> None:
    """Register (or re-register, e.g. on autoreload) a template under `key`, e.g. "workflow.pending"."""
    _templates[key] = MessageTemplate(key=key, title=title, body=body, urgent=urgent)


def get_template(key: str) -> MessageTemplate:
    try:
        return _templates[key]
    except KeyError:
        raise ValueError(f"unknown notification template {key!r} (register it in the AppConfig.ready())") from None


def registered_keys() -> list[str]:
    return sorted(_templates)
