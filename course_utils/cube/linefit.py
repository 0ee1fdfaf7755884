"""Gaussian line fits of every spaxel at once: the machinery behind
:func:`~course_utils.cube.lines.fit_line_maps`.

Lines closer than :data:`BLEND_SEPARATION` form a blend (:func:`line_groups`), modelled in a
channel window as a linear local continuum plus one Gaussian per line, widened by MUSE's
line-spread function, and, under H-alpha and H-beta, a stellar absorption trough
(:func:`_basis`). At fixed kinematics the model is linear in the continuum, the fluxes and the
absorption depths, so they and their covariance follow from weighted linear least squares
(:func:`_solve`), batched over spaxels as many small normal systems. The velocity and
dispersion of the reference blend are fitted by Levenberg-Marquardt (:func:`_fit_kinematics`),
started at a matched-filter peak (:func:`_matched_filter`). Batching keeps a whole MUSE cube
to numpy array operations instead of one Python-level fit per spaxel.

:mod:`~course_utils.cube.lines` turns these fits into line maps with detections and upper
limits; it re-exports the names defined here.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..library import DERIVED_LINES, canonical_lines, line_table
from .muse import C_KMS, instrumental_sigma

#: Lines closer than this (A, rest frame) are fitted together as a blend.
BLEND_SEPARATION = 25.0
#: Half-width (A, observed) of continuum on either side of a group's outermost lines.
WINDOW = 25.0
#: Balmer lines whose stellar absorption can be fitted (``absorption_sigma``).
BALMER_LINES = ("Hbeta", "Halpha")
#: Gaussians are evaluated within this many widths of their centre (exp(-0.5 * 7**2) ~ 2e-11).
GAUSS_REACH = 7.0
#: Convergence of the kinematic fit: a step that lowers chi2 by less than CHI2_TOL, or moves
#: velocity and dispersion by less than STEP_TOL km/s (far below their errors), is the last.
CHI2_TOL, STEP_TOL = 0.01, 0.05


@dataclass
class _Group:
    names: list[str]            # lines with a free flux, in wavelength order
    rest: np.ndarray            # rest wavelength of every Gaussian component
    param: np.ndarray           # index into names of the flux each component carries
    ratio: np.ndarray           # flux of the component / flux of its parameter
    lo: int = 0                 # channel window [lo, hi)
    hi: int = 0
    absorb: np.ndarray = None   # rest wavelengths of the stellar absorption troughs
    absorb_sigma: float = 0.0   # their Gaussian sigma (A)

    @property
    def n_coef(self) -> int:
        """Linear coefficients: continuum (2), line fluxes, absorption depths."""
        return 2 + len(self.names) + len(self.absorb)


def rest_wavelengths(lines) -> dict[str, float]:
    """Air rest wavelengths (A) of lines given by name or alias (``"[NII]6584"``), or pass a
    ``{name: wavelength}`` mapping for lines the course's list does not have."""
    if isinstance(lines, dict):
        return {str(k): float(v) for k, v in lines.items()}
    names = canonical_lines(list(lines))
    table = line_table(derived=True)["wavelength"]
    return {n: float(table[n]) for n in names}


