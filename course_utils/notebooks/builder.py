"""``build``: write the student copies, and never lose a student's work doing it.

Every copy is generated and checked before any file is written; each file goes to a temporary
file that is renamed, so ``build`` writes all notebooks or none. A copy with a student's work
is skipped, or saved to ``notebooks/backup/`` first (``--force``); a copy is read again just
before it is replaced, and signals wait until every file is renamed (the conventions:
:mod:`course_utils.notebooks`).
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.notebooks.committed import _committed
from course_utils.notebooks.copies import (BACKUP, SOLUTIONS, STUDENT, _clean, _dumps, _hashes, _read,
                                           _rel, _text, _untouched, solution_files, student_version)
from course_utils.notebooks.markers import NotebookError


def write_student_copy(source: Path, folder: Path) -> Path:
    """Generate the student copy of ``source`` into ``folder`` (the test suite runs these)."""
    dest = folder / source.name
    _write_all([(dest, _dumps(student_version(_read(source), source.name)))])
    return dest


@dataclass
class BuildReport:
    """What :func:`build` did."""

    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)  # student copies with the student's work
    backups: list[tuple[Path, Path]] = field(default_factory=list)  # (copy, where it was saved)
    orphans: list[Path] = field(default_factory=list)  # generated copies with no source, kept
    not_files: list[Path] = field(default_factory=list)  # a folder where a copy belongs, kept


@dataclass(eq=False)
class _Copy:
    """A student copy that :func:`build` means to (re)write."""

    seen: bytes | None  # its bytes when it was classified (None: missing)
    backup: Path | None  # where its current version is saved first (``--force``)


def build(solutions: Path = SOLUTIONS, student: Path = STUDENT, force: bool = False) -> BuildReport:
    """Write the student copies; strip stored outputs from the solutions in place.

    Every notebook is generated and checked before any file is written. A student copy
    that is missing or untouched since it was generated (or, for a copy older than the
    hash record, the same as its committed version) is written; one with the student's
    work, committed or not, is skipped, or, with ``force``, saved to ``notebooks/backup/``
    first. Just before each copy is replaced it is read again: if it changed since it was
    classified (a save in JupyterLab meanwhile), it is skipped, or with ``force`` its
    bytes of that moment are the backup. Signals wait until the replacing is over, so an
    interruption never leaves some copies replaced and others not. Nothing else in
    ``student`` is modified or deleted.
    """
    report = BuildReport()
    writes: list[tuple[Path, str | bytes]] = []
    copies: dict[Path, _Copy] = {}
    stamp = time.strftime("%Y%m%d-%H%M%S")
    sources = solution_files(solutions)
    backup_folder = student / BACKUP
    for src in sources:
        nb = _read(src)
        text = _dumps(student_version(nb, src.name))
        clean = copy.deepcopy(nb)
        for cell in clean.cells:
            _clean(cell)
        if _dumps(clean) != src.read_text(encoding="utf-8"):
            writes.append((src, _dumps(clean)))
        dest = student / src.name
        if dest.exists() and not dest.is_file():
            report.not_files.append(dest)
            continue
        seen = dest.read_bytes() if dest.exists() else None
        current = _decode(seen)
        if current == text:
            continue
        backup = None
        if seen is not None and not _replaceable(dest, current, text):
            if not force:
                report.skipped.append(dest)
                continue
            backup = _backup_path(backup_folder, dest, stamp, taken=[c.backup for c in copies.values()])
        copies[dest] = _Copy(seen, backup)
        writes.append((dest, text))
    if force and backup_folder.exists() and not backup_folder.is_dir():
        raise NotebookError(f"{_rel(backup_folder)} is a file, so 'build --force' cannot save "
                            "your copies there; rename it and run the command again")
    names = {s.name for s in sources}
    report.orphans = [p for p in sorted(student.glob("*.ipynb"))
                      if p.name not in names and p.is_file() and _untouched(_text(p))]

    def replace_copy(dest: Path) -> bool:
        """Just before ``dest`` is replaced: may it be, and is its backup in place?"""
        plan = copies.get(dest)
        if plan is None:  # a solutions notebook
            return True
        if dest.exists() and not dest.is_file():
            report.not_files.append(dest)
            return False
        now = dest.read_bytes() if dest.exists() else None
        if now is not None and now != plan.seen and plan.backup is None:
            if not force:  # saved meanwhile: it has the student's work
                report.skipped.append(dest)
                return False
            plan.backup = _backup_path(backup_folder, dest, stamp,
                                       taken=[c.backup for c in copies.values()])
        if plan.backup is not None and now is not None:
            _write_all([(plan.backup, now)], defer=False)  # the bytes present now
            report.backups.append((dest, plan.backup))
        report.written.append(dest)
        return True

    _write_all(writes, replace_copy)
    report.written.sort(key=lambda p: p.name)
    return report


def _decode(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return ""


def _replaceable(dest: Path, current: str | None, expected: str) -> bool:
    """May ``build`` replace this copy without a backup? Yes when it is as ``build`` wrote
    it, or when it predates the hash record and is the same as its committed version. A
    copy with a hash record that no longer matches holds a student's work, even committed."""
    if _untouched(current, expected):
        return True
    actual, recorded = _hashes(current)
    return actual is not None and recorded is None and current == _committed(dest)


def _backup_path(folder: Path, path: Path, stamp: str, taken=()) -> Path:
    backup, n = folder / f"{path.stem}-{stamp}.ipynb", 1
    while backup.exists() or backup in taken:
        n += 1
        backup = folder / f"{path.stem}-{stamp}-{n}.ipynb"
    return backup


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT, SIGTERM, SIGHUP and SIGQUIT until the block ends, then deliver the first."""
    received: list[int] = []
    names = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
    numbers = [getattr(signal, n) for n in names if hasattr(signal, n)]
    try:
        old = {s: signal.signal(s, lambda signum, frame: received.append(signum)) for s in numbers}
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        if received:
            signal.raise_signal(received[0])


def _write_all(files: list[tuple[Path, str | bytes]], guard=None, defer: bool = True) -> None:
    """Write every file or none: all go to temporary files first, then are renamed.

    ``guard(path)``, if given, is called just before each rename; when it returns False
    the file is left as it is. Signals are held during the renames (``defer``), so an
    interruption lands before the first or after the last.
    """
    temps: list[tuple[Path, Path]] = []
    try:
        for path, content in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            temps.append((Path(tmp), path))
            with os.fdopen(fd, "wb") as f:
                f.write(content.encode("utf-8") if isinstance(content, str) else content)
            if path.is_file():
                shutil.copymode(path, tmp)
            else:
                os.chmod(tmp, 0o644)
        with _signals_deferred() if defer else contextlib.nullcontext():
            for tmp, path in temps:
                if guard is None or guard(path):
                    os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
