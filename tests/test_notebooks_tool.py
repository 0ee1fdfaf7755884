"""Student notebooks are generated from solutions/ and must stay in step with them."""

import subprocess
import sys

import nbformat
import pytest

from course_utils import notebooks
from course_utils.notebooks import NotebookError, placeholder, student_version


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def _run(source: str) -> dict:
    namespace: dict = {}
    exec(source, namespace)  # the student copy must run without raising
    return namespace


def test_top_level_answer_becomes_none_placeholder_per_assigned_name():
    cell = nbformat.v4.new_code_cell(
        "x = 2\n### BEGIN SOLUTION\na, b = x + 1, x * 2\nc = a + b\n### END SOLUTION\nprint(a)")
    out = student_version(_nb(cell)).cells[0].source
    assert "a = None  # YOUR CODE HERE" in out and "c = None  # YOUR CODE HERE" in out
    assert "x + 1" not in out
    ns = _run(out)
    assert ns["a"] is None and ns["x"] == 2


def test_answer_inside_function_raises_not_implemented_but_defines_function():
    cell = nbformat.v4.new_code_cell(
        "def f(x):\n    ### BEGIN SOLUTION\n    return x ** 2\n    ### END SOLUTION\n")
    out = student_version(_nb(cell)).cells[0].source
    ns = _run(out)
    with pytest.raises(NotImplementedError):
        ns["f"](3)


def test_hidden_tests_are_dropped_and_outputs_stripped():
    cell = nbformat.v4.new_code_cell("y = 1\n### BEGIN HIDDEN TESTS\nsecret = 1\n### END HIDDEN TESTS")
    cell.outputs = [nbformat.v4.new_output("stream", text="1")]
    cell.execution_count = 4
    out = student_version(_nb(cell)).cells[0]
    assert "secret" not in out.source and out.outputs == [] and out.execution_count is None


def test_cells_tagged_solution_are_replaced_whole():
    code = nbformat.v4.new_code_cell("answer = 42", metadata={"tags": ["solution"]})
    text = nbformat.v4.new_markdown_cell("Because of boosting.", metadata={"tags": ["solution"]})
    hint = nbformat.v4.new_markdown_cell("*Hint:* think about weights.")
    cells = student_version(_nb(code, text, hint)).cells
    assert cells[0].source == "answer = None  # YOUR CODE HERE"
    assert "Because" not in cells[1].source
    assert cells[2].source == hint.source  # hints are kept


@pytest.mark.parametrize("source", [
    "### BEGIN SOLUTION\nx = 1",
    "x = 1\n### END SOLUTION",
    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
    "### BEGIN HIDDEN TESTS\nx = 1",
])
def test_unbalanced_markers_are_errors_naming_the_cell(source):
    with pytest.raises(NotebookError, match="cell 0"):
        student_version(_nb(nbformat.v4.new_code_cell(source)), "01_demo.ipynb")


def test_placeholder_without_assignment_is_a_comment():
    assert placeholder("plt.plot(x, y)") == ["# YOUR CODE HERE"]


def test_check_detects_stale_and_extra_student_notebooks(tmp_path, monkeypatch):
    sol, stu = tmp_path / "solutions", tmp_path / "notebooks"
    sol.mkdir()
    monkeypatch.setattr(notebooks, "ROOT", tmp_path)
    nb = _nb(nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"))
    nbformat.write(nb, sol / "01_demo.ipynb")
    assert notebooks.problems(sol, stu) == ["notebooks/01_demo.ipynb is missing"]
    notebooks.build(sol, stu)
    assert notebooks.problems(sol, stu) == []
    # editing a solution without rebuilding is caught
    nb.cells[0].source = "### BEGIN SOLUTION\nx = 2\ny = 3\n### END SOLUTION"
    nbformat.write(nb, sol / "01_demo.ipynb")
    assert any("not what 'build' writes" in p for p in notebooks.problems(sol, stu))
    notebooks.build(sol, stu)
    (stu / "99_orphan.ipynb").write_text((stu / "01_demo.ipynb").read_text())
    assert notebooks.problems(sol, stu) == ["notebooks/99_orphan.ipynb has no source in solutions/"]


def test_stored_outputs_in_solutions_are_reported_and_stripped_by_build(tmp_path, monkeypatch):
    sol, stu = tmp_path / "solutions", tmp_path / "notebooks"
    sol.mkdir()
    monkeypatch.setattr(notebooks, "ROOT", tmp_path)
    cell = nbformat.v4.new_code_cell("print(1)")
    cell.execution_count = 1
    nbformat.write(_nb(cell), sol / "01_demo.ipynb")
    notebooks.build(sol, stu)
    assert notebooks.problems(sol, stu) == []
    assert nbformat.read(sol / "01_demo.ipynb", 4).cells[0].execution_count is None


def test_bad_notebook_name_is_refused(tmp_path):
    (tmp_path / "demo.ipynb").write_text(nbformat.writes(_nb()))
    with pytest.raises(NotebookError, match="NN_name"):
        notebooks.solution_files(tmp_path)


def test_repository_student_notebooks_are_up_to_date():
    result = subprocess.run([sys.executable, "-m", "course_utils.notebooks", "check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_solution_with_self_checks_runs_them_strictly():
    for path in notebooks.solution_files():
        text = path.read_text()
        if "checks." in text:
            assert "checks.strict = True" in text, f"{path.name}: self-checks must be strict in solutions"


def test_mutant_blocks_are_dropped_from_the_student_copy():
    cell = nbformat.v4.new_code_cell(
        "### BEGIN SOLUTION\nratio = a / b\n### END SOLUTION\n"
        "### BEGIN MUTANT ratio inverted\nratio = b / a\n### END MUTANT\ncheck(ratio)")
    out = student_version(_nb(cell)).cells[0].source
    assert "b / a" not in out and "a / b" not in out and "MUTANT" not in out
    assert out.splitlines() == ["ratio = None  # YOUR CODE HERE", "check(ratio)"]


def test_unclosed_mutant_block_is_an_error():
    cell = nbformat.v4.new_code_cell("### BEGIN MUTANT x\nx = 1\n")
    with pytest.raises(NotebookError, match="END MUTANT"):
        student_version(_nb(cell))
