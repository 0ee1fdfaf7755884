"""TEMPORARY stand-in for course_utils.game.Game while it is written (same interface).

Only notebooks 08-09 use it, and only until course_utils.game is merged; then this file is
deleted and the notebooks import the real estimator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import AdaBoostRegressor
from sklearn.tree import DecisionTreeRegressor

from .library import MUSE_LINES

PROPERTIES = ("12+log(O/H)", "log U", "log P/k", "A_V")
STATS = ("mean", "median", "std", "p16", "p84")


def _features(x):
    x = np.where(np.isfinite(x) & (x > 0), x, 0.0)
    return np.log10(np.clip(x / x.max(axis=1, keepdims=True), 1e-6, None))


class Game(BaseEstimator):
    def __init__(self, properties=PROPERTIES, lines=MUSE_LINES, regressor="default", n_draws=100,
                 noise_aware=False, random_state=0):
        self.properties, self.lines, self.regressor = properties, lines, regressor
        self.n_draws, self.noise_aware, self.random_state = n_draws, noise_aware, random_state

    def fit(self, library):
        self.lines_, self.properties_ = list(self.lines), list(self.properties)
        rng = np.random.default_rng(self.random_state)
        x = library.intensities[self.lines_].to_numpy()
        x = x * (1 + 0.05 * rng.standard_normal(x.shape))
        self.models_ = [AdaBoostRegressor(DecisionTreeRegressor(), n_estimators=2,
                                          random_state=self.random_state)
                        .fit(_features(x), library.labels[p]) for p in self.properties_]
        return self

    def predict(self, intensities, errors=None, return_draws=False):
        I = np.asarray(pd.DataFrame(intensities)[self.lines_], float)
        E = np.asarray(pd.DataFrame(errors)[self.lines_], float)
        rng = np.random.default_rng([int(self.random_state or 0), 2])
        d = np.repeat(I[:, None, :], self.n_draws, axis=1)
        En = np.broadcast_to(E[:, None, :], d.shape)
        noisy = En > 0
        d[noisy] = np.abs(d[noisy] + En[noisy] * rng.standard_normal(int(noisy.sum())))
        lim = En == -99
        d[lim] *= rng.uniform(0, 1, int(lim.sum()))
        x = _features(d.reshape(-1, I.shape[1]))
        draws = np.stack([m.predict(x) for m in self.models_], axis=-1).reshape(len(I), self.n_draws, -1)
        cols = {}
        for k, p in enumerate(self.properties_):
            v = draws[:, :, k]
            cols.update({f"{p}_mean": v.mean(1), f"{p}_median": np.median(v, 1), f"{p}_std": v.std(1),
                         f"{p}_p16": np.percentile(v, 16, 1), f"{p}_p84": np.percentile(v, 84, 1)})
        table = pd.DataFrame(cols)
        return (table, draws) if return_draws else table
