"""Mutation tests, running: one worker process per notebook runs it once and forks at each
exercise (or reruns it per mutant), and the report says which mutants were caught (the
conventions: :mod:`course_utils.notebooks`)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.notebooks.copies import ROOT, _rel
from course_utils.notebooks.markers import NotebookError
from course_utils.notebooks.mutants import Mutant, MutantPlan, mutant_plan
from course_utils.threads import single_threaded


def _shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    shell = InteractiveShell.instance(config=config)
    shell.display_formatter.active_types = ["text/plain"]  # as a terminal: no PNG rendering
    return shell


def _run_cell(shell, source: str) -> BaseException | None:
    result = shell.run_cell(source, store_history=False)
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")  # as the inline backend does after each cell
    return result.error_before_exec or result.error_in_exec


def _from_checks(exc: BaseException) -> bool:
    """Was ``exc`` raised by a self-check of course_utils.checks (strict mode)?"""
    tb = exc.__traceback__
    if not isinstance(exc, AssertionError) or tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_globals.get("__name__") == "course_utils.checks"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _run_scope(shell, cells: list[str | None], mutant: dict) -> dict:
    """Run the mutated cell and the rest of its scope; say how the mutant fared."""
    for j in range(mutant["cell"], mutant["last"] + 1):
        source = mutant["source"] if j == mutant["cell"] else cells[j]
        if source is None:
            continue
        exc = _run_cell(shell, source)
        if exc is None:
            continue
        if _from_checks(exc):
            return {"outcome": "caught", "cell": j, "detail": _first_line(exc)}
        return {"outcome": "crashed", "cell": j, "detail": _first_line(exc)}
    return {"outcome": "survived"}


def _forked(shell, cells: list[str | None], mutant: dict, timeout: float, quiet: bool) -> dict:
    """Run :func:`_run_scope` in a forked copy of this process; the parent is unchanged."""
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (dask): see docstring
        pid = os.fork()
    if pid == 0:  # the copy: run, report through the pipe, exit without cleanup
        status = 0
        try:
            os.close(read_end)
            if quiet:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
            result = _run_scope(shell, cells, mutant)
        except BaseException as exc:  # noqa: BLE001 - reported, never raised in the copy
            result = {"outcome": "crashed", "detail": _first_line(exc)}
        try:
            data = json.dumps(result).encode()
            while data:
                data = data[os.write(write_end, data):]
        except BaseException:  # noqa: BLE001
            status = 1
        os._exit(status)  # no atexit handlers: they would close the parent's clusters
    os.close(write_end)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            ready = select.select([read_end], [], [], max(remaining, 0))[0] if remaining > 0 else []
            if not ready:
                os.kill(pid, signal.SIGKILL)
                return {"outcome": "timed out", "detail": f"after {timeout:g} s"}
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    if not chunks:
        return {"outcome": "crashed", "detail": "the process running it died"}
    return json.loads(b"".join(chunks))


def _worker(spec_path: str, results_path: str) -> None:
    """Run one notebook's plan (see :func:`_run_plan`); write one JSON line per event."""
    spec = json.loads(Path(spec_path).read_text())
    from course_utils import checks

    checks.strict = True
    shell = _shell()
    cells, mutants = spec["cells"], spec["mutants"]
    with open(results_path, "a", encoding="utf-8") as out:
        def emit(event: dict) -> None:
            out.write(json.dumps(event) + "\n")
            out.flush()

        for j in range(spec["run_until"] + 1):
            for k, mutant in enumerate(mutants):
                if mutant["cell"] != j:
                    continue
                start = time.perf_counter()
                if spec["isolate"] == "fork":
                    result = _forked(shell, cells, mutant, spec["timeout"], spec["quiet"])
                else:  # this process runs one mutant only, then stops
                    result = _run_scope(shell, cells, mutant)
                emit({"mutant": k, "seconds": time.perf_counter() - start, **result})
                if spec["isolate"] != "fork":
                    return
            if cells[j] is not None:
                exc = _run_cell(shell, cells[j])
                if exc is not None:
                    emit({"error": j, "detail": _first_line(exc)})
                    return
        emit({"done": True})


@dataclass
class NotebookResult:
    """How the mutants of one notebook fared."""

    plan: MutantPlan
    outcomes: dict[int, dict] = field(default_factory=dict)  # mutant index -> outcome
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def caught(self) -> int:
        return sum(o["outcome"] == "caught" for o in self.outcomes.values())


