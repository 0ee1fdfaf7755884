"""Henize 2-10, the galaxy: position, redshift, distance and published measurements.

Facts about the real galaxy, kept apart from both the synthetic cube that imitates it
(:mod:`~course_utils.cube.synthetic`) and the analysis (:mod:`~course_utils.cube.lines`,
:mod:`~course_utils.cube.maps`, :mod:`~course_utils.cube.pipeline`), which use them only as
defaults: reading and analysing a real cube of Henize 2-10 -- or of another galaxy, by passing
its own redshift and centre -- never depends on the synthetic galaxy.
"""

from __future__ import annotations

import astropy.units as u
from astropy.coordinates import SkyCoord

#: Position (J2000).
HENIZE2_10 = SkyCoord("08h36m15s", "-26d24m34s", frame="icrs")
#: Redshift (cz = 873 km/s).
REDSHIFT = 0.002912
#: Distance used by the course (1 arcsec = 39.9 pc).
DISTANCE = 8.23 * u.Mpc

#: Published measurements from MUSE (Cresci et al. 2017, A&A 604, A101): A_V from the Balmer
#: decrement in knots 1+2, [SII] electron density in knot 4 and elsewhere, and the oxygen
#: abundance of the outer parts (the central knots are super-solar).
CRESCI2017 = {
    "A_V knots 1+2 [mag]": 2.3,
    "n_e knot 4 [cm-3]": 1500.0,
    "n_e elsewhere [cm-3]": 100.0,
    "12+log(O/H) outer parts": 8.3,
}

#: Ucci et al. 2019, MNRAS 483, 1295 (2019MNRAS.483.1295U), abstract: GAME on the MUSE cube
#: finds the galaxy star-formation dominated, with this star formation rate, and dense, dusty
#: central star-forming sites with A_V up to 5-7 mag.
UCCI2019 = {
    "SFR [Msun/yr]": 1.2,
    "A_V central sites, up to [mag]": (5.0, 7.0),
}

#: Nguyen et al. 2014 (arXiv:1408.4446), abstract: stellar mass enclosed within 100" (~4.3 kpc)
#: from Magellan/Megacam g and r surface-brightness profiles, (10 +- 3) x 10^9 Msun, about 3x
#: earlier estimates.
NGUYEN2014 = {
    "stellar mass [Msun]": 1.0e10,
    "stellar mass error [Msun]": 3.0e9,
    "radius [kpc]": 4.3,
}
