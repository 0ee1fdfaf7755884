"""Speed and interpolation accuracy of the emission-line library.

Prints: the time to build 50 000 models (target < 2 s), cold (first call in a fresh process,
including reading the grid) and warm; the time to load a cached library; the
leave-every-second-node-out interpolation error on the 10 MUSE lines; and how much cubic and
linear interpolation differ. Run: ``python benchmarks/library_speed.py``.
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np
from scipy.interpolate import RegularGridInterpolator

os.environ.setdefault("COURSE_UTILS_DATA", tempfile.mkdtemp(prefix="library_bench_"))

from course_utils import library as L  # noqa: E402


def timed(f, *args, repeat: int = 1, **kwargs) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = f(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, out


def leave_every_second_node_out(method: str) -> np.ndarray:
    """|log flux error| (dex) at the nodes left out of a grid with every second node kept."""
    lines = [l for l in L.MUSE_LINES if l != "Hbeta"]
    axes, cube = L.grid_cube(L.load_grid(), lines)
    half = RegularGridInterpolator(tuple(a[::2] for a in axes), cube[::2, ::2, ::2], method=method)
    index = np.indices(cube.shape[:3]).reshape(3, -1).T
    last_kept = np.array([2 * ((n - 1) // 2) for n in cube.shape[:3]])
    left_out = np.all(index <= last_kept, axis=1) & np.any(index % 2 == 1, axis=1)
    points = np.column_stack([a[index[left_out, k]] for k, a in enumerate(axes)])
    return np.abs(half(points) - cube[tuple(index[left_out].T)])


def main() -> None:
    cold, lib = timed(L.build_library, 50_000)
    print(f"build_library(50 000 models, {lib.intensities.shape[1]} lines, cubic), first call: "
          f"{cold:.2f} s (target < 2 s)")
    for lines, name in ((None, "all lines"), (L.MUSE_LINES, "10 MUSE lines")):
        for method in ("cubic", "linear"):
            warm, _ = timed(L.build_library, 50_000, lines=lines, interpolation=method, repeat=3)
            print(f"build_library(50 000, {name}, {method}), warm: {warm:.2f} s")
    first, _ = timed(L.load_library, 50_000)
    cached, _ = timed(L.load_library, 50_000, repeat=3)
    print(f"load_library(50 000): first call (build + write cache) {first:.2f} s, "
          f"from cache {cached:.2f} s")

    for method in ("linear", "cubic"):
        err = leave_every_second_node_out(method)
        per_line = np.median(err, axis=0)
        names = [l for l in L.MUSE_LINES if l != "Hbeta"]
        print(f"leave-every-second-node-out, {method}: median {np.median(err):.4f} dex, "
              f"90th percentile {np.percentile(err, 90):.3f} dex (target median < 0.02); "
              "per line: " + ", ".join(f"{n} {v:.3f}" for n, v in zip(names, per_line)))

    cubic = L.build_library(50_000, lines=L.MUSE_LINES, av_range=(0, 0))
    linear = L.build_library(50_000, lines=L.MUSE_LINES, av_range=(0, 0), interpolation="linear")
    diff = np.abs(np.log10(cubic.intensities / linear.intensities)).to_numpy()
    print(f"cubic vs linear on the MUSE lines: 99th percentile {np.percentile(diff, 99):.3f} dex, "
          f"max {diff.max():.3f} dex")


if __name__ == "__main__":
    main()
