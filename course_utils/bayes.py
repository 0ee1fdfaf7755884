"""Bayesian grid likelihood: the course's teaching peer of GAME.

The classical alternative to machine learning for emission lines is to compare the observed
fluxes with every model of a photoionization grid and read the physical parameters off the
posterior (IZI, Blanc et al. 2015, ApJ 798, 99; NebulaBayes, Thomas et al. 2018, ApJ 856, 89).
:class:`GridLikelihood` does this on the MAPPINGS 5.1 HII grid that the course library comes
from (or, with ``grid=``, on a Cloudy grid of HII-CHI-mistry, axes 12+log(O/H), log N/O,
log U), interpolated onto a finer grid and extended by an A_V axis (Cardelli et al. 1989 curve).

The likelihood is Gaussian in linear flux. The observed spectrum's unknown scale is fitted
analytically for each model (weighted least squares), so no line has to serve as the
reference: with weights w = 1/sigma^2, observed fluxes o and model fluxes m,

    chi2 = sum(w o^2) - sum(w o m)^2 / sum(w m^2),

which for every spectrum and every grid model takes two matrix products. The prior is
uniform over the grid's parameter box, as for the library. Missing lines get weight 0; an
upper limit L (error -99) enters as a detection L/2 +- L/2 (the mean and, roughly, the spread
of a flux uniform in [0, L]); an exact line (error 0) gets a 0.1% error.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from course_utils.game import PERCENTILES, PROPERTIES, STATS, pattern_id
from course_utils.library import (DENSITY_TEMPERATURE, LIBRARY_GRIDS, MUSE_LINES,
                                  SOLAR_OH, UPPER_LIMIT, attenuation, cloudy_model, grid_axes,
                                  grid_model, line_table)

#: Relative error given to a line whose error is 0 (exact), to keep the likelihood finite.
EXACT_ERROR = 1e-3
#: Every property the estimator can report, as (axis, offset) with property = axis + offset.
_AXES = {"log U": ("log U", 0.0), "log P/k": ("log P/k", 0.0),
         "12+log(O/H)": ("12+log(O/H)", 0.0), "A_V": ("A_V", 0.0),
         "log(Z/Zsun)": ("12+log(O/H)", -SOLAR_OH),
         "log n": ("log P/k", -np.log10(DENSITY_TEMPERATURE))}
#: The same for a Cloudy grid.
_CLOUDY_AXES = {"12+log(O/H)": ("12+log(O/H)", 0.0), "log N/O": ("log N/O", 0.0),
                "log U": ("log U", 0.0), "A_V": ("A_V", 0.0)}


class GridLikelihood(BaseEstimator):
    """Posterior over an interpolated photoionization grid (IZI/NebulaBayes-style).

    Parameters
    ----------
    properties
        Properties to report (any of ``log U``, ``log P/k``, ``12+log(O/H)``, ``A_V``,
        ``log(Z/Zsun)``, ``log n``).
    lines
        Line names used (input columns of :meth:`predict`).
    n_points
        Points of the fine grid along the grid's axes: log U, log P/k and 12+log(O/H) for
        MAPPINGS; 12+log(O/H), log N/O, log U for Cloudy (default (45, 17, 21)).
    av_points, av_range
        Points and range (mag) of the A_V axis; ``(0, 0)`` fits dust-free models.
    chunk
        Spectra evaluated at once (memory ~ chunk x grid size x 8 bytes).
    grid
        ``"mappings"`` (default), ``"cloudy-popstar"`` or ``"cloudy-bpass"``; the prior is
        uniform over the grid's box.

    Attributes
    ----------
    axes_
        The fine grid's axes (log U, log P/k, 12+log(O/H), A_V).
    models_
        Model fluxes, shape ``(grid size, n_lines)``, relative to intrinsic H-beta.
    """

    def __init__(
        self,
        properties: Sequence[str] = PROPERTIES,
        lines: Sequence[str] = MUSE_LINES,
        n_points: tuple[int, int, int] | None = None,
        av_points: int = 31,
        av_range: tuple[float, float] = (0.0, 3.0),
        chunk: int = 16,
        grid: str = "mappings",
    ):
        self.properties = properties
        self.lines = lines
        self.n_points = n_points
        self.av_points = av_points
        self.av_range = av_range
        self.chunk = chunk
        self.grid = grid

    def fit(self, library=None) -> "GridLikelihood":
        """Interpolate the grid. ``library`` is accepted for symmetry with :class:`Game`:
        when given, its A_V range (``provenance["av_range"]``) is used."""
        if self.grid not in LIBRARY_GRIDS:
            raise ValueError(f"grid={self.grid!r}: expected one of {LIBRARY_GRIDS}")
        known = _AXES if self.grid == "mappings" else _CLOUDY_AXES
        unknown = [p for p in self.properties if p not in known]
        if unknown:
            raise KeyError(f"properties {unknown} not available; expected some of {list(known)}")
        av_range = self.av_range
        if library is not None and "av_range" in getattr(library, "provenance", {}):
            av_range = tuple(library.provenance["av_range"])
        nodes = grid_axes(self.grid)
        n_points = self.n_points or ((17, 23, 45) if self.grid == "mappings" else (45, 17, 21))
        axes = [np.linspace(a[0], a[-1], n) for a, n in zip(nodes.values(), n_points)]
        n_av = 1 if av_range[0] == av_range[1] else int(self.av_points)
        axes.append(np.linspace(av_range[0], av_range[1], n_av))
        mesh = np.meshgrid(*axes[:3], indexing="ij")
        self.lines_ = list(self.lines)
        model = grid_model if self.grid == "mappings" else cloudy_model
        extra = {} if self.grid == "mappings" else {"grid": self.grid}
        flux = model(*(m.ravel() for m in mesh), a_v=0.0, lines=self.lines_, **extra).to_numpy()
        wavelength = line_table(derived=True).loc[self.lines_, "wavelength"].to_numpy()
        dimming = 10.0 ** (-0.4 * attenuation(wavelength, axes[3]))  # (n_av, n_lines)
        # grid order (U, P, Z, A_V): A_V varies fastest
        self.models_ = (flux[:, None, :] * dimming[None, :, :]).reshape(-1, len(self.lines_))
        self.axes_ = tuple(axes)
        self.axis_names_ = tuple(nodes) + ("A_V",)
        self.properties_ = list(self.properties)
        return self

    def _weights(self, I: np.ndarray, E: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Observed fluxes and weights 1/sigma^2 after the missing/limit/exact conventions."""
        detected = np.isfinite(I) & (I > 0)
        o = np.where(detected, I, 0.0)
        if E is None:
            sigma = EXACT_ERROR * o
        else:
            limit = detected & (E == UPPER_LIMIT)
            o = np.where(limit, o / 2, o)
            sigma = np.where(limit, o, np.where(E > 0, E, EXACT_ERROR * o))
        with np.errstate(divide="ignore"):
            w = np.where(detected, 1.0 / sigma**2, 0.0)
        return o, w

    def posterior(self, intensities, errors=None) -> np.ndarray:
        """Normalised posterior over the fine grid, shape ``(n_spectra, *grid shape)``."""
        I, E = _arrays(intensities, errors, self.lines_)
        o, w = self._weights(I, E)
        return self._posterior(o, w).reshape((len(I),) + tuple(len(a) for a in self.axes_))

    def _posterior(self, o: np.ndarray, w: np.ndarray) -> np.ndarray:
        M = self.models_
        chi2 = (w * o**2).sum(axis=1)[:, None] - (o * w @ M.T) ** 2 / (w @ (M**2).T)
        log_post = -0.5 * chi2
        log_post -= log_post.max(axis=1, keepdims=True)
        post = np.exp(log_post)
        return post / post.sum(axis=1, keepdims=True)

    def predict(self, intensities, errors=None) -> pd.DataFrame:
        """Posterior mean, median, std, 16th and 84th percentiles of each property.

        Inputs and output follow :meth:`course_utils.game.Game.predict` (without draws).
        """
        I, E = _arrays(intensities, errors, self.lines_)
        o, w = self._weights(I, E)
        shape = tuple(len(a) for a in self.axes_)
        names = self.axis_names_
        known = _AXES if self.grid == "mappings" else _CLOUDY_AXES
        out = np.empty((len(I), len(self.properties_), len(STATS)))
        for start in range(0, len(I), self.chunk):
            post = self._posterior(o[start:start + self.chunk], w[start:start + self.chunk])
            post = post.reshape((-1,) + shape)
            for j, prop in enumerate(self.properties_):
                axis_name, offset = known[prop]
                k = names.index(axis_name)
                pmf = post.sum(axis=tuple(a for a in range(1, 5) if a != k + 1))
                out[start:start + self.chunk, j] = _stats(self.axes_[k] + offset, pmf)
        columns = {f"{p}_{s}": out[:, j, i] for j, p in enumerate(self.properties_)
                   for i, s in enumerate(STATS)}
        index = intensities.index if isinstance(intensities, pd.DataFrame) else None
        table = pd.DataFrame(columns, index=index)
        table["pattern"] = [pattern_id(d) for d in np.isfinite(I) & (I > 0)]
        return table


