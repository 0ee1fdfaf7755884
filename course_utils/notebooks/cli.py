"""The command line: ``python -m course_utils.notebooks build|check|mutants``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_utils.notebooks.builder import build
from course_utils.notebooks.check import problems
from course_utils.notebooks.copies import BACKUP, SOLUTIONS, STUDENT, _rel, solution_files
from course_utils.notebooks.markers import NotebookError
from course_utils.notebooks.runner import run_mutants


def _notebook_paths(names: list[str]) -> list[Path]:
    paths = []
    for name in names:
        path = Path(name)
        if not path.exists():
            candidates = [SOLUTIONS / name, SOLUTIONS / f"{name}.ipynb"]
            candidates += sorted(SOLUTIONS.glob(f"{name}_*.ipynb"))
            path = next((c for c in candidates if c.is_file()), path)
        if not path.is_file():
            raise NotebookError(f"{name}: no such notebook (give a path or a name in solutions/)")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """The command line; Ctrl-C (in the slow imports too) ends with one line, status 130."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("interrupted (build replaces all the notebooks or none)", file=sys.stderr)
        return 130


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.notebooks",
        description="Generate student notebooks from solutions/, check they are up to date, "
                    "run the exercises' mutants.")
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="write notebooks/ from solutions/")
    build_cmd.add_argument("--force", action="store_true",
                           help="also reset student copies with changes (saved to notebooks/backup/ first)")
    commands.add_parser("check", help="exit 1 if the student notebooks are stale")
    mutants_cmd = commands.add_parser("mutants", help="run every mutant in strict mode; exit 1 if one "
                                                      "is not caught")
    mutants_cmd.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                             help="solutions notebooks (paths or names such as 07); default: all")
    mutants_cmd.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant (300)")
    mutants_cmd.add_argument("--jobs", "-j", type=int, default=1, help="notebooks run at once (1)")
    mutants_cmd.add_argument("--isolate", choices=["fork", "rerun"],
                             help="fork after the notebook's prefix (default) or rerun it per mutant")
    mutants_cmd.add_argument("--verbose", "-v", action="store_true", help="show the notebooks' output")
    args = parser.parse_args(argv)
    if args.command == "mutants" and not args.timeout > 0:  # also false for nan
        parser.error(f"--timeout must be a positive number of seconds, got {args.timeout}")
    if args.command == "mutants" and args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    try:
        if args.command == "mutants":
            paths = _notebook_paths(args.notebooks) if args.notebooks else solution_files(SOLUTIONS)
            return run_mutants(paths, isolate=args.isolate, timeout=args.timeout, jobs=args.jobs,
                               verbose=args.verbose)
        if args.command == "build":
            report = build(SOLUTIONS, STUDENT, force=args.force)
            for path in report.written:
                print(f"wrote {_rel(path)}")
            for path, backup in report.backups:
                print(f"saved your copy of {_rel(path)} as {_rel(backup)}")
            for path in report.skipped:
                print(f"skipped {_rel(path)}: it has your changes (edited, run or saved since it "
                      "was generated); 'build --force' resets it after saving a copy in "
                      f"{_rel(STUDENT / BACKUP)}/")
            for path in report.not_files:
                print(f"left {_rel(path)} in place: it is a folder, not a notebook; rename it "
                      "to get the course's copy")
            for path in report.orphans:
                print(f"left {_rel(path)} in place: it has no source in solutions/ "
                      "(delete it if it is not yours)")
            if not (report.written or report.skipped):
                print(f"notebooks/ is up to date with solutions/ ({len(solution_files(SOLUTIONS))} notebooks)")
            return 0
        found = problems(SOLUTIONS, STUDENT)
    except NotebookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if found:
        print("Student notebooks are out of date; run 'python -m course_utils.notebooks build' "
              "and commit notebooks/:", file=sys.stderr)
        for line in found:
            print(f"  - {line}", file=sys.stderr)
        return 1
    print(f"notebooks/ is up to date with solutions/ ({len(solution_files(SOLUTIONS))} notebooks)")
    return 0
