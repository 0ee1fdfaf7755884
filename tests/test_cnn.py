"""The numpy convolutional network of notebook 05 against scipy and numerical gradients."""

import numpy as np
import pytest
from scipy.signal import correlate2d
from sklearn.datasets import load_digits

from course_utils import cnn
from course_utils.cnn import conv_forward
from course_utils.nn import load_digits_split, numerical_gradient, relative_error

SOBEL_X = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])


def test_conv2d_matches_scipy_on_a_digit_and_on_noise():
    digit = load_digits().images[0]
    np.testing.assert_allclose(cnn.conv2d(digit, SOBEL_X),
                               correlate2d(digit, SOBEL_X, mode="valid"), atol=1e-12)
    rng = np.random.default_rng(0)
    image, kernel = rng.normal(size=(9, 7)), rng.normal(size=(4, 4))
    np.testing.assert_allclose(cnn.conv2d(image, kernel),
                               correlate2d(image, kernel, mode="valid"), atol=1e-12)
    with pytest.raises(ValueError, match="square 2-D kernel"):
        cnn.conv2d(image, np.ones((2, 3)))


def test_conv_layer_is_a_sum_of_correlations_over_channels():
    rng = np.random.default_rng(1)
    x, W, b = rng.normal(size=(2, 6, 5, 3)), rng.normal(size=(3, 3, 3, 4)), rng.normal(size=4)
    out = cnn.conv_forward(x, W, b, padding=1)
    assert out.shape == (2, 6, 5, 4)
    for n in range(2):
        for f in range(4):
            want = sum(correlate2d(x[n, :, :, c], W[c, :, :, f], mode="same") for c in range(3))
            np.testing.assert_allclose(out[n, :, :, f], want + b[f], atol=1e-12)


@pytest.mark.parametrize("h, w, k, p, s, expected", [(8, 8, 3, 1, 1, (8, 8)),
                                                     (28, 28, 5, 0, 1, (24, 24)),
                                                     (32, 32, 3, 0, 2, (15, 15))])
def test_conv_output_shape(h, w, k, p, s, expected):
    assert cnn.conv_output_shape(h, w, k, p, s) == expected
    if s == 1:
        assert cnn.im2col(np.zeros((1, h, w, 1)), k, p).shape[1:3] == expected


@pytest.mark.parametrize("k, c, f", [(3, 1, 64), (5, 3, 16)])
def test_conv_n_params_counts_the_arrays_a_layer_trains(k, c, f):
    # weights (C, k, k, F) as conv_forward uses them, one bias per filter
    x, W, b = np.zeros((1, 8, 8, c)), np.zeros((c, k, k, f)), np.zeros(f)
    assert conv_forward(x, W, b, padding=k // 2).shape == (1, 8, 8, f)
    assert cnn.conv_n_params(k, c, f) == W.size + b.size
    net = cnn.ConvNetClassifier(n_filters=f, kernel_size=k)
    params = net.init_params(10, np.random.default_rng(0))
    assert params["Wc"].size + params["bc"].size == cnn.conv_n_params(k, 1, f)


def test_conv_backward_matches_numerical_gradient():
    rng = np.random.default_rng(2)
    x, W, b = rng.normal(size=(2, 5, 4, 2)), rng.normal(size=(2, 3, 3, 3)), rng.normal(size=3)
    r = rng.normal(size=(2, 5, 4, 3))  # loss = sum(out * r), so dL/dout = r
    dx, dW, db = cnn.conv_backward(r, x, W, padding=1)
    loss = lambda: np.sum(cnn.conv_forward(x, W, b, padding=1) * r)  # noqa: E731
    for analytic, param in ((dx, x), (dW, W), (db, b)):
        assert relative_error(analytic, numerical_gradient(loss, param)) < 1e-8


def test_maxpool_on_a_hand_made_array():
    x = np.array([[1, 2, 0, 0],
                  [4, 3, 0, 9],
                  [5, 5, 1, 1],
                  [6, 5, 1, 2]], dtype=float)[None, :, :, None]
    pooled, argmax = cnn.maxpool_forward(x, 2)
    np.testing.assert_array_equal(pooled[0, :, :, 0], [[4, 9], [6, 2]])
    dx = cnn.maxpool_backward(np.array([[10.0, 20.0], [30.0, 40.0]])[None, :, :, None], argmax, 2)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0, 0, 0, 0],
                                                   [10, 0, 0, 20],
                                                   [0, 0, 0, 0],
                                                   [30, 0, 0, 40]])


