"""Calibrated uncertainties: for each detected-line pattern, held-out library models observed
with the errors of the spectra being fitted teach how far the Monte Carlo centre is from the
truth (its bias and size, by two small networks) and the shape of the scaled residuals
(split-conformal quantiles; Lei et al. 2018, arXiv:1604.04173), and set the misfit above which
a spectrum counts as not reproduced."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sklearn.neural_network import MLPRegressor

from course_utils.game.constants import (CALIBRATION_MOCKS, EDGE_SIGMAS, MISFIT_QUANTILE,
                                         MODEL_ERROR, SCALE_EPOCHS)
from course_utils.game.domain import (FLAG_NOT_REPRODUCED, FLAG_OUTSIDE_LIBRARY, candidates,
                                      misfit)
from course_utils.game.montecarlo import _draw_levels, raw_draws, truncated_normal
from course_utils.game.regressors import _MultiOutput
from course_utils.game.spectra import _normalise, features, pattern_id
from course_utils.library import UPPER_LIMIT

if TYPE_CHECKING:
    from course_utils.game.estimator import Game


class _Calibration:
    """Where a pattern's distributions lie and how wide they are, learned from held-out
    library models observed with the spectra's errors.

    Two small networks predict, from the spectrum's features, its centre (the median of the
    Monte Carlo draws) and the spread of its draws, the mean of the residual
    ``truth - centre`` (the centre's bias) and its size; the residuals less that bias and
    divided by that size have nearly the same distribution everywhere, estimated by its
    quantiles on a second, disjoint set of held-out models (locally weighted split-conformal
    calibration; Lei et al. 2018, arXiv:1604.04173). Also holds the misfit above which a
    spectrum is flagged as not reproduced.
    """

    #: Levels of the stored quantile table of the scaled residuals.
    LEVELS = np.linspace(0.0, 1.0, 2001)

    def __init__(self, scale_model: _MultiOutput | None, eps: np.ndarray, quantiles: np.ndarray,
                 misfit_limit: float, shift_model: _MultiOutput | None = None):
        self.scale_model = scale_model
        self.shift_model = shift_model
        self.use_shift = np.ones(len(eps), dtype=bool)
        self.eps = eps
        self.quantiles = quantiles
        self.misfit_limit = misfit_limit

    @staticmethod
    def inputs(X: np.ndarray, centre: np.ndarray, spread: np.ndarray, eps: np.ndarray) -> np.ndarray:
        return np.hstack([X, centre, np.log10(spread + eps)])

    def shift(self, inputs: np.ndarray) -> np.ndarray:
        """Predicted mean residual (the centre's bias), ``(n_spectra, n_properties)``, from
        :meth:`inputs`."""
        n = (len(inputs), len(self.use_shift))
        if self.shift_model is None:
            return np.zeros(n)
        shift = np.asarray(self.shift_model.predict(inputs), dtype=float).reshape(n)
        return shift * self.use_shift

    def scale(self, inputs: np.ndarray) -> np.ndarray:
        """Predicted residual size, shape ``(n_spectra, n_properties)``, from :meth:`inputs`."""
        return np.exp(np.asarray(self.scale_model.predict(inputs), dtype=float))

    def z(self, levels: np.ndarray) -> np.ndarray:
        """Quantiles of the scaled residual at ``levels``, shape ``(len(levels), n_properties)``."""
        return np.column_stack([np.interp(levels, self.LEVELS, q) for q in self.quantiles.T])


def _templates(I: np.ndarray, E: np.ndarray | None) -> np.ndarray:
    """Relative errors of a pattern's spectra, -1 for an upper limit: the calibration mocks
    are observed with these."""
    if E is None:
        return np.zeros((1, I.shape[1]))
    return np.where(E == UPPER_LIMIT, -1.0, np.where(E > 0, E / I, 0.0))


def _with_model_error(X: np.ndarray, error: float, rng: np.random.Generator) -> np.ndarray:
    """Library intensities times an independent lognormal factor per line, of relative
    size ``error`` (sigma log10(1 + error) dex): models that describe a nebula only to that
    precision. Unchanged (and no random numbers drawn) for ``error == 0``."""
    if error == 0:
        return X
    return X * 10 ** rng.normal(0.0, np.log10(1 + error), X.shape)


def _mock_spectra(X: np.ndarray, templates: np.ndarray, rng: np.random.Generator):
    """Library models observed with the relative errors of randomly chosen spectra.

    A line that is an upper limit in the chosen spectrum is an upper limit here too: a
    non-detection at a true signal-to-noise ratio uniform in [0.5, 2.5], quoted as 3 sigma.
    """
    chosen = templates[rng.integers(len(templates), size=len(X))]
    sigma = np.clip(chosen, 0.0, None) * X
    I = truncated_normal(X, sigma, rng)
    E = sigma.copy()
    limit = chosen < 0
    I = np.where(limit, 3.0 * X / rng.uniform(0.5, 2.5, X.shape), I)
    E[limit] = UPPER_LIMIT
    return _normalise(I, E)


def learn_calibration(game: Game, model, mask: np.ndarray, templates: np.ndarray) -> _Calibration:
    """Learn a pattern's uncertainty scale, residual quantiles and misfit limit, for the
    fitted ``model`` of the pattern ``mask`` and spectra with these error ``templates``."""
    pattern = pattern_id(mask)
    rng = np.random.default_rng([game._seed(), 8, int(pattern, 2)])
    X, Y = game.calibration_library_[:, mask], game.calibration_labels_
    n_draws, n_props = int(game.n_draws), len(game.properties_)
    half = len(X) // 2
    span = game.bounds_[1] - game.bounds_[0]
    eps = 1e-3 * np.where(span > 0, span, 1.0)
    sets = []
    for rows in (np.arange(half), np.arange(half, len(X))):
        rows = rows_b = np.resize(rows, max(len(rows), CALIBRATION_MOCKS))
        I, E = _mock_spectra(_with_model_error(X[rows], game.model_error, rng), templates, rng)
        raw = raw_draws(model, I, E, n_draws, n_props, rng)
        centre, spread = np.median(raw, axis=1), raw.std(axis=1)
        sets.append((I, E, Y[rows], centre, spread, raw))
    # 1. the bias and size of the residual, learned on the first half
    I, _, truth, centre, spread, _ = sets[0]
    inputs = _Calibration.inputs(features(I), centre, spread, eps)
    net = lambda: _MultiOutput(MLPRegressor(  # noqa: E731
        hidden_layer_sizes=(32, 32), batch_size=256, learning_rate_init=2e-3,
        max_iter=SCALE_EPOCHS, tol=0.0, n_iter_no_change=1000, random_state=game._seed()))
    shift_model = net().fit(inputs, truth - centre)
    calibration = _Calibration(None, eps, np.zeros((1, n_props)), np.inf, shift_model)
    residual = truth - centre - calibration.shift(inputs)
    calibration.scale_model = net().fit(inputs, np.log(np.abs(residual) + eps))
    # 2. quantiles of the scaled residuals on the second half,
    # where the bias correction is also kept only for the properties it improves (it
    # cannot, for instance, on the few distinct models of a small library)
    I, E, truth, centre, spread, raw = sets[1]
    inputs = _Calibration.inputs(features(I), centre, spread, eps)
    shift = calibration.shift(inputs)
    calibration.use_shift = (np.mean((truth - centre - shift) ** 2, axis=0)
                             < np.mean((truth - centre) ** 2, axis=0))
    residual = truth - centre - shift * calibration.use_shift
    z = residual / calibration.scale(inputs)
    calibration.quantiles = np.quantile(z, _Calibration.LEVELS, axis=0)
    # 3. the misfit limit, on the second half observed with the model error as well
    I, E = _mock_spectra(_with_model_error(X[rows_b], MODEL_ERROR, rng), templates, rng)
    raw = raw_draws(model, I, E, n_draws, n_props, rng)
    chi2 = misfit(game, mask, I, E, candidates(game, np.median(raw, axis=1), raw))
    calibration.misfit_limit = float(np.quantile(chi2, MISFIT_QUANTILE))
    return calibration


def calibrated_draws(game: Game, mask: np.ndarray, model, calibration: _Calibration | None,
                     I: np.ndarray, E: np.ndarray | None, rng: np.random.Generator,
                     paired: bool) -> tuple[np.ndarray, np.ndarray]:
    """Draws of one pattern's spectra (calibrated unless ``calibration`` is None), clipped to
    the library's box, and their flag bits: not reproduced, outside the library, BPT."""
    raw = raw_draws(model, I, E, game.n_draws, len(game.properties_), rng)
    centre = np.median(raw, axis=1)
    flag = np.zeros(len(I), dtype=np.int64)
    if calibration is None:
        return game._clip(raw), flag | game._bpt_flag(mask, I, E)
    spread = raw.std(axis=1)
    chi2 = misfit(game, mask, I, E, candidates(game, centre, raw))
    flag[chi2 > calibration.misfit_limit] |= FLAG_NOT_REPRODUCED
    inputs = calibration.inputs(features(I), centre, spread, calibration.eps)
    scale = calibration.scale(inputs)
    centre = centre + calibration.shift(inputs)
    z = calibration.z(_draw_levels(int(game.n_draws)))            # sorted, (n_draws, n_props)
    values = centre[:, None, :] + scale[:, None, :] * z[None, :, :]
    if paired:  # each draw takes the rank of its Monte Carlo draw
        ranks = raw.argsort(axis=1).argsort(axis=1)
        values = np.take_along_axis(values, ranks, axis=1)
    low, high = game.bounds_
    sigma = scale * (calibration.z(np.array([0.84]))[0] - calibration.z(np.array([0.16]))[0]) / 2
    outside = ((centre < low - EDGE_SIGMAS * sigma) | (centre > high + EDGE_SIGMAS * sigma))
    flag[(outside & (high > low)).any(axis=1)] |= FLAG_OUTSIDE_LIBRARY
    flag |= game._bpt_flag(mask, I, E)
    return game._clip(values), flag
