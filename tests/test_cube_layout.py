"""The analysis of a cube does not depend on the synthetic galaxy."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import course_utils

PACKAGE = Path(course_utils.__file__).parent


def _imports(module: str) -> set[str]:
    """Modules of course_utils that ``module`` (dotted name) imports, directly or not."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        path = PACKAGE.parent.joinpath(*parts)
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        if not path.is_file():
            continue
        package = parts if path.name == "__init__.py" else parts[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package[:len(package) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                todo.append(target)
                todo += [f"{target}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names]
    return {m for m in seen if m.startswith("course_utils")}


@pytest.mark.parametrize("module", ["muse", "lines", "maps", "pipeline"])
def test_analysis_modules_do_not_import_the_generator(module):
    reached = _imports(f"course_utils.cube.{module}")
    assert "course_utils.cube.henize2_10" in reached or module == "muse"
    assert "course_utils.cube.synthetic" not in reached


def test_the_generator_is_found_when_imported():
    # the check above can fail: the package itself does import the generator
    assert "course_utils.cube.synthetic" in _imports("course_utils.cube")


def test_atomic_ratios_live_with_the_line_list():
    from course_utils.library import DERIVED_LINES

    assert DERIVED_LINES["NII6548"][:2] == ("NII6583", pytest.approx(1 / 2.94))
    assert DERIVED_LINES["OIII4959"][:2] == ("OIII5007", pytest.approx(1 / 2.98))
