"""The reference functions that the notebooks' self-checks compare students' answers with."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from course_utils import trees, uncertainty
from course_utils.cube import log_ratio_map
from course_utils.library import UPPER_LIMIT


def test_cv_scores_matches_a_hand_written_loop():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    Y = pd.DataFrame({"a": X[:, 0] + 0.1 * rng.normal(size=200), "b": X[:, 1] * X[:, 2]})
    model = DecisionTreeRegressor(max_depth=3, random_state=0)
    got = uncertainty.cv_scores(model, X, Y, n_splits=4, seed=2)
    assert list(got.index.names) == ["property", "fold"] and list(got.columns) == ["r2", "rmse"]
    from sklearn.model_selection import KFold
    for fold, (train, test) in enumerate(KFold(4, shuffle=True, random_state=2).split(X)):
        for prop in Y:
            pred = DecisionTreeRegressor(max_depth=3, random_state=0).fit(X[train], Y[prop][train]).predict(X[test])
            rmse = np.sqrt(np.mean((pred - Y[prop].to_numpy()[test]) ** 2))
            assert np.isclose(got.loc[(prop, fold), "rmse"], rmse)
            ss = np.sum((Y[prop].to_numpy()[test] - Y[prop].to_numpy()[test].mean()) ** 2)
            assert np.isclose(got.loc[(prop, fold), "r2"], 1 - np.sum((pred - Y[prop].to_numpy()[test]) ** 2) / ss)


def test_draw_spectra_follows_games_three_rules():
    flux = np.array([2.0, 2.5, 0.0, 0.05])
    error = np.array([0.2, UPPER_LIMIT, 0.1, 0.05])
    d = uncertainty.draw_spectra(flux, error, 40_000, np.random.default_rng(1))
    assert d.shape == (40_000, 4)
    assert abs(d[:, 0].mean() - 2.0) < 0.01 and abs(d[:, 0].std() - 0.2) < 0.01  # Gaussian
    assert d[:, 1].min() >= 0 and d[:, 1].max() <= 2.5                           # uniform below the limit
    assert stats.kstest(d[:, 1] / 2.5, "uniform").pvalue > 1e-3
    assert np.all(d[:, 2] == 0)                                                   # missing stays 0
    assert d[:, 3].min() >= 0                                                     # S/N 1: truncated at 0
    same = uncertainty.draw_spectra(flux, error, 10, np.random.default_rng(5))
    assert np.array_equal(same, uncertainty.draw_spectra(flux, error, 10, np.random.default_rng(5)))


def test_coverage_and_pit_count_the_ends_inside():
    assert uncertainty.coverage([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [1.0, 1.0, 3.5]) == pytest.approx(2 / 3)
    draws = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 1.0, 1.0]])
    assert np.allclose(uncertainty.pit(draws, np.array([2.0, 0.5])), [0.5, 0.5])
    # honest draws give a uniform PIT and a 68 % interval that holds the truth 68 % of the time
    rng = np.random.default_rng(0)
    truth, draws = rng.normal(size=4000), rng.normal(size=(4000, 400))
    assert stats.kstest(uncertainty.pit(draws, truth), "uniform").pvalue > 1e-3
    lo, hi = np.percentile(draws, [16, 84], axis=1)
    assert abs(uncertainty.coverage(lo, hi, truth) - 0.68) < 0.03


def test_cv_accuracy_by_depth_is_scikit_learns_cross_val_score():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    got = trees.cv_accuracy_by_depth(X, y, [1, 3], cv=cv)
    want = [cross_val_score(DecisionTreeClassifier(max_depth=d, random_state=0), X, y, cv=cv).mean() for d in (1, 3)]
    assert np.allclose(got, want)


def test_log_ratio_map_masks_either_faint_line():
    num, den = np.array([10.0, 10.0, 3.0, np.nan]), np.array([5.0, 1.0, 30.0, 5.0])
    err = np.ones(4)
    got = log_ratio_map(num, err, den, err, snr_min=3.0)
    assert np.isclose(got[0], np.log10(2.0))
    assert np.isnan(got[1]) and np.isnan(got[3])          # denominator at S/N 1; NaN data
    assert np.isclose(got[2], np.log10(0.1))               # S/N exactly 3 is kept


def test_fit_and_score_returns_validation_then_fitting_accuracy():
    from course_utils.nn import NeuralNetClassifier, fit_and_score, load_digits_split

    X_train, X_test, y_train, y_test = load_digits_split()
    X_fit, y_fit, X_val, y_val = X_train[:300], y_train[:300], X_train[300:500], y_train[300:500]
    val, fit = fit_and_score(8, 0.1, X_fit, y_fit, X_val, y_val, n_epochs=5)
    model = NeuralNetClassifier(hidden_units=8, learning_rate=0.1, n_epochs=5, random_state=0).fit(X_fit, y_fit)
    assert np.isclose(val, model.score(X_val, y_val)) and np.isclose(fit, model.score(X_fit, y_fit))
