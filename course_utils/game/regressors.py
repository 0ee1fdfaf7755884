"""The regressors GAME trains: the course's multi-output MLP (with its warm start from a model
on more lines or at another noise), GAME's published AdaBoost, or any scikit-learn regressor
fitted once per property."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import AdaBoostRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils import check_random_state, shuffle

from course_utils.game.constants import WARM_STEPS
from course_utils.threads import one_blas_thread


def _scale(X: np.ndarray) -> np.ndarray:
    """Standard deviation of each column, 1 where a column is (nearly) constant."""
    std = X.std(axis=0)
    return np.where(std > 1e-9 * (1 + np.abs(X.mean(axis=0))), std, 1.0)


def _replayable(reg, epochs: int) -> bool:
    """Whether :func:`adam_epochs` trains ``reg`` for ``epochs`` exactly as its ``fit`` would."""
    return (isinstance(reg, MLPRegressor) and reg.solver == "adam" and reg.activation == "relu"
            and reg.loss == "squared_error" and reg.shuffle and not reg.early_stopping
            and isinstance(reg.batch_size, (int, np.integer))
            and reg.n_iter_no_change >= epochs)  # so no stop on a stalled loss


def adam_epochs(reg: MLPRegressor, X: np.ndarray, y: np.ndarray, epochs: int) -> MLPRegressor:
    """Train a fitted ReLU ``MLPRegressor`` on for ``epochs`` epochs of Adam, as
    ``reg.set_params(warm_start=True, max_iter=epochs).fit(X, y)`` does, to the last bit.

    The same shuffles (from ``random_state``), mini-batches, backpropagation, L2 penalty and
    Adam updates (Kingma & Ba 2014), in the same floating-point order, so the weights are
    identical (``tests/test_game.py`` checks it against scikit-learn). What it leaves out is
    the bookkeeping: no loss is computed (``loss_curve_`` is not extended) and all weights are
    updated as one vector. Measured on GAME's noise-aware warm start (54 000 rows, 10 epochs,
    1 BLAS thread): ~0.56 s against ~0.72 s for ``fit``.
    """
    rng = check_random_state(reg.random_state)  # as each fit does: the shuffles restart
    params = reg.coefs_ + reg.intercepts_
    flat = np.concatenate([p.ravel() for p in params])
    grad = np.empty_like(flat)
    views, start = [], 0
    for p in params:  # each layer's weights and gradient are views into the two vectors
        views.append((flat[start:start + p.size].reshape(p.shape),
                      grad[start:start + p.size].reshape(p.shape)))
        start += p.size
    n_layers = len(reg.coefs_)
    weights, biases = views[:n_layers], views[n_layers:]
    m, v = np.zeros_like(flat), np.zeros_like(flat)
    beta_1, beta_2 = reg.beta_1, reg.beta_2
    y = y.reshape(len(y), -1)
    n, batch = len(X), int(np.clip(reg.batch_size, 1, len(X)))
    order, t = np.arange(n, dtype=int), 0
    for _ in range(epochs):
        order = shuffle(order, random_state=rng)
        for first in range(0, n, batch):
            rows = order[first:first + batch]
            layers = [X[rows]]
            for i, ((W, _), (b, _)) in enumerate(zip(weights, biases)):
                a = layers[-1] @ W
                a += b
                if i < n_layers - 1:
                    np.maximum(a, 0, out=a)
                layers.append(a)
            delta = layers[-1] - y[rows]  # squared error, identity output
            for i in range(n_layers - 1, -1, -1):
                (W, dW), (_, db) = weights[i], biases[i]
                np.matmul(layers[i].T, delta, out=dW)
                dW += reg.alpha * W
                dW /= len(rows)
                np.divide(np.sum(delta, axis=0), len(rows), out=db)
                if i:
                    delta = delta @ W.T
                    delta[layers[i] == 0] = 0  # ReLU's derivative
            t += 1
            m = beta_1 * m + (1 - beta_1) * grad
            v = beta_2 * v + (1 - beta_2) * grad ** 2
            rate = reg.learning_rate_init * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
            flat += -rate * m / (np.sqrt(v) + reg.epsilon)
    for p, (new, _) in zip(params, views):
        p[...] = new
    reg.n_iter_, reg.t_ = epochs, getattr(reg, "t_", 0) + n * epochs
    return reg


class _MultiOutput:
    """One regressor for every property at once, on standardised features and targets."""

    def __init__(self, regressor):
        self.regressor = regressor

    def fit(self, X: np.ndarray, Y: np.ndarray, start=None, kept=None) -> "_MultiOutput":
        """Fit; ``start`` (a fitted MLP model on more lines, ``kept`` = mask of this model's
        lines among them) warm-starts the MLP from its weights for :data:`WARM_STEPS` steps."""
        # a constant column keeps unit scale: dividing by ~0 would blow up any other value
        self.x_mean, self.x_scale = X.mean(axis=0), _scale(X)
        self.y_mean, self.y_scale = Y.mean(axis=0), _scale(Y)
        Z = ((X - self.x_mean) / self.x_scale).astype(np.float32)
        T = ((Y - self.y_mean) / self.y_scale).astype(np.float32)
        if T.ndim == 2 and T.shape[1] == 1:  # one property: scikit-learn wants a 1-d target
            T = T.ravel()
        # float32 halves the work; one BLAS thread, because threads only add overhead on
        # mini-batches this small (measured: 10x slower with 2 threads on a busy machine).
        with one_blas_thread(), warnings.catch_warnings():
            # a fixed number of epochs is the design (measured), not a convergence failure
            warnings.simplefilter("ignore", ConvergenceWarning)
            reg = self.regressor
            if isinstance(reg, MLPRegressor) and isinstance(reg.batch_size, int):
                reg.set_params(batch_size=min(reg.batch_size, len(Z)))  # tiny libraries
            if start is None or not isinstance(reg, MLPRegressor):
                reg.fit(Z, T)
                return self
            # Initialise the layers (one short pass), put in the weights of the model on
            # more lines (its rows for the lines kept), then train on.
            epochs = reg.max_iter
            reg.set_params(max_iter=1, warm_start=True).fit(Z[:reg.batch_size], T[:reg.batch_size])
            old = start.regressor
            reg.coefs_ = [old.coefs_[0][kept].copy()] + [c.copy() for c in old.coefs_[1:]]
            reg.intercepts_ = [b.copy() for b in old.intercepts_]
            warm = min(epochs, int(np.ceil(WARM_STEPS * reg.batch_size / len(Z))))
            if _replayable(reg, warm):
                adam_epochs(reg, Z, T, warm)
            else:
                reg.set_params(max_iter=warm).fit(Z, T)
            reg.set_params(max_iter=epochs, warm_start=False)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        reg = self.regressor
        if not (isinstance(reg, MLPRegressor) and reg.activation == "relu"):
            Y = reg.predict((X - self.x_mean) / self.x_scale)
            return Y.reshape(len(X), -1) * self.y_scale + self.y_mean
        # The MLP's forward pass in float32, the bulk of the Monte Carlo cost, with the
        # feature and target scalings folded into the first and last layers.
        weights = [np.asarray(W, dtype=float) for W in reg.coefs_]
        biases = [np.asarray(b, dtype=float) for b in reg.intercepts_]
        biases[0] = biases[0] - (self.x_mean / self.x_scale) @ weights[0]
        weights[0] = weights[0] / self.x_scale[:, None]
        weights[-1] = weights[-1] * self.y_scale
        biases[-1] = biases[-1] * self.y_scale + self.y_mean
        Z = np.asarray(X, dtype=np.float32)
        # one BLAS thread: measured 2-4x faster than two on these thin matrices
        with one_blas_thread():
            for i, (W, b) in enumerate(zip(weights, biases)):
                Z = Z @ W.astype(np.float32)
                Z += b.astype(np.float32)
                if i < len(weights) - 1:
                    np.maximum(Z, 0.0, out=Z)
        return Z

    @property
    def impurity_importances(self) -> np.ndarray | None:
        return None


class _PerProperty:
    """One clone of a regressor per property, as GAME does."""

    def __init__(self, regressor):
        self.regressor = regressor

    def fit(self, X: np.ndarray, Y: np.ndarray) -> "_PerProperty":
        self.models = [clone(self.regressor).fit(X, y) for y in Y.T]
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.column_stack([m.predict(X) for m in self.models])

    @property
    def impurity_importances(self) -> np.ndarray | None:
        if not all(hasattr(m, "feature_importances_") for m in self.models):
            return None
        return np.column_stack([m.feature_importances_ for m in self.models])


def default_regressor(random_state: int | None = 0) -> MLPRegressor:
    """The course's default: a multi-output MLP on standardised log features.

    Two hidden layers of 64 ReLU units, Adam, mini-batches of 512, 45 epochs. Chosen by
    measurement on a 50 000-model library with the 10 MUSE lines (2 cores): one network for
    all properties costs what one per property would, so fitting and the Monte Carlo
    predictions are ~4x cheaper than per-property models. Trained noise-aware and tested on
    spectra with 10% errors it reaches RMSE 0.037 dex (12+log O/H) and 0.043 dex (log U),
    against 0.060 and 0.059 for GAME's published AdaBoost configuration trained as GAME
    does, both calibrated (``benchmarks/game_accuracy.py``), and fits ~40x faster
    (``benchmarks/game_speed.py``).
    Wider layers (128, 128) changed the RMSE by < 0.002 dex and predict ~3x slower; (32, 32)
    lost ~0.003 dex in 12+log(O/H). 45 epochs rather than 30 (the network now trains on the
    90% of the library that calibration leaves): on dust-free spectra at 10% errors, RMSE
    0.0353 / 0.0452 dex in O/H and U against 0.0360 / 0.0462 with 30, 1.04x and 1.08x the
    Bayes-optimal posterior mean on the same prior (``benchmarks/game_calibration.py``).
    """
    return MLPRegressor(hidden_layer_sizes=(64, 64), batch_size=512, learning_rate_init=2e-3,
                        max_iter=45, tol=0.0, n_iter_no_change=1000, random_state=random_state)


def game2019_regressor(random_state: int | None = 0) -> AdaBoostRegressor:
    """GAME's published configuration (Ucci et al. 2019; public code).

    AdaBoost over unlimited-depth regression trees, 50 estimators, linear loss,
    learning rate 1, fitted separately for each property.
    """
    return AdaBoostRegressor(DecisionTreeRegressor(random_state=random_state), n_estimators=50,
                             loss="linear", learning_rate=1.0, random_state=random_state)


def make_model(regressor, seed: int):
    """A new, unfitted internal model for a ``regressor`` parameter of :class:`Game`."""
    if isinstance(regressor, str):
        if regressor == "default":
            return _MultiOutput(default_regressor(seed))
        if regressor == "game2019":
            return _PerProperty(game2019_regressor(seed))
        raise ValueError(f"regressor={regressor!r}: expected 'default', 'game2019' "
                         "or a scikit-learn regressor")
    if not hasattr(regressor, "fit") or not hasattr(regressor, "predict"):
        raise TypeError(f"regressor={regressor!r} has no fit/predict methods")
    return _PerProperty(regressor)
