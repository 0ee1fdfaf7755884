"""Learning oxygen abundances from real labels: direct-method abundances as training targets.

GAME learns from photoionization models; here a regressor learns from the ~1000 HII regions of
``data/hii_regions.csv`` whose 12+log(O/H) was measured with the direct (electron-temperature)
method, as Ho (2019, MNRAS 485, 3569) did with a neural network on the same compilation. Three
ideas carry over to any machine learning on real data:

- **Leakage.** Regions of one source paper share a spectrograph, a reduction, a reddening
  correction and a way of measuring the temperature: their errors are correlated. Folds that
  put regions of one paper on both sides of the split score too well. :func:`grouped_folds`
  keeps each group (here the ``reference`` column: the source paper; the host galaxy is
  recorded only for the CHAOS regions, and each CHAOS galaxy has its own papers) in one fold.
- **How many labels.** :func:`learning_curve` trains on subsets of the training folds.
- **Honest uncertainties.** :class:`LabelRegressor` reports a [p16, p84] interval from the
  residuals of an inner grouped cross-validation on its own training set (split-conformal
  style), so the interval is measured on regions the model did not see.

The learner is deliberately simple and fast (a class-sized run takes seconds): ridge
regression on a cubic polynomial of the log line ratios over H-beta. With ``baseline`` it is a
*hybrid*: the column given is a physical estimate of the same quantity (e.g. GAME's O/H from a
model library, :func:`game_estimates`) and the regressor learns the correction to it, so that
with few labels it falls back to the models (plus a constant offset) rather than to the
sample's mean.

:func:`training_distance` measures how far a spectrum lies from the training set (in the
learner's own standardized features), to warn when the learner extrapolates.

Ho's network (github.com/hoiting/OxygenMLP, no licence) is cited, not used: the learner and
its features here are the course's own.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GroupKFold, KFold
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from course_utils import uncertainty
from course_utils.observations import compare_to_direct
from course_utils.threads import one_blas_thread

#: Strong lines the learner uses by default (canonical names), each divided by H-beta.
FEATURE_LINES = ("OII3726_29", "OIII5007", "NII6583", "SII6716_31")
#: Regularisation strengths tried by the ridge regression's own (efficient leave-one-out) search.
ALPHAS = tuple(np.logspace(-3, 3, 13))
#: Refits that leave out the regions beyond ``clip`` robust standard deviations.
CLIP_ROUNDS = 2
#: Percentiles of the reported interval: 16 and 84 hold 68% of a Gaussian.
INTERVAL = (16.0, 84.0)


def log_line_features(intensities: pd.DataFrame, lines: Sequence[str] = FEATURE_LINES) -> pd.DataFrame:
    """log10(line / H-beta) for each line; NaN where a line or H-beta is missing or not positive.

    ``OII3726_29`` is the sum of the doublet; where only ``OII3726`` and ``OII3729`` are
    published separately (some rows of the course's sample) their sum is used.
    """
    I = intensities
    columns = {}
    for line in lines:
        value = I[line].astype(float)
        if line == "OII3726_29" and {"OII3726", "OII3729"} <= set(I.columns):
            value = value.fillna(I["OII3726"] + I["OII3729"])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.log10(value / I["Hbeta"].astype(float))
        columns[f"log {line}/Hbeta"] = ratio.where(np.isfinite(ratio))
    return pd.DataFrame(columns, index=I.index)


def spectra(sample, lines: Sequence[str], relative_error: float = 0.1
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:meth:`HIISample.spectra`, with ``OII3726_29`` summed where only its two lines are published.

    Some extended rows publish [OII]3726 and 3729 separately; GAME and the learner use their
    sum (errors added in quadrature), as the strong rows publish it.
    """
    I, E = sample.spectra(lines, relative_error=relative_error)
    if "OII3726_29" in I.columns:
        single = sample.intensities
        split = ((I["OII3726_29"] == 0) & single["OII3726"].notna() & single["OII3729"].notna())
        I.loc[split, "OII3726_29"] = (single["OII3726"] + single["OII3729"])[split]
        E.loc[split, "OII3726_29"] = np.hypot(sample.errors["OII3726"], sample.errors["OII3729"])[split]
    return I, E


def grouped_folds(groups, n_splits: int = 10) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs in which every group lies in exactly one test fold.

    scikit-learn's :class:`~sklearn.model_selection.GroupKFold` balances the folds' sizes; it
    is deterministic (no seed needed).
    """
    groups = np.asarray(groups)
    if len(np.unique(groups)) < n_splits:
        raise ValueError(f"{len(np.unique(groups))} groups cannot fill {n_splits} folds")
    return list(GroupKFold(n_splits).split(np.zeros(len(groups)), groups=groups))


def random_folds(n: int, n_splits: int = 10, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Shuffled k-fold (train, test) pairs that ignore the groups: the leaky comparison."""
    return list(KFold(n_splits, shuffle=True, random_state=seed).split(np.zeros(n)))


class LabelRegressor(RegressorMixin, BaseEstimator):
    """Ridge regression on a polynomial of the features, with calibrated [p16, p84] intervals.

    Parameters
    ----------
    degree
        Degree of the polynomial of the (standardized) features; 3 by default.
    baseline
        ``None``: an empirical learner. An integer: the column of ``X`` that holds a physical
        estimate of the target (a hybrid); the regressor learns ``y - X[:, baseline]``.
    calibration_folds
        Inner folds (grouped when :meth:`fit` gets ``groups``) whose held-out residuals set
        the interval; 0 switches the intervals off.
    clip
        Label noise: after a first fit, regions whose residual exceeds ``clip`` times the
        robust scatter (1.4826 MAD) of the residuals are left out and the model is refitted,
        :data:`CLIP_ROUNDS` times. A few direct-method abundances are far off whatever the
        method (wrong lines, wrong temperatures); least squares would chase them. ``None``:
        plain ridge regression.
    random_state
        Seed of the inner folds when no groups are given.

    Attributes
    ----------
    model_
        The fitted pipeline (standardize, polynomial, standardize, ridge with its
        regularisation chosen by efficient leave-one-out cross-validation).
    kept_
        Which training rows the last refit used.
    residual_quantiles_
        The 16th and 84th percentiles of the inner folds' held-out residuals (None without).
    """

    def __init__(self, degree: int = 3, baseline: int | None = None, calibration_folds: int = 5,
                 clip: float | None = 3.0, random_state: int = 0):
        self.degree = degree
        self.baseline = baseline
        self.calibration_folds = calibration_folds
        self.clip = clip
        self.random_state = random_state

    def _pipeline(self):
        return make_pipeline(StandardScaler(), PolynomialFeatures(self.degree),
                             StandardScaler(), RidgeCV(alphas=ALPHAS))

    def _fit_robust(self, X: np.ndarray, y: np.ndarray):
        target = self._target(X, y)
        keep = np.ones(len(y), dtype=bool)
        for _ in range(CLIP_ROUNDS + 1 if self.clip else 1):
            model = self._pipeline().fit(X[keep], target[keep])
            residual = target - model.predict(X)
            centre = np.median(residual[keep])
            scatter = 1.4826 * np.median(np.abs(residual[keep] - centre))
            if not self.clip or scatter == 0:
                break
            keep = np.abs(residual - centre) <= self.clip * scatter
        return model, keep

    def _target(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        return y if self.baseline is None else y - X[:, self.baseline]

    def _point(self, model, X: np.ndarray) -> np.ndarray:
        out = model.predict(X)
        return out if self.baseline is None else out + X[:, self.baseline]

    def fit(self, X, y, groups=None) -> "LabelRegressor":
        """Fit on ``X`` (features, no NaN) and ``y``; ``groups`` make the inner folds grouped."""
        X, y = _finite(X, "X"), np.asarray(y, dtype=float)
        if len(X) != len(y) or not np.isfinite(y).all():
            raise ValueError(f"y: expected {len(X)} finite values, got {len(y)} "
                             f"({int(np.sum(~np.isfinite(y)))} not finite)")
        # the matrices are small: one BLAS thread is ~10x faster than several fighting for cores
        with one_blas_thread():
            self._fit_all(X, y, groups)
        return self

    def _fit_all(self, X: np.ndarray, y: np.ndarray, groups) -> None:
        self.model_, self.kept_ = self._fit_robust(X, y)
        self.residual_quantiles_ = None
        if self.calibration_folds:
            if groups is not None and len(np.unique(groups)) >= self.calibration_folds:
                inner = grouped_folds(groups, self.calibration_folds)
            else:
                inner = random_folds(len(X), self.calibration_folds, self.random_state)
            residuals = np.empty(len(X))
            for train, test in inner:
                model = self._fit_robust(X[train], y[train])[0]
                residuals[test] = y[test] - self._point(model, X[test])
            self.residual_quantiles_ = np.percentile(residuals, INTERVAL)

    def predict(self, X) -> np.ndarray:
        """Point estimates (NaN for rows with a missing feature)."""
        X = np.asarray(X, dtype=float)
        out = np.full(len(X), np.nan)
        ok = np.isfinite(X).all(axis=1)
        if ok.any():
            with one_blas_thread():
                out[ok] = self._point(self.model_, X[ok])
        return out

    def predict_interval(self, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(estimate, p16, p84): the interval adds the inner folds' residual percentiles."""
        if self.residual_quantiles_ is None:
            raise ValueError("intervals need calibration_folds > 0")
        centre = self.predict(X)
        return centre, centre + self.residual_quantiles_[0], centre + self.residual_quantiles_[1]


def _finite(X, name: str) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or not np.isfinite(X).all():
        bad = np.argwhere(~np.isfinite(X))
        where = f" (first at row {bad[0][0]}, column {bad[0][1]})" if len(bad) else ""
        raise ValueError(f"{name}: expected a 2-D array of finite numbers{where}")
    return X


def cross_validate(model: LabelRegressor, X, y, folds, groups=None) -> pd.DataFrame:
    """Out-of-fold estimate, p16 and p84 for every row, each from the model that did not see it.

    ``groups`` (aligned with the rows) are passed on to :meth:`LabelRegressor.fit`, so the
    intervals are calibrated on grouped inner folds too.
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    out = np.full((len(X), 3), np.nan)
    for train, test in folds:
        if np.intersect1d(train, test).size:
            raise ValueError("a fold has rows on both sides of the split")
        fitted = clone(model).fit(X[train], y[train],
                                  groups=None if groups is None else np.asarray(groups)[train])
        out[test] = np.column_stack(fitted.predict_interval(X[test]))
    return pd.DataFrame(out, columns=["estimate", "p16", "p84"])


def coverage(truth, p16, p84) -> float:
    """Fraction of the rows whose true value lies in [p16, p84] (0.68 for honest intervals),
    among those where all three are known (:func:`course_utils.uncertainty.coverage`)."""
    truth, p16, p84 = (np.asarray(a, dtype=float) for a in (truth, p16, p84))
    ok = np.isfinite(truth) & np.isfinite(p16) & np.isfinite(p84)
    return uncertainty.coverage(p16[ok], p84[ok], truth[ok])


def learning_curve(models: dict[str, tuple[RegressorMixin, np.ndarray]], y, folds,
                   sizes: Sequence[int],
                   repeats: int = 3, seed: int = 0) -> pd.DataFrame:
    """Robust scatter of held-out estimates when only ``size`` labelled regions are used.

    For each size, each fold and each repeat, ``size`` regions are drawn (seeded, without
    replacement) from the fold's training part; every model (a ``name: (model, X)`` pair: each
    model has its own features; any scikit-learn regressor) is trained on them and predicts
    the fold's test regions. The table has one row per size and one column per model: the
    robust scatter (1.4826 MAD) of all held-out differences, pooled over folds, averaged over
    the repeats. A size larger than a fold's training part uses all of it.
    """
    y = np.asarray(y, dtype=float)
    rng = np.random.default_rng(seed)
    rows = {}
    for size in sizes:
        scores = {name: [] for name in models}
        for _ in range(repeats):
            estimates = {name: np.full(len(y), np.nan) for name in models}
            for train, test in folds:
                chosen = rng.choice(train, size=min(size, len(train)), replace=False)
                for name, (model, X) in models.items():
                    X = np.asarray(X, dtype=float)
                    fitted = clone(model)
                    if "calibration_folds" in fitted.get_params():
                        fitted.set_params(calibration_folds=0)  # no intervals needed here
                    with one_blas_thread():
                        fitted.fit(X[chosen], y[chosen])
                        estimates[name][test] = fitted.predict(X[test])
            for name in models:
                scores[name].append(compare_to_direct(estimates[name], y)[1])
        rows[size] = {name: float(np.mean(v)) for name, v in scores.items()}
    table = pd.DataFrame(rows).T
    table.index.name = "labelled regions"
    return table


def training_distance(X_train, X, k: int = 5, quantile: float = 0.99) -> tuple[np.ndarray, float]:
    """Mean distance of each row of ``X`` to its ``k`` nearest training rows, and a threshold.

    Features are standardized with the training set's mean and spread. The threshold is the
    ``quantile`` of the same distance for the training rows themselves (each without itself):
    a row beyond it lies farther from the training set than 99% of the training regions do,
    and the learner is extrapolating there. Rows with a missing feature get NaN.
    """
    X_train = _finite(X_train, "X_train")
    scaler = StandardScaler().fit(X_train)
    Z_train = scaler.transform(X_train)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(Z_train)
    own = nn.kneighbors(Z_train)[0][:, 1:].mean(axis=1)
    X = np.asarray(X, dtype=float)
    out = np.full(len(X), np.nan)
    ok = np.isfinite(X).all(axis=1)
    if ok.any():
        out[ok] = nn.kneighbors(scaler.transform(X[ok]), n_neighbors=k)[0].mean(axis=1)
    return out, float(np.quantile(own, quantile))


def game_estimates(intensities: pd.DataFrame, errors: pd.DataFrame, library,
                   properties: Sequence[str] = ("12+log(O/H)", "log U", "log P/k"),
                   n_draws: int = 50, seed: int = 0) -> pd.DataFrame:
    """GAME's median estimates (and its ``flag``) for the spectra, trained on ``library``.

    The library is a parameter so that any model library can supply the physics (the MAPPINGS
    library of :func:`course_utils.library.load_library`, or another code's with other
    properties such as log N/O): its lines must include the columns of ``intensities``.
    GAME never sees the direct-method abundances, so its estimates can be used as features
    of every fold without leaking labels.
    """
    from course_utils.game import Game

    lines = list(intensities.columns)
    game = Game(properties=list(properties), lines=lines, n_draws=n_draws, noise_aware=True,
                random_state=seed).fit(library)
    table = game.predict(intensities, errors)
    out = table[[f"{p}_median" for p in properties] + ["flag"]].copy()
    out.columns = [f"GAME {p}" for p in properties] + ["GAME flag"]
    out.index = intensities.index
    return out
