"""GAME's fixed numbers: the properties and statistics it reports, and every size, count and
threshold of its training, calibration and checks, each with the measurement behind it."""

import numpy as np

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
#: 400 steps were already within 0.002 dex of a fresh fit. 600 steps would save a cube ~40%
#: of its one noise-aware fine-tune (~0.6 s on the class cube with ``regressors.adam_epochs``),
#: but moved GAME's results on the real HII regions of ``benchmarks/real_hii.py`` (no H-alpha,
#: so a warm-started model) by up to 0.04 dex in offset and 5 points in flag rate: kept at 1000.
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
