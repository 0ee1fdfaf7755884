"""Classical maps against the truth of the synthetic Henize 2-10 cube (prints a table, exits 0).

The class cube of notebook 08 (40 x 40 spaxels, seed 0) by default. For each classical
estimate: the spaxels where it exists, its bias and RMSE against the truth, over all of them
and split into HII-dominated (f_DIG < 0.5) and DIG-dominated spaxels.

- A_V from the Balmer decrement with the cube's own curve (F99 at the true R_V map), with F99
  at R_V = 3.1, and with the GAME library's CCM89 (R_V = 3.1); and without fitting the
  stellar Balmer absorption;
- n_e from [SII] (PyNeb) against PyNeb on the noise-free [SII] ratio of the truth file, and
  the library's n = (P/k) / 10^4 K for reference;
- Te from [NII] 6584/5755 and [SIII] 9069/6312 against the same on the noise-free truth,
  dereddened with the true A_V and curve;
- 12+log(O/H) from strong-line calibrations against the true O/H.

    python benchmarks/classical_maps.py [--size 40] [--seed 0] [--metallicity gradient]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np


def stats(estimate, truth, groups, log=False):
    rows = []
    for name, sel in groups.items():
        ok = sel & np.isfinite(estimate) & np.isfinite(truth)
        if log:
            ok &= (estimate > 0) & (truth > 0)
        if not ok.any():
            rows.append(f"{name}: n=0")
            continue
        d = np.log10(estimate[ok] / truth[ok]) if log else estimate[ok] - truth[ok]
        rows.append(f"{name}: n={ok.sum():4d} bias {np.mean(d):+7.3g} rmse "
                    f"{np.sqrt(np.mean(d**2)):6.3g} median|err| {np.median(np.abs(d)):6.3g}")
    return "  |  ".join(rows)


def main() -> None:
    from course_utils import nebular
    from course_utils.cube import (balmer_av, fit_line_maps, load_henize2_10_cube,
                                   read_muse_cube, read_truth, sii_density, strong_line_oh,
                                   te_nii, te_siii, truth_path_of)
    from course_utils.cube.classical import STRONG_LINE_METHODS
    from course_utils.cube.lines import DETECTED
    from course_utils.library import MUSE_LINES, extinction_curve, line_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--metallicity", default="gradient")
    args = parser.parse_args()

    path = load_henize2_10_cube(args.size, args.seed, args.metallicity)
    truth = read_truth(truth_path_of(path))
    cube = read_muse_cube(path)
    lines = list(MUSE_LINES) + ["NII5755", "SIII6312"]
    maps = fit_line_maps(cube, lines=lines)
    plain = fit_line_maps(cube, lines=lines, absorption_sigma=None)
    usable = ~cube.mask
    groups = {"all": usable, "HII": usable & (truth["f_DIG"] < 0.5),
              "DIG": usable & (truth["f_DIG"] >= 0.5)}
    print(f"cube {path.name}: {usable.sum()} spaxels with data, "
          f"{groups['DIG'].sum()} DIG-dominated")
    det = maps.status == DETECTED
    game = det[[maps.lines.index(l) for l in MUSE_LINES]]
    enough = game.sum(axis=0) >= 3
    patterns, counts = np.unique(game[:, enough].T, axis=0, return_counts=True)
    print(f"patterns of detected lines among GAME's {len(MUSE_LINES)} (spaxels with >= 3 "
          f"detected): {len(patterns)}")
    for pattern, count in sorted(zip(patterns, counts), key=lambda pc: -pc[1]):
        absent = [l for l, d in zip(MUSE_LINES, pattern) if not d]
        print(f"  {count:5d} spaxels, not detected: {', '.join(absent) or '-'}")
    for i, line in enumerate(maps.lines):
        print(f"  {line:9s} detected in {int(det[i].sum()):5d} spaxels")

    print("\nA_V [mag] from the Balmer decrement (truth: the cube's A_V map)")
    for label, kwargs, source in [
            ("F99, true R_V map (the cube's curve)", dict(curve="F99", r_v=truth["R_V"]), maps),
            ("F99, R_V = 3.1", dict(curve="F99", r_v=3.1), maps),
            ("CCM89, R_V = 3.1 (the library's)", dict(curve="CCM89", r_v=3.1), maps),
            ("F99 true R_V, absorption not fitted", dict(curve="F99", r_v=truth["R_V"]), plain)]:
        print(f"  {label:38s} {stats(balmer_av(source, **kwargs), truth['A_V'], groups)}")

    print("\nn_e [dex] from [SII] 6716/6731 (PyNeb, 10^4 K)")
    n_e = sii_density(maps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        true_ratio = truth["SII6716"] / truth["SII6731"]
        true_ne = np.full(true_ratio.shape, np.nan)
        ok = np.isfinite(true_ratio)
        true_ne[ok] = nebular.ne_sii(true_ratio[ok])
    print(f"  vs PyNeb on the noise-free ratio       {stats(n_e, true_ne, groups, log=True)}")
    print(f"  vs the library's (P/k) / 10^4 K        "
          f"{stats(n_e, 10 ** (truth['log P/k'] - 4), groups, log=True)}")
    print(f"  noise-free [SII] vs (P/k) / 10^4 K     "
          f"{stats(true_ne, 10 ** (truth['log P/k'] - 4), groups, log=True)}")

    print("\nTe [K] from auroral lines (dereddened with F99 at the true R_V and the Balmer A_V)")
    a_v = balmer_av(maps, "F99", truth["R_V"])
    wave = line_table()["wavelength"]
    for label, func, strong, auroral in [("[NII] 6584/5755", te_nii, "NII6583", "NII5755"),
                                         ("[SIII] 9069/6312", te_siii, "SIII9069", "SIII6312")]:
        te = func(maps, a_v, "F99", truth["R_V"])
        k = extinction_curve(wave[[strong, auroral]].to_numpy(), "F99", truth["R_V"].ravel())
        k = k.T.reshape((2,) + truth["A_V"].shape)
        ratio = (truth[strong] * 10 ** (0.4 * truth["A_V"] * k[0])
                 / (truth[auroral] * 10 ** (0.4 * truth["A_V"] * k[1])))
        solve = nebular.te_nii if strong == "NII6583" else nebular.te_siii
        true_te = solve(ratio.ravel()).reshape(ratio.shape)
        print(f"  {label:17s} vs noise-free truth    {stats(te, true_te, groups)}")
        strong_snr = maps.snr(auroral) >= 10
        print(f"  {label:17s} auroral S/N >= 10      "
              f"{stats(np.where(strong_snr, te, np.nan), true_te, groups)}")

    print("\n12+log(O/H) [dex], strong-line calibrations vs the true O/H")
    knots = usable & (truth["12+log(O/H)"] > 8.69)
    outskirts = usable & (truth["12+log(O/H)"] < 8.45)
    for method in STRONG_LINE_METHODS:
        oh = strong_line_oh(maps, method)
        contrast = np.nanmedian(oh[knots]) - np.nanmedian(oh[outskirts])
        print(f"  {method:10s} {stats(oh, truth['12+log(O/H)'], groups)}  |  "
              f"super-solar minus outskirts {contrast:+.2f}")
    true_contrast = (np.median(truth["12+log(O/H)"][knots])
                     - np.median(truth["12+log(O/H)"][outskirts]))
    print(f"  truth: super-solar minus outskirts {true_contrast:+.2f}")


if __name__ == "__main__":
    main()
