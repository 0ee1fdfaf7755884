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

Where each idea lives:

- :mod:`~course_utils.game.constants`: every fixed number, with the measurement behind it;
- :mod:`~course_utils.game.spectra`: input checks, normalisation, features, line patterns;
- :mod:`~course_utils.game.montecarlo`: draws within the errors and their summary statistics;
- :mod:`~course_utils.game.regressors`: the MLP (and its warm start), GAME's AdaBoost;
- :mod:`~course_utils.game.training`: training per line pattern, noise-aware, cached;
- :mod:`~course_utils.game.calibration`: calibrated uncertainties and the misfit limit;
- :mod:`~course_utils.game.domain`: the flag bits, the misfit, the BPT check, line residuals;
- :mod:`~course_utils.game.estimator`: :class:`Game`, which holds the state and calls them;
- :mod:`~course_utils.game.validation`: cross-validation and line importances;
- :mod:`~course_utils.game.plots`: predicted against true, and PDFs.
"""

from course_utils.game.calibration import _Calibration
from course_utils.game.constants import (BASE_NOISE, CALIBRATION_FRACTION, CALIBRATION_MOCKS,
                                         CALIBRATION_MODELS, CHUNK, EDGE_SIGMAS, FLOOR,
                                         KEWLEY_SIGMAS, LIMIT_NOISE, MAX_AV, MAX_DRAWS,
                                         MIN_CALIBRATED_DRAWS, MIN_DETECTED, MIN_MODELS,
                                         MISFIT_DRAWS, MISFIT_QUANTILE, MODEL_ERROR, NOISE_COPIES,
                                         PERCENTILES, PROPERTIES, RELIABLE_LINES, SCALE_EPOCHS,
                                         STATS, WARM_STEPS)
from course_utils.game.domain import (FLAG_BPT_UNKNOWN, FLAG_FEW_LINES, FLAG_NOT_REPRODUCED,
                                      FLAG_NOT_STAR_FORMING, FLAG_OUTSIDE_LIBRARY, FLAGS,
                                      describe_flag)
from course_utils.game.estimator import Game
from course_utils.game.montecarlo import summarise, truncated_normal
from course_utils.game.plots import plot_pdfs, plot_true_vs_predicted
from course_utils.game.regressors import (_MultiOutput, _PerProperty, default_regressor,
                                          game2019_regressor)
from course_utils.game.spectra import GameInputError, features, pattern_id, pattern_mask
from course_utils.game.validation import Validation, _Fitted, cross_validate, feature_importances
from course_utils.library import MUSE_LINES, UPPER_LIMIT, Library

__all__ = [
    "BASE_NOISE", "CALIBRATION_FRACTION", "CALIBRATION_MOCKS", "CALIBRATION_MODELS", "CHUNK",
    "EDGE_SIGMAS", "FLAGS", "FLAG_BPT_UNKNOWN", "FLAG_FEW_LINES", "FLAG_NOT_REPRODUCED",
    "FLAG_NOT_STAR_FORMING", "FLAG_OUTSIDE_LIBRARY", "FLOOR", "KEWLEY_SIGMAS", "LIMIT_NOISE",
    "MAX_AV", "MAX_DRAWS", "MIN_CALIBRATED_DRAWS", "MIN_DETECTED", "MIN_MODELS", "MISFIT_DRAWS",
    "MISFIT_QUANTILE", "MODEL_ERROR", "MUSE_LINES", "NOISE_COPIES", "PERCENTILES", "PROPERTIES",
    "RELIABLE_LINES", "SCALE_EPOCHS", "STATS", "UPPER_LIMIT", "WARM_STEPS", "Game",
    "GameInputError", "Library", "Validation", "cross_validate", "default_regressor",
    "describe_flag", "feature_importances", "features", "game2019_regressor", "pattern_id",
    "pattern_mask", "plot_pdfs", "plot_true_vs_predicted", "summarise", "truncated_normal",
]
# _Calibration, _Fitted, _MultiOutput and _PerProperty stay importable from here: pickles of a
# fitted Game made when this package was one module name them course_utils.game.<name>.
