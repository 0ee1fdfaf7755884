"""The course's emission-line library: models drawn from the MAPPINGS 5.1 HII-region grid.

GAME (Ucci et al. 2017, MNRAS 465, 1144) learns from a library of model line intensities with
known physical parameters. The original GAME library is not public, so the course builds its
own from the MAPPINGS 5.1 HII-region grid shipped with NebulaBayes (Thomas et al. 2018, ApJ
856, 89): parameters are drawn uniformly over the grid, log fluxes are interpolated between
its nodes, and each model is reddened by a drawn A_V.

Choices, and why:

- Solar abundance 12 + log(O/H) = 8.76 (:data:`SOLAR_OH`): the solar value of the MAPPINGS 5.1
  abundance set (Nicholls et al. 2017, MNRAS 466, 4403), so ``log(Z/Zsun) = 0`` falls on the
  grid's own solar node.
- Density from pressure at T = 10^4 K (:data:`DENSITY_TEMPERATURE`): the typical electron
  temperature of HII regions (Osterbrock & Ferland 2006), so ``log n = log P/k - 4`` (total
  particle density, as the grid's pressure counts all particles).
- Attenuation: Cardelli, Clayton & Mathis (1989, ApJ 345, 245) with R_V = 3.1, the standard
  curve for reddening of HII-region lines (and the one Cresci et al. 2017 use for Henize 2-10),
  from the maintained ``dust_extinction`` package.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.interpolate import RegularGridInterpolator
from scipy.sparse.linalg import spsolve

from .. import paths
from .grid import GRID_PARAMETERS, grid_cube, grid_path, load_grid
from .lines import DERIVED_LINES, canonical_lines, line_table

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

    def with_dust(self, av_range: tuple[float, float], seed: int = 0) -> "Library":
        """The same models under another dust prior: A_V drawn uniformly in ``av_range`` (mag).

        Each model's own attenuation is removed and a new one applied with the library's
        curve (:func:`attenuation`, Cardelli et al. 1989); ``(0, 0)`` gives dust-free models.
        Needs an ``A_V`` label and the wavelength of every line.
        """
        low, high = (float(a) for a in av_range)
        if not 0 <= low <= high:
            raise ValueError(f"av_range must be (low, high) with 0 <= low <= high, got {av_range!r}")
        if "A_V" not in self.labels.columns:
            raise ValueError("the library has no A_V label, so its dust cannot be changed")
        names = list(self.intensities.columns)
        absent = [n for n in names if n not in self.lines.index]
        if absent:
            raise ValueError(f"the library gives no wavelength for the lines {absent}")
        wavelength = self.lines.loc[names, "wavelength"].to_numpy(dtype=float)
        old = self.labels["A_V"].to_numpy(dtype=float)
        new = np.random.default_rng([int(seed), 9]).uniform(low, high, len(old))
        factor = 10.0 ** (0.4 * (attenuation(wavelength, old) - attenuation(wavelength, new)))
        labels = self.labels.copy()
        labels["A_V"] = new
        provenance = dict(self.provenance, av_range=(low, high), dust_redrawn_seed=int(seed))
        return Library(self.intensities * factor, labels, self.lines, provenance)


def attenuation(wavelength: np.ndarray, a_v: np.ndarray) -> np.ndarray:
    """Magnitudes of attenuation A_lambda for each A_V (rows) and wavelength (columns).

    Uses the Cardelli, Clayton & Mathis (1989) curve with R_V = 3.1 from dust_extinction.
    """
    import astropy.units as u
    from dust_extinction.parameter_averages import CCM89

    ratio = CCM89(Rv=R_V)(np.asarray(wavelength, dtype=float) * u.AA)
    return np.outer(np.asarray(a_v, dtype=float), ratio)


def _resolve_lines(lines) -> tuple[list[str], list[str], pd.DataFrame]:
    """Canonical names of the requested lines, the grid lines needed, and their metadata."""
    table = line_table(derived=True)
    in_range = table["wavelength"].between(*ATTENUATION_RANGE)
    if lines is None:
        # single lines only: the grid's doublet sums (``OII3726_29`` ...) would repeat them
        lines = [l for l in _full_cube()[2] if in_range[l] and l in line_table().index]
    lines = canonical_lines(list(lines))
    grid_lines = set(_full_cube()[2]) | set(DERIVED_LINES)
    missing = [l for l in lines if l not in grid_lines]
    if missing:
        raise ValueError(f"lines not computed by the HII grid: {missing}")
    outside = [l for l in lines if not in_range[l]]
    if outside:
        raise ValueError(f"lines outside the attenuation curve's range {ATTENUATION_RANGE} A: "
                         f"{outside}")
    parents = [DERIVED_LINES[l][0] if l in DERIVED_LINES else l for l in lines]
    return lines, list(dict.fromkeys(parents)), table.loc[lines, ["wavelength", "species"]]


def library_lines() -> list[str]:
    """Every line :func:`build_library` can compute: the HII grid's lines, the derived lines
    and the grid's doublet sums, where the attenuation curve is defined."""
    table = line_table(derived=True)
    names = set(_full_cube()[2]) | set(DERIVED_LINES)
    return [l for l in table.index
            if l in names and ATTENUATION_RANGE[0] <= table.at[l, "wavelength"] <= ATTENUATION_RANGE[1]]


