"""Monte Carlo: draws of the line intensities within their errors, the regressor's
predictions for every draw, and the summary statistics of the draws."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from course_utils.game.constants import CHUNK, PERCENTILES, STATS
from course_utils.game.spectra import features
from course_utils.library import UPPER_LIMIT


def truncated_normal(mean: np.ndarray, sigma: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draws from normals of the given means and widths, truncated at zero (by rejection).

    Every mean is > 0, so at least half of each normal is accepted and few rounds are needed.
    """
    mean, sigma = np.broadcast_arrays(np.asarray(mean, float), np.asarray(sigma, float))
    out = rng.standard_normal(mean.shape)
    out *= sigma
    out += mean
    bad = np.flatnonzero(out < 0)
    if bad.size:
        mean, sigma = mean.ravel()[bad], sigma.ravel()[bad]
        redo = np.arange(bad.size)
        while redo.size:
            value = mean[redo] + sigma[redo] * rng.standard_normal(redo.size)
            out.flat[bad[redo]] = value
            redo = redo[value < 0]
    return out


def draws(I: np.ndarray, E: np.ndarray | None, n_draws: int,
          rng: np.random.Generator) -> np.ndarray:
    """Monte Carlo intensities, shape ``(n_spectra, n_draws, n_lines)``, for detected lines.

    Detected lines: normal of width the error, truncated at zero; upper limits (error -99):
    uniform in [0, limit]; error 0: exact. Give spectra normalised to their brightest line
    (:meth:`Game.predict` does): the draws are single precision.
    """
    shape = (len(I), int(n_draws), I.shape[1])
    if E is None:
        return np.broadcast_to(I[:, None, :], shape).astype(np.float32)
    sigma = np.broadcast_to(np.where(E > 0, E, 0.0)[:, None, :], shape)
    out = truncated_normal(np.broadcast_to(I[:, None, :], shape), sigma, rng)
    out = out.astype(np.float32)
    limit = E == UPPER_LIMIT
    if limit.any():
        uniform = rng.uniform(0.0, 1.0, shape).astype(np.float32)
        out = np.where(limit[:, None, :], I[:, None, :] * uniform, out)
    return out


def raw_draws(model, I: np.ndarray, E: np.ndarray | None, n_draws: int, n_properties: int,
              rng: np.random.Generator) -> np.ndarray:
    """The regressor's predictions for every Monte Carlo draw, ``(n, n_draws, n_props)``."""
    flat = draws(I, E, n_draws, rng).reshape(-1, I.shape[1])
    out = np.empty((len(flat), n_properties))
    for start in range(0, len(flat), CHUNK):
        out[start:start + CHUNK] = model.predict(features(flat[start:start + CHUNK]))
    return out.reshape(len(I), int(n_draws), -1)


def _draw_levels(n_draws: int) -> np.ndarray:
    """The probability levels that ``n_draws`` calibrated draws stand for, (k + 1/2) / n."""
    return (np.arange(n_draws) + 0.5) / n_draws


def summarise(draws: np.ndarray, properties: Sequence[str], index=None,
              levels: np.ndarray | None = None) -> pd.DataFrame:
    """Tidy table of the :data:`STATS` of draws ``(n_spectra, n_draws, n_properties)``
    (spectra whose draws are NaN get NaN).

    ``levels``: the probability levels that the sorted draws stand for (calibrated draws,
    see :func:`_draw_levels`); the percentiles are then read off them by linear
    interpolation, so that they do not shrink with few draws as sample percentiles do.
    """
    names = list(PERCENTILES)
    q = np.array([PERCENTILES[n] for n in names]) / 100
    if levels is None:
        quantiles = np.percentile(draws, 100 * q, axis=1)
    else:
        ordered = np.sort(draws, axis=1)
        position = np.clip(np.interp(q, levels, np.arange(len(levels))), 0, len(levels) - 1)
        low = np.floor(position).astype(int)
        high = np.minimum(low + 1, len(levels) - 1)
        frac = (position - low)[:, None, None]
        quantiles = (ordered[:, low].transpose(1, 0, 2) * (1 - frac)
                     + ordered[:, high].transpose(1, 0, 2) * frac)
    stats = dict(zip(names, quantiles))
    stats.update(mean=draws.mean(axis=1), std=draws.std(axis=1))
    columns = {f"{p}_{s}": stats[s][:, j] for j, p in enumerate(properties) for s in STATS}
    return pd.DataFrame(columns, index=index)
