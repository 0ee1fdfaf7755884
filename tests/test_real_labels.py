"""The learner trained on direct-method abundances: folds, intervals, robustness, distance."""

import numpy as np
import pandas as pd
import pytest

from course_utils import real_labels as rl
from course_utils.observations import compare_to_direct, load_hii_regions


def synthetic(n=600, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 3))
    truth = 8.3 + 0.5 * X[:, 0] - 0.3 * X[:, 1] ** 2 + 0.2 * X[:, 0] * X[:, 2]
    return X, truth + rng.normal(0, noise, n), np.repeat(np.arange(n // 6), 6)


def test_grouped_folds_keep_every_group_on_one_side_and_test_every_row_once():
    groups = np.repeat(list("abcdefghijklmnop"), [1, 5, 9, 2, 7, 3, 3, 8, 1, 1, 4, 6, 2, 2, 9, 5])
    folds = rl.grouped_folds(groups, 5)
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested) == list(range(len(groups)))
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
    with pytest.raises(ValueError, match="groups"):
        rl.grouped_folds(list("aab"), 3)


def test_log_features_sum_the_oii_doublet_where_only_its_lines_are_published():
    I = pd.DataFrame({"Hbeta": [100.0, 100.0], "OII3726_29": [200.0, np.nan],
                      "OII3726": [np.nan, 40.0], "OII3729": [np.nan, 60.0], "OIII5007": [50.0, 0.0]})
    F = rl.log_line_features(I, ["OII3726_29", "OIII5007"])
    np.testing.assert_allclose(F.iloc[:, 0], [np.log10(2.0), 0.0])
    assert np.isnan(F.iloc[1, 1])  # a zero intensity is no measurement


def test_the_learner_recovers_a_cubic_relation_to_its_noise():
    X, y, groups = synthetic(noise=0.05)
    cv = rl.cross_validate(rl.LabelRegressor(), X, y, rl.grouped_folds(groups), groups=groups)
    offset, scatter, n = compare_to_direct(cv["estimate"], y)
    assert n == len(y) and abs(offset) < 0.01 and scatter == pytest.approx(0.05, abs=0.01)


def test_held_out_intervals_cover_68_percent_of_gaussian_noise():
    X, y, groups = synthetic(n=1200, noise=0.1, seed=1)
    cv = rl.cross_validate(rl.LabelRegressor(), X, y, rl.grouped_folds(groups), groups=groups)
    assert rl.coverage(y, cv["p16"], cv["p84"]) == pytest.approx(0.68, abs=0.04)
    assert np.median(cv["p84"] - cv["p16"]) == pytest.approx(0.2, abs=0.03)  # 2 sigma


def test_a_hybrid_needs_only_the_offset_when_its_baseline_is_right_up_to_a_constant():
    rng = np.random.default_rng(2)
    physics = rng.uniform(7.5, 9.0, 40)
    X = np.column_stack([rng.normal(size=40), physics])
    y = physics - 0.2  # the models are offset, as GAME is from the direct method
    hybrid = rl.LabelRegressor(baseline=1, calibration_folds=0).fit(X[:10], y[:10])
    np.testing.assert_allclose(hybrid.predict(X[10:]), y[10:], atol=1e-3)


def test_clipping_keeps_wild_labels_from_pulling_the_fit():
    X, y, _ = synthetic(noise=0.02, seed=3)
    wild = y.copy()
    wild[:30] += 1.5  # 5% of the labels far off, as a few direct-method abundances are
    clean = rl.LabelRegressor(calibration_folds=0).fit(X, y).predict(X)
    clipped = rl.LabelRegressor(calibration_folds=0).fit(X, wild)
    plain = rl.LabelRegressor(calibration_folds=0, clip=None).fit(X, wild)
    assert not clipped.kept_[:30].any()
    assert np.median(np.abs(clipped.predict(X) - clean)) < 0.01
    assert np.median(np.abs(plain.predict(X) - clean)) > 0.03


def test_folds_with_test_rows_in_training_are_refused():
    X, y, _ = synthetic(n=60)
    with pytest.raises(ValueError, match="both sides"):
        rl.cross_validate(rl.LabelRegressor(calibration_folds=0), X, y,
                          [(np.arange(60), np.arange(10))])


def test_distance_flags_spectra_far_from_the_training_set():
    X, _, _ = synthetic(n=500)
    distance, threshold = rl.training_distance(X, np.array([[0.0, 0.0, 0.0], [5.0, 5.0, 5.0],
                                                            [np.nan, 0.0, 0.0]]))
    assert distance[0] < threshold < distance[1]
    assert np.isnan(distance[2])
    own, _ = rl.training_distance(X, X)
    assert np.mean(own > threshold) < 0.02


def test_learning_curve_improves_with_labels_and_the_hybrid_helps_most_when_they_are_few():
    X, y, groups = synthetic(n=600, noise=0.05, seed=4)
    physics = y + np.random.default_rng(5).normal(0, 0.1, len(y)) + 0.3  # offset, noisier models
    folds = rl.grouped_folds(groups, 5)
    curve = rl.learning_curve({"empirical": (rl.LabelRegressor(), X),
                               "hybrid": (rl.LabelRegressor(baseline=3), np.column_stack([X, physics]))},
                              y, folds, sizes=[8, 400], repeats=2)
    assert curve.loc[8, "empirical"] > curve.loc[400, "empirical"]
    assert curve.loc[8, "hybrid"] < curve.loc[8, "empirical"]


def test_on_the_course_sample_grouped_folds_score_worse_than_random_ones():
    sample = load_hii_regions()
    strong = sample.select(~sample.extended & sample.usable)
    X = rl.log_line_features(strong.intensities).to_numpy()
    y = strong.truth["OH_Te"].to_numpy()
    groups = strong.meta["reference"].to_numpy()
    scatter = {}
    for kind, folds in (("random", rl.random_folds(len(y))), ("grouped", rl.grouped_folds(groups))):
        cv = rl.cross_validate(rl.LabelRegressor(), X, y, folds, groups=groups)
        scatter[kind] = compare_to_direct(cv["estimate"], y)[1]
        assert 0.60 < rl.coverage(y, cv["p16"], cv["p84"]) < 0.76
    # regions of one paper share their systematics: random folds leak them
    assert scatter["random"] < scatter["grouped"] < 0.16


def test_game_estimates_take_any_library_and_keep_the_spectra_index():
    from course_utils.library import load_library

    sample = load_hii_regions()
    strong = sample.select(~sample.extended & sample.usable)
    lines = ["OII3726_29", "Hbeta", "OIII5007", "NII6583"]
    I, E = rl.spectra(strong.select(np.arange(len(strong)) < 20), lines)
    library = load_library(n_models=2000, lines=lines, seed=0, av_range=(0.0, 0.0))
    out = rl.game_estimates(I, E, library, properties=["12+log(O/H)", "log U"], n_draws=20)
    assert list(out.columns) == ["GAME 12+log(O/H)", "GAME log U", "GAME flag"]
    assert out.index.equals(I.index)
    lo, hi = library.labels["12+log(O/H)"].min(), library.labels["12+log(O/H)"].max()
    assert out["GAME 12+log(O/H)"].between(lo, hi).all()
