from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from zhixiao.notifications.services import deliver_due


class Command(BaseCommand):
    help = "Deliver the notifications that are due now, in this process (no worker needed)."

    def handle(self, *args: Any, **opts: Any) -> None:
        report = deliver_due()
        self.stdout.write(" ".join(f"{k}={v}" for k, v in report.as_dict().items()))
