"""How well GAME does on its own library: shuffled k-fold cross-validation of one
detected-line pattern, and the importance of each line for each property."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.model_selection import KFold

if TYPE_CHECKING:
    from course_utils.game.estimator import Game


@dataclass
class Validation:
    """Cross-validated scores of one detected-line pattern.

    Attributes
    ----------
    scores
        One row per property: ``rmse`` (dex; mag for A_V), ``r2``, ``bias`` (mean of
        predicted - true).
    true, predicted
        Out-of-fold true and predicted labels, one column per property.
    pattern
        The detected-line pattern id.
    """

    scores: pd.DataFrame
    true: pd.DataFrame
    predicted: pd.DataFrame
    pattern: str


def cross_validate(
    game: Game, pattern: str | None = None, n_splits: int = 5, noise: np.ndarray | None = None,
    max_models: int | None = None,
) -> Validation:
    """Shuffled k-fold cross-validation of a fitted :class:`Game` on its library.

    Parameters
    ----------
    game
        A fitted estimator (its library, regressor and seed are used).
    pattern
        Detected-line pattern id; default all lines.
    n_splits
        Number of folds (the library is shuffled first, with ``game.random_state``).
    noise
        Relative error per line of the pattern: both the training and the held-out folds
        are perturbed with it (the held-out fold with another seed). Default noise-free.
    max_models
        Use at most this many library models (a random subset), for quick looks.
    """
    game._check_fitted()
    pattern = "1" * len(game.lines_) if pattern is None else pattern
    game._check_pattern(pattern)
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise ValueError(f"n_splits={n_splits!r}: expected a whole number of folds >= 2")
    rows = np.random.default_rng([game._seed(), 3]).permutation(len(game.library_))
    rows = rows[:max_models] if max_models else rows
    predicted = np.empty((len(rows), len(game.properties_)))
    true = game.labels_[rows]
    folds = KFold(n_splits, shuffle=True, random_state=game._seed()).split(rows)
    for k, (train, test) in enumerate(folds):
        X, Y = game.training_set(pattern, noise, rows=rows[train])
        Xt, _ = game.training_set(pattern, noise, rows=rows[test], seed=[game._seed(), 4, k])
        if noise is not None:  # the held-out fold: one noisy copy per model
            Xt = Xt[:len(test)]
        predicted[test] = game._make_model().fit(X, Y).predict(Xt)
    error = predicted - true
    spread = np.sum((true - true.mean(axis=0))**2, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):  # a constant property has no R^2
        r2 = np.where(spread > 0, 1 - np.sum(error**2, axis=0) / spread, np.nan)
    scores = pd.DataFrame({
        "rmse": np.sqrt(np.mean(error**2, axis=0)),
        "r2": r2,
        "bias": error.mean(axis=0)}, index=pd.Index(game.properties_, name="property"))
    return Validation(scores, pd.DataFrame(true, columns=game.properties_),
                      pd.DataFrame(predicted, columns=game.properties_), pattern)


def feature_importances(
    game: Game, pattern: str | None = None, n_repeats: int = 5, test_size: int = 2000,
    noise: np.ndarray | None = None,
) -> pd.DataFrame:
    """Importance of each line for each property.

    Permutation importance (always): the increase of the RMSE on held-out library models
    when one line's feature is shuffled (scikit-learn's ``permutation_importance``), for the
    pattern's cached model (trained with ``noise``, relative errors of the pattern's lines,
    which also perturb the held-out models; default the estimator's own setting). Impurity importance (only for tree ensembles, e.g. the
    ``"game2019"`` preset): from the fitted trees.

    Returns
    -------
    pandas.DataFrame
        Index: the pattern's lines; columns ``("permutation", property)`` and, where
        available, ``("impurity", property)``.
    """
    from sklearn.inspection import permutation_importance

    game._check_fitted()
    pattern = "1" * len(game.lines_) if pattern is None else pattern
    mask = game._check_pattern(pattern)
    if noise is None and game.noise_aware is not True:
        fixed = game._fixed_noise()
        noise = None if fixed is None else fixed[mask]
    model = game.model_for(pattern, noise)
    rows = np.random.default_rng([game._seed(), 5]).choice(
        len(game.library_), min(test_size, len(game.library_)), replace=False)
    X, Y = game.training_set(pattern, noise, rows=rows, seed=[game._seed(), 6])
    X, Y = X[:len(rows)], Y[:len(rows)]
    lines = [l for l, m in zip(game.lines_, mask) if m]
    out = {}
    for j, prop in enumerate(game.properties_):
        def neg_rmse(estimator, X, y, j=j):
            return -np.sqrt(np.mean((estimator.predict(X)[:, j] - y) ** 2))
        result = permutation_importance(_Fitted(model), X, Y[:, j], scoring=neg_rmse,
                                        n_repeats=n_repeats, random_state=game._seed())
        out[("permutation", prop)] = result.importances_mean
    impurity = model.impurity_importances
    if impurity is not None:
        for j, prop in enumerate(game.properties_):
            out[("impurity", prop)] = impurity[:, j]
    return pd.DataFrame(out, index=pd.Index(lines, name="line"))


class _Fitted(BaseEstimator):
    """A fitted internal model seen as a scikit-learn estimator (for permutation_importance)."""

    def __init__(self, model=None):
        self.model = model

    def fit(self, X, y):  # pragma: no cover - never refitted
        return self

    def predict(self, X):
        return self.model.predict(np.asarray(X, dtype=float))

