"""Student notebooks generated from the instructor notebooks in ``solutions/``, and the
mutation tests of their exercises.

Authors edit only ``solutions/NN_name.ipynb``. In those notebooks:

- an answer in a code cell sits between the lines ``### BEGIN SOLUTION`` and
  ``### END SOLUTION``. In the student copy the block becomes a placeholder that runs:
  ``name = None  # YOUR CODE HERE`` for every name the block assigns at top level, or,
  inside a function body, ``raise NotImplementedError("YOUR CODE HERE")``;
- a cell tagged ``solution`` is replaced whole the same way (a markdown cell becomes
  "*Write your answer here.*");
- lines between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` are dropped from
  the student copy (the solutions use this to switch the self-checks to strict mode);
- ``### BEGIN MUTANT <what the mistake is>`` ... ``### END MUTANT`` blocks hold plausible
  wrong answers (see *Mutation tests* below); they are dropped from the student copy.

Markers are whole lines of code cells (indentation and trailing spaces allowed), spelled
exactly as above. Anything that could copy an answer into a student notebook is an error
naming notebook, cell and line: a line that looks like a marker but is not one
(``###BEGIN SOLUTION``, ``### begin solution``, ``## BEGIN SOLUTION``, ``### BEGIN SOLUTIONS``),
a marker in a markdown or raw cell, a tag that looks like ``solution`` but is not exactly
it (``Solution``, ``solutions``, `` solution``), a student code cell that does not compile
(IPython magics and ``!`` lines are allowed), a file that is not a notebook.

Student copies and student work
-------------------------------
``build`` generates every student copy and checks it before writing any file; each file
is written to a temporary file and renamed, so ``build`` writes all notebooks or none.
A student copy records in its metadata (``course_utils.generated_sha256``) a hash of its
own content, so ``build`` can tell a copy nobody touched from one a student has edited,
run or saved:

- a missing or untouched copy (or one older than the hash record that is the same as its
  committed version) is (re)written;
- a copy with the student's work, saved or committed, is skipped with a message;
  ``build --force`` first saves it as ``notebooks/backup/NN_name-<date>-<time>.ipynb``,
  then resets it;
- each copy is read again just before it is replaced: one saved since it was classified
  is skipped (with ``--force``, the bytes of that moment are the backup); Ctrl-C and
  SIGTERM wait until every file is renamed;
- other files in ``notebooks/`` (a student's own notebooks, JupyterLab's ``-Copy1``
  duplicates, the backups) are never modified or deleted.

``check`` compares each student copy with what ``build`` would write: the file in
``notebooks/`` when it is untouched, otherwise the committed version
(``git show HEAD:notebooks/NN_name.ipynb``; nothing to compare outside a git checkout),
and when a student committed their own work there, the newest version in git's history
that ``build`` wrote.
Stored outputs are looked for in the committed ``solutions/``. So saved student work
never makes it fail, while a stale committed build (what CI checks out) always does. The
test suite runs nbval on student copies generated afresh from ``solutions/`` (see the
repository's ``conftest.py``), never on the files a student edits.

Mutation tests
--------------
An *exercise* is a code cell with a solution block (or tagged ``solution``). Its *scope*
is that cell and the cells after it, up to the next exercise. Its self-checks (functions
of :mod:`course_utils.checks`) must be in its scope.

A mutant is a plausible wrong answer, written after the solution block it replaces::

    def ratio(a, b):
        ### BEGIN SOLUTION
        return a / b
        ### END SOLUTION
        ### BEGIN MUTANT ratio inverted
        # return b / a
        ### END MUTANT

- Write the mutant's code commented out (in JupyterLab: select it and press Ctrl+/), so the
  solutions notebook runs as before. When every non-blank line of the block starts with
  ``#``, one ``#`` (and one space after it) is removed from each line; otherwise the
  lines are used as written (they then also run in the solutions notebook).
- The mutant replaces the nearest solution block above it in the same cell, re-indented to
  that block's indentation; all MUTANT blocks are removed; the rest of the cell (other
  solution blocks, hidden tests) stays.
- ``python -m course_utils.notebooks mutants [NOTEBOOK ...]`` runs every mutant of every
  solutions notebook (or of those named) in strict mode. Each notebook runs once, in its
  own process, from the top to the last cell a mutant needs; at each exercise the process
  forks, and the fork runs the mutated cell and the rest of the scope. The outcome:

  * **caught**: a self-check of :mod:`course_utils.checks` raised ``AssertionError`` (strict
    mode) in one of the scope's cells;
  * **survived**: the scope ran to its end and no self-check failed;
  * **crashed**: another exception (a bare ``assert`` included) stopped the scope first.
    Not caught: mutants test the self-checks, and a crash tests Python. A student sees a
    traceback and no hint, and a mutant that only crashes is usually mistyped. Self-checks
    that call the student's function already turn its exceptions into "not yet";
  * **timed out** (``--timeout``, 300 s by default): not caught.

  Cells of a scope after the last one that can run a self-check are not executed: they
  cannot change whether a mutant is caught. A cell can run a self-check when it names
  ``checks`` (or a name imported from :mod:`course_utils.checks`, or a function or class
  defined in the notebook whose body names one of these).
- Quizzes get mutants without blocks: a ``checks.quiz(q1, "NN.k")`` call in an exercise's
  scope whose ``q1`` the solution block assigns yields one mutant per wrong option of
  question ``NN.k`` in :mod:`course_utils.quizzes` (the solution block followed by
  ``q1 = "<letter>"``).
- The command prints "N mutants, N caught" per notebook and in total, and exits 1 when a
  mutant is not caught (naming notebook, cell and the mutant's description), 2 on an
  authoring error (a misplaced MUTANT block, a mutant that does not compile, a solution
  that fails its own self-check).
- A forked copy cannot use threads or processes that its parent started (a dask client, a
  process pool): a mutant whose scope needs them times out. ``--isolate rerun`` runs each
  mutant in a fresh process that re-executes the notebook up to the exercise (slower; also
  the default where ``os.fork`` does not exist).

Commands::

    python -m course_utils.notebooks build [--force]   # write notebooks/ (strip outputs in solutions/)
    python -m course_utils.notebooks check             # exit 1 if the student copies are stale
    python -m course_utils.notebooks mutants [NOTEBOOK ...]   # run the mutants, exit 1 if one survives
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import hashlib
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
STUDENT = ROOT / "notebooks"
BACKUP = "backup"  # folder inside notebooks/ where build --force keeps students' copies

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
BEGIN_MUTANT, END_MUTANT = "### BEGIN MUTANT", "### END MUTANT"
SOLUTION_TAG = "solution"
TODO = "# YOUR CODE HERE"
MARKDOWN_PLACEHOLDER = "*Write your answer here.*"
METADATA_KEY = "course_utils"  # notebook metadata of a generated student copy
MIN_MUTANTS = 4  # per exercise, the course's rule; fewer is reported as a note
_NAME = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
_MUTANT = re.compile(re.escape(BEGIN_MUTANT) + r" (\S.*)")
# anything that may have been meant as a marker: '###BEGIN SOLUTION', '## end hidden tests', ...
_MARKER_LIKE = re.compile(r"#+\s*(begin|end)[\s_-]*(solution|hidden[\s_-]*test|mutant)", re.IGNORECASE)
_ENDS = {"solution": END, "hidden": END_HIDDEN, "mutant": END_MUTANT}
_MARKERS = f"{BEGIN!r}, {END!r}, {BEGIN_HIDDEN!r}, {END_HIDDEN!r}, '{BEGIN_MUTANT} <mistake>', {END_MUTANT!r}"


class NotebookError(ValueError):
    """A solutions notebook breaks the authoring conventions."""


# ---------------------------------------------------------------------------------------
# Reading a cell: plain lines and marked blocks


@dataclass(eq=False)
class _Block:
    kind: str  # "solution", "hidden" or "mutant"
    begin: int  # line number (from 1) of its BEGIN line
    indent: str  # indentation of its BEGIN line
    raw: list[str]  # its lines, markers included
    description: str = ""  # mutants: the mistake
    replaces: _Block | None = None  # mutants: the solution block above them

    @property
    def body(self) -> list[str]:
        return self.raw[1:-1]


def _parse(source: str, where: str) -> list[str | _Block]:
    """Split a code cell into plain lines and marked blocks; malformed markers are errors."""
    items: list[str | _Block] = []
    block: _Block | None = None
    solution: _Block | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        text = line.strip()
        mutant = _MUTANT.fullmatch(text)
        if text in (BEGIN, BEGIN_HIDDEN) or mutant:
            if block is not None:
                raise NotebookError(f"{where}, line {number}: nested {text!r} (a block opened on "
                                    f"line {block.begin} is not closed)")
            kind = "solution" if text == BEGIN else "hidden" if text == BEGIN_HIDDEN else "mutant"
            block = _Block(kind, number, line[: len(line) - len(line.lstrip())], [line],
                           mutant.group(1) if mutant else "", solution)
        elif text in (END, END_HIDDEN, END_MUTANT):
            if block is None or _ENDS[block.kind] != text:
                raise NotebookError(f"{where}, line {number}: {text!r} without its BEGIN line")
            block.raw.append(line)
            items.append(block)
            solution = block if block.kind == "solution" else solution
            block = None
        elif _MARKER_LIKE.search(line):
            raise NotebookError(f"{where}, line {number}: {text!r} looks like a marker but is not "
                                f"one; markers are whole lines spelled exactly {_MARKERS}")
        elif block is not None:
            block.raw.append(line)
        else:
            items.append(line)
    if block is not None:
        raise NotebookError(f"{where}: the block opened on line {block.begin} is never closed "
                            f"by {_ENDS[block.kind]!r}")
    return items


def _assigned_names(code: str) -> list[str]:
    """Names that ``code`` binds at top level, in order (assignments, defs, imports)."""
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError:
        return []
    names: list[str] = []

    def add(target: ast.AST) -> None:
        if isinstance(target, ast.Name):
            names.append(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                add(elt)

    for node in tree.body:
        if isinstance(node, ast.Assign):
            for t in node.targets:
                add(t)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            add(node.target)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
    return list(dict.fromkeys(names))


def placeholder(code: str, indent: str = "") -> list[str]:
    """Lines that replace a solution block so that the student copy still runs."""
    if indent:
        return [f"{indent}{TODO}", f'{indent}raise NotImplementedError("YOUR CODE HERE")']
    names = _assigned_names(code)
    if not names:
        return [TODO]
    return [f"{n} = None  {TODO}" for n in names]


def _python(source: str) -> str:
    """A cell's source as plain Python: IPython magics and ``!`` lines become calls."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _compile(source: str, where: str) -> ast.Module:
    try:
        return compile(_python(source), where, "exec", ast.PyCF_ONLY_AST)
    except SyntaxError as exc:
        raise NotebookError(f"{where}, line {exc.lineno}: does not compile: {exc.msg}") from None


