"""Can GAME's error bars be trusted? Coverage, accuracy, the domain flag, units and cost.

Mock spectra are models of a library drawn with another seed than the training library
(10 MUSE lines, A_V uniform in 0-3 mag), observed with a relative error per line (normal,
truncated at zero). In 30% of them one line is missing and another is an upper limit: a
non-detection at a true signal-to-noise ratio uniform in [0.5, 2.5], quoted as 3 sigma.

Printed, with the targets of the course beside each figure:

1. coverage of [p16, p84] and [p2.5, p97.5] (fraction of mocks whose truth lies inside;
   ideal 0.68 and 0.95) and RMSE of the mean, for the calibrated default ``Game()`` and for
   the raw Monte Carlo draws (``calibrate=False``, GAME's own uncertainties), at 5%, 10% and
   20% errors; the fraction of these HII mocks that is flagged;
2. dust-free spectra: ``Game(av_range=(0, 0))`` against the Bayes-optimal posterior mean on
   the same prior (:class:`course_utils.bayes.GridLikelihood` on a fine grid, no dust);
3. the domain flag on NebulaBayes' AGN narrow-line-region grid (A_V 0-3, 10% errors), by
   class in the [NII] BPT diagram;
4. the same spectra in units 1e-40 and 1e40 times larger;
5. the prediction cost per spectrum (models cached), calibrated and raw;
6. with ``--cube SIZE``: coverage on the synthetic Henize 2-10 cube of notebook 08, for the
   default and with ``model_error=0.1``.

Run: ``python benchmarks/game_calibration.py`` (about 10 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import pandas as pd

from course_utils.bayes import GridLikelihood
from course_utils.bpt import agn_models, bpt_ratios
from course_utils.diagnostics import bpt_class
from course_utils.game import PROPERTIES, UPPER_LIMIT, Game, truncated_normal
from course_utils.library import MUSE_LINES, attenuation, build_library, line_table

LINES = list(MUSE_LINES)
COVERAGE_68 = (0.63, 0.73)
COVERAGE_95 = (0.92, 0.97)


def mock_spectra(n: int, error: float, seed: int, patchy: float = 0.3,
                 av_range=(0.0, 3.0)) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Noisy held-out spectra, their quoted errors and true labels (see the docstring)."""
    held = build_library(n, LINES, seed=seed, av_range=av_range)
    true = held.intensities.to_numpy()
    rng = np.random.default_rng([seed, 1])
    sigma = error * true
    observed, errors = truncated_normal(true, sigma, rng), sigma.copy()
    for i in np.flatnonzero(rng.random(n) < patchy):
        missing, limit = rng.choice(len(LINES), 2, replace=False)
        observed[i, missing] = errors[i, missing] = 0.0
        observed[i, limit] = 3 * true[i, limit] / rng.uniform(0.5, 2.5)
        errors[i, limit] = UPPER_LIMIT
    return (pd.DataFrame(observed, columns=LINES), pd.DataFrame(errors, columns=LINES),
            held.labels)


def coverage(table: pd.DataFrame, truth: pd.DataFrame, prop: str, low: str, high: str) -> float:
    t = truth[prop].to_numpy()
    ok = table[f"{prop}_{low}"].notna().to_numpy()
    return float(np.mean((table[f"{prop}_{low}"][ok] <= t[ok]) & (t[ok] <= table[f"{prop}_{high}"][ok])))


def rmse(table: pd.DataFrame, truth: pd.DataFrame, prop: str) -> float:
    error = (table[f"{prop}_mean"] - truth[prop]).to_numpy()
    return float(np.sqrt(np.nanmean(error**2)))


def mark(value: float, bounds: tuple[float, float]) -> str:
    return f"{value:.3f}{'' if bounds[0] <= value <= bounds[1] else ' !'}"


