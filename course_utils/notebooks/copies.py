"""What a student copy is: the solutions notebook with its answers replaced and its outputs
stripped, recording a hash of its own content so that a copy nobody touched can be told from
one with a student's work. Also where the course's notebooks live and how they are read."""

from __future__ import annotations

import copy
import hashlib
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from course_utils.notebooks.markers import (MARKDOWN_PLACEHOLDER, SOLUTION_TAG, NotebookError,
                                            _Block, _compile, _MARKER_LIKE, _parse, placeholder)

if TYPE_CHECKING:
    import nbformat

ROOT = Path(__file__).resolve().parent.parent.parent
SOLUTIONS = ROOT / "solutions"
STUDENT = ROOT / "notebooks"
BACKUP = "backup"  # folder inside notebooks/ where build --force keeps students' copies
METADATA_KEY = "course_utils"  # notebook metadata of a generated student copy
_NAME = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")


def _check_tags(cell: nbformat.NotebookNode, where: str) -> bool:
    """Is the cell tagged ``solution``? A near miss ('Solution', 'solutions') is an error."""
    tags = cell.get("metadata", {}).get("tags", [])
    for tag in tags:
        if tag != SOLUTION_TAG and str(tag).strip().lower().rstrip("s") == SOLUTION_TAG:
            raise NotebookError(f"{where}: tag {tag!r} looks like {SOLUTION_TAG!r} but is not it")
    return SOLUTION_TAG in tags


def _no_markers(cell: nbformat.NotebookNode, where: str) -> None:
    for number, line in enumerate(cell.source.splitlines(), start=1):
        if _MARKER_LIKE.search(line):
            raise NotebookError(f"{where}, line {number}: marker {line.strip()!r} in a "
                                f"{cell.cell_type} cell; markers work only in code cells")


def _student_source(items: list[str | _Block]) -> str:
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif item.kind == "solution":
            out.extend(placeholder("\n".join(item.body), item.indent))
    return "\n".join(out)


def _hash(nb: nbformat.NotebookNode) -> str:
    return hashlib.sha256(_dumps(nb).encode("utf-8")).hexdigest()


def student_version(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The student copy of a solutions notebook: answers replaced, outputs stripped.

    Raises :class:`NotebookError` (naming ``name``, the cell and the line) when a marker
    is malformed or misplaced, a tag is a near miss of ``solution``, or a generated code
    cell does not compile. The copy's metadata records the hash of its content.
    """
    nb = copy.deepcopy(nb)
    nb.metadata.pop(METADATA_KEY, None)
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}"
        tagged = _check_tags(cell, where)
        if cell.cell_type == "code":
            source = _student_source(_parse(cell.source, where))
            if tagged:
                source = "\n".join(placeholder(source))
            _compile(source, f"{where} (student copy)")
            cell.source = source
        else:
            _no_markers(cell, where)
            if tagged:
                cell.source = MARKDOWN_PLACEHOLDER
        _clean(cell)
    nb.metadata[METADATA_KEY] = {"generated_sha256": _hash(nb)}
    return nb


def _hashes(text: str | None) -> tuple[str | None, str | None]:
    """(hash of the notebook ``text`` without its record, the hash it records)."""
    import nbformat

    if text is None:
        return None, None
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception:  # not a notebook: someone's work
        return None, None
    recorded = nb.metadata.pop(METADATA_KEY, {})
    return _hash(nb), recorded.get("generated_sha256") if isinstance(recorded, dict) else None


def _untouched(text: str | None, expected: str | None = None) -> bool:
    """Is ``text`` a student copy as ``build`` wrote it, or the same as ``expected`` but for
    the record of its hash (a copy written before copies recorded it)?"""
    actual, recorded = _hashes(text)
    return actual is not None and actual in (recorded, _hashes(expected)[1])


def _clean(cell: nbformat.NotebookNode) -> None:
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    cell.get("metadata", {}).pop("execution", None)


def _dumps(nb: nbformat.NotebookNode) -> str:
    import nbformat  # here, not at the top: the mutants' worker processes do without it (slow import)

    return nbformat.writes(nb) + "\n"


def _rel(path: Path) -> str:
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def _read(path: Path, text: str | None = None) -> nbformat.NotebookNode:
    """Read a notebook; anything unreadable is a NotebookError naming the file."""
    import nbformat

    try:
        if text is None:
            text = path.read_text(encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nbformat.reads(text, as_version=4)
    except Exception as exc:  # bad JSON, bad encoding, not a notebook
        raise NotebookError(f"{_rel(path)}: not a readable notebook: {exc}") from None


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):  # missing, a folder, unreadable, not text
        return None if not path.exists() else ""


def solution_files(solutions: Path = SOLUTIONS) -> list[Path]:
    """The solutions notebooks, checked for the ``NN_name.ipynb`` naming."""
    files = sorted(solutions.glob("*.ipynb"))
    for f in files:
        if not _NAME.match(f.name):
            raise NotebookError(f"{f}: notebook names must look like 'NN_name.ipynb'")
    return files
