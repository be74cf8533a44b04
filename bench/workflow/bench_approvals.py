"""Approvals at volume on PostgreSQL: 10,000 requests through a three-step flow, approvals timed as real page
requests, and the 待我审批 page of an approver with 500 waiting items under loopback load (wrk).

    .venv/bin/python scripts/with_postgres.py .venv/bin/python bench/workflow/bench_approvals.py

What it does: builds the demo school (1,800 students) with `zhixiao demo`; saves a flow "bench_three"
(the applicant's grade head → head of 教务处 → head of 总务处); files --requests requests from the
school's teachers through the service (timed); serves the site with gunicorn; then, through the pages
(POST /workflow/tasks/<id>/decide/ as the htmx row does, one session per approver), approves step 1 of
3,000 requests, step 2 of 1,500 and step 3 of 1,000, timing each POST; the head of 总务处 is left with
exactly 500 waiting items, and wrk measures her 待我审批 page with 2 connections (one per gunicorn
worker) and with --connections (default 4). Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "people"))

from bench_pages import REPORT_LUA, Session, _free_port, build_demo, wait_until_up, wrk  # noqa: E402

ZHIXIAO = str(Path(sys.executable).with_name("zhixiao"))
FLOW = {
    "key": "bench_three",
    "name": "三级审批（基准）",
    "title": "{subject}",
    "fields": [
        {"name": "subject", "label": "事项", "type": "text", "required": True},
        {"name": "days", "label": "天数", "type": "decimal", "required": True},
    ],
    "steps": [
        {"id": "grade", "name": "年级组长审批", "approvers": [{"rule": "grade_head"}]},
        {"id": "academic", "name": "教务处审批", "approvers": [{"rule": "department_head", "department": "教务处"}]},
        {"id": "general", "name": "总务处审批", "approvers": [{"rule": "department_head", "department": "总务处"}]},
    ],
}


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"n": len(ordered), "p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99), "max_ms": at(1.0)}


class Approver(Session):
    def decide(self, task_id: int) -> float:
        body = urllib.parse.urlencode({"decision": "approve", "comment": "同意"}).encode()
        request = urllib.request.Request(
            f"{self.base}/workflow/tasks/{task_id}/decide/",
            data=body,
            headers={"X-CSRFToken": self.cookie("csrftoken"), "HX-Request": "true", "Referer": self.base},
        )
        started = time.perf_counter()
        with self.opener.open(request) as r:
            text = r.read().decode()
        elapsed = (time.perf_counter() - started) * 1000
        if "badge ok" not in text:
            raise SystemExit(f"task {task_id} was not approved: {text[:300]}")
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--step1", type=int, default=3000)
    parser.add_argument("--step2", type=int, default=1500)
    parser.add_argument("--step3", type=int, default=1000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("run under scripts/with_postgres.py (DATABASE_URL must name a PostgreSQL database)")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    data_dir = Path(tempfile.mkdtemp(prefix="zhixiao-bench-wf-"))
    env = dict(os.environ, ZHIXIAO_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="zhixiao.config.settings.local")
    os.environ.update(ZHIXIAO_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="zhixiao.config.settings.local")
    result: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "load_average_1m_before": round(os.getloadavg()[0], 2),
        "requests": args.requests,
    }
    build_seconds, _logins = build_demo(env, 1800, 1)
    result["demo_build_seconds"] = round(build_seconds, 1)

    import django

    django.setup()
    from zhixiao.identity.models import Account, RoleAssignment
    from zhixiao.org.models import School
    from zhixiao.people.models import Staff, TeachingAssignment
    from zhixiao.workflow import services
    from zhixiao.workflow.models import Task, TaskStatus

    school = School.objects.get()
    services.save_definition(actor=None, school_id=school.pk, raw=FLOW)
    heads = set(RoleAssignment.objects.filter(school=school).values_list("account_id", flat=True))
    teaching = set(TeachingAssignment.objects.filter(school=school).values_list("staff__account_id", flat=True))
    applicants = list(Account.objects.filter(pk__in=teaching - heads, is_active=True).order_by("pk"))
    filing: list[float] = []
    for i in range(args.requests):
        started = time.perf_counter()
        services.start_request(
            actor=applicants[i % len(applicants)], key="bench_three", data={"subject": f"基准申请 {i}", "days": "1"}
        )
        filing.append((time.perf_counter() - started) * 1000)
        if (i + 1) % 1000 == 0:
            print(f"filed {i + 1}", file=sys.stderr, flush=True)
    result["file_request_service"] = percentiles(filing)

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [ZHIXIAO, "serve", "--no-worker", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    sessions: dict[int, Approver] = {}

    def session_of(account_id: int) -> Approver:
        if account_id not in sessions:
            s = Approver(base)
            s.login(Account.objects.get(pk=account_id).username, "Zhixiao@2026")
            s.get("/workflow/")  # the csrftoken cookie
            sessions[account_id] = s
        return sessions[account_id]

    try:
        wait_until_up(base)
        approvals: list[float] = []
        for step, count in (("grade", args.step1), ("academic", args.step2), ("general", args.step3)):
            waiting = list(
                Task.objects.filter(step=step, status=TaskStatus.WAITING, request__definition__key="bench_three")
                .order_by("request_id")
                .values_list("pk", "assignee_id")[:count]
            )
            for task_id, assignee_id in waiting:
                approvals.append(session_of(assignee_id).decide(task_id))
            print(f"approved {len(waiting)} at {step}", file=sys.stderr, flush=True)
        result["approve_step_page_post"] = percentiles(approvals)

        general_head = RoleAssignment.objects.get(school=school, role="department_head", department__name="总务处")
        waiting_for_head = Task.objects.filter(assignee_id=general_head.account_id, status=TaskStatus.WAITING).count()
        result["waiting_items_of_measured_approver"] = waiting_for_head
        head = session_of(general_head.account_id)
        page = head.get("/workflow/?tab=todo")
        if "基准申请" not in page:
            raise SystemExit("the to-approve page did not list the waiting requests")
        with tempfile.TemporaryDirectory() as tmp:
            lua = Path(tmp) / "report.lua"
            lua.write_text(REPORT_LUA)
            url, header = f"{base}/workflow/?tab=todo", f"Cookie: sessionid={head.cookie('sessionid')}"
            wrk(url, header, 2, args.connections, lua)
            # one connection per gunicorn worker (the page's own latency), then --connections (with queueing)
            for connections in sorted({2, args.connections}):
                runs = [wrk(url, header, args.duration, connections, lua) for _ in range(args.runs)]
                if any(r["errors"] for r in runs):
                    raise SystemExit(f"wrk saw error responses: {runs}")
                figures: dict[str, Any] = {
                    key: round(statistics.median(r[key] for r in runs), 1)
                    for key in ("p50_ms", "p95_ms", "p99_ms", "req_per_s")
                }
                figures["runs"] = runs
                result[f"todo_page_wrk_{connections}_connections"] = figures
        result["load_average_1m_after"] = round(os.getloadavg()[0], 2)
        staff_total = Staff.objects.filter(school=school).count()
        result["school"] = {"staff": staff_total, "applicants": len(applicants)}
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
