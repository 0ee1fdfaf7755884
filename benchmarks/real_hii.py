"""Metallicity methods against the direct method on the real HII regions of the course.

For each method: N regions with an estimate, median offset (method - Te-based 12+log(O/H)),
robust scatter of the differences (1.4826 x median absolute deviation from their median),
fraction of spectra GAME flags (``flag`` != 0: line ratios the models cannot reproduce, above the
Kewley et al. 2001 line, too few lines, beyond the library), the same statistics for GAME on the
unflagged spectra only, and time per spectrum (training or set-up included, over the whole
subset).

Two subsets of ``data/hii_regions.csv`` (see ``data/README.md``), reported separately:

- **strong** (1009 regions): dereddened [OII]3727+3729, Hbeta, [OIII]5007, [NII]6584 and
  [SII]6717+6731 without errors. A 10% error is assumed on every line (``--error``), and
  Halpha = 2.86 Hbeta (case B) where a calibration needs it.
- **extended** (the 10 rows with published errors *and* a published abundance: Izotov et al.
  2016, 2018, and EELG1002): [OII]3727, Hbeta, [OIII]4363 (EELG1002 only), 4959, 5007, the
  published Halpha and [NII]6584, with their published errors; 10% is assumed only for the one
  Hbeta published without an error. No [SII] is published, so D16 cannot be computed there.

GAME and the grid fit use dust-free models, as the spectra are dereddened.

Usage::

    python benchmarks/real_hii.py [--models 50000] [--error 0.1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from course_utils import diagnostics as diag
from course_utils.bayes import GridLikelihood
from course_utils.cube.classical import CASE_B_HALPHA_HBETA
from course_utils.game import Game
from course_utils.library import build_library
from course_utils.observations import HIISample, compare_to_direct, load_hii_regions

STRONG_LINES = ["OII3726_29", "Hbeta", "OIII5007", "NII6583", "SII6716_31"]
EXTENDED_LINES = ["OII3726_29", "Hbeta", "OIII4363", "OIII4959", "OIII5007", "Halpha", "NII6583"]
PROPERTIES = ["12+log(O/H)", "log U", "log P/k"]


def strong_lines(I: pd.DataFrame) -> dict[str, np.ndarray]:
    """PP04 N2, PP04 O3N2 and (where [SII] is published) D16 metallicities.

    The published Halpha is used where there is one, case B (2.86 Hbeta) elsewhere.
    """
    case_b = CASE_B_HALPHA_HBETA * I["Hbeta"]
    halpha = I["Halpha"].where(I["Halpha"] > 0, case_b) if "Halpha" in I else case_b
    out = {
        "PP04 N2": diag.pp04_n2(diag.n2(I["NII6583"], halpha)),
        "PP04 O3N2": diag.pp04_o3n2(diag.o3n2(I["OIII5007"], I["Hbeta"], I["NII6583"], halpha)),
    }
    if "SII6716_31" in I:
        # D16 takes the two [SII] lines and sums them: the strong rows have only the sum
        out["D16"] = diag.dopita16(I["NII6583"], I["SII6716_31"], 0.0, halpha)
    return out


def run(sample: HIISample, lines: list[str], n_models: int, error: float) -> pd.DataFrame:
    I, E = sample.spectra(lines, relative_error=error)
    truth = sample.truth["OH_Te"].to_numpy()
    n = len(I)
    estimates, seconds = {}, {}

    start = time.perf_counter()
    for name, oh in strong_lines(I).items():
        estimates[name] = np.asarray(oh, float)
    for name in estimates:
        seconds[name] = (time.perf_counter() - start) / len(estimates)

    start = time.perf_counter()
    library = build_library(n_models, lines, seed=0, av_range=(0.0, 0.0))
    game = Game(properties=PROPERTIES, lines=lines, random_state=0).fit(library)
    table = game.predict(I, E)
    seconds["GAME (default)"] = time.perf_counter() - start
    estimates["GAME (default)"] = table["12+log(O/H)_median"].to_numpy()
    flag = table["flag"].to_numpy()
    estimates["GAME, flag 0 only"] = np.where(flag == 0, estimates["GAME (default)"], np.nan)
    seconds["GAME, flag 0 only"] = seconds["GAME (default)"]

    start = time.perf_counter()
    grid = GridLikelihood(properties=PROPERTIES, lines=lines, av_range=(0.0, 0.0)).fit()
    table = grid.predict(I, E)
    seconds["GridLikelihood"] = time.perf_counter() - start
    estimates["GridLikelihood"] = table["12+log(O/H)_median"].to_numpy()

    rows = {}
    for name, oh in estimates.items():
        offset, scatter, used = compare_to_direct(oh, truth)
        flagged = np.mean(flag > 0) if name == "GAME (default)" else np.nan
        rows[name] = {"N": used, "median offset (dex)": offset, "robust scatter (dex)": scatter,
                      "fraction flagged": flagged, "ms per spectrum": 1e3 * seconds[name] / n}
    return pd.DataFrame(rows).T.astype({"N": int})


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=50_000, help="GAME library size")
    parser.add_argument("--error", type=float, default=0.1,
                        help="relative error assumed where none is published")
    args = parser.parse_args(argv)
    sample = load_hii_regions()
    strong = sample.select(~sample.extended)
    extended = sample.select(sample.extended & sample.truth["OH_Te"].notna())
    fmt = lambda v: f"{v:.3f}"
    print(f"{len(strong)} strong-line regions (no published errors: {args.error:.0%} assumed, "
          "case-B Halpha); offsets = method - direct method; robust scatter = 1.4826 x MAD")
    print(run(strong, STRONG_LINES, args.models, args.error).to_string(float_format=fmt))
    print(f"\n{len(extended)} extended regions with a published abundance (published errors "
          "and Halpha; no [SII], so no D16)")
    print(run(extended, EXTENDED_LINES, args.models, args.error).to_string(float_format=fmt))


if __name__ == "__main__":
    main()
