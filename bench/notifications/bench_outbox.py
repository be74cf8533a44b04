"""Benchmark: notifications per second through the outbox to the in-app channel, on PostgreSQL.

Builds nothing but what it needs: migrates the database named by DATABASE_URL, adds 2,000 accounts, then
per repeat writes 10,000 notifications (200 business transactions, each notify() to 50 people, as a
homeroom teacher notifying a class's guardians would) and drains them with deliver_due() (the worker's
code, in this process). Reported: notify rate, delivery rate and the end-to-end rate (both phases).

    .venv/bin/python scripts/with_postgres.py .venv/bin/python bench/notifications/bench_outbox.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

TARGET_PER_SECOND = 1000.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--transactions", type=int, default=200)
    parser.add_argument("--per-call", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("run under scripts/with_postgres.py (DATABASE_URL must name a PostgreSQL database)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhixiao.config.settings.local")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction

    from zhixiao.notifications import delivery, services
    from zhixiao.notifications.models import InboxItem, Outbox

    call_command("migrate", verbosity=0, interactive=False)
    Account = get_user_model()
    Account.objects.bulk_create(
        [Account(username=f"bench-{i}", password="!") for i in range(args.people)], batch_size=1000
    )
    ids = list(Account.objects.filter(username__startswith="bench-").values_list("pk", flat=True))
    runs = []
    for repeat in range(args.repeats):
        started = time.perf_counter()
        written = 0
        for t in range(args.transactions):
            start = (t * args.per_call) % len(ids)
            group = ids[start : start + args.per_call]
            with transaction.atomic():
                written += services.notify(
                    recipients=group,
                    template="notifications.test",
                    context={"note": f"bench {repeat}-{t}"},
                    dedup_key=f"bench:{repeat}:{t}",
                    school_id=None,
                )
        notified = time.perf_counter()
        report = delivery.deliver_due(limit=10**9)
        drained = time.perf_counter()
        assert report.sent == written, (report, written)
        runs.append(
            {
                "notifications": written,
                "notify_s": notified - started,
                "deliver_s": drained - notified,
                "notify_per_s": written / (notified - started),
                "deliver_per_s": written / (drained - notified),
                "end_to_end_per_s": written / (drained - started),
            }
        )
        print(json.dumps(runs[-1]), flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg_version = cursor.fetchone()[0].split(" on ")[0]
    summary = {
        "median_end_to_end_per_s": statistics.median(r["end_to_end_per_s"] for r in runs),
        "median_notify_per_s": statistics.median(r["notify_per_s"] for r in runs),
        "median_deliver_per_s": statistics.median(r["deliver_per_s"] for r in runs),
        "runs": len(runs),
        "inbox_items": InboxItem.objects.count(),
        "outbox_rows": Outbox.objects.count(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "database": pg_version,
    }
    print(json.dumps(summary, indent=2))
    return 0 if summary["median_end_to_end_per_s"] >= TARGET_PER_SECOND else 1


if __name__ == "__main__":
    sys.exit(main())
