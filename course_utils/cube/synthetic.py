"""A synthetic MUSE cube of Henize 2-10 whose true maps are known, with physics of its own.

The real MUSE cube of Henize 2-10 (Cresci et al. 2017, A&A 604, A101, 2017A&A...604A.101C;
Ucci et al. 2019, MNRAS 483, 1295, 2019MNRAS.483.1295U) is not available offline, so the
course generates one in exactly the ESO pipeline format. A cube made with the GAME library's
own physics would test GAME on its training set; this one differs from the library wherever
real galaxies do, and each difference is listed here with its source.

What it shares with the library: the HII-region line ratios are the MAPPINGS 5.1 grid shipped
with NebulaBayes (Thomas et al. 2018, ApJ 856, 89), interpolated at each spaxel's true
log U, log P/k and 12+log(O/H) (:func:`course_utils.library.grid_model`).

What differs (``make_henize2_10_cube``; all parameters of the design are in this module):

1. **Dust.** Lines are attenuated with the Fitzpatrick (1999, PASP 111, 63, 1999PASP..111...63F)
   curve, not the library's Cardelli et al. (1989) one, with R_V varying across the galaxy:
   3.1 (the diffuse-ISM average) in the outskirts rising to 4.5 in the dense, dusty centre
   (denser environments have larger R_V; Fitzpatrick 1999, Sect. 2). The truth file has the
   ``R_V`` map. At R_V = 3.1 the F99 curve gives A(Hbeta) - A(Halpha) = 0.41 A_V against
   CCM89's 0.35 A_V, so a Balmer decrement read with the wrong curve is off by ~17%.
2. **N/O.** The grid ties N/O to O/H (the MAPPINGS 5.1 abundance scaling of Nicholls et al.
   2017, MNRAS 466, 4403). Real HII regions scatter around such a relation (Pérez-Montero &
   Contini 2009, MNRAS 398, 949, 2009MNRAS.398..949P, who show that N2 and O3N2 then misjudge
   O/H). Here log(N/O) is offset by ``dlog(N/O)``, a smooth field uniform in +-0.15 dex.
   Nitrogen is a trace coolant, so at fixed O/H the N+ zone keeps its temperature: every
   [NII] line ([NII]6548, 6583 and 5755) is multiplied by the same factor 10**dlog(N/O),
   which leaves the [NII] temperature ratio 5755/6583 unchanged ([NI]5198,5200 scale alike).
3. **Stellar Balmer absorption.** Young and intermediate-age stars add Balmer absorption
   lines under the nebular emission: equivalent widths of 2-16 A for Hbeta in starburst
   models (González Delgado, Leitherer & Heckman 1999, ApJS 125, 489, 1999ApJS..125..489G).
   The continuum has Gaussian absorption troughs (sigma :data:`ABSORPTION_SIGMA`) under
   Hbeta and Halpha with EW 2 A in the young knots to 5 A in the outskirts (map
   ``EW_abs``); ignoring them underestimates Hbeta more than Halpha, so the Balmer
   decrement overestimates A_V (:func:`~course_utils.cube.fit_line_maps` models them).
4. **Diffuse ionized gas.** A diffuse component (Halpha scale length 4") dominates the
   outskirts (map ``f_DIG``: its share of the observed Halpha). Its spectrum is the grid's
   lowest-ionization model (log U = -4, log P/k = 4.2) at the local O/H, with the
   collisionally excited lines raised as for gas 2000 K hotter than HII regions (8000 ->
   10000 K), the heating that Reynolds et al. (2001, ApJ 548, L221, 2001ApJ...548L.221R)
   infer from [NII]5755/6584 in the Milky Way's diffuse gas: each line's emissivity ratio
   between the two temperatures relative to Halpha's, from PyNeb (Luridiana et al. 2015).
   This raises [SII]/Halpha and [NII]/Halpha (x1.9) and [OI]/Halpha (x2.6), as observed in
   DIG-dominated regions of low Halpha surface brightness (Zhang et al. 2017, MNRAS 466,
   3217, 2017MNRAS.466.3217Z). No model of the library reproduces such spectra.
5. **Faint outskirts.** The HII diffuse light falls off with a 1.0" scale length, so weak
   lines (HeI6678, HeI5876, [SIII]9069) are non-detections in the outskirts and several
   detected-line patterns occur even on a 40 x 40 cube.
6. **Auroral lines.** Every grid line in MUSE's range is in the spectrum at its model
   intensity, among them [NII]5755, [SIII]6312, [OII]7320,7330 and [SIII]9069, so Te can be
   measured from [NII]5755/6583 and [SIII]6312/9069 where they are detected.
7. **Metallicity.** ``metallicity="gradient"`` (default): ~8.3 in the outskirts rising to
   super-solar (~8.85) in the two central knots, as Cresci et al. 2017 find.
   ``metallicity="uniform"``: 12+log(O/H) = 8.3 everywhere (the outer value of Cresci et al.
   2017), for the "remarkably uniform metallicity" that Ucci et al. 2019 find with GAME.

Unchanged from the first edition: five compact knots (Gaussians of 0.4-0.6") with higher
log U and log P/k (up to -2.4 and 7.2; n ~ 1600 cm^-3 in knot 4 as Cresci et al. measure from
[SII]); A_V up to ~5 mag in the centre on a 0.5 mag floor (Ucci et al. 2019: 5-7 mag in the
central sites); a rotating disc (60 km/s, inclination 40 deg, PA 130 deg) and a dispersion of
35-65 km/s convolved with MUSE's line-spread function; Gaussian noise whose variance is
exactly ``STAT``: a sky term rising to the red, sky-line residuals, and photon noise.

Random structure (the N/O field) comes from a fixed seed, so the galaxy is the same at every
cube size and noise seed; ``seed`` only sets the noise and the NaN edges. The cube is written
in blocks of channels straight to disk, so a full 300 x 300 MUSE field needs ~0.3 GB of memory.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from ..library import DERIVED_LINES, extinction_curve, grid_model, line_table, load_grid
from ..paths import generated_dir
from .henize2_10 import CRESCI2017, HENIZE2_10, REDSHIFT
from .muse import (C_KMS, MUSE_BUNIT, MUSE_DWAVE, MUSE_NWAVE, MUSE_SPAXEL, MUSE_WAVE0,
                   image_hdu, instrumental_sigma, write_fits)

#: Parameters of the truth file, with units.
TRUTH_PARAMETERS = {"12+log(O/H)": "dex", "log U": "dex", "log P/k": "log(K cm-3)",
                    "A_V": "mag", "velocity": "km/s", "sigma": "km/s", "R_V": "",
                    "dlog(N/O)": "dex", "f_DIG": "", "EW_abs": "Angstrom"}
#: Metallicity designs (see the module docstring).
METALLICITY = ("gradient", "uniform")

# Knots: offset east and north of the centre (arcsec), sigma (arcsec), H-alpha peak,
# and how much each raises metallicity, log U and log P/k.
_KNOTS = (
    # east, north, size, peak, d(O/H), d(log U), d(log P/k)
    (0.8, 0.3, 0.55, 1.0, 0.40, 1.0, 1.0),
    (-0.7, -0.2, 0.45, 0.8, 0.40, 0.9, 0.9),
    (-2.2, 0.9, 0.50, 0.35, 0.05, 0.7, 0.8),
    (2.4, -1.3, 0.40, 0.30, 0.05, 0.6, 1.2),
    (-0.4, 2.6, 0.45, 0.20, 0.0, 0.5, 0.5),
)
_HALPHA_KNOT = 3.0e5       # peak H-alpha of the brightest knot, 1e-20 erg/s/cm2 per spaxel
_HALPHA_DIFFUSE = 2.0e4    # central H-alpha of the diffuse HII component
_DIFFUSE_SCALE = 1.0       # arcsec
_HALPHA_DIG = 1.5e3        # central H-alpha of the diffuse ionized gas
_DIG_SCALE = 4.0           # arcsec
#: The DIG's spectrum: grid model at this log U and log P/k, heated from _DIG_TE[0] to [1] K.
_DIG_LOG_U, _DIG_LOG_PK, _DIG_TE = -4.0, 4.2, (8000.0, 10000.0)
_UNIFORM_OH = CRESCI2017["12+log(O/H) outer parts"]
_NO_SCATTER = 0.15         # dex, half-range of dlog(N/O)
_R_V = (3.1, 4.5)          # outskirts, centre
_CONTINUUM = 150.0         # central stellar continuum at 5500 A, 1e-20 erg/s/cm2/A
_CONTINUUM_SCALE = 3.0     # arcsec
#: Gaussian sigma (A) of the stellar Balmer absorption troughs (before the instrument's LSF).
ABSORPTION_SIGMA = 10.0
_EW_ABS = (2.0, 5.0)       # A: knots, outskirts
_SKY_SIGMA = 2.0           # noise of the sky at 5000 A, 1e-20 erg/s/cm2/A
_SKY_LINES = (5577.3, 5889.9, 6300.3, 6363.8, 6863.9, 7276.4, 7913.7, 8344.6, 8827.1, 9375.9)
_GAIN = 20.0               # signal / variance of the photon noise term
_GALAXY_SEED = 210         # the random structure of the galaxy (not of the noise)
_CHUNK = 64                # channels generated and written at once
#: Bumped whenever the design changes, so cached cubes of an older design are not reused.
_VERSION = 2


def _grid_lines() -> list[str]:
    """Grid lines inside MUSE's range at Henize 2-10's redshift (HeII6560 left out: it would
    sit on H-alpha and the HII grid predicts it negligible)."""
    table = line_table()
    red = MUSE_WAVE0 + MUSE_DWAVE * (MUSE_NWAVE - 1)
    grid = load_grid("HII")
    inside = table.index[(table["wavelength"] * (1 + REDSHIFT) > MUSE_WAVE0 + 10)
                         & (table["wavelength"] * (1 + REDSHIFT) < red - 10)]
    return [l for l in grid.attrs["lines"] if l in inside and l != "HeII6560"]


def _sky_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Offsets east and north of the centre (arcsec) of every spaxel; x grows to the west."""
    pix = (np.arange(size) - (size - 1) / 2.0) * MUSE_SPAXEL
    north, east = np.meshgrid(pix, -pix, indexing="ij")
    return east, north


