"""GAME: physical properties of ionized gas from emission lines by supervised machine learning.

This is the course's reference implementation of GAME (GAlaxy Machine learning for Emission
lines; Ucci et al. 2017, MNRAS 465, 1144; Ucci et al. 2018, MNRAS 477, 1484; Ucci et al. 2019,
MNRAS 483, 1295). A regressor learns each physical property (metallicity, ionization parameter,
pressure, dust attenuation ...) from the line intensities of a library of photoionization
models; observed spectra are then turned into properties, with uncertainties from Monte Carlo
draws of the line intensities within their errors.

Differences from the public GAME code (each fixes a weak point of it):

- features are normalised by the brightest line *among the lines detected in the spectrum*,
  and the library is normalised the same way for each detected-line pattern, so a missing
  brightest line does not shift the features;
- a detected line with error 0 is exact (not missing); Gaussian draws are truncated at zero;
- the library is shuffled before any train/test split; every random step takes a seed;
- optional noise-aware training (described by Ucci et al. 2018, absent from the public code):
  the library is perturbed with the relative errors of the spectra being fitted.

Input conventions (those of GAME): a missing line has intensity 0 (or NaN); an error of
``-99`` marks the intensity as an upper limit; an error of 0 on a detected line means exact.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import AdaBoostRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold
from sklearn.neural_network import MLPRegressor
from sklearn.tree import DecisionTreeRegressor
from threadpoolctl import threadpool_limits

from course_utils.library import MUSE_LINES, UPPER_LIMIT, Library

#: The four properties the course fits by default.
PROPERTIES = ("12+log(O/H)", "log U", "log P/k", "A_V")
#: Summary statistics of the Monte Carlo draws, in output column order.
STATS = ("mean", "median", "std", "p16", "p84")
#: Floor of the normalised intensities before the log: 1e-6 of the brightest line (-6 dex).
#: Fainter values (zero from an upper-limit draw, or grid lines below MAPPINGS' reporting
#: threshold of 1e-5 Hbeta) carry no information at the precision of real spectra.
FLOOR = 1e-6
#: Rows predicted at once: bounds the memory of the Monte Carlo batch (~100 MB at 10 lines).
CHUNK = 200_000
#: Noise-aware training uses this many perturbed copies of the library (measured in
#: ``benchmarks/game_accuracy.py``: 3 copies beat 1 by ~0.005 dex in O/H and U at 10% errors).
NOISE_COPIES = 3


class GameInputError(ValueError):
    """Intensities or errors that GAME cannot use; the message names the row and column."""


def features(intensities: np.ndarray) -> np.ndarray:
    """GAME's features: log10 of each spectrum divided by its brightest line.

    Parameters
    ----------
    intensities
        Array ``(n_spectra, n_lines)`` of the lines used (all detected; no NaN).

    Returns
    -------
    numpy.ndarray
        ``log10(I / max(I))`` floored at ``log10(FLOOR)``, so every row has a 0 and values <= 0.
    """
    intensities = np.asarray(intensities)
    brightest = intensities.max(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = intensities / brightest
    # NaN (0/0) and anything below the floor go to the floor
    return np.log10(np.fmax(ratio, FLOOR, out=ratio), out=ratio)


def pattern_id(detected: np.ndarray) -> str:
    """Name of a detected-line pattern: '1' for each line used, '0' for each missing line."""
    return "".join("1" if d else "0" for d in detected)


def pattern_mask(pattern: str) -> np.ndarray:
    """Boolean mask of the lines a pattern id uses (inverse of :func:`pattern_id`)."""
    return np.array([c == "1" for c in pattern])


# --------------------------------------------------------------------------- regressors

class _MultiOutput:
    """One regressor for every property at once, on standardised features and targets."""

    def __init__(self, regressor):
        self.regressor = regressor

    def fit(self, X: np.ndarray, Y: np.ndarray) -> "_MultiOutput":
        self.x_mean, self.x_scale = X.mean(axis=0), X.std(axis=0) + 1e-12
        self.y_mean, self.y_scale = Y.mean(axis=0), Y.std(axis=0) + 1e-12
        # float32 halves the work; one BLAS thread, because threads only add overhead on
        # mini-batches this small (measured: 10x slower with 2 threads on a busy machine).
        with threadpool_limits(1, user_api="blas"), warnings.catch_warnings():
            # a fixed number of epochs is the design (measured), not a convergence failure
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.regressor.fit(((X - self.x_mean) / self.x_scale).astype(np.float32),
                               ((Y - self.y_mean) / self.y_scale).astype(np.float32))
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        reg = self.regressor
        if not (isinstance(reg, MLPRegressor) and reg.activation == "relu"):
            Y = reg.predict((X - self.x_mean) / self.x_scale)
            return Y.reshape(len(X), -1) * self.y_scale + self.y_mean
        # The MLP's forward pass in float32, the bulk of the Monte Carlo cost, with the
        # feature and target scalings folded into the first and last layers.
        weights = [np.asarray(W, dtype=float) for W in reg.coefs_]
        biases = [np.asarray(b, dtype=float) for b in reg.intercepts_]
        biases[0] = biases[0] - (self.x_mean / self.x_scale) @ weights[0]
        weights[0] = weights[0] / self.x_scale[:, None]
        weights[-1] = weights[-1] * self.y_scale
        biases[-1] = biases[-1] * self.y_scale + self.y_mean
        Z = np.asarray(X, dtype=np.float32)
        for i, (W, b) in enumerate(zip(weights, biases)):
            Z = Z @ W.astype(np.float32)
            Z += b.astype(np.float32)
            if i < len(weights) - 1:
                np.maximum(Z, 0.0, out=Z)
        return Z

    @property
    def impurity_importances(self) -> np.ndarray | None:
        return None


class _PerProperty:
    """One clone of a regressor per property, as GAME does."""

    def __init__(self, regressor):
        self.regressor = regressor

    def fit(self, X: np.ndarray, Y: np.ndarray) -> "_PerProperty":
        self.models = [clone(self.regressor).fit(X, y) for y in Y.T]
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.column_stack([m.predict(X) for m in self.models])

    @property
    def impurity_importances(self) -> np.ndarray | None:
        if not all(hasattr(m, "feature_importances_") for m in self.models):
            return None
        return np.column_stack([m.feature_importances_ for m in self.models])


def default_regressor(random_state: int | None = 0) -> MLPRegressor:
    """The course's default: a multi-output MLP on standardised log features.

    Chosen by measurement (``benchmarks/game_speed.py``, ``benchmarks/game_accuracy.py``):
    as accurate as GAME's published AdaBoost configuration or better, and much faster.
    """
    return MLPRegressor(hidden_layer_sizes=(64, 64), batch_size=512, learning_rate_init=2e-3,
                        max_iter=30, tol=0.0, n_iter_no_change=1000, random_state=random_state)


def game2019_regressor(random_state: int | None = 0) -> AdaBoostRegressor:
    """GAME's published configuration (Ucci et al. 2019; public code).

    AdaBoost over unlimited-depth regression trees, 50 estimators, linear loss,
    learning rate 1, fitted separately for each property.
    """
    return AdaBoostRegressor(DecisionTreeRegressor(random_state=random_state), n_estimators=50,
                             loss="linear", learning_rate=1.0, random_state=random_state)


# --------------------------------------------------------------------------- estimator

class Game(BaseEstimator):
    """GAME estimator: line intensities to physical properties with uncertainties.

    Parameters
    ----------
    properties
        Library label columns to predict.
    lines
        Library line columns the estimator may use (input columns of :meth:`predict`).
    regressor
        ``"default"`` (a multi-output MLP, see :func:`default_regressor`), ``"game2019"``
        (GAME's published AdaBoost configuration, one model per property) or any
        scikit-learn regressor (cloned and fitted once per property).
    n_draws
        Monte Carlo draws per spectrum for the uncertainties.
    noise_aware
        ``False``: train on the noise-free library. ``True``: for each detected-line pattern,
        train on the library perturbed with the median relative error of each line among the
        spectra being predicted (Ucci et al. 2018). A number: that relative error for every line.
    random_state
        Seed of the regressors, the noise-aware perturbations and the Monte Carlo draws.

    Attributes
    ----------
    models_
        Fitted models by ``(pattern, noise)`` key: trained lazily, once, for each detected-line
        pattern met in :meth:`predict`.
    """

    def __init__(
        self,
        properties: Sequence[str] = PROPERTIES,
        lines: Sequence[str] = MUSE_LINES,
        regressor="default",
        n_draws: int = 100,
        noise_aware: bool | float = False,
        random_state: int | None = 0,
    ):
        self.properties = properties
        self.lines = lines
        self.regressor = regressor
        self.n_draws = n_draws
        self.noise_aware = noise_aware
        self.random_state = random_state

    # ----------------------------------------------------------------- fitting
    def _make_model(self):
        if isinstance(self.regressor, str):
            if self.regressor == "default":
                return _MultiOutput(default_regressor(self.random_state))
            if self.regressor == "game2019":
                return _PerProperty(game2019_regressor(self.random_state))
            raise ValueError(f"regressor={self.regressor!r}: expected 'default', 'game2019' "
                             "or a scikit-learn regressor")
        if not hasattr(self.regressor, "fit") or not hasattr(self.regressor, "predict"):
            raise TypeError(f"regressor={self.regressor!r} has no fit/predict methods")
        return _PerProperty(self.regressor)

    def fit(self, library: Library) -> "Game":
        """Store the library and train the model that uses every line.

        Models for other detected-line patterns are trained when first needed.
        """
        self.lines_ = list(self.lines)
        self.properties_ = list(self.properties)
        if len(self.lines_) == 0 or len(set(self.lines_)) != len(self.lines_):
            raise ValueError(f"lines={self.lines!r}: expected distinct line names")
        for kind, names, table in (("lines", self.lines_, library.intensities),
                                   ("properties", self.properties_, library.labels)):
            absent = [n for n in names if n not in table.columns]
            if absent:
                raise KeyError(f"{kind} not in the library: {absent}; it has {list(table.columns)}")
        self._make_model()  # fail early on a bad regressor
        self.library_ = np.asarray(library.intensities[self.lines_], dtype=float)
        self.labels_ = np.asarray(library.labels[self.properties_], dtype=float)
        self.models_: dict = {}
        if self.noise_aware is not True:  # otherwise the noise level comes from the data
            self.model_for("1" * len(self.lines_), self._fixed_noise())
        return self

    def _fixed_noise(self) -> np.ndarray | None:
        if self.noise_aware is False or self.noise_aware is None:
            return None
        if self.noise_aware is True:
            raise ValueError("noise_aware=True takes the noise level from the spectra")
        return np.full(len(self.lines_), float(self.noise_aware))

    def training_set(
        self, pattern: str, noise: np.ndarray | None = None, rows: np.ndarray | None = None,
        seed: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Features and labels of the library for one detected-line pattern.

        The library columns of the pattern's lines are normalised by their own brightest line
        (not by the brightest of all lines, GAME's bug). ``noise`` (relative error per line of
        the pattern, or None) perturbs the intensities with a normal truncated at zero.
        """
        mask = pattern_mask(pattern)
        X = self.library_[:, mask] if rows is None else self.library_[rows][:, mask]
        Y = self.labels_ if rows is None else self.labels_[rows]
        if noise is not None:
            rng = np.random.default_rng([self._seed(), 1] if seed is None else seed)
            X = np.tile(X, (NOISE_COPIES, 1))
            X = truncated_normal(X, X * noise, rng)
            Y = np.tile(Y, (NOISE_COPIES, 1))
        return features(X), Y

    def _seed(self) -> int:
        return 0 if self.random_state is None else int(self.random_state)

    def model_for(self, pattern: str, noise: np.ndarray | None = None):
        """The fitted model for a detected-line pattern (trained on first use, then cached)."""
        key = (pattern, None if noise is None else tuple(np.round(noise, 4)))
        if key not in self.models_:
            X, Y = self.training_set(pattern, noise)
            self.models_[key] = self._make_model().fit(X, Y)
        return self.models_[key]

    # ----------------------------------------------------------------- prediction
    def _as_arrays(self, intensities, errors) -> tuple[np.ndarray, np.ndarray | None]:
        def table(data, what):
            if isinstance(data, pd.DataFrame):
                absent = [l for l in self.lines_ if l not in data.columns]
                if absent:
                    raise GameInputError(f"{what}: missing line columns {absent}")
                data = data[self.lines_]
            try:
                array = np.array(data, dtype=float)
            except (TypeError, ValueError) as exc:
                raise GameInputError(f"{what}: expected numbers ({exc})") from None
            if array.ndim == 1:
                array = array[None, :]
            if array.ndim != 2 or array.shape[1] != len(self.lines_):
                raise GameInputError(f"{what}: expected shape (n_spectra, {len(self.lines_)}) "
                                     f"with columns {self.lines_}, got {array.shape}")
            return array

        I = table(intensities, "intensities")
        E = None if errors is None else table(errors, "errors")
        if E is not None and E.shape != I.shape:
            raise GameInputError(f"errors: shape {E.shape} differs from intensities {I.shape}")
        where = lambda bad: f"row {np.argwhere(bad)[0][0]}, column {self.lines_[np.argwhere(bad)[0][1]]}"
        if np.any(np.isinf(I)) or np.any(I < 0):
            raise GameInputError(f"intensities: negative or infinite value at "
                                 f"{where(np.isinf(I) | (I < 0))}")
        detected = np.isfinite(I) & (I > 0)
        empty = ~detected.any(axis=1)
        if empty.any():
            raise GameInputError(f"intensities: row {np.flatnonzero(empty)[0]} has no detected line")
        if E is not None:
            bad = detected & ~(np.isfinite(E) & ((E >= 0) | (E == UPPER_LIMIT)))
            if bad.any():
                raise GameInputError(f"errors: expected an error >= 0 or {UPPER_LIMIT:g} (upper "
                                     f"limit) for a detected line at {where(bad)}")
        return I, E

    def draws(self, I: np.ndarray, E: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
        """Monte Carlo intensities, shape ``(n_spectra, n_draws, n_lines)``, for detected lines.

        Detected lines: normal of width the error, truncated at zero; upper limits (error -99):
        uniform in [0, limit]; error 0: exact.
        """
        n = max(int(self.n_draws), 1)
        shape = (len(I), n, I.shape[1])
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

    def predict(self, intensities, errors=None, return_draws: bool = False):
        """Physical properties of observed spectra, with Monte Carlo uncertainties.

        Parameters
        ----------
        intensities
            DataFrame with the estimator's line names as columns, or an array with its
            ``lines`` in order. A missing line is 0 or NaN. Any units: each spectrum is
            normalised by its brightest line.
        errors
            Same shape: 1-sigma errors, ``-99`` for an upper limit, 0 for exact. ``None``:
            no uncertainties (every draw is the measured spectrum).
        return_draws
            Also return the draws, shape ``(n_spectra, n_draws, n_properties)``.

        Returns
        -------
        pandas.DataFrame
            One row per spectrum: ``{property}_{stat}`` for each stat in :data:`STATS`, then
            ``pattern``, the detected-line pattern id (see :func:`pattern_id`).
        """
        if not hasattr(self, "models_"):
            raise RuntimeError("call fit(library) before predict")
        I, E = self._as_arrays(intensities, errors)
        index = intensities.index if isinstance(intensities, pd.DataFrame) else None
        detected = np.isfinite(I) & (I > 0)
        patterns, inverse = np.unique(detected, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        n, n_draws, n_props = len(I), max(int(self.n_draws), 1), len(self.properties_)
        result = np.empty((n, n_draws, n_props))
        rng = np.random.default_rng([self._seed(), 2])
        for k, mask in enumerate(patterns):
            rows = np.flatnonzero(inverse == k)
            Ik = I[rows][:, mask]
            Ek = None if E is None else E[rows][:, mask]
            model = self.model_for(pattern_id(mask), self._noise_for(Ik, Ek, mask))
            draws = self.draws(Ik, Ek, rng).reshape(-1, int(mask.sum()))
            out = np.empty((len(draws), n_props))
            for start in range(0, len(draws), CHUNK):
                out[start:start + CHUNK] = model.predict(features(draws[start:start + CHUNK]))
            result[rows] = out.reshape(len(rows), n_draws, n_props)
        table = summarise(result, self.properties_, index)
        table["pattern"] = np.array([pattern_id(p) for p in patterns])[inverse]
        return (table, result) if return_draws else table

    def _noise_for(self, I: np.ndarray, E: np.ndarray | None, mask: np.ndarray) -> np.ndarray | None:
        if self.noise_aware is False or self.noise_aware is None:
            return None
        if self.noise_aware is not True:
            return np.full(int(mask.sum()), float(self.noise_aware))
        if E is None:
            return None
        relative = np.where(E > 0, E / I, np.nan)
        level = np.nanmedian(np.where(np.isnan(relative).all(axis=0), 0.0, relative), axis=0)
        # Rounded so that spectra with similar errors share one cached model.
        return np.round(np.nan_to_num(level), 2)


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


def summarise(draws: np.ndarray, properties: Sequence[str], index=None) -> pd.DataFrame:
    """Tidy table of mean, median, std, p16, p84 of draws ``(n_spectra, n_draws, n_properties)``."""
    p16, median, p84 = np.percentile(draws, [16, 50, 84], axis=1)
    stats = {"mean": draws.mean(axis=1), "median": median, "std": draws.std(axis=1),
             "p16": p16, "p84": p84}
    columns = {f"{p}_{s}": stats[s][:, j] for j, p in enumerate(properties) for s in STATS}
    return pd.DataFrame(columns, index=index)
