"""Reading the Cloudy 17 grids of HII-CHI-mistry, the course's second photoionisation code.

HII-CHI-mistry (Pérez-Montero 2014, MNRAS 441, 2663; public repository
Estallidos/HII-CHI-Mistry, MIT licence) ships Cloudy 17 grids of HII regions in which N/O is a
free parameter, not tied to O/H as in the MAPPINGS grid. The course commits two of them (the
star-forming ones; ``data/README.md`` gives the commit and the licence):

- ``cloudy-popstar``: POPSTAR, Chabrier IMF, 1 Myr (``C17_POPSTAR_1myr.dat``);
- ``cloudy-bpass``: BPASS v2.1, IMF slope -1.35, upper mass 300 Msun, 1 Myr, density 100 cm^-3
  (``C17_BPASS_IMF135_mup300_1myr.dat``).

Both are plane-parallel, 23 values of 12+log(O/H) (6.9-9.1, step 0.1) x 17 of log(N/O) (-2 to 0,
step 0.125) x 11 of log U (-4 to -1.5, step 0.25) = 4301 models, with lines relative to H-beta
(column meanings from the repository's ``HCm_v6.0.readme``, section 2.1).

What the files do not give, and what the course does about it:

- **No H-alpha.** H-alpha is computed for each node as the case-B recombination ratio
  H-alpha/H-beta (PyNeb's H I emissivities, Storey & Hummer 1995) at the node's own electron
  temperature, measured from its own [OIII] (4959+5007)/4363 ratio (4959 = 5007/2.98) where
  [OIII]4363 >= :data:`AUROREAL_MIN` H-beta, else from its [NII] (6548+6584)/5755 ratio, else
  taken from the nearest node (in grid steps) that has one. The ratio changes by ~0.03 dex for a
  factor 2 in temperature, so that fill matters at the 0.01 dex level; it is not a constant.
- **Off-axis and missing nodes.** Both files label 11 rows log(N/O) = -1.775 and 11 rows -1.675
  at one O/H each, where the regular axis has -1.875 and -1.625; one (O/H, N/O, U) node is
  repeated and one is missing. Each node is placed on the regular axis by linear
  interpolation in log flux along N/O between its neighbours in the file (the rows' own labels
  are trusted), and the missing node (at the edge of the N/O axis) is interpolated along log U between its
  two neighbours. :func:`cloudy_cube`
  reports these repairs in ``attrs``.
- **Zeros.** A line printed as 0 is below what the file reports (its smallest positive value is
  1e-3 H-beta, printed with 4 decimals): it is set to that smallest value, as the MAPPINGS reader
  does with its floor.
- ``OII_7325`` ([OII]7319+7330) has no canonical name in the course's line list and is not used.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from ..diagnostics import NII_6584_6548, OIII_5007_4959

#: Grid names and their files in ``data/cloudy``.
CLOUDY_GRIDS = {"cloudy-popstar": "C17_POPSTAR_1myr.dat.gz",
                "cloudy-bpass": "C17_BPASS_IMF135_mup300_1myr.dat.gz"}
#: The file's parameter columns and the course's names, in the order of the cube's axes.
CLOUDY_PARAMETERS = {"12+log(O/H)": "12+log(O/H)", "log(N/O)": "log N/O", "log(U)": "log U"}
#: The file's line columns (readme section 2.1) and their canonical course names.
CLOUDY_LINES = {"OII_3727": "OII3726_29", "NeIII_3868": "NeIII3869", "OIII_4363": "OIII4363",
                "OIII_5007": "OIII5007", "NII_5755": "NII5755", "SIII_6312": "SIII6312",
                "NII_6584": "NII6583", "SII_6717,31": "SII6716_31", "SIII_9069": "SIII9069"}
_UNUSED = ("OII_7325",)
#: Regular axes of both files.
CLOUDY_AXES = (np.round(np.arange(6.9, 9.1001, 0.1), 3), np.round(np.arange(-2.0, 0.001, 0.125), 3),
               np.round(np.arange(-4.0, -1.4999, 0.25), 3))
#: Smallest auroral line (relative to H-beta) used for a temperature: with the files' 4
#: decimals, the ratio is then known to better than 5%.
AUROREAL_MIN = 2e-3
#: Density (cm^-3) for the temperature and recombination ratios (the readme's BPASS density).
CLOUDY_DENSITY = 100.0
#: Temperature range (K) in which the case-B ratio is evaluated (clipped outside).
TEMPERATURE_RANGE = (5000.0, 25000.0)
DATA_DIR = Path(__file__).resolve().parent.parent.parent / "data" / "cloudy"


class CloudyGridError(RuntimeError):
    """A Cloudy grid file is missing or is not what the course expects."""


def cloudy_path(grid: str) -> Path:
    """Path of a committed Cloudy grid (``"cloudy-popstar"`` or ``"cloudy-bpass"``)."""
    if grid not in CLOUDY_GRIDS:
        raise ValueError(f"unknown Cloudy grid {grid!r}; expected one of {sorted(CLOUDY_GRIDS)}")
    path = DATA_DIR / CLOUDY_GRIDS[grid]
    if not path.is_file():
        raise CloudyGridError(f"{path}: grid file missing (it is committed with the course; "
                              "see data/README.md)")
    return path


def read_cloudy_grid(path: str | Path) -> pd.DataFrame:
    """Read and check one HII-CHI-mistry grid file (tab-separated, ``#`` comments).

    Raises
    ------
    CloudyGridError
        Missing columns, a cell that is not a number, or a negative flux; the message names
        the file, the row (counting the file's lines) and the column.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, sep="\t", comment="#", dtype=str)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, EOFError) as exc:
        raise CloudyGridError(f"{path}: cannot read the grid ({exc})") from exc
    table.columns = [c.strip() for c in table.columns]
    expected = list(CLOUDY_PARAMETERS) + list(CLOUDY_LINES)
    missing = [c for c in expected if c not in table.columns]
    if missing:
        raise CloudyGridError(f"{path}: missing columns {missing}; expected {expected}")
    out = {}
    for column in expected:
        values = pd.to_numeric(table[column].str.strip(), errors="coerce")
        bad = ~np.isfinite(values.to_numpy(dtype=float))
        if column in CLOUDY_LINES:
            bad |= values.to_numpy(dtype=float) < 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            # the file's line of that row: after its comment lines and the header
            header = next(k for k, line in enumerate(_lines(path)) if not line.startswith("#"))
            raise CloudyGridError(f"{path}, line {header + i + 2}, column {column!r}: "
                                  f"{table[column].iloc[i]!r}; expected a number"
                                  + (" >= 0" if column in CLOUDY_LINES else ""))
        out[column] = values.to_numpy(dtype=float)
    return pd.DataFrame(out)


def _lines(path: Path) -> list[str]:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        return f.read().splitlines()


def halpha_hbeta(temperature, density: float = CLOUDY_DENSITY) -> np.ndarray:
    """Case-B H-alpha/H-beta emissivity ratio (PyNeb, Storey & Hummer 1995) at T (K)."""
    from course_utils.nebular import _rec_atom

    t = np.clip(np.asarray(temperature, dtype=float), *TEMPERATURE_RANGE)
    h1 = _rec_atom("H", 1)
    flat = t.ravel()
    den = np.full_like(flat, float(density))
    ratio = (h1.getEmissivity(flat, den, label="3_2", product=False)
             / h1.getEmissivity(flat, den, label="4_2", product=False))
    return np.asarray(ratio, dtype=float).reshape(t.shape)


def _temperatures(cube: np.ndarray, column: dict[str, int]) -> np.ndarray:
    """Electron temperature of each node from its own auroral/nebular ratios (NaN: none)."""
    from course_utils.nebular import _atom, te_oiii

    flux = 10.0 ** cube
    t = np.full(cube.shape[:-1], np.nan)
    o4363, o5007 = flux[..., column["OIII4363"]], flux[..., column["OIII5007"]]
    ok = o4363 >= AUROREAL_MIN
    t[ok] = te_oiii((1 + 1 / OIII_5007_4959) * o5007[ok] / o4363[ok], CLOUDY_DENSITY)
    n5755, n6584 = flux[..., column["NII5755"]], flux[..., column["NII6583"]]
    ok = ~np.isfinite(t) & (n5755 >= AUROREAL_MIN)
    if ok.any():
        ratio = (1 + 1 / NII_6584_6548) * n6584[ok] / n5755[ok]
        t[ok] = np.asarray(_atom("N", 2).getTemDen(ratio, den=CLOUDY_DENSITY,
                                                    to_eval="(L(6548)+L(6584))/L(5755)"), float)
    return t


def _fill_nearest(values: np.ndarray) -> np.ndarray:
    """NaN cells take the value of the nearest finite cell (Euclidean distance in grid steps)."""
    good = np.argwhere(np.isfinite(values))
    bad = np.argwhere(~np.isfinite(values))
    out = values.copy()
    if len(bad):
        d = ((bad[:, None, :] - good[None, :, :]) ** 2).sum(axis=2)
        out[tuple(bad.T)] = values[tuple(good[d.argmin(axis=1)].T)]
    return out


@functools.lru_cache(maxsize=None)
def cloudy_cube(grid: str) -> tuple[tuple[np.ndarray, ...], np.ndarray, dict[str, int], dict]:
    """A Cloudy grid on its regular axes (12+log(O/H), log N/O, log U), with H-alpha.

    Returns
    -------
    axes
        :data:`CLOUDY_AXES`.
    log_flux
        ``(23, 17, 11, n_lines)`` log10 fluxes relative to H-beta (H-beta = 0).
    column
        Line name -> index on the last axis: ``Hbeta``, ``Halpha`` and the file's lines.
    repairs
        What was done to the file: off-axis rows moved, nodes filled, floor, temperatures.
    """
    path = cloudy_path(grid)
    table = read_cloudy_grid(path)
    names = list(CLOUDY_LINES.values())
    fluxes = table[list(CLOUDY_LINES)].to_numpy()
    floor = float(fluxes[fluxes > 0].min())
    log_flux = np.log10(np.where(fluxes > 0, fluxes, floor))
    oh, no, lu = (table[c].to_numpy() for c in CLOUDY_PARAMETERS)
    axes = CLOUDY_AXES
    i_oh, i_u = (np.abs(v[:, None] - a[None, :]).argmin(axis=1) for v, a in ((oh, axes[0]), (lu, axes[2])))
    if np.abs(axes[0][i_oh] - oh).max() > 1e-6 or np.abs(axes[2][i_u] - lu).max() > 1e-6:
        raise CloudyGridError(f"{path}: O/H or log U values off the regular axes {axes[0]}, {axes[2]}")
    cube = np.full((len(axes[0]), len(axes[1]), len(axes[2]), len(names)), np.nan)
    moved = filled = 0
    for a in range(len(axes[0])):
        for c in range(len(axes[2])):
            rows = np.flatnonzero((i_oh == a) & (i_u == c))
            no_here, order = np.unique(no[rows], return_index=True)  # drops exact repeats
            logs = log_flux[rows[order]]
            for b, target in enumerate(axes[1]):
                exact = np.flatnonzero(np.abs(no_here - target) < 1e-6)
                if exact.size:
                    cube[a, b, c] = logs[exact[0]]
                    continue
                if target < no_here[0] or target > no_here[-1]:
                    continue  # at the N/O edge: filled along log U below
                # the regular node is missing: interpolate linearly in log flux along N/O
                cube[a, b, c] = [np.interp(target, no_here, logs[:, k]) for k in range(len(names))]
                off_axis = bool(np.any(~np.isin(np.round(no_here, 3), axes[1])))
                moved += int(off_axis)
                filled += int(not off_axis)
    for a, b, c in np.argwhere(np.isnan(cube[..., 0])):
        # a missing node at the edge of N/O: interpolate along log U between its neighbours
        if not 0 < c < len(axes[2]) - 1 or np.isnan(cube[a, b, [c - 1, c + 1], 0]).any():
            raise CloudyGridError(f"{path}: no model near 12+log(O/H) = {axes[0][a]}, "
                                  f"log(N/O) = {axes[1][b]}, log U = {axes[2][c]}")
        cube[a, b, c] = 0.5 * (cube[a, b, c - 1] + cube[a, b, c + 1])
        filled += 1
    column = {n: i for i, n in enumerate(names)}
    temperature = _temperatures(cube, column)
    measured = np.isfinite(temperature)
    temperature = _fill_nearest(temperature)
    halpha = np.log10(halpha_hbeta(temperature))
    cube = np.concatenate([np.zeros(cube.shape[:-1] + (1,)), halpha[..., None], cube], axis=-1)
    column = {n: i for i, n in enumerate(["Hbeta", "Halpha"] + names)}
    repairs = dict(path=str(path), floor=floor, nodes_from_off_axis_rows=moved,
                   nodes_interpolated=filled, repeated_rows=int(len(table) - len(
                       np.unique(np.column_stack([oh, no, lu]), axis=0))),
                   temperature_measured=float(measured.mean()),
                   temperature_k=(float(temperature.min()), float(temperature.max())))
    return axes, cube, column, repairs