def line_groups(rest: dict[str, float], wave: np.ndarray, redshift: float,
                absorption_sigma: float | None = None) -> list[_Group]:
    """Split lines into blends and find each blend's channel window in ``wave``.

    With ``absorption_sigma``, blends holding a Balmer line get a stellar absorption trough
    under it and a window of at least 4 ``absorption_sigma`` around their lines."""
    names = sorted(rest, key=rest.get)
    comps = [(rest[n], n, 1.0) for n in names]
    for child, (parent, ratio, lam, _) in DERIVED_LINES.items():
        if parent in rest and child not in rest:
            comps.append((lam, parent, ratio))
    comps.sort()
    groups, current = [], [comps[0]]
    for c in comps[1:]:
        if c[0] - current[-1][0] < BLEND_SEPARATION:
            current.append(c)
        else:
            groups.append(current)
            current = [c]
    groups.append(current)
    # a tied line far from every fitted line (e.g. [OIII]4959 when [OIII]5007 is fitted) makes
    # no group of its own: its parent's flux is measured on the parent
    groups = [g for g in groups if any(c[1] in rest and c[0] == rest[c[1]] for c in g)]
    out = []
    for g in groups:
        free = sorted({n for _, n, _ in g}, key=rest.get)
        absorb = [rest[n] for n in free if n in BALMER_LINES] if absorption_sigma else []
        group = _Group(free, np.array([c[0] for c in g]),
                       np.array([free.index(c[1]) for c in g]), np.array([c[2] for c in g]),
                       absorb=np.array(absorb, dtype=float),
                       absorb_sigma=float(absorption_sigma or 0.0))
        half = max(WINDOW, 4 * group.absorb_sigma) if absorb else WINDOW
        lo_w = group.rest.min() * (1 + redshift) - half
        hi_w = group.rest.max() * (1 + redshift) + half
        if lo_w >= wave[0] and hi_w <= wave[-1]:
            group.lo, group.hi = np.searchsorted(wave, [lo_w, hi_w])
        out.append(group)
    return out


# ------------------------------------------------------------------ batched model and fits

def _basis(wave: np.ndarray, group: _Group, redshift: float, v: np.ndarray,
           s: np.ndarray, derivatives: bool = False):
    """Design matrix (n_spaxels, n_channels, n_coef): continuum 1, t, one column per free
    flux (its Gaussians, unit flux), then one per absorption trough (unit area).

    With ``derivatives``, also the derivatives of every column with respect to the velocity
    and to the intrinsic dispersion (same shape), computed analytically from the same
    Gaussians."""
    w = wave[group.lo:group.hi]
    n, m = len(v), len(w)
    basis = np.zeros((n, m, group.n_coef))
    d_v = np.zeros_like(basis) if derivatives else None
    d_s = np.zeros_like(basis) if derivatives else None
    basis[:, :, 0] = 1.0
    basis[:, :, 1] = (w - w.mean()) / WINDOW
    components = [(lam, r, 2 + j, True) for lam, r, j in zip(group.rest, group.ratio, group.param)]
    components += [(lam, 1.0, 2 + len(group.names) + k, False)
                   for k, lam in enumerate(group.absorb)]
    for lam, ratio, j, emission in components:
        dmu_dv = lam * (1 + redshift) / C_KMS
        mu = dmu_dv * (C_KMS + v)                                                # (n,)
        inst = instrumental_sigma(mu)
        width2 = (mu * s / C_KMS) ** 2 if emission else group.absorb_sigma ** 2
        sig = np.sqrt(width2 + inst ** 2)
        # only the channels within GAUSS_REACH widths of the line in some spaxel; beyond, the
        # Gaussian (< 1e-10 of its peak) is set to 0 in every spaxel, so that a spaxel's
        # model does not depend on the other spaxels of its batch
        lo, hi = np.searchsorted(w, [np.min(mu - GAUSS_REACH * sig),
                                     np.max(mu + GAUSS_REACH * sig)])
        if lo >= hi:
            continue
        z = w[None, lo:hi] - mu[:, None]                                         # (n, L)
        z /= sig[:, None]
        zz = z * z
        g = np.exp(-0.5 * zz)
        g[zz > GAUSS_REACH ** 2] = 0.0
        g *= (ratio / (sig * np.sqrt(2 * np.pi)))[:, None]
        basis[:, lo:hi, j] += g
        if not derivatives:
            continue
        dinst = (instrumental_sigma(mu + 0.01) - instrumental_sigma(mu - 0.01)) / 0.02
        dsig_dmu = (inst * dinst + (mu * (s / C_KMS) ** 2 if emission else 0.0)) / sig
        g /= sig[:, None]                    # now q: dG/dmu = q z, dG/dsig = q (z^2 - 1)
        zz -= 1.0
        if emission:
            d_s[:, lo:hi, j] += g * zz * (mu ** 2 * s / (C_KMS ** 2 * sig))[:, None]
        zz *= dsig_dmu[:, None]
        zz += z
        zz *= dmu_dv
        g *= zz
        d_v[:, lo:hi, j] += g
    return (basis, d_v, d_s) if derivatives else basis