def _stats(values: np.ndarray, pmf: np.ndarray) -> np.ndarray:
    """The :data:`~course_utils.game.STATS` of distributions ``pmf`` (rows) on the points
    ``values``, in that order.

    Quantiles interpolate the cumulative distribution between grid points, each point's
    probability sitting at its centre.
    """
    mean = pmf @ values
    std = np.sqrt(np.clip(pmf @ values**2 - mean**2, 0.0, None))
    names = list(PERCENTILES)
    if len(values) == 1:
        quantiles = np.repeat(values[None, :], len(pmf), axis=0)[:, [0] * len(names)]
    else:
        cdf = np.cumsum(pmf, axis=1) - 0.5 * pmf
        quantiles = np.array([[np.interp(PERCENTILES[n] / 100, c, values) for n in names]
                              for c in cdf])
    columns = dict(zip(names, quantiles.T), mean=mean, std=std)
    return np.column_stack([columns[s] for s in STATS])


def _arrays(intensities, errors, lines: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    def table(data):
        if isinstance(data, pd.DataFrame):
            data = data[lines]
        array = np.atleast_2d(np.asarray(data, dtype=float))
        if array.shape[1] != len(lines):
            raise ValueError(f"expected {len(lines)} columns {lines}, got shape {array.shape}")
        return array

    I = table(intensities)
    if not ((np.isfinite(I) & (I > 0)).any(axis=1)).all():
        raise ValueError("every spectrum needs at least one detected line")
    return I, None if errors is None else table(errors)
