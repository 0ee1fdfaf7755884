"""Big-data arithmetic for notebooks 01 and 09: moving data versus computing on it, k-fold
splits, the size of the chunks a cube is cut into, and the first models of notebook 01.

- :func:`transfer_time`: how long a volume of data takes to move at a given rate.
- :func:`pass_time`: how long one pass over a data set takes when the data must arrive at a
  given rate and the processor computes on them at its own rate (notebook 09).
- :func:`time_until_download_exceeds`: when an archive that doubles at a fixed pace can no
  longer be downloaded within a given time.
- :func:`measure_read_vs_compute`: time reading a freshly written file against a
  computation on the same numbers in memory, on this machine.
- :func:`schechter`, :func:`sample_schechter`: a relation with a short analytic form, the
  luminosity function of Schechter (1976), and luminosities drawn from it.
- :func:`kfold_indices`: the train/test index sets of k-fold cross-validation.
- :func:`chunk_bytes`, :func:`chunk_conditions`, :func:`largest_chunk_rows`: the bytes of a
  strip of a MUSE cube, and whether a strip size suits a cluster's memory, disk, scheduler and
  number of workers (notebook 09).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import astropy.units as u
import numpy as np
from numpy.typing import ArrayLike


def transfer_time(volume: u.Quantity, rate: u.Quantity) -> u.Quantity:
    """Time to move ``volume`` of data at ``rate``, e.g. ``transfer_time(100 * u.GB, 75 * u.MB / u.s)``.

    Decimal units (1 GB = 1000 MB), as disk and network vendors quote them; use
    ``u.GiB`` for binary ones. Returns a time quantity in seconds.
    """
    volume, rate = u.Quantity(volume), u.Quantity(rate)
    if not volume.unit.is_equivalent(u.byte) or not rate.unit.is_equivalent(u.byte / u.s):
        raise u.UnitsError(f"expected a data volume (e.g. GB) and a rate (e.g. MB/s); "
                           f"got {volume.unit} and {rate.unit}")
    return (volume / rate).to(u.s)


def pass_time(volume: u.Quantity, rate: u.Quantity, flop_rate: u.Quantity,
              ops_per_value: float = 1.0, value_bytes: int = 4, overlap: bool = True) -> u.Quantity:
    """Time of one pass over ``volume`` of numbers that arrive at ``rate`` and are computed on.

    The volume holds values of ``value_bytes`` bytes each (4: the float32 of a MUSE cube); the
    processor does ``ops_per_value`` operations on every value at ``flop_rate`` (operations per
    second, e.g. ``20e9 / u.s``). When reading and computing ``overlap`` (the next block is read
    while the processor works on this one), the slower of the two sets the time; otherwise they
    add. ``rate`` may be infinite (the data are already at the processor) and ``ops_per_value``
    zero (moving only), e.g. ``pass_time(1 * u.TB, 1 * u.Gbit / u.s, 20e9 / u.s, 0)``.
    Returns a time quantity in seconds.
    """
    flop_rate = u.Quantity(flop_rate)
    if not flop_rate.unit.is_equivalent(1 / u.s):
        raise u.UnitsError(f"expected a rate of operations per second (e.g. 1e9 / u.s); got {flop_rate.unit}")
    if ops_per_value < 0 or value_bytes <= 0:
        raise ValueError(f"need ops_per_value >= 0 and value_bytes > 0, got {ops_per_value} and {value_bytes}")
    move = transfer_time(volume, rate)
    values = u.Quantity(volume).to_value(u.byte) / value_bytes
    compute = (values * ops_per_value / flop_rate).to(u.s)
    return np.maximum(move, compute) if overlap else move + compute


def time_until_download_exceeds(volume: u.Quantity, rate: u.Quantity, doubling_time: u.Quantity,
                                limit: u.Quantity = 1 * u.yr) -> u.Quantity:
    """When does one download of a growing archive take longer than ``limit``?

    The archive holds ``volume`` today and doubles every ``doubling_time``:
    V(t) = V0 2^(t / T). Downloading it at ``rate`` takes V(t) / rate, which reaches
    ``limit`` at t = T log2(rate limit / V0). A negative result means that a download
    already takes longer than ``limit``.

    Parameters
    ----------
    volume
        Size of the archive today (e.g. ``1 * u.PB``).
    rate
        Download speed (e.g. ``1 * u.Gbit / u.s``; bits and bytes are converted).
    doubling_time
        Time in which the archive doubles (e.g. ``1 * u.yr``).
    limit
        The longest acceptable download (default one year).

    Returns
    -------
    Quantity
        The time from today, in years.
    """
    volume, rate = u.Quantity(volume), u.Quantity(rate)
    doubling_time, limit = u.Quantity(doubling_time), u.Quantity(limit)
    if not doubling_time.unit.is_equivalent(u.s) or not limit.unit.is_equivalent(u.s):
        raise u.UnitsError(f"doubling_time and limit must be times; "
                           f"got {doubling_time.unit} and {limit.unit}")
    today = transfer_time(volume, rate)
    return (doubling_time * np.log2((limit / today).to_value(u.dimensionless_unscaled))).to(u.yr)


def _evict_from_page_cache(path: Path) -> bool:
    """Ask the OS to forget a file's cached pages so the next read comes from the disk.

    Possible on Linux (``posix_fadvise``); elsewhere the read is served from memory.
    """
    if not hasattr(os, "posix_fadvise"):
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)  # pages must be written before they can be dropped
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return True


def _best_time(func, repeats: int, setup=None) -> float:
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def measure_read_vs_compute(size_mb: float = 32.0, repeats: int = 3, seed: int = 0,
                            directory: str | Path | None = None) -> dict:
    """Time reading a binary file against computing on its numbers in memory.

    A file of ``size_mb`` megabytes of random float64 numbers is written to a temporary
    folder (deleted afterwards). Then, best of ``repeats``:

    - ``read_cold_s``: read it after asking the OS to drop it from its cache (Linux only;
      NaN elsewhere), i.e. from the disk;
    - ``read_cached_s``: read it again, now served from the OS's memory cache;
    - ``compute_s``: mean and standard deviation of the numbers already in memory.

    Parameters
    ----------
    size_mb
        File size in MB (1 MB = 1e6 bytes). Keep it small: tens of MB at most.
    repeats
        Each timing is the best of this many runs.
    seed
        Seed of the random numbers.
    directory
        Where to create the temporary folder (default: the system's temp dir).

    Returns
    -------
    dict
        ``size_mb`` and the three times in seconds, plus the rates in MB/s.
    """
    if not 0 < size_mb <= 200:
        raise ValueError(f"size_mb must be in (0, 200] to keep the test file small, got {size_mb}")
    data = np.random.default_rng(seed).standard_normal(int(size_mb * 1e6) // 8)
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        path = Path(tmp) / "numbers.npy"
        np.save(path, data)

        read_cold = float("nan")
        if _evict_from_page_cache(path):
            read_cold = _best_time(lambda: np.load(path), repeats,
                                   setup=lambda: _evict_from_page_cache(path))
        read_cached = _best_time(lambda: np.load(path), repeats)
    compute = _best_time(lambda: (data.mean(), data.std()), repeats)
    mb = data.nbytes / 1e6
    return {"size_mb": mb, "read_cold_s": read_cold, "read_cached_s": read_cached,
            "compute_s": compute, "read_cold_mb_per_s": mb / read_cold,
            "read_cached_mb_per_s": mb / read_cached, "compute_mb_per_s": mb / compute}


def schechter(L: ArrayLike, phi_star: float, L_star: float, alpha: float) -> np.ndarray:
    """Schechter's (1976, ApJ 203, 297) luminosity function, phi* (L/L*)^alpha exp(-L/L*).

    A power law of slope ``alpha`` at the faint end, cut off exponentially above the
    characteristic luminosity ``L_star``; ``phi_star`` sets the normalisation (here the
    number of galaxies per unit luminosity, in whatever units ``L`` has).
    """
    x = np.asarray(L, dtype=float) / L_star
    return phi_star * x**alpha * np.exp(-x)


def sample_schechter(n: int, L_star: float, alpha: float, L_min: float, L_max: float,
                     seed: int = 0) -> np.ndarray:
    """``n`` luminosities between ``L_min`` and ``L_max`` drawn from a Schechter function.

    Inverse-transform sampling: the cumulative distribution is integrated numerically on
    a logarithmic grid (the function diverges at L = 0 when alpha <= -1, so a lower limit
    is needed) and inverted by interpolation.
    """
    if not 0 < L_min < L_max:
        raise ValueError(f"need 0 < L_min < L_max, got L_min={L_min}, L_max={L_max}")
    grid = np.geomspace(L_min, L_max, 20_000)
    pdf = schechter(grid, 1.0, L_star, alpha)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(grid))])
    return np.interp(np.random.default_rng(seed).random(n), cdf / cdf[-1], grid)


def kfold_indices(n_samples: int, n_splits: int = 5, shuffle: bool = False,
                  random_state: int | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train and test indices of k-fold cross-validation.

    The (optionally shuffled) indices are cut into ``n_splits`` consecutive folds; the
    first ``n_samples % n_splits`` folds get one extra point, as in scikit-learn's
    :class:`~sklearn.model_selection.KFold`. Each fold is the test set once and the other
    folds are the training set.

    Returns
    -------
    list of (train, test)
        One pair of sorted-by-fold index arrays per fold.
    """
    if not 2 <= n_splits <= n_samples:
        raise ValueError(f"n_splits must be between 2 and n_samples = {n_samples}, got {n_splits}")
    indices = np.arange(n_samples)
    if shuffle:
        indices = np.random.default_rng(random_state).permutation(n_samples)
    sizes = np.full(n_splits, n_samples // n_splits)
    sizes[: n_samples % n_splits] += 1
    edges = np.concatenate([[0], np.cumsum(sizes)])
    folds = []
    for start, stop in zip(edges[:-1], edges[1:]):
        test = indices[start:stop]
        train = np.concatenate([indices[:start], indices[stop:]])
        folds.append((train, test))
    return folds


# ------------------------------------------------------------------ chunks of a cube (notebook 09)


def chunk_bytes(chunk_rows: int, nx: int = 300, n_wave: int = 3681) -> int:
    """Bytes of ``DATA`` + ``STAT`` (float32) in a strip of ``chunk_rows`` rows of an ``nx``-wide cube."""
    return nx * chunk_rows * n_wave * 2 * 4


def chunk_conditions(chunk_rows: int, worker_memory: float, read_rate: float, task_overhead: float,
                     n_workers: int, nx: int = 300, n_wave: int = 3681,
                     block_rows: int | None = None) -> dict[str, bool]:
    """The four rules of thumb of notebook 09 for strips of ``chunk_rows`` rows of a cube.

    A task reads whole spectra (``DATA`` and ``STAT`` in float32, :func:`chunk_bytes`) and,
    while it computes, holds about three times that again in temporary arrays.

    - ``"fits in memory"``: 4 x the chunk's bytes fit in half of a worker's memory (bytes);
    - ``"overhead <= 1%"``: reading the chunk at ``read_rate`` (bytes/s) takes at least 100 times
      the scheduler's ``task_overhead`` (s);
    - ``"4 chunks per worker"``: the cube gives at least 4 chunks per worker, ``nx / chunk_rows >=
      4 n_workers``, so all stay busy to the end;
    - ``"whole GAME blocks"``: ``chunk_rows`` is a multiple of ``block_rows``
      (default :data:`course_utils.cube.maps.BLOCK_ROWS`), as ``run_pipeline`` requires.
    """
    if block_rows is None:
        from course_utils.cube.maps import BLOCK_ROWS as block_rows
    size = chunk_bytes(chunk_rows, nx, n_wave)
    return {"fits in memory": 4 * size <= worker_memory / 2,
            "overhead <= 1%": size / read_rate >= 100 * task_overhead,
            "4 chunks per worker": nx / chunk_rows >= 4 * n_workers,
            "whole GAME blocks": chunk_rows % block_rows == 0}


def largest_chunk_rows(worker_memory: float, read_rate: float, task_overhead: float, n_workers: int,
                       nx: int = 300, n_wave: int = 3681, block_rows: int | None = None) -> int | None:
    """The largest ``chunk_rows`` (at most ``nx``) meeting every :func:`chunk_conditions`, or None.

    The largest, because among chunks that fit and keep every worker busy, bigger ones pay the
    per-task costs (scheduling, opening the file, setting up the fit) the fewest times.
    """
    valid = [rows for rows in range(1, nx + 1)
             if all(chunk_conditions(rows, worker_memory, read_rate, task_overhead, n_workers,
                                     nx, n_wave, block_rows).values())]
    return max(valid) if valid else None