# ---------------------------------------------------------------------------------------
# Student copies


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


def _stored_output_problems(text: str, label: str) -> list[str]:
    nb = _read(Path(label), text)
    return [
        f"{label}, cell {i}: stored outputs or execution count"
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]


def solution_files(solutions: Path = SOLUTIONS) -> list[Path]:
    """The solutions notebooks, checked for the ``NN_name.ipynb`` naming."""
    files = sorted(solutions.glob("*.ipynb"))
    for f in files:
        if not _NAME.match(f.name):
            raise NotebookError(f"{f}: notebook names must look like 'NN_name.ipynb'")
    return files


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


# ---------------------------------------------------------------------------------------
# Checking that the committed student copies are up to date

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
    for src in sources:
        committed_src = _committed(src)
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
        committed = _committed(dest)
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
    names = {s.name for s in sources}
    for extra in _committed_notebooks(student):
        if extra.name not in names and _untouched(_committed(extra)):  # not a student's own
            found.append(f"{_rel(extra)} (committed) has no source in solutions/")
    return found


# ---------------------------------------------------------------------------------------
# Mutation tests: planning


@dataclass
class Mutant:
    """One wrong answer to an exercise."""

    cell: int  # the exercise cell
    description: str
    source: str  # the exercise cell with this wrong answer instead of its solution block
    last: int  # the last cell of the exercise's scope that can run a self-check