def _smooth_field(east: np.ndarray, north: np.ndarray, scale: float = 1.5,
                  n_modes: int = 32) -> np.ndarray:
    """A smooth random field of zero mean and unit variance defined on the sky (so the same
    at any cube size): a sum of plane waves of wavelength ~2 pi scale, fixed seed."""
    rng = np.random.default_rng(_GALAXY_SEED)
    k = rng.normal(0.0, 1.0 / scale, (n_modes, 2))
    phase = rng.uniform(0.0, 2 * np.pi, n_modes)
    field = np.cos(np.multiply.outer(east, k[:, 0]) + np.multiply.outer(north, k[:, 1]) + phase)
    return field.sum(axis=-1) * np.sqrt(2.0 / n_modes)


def true_maps(size: int = 80, metallicity: str = "gradient") -> dict[str, np.ndarray]:
    """The designed maps on a size x size grid of 0.2" spaxels.

    Returns a dict of ``(size, size)`` arrays: the keys of :data:`TRUTH_PARAMETERS` plus
    ``"Halpha_HII"`` and ``"Halpha_DIG"`` (observed H-alpha per spaxel of the HII regions and
    of the diffuse ionized gas) and ``"continuum"`` (at 5500 A, per A).
    """
    from scipy.special import ndtr

    if metallicity not in METALLICITY:
        raise ValueError(f"metallicity={metallicity!r}: expected one of {METALLICITY}")
    east, north = _sky_grid(size)
    r = np.hypot(east, north)
    knots = np.array([np.exp(-((east - e) ** 2 + (north - n) ** 2) / (2 * s * s))
                      for e, n, s, *_ in _KNOTS])
    params = np.array([k[3:] for k in _KNOTS])
    halpha_hii = _HALPHA_KNOT * np.tensordot(params[:, 0], knots, 1) \
        + _HALPHA_DIFFUSE * np.exp(-r / _DIFFUSE_SCALE)
    halpha_dig = _HALPHA_DIG * np.exp(-r / _DIG_SCALE)
    strongest = knots.max(axis=0)  # overlapping knots do not add up their conditions

    def raise_by(column):
        return (params[:, column, None, None] * knots).max(axis=0)

    if metallicity == "gradient":
        oh = 8.30 + 0.15 * np.exp(-r / 3.0) + raise_by(1)
    else:
        oh = np.full_like(r, _UNIFORM_OH)
    log_u = -3.4 + raise_by(2)
    log_pk = 6.0 + raise_by(3)
    centre = np.exp(-0.5 * (r / 1.2) ** 2)
    a_v = 0.5 + 4.0 * centre + 1.0 * strongest
    r_v = _R_V[0] + (_R_V[1] - _R_V[0]) * centre
    d_no = _NO_SCATTER * (2.0 * ndtr(_smooth_field(east, north)) - 1.0)
    ew_abs = _EW_ABS[0] + (_EW_ABS[1] - _EW_ABS[0]) * (1 - strongest) * (1 - np.exp(-r / 2.0))
    # rotating disc seen at inclination 40 deg, kinematic major axis at PA 130 deg (E of N)
    pa, incl = np.radians(130.0), np.radians(40.0)
    major = east * np.sin(pa) + north * np.cos(pa)
    minor = (-east * np.cos(pa) + north * np.sin(pa)) / np.cos(incl)
    radius = np.hypot(major, minor)
    cos_phi = np.divide(major, radius, out=np.zeros_like(radius), where=radius > 0)
    velocity = 60.0 * np.tanh(radius / 2.0) * cos_phi * np.sin(incl)
    sigma = 35.0 + 30.0 * strongest
    continuum = _CONTINUUM * np.exp(-r / _CONTINUUM_SCALE)
    return {"12+log(O/H)": oh, "log U": log_u, "log P/k": log_pk, "A_V": a_v,
            "velocity": velocity, "sigma": sigma, "R_V": r_v, "dlog(N/O)": d_no,
            "f_DIG": halpha_dig / (halpha_hii + halpha_dig), "EW_abs": ew_abs,
            "Halpha_HII": halpha_hii, "Halpha_DIG": halpha_dig, "continuum": continuum}


