import subprocess
import sys

from packaging.requirements import Requirement

from course_utils import setup_check


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


def test_every_declared_dependency_is_checked():
    names = {r.name for r in setup_check.requirements()}
    assert {"numpy", "scikit-learn", "astropy", "NebulaBayes", "pyneb"} <= names
