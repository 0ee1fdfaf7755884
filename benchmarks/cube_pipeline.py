"""Benchmark of the cube pipeline on the synthetic Henize 2-10 cube (prints figures, exits 0).

Targets (course issue 13), for a full MUSE field (``--size 300``: 300 x 300 x 3681) on a
2-core machine:

- line maps + GAME + maps in <= 10x the time of reading DATA and STAT once;
- <= 1 GB of program (anonymous) memory: memory-mapped cube pages aside;
- dask with 2 local workers in <= 0.6x the in-memory time;
- generation of the cube with <= 2.5 GB peak memory;
- (course issue 25) lines + calibrated noise-aware GAME <= 1.5x lines + noise-free GAME, on the
  100 x 100 class cube: ``--size 100 --game compare``.

It also prints GAME's accuracy over all spaxels and over the high-S/N knots.

    python benchmarks/cube_pipeline.py [--size 300] [--models 20000] [--game noise-aware]
                                       [--no-dask] [--chunk-rows 32] [--keep DIR] [--repeats 3]
                                       [--survey]

The in-memory run (from the estimator as fitted) is compared with dask's: its first run on new
workers (which pay for their imports and first calls), then ``--repeats`` further runs on the
same workers, as a course or a survey keeps its cluster for cube after cube. Each of those is
paired with an in-memory run just before it, and the median of the pairs' ratios is the figure:
this machine's speed drifts by tens of percent within minutes, so runs far apart in time do not
compare. GAME's preparation for a field (its noise-aware fine-tune and calibration) needs the
whole field's line errors, so on one field it runs between dask's two parallel rounds;
``--survey`` also times two different fields in one call, where it overlaps the other field's
line fitting.

``--game none`` times the line maps alone; ``--game compare`` times, in memory and for
``--repeats`` rounds, the line maps alone, then with noise-free and with noise-aware GAME (each on
a fresh copy of its fitted estimator, so each trains and calibrates for the cube; every other
round in reverse order), and prints the ratio of the medians. Times measured on a busy machine
are upper bounds: the script prints the load average next to them.
"""

from __future__ import annotations

import argparse
import copy
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

TARGETS = {"pipeline / read": 10.0, "program memory GB": 1.0, "dask / in-memory": 0.6,
           "generation peak GB": 2.5, "noise-aware / noise-free": 1.5}


class AnonymousMemory:
    """Peak of this process's anonymous resident memory (RssAnon), sampled every 20 ms:
    the program's own arrays, not the pages of memory-mapped files."""

    def __init__(self):
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def now() -> float:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("RssAnon"):
                    return int(line.split()[1]) / 1024**2
        return float("nan")

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def load() -> str:
    return "load average %.1f %.1f %.1f" % os.getloadavg()


def drop_from_cache(path: Path) -> None:
    if hasattr(os, "posix_fadvise"):
        with open(path, "rb") as fh:
            os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def read_once(path: Path) -> float:
    """Seconds to read DATA and STAT once, in blocks of channels, from the page cache."""
    from astropy.io import fits

    start = time.perf_counter()
    with fits.open(path, memmap=True) as hdul:
        for name in ("DATA", "STAT"):
            data = hdul[name].data
            for c in range(0, data.shape[0], 256):
                np.asarray(data[c:c + 256], dtype=np.float32).sum()
    return time.perf_counter() - start


def make_game(kind: str, n_models: int):
    from course_utils.game import Game
    from course_utils.library import MUSE_LINES, build_library

    if kind == "none":
        return None
    # the cube's dusty centre reaches A_V ~ 5 mag: the library must cover it
    library = build_library(n_models, lines=list(MUSE_LINES), seed=0, av_range=(0.0, 6.0))
    return Game(n_draws=100, random_state=0, noise_aware=(kind == "noise-aware")).fit(library)


