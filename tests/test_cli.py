"""The `zhixiao` command as a new user runs it: demo --json, check --deploy, audit verify."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from zhixiao.kernel.permissions import ROLES_REQUIRING_SECOND_FACTOR, Role


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zhixiao.cli", *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    """The embedded default in a fresh data directory (these tests are about the CLI, not the server)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    env["ZHIXIAO_DATA_DIR"] = str(tmp_path / "data")
    return env


def test_demo_json_lists_a_login_for_every_role(sqlite_env):
    result = run(["demo", "--students", "90", "--schools", "2", "--json"], sqlite_env)
    assert result.returncode == 0, result.stderr
    logins = json.loads(result.stdout)
    assert {row["role"] for row in logins} == {r.value for r in Role}
    for row in logins:
        assert set(row) >= {"role", "username", "password", "school", "scope"}
        if row["role"] in ROLES_REQUIRING_SECOND_FACTOR:
            assert len(row["totp_secret"]) == 32
        else:
            assert "totp_secret" not in row
    schools = {row["school"] for row in logins if row["school"]}
    assert len(schools) == 2
    assert all(len(code) == 10 and code.isdigit() for code in schools)
    # a second build on the same data is refused; --if-empty reprints the saved logins instead
    assert run(["demo", "--json"], sqlite_env).returncode != 0
    again = run(["demo", "--json", "--if-empty"], sqlite_env)
    assert again.returncode == 0
    assert json.loads(again.stdout) == logins
    verify = run(["audit", "verify"], sqlite_env)
    assert verify.returncode == 0, verify.stderr
    assert "audit chain OK" in verify.stdout


def test_production_settings_pass_the_deploy_check(sqlite_env):
    env = dict(
        sqlite_env,
        DJANGO_SETTINGS_MODULE="zhixiao.config.settings.production",
        ZHIXIAO_SECRET_KEY=secrets.token_urlsafe(60),
    )
    result = run(["check", "--deploy"], env)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(sqlite_env):
    env = dict(sqlite_env, DJANGO_SETTINGS_MODULE="zhixiao.config.settings.production", ZHIXIAO_SECRET_KEY="")
    result = run(["check"], env)
    assert result.returncode != 0
    assert "ZHIXIAO_SECRET_KEY" in result.stderr


def test_init_creates_the_first_admin_with_a_strong_password(sqlite_env):
    weak = run(["init", "--username", "root", "--password", "12345678"], sqlite_env)
    assert weak.returncode != 0
    ok = run(["init", "--username", "root", "--password", "Str0ng&Secret"], sqlite_env)
    assert ok.returncode == 0, ok.stderr
    assert "created" in ok.stdout


def test_totp_prints_the_code_an_authenticator_would_show(sqlite_env):
    import base64

    from django_otp.oath import TOTP

    key = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOIA"
    result = run(["totp", key], sqlite_env)
    assert result.returncode == 0
    now = TOTP(base64.b32decode(key))
    step_before = TOTP(base64.b32decode(key), t0=30)  # in case the clock moved on a step meanwhile
    assert int(result.stdout.strip()) in {now.token(), step_before.token()}
    assert run(["totp", "not-a-key!"], sqlite_env).returncode != 0
