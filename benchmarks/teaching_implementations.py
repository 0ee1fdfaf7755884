"""Speed and accuracy of the course's teaching implementations against scikit-learn.

Prints figures and exits 0; nothing is asserted (the tests check correctness):

- best split and decision stump (course_utils.trees) vs DecisionTreeClassifier(max_depth=1);
- AdaBoost SAMME with stumps (course_utils.boosting) vs AdaBoostClassifier on the BPT data;
- AdaBoost.R2 vs AdaBoostRegressor on the emission-line library at full size
  (50 000 models, 10 MUSE lines, 12+log(O/H)), with depth-3 and with full-depth trees (GAME);
- reading a file versus computing on it, at several file sizes.

Run: python benchmarks/teaching_implementations.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.ensemble import AdaBoostClassifier, AdaBoostRegressor
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from course_utils.bigdata import measure_read_vs_compute
from course_utils.boosting import AdaBoostR2, AdaBoostSAMME
from course_utils.bpt import bpt_dataset
from course_utils.library import MUSE_LINES, build_library
from course_utils.trees import DecisionTree


def timed(func):
    start = time.perf_counter()
    out = func()
    return out, time.perf_counter() - start


def main(quick: bool = False) -> None:
    X, y, _ = bpt_dataset(noise_dex=0.1, seed=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    print(f"BPT data: {len(X_train)} training, {len(X_test)} test models")

    ours, t_ours = timed(lambda: DecisionTree(max_depth=1).fit(X_train, y_train))
    theirs, t_sk = timed(lambda: DecisionTreeClassifier(max_depth=1).fit(X_train, y_train))
    print(f"stump fit: course {1e3 * t_ours:.1f} ms, scikit-learn {1e3 * t_sk:.1f} ms; same test predictions: "
          f"{np.array_equal(ours.predict(X_test), theirs.predict(X_test))}")

    n_rounds = 100 if quick else 300
    ours, t_ours = timed(lambda: AdaBoostSAMME(n_estimators=n_rounds).fit(X_train, y_train))
    theirs, t_sk = timed(lambda: AdaBoostClassifier(DecisionTreeClassifier(max_depth=1), n_estimators=n_rounds,
                                                    random_state=0).fit(X_train, y_train))
    print(f"SAMME, {n_rounds} stumps: fit course {t_ours:.2f} s, scikit-learn {t_sk:.2f} s; test accuracy "
          f"{ours.score(X_test, y_test):.4f} vs {theirs.score(X_test, y_test):.4f}; identical predictions: "
          f"{np.array_equal(ours.predict(X_test), theirs.predict(X_test))}")

    n_models = 10_000 if quick else 50_000
    library = build_library(n_models=n_models, lines=list(MUSE_LINES), seed=0)
    ratios = library.intensities.drop(columns="Hbeta").div(library.intensities["Hbeta"], axis=0)
    F = np.log10(ratios.to_numpy())
    oh = library.labels["12+log(O/H)"].to_numpy()
    F_train, F_test, oh_train, oh_test = train_test_split(F, oh, test_size=0.2, random_state=0)
    print(f"library: {n_models} models, 9 line ratios to Hbeta, target 12+log(O/H)")
    for label, tree in [("depth-3 trees", DecisionTreeRegressor(max_depth=3)),
                        ("full-depth trees (GAME)", DecisionTreeRegressor())]:
        for n_est in (2, 50):
            ours, t_ours = timed(lambda: AdaBoostR2(n_est, estimator=tree, random_state=0).fit(F_train, oh_train))
            theirs, t_sk = timed(lambda: AdaBoostRegressor(tree, n_estimators=n_est, random_state=0)
                                 .fit(F_train, oh_train))
            r_ours = np.sqrt(np.mean((ours.predict(F_test) - oh_test) ** 2))
            r_sk = np.sqrt(np.mean((theirs.predict(F_test) - oh_test) ** 2))
            print(f"AdaBoost.R2, {n_est:2d} {label:24s}: RMSE course {r_ours:.4f} dex ({t_ours:5.1f} s), "
                  f"scikit-learn {r_sk:.4f} dex ({t_sk:5.1f} s); ratio {r_ours / r_sk:.3f}")

    for size in (8, 32) if quick else (8, 32, 128):
        r = measure_read_vs_compute(size_mb=size, repeats=3, seed=0)
        print(f"{size:4d} MB file: read from disk {r['read_cold_mb_per_s']:7.0f} MB/s, from cache "
              f"{r['read_cached_mb_per_s']:7.0f} MB/s, compute (mean, std) {r['compute_mb_per_s']:7.0f} MB/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a fast look")
    main(parser.parse_args().quick)
