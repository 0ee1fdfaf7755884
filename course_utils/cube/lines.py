"""Emission-line maps from a cube: Gaussian fits of every spaxel at once.

Each group of lines closer than :data:`BLEND_SEPARATION` (e.g. [NII]6548/H-alpha/[NII]6583,
the [SII] doublet) is fitted jointly in a window around it, with a linear local continuum and
one Gaussian per line. Kinematics are tied to a strong reference line (H-alpha by default):

1. the reference group is fitted with free velocity and dispersion (a Levenberg-Marquardt fit
   run for all spaxels at once as batched small linear systems);
2. every other group is fitted at those kinematics, which makes its fit linear: fluxes and
   their covariance follow in closed form from the ``STAT`` variance.

Line widths are the intrinsic dispersion added in quadrature to MUSE's line-spread function
(:func:`~course_utils.cube.muse.instrumental_sigma`). Under H-alpha and H-beta the stars'
Balmer absorption is fitted too (``absorption_sigma``): a broad Gaussian trough of fixed width
and free depth at the line's velocity, in a window wide enough to hold it. Without it the
emission lines come out too faint, H-beta more than H-alpha (its absorption equivalent width
is similar but its emission is ~3 times fainter), and the Balmer decrement overestimates A_V. A line is *detected* when its S/N reaches
``snr_min``; otherwise it gets an upper limit of ``limit_sigma`` times its error, written in
GAME's convention (intensity = limit, error = -99); lines outside the spectrum or on NaN data
are *missing* (intensity 0, error 0). A line is also missing where any channel of its core
(within :data:`LINE_CORE` Gaussian widths of its centre) is NaN or flagged in ``DQ``: the fit
would otherwise extrapolate the Gaussian over the hole and return a meaningless limit.
[NII]6548 is tied to [NII]6583 by their atomic ratio 1:2.94 whenever [NII]6583 is fitted.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
import numpy as np
import pandas as pd
from astropy.io import fits
from astropy.wcs import WCS

from ..library import MUSE_LINES
from .muse import C_KMS, CubeWarning, MuseCube, image_hdu, instrumental_sigma, write_fits
from .henize2_10 import REDSHIFT
# the fitting machinery; every name stays importable from this module as before
from .linefit import (BALMER_LINES, BLEND_SEPARATION, CHI2_TOL, GAUSS_REACH,  # noqa: F401
                      STEP_TOL, WINDOW, _basis, _chi2, _fit_kinematics, _Group,
                      _matched_filter, _normal, _solve, _variance_from_data, _well_posed,
                      line_groups, rest_wavelengths)

#: Default Gaussian sigma (A) of the stellar Balmer absorption troughs (before the LSF): the
#: profile an astronomer would take from stellar-population models; the synthetic cube uses 10.
ABSORPTION_SIGMA = 10.0
#: Nebular lines close enough to GAME's lines to sit in their windows: fitted as extra
#: free Gaussians when a neighbour is requested, so they do not bias it.
NUISANCE_LINES = ("HeI5016", "SIII6312")
#: Half-width of a line's core in Gaussian widths: one bad channel there makes the line missing.
LINE_CORE = 3.0
#: Spaxels whose reference line has a matched-filter S/N below SCREEN x snr_min are not fitted
#: iteratively (the fit's own S/N, with a free continuum and neighbours, is lower still).
SCREEN = 1.0
#: Spaxels fitted in one batch (~20 kB each, so ~0.4 GB); larger cubes go in strips.
MAX_SPAXELS = 20_000
#: Status codes of :attr:`LineMaps.status`.
MISSING, UPPER_LIMIT, DETECTED = 0, 1, 2
#: GAME's error value marking an upper limit.
GAME_UPPER_LIMIT = -99.0


@dataclass
class LineMaps:
    """Fitted emission-line maps.

    Attributes
    ----------
    lines
        Line names, in the order of the first axis of ``flux``, ``error`` and ``status``.
    flux, error
        Arrays ``(n_lines, ny, nx)`` of line flux and its 1-sigma error (``unit``).
    status
        ``DETECTED`` (2), ``UPPER_LIMIT`` (1) or ``MISSING`` (0) per line and spaxel.
    velocity, sigma
        Line-of-sight velocity relative to ``redshift`` and intrinsic dispersion (km/s),
        from the reference line (NaN where it is not detected).
    wcs, unit
        Celestial WCS of the maps and the flux unit.
    snr_min, limit_sigma, redshift, reference
        The settings used.
    """

    lines: list[str]
    flux: np.ndarray
    error: np.ndarray
    status: np.ndarray
    velocity: np.ndarray
    sigma: np.ndarray
    wcs: WCS
    unit: u.UnitBase
    snr_min: float = 3.0
    limit_sigma: float = 3.0
    redshift: float = REDSHIFT
    reference: str = "Halpha"

    def __getitem__(self, line: str) -> np.ndarray:
        """The flux map of one line."""
        return self.flux[self.lines.index(line)]

    @property
    def shape(self) -> tuple[int, int]:
        return self.flux.shape[1:]

    def snr(self, line: str) -> np.ndarray:
        """Signal-to-noise map of one line."""
        i = self.lines.index(line)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.flux[i] / self.error[i]

    def game_inputs(self, lines=None, min_detected: int = 3
                    ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
        """Intensities and errors in GAME's convention, one row per usable spaxel.

        Detected lines: flux and error. Upper limits: the limit and -99. Missing: 0 and 0.

        Parameters
        ----------
        lines
            Lines to pass on (default: all of :attr:`lines`).
        min_detected
            Only spaxels with at least this many detected lines are returned.

        Returns
        -------
        intensities, errors
            DataFrames with one column per line.
        spaxels
            Integer array ``(n, 2)`` of the (row, column) of each spectrum.
        """
        lines = list(self.lines if lines is None else lines)
        idx = [self.lines.index(l) for l in lines]
        status = self.status[idx].reshape(len(idx), -1).T
        flux = self.flux[idx].reshape(len(idx), -1).T
        err = self.error[idx].reshape(len(idx), -1).T
        keep = (status == DETECTED).sum(axis=1) >= min_detected
        limit = self.limit_sigma * err
        inten = np.select([status == DETECTED, status == UPPER_LIMIT], [flux, limit], 0.0)
        errors = np.select([status == DETECTED, status == UPPER_LIMIT],
                           [err, GAME_UPPER_LIMIT], 0.0)
        rows, cols = np.unravel_index(np.flatnonzero(keep), self.shape)
        return (pd.DataFrame(inten[keep], columns=lines), pd.DataFrame(errors[keep], columns=lines),
                np.column_stack([rows, cols]))

    def write(self, path: str | Path) -> Path:
        """Write flux, error and status maps (one extension each per line) plus kinematics."""
        path = Path(path)
        unit = self.unit.to_string()
        hdus = [fits.PrimaryHDU()]
        hdus[0].header.update(REDSHIFT=self.redshift, SNR_MIN=self.snr_min,
                              LIMSIG=self.limit_sigma, REFLINE=self.reference)
        for i, line in enumerate(self.lines):
            hdus.append(image_hdu(self.flux[i], self.wcs, line, unit, f"flux of {line}"))
            hdus.append(image_hdu(self.error[i], self.wcs, f"{line}_ERR", unit))
            hdus.append(image_hdu(self.status[i], self.wcs, f"{line}_STATUS", "",
                                  "2 detected, 1 upper limit, 0 missing"))
        hdus.append(image_hdu(self.velocity, self.wcs, "VELOCITY", "km/s"))
        hdus.append(image_hdu(self.sigma, self.wcs, "SIGMA", "km/s"))
        return write_fits(hdus, path)

    def strip(self, rows: slice) -> "LineMaps":
        """The maps of image rows ``rows`` (the inverse of :meth:`concatenate`)."""
        return LineMaps(self.lines, self.flux[:, rows], self.error[:, rows],
                        self.status[:, rows], self.velocity[rows], self.sigma[rows],
                        self.wcs[rows, :], self.unit, self.snr_min, self.limit_sigma,
                        self.redshift, self.reference)

    @classmethod
    def concatenate(cls, parts: list["LineMaps"], wcs: WCS) -> "LineMaps":
        """Stack maps of consecutive row strips (as made by the chunked pipeline)."""
        first = parts[0]
        return cls(first.lines, np.concatenate([p.flux for p in parts], axis=1),
                   np.concatenate([p.error for p in parts], axis=1),
                   np.concatenate([p.status for p in parts], axis=1),
                   np.concatenate([p.velocity for p in parts], axis=0),
                   np.concatenate([p.sigma for p in parts], axis=0), wcs, first.unit,
                   first.snr_min, first.limit_sigma, first.redshift, first.reference)


def fit_line_maps(cube: MuseCube, lines=MUSE_LINES, redshift: float = REDSHIFT,
                  reference: str = "Halpha", snr_min: float = 3.0, limit_sigma: float = 3.0,
                  rows: slice | None = None, v_max: float = 500.0,
                  s_max: float = 500.0, fallback_sigma: float = 50.0,
                  absorption_sigma: float | None = ABSORPTION_SIGMA) -> LineMaps:
    """Fit emission lines in every spaxel of a cube at once.

    Parameters
    ----------
    cube
        From :func:`~course_utils.cube.read_muse_cube`.
    lines
        Line names (grid names, see :func:`course_utils.library.line_table`) or a mapping
        ``{name: rest air wavelength in A}``; default GAME's ten MUSE lines.
    redshift
        Systemic redshift; velocities are relative to it.
    reference
        Strong line whose fit sets the velocity and dispersion of all lines.
    snr_min
        Minimum S/N for a detection.
    limit_sigma
        Upper limits are ``limit_sigma`` times the flux error.
    rows
        Fit only these image rows (used by the chunked pipeline); default all.
    v_max, s_max
        Bounds (km/s) on |velocity| and on the intrinsic dispersion.
    fallback_sigma
        Intrinsic dispersion (km/s) assumed where the reference line is not detected (the
        velocity is then the systemic one).
    absorption_sigma
        Gaussian sigma (A) of the stellar Balmer absorption fitted under H-alpha and H-beta;
        None fits no absorption (for pure emission-line cubes).

    Returns
    -------
    LineMaps
    """
    ny_all, nx = cube.shape[1:]
    if rows is None and ny_all * nx > MAX_SPAXELS:
        # a full-field MUSE cube (~90 000 spaxels) in strips, to bound the memory of the
        # batched fits; spaxels are independent, so the result is the same
        step = max(1, MAX_SPAXELS // nx)
        settings = dict(lines=lines, redshift=redshift, reference=reference, snr_min=snr_min,
                        limit_sigma=limit_sigma, v_max=v_max, s_max=s_max,
                        fallback_sigma=fallback_sigma, absorption_sigma=absorption_sigma)
        maps = LineMaps.concatenate([fit_line_maps(cube, rows=slice(y, min(y + step, ny_all)),
                                                   **settings)
                                     for y in range(0, ny_all, step)], cube.wcs)
        warn_if_undetected(maps, cube.path)
        return maps
    rows = rows or slice(None)
    rest = rest_wavelengths(lines)
    names = list(rest)
    if reference not in rest:
        rest.update(rest_wavelengths([reference]))
    for extra, lam in rest_wavelengths(list(NUISANCE_LINES)).items():
        if extra not in rest and min(abs(lam - l) for l in rest.values()) < BLEND_SEPARATION:
            rest[extra] = lam
    groups = line_groups(rest, cube.wavelength, redshift, absorption_sigma)
    ny = len(range(ny_all)[rows])
    n = ny * nx

    def window(group):
        y = np.asarray(cube.data[group.lo:group.hi, rows, :], dtype=float).reshape(-1, n).T
        if cube.variance is None:
            var = _variance_from_data(y)
        else:
            var = np.asarray(cube.variance[group.lo:group.hi, rows, :], float).reshape(-1, n).T
        # NaN (or a DQ flag) marks unusable data in MUSE products: such channels get no
        # weight. (cube.mask is not used, so a strip of the cube is fitted as in the whole)
        good = np.isfinite(y) & np.isfinite(var) & (var > 0)
        if cube.dq is not None:
            good &= np.asarray(cube.dq[group.lo:group.hi, rows, :]).reshape(-1, n).T == 0
        w = np.where(good, 1.0 / np.where(good, var, 1.0), 0.0)
        return np.where(good, y, 0.0), w, good.sum(axis=1)

    def holed(group, j, w, v, s):
        """Spaxels with a bad channel in the core of the line of free flux j."""
        wave = cube.wavelength[group.lo:group.hi]
        bad = np.zeros(n, bool)
        for lam in group.rest[group.param == j]:
            mu = lam * (1 + redshift) * (1 + np.nan_to_num(v) / C_KMS)
            sig = np.sqrt((mu * np.nan_to_num(s) / C_KMS) ** 2 + instrumental_sigma(mu) ** 2)
            core = np.abs(wave[None, :] - mu[:, None]) < LINE_CORE * sig[:, None]
            bad |= (core & (w == 0)).any(axis=1)
        return bad

    flux = {l: np.full(n, np.nan) for l in rest}
    error = {l: np.full(n, np.nan) for l in rest}
    usable = {l: np.zeros(n, bool) for l in rest}

    ref_group = next(g for g in groups if reference in g.names)
    if ref_group.hi == 0:
        raise ValueError(f"reference line {reference} is outside the cube's wavelength range")
    ref_window = window(ref_group)
    y, w, count = ref_window
    ref_j = ref_group.names.index(reference)
    k = ref_group.n_coef
    fit = count > k + 2
    v = np.full(n, np.nan)
    s = np.full(n, np.nan)
    cov_ref = np.full((n, k + 2, k + 2), np.nan)
    coef_ref = np.full((n, k), np.nan)
    if fit.any():
        v[fit], s[fit], coef_ref[fit], cov_ref[fit] = _fit_kinematics(
            cube.wavelength, ref_group, y[fit], w[fit], redshift, ref_j, v_max, s_max,
            SCREEN * snr_min)
    ref_err = np.sqrt(cov_ref[:, 2 + ref_j, 2 + ref_j])
    detected_ref = (fit & (coef_ref[:, 2 + ref_j] >= snr_min * ref_err)
                    & ~holed(ref_group, ref_j, w, v, s))
    # where the reference line is too faint, measure (or bound) the others at the systemic
    # velocity and a fixed dispersion: no spaxel depends on its neighbours, so fitting the
    # cube in strips gives the same numbers
    v_use = np.where(detected_ref, v, 0.0)
    s_use = np.where(detected_ref, s, fallback_sigma)

    for group in groups:
        if group.hi == 0:
            continue  # outside the spectrum: missing
        y, w, count = ref_window if group is ref_group else window(group)
        ok = count > group.n_coef + 2
        # at the fallback kinematics every spaxel has the same model: one basis for all
        coef = np.full((n, group.n_coef), np.nan)
        cov = np.full((n, group.n_coef, group.n_coef), np.nan)
        for sel, shared in ((detected_ref, False), (~detected_ref, True)):
            if not sel.any():
                continue
            first = np.flatnonzero(sel)[:1] if shared else sel
            basis = _basis(cube.wavelength, group, redshift, v_use[first], s_use[first])
            coef[sel], cov[sel] = _solve(basis[0] if shared else basis, y[sel], w[sel])
        for j, line in enumerate(group.names):
            flux[line] = np.where(ok, coef[:, 2 + j], np.nan)
            error[line] = np.where(ok, np.sqrt(cov[:, 2 + j, 2 + j]), np.nan)
            usable[line] = (ok & np.isfinite(flux[line]) & np.isfinite(error[line])
                            & ~holed(group, j, w, v_use, s_use))
        if group is ref_group:  # errors include the uncertainty of the kinematics
            for j, line in enumerate(group.names):
                e = np.sqrt(cov_ref[:, 2 + j, 2 + j])
                error[line] = np.where(detected_ref & np.isfinite(e), e, error[line])

    status = np.zeros((len(names), n), dtype=np.int8)
    for i, line in enumerate(names):
        status[i] = np.where(usable[line], UPPER_LIMIT, MISSING)
        status[i][usable[line] & (flux[line] >= snr_min * error[line])] = DETECTED
    shape = (ny, nx)
    maps = LineMaps(
        lines=names,
        flux=np.stack([flux[l] for l in names]).reshape((-1,) + shape),
        error=np.stack([error[l] for l in names]).reshape((-1,) + shape),
        status=status.reshape((-1,) + shape),
        velocity=np.where(detected_ref, v, np.nan).reshape(shape),
        sigma=np.where(detected_ref, s, np.nan).reshape(shape),
        wcs=cube.wcs[rows, :] if rows != slice(None) else cube.wcs,
        unit=cube.unit * u.AA, snr_min=snr_min, limit_sigma=limit_sigma, redshift=redshift,
        reference=reference)
    if rows == slice(None):  # the whole cube (strips are checked once they are put together)
        warn_if_undetected(maps, cube.path)
    return maps


#: S/N of the reference line that noise alone practically never reaches in a cube.
CLEAR_SNR = 10.0


def warn_if_undetected(line_maps: LineMaps, source) -> None:
    """Warn (:class:`~course_utils.cube.muse.CubeWarning`) when no spaxel of a cube has its
    reference line clearly detected (S/N >= :data:`CLEAR_SNR`): the maps then hold NaN and
    detections no more frequent than noise gives (a fit that may move the line across
    +-``v_max`` finds 3-sigma peaks in a few spaxels in a thousand)."""
    detected = np.isfinite(line_maps.velocity)
    clear = detected
    if line_maps.reference in line_maps.lines:
        with np.errstate(invalid="ignore"):
            clear = detected & (line_maps.snr(line_maps.reference) >= CLEAR_SNR)
    if clear.any():
        return
    warnings.warn(f"{source}: no spaxel has {line_maps.reference} detected at S/N >= "
                  f"{CLEAR_SNR:g} ({int(detected.sum())} at S/N >= {line_maps.snr_min:g}, as "
                  f"noise alone gives) at redshift {line_maps.redshift:g}: check the redshift "
                  "and the STAT extension (variances)", CubeWarning, stacklevel=3)


def blend_model(group: _Group, wavelength: np.ndarray, redshift: float = REDSHIFT):
    """An :mod:`astropy.modeling` model of one blend whose parameters are the quantities
    wanted: continuum ``c0`` + ``c1`` t (t = (wavelength - window centre) / WINDOW), one
    ``flux_<line>`` per line, one ``absorption_<line>`` per stellar Balmer trough (its area,
    negative for absorption), and the shared ``velocity`` and intrinsic ``sigma`` (km/s).
    Each line is a Gaussian of width sqrt((mean sigma / c)^2 + MUSE LSF^2)."""
    from astropy.modeling import Fittable1DModel, Parameter

    centre = float(np.mean(wavelength[group.lo:group.hi]))
    rest, param, ratio = group.rest, group.param, group.ratio
    n_lines = len(group.names)

    def gaussian(x, mu, sig):
        return np.exp(-0.5 * ((x - mu) / sig) ** 2) / (sig * np.sqrt(2 * np.pi))

    def evaluate(self, x, c0, c1, *rest_params):
        *amplitudes, v, s = rest_params
        fluxes, troughs = amplitudes[:n_lines], amplitudes[n_lines:]
        out = c0 + c1 * (x - centre) / WINDOW
        for lam, j, r in zip(rest, param, ratio):
            mu = lam * (1 + redshift) * (1 + v / C_KMS)
            sig = np.sqrt((mu * s / C_KMS) ** 2 + instrumental_sigma(mu) ** 2)
            out = out + r * fluxes[j] * gaussian(x, mu, sig)
        for lam, area in zip(group.absorb, troughs):
            mu = lam * (1 + redshift) * (1 + v / C_KMS)
            sig = np.sqrt(group.absorb_sigma ** 2 + instrumental_sigma(mu) ** 2)
            out = out + area * gaussian(x, mu, sig)
        return out

    attrs = {"c0": Parameter(default=0.0), "c1": Parameter(default=0.0)}
    attrs.update({f"flux_{n}": Parameter(default=1.0) for n in group.names})
    balmer = [n for n in group.names if n in BALMER_LINES][:len(group.absorb)]
    attrs.update({f"absorption_{n}": Parameter(default=0.0) for n in balmer})
    attrs.update(velocity=Parameter(default=0.0), sigma=Parameter(default=50.0, bounds=(0, None)),
                 evaluate=evaluate, __doc__=f"Blend of {', '.join(group.names)}")
    return type("LineBlend", (Fittable1DModel,), attrs)


def fit_spaxel(wavelength: np.ndarray, flux: np.ndarray, variance: np.ndarray, lines,
               redshift: float = REDSHIFT, velocity: float = 0.0, sigma: float = 50.0,
               absorption_sigma: float | None = ABSORPTION_SIGMA):
    """Fit one blend in one spectrum with :mod:`astropy.modeling` (the teaching version).

    A linear continuum plus one Gaussian per line, sharing one velocity and one intrinsic
    dispersion convolved with MUSE's line-spread function, and a stellar absorption trough
    under H-alpha or H-beta (width ``absorption_sigma``, None for none) -- the model
    :func:`fit_line_maps` fits to all spaxels at once. The fitter is weighted by
    1/sqrt(variance), so the parameter covariance gives the flux errors.

    Parameters
    ----------
    wavelength, flux, variance
        One spectrum; only the window around the lines is used.
    lines
        Names (or ``{name: wavelength}``) of the lines of one blend, e.g.
        ``["Halpha", "NII6583"]`` ([NII]6548 is added, tied to [NII]6583).
    redshift, velocity, sigma
        Systemic redshift, and starting velocity and intrinsic dispersion (km/s).

    Returns
    -------
    result : dict
        ``flux`` and ``error`` (dicts by line), ``velocity`` and ``sigma`` (km/s), the fitted
        astropy ``model`` and the ``wavelength`` window fitted.
    """
    from astropy.modeling import fitting

    rest = rest_wavelengths(lines)
    wave = np.asarray(wavelength, dtype=float)
    groups = line_groups(rest, wave, redshift, absorption_sigma)
    if len(groups) != 1 or groups[0].hi == 0:
        raise ValueError(f"lines {list(rest)} do not form one blend inside the spectrum")
    group = groups[0]
    sl = slice(group.lo, group.hi)
    x, y, var = wave[sl], np.asarray(flux, float)[sl], np.asarray(variance, float)[sl]
    good = np.isfinite(y) & np.isfinite(var) & (var > 0)
    x, y, var = x[good], y[good], var[good]
    model = blend_model(group, wave, redshift)(velocity=velocity, sigma=sigma, c0=np.median(y))
    for n in group.names:  # start from the peak above the continuum
        getattr(model, f"flux_{n}").value = max(np.ptp(y), 1.0) * 3.0
    fitter = fitting.LevMarLSQFitter()
    fitted = fitter(model, x, y, weights=1.0 / np.sqrt(var), maxiter=2000)
    cov = fitter.fit_info["param_cov"]
    err = np.sqrt(np.diag(cov)) if cov is not None else np.full(len(fitted.parameters), np.nan)
    names = list(fitted.param_names)
    return {"flux": {n: float(getattr(fitted, f"flux_{n}").value) for n in group.names},
            "error": {n: float(err[names.index(f"flux_{n}")]) for n in group.names},
            "velocity": float(fitted.velocity.value), "sigma": float(abs(fitted.sigma.value)),
            "model": fitted, "wavelength": x}
