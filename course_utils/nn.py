"""A neural network written from scratch in numpy, for teaching.

The network of notebook 04: inputs -> one hidden layer -> softmax over the classes, trained
by backpropagation and mini-batch stochastic gradient descent, in the spirit of
Nielsen, M. A. 2015, *Neural Networks and Deep Learning* (Determination Press), chapters 1-3.
It follows the scikit-learn estimator API (``fit``/``predict``/``score``, ``random_state``)
so it can be compared one to one with :class:`sklearn.neural_network.MLPClassifier`.

Also here: activation functions, the softmax and cross-entropy, a numerical gradient for
checking backpropagation, and :func:`load_digits_split`, the train/test split of the
handwritten digits shared by notebooks 04 and 05.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted, check_X_y, check_array

from course_utils.threads import one_blas_thread

# --------------------------------------------------------------------------- data


def load_digits_split(test_size: float = 0.25, random_state: int = 0, images: bool = False
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The handwritten digits of scikit-learn, scaled to [0, 1] and split once for the course.

    1797 images of 8x8 pixels (UCI optical recognition of handwritten digits, as shipped by
    :func:`sklearn.datasets.load_digits`; no download). A stratified ``test_size`` fraction is
    held out with seed ``random_state``; notebooks 04 and 05 use the defaults, so their
    networks are compared on the same 450 test images.

    Parameters
    ----------
    test_size
        Fraction of the images held out for testing.
    random_state
        Seed of the split.
    images
        If True, ``X`` arrays have shape (n, 8, 8) instead of (n, 64).

    Returns
    -------
    X_train, X_test, y_train, y_test
        Pixel values divided by 16 (the maximum grey level), and integer labels 0-9.
    """
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    if images:
        X = X.reshape(-1, 8, 8)
    return tuple(train_test_split(X, y, test_size=test_size, stratify=y,
                                  random_state=random_state))


# --------------------------------------------------------------------- activations


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + exp(-z)), computed without overflow."""
    return np.exp(-np.logaddexp(0.0, -z))


def sigmoid_grad(z: np.ndarray) -> np.ndarray:
    """Derivative of :func:`sigmoid`: s(z) (1 - s(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


def relu(z: np.ndarray) -> np.ndarray:
    """Rectified linear unit max(0, z)."""
    return np.maximum(z, 0.0)


def relu_grad(z: np.ndarray) -> np.ndarray:
    """Derivative of :func:`relu` (taken as 0 at z = 0)."""
    return (z > 0).astype(z.dtype)


def tanh_grad(z: np.ndarray) -> np.ndarray:
    """Derivative of tanh: 1 - tanh(z)**2."""
    return 1.0 - np.tanh(z) ** 2


#: name -> (activation, derivative)
ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "relu": (relu, relu_grad),
    "tanh": (np.tanh, tanh_grad),
}


# ------------------------------------------------------------ softmax and the loss


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax along the last axis: exp(z_k) / sum_j exp(z_j).

    The maximum is subtracted first; it cancels in the ratio and keeps exp from overflowing.
    """
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_jacobian(z: np.ndarray) -> np.ndarray:
    """Jacobian of the softmax, d p_i / d z_j = p_i (delta_ij - p_j).

    ``z`` of shape (k,) gives a (k, k) matrix; shape (n, k) gives (n, k, k).
    """
    p = softmax(z)
    return p[..., :, None] * (np.eye(p.shape[-1]) - p[..., None, :])


def one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Integer labels (n,) -> indicator matrix (n, n_classes)."""
    out = np.zeros((len(y), n_classes))
    out[np.arange(len(y)), y] = 1.0
    return out


def cross_entropy(p: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy -log p[y] of predicted probabilities ``p`` (n, k) for labels ``y``."""
    return float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-300)))


def softmax_cross_entropy_grad(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Gradient of ``cross_entropy(softmax(z), y)`` with respect to the scores ``z``.

    The softmax Jacobian and the derivative of -log p combine into (p - onehot(y)) / n:
    the error signal that backpropagation sends back from the output layer.
    """
    p = softmax(z)
    return (p - one_hot(y, z.shape[1])) / len(y)


# --------------------------------------------------------------- gradient check


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient (f(x + eps) - f(x - eps)) / (2 eps) of ``f`` w.r.t. ``x``.

    ``f`` takes no argument and reads ``x``, which is changed in place one element at a time
    and restored. Use float64 arrays: in float32 the difference is dominated by rounding.
    """
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f()
        x[i] = old - eps
        down = f()
        x[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a| + |b|): below ~1e-6 means backpropagation is right."""
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-300))


# ------------------------------------------------------------------- the network


