"""What the workflow app tells other modules: a request was submitted, returned, approved, rejected or
withdrawn. A module subscribes to its own definitions' keys in AppConfig.ready(); handlers run inside the
same transaction as the decision, so the module's own change and the decision land together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

SUBMITTED = "submitted"
RETURNED = "returned"
APPROVED = "approved"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class RequestEvent:
    event: str
    request_id: int
    number: str
    key: str  # the definition's key, e.g. "teacher_leave"
    school_id: int
    applicant_id: int
    title: str
    values: Mapping[str, Any]
    actor_id: int | None


Handler = Callable[[RequestEvent], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(key: str, handler: Handler) -> None:
    """Call `handler` for every event of requests made with definition `key` ("*": every definition)."""
    if handler not in _handlers[key]:
        _handlers[key].append(handler)


def publish(event: RequestEvent) -> None:
    for handler in [*_handlers.get(event.key, []), *_handlers.get("*", [])]:
        handler(event)
