"""The direct method (electron temperature and density from line ratios, with PyNeb) and U.

Two classical thermometers/densitometers of ionized gas (Osterbrock & Ferland 2006, ch. 5):

- [OIII] (4959 + 5007) / 4363 falls steeply with electron temperature, because 4363 comes
  from a level ~2.8 eV higher than the 4959/5007 upper level;
- [SII] 6716 / 6731 falls with electron density between ~1e2 and ~1e4 cm^-3, where
  collisions start to de-excite the two upper levels, which have different lifetimes.

The atomic data and the level-population solver are PyNeb's (Luridiana, Morisset &
Shaw 2015, A&A 573, A42), with its default atomic data.

Also the ionization parameter U = Q(H) / (4 pi R^2 n_H c) that labels photoionization models, and
a blackbody estimate of Q(H), the rate of hydrogen-ionizing photons of a star.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: PyNeb expression of the [OIII] temperature-sensitive ratio.
OIII_TEMPERATURE_RATIO = "(L(4959)+L(5007))/L(4363)"


@lru_cache(maxsize=None)
def _atom(element: str, stage: int):
    import pyneb as pn  # imported on first use: it takes a second or two

    return pn.Atom(element, stage)


def _positive(values, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if np.any(~(values > 0)):
        raise ValueError(f"{name} must be positive and finite, got {values[~(values > 0)][:5]}")
    return values


def oiii_ratio(temperature, density: float = 100.0) -> np.ndarray:
    """[OIII] (4959 + 5007) / 4363 emissivity ratio at the given electron temperature.

    Parameters
    ----------
    temperature
        Electron temperature in K (scalar or array).
    density
        Electron density in cm^-3; the ratio barely depends on it below ~1e4 cm^-3.
    """
    t = _positive(temperature, "temperature")
    o3 = _atom("O", 3)
    strong = o3.getEmissivity(t, density, wave=4959) + o3.getEmissivity(t, density, wave=5007)
    return strong / o3.getEmissivity(t, density, wave=4363)


def sii_ratio(density, temperature: float = 1.0e4) -> np.ndarray:
    """[SII] 6716 / 6731 emissivity ratio at the given electron density (cm^-3)."""
    n = _positive(density, "density")
    s2 = _atom("S", 2)
    return s2.getEmissivity(temperature, n, wave=6716) / s2.getEmissivity(temperature, n, wave=6731)


def te_oiii(ratio, density: float = 100.0) -> np.ndarray:
    """Electron temperature (K) from the [OIII] (4959 + 5007) / 4363 ratio.

    Parameters
    ----------
    ratio
        Observed, dereddened (4959 + 5007) / 4363 flux ratio (scalar or array).
    density
        Electron density in cm^-3 assumed for the level populations.

    Returns
    -------
    numpy.ndarray
        Temperature in K; NaN where PyNeb finds no solution (ratios outside ~30-3000).
    """
    r = _positive(ratio, "ratio")
    return np.asarray(_atom("O", 3).getTemDen(r, den=density, to_eval=OIII_TEMPERATURE_RATIO),
                      dtype=float)


def ne_sii(ratio, temperature: float = 1.0e4) -> np.ndarray:
    """Electron density (cm^-3) from the [SII] 6716 / 6731 ratio.

    Returns NaN outside the ratio's sensitive range: above the low-density limit
    (~1.45, where the ratio only gives an upper limit on the density) and below the
    high-density limit (~0.45).
    """
    r = _positive(ratio, "ratio")
    return np.asarray(_atom("S", 2).getTemDen(r, tem=temperature, wave1=6716, wave2=6731),
                      dtype=float)


def t2_from_t3(t3) -> np.ndarray:
    """O+ zone temperature from the O++ one: T(O+) = 0.7 T(O++) + 3000 K.

    The linear relation of Campbell, Terlevich & Melnick (1986) as used by Garnett (1992,
    AJ 103, 1330), from photoionization models; it is needed when [OII]7320,7330 are not
    measured.
    """
    return 0.7 * np.asarray(t3, dtype=float) + 3000.0


def oxygen_abundance(oii3727, oiii4959, oiii5007, oiii4363, density: float = 100.0,
                     hbeta: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    """Direct-method T_e([OIII]) and 12+log(O/H) = 12+log(O+/H+ + O++/H+).

    Parameters
    ----------
    oii3727, oiii4959, oiii5007, oiii4363
        Dereddened intensities on the scale where H-beta = ``hbeta``; ``oii3727`` is the sum
        of the [OII] 3726 and 3729 lines.
    density
        Electron density (cm^-3) assumed for both zones.

    Returns
    -------
    te, oh
        T_e([OIII]) in K from (4959 + 5007)/4363, and 12+log(O/H), with the O+ zone at
        :func:`t2_from_t3`; NaN where PyNeb finds no temperature.
    """
    i3727, i4959, i5007, i4363 = (_positive(v, name) for v, name in (
        (oii3727, "[OII]3727"), (oiii4959, "[OIII]4959"), (oiii5007, "[OIII]5007"),
        (oiii4363, "[OIII]4363")))
    te = te_oiii((i4959 + i5007) / i4363, density)
    ok = np.isfinite(te)
    oh = np.full(np.broadcast(te).shape, np.nan)
    if ok.any():
        t3 = np.where(ok, te, 1.0e4)  # placeholder where no temperature; masked below
        den = np.full(np.shape(t3), float(density))  # PyNeb wants matching shapes
        o3 = _atom("O", 3).getIonAbundance(i4959 + i5007, t3, den,
                                            to_eval="L(4959)+L(5007)", Hbeta=hbeta)
        o2 = _atom("O", 2).getIonAbundance(i3727, t2_from_t3(t3), den,
                                            to_eval="L(3726)+L(3729)", Hbeta=hbeta)
        oh = np.where(ok, 12.0 + np.log10(np.asarray(o3) + np.asarray(o2)), np.nan)
    return te, oh


# --- Ionization parameter --------------------------------------------------------------------


def hydrogen_ionization_energy():
    """Ionization energy of hydrogen from its ground state (13.598 eV), from PyNeb's table."""
    from astropy import units as u
    from pyneb.utils.physics import IP

    return IP["H"][0] * u.eV