def _normal(basis: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Batched normal matrices B^T W B."""
    return np.matmul((basis * w[:, :, None]).transpose(0, 2, 1), basis)


def _well_posed(scaled: np.ndarray, limit: float = 1e-12) -> np.ndarray:
    """True where a unit-diagonal matrix is safely invertible (its determinant is not ~0)."""
    finite = np.isfinite(scaled).all(axis=(1, 2))
    det = np.zeros(len(scaled))
    det[finite] = np.linalg.det(scaled[finite])
    return finite & (det > limit)


def _solve(basis: np.ndarray, y: np.ndarray, w: np.ndarray, return_normal: bool = False):
    """Weighted least squares for every spaxel: coefficients and their covariance (and the
    normal matrices B^T W B with ``return_normal``).

    ``basis`` is per spaxel, (n, m, k), or shared by all of them, (m, k): then the normal
    matrices are sums over channels of the weights times fixed products (cheaper)."""
    if basis.ndim == 2:
        normal = np.einsum("nm,mij->nij", w, basis[:, :, None] * basis[:, None, :])
        rhs = np.einsum("mi,nm->ni", basis, w * y)
    else:
        normal = _normal(basis, w)
        rhs = np.einsum("nmi,nm->ni", basis, w * y)
    # scale to unit diagonal so continuum and line columns are equally well conditioned
    diag = np.diagonal(normal, axis1=1, axis2=2)
    d = np.sqrt(np.where(diag > 0, diag, 1.0))
    scaled = normal / d[:, :, None] / d[:, None, :]
    bad = ~_well_posed(scaled)
    scaled[bad] = np.eye(scaled.shape[-1])
    cov = np.linalg.inv(scaled) / d[:, :, None] / d[:, None, :]
    coef = np.einsum("nij,nj->ni", cov, rhs)
    coef[bad] = np.nan
    cov[bad] = np.nan
    return (coef, cov, normal) if return_normal else (coef, cov)


def _chi2(basis, coef, y, w):
    r = y - np.matmul(basis, coef[:, :, None])[:, :, 0]
    return np.einsum("nm,nm->n", w * r, r)


def _matched_filter(wave, group, y, w, redshift, lam_rest, v_max, s_max,
                    sigmas=(20.0, 50.0, 120.0)):
    """A cheap first look at every spaxel before the iterative fit: Gaussian matched filters
    of a line of intrinsic dispersion ``sigmas`` (km/s) on the window's median continuum.

    Returns the velocity of the strongest peak within +-v_max (refined between channels by a
    parabola), a dispersion (the parabola through the S/N of the three widths, in log sigma)
    and the peak's S/N."""
    from scipy.ndimage import correlate1d

    w_obs = wave[group.lo:group.hi]
    lam = lam_rest * (1 + redshift)
    step = float(np.median(np.diff(w_obs)))
    used = w > 0
    with warnings.catch_warnings():  # spaxels without data: no continuum, S/N 0 below
        warnings.simplefilter("ignore", RuntimeWarning)
        continuum = np.nanmedian(np.where(used, y, np.nan), axis=1)
    excess = w * np.where(used, y - np.nan_to_num(continuum)[:, None], 0.0)
    near = np.flatnonzero(np.abs(w_obs - lam) <= lam * v_max / C_KMS)
    n = len(y)
    snr = np.zeros((len(sigmas), n, near.size))
    for i, sigma in enumerate(sigmas):
        width = float(np.sqrt((lam * sigma / C_KMS) ** 2 + instrumental_sigma(lam) ** 2)) / step
        kernel = np.exp(-0.5 * (np.arange(-int(np.ceil(4 * width)),
                                          int(np.ceil(4 * width)) + 1) / width) ** 2)
        num = correlate1d(excess, kernel, axis=1, mode="constant")[:, near]
        den = correlate1d(w, kernel ** 2, axis=1, mode="constant")[:, near]
        snr[i] = np.divide(num, np.sqrt(den), out=np.zeros_like(num), where=den > 0)
    best_width, best = np.unravel_index(np.argmax(snr.transpose(1, 0, 2).reshape(n, -1), axis=1),
                                        snr.shape[::2])
    rows = np.arange(n)
    peak = snr[best_width, rows, best]
    # parabola through the peak and its neighbours: the velocity between channels
    left = snr[best_width, rows, np.clip(best - 1, 0, near.size - 1)]
    right = snr[best_width, rows, np.clip(best + 1, 0, near.size - 1)]
    curve = left - 2 * peak + right
    shift = np.where((curve < 0) & (best > 0) & (best < near.size - 1),
                     0.5 * (left - right) / np.where(curve < 0, curve, -1.0), 0.0)
    v = ((w_obs[near][best] + shift * step) / lam - 1) * C_KMS
    # and through the three widths at that channel: the dispersion
    at = snr[:, rows, best]                                                     # (3, n)
    x = np.log(sigmas)
    fit = np.polynomial.polynomial.polyfit(x, at, 2)                            # (3, n)
    top = np.where(fit[2] < 0, -fit[1] / (2 * np.where(fit[2] < 0, fit[2], -1.0)), np.nan)
    sigma = np.where(np.isfinite(top), np.exp(np.clip(top, x[0], x[-1])), sigmas[1])
    return np.clip(v, -v_max, v_max), np.clip(sigma, 1.0, s_max), peak


def _fit_kinematics(wave, group, y, w, redshift, ref_index, v_max, s_max, snr_screen,
                    n_iter=40):
    """Levenberg-Marquardt fit of (velocity, intrinsic sigma) with fluxes and continuum
    solved linearly at each step; returns v, s, coefficients and their full covariance.

    The fit starts at the matched-filter peak of the reference line. Spaxels whose peak has
    S/N < ``snr_screen`` (sky, or gas too faint for a detection) are not iterated: their
    parameters stay at that start, and the caller finds the line undetected there."""
    lam = group.rest[group.param == ref_index][0]
    v_start, s_start, peak = _matched_filter(wave, group, y, w, redshift, lam, v_max, s_max)
    n_all = len(y)
    out = (v_start, s_start, np.full((n_all, group.n_coef), np.nan),
           np.full((n_all, group.n_coef + 2, group.n_coef + 2), np.nan))
    screened = np.flatnonzero(peak >= snr_screen)
    if screened.size == 0:
        return out
    y, w, v, s = y[screened], w[screened], v_start[screened], s_start[screened]
    n = len(y)
    k = group.n_coef + 2
    # a weak prior (1000 km/s) keeps the normal matrix invertible when sigma -> 0
    ridge = np.zeros((k, k))
    ridge[-2, -2] = ridge[-1, -1] = 1e-6

    def linearise(y, w, basis, d_v, d_s, coef, bwb):
        """Jacobian J = [basis, d model/dv, d model/ds], J^T W J (from the linear fit's
        B^T W B plus the derivative terms) and J^T W r."""
        deriv = np.stack([np.matmul(d_v, coef[:, :, None])[:, :, 0],
                          np.matmul(d_s, coef[:, :, None])[:, :, 0]], axis=2)    # (n, m, 2)
        jac = np.concatenate([basis, deriv], axis=2)
        wd = w[:, :, None] * deriv
        normal = np.empty((len(y), k, k))
        normal[:, :-2, :-2] = bwb
        normal[:, :-2, -2:] = np.matmul(basis.transpose(0, 2, 1), wd)
        normal[:, -2:, :-2] = normal[:, :-2, -2:].transpose(0, 2, 1)
        normal[:, -2:, -2:] = np.matmul(deriv.transpose(0, 2, 1), wd)
        resid = y - np.matmul(basis, coef[:, :, None])[:, :, 0]
        rhs = np.einsum("nmi,nm->ni", jac, w * resid)
        return normal + ridge, rhs, np.einsum("nm,nm->n", w * resid, resid)

    basis, d_v, d_s = _basis(wave, group, redshift, v, s, derivatives=True)
    coef, _, bwb = _solve(basis, y, w, return_normal=True)
    normal, rhs, chi2 = linearise(y, w, basis, d_v, d_s, coef, bwb)
    damping = np.full(n, 1e-3)
    active = np.isfinite(chi2)
    for _ in range(n_iter):
        a = np.flatnonzero(active)
        if a.size == 0:
            break
        diag = np.diagonal(normal[a], axis1=1, axis2=2)
        damped = normal[a] + damping[a, None, None] * (diag[:, :, None] * np.eye(k))
        d = np.sqrt(np.diagonal(damped, axis1=1, axis2=2))
        ok = _well_posed(damped / d[:, :, None] / d[:, None, :], 1e-14)
        step = np.zeros((a.size, k))
        step[ok] = np.linalg.solve(damped[ok], rhs[a][ok][:, :, None])[:, :, 0]
        v_new = np.clip(v[a] + step[:, -2], -v_max, v_max)
        s_new = np.clip(np.abs(s[a] + step[:, -1]), 0.0, s_max)
        b_new, dv_new, ds_new = _basis(wave, group, redshift, v_new, s_new, derivatives=True)
        coef_new, _, bwb_new = _solve(b_new, y[a], w[a], return_normal=True)
        chi2_new = _chi2(b_new, coef_new, y[a], w[a])
        better = np.isfinite(chi2_new) & (chi2_new < chi2[a])
        # converged: the accepted step changed chi2 by a statistically meaningless amount,
        # or the steps (damped ever more after rejections) no longer move the kinematics
        small = (np.abs(v_new - v[a]) < STEP_TOL) & (np.abs(s_new - s[a]) < STEP_TOL)
        done = (better & (chi2[a] - chi2_new < CHI2_TOL)) | small | ~ok
        take = a[better]
        v[take], s[take], coef[take] = v_new[better], s_new[better], coef_new[better]
        # rejected steps leave a spaxel's linearisation as it was: only accepted ones redo it
        normal[take], rhs[take], chi2[take] = linearise(
            y[take], w[take], b_new[better], dv_new[better], ds_new[better], coef_new[better],
            bwb_new[better])
        damping[a] = np.where(better, damping[a] / 10, damping[a] * 10).clip(1e-9, 1e9)
        active[a[done]] = False
    d = np.sqrt(np.diagonal(normal, axis1=1, axis2=2))
    scaled = normal / d[:, :, None] / d[:, None, :]
    ok = _well_posed(scaled, 1e-14)
    cov = np.full_like(normal, np.nan)
    cov[ok] = np.linalg.inv(scaled[ok]) / d[ok][:, :, None] / d[ok][:, None, :]
    # spaxels not fitted keep the matched filter's velocity, and no errors: not detected
    for full, part in zip(out, (v, s, coef, cov)):
        full[screened] = part
    return out


def _variance_from_data(y: np.ndarray) -> np.ndarray:
    """Per-spaxel noise estimate for cubes without STAT: MAD of channel-to-channel steps."""
    diff = np.diff(y, axis=1)
    with warnings.catch_warnings():  # NaN spaxels have no noise estimate: NaN is the answer
        warnings.simplefilter("ignore", RuntimeWarning)
        mad = np.nanmedian(np.abs(diff - np.nanmedian(diff, axis=1, keepdims=True)), axis=1)
    return np.broadcast_to(((1.4826 * mad) ** 2 / 2.0)[:, None], y.shape).copy()
