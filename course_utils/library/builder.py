"""The course's emission-line libraries: models drawn from a photoionisation grid.

GAME (Ucci et al. 2017, MNRAS 465, 1144) learns from a library of model line intensities with
known physical parameters. The original GAME library is not public, so the course builds its
own from the MAPPINGS 5.1 HII-region grid shipped with NebulaBayes (Thomas et al. 2018, ApJ
856, 89): parameters are drawn uniformly over the grid, log fluxes are interpolated between
its nodes, and each model is reddened by a drawn A_V. A second code gives a second library
(``grid="cloudy-popstar"`` or ``"cloudy-bpass"``): the Cloudy 17 grids of HII-CHI-mistry
(Pérez-Montero 2014, MNRAS 441, 2663; see :mod:`~course_utils.library.cloudy`), where N/O is free.

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
from .cloudy import CLOUDY_GRIDS, DATA_DIR, cloudy_cube, cloudy_path
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
#: Labels of a library drawn from a Cloudy grid (N/O is a free parameter there).
CLOUDY_LABELS = ("12+log(O/H)", "log N/O", "log U", "A_V")
#: The grids a library can be drawn from: the MAPPINGS 5.1 grid of NebulaBayes (default) and
#: the two star-forming Cloudy 17 grids of HII-CHI-mistry.
LIBRARY_GRIDS = ("mappings",) + tuple(CLOUDY_GRIDS)
#: Ways to draw a Cloudy library's parameters. ``uniform``: uniform over the grid's box.
#: ``hcm-sfg``: 12+log(O/H) uniform, log U uniform between the O/H-dependent limits of
#: HII-CHI-mistry's star-forming constraints (``data/cloudy/template_OH.dat``, its
#: ``template_OH.dat``; Pérez-Montero 2014), N/O free: the prior HII-CHI-mistry itself applies
#: when [NII]/[OII] is measured. ``hcm-sfg-no``: N/O also between that file's limits.
PRIORS = ("uniform", "hcm-sfg", "hcm-sfg-no")


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


#: R_V-dependent extinction curves of dust_extinction that :func:`extinction_curve` knows:
#: Cardelli, Clayton & Mathis 1989 (the library's), Fitzpatrick 1999 (PASP 111, 63),
#: O'Donnell 1994 (ApJ 422, 158) and Gordon et al. 2023 (ApJ 950, 86).
CURVES = ("CCM89", "F99", "O94", "G23")


def extinction_curve(wavelength, curve: str = "CCM89", r_v=R_V) -> np.ndarray:
    """A_lambda / A_V of an R_V-dependent extinction curve from dust_extinction.

    Parameters
    ----------
    wavelength
        Air wavelengths in Angstrom, shape ``(n_lines,)``.
    curve
        One of :data:`CURVES`.
    r_v
        A scalar, or an array of ``n`` values (then the result has shape ``(n, n_lines)``).
        Curves are evaluated on a grid of R_V 0.02 apart and interpolated linearly.
    """
    import astropy.units as u
    from dust_extinction import parameter_averages

    if curve not in CURVES:
        raise ValueError(f"curve={curve!r}: expected one of {CURVES}")
    model = getattr(parameter_averages, curve)
    x = np.asarray(wavelength, dtype=float) * u.AA
    r_v = np.asarray(r_v, dtype=float)
    lo, hi = model.Rv_range
    if np.any((r_v < lo) | (r_v > hi)):
        raise ValueError(f"R_V outside [{lo}, {hi}], the range of {curve}")
    if r_v.ndim == 0:
        return np.asarray(model(Rv=float(r_v))(x), dtype=float)
    nodes = np.unique(np.concatenate([np.arange(r_v.min(), r_v.max(), 0.02), [r_v.max()]]))
    table = np.array([model(Rv=float(r))(x) for r in nodes])            # (n_nodes, n_lines)
    return np.column_stack([np.interp(r_v, nodes, table[:, j]) for j in range(x.size)])


def attenuation(wavelength: np.ndarray, a_v: np.ndarray) -> np.ndarray:
    """Magnitudes of attenuation A_lambda for each A_V (rows) and wavelength (columns).

    Uses the Cardelli, Clayton & Mathis (1989) curve with R_V = 3.1 from dust_extinction.
    """
    return np.outer(np.asarray(a_v, dtype=float), extinction_curve(wavelength, "CCM89", R_V))


def _check_grid(grid: str) -> None:
    if grid not in LIBRARY_GRIDS:
        raise ValueError(f"grid={grid!r}: expected one of {LIBRARY_GRIDS}")


def _computable(grid: str) -> tuple[pd.DataFrame, pd.Series, list[str], set[str]]:
    """The line table (derived lines included), whether the attenuation curve covers each of
    its lines, ``grid``'s own lines (in its file's order), and every line ``grid`` gives:
    its own and those derived from them (shared by :func:`library_lines` and the check of
    the lines asked of :func:`build_library`)."""
    table = line_table(derived=True)
    own = list(_grid(grid)[2])
    derived = {d for d, (parent, *_) in DERIVED_LINES.items() if parent in own}
    return table, table["wavelength"].between(*ATTENUATION_RANGE), own, set(own) | derived


def _resolve_lines(lines, grid: str = "mappings") -> tuple[list[str], list[str], pd.DataFrame]:
    """Canonical names of the requested lines, the grid lines needed, and their metadata."""
    table, in_range, own, grid_lines = _computable(grid)
    if lines is None:
        # single lines only: the MAPPINGS doublet sums (``OII3726_29`` ...) would repeat them;
        # a Cloudy grid gives only the sums, so all its lines
        lines = [l for l in own if in_range[l] and (grid != "mappings" or l in line_table().index)]
        if grid != "mappings":  # MAPPINGS keeps its file's order
            lines = sorted(lines, key=lambda l: table.at[l, "wavelength"])
    lines = canonical_lines(list(lines))
    missing = [l for l in lines if l not in grid_lines]
    if missing:
        raise ValueError(f"lines not computed by the {grid} grid: {missing}; it has "
                         f"{sorted(grid_lines)}")
    outside = [l for l in lines if not in_range[l]]
    if outside:
        raise ValueError(f"lines outside the attenuation curve's range {ATTENUATION_RANGE} A: "
                         f"{outside}")
    parents = [DERIVED_LINES[l][0] if l in DERIVED_LINES else l for l in lines]
    return lines, list(dict.fromkeys(parents)), table.loc[lines, ["wavelength", "species"]]


def library_lines(grid: str = "mappings") -> list[str]:
    """Every line :func:`build_library` can compute from ``grid``: the grid's lines, the derived
    lines and the grid's doublet sums, where the attenuation curve is defined."""
    _check_grid(grid)
    table, in_range, _, computable = _computable(grid)
    return [l for l in table.index if l in computable and in_range[l]]