def generate(cube_path: Path, size: int, **options) -> None:
    """Write the synthetic cube (``make_henize2_10_cube`` options), unless it exists, in a child
    process so that its peak memory is measured on its own."""
    if cube_path.exists():
        return
    t0 = time.perf_counter()
    code = ("import resource; from course_utils.cube import make_henize2_10_cube; "
            f"make_henize2_10_cube({str(cube_path)!r}, size={size}, **{options!r}); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    peak = int(out.stdout.split()[-1]) / 1024**2
    print(f"generate {cube_path.name} (incl. interpreter start) {time.perf_counter() - t0:7.1f} s, "
          f"{cube_path.stat().st_size / 1e9:.2f} GB on disk, peak memory {peak:.2f} GB "
          f"(target <= {TARGETS['generation peak GB']} GB)   [{load()}]")


def run(args, tmp: Path) -> None:
    from course_utils.cube import read_truth, run_pipeline
    from course_utils.cube.maps import radial_profile

    print(f"{args.size} x {args.size} x 3681 cube, {load()}")
    cube_path = tmp / "he2-10.fits"
    truth_path = tmp / "he2-10_truth.fits"
    generate(cube_path, args.size)

    if args.game == "compare":
        compare(cube_path, args)
        return
    t0 = time.perf_counter()
    game = make_game(args.game, args.models)
    if game is not None:
        print(f"fit GAME ({args.game}) on {args.models} models (not part of the target): "
              f"{time.perf_counter() - t0:6.1f} s")
        if game.noise_aware is True and not hasattr(game, "prepare"):
            print("  note: this GAME has no prepare(): with noise_aware=True it trains its "
                  "models again for every block of rows")

    drop_from_cache(cube_path)
    t_disk = read_once(cube_path)  # from disk, as the first run on a new cube reads it
    t_read = min(read_once(cube_path) for _ in range(2))  # the runs below read from the cache
    print(f"read DATA and STAT once: {t_disk:6.2f} s from disk, {t_read:6.2f} s from the "
          "page cache")

    # the dask run starts from the estimator as fitted, not from one the in-memory run has
    # already trained and calibrated for this cube's noise
    fresh = copy.deepcopy(game)
    with AnonymousMemory() as memory:
        base = memory.now()
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        result = run_pipeline(cube_path, game)
        t_lines_game = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        t0 = time.perf_counter()
        result.write(tmp / "out")
        if result.properties is not None:
            for prop in game.properties:
                radial_profile(result.properties[f"{prop}_mean"], result.properties.wcs)
        t_maps = time.perf_counter() - t0
    total = t_lines_game + t_maps

    def in_memory() -> float:
        t0 = time.perf_counter()
        run_pipeline(cube_path, copy.deepcopy(fresh))
        return time.perf_counter() - t0

    # with dask, the further in-memory runs alternate with dask's (below)
    memory_runs = [t_lines_game] + [in_memory() for _ in range(args.repeats - 1 if args.no_dask
                                                                else 0)]
    t_memory = float(np.median(memory_runs))
    print(f"in memory: lines{' + GAME' if game else ''} {t_lines_game:6.1f} s (CPU {cpu:.1f} s), "
          f"write maps + profiles {t_maps:5.1f} s, total {total:6.1f} s = "
          f"{total / t_read:5.1f}x the cached read, {total / t_disk:4.1f}x the read from disk "
          f"(target <= {TARGETS['pipeline / read']:g}x; the issue quotes ~20 s for a 300 x 300 "
          f"field)   [{load()}]")
    if args.no_dask:
        print(f"  lines{' + GAME' if game else ''} in memory, {args.repeats} runs: median "
              f"{t_memory:.1f} s (runs: {', '.join(f'{v:.1f}' for v in memory_runs)})")
    print(f"  program memory: peak RssAnon {memory.peak:.2f} GB (before {base:.2f} GB; target "
          f"<= {TARGETS['program memory GB']:g} GB); peak RSS incl. mapped cube pages "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.2f} GB")
    detected = np.isfinite(result.lines.velocity)
    print(f"  H-alpha detected in {detected.sum()} of {detected.size} spaxels")

    truth = read_truth(truth_path)
    if result.properties is not None:
        knots = result.lines.snr("Halpha") > 200
        for prop in game.properties:
            if prop not in truth:
                continue
            est = result.properties[f"{prop}_mean"]
            ok = np.isfinite(est)
            err = (est - truth[prop])
            print(f"  GAME {prop:12s} RMSE all {np.sqrt(np.mean(err[ok] ** 2)):.3f} "
                  f"({ok.sum()} spaxels) | knots {np.sqrt(np.mean(err[ok & knots] ** 2)):.3f} "
                  f"({(ok & knots).sum()}, H-alpha S/N > 200)")

    if args.no_dask:
        return
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=":0")
    with cluster, Client(cluster) as client:
        client.run(__import__, "course_utils.cube")
        if game is not None:
            client.run(__import__, "course_utils.game")
        dask_runs = []
        for k in range(1 + args.repeats):
            if k:  # the machine's speed drifts: each warm dask run is paired with an in-memory one
                memory_runs.append(in_memory())
            t0 = time.perf_counter()
            chunked = run_pipeline(cube_path, copy.deepcopy(fresh), scheduler=client,
                                   chunk_rows=args.chunk_rows)
            dask_runs.append(time.perf_counter() - t0)
        worker_peak = client.run(lambda: AnonymousMemory.now())
        report_dask(result, chunked, memory_runs, dask_runs, worker_peak, game, args)
        if args.survey:
            survey(client, [cube_path, tmp / "he2-10_uniform.fits"], fresh, args)


