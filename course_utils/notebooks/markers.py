"""The authoring markers of the ``solutions/`` notebooks, and the parser that splits a code
cell into plain lines and marked blocks (the conventions: :mod:`course_utils.notebooks`)."""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
BEGIN_MUTANT, END_MUTANT = "### BEGIN MUTANT", "### END MUTANT"
SOLUTION_TAG = "solution"
TODO = "# YOUR CODE HERE"
MARKDOWN_PLACEHOLDER = "*Write your answer here.*"
_MUTANT = re.compile(re.escape(BEGIN_MUTANT) + r" (\S.*)")
# anything that may have been meant as a marker: '###BEGIN SOLUTION', '## end hidden tests', ...
_MARKER_LIKE = re.compile(r"#+\s*(begin|end)[\s_-]*(solution|hidden[\s_-]*test|mutant)", re.IGNORECASE)
_ENDS = {"solution": END, "hidden": END_HIDDEN, "mutant": END_MUTANT}
_MARKERS = f"{BEGIN!r}, {END!r}, {BEGIN_HIDDEN!r}, {END_HIDDEN!r}, '{BEGIN_MUTANT} <mistake>', {END_MUTANT!r}"


class NotebookError(ValueError):
    """A solutions notebook breaks the authoring conventions."""


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
