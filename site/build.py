"""Build the course website: ``.venv/bin/python site/build.py`` (needs ``pip install -e ".[site]"``).

1. Executes every notebook, the student copies generated afresh from ``solutions/`` (the
   pages students read, without answers) and the instructors' ``solutions/``, in parallel,
   each with one BLAS thread. A notebook whose source and ``course_utils`` are unchanged
   since its last execution is not run again (``site/_build/executed/``).
2. Stages README (home page and syllabus), the instructor guide, the lecture map and the
   executed notebooks, each with a link to download the clean notebook, writes the table of
   contents (every ``NN_name`` notebook of ``solutions/``, found by pattern) and runs
   Jupyter Book 1 with ``site/_config.yml``.
3. Exits 1 when a cell failed to execute, or when Jupyter Book's log reports an execution
   failure or a broken reference (its exit status does not). The site is written to
   ``site/_build/html``; open ``site/_build/html/index.html``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
BUILD = SITE / "_build"
PARTS = {"notebooks": "The course", "solutions": "Solutions (for instructors)"}
#: Seconds a cell may run: the test suite's nbval limit. It also bounds a wait seen after the
#: widget cells of 02 and 03 under load: the kernel idle, its reply to the cell stamped at once,
#: yet the next cell started only when the timeout ran out (600 s then), with no error.
CELL_TIMEOUT = 300
# what Jupyter Book's log says when a page is not what it should be
LOG_FAILURES = re.compile(r"Execution Failed|CellExecutionError|Traceback|undefined label|"
                          r"reference target not found|unknown document|Could not lex literal")


def _fingerprint(source: Path) -> str:
    digest = hashlib.sha256(source.read_bytes())
    for module in sorted((ROOT / "course_utils").rglob("*.py")):
        digest.update(module.read_bytes())
    return digest.hexdigest()


def _execute(job: tuple[str, str, str, str]) -> tuple[str, str | None, float]:
    """Execute one notebook into ``dest``; returns (name, error or None, seconds)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    part, source, dest, fingerprint = job
    start = time.monotonic()
    if part == "notebooks":  # the student copy, generated afresh (students' saved work is not read)
        from course_utils.notebooks import write_student_copy

        with tempfile.TemporaryDirectory() as folder:
            nb = nbformat.read(write_student_copy(Path(source), Path(folder)), as_version=4)
    else:
        nb = nbformat.read(source, as_version=4)
    error = None
    try:
        NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                       resources={"metadata": {"path": str(ROOT / part)}}).execute()
    except CellExecutionError as exc:
        lines = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()  # without colour codes
        error = lines[-1] if lines else type(exc).__name__
    except (CellTimeoutError, DeadKernelError) as exc:  # named here, not a crash of the build
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
    nb.metadata["course_fingerprint"] = fingerprint
    if error is None:
        nbformat.write(nb, dest)
    else:  # no page from an older run
        Path(dest).unlink(missing_ok=True)
    return f"{part}/{Path(source).name}", error, time.monotonic() - start


def execute_all(jobs: int) -> list[str]:
    """Execute what changed; returns the failures."""
    todo = []
    for part in PARTS:
        (BUILD / "executed" / part).mkdir(parents=True, exist_ok=True)
        for source in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
            dest = BUILD / "executed" / part / source.name
            fingerprint = _fingerprint(source)
            if dest.exists() and json.loads(dest.read_text())["metadata"].get("course_fingerprint") == fingerprint:
                continue
            todo.append((part, str(source), str(dest), fingerprint))
    print(f"executing {len(todo)} notebooks on {jobs} processes", flush=True)
    from course_utils.threads import single_threaded

    single_threaded(os.environ, keep=False)  # the kernels inherit it
    failures = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for name, error, seconds in pool.map(_execute, todo):
            print(f"  {name}: {'FAILED: ' + error if error else 'ok'} ({seconds:.0f} s)", flush=True)
            if error:
                failures.append(f"{name}: {error}")
    return failures


