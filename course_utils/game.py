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
  the library is perturbed with the relative errors of the spectra being fitted. The network
  for those errors starts from one trained at a reference noise (:data:`BASE_NOISE`) when the
  estimator is fitted, so a new data set costs a short fine-tune, not a fresh fit.

Beyond the public code, the estimator knows when it may be wrong:

- calibrated uncertainties: the Monte Carlo draws carry the measurement errors only, not the
  regressor's own error (a property the lines barely constrain, such as a low pressure, comes
  out with a narrow PDF that misses the truth). For every detected-line pattern the estimator
  therefore holds out library models, observes them with the errors of the spectra being
  fitted, and learns from their residuals how wide the distribution must be (a small network
  predicts the residual's size from the spectrum and its draws; split-conformal quantiles of
  the scaled residuals give its shape; Lei et al. 2018, arXiv:1604.04173). The reported
  percentiles then hold the truth as often as they claim (``benchmarks/game_calibration.py``);
- a ``flag`` per spectrum (see :data:`FLAGS`): line ratios that no library model reproduces
  within the errors, gas ionised by something other than young stars (above the Kewley et
  al. 2001 line by more than its errors), too few detected lines, estimates beyond the
  library's parameter box, a BPT position that upper limits leave unknown;
- every statistic stays inside the library's parameter box (A_V >= 0 ...).

Input conventions (those of GAME): a missing line has intensity 0 (or NaN); an error of
``-99`` marks the intensity as an upper limit; an error of 0 on a detected line means exact.
Intensities may be in any units: each spectrum is divided by its brightest detected line
(in double precision) before anything else.
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
#: Summary statistics of the draws, in output column order (p2.5 ... p97.5: percentiles).
STATS = ("mean", "median", "std", "p2.5", "p16", "p84", "p97.5")
#: Percentile of each percentile statistic.
PERCENTILES = {"median": 50.0, "p2.5": 2.5, "p16": 16.0, "p84": 84.0, "p97.5": 97.5}
#: Floor of the normalised intensities before the log: 1e-6 of the brightest line (-6 dex).
#: Fainter values (zero from an upper-limit draw, or grid lines below MAPPINGS' reporting
#: threshold of 1e-5 Hbeta) carry no information at the precision of real spectra.
FLOOR = 1e-6
#: Rows predicted at once: bounds the memory of the Monte Carlo batch (~100 MB at 10 lines).
CHUNK = 200_000
#: Noise-aware training uses this many perturbed copies of the library (measured in
#: ``benchmarks/game_accuracy.py``: 3 copies beat 1 by ~0.005 dex in O/H and U at 10% errors).
NOISE_COPIES = 3
#: Mini-batch steps of an MLP warm-started from a fitted model on the same or more lines
#: (another noise level, or a pattern with a line missing); never more epochs than a fresh
#: fit. Measured on a 20 000-model library with the 10 MUSE lines, starting from the model
#: trained at :data:`BASE_NOISE`: 1000 steps (~1/5 of a fresh fit there) match a fresh fit
#: within 0.002 dex in O/H and U at 2%, 5% and 20% errors and at the noise of the class cube
#: (400 steps: up to 0.006 dex worse in log U). For a missing Halpha or [OIII] at 10% noise,
#: 400 steps were already within 0.002 dex of a fresh fit.
WARM_STEPS = 1000
#: With ``noise_aware=True`` the all-lines model is first trained at this relative error on
#: every line, when the estimator is fitted; the models for the spectra's own errors then
#: start from it. This moves the cost of a fresh fit out of ``predict``/``prepare``, so a cube
#: pipeline or a CLI run spends ~1 s, not ~5 s, on training.
BASE_NOISE = 0.1
#: Most Monte Carlo draws per spectrum (memory grows with draws x spectra x lines).
MAX_DRAWS = 10_000
#: Fewest draws whose calibrated percentiles reach the 2.5th and 97.5th: calibrated draws
#: stand for the probability levels (k + 1/2) / n, which span 2.5%-97.5% from n = 20. With
#: fewer draws the outer percentiles are those of the extreme draws, too narrow (0.6x the
#: 95% width at 5 draws), and :meth:`Game.predict` warns.
MIN_CALIBRATED_DRAWS = 20
#: Largest A_V (mag) of ``av_range``: beyond it Hbeta is dimmed by more than 10^5 and no
#: optical line ratio constrains the dust.
MAX_AV = 10.0
#: Fewest library models the estimator accepts (its hold-out and standardisation need them).
MIN_MODELS = 100
#: A spectrum needs this many detected lines (upper limits aside) for an estimate; with fewer,
#: every statistic is NaN: one line alone carries no ratio.
MIN_DETECTED = 2
#: With fewer detected lines than this, the estimate is flagged (:data:`FLAG_FEW_LINES`).
RELIABLE_LINES = 3
#: Relative spread of a line known by an upper limit L only, drawn uniform in [0, L]: the
#: standard deviation over the mean, 1/sqrt(3). Noise-aware training perturbs such a line by it.
LIMIT_NOISE = 1.0 / np.sqrt(3.0)
#: Library models held out for calibrating the uncertainties and the domain check: this
#: fraction of the library, at most :data:`CALIBRATION_MODELS`.
CALIBRATION_FRACTION = 0.1
CALIBRATION_MODELS = 5000
#: Fewest mock spectra in each half of the calibration set (held-out models are reused with
#: other noise draws when the library is small).
CALIBRATION_MOCKS = 2000
#: Epochs of the networks that learn the bias and the size of the residuals.
SCALE_EPOCHS = 40
#: Quantile of the misfit of held-out library models above which a spectrum is flagged as not
#: reproduced: 1% of spectra the library does describe are flagged.
MISFIT_QUANTILE = 0.99
#: Relative model error of every line flux: how closely photoionization models can be asked to
#: match a real nebula before a spectrum counts as not reproduced. NebulaBayes adds the same
#: 10% to its grid fluxes by default (its ``grid_error``; Thomas et al. 2018). The misfit adds
#: it to each line's error (with the emulator's own error), and the held-out models that set
#: the misfit limit are observed with it, so a spectrum is flagged only when it departs from
#: every model by more than its errors and this.
MODEL_ERROR = 0.1
#: Draws (besides the centre) at which the misfit is evaluated; the smallest counts.
MISFIT_DRAWS = 8
#: An estimate further than this many sigma beyond the library's box is flagged.
EDGE_SIGMAS = 2.0
#: A spectrum is flagged as not star-forming when it lies above the Kewley et al. (2001) line
#: by more than this many sigma of its line ratios' errors (J1011+1947, a star-forming galaxy
#: of Izotov et al. 2018, lies 0.5 sigma above it).
KEWLEY_SIGMAS = 2.0

