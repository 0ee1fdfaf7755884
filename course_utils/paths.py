"""Where the course keeps files it generates on first use."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def generated_dir() -> Path:
    """Folder for generated, git-ignored data (created if missing).

    ``$COURSE_UTILS_DATA`` when set, else ``data/generated`` in the course folder.
    """
    path = Path(os.environ.get("COURSE_UTILS_DATA") or ROOT / "data" / "generated")
    path.mkdir(parents=True, exist_ok=True)
    return path
