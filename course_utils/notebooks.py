"""Student notebooks generated from the instructor notebooks in ``solutions/``.

Authors edit only ``solutions/NN_name.ipynb``. In those notebooks:

- an answer in a code cell sits between the lines ``### BEGIN SOLUTION`` and
  ``### END SOLUTION``. In the student copy the block becomes a placeholder that runs:
  ``name = None  # YOUR CODE HERE`` for every name the block assigns at top level, or,
  inside a function body, ``raise NotImplementedError("YOUR CODE HERE")``;
- a cell tagged ``solution`` is replaced whole the same way (a markdown cell becomes
  "*Write your answer here.*");
- lines between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` are dropped from
  the student copy (the solutions use this to switch the self-checks to strict mode);
- a block ``### BEGIN MUTANT <what the mistake is>`` ... ``### END MUTANT`` after the
  solution block of an exercise cell holds a plausible wrong answer: code that replaces
  the cell's solution block. It is dropped from the student copy; the exercise's
  self-checks must reject it (mutation testing of the exercises).

Commands::

    python -m course_utils.notebooks build   # write notebooks/ (and strip outputs in solutions/)
    python -m course_utils.notebooks check   # exit 1 if notebooks/ is stale or outputs are stored
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import re
import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
STUDENT = ROOT / "notebooks"

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
BEGIN_MUTANT, END_MUTANT = "### BEGIN MUTANT", "### END MUTANT"
SOLUTION_TAG = "solution"
TODO = "# YOUR CODE HERE"
MARKDOWN_PLACEHOLDER = "*Write your answer here.*"
_NAME = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")


class NotebookError(ValueError):
    """A solutions notebook breaks the authoring conventions."""


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


def _strip_blocks(source: str, where: str) -> str:
    """Replace solution blocks and drop hidden-test blocks in one cell's source."""
    out: list[str] = []
    block: list[str] | None = None
    hidden = False
    begin_indent = ""
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == BEGIN_HIDDEN or marker.startswith(BEGIN_MUTANT):
            if hidden or block is not None:
                raise NotebookError(f"{where}, line {number}: nested {marker}")
            hidden = END_HIDDEN if marker == BEGIN_HIDDEN else END_MUTANT
        elif marker in (END_HIDDEN, END_MUTANT):
            if hidden != marker:
                raise NotebookError(f"{where}, line {number}: {marker} without its BEGIN line")
            hidden = False
        elif hidden:
            continue
        elif marker == BEGIN:
            if block is not None:
                raise NotebookError(f"{where}, line {number}: nested {BEGIN}")
            block, begin_indent = [], line[: len(line) - len(line.lstrip())]
        elif marker == END:
            if block is None:
                raise NotebookError(f"{where}, line {number}: {END} without {BEGIN}")
            out.extend(placeholder("\n".join(block), begin_indent))
            block = None
        elif block is not None:
            block.append(line)
        else:
            out.append(line)
    if block is not None:
        raise NotebookError(f"{where}: {BEGIN} is never closed by {END}")
    if hidden:
        raise NotebookError(f"{where}: a block is never closed by {hidden}")
    return "\n".join(out)


def student_version(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The student copy of a solutions notebook: answers replaced, outputs stripped."""
    nb = copy.deepcopy(nb)
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}"
        tagged = SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])
        if cell.cell_type == "code":
            source = _strip_blocks(cell.source, where)
            if tagged:
                source = "\n".join(placeholder(source))
            cell.source = source
        elif tagged:
            cell.source = MARKDOWN_PLACEHOLDER
        _clean(cell)
    return nb


def _clean(cell: nbformat.NotebookNode) -> None:
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    cell.get("metadata", {}).pop("execution", None)


def _dumps(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def _stored_output_problems(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [
        f"{path.relative_to(ROOT)}, cell {i}: stored outputs or execution count"
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


def build(solutions: Path = SOLUTIONS, student: Path = STUDENT) -> list[Path]:
    """Write the student copies; strip stored outputs from the solutions in place."""
    student.mkdir(exist_ok=True)
    written = []
    sources = solution_files(solutions)
    for src in sources:
        nb = nbformat.read(src, as_version=4)
        text = _dumps(student_version(nb, src.name))  # validates markers before any write
        clean = copy.deepcopy(nb)
        for cell in clean.cells:
            _clean(cell)
        if _dumps(clean) != src.read_text(encoding="utf-8"):
            src.write_text(_dumps(clean), encoding="utf-8")
        dest = student / src.name
        dest.write_text(text, encoding="utf-8")
        written.append(dest)
    for stale in set(student.glob("*.ipynb")) - set(written):
        stale.unlink()
    return written


def problems(solutions: Path = SOLUTIONS, student: Path = STUDENT) -> list[str]:
    """Every way ``notebooks/`` differs from what :func:`build` would write."""
    found: list[str] = []
    sources = solution_files(solutions)
    for src in sources:
        found += _stored_output_problems(src)
        expected = _dumps(student_version(nbformat.read(src, as_version=4), src.name))
        dest = student / src.name
        if not dest.exists():
            found.append(f"{dest.relative_to(ROOT)} is missing")
        elif dest.read_text(encoding="utf-8") != expected:
            found.append(f"{dest.relative_to(ROOT)} is not what 'build' writes from {src.name}")
    names = {s.name for s in sources}
    for extra in sorted(student.glob("*.ipynb")):
        if extra.name not in names:
            found.append(f"{extra.relative_to(ROOT)} has no source in solutions/")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.notebooks",
        description="Generate student notebooks from solutions/ and check they are up to date.",
    )
    parser.add_argument("command", choices=["build", "check"],
                        help="build: write notebooks/ from solutions/; check: exit 1 if stale")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            for path in build():
                print(f"wrote {path.relative_to(ROOT)}")
            return 0
        found = problems()
    except (NotebookError, json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if found:
        print("Student notebooks are out of date; run 'python -m course_utils.notebooks build':",
              file=sys.stderr)
        for line in found:
            print(f"  - {line}", file=sys.stderr)
        return 1
    print(f"notebooks/ is up to date with solutions/ ({len(solution_files())} notebooks)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
