"""Tests of the GAME estimator (course_utils.game)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.ensemble import AdaBoostRegressor
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.tree import DecisionTreeRegressor

from course_utils.game import (BASE_NOISE, FLAG_FEW_LINES, FLAG_NOT_REPRODUCED,
                               FLAG_NOT_STAR_FORMING, FLOOR, MIN_MODELS, PROPERTIES, STATS, Game, GameInputError, cross_validate,
                               describe_flag, feature_importances, features, pattern_id,
                               truncated_normal)
from course_utils.library import MUSE_LINES, Library, build_library, grid_model, load_grid

LINES = list(MUSE_LINES)


@pytest.fixture(scope="module")
def library():
    return build_library(5000, LINES, seed=0)


@pytest.fixture(scope="module")
def held_out():
    return build_library(300, LINES, seed=11)


@pytest.fixture(scope="module")
def game(library):
    return Game().fit(library)


def rmse(table, labels, prop, stat="mean"):
    return float(np.sqrt(np.mean((table[f"{prop}_{stat}"] - labels[prop]) ** 2)))


def subset(library, lines):
    return Library(library.intensities[lines], library.labels, library.lines.loc[lines])


def test_features_are_log_ratios_to_the_brightest_line():
    I = np.array([[2.0, 1.0, 0.0], [1e-9, 4.0, 2.0]])
    expected = np.log10([[1.0, 0.5, FLOOR], [FLOOR, 1.0, 0.5]])
    np.testing.assert_allclose(features(I), expected)


def test_recovers_noise_free_held_out_models(game, held_out):
    # Thresholds: the 5 000-model library of the tests is ~2x coarser than the benchmark's
    # 50 000 (benchmarks/game_accuracy.py, CV RMSE ~0.02/0.03/0.44/0.03 there); each is also
    # a small fraction of the spread of the uniform prior (std = range / sqrt(12)).
    table = game.predict(held_out.intensities)
    limits = {"12+log(O/H)": 0.06, "log U": 0.07, "log P/k": 0.6, "A_V": 0.08}
    for prop, limit in limits.items():
        assert rmse(table, held_out.labels, prop) < limit, prop
        assert rmse(table, held_out.labels, prop) < 0.35 * held_out.labels[prop].std(), prop


def test_output_columns_rows_and_draws(game, held_out):
    table, draws = game.predict(held_out.intensities.iloc[:7], held_out.intensities.iloc[:7] * 0.1,
                                return_draws=True)
    assert list(table.columns) == [f"{p}_{s}" for p in PROPERTIES for s in STATS] + ["pattern",
                                                                                    "flag"]
    assert len(table) == 7 and draws.shape == (7, game.n_draws, len(PROPERTIES))
    assert (table["pattern"] == "1" * len(LINES)).all()
    np.testing.assert_allclose(table["log U_median"], np.median(draws[:, :, 1], axis=1))
    # calibrated draws stand for the levels (k + 1/2) / n: percentiles are read off those
    levels = (np.arange(game.n_draws) + 0.5) / game.n_draws
    at = lambda q, j: [np.interp(q, levels, np.sort(d)) for d in draws[:, :, j]]  # noqa: E731
    np.testing.assert_allclose(table["A_V_p84"], at(0.84, 3))
    np.testing.assert_allclose(table["A_V_p97.5"], at(0.975, 3))
    np.testing.assert_allclose(table["log U_p2.5"], at(0.025, 1))
    for prop in PROPERTIES:
        ordered = [table[f"{prop}_{s}"] for s in ("p2.5", "p16", "median", "p84", "p97.5")]
        assert all((a <= b).all() for a, b in zip(ordered, ordered[1:])), prop


def test_arrays_in_lines_order_equal_dataframes(game, held_out):
    I = held_out.intensities.iloc[:5]
    shuffled = I[LINES[::-1]]  # DataFrames are matched by column name, not position
    pd.testing.assert_frame_equal(game.predict(I.to_numpy()), game.predict(shuffled))


def test_missing_brightest_line_is_predicted_like_a_model_without_it(library, held_out, game):
    # Halpha is the brightest MUSE line of most models; GAME normalised the library by it
    # before dropping it, which shifted O/H by +0.17 dex (measured on the course grid).
    without = [l for l in LINES if l != "Halpha"]
    direct = Game(lines=without).fit(subset(library, without)).predict(held_out.intensities)
    spectra = held_out.intensities.copy()
    spectra["Halpha"] = 0.0
    via_pattern = game.predict(spectra)
    assert (via_pattern["pattern"] == pattern_id([l != "Halpha" for l in LINES])).all()
    for prop in ("12+log(O/H)", "log U"):
        a, b = rmse(via_pattern, held_out.labels, prop), rmse(direct, held_out.labels, prop)
        assert a < 1.3 * b + 0.01, (prop, a, b)
        assert abs((via_pattern[f"{prop}_mean"] - held_out.labels[prop]).mean()) < 0.02


def test_pattern_training_set_is_normalised_within_the_pattern(game):
    X, _ = game.training_set(pattern_id([l != "Halpha" for l in LINES]))
    assert X.shape[1] == len(LINES) - 1
    np.testing.assert_allclose(X.max(axis=1), 0.0)  # every row has its brightest line at 0


@pytest.mark.filterwarnings("ignore:n_draws=5")
def test_pattern_models_are_trained_once_and_cached(library, held_out):
    game = Game(n_draws=5).fit(library)
    # fitting trains the all-lines model at BASE_NOISE, which later models start from
    assert list(game.models_) == [("1" * len(LINES), (BASE_NOISE,) * len(LINES))]
    spectra = held_out.intensities.iloc[:20].copy()
    spectra.iloc[:10, 2] = 0.0
    game.predict(spectra)
    models = dict(game.models_)
    assert len(models) == 3  # the base and one model for each of the two patterns
    game.predict(spectra)
    assert all(game.models_[k] is m for k, m in models.items())


def test_draws_truncated_normal_matches_scipy():
    rng = np.random.default_rng(1)
    draws = truncated_normal(np.full(20000, 1.0), np.full(20000, 1.5), rng)
    assert draws.min() >= 0
    reference = stats.truncnorm(a=-1.0 / 1.5, b=np.inf, loc=1.0, scale=1.5)
    assert stats.kstest(draws, reference.cdf).pvalue > 1e-3


def test_draw_semantics_upper_limit_exact_and_missing(library):
    game = Game(n_draws=4000).fit(library)
    I = np.array([[1.0, 0.5, 2.0, 0.3]])
    E = np.array([[0.1, -99.0, 0.0, 0.5]])
    draws = game.draws(I, E, np.random.default_rng(0))[0]
    # upper limit: uniform in [0, limit]
    assert stats.kstest(draws[:, 1], stats.uniform(0, 0.5).cdf).pvalue > 1e-3
    # error 0 on a detected line: exact
    assert np.all(draws[:, 2] == np.float32(2.0))
    # truncated at zero even for a 0.6-sigma line
    assert draws[:, 3].min() >= 0 and abs(draws[:, 0].std() - 0.1) < 0.01


def test_exact_line_is_used_not_missing(game, held_out):
    I = held_out.intensities.iloc[:3]
    E = 0.1 * I
    E.iloc[:, 4] = 0.0
    table = game.predict(I, E)
    assert (table["pattern"] == "1" * len(LINES)).all()
    missing = I.copy()
    missing.iloc[:, 4] = np.nan
    assert (game.predict(missing, E)["pattern"].str[4] == "0").all()


def test_upper_limits_widen_the_uncertainty(game, library, held_out):
    I = held_out.intensities.iloc[:50]
    E = 0.05 * I
    limits = E.copy()
    limits["NII6583"] = -99.0  # [NII] is the main metallicity line of the MUSE set
    # The other lines still constrain O/H, so losing [NII] widens the distribution by
    # ~1.3-1.4x, calibrated or not (GAME's own Monte Carlo draws).
    for model, factor in ((game, 1.2), (Game(calibrate=False).fit(library), 1.2)):
        sharp = model.predict(I, E)["12+log(O/H)_std"]
        wide = model.predict(I, limits)["12+log(O/H)_std"]
        assert wide.median() > factor * sharp.median()


def test_fixed_seed_is_deterministic(library, held_out):
    I, E = held_out.intensities.iloc[:20], 0.1 * held_out.intensities.iloc[:20]
    a = Game(random_state=3, n_draws=20).fit(library).predict(I, E)
    b = Game(random_state=3, n_draws=20).fit(library).predict(I, E)
    c = Game(random_state=4, n_draws=20).fit(library).predict(I, E)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["log U_std"], c["log U_std"])


def test_draw_seed_gives_independent_reproducible_draws(game, held_out):
    # Blocks of a cube are predicted in separate calls: their draws must not repeat.
    I, E = held_out.intensities.iloc[:5], 0.1 * held_out.intensities.iloc[:5]
    _, d0 = game.predict(I, E, return_draws=True, draw_seed=0)
    _, d0_again = game.predict(I, E, return_draws=True, draw_seed=0)
    _, d1 = game.predict(I, E, return_draws=True, draw_seed=1)
    np.testing.assert_array_equal(d0, d0_again)
    assert not np.allclose(d0, d1)
    # the scatter of the draws about each spectrum's mean is uncorrelated between the calls
    r0 = (d0 - d0.mean(axis=1, keepdims=True)).ravel()
    r1 = (d1 - d1.mean(axis=1, keepdims=True)).ravel()
    assert abs(np.corrcoef(r0, r1)[0, 1]) < 0.3


def test_noise_aware_training_beats_noise_free_on_noisy_spectra(library, held_out):
    rng = np.random.default_rng(2)
    true = held_out.intensities.to_numpy()
    noisy = truncated_normal(true, 0.1 * true, rng)
    aware = Game(n_draws=20).fit(library).predict(noisy, 0.1 * true)  # noise-aware by default
    naive = Game(noise_aware=False, n_draws=20).fit(library).predict(noisy, 0.1 * true)
    for prop in ("12+log(O/H)", "log U", "log P/k"):
        assert rmse(aware, held_out.labels, prop) < rmse(naive, held_out.labels, prop), prop


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_warm_start_epochs_equal_scikit_learns_to_the_last_bit(n_outputs):
    # GAME's warm starts train on with their own Adam loop; it must be scikit-learn's
    # MLPRegressor.fit, step for step (a last, short batch and a 1-d target included)
    import copy
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    from course_utils.game.regressors import _replayable, adam_epochs

    rng = np.random.default_rng(3)
    X = rng.normal(size=(1000, 6)).astype(np.float32)
    Y = np.column_stack([np.sin(X[:, 0]) + X[:, 1] * X[:, 2], X[:, 3] ** 2, X[:, 4]])
    y = Y[:, :n_outputs].astype(np.float32).squeeze()
    reg = MLPRegressor(hidden_layer_sizes=(16, 8), batch_size=96, learning_rate_init=2e-3,
                       max_iter=3, tol=0.0, n_iter_no_change=1000, random_state=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
        start = [w.copy() for w in reg.coefs_ + reg.intercepts_]
        theirs = copy.deepcopy(reg).set_params(warm_start=True, max_iter=4).fit(X, y)
    assert _replayable(reg, 4)
    ours = adam_epochs(reg, X, y, 4)
    for a, b, w in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, start):
        assert a.dtype == b.dtype == np.float32
        assert np.array_equal(a, b)
        assert not np.array_equal(a, w)  # and the epochs did train
    assert np.array_equal(ours.predict(X), theirs.predict(X))


def test_game2019_preset_is_games_published_configuration(library):
    game = Game(regressor="game2019")
    model = game._make_model().regressor
    assert isinstance(model, AdaBoostRegressor)
    assert model.n_estimators == 50 and model.loss == "linear" and model.learning_rate == 1.0
    assert isinstance(model.estimator, DecisionTreeRegressor) and model.estimator.max_depth is None


def test_any_scikit_learn_regressor_is_fitted_per_property(library, held_out):
    game = Game(regressor=LinearRegression(), n_draws=2, noise_aware=False).fit(library)
    model = game.models_[("1" * len(LINES), None)]
    assert len(model.models) == len(PROPERTIES)
    X, Y = game.training_set("1" * len(LINES))
    np.testing.assert_allclose(model.models[1].predict(X), LinearRegression().fit(X, Y[:, 1]).predict(X))


def test_cross_validation_agrees_with_scikit_learn(library):
    game = Game(regressor=LinearRegression(), noise_aware=False, calibrate=False).fit(library)
    check = cross_validate(game, n_splits=4)
    rows = np.random.default_rng([0, 3]).permutation(len(library))
    X, Y = game.training_set("1" * len(LINES), rows=rows)
    for j, prop in enumerate(PROPERTIES):
        pred = cross_val_predict(LinearRegression(), X, Y[:, j],
                                 cv=KFold(4, shuffle=True, random_state=0))
        np.testing.assert_allclose(check.predicted[prop], pred, atol=1e-8)
        assert check.scores.at[prop, "rmse"] == pytest.approx(np.sqrt(np.mean((pred - Y[:, j]) ** 2)))


def test_permutation_importance_finds_the_density_doublet(game):
    imp = feature_importances(game, n_repeats=2, test_size=500)
    # log P/k is read from the density-sensitive [SII] 6716/6731 doublet (Osterbrock &
    # Ferland 2006): its two lines are the most important ones.
    top = imp[("permutation", "log P/k")].nlargest(2).index
    assert set(top) == {"SII6716", "SII6731"}
    # the Balmer decrement measures dust: Hbeta or Halpha leads for A_V
    assert imp[("permutation", "A_V")].idxmax() in {"Hbeta", "Halpha"}


@pytest.mark.parametrize("intensities, errors, message", [
    ([[1.0] * 9], None, "shape"),
    ([[1.0, -1.0] + [1.0] * 8], None, "negative"),
    ([[0.0] * 10], None, "no detected line"),
    ([[1.0] * 10], [[np.nan] + [0.1] * 9], "errors"),
    ([[1.0] * 10], [[-5.0] + [0.1] * 9], "upper limit"),
    ([["a"] * 10], None, "numbers"),
])
def test_bad_input_gets_a_clear_error(game, intensities, errors, message):
    with pytest.raises(GameInputError, match=message):
        game.predict(intensities, errors)


def test_unknown_line_or_property_is_named(library):
    with pytest.raises(KeyError, match="OII3726"):
        Game(lines=["Hbeta", "OII3726"]).fit(library)
    with pytest.raises(KeyError, match="log T"):
        Game(properties=["log T"]).fit(library)
    with pytest.raises(ValueError, match="regressor"):
        Game(regressor="fast").fit(library)


def test_plots_label_their_axes_with_units(game, held_out):
    import matplotlib.pyplot as plt

    from course_utils.game import plot_pdfs, plot_true_vs_predicted

    check = cross_validate(game, n_splits=2, max_models=400)
    axes = plot_true_vs_predicted(check)
    assert [ax.get_xlabel() for ax in axes][0] == "true 12+log(O/H) (dex)"
    assert axes[3].get_ylabel() == "predicted A_V (mag)" and "RMSE" in axes[0].get_title()
    _, draws = game.predict(held_out.intensities.iloc[:2], 0.1 * held_out.intensities.iloc[:2],
                            return_draws=True)
    axes = plot_pdfs(draws, PROPERTIES, spectrum=1)
    assert axes[1].get_xlabel() == "log U (dex)" and "density" in axes[1].get_ylabel()
    plt.close("all")
