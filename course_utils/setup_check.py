"""``python -m course_utils check``: is this machine ready for the course?

Prints each dependency's installed version against the minimum the course needs,
loads the emission-line grid and draws a plot off-screen. Exits 0 when all is well,
1 with a list of what is wrong otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata as metadata
import io
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import InvalidVersion, Version

MIN_PYTHON = (3, 10)


@dataclass
class Result:
    name: str
    ok: bool
    detail: str


def requirements() -> list[Requirement]:
    """The runtime requirements declared by the installed ``course_utils`` package."""
    reqs = [Requirement(r) for r in metadata.requires("course_utils") or []]
    return [r for r in reqs if r.marker is None]


def _minimum(req: Requirement) -> str | None:
    for spec in req.specifier:
        if spec.operator in (">=", "==", "~="):
            return spec.version
    return None


def check_package(req: Requirement) -> Result:
    """Is ``req`` installed at a version the course accepts?"""
    minimum = _minimum(req)
    wanted = f">= {minimum}" if minimum else "any version"
    try:
        installed = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        return Result(req.name, False, f"not installed (need {wanted}) in the Python running this "
                      f"check, {sys.executable}; run: {_python()} -m pip install -e .  in the course folder")
    try:
        ok = req.specifier.contains(Version(installed), prereleases=True)
    except InvalidVersion:
        ok = True
    if not ok and minimum and Version(installed) >= Version(minimum):  # above an upper bound
        return Result(req.name, False, f"{installed} is too new (need {req.specifier}); "
                      f"run: {_python()} -m pip install '{req}'")
    if not ok:
        return Result(req.name, False, f"{installed} is too old (need {wanted}); "
                      f"run: {_python()} -m pip install --upgrade '{req}'")
    return Result(req.name, True, f"{installed} (need {wanted})")


def _python() -> str:
    """How to call the Python running this check: the course's venv as README's Quick start names it."""
    venv = Path.cwd() / ".venv" / "bin" / "python"
    return ".venv/bin/python" if Path(sys.executable).parent == venv.parent else sys.executable


def check_python() -> Result:
    version = platform.python_version()
    ok = sys.version_info[:2] >= MIN_PYTHON
    need = ".".join(map(str, MIN_PYTHON))
    return Result("python", ok, f"{version} (need >= {need})" if ok else
                  f"{version} is too old: the course needs Python >= {need}")


def check_grid() -> Result:
    """Can the MAPPINGS grid that the emission-line library is built from be read?"""
    try:
        library = importlib.import_module("course_utils.library")
        grid = library.load_grid()
    except Exception as exc:  # report any failure as a readable line, never a traceback
        return Result("emission-line grid", False, f"cannot be loaded: {exc}")
    return Result("emission-line grid", True,
                  f"{len(grid)} models, {len(grid.attrs['lines'])} lines read from "
                  f"{grid.attrs['path'].name}")


def check_plot() -> Result:
    """Can matplotlib draw a figure off-screen?

    The figure is drawn without pyplot and without choosing a backend, so a notebook
    that runs this check still shows its own figures inline, and it works headless.
    """
    try:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(2, 2))
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel("x")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    except Exception as exc:  # report, do not crash
        return Result("plotting", False, f"matplotlib cannot draw a figure: {exc}")
    return Result("plotting", True, f"drew a test figure ({buffer.tell()} bytes of PNG)")


def run_checks() -> list[Result]:
    """All checks, in the order they are printed."""
    results = [check_python()]
    results += [check_package(r) for r in requirements()]
    if all(r.ok for r in results):
        results += [check_grid(), check_plot()]
    return results


def report(results: list[Result], stream=None) -> int:
    """Print the results; return the exit status (0 all good, 1 something wrong)."""
    stream = stream or sys.stdout
    width = max(len(r.name) for r in results)
    for r in results:
        print(f"  {'ok  ' if r.ok else 'FAIL'}  {r.name:<{width}}  {r.detail}", file=stream)
    failed = [r for r in results if not r.ok]
    if failed:
        print(f"\n{len(failed)} problem(s) to fix before the course:", file=stream)
        for r in failed:
            print(f"  - {r.name}: {r.detail}", file=stream)
        return 1
    print("\nAll set: this machine is ready for the course.", file=stream)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils",
                                     description="Tools of the course 'Machine Learning on Galaxy Spectra'.")
    parser.add_argument("command", choices=["check"],
                        help="check: verify that dependencies, data and plotting work")
    parser.parse_args(argv)
    print(f"Checking the set-up for 'Machine Learning on Galaxy Spectra' (Python {platform.python_version()})")
    return report(run_checks())