def ionizing_photon_rate(t_eff, radius, threshold=None):
    """Rate Q of photons above ``threshold`` emitted by a spherical blackbody, in s^-1.

    Q = 4 pi R^2 * integral over nu > nu_0 of pi B_nu / (h nu) dnu
      = 8 pi^2 R^2 / c^2 * (k T / h)^3 * integral_{x0}^inf x^2 / (e^x - 1) dx,   x0 = h nu_0 / k T.

    A blackbody ignores the absorption edges of a real stellar atmosphere: the result is an
    estimate of the order of magnitude, not a model-atmosphere value.

    Parameters
    ----------
    t_eff : Quantity
        Effective temperature (K).
    radius : Quantity
        Stellar radius (any length unit).
    threshold : Quantity, optional
        Lowest photon energy counted; default the ionization energy of hydrogen, which gives
        Q(H), the rate of hydrogen-ionizing photons.
    """
    from astropy import constants as const
    from astropy import units as u
    from scipy import integrate

    t_eff, radius = u.Quantity(t_eff, u.K), u.Quantity(radius)
    if not (t_eff.value > 0 and radius.value > 0):
        raise ValueError(f"t_eff and radius must be positive, got {t_eff} and {radius}")
    threshold = hydrogen_ionization_energy() if threshold is None else u.Quantity(threshold, u.eV)
    x0 = float((threshold / (const.k_B * t_eff)).decompose())
    with np.errstate(over="ignore"):  # e^x overflows to inf far in the tail: the integrand is 0 there
        integral, _ = integrate.quad(lambda x: x * x / np.expm1(x), x0, np.inf)
    rate = 8 * np.pi**2 * radius**2 / const.c**2 * (const.k_B * t_eff / const.h) ** 3 * integral
    return rate.to(1 / u.s)


def ionization_parameter(q_h, radius, density):
    """Dimensionless ionization parameter U = Q(H) / (4 pi R^2 n_H c).

    The number density of hydrogen-ionizing photons arriving at distance R from a source that
    emits Q(H) of them per second, Q(H) / (4 pi R^2 c), divided by the hydrogen number density
    n_H (Stasinska 2002, "Abundance determinations in HII regions and planetary nebulae",
    arXiv:astro-ph/0207500;
    R is the Stromgren radius or the distance from the star to the gas).

    Parameters
    ----------
    q_h : Quantity
        Rate of hydrogen-ionizing photons (s^-1).
    radius : Quantity
        Distance from the source (any length unit).
    density : Quantity
        Hydrogen number density n_H (any inverse volume unit). Not the electron density: where
        helium is ionized, n_e is larger than n_H.

    Returns
    -------
    numpy.ndarray
        U (dimensionless); log10(U) is the "log U" of photoionization grids.
    """
    from astropy import constants as const
    from astropy import units as u

    q_h = u.Quantity(q_h, 1 / u.s)
    radius, density = u.Quantity(radius), u.Quantity(density)
    for name, value in (("q_h", q_h), ("radius", radius), ("density", density)):
        if np.any(~(np.asarray(value.value) > 0)):
            raise ValueError(f"{name} must be positive and finite, got {value}")
    u_par = q_h / (4 * np.pi * radius**2 * density * const.c)
    return np.asarray(u_par.to_value(u.dimensionless_unscaled))