@functools.lru_cache(maxsize=1)
def _full_cube() -> tuple[tuple[np.ndarray, ...], np.ndarray, dict[str, int]]:
    """The HII grid on its axes, all lines (read once: the grid file takes ~0.1 s to parse)."""
    grid = load_grid("HII")
    axes, cube = grid_cube(grid, grid.attrs["lines"])
    return axes, cube, {l: i for i, l in enumerate(grid.attrs["lines"])}


def _cube(lines: list[str]) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    axes, cube, column = _full_cube()
    return axes, cube[..., [column[l] for l in lines]]


def _model_fluxes(params: np.ndarray, a_v: np.ndarray, lines: list[str], grid_lines: list[str],
                  meta: pd.DataFrame, interpolation: str) -> np.ndarray:
    """Attenuated fluxes (relative to intrinsic Hbeta) at points (log U, log P/k, 12+log O/H)."""
    axes, cube = _cube(grid_lines)
    # scipy's spline methods solve for their coefficients iteratively (errors ~1e-3 dex at the
    # nodes); the direct sparse solver is exact at the nodes and faster on this small grid
    exact = {"solver": spsolve} if interpolation in ("cubic", "quintic") else {}
    log_flux = RegularGridInterpolator(axes, cube, method=interpolation, **exact)(params)
    column = {l: i for i, l in enumerate(grid_lines)}
    log_flux = np.column_stack([
        log_flux[:, column[DERIVED_LINES[l][0]]] + np.log10(DERIVED_LINES[l][1])
        if l in DERIVED_LINES else log_flux[:, column[l]] for l in lines])
    log_flux -= 0.4 * attenuation(meta["wavelength"].to_numpy(), a_v)
    return 10.0 ** log_flux


def _labels(params: np.ndarray, a_v: np.ndarray) -> pd.DataFrame:
    log_u, log_pk, oh = params.T
    return pd.DataFrame({
        "12+log(O/H)": oh,
        "log(Z/Zsun)": oh - SOLAR_OH,
        "log U": log_u,
        "log P/k": log_pk,
        "log n": log_pk - np.log10(DENSITY_TEMPERATURE),
        "A_V": a_v,
    })


