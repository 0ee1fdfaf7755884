"""The whole cube pipeline -- read, line maps, GAME per spaxel -- in memory or on dask.

The chunked version splits the cube into strips of image rows and works in two rounds of
tasks. First each task opens the FITS file itself (memory-mapped, reading only the channels
around the lines) and fits the lines of its strip, so the cube never has to fit in memory and
many cubes can be processed by one cluster. The line maps (small) come back, GAME is prepared
once on every spaxel of the cube (``game.prepare``, when the estimator has it: its per-pattern
models are trained and calibrated once for the data set), and a second round of tasks runs
GAME on the strips. Every spaxel is fitted independently and GAME is called on the same blocks
of rows in both cases (:func:`~course_utils.cube.maps.game_maps`), so the chunked result is
identical to the in-memory one for the same ``random_state``.

Using a real cluster: start a scheduler and workers (``dask scheduler`` on one machine,
``dask worker tcp://<scheduler-host>:8786`` on each worker machine, all with this course
installed and the cube files at the same path), then pass the address::

    result = run_pipeline(path, game, scheduler="tcp://<scheduler-host>:8786")

or an existing :class:`distributed.Client`. ``scheduler="local"`` starts a
:class:`distributed.LocalCluster` on this machine for the duration of the call.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..library import MUSE_LINES
from .lines import LineMaps, fit_line_maps, warn_if_undetected
from .maps import BLOCK_ROWS, PropertyMaps, game_lines, game_maps, prepare_game
from .muse import read_muse_cube
from .henize2_10 import REDSHIFT


@dataclass
class PipelineResult:
    """Line maps and GAME property maps of one cube (``properties`` is None without GAME)."""

    lines: LineMaps
    properties: PropertyMaps | None
    path: Path

    def write(self, folder: str | Path) -> tuple[Path, Path | None]:
        """Write ``<cube>_lines.fits`` and ``<cube>_properties.fits`` into ``folder``.

        All or nothing: both files are written under temporary names and renamed at the end,
        so a failure leaves the folder as it was. A run without GAME removes the properties
        file of an earlier run, so every output in the folder comes from this result.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        stem = self.path.stem
        lines = folder / f"{stem}_lines.fits"
        props = folder / f"{stem}_properties.fits"
        tmp = {p: p.with_name(f".{p.name}.{os.getpid()}.part") for p in (lines, props)}
        try:
            self.lines.write(tmp[lines])
            if self.properties is not None:
                self.properties.write(tmp[props])
            if self.properties is None and props.exists():
                props.unlink()
            for target, part in tmp.items():
                if part.exists():
                    os.replace(part, target)
        finally:
            for part in tmp.values():
                if part.exists():
                    part.unlink()
        return lines, (props if self.properties is not None else None)


def _fit_lines(path, rows, settings) -> LineMaps:
    """Line maps of image rows ``rows`` of one cube (the unit of work of a first-round task)."""
    # no scan for unusable spaxels: the fit finds them itself (a cube without any usable data
    # ends in a CubeWarning that nothing was detected), and the scan reads the whole cube
    return fit_line_maps(read_muse_cube(path, scan=False), rows=rows, **settings["lines"])


def _game_strip(line_maps, game, offset, settings) -> PropertyMaps:
    """GAME on a block of rows of line maps, prepared on the whole cube (a second-round task)."""
    return game_maps(line_maps, game, row_offset=offset, prepare=False, **settings["game"])


