"""The from-scratch neural network of notebook 04 against calculus and against scikit-learn."""

import numpy as np
import pytest
from scipy.special import expit
from scipy.special import softmax as scipy_softmax
from sklearn.metrics import log_loss

from course_utils import nn


@pytest.fixture(scope="module")
def split():
    return nn.load_digits_split()


def test_split_is_stratified_fixed_and_scaled(split):
    X_train, X_test, y_train, y_test = split
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    # stratified: each digit is ~10% of both parts (the 1797 images are nearly balanced)
    assert np.abs(np.bincount(y_test) / 450 - np.bincount(y_train) / 1347).max() < 0.005
    again = nn.load_digits_split(images=True)
    np.testing.assert_array_equal(again[1].reshape(-1, 64), X_test)
    np.testing.assert_array_equal(again[3], y_test)


def test_activations_match_scipy_and_their_derivatives():
    z = np.linspace(-5, 5, 41) + 0.013  # avoid the ReLU kink at 0
    np.testing.assert_allclose(nn.sigmoid(z), expit(z), rtol=1e-12)
    with np.errstate(over="raise"):
        assert nn.sigmoid(np.array([-1000.0]))[0] == 0.0
    for name, (f, df) in nn.ACTIVATIONS.items():
        numeric = (f(z + 1e-6) - f(z - 1e-6)) / 2e-6
        np.testing.assert_allclose(df(z), numeric, atol=1e-8, err_msg=name)


def test_softmax_matches_scipy_and_is_stable():
    z = np.random.default_rng(0).normal(size=(5, 10)) * 3
    np.testing.assert_allclose(nn.softmax(z), scipy_softmax(z, axis=1), rtol=1e-12)
    big = nn.softmax(np.array([[1000.0, 1000.0, -1000.0]]))
    np.testing.assert_allclose(big, [[0.5, 0.5, 0.0]])


def test_softmax_jacobian_is_the_numerical_derivative():
    z = np.array([0.3, -1.2, 2.0, 0.1])
    numeric = np.column_stack([
        (nn.softmax(z + e) - nn.softmax(z - e)) / 2e-6 for e in np.eye(4) * 1e-6])
    np.testing.assert_allclose(nn.softmax_jacobian(z), numeric, atol=1e-9)
    assert nn.softmax_jacobian(np.ones((3, 4))).shape == (3, 4, 4)


def test_cross_entropy_and_its_gradient():
    rng = np.random.default_rng(1)
    z, y = rng.normal(size=(6, 4)), np.array([0, 1, 2, 3, 1, 0])
    assert nn.cross_entropy(nn.softmax(z), y) == pytest.approx(
        log_loss(y, nn.softmax(z), labels=range(4)), rel=1e-12)
    numeric = nn.numerical_gradient(lambda: nn.cross_entropy(nn.softmax(z), y), z)
    assert nn.relative_error(nn.softmax_cross_entropy_grad(z, y), numeric) < 1e-7


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh"])
def test_backpropagation_matches_numerical_gradient(activation):
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(7, 5)), rng.integers(0, 3, 7)
    net = nn.NeuralNetClassifier(hidden_units=4, activation=activation, alpha=0.1)
    net._init_params(5, 3, rng)
    _, grads = net.loss_and_gradients(X, y)
    for name, g in grads.items():
        numeric = nn.numerical_gradient(lambda: net.loss_and_gradients(X, y)[0],
                                        getattr(net, name + "_"))
        assert nn.relative_error(g, numeric) < 1e-6, name


def test_training_reaches_97_percent_on_the_course_split(split):
    X_train, X_test, y_train, y_test = split
    net = nn.NeuralNetClassifier(random_state=0).fit(X_train, y_train, X_test, y_test)
    assert net.score(X_test, y_test) >= 0.97
    assert net.history_["loss"][-1] < 0.5 * net.history_["loss"][0]
    assert len(net.history_["val_accuracy"]) == net.n_epochs
    np.testing.assert_allclose(net.predict_proba(X_test).sum(axis=1), 1.0)
    again = nn.NeuralNetClassifier(random_state=0).fit(X_train, y_train)
    np.testing.assert_array_equal(again.W1_, net.W1_)  # deterministic for a fixed seed


def test_labels_are_returned_as_given():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 10)
    y = np.array(["off", "on", "on", "on"] * 10)  # logical OR
    net = nn.NeuralNetClassifier(hidden_units=4, n_epochs=100, batch_size=4).fit(X, y)
    assert list(net.predict(X[:4])) == ["off", "on", "on", "on"]


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(ValueError, match="activation must be one of"):
        nn.NeuralNetClassifier(activation="step").fit(np.zeros((4, 2)), [0, 1, 0, 1])


def test_training_runs_on_one_blas_thread(monkeypatch):
    # Default BLAS threads made training 3-5x slower on a 2-core machine (as JupyterLab runs it).
    from threadpoolctl import threadpool_info, threadpool_limits

    seen = []
    original = nn.NeuralNetClassifier.loss_and_gradients

    def spy(self, X, y):
        seen.extend(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")
        return original(self, X, y)

    monkeypatch.setattr(nn.NeuralNetClassifier, "loss_and_gradients", spy)
    with threadpool_limits(2, user_api="blas"):  # as if the machine had free cores
        nn.NeuralNetClassifier(hidden_units=4, n_epochs=1).fit(np.eye(4), [0, 1, 0, 1])
    assert seen and set(seen) == {1}
