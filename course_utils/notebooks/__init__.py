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

from course_utils.notebooks.builder import BuildReport, build, write_student_copy
from course_utils.notebooks.check import problems
from course_utils.notebooks.cli import main
from course_utils.notebooks.copies import (BACKUP, METADATA_KEY, ROOT, SOLUTIONS, STUDENT,
                                           solution_files, student_version)
from course_utils.notebooks.markers import (BEGIN, BEGIN_HIDDEN, BEGIN_MUTANT, END, END_HIDDEN,
                                            END_MUTANT, MARKDOWN_PLACEHOLDER, SOLUTION_TAG, TODO,
                                            NotebookError, placeholder)
from course_utils.notebooks.mutants import MIN_MUTANTS, Mutant, MutantPlan, mutant_plan
from course_utils.notebooks.runner import NotebookResult, run_mutants

__all__ = [
    "BACKUP", "BEGIN", "BEGIN_HIDDEN", "BEGIN_MUTANT", "END", "END_HIDDEN", "END_MUTANT",
    "MARKDOWN_PLACEHOLDER", "METADATA_KEY", "MIN_MUTANTS", "ROOT", "SOLUTIONS", "SOLUTION_TAG",
    "STUDENT", "TODO", "BuildReport", "Mutant", "MutantPlan", "NotebookError", "NotebookResult",
    "build", "main", "mutant_plan", "placeholder", "problems", "run_mutants", "solution_files",
    "student_version", "write_student_copy",
]
