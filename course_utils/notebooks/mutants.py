"""Mutation tests, planning: the wrong answers of each exercise (MUTANT blocks and the wrong
options of its quizzes) and the cells each one needs (the conventions:
:mod:`course_utils.notebooks`)."""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from course_utils.notebooks.copies import _read, student_version
from course_utils.notebooks.markers import (BEGIN, SOLUTION_TAG, NotebookError, _assigned_names,
                                            _Block, _compile, _parse)

MIN_MUTANTS = 4  # per exercise, the course's rule; fewer is reported as a note


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