@dataclass
class MutantPlan:
    """The mutants of one solutions notebook and what running them needs."""

    path: Path
    cells: list[str | None]  # code cells' sources as written, None for other cells
    cell_ids: list[str]
    mutants: list[Mutant]
    notes: list[str]

    @property
    def run_until(self) -> int:
        return max((m.last for m in self.mutants), default=-1)


def _checking_names(trees: list[ast.AST]) -> set[str] | None:
    """Names through which a cell can call :mod:`course_utils.checks` (None: any cell can)."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {a.asname or a.name.split(".")[0] for a in node.names
                          if a.name.startswith("course_utils.checks")}
            elif isinstance(node, ast.ImportFrom) and node.module == "course_utils.checks":
                if any(a.name == "*" for a in node.names):
                    return None
                names |= {a.asname or a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module == "course_utils":
                names |= {a.asname or a.name for a in node.names if a.name == "checks"}
    # functions, classes and aliases defined in the notebook that reach those names
    definitions: list[tuple[str, ast.AST]] = []
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                definitions.append((node.name, node))
            elif (isinstance(node, ast.Assign)
                  and isinstance(node.value, (ast.Lambda, ast.Name, ast.Attribute))):
                definitions += [(t.id, node.value) for t in node.targets if isinstance(t, ast.Name)]
    grown = True
    while grown:
        grown = False
        for name, node in definitions:
            if name not in names and _names_any(node, names):
                names.add(name)
                grown = True
    return names


def _names_any(node: ast.AST, names: set[str] | None) -> bool:
    return names is None or any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _quiz_calls(tree: ast.AST, names: set[str] | None) -> list[tuple[str, str]]:
    """``(answer variable, question id)`` of each ``checks.quiz(q1, "NN.k")`` in ``tree``."""
    calls = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and len(node.args) >= 2
                and isinstance(node.args[0], ast.Name)
                and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
                and (isinstance(node.func, ast.Attribute) and node.func.attr == "quiz"
                     or isinstance(node.func, ast.Name) and node.func.id == "quiz")
                and _names_any(node.func, names)):
            calls.append((node.args[0].id, node.args[1].value))
    return calls


def _mutant_code(block: _Block) -> list[str]:
    """The mutant's lines, uncommented when written commented out, at its target's indent."""
    lines = textwrap.dedent("\n".join(block.body)).splitlines()
    if all(line.lstrip().startswith("#") for line in lines if line.strip()):
        lines = textwrap.dedent("\n".join(re.sub(r"^(\s*)# ?", r"\1", line)
                                          for line in lines)).splitlines()
    indent = block.replaces.indent if block.replaces else ""
    return [indent + line if line.strip() else line for line in lines]


def _with(items: list[str | _Block], target: _Block | None, lines: list[str]) -> str:
    """The cell with ``lines`` instead of ``target`` (appended if None), MUTANT blocks removed."""
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif item is target:
            out.extend(lines)
        elif item.kind != "mutant":
            out.extend(item.raw)
    return "\n".join(out + (lines if target is None else []))


def mutant_plan(path: Path) -> MutantPlan:
    """Read a solutions notebook's mutants (MUTANT blocks and quiz options).

    Raises :class:`NotebookError` on an authoring error: everything :func:`student_version`
    refuses, a MUTANT block with no solution block above it or in a cell tagged
    ``solution``, an empty mutant or one that does not compile, an unknown quiz question.
    """
    from course_utils.quizzes import get_question

    name = path.name
    nb = _read(path)
    student_version(nb, name)
    cells = [c.source if c.cell_type == "code" else None for c in nb.cells]
    parsed = {i: _parse(s, f"{name}, cell {i}") for i, s in enumerate(cells) if s is not None}
    trees = {i: _compile(s, f"{name}, cell {i}") for i, s in enumerate(cells) if s is not None}
    checking = _checking_names(list(trees.values()))
    tagged = {i for i in parsed if SOLUTION_TAG in nb.cells[i].get("metadata", {}).get("tags", [])}
    exercises = [i for i, items in parsed.items()
                 if i in tagged or any(isinstance(b, _Block) and b.kind == "solution" for b in items)]
    for i, items in parsed.items():  # outside exercises and in tagged cells, nothing to replace
        for b in items:
            if isinstance(b, _Block) and b.kind == "mutant" and (i in tagged or b.replaces is None):
                raise NotebookError(f"{name}, cell {i}, line {b.begin}: a MUTANT block replaces "
                                    f"the '{BEGIN}' block above it in the same cell; this cell has none")
    mutants: list[Mutant] = []
    notes: list[str] = []
    for n, i in enumerate(exercises):
        end = exercises[n + 1] if n + 1 < len(exercises) else len(cells)
        scope = [j for j in range(i, end) if cells[j] is not None]
        last = max([j for j in scope if _names_any(trees[j], checking)], default=i)
        items = parsed[i]
        written = 0
        for block in items:
            if not (isinstance(block, _Block) and block.kind == "mutant"):
                continue
            where = f"{name}, cell {i}, line {block.begin}"
            code = _mutant_code(block)
            if not any(line.strip() for line in code):
                raise NotebookError(f"{where}: mutant {block.description!r} has no code "
                                    "(for a missing answer write '# pass')")
            source = _with(items, block.replaces, code)
            _compile(source, f"{where}: mutant {block.description!r}")
            mutants.append(Mutant(i, block.description, source, last))
            written += 1
        # quizzes: one mutant per wrong option of each question answered in a solution block
        targets = ([(None, _with(items, None, []), "")] if i in tagged else
                   [(b, "\n".join(b.body), b.indent) for b in items
                    if isinstance(b, _Block) and b.kind == "solution"])
        answers: set[str] = set()
        all_assigned: set[str] = set()
        for target, code, indent in targets:
            assigned = set(_assigned_names(code))
            all_assigned |= assigned
            for j in scope:
                for variable, question in _quiz_calls(trees[j], checking):
                    if variable not in assigned:
                        continue
                    try:
                        q = get_question(question)
                    except KeyError as exc:
                        raise NotebookError(f"{name}, cell {j}: {exc.args[0]}") from None
                    answers.add(variable)
                    for letter in q.why:
                        if letter != q.correct:
                            lines = (target.body if target else []) + [f"{indent}{variable} = {letter!r}"]
                            mutants.append(Mutant(i, f"quiz {question} answered {letter!r}",
                                                  _with(items, target, lines), max(last, j)))
        if written < MIN_MUTANTS and not (all_assigned and all_assigned <= answers):
            notes.append(f"cell {i}: exercise with {written} mutant(s); the course asks for "
                         f"at least {MIN_MUTANTS}")
    ids = [c.get("id", "") for c in nb.cells]
    return MutantPlan(path, cells, ids, mutants, notes)


# ---------------------------------------------------------------------------------------
# Mutation tests: running (in a worker process, one per notebook)


def _shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    shell = InteractiveShell.instance(config=config)
    shell.display_formatter.active_types = ["text/plain"]  # as a terminal: no PNG rendering
    return shell


def _run_cell(shell, source: str) -> BaseException | None:
    result = shell.run_cell(source, store_history=False)
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")  # as the inline backend does after each cell
    return result.error_before_exec or result.error_in_exec


def _from_checks(exc: BaseException) -> bool:
    """Was ``exc`` raised by a self-check of course_utils.checks (strict mode)?"""
    tb = exc.__traceback__
    if not isinstance(exc, AssertionError) or tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_globals.get("__name__") == "course_utils.checks"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _run_scope(shell, cells: list[str | None], mutant: dict) -> dict:
    """Run the mutated cell and the rest of its scope; say how the mutant fared."""
    for j in range(mutant["cell"], mutant["last"] + 1):
        source = mutant["source"] if j == mutant["cell"] else cells[j]
        if source is None:
            continue
        exc = _run_cell(shell, source)
        if exc is None:
            continue
        if _from_checks(exc):
            return {"outcome": "caught", "cell": j, "detail": _first_line(exc)}
        return {"outcome": "crashed", "cell": j, "detail": _first_line(exc)}
    return {"outcome": "survived"}


def _forked(shell, cells: list[str | None], mutant: dict, timeout: float, quiet: bool) -> dict:
    """Run :func:`_run_scope` in a forked copy of this process; the parent is unchanged."""
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (dask): see docstring
        pid = os.fork()
    if pid == 0:  # the copy: run, report through the pipe, exit without cleanup
        status = 0
        try:
            os.close(read_end)
            if quiet:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
            result = _run_scope(shell, cells, mutant)
        except BaseException as exc:  # noqa: BLE001 - reported, never raised in the copy
            result = {"outcome": "crashed", "detail": _first_line(exc)}
        try:
            data = json.dumps(result).encode()
            while data:
                data = data[os.write(write_end, data):]
        except BaseException:  # noqa: BLE001
            status = 1
        os._exit(status)  # no atexit handlers: they would close the parent's clusters
    os.close(write_end)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            ready = select.select([read_end], [], [], max(remaining, 0))[0] if remaining > 0 else []
            if not ready:
                os.kill(pid, signal.SIGKILL)
                return {"outcome": "timed out", "detail": f"after {timeout:g} s"}
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    if not chunks:
        return {"outcome": "crashed", "detail": "the process running it died"}
    return json.loads(b"".join(chunks))


def _worker(spec_path: str, results_path: str) -> None:
    """Run one notebook's plan (see :func:`_run_plan`); write one JSON line per event."""
    spec = json.loads(Path(spec_path).read_text())
    from course_utils import checks

    checks.strict = True
    shell = _shell()
    cells, mutants = spec["cells"], spec["mutants"]
    with open(results_path, "a", encoding="utf-8") as out:
        def emit(event: dict) -> None:
            out.write(json.dumps(event) + "\n")
            out.flush()

        for j in range(spec["run_until"] + 1):
            for k, mutant in enumerate(mutants):
                if mutant["cell"] != j:
                    continue
                start = time.perf_counter()
                if spec["isolate"] == "fork":
                    result = _forked(shell, cells, mutant, spec["timeout"], spec["quiet"])
                else:  # this process runs one mutant only, then stops
                    result = _run_scope(shell, cells, mutant)
                emit({"mutant": k, "seconds": time.perf_counter() - start, **result})
                if spec["isolate"] != "fork":
                    return
            if cells[j] is not None:
                exc = _run_cell(shell, cells[j])
                if exc is not None:
                    emit({"error": j, "detail": _first_line(exc)})
                    return
        emit({"done": True})