def _rest_wavelengths(lines: list[str]) -> dict[str, float]:
    rest = line_table()["wavelength"].to_dict()
    rest.update({name: wave for name, (_, _, wave, _) in DERIVED_LINES.items()})
    return {l: float(rest[l]) for l in lines}


@functools.lru_cache(maxsize=None)
def _halpha_emissivity() -> np.ndarray:
    """H-alpha emissivity at the two temperatures of the DIG's heating (PyNeb)."""
    from ..nebular import _rec_atom

    return np.asarray(_rec_atom("H", 1).getEmissivity(np.array(_DIG_TE), 10.0, label="3_2"),
                      dtype=float).ravel()


@functools.lru_cache(maxsize=None)
def _heating_boost(line: str) -> float:
    """Emissivity of a collisionally excited line relative to H-alpha's at the DIG's raised
    temperature, divided by the same at the HII-region temperature (PyNeb, density 10 cm^-3);
    1 for the recombination lines of H and He."""
    from ..nebular import _atom

    table = line_table(derived=True)
    species = table.at[line, "species"]
    if species in ("H I", "He I", "He II"):
        return 1.0
    element, stage = species.split()
    atom = _atom(element, {"I": 1, "II": 2, "III": 3, "IV": 4}[stage])
    wave = round(float(table.at[line, "wavelength"]))
    relative = (np.asarray(atom.getEmissivity(np.array(_DIG_TE), 10.0, wave=wave), float).ravel()
                / _halpha_emissivity())
    return float(relative[1] / relative[0])


