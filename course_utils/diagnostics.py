"""Classical emission-line diagnostics: strong-line metallicities and BPT demarcation lines.

Notation: N2 = log([NII]6584/Halpha), O3N2 = log([OIII]5007/Hbeta) - N2.

References
----------
Pettini & Pagel 2004, MNRAS 348, L59 (PP04); Marino et al. 2013, A&A 559, A114 (M13);
Dopita et al. 2016, Ap&SS 361, 61 (D16); Curti et al. 2020, MNRAS 491, 944 (C20);
Kauffmann et al. 2003, MNRAS 346, 1055 (K03); Kewley et al. 2001, ApJ 556, 121 (K01).
"""

from __future__ import annotations

import numpy as np

#: Validity ranges of the PP04 calibrations (outside them the result is NaN).
PP04_N2_RANGE = (-2.5, -0.3)
PP04_O3N2_RANGE = (-1.0, 1.9)


def _log_ratio(num, den) -> np.ndarray:
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log10(num / den)
    return np.where(np.isfinite(out), out, np.nan)


def n2(nii6584, halpha) -> np.ndarray:
    """N2 = log([NII]6584 / Halpha)."""
    return _log_ratio(nii6584, halpha)


def o3n2(oiii5007, hbeta, nii6584, halpha) -> np.ndarray:
    """O3N2 = log([OIII]5007 / Hbeta) - log([NII]6584 / Halpha)."""
    return _log_ratio(oiii5007, hbeta) - n2(nii6584, halpha)