class NeuralNetClassifier(ClassifierMixin, BaseEstimator):
    """A one-hidden-layer neural network trained with mini-batch SGD and momentum.

    Forward pass: ``h = g(X W1 + b1)``, ``p = softmax(h W2 + b2)``; the loss is the mean
    cross-entropy plus ``alpha / 2`` times the sum of the squared weights (L2 penalty).

    Parameters
    ----------
    hidden_units
        Number of neurons in the hidden layer.
    activation
        ``"sigmoid"``, ``"relu"`` or ``"tanh"``.
    learning_rate
        Step size of SGD.
    momentum
        Fraction of the previous step added to the current one (0 gives plain SGD).
    batch_size
        Images per mini-batch.
    n_epochs
        Passes over the training set.
    alpha
        L2 penalty on the weights.
    random_state
        Seed for the initial weights and the shuffling of the mini-batches.

    Attributes
    ----------
    W1_, b1_, W2_, b2_
        Weights and biases after ``fit``.
    classes_
        The class labels.
    history_
        Per epoch: ``"loss"`` (training loss), ``"train_accuracy"``, and ``"val_accuracy"``
        when validation data are passed to ``fit``.
    """

    def __init__(self, hidden_units: int = 64, activation: str = "relu",
                 learning_rate: float = 0.1, momentum: float = 0.9, batch_size: int = 32,
                 n_epochs: int = 30, alpha: float = 1e-4, random_state: int | None = 0):
        self.hidden_units = hidden_units
        self.activation = activation
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.alpha = alpha
        self.random_state = random_state

    # -- the mathematics -------------------------------------------------------
    def _init_params(self, n_features: int, n_classes: int, rng: np.random.Generator) -> None:
        # He/Glorot-style scale 1/sqrt(fan_in) keeps the hidden activations of order one.
        self.W1_ = rng.normal(0.0, 1.0 / np.sqrt(n_features), (n_features, self.hidden_units))
        self.b1_ = np.zeros(self.hidden_units)
        self.W2_ = rng.normal(0.0, 1.0 / np.sqrt(self.hidden_units), (self.hidden_units, n_classes))
        self.b2_ = np.zeros(n_classes)

    def _forward(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        g = ACTIVATIONS[self.activation][0]
        z1 = X @ self.W1_ + self.b1_  # hidden pre-activations
        h = g(z1)                     # hidden activations
        z2 = h @ self.W2_ + self.b2_  # class scores
        return z1, h, z2

    def loss_and_gradients(self, X: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """Loss on (X, y) and its gradient for each parameter, by backpropagation.

        ``y`` holds class indices 0..k-1. Returns ``(loss, {"W1": ..., "b1": ..., ...})``.
        """
        dg = ACTIVATIONS[self.activation][1]
        z1, h, z2 = self._forward(X)
        loss = cross_entropy(softmax(z2), y) + 0.5 * self.alpha * (
            np.sum(self.W1_ ** 2) + np.sum(self.W2_ ** 2))
        delta2 = softmax_cross_entropy_grad(z2, y)   # dL/dz2, shape (n, k)
        delta1 = (delta2 @ self.W2_.T) * dg(z1)      # chain rule back through W2 and g
        grads = {
            "W1": X.T @ delta1 + self.alpha * self.W1_,
            "b1": delta1.sum(axis=0),
            "W2": h.T @ delta2 + self.alpha * self.W2_,
            "b2": delta2.sum(axis=0),
        }
        return loss, grads

    # -- the estimator API -----------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray | None = None,
            y_val: np.ndarray | None = None) -> NeuralNetClassifier:
        """Train on (X, y); if given, record the accuracy on (X_val, y_val) after each epoch."""
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        X, y = check_X_y(X, y)
        self.classes_, yi = np.unique(y, return_inverse=True)
        rng = np.random.default_rng(self.random_state)
        self._init_params(X.shape[1], len(self.classes_), rng)
        velocity = {k: 0.0 for k in ("W1", "b1", "W2", "b2")}
        self.history_: dict[str, list[float]] = {"loss": [], "train_accuracy": []}
        if X_val is not None:
            self.history_["val_accuracy"] = []
        # One BLAS thread: on mini-batches this small, threads only add overhead (measured:
        # 3-5x slower with the default threads of a 2-core laptop, as JupyterLab runs them).
        with one_blas_thread():
            for _ in range(self.n_epochs):
                order = rng.permutation(len(X))  # a fresh shuffle each epoch
                for start in range(0, len(X), self.batch_size):
                    batch = order[start:start + self.batch_size]
                    _, grads = self.loss_and_gradients(X[batch], yi[batch])
                    for k, g in grads.items():
                        velocity[k] = self.momentum * velocity[k] - self.learning_rate * g
                        param = getattr(self, k + "_")
                        param += velocity[k]  # in place
                self.history_["loss"].append(self.loss_and_gradients(X, yi)[0])
                self.history_["train_accuracy"].append(self.score(X, y))
                if X_val is not None:
                    self.history_["val_accuracy"].append(self.score(X_val, y_val))
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes)."""
        check_is_fitted(self, "W1_")
        with one_blas_thread():
            return softmax(self._forward(check_array(X))[2])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class of each sample."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def fit_and_score(hidden_units: int, learning_rate: float, X_fit: np.ndarray, y_fit: np.ndarray,
                  X_val: np.ndarray, y_val: np.ndarray, n_epochs: int = 30,
                  random_state: int = 0) -> tuple[float, float]:
    """Fit a :class:`NeuralNetClassifier` on ``(X_fit, y_fit)``; return its accuracy on the
    validation images and on the fitting images, ``(validation, fitting)``.

    The reference of notebook 04's exercise on hidden units and learning rate; it goes through
    scikit-learn's ``cross_validate`` with one predefined split, so it also checks that the
    estimator behaves like any scikit-learn classifier.
    """
    from sklearn.model_selection import PredefinedSplit, cross_validate

    X_both, y_both = np.concatenate([X_fit, X_val]), np.concatenate([y_fit, y_val])
    one_split = PredefinedSplit(np.r_[np.full(len(y_fit), -1), np.zeros(len(y_val))])  # -1: always fitted
    model = NeuralNetClassifier(hidden_units=hidden_units, learning_rate=learning_rate, n_epochs=n_epochs,
                                random_state=random_state)
    scores = cross_validate(model, X_both, y_both, cv=one_split, return_train_score=True)
    return float(scores["test_score"][0]), float(scores["train_score"][0])
