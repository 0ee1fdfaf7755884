"""Student notebooks are generated from solutions/ and must stay in step with them."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils import notebooks
from course_utils.notebooks import NotebookError, placeholder, student_version

ROOT = Path(__file__).resolve().parent.parent


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


def test_check_detects_stale_student_notebooks(tmp_path, monkeypatch):
    sol, stu = tmp_path / "solutions", tmp_path / "notebooks"
    sol.mkdir()
    monkeypatch.setattr(notebooks.copies, "ROOT", tmp_path)
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
    assert notebooks.problems(sol, stu) == []


def test_stored_outputs_in_solutions_are_reported_and_stripped_by_build(tmp_path, monkeypatch):
    sol, stu = tmp_path / "solutions", tmp_path / "notebooks"
    sol.mkdir()
    monkeypatch.setattr(notebooks.copies, "ROOT", tmp_path)
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


# --- nothing that could leak an answer passes silently -----------------------------------

@pytest.mark.parametrize("kind", ["markdown", "raw"])
@pytest.mark.parametrize("marker", ["### BEGIN SOLUTION", "### END SOLUTION",
                                    "### BEGIN HIDDEN TESTS", "### BEGIN MUTANT ratio inverted"])
def test_markers_in_markdown_or_raw_cells_are_errors_naming_cell_and_line(kind, marker):
    maker = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_raw_cell
    nb = _nb(nbformat.v4.new_code_cell("x = 1"), maker(f"The answer:\n{marker}\nIt is 42."))
    with pytest.raises(NotebookError, match=r"01_demo.ipynb, cell 1, line 2"):
        student_version(nb, "01_demo.ipynb")


@pytest.mark.parametrize("marker", [
    "###BEGIN SOLUTION", "### begin solution", "### Begin Solution", "## BEGIN SOLUTION",
    "#### BEGIN SOLUTION", "### BEGIN SOLUTIONS", "###  BEGIN SOLUTION", "# BEGIN_SOLUTION",
    "### BEGIN HIDDEN TEST", "### begin hidden tests", "### BEGIN MUTANTS sign", "### BEGIN MUTANT",
    "x = 1  ### BEGIN SOLUTION",
])
def test_misspelled_markers_are_errors_naming_cell_and_line(marker):
    cell = nbformat.v4.new_code_cell(f"a = 1\n{marker}\nanswer = 42\n### END SOLUTION")
    with pytest.raises(NotebookError, match=r"01_demo.ipynb, cell 0, line 2: .*looks like a marker"):
        student_version(_nb(cell), "01_demo.ipynb")


@pytest.mark.parametrize("marker", ["### end solution", "### END SOLUTIONS", "##END SOLUTION"])
def test_misspelled_end_markers_are_errors_naming_the_line(marker):
    cell = nbformat.v4.new_code_cell(f"### BEGIN SOLUTION\nanswer = 42\n{marker}\n")
    with pytest.raises(NotebookError, match=r"cell 0, line 3: .*looks like a marker"):
        student_version(_nb(cell), "01_demo.ipynb")


@pytest.mark.parametrize("tag", ["Solution", "solutions", " solution", "SOLUTION"])
@pytest.mark.parametrize("kind", ["code", "markdown"])
def test_solution_tag_variants_are_errors_naming_the_cell(tag, kind):
    maker = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    nb = _nb(nbformat.v4.new_code_cell("x = 1"), maker("answer = 42", metadata={"tags": [tag]}))
    with pytest.raises(NotebookError, match=r"01_demo.ipynb, cell 1: tag"):
        student_version(nb, "01_demo.ipynb")


def test_student_cell_that_does_not_compile_is_an_error_naming_cell():
    # the solution block starts at the 'if' level: its placeholder would end the 'if' body
    cell = nbformat.v4.new_code_cell("if ready:\n### BEGIN SOLUTION\n    x = 1\n### END SOLUTION")
    with pytest.raises(NotebookError, match=r"01_demo.ipynb, cell 1 .*does not compile"):
        student_version(_nb(nbformat.v4.new_code_cell("ready = True"), cell), "01_demo.ipynb")


def test_ipython_magics_and_shell_lines_compile():
    cell = nbformat.v4.new_code_cell(
        "%matplotlib inline\n!echo hi\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n%time y = x")
    out = student_version(_nb(cell, nbformat.v4.new_code_cell("%%time\nz = 1")))
    assert out.cells[0].source.splitlines()[2] == "x = None  # YOUR CODE HERE"


def test_invalid_notebook_json_names_the_notebook(tmp_path, monkeypatch):
    sol, stu = tmp_path / "solutions", tmp_path / "notebooks"
    sol.mkdir()
    monkeypatch.setattr(notebooks.copies, "ROOT", tmp_path)
    (sol / "01_demo.ipynb").write_text('{"cells": [}')
    with pytest.raises(NotebookError, match="solutions/01_demo.ipynb"):
        notebooks.build(sol, stu)
    with pytest.raises(NotebookError, match="solutions/01_demo.ipynb"):
        notebooks.problems(sol, stu)


def test_check_command_names_an_invalid_notebook_and_exits_2(tmp_path, monkeypatch, capsys):
    sol = tmp_path / "solutions"
    sol.mkdir()
    monkeypatch.setattr(notebooks.copies, "ROOT", tmp_path)
    monkeypatch.setattr(notebooks.cli, "SOLUTIONS", sol)
    monkeypatch.setattr(notebooks.cli, "STUDENT", tmp_path / "notebooks")
    (sol / "03_broken.ipynb").write_text("not json")
    assert notebooks.main(["check"]) == 2
    assert "03_broken.ipynb" in capsys.readouterr().err


def _solutions(folder, n=2):
    folder.mkdir(exist_ok=True)
    for k in range(1, n + 1):
        cell = nbformat.v4.new_code_cell(f"### BEGIN SOLUTION\nx = {k}\n### END SOLUTION\nprint(x)")
        cell.execution_count = 1  # a stored output that build strips
        nbformat.write(_nb(cell), folder / f"0{k}_demo.ipynb")


def _built_course(tmp_path, monkeypatch, n=2):
    sol, stu = tmp_path / "solutions", tmp_path / "notebooks"
    monkeypatch.setattr(notebooks.copies, "ROOT", tmp_path)
    _solutions(sol, n)
    notebooks.build(sol, stu)
    return sol, stu


def _snapshot(*folders):
    return {p: p.read_bytes() for f in folders for p in sorted(f.rglob("*")) if p.is_file()}


def test_build_writes_nothing_when_one_notebook_is_bad(tmp_path, monkeypatch):
    sol, stu = tmp_path / "solutions", tmp_path / "notebooks"
    monkeypatch.setattr(notebooks.copies, "ROOT", tmp_path)
    _solutions(sol)
    bad = nbformat.read(sol / "02_demo.ipynb", 4)
    bad.cells.append(nbformat.v4.new_markdown_cell("### BEGIN SOLUTION"))
    nbformat.write(bad, sol / "02_demo.ipynb")
    before = _snapshot(sol)
    with pytest.raises(NotebookError, match="02_demo.ipynb, cell 1"):
        notebooks.build(sol, stu)
    assert _snapshot(sol) == before and not list(stu.glob("*"))


def test_build_interrupted_while_writing_leaves_every_file_as_it_was(tmp_path, monkeypatch):
    sol, stu = tmp_path / "solutions", tmp_path / "notebooks"
    monkeypatch.setattr(notebooks.copies, "ROOT", tmp_path)
    _solutions(sol, n=3)
    before = _snapshot(sol)
    real_fdopen, calls = notebooks.builder.os.fdopen, []

    def failing_fdopen(*args, **kwargs):  # the disk fills up at the third file
        calls.append(1)
        if len(calls) == 3:
            raise OSError("No space left on device")
        return real_fdopen(*args, **kwargs)

    monkeypatch.setattr(notebooks.builder.os, "fdopen", failing_fdopen)
    with pytest.raises(OSError, match="No space"):
        notebooks.build(sol, stu)
    assert _snapshot(sol) == before
    assert not [p for p in stu.rglob("*") if p.is_file()]  # no copy, no temporary file


# --- a student's work is never lost -------------------------------------------------------

def _student_saves_work(path, source="raise ValueError('my own attempt')"):
    """What JupyterLab writes after a student edits a cell, runs it and saves."""
    nb = nbformat.read(path, 4)
    nb.cells[0].source = source
    nb.cells[0].execution_count = 3
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="my output\n")]
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)


def test_build_skips_a_student_copy_with_changes_and_force_backs_it_up(tmp_path, monkeypatch, capsys):
    sol, stu = _built_course(tmp_path, monkeypatch)
    _student_saves_work(stu / "01_demo.ipynb")
    work = (stu / "01_demo.ipynb").read_bytes()
    # the instructor changes both solutions: the untouched copy is regenerated, the edited one kept
    for name in ("01_demo.ipynb", "02_demo.ipynb"):
        nb = nbformat.read(sol / name, 4)
        nb.cells.append(nbformat.v4.new_markdown_cell("A new paragraph."))
        nbformat.write(nb, sol / name)
    report = notebooks.build(sol, stu)
    assert report.skipped == [stu / "01_demo.ipynb"] and report.written == [stu / "02_demo.ipynb"]
    assert (stu / "01_demo.ipynb").read_bytes() == work
    assert "A new paragraph." in (stu / "02_demo.ipynb").read_text()
    # the command says what it skipped and how to reset
    monkeypatch.setattr(notebooks.cli, "SOLUTIONS", sol)
    monkeypatch.setattr(notebooks.cli, "STUDENT", stu)
    assert notebooks.main(["build"]) == 0
    out = capsys.readouterr().out
    assert "skipped notebooks/01_demo.ipynb" in out and "--force" in out
    assert (stu / "01_demo.ipynb").read_bytes() == work
    # --force resets it and keeps the student's version in notebooks/backup/
    assert notebooks.main(["build", "--force"]) == 0
    out = capsys.readouterr().out
    backups = list((stu / "backup").glob("01_demo-*.ipynb"))
    assert len(backups) == 1 and backups[0].read_bytes() == work
    assert f"as notebooks/backup/{backups[0].name}" in out
    assert "A new paragraph." in (stu / "01_demo.ipynb").read_text()
    # a second reset keeps both backups
    _student_saves_work(stu / "01_demo.ipynb", "x = 'second try'")
    notebooks.build(sol, stu, force=True)
    assert len(list((stu / "backup").glob("01_demo-*.ipynb"))) == 2


def test_build_never_deletes_or_changes_other_notebooks(tmp_path, monkeypatch):
    sol, stu = _built_course(tmp_path, monkeypatch)
    (stu / "01_demo-Copy1.ipynb").write_bytes((stu / "01_demo.ipynb").read_bytes())
    _student_saves_work(stu / "01_demo-Copy1.ipynb")
    (stu / "my_notes.ipynb").write_text(nbformat.writes(_nb(nbformat.v4.new_code_cell("1 + 1"))))
    (stu / "02_untouched_copy.ipynb").write_bytes((stu / "02_demo.ipynb").read_bytes())
    (sol / "02_demo.ipynb").unlink()  # a notebook removed from the course
    others = _snapshot(stu)
    report = notebooks.build(sol, stu, force=True)
    assert _snapshot(stu) == others
    assert report.orphans == [stu / "02_demo.ipynb", stu / "02_untouched_copy.ipynb"]


def _git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"})


def _commit_everything(repo):
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "course")


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


@needs_git
def test_check_ignores_student_work_but_catches_a_stale_committed_build(tmp_path, monkeypatch):
    sol, stu = _built_course(tmp_path, monkeypatch)
    _commit_everything(tmp_path)
    assert notebooks.problems(sol, stu) == []
    # a student edits, runs and saves; makes a -Copy1 and a notebook of their own
    _student_saves_work(stu / "01_demo.ipynb")
    (stu / "02_demo-Copy1.ipynb").write_bytes((stu / "02_demo.ipynb").read_bytes())
    (stu / "scratch.ipynb").write_text("{ half-written")
    (stu / "02_demo.ipynb").unlink()  # ... and deletes one
    assert notebooks.problems(sol, stu) == []
    # an author changes a solution and commits it without rebuilding: caught
    nb = nbformat.read(sol / "01_demo.ipynb", 4)
    nb.cells[0].source = nb.cells[0].source.replace("print(x)", "print(2 * x)")
    nbformat.write(nb, sol / "01_demo.ipynb")
    _git(tmp_path, "commit", "-q", "-m", "new answer", "solutions/01_demo.ipynb")
    assert notebooks.problems(sol, stu) == [
        "notebooks/01_demo.ipynb: the committed version is not what 'build' writes from 01_demo.ipynb"]
    # a committed notebook without a source, and a committed solution with outputs: caught
    (stu / "02_demo-Copy1.ipynb").rename(stu / "05_old.ipynb")
    cell = nbformat.read(sol / "02_demo.ipynb", 4)
    cell.cells[0].execution_count = 7
    nbformat.write(cell, sol / "02_demo.ipynb")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "outputs")
    found = notebooks.problems(sol, stu)
    assert "notebooks/05_old.ipynb (committed) has no source in solutions/" in found
    assert "solutions/02_demo.ipynb (committed), cell 0: stored outputs or execution count" in found


@needs_git
def test_student_work_survives_build_and_the_test_command_in_a_copy_of_the_repository(tmp_path):
    repo = tmp_path / "course"
    repo.mkdir()
    for name in ("conftest.py", "pyproject.toml"):
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(ROOT / "course_utils", repo / "course_utils",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "solutions").mkdir()
    shutil.copy(ROOT / "solutions" / "00_setup_check.ipynb", repo / "solutions")
    # the clean copy is generated, never taken from this checkout's notebooks/, where a
    # student may have saved work
    notebooks.write_student_copy(repo / "solutions" / "00_setup_check.ipynb", repo / "notebooks")
    _commit_everything(repo)
    # the student edits notebook 00 so that it fails, saves outputs, duplicates it
    student = repo / "notebooks" / "00_setup_check.ipynb"
    _student_saves_work(student)
    shutil.copy(student, repo / "notebooks" / "00_setup_check-Copy1.ipynb")
    work = _snapshot(repo / "notebooks")

    def run(*args):
        return subprocess.run([sys.executable, *args], cwd=repo, capture_output=True, text=True)

    checked = run("-m", "course_utils.notebooks", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run("-m", "pytest", "notebooks", "-n", "0", "-q", "-p", "no:cacheprovider")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    fresh = nbformat.read(repo / "solutions" / "00_setup_check.ipynb", 4)
    code_cells = sum(c.cell_type == "code" for c in fresh.cells)
    assert f"{code_cells} passed" in tested.stdout  # the code cells of the fresh copy, nothing else
    built = run("-m", "course_utils.notebooks", "build")
    assert built.returncode == 0 and "skipped notebooks/00_setup_check.ipynb" in built.stdout
    assert _snapshot(repo / "notebooks") == work
    # the student commits the work: check passes, build (even --force) keeps it
    _git(repo, "add", "notebooks")
    _git(repo, "commit", "-q", "-m", "my work")
    checked = run("-m", "course_utils.notebooks", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    built = run("-m", "course_utils.notebooks", "build")
    assert built.returncode == 0 and "skipped notebooks/00_setup_check.ipynb" in built.stdout
    assert _snapshot(repo / "notebooks") == work
    forced = run("-m", "course_utils.notebooks", "build", "--force")
    assert forced.returncode == 0
    backups = list((repo / "notebooks" / "backup").glob("00_setup_check-*.ipynb"))
    assert [b.read_bytes() for b in backups] == [work[student]]
    _git(repo, "checkout", "-q", "notebooks/00_setup_check.ipynb")  # the student's work back
    # a stale committed build is still caught
    nb = nbformat.read(repo / "solutions" / "00_setup_check.ipynb", 4)
    nb.cells[0].source += "\nOne more line."
    nbformat.write(nb, repo / "solutions" / "00_setup_check.ipynb")
    _git(repo, "commit", "-q", "-am", "edit the solution only")
    stale = run("-m", "course_utils.notebooks", "check")
    assert stale.returncode == 1 and "notebooks/00_setup_check.ipynb: the last version" in stale.stderr


@needs_git
def test_build_rewrites_a_copy_that_git_keeps_but_not_an_uncommitted_edit(tmp_path, monkeypatch):
    # copies written before they recorded their hash: the committed ones lose nothing
    sol, stu = _built_course(tmp_path, monkeypatch)
    for name in ("01_demo.ipynb", "02_demo.ipynb"):
        nb = nbformat.read(stu / name, 4)
        del nb.metadata["course_utils"]
        nb.cells.append(nbformat.v4.new_markdown_cell("An older paragraph."))
        nbformat.write(nb, stu / name)
    _commit_everything(tmp_path)
    _student_saves_work(stu / "02_demo.ipynb")
    work = (stu / "02_demo.ipynb").read_bytes()
    report = notebooks.build(sol, stu)
    assert report.written == [stu / "01_demo.ipynb"] and report.skipped == [stu / "02_demo.ipynb"]
    assert "older" not in (stu / "01_demo.ipynb").read_text()
    assert (stu / "02_demo.ipynb").read_bytes() == work


@needs_git
def test_check_and_build_keep_a_student_copy_whose_work_is_committed(tmp_path, monkeypatch):
    sol, stu = _built_course(tmp_path, monkeypatch)
    _commit_everything(tmp_path)
    _student_saves_work(stu / "01_demo.ipynb")
    _git(tmp_path, "commit", "-q", "-am", "my answers")
    work = (stu / "01_demo.ipynb").read_bytes()
    assert notebooks.problems(sol, stu) == []
    report = notebooks.build(sol, stu)
    assert report.skipped == [stu / "01_demo.ipynb"] and report.written == []
    assert (stu / "01_demo.ipynb").read_bytes() == work
    # the course changes the solution and commits without rebuilding: still caught, from
    # the last generated version in the history
    nb = nbformat.read(sol / "01_demo.ipynb", 4)
    nb.cells.append(nbformat.v4.new_markdown_cell("A new paragraph."))
    nbformat.write(nb, sol / "01_demo.ipynb")
    _git(tmp_path, "commit", "-q", "-am", "new paragraph")
    found = notebooks.problems(sol, stu)
    assert len(found) == 1 and found[0].startswith("notebooks/01_demo.ipynb: the last version")


def _save_during_build(monkeypatch, path, source):
    """Make a save of ``path`` happen after build has classified it, before it replaces it."""
    real_mkstemp, done = notebooks.builder.tempfile.mkstemp, []

    def mkstemp(*args, **kwargs):
        if not done:
            done.append(1)
            _student_saves_work(path, source)
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(notebooks.builder.tempfile, "mkstemp", mkstemp)


@pytest.mark.parametrize("force", [False, True])
def test_a_save_while_build_runs_is_never_lost(tmp_path, monkeypatch, force):
    sol, stu = _built_course(tmp_path, monkeypatch)
    nb = nbformat.read(sol / "01_demo.ipynb", 4)
    nb.cells.append(nbformat.v4.new_markdown_cell("A new paragraph."))
    nbformat.write(nb, sol / "01_demo.ipynb")
    if force:  # a copy with older work: the backup must hold the version saved last
        _student_saves_work(stu / "01_demo.ipynb", "x = 'first try'")
    _save_during_build(monkeypatch, stu / "01_demo.ipynb", "x = 'saved while build ran'")
    report = notebooks.build(sol, stu, force=force)
    monkeypatch.undo()
    saved = [p.read_text() for p in [stu / "01_demo.ipynb", *(stu / "backup").glob("*.ipynb")]]
    assert sum("saved while build ran" in text for text in saved) == 1
    if force:
        assert [b for _, b in report.backups] == list((stu / "backup").glob("*.ipynb"))
        assert "A new paragraph." in (stu / "01_demo.ipynb").read_text()
    else:
        assert report.skipped == [stu / "01_demo.ipynb"] and report.written == []
    assert not list(stu.glob(".*.tmp"))


def test_ctrl_c_while_build_replaces_files_lands_after_the_last_one(tmp_path, monkeypatch):
    sol, stu = _built_course(tmp_path, monkeypatch, n=3)
    for name in ("01_demo.ipynb", "02_demo.ipynb", "03_demo.ipynb"):
        nb = nbformat.read(sol / name, 4)
        nb.cells.append(nbformat.v4.new_markdown_cell("A new paragraph."))
        nbformat.write(nb, sol / name)
    real_replace, calls = notebooks.builder.os.replace, []

    def replace(*args):
        calls.append(1)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C after the first rename starts
        return real_replace(*args)

    monkeypatch.setattr(notebooks.builder.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        notebooks.build(sol, stu)
    assert all("A new paragraph." in (stu / n).read_text()
               for n in ("01_demo.ipynb", "02_demo.ipynb", "03_demo.ipynb"))
    assert not list(stu.glob(".*.tmp")) and not list(sol.glob(".*.tmp"))


def test_build_reports_a_folder_in_place_of_a_copy_and_a_backup_file(tmp_path, monkeypatch, capsys):
    sol, stu = _built_course(tmp_path, monkeypatch)
    (stu / "01_demo.ipynb").unlink()
    (stu / "01_demo.ipynb").mkdir()
    report = notebooks.build(sol, stu)
    assert report.not_files == [stu / "01_demo.ipynb"] and (stu / "01_demo.ipynb").is_dir()
    monkeypatch.setattr(notebooks.cli, "SOLUTIONS", sol)
    monkeypatch.setattr(notebooks.cli, "STUDENT", stu)
    assert notebooks.main(["check"]) in (0, 1)  # check does not crash on it either
    _student_saves_work(stu / "02_demo.ipynb")
    (stu / "backup").write_text("my notes")
    before = _snapshot(stu)
    assert notebooks.main(["build", "--force"]) == 2
    assert "notebooks/backup is a file" in capsys.readouterr().err
    assert _snapshot(stu) == before


@pytest.mark.parametrize("timeout", ["0", "-1", "nan"])
def test_mutants_refuses_a_timeout_that_is_not_positive(timeout, capsys):
    with pytest.raises(SystemExit) as exit_:
        notebooks.main(["mutants", "--timeout", timeout, "01"])
    assert exit_.value.code == 2 and "--timeout must be a positive" in capsys.readouterr().err


def test_ctrl_c_during_the_commands_start_up_is_one_line(monkeypatch, capsys):
    def interrupted(*args, **kwargs):  # as if Ctrl-C landed in nbformat's slow import
        raise KeyboardInterrupt

    monkeypatch.setattr(notebooks.builder, "solution_files", interrupted)
    assert notebooks.main(["build"]) == 130
    err = capsys.readouterr().err
    assert err.startswith("interrupted") and "Traceback" not in err


def test_worker_processes_get_one_blas_thread_unless_the_user_chose():
    from course_utils.threads import THREAD_VARIABLES, single_threaded

    env = single_threaded({"OMP_NUM_THREADS": "4", "PATH": "/bin"})
    assert env == {"OMP_NUM_THREADS": "4", "PATH": "/bin",
                   **{name: "1" for name in THREAD_VARIABLES if name != "OMP_NUM_THREADS"}}
    assert all(single_threaded(dict(env), keep=False)[name] == "1" for name in THREAD_VARIABLES)