def grid_model(log_u, log_pk, oh, a_v=0.0, lines: list[str] | None = None,
               interpolation: str = "cubic") -> pd.DataFrame:
    """Line fluxes of MAPPINGS models at given parameters (the library's interpolation).

    Parameters
    ----------
    log_u, log_pk, oh, a_v
        log U, log P/k, 12 + log(O/H) and A_V (mag); scalars or arrays of one length.
    lines
        Line names or aliases (default: :data:`MUSE_LINES`).
    interpolation
        Method of :class:`scipy.interpolate.RegularGridInterpolator`.

    Returns
    -------
    pandas.DataFrame
        One row per model, fluxes relative to intrinsic H-beta.
    """
    lines, grid_lines, meta = _resolve_lines(MUSE_LINES if lines is None else lines)
    params = np.column_stack(np.broadcast_arrays(*map(np.atleast_1d, (log_u, log_pk, oh, a_v))))
    axes = _full_cube()[0]
    for j, (name, axis) in enumerate(zip(GRID_PARAMETERS, axes)):
        if np.any((params[:, j] < axis[0]) | (params[:, j] > axis[-1])):
            raise ValueError(f"{name} outside the grid's range [{axis[0]}, {axis[-1]}]")
    return pd.DataFrame(_model_fluxes(params[:, :3], params[:, 3], lines, grid_lines, meta,
                                      interpolation), columns=lines)


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
        Line names or aliases to keep (see :func:`canonical_line`), including the derived
        lines ``OIII4959`` and ``NII6548`` and the grid's doublet sums (``SII6716_31`` ...);
        default every single line of the grid that lies where the attenuation curve is
        defined (:data:`ATTENUATION_RANGE`, UV to near-infrared): 79 lines.
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
    if int(n_models) != n_models or n_models < 1:
        raise ValueError(f"n_models must be a positive integer, got {n_models!r}")
    if not 0 <= av_range[0] <= av_range[1]:
        raise ValueError(f"av_range must be (low, high) with 0 <= low <= high, got {av_range!r}")
    lines, grid_lines, meta = _resolve_lines(lines)
    axes = _full_cube()[0]
    rng = np.random.default_rng(seed)
    params = np.column_stack([rng.uniform(a[0], a[-1], int(n_models)) for a in axes])
    a_v = rng.uniform(av_range[0], av_range[1], int(n_models))
    intensities = pd.DataFrame(_model_fluxes(params, a_v, lines, grid_lines, meta, interpolation),
                               columns=lines)
    provenance = dict(grid=grid_path("HII").name, seed=seed, n_models=int(n_models),
                      interpolation=interpolation, av_range=tuple(float(a) for a in av_range),
                      attenuation=f"Cardelli, Clayton & Mathis 1989, R_V = {R_V}",
                      solar_oh=SOLAR_OH, density_temperature=DENSITY_TEMPERATURE)
    return Library(intensities, _labels(params, a_v), meta, provenance)


# ------------------------------------------------------------------------------- cache

_CACHE_VERSION = 1


def _checksum(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()


def load_library(
    n_models: int = 50_000,
    lines: list[str] | None = None,
    seed: int = 0,
    interpolation: str = "cubic",
    av_range: tuple[float, float] = (0.0, 3.0),
) -> Library:
    """:func:`build_library`, cached in ``paths.generated_dir()``.

    The cache file's name encodes the parameters; it stores a SHA-256 checksum of its data.
    A missing, unreadable or corrupt file (checksum mismatch) is rebuilt silently; the
    result is identical to :func:`build_library` with the same arguments.
    """
    names = None if lines is None else canonical_lines(list(lines))
    key = json.dumps(dict(version=_CACHE_VERSION, n_models=int(n_models), lines=names,
                          seed=seed, interpolation=interpolation,
                          av_range=[float(a) for a in av_range],
                          grid=os.path.getsize(grid_path("HII"))), sort_keys=True)
    path = paths.generated_dir() / f"library_{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
    try:
        with np.load(path, allow_pickle=False) as stored:
            meta = json.loads(str(stored["meta"]))
            intensities, labels = stored["intensities"], stored["labels"]
            wavelength = stored["wavelength"]
        if meta["key"] != key or meta["checksum"] != _checksum(intensities, labels, wavelength):
            raise ValueError("checksum or key mismatch")
        lines_meta = pd.DataFrame({"wavelength": wavelength, "species": meta["species"]},
                                  index=pd.Index(meta["lines"], name="name"))
        provenance = dict(meta["provenance"], av_range=tuple(meta["provenance"]["av_range"]))
        return Library(pd.DataFrame(intensities, columns=meta["lines"]),
                       pd.DataFrame(labels, columns=list(LABELS)), lines_meta, provenance)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        pass  # missing or damaged: rebuild below
    library = build_library(n_models, names, seed, interpolation, av_range)
    intensities = library.intensities.to_numpy()
    labels = library.labels[list(LABELS)].to_numpy()
    wavelength = library.lines["wavelength"].to_numpy(dtype=float)
    meta = dict(key=key, checksum=_checksum(intensities, labels, wavelength),
                lines=list(library.intensities.columns),
                species=list(library.lines["species"]), provenance=library.provenance)
    # write to a temporary file and rename, so parallel readers never see half a file
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, intensities=intensities, labels=labels, wavelength=wavelength,
                     meta=np.array(json.dumps(meta)))
        os.replace(tmp, path)
    except OSError:
        if os.path.exists(tmp):
            os.remove(tmp)
    return library