@dataclass
class NotebookResult:
    """How the mutants of one notebook fared."""

    plan: MutantPlan
    outcomes: dict[int, dict] = field(default_factory=dict)  # mutant index -> outcome
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def caught(self) -> int:
        return sum(o["outcome"] == "caught" for o in self.outcomes.values())


def _run_worker(plan: MutantPlan, mutants: list[Mutant], isolate: str, timeout: float,
                verbose: bool) -> tuple[list[dict], str, int | None]:
    """Run a worker process on ``mutants`` of ``plan``; return its events and output."""
    run_until = plan.run_until if isolate == "fork" else mutants[0].cell
    spec = {"cells": plan.cells, "mutants": [m.__dict__ for m in mutants], "run_until": run_until,
            "isolate": isolate, "timeout": timeout, "quiet": not verbose}
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")  # fork-safe BLAS; notebooks of a run share the cores
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        spec_path, results_path = Path(tmp, "spec.json"), Path(tmp, "results.jsonl")
        spec_path.write_text(json.dumps(spec))
        results_path.touch()
        command = [sys.executable, "-c", "import sys; from course_utils.notebooks import _worker; "
                   "_worker(sys.argv[1], sys.argv[2])", str(spec_path), str(results_path)]
        try:
            proc = subprocess.run(command, cwd=plan.path.parent, env=env, stdin=subprocess.DEVNULL,
                                  stdout=None if verbose else subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True,
                                  timeout=None if isolate == "fork" else timeout)
            output, status = proc.stdout or "", proc.returncode
        except subprocess.TimeoutExpired as exc:
            output, status = "", None
            if isinstance(exc.output, (str, bytes)):
                output = exc.output if isinstance(exc.output, str) else exc.output.decode()
        events = [json.loads(line) for line in results_path.read_text().splitlines() if line]
    return events, output, status


