"""Learning from real labels: methods against the direct method on the course's HII regions.

Sample: the ``strong`` rows of ``data/hii_regions.csv`` whose direct-method abundance is not
doubtful (``HIISample.usable``; the doubtful rows are left out of training and evaluation and
counted in the first line). Features: log([OII]3727+29, [OIII]5007, [NII]6584,
[SII]6717+31 / H-beta).

Printed, one line per method (N regions, median offset method - direct, robust scatter
1.4826 MAD, and for the learners the fraction of held-out regions inside their [p16, p84]):

- fixed methods, no folds: GAME (MAPPINGS library, dust-free, 10% errors assumed), PP04 N2
  (case-B H-alpha = 2.86 H-beta), Pilyugin & Grebel 2016 R and S;
- the empirical learner (:class:`course_utils.real_labels.LabelRegressor`) and the hybrid
  (the same learner with GAME's O/H as baseline and feature) under 10 random folds and under
  10 folds grouped by source paper (``reference``: every region of a paper in one fold);
- the learning curve under the grouped folds (scatter against the number of labelled
  regions, mean of ``--repeats`` draws), with GAME and PP04 N2 for comparison;
- domain shift: trained on all strong rows with the three lines the 26 ``extended`` rows
  publish too (no [SII]), predicted on the extended rows: error where they have a published
  abundance, and how many GAME flags or the learner's distance measure marks.

The last line sums up the grouped folds.

Usage::

    python benchmarks/real_labels.py [--models 50000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from course_utils import diagnostics as diag
from course_utils import real_labels as rl
from course_utils.cube.classical import CASE_B_HALPHA_HBETA
from course_utils.library import load_library
from course_utils.observations import compare_to_direct, load_hii_regions

LINES = ["OII3726_29", "Hbeta", "OIII5007", "NII6583", "SII6716_31"]
SHIFT_LINES = ["OII3726_29", "Hbeta", "OIII5007", "NII6583"]  # what the extended rows publish
SIZES = (10, 20, 40, 80, 160, 320, 640)


def line(name: str, estimate, truth, p16=None, p84=None) -> str:
    offset, scatter, n = compare_to_direct(estimate, truth)
    text = f"{name:34s} N {n:5d}  offset {offset:+.3f}  scatter {scatter:.3f}"
    if p16 is not None:
        text += f"  coverage {rl.coverage(truth, p16, p84):.2f}"
    return text


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=50_000, help="GAME library size")
    parser.add_argument("--error", type=float, default=0.1,
                        help="relative error assumed where none is published")
    parser.add_argument("--repeats", type=int, default=3, help="draws per learning-curve size")
    args = parser.parse_args(argv)
    start = time.perf_counter()

    sample = load_hii_regions()
    strong_all = sample.select(~sample.extended)
    strong = sample.select(~sample.extended & sample.usable)
    y = strong.truth["OH_Te"].to_numpy()
    groups = strong.meta["reference"].to_numpy()
    print(f"{len(strong)} strong rows used ({len(strong_all) - len(strong)} doubtful left out: "
          f"{int((~sample.usable).sum())} in the whole file), from {len(set(groups))} source papers; "
          "offsets = method - direct; scatter = 1.4826 x MAD")

    # fixed methods
    I, E = rl.spectra(strong, LINES, args.error)
    library = load_library(n_models=args.models, lines=LINES, seed=0, av_range=(0.0, 0.0))
    game = rl.game_estimates(I, E, library)
    game_oh = game["GAME 12+log(O/H)"].to_numpy()
    pp04 = diag.pp04_n2(diag.n2(I["NII6583"], CASE_B_HALPHA_HBETA * I["Hbeta"]))
    idx = diag.pg16_indices(I["OIII5007"], I["NII6583"], I["Hbeta"], I["OII3726_29"], I["SII6716_31"])
    print("\nfixed methods (no training on these labels)")
    print(line(f"GAME, MAPPINGS library ({args.models} models)", game_oh, y))
    print(line("PP04 N2", pp04, y))
    print(line("Pilyugin & Grebel 2016 R", diag.pg16_r(idx["R2"], idx["R3"], idx["N2"]), y))
    print(line("Pilyugin & Grebel 2016 S", diag.pg16_s(idx["S2"], idx["R3"], idx["N2"]), y))

    # learners under random and grouped folds
    X = rl.log_line_features(strong.intensities).to_numpy()
    XH = np.column_stack([X, game_oh])
    learners = {"empirical": (rl.LabelRegressor(), X),
                "hybrid": (rl.LabelRegressor(baseline=X.shape[1]), XH)}
    folds = {"random": rl.random_folds(len(y)), "grouped": rl.grouped_folds(groups)}
    print("\nlearners, out-of-fold (10 folds; grouped = by source paper)")
    summary = {}
    for kind, f in folds.items():
        for name, (model, features) in learners.items():
            cv = rl.cross_validate(model, features, y, f, groups=groups)
            print(line(f"{name}, {kind} folds", cv["estimate"], y, cv["p16"], cv["p84"]))
            if kind == "grouped":
                offset, scatter, _ = compare_to_direct(cv["estimate"], y)
                summary[name] = (scatter, offset, rl.coverage(y, cv["p16"], cv["p84"]))

    # learning curve
    sizes = [s for s in SIZES if s < len(y)] + [len(y)]
    curve = rl.learning_curve(learners, y, folds["grouped"], sizes, repeats=args.repeats)
    for name, estimate in (("GAME", game_oh), ("PP04 N2", pp04)):
        curve[name] = compare_to_direct(estimate, y)[1]
    print(f"\nlearning curve, grouped folds: robust scatter (dex) against the labelled regions "
          f"drawn from each fold's training part (mean of {args.repeats} draws; the last size "
          "is the whole training part)")
    print(curve.to_string(float_format=lambda v: f"{v:.3f}"))
    for name in learners:
        for peer in ("GAME", "PP04 N2"):
            better = curve.index[curve[name] < curve[peer]]
            first = f"{better[0]} labelled regions" if len(better) else "never"
            print(f"{name} beats {peer} from {first}")

    # domain shift
    ext = sample.select(sample.extended & sample.usable)
    Is, Es = rl.spectra(strong, SHIFT_LINES, args.error)
    Ie, Ee = rl.spectra(ext, SHIFT_LINES, args.error)
    shift_library = load_library(n_models=args.models, lines=SHIFT_LINES, seed=0, av_range=(0.0, 0.0))
    both = rl.game_estimates(pd.concat([Is, Ie]), pd.concat([Es, Ee]), shift_library)
    game_s, game_e = both.iloc[:len(Is)], both.iloc[len(Is):]
    shift_features = [l for l in SHIFT_LINES if l != "Hbeta"]
    Xs = rl.log_line_features(strong.intensities, shift_features).to_numpy()
    Xe = rl.log_line_features(ext.intensities, shift_features).to_numpy()
    ye = ext.truth["OH_Te"].to_numpy()
    empirical = rl.LabelRegressor().fit(Xs, y, groups=groups)
    hybrid = rl.LabelRegressor(baseline=Xs.shape[1]).fit(
        np.column_stack([Xs, game_s["GAME 12+log(O/H)"]]), y, groups=groups)
    distance, threshold = rl.training_distance(Xs, Xe)
    known = np.isfinite(ye)
    estimated = known & np.isfinite(distance)  # the learner needs [NII]: EELG1002 has none
    print(f"\ndomain shift: trained on the {len(y)} strong rows with [OII], [OIII]5007, [NII] "
          f"(no [SII] in the extended rows), predicted on the {len(ext)} extended rows, "
          f"{int(known.sum())} with a published abundance")
    e_est, e16, e84 = empirical.predict_interval(Xe)
    h_est, h16, h84 = hybrid.predict_interval(np.column_stack([Xe, game_e["GAME 12+log(O/H)"]]))
    print(line("empirical on extended rows", e_est, ye, e16, e84))
    print(line("hybrid on extended rows", h_est, ye, h16, h84))
    print(line("GAME on extended rows (published errors)", game_e["GAME 12+log(O/H)"], ye))
    flagged = game_e["GAME flag"].to_numpy() > 0
    far = distance > threshold
    print(f"warnings on the extended rows: GAME flag {int(flagged.sum())} of {len(ext)} "
          f"({int(flagged[known].sum())} of {int(known.sum())} with an abundance); learner's "
          f"distance beyond the 99th percentile of the training regions' {int(far.sum())} of "
          f"{int(np.isfinite(distance).sum())} ({int(far[estimated].sum())} of {int(estimated.sum())} "
          "with an abundance); "
          f"median distance / threshold {np.nanmedian(distance / threshold):.2f}")
    print(f"\n({time.perf_counter() - start:.0f} s)")
    (es, eo, ec), (hs, ho, hc) = summary["empirical"], summary["hybrid"]
    print(f"grouped folds: empirical scatter {es:.3f} offset {eo:+.3f} coverage {ec:.2f}; "
          f"hybrid scatter {hs:.3f} offset {ho:+.3f} coverage {hc:.2f}")


if __name__ == "__main__":
    main()
