"""A small convolutional network written from scratch in numpy, for teaching.

The network of notebook 05: convolution -> ReLU -> max pooling -> dense -> softmax
(LeCun, Y. et al. 1998, Proc. IEEE 86, 2278), trained by backpropagation with the Adam
optimiser (Kingma, D. P. & Ba, J. 2015, ICLR) and a cosine learning-rate schedule (Loshchilov, I. &
Hutter, F. 2017, ICLR), on training images shifted at random by a pixel (Simard, P. Y. et al. 2003,
ICDAR, 958).
Images are stored channels-last, shape (n, height, width, channels).

The convolution is computed with *im2col*: every k x k patch of the input becomes one row of
a matrix (a strided view, see :func:`im2col`), so the whole layer is one matrix product.
As in every deep-learning library, "convolution" here means cross-correlation (the kernel is
not flipped), the same as :func:`scipy.signal.correlate2d`.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_array, check_is_fitted, check_X_y

from course_utils.nn import cross_entropy, one_hot, relu, softmax
from course_utils.threads import one_blas_thread

# -------------------------------------------------------------------- convolution


def im2col(x: np.ndarray, kernel_size: int, padding: int = 0) -> np.ndarray:
    """Patches of ``x`` (n, H, W, C) as rows: shape (n, H_out, W_out, C * k * k).

    ``H_out = H + 2 padding - k + 1`` (stride 1). Each row lists one k x k patch, channel by
    channel, in the order of a weight array of shape (C, k, k, n_filters).
    """
    if padding:
        x = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    # A strided view (n, H_out, W_out, C, k, k) costs no copy; reshape makes the one copy.
    patches = sliding_window_view(x, (kernel_size, kernel_size), axis=(1, 2))
    n, ho, wo = patches.shape[:3]
    return patches.reshape(n, ho, wo, -1)


def conv_output_shape(height: int, width: int, kernel_size: int, padding: int = 0,
                      stride: int = 1) -> tuple[int, int]:
    """Height and width of a convolution's output: (H + 2 padding - k) // stride + 1."""
    return ((height + 2 * padding - kernel_size) // stride + 1,
            (width + 2 * padding - kernel_size) // stride + 1)


def conv_n_params(kernel_size: int, channels: int, n_filters: int) -> int:
    """Trainable parameters of a convolution layer: k * k * C weights per filter, plus its bias.

    The same weights serve every position of the image (weight sharing), so the count does not
    depend on the image size.
    """
    return kernel_size * kernel_size * channels * n_filters + n_filters


def conv2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """'Valid' 2-D cross-correlation of one image with one kernel, via :func:`im2col`.

    Gives the same result as ``scipy.signal.correlate2d(image, kernel, mode="valid")``.
    """
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    if image.ndim != 2 or kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError(f"expected a 2-D image and a square 2-D kernel, got shapes "
                         f"{image.shape} and {kernel.shape}")
    cols = im2col(image[None, :, :, None], kernel.shape[0])
    return cols[0] @ kernel.ravel()


def conv_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray, padding: int = 0) -> np.ndarray:
    """Convolution layer: ``x`` (n, H, W, C), weights ``W`` (C, k, k, F), biases ``b`` (F,).

    Returns the feature maps, shape (n, H_out, W_out, F).
    """
    cols = im2col(x, W.shape[1], padding)
    return cols @ W.reshape(-1, W.shape[-1]) + b


def conv_backward(dout: np.ndarray, x: np.ndarray, W: np.ndarray, padding: int = 0,
                  need_dx: bool = True) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of a convolution layer from the gradient ``dout`` of its output.

    Returns ``(dx, dW, db)``; ``dx`` is None when ``need_dx`` is False (first layer).
    """
    k, n_filters = W.shape[1], W.shape[-1]
    cols = im2col(x, k, padding).reshape(-1, W[..., 0].size)
    dflat = dout.reshape(-1, n_filters)
    dW = (cols.T @ dflat).reshape(W.shape)  # each weight met every patch it multiplied
    db = dflat.sum(axis=0)
    if not need_dx:
        return None, dW, db
    # Each patch row sends its gradient back to the k*k pixels it was cut from ("col2im").
    n, ho, wo = dout.shape[:3]
    dcols = (dflat @ W.reshape(-1, n_filters).T).reshape(n, ho, wo, x.shape[3], k, k)
    dxp = np.zeros((n, x.shape[1] + 2 * padding, x.shape[2] + 2 * padding, x.shape[3]), dout.dtype)
    for i in range(k):
        for j in range(k):
            dxp[:, i:i + ho, j:j + wo, :] += dcols[..., i, j]
    return dxp[:, padding:padding + x.shape[1], padding:padding + x.shape[2], :], dW, db


# -------------------------------------------------------------------- max pooling


def _windows(x: np.ndarray, size: int) -> np.ndarray:
    """(n, H, W, C) -> (n, H/size, W/size, C, size*size): the pooling windows, last axis."""
    n, h, w, c = x.shape
    if h % size or w % size:
        raise ValueError(f"max pooling of size {size} needs height and width divisible by "
                         f"{size}, got {h} x {w}")
    x = x.reshape(n, h // size, size, w // size, size, c)
    return x.transpose(0, 1, 3, 5, 2, 4).reshape(n, h // size, w // size, c, size * size)


def maxpool_forward(x: np.ndarray, size: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Max pooling over non-overlapping ``size`` x ``size`` windows of ``x`` (n, H, W, C).

    Returns the pooled maps (n, H/size, W/size, C) and, for the backward pass, the position
    of each maximum inside its window.
    """
    win = _windows(x, size)
    argmax = win.argmax(axis=-1)
    return np.take_along_axis(win, argmax[..., None], axis=-1)[..., 0], argmax