#: Bits of the ``flag`` column (0: usable). A spectrum can carry several.
FLAG_NOT_REPRODUCED = 1
FLAG_NOT_STAR_FORMING = 2
FLAG_FEW_LINES = 4
FLAG_OUTSIDE_LIBRARY = 8
FLAG_BPT_UNKNOWN = 16
FLAGS = {
    FLAG_NOT_REPRODUCED: "line ratios not reproduced by the library within the errors",
    FLAG_NOT_STAR_FORMING: f"above the Kewley et al. (2001) maximum-starburst line in the "
                           f"[NII] BPT diagram by more than {KEWLEY_SIGMAS:g} sigma: not ionised "
                           "by young stars alone",
    FLAG_FEW_LINES: f"fewer than {RELIABLE_LINES} detected lines (fewer than {MIN_DETECTED}: "
                    "no estimate)",
    FLAG_OUTSIDE_LIBRARY: f"an estimate lies more than {EDGE_SIGMAS:g} sigma beyond the "
                          "library's parameter range",
    FLAG_BPT_UNKNOWN: "[OIII]5007 and Hbeta (or [NII]6583 and Halpha) both only upper limits: "
                      "the spectrum's place in the [NII] BPT diagram, so whether young stars "
                      "ionise it, is unknown",
}


class GameInputError(ValueError):
    """Intensities, errors or a library that GAME cannot use; the message names the row and
    column."""


def describe_flag(flag: int) -> list[str]:
    """The meanings of the bits set in a ``flag`` value (empty for 0: usable)."""
    return [text for bit, text in FLAGS.items() if int(flag) & bit]


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

def _scale(X: np.ndarray) -> np.ndarray:
    """Standard deviation of each column, 1 where a column is (nearly) constant."""
    std = X.std(axis=0)
    return np.where(std > 1e-9 * (1 + np.abs(X.mean(axis=0))), std, 1.0)