@functools.lru_cache(maxsize=1)
def _full_cube() -> tuple[tuple[np.ndarray, ...], np.ndarray, dict[str, int]]:
    """The HII grid on its axes, all lines (read once: the grid file takes ~0.1 s to parse)."""
    grid = load_grid("HII")
    axes, cube = grid_cube(grid, grid.attrs["lines"])
    return axes, cube, {l: i for i, l in enumerate(grid.attrs["lines"])}


def _grid(grid: str) -> tuple[tuple[np.ndarray, ...], np.ndarray, dict[str, int], tuple[str, ...]]:
    """Axes, log-flux cube, line columns and axis names of a grid."""
    if grid == "mappings":
        return _full_cube() + (GRID_PARAMETERS,)
    axes, cube, column, _ = cloudy_cube(grid)
    return axes, cube, column, ("12+log(O/H)", "log N/O", "log U")


def grid_axes(grid: str = "mappings") -> dict[str, np.ndarray]:
    """The nodes of each parameter axis of a grid, in the order of its cube's axes."""
    _check_grid(grid)
    axes, _, _, names = _grid(grid)
    return dict(zip(names, axes))


def _cube(lines: list[str], grid: str = "mappings") -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    axes, cube, column, _ = _grid(grid)
    return axes, cube[..., [column[l] for l in lines]]


def _model_fluxes(params: np.ndarray, a_v: np.ndarray, lines: list[str], grid_lines: list[str],
                  meta: pd.DataFrame, interpolation: str, grid: str = "mappings") -> np.ndarray:
    """Attenuated fluxes (relative to intrinsic Hbeta) at points on the grid's axes (for
    MAPPINGS log U, log P/k, 12+log O/H; for Cloudy 12+log(O/H), log N/O, log U)."""
    axes, cube = _cube(grid_lines, grid)
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