def section_coverage(library, n: int, seed: int) -> None:
    print(f"\n1. Coverage and RMSE: {n} mocks per error level, A_V 0-3, 30% with a missing line "
          f"and an upper limit. Targets: [p16, p84] {COVERAGE_68}, [p2.5, p97.5] {COVERAGE_95}; "
          "'!' marks a miss.")
    rows = []
    for error in (0.05, 0.10, 0.20):
        I, E, truth = mock_spectra(n, error, seed)
        for name, game in (("calibrated", Game()), ("raw draws", Game(calibrate=False))):
            table = game.fit(library).predict(I, E)
            for prop in PROPERTIES:
                rows.append({"error": f"{error:.0%}", "uncertainties": name, "property": prop,
                             "[p16,p84]": coverage(table, truth, prop, "p16", "p84"),
                             "[p2.5,p97.5]": coverage(table, truth, prop, "p2.5", "p97.5"),
                             "RMSE": rmse(table, truth, prop),
                             "flagged": float((table["flag"] > 0).mean())})
    frame = pd.DataFrame(rows)
    shown = frame.copy()
    shown["[p16,p84]"] = [mark(v, COVERAGE_68) if u == "calibrated" else f"{v:.3f}"
                          for v, u in zip(frame["[p16,p84]"], frame["uncertainties"])]
    shown["[p2.5,p97.5]"] = [mark(v, COVERAGE_95) if u == "calibrated" else f"{v:.3f}"
                             for v, u in zip(frame["[p2.5,p97.5]"], frame["uncertainties"])]
    print(shown.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    pivot = frame.pivot_table(index=["error", "property"], columns="uncertainties", values="RMSE")
    pivot["calibrated / raw"] = pivot["calibrated"] / pivot["raw draws"]
    print("\nRMSE of the mean (dex; mag for A_V): calibrated default (trained on 90% of the "
          "library) vs raw draws (trained on all of it). Target: ratio <= 1.05.")
    print(pivot.to_string(float_format=lambda x: f"{x:.3f}"))
    flagged = frame[frame["uncertainties"] == "calibrated"].groupby("error")["flagged"].first()
    print("\nHII mocks flagged (target <= 0.02 at 10%):",
          ", ".join(f"{k}: {v:.3f}" for k, v in flagged.items()))


def section_no_dust(library, n: int, seed: int) -> None:
    I, E, truth = mock_spectra(n, 0.10, seed + 1, patchy=0.0, av_range=(0.0, 0.0))
    game = Game(av_range=(0.0, 0.0)).fit(library).predict(I, E)
    start = time.perf_counter()
    grid = GridLikelihood(n_points=(33, 45, 89), av_range=(0.0, 0.0)).fit().predict(I, E)
    grid_time = time.perf_counter() - start
    print(f"\n2. Dust-free spectra ({n} mocks, 10% errors, no missing lines): GAME with "
          "av_range=(0, 0) vs the posterior mean on a 33 x 45 x 89 grid without dust "
          f"({1e3 * grid_time / n:.1f} ms per spectrum). Target: ratio <= 1.10 for O/H and U.")
    for prop in PROPERTIES[:3]:
        a, b = rmse(game, truth, prop), rmse(grid, truth, prop)
        print(f"  {prop:12s} GAME {a:.4f}  grid {b:.4f}  ratio {a / b:.3f}"
              f"  coverage [p16,p84] GAME {coverage(game, truth, prop, 'p16', 'p84'):.3f}"
              f" grid {coverage(grid, truth, prop, 'p16', 'p84'):.3f}")


def section_flag(library, seed: int) -> None:
    nlr = agn_models(LINES)
    X = nlr[LINES].to_numpy(float)
    classes = bpt_class(*bpt_ratios(nlr).T)
    rng = np.random.default_rng([seed, 2])
    wave = line_table(derived=True).loc[LINES, "wavelength"].to_numpy()
    X = X * 10 ** (-0.4 * attenuation(wave, rng.uniform(0, 3, len(X))))
    observed = truncated_normal(X, 0.1 * X, rng)
    table = Game().fit(library).predict(pd.DataFrame(observed, columns=LINES),
                                        pd.DataFrame(0.1 * X, columns=LINES))
    flag = table["flag"].to_numpy()
    print(f"\n3. Domain flag on the {len(X)} models of NebulaBayes' AGN narrow-line-region grid "
          "(A_V 0-3, 10% errors). Target: >= 0.95 of those above Kewley et al. 2001 flagged.")
    print(f"  all: {np.mean(flag > 0):.3f}")
    for k, name in enumerate(("below Kauffmann et al. 2003", "composite", "above Kewley et al. 2001")):
        sel = classes == k
        print(f"  {name}: {sel.sum()} models ({sel.mean():.0%}), flagged {np.mean(flag[sel] > 0):.3f}"
              f" (not reproduced {np.mean(flag[sel] & 1 > 0):.3f}, BPT {np.mean(flag[sel] & 2 > 0):.3f})")


def section_units(library, seed: int) -> None:
    I, E, _ = mock_spectra(500, 0.10, seed + 2)
    game = Game().fit(library)
    base = game.predict(I, E)
    stats = [c for c in base.columns if c not in ("pattern", "flag")]
    print("\n4. Units: the same spectra scaled by 1e-40 and 1e40. Target: <= 0.001 dex.")
    for factor in (1e-40, 1e40):
        scaled = game.predict(I * factor, E.where(E == UPPER_LIMIT, E * factor))
        diff = np.nanmax(np.abs(scaled[stats].to_numpy() - base[stats].to_numpy()))
        same_flags = (scaled["flag"] == base["flag"]).all()
        print(f"  x {factor:g}: largest difference {diff:.2e}; flags identical: {same_flags}")


def section_cost(library, seed: int, n: int = 10_000) -> None:
    I, E, _ = mock_spectra(n, 0.10, seed + 3, patchy=0.0)
    print(f"\n5. Prediction cost ({n} spectra, 100 draws, models already trained). Target: "
          "calibrated <= 1.5 x raw.")
    times = {}
    for name, game in (("raw draws", Game(calibrate=False)), ("calibrated", Game())):
        game.fit(library).predict(I.iloc[:50], E.iloc[:50])  # trains and calibrates
        best = np.inf
        for _ in range(3):
            start = time.perf_counter()
            game.predict(I, E)
            best = min(best, time.perf_counter() - start)
        times[name] = best / n
        print(f"  {name}: {1e3 * times[name]:.3f} ms per spectrum")
    print(f"  ratio: {times['calibrated'] / times['raw draws']:.2f}")


def section_cube(size: int) -> None:
    from course_utils.cube import load_henize2_10_cube, read_truth, run_pipeline, truth_path_of

    path = load_henize2_10_cube(size=size)
    library = build_library(20_000, LINES, seed=0, av_range=(0.0, 6.0))
    fitted = Game(n_draws=50).fit(library)
    truth = read_truth(truth_path_of(path))
    f_dig = np.asarray(truth["f_DIG"])
    print(f"\n6. The synthetic Henize 2-10 cube, {size} x {size} spaxels (GAME trained on 20 000 "
          "models, A_V 0-6): coverage over spaxels with an estimate and flag 0, for the default "
          "(exact models) and told of a 10% model error (model_error=0.1, NebulaBayes' default).")
    for model_error in (0.0, 0.1):
        game = copy.deepcopy(fitted).set_params(model_error=model_error)
        props = run_pipeline(path, game).properties
        estimated = np.isfinite(props["12+log(O/H)_mean"])
        usable = estimated & (props["flag"] == 0)
        dig = estimated & (f_dig > 0.5)
        print(f" model_error={model_error:g}: spaxels with an estimate {estimated.sum()}, "
              f"flagged {np.sum(estimated & (props['flag'] > 0))}; where diffuse gas gives more "
              f"than half of H-alpha, flagged {np.sum(dig & (props['flag'] > 0))} of {dig.sum()}")
        # The cube's physics differs from the library's on purpose (diffuse gas mixed into
        # the spectra, N/O scatter, another dust curve), so coverage is also shown where
        # diffuse gas gives less than 5% of H-alpha, with the bias and the typical half-width.
        for name, rows in (("all usable spaxels", usable),
                           ("diffuse gas < 5% of H-alpha", usable & (f_dig < 0.05)),
                           ("diffuse gas >= 30% of H-alpha", usable & (f_dig >= 0.3))):
            print(f"  {name} ({rows.sum()}):")
            for prop in PROPERTIES:
                t = truth[prop][rows]
                lo, hi = props[f"{prop}_p16"][rows], props[f"{prop}_p84"][rows]
                c68 = np.mean((lo <= t) & (t <= hi))
                c95 = np.mean((props[f"{prop}_p2.5"][rows] <= t)
                              & (t <= props[f"{prop}_p97.5"][rows]))
                bias = np.median(props[f"{prop}_mean"][rows] - t)
                print(f"    {prop:12s} [p16,p84] {mark(c68, COVERAGE_68)}  [p2.5,p97.5] "
                      f"{mark(c95, COVERAGE_95)}  median bias {bias:+.3f}  median half-width "
                      f"{np.median(hi - lo) / 2:.3f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spectra", type=int, default=2000, help="mocks per error level")
    parser.add_argument("--library-size", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--cube", type=int, default=0, metavar="SIZE",
                        help="also measure coverage on the synthetic cube of this size")
    args = parser.parse_args(argv)
    library = build_library(args.library_size, LINES, seed=0)
    start = time.perf_counter()
    section_coverage(library, args.spectra, args.seed)
    section_no_dust(library, min(args.spectra, 1000), args.seed)
    section_flag(library, args.seed)
    section_units(library, args.seed)
    section_cost(library, args.seed)
    if args.cube:
        section_cube(args.cube)
    print(f"\n(total {time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