def report_dask(result, chunked, memory_runs, dask_runs, worker_peak, game, args) -> None:
    same = np.array_equal(chunked.lines.flux, result.lines.flux, equal_nan=True) and (
        result.properties is None or all(
            np.array_equal(chunked.properties[k], result.properties[k], equal_nan=True)
            for k in result.properties.keys()))
    paired = np.divide(dask_runs[1:], memory_runs[1:])
    print(f"  lines{' + GAME' if game else ''} in memory, {len(memory_runs)} runs: median "
          f"{np.median(memory_runs):.1f} s (runs: {', '.join(f'{v:.1f}' for v in memory_runs)})")
    print(f"dask, 2 local workers, strips of {args.chunk_rows} rows: first run on new workers "
          f"{dask_runs[0]:5.1f} s = {dask_runs[0] / memory_runs[0]:.2f}x the first in-memory run; then "
          f"{args.repeats} runs, each after an in-memory run: "
          f"{', '.join(f'{v:.1f}' for v in dask_runs[1:])} s, "
          f"ratios {', '.join(f'{v:.2f}' for v in paired)}: median {np.median(paired):.2f}x "
          f"(target <= {TARGETS['dask / in-memory']:g}x); identical result: {same}; worker "
          f"RssAnon at the end {max(worker_peak.values()):.2f} GB   [{load()}]")


def survey(client, paths: list[Path], game, args) -> None:
    """Two different fields in one call, in memory and on dask: there each field's GAME
    preparation (serial) overlaps the other's line fitting. The second field has the uniform
    metallicity and another noise seed, so it has its own noise level and trains its own model."""
    from course_utils.cube import run_pipeline

    generate(paths[1], args.size, seed=1, metallicity="uniform")
    pairs = []
    for _ in range(args.repeats):
        fitted = copy.deepcopy(game)
        t0 = time.perf_counter()
        run_pipeline(paths, fitted)
        pairs.append([time.perf_counter() - t0])
        t0 = time.perf_counter()
        run_pipeline(paths, copy.deepcopy(game), scheduler=client, chunk_rows=args.chunk_rows)
        pairs[-1].append(time.perf_counter() - t0)
    levels = sum(key[1] is not None for key in fitted.models_) if game is not None else 0
    ratios = [d / m for m, d in pairs]
    print(f"two fields in one call ({levels} noise levels trained): "
          f"{', '.join(f'{m:.1f} s in memory, {d:.1f} s on dask' for m, d in pairs)}; ratios "
          f"{', '.join(f'{r:.2f}' for r in ratios)}: median {np.median(ratios):.2f}x   [{load()}]")


def compare(cube_path: Path, args) -> None:
    """Per-cube cost of noise-aware against noise-free GAME (both calibrated), in memory."""
    from course_utils.cube import run_pipeline

    games = {kind: make_game(kind, args.models) for kind in ("noise-free", "noise-aware")}
    run_pipeline(cube_path, None)  # the runs below read the cube from the page cache
    times: dict[str, list[float]] = {"lines": [], "noise-free": [], "noise-aware": []}
    for round_ in range(args.repeats):
        # every other round in reverse, so that no kind always runs after the same one
        for kind in list(times)[::1 if round_ % 2 == 0 else -1]:
            game = None if kind == "lines" else copy.deepcopy(games[kind])
            t0 = time.perf_counter()
            run_pipeline(cube_path, game)
            times[kind].append(time.perf_counter() - t0)
    median = {kind: float(np.median(t)) for kind, t in times.items()}
    for kind, t in times.items():
        label = "lines" if kind == "lines" else f"lines + {kind} GAME"
        print(f"{label:26s} median {median[kind]:6.2f} s  (runs: "
              f"{', '.join(f'{v:.2f}' for v in t)})")
    extra = np.subtract(times["noise-aware"], times["noise-free"])
    print(f"noise-aware / noise-free: {median['noise-aware'] / median['noise-free']:.2f} (target "
          f"<= {TARGETS['noise-aware / noise-free']:g}); noise-aware costs "
          f"{np.median(extra):.2f} s "
          f"more per cube (median of the rounds' differences)   [{load()}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=300)
    parser.add_argument("--models", type=int, default=20_000, help="library size for GAME")
    parser.add_argument("--game", choices=("noise-aware", "noise-free", "none", "compare"),
                        default="noise-aware")
    parser.add_argument("--repeats", type=int, default=3,
                        help="rounds of --game compare; warm dask runs, each paired with an "
                             "in-memory run")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--survey", action="store_true",
                        help="also time two different fields in one call (makes a second cube)")
    parser.add_argument("--chunk-rows", type=int, default=32, help="rows per dask line-fit task")
    parser.add_argument("--keep", type=Path, help="folder for the cube (reused if present)")
    args = parser.parse_args()
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="cube_bench_"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        run(args, tmp)
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