def test_maxpool_keeps_channels_apart_and_rejects_odd_sizes():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 6, 4, 5))
    pooled, _ = cnn.maxpool_forward(x, 2)
    np.testing.assert_array_equal(pooled[1, 2, 1, 4], x[1, 4:6, 2:4, 4].max())
    with pytest.raises(ValueError, match="divisible by 2"):
        cnn.maxpool_forward(np.zeros((1, 5, 4, 1)), 2)


def test_random_shift_moves_whole_images_by_at_most_max_shift():
    x = np.zeros((400, 5, 5, 1))
    x[:, 2, 2, 0] = 1.0
    out = cnn.random_shift(x, 1, np.random.default_rng(4))
    assert out.shape == x.shape and np.all(out.sum(axis=(1, 2, 3)) == 1.0)
    rows, cols = np.nonzero(out[..., 0])[1:]
    assert set(zip(rows.tolist(), cols.tolist())) == {(r, c) for r in (1, 2, 3) for c in (1, 2, 3)}
    # half are kept, and 1 in 9 of the moved ones draws the zero offset: 5/9 stay in place
    assert np.mean((rows == 2) & (cols == 2)) == pytest.approx(5 / 9, abs=0.07)
    np.testing.assert_array_equal(cnn.random_shift(x, 1, np.random.default_rng(4), fraction=0), x)


def test_network_gradients_match_numerical_gradients():
    rng = np.random.default_rng(5)
    net = cnn.ConvNetClassifier(image_shape=(4, 6), n_filters=3, dtype=np.float64, alpha=0.1)
    x, y = rng.normal(size=(5, 4, 6, 1)), rng.integers(0, 3, 5)
    params = net.init_params(3, rng)
    _, grads = net.loss_and_gradients(x, y, params)
    for name, g in grads.items():
        numeric = numerical_gradient(lambda: net.loss_and_gradients(x, y, params)[0], params[name])
        assert relative_error(g, numeric) < 1e-6, name


def test_training_reaches_98_5_percent_on_the_course_split():
    X_train, X_test, y_train, y_test = load_digits_split()
    net = cnn.ConvNetClassifier(random_state=0).fit(X_train, y_train)
    assert net.score(X_test, y_test) >= 0.985
    maps = net.feature_maps(X_test[:2])
    assert maps["relu"].shape == (2, 8, 8, 64) and maps["pool"].shape == (2, 4, 4, 64)
    assert maps["relu"].min() >= 0


def test_wrong_image_shape_is_a_clear_error():
    net = cnn.ConvNetClassifier(n_epochs=1)
    with pytest.raises(ValueError, match=r"expected images of shape \(n, 64\)"):
        net.fit(np.zeros((4, 10)), [0, 1, 0, 1])


def test_training_runs_on_one_blas_thread(monkeypatch):
    # Default BLAS threads made training 3-5x slower on a 2-core machine (as JupyterLab runs it).
    from threadpoolctl import threadpool_info, threadpool_limits

    seen = []
    original = cnn.ConvNetClassifier.loss_and_gradients

    def spy(self, x, y, params):
        seen.extend(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")
        return original(self, x, y, params)

    monkeypatch.setattr(cnn.ConvNetClassifier, "loss_and_gradients", spy)
    with threadpool_limits(2, user_api="blas"):  # as if the machine had free cores
        cnn.ConvNetClassifier(image_shape=(4, 4), n_filters=2, n_epochs=1).fit(
            np.random.default_rng(0).random((4, 16)), [0, 1, 0, 1])
    assert seen and set(seen) == {1}