def maxpool_backward(dout: np.ndarray, argmax: np.ndarray, size: int = 2) -> np.ndarray:
    """Gradient of max pooling: each window's gradient goes to its maximum, zero elsewhere.

    (With ties the first maximum in the window gets it, as in ``argmax``.)
    """
    n, ho, wo, c = dout.shape
    dwin = np.zeros((n, ho, wo, c, size * size), dout.dtype)
    np.put_along_axis(dwin, argmax[..., None], dout[..., None], axis=-1)
    dwin = dwin.reshape(n, ho, wo, c, size, size).transpose(0, 1, 4, 2, 5, 3)
    return dwin.reshape(n, ho * size, wo * size, c)


# ------------------------------------------------------------------ augmentation


def random_shift(images: np.ndarray, max_shift: int, rng: np.random.Generator,
                 fraction: float = 0.5) -> np.ndarray:
    """Move a random ``fraction`` of the images (n, H, W, C) by a random whole number of pixels
    in [-max_shift, max_shift] along each axis, filling with zeros; the others are kept as they are.

    A digit one pixel to the left is still the same digit. Keeping half of the images unshifted
    (rather than shifting all) gave a better and steadier accuracy in cross-validation on the
    training set: many digits touch the border, and shifting crops them.
    """
    if max_shift == 0 or fraction == 0:
        return images
    s = max_shift
    padded = np.pad(images, ((0, 0), (s, s), (s, s), (0, 0)))
    n, h, w = images.shape[:3]
    views = sliding_window_view(padded, (h, w), axis=(1, 2))  # (n, 2s+1, 2s+1, C, h, w)
    dy, dx = rng.integers(0, 2 * s + 1, size=(2, n))
    keep = rng.random(n) >= fraction
    dy[keep], dx[keep] = s, s  # offset s in the padded image = no shift
    return views[np.arange(n), dy, dx].transpose(0, 2, 3, 1)


# --------------------------------------------------------------------- the network


