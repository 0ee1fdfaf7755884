"""What git holds: the committed versions of the notebooks, which ``check`` compares with and
``build`` consults for a copy older than the hash record. Nothing to compare outside git."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from course_utils.notebooks.copies import _untouched

_NOT_GIT = object()


def _git(folder: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(["git", *args], cwd=folder, input=stdin, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None


def _blobs(folder: Path, objects: list[str]) -> list[str | None] | None:
    """The text of each git object (``HEAD:./path``, ``<commit>:./path``; paths relative to
    ``folder``), all read by one ``git cat-file --batch``: None for one that is not a file
    at that commit; None instead of the list outside git."""
    if not objects:
        return []
    done = _git(folder, "cat-file", "--batch", stdin="".join(f"{o}\n" for o in objects).encode())
    if done is None or done.returncode != 0:
        return None
    out, at, texts = done.stdout, 0, []
    for name in objects:  # each answer: "<name> missing" or "<id> <type> <size>", then the content
        end = out.index(b"\n", at)
        header, at = out[at:end].decode(errors="replace"), end + 1
        if header in (f"{name} missing", f"{name} ambiguous"):
            texts.append(None)
            continue
        _, kind, size = header.rsplit(" ", 2)
        content, at = out[at:at + int(size)], at + int(size) + 1
        texts.append(content.decode("utf-8", errors="replace") if kind == "blob" else None)
    return texts


def _committed_texts(paths: list[Path]):
    """The text of each of ``paths`` at HEAD, by path (None where not committed), read by
    one git call; ``_NOT_GIT`` outside git."""
    if not paths:
        return {}
    resolved = [p.resolve() for p in paths]
    folder = Path(os.path.commonpath([p.parent for p in resolved]))
    texts = _blobs(folder, [f"HEAD:./{p.relative_to(folder).as_posix()}" for p in resolved])
    return _NOT_GIT if texts is None else dict(zip(paths, texts))


def _committed(path: Path):
    """The text of ``path`` at HEAD; None if not committed; ``_NOT_GIT`` outside git."""
    texts = _committed_texts([path])
    return texts if texts is _NOT_GIT else texts[path]


def _last_generated(path: Path, depth: int = 200) -> str | None:
    """The newest version of ``path`` in git's history (HEAD first) that is untouched since
    ``build`` wrote it; None if there is none in the last ``depth`` commits that changed it."""
    resolved = path.resolve()
    folder, name = resolved.parent, resolved.name
    log = _git(folder, "log", f"-{depth}", "--format=%H", "HEAD", "--", f":(literal){name}")
    if log is None or log.returncode != 0:
        return None
    versions = _blobs(folder, [f"{commit}:./{name}" for commit in log.stdout.decode().split()])
    return next((text for text in versions or [] if _untouched(text)), None)


def _committed_notebooks(folder: Path) -> list[Path]:
    listed = _git(folder, "ls-tree", "--name-only", "HEAD", "./")
    if listed is None or listed.returncode != 0:
        return []
    return [folder / Path(line).name for line in listed.stdout.decode().splitlines()
            if line.endswith(".ipynb")]
