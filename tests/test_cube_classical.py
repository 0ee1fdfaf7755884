"""Classical maps (Balmer decrement, [SII] density, auroral-line temperatures, strong-line
O/H) recover known physics: line maps are built from PyNeb emissivities and attenuation
curves, then read back."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.wcs import WCS

from course_utils import diagnostics
from course_utils.cube import (DETECTED, UPPER_LIMIT, LineMaps, balmer_av, deredden,
                               sii_density, strong_line_oh, te_nii, te_siii)
from course_utils.cube.classical import CASE_B_HALPHA_HBETA
from course_utils.library import extinction_curve, line_table

SHAPE = (3, 4)
A_V = np.linspace(0.0, 5.0, 12).reshape(SHAPE)


def _maps(fluxes: dict[str, np.ndarray], a_v=A_V, curve="F99", r_v=3.1, undetected=()):
    """Line maps holding ``fluxes`` (intrinsic) attenuated by ``a_v`` with a curve."""
    lines = list(fluxes)
    wave = line_table(derived=True)["wavelength"][lines].to_numpy()
    k = extinction_curve(wave, curve, r_v)
    flux = np.stack([np.broadcast_to(fluxes[l], SHAPE) * 10 ** (-0.4 * a_v * k[i])
                     for i, l in enumerate(lines)])
    status = np.full(flux.shape, DETECTED, dtype=np.int8)
    for line, spaxel in undetected:
        status[(lines.index(line),) + spaxel] = UPPER_LIMIT
    wcs = WCS(naxis=2)
    return LineMaps(lines, flux, 0.01 * flux, status, np.zeros(SHAPE), np.zeros(SHAPE), wcs,
                    u.Unit("1e-20 erg / (s cm2)"))


def _emissivity(atom, temperature, density, wave):
    return float(atom.getEmissivity(temperature, density, wave=wave))


def test_case_b_decrement_is_pyneb_s():
    import pyneb as pn

    h = pn.RecAtom("H", 1)
    ratio = h.getEmissivity(1e4, 100.0, label="3_2") / h.getEmissivity(1e4, 100.0, label="4_2")
    assert CASE_B_HALPHA_HBETA == pytest.approx(float(ratio), abs=0.005)


@pytest.mark.parametrize("curve, r_v", [("CCM89", 3.1), ("F99", 3.1), ("F99", 4.5)])
def test_balmer_decrement_recovers_a_v_with_the_right_curve(curve, r_v):
    maps = _maps({"Hbeta": 1.0, "Halpha": CASE_B_HALPHA_HBETA}, curve=curve, r_v=r_v,
                 undetected=[("Hbeta", (0, 1))])
    a_v = balmer_av(maps, curve, r_v)
    assert np.isnan(a_v[0, 1])
    np.testing.assert_allclose(np.delete(a_v.ravel(), 1), np.delete(A_V.ravel(), 1), atol=1e-9)


def test_balmer_decrement_with_the_wrong_curve_is_biased_as_expected():
    maps = _maps({"Hbeta": 1.0, "Halpha": CASE_B_HALPHA_HBETA}, curve="F99", r_v=3.1)
    ccm = balmer_av(maps)  # the library's CCM89, R_V = 3.1
    wave = line_table()["wavelength"][["Hbeta", "Halpha"]].to_numpy()
    k_f99 = np.subtract(*extinction_curve(wave, "F99", 3.1))
    k_ccm = np.subtract(*extinction_curve(wave, "CCM89", 3.1))
    np.testing.assert_allclose(ccm, A_V * k_f99 / k_ccm, atol=1e-9)
    assert k_f99 / k_ccm > 1.1  # CCM89 overestimates A_V by > 10% on an F99 screen


def test_balmer_decrement_takes_an_r_v_map():
    r_v = np.linspace(3.1, 4.5, 12).reshape(SHAPE)
    wave = line_table()["wavelength"][["Hbeta", "Halpha"]].to_numpy()
    k = extinction_curve(wave, "F99", r_v.ravel()).T.reshape((2,) + SHAPE)
    flux = np.stack([10 ** (-0.4 * A_V * k[0]), CASE_B_HALPHA_HBETA * 10 ** (-0.4 * A_V * k[1])])
    maps = _maps({"Hbeta": 1.0, "Halpha": 1.0}, a_v=np.zeros(SHAPE))
    maps.flux[:] = flux
    np.testing.assert_allclose(balmer_av(maps, "F99", r_v), A_V, atol=1e-6)


def test_dereddening_undoes_the_attenuation():
    maps = _maps({"Hbeta": 1.0, "SIII9069": 0.3}, curve="F99", r_v=3.1)
    fluxes = deredden(maps, ["Hbeta", "SIII9069"], A_V, "F99", 3.1)
    np.testing.assert_allclose(fluxes["Hbeta"], 1.0)
    np.testing.assert_allclose(fluxes["SIII9069"], 0.3)


def test_sii_density_matches_pyneb_anchor_values():
    # [SII] 6716/6731 at 10^4 K (PyNeb 1.1.32): 1.2 -> 294 cm^-3, 0.8 -> 1589 cm^-3
    ratio = np.full(SHAPE, 1.2)
    ratio[1] = 0.8
    ratio[2, 3] = 1.6  # above the low-density limit: no density
    maps = _maps({"SII6716": ratio, "SII6731": 1.0}, a_v=np.zeros(SHAPE),
                 undetected=[("SII6731", (2, 0))])
    n_e = sii_density(maps)
    assert n_e[0, 0] == pytest.approx(294, rel=0.01) and n_e[1, 0] == pytest.approx(1589, rel=0.01)
    assert np.isnan(n_e[2, 0]) and np.isnan(n_e[2, 3])


@pytest.mark.parametrize("element, stage, strong, auroral, names, func", [
    ("N", 2, 6584, 5755, ("NII6583", "NII5755"), te_nii),
    ("S", 3, 9069, 6312, ("SIII9069", "SIII6312"), te_siii),
])
def test_auroral_line_temperatures(element, stage, strong, auroral, names, func):
    import pyneb as pn

    atom = pn.Atom(element, stage)
    temperature = np.linspace(7000.0, 14000.0, 12).reshape(SHAPE)
    ratio = np.vectorize(lambda t: _emissivity(atom, t, 100.0, strong)
                         / _emissivity(atom, t, 100.0, auroral))(temperature)
    maps = _maps({names[0]: ratio, names[1]: 1.0}, curve="F99", r_v=3.1,
                 undetected=[(names[1], (0, 0))])
    te = func(maps, A_V, "F99", 3.1, density=100.0)
    assert np.isnan(te[0, 0])
    np.testing.assert_allclose(te.ravel()[1:], temperature.ravel()[1:], rtol=0.005)
    # not correcting for the dust (A_V up to 5 mag) gives a wrong temperature
    raw = func(maps, np.zeros(SHAPE), "F99", 3.1, density=100.0)
    assert np.abs(raw[-1, -1] - temperature[-1, -1]) > 500


def test_strong_line_metallicities_follow_the_calibrations():
    rng = np.random.default_rng(0)
    f = {l: rng.uniform(0.5, 2.0, SHAPE) for l in ("Hbeta", "OIII5007", "Halpha", "NII6583",
                                                    "SII6716", "SII6731")}
    f["Halpha"] *= 10  # N2 inside PP04's validity range
    maps = _maps(f, a_v=np.zeros(SHAPE), undetected=[("NII6583", (0, 0))])
    oh = strong_line_oh(maps, "D16")
    expected = diagnostics.dopita16(f["NII6583"], f["SII6716"], f["SII6731"], f["Halpha"])
    assert np.isnan(oh[0, 0])
    np.testing.assert_allclose(oh.ravel()[1:], expected.ravel()[1:])
    n2 = diagnostics.n2(f["NII6583"], f["Halpha"])
    np.testing.assert_allclose(strong_line_oh(maps, "PP04 N2").ravel()[1:],
                               diagnostics.pp04_n2(n2).ravel()[1:])
    with pytest.raises(ValueError, match="method"):
        strong_line_oh(maps, "R23")
    with pytest.raises(KeyError, match="SIII9069"):
        te_siii(maps, A_V)


def test_tabulated_densitometer_agrees_with_pyneb_solver():
    # the maps invert PyNeb's emissivities by interpolation; PyNeb's own solver (getTemDen,
    # tolerance 1e-3 in the ratio) must agree, and the inversion must reproduce the ratio
    from course_utils import nebular

    ratio = np.linspace(0.5, 1.44, 12).reshape(SHAPE)
    maps = _maps({"SII6716": ratio, "SII6731": 1.0}, a_v=np.zeros(SHAPE))
    n_e = sii_density(maps)
    np.testing.assert_allclose(nebular.sii_ratio(n_e.ravel()), ratio.ravel(), atol=1e-5)
    solver = nebular.ne_sii(ratio.ravel())
    np.testing.assert_allclose(n_e.ravel()[:-2], solver[:-2], rtol=0.005)  # off the plateau
    np.testing.assert_allclose(n_e.ravel()[-2:], solver[-2:], rtol=0.05)   # near the limit


@pytest.mark.parametrize("func, element, stage, strong, auroral, names", [
    (te_nii, "N", 2, 6584, 5755, ("NII6583", "NII5755")),
    (te_siii, "S", 3, 9069, 6312, ("SIII9069", "SIII6312")),
])
def test_auroral_temperature_with_a_density_map(func, element, stage, strong, auroral, names):
    import pyneb as pn

    atom = pn.Atom(element, stage)
    temperature = np.linspace(8000.0, 16000.0, 12).reshape(SHAPE)
    density = np.geomspace(10.0, 3.0e4, 12).reshape(SHAPE)
    density[0, 1] = np.nan  # no density there: no temperature
    ratio = np.vectorize(lambda t, n: _emissivity(atom, t, n if n > 0 else 100.0, strong)
                         / _emissivity(atom, t, n if n > 0 else 100.0, auroral))(temperature, density)
    maps = _maps({names[0]: ratio, names[1]: 1.0}, a_v=np.zeros(SHAPE))
    te = func(maps, np.zeros(SHAPE), density=density)
    assert np.isnan(te[0, 1])
    np.testing.assert_allclose(np.delete(te.ravel(), 1), np.delete(temperature.ravel(), 1),
                               rtol=0.003)
    # at one density for all, the same as PyNeb's solver
    solver = {"N": nebular_te_nii, "S": nebular_te_siii}[element]
    flat = func(maps, np.zeros(SHAPE), density=100.0)
    np.testing.assert_allclose(flat.ravel(), solver(ratio.ravel(), 100.0), rtol=0.003)


def nebular_te_nii(ratio, density):
    from course_utils import nebular

    return nebular.te_nii(ratio, density)


def nebular_te_siii(ratio, density):
    from course_utils import nebular

    return nebular.te_siii(ratio, density)
