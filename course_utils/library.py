"""The course's emission-line library, built from the MAPPINGS 5.1 HII-region grid.

GAME learns from a library of model line intensities with known physical parameters. The
original GAME library is not public, so the course builds its own from the MAPPINGS 5.1
HII-region grid that ships inside the PyPI package NebulaBayes (MIT licence; Thomas et al.
2018, ApJ 856, 89): 9 log U x 12 log P/k x 12 values of 12 + log(O/H), ~100 lines, fluxes
relative to H-beta.

Only the data file is needed from NebulaBayes, so it is located without importing the
package (whose code does not import on current scipy).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.io import fits
from scipy.interpolate import RegularGridInterpolator

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
    """Read a MAPPINGS grid as a tidy table.

    Returns
    -------
    pandas.DataFrame
        One row per model: the parameters ``log U``, ``log P/k``, ``12+log(O/H)`` (plus the
        NLR grid's extra parameters) and one column per line, fluxes relative to H-beta.
        Cells that the file leaves NaN or 0 (lines too faint for the model to report) are
        set to the grid's own floor, the smallest positive flux in the file (1e-5 Hbeta). ``attrs`` holds
        ``path``, ``lines`` (the line columns), ``parameters`` and ``floor``.
    """
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


# --------------------------------------------------------------------------- library builder

#: The ten lines GAME uses on MUSE spectra of Henize 2-10 (Ucci et al. 2019), grid names.
MUSE_LINES = ("Hbeta", "OIII5007", "HeI5876", "OI6300", "Halpha", "NII6583", "HeI6678",
              "SII6716", "SII6731", "SIII9069")
#: Solar oxygen abundance of the MAPPINGS 5.1 grid (Nicholls et al. 2017 "Galactic Concordance").
SOLAR_OH = 8.76
#: Temperature used to turn the grid's pressure into a density, n = (P/k) / T.
DENSITY_TEMPERATURE = 1.0e4
#: R_V of the Cardelli, Clayton & Mathis (1989) Milky Way curve used for the attenuation.
R_V = 3.1
#: Wavelength range (Angstrom) where the CCM89 curve is defined.
ATTENUATION_RANGE = (1000.0, 33333.0)
LABELS = ("12+log(O/H)", "log(Z/Zsun)", "log U", "log P/k", "log n", "A_V")


@dataclass
class Library:
    """A library of model spectra with known physical parameters.

    Attributes
    ----------
    intensities
        One row per model, one column per line: fluxes relative to the model's intrinsic
        H-beta, after dust attenuation.
    labels
        The physical parameters of each model (see :data:`LABELS`).
    lines
        Line metadata indexed by line name: air wavelength in Angstrom and species.
    provenance
        How the library was made (grid file, seed, interpolation, attenuation curve ...).
    """

    intensities: pd.DataFrame
    labels: pd.DataFrame
    lines: pd.DataFrame
    provenance: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.intensities)


def line_table(kind: str = "HII") -> pd.DataFrame:
    """Wavelength (Angstrom, air) and species of every line, from NebulaBayes' line list."""
    path = grid_path(kind).parent / "Linelist.csv"
    table = pd.read_csv(path, lineterminator="\r", skipinitialspace=True)
    table.columns = [c.strip() for c in table.columns]
    table = table.rename(columns={"Grid_name": "name", "Lambda_AA": "wavelength",
                                  "Species": "species"})
    return table.set_index("name")[["wavelength", "species"]]


def attenuation(wavelength: np.ndarray, a_v: np.ndarray) -> np.ndarray:
    """Magnitudes of attenuation A_lambda for each A_V (rows) and wavelength (columns).

    Uses the Cardelli, Clayton & Mathis (1989) curve with R_V = 3.1 from dust_extinction.
    """
    import astropy.units as u
    from dust_extinction.parameter_averages import CCM89

    ratio = CCM89(Rv=R_V)(np.asarray(wavelength, dtype=float) * u.AA)
    return np.outer(np.asarray(a_v, dtype=float), ratio)


def build_library(
    n_models: int = 50_000,
    lines: list[str] | None = None,
    seed: int = 0,
    interpolation: str = "cubic",
    av_range: tuple[float, float] = (0.0, 3.0),
) -> Library:
    """Draw a library of model spectra from the MAPPINGS 5.1 HII-region grid.

    Parameters are drawn uniformly over the grid's ranges, log line fluxes are
    interpolated between the grid nodes, and each model is attenuated by a drawn A_V.

    Parameters
    ----------
    n_models
        Number of models.
    lines
        Grid line names to keep; default every line of the grid that lies where the
        attenuation curve is defined (:data:`ATTENUATION_RANGE`, UV to near-infrared).
    seed
        Seed of the random parameter draws; the same seed gives the same library.
    interpolation
        Any method of :class:`scipy.interpolate.RegularGridInterpolator` ("linear",
        "cubic", ...), applied to log10 flux.
    av_range
        A_V is drawn uniformly in this range (magnitudes); ``(0, 0)`` gives no dust.

    Returns
    -------
    Library
    """
    grid = load_grid("HII")
    table = line_table()
    in_range = table.index[table["wavelength"].between(*ATTENUATION_RANGE)]
    if lines is None:
        lines = [l for l in grid.attrs["lines"] if l in in_range]
    lines = list(lines)
    unknown = [l for l in lines if l not in grid.attrs["lines"]]
    if unknown:
        raise KeyError(f"lines not in the grid: {unknown}")
    outside = [l for l in lines if l not in in_range]
    if outside:
        raise ValueError(f"lines outside the attenuation curve's range {ATTENUATION_RANGE} A: {outside}")
    axes, cube = grid_cube(grid, lines)
    rng = np.random.default_rng(seed)
    params = np.column_stack([rng.uniform(a[0], a[-1], n_models) for a in axes])
    a_v = rng.uniform(av_range[0], av_range[1], n_models)
    interpolator = RegularGridInterpolator(axes, cube, method=interpolation)
    log_flux = interpolator(params)
    meta = table.reindex(lines)
    log_flux -= 0.4 * attenuation(meta["wavelength"].to_numpy(), a_v)
    intensities = pd.DataFrame(10.0 ** log_flux, columns=lines)
    log_u, log_pk, oh = params.T
    labels = pd.DataFrame({
        "12+log(O/H)": oh,
        "log(Z/Zsun)": oh - SOLAR_OH,
        "log U": log_u,
        "log P/k": log_pk,
        "log n": log_pk - np.log10(DENSITY_TEMPERATURE),
        "A_V": a_v,
    })
    provenance = dict(grid=grid.attrs["path"].name, seed=seed, n_models=n_models,
                      interpolation=interpolation, av_range=tuple(av_range),
                      attenuation=f"Cardelli, Clayton & Mathis 1989, R_V = {R_V}",
                      solar_oh=SOLAR_OH, density_temperature=DENSITY_TEMPERATURE)
    return Library(intensities, labels, meta, provenance)