def _run_plan(plan: MutantPlan, isolate: str, timeout: float, verbose: bool) -> NotebookResult:
    result = NotebookResult(plan)
    start = time.perf_counter()
    groups = [list(range(len(plan.mutants)))] if isolate == "fork" else [[k] for k in range(len(plan.mutants))]
    for group in groups:
        events, output, status = _run_worker(plan, [plan.mutants[k] for k in group], isolate,
                                             timeout, verbose)
        for event in events:
            if "mutant" in event:
                result.outcomes[group[event["mutant"]]] = event
            elif "error" in event:
                j = event["error"]
                result.errors.append(f"cell {j} (id {plan.cell_ids[j]}) fails in the solutions "
                                     f"notebook itself: {event['detail']}")
        finished = events and ("done" in events[-1] if isolate == "fork" else "mutant" in events[-1])
        if status is None and isolate != "fork":
            result.outcomes[group[0]] = {"outcome": "timed out", "detail": f"after {timeout:g} s"}
        elif not result.errors and not finished:
            result.errors.append(f"the run stopped unexpectedly (exit status {status})")
        if result.errors:
            if output:
                result.errors[-1] += "; its output ended with:\n" + "\n".join(output.splitlines()[-20:])
            break
    result.seconds = time.perf_counter() - start
    return result