def _game_blocks(client, line_maps: LineMaps, spaxels: np.ndarray, game_future, settings,
                 ) -> PropertyMaps:
    """GAME on the line maps, one task per block of :data:`BLOCK_ROWS` rows, busiest first.

    GAME's cost is in its spaxels, which crowd into the galaxy's few central rows: with one
    task per first-round strip, one worker still had the centre when the other was idle (the
    second round took 1.04 s on a 300 x 300 field where 0.7 s was its fair share). Each block
    draws its own Monte Carlo numbers, so the maps are the same however the rows are split.
    """
    ny = line_maps.shape[0]
    busy = np.bincount(spaxels[:, 0] // BLOCK_ROWS, minlength=-(-ny // BLOCK_ROWS))
    futures = [client.submit(_game_strip, line_maps.strip(slice(y, y + BLOCK_ROWS)), game_future,
                             y, settings, priority=int(n), pure=False)
               for y, n in zip(range(0, ny, BLOCK_ROWS), busy)]
    return PropertyMaps.concatenate(client.gather(futures), line_maps.wcs)


def run_pipeline(path: str | Path | list, game=None, lines=MUSE_LINES,
                 redshift: float = REDSHIFT, snr_min: float = 3.0, min_detected: int = 3,
                 scheduler=None, chunk_rows: int = 2 * BLOCK_ROWS):
    """Line maps and GAME property maps of a cube (or a list of cubes).

    Parameters
    ----------
    path
        A MUSE cube, or a list of them (then a list of results is returned).
    game
        A fitted GAME estimator, or None for line maps only.
    lines, redshift, snr_min
        Passed to :func:`~course_utils.cube.fit_line_maps`.
    min_detected
        Passed to :func:`~course_utils.cube.maps.game_maps`.
    scheduler
        None: everything in this process, whole cube at once. ``"local"``: a local dask
        cluster (2 single-threaded workers) for this call. A scheduler address
        (``"tcp://host:8786"``) or a :class:`distributed.Client`: that cluster.
    chunk_rows
        Image rows per line-fitting task (a multiple of ``maps.BLOCK_ROWS``); GAME then runs
        one task per block of ``BLOCK_ROWS`` rows.

    Returns
    -------
    PipelineResult or list of them
    """
    paths = [Path(p) for p in (path if isinstance(path, (list, tuple)) else [path])]
    settings = {"lines": dict(lines=lines, redshift=redshift, snr_min=snr_min),
                "game": dict(min_detected=min_detected)}
    if scheduler is None:
        results = []
        for p in paths:
            line_maps = _fit_lines(p, None, settings)
            props = None if game is None else game_maps(line_maps, game, **settings["game"])
            results.append(PipelineResult(line_maps, props, p))
    else:
        results = _run_dask(paths, game, settings, scheduler, chunk_rows)
    return results if isinstance(path, (list, tuple)) else results[0]


def _run_dask(paths, game, settings, scheduler, chunk_rows):
    from distributed import Client, LocalCluster

    if chunk_rows % BLOCK_ROWS:
        raise ValueError(f"chunk_rows={chunk_rows} must be a multiple of {BLOCK_ROWS}")
    own_cluster = own_client = None
    if isinstance(scheduler, Client):
        client = scheduler
    elif scheduler == "local":
        import dask

        # dask's default MALLOC_TRIM_THRESHOLD_ for workers made the line fit ~2x slower
        # (it allocates many large temporaries); keep the allocator's own default.
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
            own_cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
        client = own_client = Client(own_cluster)
    else:
        client = own_client = Client(scheduler)
    try:
        jobs = []
        for p in paths:
            cube = read_muse_cube(p, scan=False)  # headers only; tasks read their strips
            ny = cube.shape[1]
            strips = [slice(y, min(y + chunk_rows, ny)) for y in range(0, ny, chunk_rows)]
            futures = [client.submit(_fit_lines, str(p), s, settings, pure=False)
                       for s in strips]
            jobs.append((p, cube.wcs, strips, futures))
        results = []
        for p, wcs, strips, futures in jobs:
            parts = client.gather(futures)
            line_maps = LineMaps.concatenate(parts, wcs)
            warn_if_undetected(line_maps, p)
            props = None
            if game is not None:
                # models that depend on the data set are made once, here, for the whole cube
                inten, err, spaxels = line_maps.game_inputs(
                    game_lines(game, line_maps), min_detected=settings["game"]["min_detected"])
                prepared = prepare_game(game, inten, err)
                # a fresh key per call: a hashed key shared with an earlier call on the same
                # client can be released by that call while this one still needs it
                game_future = client.scatter(prepared, broadcast=True, hash=False)
                props = _game_blocks(client, line_maps, spaxels, game_future, settings)
            results.append(PipelineResult(line_maps, props, p))
        return results
    finally:
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()
