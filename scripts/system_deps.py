"""Make sure the system parts the tests use are here: PostgreSQL, Chromium, CJK fonts, poppler.

As root (CI, a fresh server) the missing Debian packages are installed; otherwise the one command to run
is printed and the run stops, so nothing is silently skipped.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys

NEEDS = {
    "postgresql": lambda: bool(glob.glob("/usr/lib/postgresql/*/bin/initdb")),
    "chromium": lambda: shutil.which("chromium") is not None,
    "fonts-noto-cjk": lambda: bool(glob.glob("/usr/share/fonts/opentype/noto/NotoSansCJK*")),
    "fet": lambda: shutil.which("fet-cl") is not None,  # FET's own solver confirms exported timetables
    # ReportLab embeds TrueType outlines only (Noto CJK is CFF): PDF timetables use WenQuanYi Zen Hei
    "fonts-wqy-zenhei": lambda: os.path.isfile("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    "poppler-utils": lambda: shutil.which("pdftotext") is not None,  # tests read generated PDFs back
}


def main() -> int:
    missing = [pkg for pkg, present in NEEDS.items() if not present()]
    if not missing:
        return 0
    command = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if os.geteuid() != 0:
        print("Missing system packages for the tests. Run once:\n  sudo " + " ".join(command), file=sys.stderr)
        return 1
    print("Installing system packages for the tests:", " ".join(missing), flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(command, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(command, env=env, check=True)
    still = [pkg for pkg, present in NEEDS.items() if not present()]
    if still:
        print("Still missing after install: " + ", ".join(still), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
