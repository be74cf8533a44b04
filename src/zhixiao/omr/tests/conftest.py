"""Scans and crops go to a temporary media directory; batches are read in this process (one worker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from zhixiao.omr import services


@pytest.fixture(autouse=True)
def omr_storage(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    monkeypatch.setattr(services, "WORKERS", 1)
    return tmp_path / "media"
