"""Strong-line calibrations and BPT lines against the published formulas' own numbers."""

import numpy as np

from course_utils import diagnostics as d


def test_pp04_values_and_validity_range():
    # PP04: N2 = -1 -> 8.90 - 0.57 = 8.33; O3N2 = 1 -> 8.73 - 0.32 = 8.41
    assert np.isclose(d.pp04_n2(-1.0), 8.33)
    assert np.isclose(d.pp04_o3n2(1.0), 8.41)
    assert np.isnan(d.pp04_n2(-0.1)) and np.isnan(d.pp04_o3n2(2.5))
    assert np.isclose(d.pp04_n2(-0.1, clip=False), 8.843)


def test_ratios_from_line_fluxes():
    assert np.isclose(d.n2(1.0, 10.0), -1.0)
    assert np.isclose(d.o3n2(3.0, 1.0, 1.0, 10.0), np.log10(3.0) + 1.0)
    assert np.isnan(d.n2(0.0, 1.0))  # a missing line gives NaN, not -inf


def test_curti20_inversion_recovers_metallicity_on_monotonic_branch():
    oh = np.array([7.9, 8.2, 8.5, 8.8])
    r = d.curti20_log_ratio(oh, "O3N2")
    assert np.allclose(d.curti20(r, "O3N2"), oh, atol=1e-3)


def test_bpt_lines_and_classes():
    # K03 and K01 meet the x axis where their formulas say
    assert np.isclose(d.kauffmann03(-0.5), 0.61 / (-0.55) + 1.30)
    assert np.isnan(d.kauffmann03(0.1))
    assert np.isclose(d.kewley01_nii(0.0), 0.61 / (-0.47) + 1.19)
    # below both lines, between them, above K01
    x = np.array([-1.0, -0.2, 0.3, np.nan])
    y = np.array([-0.5, 0.0, 1.0, 0.0])
    assert list(d.bpt_class(x, y)) == [0, 1, 2, -1]


def test_above_kewley01_treats_minus_infinity_as_a_small_ratio():
    # K01 (Kewley et al. 2001): y = 0.61 / (x - 0.47) + 1.19, tending to 1.19 as x -> -inf;
    # right of its asymptote x = 0.47 every point is above it
    x = np.array([-0.5, -0.5, 0.5, -np.inf, -np.inf, np.nan, 0.0])
    y = np.array([1.0, 0.0, -1.0, 1.5, 1.0, 5.0, -np.inf])
    assert list(d.above_kewley01_nii(x, y)) == [True, False, True, True, False, False, False]
    # on finite points it is exactly the AGN class of bpt_class: GAME's flag 2 and the BPT
    # class never disagree, also where K03 runs above K01 (log N2 < -1.28)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-3, 1, 4000), rng.uniform(-1.5, 1.5, 4000)
    above, cls = d.above_kewley01_nii(x, y), d.bpt_class(x, y)
    assert np.array_equal(cls == 2, above)
    assert np.any(above & (y < d.kauffmann03(x)))  # the sample does reach between the crossed curves


def test_star_forming_means_below_both_curves():
    # at log N2 = -2, K01 gives 0.61/(-2.47) + 1.19 = 0.943 and K03 gives 0.61/(-2.05) + 1.30 = 1.002:
    # y = 0.97 is below K03 but above the maximum-starburst line, so it is not star-forming
    # (J1011+1947 of notebook 10 lies there)
    assert d.kewley01_nii(-2.0) < 0.97 < d.kauffmann03(-2.0)
    assert d.bpt_class(-2.0, 0.97) == 2
    assert d.above_kewley01_nii(-2.0, 0.97)
    assert d.bpt_class(-2.0, 0.90) == 0  # below both
    # the curves cross where their formulas are equal
    c = d.K03_K01_CROSSING
    assert np.isclose(d.kauffmann03(c), d.kewley01_nii(c)) and -1.29 < c < -1.27
    assert d.kauffmann03(c - 0.1) > d.kewley01_nii(c - 0.1)
    assert d.kauffmann03(c + 0.1) < d.kewley01_nii(c + 0.1)
