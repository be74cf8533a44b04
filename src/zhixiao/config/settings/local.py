"""The embedded default: one school on SQLite in ./var, as `make demo` runs it."""

from __future__ import annotations

import os
import secrets

from .base import *  # noqa: F403
from .base import DATA_DIR


def _local_secret_key() -> str:
    """A per-installation key kept in the data directory, so sessions survive restarts."""
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = os.environ.get("ZHIXIAO_SECRET_KEY") or _local_secret_key()
DEBUG = os.environ.get("ZHIXIAO_DEBUG", "") == "1"
