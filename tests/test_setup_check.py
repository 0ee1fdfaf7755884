import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement

from course_utils import setup_check

ROOT = Path(__file__).resolve().parent.parent


def test_check_command_passes_on_this_machine():
    result = subprocess.run([sys.executable, "-m", "course_utils", "check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "emission-line grid" in result.stdout and "scikit-learn" in result.stdout


def test_missing_and_old_packages_fail_with_a_readable_list(capsys):
    results = [setup_check.check_package(Requirement("surely-not-installed-pkg>=1.0")),
               setup_check.check_package(Requirement("numpy>=999"))]
    assert not any(r.ok for r in results)
    assert setup_check.report(results) == 1
    out = capsys.readouterr().out
    assert "surely-not-installed-pkg: not installed (need >= 1.0)" in out
    assert "numpy" in out and "too old" in out


def test_a_package_above_the_course_upper_bound_is_called_too_new_and_names_the_python(capsys):
    installed = setup_check.metadata.version("numpy")
    result = setup_check.check_package(Requirement(f"numpy>=1.0,<{installed}"))
    assert not result.ok
    assert "too new" in result.detail and "too old" not in result.detail
    missing = setup_check.check_package(Requirement("surely-not-installed-pkg>=1.0"))
    assert sys.executable in missing.detail  # the Python that lacks it, not another one


def test_every_declared_dependency_is_checked():
    names = {r.name for r in setup_check.requirements()}
    assert {"numpy", "scikit-learn", "astropy", "NebulaBayes", "pyneb"} <= names


def test_check_command_works_headless():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND", "WAYLAND_DISPLAY")}
    result = subprocess.run([sys.executable, "-m", "course_utils", "check"], capture_output=True,
                            text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok    plotting" in result.stdout


def test_first_figure_of_notebook_00_is_shown_after_the_check(monkeypatch):
    # the check runs in the notebook's kernel before the figure: it must not switch the
    # kernel's inline backend to an off-screen one, or the figure never appears
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.read(ROOT / "solutions" / "00_setup_check.ipynb", as_version=4)
    figure_cell = next(i for i, c in enumerate(nb.cells)
                       if c.cell_type == "code" and "plt.show()" in c.source)
    nb.cells = nb.cells[:figure_cell + 1]
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    assert any("image/png" in out.get("data", {}) for out in nb.cells[figure_cell].outputs)