class ConvNetClassifier(ClassifierMixin, BaseEstimator):
    """conv -> ReLU -> max pool -> dense -> softmax, trained with Adam.

    Parameters
    ----------
    image_shape
        (height, width) of the images; ``X`` may be (n, height*width) or (n, height, width).
    n_filters
        Number of convolution kernels (feature maps).
    kernel_size
        Side of the square kernels; "same" zero padding keeps the maps at the image size.
    pool_size
        Side of the max-pooling windows.
    learning_rate
        Adam step size at the start; it decays to zero over the epochs (cosine schedule).
    batch_size
        Images per mini-batch.
    n_epochs
        Passes over the training set.
    alpha
        L2 penalty on the weights.
    max_shift
        Each epoch, half of the training images (chosen at random) are shifted by up to this
        many pixels along each axis (0: no augmentation).
    dtype
        Float type of the computation: float32 for speed, float64 for gradient checks.
    random_state
        Seed for the initial weights, the mini-batches and the shifts.

    Attributes
    ----------
    params_
        ``{"Wc": (1, k, k, F), "bc": (F,), "Wd": (F * h * w, n_classes), "bd": (n_classes,)}``
    classes_
        The class labels.
    history_
        Per epoch: ``"loss"`` (mean mini-batch loss), ``"val_accuracy"`` if validation data
        are passed to ``fit``.
    """

    def __init__(self, image_shape: tuple[int, int] = (8, 8), n_filters: int = 64,
                 kernel_size: int = 3, pool_size: int = 2, learning_rate: float = 3e-3,
                 batch_size: int = 32, n_epochs: int = 30, alpha: float = 1e-4,
                 max_shift: int = 1, dtype: type = np.float32, random_state: int | None = 0):
        self.image_shape = image_shape
        self.n_filters = n_filters
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.alpha = alpha
        self.max_shift = max_shift
        self.dtype = dtype
        self.random_state = random_state

    # -- shapes and parameters -------------------------------------------------
    def _images(self, X: np.ndarray) -> np.ndarray:
        h, w = self.image_shape
        X = np.asarray(X, dtype=self.dtype)
        if X.shape[1:] not in ((h * w,), (h, w)):
            raise ValueError(f"expected images of shape (n, {h * w}) or (n, {h}, {w}) "
                             f"(image_shape={self.image_shape}), got {X.shape}")
        return X.reshape(-1, h, w, 1)

    def init_params(self, n_classes: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Random initial weights (He et al. 2015 scale sqrt(2 / fan_in)), zero biases."""
        k, f, p = self.kernel_size, self.n_filters, self.pool_size
        h, w = self.image_shape
        n_flat = f * (h // p) * (w // p)
        params = {
            "Wc": rng.normal(0, np.sqrt(2 / (k * k)), (1, k, k, f)),
            "bc": np.zeros(f),
            "Wd": rng.normal(0, np.sqrt(1 / n_flat), (n_flat, n_classes)),
            "bd": np.zeros(n_classes),
        }
        return {name: v.astype(self.dtype) for name, v in params.items()}

    # -- the mathematics -------------------------------------------------------
    def forward(self, x: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every stage of the forward pass for images ``x`` (n, H, W, 1).

        Returns ``{"conv": ..., "relu": ..., "pool": ..., "argmax": ..., "scores": ...}``:
        the feature maps after each stage (for plotting) and the class scores.
        """
        conv = conv_forward(x, params["Wc"], params["bc"], padding=self.kernel_size // 2)
        act = relu(conv)
        pool, argmax = maxpool_forward(act, self.pool_size)
        scores = pool.reshape(len(x), -1) @ params["Wd"] + params["bd"]
        return {"conv": conv, "relu": act, "pool": pool, "argmax": argmax, "scores": scores}

    def loss_and_gradients(self, x: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray]
                           ) -> tuple[float, dict[str, np.ndarray]]:
        """Loss (cross-entropy + L2) on images ``x`` with class indices ``y``, and its gradients."""
        s = self.forward(x, params)
        p = softmax(s["scores"])
        loss = cross_entropy(p, y) + 0.5 * self.alpha * (
            np.sum(params["Wc"] ** 2) + np.sum(params["Wd"] ** 2))
        dscores = ((p - one_hot(y, p.shape[1])) / len(y)).astype(x.dtype)
        flat = s["pool"].reshape(len(x), -1)
        grads = {"Wd": flat.T @ dscores + self.alpha * params["Wd"], "bd": dscores.sum(axis=0)}
        dpool = (dscores @ params["Wd"].T).reshape(s["pool"].shape)  # back through the dense layer
        dact = maxpool_backward(dpool, s["argmax"], self.pool_size)   # to each window's maximum
        dconv = dact * (s["conv"] > 0)                                 # through the ReLU
        _, dWc, dbc = conv_backward(dconv, x, params["Wc"], self.kernel_size // 2, need_dx=False)
        grads.update(Wc=dWc + self.alpha * params["Wc"], bc=dbc)
        return float(loss), grads

    # -- the estimator API -----------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray | None = None,
            y_val: np.ndarray | None = None) -> ConvNetClassifier:
        """Train on (X, y); if given, record the accuracy on (X_val, y_val) after each epoch."""
        X, y = check_X_y(np.asarray(X).reshape(len(X), -1), y)
        x = self._images(X)
        self.classes_, yi = np.unique(y, return_inverse=True)
        rng = np.random.default_rng(self.random_state)
        params = self.init_params(len(self.classes_), rng)
        # Adam: a running mean m of the gradients and v of their squares, bias-corrected.
        m = {k: np.zeros_like(p) for k, p in params.items()}
        v = {k: np.zeros_like(p) for k, p in params.items()}
        beta1, beta2, eps, t = 0.9, 0.999, 1e-8, 0
        self.history_: dict[str, list[float]] = {"loss": []}
        if X_val is not None:
            self.history_["val_accuracy"] = []
        # One BLAS thread: on mini-batches this small, threads only add overhead (measured:
        # 3-5x slower with the default threads of a 2-core machine, as JupyterLab runs them).
        with one_blas_thread():
            for epoch in range(self.n_epochs):
                # Cosine schedule: big steps first, small ones at the end so the weights settle.
                lr = self.learning_rate * 0.5 * (1 + np.cos(np.pi * epoch / self.n_epochs))
                order = rng.permutation(len(x))
                xs = random_shift(x, self.max_shift, rng)
                losses = []
                for start in range(0, len(x), self.batch_size):
                    batch = order[start:start + self.batch_size]
                    loss, grads = self.loss_and_gradients(xs[batch], yi[batch], params)
                    losses.append(loss)
                    t += 1
                    lr_t = lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
                    for k, g in grads.items():
                        m[k] = beta1 * m[k] + (1 - beta1) * g
                        v[k] = beta2 * v[k] + (1 - beta2) * g * g
                        params[k] -= (lr_t * m[k] / (np.sqrt(v[k]) + eps)).astype(self.dtype)
                self.params_ = params  # so that score() below can predict with the current weights
                self.history_["loss"].append(float(np.mean(losses)))
                if X_val is not None:
                    self.history_["val_accuracy"].append(self.score(X_val, y_val))
        self.params_ = params
        return self

    def feature_maps(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """The maps after each stage (``"conv"``, ``"relu"``, ``"pool"``) for images ``X``."""
        check_is_fitted(self, "params_")
        with one_blas_thread():
            return self.forward(self._images(X), self.params_)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes)."""
        check_is_fitted(self, "params_")
        with one_blas_thread():
            scores = self.forward(self._images(X), self.params_)["scores"]
        return softmax(scores.astype(float))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class of each sample."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
