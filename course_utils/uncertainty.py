"""How good are the estimates and their error bars? Cross-validation scores, Monte Carlo
draws of an observed spectrum, coverage and the probability integral transform (PIT).

These are the reference versions of what notebook 07 asks students to write; its self-checks
compare the students' functions with them.

References
----------
Ucci et al. 2017, MNRAS 465, 1144 (GAME's Monte Carlo draws: Gaussian for a detected line,
uniform below an upper limit); Gneiting, Balabdaoui & Raftery 2007, JRSS B 69, 243 (coverage,
calibration and the PIT histogram).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.model_selection import KFold, cross_validate

from course_utils.game import truncated_normal
from course_utils.library import UPPER_LIMIT


def cv_scores(model, X: ArrayLike, Y: pd.DataFrame, n_splits: int = 5, seed: int = 0) -> pd.DataFrame:
    """Shuffled k-fold cross-validation of one fresh copy of ``model`` per property and fold.

    Returns a DataFrame indexed by ``(property, fold)`` (folds numbered from 0) with the
    columns ``r2`` and ``rmse`` of each test fold. The folds are those of
    ``KFold(n_splits, shuffle=True, random_state=seed)``; scikit-learn's ``cross_validate``
    clones the model for every fold.
    """
    X = np.asarray(X, dtype=float)
    kfold = KFold(n_splits=n_splits, shuffle=True, random_state=seed)
    frames = []
    for prop in Y.columns:
        s = cross_validate(model, X, Y[prop].to_numpy(), cv=kfold,
                           scoring={"r2": "r2", "rmse": "neg_root_mean_squared_error"})
        frames.append(pd.DataFrame({"property": prop, "fold": range(n_splits),
                                    "r2": s["test_r2"], "rmse": -s["test_rmse"]}))
    return pd.concat(frames).set_index(["property", "fold"])


def draw_spectra(flux: ArrayLike, error: ArrayLike, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """Monte Carlo draws of one observed spectrum, shape ``(n_draws, n_lines)``.

    A detected line is drawn from a normal of mean ``flux`` and width ``error``, truncated at
    zero (a flux is never negative); an upper limit (``error == -99``, the flux is the limit)
    uniformly between 0 and the limit; a missing line (``flux == 0``) stays 0.
    """
    flux, error = np.asarray(flux, dtype=float), np.asarray(error, dtype=float)
    shape = (int(n_draws), flux.size)
    limit = error == UPPER_LIMIT
    mean = np.broadcast_to(np.where(flux > 0, flux, 1.0), shape)  # truncated_normal needs mean > 0
    sigma = np.broadcast_to(np.where(limit, 0.0, np.abs(error)), shape)
    gaussian = truncated_normal(mean, sigma, rng)
    uniform = rng.uniform(0.0, 1.0, shape) * flux
    return np.where(flux > 0, np.where(limit, uniform, gaussian), 0.0)


def coverage(lower: ArrayLike, upper: ArrayLike, truth: ArrayLike) -> float:
    """Fraction of cases whose ``truth`` lies in ``[lower, upper]`` (both ends inside)."""
    lower, upper, truth = (np.asarray(a, dtype=float) for a in (lower, upper, truth))
    return float(np.mean((lower <= truth) & (truth <= upper)))


def pit(draws: ArrayLike, truth: ArrayLike) -> np.ndarray:
    """Probability integral transform: for each row of ``draws`` (n_cases, n_draws), the
    fraction of its draws that are at most its own ``truth``."""
    draws, truth = np.asarray(draws, dtype=float), np.asarray(truth, dtype=float)
    return np.mean(draws <= truth[:, None], axis=1)
