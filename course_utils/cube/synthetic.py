"""A synthetic MUSE cube of Henize 2-10 whose true parameter maps are known.

The real MUSE cube of Henize 2-10 (Cresci et al. 2017, A&A 604, A101; Ucci et al. 2019, MNRAS
483, 1295) is not available offline, so the course generates one in exactly the ESO pipeline
format. The design, loosely following what those papers report:

- H-alpha surface brightness: five compact star-forming knots (Gaussians of 0.4-0.6" sigma)
  on an exponential diffuse component (scale length 2");
- 12+log(O/H): ~8.3 in the outskirts rising to super-solar (~8.8) in the two central knots;
- log U and log P/k: higher in the knots (up to -2.4 and ~7.2, i.e. n ~ 1600 cm^-3 in knot 4
  as Cresci et al. measure from [SII]); diffuse gas at log U ~ -3.4, log P/k ~ 6 (n ~ 100);
- A_V: a dusty centre (up to ~5 mag; Ucci et al. find 5-7 mag in the central sites) on a
  0.5 mag floor -- a library used on this cube must reach A_V ~ 6;
- kinematics: a rotating disc (60 km/s, inclination 40 deg, PA 130 deg) and a velocity
  dispersion of 35-65 km/s, convolved with MUSE's line-spread function;
- line ratios: the course library's model (:func:`course_utils.library.grid_model`: the
  MAPPINGS 5.1 HII grid interpolated at each spaxel's true parameters, attenuated with the
  Cardelli et al. 1989 curve), scaled to the designed H-alpha; [NII]6548 and
  [OIII]4959 from their atomic ratios to [NII]6583 and [OIII]5007;
- a smooth stellar continuum (no absorption lines) and Gaussian noise whose variance is
  exactly the ``STAT`` extension: a sky term rising to the red, sky-line spikes, and a term
  proportional to the signal. Faint outskirts leave the weak lines undetected.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from ..library import DERIVED_LINES, grid_model, line_table, load_grid
from ..paths import generated_dir
from .henize2_10 import HENIZE2_10, REDSHIFT
from .muse import (C_KMS, MUSE_BUNIT, MUSE_DWAVE, MUSE_NWAVE, MUSE_SPAXEL, MUSE_WAVE0,
                   image_hdu, instrumental_sigma)

#: Lines tied to a parent by atomic physics: name -> (air wavelength A, parent, flux ratio),
#: from :data:`course_utils.library.DERIVED_LINES` ([NII] 6584/6548 = 2.94, [OIII] 5007/4959 = 2.98).
TIED_LINES = {name: (wave, parent, ratio)
              for name, (parent, ratio, wave, _) in DERIVED_LINES.items()}
#: Parameters of the truth file, with units.
TRUTH_PARAMETERS = {"12+log(O/H)": "dex", "log U": "dex", "log P/k": "log(K cm-3)",
                    "A_V": "mag", "velocity": "km/s", "sigma": "km/s"}

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
_HALPHA_DIFFUSE = 2.0e4    # central H-alpha of the diffuse component
_DIFFUSE_SCALE = 2.0       # arcsec
_CONTINUUM = 150.0         # central stellar continuum at 5500 A, 1e-20 erg/s/cm2/A
_CONTINUUM_SCALE = 3.0     # arcsec
_SKY_SIGMA = 2.0           # noise of the sky at 5000 A, 1e-20 erg/s/cm2/A
_SKY_LINES = (5577.3, 5889.9, 6300.3, 6363.8, 6863.9, 7276.4, 7913.7, 8344.6, 8827.1, 9375.9)
#: Bumped whenever the design changes, so cached cubes of an older design are not reused.
_VERSION = 1
_GAIN = 20.0               # signal / variance of the photon noise term


def _grid_lines() -> list[str]:
    """Grid lines inside MUSE's range at Henize 2-10's redshift (HeII6560 left out: it would
    sit on H-alpha and the HII grid predicts it negligible)."""
    table = line_table()
    red = MUSE_WAVE0 + MUSE_DWAVE * (MUSE_NWAVE - 1)
    grid = load_grid("HII")
    inside = table.index[(table["wavelength"] * (1 + REDSHIFT) > MUSE_WAVE0 + 10)
                         & (table["wavelength"] * (1 + REDSHIFT) < red - 10)]
    return [l for l in grid.attrs["lines"] if l in inside and l != "HeII6560"]


def true_maps(size: int = 80) -> dict[str, np.ndarray]:
    """The designed parameter maps and the H-alpha surface brightness on a size x size grid.

    Returns a dict of ``(size, size)`` arrays: the keys of :data:`TRUTH_PARAMETERS` plus
    ``"Halpha_obs"`` (observed H-alpha per spaxel) and ``"continuum"`` (at 5500 A).
    """
    pix = (np.arange(size) - (size - 1) / 2.0) * MUSE_SPAXEL
    north, east = np.meshgrid(pix, -pix, indexing="ij")  # x (columns) grows to the west
    r = np.hypot(east, north)
    knots = np.array([np.exp(-((east - e) ** 2 + (north - n) ** 2) / (2 * s * s))
                      for e, n, s, *_ in _KNOTS])
    params = np.array([k[3:] for k in _KNOTS])
    halpha = _HALPHA_KNOT * np.tensordot(params[:, 0], knots, 1) \
        + _HALPHA_DIFFUSE * np.exp(-r / _DIFFUSE_SCALE)
    strongest = knots.max(axis=0)  # overlapping knots do not add up their conditions

    def raise_by(column):
        return (params[:, column, None, None] * knots).max(axis=0)

    oh = 8.30 + 0.15 * np.exp(-r / 3.0) + raise_by(1)
    log_u = -3.4 + raise_by(2)
    log_pk = 6.0 + raise_by(3)
    a_v = 0.5 + 4.0 * np.exp(-0.5 * (r / 1.2) ** 2) + 1.0 * strongest
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
            "velocity": velocity, "sigma": sigma, "Halpha_obs": halpha, "continuum": continuum}


def _line_fluxes(maps: dict[str, np.ndarray], lines: list[str]) -> dict[str, np.ndarray]:
    """Observed flux of every line per spaxel: the library's model at the true parameters
    (grid interpolation and attenuation of :func:`course_utils.library.grid_model`),
    scaled to the designed H-alpha."""
    a = {p: maps[p].ravel() for p in ("log U", "log P/k", "12+log(O/H)", "A_V")}
    model = grid_model(a["log U"], a["log P/k"], a["12+log(O/H)"], a["A_V"], lines=lines)
    scale = maps["Halpha_obs"].ravel() / model["Halpha"].to_numpy()
    shape = maps["A_V"].shape
    fluxes = {l: (model[l].to_numpy() * scale).reshape(shape) for l in model.columns}
    # [NII]6548 and [OIII]4959 follow their parents' observed fluxes by the atomic ratio, as
    # line fits assume (the attenuation differs by < 0.3% across the pair at A_V = 5)
    for name, (_, parent, ratio) in TIED_LINES.items():
        fluxes[name] = fluxes[parent] * ratio
    return fluxes


def _edge_mask(size: int, rng: np.random.Generator) -> np.ndarray:
    """NaN spaxels along the edges, as left by the rotated, dithered exposures of real cubes."""
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


def make_henize2_10_cube(path: str | Path, size: int = 80, seed: int = 0,
                         truth_path: str | Path | None = None) -> tuple[Path, Path]:
    """Write a synthetic MUSE cube of Henize 2-10 and the file of its true maps.

    Parameters
    ----------
    path
        Output cube (ESO MUSE layout: empty PRIMARY, ``DATA``, ``STAT``, ``DQ``).
    size
        Spaxels on a side (0.2" each); the full 3681-channel wavelength range is always made.
    seed
        Seed of the noise (and of the orientation of the NaN edges).
    truth_path
        Where to write the true maps; default ``<path stem>_truth.fits`` next to the cube.

    Returns
    -------
    (cube path, truth path)
    """
    if size < 8:
        raise ValueError(f"size={size}: need at least 8 x 8 spaxels")
    path = Path(path)
    truth_path = Path(truth_path) if truth_path else path.with_name(path.stem + "_truth.fits")
    rng = np.random.default_rng(seed)
    maps = true_maps(size)
    lines = _grid_lines()
    fluxes = _line_fluxes(maps, lines)
    rest = line_table()["wavelength"].to_dict()
    rest.update({k: v[0] for k, v in TIED_LINES.items()})

    wave = MUSE_WAVE0 + MUSE_DWAVE * np.arange(MUSE_NWAVE)
    n_spax = size * size
    # model spectra, one row per spaxel: continuum plus Gaussian lines
    slope = (wave / 5500.0) ** -1.0
    model = np.outer(maps["continuum"].ravel(), slope).astype(np.float32)
    v = maps["velocity"].ravel()
    s = maps["sigma"].ravel()
    for name, flux in fluxes.items():
        centre = rest[name] * (1 + REDSHIFT) * (1 + v / C_KMS)
        width = np.sqrt((centre * s / C_KMS) ** 2 + instrumental_sigma(centre) ** 2)
        lo = np.searchsorted(wave, centre.min() - 8 * width.max())
        hi = np.searchsorted(wave, centre.max() + 8 * width.max())
        z = (wave[lo:hi] - centre[:, None]) / width[:, None]
        model[:, lo:hi] += (flux.ravel()[:, None] / (width[:, None] * np.sqrt(2 * np.pi))
                            * np.exp(-0.5 * z * z))
    sky = _SKY_SIGMA ** 2 * (1.0 + 2.0 * ((wave - wave[0]) / (wave[-1] - wave[0])) ** 2)
    for line in _SKY_LINES:  # residuals of bright sky lines raise the variance locally
        sky += 25.0 * _SKY_SIGMA ** 2 * np.exp(-0.5 * ((wave - line) / 1.5) ** 2)
    variance = (sky[None, :] + np.abs(model) / _GAIN).astype(np.float32)
    data = model
    data += np.sqrt(variance) * rng.standard_normal((n_spax, MUSE_NWAVE), dtype=np.float32)
    del model

    edge = _edge_mask(size, rng).ravel()
    data[edge] = np.nan
    variance[edge] = np.nan
    dq = np.zeros((MUSE_NWAVE, size, size), dtype=np.uint8)
    dq[:, edge.reshape(size, size)] = 1

    header = _cube_header(size)
    primary = fits.PrimaryHDU()
    primary.header.update(OBJECT="Henize 2-10 (synthetic)", TELESCOP="ESO-VLT-U4",
                          INSTRUME="MUSE", RA=HENIZE2_10.ra.deg, DEC=HENIZE2_10.dec.deg)
    primary.header["SEED"] = (seed, "noise seed of make_henize2_10_cube")
    cube_hdus = [primary]
    for name, array in (("DATA", data), ("STAT", variance)):
        hdu = fits.ImageHDU(array.T.reshape(MUSE_NWAVE, size, size), header=header, name=name)
        cube_hdus.append(hdu)
    cube_hdus[2].header["BUNIT"] = f"({MUSE_BUNIT})**2"
    cube_hdus[1].header["ERRDATA"] = "STAT"
    cube_hdus[1].header["QUALDATA"] = "DQ"
    dq_header = header.copy()
    del dq_header["BUNIT"]
    cube_hdus.append(fits.ImageHDU(dq, header=dq_header, name="DQ"))
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.HDUList(cube_hdus).writeto(path, overwrite=True)
    del data, variance, cube_hdus

    wcs = WCS(header).celestial
    units = dict(TRUTH_PARAMETERS)
    truth = [fits.PrimaryHDU()]
    truth[0].header["COMMENT"] = "True maps of the synthetic Henize 2-10 cube"
    for name, unit in units.items():
        truth.append(image_hdu(maps[name], wcs, name, unit))
    for name in sorted(fluxes, key=lambda l: rest[l]):
        truth.append(image_hdu(fluxes[name], wcs, name, "10**(-20)*erg/s/cm**2",
                               f"true observed flux of {name} per spaxel"))
    fits.HDUList(truth).writeto(truth_path, overwrite=True)
    return path, truth_path


def read_truth(path: str | Path) -> dict[str, np.ndarray]:
    """The true maps written by :func:`make_henize2_10_cube`: parameters and line fluxes."""
    with fits.open(path) as hdul:
        return {h.header.get("MAPNAME", h.name): np.asarray(h.data, float) for h in hdul[1:]}


def load_henize2_10_cube(size: int = 80, seed: int = 0) -> Path:
    """Path of the synthetic Henize 2-10 cube, generated on first use in the course's
    git-ignored data folder (:func:`course_utils.paths.generated_dir`).

    The truth file sits next to it: ``path.with_name(path.stem + "_truth.fits")``.
    """
    path = generated_dir() / f"henize2_10_muse_v{_VERSION}_{size}x{size}_seed{seed}.fits"
    truth = path.with_name(path.stem + "_truth.fits")
    if not (path.is_file() and truth.is_file()):
        # write under names private to this process, then rename: a half-written file never
        # looks finished, and two notebooks generating at once do not clash
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.fits")
        tmp_truth = truth.with_name(f"{truth.stem}.{os.getpid()}.tmp.fits")
        make_henize2_10_cube(tmp, size=size, seed=seed, truth_path=tmp_truth)
        tmp_truth.replace(truth)
        tmp.replace(path)
    return path


def truth_path_of(cube_path: str | Path) -> Path:
    """The truth file that belongs to a cube written by :func:`make_henize2_10_cube`."""
    cube_path = Path(cube_path)
    return cube_path.with_name(cube_path.stem + "_truth.fits")

