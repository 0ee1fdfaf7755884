"""Reading the MAPPINGS 5.1 grids shipped in the NebulaBayes package.

GAME learns from a library of model line intensities with known physical parameters. The
original GAME library is not public, so the course builds its own from the MAPPINGS 5.1
HII-region grid that ships inside the PyPI package NebulaBayes (MIT licence; Thomas et al.
2018, ApJ 856, 89): 9 log U x 12 log P/k x 12 values of 12 + log(O/H), ~100 lines, fluxes
relative to H-beta.

Only the data file is needed from NebulaBayes, so it is located without importing the
package (whose code does not import on current scipy).
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.io import fits

#: Parameter columns of the grid, in the order of the grid cube's axes.
GRID_PARAMETERS = ("log U", "log P/k", "12+log(O/H)")
_FILE_PARAMETERS = {"log U": "log U", "log P/k": "log P/k", "12 + log O/H": "12+log(O/H)",
                    "log E_peak": "log E_peak", "Gamma": "Gamma", "p_NT": "p_NT"}
#: Columns of the grid file that are not line fluxes.
_NOT_LINES = {"D_50%_neutral_cm", "D_99%_neutral_cm"}
GRIDS = {"HII": "NB_HII_grid.fits.gz", "NLR": "NB_NLR_grid.fits.gz"}


class GridError(RuntimeError):
    """The MAPPINGS grid file cannot be found or is not what the course expects."""


def grid_path(kind: str = "HII") -> Path:
    """Path of a NebulaBayes grid file inside the installed package.

    Parameters
    ----------
    kind
        ``"HII"`` (HII regions, the emission-line library) or ``"NLR"`` (AGN narrow-line
        regions, used for the BPT classification notebook).
    """
    if kind not in GRIDS:
        raise ValueError(f"unknown grid {kind!r}; expected one of {sorted(GRIDS)}")
    spec = importlib.util.find_spec("NebulaBayes")
    if spec is None or not spec.submodule_search_locations:
        raise GridError("the NebulaBayes package is not installed: it ships the MAPPINGS grid "
                        "the library is built from. Install the course with "
                        "'python -m pip install -e .'")
    path = Path(list(spec.submodule_search_locations)[0]) / "grids" / GRIDS[kind]
    if not path.is_file():
        raise GridError(f"{path}: grid file missing from the NebulaBayes installation")
    return path


def load_grid(kind: str = "HII") -> pd.DataFrame:
    """Read a MAPPINGS grid as a tidy table (a fresh copy of a table read once per session).

    Returns
    -------
    pandas.DataFrame
        One row per model: the parameters ``log U``, ``log P/k``, ``12+log(O/H)`` (plus the
        NLR grid's extra parameters) and one column per line, fluxes relative to H-beta.
        Cells that the file leaves NaN or 0 (lines too faint for the model to report) are
        set to the grid's own floor, the smallest positive flux in the file (1e-5 Hbeta). ``attrs`` holds
        ``path``, ``lines`` (the line columns), ``parameters`` and ``floor``.
    """
    return _read_grid(kind).copy()


@functools.lru_cache(maxsize=None)
def _read_grid(kind: str) -> pd.DataFrame:
    path = grid_path(kind)
    try:
        table = fits.getdata(path, 1)
    except (OSError, IndexError) as exc:
        raise GridError(f"{path}: cannot read the grid table from HDU 1 ({exc})") from exc
    columns = [c for c in table.columns.names if c not in _NOT_LINES]
    frame = pd.DataFrame({c: np.asarray(table[c], dtype=float) for c in columns})
    frame = frame.rename(columns=_FILE_PARAMETERS)
    parameters = [_FILE_PARAMETERS[c] for c in columns if c in _FILE_PARAMETERS]
    lines = [c for c in columns if c not in _FILE_PARAMETERS]
    if "Hbeta" not in lines or not np.allclose(frame["Hbeta"], 1.0):
        raise GridError(f"{path}: expected fluxes relative to Hbeta (Hbeta = 1 in every row)")
    fluxes = frame[lines].to_numpy()
    if np.any(fluxes[np.isfinite(fluxes)] < 0):
        raise GridError(f"{path}: found negative line fluxes")
    # NaN and 0 mark lines too faint for the model to report: put them at the file's floor.
    floor = float(np.min(fluxes[np.isfinite(fluxes) & (fluxes > 0)]))
    frame[lines] = np.where(np.isfinite(fluxes) & (fluxes > 0), fluxes, floor)
    frame.attrs.update(path=path, lines=lines, parameters=parameters, floor=floor, kind=kind)
    return frame


def grid_cube(grid: pd.DataFrame, lines: list[str]) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Arrange the HII grid's rows on its regular parameter axes.

    The file's rows are not in grid order, so each row is placed by its parameter values.

    Returns
    -------
    axes
        The sorted unique values of ``log U``, ``log P/k`` and ``12+log(O/H)``.
    log_flux
        Array of shape ``(nU, nP, nZ, len(lines))`` with log10 fluxes relative to H-beta.
    """
    axes = tuple(np.unique(grid[p].to_numpy()) for p in GRID_PARAMETERS)
    shape = tuple(len(a) for a in axes)
    if len(grid) != np.prod(shape):
        raise GridError(f"the grid has {len(grid)} rows, expected {np.prod(shape)} = "
                        f"{' x '.join(map(str, shape))} for a regular grid")
    index = tuple(np.searchsorted(a, grid[p].to_numpy()) for a, p in zip(axes, GRID_PARAMETERS))
    cube = np.full(shape + (len(lines),), np.nan)
    cube[index] = np.log10(grid[lines].to_numpy())
    if np.isnan(cube).any():
        raise GridError("the grid has repeated parameter combinations: some nodes are empty")
    return axes, cube
