"""Decision trees from scratch: impurity, the best split, and a small classification tree.

A readable teaching version of what :class:`sklearn.tree.DecisionTreeClassifier` does
(Breiman et al. 1984, *Classification and Regression Trees*). The tests check that the
impurities and the best split agree with scikit-learn's ``max_depth=1`` tree; use
scikit-learn for real work.

Every function takes optional ``sample_weight``: a point of weight 2 counts like two
copies of that point. AdaBoost (:mod:`course_utils.boosting`) relies on this.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin

CRITERIA = ("gini", "entropy")


def _impurity_from_counts(counts: np.ndarray, criterion: str) -> np.ndarray:
    """Impurity of (weighted) class counts; ``counts`` has the classes on its last axis."""
    total = counts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(total > 0, counts / total, 0.0)
    if criterion == "gini":
        return 1.0 - np.sum(p**2, axis=-1)
    if criterion == "entropy":
        # 0 log 0 = 0; base 2, as scikit-learn, so a 50/50 node has entropy 1 bit
        logs = np.log2(np.where(p > 0, p, 1.0))
        return -np.sum(p * logs, axis=-1)
    raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")


def _check_xy(X: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """X as a float array of shape (n_samples, n_features) and y with n_samples entries."""
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(f"X must have shape (n_samples, n_features) and y shape (n_samples,); "
                         f"got X of shape {X.shape} and y of shape {y.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"X has {np.count_nonzero(~np.isfinite(X))} NaN or infinite values; "
                         f"remove or replace them first")
    return X, y


def _class_counts(y: np.ndarray, sample_weight: np.ndarray | None, classes: np.ndarray) -> np.ndarray:
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    return np.array([w[y == c].sum() for c in classes])


def gini(y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
    """Gini impurity, 1 - sum_k p_k^2, of the labels ``y`` (p_k: weighted class fractions).

    0 for a pure node; 0.5 for two classes in equal shares.
    """
    y = np.asarray(y)
    return float(_impurity_from_counts(_class_counts(y, sample_weight, np.unique(y)), "gini"))


def entropy(y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
    """Shannon entropy, -sum_k p_k log2 p_k, of the labels ``y`` in bits.

    0 for a pure node; 1 bit for two classes in equal shares.
    """
    y = np.asarray(y)
    return float(_impurity_from_counts(_class_counts(y, sample_weight, np.unique(y)), "entropy"))


def impurity(y: ArrayLike, criterion: str = "gini", sample_weight: ArrayLike | None = None) -> float:
    """Gini impurity or entropy of ``y``, by name."""
    y = np.asarray(y)
    return float(_impurity_from_counts(_class_counts(y, sample_weight, np.unique(y)), criterion))


def split_gain(y: ArrayLike, left: ArrayLike, criterion: str = "gini",
               sample_weight: ArrayLike | None = None) -> float:
    """Impurity decrease of splitting ``y`` into ``y[left]`` and ``y[~left]``.

    gain = I(parent) - (W_left I(left) + W_right I(right)) / W_parent, where W are the
    (weighted) numbers of points.
    """
    y, left = np.asarray(y), np.asarray(left, dtype=bool)
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    parent = impurity(y, criterion, w)
    children = sum(w[side].sum() * impurity(y[side], criterion, w[side])
                   for side in (left, ~left) if side.any())
    return parent - children / w.sum()


@dataclass
class Split:
    """The best split of a node: go left when ``X[:, feature] <= threshold``."""

    feature: int
    threshold: float
    gain: float


def best_split(X: ArrayLike, y: ArrayLike, criterion: str = "gini",
               sample_weight: ArrayLike | None = None) -> Split | None:
    """The axis-aligned split with the largest impurity decrease.

    Every feature is sorted once; the class counts left of each cut are cumulative sums,
    so all cuts of a feature are scored at once. Cuts lie halfway between consecutive
    distinct values, as in scikit-learn. Among equal gains the first feature and the
    lowest threshold win.

    Parameters
    ----------
    X
        Array of shape (n_samples, n_features).
    y
        Class labels, shape (n_samples,).
    criterion
        ``"gini"`` or ``"entropy"``.
    sample_weight
        Optional non-negative weights, shape (n_samples,).

    Returns
    -------
    Split or None
        None when no feature takes two distinct values (nothing to split).
    """
    X, y = _check_xy(X, y)
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    classes, y_index = np.unique(y, return_inverse=True)
    onehot = np.eye(len(classes))[y_index] * w[:, None]  # weighted one-hot class counts
    total = onehot.sum(axis=0)
    parent = _impurity_from_counts(total, criterion)
    best: Split | None = None
    for feature in range(X.shape[1]):
        order = np.argsort(X[:, feature], kind="stable")
        x = X[order, feature]
        left = np.cumsum(onehot[order], axis=0)[:-1]  # counts left of a cut after row i
        right = total - left
        w_left, w_right = left.sum(axis=1), right.sum(axis=1)
        children = (w_left * _impurity_from_counts(left, criterion)
                    + w_right * _impurity_from_counts(right, criterion)) / total.sum()
        gain = np.where(x[1:] > x[:-1], parent - children, -np.inf)  # only cut between distinct values
        i = int(np.argmax(gain))
        if np.isfinite(gain[i]) and (best is None or gain[i] > best.gain):
            best = Split(feature, float(x[i] / 2 + x[i + 1] / 2), float(gain[i]))
    return best


@dataclass
class _Node:
    value: np.ndarray  # weighted class counts reaching this node
    split: Split | None = None
    left: "_Node | None" = None
    right: "_Node | None" = None


class DecisionTree(ClassifierMixin, BaseEstimator):
    """A small classification tree, grown greedily with :func:`best_split`.

    ``DecisionTree(max_depth=1)`` is a decision stump, the weak learner of AdaBoost.

    Parameters
    ----------
    max_depth
        Maximum depth; None grows until the leaves are pure.
    criterion
        ``"gini"`` or ``"entropy"``.
    min_samples_split
        A node with fewer points becomes a leaf.
    """

    def __init__(self, max_depth: int | None = None, criterion: str = "gini",
                 min_samples_split: int = 2):
        self.max_depth = max_depth
        self.criterion = criterion
        self.min_samples_split = min_samples_split

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> "DecisionTree":
        X, y = _check_xy(X, y)
        if self.criterion not in CRITERIA:
            raise ValueError(f"criterion must be one of {CRITERIA}, got {self.criterion!r}")
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if w.shape != y.shape or np.any(w < 0):
            raise ValueError(f"sample_weight must be non-negative with shape {y.shape}, got {w.shape}")
        self.classes_, y_index = np.unique(y, return_inverse=True)
        self.n_features_in_ = X.shape[1]
        self.tree_ = self._grow(X, y_index, w, depth=0)
        return self

    def _grow(self, X, y, w, depth) -> _Node:
        node = _Node(value=np.bincount(y, weights=w, minlength=len(self.classes_)))
        pure = np.count_nonzero(node.value) <= 1
        deep = self.max_depth is not None and depth >= self.max_depth
        if pure or deep or len(y) < self.min_samples_split:
            return node
        split = best_split(X, y, self.criterion, w)
        if split is None:
            return node
        go_left = X[:, split.feature] <= split.threshold
        node.split = split
        node.left = self._grow(X[go_left], y[go_left], w[go_left], depth + 1)
        node.right = self._grow(X[~go_left], y[~go_left], w[~go_left], depth + 1)
        return node

    def _leaf_values(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        out = np.empty((len(X), len(self.classes_)))
        stack = [(self.tree_, np.arange(len(X)))]
        while stack:  # send every row down the tree, one node at a time
            node, rows = stack.pop()
            if node.split is None:
                out[rows] = node.value
                continue
            left = X[rows, node.split.feature] <= node.split.threshold
            stack += [(node.left, rows[left]), (node.right, rows[~left])]
        return out

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Weighted class fractions of the leaf each row falls in."""
        values = self._leaf_values(X)
        return values / values.sum(axis=1, keepdims=True)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The majority class of each row's leaf (the first class on a tie)."""
        return self.classes_[np.argmax(self._leaf_values(X), axis=1)]

    def get_depth(self) -> int:
        """Depth of the fitted tree (0 for a single leaf)."""
        def depth(node: _Node) -> int:
            return 0 if node.split is None else 1 + max(depth(node.left), depth(node.right))
        return depth(self.tree_)


def cv_accuracy_by_depth(X: ArrayLike, y: ArrayLike, depths: ArrayLike, cv=5) -> np.ndarray:
    """Mean cross-validated accuracy of ``DecisionTreeClassifier(max_depth=d, random_state=0)``
    for each ``d`` in ``depths`` (the reference of notebook 02's depth exercise).

    ``cv`` is anything :func:`sklearn.model_selection.cross_val_score` accepts: 5 (stratified
    folds in the data's order) or a splitter such as ``StratifiedKFold(5, shuffle=True,
    random_state=0)``.
    """
    from sklearn.model_selection import cross_val_score
    from sklearn.tree import DecisionTreeClassifier

    return np.array([cross_val_score(DecisionTreeClassifier(max_depth=int(d), random_state=0), X, y, cv=cv).mean()
                     for d in np.asarray(depths)])