def _with_download_link(executed: Path, part: str, dest: Path) -> None:
    """Copy an executed notebook, a download link to the clean notebook under its title."""
    nb = json.loads(executed.read_text())
    what = "the notebook with answers" if part == "solutions" else "this notebook, to run it yourself"
    link = f"{{download}}`Download {what} ({executed.name}) <../downloads/{part}/{executed.name}>`"
    first = nb["cells"][0]  # the title cell: the link goes right under the title
    lines = "".join(first["source"]).splitlines()
    title = next((k for k, line in enumerate(lines) if line.startswith("# ")), 0)
    if part == "solutions":  # told apart from the student page in the menu and in search results
        lines[title] = lines[title].replace("# ", "# Solutions: ", 1)
    first["source"] = "\n".join(lines[:title + 1] + ["", link, ""] + lines[title + 1:])
    dest.write_text(json.dumps(nb))
    downloads = dest.parent.parent / "downloads" / part
    downloads.mkdir(parents=True, exist_ok=True)
    if part == "notebooks":  # what a student starts from: the generated copy, without outputs
        from course_utils.notebooks import write_student_copy

        write_student_copy(ROOT / "solutions" / executed.name, downloads)
    else:
        shutil.copyfile(ROOT / "solutions" / executed.name, downloads / executed.name)


def stage() -> Path:
    """The book's source folder: pages, executed notebooks, downloads, table of contents."""
    source = BUILD / "source"
    shutil.rmtree(source, ignore_errors=True)
    (source / "docs").mkdir(parents=True)
    shutil.copyfile(ROOT / "README.md", source / "README.md")
    for page in ("instructor_guide.md", "lecture_map.md"):
        shutil.copyfile(ROOT / "docs" / page, source / "docs" / page)
    toc = ["format: jb-book", "root: README", "parts:"]
    for part, caption in PARTS.items():
        (source / part).mkdir()
        toc += [f"  - caption: {caption}", "    chapters:"]
        if part == "solutions":
            toc += ["      - file: docs/instructor_guide", "      - file: docs/lecture_map"]
        for executed in sorted((BUILD / "executed" / part).glob("[0-9][0-9]_*.ipynb")):
            if (ROOT / "solutions" / executed.name).exists():
                _with_download_link(executed, part, source / part / executed.name)
                toc.append(f"      - file: {part}/{executed.stem}")
    (source / "_toc.yml").write_text("\n".join(toc) + "\n")
    for name in ("_config.yml", "favicon.svg"):
        shutil.copyfile(SITE / name, source / name)
    return source


HOME = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Machine Learning on Galaxy Spectra</title>
<link rel="icon" href="_static/favicon.svg" type="image/svg+xml">
<meta http-equiv="Refresh" content="0; url={target}"></head>
<body><p>The course starts at <a href="{target}">{target}</a>.</p></body></html>
"""


def _home(html: Path) -> None:
    """Jupyter Book writes ``index.html`` as a bare refresh tag, without the site's icon, so a
    browser opening it asks for ``/favicon.ico``, which does not exist: an error in its console
    (logged or not, depending on how fast the refresh is). Write it as a page with both."""
    index = html / "index.html"
    text = index.read_text() if index.exists() else ""
    match = re.search(r'url=([^"\s]+)"', text)
    if match and "<link" not in text:
        index.write_text(HOME.format(target=match.group(1)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="notebooks executed at once (default: 2)")
    args = parser.parse_args(argv)
    start = time.monotonic()
    failures = execute_all(args.jobs)
    source = stage()
    log = BUILD / "jupyter-book.log"
    with open(log, "w") as out:
        status = subprocess.call([str(Path(sys.executable).parent / "jupyter-book"), "build", str(source),
                                  "--builder", "html"], stdout=out, stderr=subprocess.STDOUT)
    failures += [f"jupyter-book log: {line.strip()}" for line in log.read_text().splitlines()
                 if LOG_FAILURES.search(line)]
    if status != 0:
        failures.append(f"jupyter-book exited with status {status}")
    shutil.rmtree(BUILD / "html", ignore_errors=True)
    if (source / "_build" / "html").exists():
        shutil.move(source / "_build" / "html", BUILD / "html")
        _home(BUILD / "html")
    print(f"website built in {time.monotonic() - start:.0f} s: {BUILD / 'html' / 'index.html'} (log: {log})")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
