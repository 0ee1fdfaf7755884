"""The teaching AdaBoost implementations against scikit-learn's."""

import numpy as np
import pytest
from sklearn.datasets import (load_breast_cancer, load_iris, make_classification, make_friedman1,
                              make_gaussian_quantiles, make_moons)
from sklearn.ensemble import AdaBoostClassifier, AdaBoostRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from course_utils.boosting import AdaBoostR2, AdaBoostSAMME, samme_update, weighted_median

CLASSIFICATION = {
    "moons": make_moons(300, noise=0.3, random_state=0),
    "classification": make_classification(400, 6, random_state=1),
    "breast_cancer": load_breast_cancer(return_X_y=True),
    "iris": load_iris(return_X_y=True),  # three classes
    "quantiles3": make_gaussian_quantiles(n_samples=300, n_features=2, n_classes=3, random_state=0),
}


def test_samme_update_by_hand():
    w = np.full(4, 0.25)
    alpha, new = samme_update(w, [True, False, False, False])
    assert alpha == pytest.approx(np.log(3))  # err = 1/4: log((1 - 1/4) / (1/4))
    # the wrong point's weight x3, then renormalised: 3/6 for it, 1/6 for the others
    assert np.allclose(new, [0.5, 1 / 6, 1 / 6, 1 / 6])
    # after the update the old learner has weighted error exactly 1/2 (two classes)
    assert new[0] == pytest.approx(0.5)
    alpha3, _ = samme_update(w, [True, False, False, False], n_classes=3)
    assert alpha3 == pytest.approx(np.log(3) + np.log(2))
    with pytest.raises(ValueError, match="weighted error"):
        samme_update(w, [True, True, True, False])


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_samme_with_stumps_reproduces_sklearn(name):
    X, y = CLASSIFICATION[name]
    mine = AdaBoostSAMME(n_estimators=30).fit(X, y)
    theirs = AdaBoostClassifier(DecisionTreeClassifier(max_depth=1), n_estimators=30,
                                random_state=0).fit(X, y)
    assert len(mine.estimators_) == len(theirs.estimators_)
    assert np.allclose(mine.estimator_weights_, theirs.estimator_weights_, rtol=1e-9)
    assert np.allclose(mine.estimator_errors_, theirs.estimator_errors_, rtol=1e-9)
    for a, b in zip(mine.staged_predict(X), theirs.staged_predict(X)):
        assert np.array_equal(a, b)
    assert np.array_equal(mine.predict(X), theirs.predict(X))


def test_samme_weights_grow_on_misclassified_points():
    X, y = make_moons(200, noise=0.3, random_state=0)
    model = AdaBoostSAMME(n_estimators=5).fit(X, y)
    w = model.sample_weights_
    assert w.shape == (6, 200) and np.allclose(w.sum(axis=1), 1)
    wrong = model.estimators_[0].predict(X) != y
    assert np.all(w[1][wrong] > w[0][wrong]) and np.all(w[1][~wrong] < w[0][~wrong])


def test_samme_stops_on_a_perfect_learner():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = AdaBoostSAMME(n_estimators=10).fit(X, [0, 0, 1, 1])
    assert len(model.estimators_) == 1 and model.estimator_errors_[0] == 0
    with pytest.raises(ValueError, match="two classes"):
        AdaBoostSAMME().fit(X, [1, 1, 1, 1])


def test_weighted_median():
    preds = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    assert np.allclose(weighted_median(preds, np.ones(3)), [2.0, 2.0])
    assert np.allclose(weighted_median(preds, np.array([0.1, 0.1, 5.0])), [3.0, 1.0])


def _rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


@pytest.mark.parametrize("loss", ["linear", "square"])
def test_adaboost_r2_error_within_10_percent_of_sklearn(loss):
    X, y = make_friedman1(800, noise=1.0, random_state=0)
    Xt, yt = make_friedman1(2000, noise=0.0, random_state=1)
    mine = np.mean([_rmse(AdaBoostR2(40, loss=loss, random_state=s).fit(X, y).predict(Xt), yt)
                    for s in range(3)])
    theirs = np.mean([_rmse(AdaBoostRegressor(n_estimators=40, loss=loss, random_state=s)
                            .fit(X, y).predict(Xt), yt) for s in range(3)])
    single = _rmse(DecisionTreeRegressor(max_depth=3).fit(X, y).predict(Xt), yt)
    assert abs(mine - theirs) <= 0.10 * theirs
    assert mine < 0.85 * single  # boosting beats its own weak learner


def test_adaboost_r2_is_deterministic_and_down_weights_good_points():
    X, y = make_friedman1(300, random_state=0)
    a = AdaBoostR2(10, random_state=4).fit(X, y)
    b = AdaBoostR2(10, random_state=4).fit(X, y)
    assert np.array_equal(a.predict(X), b.predict(X))
    stages = list(a.staged_predict(X))
    assert len(stages) == len(a.estimators_) and np.array_equal(stages[-1], a.predict(X))
    # Drucker's update: the point with the largest error keeps its weight (beta^0), all others shrink
    first = a.estimators_[0].predict(X)
    worst = np.argmax(np.abs(first - y))
    ratio = a.sample_weights_[1] / a.sample_weights_[0]
    assert np.argmax(ratio) == worst
    with pytest.raises(ValueError, match="loss"):
        AdaBoostR2(2, loss="huber").fit(X, y)
    with pytest.raises(ValueError, match="shape"):
        AdaBoostR2(2).fit(X, y[:-1])
    X_nan = X.copy()
    X_nan[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        AdaBoostSAMME(2).fit(X_nan, y > y.mean())
