"""Page latency at 50,000 students in 20 schools: build the demo (timed), serve it with gunicorn, and drive
loopback load with wrk against the class roster page, the student search page and the student API list.

    python bench/people/bench_pages.py                                  # SQLite in a temporary data dir
    python scripts/with_postgres.py python bench/people/bench_pages.py  # PostgreSQL (DATABASE_URL)

Each load run is bounded (--duration seconds, --connections connections) and only targets 127.0.0.1.
Prints one JSON document: build time, and per page the median of --runs runs of p50/p95/p99 (ms) and req/s.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import socket
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
ZHIXIAO = str(Path(sys.executable).with_name("zhixiao"))
COMMON_SURNAME = "王"

# wrk's own summary, in microseconds, with every non-2xx/3xx response counted as an error.
REPORT_LUA = """
done = function(summary, latency, requests)
  io.write(string.format("ZXRESULT %d %d %d %d %d %d %d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests, summary.duration,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write,
    summary.errors.timeout))
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_demo(env: dict[str, str], students: int, schools: int) -> tuple[float, list[dict[str, Any]]]:
    started = time.monotonic()
    out = subprocess.run(
        [ZHIXIAO, "demo", "--students", str(students), "--schools", str(schools), "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return time.monotonic() - started, json.loads(out.stdout)


def wait_until_up(base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the server did not come up")


class Session:
    """A browser-like login: CSRF cookie, POST the form, keep the session cookie."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)  # type: ignore[misc]

    def login(self, username: str, password: str) -> None:
        self.opener.open(f"{self.base}/account/login/").read()
        data = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": self.cookie("csrftoken")}
        ).encode()
        request = urllib.request.Request(f"{self.base}/account/login/", data=data, headers={"Referer": self.base})
        with self.opener.open(request) as r:
            if "/account/login/" in r.url:
                raise SystemExit(f"login as {username} failed")

    def get(self, path: str) -> str:
        with self.opener.open(f"{self.base}{path}") as r:
            return str(r.read().decode())


def api_token(base: str, username: str, password: str) -> str:
    body = json.dumps({"username": username, "password": password}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/auth/token", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request) as r:
        return str(json.loads(r.read())["token"])


def api_get(base: str, path: str, token: str) -> Any:
    request = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as r:
        return json.loads(r.read())


def wrk(url: str, header: str, duration: int, connections: int, lua: Path) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(lua), "-H", header, url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    m = re.search(r"ZXRESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if m is None:
        raise SystemExit(f"wrk printed no result:\n{out}")
    p50, p95, p99, requests, micros, errors, timeouts = map(int, m.groups())
    return {
        "p50_ms": p50 / 1000,
        "p95_ms": p95 / 1000,
        "p99_ms": p99 / 1000,
        "req_per_s": requests / (micros / 1e6),
        "requests": requests,
        "errors": errors + timeouts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per load run")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--data-dir", help="reuse this data dir (SQLite demo built once, kept)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")

    database = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    keep = bool(args.data_dir)
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="zhixiao-bench-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, ZHIXIAO_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="zhixiao.config.settings.local")
    env.pop("ZHIXIAO_DEBUG", None)
    result: dict[str, Any] = {
        "database": database,
        "students": args.students,
        "schools": args.schools,
        "load_average_1m_before": round(os.getloadavg()[0], 2),
    }

    saved = data_dir / "bench-logins.json"
    if keep and saved.exists() and database == "sqlite":
        logins = json.loads(saved.read_text())
        result["build_seconds"] = None
    else:
        seconds, logins = build_demo(env, args.students, args.schools)
        saved.write_text(json.dumps(logins, ensure_ascii=False))
        result["build_seconds"] = round(seconds, 1)
        print(f"demo built on {database} in {seconds:.1f} s", file=sys.stderr, flush=True)

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [ZHIXIAO, "serve", "--no-worker", "--workers", str(args.workers), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until_up(base)
        school = next(r["school"] for r in logins if r["role"] == "homeroom_teacher")
        teacher = next(r for r in logins if r["role"] == "homeroom_teacher" and r["school"] == school)
        guard = next(r for r in logins if r["role"] == "guard" and r["school"] == school)

        teacher_session = Session(base)
        teacher_session.login(teacher["username"], teacher["password"])
        guard_session = Session(base)
        guard_session.login(guard["username"], guard["password"])
        guard_token = api_token(base, guard["username"], guard["password"])
        teacher_token = api_token(base, teacher["username"], teacher["password"])
        class_id = api_get(base, "/api/v1/students", teacher_token)["results"][0]["class_id"]

        listing = api_get(base, "/api/v1/students?page=3", guard_token)
        search = guard_session.get(f"/people/students/?q={urllib.parse.quote(COMMON_SURNAME)}")
        roster = teacher_session.get(f"/people/classes/{class_id}/roster/")
        if listing["page"] != 3 or len(listing["results"]) != 50:
            raise SystemExit(f"unexpected API page: page={listing['page']} results={len(listing['results'])}")
        if COMMON_SURNAME not in search or "people/students/" not in roster:
            raise SystemExit("the pages did not render as expected")
        result["school_students_visible_to_guard"] = listing["count"]

        targets = {
            "class roster page (homeroom teacher)": (
                f"{base}/people/classes/{class_id}/roster/",
                f"Cookie: sessionid={teacher_session.cookie('sessionid')}",
            ),
            f"student search ?q={COMMON_SURNAME} (school-wide, guard)": (
                f"{base}/people/students/?q={urllib.parse.quote(COMMON_SURNAME)}",
                f"Cookie: sessionid={guard_session.cookie('sessionid')}",
            ),
            "GET /api/v1/students?page=3 (school-wide, bearer)": (
                f"{base}/api/v1/students?page=3",
                f"Authorization: Bearer {guard_token}",
            ),
        }
        with tempfile.TemporaryDirectory() as tmp:
            lua = Path(tmp) / "report.lua"
            lua.write_text(REPORT_LUA)
            pages: dict[str, Any] = {}
            for name, (url, header) in targets.items():
                wrk(url, header, 2, args.connections, lua)  # warm-up: caches, connections, bytecode
                runs = [wrk(url, header, args.duration, args.connections, lua) for _ in range(args.runs)]
                if any(r["errors"] for r in runs):
                    raise SystemExit(f"{name}: wrk saw error responses: {runs}")
                pages[name] = {
                    key: round(statistics.median(r[key] for r in runs), 1)
                    for key in ("p50_ms", "p95_ms", "p99_ms", "req_per_s")
                }
                pages[name]["runs"] = runs
                print(f"{name}: {pages[name]}", file=sys.stderr, flush=True)
        result["pages"] = pages
        # The machine may be shared: a load average well above 2 (its cores) inflates every latency.
        result["load_average_1m_after"] = round(os.getloadavg()[0], 2)
        result["load"] = {"duration_s": args.duration, "connections": args.connections, "runs": args.runs}
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
