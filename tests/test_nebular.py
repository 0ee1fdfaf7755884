"""Direct-method temperatures and densities against PyNeb 1.1.32's tabulated values.

Reference numbers: PyNeb (Luridiana et al. 2015) with its default atomic data, evaluated
independently of course_utils; Case B / low-density limits from Osterbrock & Ferland 2006.
"""

import numpy as np
import pytest

from course_utils import nebular


def test_oiii_temperature_reproduces_pyneb_anchor_values():
    ratios = np.array([50.0, 100.0, 200.0, 300.0, 600.0])
    expected = np.array([17524.0, 12787.0, 10074.0, 8962.0, 7541.0])
    assert np.allclose(nebular.te_oiii(ratios), expected, rtol=2e-4)


def test_oiii_ratio_at_10000_k_and_round_trip():
    assert np.isclose(nebular.oiii_ratio(1.0e4), 204.9, rtol=1e-3)
    t = np.array([8000.0, 12000.0, 16000.0])
    assert np.allclose(nebular.te_oiii(nebular.oiii_ratio(t)), t, rtol=1e-3)


def test_sii_ratio_across_densities_and_limits():
    n = np.array([1.0, 1e2, 1e3, 1e4, 1e5])
    assert np.allclose(nebular.sii_ratio(n), [1.454, 1.351, 0.914, 0.520, 0.447], atol=1.5e-3)
    assert np.allclose(nebular.ne_sii([1.2, 0.8]), [294.0, 1589.0], rtol=2e-3)


def test_density_above_low_density_limit_is_nan():
    # above the low-density limit (1.455) a ratio gives no density
    assert np.isnan(nebular.ne_sii(1.6))


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan])
def test_non_positive_ratio_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="positive"):
        nebular.te_oiii(bad)
