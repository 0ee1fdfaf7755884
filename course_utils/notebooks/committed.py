"""What git holds: the committed versions of the notebooks, which ``check`` compares with and
``build`` consults for a copy older than the hash record. Nothing to compare outside git."""

from __future__ import annotations

import subprocess
from pathlib import Path

from course_utils.notebooks.copies import _untouched

_NOT_GIT = object()


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(["git", *args], cwd=folder, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None


def _committed(path: Path):
    """The text of ``path`` at HEAD; None if not committed; ``_NOT_GIT`` outside git."""
    top = _git(path.parent, "rev-parse", "--show-toplevel")
    if top is None or top.returncode != 0:
        return _NOT_GIT
    rel = path.resolve().relative_to(Path(top.stdout.decode().strip()).resolve()).as_posix()
    shown = _git(path.parent, "show", f"HEAD:{rel}")
    if shown is None or shown.returncode != 0:
        return None
    return shown.stdout.decode("utf-8", errors="replace")


def _last_generated(path: Path, depth: int = 200) -> str | None:
    """The newest version of ``path`` in git's history (HEAD first) that is untouched since
    ``build`` wrote it; None if there is none in the last ``depth`` commits that changed it."""
    top = _git(path.parent, "rev-parse", "--show-toplevel")
    if top is None or top.returncode != 0:
        return None
    rel = path.resolve().relative_to(Path(top.stdout.decode().strip()).resolve()).as_posix()
    log = _git(path.parent, "log", f"-{depth}", "--format=%H", "HEAD", "--", f":(top){rel}")
    if log is None or log.returncode != 0:
        return None
    for commit in log.stdout.decode().split():
        shown = _git(path.parent, "show", f"{commit}:{rel}")
        if shown is not None and shown.returncode == 0:
            text = shown.stdout.decode("utf-8", errors="replace")
            if _untouched(text):
                return text
    return None


def _committed_notebooks(folder: Path) -> list[Path]:
    listed = _git(folder, "ls-tree", "--name-only", "HEAD", "./")
    if listed is None or listed.returncode != 0:
        return []
    return [folder / Path(line).name for line in listed.stdout.decode().splitlines()
            if line.endswith(".ipynb")]
