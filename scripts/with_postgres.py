"""Run a command against a throw-away PostgreSQL cluster: initdb in a temporary directory, start on a
free loopback port, create a non-superuser role (row-level security binds it), run, stop, remove.

Usage: python scripts/with_postgres.py COMMAND [ARGS...]   (DATABASE_URL is set for the command)
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROLE = "zhixiao"
PASSWORD = "zhixiao-test"  # noqa: S105 - a throw-away cluster on loopback


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path:
        return path
    sys.exit(f"PostgreSQL's {name} not found: run `make test` as root, or `sudo apt-get install postgresql`")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str]) -> int:
    if not argv:
        sys.exit(__doc__)
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    tmp = Path(tempfile.mkdtemp(prefix="zhixiao-pg-"))
    data, sock = tmp / "data", tmp
    if as_root:
        shutil.chown(tmp, "postgres")
    port = _free_port()
    pg_ctl = [*run_as, _bin("pg_ctl"), "-D", str(data), "-w", "-l", str(tmp / "server.log")]
    try:
        subprocess.run(
            [*run_as, _bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        options += " -c synchronous_commit=off -c max_connections=200"
        subprocess.run([*pg_ctl, "-o", options, "start"], check=True, stdout=subprocess.DEVNULL)
        # Two -c options: psql runs one -c string as one transaction, and CREATE DATABASE refuses that.
        psql = [_bin("psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres", "-q"]
        subprocess.run(
            [
                *psql,
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                f"CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD '{PASSWORD}'",
                "-c",
                f"CREATE DATABASE {ROLE} OWNER {ROLE}",
            ],
            check=True,
        )
        env = dict(
            os.environ,
            DATABASE_URL=f"postgres://{ROLE}:{PASSWORD}@127.0.0.1:{port}/{ROLE}",
            ZHIXIAO_PG_SUPERUSER_URL=f"postgres://postgres@127.0.0.1:{port}/postgres",
        )
        print(f"PostgreSQL throw-away cluster on 127.0.0.1:{port}", flush=True)
        return subprocess.run(argv, env=env, check=False).returncode
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "stop"], check=False, stdout=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
