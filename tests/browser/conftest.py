"""Browser tests: a live server over the session's demo, and Debian's chromium driven by Playwright.

Not pytest-django's `live_server`: it forces `transactional_db`, whose teardown flushes every table, which
would drop the session's demo for the tests after it on the same worker (and PostgreSQL's append-only
audit triggers refuse it). Here the server runs in a thread over the same data instead: on the in-memory
SQLite of the unit phase it shares the test's connection (as Django's own LiveServerTestCase does), so
what it writes rolls back with the test; on PostgreSQL it reads the committed demo on its own connection.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def site(db: Any) -> Iterator[str]:
    """The base URL of a live server (a thread of this process) serving the demo."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.db import connections
    from django.test.testcases import LiveServerThread

    shared = {conn.alias: conn for conn in connections.all() if conn.vendor == "sqlite" and conn.is_in_memory_db()}
    for conn in shared.values():
        conn.inc_thread_sharing()
    handler: Any = StaticFilesHandler
    if shared:
        # one connection shared by the server's request threads: a page polling three parts at once (htmx)
        # would interleave their savepoints on it, so requests take turns
        import threading

        turn = threading.Lock()

        class OneAtATime(StaticFilesHandler):
            def __call__(self, environ: Any, start_response: Any) -> Any:
                with turn:
                    return super().__call__(environ, start_response)

        handler = OneAtATime
    server = LiveServerThread("127.0.0.1", handler, connections_override=shared, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.terminate()
        for conn in shared.values():
            conn.dec_thread_sharing()


@pytest.fixture
def chromium(site: str) -> Iterator[Any]:
    """Debian's chromium, headless (Playwright downloads no browser of its own). One per test, closed
    before the server stops: its kept-alive connections hold the server's request threads, and with them
    their database connections (PostgreSQL would then refuse to drop the test database)."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "chromium is not installed (apt-get install chromium)"
    # Playwright's sync API runs an event loop in this thread while the browser is open; the ORM calls
    # the tests make to compare the page with the database are still plain synchronous calls. Only for
    # these tests: a subprocess started by another test must not inherit it (`check --deploy` refuses it).
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from django.db import connections

    outside = {conn.alias: conn for conn in connections.all()}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
            # While Playwright's loop runs, the ORM hands this thread other connections than the test's
            # own; close them, or PostgreSQL keeps them open and refuses to drop the test database.
            for conn in connections.all(initialized_only=True):
                if conn is not outside.get(conn.alias):
                    conn.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before