def _labels(params: np.ndarray, a_v: np.ndarray, grid: str = "mappings") -> pd.DataFrame:
    if grid != "mappings":
        oh, log_no, log_u = params.T
        return pd.DataFrame({"12+log(O/H)": oh, "log N/O": log_no, "log U": log_u, "A_V": a_v})
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
    return _models_at("mappings", (log_u, log_pk, oh, a_v), MUSE_LINES if lines is None else lines,
                      interpolation)


def _models_at(grid: str, values: tuple, lines, interpolation: str) -> pd.DataFrame:
    """Line fluxes of ``grid``'s models at parameter ``values`` (its three axes in order, then
    A_V; scalars or arrays of one length), checked to lie inside the grid."""
    lines, grid_lines, meta = _resolve_lines(lines, grid)
    params = np.column_stack(np.broadcast_arrays(*map(np.atleast_1d, values)))
    axes, _, _, names = _grid(grid)
    for j, (name, axis) in enumerate(zip(names, axes)):
        if np.any((params[:, j] < axis[0]) | (params[:, j] > axis[-1])):
            raise ValueError(f"{name} outside the grid's range [{axis[0]}, {axis[-1]}]")
    return pd.DataFrame(_model_fluxes(params[:, :3], params[:, 3], lines, grid_lines, meta,
                                      interpolation, grid), columns=lines)


def cloudy_model(oh, log_no, log_u, a_v=0.0, lines: list[str] | None = None,
                 interpolation: str = "cubic", grid: str = "cloudy-popstar") -> pd.DataFrame:
    """Line fluxes of Cloudy models (the library's interpolation) at 12+log(O/H), log N/O,
    log U and A_V (scalars or arrays of one length); default lines: all of the grid's."""
    if grid == "mappings":
        raise ValueError("cloudy_model takes a Cloudy grid; use grid_model for MAPPINGS")
    _check_grid(grid)
    return _models_at(grid, (oh, log_no, log_u, a_v), lines, interpolation)


@functools.lru_cache(maxsize=1)
def hcm_constraints() -> pd.DataFrame:
    """HII-CHI-mistry's star-forming constraints (its ``template_OH.dat``, committed in
    ``data/cloudy``): for each 12+log(O/H), the range of log U and of log N/O."""
    table = pd.read_csv(DATA_DIR / "template_OH.dat", sep=r"\s+")
    expected = ["12+log(O/H)", "log(U)_min", "log(U)_max", "log(N/O)_min", "log(N/O)_max"]
    if list(table.columns) != expected:
        raise ValueError(f"{DATA_DIR / 'template_OH.dat'}: columns {list(table.columns)}, "
                         f"expected {expected}")
    return table


def hcm_allowed(oh, log_u, limits: pd.DataFrame | None = None) -> np.ndarray:
    """True where log U lies within HII-CHI-mistry's star-forming limits at that 12+log(O/H).

    The limits (``limits``, default :func:`hcm_constraints`) are interpolated linearly in
    O/H between the table's rows, as the ``hcm-sfg`` prior draws them; the ends are included.
    Keeping the allowed models of a uniform library draws that prior by rejection.
    """
    table = hcm_constraints() if limits is None else limits
    oh, log_u = np.asarray(oh, dtype=float), np.asarray(log_u, dtype=float)
    low = np.interp(oh, table["12+log(O/H)"], table["log(U)_min"])
    high = np.interp(oh, table["12+log(O/H)"], table["log(U)_max"])
    return (log_u >= low) & (log_u <= high)


def _draw(rng: np.random.Generator, n: int, grid: str, prior: str) -> np.ndarray:
    """Parameters on the grid's axes: uniform over its box, or under a constraint prior."""
    axes = _grid(grid)[0]
    if prior == "uniform":
        return np.column_stack([rng.uniform(a[0], a[-1], n) for a in axes])
    table = hcm_constraints()
    oh = rng.uniform(axes[0][0], axes[0][-1], n)
    at = lambda column: np.interp(oh, table["12+log(O/H)"], table[column])  # noqa: E731
    log_u = rng.uniform(at("log(U)_min"), at("log(U)_max"))
    if prior == "hcm-sfg-no":
        log_no = rng.uniform(at("log(N/O)_min"), at("log(N/O)_max"))
    else:
        log_no = rng.uniform(axes[1][0], axes[1][-1], n)
    return np.column_stack([oh, log_no, log_u])


