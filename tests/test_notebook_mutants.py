"""Mutation tests of the exercises: every wrong answer written in solutions/ is caught."""

import io
import subprocess
import sys

import nbformat
import pytest

from course_utils import notebooks, quizzes
from course_utils.notebooks import NotebookError, mutant_plan, run_mutants

code, markdown = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
QUESTION = quizzes.Question("b", {"a": "no", "b": "yes", "c": "no", "d": "no"})
SETUP = ("from course_utils import checks, quizzes\n"
         "### BEGIN HIDDEN TESTS\nchecks.strict = True\n### END HIDDEN TESTS\n"
         "quizzes.get_question = lambda q: quizzes.Question('b', dict(a='no', b='yes', c='no', d='no'))")


@pytest.fixture
def quiz_99(monkeypatch):
    monkeypatch.setattr(quizzes, "get_question", lambda q: QUESTION)


def _write(tmp_path, *cells, name="99_demo.ipynb"):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def test_a_mutant_replaces_the_solution_block_above_it_uncommented_and_reindented(tmp_path):
    path = _write(tmp_path, code(
        "def f(a, b):\n"
        "    ### BEGIN SOLUTION\n    return a / b\n    ### END SOLUTION\n"
        "### BEGIN MUTANT inverted\n# for _ in range(1):\n#     return b / a  # wrong way up\n### END MUTANT\n"
        "    ### BEGIN MUTANT live code\n    return a * b\n    ### END MUTANT\n"
        "### BEGIN HIDDEN TESTS\nassert f(1, 2) == 0.5\n### END HIDDEN TESTS\n"
        "### BEGIN SOLUTION\ng = 2\n### END SOLUTION\n"
        "### BEGIN MUTANT g wrong\n## a comment\n# g = 3\n### END MUTANT"))
    first, second, third = mutant_plan(path).mutants
    assert first.description == "inverted"
    assert first.source.splitlines() == [
        "def f(a, b):", "    for _ in range(1):", "        return b / a  # wrong way up",
        "### BEGIN HIDDEN TESTS", "assert f(1, 2) == 0.5", "### END HIDDEN TESTS",
        "### BEGIN SOLUTION", "g = 2", "### END SOLUTION"]
    assert second.source.splitlines()[1] == "    return a * b"  # not commented: used as written
    assert third.source.splitlines()[:4] == ["def f(a, b):", "    ### BEGIN SOLUTION",
                                             "    return a / b", "    ### END SOLUTION"]
    assert third.source.splitlines()[-2:] == ["# a comment", "g = 3"]
    assert "MUTANT" not in "".join(m.source for m in (first, second, third))


@pytest.mark.parametrize("source, message", [
    ("### BEGIN MUTANT no block\n# x = 1\n### END MUTANT\n### BEGIN SOLUTION\nx = 2\n### END SOLUTION",
     "cell 0, line 1: a MUTANT block replaces"),
    ("### BEGIN SOLUTION\nx = 2\n### END SOLUTION\n### BEGIN MUTANT empty\n\n### END MUTANT",
     "cell 0, line 4: mutant 'empty' has no code"),
    ("### BEGIN SOLUTION\nx = 2\n### END SOLUTION\n### BEGIN MUTANT typo\n# x = (1\n### END MUTANT",
     "cell 0, line 4: mutant 'typo'.*does not compile"),
])
def test_misplaced_empty_or_broken_mutants_are_authoring_errors(tmp_path, source, message):
    with pytest.raises(NotebookError, match=message):
        mutant_plan(_write(tmp_path, code(source)))


def test_a_mutant_in_a_cell_tagged_solution_is_an_error(tmp_path):
    cell = code("x = 2\n### BEGIN MUTANT m\n# x = 3\n### END MUTANT", metadata={"tags": ["solution"]})
    with pytest.raises(NotebookError, match="cell 0, line 2"):
        mutant_plan(_write(tmp_path, cell))


def test_scope_ends_at_the_last_cell_that_can_run_a_self_check(tmp_path):
    path = _write(
        tmp_path,
        code("from course_utils import checks as ch\n\ndef verify(v):\n    ch.check(v, 1)"),
        code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n### BEGIN MUTANT m\n# x = 2\n### END MUTANT"),
        code("y = x + 1"), markdown("text"), code("verify(x)  # reaches the checks through a function"),
        code("plot = x"),
        code("### BEGIN SOLUTION\nz = 1\n### END SOLUTION\n### BEGIN MUTANT m\n# z = 2\n### END MUTANT"),
        code("ch.check(z, 1)"), code("after = 1"))
    plan = mutant_plan(path)
    assert [(m.cell, m.last) for m in plan.mutants] == [(1, 4), (6, 7)]
    assert plan.run_until == 7


def test_quizzes_get_one_mutant_per_wrong_option(tmp_path, quiz_99):
    path = _write(tmp_path, code(SETUP),
                  code("### BEGIN SOLUTION\nq1 = 'b'\nq2 = 'b'\n### END SOLUTION\nchecks.quiz(q1, '99.1')"),
                  code("checks.quiz(q2, '99.2')"))
    plan = mutant_plan(path)
    assert [m.description for m in plan.mutants] == [
        "quiz 99.1 answered 'a'", "quiz 99.1 answered 'c'", "quiz 99.1 answered 'd'",
        "quiz 99.2 answered 'a'", "quiz 99.2 answered 'c'", "quiz 99.2 answered 'd'"]
    assert plan.mutants[0].source.splitlines() == [
        "q1 = 'b'", "q2 = 'b'", "q1 = 'a'", "checks.quiz(q1, '99.1')"]
    assert plan.notes == []  # a quiz is not an exercise that needs written mutants
    assert {m.last for m in plan.mutants} == {2}


