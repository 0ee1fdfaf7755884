"""Classical maps from emission-line maps: the baselines GAME is measured against.

- :func:`balmer_av`      A_V from the Balmer decrement, with any R_V-dependent curve;
- :func:`deredden`       line fluxes corrected for that attenuation;
- :func:`sii_density`    electron density from [SII] 6716/6731 (PyNeb);
- :func:`te_nii`, :func:`te_siii`  electron temperatures from the auroral-to-nebular ratios
  [NII] 6584/5755 and [SIII] 9069/6312 (PyNeb), where the auroral line is detected;
- :func:`strong_line_oh` 12+log(O/H) from the strong-line calibrations of
  :mod:`course_utils.diagnostics`.

Densities and temperatures use PyNeb's atomic data (Luridiana et al. 2015): its emissivity
ratios are tabulated once on a fine grid of density and temperature and inverted by
interpolation, which agrees with PyNeb's own solver (``getTemDen``, see
:mod:`course_utils.nebular`) to 0.5% and takes milliseconds for a whole map instead of ~30 ms
per spaxel.

Every map is NaN where a line it needs is not detected (status ``DETECTED``): a classical
estimate from an upper limit would be a limit too, and is not made.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import diagnostics, nebular
from ..library import R_V, extinction_curve, line_table
from .lines import DETECTED, LineMaps

#: Case B H-alpha/H-beta at 10^4 K and 100 cm^-3 (PyNeb's hydrogen emissivities, Storey &
#: Hummer 1995, give 2.863), the intrinsic decrement assumed by the Balmer-decrement method.
CASE_B_HALPHA_HBETA = 2.86
#: Strong-line calibrations known to :func:`strong_line_oh`.
STRONG_LINE_METHODS = ("PP04 N2", "PP04 O3N2", "M13 N2", "M13 O3N2", "D16")


def _detected(line_maps: LineMaps, *lines: str) -> np.ndarray:
    missing = [l for l in lines if l not in line_maps.lines]
    if missing:
        raise KeyError(f"these maps need the lines {missing}, which were not fitted; pass them "
                       "to fit_line_maps(lines=...)")
    return np.all([line_maps.status[line_maps.lines.index(l)] == DETECTED for l in lines],
                  axis=0)


def _curve(lines, curve: str, r_v) -> np.ndarray:
    """A_lambda / A_V of ``lines``: shape (n_lines,) for a scalar R_V, else (n_lines, ny, nx)."""
    wave = line_table(derived=True)["wavelength"][list(lines)].to_numpy()
    r_v = np.asarray(r_v, dtype=float)
    if r_v.ndim == 0:
        return extinction_curve(wave, curve, float(r_v))
    flat = extinction_curve(wave, curve, np.nan_to_num(r_v.ravel(), nan=R_V))
    return flat.T.reshape((len(wave),) + r_v.shape)


def balmer_av(line_maps: LineMaps, curve: str = "CCM89", r_v=R_V,
              intrinsic: float = CASE_B_HALPHA_HBETA) -> np.ndarray:
    """A_V (mag) from the Balmer decrement H-alpha/H-beta.

    A_V = 2.5 log10[(Halpha/Hbeta) / intrinsic] / (k_Hbeta - k_Halpha), with k = A_lambda/A_V
    of the chosen curve.

    Parameters
    ----------
    line_maps
        Fitted line maps with ``Halpha`` and ``Hbeta``.
    curve, r_v
        Extinction curve (:data:`course_utils.library.CURVES`) and its R_V: a number or a map.
        The default is the GAME library's, Cardelli et al. (1989) with R_V = 3.1.
    intrinsic
        Unattenuated H-alpha/H-beta (Case B by default).

    Returns
    -------
    numpy.ndarray
        A_V per spaxel; NaN where a Balmer line is not detected. Decrements below
        ``intrinsic`` (noise, or a hotter gas) give negative values, kept as they are.
    """
    ok = _detected(line_maps, "Halpha", "Hbeta")
    k_hb, k_ha = _curve(["Hbeta", "Halpha"], curve, r_v)
    with np.errstate(divide="ignore", invalid="ignore"):
        decrement = line_maps["Halpha"] / line_maps["Hbeta"]
        a_v = 2.5 * np.log10(decrement / intrinsic) / (k_hb - k_ha)
    return np.where(ok & (decrement > 0), a_v, np.nan)


def deredden(line_maps: LineMaps, lines, a_v: np.ndarray, curve: str = "CCM89",
             r_v=R_V) -> dict[str, np.ndarray]:
    """Fluxes of ``lines`` corrected for an attenuation map ``a_v`` (mag) with a curve."""
    k = _curve(list(lines), curve, r_v)
    return {line: line_maps[line] * 10.0 ** (0.4 * a_v * k[i]) for i, line in enumerate(lines)}


#: Density range (cm^-3) of the [SII] densitometer: beyond it the ratio is at its low- or
#: high-density limit and gives only a bound.
DENSITY_RANGE = (1.0, 1.0e5)
#: Temperature range (K) of the auroral-line thermometers.
TEMPERATURE_RANGE = (3000.0, 50000.0)
_N_DENSITY, _N_TEMPERATURE = 41, 400     # table nodes (log-spaced)
#: Density nodes of the [SII] table: it is read for the density itself, so it needs many more
#: than the auroral tables, where density only shifts the temperature curves a little.
_N_SII_DENSITY = 1640


def _invert(x_grid: np.ndarray, ratio_grid: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """x where a tabulated ratio(x) (rows: one curve per value; monotonic along the last axis)
    equals ``ratio``, by linear interpolation in log x and log ratio; NaN outside the table."""
    log_r = np.log10(ratio_grid)
    if log_r[..., -1].mean() < log_r[..., 0].mean():  # make every curve increasing
        log_r, x_grid = log_r[..., ::-1], x_grid[::-1]
    target = np.log10(ratio)[:, None]
    curves = np.broadcast_to(log_r, (len(target), log_r.shape[-1]))
    k = np.clip((curves < target).sum(axis=1) - 1, 0, curves.shape[1] - 2)
    rows = np.arange(len(target))
    lo, hi = curves[rows, k], curves[rows, k + 1]
    log_x = np.log10(x_grid)
    frac = (target[:, 0] - lo) / (hi - lo)
    out = 10 ** (log_x[k] + frac * (log_x[k + 1] - log_x[k]))
    inside = (target[:, 0] >= curves[:, 0]) & (target[:, 0] <= curves[:, -1])
    return np.where(inside, out, np.nan)


@lru_cache(maxsize=None)
def _sii_table(temperature: float) -> tuple[np.ndarray, np.ndarray]:
    density = np.geomspace(*DENSITY_RANGE, _N_SII_DENSITY)
    return density, np.asarray(nebular.sii_ratio(density, temperature), dtype=float)


def sii_density(line_maps: LineMaps, temperature: float = 1.0e4) -> np.ndarray:
    """Electron density (cm^-3) from [SII] 6716/6731 with PyNeb's atomic data.

    NaN where either line is not detected or the ratio lies outside its sensitive range
    (:data:`DENSITY_RANGE`: above the low-density limit ~1.45 the density is only bounded,
    < ~10 cm^-3; below ~0.45 it is > ~1e4 cm^-3)."""
    ok = _detected(line_maps, "SII6716", "SII6731")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = line_maps["SII6716"] / line_maps["SII6731"]
    ok &= ratio > 0
    out = np.full(line_maps.shape, np.nan)
    density, table = _sii_table(float(temperature))
    out[ok] = _invert(density, table, ratio[ok])
    return out


@lru_cache(maxsize=None)
def _auroral_table(element: str, stage: int, strong: int, auroral: int):
    """Emissivity ratio strong/auroral on a (density, temperature) grid (PyNeb)."""
    atom = nebular._atom(element, stage)
    temperature = np.geomspace(*TEMPERATURE_RANGE, _N_TEMPERATURE)
    density = np.geomspace(*DENSITY_RANGE, _N_DENSITY)
    table = (np.asarray(atom.getEmissivity(temperature, density, wave=strong), dtype=float)
             / np.asarray(atom.getEmissivity(temperature, density, wave=auroral), dtype=float))
    return density, temperature, table.T                 # (n_density, n_temperature)


def _auroral_temperature(ratio: np.ndarray, density: np.ndarray, table) -> np.ndarray:
    """Temperatures for ratios at given densities: the table's curves interpolated in log n."""
    grid_n, grid_t, curves = table
    log_n = np.log10(np.clip(density, *DENSITY_RANGE))
    pos = np.interp(log_n, np.log10(grid_n), np.arange(len(grid_n)))
    j = np.minimum(pos.astype(int), len(grid_n) - 2)
    w = (pos - j)[:, None]
    log_curves = (1 - w) * np.log10(curves[j]) + w * np.log10(curves[j + 1])
    return _invert(grid_t, 10 ** log_curves, ratio)