def build_library(
    n_models: int = 50_000,
    lines: list[str] | None = None,
    seed: int = 0,
    interpolation: str = "cubic",
    av_range: tuple[float, float] = (0.0, 3.0),
    grid: str = "mappings",
    prior: str = "uniform",
) -> Library:
    """Draw a library of model spectra from a photoionisation grid.

    Parameters are drawn over the grid's ranges (uniformly by default), log line fluxes are
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
    grid
        ``"mappings"`` (MAPPINGS 5.1, labels :data:`LABELS`), ``"cloudy-popstar"`` or
        ``"cloudy-bpass"`` (Cloudy 17 of HII-CHI-mistry, labels :data:`CLOUDY_LABELS`; its
        H-alpha is case B at each node's own temperature, see
        :mod:`~course_utils.library.cloudy`).
    prior
        One of :data:`PRIORS`; the constraint priors need a Cloudy grid.

    Returns
    -------
    Library
    """
    _check_grid(grid)
    if prior not in PRIORS:
        raise ValueError(f"prior={prior!r}: expected one of {PRIORS}")
    if prior != "uniform" and grid == "mappings":
        raise ValueError(f"prior={prior!r} constrains log N/O or log U against O/H, which "
                         "needs a Cloudy grid (grid='cloudy-popstar' or 'cloudy-bpass')")
    if int(n_models) != n_models or n_models < 1:
        raise ValueError(f"n_models must be a positive integer, got {n_models!r}")
    if not 0 <= av_range[0] <= av_range[1]:
        raise ValueError(f"av_range must be (low, high) with 0 <= low <= high, got {av_range!r}")
    lines, grid_lines, meta = _resolve_lines(lines, grid)
    rng = np.random.default_rng(seed)
    params = _draw(rng, int(n_models), grid, prior)
    a_v = rng.uniform(av_range[0], av_range[1], int(n_models))
    intensities = pd.DataFrame(_model_fluxes(params, a_v, lines, grid_lines, meta, interpolation,
                                             grid), columns=lines)
    if grid != "mappings":
        provenance = dict(grid=cloudy_path(grid).name, code="Cloudy 17 (HII-CHI-mistry)",
                          prior=prior, seed=seed, n_models=int(n_models),
                          interpolation=interpolation, av_range=tuple(float(a) for a in av_range),
                          attenuation=f"Cardelli, Clayton & Mathis 1989, R_V = {R_V}",
                          halpha="case B at each node's own T_e (PyNeb H I)")
        return Library(intensities, _labels(params, a_v, grid), meta, provenance)
    provenance = dict(grid=grid_path("HII").name, seed=seed, n_models=int(n_models),
                      interpolation=interpolation, av_range=tuple(float(a) for a in av_range),
                      attenuation=f"Cardelli, Clayton & Mathis 1989, R_V = {R_V}",
                      solar_oh=SOLAR_OH, density_temperature=DENSITY_TEMPERATURE)
    return Library(intensities, _labels(params, a_v), meta, provenance)


# ------------------------------------------------------------------------------- cache

_CACHE_VERSION = 2


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
    grid: str = "mappings",
    prior: str = "uniform",
) -> Library:
    """:func:`build_library`, cached in ``paths.generated_dir()``.

    The cache file's name encodes the parameters; it stores a SHA-256 checksum of its data.
    A missing, unreadable or corrupt file (checksum mismatch) is rebuilt silently; the
    result is identical to :func:`build_library` with the same arguments.
    """
    _check_grid(grid)
    names = None if lines is None else canonical_lines(list(lines))
    source = grid_path("HII") if grid == "mappings" else cloudy_path(grid)
    key = json.dumps(dict(version=_CACHE_VERSION, n_models=int(n_models), lines=names,
                          seed=seed, interpolation=interpolation,
                          av_range=[float(a) for a in av_range], grid=grid, prior=prior,
                          size=os.path.getsize(source)), sort_keys=True)
    columns = list(LABELS if grid == "mappings" else CLOUDY_LABELS)
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
                       pd.DataFrame(labels, columns=columns), lines_meta, provenance)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        pass  # missing or damaged: rebuild below
    library = build_library(n_models, names, seed, interpolation, av_range, grid, prior)
    intensities = library.intensities.to_numpy()
    labels = library.labels[columns].to_numpy()
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