def _component_fluxes(log_u, log_pk, oh, d_no, a_v, r_v, halpha, lines, heated=False):
    """Observed fluxes of one emission component scaled to its observed H-alpha."""
    model = grid_model(log_u, log_pk, oh, 0.0, lines=lines)        # intrinsic, / H-beta
    wave = np.array(list(_rest_wavelengths(lines).values()))
    dimming = 10.0 ** (-0.4 * a_v[:, None] * extinction_curve(wave, "F99", r_v))
    flux = model.to_numpy() * dimming
    species = line_table(derived=True)["species"]
    for j, line in enumerate(lines):
        if species[line].split()[0] == "N":  # nitrogen at fixed O/H (module docstring, 2.)
            flux[:, j] *= 10.0 ** d_no
        if heated:
            flux[:, j] *= _heating_boost(line)
    flux *= (halpha / flux[:, lines.index("Halpha")])[:, None]
    return flux


def _line_fluxes(maps: dict[str, np.ndarray], lines: list[str]) -> dict[str, np.ndarray]:
    """Observed flux of every line per spaxel: HII regions plus diffuse ionized gas."""
    shape = maps["A_V"].shape
    a = {k: maps[k].ravel() for k in maps}
    n = a["A_V"].size
    hii = _component_fluxes(a["log U"], a["log P/k"], a["12+log(O/H)"], a["dlog(N/O)"],
                            a["A_V"], a["R_V"], a["Halpha_HII"], lines)
    dig = _component_fluxes(np.full(n, _DIG_LOG_U), np.full(n, _DIG_LOG_PK), a["12+log(O/H)"],
                            a["dlog(N/O)"], a["A_V"], a["R_V"], a["Halpha_DIG"], lines,
                            heated=True)
    fluxes = {l: (hii[:, j] + dig[:, j]).reshape(shape) for j, l in enumerate(lines)}
    # [NII]6548 and [OIII]4959 follow their parents' observed fluxes by the atomic ratio, as
    # line fits assume (the attenuation differs by < 0.3% across the pair at A_V = 5)
    for name, (parent, ratio, _, _) in DERIVED_LINES.items():
        fluxes[name] = fluxes[parent] * ratio
    return fluxes