class _MultiOutput:
    """One regressor for every property at once, on standardised features and targets."""

    def __init__(self, regressor):
        self.regressor = regressor

    def fit(self, X: np.ndarray, Y: np.ndarray, start=None, kept=None) -> "_MultiOutput":
        """Fit; ``start`` (a fitted MLP model on more lines, ``kept`` = mask of this model's
        lines among them) warm-starts the MLP from its weights for :data:`WARM_STEPS` steps."""
        # a constant column keeps unit scale: dividing by ~0 would blow up any other value
        self.x_mean, self.x_scale = X.mean(axis=0), _scale(X)
        self.y_mean, self.y_scale = Y.mean(axis=0), _scale(Y)
        Z = ((X - self.x_mean) / self.x_scale).astype(np.float32)
        T = ((Y - self.y_mean) / self.y_scale).astype(np.float32)
        if T.ndim == 2 and T.shape[1] == 1:  # one property: scikit-learn wants a 1-d target
            T = T.ravel()
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

    Two hidden layers of 64 ReLU units, Adam, mini-batches of 512, 45 epochs. Chosen by
    measurement on a 50 000-model library with the 10 MUSE lines (2 cores): one network for
    all properties costs what one per property would, so fitting and the Monte Carlo
    predictions are ~4x cheaper than per-property models. Trained noise-aware and tested on
    spectra with 10% errors it reaches RMSE 0.037 dex (12+log O/H) and 0.043 dex (log U),
    against 0.060 and 0.059 for GAME's published AdaBoost configuration trained as GAME
    does, both calibrated (``benchmarks/game_accuracy.py``), and fits ~40x faster
    (``benchmarks/game_speed.py``).
    Wider layers (128, 128) changed the RMSE by < 0.002 dex and predict ~3x slower; (32, 32)
    lost ~0.003 dex in 12+log(O/H). 45 epochs rather than 30 (the network now trains on the
    90% of the library that calibration leaves): on dust-free spectra at 10% errors, RMSE
    0.0353 / 0.0452 dex in O/H and U against 0.0360 / 0.0462 with 30, 1.04x and 1.08x the
    Bayes-optimal posterior mean on the same prior (``benchmarks/game_calibration.py``).
    """
    return MLPRegressor(hidden_layer_sizes=(64, 64), batch_size=512, learning_rate_init=2e-3,
                        max_iter=45, tol=0.0, n_iter_no_change=1000, random_state=random_state)


def game2019_regressor(random_state: int | None = 0) -> AdaBoostRegressor:
    """GAME's published configuration (Ucci et al. 2019; public code).

    AdaBoost over unlimited-depth regression trees, 50 estimators, linear loss,
    learning rate 1, fitted separately for each property.
    """
    return AdaBoostRegressor(DecisionTreeRegressor(random_state=random_state), n_estimators=50,
                             loss="linear", learning_rate=1.0, random_state=random_state)


# --------------------------------------------------------------------------- calibration

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


def _draw_levels(n_draws: int) -> np.ndarray:
    """The probability levels that ``n_draws`` calibrated draws stand for, (k + 1/2) / n."""
    return (np.arange(n_draws) + 0.5) / n_draws


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
        Monte Carlo draws per spectrum for the uncertainties (1 to :data:`MAX_DRAWS`).
    noise_aware
        ``True`` (default): for each detected-line pattern, train on the library perturbed
        with the median relative error of each line among the spectra being predicted
        (Ucci et al. 2018), starting from a model fitted at :data:`BASE_NOISE`. A number:
        that relative error for every line. ``False``: train on the noise-free library, as
        the public GAME code does.
    calibrate
        ``True`` (default): widen the Monte Carlo distributions by the regressor's own error,
        learned on held-out library models observed with the spectra's errors, and check that
        each spectrum is reproduced by the library (see the module docstring). ``False``:
        report the raw draws, as GAME does (over-confident; kept for teaching).
    av_range
        ``None``: the library's own dust prior. ``(low, high)``: first give every library model
        a new A_V drawn uniformly in this range (mag), with the library's attenuation curve;
        ``(0, 0)`` for spectra that are already corrected for dust.
    model_error
        Relative error of the library's line fluxes as a description of the observed nebulae
        (0, the default: the library is exact). With ``calibrate=True`` the held-out models
        that calibrate the uncertainties are observed with it too (a lognormal factor per
        line), so the reported intervals include it, as NebulaBayes adds its ``grid_error``
        (Thomas et al. 2018). The domain flag always allows :data:`MODEL_ERROR`.
    random_state
        Seed of the regressors, the hold-out, the noise-aware perturbations and the Monte
        Carlo draws (``None`` means 0: the course's results are reproducible).

    Attributes
    ----------
    models_
        Fitted regressors by ``(pattern, noise)`` key: trained lazily, once, for each
        detected-line pattern and noise level met in :meth:`predict` (the all-lines model at
        :data:`BASE_NOISE`, which they start from, when the estimator is fitted).
    calibrations_
        Fitted calibrations by ``(pattern, noise, errors, model_error)`` key.
    bounds_
        The library's range of each property, ``(low, high)`` arrays: every reported
        statistic lies inside it.
    """

    def __init__(
        self,
        properties: Sequence[str] = PROPERTIES,
        lines: Sequence[str] = MUSE_LINES,
        regressor="default",
        n_draws: int = 100,
        noise_aware: bool | float = True,
        calibrate: bool = True,
        av_range: tuple[float, float] | None = None,
        model_error: float = 0.0,
        random_state: int | None = 0,
    ):
        self.properties = properties
        self.lines = lines
        self.regressor = regressor
        self.n_draws = n_draws
        self.noise_aware = noise_aware
        self.calibrate = calibrate
        self.av_range = av_range
        self.model_error = model_error
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

    def _check_params(self) -> None:
        n = self.n_draws
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_DRAWS:
            raise ValueError(f"n_draws={n!r}: expected a whole number from 1 to {MAX_DRAWS}")
        noise = self.noise_aware
        if not (noise is None or isinstance(noise, (bool, np.bool_))):
            if not isinstance(noise, (int, float, np.number)) or not 0 <= float(noise) <= 10:
                raise ValueError(f"noise_aware={noise!r}: expected True, False or a relative "
                                 "error from 0 to 10")
        seed = self.random_state
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                                 or not 0 <= seed < 2**32):
            raise ValueError(f"random_state={seed!r}: expected None or a whole number from 0 "
                             f"to {2**32 - 1}")
        error = self.model_error
        if isinstance(error, bool) or not isinstance(error, (int, float, np.number)) \
                or not 0 <= float(error) <= 1:
            raise ValueError(f"model_error={error!r}: expected a relative error from 0 to 1")
        if self.av_range is not None:
            try:
                low, high = (float(v) for v in self.av_range)
            except (TypeError, ValueError):
                low = high = np.nan
            if isinstance(self.av_range, str) or not 0 <= low <= high <= MAX_AV:
                raise ValueError(f"av_range={self.av_range!r}: expected None or (low, high) in "
                                 f"mag with 0 <= low <= high <= {MAX_AV:g}")
        if not isinstance(self.calibrate, (bool, np.bool_)):
            raise ValueError(f"calibrate={self.calibrate!r}: expected True or False")

    def fit(self, library: Library, y=None) -> "Game":
        """Check the library, hold out its calibration models and train the model that uses
        every line (with ``noise_aware=True``, at :data:`BASE_NOISE` on every line: the models
        for the spectra's own errors start from it).

        Models for other detected-line patterns and noise levels are trained when first needed.
        Unlike most scikit-learn estimators, GAME is fitted on a
        :class:`~course_utils.library.Library` (models' line intensities and properties
        together), not on ``X, y``.
        """
        if y is not None or not (hasattr(library, "intensities") and hasattr(library, "labels")):
            raise TypeError("Game.fit takes one Library of photoionization models (their line "
                            "intensities and properties), not X, y arrays: e.g. "
                            "Game().fit(course_utils.library.build_library(20_000)), or "
                            "Library(intensities_frame, labels_frame)")
        self._check_params()
        self.lines_ = list(self.lines)
        self.properties_ = list(self.properties)
        if len(self.lines_) == 0 or len(set(self.lines_)) != len(self.lines_):
            raise ValueError(f"lines={self.lines!r}: expected distinct line names")
        for kind, names, table in (("lines", self.lines_, library.intensities),
                                   ("properties", self.properties_, library.labels)):
            absent = [n for n in names if n not in table.columns]
            if absent:
                raise KeyError(f"{kind} not in the library: {absent}; it has {list(table.columns)}")
        # fail early on a bad regressor; only the default MLP can start from a fitted model
        warm_startable = isinstance(self._make_model(), _MultiOutput)
        if self.av_range is not None:
            library = library.with_dust(self.av_range, seed=self._seed())
        X = np.asarray(library.intensities[self.lines_], dtype=float)
        Y = np.asarray(library.labels[self.properties_], dtype=float)
        _check_library(X, Y, self.lines_, self.properties_)
        order = np.random.default_rng([self._seed(), 7]).permutation(len(X))
        n_held = min(CALIBRATION_MODELS, int(CALIBRATION_FRACTION * len(X))) if self.calibrate else 0
        held, train = order[:n_held], np.sort(order[n_held:])
        self.library_, self.labels_ = X[train], Y[train]
        self.calibration_library_, self.calibration_labels_ = X[held], Y[held]
        self.bounds_ = (Y.min(axis=0), Y.max(axis=0))
        self.models_: dict = {}
        self.calibrations_: dict = {}
        self.prepared_: dict = {}
        if self.calibrate:
            # The emulator maps properties to line ratios, for the check that a spectrum is
            # reproduced by the library at its estimated properties.
            self.emulator_ = _MultiOutput(default_regressor(self._seed())).fit(
                self.labels_, features(self.library_))
            # its error per line (dex), on the held-out models, scale offset removed
            residual = features(self.calibration_library_) - self.emulator_.predict(
                self.calibration_labels_)
            residual -= residual.mean(axis=1, keepdims=True)
            self.emulator_error_ = np.sqrt(np.mean(residual**2, axis=0))
        everything = "1" * len(self.lines_)
        if self.noise_aware is not True:
            self.model_for(everything, self._fixed_noise())
        elif warm_startable:
            # the noise level comes from the data: train the model it will start from
            self.model_for(everything, np.full(len(self.lines_), BASE_NOISE))
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
        """The fitted regressor for a detected-line pattern (trained on first use, then cached)."""
        self._check_pattern(pattern)
        key = (pattern, _noise_key(noise))
        if key not in self.models_:
            X, Y = self.training_set(pattern, noise)
            model = self._make_model()
            if isinstance(model, _MultiOutput):
                # warm start from the cached model on the most lines that include these,
                # among them the one whose noise on these lines is closest; a noise-free
                # model only from a noise-free one (a noisy start blurs the sharp mapping)
                mask = pattern_mask(pattern)
                target = np.zeros(mask.sum()) if noise is None else np.asarray(noise, float)

                def closeness(item):
                    (p, level), _ = item
                    kept = mask[pattern_mask(p)]
                    level = np.zeros(len(kept)) if level is None else np.asarray(level)
                    return p.count("1"), -np.abs(level[kept] - target).sum()

                bases = [item for item in self.models_.items()
                         if np.all(pattern_mask(item[0][0])[mask])
                         and (item[0][1] is None) == (noise is None)]
                if bases:
                    (base_pattern, _), base = max(bases, key=closeness)
                    model.fit(X, Y, start=base, kept=mask[pattern_mask(base_pattern)])
                    self.models_[key] = model
                    return model
            self.models_[key] = model.fit(X, Y)
        return self.models_[key]

    def prepare(self, intensities, errors=None) -> "Game":
        """Train and calibrate, once, the models for every detected-line pattern of a data set.

        Later :meth:`predict` calls on any part of these spectra (the blocks of a cube, say)
        reuse the noise levels and calibrations computed here from all of them, instead of
        training new models for each part's own errors. Each call replaces the data set of
        the previous one (trained models and calibrations stay cached).
        """
        self._check_fitted()
        self.prepared_ = {}  # a new dict, so a shallow copy's preparation leaves the original's
        I, E, _ = self._as_arrays(intensities, errors)
        I, E = _normalise(I, E)
        detected = np.isfinite(I) & (I > 0)
        patterns, inverse = np.unique(detected, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        for k in np.argsort(-patterns.sum(axis=1), kind="stable"):
            mask, rows = patterns[k], np.flatnonzero(inverse == k)
            Ik, Ek = I[rows][:, mask], None if E is None else E[rows][:, mask]
            self.prepared_[pattern_id(mask)] = self._noise_and_errors(Ik, Ek)
            self._models(mask, Ik, Ek)
        return self

    def _noise_and_errors(self, I: np.ndarray, E: np.ndarray | None):
        """Training noise, error summary (calibration key) and error templates of a pattern."""
        level = self.noise_level(I, E, np.ones(I.shape[1], bool), aware=True)
        noise = self.noise_level(I, E, np.ones(I.shape[1], bool))
        return noise, level, _templates(I, E)

    def _models(self, mask: np.ndarray, I: np.ndarray, E: np.ndarray | None):
        """Regressor and calibration for one pattern's spectra (normalised, the pattern's lines)."""
        pattern = pattern_id(mask)
        prepared = self.prepared_.get(pattern)
        noise, level, templates = prepared if prepared else self._noise_and_errors(I, E)
        model = self.model_for(pattern, noise)
        if not self.calibrate:
            return model, None
        # model_error is part of the key: set_params(model_error=...) needs no refit
        key = (pattern, _noise_key(noise), _noise_key(level), float(self.model_error),
               int(self.n_draws))  # the calibration learns from draws of this number
        if key not in self.calibrations_:
            self.calibrations_[key] = self._calibration(model, mask, templates)
        return model, self.calibrations_[key]

    def _calibration(self, model, mask: np.ndarray, templates: np.ndarray) -> _Calibration:
        """Learn a pattern's uncertainty scale, residual quantiles and misfit limit."""
        pattern = pattern_id(mask)
        rng = np.random.default_rng([self._seed(), 8, int(pattern, 2)])
        X, Y = self.calibration_library_[:, mask], self.calibration_labels_
        half = len(X) // 2
        span = self.bounds_[1] - self.bounds_[0]
        eps = 1e-3 * np.where(span > 0, span, 1.0)
        sets = []
        for rows in (np.arange(half), np.arange(half, len(X))):
            rows = rows_b = np.resize(rows, max(len(rows), CALIBRATION_MOCKS))
            I, E = _mock_spectra(_with_model_error(X[rows], self.model_error, rng), templates,
                                 rng)
            raw = self._raw_draws(model, I, E, rng)
            centre, spread = np.median(raw, axis=1), raw.std(axis=1)
            sets.append((I, E, Y[rows], centre, spread, raw))
        # 1. the bias and size of the residual, learned on the first half
        I, _, truth, centre, spread, _ = sets[0]
        inputs = _Calibration.inputs(features(I), centre, spread, eps)
        net = lambda: _MultiOutput(MLPRegressor(  # noqa: E731
            hidden_layer_sizes=(32, 32), batch_size=256, learning_rate_init=2e-3,
            max_iter=SCALE_EPOCHS, tol=0.0, n_iter_no_change=1000, random_state=self._seed()))
        shift_model = net().fit(inputs, truth - centre)
        calibration = _Calibration(None, eps, np.zeros((1, len(self.properties_))), np.inf,
                                   shift_model)
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
        raw = self._raw_draws(model, I, E, rng)
        misfit = self._misfit(mask, I, E, self._candidates(np.median(raw, axis=1), raw))
        calibration.misfit_limit = float(np.quantile(misfit, MISFIT_QUANTILE))
        return calibration

    def _check_fitted(self) -> None:
        """Fitted, and its parameters still valid (``set_params`` may have changed them)."""
        if not hasattr(self, "models_"):
            raise RuntimeError("call fit(library) before predict")
        self._check_params()

    def _check_pattern(self, pattern: str) -> np.ndarray:
        """The mask of a pattern id of this estimator's lines; a clear error if it is not one."""
        n = len(self.lines_)
        if not isinstance(pattern, str) or len(pattern) != n or set(pattern) - {"0", "1"}:
            raise ValueError(f"pattern={pattern!r}: expected a string of {n} '0'/'1' characters, "
                             f"one per line of {self.lines_} ('1': the line is used)")
        if pattern.count("1") < MIN_DETECTED:
            raise ValueError(f"pattern={pattern!r}: uses {pattern.count('1')} line(s); GAME "
                             f"needs at least {MIN_DETECTED}")
        return pattern_mask(pattern)

    # ----------------------------------------------------------------- prediction
    def _as_arrays(self, intensities, errors):
        def table(data, what):
            if isinstance(data, pd.Series):  # one spectrum, labelled by line
                data = data.to_frame().T
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

        if isinstance(intensities, pd.DataFrame) and isinstance(errors, pd.DataFrame) \
                and not errors.index.equals(intensities.index):
            # errors pair with their spectra by row label, as columns pair by line name
            same = (intensities.index.is_unique and errors.index.is_unique
                    and len(errors.index) == len(intensities.index)
                    and errors.index.isin(intensities.index).all())
            if not same:
                extra = [v for v in errors.index if v not in intensities.index][:3]
                raise GameInputError(f"errors: row labels {extra or list(errors.index[:3])} do "
                                     "not match the intensities' (errors are paired with their "
                                     "spectra by row label); give both the same index, or arrays")
            errors = errors.loc[intensities.index]
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
        if isinstance(intensities, pd.DataFrame):
            index = intensities.index
        elif isinstance(intensities, pd.Series):
            index = pd.Index([intensities.name])
        else:
            index = None
        return I, E, index

    def draws(self, I: np.ndarray, E: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
        """Monte Carlo intensities, shape ``(n_spectra, n_draws, n_lines)``, for detected lines.

        Detected lines: normal of width the error, truncated at zero; upper limits (error -99):
        uniform in [0, limit]; error 0: exact. Give spectra normalised to their brightest line
        (:meth:`predict` does): the draws are single precision.
        """
        shape = (len(I), int(self.n_draws), I.shape[1])
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

    def _raw_draws(self, model, I: np.ndarray, E: np.ndarray | None,
                   rng: np.random.Generator) -> np.ndarray:
        """The regressor's predictions for every Monte Carlo draw, ``(n, n_draws, n_props)``."""
        draws = self.draws(I, E, rng).reshape(-1, I.shape[1])
        out = np.empty((len(draws), len(self.properties_)))
        for start in range(0, len(draws), CHUNK):
            out[start:start + CHUNK] = model.predict(features(draws[start:start + CHUNK]))
        return out.reshape(len(I), int(self.n_draws), -1)

    def _clip(self, values: np.ndarray) -> np.ndarray:
        """Values (last axis: properties) clipped to the library's box."""
        return np.clip(values, self.bounds_[0], self.bounds_[1])

    def predict(self, intensities, errors=None, return_draws: bool = False,
                draw_seed: int | None = None):
        """Physical properties of observed spectra, with calibrated uncertainties and a flag.

        Parameters
        ----------
        intensities
            DataFrame with the estimator's line names as columns (a Series for one spectrum,
            indexed by line name), or an array with its ``lines`` in order. A missing line is
            0 or NaN. Any units: each spectrum is normalised by its brightest detected line.
        errors
            Same shape: 1-sigma errors, ``-99`` for an upper limit, 0 for exact. ``None``:
            no measurement errors (the draws differ only by the calibration). A DataFrame
            is paired with the intensities by row label (and by line name), never by
            position; labels that do not match are an error.
        return_draws
            Also return the draws, shape ``(n_spectra, n_draws, n_properties)``: with
            ``calibrate=True`` the calibrated distribution, each draw keeping the rank its
            Monte Carlo draw had (so draws of different properties stay paired). Sorted,
            calibrated draws stand for the probability levels ``(k + 1/2) / n_draws``; the
            table's percentiles are read off those levels (not the draws' sample
            percentiles, which shrink with few draws). Below
            :data:`MIN_CALIBRATED_DRAWS` draws a warning says the outer ones are too narrow.
        draw_seed
            Mixed with ``random_state`` into the seed of the Monte Carlo draws. Separate
            calls on parts of one data set (blocks of a cube) pass different values, so
            their draws are independent yet reproducible; ``None``: ``random_state`` alone.

        Returns
        -------
        pandas.DataFrame
            One row per spectrum: ``{property}_{stat}`` for each stat in :data:`STATS`, then
            ``pattern`` (the detected-line pattern id, see :func:`pattern_id`) and ``flag``
            (0 = usable; bits in :data:`FLAGS`, see :func:`describe_flag`). Spectra with
            fewer than :data:`MIN_DETECTED` detected lines get NaN.
        """
        self._check_fitted()
        if draw_seed is not None and (isinstance(draw_seed, bool) or not isinstance(
                draw_seed, (int, np.integer)) or not 0 <= draw_seed < 2**32):
            raise ValueError(f"draw_seed={draw_seed!r}: expected None or a whole number from 0 "
                             f"to {2**32 - 1}")
        if self.calibrate and self.n_draws < MIN_CALIBRATED_DRAWS:
            warnings.warn(f"n_draws={self.n_draws} is below {MIN_CALIBRATED_DRAWS}: the 2.5th and "
                          "97.5th percentiles of so few draws are narrower than calibrated",
                          stacklevel=2)
        I, E, index = self._as_arrays(intensities, errors)
        I, E = _normalise(I, E)
        detected = np.isfinite(I) & (I > 0)
        measured = detected if E is None else detected & (E != UPPER_LIMIT)
        patterns, inverse = np.unique(detected, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        # patterns with more lines first, so that their models can warm-start the others
        order = np.argsort(-patterns.sum(axis=1), kind="stable")
        n, n_props = len(I), len(self.properties_)
        result = np.full((n, int(self.n_draws), n_props), np.nan)
        flag = np.zeros(n, dtype=np.int64)
        n_measured = measured.sum(axis=1)
        flag[n_measured < RELIABLE_LINES] |= FLAG_FEW_LINES
        rng = np.random.default_rng([self._seed(), 2] if draw_seed is None
                                    else [self._seed(), 2, int(draw_seed)])
        for k in order:
            mask = patterns[k]
            rows = np.flatnonzero((inverse == k) & (n_measured >= MIN_DETECTED))
            if rows.size == 0:
                continue
            Ik = I[rows][:, mask]
            Ek = None if E is None else E[rows][:, mask]
            model, calibration = self._models(mask, Ik, Ek)
            result[rows], bits = self._predict_pattern(mask, model, calibration, Ik, Ek, rng,
                                                       return_draws)
            flag[rows] |= bits
        levels = _draw_levels(int(self.n_draws)) if self.calibrate else None
        table = summarise(result, self.properties_, index, levels=levels)
        for j, prop in enumerate(self.properties_):  # the mean of clipped draws, to the last bit
            table[f"{prop}_mean"] = table[f"{prop}_mean"].clip(self.bounds_[0][j],
                                                               self.bounds_[1][j])
        table["pattern"] = np.array([pattern_id(p) for p in patterns])[inverse]
        table["flag"] = flag
        return (table, result) if return_draws else table

    def _predict_pattern(self, mask, model, calibration, I, E, rng, paired: bool):
        """Calibrated draws and flag bits of one pattern's spectra."""
        raw = self._raw_draws(model, I, E, rng)
        centre = np.median(raw, axis=1)
        flag = np.zeros(len(I), dtype=np.int64)
        if calibration is None:
            return self._clip(raw), flag | self._bpt_flag(mask, I, E)
        spread = raw.std(axis=1)
        misfit = self._misfit(mask, I, E, self._candidates(centre, raw))
        flag[misfit > calibration.misfit_limit] |= FLAG_NOT_REPRODUCED
        inputs = calibration.inputs(features(I), centre, spread, calibration.eps)
        scale = calibration.scale(inputs)
        centre = centre + calibration.shift(inputs)
        z = calibration.z(_draw_levels(int(self.n_draws)))            # sorted, (n_draws, n_props)
        values = centre[:, None, :] + scale[:, None, :] * z[None, :, :]
        if paired:  # each draw takes the rank of its Monte Carlo draw
            ranks = raw.argsort(axis=1).argsort(axis=1)
            values = np.take_along_axis(values, ranks, axis=1)
        low, high = self.bounds_
        sigma = scale * (calibration.z(np.array([0.84]))[0] - calibration.z(np.array([0.16]))[0]) / 2
        outside = ((centre < low - EDGE_SIGMAS * sigma) | (centre > high + EDGE_SIGMAS * sigma))
        flag[(outside & (high > low)).any(axis=1)] |= FLAG_OUTSIDE_LIBRARY
        flag |= self._bpt_flag(mask, I, E)
        return self._clip(values), flag

    def _misfit(self, mask: np.ndarray, I: np.ndarray, E: np.ndarray | None,
                thetas: np.ndarray) -> np.ndarray:
        """Chi-square of each spectrum against the library model at its estimated properties.

        ``thetas``: candidate properties, ``(n_spectra, n_candidates, n_properties)``; the
        best candidate counts. The model's line ratios come from the emulator; the
        spectrum's scale is fitted (weighted mean offset in log flux); each line's error gets
        the emulator's error and :data:`MODEL_ERROR` in quadrature; an upper limit L counts
        only when the model exceeds it, with sigma L/3.
        """
        n, k, _ = thetas.shape
        model = self.emulator_.predict(thetas.reshape(n * k, -1))[:, mask].reshape(n, k, -1)
        E = np.zeros_like(I) if E is None else E
        limit = (E == UPPER_LIMIT)[:, None, :]
        with np.errstate(divide="ignore"):
            log_i = np.log10(I)[:, None, :]
        relative = np.where(E > 0, E / I, 0.0)[:, None, :]
        variance = (np.log10(np.e) ** 2 * (relative**2 + MODEL_ERROR**2)
                    + self.emulator_error_[mask] ** 2)
        weight = np.where(limit, 0.0, 1.0 / variance)
        offset = (weight * (log_i - model)).sum(axis=2) / weight.sum(axis=2)
        residual = log_i - model - offset[:, :, None]
        chi2 = (weight * residual**2).sum(axis=2)
        excess = np.where(limit, np.clip(-residual, 0, None), 0.0)  # model above the limit
        chi2 += ((3 * (10.0**excess - 1)) ** 2).sum(axis=2)
        return chi2.min(axis=1)

    def _candidates(self, centre: np.ndarray, raw: np.ndarray) -> np.ndarray:
        """Properties at which to test a spectrum: its centre and a few of its draws."""
        step = max(raw.shape[1] // MISFIT_DRAWS, 1)
        return self._clip(np.concatenate([centre[:, None, :], raw[:, ::step][:, :MISFIT_DRAWS]],
                                         axis=1))

    def line_residuals(self, intensities, table: pd.DataFrame) -> pd.DataFrame:
        """How far each observed line is from the library model at the estimated properties.

        Parameters
        ----------
        intensities
            The spectra given to :meth:`predict` (same layout).
        table
            What :meth:`predict` returned for them (its ``{property}_median`` columns are used).

        Returns
        -------
        pandas.DataFrame
            log10(observed / model) per spectrum and line (dex), after the best common scale;
            NaN for missing lines and spectra without an estimate. A line the models
            systematically miss shows up as an offset of its column.
        """
        self._check_fitted()
        I, _, index = self._as_arrays(intensities, None)
        I, _ = _normalise(I, None)
        columns = [f"{p}_median" for p in self.properties_]
        absent = [c for c in columns if c not in getattr(table, "columns", [])]
        if absent:
            raise GameInputError(f"table: missing columns {absent}; give what predict returned "
                                 "for these spectra")
        if len(table) != len(I) or (index is not None and not table.index.equals(index)):
            raise GameInputError(f"table: {len(table)} rows for {len(I)} spectra (or other row "
                                 "labels); give what predict returned for these spectra")
        theta = table[columns].to_numpy(dtype=float)
        ok = np.isfinite(theta).all(axis=1)
        out = np.full(I.shape, np.nan)
        model = self.emulator_.predict(self._clip(theta[ok]))
        with np.errstate(divide="ignore"):
            log_i = np.where(I[ok] > 0, np.log10(I[ok]), np.nan)
        residual = log_i - model
        out[ok] = residual - np.nanmean(residual, axis=1, keepdims=True)
        return pd.DataFrame(out, columns=self.lines_, index=index)

    def _bpt_flag(self, mask: np.ndarray, I: np.ndarray, E: np.ndarray | None) -> np.ndarray:
        """The BPT bits of each spectrum (pattern ``mask``, its lines' intensities and errors).

        FLAG_NOT_STAR_FORMING where the spectrum is surely above the Kewley et al. (2001)
        line: still above it when both ratios are moved towards the star-forming side by
        :data:`KEWLEY_SIGMAS` of their errors (any direction within that ellipse; the errors
        of the two lines of a ratio in quadrature). An upper limit on [NII] or [OIII] leaves
        its ratio unknown from below, so only measured numerators count; an upper limit on
        Halpha or Hbeta makes the ratio a lower bound, which is enough to be sure.
        FLAG_BPT_UNKNOWN where both lines of a ratio are upper limits (a faint spectrum: its
        place in the diagram is unbounded). Nothing when the estimator's lines lack one of
        the four.
        """
        from course_utils.diagnostics import above_kewley01_nii

        need = ("NII6583", "Halpha", "OIII5007", "Hbeta")
        flag = np.zeros(len(I), dtype=np.int64)
        if not all(l in self.lines_ for l in need):
            return flag
        lines = [l for l, m in zip(self.lines_, mask) if m]
        E = np.zeros_like(I) if E is None else E

        def line(name):  # intensity, relative error, measured?, present? (per spectrum)
            if name not in lines:
                zero = np.zeros(len(I))
                return zero, zero, zero.astype(bool), zero.astype(bool)
            j = lines.index(name)
            measured = E[:, j] != UPPER_LIMIT
            relative = np.where(measured & (E[:, j] > 0), E[:, j] / I[:, j], 0.0)
            return I[:, j], relative, measured, np.ones(len(I), bool)

        def ratio(top, bottom):  # log ratio (-inf: unknown from below) and its sigma
            (i_t, r_t, m_t, _), (i_b, r_b, _, p_b) = line(top), line(bottom)
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.where(m_t & p_b, np.log10(i_t / np.where(p_b, i_b, 1.0)), -np.inf)
            return value, np.log10(np.e) * np.hypot(r_t, r_b)

        (x, sx), (y, sy) = ratio("NII6583", "Halpha"), ratio("OIII5007", "Hbeta")
        # "above" is an upper set (the line falls with x), so the ellipse lies above when
        # its quarter towards lower x and y does
        angle = np.linspace(0.0, np.pi / 2, 17)[:, None]
        surely = above_kewley01_nii(x - KEWLEY_SIGMAS * sx * np.cos(angle),
                                    y - KEWLEY_SIGMAS * sy * np.sin(angle)).all(axis=0)
        flag[surely] |= FLAG_NOT_STAR_FORMING
        limits = [line(l)[3] & ~line(l)[2] for l in need]  # upper limits
        flag[(limits[0] & limits[1]) | (limits[2] & limits[3])] |= FLAG_BPT_UNKNOWN
        return flag

    def noise_level(self, I: np.ndarray, E: np.ndarray | None, mask: np.ndarray,
                    aware: bool | None = None) -> np.ndarray | None:
        """Relative error per line of a pattern that its noise-aware model is trained with.

        ``I``, ``E``: the pattern's spectra and errors (its lines only); ``mask``: its lines.
        With ``noise_aware=True`` (or ``aware=True``), the median over the spectra of
        error / intensity for each line (an upper limit counts as :data:`LIMIT_NOISE`, an
        exact line as 0), rounded to 0.01; None if noise-free.
        """
        aware = self.noise_aware if aware is None else aware
        if aware is False or aware is None:
            return None
        if aware is not True:
            return np.full(int(mask.sum()), float(aware))
        if E is None:
            return None
        relative = np.where(E == UPPER_LIMIT, LIMIT_NOISE, np.where(E > 0, E / I, 0.0))
        # Rounded so that spectra with similar errors share one cached model.
        level = np.round(np.median(relative, axis=0), 2)
        return level if level.any() else None


def _noise_key(noise: np.ndarray | None):
    return None if noise is None else tuple(np.round(noise, 4))


def _normalise(I: np.ndarray, E: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Spectra and errors divided by each spectrum's brightest detected line (double precision),
    so results do not depend on the units; missing lines become 0."""
    detected = np.isfinite(I) & (I > 0)
    peak = np.where(detected, I, 0.0).max(axis=1, keepdims=True)
    I = np.where(detected, I, 0.0) / peak
    if E is not None:
        E = np.where(E == UPPER_LIMIT, UPPER_LIMIT, np.where(detected, E, 0.0) / peak)
    return I, E


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


def _check_library(X: np.ndarray, Y: np.ndarray, lines: list[str], properties: list[str]) -> None:
    """Clear errors for libraries GAME cannot learn from."""
    for values, names, what in ((X, lines, "intensity"), (Y, properties, "property")):
        bad = ~np.isfinite(values) | ((values < 0) if what == "intensity" else False)
        if np.any(bad):
            i, j = np.argwhere(bad)[0]
            raise GameInputError(f"library: model {i}, {what} {names[j]!r} is {values[i, j]!r}; "
                                 "expected a finite number" + (" >= 0" if what == "intensity" else ""))
    zero = np.flatnonzero((X == 0).all(axis=0))
    if zero.size:
        raise GameInputError(f"library: line {lines[zero[0]]!r} is 0 in every model, so no "
                             "spectrum can be compared with it; leave it out of `lines`")
    if len(X) < MIN_MODELS:
        raise GameInputError(f"library: {len(X)} models; GAME needs at least {MIN_MODELS} "
                             "(tens of thousands for useful accuracy)")


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
