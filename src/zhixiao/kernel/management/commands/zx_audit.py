from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhixiao.kernel import audit
from zhixiao.kernel.models import AuditRecord


class Command(BaseCommand):
    help = "audit verify: check the hash chain of the audit log; exit 1 naming the first bad record"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        broken = audit.verify_chain()
        if broken is not None:
            self.stderr.write(f"audit chain BROKEN at record seq={broken.seq} (id={broken.record_id}): {broken.reason}")
            raise CommandError("audit verify failed", returncode=1)
        self.stdout.write(f"audit chain OK: {AuditRecord.objects.count()} records")
