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


def test_oxygen_abundance_round_trip_through_pyneb_emissivities():
    """Intensities made from known ionic abundances and temperatures with PyNeb's emissivities
    (independently of the function) give those abundances and the O++ temperature back."""
    import pyneb as pn
    o3, o2, h1 = pn.Atom("O", 3), pn.Atom("O", 2), pn.RecAtom("H", 1)
    t3, den = np.array([9000.0, 12000.0, 19000.0]), 100.0
    t2 = 0.7 * t3 + 3000.0
    opp, op = np.array([1e-4, 8e-5, 2e-5]), np.array([1e-4, 3e-5, 5e-6])
    hb3, hb2 = (h1.getEmissivity(t, den, label="4_2") for t in (t3, t2))
    line = lambda atom, t, w: atom.getEmissivity(t, den, wave=w)
    i5007 = 100 * opp * line(o3, t3, 5007) / hb3
    i4959 = 100 * opp * line(o3, t3, 4959) / hb3
    i4363 = 100 * opp * line(o3, t3, 4363) / hb3
    i3727 = 100 * op * (line(o2, t2, 3726) + line(o2, t2, 3729)) / hb2
    te, oh = nebular.oxygen_abundance(i3727, i4959, i5007, i4363, density=den)
    assert np.allclose(te, t3, rtol=2e-3)
    assert np.allclose(oh, 12 + np.log10(opp + op), atol=0.005)


def test_oxygen_abundance_is_nan_without_a_temperature_and_rejects_bad_lines():
    te, oh = nebular.oxygen_abundance([100.0, 100.0], [100.0, 100.0], [300.0, 300.0],
                                      [3.0, 80.0])  # ratio 5: hotter than any tabulated temperature
    assert np.isfinite(te[0]) and np.isfinite(oh[0]) and np.isnan(te[1]) and np.isnan(oh[1])
    with pytest.raises(ValueError, match=r"\[OIII\]4363"):
        nebular.oxygen_abundance(100.0, 100.0, 300.0, 0.0)


# --- ionization parameter and ionizing photons -------------------------------------------------

from astropy import constants as const  # noqa: E402
from astropy import units as u  # noqa: E402
from scipy.special import zeta  # noqa: E402


def test_ionization_parameter_is_photon_density_over_hydrogen_density():
    q, r, n = 1e49 / u.s, 5 * u.pc, 100 / u.cm**3
    photon_density = q / (4 * np.pi * r**2 * const.c)
    assert np.isclose(nebular.ionization_parameter(q, r, n), (photon_density / n).decompose().value)
    # the same physical radius in other units gives the same U
    assert np.isclose(nebular.ionization_parameter(q, r.to(u.cm), n), nebular.ionization_parameter(q, r, n))


def test_ionization_parameter_scales_as_inverse_square_radius_and_inverse_density():
    q = 1e49 / u.s
    u1 = nebular.ionization_parameter(q, 1 * u.pc, 10 / u.cm**3)
    assert np.isclose(nebular.ionization_parameter(q, 2 * u.pc, 10 / u.cm**3), u1 / 4)
    assert np.isclose(nebular.ionization_parameter(q, 1 * u.pc, 100 / u.cm**3), u1 / 10)
    assert np.isclose(nebular.ionization_parameter(2 * q, 1 * u.pc, 10 / u.cm**3), 2 * u1)


@pytest.mark.parametrize("bad", [0.0, -5.0, np.nan])
def test_ionization_parameter_rejects_non_positive_input(bad):
    with pytest.raises(ValueError, match="radius"):
        nebular.ionization_parameter(1e49 / u.s, bad * u.pc, 100 / u.cm**3)


def test_blackbody_photon_rate_with_no_threshold_is_the_closed_form():
    # all photons of a blackbody sphere: 4 pi R^2 * 4 pi zeta(3) (kT/h)^3 / c^2
    t, r = 30000 * u.K, 7 * u.Rsun
    expected = 4 * np.pi * r**2 * 4 * np.pi * zeta(3) * (const.k_B * t / const.h) ** 3 / const.c**2
    got = nebular.ionizing_photon_rate(t, r, threshold=0 * u.eV)
    assert np.isclose(got.to_value(1 / u.s), expected.to_value(1 / u.s), rtol=1e-8)


def test_hydrogen_ionizing_photons_are_a_fraction_that_grows_with_temperature():
    r = 10 * u.Rsun
    fractions = [float(nebular.ionizing_photon_rate(t * u.K, r)
                       / nebular.ionizing_photon_rate(t * u.K, r, threshold=0 * u.eV))
                 for t in (20000, 30000, 40000, 50000)]
    assert all(0 < f < 1 for f in fractions)
    assert np.all(np.diff(fractions) > 0)
    assert np.isclose(nebular.hydrogen_ionization_energy().to_value(u.eV), 13.598, atol=1e-3)
