"""AdaBoost from scratch: SAMME for classification, AdaBoost.R2 for regression.

Teaching versions of the algorithms behind scikit-learn's ``AdaBoostClassifier`` and
``AdaBoostRegressor``, written to be read next to the lecture's drawing: weak learners are
added one after another, each trained on re-weighted data that stresses the points the
previous ones got wrong, and the final model is a weighted vote (classification) or a
weighted median (regression) of all of them.

- SAMME: Zhu, Zou, Rosset & Hastie 2009, *Statistics and Its Interface* 2, 349
  (for two classes it is the AdaBoost of Freund & Schapire 1997, J. Comput. Syst. Sci. 55, 119).
- AdaBoost.R2: Drucker 1997, *Proc. 14th Int. Conf. on Machine Learning*, 107. GAME
  (Ucci et al. 2017, MNRAS 465, 1144) uses it with decision trees as weak learners.

The tests compare both with scikit-learn; the fitted models keep the weights of every
round (``sample_weights_``) so that notebooks can show them.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.tree import DecisionTreeRegressor

from course_utils.trees import DecisionTree, _check_xy


def samme_update(sample_weight: ArrayLike, incorrect: ArrayLike, n_classes: int = 2,
                 learning_rate: float = 1.0) -> tuple[float, np.ndarray]:
    """One SAMME round: the learner's say and the new sample weights.

    With the weighted error err = sum(w[incorrect]) / sum(w), the learner's weight is
    alpha = learning_rate * (log((1 - err) / err) + log(n_classes - 1)); every
    misclassified point has its weight multiplied by exp(alpha), and the weights are
    renormalised to sum to 1.

    Parameters
    ----------
    sample_weight
        Current weights, shape (n_samples,).
    incorrect
        Boolean array, True where the learner got the point wrong.
    n_classes
        Number of classes (2 gives the classic AdaBoost of Freund & Schapire).
    learning_rate
        Shrinks alpha; 1 is the original algorithm.

    Returns
    -------
    alpha, new_weights
    """
    w = np.asarray(sample_weight, dtype=float)
    incorrect = np.asarray(incorrect, dtype=bool)
    err = w[incorrect].sum() / w.sum()
    if not 0 < err < 1 - 1 / n_classes:
        raise ValueError(f"the weighted error {err:.3g} must lie between 0 and 1 - 1/n_classes "
                         f"= {1 - 1 / n_classes:.3g} for a boosting update")
    alpha = learning_rate * (np.log((1 - err) / err) + np.log(n_classes - 1))
    new = w * np.exp(alpha * incorrect)
    return float(alpha), new / new.sum()


class AdaBoostSAMME(ClassifierMixin, BaseEstimator):
    """AdaBoost classifier (SAMME) with decision stumps from :mod:`course_utils.trees`.

    Parameters
    ----------
    n_estimators
        Maximum number of boosting rounds.
    learning_rate
        Shrinks each learner's weight.
    estimator
        The weak learner; default ``DecisionTree(max_depth=1)`` (a stump). It must accept
        ``sample_weight`` in ``fit``.

    Attributes
    ----------
    estimators_, estimator_weights_, estimator_errors_
        The learners, their weights (alpha) and weighted training errors, one per round.
    sample_weights_
        Array (n_rounds + 1, n_samples): the weights before each round and after the last.

    Notes
    -----
    Fitting is deterministic (stumps involve no randomness), so there is no
    ``random_state``. Boosting stops early when a learner is perfect (err = 0) or no
    better than chance (err >= 1 - 1/n_classes), as in scikit-learn.
    """

    def __init__(self, n_estimators: int = 50, learning_rate: float = 1.0, estimator=None):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.estimator = estimator

    def fit(self, X: ArrayLike, y: ArrayLike) -> "AdaBoostSAMME":
        X, y = _check_xy(X, y)
        self.classes_ = np.unique(y)
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError("y must contain at least two classes")
        base = DecisionTree(max_depth=1) if self.estimator is None else self.estimator
        w = np.full(len(y), 1 / len(y))  # every point starts equally important
        self.estimators_, alphas, errors, history = [], [], [], [w]
        for _ in range(self.n_estimators):
            learner = clone(base).fit(X, y, sample_weight=w)
            incorrect = learner.predict(X) != y
            err = w[incorrect].sum() / w.sum()
            if err >= 1 - 1 / n_classes:  # no better than guessing: stop
                if not self.estimators_:
                    raise ValueError("the first weak learner is no better than chance")
                break
            self.estimators_.append(learner)
            errors.append(err)
            if err == 0:  # a perfect learner gets weight 1 and ends the boosting
                alphas.append(1.0)
                break
            alpha, w = samme_update(w, incorrect, n_classes, self.learning_rate)
            alphas.append(alpha)
            history.append(w)
        self.estimator_weights_ = np.array(alphas)
        self.estimator_errors_ = np.array(errors)
        self.sample_weights_ = np.array(history)
        return self

    def staged_decision_function(self, X: ArrayLike) -> Iterator[np.ndarray]:
        """Yield the weighted class votes, shape (n_samples, n_classes), after each round."""
        X = np.asarray(X, dtype=float)
        votes = np.zeros((len(X), len(self.classes_)))
        for alpha, learner in zip(self.estimator_weights_, self.estimators_):
            votes += alpha * (learner.predict(X)[:, None] == self.classes_)
            yield votes / votes.sum(axis=1, keepdims=True)

    def staged_predict(self, X: ArrayLike) -> Iterator[np.ndarray]:
        """Yield the ensemble's predictions after 1, 2, ... rounds."""
        for votes in self.staged_decision_function(X):
            yield self.classes_[np.argmax(votes, axis=1)]

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """Weighted class votes of all learners, normalised to sum to 1 per row."""
        *_, last = self.staged_decision_function(X)
        return last

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The class with the largest weighted vote (the first class on a tie)."""
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]


def weighted_median(predictions: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row-wise weighted median: per row, the smallest prediction whose cumulative
    weight reaches half the total (Drucker 1997, eq. of step 7).

    Parameters
    ----------
    predictions
        Array (n_samples, n_learners).
    weights
        Learner weights, shape (n_learners,).
    """
    order = np.argsort(predictions, axis=1)
    cumulative = np.cumsum(weights[order], axis=1)
    first = np.argmax(cumulative >= 0.5 * cumulative[:, -1:], axis=1)
    return np.take_along_axis(predictions, order[np.arange(len(order)), first][:, None], axis=1)[:, 0]


