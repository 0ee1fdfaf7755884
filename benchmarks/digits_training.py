"""Accuracy and training time of the digit classifiers of notebooks 04 and 05.

Targets (issue "Notebooks 04-05"): test accuracy >= 97% for the one-hidden-layer network and
>= 98.5% for the convolutional network, each trained in under 60 s on 2 cores, on the course
split (25% held out, stratified, seed 0). Prints one line per model and seed, then a summary.

    OMP_NUM_THREADS=1 python benchmarks/digits_training.py [n_seeds]
    OMP_NUM_THREADS=1 python benchmarks/digits_training.py --cv

``--cv`` prints the evidence behind the default settings: 5-fold cross-validated accuracy on the
training set only (the test set plays no part) for a few alternatives.
"""

import os
import sys
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_val_score  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

from course_utils.cnn import ConvNetClassifier  # noqa: E402
from course_utils.nn import NeuralNetClassifier, load_digits_split  # noqa: E402

MODELS = {
    "numpy MLP (64 ReLU units)": lambda seed: NeuralNetClassifier(random_state=seed),
    "sklearn MLPClassifier (100 units)": lambda seed: MLPClassifier(max_iter=300, random_state=seed),
    "numpy CNN (64 3x3 filters)": lambda seed: ConvNetClassifier(random_state=seed),
}
TARGET = {"numpy MLP (64 ReLU units)": 0.97, "sklearn MLPClassifier (100 units)": 0.97,
          "numpy CNN (64 3x3 filters)": 0.985}


def main(n_seeds: int = 5) -> None:
    X_train, X_test, y_train, y_test = load_digits_split()
    print(f"train {len(X_train)} / test {len(X_test)} images; OMP_NUM_THREADS="
          f"{os.environ['OMP_NUM_THREADS']}")
    for name, make in MODELS.items():
        acc, wall, cpu = [], [], []
        for seed in range(n_seeds):
            t0, c0 = time.perf_counter(), time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model = make(seed).fit(X_train, y_train)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            acc.append(model.score(X_test, y_test))
            print(f"  {name:36s} seed {seed}: test accuracy {acc[-1]:.4f}, "
                  f"train {wall[-1]:.1f} s wall / {cpu[-1]:.1f} s CPU")
        print(f"{name:38s} accuracy mean {np.mean(acc):.4f} min {np.min(acc):.4f} "
              f"(target {TARGET[name]}); train time mean {np.mean(wall):.1f} s wall, "
              f"max {np.max(wall):.1f} s (target < 60 s)")


CV_CANDIDATES = {
    "MLP 32 units": NeuralNetClassifier(hidden_units=32),
    "MLP 64 units (default)": NeuralNetClassifier(hidden_units=64),
    "MLP 128 units": NeuralNetClassifier(hidden_units=128),
    "CNN 32 filters": ConvNetClassifier(n_filters=32),
    "CNN 64 filters (default)": ConvNetClassifier(n_filters=64),
    "CNN 64 filters 5x5": ConvNetClassifier(n_filters=64, kernel_size=5),
    "CNN 64 filters, no shifts": ConvNetClassifier(n_filters=64, max_shift=0),
}


def cross_validation() -> None:
    X_train, _, y_train, _ = load_digits_split()
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    for name, model in CV_CANDIDATES.items():
        scores = cross_val_score(model, X_train, y_train, cv=folds)
        print(f"{name:28s} 5-fold accuracy on the training set: mean {scores.mean():.4f}, "
              f"min {scores.min():.4f}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--cv"]:
        cross_validation()
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
