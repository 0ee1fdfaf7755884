"""TEMPORARY stand-in for course_utils.cube and course_utils.game while they are written.

Only notebooks 08-09 use it, and only until the real modules are merged; then this file
is deleted and the notebooks import the real functions.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
from scipy.interpolate import RegularGridInterpolator
from sklearn.ensemble import AdaBoostRegressor
from sklearn.tree import DecisionTreeRegressor

from .library import MUSE_LINES, attenuation, build_library, grid_cube, line_table, load_grid
from .paths import generated_dir

Z = 0.002912
RA, DEC = 129.0625, -26.409444
PROPS = ("12+log(O/H)", "log U", "log P/k", "A_V")
KNOTS = [(0.5, 0.55, 3.0, 1.0), (0.35, 0.45, 2.5, 0.6), (0.62, 0.35, 2.0, 0.4)]


def _truth(ny, nx):
    y, x = np.mgrid[0:ny, 0:nx]
    bright = np.zeros((ny, nx)) + 0.03
    for fy, fx, s, a in KNOTS:
        bright += a * np.exp(-((x - fx * nx) ** 2 + (y - fy * ny) ** 2) / (2 * (s * nx / 40) ** 2))
    r = np.hypot(x - 0.5 * nx, y - 0.5 * ny) / (0.5 * nx)
    core = bright / bright.max()
    truth = {
        "12+log(O/H)": 8.30 + 0.35 * core,
        "log U": -3.4 + 0.9 * core,
        "log P/k": 5.6 + 1.6 * core,
        "A_V": 0.3 + 2.5 * core,
    }
    return bright, truth, r


def synthetic_cube(shape=(40, 40), seed=0, path=None) -> Path:
    ny, nx = shape
    rng = np.random.default_rng(seed)
    wave = 4749.890625 + 1.25 * np.arange(3681)
    bright, truth, _ = _truth(ny, nx)
    grid = load_grid()
    lines = list(MUSE_LINES)
    axes, cube = grid_cube(grid, lines)
    interp = RegularGridInterpolator(axes, cube, method="linear")
    pts = np.column_stack([truth["log U"].ravel(), truth["log P/k"].ravel(),
                           truth["12+log(O/H)"].ravel()])
    lam = line_table().loc[lines, "wavelength"].to_numpy()
    logf = interp(pts) - 0.4 * attenuation(lam, truth["A_V"].ravel())
    flux = 10 ** logf * (bright.ravel() * 3e4)[:, None]
    extra = {"OIII4959": (4958.9, flux[:, 1] / 2.98), "NII6548": (6548.1, flux[:, 5] / 2.94)}
    spec = np.zeros((ny * nx, wave.size)) + 5.0 + 20 * bright.ravel()[:, None]
    sig = 1.3
    allw = list(lam) + [v[0] for v in extra.values()]
    allf = [flux[:, i] for i in range(len(lines))] + [v[1] for v in extra.values()]
    for w0, f in zip(allw, allf):
        c = w0 * (1 + Z)
        sel = np.abs(wave - c) < 8 * sig
        spec[:, sel] += f[:, None] / (np.sqrt(2 * np.pi) * sig) * np.exp(-0.5 * ((wave[sel] - c) / sig) ** 2)
    var = np.full_like(spec, 25.0) + 0.5 * np.abs(spec)
    data = spec + rng.normal(size=spec.shape) * np.sqrt(var)
    data = data.T.reshape(wave.size, ny, nx).astype("float32")
    var = var.T.reshape(wave.size, ny, nx).astype("float32")
    hdr = fits.Header()
    hdr.update(CTYPE1="RA---TAN", CTYPE2="DEC--TAN", CTYPE3="AWAV", CUNIT1="deg", CUNIT2="deg",
               CUNIT3="Angstrom", CRPIX1=nx / 2 + 0.5, CRPIX2=ny / 2 + 0.5, CRPIX3=1.0,
               CRVAL1=RA, CRVAL2=DEC, CRVAL3=wave[0], CD1_1=-5.5556e-05, CD2_2=5.5556e-05,
               CD1_2=0.0, CD2_1=0.0, CD3_3=1.25, CD1_3=0.0, CD2_3=0.0, CD3_1=0.0, CD3_2=0.0,
               BUNIT="10**(-20)*erg/s/cm**2/Angstrom", HDUCLASS="ESO", ERRDATA="STAT")
    prim = fits.PrimaryHDU()
    prim.header.update(OBJECT="Henize 2-10 (synthetic)", TELESCOP="ESO-VLT-U4", INSTRUME="MUSE",
                       RA=RA, DEC=DEC)
    hdus = [prim, fits.ImageHDU(data, hdr, name="DATA"), fits.ImageHDU(var, hdr, name="STAT")]
    for k, v in truth.items():
        h = WCS(hdr).celestial.to_header()
        hdus.append(fits.ImageHDU(v.astype("float32"), h, name="TRUE_" + k.replace("+", "").replace("(", "").replace(")", "").replace("/", "").replace(" ", "")[:12]))
    path = Path(path or generated_dir() / f"he2-10_synthetic_{ny}x{nx}_seed{seed}.fits")
    if path.exists():
        return path
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fits.HDUList(hdus).writeto(tmp, overwrite=True)
    os.replace(tmp, path)  # atomic: notebooks running in parallel never see a half-written file
    return path


def true_maps(shape=(40, 40)):
    return _truth(*shape)[1]


@lru_cache
def _lines():
    return line_table()


def line_maps(data, var, wave, lines=MUSE_LINES, z=Z, half_width=4.0):
    lam = _lines().loc[list(lines), "wavelength"].to_numpy()
    flux, err = {}, {}
    for name, w0 in zip(lines, lam):
        c = w0 * (1 + z)
        win = np.abs(wave - c) < half_width
        side = (np.abs(wave - c) > 2 * half_width) & (np.abs(wave - c) < 4 * half_width)
        cont = np.nanmedian(data[side], axis=0)
        flux[name] = np.nansum(data[win] - cont, axis=0) * 1.25
        err[name] = np.sqrt(np.nansum(var[win], axis=0)) * 1.25
    return flux, err


class Game:
    def __init__(self, n_models=5000, n_estimators=2, noise=0.05, n_draws=20, random_state=0):
        self.n_models, self.n_estimators, self.noise = n_models, n_estimators, noise
        self.n_draws, self.random_state = n_draws, random_state

    def fit(self, lines):
        lib = build_library(self.n_models, lines=list(lines), seed=self.random_state)
        rng = np.random.default_rng(self.random_state)
        x = lib.intensities.to_numpy() * (1 + self.noise * rng.normal(size=lib.intensities.shape))
        x = np.clip(x, 1e-6, None)
        self.lines_ = list(lines)
        self.models_ = {p: AdaBoostRegressor(DecisionTreeRegressor(), n_estimators=self.n_estimators,
                                             random_state=self.random_state).fit(self._features(x), lib.labels[p])
                        for p in PROPS}
        return self

    @staticmethod
    def _features(x):
        return np.log10(np.clip(x / x.max(axis=1, keepdims=True), 1e-6, None))

    def predict_draws(self, flux, err):
        rng = np.random.default_rng(self.random_state)
        n = len(flux)
        draws = flux[:, None, :] + err[:, None, :] * rng.normal(size=(n, self.n_draws, flux.shape[1]))
        draws = np.clip(draws, 1e-3 * flux.max(axis=1)[:, None, None], None).reshape(-1, flux.shape[1])
        x = self._features(draws)
        return {p: m.predict(x).reshape(n, self.n_draws) for p, m in self.models_.items()}


def ratio_map(num, num_err, den, den_err, snr_min=3.0):
    good = (num / num_err >= snr_min) & (den / den_err >= snr_min)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(good, np.log10(num / den), np.nan)


def radial_profile(image, center, bin_width=2.0):
    y, x = np.indices(image.shape)
    r = np.hypot(x - center[0], y - center[1])
    k = (r // bin_width).astype(int)
    good = np.isfinite(image)
    n = k.max() + 1
    c = np.bincount(k[good], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.bincount(k[good], weights=r[good], minlength=n) / c,
                np.bincount(k[good], weights=image[good], minlength=n) / c)