def run_mutants(paths: list[Path], *, isolate: str | None = None, timeout: float = 300.0,
                jobs: int = 1, verbose: bool = False, out=None) -> int:
    """Run the mutants of ``paths``; print a report; return the exit status (0, 1 or 2)."""
    out = out or sys.stdout
    isolate = isolate or ("fork" if hasattr(os, "fork") else "rerun")
    plans, failed = [], False
    for path in paths:
        try:
            plans.append(mutant_plan(path))
        except NotebookError as exc:
            print(f"error: {exc}", file=out)
            failed = True
    if failed:
        return 2

    def run(plan: MutantPlan) -> NotebookResult:
        if not plan.mutants:
            return NotebookResult(plan)
        return _run_plan(plan, isolate, timeout, verbose)

    start = time.perf_counter()
    total = caught = 0
    errors = False
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for result in pool.map(run, plans):
            plan = result.plan
            n = len(plan.mutants)
            total += n
            caught += result.caught
            timing = f" ({result.seconds:.1f} s)" if n else ""
            print(f"{_rel(plan.path)}: {n} mutants, {result.caught} caught{timing}", file=out)
            for message in result.errors:
                print(f"  error: {message}", file=out)
                errors = True
            for k, mutant in enumerate(plan.mutants):
                o = result.outcomes.get(k)
                if o is None or o["outcome"] == "caught":
                    continue
                where = f" in cell {o['cell']}" if "cell" in o else ""
                detail = f": {o['detail']}" if o.get("detail") else ""
                print(f"  NOT CAUGHT: cell {mutant.cell} (id {plan.cell_ids[mutant.cell]}), mutant "
                      f"{mutant.description!r}: {o['outcome']}{where}{detail}", file=out)
            for note in plan.notes:
                print(f"  note: {note}", file=out)
            out.flush()
    print(f"total: {total} mutants, {caught} caught in {len(plans)} notebooks "
          f"({time.perf_counter() - start:.0f} s)", file=out)
    if errors:
        return 2
    return 0 if caught == total else 1


