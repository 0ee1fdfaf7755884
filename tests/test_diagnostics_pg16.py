"""Pilyugin & Grebel 2016 R and S calibrations: values worked out by hand from the paper's formulae."""

import numpy as np
import pytest

from course_utils import diagnostics as d
from course_utils.library import DERIVED_LINES
from course_utils.observations import compare_to_direct, load_hii_regions


def test_doublet_sums_use_the_atomic_ratios_of_the_library():
    assert 1 / DERIVED_LINES["OIII4959"][1] == pytest.approx(d.OIII_5007_4959)
    assert 1 / DERIVED_LINES["NII6548"][1] == pytest.approx(d.NII_6584_6548)
    idx = d.pg16_indices(oiii5007=298.0, nii6584=294.0, hbeta=100.0, oii3727=250.0, sii6716_31=40.0)
    # 4959 = 298 / 2.98 = 100 and 6548 = 294 / 2.94 = 100, so the sums are 398 and 394
    assert idx["R3"] == pytest.approx(3.98)
    assert idx["N2"] == pytest.approx(3.94)
    assert idx["R2"] == pytest.approx(2.5)
    assert idx["S2"] == pytest.approx(0.4)


def test_r_calibration_on_both_branches_by_hand():
    # upper branch, log N2 = 0: 8.589 + 0.022 log 1.5 + (-0.137 + 0.164 log 1.5) log 2
    assert d.pg16_r(2.0, 3.0, 1.0) == pytest.approx(8.56033, abs=1e-5)
    # lower branch, log N2 = -1: 7.932 + 0.944 log 1.25 - 0.695 + (0.970 - 0.291 log 1.25 + 0.019) log 4
    assert d.pg16_r(4.0, 5.0, 0.1) == pytest.approx(7.90694, abs=1e-5)


def test_s_calibration_on_both_branches_by_hand():
    # upper: 8.424 + 0.030 log 4 + 0.751 log 0.5 + (-0.349 + 0.182 log 4 + 0.508 log 0.5) log 0.5
    assert d.pg16_s(0.5, 2.0, 0.5) == pytest.approx(8.33410, abs=1e-5)
    # lower: 8.072 + 0.789 log 30 - 0.726 + (1.069 - 0.170 log 30 - 0.022) log 0.2
    assert d.pg16_s(0.2, 6.0, 0.1) == pytest.approx(7.95515, abs=1e-5)


def test_branch_switch_at_log_n2_minus_0_6_and_nan_for_missing_lines():
    n2 = np.array([10**-0.6, 10**-0.6001])
    upper = d.PG16["R"]["upper"][0] + d.PG16["R"]["upper"][2] * -0.6  # R2 = R3 = 1: only a1 + a3 log N2
    lower = d.PG16["R"]["lower"][0] + d.PG16["R"]["lower"][2] * -0.6001
    np.testing.assert_allclose(d.pg16_r(np.ones(2), np.ones(2), n2), [upper, lower], atol=1e-9)
    assert np.isnan(d.pg16_r(0.0, 3.0, 1.0)) and np.isnan(d.pg16_s(1.0, 3.0, np.nan))


def test_on_the_course_sample_they_match_the_direct_method_as_published():
    # the strong rows overlap the reference regions the calibrations were fitted on: the
    # scatter about the direct method is ~0.14 dex (measured independently on these rows)
    sample = load_hii_regions()
    strong = sample.select(~sample.extended & sample.usable)
    I = strong.intensities
    idx = d.pg16_indices(I["OIII5007"], I["NII6583"], I["Hbeta"], I["OII3726_29"], I["SII6716_31"])
    for oh in (d.pg16_r(idx["R2"], idx["R3"], idx["N2"]), d.pg16_s(idx["S2"], idx["R3"], idx["N2"])):
        offset, scatter, n = compare_to_direct(oh, strong.truth["OH_Te"])
        assert n == len(strong)
        assert abs(offset) < 0.05 and 0.12 < scatter < 0.16
