"""The GAME estimator and its parameters: fitting on a library, preparing for a data set, and
predicting properties with calibrated uncertainties and a flag per spectrum. The ideas live in
the sibling modules; :class:`Game` holds the state and calls them."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from course_utils.game import domain, montecarlo, training
from course_utils.game.calibration import _templates, calibrated_draws, learn_calibration
from course_utils.game.constants import (BASE_NOISE, CALIBRATION_FRACTION, CALIBRATION_MODELS,
                                         MAX_AV, MAX_DRAWS, MIN_CALIBRATED_DRAWS, MIN_DETECTED,
                                         PROPERTIES, RELIABLE_LINES)
from course_utils.game.domain import FLAG_FEW_LINES
from course_utils.game.montecarlo import _draw_levels, summarise
from course_utils.game.regressors import _MultiOutput, make_model
from course_utils.game.spectra import (_as_arrays, _check_library, _normalise, pattern_id,
                                       pattern_mask)
from course_utils.game.training import _noise_key
from course_utils.library import MUSE_LINES, UPPER_LIMIT, Library


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
        return make_model(self.regressor, self._seed())

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
            # for the check that a spectrum is reproduced at its estimated properties
            self.emulator_, self.emulator_error_ = domain.fit_emulator(self)
        everything = "1" * len(self.lines_)
        if self.noise_aware is not True:
            self.model_for(everything, self._fixed_noise())
        elif warm_startable:
            # the noise level comes from the data: train the model it will start from
            self.model_for(everything, np.full(len(self.lines_), BASE_NOISE))
        return self

    def _fixed_noise(self) -> np.ndarray | None:
        return training.fixed_noise(self)

    def training_set(
        self, pattern: str, noise: np.ndarray | None = None, rows: np.ndarray | None = None,
        seed: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Features and labels of the library for one detected-line pattern.

        The library columns of the pattern's lines are normalised by their own brightest line
        (not by the brightest of all lines, GAME's bug). ``noise`` (relative error per line of
        the pattern, or None) perturbs the intensities with a normal truncated at zero.
        """
        return training.training_set(self, pattern, noise, rows, seed)

    def _seed(self) -> int:
        return 0 if self.random_state is None else int(self.random_state)

    def model_for(self, pattern: str, noise: np.ndarray | None = None):
        """The fitted regressor for a detected-line pattern (trained on first use, then cached)."""
        return training.model_for(self, pattern, noise)

    def noise_level(self, I: np.ndarray, E: np.ndarray | None, mask: np.ndarray,
                    aware: bool | None = None) -> np.ndarray | None:
        """Relative error per line of a pattern that its noise-aware model is trained with.

        ``I``, ``E``: the pattern's spectra and errors (its lines only); ``mask``: its lines.
        With ``noise_aware=True`` (or ``aware=True``), the median over the spectra of
        error / intensity for each line (an upper limit counts as :data:`LIMIT_NOISE`, an
        exact line as 0), rounded to 0.01; None if noise-free.
        """
        return training.noise_level(self.noise_aware if aware is None else aware, I, E, mask)

    def prepare(self, intensities, errors=None) -> "Game":
        """Train and calibrate, once, the models for every detected-line pattern of a data set.

        Later :meth:`predict` calls on any part of these spectra (the blocks of a cube, say)
        reuse the noise levels and calibrations computed here from all of them, instead of
        training new models for each part's own errors. Each call replaces the data set of
        the previous one (trained models and calibrations stay cached).
        """
        self._check_fitted()
        self.prepared_ = {}  # a new dict, so a shallow copy's preparation leaves the original's
        I, E, _ = _as_arrays(self.lines_, intensities, errors)
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
            self.calibrations_[key] = learn_calibration(self, model, mask, templates)
        return model, self.calibrations_[key]

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
    def draws(self, I: np.ndarray, E: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
        """Monte Carlo intensities, shape ``(n_spectra, n_draws, n_lines)``, for detected lines.

        Detected lines: normal of width the error, truncated at zero; upper limits (error -99):
        uniform in [0, limit]; error 0: exact. Give spectra normalised to their brightest line
        (:meth:`predict` does): the draws are single precision.
        """
        return montecarlo.draws(I, E, self.n_draws, rng)

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
        I, E, index = _as_arrays(self.lines_, intensities, errors)
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
            result[rows], bits = calibrated_draws(self, mask, model, calibration, Ik, Ek, rng,
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
        return domain.line_residuals(self, intensities, table)

    def _bpt_flag(self, mask: np.ndarray, I: np.ndarray, E: np.ndarray | None) -> np.ndarray:
        """The BPT bits of each spectrum (pattern ``mask``, its lines' intensities and errors;
        see :func:`course_utils.game.domain.bpt_flag`)."""
        return domain.bpt_flag(self.lines_, mask, I, E)
