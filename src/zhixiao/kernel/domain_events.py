"""Plain publish/subscribe between domains, for facts a lower domain states and a higher one acts on
("these students changed", "a face was enrolled") without the lower one knowing who listens.

Handlers run synchronously, inside the publisher's transaction, so the listener's change lands with the
fact or not at all. Topics are dotted strings owned by the publishing domain (people.students_changed)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[..., None]
_handlers: dict[str, list[Handler]] = defaultdict(list)

STUDENTS_CHANGED = "people.students_changed"  # school_id, student_ids: roster, class, status or boarding
STAFF_CHANGED = "people.staff_changed"  # school_id, staff_ids: joined, left, status
FACES_CHANGED = "faces.changed"  # school_id, student_ids: a face enrolled or removed


def subscribe(topic: str, handler: Handler) -> None:
    if handler not in _handlers[topic]:
        _handlers[topic].append(handler)


def publish(topic: str, **payload: Any) -> None:
    for handler in list(_handlers.get(topic, [])):
        handler(**payload)
