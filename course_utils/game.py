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
#: Mini-batch steps of a missing-line pattern's MLP when warm-started from a model on more
#: lines; never more epochs than a fresh fit. Measured on 50 000 models with Halpha or
#: [OIII] missing: at 10% noise, 400 steps (~1/5 of a fresh fit's cost) match a fresh fit
#: within 0.002 dex in O/H and U; noise-free, RMSE(O/H) is 0.016-0.020 against 0.012-0.014
#: dex (900 steps: 0.013-0.016), far below what 10% errors allow (~0.04 dex).
WARM_STEPS = 400


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

    def fit(self, X: np.ndarray, Y: np.ndarray, start=None, kept=None) -> "_MultiOutput":
        """Fit; ``start`` (a fitted MLP model on more lines, ``kept`` = mask of this model's
        lines among them) warm-starts the MLP from its weights for :data:`WARM_STEPS` steps."""
        self.x_mean, self.x_scale = X.mean(axis=0), X.std(axis=0) + 1e-12
        self.y_mean, self.y_scale = Y.mean(axis=0), Y.std(axis=0) + 1e-12
        Z = ((X - self.x_mean) / self.x_scale).astype(np.float32)
        T = ((Y - self.y_mean) / self.y_scale).astype(np.float32)
        # float32 halves the work; one BLAS thread, because threads only add overhead on
        # mini-batches this small (measured: 10x slower with 2 threads on a busy machine).
        with threadpool_limits(1, user_api="blas"), warnings.catch_warnings():
            # a fixed number of epochs is the design (measured), not a convergence failure
            warnings.simplefilter("ignore", ConvergenceWarning)
            reg = self.regressor
            if isinstance(reg, MLPRegressor) and isinstance(reg.batch_size, int):
                reg.set_params(batch_size=min(reg.batch_size, len(Z)))  # tiny libraries
            if start is None or not isinstance(reg, MLPRegressor):
                reg.fit(Z, T)
                return self
            # Initialise the layers (one short pass), put in the weights of the model on
            # more lines (its rows for the lines kept), then train on.
            epochs = reg.max_iter
            reg.set_params(max_iter=1, warm_start=True).fit(Z[:reg.batch_size], T[:reg.batch_size])
            old = start.regressor
            reg.coefs_ = [old.coefs_[0][kept].copy()] + [c.copy() for c in old.coefs_[1:]]
            reg.intercepts_ = [b.copy() for b in old.intercepts_]
            warm = int(np.ceil(WARM_STEPS * reg.batch_size / len(Z)))
            reg.set_params(max_iter=min(epochs, warm)).fit(Z, T)
            reg.set_params(max_iter=epochs, warm_start=False)
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
        # one BLAS thread: measured 2-4x faster than two on these thin matrices
        with threadpool_limits(1, user_api="blas"):
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

    Two hidden layers of 64 ReLU units, Adam, mini-batches of 512, 30 epochs. Chosen by
    measurement on a 50 000-model library with the 10 MUSE lines (2 cores): one network for
    all properties costs what one per property would, so fitting and the Monte Carlo
    predictions are ~4x cheaper than per-property models. Trained noise-aware and tested on
    spectra with 10% errors it reaches RMSE 0.039 dex (12+log O/H) and 0.048 dex (log U),
    against 0.139 and 0.079 for GAME's published AdaBoost configuration trained as GAME
    does (``benchmarks/game_accuracy.py``), and fits ~40x faster (``benchmarks/game_speed.py``).
    Wider layers (128, 128) changed the RMSE by < 0.002 dex and predict ~3x slower; (32, 32)
    lost ~0.003 dex in 12+log(O/H).
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
        Seed of the regressors, the noise-aware perturbations and the Monte Carlo draws
        (``None`` means 0: the course's results are reproducible).

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
                return _MultiOutput(default_regressor(self._seed()))
            if self.regressor == "game2019":
                return _PerProperty(game2019_regressor(self._seed()))
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
            model = self._make_model()
            if isinstance(model, _MultiOutput):
                # warm start from the cached model on the most lines that include these
                mask = pattern_mask(pattern)
                bases = [(p, m) for (p, _), m in self.models_.items()
                         if p != pattern and np.all(pattern_mask(p)[mask])]
                if bases:
                    base_pattern, base = max(bases, key=lambda pm: pm[0].count("1"))
                    model.fit(X, Y, start=base, kept=mask[pattern_mask(base_pattern)])
                    self.models_[key] = model
                    return model
            self.models_[key] = model.fit(X, Y)
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

    def predict(self, intensities, errors=None, return_draws: bool = False,
                draw_seed: int | None = None):
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
        draw_seed
            Mixed with ``random_state`` into the seed of the Monte Carlo draws. Separate
            calls on parts of one data set (blocks of a cube) pass different values, so
            their draws are independent yet reproducible; ``None``: ``random_state`` alone.

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
        # patterns with more lines first, so that their models can warm-start the others
        order = np.argsort(-patterns.sum(axis=1), kind="stable")
        n, n_draws, n_props = len(I), max(int(self.n_draws), 1), len(self.properties_)
        result = np.empty((n, n_draws, n_props))
        rng = np.random.default_rng([self._seed(), 2] if draw_seed is None
                                    else [self._seed(), 2, int(draw_seed)])
        for k in order:
            mask = patterns[k]
            rows = np.flatnonzero(inverse == k)
            Ik = I[rows][:, mask]
            Ek = None if E is None else E[rows][:, mask]
            model = self.model_for(pattern_id(mask), self.noise_level(Ik, Ek, mask))
            draws = self.draws(Ik, Ek, rng).reshape(-1, int(mask.sum()))
            out = np.empty((len(draws), n_props))
            for start in range(0, len(draws), CHUNK):
                out[start:start + CHUNK] = model.predict(features(draws[start:start + CHUNK]))
            result[rows] = out.reshape(len(rows), n_draws, n_props)
        table = summarise(result, self.properties_, index)
        table["pattern"] = np.array([pattern_id(p) for p in patterns])[inverse]
        return (table, result) if return_draws else table

    def noise_level(self, I: np.ndarray, E: np.ndarray | None, mask: np.ndarray) -> np.ndarray | None:
        """Relative error per line of a pattern that its noise-aware model is trained with.

        ``I``, ``E``: the pattern's spectra and errors (its lines only); ``mask``: its lines.
        With ``noise_aware=True``, the median over the spectra of error / intensity for each
        line (upper limits and exact lines excluded), rounded to 0.01; None if noise-free.
        """
        if self.noise_aware is False or self.noise_aware is None:
            return None
        if self.noise_aware is not True:
            return np.full(int(mask.sum()), float(self.noise_aware))
        if E is None:
            return None
        relative = np.where(E > 0, E / I, np.nan)
        level = np.nanmedian(np.where(np.isnan(relative).all(axis=0), 0.0, relative), axis=0)
        # Rounded so that spectra with similar errors share one cached model.
        level = np.round(np.nan_to_num(level), 2)
        return level if level.any() else None


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


# --------------------------------------------------------------------------- validation

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
    pattern = "1" * len(game.lines_) if pattern is None else pattern
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
    scores = pd.DataFrame({
        "rmse": np.sqrt(np.mean(error**2, axis=0)),
        "r2": 1 - np.sum(error**2, axis=0) / np.sum((true - true.mean(axis=0))**2, axis=0),
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

    pattern = "1" * len(game.lines_) if pattern is None else pattern
    mask = pattern_mask(pattern)
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


# --------------------------------------------------------------------------- plots

def plot_true_vs_predicted(validation: Validation, axes=None):
    """One panel per property: predicted against true, with the 1:1 line and the RMSE."""
    import matplotlib.pyplot as plt

    props = list(validation.true.columns)
    if axes is None:
        _, axes = plt.subplots(1, len(props), figsize=(3.6 * len(props), 3.4), squeeze=False)
        axes = axes[0]
    for ax, prop in zip(axes, props):
        t, p = validation.true[prop], validation.predicted[prop]
        ax.hexbin(t, p, gridsize=40, mincnt=1, bins="log", cmap="viridis")
        lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
        ax.plot([lo, hi], [lo, hi], "k--", lw=1)
        unit = "mag" if prop == "A_V" else "dex"
        ax.set(xlabel=f"true {prop} ({unit})", ylabel=f"predicted {prop} ({unit})",
               title=f"{prop}: RMSE {validation.scores.at[prop, 'rmse']:.3f} {unit}")
    return axes


def plot_pdfs(draws: np.ndarray, properties: Sequence[str], spectrum: int = 0, axes=None):
    """Histograms of one spectrum's Monte Carlo draws (its PDFs), one panel per property."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, len(properties), figsize=(3.6 * len(properties), 3.0),
                               squeeze=False)
        axes = axes[0]
    for j, (ax, prop) in enumerate(zip(axes, properties)):
        values = draws[spectrum, :, j]
        ax.hist(values, bins=30, density=True, color="0.6")
        for q, style in zip(np.percentile(values, [16, 50, 84]), (":", "-", ":")):
            ax.axvline(q, color="k", ls=style, lw=1)
        unit = "mag" if prop == "A_V" else "dex"
        ax.set(xlabel=f"{prop} ({unit})", ylabel=f"probability density (1/{unit})",
               title=f"spectrum {spectrum}: {prop}")
    return axes
