"""What `zhixiao worker` does before it starts taking tasks: each app books its recurring work.

django-tasks has no scheduler, and a killed worker leaves its running task behind for ever; so at start
every app re-books what must keep happening (the outbox's delivery run, the workflow's overdue sweep).
Apps register in AppConfig.ready(); the hooks must be idempotent."""

from __future__ import annotations

from collections.abc import Callable

_hooks: list[Callable[[], None]] = []


def on_start(hook: Callable[[], None]) -> None:
    if hook not in _hooks:
        _hooks.append(hook)


def starting() -> None:
    for hook in _hooks:
        hook()