def _within(x: np.ndarray, value: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    return np.where((x > bounds[0]) & (x < bounds[1]), value, np.nan)


def pp04_n2(n2_index, clip: bool = True) -> np.ndarray:
    """PP04 linear N2 calibration: 12+log(O/H) = 8.90 + 0.57 N2 (NaN outside -2.5 < N2 < -0.3)."""
    x = np.asarray(n2_index, dtype=float)
    oh = 8.90 + 0.57 * x
    return _within(x, oh, PP04_N2_RANGE) if clip else oh


def pp04_n2_cubic(n2_index, clip: bool = True) -> np.ndarray:
    """PP04 cubic N2 calibration: 9.37 + 2.03 N2 + 1.26 N2^2 + 0.32 N2^3."""
    x = np.asarray(n2_index, dtype=float)
    oh = 9.37 + 2.03 * x + 1.26 * x**2 + 0.32 * x**3
    return _within(x, oh, PP04_N2_RANGE) if clip else oh


def pp04_o3n2(o3n2_index, clip: bool = True) -> np.ndarray:
    """PP04 O3N2 calibration: 12+log(O/H) = 8.73 - 0.32 O3N2 (NaN outside -1 < O3N2 < 1.9)."""
    x = np.asarray(o3n2_index, dtype=float)
    oh = 8.73 - 0.32 * x
    return _within(x, oh, PP04_O3N2_RANGE) if clip else oh


def marino13_n2(n2_index) -> np.ndarray:
    """Marino et al. 2013 N2 calibration: 8.743 + 0.462 N2."""
    return 8.743 + 0.462 * np.asarray(n2_index, dtype=float)


def marino13_o3n2(o3n2_index) -> np.ndarray:
    """Marino et al. 2013 O3N2 calibration: 8.533 - 0.214 O3N2."""
    return 8.533 - 0.214 * np.asarray(o3n2_index, dtype=float)


def dopita16(nii6584, sii6716, sii6731, halpha) -> np.ndarray:
    """Dopita et al. 2016: 12+log(O/H) = 8.77 + y, y = log([NII]/[SII]) + 0.264 log([NII]/Halpha).

    [SII] is the sum of the 6717 and 6731 lines; every line is within MUSE's range.
    """
    sii = np.asarray(sii6716, dtype=float) + np.asarray(sii6731, dtype=float)
    y = _log_ratio(nii6584, sii) + 0.264 * n2(nii6584, halpha)
    return 8.77 + y


#: Curti et al. 2020 polynomial coefficients c_k of log R = sum c_k x^k, x = 12+log(O/H) - 8.69.
CURTI20 = {
    "N2": (-0.489, 1.513, -2.554, -5.293, -2.867),
    "O3N2": (0.281, -4.765, -2.268),
    "R3": (-0.277, -3.549, -3.593, -0.981),
    "S2": (-0.442, -0.360, -6.271, -8.339, -3.559),
}


def curti20_log_ratio(oh, index: str) -> np.ndarray:
    """The line ratio log R predicted by the Curti et al. 2020 calibration at 12+log(O/H) = oh."""
    x = np.asarray(oh, dtype=float) - 8.69
    return np.polynomial.polynomial.polyval(x, CURTI20[index])


def curti20(log_ratio, index: str, oh_range: tuple[float, float] = (7.6, 8.9)) -> np.ndarray:
    """Invert a Curti et al. 2020 calibration: the 12+log(O/H) whose predicted ratio is closest.

    The polynomials are not monotonic everywhere, so the inversion searches the calibrated
    metallicity range on a fine grid and returns the best match (NaN for NaN input).
    """
    grid = np.linspace(*oh_range, 2001)
    model = curti20_log_ratio(grid, index)
    r = np.asarray(log_ratio, dtype=float)
    best = grid[np.argmin(np.abs(r[..., None] - model), axis=-1)]
    return np.where(np.isfinite(r), best, np.nan)


# ---------------------------------------------------------------------------- BPT diagrams

def kauffmann03(log_nii_ha) -> np.ndarray:
    """K03 star-forming boundary in the [NII] BPT: log([OIII]/Hb) = 0.61/(x - 0.05) + 1.30 (x < 0.05)."""
    x = np.asarray(log_nii_ha, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(x < 0.05, 0.61 / (x - 0.05) + 1.30, np.nan)


def kewley01_nii(log_nii_ha) -> np.ndarray:
    """K01 maximum-starburst line in the [NII] BPT: 0.61/(x - 0.47) + 1.19 (x < 0.47)."""
    x = np.asarray(log_nii_ha, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(x < 0.47, 0.61 / (x - 0.47) + 1.19, np.nan)


def kewley01_sii(log_sii_ha) -> np.ndarray:
    """K01 maximum-starburst line in the [SII] BPT: 0.72/(x - 0.32) + 1.30 (x < 0.32)."""
    x = np.asarray(log_sii_ha, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(x < 0.32, 0.72 / (x - 0.32) + 1.30, np.nan)


def kewley01_oi(log_oi_ha) -> np.ndarray:
    """K01 maximum-starburst line in the [OI] BPT: 0.73/(x + 0.59) + 1.33 (x < -0.59)."""
    x = np.asarray(log_oi_ha, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(x < -0.59, 0.73 / (x + 0.59) + 1.33, np.nan)


BPT_CLASSES = ("star-forming", "composite", "AGN")

#: log([NII]/Halpha) where the K03 and K01 curves cross: left of it K03 runs ABOVE K01, so K03
#: no longer bounds anything (solve 0.61/(x - 0.05) + 1.30 = 0.61/(x - 0.47) + 1.19).
K03_K01_CROSSING = float(0.26 - np.sqrt(0.26**2 - (0.05 * 0.47 - 0.61 * 0.42 / 0.11)))


def above_kewley01_nii(log_nii_ha, log_oiii_hb) -> np.ndarray:
    """True where a point lies on or above the K01 line in the [NII] BPT diagram (every point
    right of its asymptote, x >= 0.47, does). ``-inf`` stands for a ratio known only to be
    small (an upper limit on the numerator); NaN is never above.
    """
    x = np.asarray(log_nii_ha, dtype=float)
    y = np.asarray(log_oiii_hb, dtype=float)
    with np.errstate(invalid="ignore"):
        return (x >= 0.47) | ((x < 0.47) & (y >= kewley01_nii(np.minimum(x, 0.4699))))


def bpt_class(log_nii_ha, log_oiii_hb) -> np.ndarray:
    """Classify points in the [NII] BPT diagram: 0 star-forming (below both K03 and K01),
    1 composite (below K01 but not below K03), 2 AGN (on or above K01); -1 where a ratio is
    not finite.

    Left of :data:`K03_K01_CROSSING` (log [NII]/Halpha < -1.28) the K03 curve lies above K01, so
    a point between them is above the maximum-starburst line: class 2, as GAME's flag
    (:func:`above_kewley01_nii`) says, not star-forming.
    """
    x = np.asarray(log_nii_ha, dtype=float)
    y = np.asarray(log_oiii_hb, dtype=float)
    above_k01 = above_kewley01_nii(x, y)
    below_k03 = (x < 0.05) & (y < kauffmann03(np.minimum(x, 0.0499)))
    cls = np.where(above_k01, 2, np.where(below_k03, 0, 1))
    return np.where(np.isfinite(x) & np.isfinite(y), cls, -1)


# ------------------------------------------------- Pilyugin & Grebel 2016 (R and S calibrations)

#: Fixed atomic ratios that turn the one measured line of each doublet into the doublet's sum:
#: [OIII] 5007/4959 = 2.98 (Storey & Zeippen 2000, MNRAS 312, 813) and [NII] 6584/6548 = 2.94
#: (Acker et al. 1989); ``course_utils.library.DERIVED_LINES`` and the Cloudy reader use them too.
OIII_5007_4959 = 2.98
NII_6584_6548 = 2.94

#: Pilyugin & Grebel 2016 (MNRAS 457, 3678; arXiv:1601.08217) coefficients a1..a6 of
#: 12+log(O/H) = a1 + a2 log(R3/X) + a3 log N2 + (a4 + a5 log(R3/X) + a6 log N2) log X,
#: with X = R2 for the R calibration (their eqs. 4 and 5) and X = S2 for the S calibration
#: (eqs. 6 and 7); "upper" for log N2 >= -0.6, "lower" below. The values were checked
#: against two independent public implementations of the paper's equations (the pyOxy
#: calibrators and a course's strong-line module), which agree digit for digit.
PG16 = {
    "R": {"upper": (8.589, 0.022, 0.399, -0.137, 0.164, 0.589),
          "lower": (7.932, 0.944, 0.695, 0.970, -0.291, -0.019)},
    "S": {"upper": (8.424, 0.030, 0.751, -0.349, 0.182, 0.508),
          "lower": (8.072, 0.789, 0.726, 1.069, -0.170, 0.022)},
}
#: log N2 that separates the upper (metal-rich) from the lower branch (Pilyugin & Grebel 2016).
PG16_BRANCH_LOG_N2 = -0.6


def pg16_indices(oiii5007, nii6584, hbeta, oii3727=None, sii6716_31=None) -> dict[str, np.ndarray]:
    """The line indices of Pilyugin & Grebel 2016, all relative to H-beta.

    R2 = [OII]3727+3729, R3 = [OIII]4959+5007, N2 = [NII]6548+6584 and S2 = [SII]6717+6731.
    The doublets' weaker lines are not needed: [OIII]4959 = 5007 / :data:`OIII_5007_4959` and
    [NII]6548 = 6584 / :data:`NII_6584_6548` are fixed by atomic physics, so R3 and N2 follow
    from 5007 and 6584 alone. Note that N2 here is a sum over H-beta, not the PP04 N2 index.
    """
    hb = np.asarray(hbeta, dtype=float)
    out = {"R3": np.asarray(oiii5007, dtype=float) * (1 + 1 / OIII_5007_4959) / hb,
           "N2": np.asarray(nii6584, dtype=float) * (1 + 1 / NII_6584_6548) / hb}
    if oii3727 is not None:
        out["R2"] = np.asarray(oii3727, dtype=float) / hb
    if sii6716_31 is not None:
        out["S2"] = np.asarray(sii6716_31, dtype=float) / hb
    return out


def _pg16(which: str, r3, n2_sum, x) -> np.ndarray:
    log_n2 = _log_ratio(n2_sum, 1.0)
    log_x = _log_ratio(x, 1.0)
    log_r3x = _log_ratio(r3, x)
    out = {}
    for branch, (a1, a2, a3, a4, a5, a6) in PG16[which].items():
        out[branch] = a1 + a2 * log_r3x + a3 * log_n2 + (a4 + a5 * log_r3x + a6 * log_n2) * log_x
    with np.errstate(invalid="ignore"):
        return np.where(log_n2 >= PG16_BRANCH_LOG_N2, out["upper"], out["lower"])


def pg16_r(r2, r3, n2_sum) -> np.ndarray:
    """Pilyugin & Grebel 2016 R calibration: 12+log(O/H) from R2, R3 and N2 (see :data:`PG16`).

    Arguments are the doublet sums over H-beta of :func:`pg16_indices` (R2 = [OII]3727+3729,
    R3 = [OIII]4959+5007, N2 = [NII]6548+6584); NaN where an index is not positive. The
    calibration was fitted on the direct-method abundances of 313 reference HII regions
    (Pilyugin & Grebel 2016): it is empirical, on the electron-temperature scale.
    """
    return _pg16("R", r3, n2_sum, r2)


def pg16_s(s2, r3, n2_sum) -> np.ndarray:
    """Pilyugin & Grebel 2016 S calibration: 12+log(O/H) from S2 = [SII]6717+6731 / H-beta,
    R3 and N2 (as :func:`pg16_r`, with S2 in place of R2; needs no [OII], so no blue lines)."""
    return _pg16("S", r3, n2_sum, s2)
