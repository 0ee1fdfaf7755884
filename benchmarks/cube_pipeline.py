"""Benchmark of the cube pipeline on the synthetic Henize 2-10 cube (prints figures, exits 0).

Target (course issue): a 100 x 100-spaxel cube over the full MUSE range -- read, line maps,
GAME with 100 Monte Carlo draws, property maps and radial profiles -- in <= 60 s and
<= 4 GB peak memory on a 2-core machine; plus the time of the dask-chunked run.

    python benchmarks/cube_pipeline.py [--size 100] [--models 20000] [--no-dask]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def peak_gb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024**2  # ru_maxrss is in kB on Linux


def run(args, tmp: Path) -> None:
    from course_utils.cube import (fit_line_maps, game_maps, radial_profile, read_muse_cube,
                                   read_truth, run_pipeline)
    from course_utils.game import Game
    from course_utils.library import MUSE_LINES, build_library

    t0 = time.perf_counter()
    # generate in a child process so that this process's peak memory is the pipeline's own
    cube_path, truth_path = tmp / "he2-10.fits", tmp / "he2-10_truth.fits"
    subprocess.run([sys.executable, "-c", "from course_utils.cube import make_henize2_10_cube; "
                    f"make_henize2_10_cube({str(cube_path)!r}, size={args.size})"], check=True)
    print(f"generate {args.size}x{args.size}x3681 cube (incl. interpreter start): "
          f"{time.perf_counter() - t0:6.1f} s ({cube_path.stat().st_size / 1e6:.0f} MB on disk; "
          "target < 60 s)")

    t0 = time.perf_counter()
    # the cube's dusty centre reaches A_V ~ 5 mag: the library must cover it
    library = build_library(args.models, lines=list(MUSE_LINES), seed=0, av_range=(0.0, 6.0))
    game = Game(n_draws=100, random_state=0).fit(library)
    print(f"fit GAME on {args.models} models (not part of the target): "
          f"{time.perf_counter() - t0:6.1f} s")
    rss_before = peak_gb()

    timings = {}
    start = t0 = time.perf_counter()
    cube = read_muse_cube(cube_path)
    timings["read (memory-mapped, NaN scan)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    lines = fit_line_maps(cube, lines=MUSE_LINES)
    timings["line maps (10 lines, all spaxels)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    props = game_maps(lines, game)
    n_spec = int(np.isfinite(props["12+log(O/H)_mean"]).sum())
    timings[f"GAME, 100 draws ({n_spec} spaxels)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    props.write(tmp / "properties.fits")
    lines.write(tmp / "lines.fits")
    for prop in game.properties:
        radial_profile(props[f"{prop}_mean"], props.wcs, bin_width=0.4)
    timings["write maps + radial profiles"] = time.perf_counter() - t0
    total = time.perf_counter() - start
    for name, seconds in timings.items():
        print(f"  {name:40s} {seconds:6.1f} s")
    print(f"pipeline total: {total:6.1f} s (target <= 60 s); peak memory {peak_gb():.2f} GB "
          f"(before the pipeline {rss_before:.2f} GB; target <= 4 GB)")

    truth = read_truth(truth_path)
    knots = lines.snr("Halpha") > 200
    for prop in game.properties:
        err = np.abs(props[f"{prop}_mean"] - truth[prop])[knots]
        print(f"  median |GAME - truth| in the high-S/N knots ({knots.sum()} spaxels, "
              f"H-alpha S/N > 200) {prop:12s} {np.nanmedian(err):.3f}")

    if args.no_dask:
        return
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        print(f"dask local cluster (2 worker processes) start-up: {time.perf_counter() - t0:6.1f} s")
        for label in ("first run (workers import the course)", "second run"):
            t0 = time.perf_counter()
            chunked = run_pipeline(cube_path, game, scheduler=client, chunk_rows=16)
            print(f"dask-chunked {label}, strips of 16 rows: {time.perf_counter() - t0:6.1f} s")
    same = all(np.array_equal(chunked.properties[k], props[k], equal_nan=True) for k in props.keys())
    print(f"chunked result identical to in-memory: {same}; "
          f"worker peak memory {peak_gb(resource.RUSAGE_CHILDREN):.2f} GB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--models", type=int, default=20_000, help="library size for GAME")
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cube_bench_"))
    try:
        run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
