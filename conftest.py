"""Settings for the whole test run, notebooks included.

Notebook kernels inherit this environment: one BLAS thread each, because pytest-xdist
already runs one notebook per core.

The student notebooks that nbval runs are generated afresh from ``solutions/`` into a
temporary folder, never read from ``notebooks/``: students edit, run and save those files,
and their work must not make the tests fail. (``python -m course_utils.notebooks check``,
a test too, makes sure the committed copies are what ``build`` writes.) Other notebooks in
``notebooks/`` (a student's own, JupyterLab's ``-Copy1`` duplicates, backups) are not
collected.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from course_utils.threads import single_threaded

single_threaded(os.environ)  # before anything imports numpy

_COPIES = pytest.StashKey[Path]()


@pytest.hookimpl(hookwrapper=True)
def pytest_collect_file(file_path: Path, parent):
    outcome = yield
    root = parent.config.rootpath
    student = root / "notebooks"
    if file_path.suffix != ".ipynb" or student not in file_path.parents:
        return
    nbval = [c for c in outcome.get_result() if type(c).__name__ == "IPyNbFile"]
    if not nbval:  # nbval is not collecting notebooks in this run
        return
    source = root / "solutions" / file_path.name
    if file_path.parent != student or not source.is_file():
        outcome.force_result([])  # not a course notebook: a student's own file, a backup
        return
    from course_utils.notebooks import write_student_copy

    config = parent.config
    if _COPIES not in config.stash:
        config.stash[_COPIES] = Path(tempfile.mkdtemp(prefix="student-notebooks-"))
    copy = write_student_copy(source, config.stash[_COPIES])
    legacy_path = type(nbval[0].fspath)

    class StudentCopy(type(nbval[0])):
        """nbval's collector for ``notebooks/NN_name.ipynb``, running the fresh copy."""

        @property
        def fspath(self):  # where nbval reads the notebook and starts the kernel
            return legacy_path(str(copy))

    outcome.force_result([StudentCopy.from_parent(parent, path=file_path)])


def pytest_unconfigure(config):
    if _COPIES in config.stash:
        shutil.rmtree(config.stash[_COPIES], ignore_errors=True)