def _temperature(line_maps, nebular_line, auroral_line, table, a_v, curve, r_v, density):
    ok = _detected(line_maps, nebular_line, auroral_line) & np.isfinite(a_v)
    fluxes = deredden(line_maps, [nebular_line, auroral_line], np.where(ok, a_v, 0.0), curve,
                      r_v)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = fluxes[nebular_line] / fluxes[auroral_line]
    density = np.broadcast_to(np.asarray(density, dtype=float), line_maps.shape)
    ok &= (ratio > 0) & np.isfinite(density) & (density > 0)
    out = np.full(line_maps.shape, np.nan)
    out[ok] = _auroral_temperature(ratio[ok], density[ok], table)
    return out


def te_nii(line_maps: LineMaps, a_v: np.ndarray, curve: str = "CCM89", r_v=R_V,
           density=100.0) -> np.ndarray:
    """Electron temperature (K) from the dereddened [NII] 6584/5755 ratio (PyNeb).

    Needs ``NII6583`` and ``NII5755`` among the fitted lines; NaN where either is not detected
    or ``a_v`` is NaN. ``density`` (cm^-3): a number, or a map such as :func:`sii_density`
    (NaN where the density is NaN); densities outside :data:`DENSITY_RANGE` are clipped to it.
    Temperatures outside :data:`TEMPERATURE_RANGE` are NaN."""
    return _temperature(line_maps, "NII6583", "NII5755", _auroral_table("N", 2, 6584, 5755),
                        a_v, curve, r_v, density)


