"""``check``: are the student copies what ``build`` would write? A student's saved or
committed work never makes it fail; a stale generated copy always does (the conventions:
:mod:`course_utils.notebooks`)."""

from __future__ import annotations

from pathlib import Path

from course_utils.notebooks.committed import (_NOT_GIT, _committed_notebooks, _committed_texts,
                                              _last_generated)
from course_utils.notebooks.copies import (SOLUTIONS, STUDENT, _dumps, _hashes, _read, _rel, _text,
                                           _untouched, solution_files, student_version)


def _stored_output_problems(text: str, label: str) -> list[str]:
    nb = _read(Path(label), text)
    return [
        f"{label}, cell {i}: stored outputs or execution count"
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]


def problems(solutions: Path = SOLUTIONS, student: Path = STUDENT) -> list[str]:
    """Every way the student copies differ from what :func:`build` would write.

    A student copy is compared as it is in ``student`` when untouched since it was
    generated, otherwise as committed (git HEAD), and when the committed version holds a
    student's own work (its hash record no longer matches), as the newest version in git's
    history that ``build`` wrote: a student's saved or committed work is never a problem,
    a stale generated copy always is. Stored outputs are looked for in the committed
    solutions.
    """
    found: list[str] = []
    sources = solution_files(solutions)
    names = {s.name for s in sources}
    extras = [p for p in _committed_notebooks(student) if p.name not in names]
    at_head = _committed_texts([*sources, *(student / s.name for s in sources), *extras])

    def committed_text(path: Path):
        return _NOT_GIT if at_head is _NOT_GIT else at_head[path]

    for src in sources:
        committed_src = committed_text(src)
        if isinstance(committed_src, str):
            found += _stored_output_problems(committed_src, f"{_rel(src)} (committed)")
        expected = _dumps(student_version(_read(src), src.name))
        dest = student / src.name
        current = _text(dest)
        if current == expected:
            continue
        if _untouched(current):
            found.append(f"{_rel(dest)} is not what 'build' writes from {src.name}")
            continue
        committed = committed_text(dest)
        if committed is _NOT_GIT:  # nothing to compare a student's copy with
            if current is None:
                found.append(f"{_rel(dest)} is missing")
        elif committed is None:
            found.append(f"{_rel(dest)} is missing" if current is None else
                         f"{_rel(dest)} is not committed and is not what 'build' writes")
        elif committed != expected:
            if _hashes(committed)[1] is not None and not _untouched(committed):
                # a student's work, committed: compare the last version 'build' wrote
                generated = _last_generated(dest)
                if generated == expected:
                    continue
                if generated is not None:
                    found.append(f"{_rel(dest)}: the last version 'build' wrote (in git's "
                                 f"history) is not what it writes now from {src.name}")
                    continue
            found.append(f"{_rel(dest)}: the committed version is not what 'build' writes "
                         f"from {src.name}")
    for extra in extras:
        if _untouched(committed_text(extra)):  # not a student's own
            found.append(f"{_rel(extra)} (committed) has no source in solutions/")
    return found
