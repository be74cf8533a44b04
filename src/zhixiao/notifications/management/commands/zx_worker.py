from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django_tasks_db.management.commands.db_worker import Command as DbWorker

from zhixiao.kernel import worker


class Command(BaseCommand):
    """`zhixiao worker`: django-tasks-db's db_worker (same options), after the apps' start hooks
    (kernel.worker): the outbox queues one delivery run, the workflow books its overdue sweep.

    A worker killed mid-task leaves its task RUNNING for ever (django-tasks-db keeps no lease), and with it
    the outbox's booked follow-up runs: a fresh start queues one, which picks up whatever is due or whose
    lease ran out."""

    help = DbWorker.help

    def run_from_argv(self, argv: list[str]) -> None:
        worker.starting()
        DbWorker().run_from_argv([argv[0], "db_worker", *argv[2:]])

    def handle(self, *args: Any, **opts: Any) -> None:
        worker.starting()
        call_command("db_worker", *args)