def te_siii(line_maps: LineMaps, a_v: np.ndarray, curve: str = "CCM89", r_v=R_V,
            density=100.0) -> np.ndarray:
    """Electron temperature (K) from the dereddened [SIII] 9069/6312 ratio (PyNeb).

    Needs ``SIII9069`` and ``SIII6312`` among the fitted lines; NaN where either is not
    detected or ``a_v`` is NaN; ``density`` as for :func:`te_nii`."""
    return _temperature(line_maps, "SIII9069", "SIII6312", _auroral_table("S", 3, 9069, 6312),
                        a_v, curve, r_v, density)


def strong_line_oh(line_maps: LineMaps, method: str = "D16") -> np.ndarray:
    """12+log(O/H) from a strong-line calibration (:mod:`course_utils.diagnostics`).

    ``method``: ``"PP04 N2"``, ``"PP04 O3N2"`` (Pettini & Pagel 2004, NaN outside their
    validity ranges), ``"M13 N2"``, ``"M13 O3N2"`` (Marino et al. 2013) or ``"D16"`` (Dopita
    et al. 2016). The ratios are of lines close in wavelength, so no dereddening is needed
    (for D16's [NII]/[SII] and N2 it changes them by < 0.02 dex at A_V = 5)."""
    if method not in STRONG_LINE_METHODS:
        raise ValueError(f"method={method!r}: expected one of {STRONG_LINE_METHODS}")
    f = line_maps.__getitem__
    if method.endswith("N2") and not method.endswith("O3N2"):
        ok = _detected(line_maps, "NII6583", "Halpha")
        n2 = diagnostics.n2(f("NII6583"), f("Halpha"))
        oh = diagnostics.pp04_n2(n2) if method.startswith("PP04") else diagnostics.marino13_n2(n2)
    elif method.endswith("O3N2"):
        ok = _detected(line_maps, "OIII5007", "Hbeta", "NII6583", "Halpha")
        x = diagnostics.o3n2(f("OIII5007"), f("Hbeta"), f("NII6583"), f("Halpha"))
        oh = diagnostics.pp04_o3n2(x) if method.startswith("PP04") else diagnostics.marino13_o3n2(x)
    else:
        ok = _detected(line_maps, "NII6583", "SII6716", "SII6731", "Halpha")
        oh = diagnostics.dopita16(f("NII6583"), f("SII6716"), f("SII6731"), f("Halpha"))
    return np.where(ok, oh, np.nan)