def _notebook_paths(names: list[str]) -> list[Path]:
    paths = []
    for name in names:
        path = Path(name)
        if not path.exists():
            candidates = [SOLUTIONS / name, SOLUTIONS / f"{name}.ipynb"]
            candidates += sorted(SOLUTIONS.glob(f"{name}_*.ipynb"))
            path = next((c for c in candidates if c.is_file()), path)
        if not path.is_file():
            raise NotebookError(f"{name}: no such notebook (give a path or a name in solutions/)")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """The command line; Ctrl-C (in the slow imports too) ends with one line, status 130."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("interrupted (build replaces all the notebooks or none)", file=sys.stderr)
        return 130


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.notebooks",
        description="Generate student notebooks from solutions/, check they are up to date, "
                    "run the exercises' mutants.")
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="write notebooks/ from solutions/")
    build_cmd.add_argument("--force", action="store_true",
                           help="also reset student copies with changes (saved to notebooks/backup/ first)")
    commands.add_parser("check", help="exit 1 if the student notebooks are stale")
    mutants_cmd = commands.add_parser("mutants", help="run every mutant in strict mode; exit 1 if one "
                                                      "is not caught")
    mutants_cmd.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                             help="solutions notebooks (paths or names such as 07); default: all")
    mutants_cmd.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant (300)")
    mutants_cmd.add_argument("--jobs", "-j", type=int, default=1, help="notebooks run at once (1)")
    mutants_cmd.add_argument("--isolate", choices=["fork", "rerun"],
                             help="fork after the notebook's prefix (default) or rerun it per mutant")
    mutants_cmd.add_argument("--verbose", "-v", action="store_true", help="show the notebooks' output")
    args = parser.parse_args(argv)
    if args.command == "mutants" and not args.timeout > 0:  # also false for nan
        parser.error(f"--timeout must be a positive number of seconds, got {args.timeout}")
    if args.command == "mutants" and args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    try:
        if args.command == "mutants":
            paths = _notebook_paths(args.notebooks) if args.notebooks else solution_files(SOLUTIONS)
            return run_mutants(paths, isolate=args.isolate, timeout=args.timeout, jobs=args.jobs,
                               verbose=args.verbose)
        if args.command == "build":
            report = build(SOLUTIONS, STUDENT, force=args.force)
            for path in report.written:
                print(f"wrote {_rel(path)}")
            for path, backup in report.backups:
                print(f"saved your copy of {_rel(path)} as {_rel(backup)}")
            for path in report.skipped:
                print(f"skipped {_rel(path)}: it has your changes (edited, run or saved since it "
                      "was generated); 'build --force' resets it after saving a copy in "
                      f"{_rel(STUDENT / BACKUP)}/")
            for path in report.not_files:
                print(f"left {_rel(path)} in place: it is a folder, not a notebook; rename it "
                      "to get the course's copy")
            for path in report.orphans:
                print(f"left {_rel(path)} in place: it has no source in solutions/ "
                      "(delete it if it is not yours)")
            if not (report.written or report.skipped):
                print(f"notebooks/ is up to date with solutions/ ({len(solution_files(SOLUTIONS))} notebooks)")
            return 0
        found = problems(SOLUTIONS, STUDENT)
    except NotebookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if found:
        print("Student notebooks are out of date; run 'python -m course_utils.notebooks build' "
              "and commit notebooks/:", file=sys.stderr)
        for line in found:
            print(f"  - {line}", file=sys.stderr)
        return 1
    print(f"notebooks/ is up to date with solutions/ ({len(solution_files(SOLUTIONS))} notebooks)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