def test_exercises_with_fewer_than_four_mutants_get_a_note(tmp_path):
    path = _write(tmp_path, code("from course_utils import checks"),
                  code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n### BEGIN MUTANT m\n# x = 2\n### END MUTANT"),
                  code("checks.check(x, 1)"))
    assert mutant_plan(path).notes == ["cell 1: exercise with 1 mutant(s); the course asks for at least 4"]


def test_mutants_are_caught_survive_crash_or_time_out(tmp_path, quiz_99):
    path = _write(
        tmp_path,
        code(SETUP + "\nimport matplotlib.pyplot as plt"),
        markdown("**Exercise.** Write `ratio`."),
        code("def ratio(a, b):\n    ### BEGIN SOLUTION\n    return a / b\n    ### END SOLUTION\n"
             "    ### BEGIN MUTANT inverted\n    # return b / a\n    ### END MUTANT\n"
             "    ### BEGIN MUTANT right for the test cases only\n    # return 0.5 if b == 2 else 0.6\n"
             "    ### END MUTANT\n"
             "    ### BEGIN MUTANT never returns\n    # while True:\n    #     pass\n    ### END MUTANT"),
        code("fig, ax = plt.subplots()\nax.plot([1, 2])\nax.set_xlabel('x')\nplt.show()"),
        code("checks.check_function(ratio, lambda a, b: a / b, [(1.0, 2.0), (3.0, 5.0)])"),
        code("if ratio(1.0, 4.0) != 0.25:  # after the last self-check: not run for mutants\n"
             "    raise RuntimeError('ran a cell that cannot catch a mutant')"),
        code("### BEGIN SOLUTION\nq1 = 'b'\n### END SOLUTION\nchecks.quiz(q1, '99.1')"),
        code("from ipywidgets import IntSlider, interact\n"
             "interact(lambda d=1: print(d), d=IntSlider(min=1, max=3))"),
        code("### BEGIN SOLUTION\nn = 12\n### END SOLUTION\n"
             "### BEGIN MUTANT off by one\n# n = 11\n### END MUTANT\n"
             "### BEGIN MUTANT misspelt\n# n = len(unknown_name)\n### END MUTANT"),
        code("m = n + 1"),
        code("checks.check(n, 12, name='n')"),
        code("raise RuntimeError('after the last exercise: never run')"),
    )
    out = io.StringIO()
    status = run_mutants([path], timeout=8, out=out)
    report = out.getvalue()
    assert status == 1, report
    assert "99_demo.ipynb: 8 mutants, 5 caught" in report
    lines = [line for line in report.splitlines() if "NOT CAUGHT" in line]
    assert len(lines) == 3, report
    assert "cell 2" in lines[0] and "'right for the test cases only': survived" in lines[0]
    assert "'never returns': timed out" in lines[1]
    assert "cell 8" in lines[2] and "'misspelt': crashed in cell 8: NameError" in lines[2]
    assert "total: 8 mutants, 5 caught in 1 notebooks" in report
    # 'off by one' was caught by the self-check two cells later; the quiz's three wrong options too
    assert "off by one" not in report and "quiz" not in report


def test_rerun_isolation_gives_the_same_outcomes(tmp_path):
    path = _write(
        tmp_path, code(SETUP),
        code("### BEGIN SOLUTION\nn = 12\n### END SOLUTION\n### BEGIN MUTANT off by one\n# n = 11\n"
             "### END MUTANT\n### BEGIN MUTANT same\n# n = 6 * 2\n### END MUTANT"),
        code("checks.check(n, 12)"))
    out = io.StringIO()
    assert run_mutants([path], isolate="rerun", out=out) == 1
    assert "2 mutants, 1 caught" in out.getvalue() and "'same': survived" in out.getvalue()


def test_a_solution_that_fails_its_own_check_is_an_authoring_error(tmp_path):
    path = _write(tmp_path, code(SETUP),
                  code("### BEGIN SOLUTION\nn = 11\n### END SOLUTION\n### BEGIN MUTANT m\n# n = 10\n"
                       "### END MUTANT"),
                  code("checks.check(n, 12, name='n')"))
    out = io.StringIO()
    assert run_mutants([path], out=out) == 2
    assert "cell 2 (id" in out.getvalue() and "fails in the solutions notebook itself" in out.getvalue()


def test_a_notebook_without_mutants_reports_zero_and_passes(tmp_path):
    path = _write(tmp_path, code("x = 1"))
    out = io.StringIO()
    assert run_mutants([path], out=out) == 0
    assert "99_demo.ipynb: 0 mutants, 0 caught" in out.getvalue()


def test_command_exits_2_naming_an_authoring_error(tmp_path):
    path = _write(tmp_path, code("### BEGIN MUTANT stray\n# x = 1\n### END MUTANT"))
    result = subprocess.run([sys.executable, "-m", "course_utils.notebooks", "mutants", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "99_demo.ipynb, cell 0, line 1" in result.stdout


def test_every_mutant_of_the_solutions_notebooks_is_caught():
    result = subprocess.run([sys.executable, "-m", "course_utils.notebooks", "mutants"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"in {len(notebooks.solution_files())} notebooks" in result.stdout