def _edge_mask(size: int, seed: int) -> np.ndarray:
    """NaN spaxels along the edges, as left by the rotated, dithered exposures of real cubes."""
    rng = np.random.default_rng([seed, 1])
    y, x = np.mgrid[:size, :size] - (size - 1) / 2.0
    angle = np.radians(rng.uniform(2.0, 5.0))
    xr = x * np.cos(angle) - y * np.sin(angle)
    yr = x * np.sin(angle) + y * np.cos(angle)
    half = (size - 1) / 2.0 - 1.0
    return (np.abs(xr) > half) | (np.abs(yr) > half)


def _cube_header(size: int) -> fits.Header:
    h = fits.Header()
    h["BUNIT"] = MUSE_BUNIT
    for key, value in [("CTYPE1", "RA---TAN"), ("CTYPE2", "DEC--TAN"), ("CTYPE3", "AWAV"),
                       ("CUNIT1", "deg"), ("CUNIT2", "deg"), ("CUNIT3", "Angstrom"),
                       ("CRPIX1", (size + 1) / 2.0), ("CRPIX2", (size + 1) / 2.0),
                       ("CRPIX3", 1.0), ("CRVAL1", HENIZE2_10.ra.deg),
                       ("CRVAL2", HENIZE2_10.dec.deg), ("CRVAL3", MUSE_WAVE0),
                       ("CD1_1", -MUSE_SPAXEL / 3600), ("CD1_2", 0.0), ("CD2_1", 0.0),
                       ("CD2_2", MUSE_SPAXEL / 3600), ("CD1_3", 0.0), ("CD2_3", 0.0),
                       ("CD3_1", 0.0), ("CD3_2", 0.0), ("CD3_3", MUSE_DWAVE),
                       ("RADESYS", "ICRS"), ("HDUCLASS", "ESO"), ("HDUDOC", "DICD"),
                       ("OBJECT", "Henize 2-10 (synthetic)")]:
        h[key] = value
    return h


class _Profiles:
    """Gaussian profiles added to (emission) or taken from (absorption) the continuum:
    per spaxel centre, width and area, and the channels each profile reaches."""

    def __init__(self, wave: np.ndarray):
        self.wave = wave
        self.items = []

    def add(self, centre, width, area, reach: float) -> None:
        lo = np.searchsorted(self.wave, np.min(centre - reach * width))
        hi = np.searchsorted(self.wave, np.max(centre + reach * width))
        norm = area / (width * np.sqrt(2 * np.pi))
        self.items.append((centre, width, norm, lo, hi))

    def add_to(self, model: np.ndarray, c0: int, c1: int) -> None:
        """Add every profile to ``model`` (spaxels x channels c0:c1)."""
        for centre, width, norm, lo, hi in self.items:
            a, b = max(lo, c0), min(hi, c1)
            if a >= b:
                continue
            z = (self.wave[a:b][None, :] - centre[:, None]) / width[:, None]
            model[:, a - c0:b - c0] += (norm[:, None] * np.exp(-0.5 * z * z)).astype(model.dtype)


