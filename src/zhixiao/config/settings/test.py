"""Tests: the same settings, a fast password hasher, SQLite in memory unless DATABASE_URL is set."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASES

SECRET_KEY = "test-only-secret-key-that-is-long-enough-for-django-checks-0123456789"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if not os.environ.get("DATABASE_URL"):
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
        "TEST": {"NAME": ":memory:"},
        "OPTIONS": {"init_command": "PRAGMA foreign_keys=ON;"},
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# whitenoise wants the directory to exist; tests serve static files through the finders.
STATIC_ROOT = Path(tempfile.gettempdir()) / "zhixiao-test-static"
STATIC_ROOT.mkdir(exist_ok=True)
