"""The teaching tree against scikit-learn's DecisionTreeClassifier."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris, load_wine, make_classification, make_moons
from sklearn.tree import DecisionTreeClassifier

from course_utils.trees import DecisionTree, best_split, entropy, gini, impurity, split_gain

DATASETS = {
    "iris": load_iris(return_X_y=True),
    "wine": load_wine(return_X_y=True),
    "breast_cancer": load_breast_cancer(return_X_y=True),
    "classification": make_classification(300, 5, random_state=0),
    "moons": make_moons(200, noise=0.3, random_state=0),
}


def test_impurity_textbook_values():
    assert gini([0, 0, 1, 1]) == pytest.approx(0.5)
    assert entropy([0, 0, 1, 1]) == pytest.approx(1.0)  # one bit
    assert gini([1, 1, 1]) == 0 and entropy(["a", "a"]) == 0
    assert gini([0, 1, 2]) == pytest.approx(2 / 3)
    assert entropy([0, 1, 2, 3]) == pytest.approx(2.0)
    # a weight of 2 counts like two copies of a point
    assert gini([0, 1], sample_weight=[2, 1]) == pytest.approx(gini([0, 0, 1]))
    # 6 of class 0, 4 of class 1: 1 - 0.36 - 0.16
    assert impurity([0] * 6 + [1] * 4, "gini") == pytest.approx(0.48)
    with pytest.raises(ValueError, match="criterion"):
        impurity([0, 1], "variance")


def test_split_gain_by_hand():
    y = np.array([0, 0, 0, 1, 1, 1])
    assert split_gain(y, [True] * 3 + [False] * 3) == pytest.approx(0.5)  # perfect split
    # left {0,0,0,1} gini 0.375, right {1,1} gini 0: 0.5 - 4/6 * 0.375
    assert split_gain(y, [True, True, True, True, False, False]) == pytest.approx(0.25)


def _sklearn_stump(X, y, criterion, w):
    tree = DecisionTreeClassifier(max_depth=1, criterion=criterion, random_state=0)
    return tree.fit(X, y, sample_weight=w)


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("criterion", ["gini", "entropy"])
@pytest.mark.parametrize("weighted", [False, True])
def test_best_split_matches_sklearn_stump(name, criterion, weighted):
    X, y = DATASETS[name]
    w = np.random.default_rng(1).uniform(0, 2, len(y)) if weighted else None
    split = best_split(X, y, criterion, w)
    sk = _sklearn_stump(X, y, criterion, w)
    t = sk.tree_
    n = t.weighted_n_node_samples
    assert t.impurity[0] == pytest.approx(impurity(y, criterion, w), rel=1e-12)
    sk_gain = t.impurity[0] - (n[1] * t.impurity[1] + n[2] * t.impurity[2]) / n[0]
    assert split.gain == pytest.approx(sk_gain, rel=1e-9)
    # same partition of the data (iris has two features giving the same partition,
    # and scikit-learn visits features in random order, so compare partitions)
    mine = X[:, split.feature] <= split.threshold
    theirs = X[:, t.feature[0]] <= t.threshold[0]
    assert np.array_equal(mine, theirs)
    if name != "iris":
        assert split.feature == t.feature[0]
        assert split.threshold == pytest.approx(t.threshold[0], rel=1e-6)  # sklearn cuts in float32
    stump = DecisionTree(max_depth=1, criterion=criterion).fit(X, y, sample_weight=w)
    assert np.array_equal(stump.predict(X), sk.predict(X))


def test_best_split_is_exhaustive_on_small_data():
    # every candidate threshold scored one by one with split_gain
    X, y = make_classification(40, 3, n_informative=2, n_redundant=0, random_state=3)
    split = best_split(X, y)
    gains = [split_gain(y, X[:, f] <= t) for f in range(3)
             for t in (np.unique(X[:, f])[:-1] + np.unique(X[:, f])[1:]) / 2]
    assert split.gain == pytest.approx(max(gains))


def test_constant_features_cannot_be_split():
    assert best_split(np.ones((5, 2)), [0, 1, 0, 1, 1]) is None
    tree = DecisionTree().fit(np.ones((4, 1)), [0, 1, 1, 1])
    assert tree.get_depth() == 0 and list(tree.predict([[1.0]])) == [1]


def test_full_tree_fits_training_data_and_generalises_like_sklearn():
    X, y = make_moons(400, noise=0.25, random_state=0)
    Xt, yt = make_moons(400, noise=0.25, random_state=1)
    deep = DecisionTree().fit(X, y)
    assert (deep.predict(X) == y).all()  # grown until pure
    for depth in (2, 4):
        mine = DecisionTree(max_depth=depth).fit(X, y)
        theirs = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(X, y)
        assert mine.get_depth() == theirs.get_depth()
        assert abs(mine.score(Xt, yt) - theirs.score(Xt, yt)) <= 0.01
    proba = DecisionTree(max_depth=2).fit(X, y).predict_proba(Xt)
    assert np.allclose(proba.sum(axis=1), 1)


def test_bad_input_is_reported():
    with pytest.raises(ValueError, match="shape"):
        best_split(np.ones(5), [0, 1, 0, 1, 1])
    with pytest.raises(ValueError, match="sample_weight"):
        DecisionTree().fit(np.ones((3, 1)), [0, 1, 1], sample_weight=[1, -1, 1])