def _extension_header(header: fits.Header, name: str, dtype, shape) -> fits.Header:
    """The full header of an image extension of the given type and shape (no data needed)."""
    h = fits.ImageHDU(np.zeros((1,) * len(shape), dtype), header=header.copy(), name=name).header
    for i, n in enumerate(shape[::-1], 1):
        h[f"NAXIS{i}"] = n
    return h


def _padded(nbytes: int) -> int:
    return -(-nbytes // 2880) * 2880


def make_henize2_10_cube(path: str | Path, size: int = 80, seed: int = 0,
                         truth_path: str | Path | None = None,
                         metallicity: str = "gradient") -> tuple[Path, Path]:
    """Write a synthetic MUSE cube of Henize 2-10 and the file of its true maps.

    Parameters
    ----------
    path
        Output cube (ESO MUSE layout: empty PRIMARY, ``DATA``, ``STAT``, ``DQ``).
    size
        Spaxels on a side (0.2" each); the full 3681-channel wavelength range is always made.
    seed
        Seed of the noise and of the orientation of the NaN edges (the galaxy is the same for
        every seed).
    truth_path
        Where to write the true maps; default ``<path stem>_truth.fits`` next to the cube.
    metallicity
        ``"gradient"`` (Cresci et al. 2017) or ``"uniform"`` (Ucci et al. 2019), see the
        module docstring.

    Returns
    -------
    (cube path, truth path)
    """
    if size < 8:
        raise ValueError(f"size={size}: need at least 8 x 8 spaxels")
    path = Path(path)
    truth_path = Path(truth_path) if truth_path else path.with_name(path.stem + "_truth.fits")
    maps = true_maps(size, metallicity)
    lines = _grid_lines() + list(DERIVED_LINES)
    fluxes = _line_fluxes(maps, lines)
    rest = _rest_wavelengths(lines)

    wave = MUSE_WAVE0 + MUSE_DWAVE * np.arange(MUSE_NWAVE)
    n_spax = size * size
    v, s = maps["velocity"].ravel(), maps["sigma"].ravel()
    profiles = _Profiles(wave)
    for name, flux in fluxes.items():
        centre = rest[name] * (1 + REDSHIFT) * (1 + v / C_KMS)
        width = np.sqrt((centre * s / C_KMS) ** 2 + instrumental_sigma(centre) ** 2)
        profiles.add(centre, width, flux.ravel(), reach=8.0)
    continuum = maps["continuum"].ravel()
    for name in ("Hbeta", "Halpha"):  # stellar absorption, moving with the gas
        centre = rest[name] * (1 + REDSHIFT) * (1 + v / C_KMS)
        width = np.sqrt(ABSORPTION_SIGMA ** 2 + instrumental_sigma(centre) ** 2)
        depth = maps["EW_abs"].ravel() * continuum * (centre / 5500.0) ** -1.0
        profiles.add(centre, width, -depth, reach=6.0)

    sky = _SKY_SIGMA ** 2 * (1.0 + 2.0 * ((wave - wave[0]) / (wave[-1] - wave[0])) ** 2)
    for line in _SKY_LINES:  # residuals of bright sky lines raise the variance locally
        sky += 25.0 * _SKY_SIGMA ** 2 * np.exp(-0.5 * ((wave - line) / 1.5) ** 2)
    slope = (wave / 5500.0) ** -1.0
    edge = _edge_mask(size, seed).ravel()
    rng = np.random.default_rng([seed, 2])

    header = _cube_header(size)
    primary = fits.PrimaryHDU()
    primary.header.update(OBJECT="Henize 2-10 (synthetic)", TELESCOP="ESO-VLT-U4",
                          INSTRUME="MUSE", RA=HENIZE2_10.ra.deg, DEC=HENIZE2_10.dec.deg)
    primary.header["SEED"] = (seed, "noise seed of make_henize2_10_cube")
    primary.header["METALLIC"] = (metallicity, "metallicity design")
    shape = (MUSE_NWAVE, size, size)
    stat_header = header.copy()
    stat_header["BUNIT"] = f"({MUSE_BUNIT})**2"
    data_header = header.copy()
    data_header["ERRDATA"] = "STAT"
    data_header["QUALDATA"] = "DQ"
    dq_header = header.copy()
    del dq_header["BUNIT"]
    extensions = [("DATA", data_header, ">f4"), ("STAT", stat_header, ">f4"),
                  ("DQ", dq_header, "u1")]

    # write the headers, then the data block by block of channels at known offsets: the
    # cube is never in memory (a 300 x 300 field is 2.7 GB on disk)
    path.parent.mkdir(parents=True, exist_ok=True)
    offsets = {}
    with open(path, "wb") as fh:
        fh.write(primary.header.tostring().encode("ascii"))
        for name, h, dtype in extensions:
            fh.write(_extension_header(h, name, dtype, shape).tostring().encode("ascii"))
            offsets[name] = fh.tell()
            fh.seek(offsets[name] + _padded(np.dtype(dtype).itemsize * int(np.prod(shape))))
        fh.truncate(fh.tell())
        fd = fh.fileno()
        for c0 in range(0, MUSE_NWAVE, _CHUNK):
            c1 = min(c0 + _CHUNK, MUSE_NWAVE)
            model = np.outer(continuum, slope[c0:c1]).astype(np.float32)
            profiles.add_to(model, c0, c1)
            variance = np.abs(model)
            variance *= 1.0 / _GAIN
            variance += sky[c0:c1].astype(np.float32)
            data = model
            data += np.sqrt(variance) * rng.standard_normal(model.shape, dtype=np.float32)
            data[edge] = np.nan
            variance[edge] = np.nan
            dq = np.broadcast_to(edge.astype(np.uint8)[:, None], data.shape)
            for name, block in (("DATA", data), ("STAT", variance), ("DQ", dq)):
                dtype = dict((n, d) for n, _, d in extensions)[name]
                raw = np.ascontiguousarray(block.T, dtype=dtype).tobytes()
                os.pwrite(fd, raw, offsets[name] + c0 * n_spax * np.dtype(dtype).itemsize)
            del model, variance, data

    wcs = WCS(header).celestial
    truth = [fits.PrimaryHDU()]
    truth[0].header["COMMENT"] = "True maps of the synthetic Henize 2-10 cube"
    truth[0].header["METALLIC"] = (metallicity, "metallicity design")
    for name, unit in TRUTH_PARAMETERS.items():
        truth.append(image_hdu(maps[name], wcs, name, unit))
    for name in sorted(fluxes, key=lambda l: rest[l]):
        truth.append(image_hdu(fluxes[name], wcs, name, "10**(-20)*erg/s/cm**2",
                               f"true observed flux of {name} per spaxel"))
    write_fits(truth, truth_path)
    return path, truth_path


def read_truth(path: str | Path) -> dict[str, np.ndarray]:
    """The true maps written by :func:`make_henize2_10_cube`: parameters and line fluxes."""
    with fits.open(path) as hdul:
        return {h.header.get("MAPNAME", h.name): np.asarray(h.data, float) for h in hdul[1:]}


def load_henize2_10_cube(size: int = 80, seed: int = 0, metallicity: str = "gradient") -> Path:
    """Path of the synthetic Henize 2-10 cube, generated on first use in the course's
    git-ignored data folder (:func:`course_utils.paths.generated_dir`).

    The truth file sits next to it: ``path.with_name(path.stem + "_truth.fits")``.
    """
    if metallicity not in METALLICITY:
        raise ValueError(f"metallicity={metallicity!r}: expected one of {METALLICITY}")
    design = "" if metallicity == "gradient" else f"_{metallicity}"
    path = generated_dir() / f"henize2_10_muse_v{_VERSION}{design}_{size}x{size}_seed{seed}.fits"
    truth = path.with_name(path.stem + "_truth.fits")
    if not (path.is_file() and truth.is_file()):
        # write under names private to this process, then rename: a half-written file never
        # looks finished, and two notebooks generating at once do not clash
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.fits")
        tmp_truth = truth.with_name(f"{truth.stem}.{os.getpid()}.tmp.fits")
        try:
            make_henize2_10_cube(tmp, size=size, seed=seed, truth_path=tmp_truth,
                                 metallicity=metallicity)
            tmp_truth.replace(truth)
            tmp.replace(path)
        finally:
            for leftover in (tmp, tmp_truth):
                if leftover.exists():
                    leftover.unlink()
    return path


def truth_path_of(cube_path: str | Path) -> Path:
    """The truth file that belongs to a cube written by :func:`make_henize2_10_cube`."""
    cube_path = Path(cube_path)
    return cube_path.with_name(cube_path.stem + "_truth.fits")
