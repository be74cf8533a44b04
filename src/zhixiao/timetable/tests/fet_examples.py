"""FET's example timetables for the tests: the 16 files of ../shared/fet-examples, kept here xz-compressed
(data/fet-examples: FET's own examples from Debian's fet-data 6.8.5, AGPL-3.0-or-later, see COPYING-FET and
README.md there) so a fresh clone tests them too; unpacked once into the temp folder.
ZHIXIAO_FET_EXAMPLES names another folder of plain .fet files instead."""

from __future__ import annotations

import hashlib
import lzma
import os
import shutil
import tempfile
from pathlib import Path

PACKED = Path(__file__).parent / "data" / "fet-examples"


def examples_dir() -> Path:
    override = os.environ.get("ZHIXIAO_FET_EXAMPLES")
    if override:
        return Path(override)
    packed = sorted(PACKED.glob("*.fet.xz"))
    digest = hashlib.sha256(b"".join(p.name.encode() + p.read_bytes()[:64] for p in packed)).hexdigest()[:12]
    target = Path(tempfile.gettempdir()) / f"zhixiao-fet-examples-{digest}"
    if not (target / ".complete").exists():
        work = Path(tempfile.mkdtemp(prefix="zhixiao-fet-"))
        for p in packed:
            (work / p.name.removesuffix(".xz")).write_bytes(lzma.decompress(p.read_bytes()))
        for extra in ("README.md", "COPYING-FET", "fet-results.tsv"):
            shutil.copy(PACKED / extra, work / extra)
        (work / ".complete").write_text("ok")
        try:
            work.rename(target)
        except OSError:  # another test worker unpacked it first
            shutil.rmtree(work, ignore_errors=True)
    return target