def _run_worker(plan: MutantPlan, mutants: list[Mutant], isolate: str, timeout: float,
                verbose: bool) -> tuple[list[dict], str, int | None]:
    """Run a worker process on ``mutants`` of ``plan``; return its events and output."""
    run_until = plan.run_until if isolate == "fork" else mutants[0].cell
    spec = {"cells": plan.cells, "mutants": [m.__dict__ for m in mutants], "run_until": run_until,
            "isolate": isolate, "timeout": timeout, "quiet": not verbose}
    env = single_threaded(dict(  # fork-safe BLAS; notebooks of a run share the cores
        os.environ, MPLBACKEND="Agg",
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])))
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        spec_path, results_path = Path(tmp, "spec.json"), Path(tmp, "results.jsonl")
        spec_path.write_text(json.dumps(spec))
        results_path.touch()
        command = [sys.executable, "-c", "import sys; from course_utils.notebooks.runner import _worker; "
                   "_worker(sys.argv[1], sys.argv[2])", str(spec_path), str(results_path)]
        try:
            proc = subprocess.run(command, cwd=plan.path.parent, env=env, stdin=subprocess.DEVNULL,
                                  stdout=None if verbose else subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True,
                                  timeout=None if isolate == "fork" else timeout)
            output, status = proc.stdout or "", proc.returncode
        except subprocess.TimeoutExpired as exc:
            output, status = "", None
            if isinstance(exc.output, (str, bytes)):
                output = exc.output if isinstance(exc.output, str) else exc.output.decode()
        events = [json.loads(line) for line in results_path.read_text().splitlines() if line]
    return events, output, status


def _run_plan(plan: MutantPlan, isolate: str, timeout: float, verbose: bool) -> NotebookResult:
    result = NotebookResult(plan)
    start = time.perf_counter()
    groups = [list(range(len(plan.mutants)))] if isolate == "fork" else [[k] for k in range(len(plan.mutants))]
    for group in groups:
        events, output, status = _run_worker(plan, [plan.mutants[k] for k in group], isolate,
                                             timeout, verbose)
        for event in events:
            if "mutant" in event:
                result.outcomes[group[event["mutant"]]] = event
            elif "error" in event:
                j = event["error"]
                result.errors.append(f"cell {j} (id {plan.cell_ids[j]}) fails in the solutions "
                                     f"notebook itself: {event['detail']}")
        finished = events and ("done" in events[-1] if isolate == "fork" else "mutant" in events[-1])
        if status is None and isolate != "fork":
            result.outcomes[group[0]] = {"outcome": "timed out", "detail": f"after {timeout:g} s"}
        elif not result.errors and not finished:
            result.errors.append(f"the run stopped unexpectedly (exit status {status})")
        if result.errors:
            if output:
                result.errors[-1] += "; its output ended with:\n" + "\n".join(output.splitlines()[-20:])
            break
    result.seconds = time.perf_counter() - start
    return result


def run_mutants(paths: list[Path], *, isolate: str | None = None, timeout: float = 300.0,
                jobs: int = 1, verbose: bool = False, out=None) -> int:
    """Run the mutants of ``paths``; print a report; return the exit status (0, 1 or 2)."""
    out = out or sys.stdout
    isolate = isolate or ("fork" if hasattr(os, "fork") else "rerun")
    plans, failed = [], False
    for path in paths:
        try:
            plans.append(mutant_plan(path))
        except NotebookError as exc:
            print(f"error: {exc}", file=out)
            failed = True
    if failed:
        return 2

    def run(plan: MutantPlan) -> NotebookResult:
        if not plan.mutants:
            return NotebookResult(plan)
        return _run_plan(plan, isolate, timeout, verbose)

    start = time.perf_counter()
    total = caught = 0
    errors = False
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for result in pool.map(run, plans):
            plan = result.plan
            n = len(plan.mutants)
            total += n
            caught += result.caught
            timing = f" ({result.seconds:.1f} s)" if n else ""
            print(f"{_rel(plan.path)}: {n} mutants, {result.caught} caught{timing}", file=out)
            for message in result.errors:
                print(f"  error: {message}", file=out)
                errors = True
            for k, mutant in enumerate(plan.mutants):
                o = result.outcomes.get(k)
                if o is None or o["outcome"] == "caught":
                    continue
                where = f" in cell {o['cell']}" if "cell" in o else ""
                detail = f": {o['detail']}" if o.get("detail") else ""
                print(f"  NOT CAUGHT: cell {mutant.cell} (id {plan.cell_ids[mutant.cell]}), mutant "
                      f"{mutant.description!r}: {o['outcome']}{where}{detail}", file=out)
            for note in plan.notes:
                print(f"  note: {note}", file=out)
            out.flush()
    print(f"total: {total} mutants, {caught} caught in {len(plans)} notebooks "
          f"({time.perf_counter() - start:.0f} s)", file=out)
    if errors:
        return 2
    return 0 if caught == total else 1