class AdaBoostR2(RegressorMixin, BaseEstimator):
    """AdaBoost.R2 regressor (Drucker 1997), the boosting variant GAME uses.

    Each round: draw a bootstrap sample with probabilities equal to the current weights,
    fit a regression tree on it, measure each point's loss L_i in [0, 1] (its absolute
    error over the largest one, for ``loss="linear"``), the average loss
    Lbar = sum w_i L_i, the confidence beta = Lbar / (1 - Lbar), and multiply each
    weight by beta^(1 - L_i): well-predicted points lose weight. The learner's weight is
    log(1 / beta) and the ensemble predicts the weighted median of the learners.

    Parameters
    ----------
    n_estimators
        Maximum number of rounds.
    learning_rate
        Shrinks the learner weights and the weight updates.
    loss
        ``"linear"``, ``"square"`` or ``"exponential"`` (Drucker's three loss functions).
    estimator
        Weak learner; default ``DecisionTreeRegressor(max_depth=3)`` (scikit-learn's
        default; GAME grows trees without depth limit).
    random_state
        Seed of the bootstrap draws (and of the trees, when they take one).

    Attributes
    ----------
    estimators_, estimator_weights_, estimator_errors_, sample_weights_
        As in :class:`AdaBoostSAMME`.
    """

    def __init__(self, n_estimators: int = 50, learning_rate: float = 1.0, loss: str = "linear",
                 estimator=None, random_state: int | None = None):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.loss = loss
        self.estimator = estimator
        self.random_state = random_state

    def _loss(self, error: np.ndarray) -> np.ndarray:
        scaled = error / error.max() if error.max() > 0 else error
        if self.loss == "linear":
            return scaled
        if self.loss == "square":
            return scaled**2
        if self.loss == "exponential":
            return 1 - np.exp(-scaled)
        raise ValueError(f"loss must be 'linear', 'square' or 'exponential', got {self.loss!r}")

    def fit(self, X: ArrayLike, y: ArrayLike) -> "AdaBoostR2":
        X, y = _check_xy(X, y)
        y = y.astype(float)
        rng = np.random.default_rng(self.random_state)
        base = DecisionTreeRegressor(max_depth=3) if self.estimator is None else self.estimator
        n = len(y)
        w = np.full(n, 1 / n)
        self.estimators_, alphas, errors, history = [], [], [], [w]
        for _ in range(self.n_estimators):
            learner = clone(base)
            if "random_state" in learner.get_params():
                learner.set_params(random_state=int(rng.integers(2**31 - 1)))
            sample = rng.choice(n, size=n, replace=True, p=w)  # weights act through resampling
            learner.fit(X[sample], y[sample])
            point_loss = self._loss(np.abs(learner.predict(X) - y))
            avg_loss = float(np.sum(w * point_loss))
            if avg_loss >= 0.5 and self.estimators_:  # beyond Drucker's limit: stop
                break
            self.estimators_.append(learner)
            errors.append(avg_loss)
            if not 0 < avg_loss < 0.5:  # perfect, or a lone poor learner: keep it, stop
                alphas.append(1.0)
                break
            beta = avg_loss / (1 - avg_loss)
            alphas.append(self.learning_rate * np.log(1 / beta))
            w = w * beta ** ((1 - point_loss) * self.learning_rate)
            w = w / w.sum()
            history.append(w)
        self.estimator_weights_ = np.array(alphas)
        self.estimator_errors_ = np.array(errors)
        self.sample_weights_ = np.array(history)
        return self

    def staged_predict(self, X: ArrayLike) -> Iterator[np.ndarray]:
        """Yield the weighted-median prediction after 1, 2, ... rounds."""
        X = np.asarray(X, dtype=float)
        predictions = np.column_stack([learner.predict(X) for learner in self.estimators_])
        for k in range(1, len(self.estimators_) + 1):
            yield weighted_median(predictions[:, :k], self.estimator_weights_[:k])

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Weighted median of the learners' predictions."""
        X = np.asarray(X, dtype=float)
        predictions = np.column_stack([learner.predict(X) for learner in self.estimators_])
        return weighted_median(predictions, self.estimator_weights_)
