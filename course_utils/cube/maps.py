"""Property maps from GAME per spaxel, map files, radial profiles, BPT maps and map plots.

GAME (Ucci et al. 2017, 2018, 2019) is applied to every spaxel with enough detected lines;
its per-spectrum summaries (mean, median, std, p16, p84 of the Monte Carlo draws) become
maps on the cube's celestial WCS. Radial profiles are medians in annuli around a sky
position, optionally deprojected for a disc of given inclination and position angle.
"""

from __future__ import annotations

import copy

import warnings
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
import numpy as np
import pandas as pd
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

from ..diagnostics import bpt_class
from .lines import DETECTED, LineMaps
from .muse import image_hdu, write_fits
from .henize2_10 import DISTANCE, HENIZE2_10

#: Units of GAME's properties, for map headers and colour-bar labels.
PROPERTY_UNITS = {"12+log(O/H)": "dex", "log U": "dex", "log P/k": "log(K cm-3)",
                  "A_V": "mag", "log n": "log(cm-3)", "log(Z/Zsun)": "dex"}
#: Image rows per GAME call (see game_maps).
BLOCK_ROWS = 16


@dataclass
class PropertyMaps:
    """Maps of GAME's outputs: ``maps[f"{property}_{stat}"]`` is a ``(ny, nx)`` array (NaN
    where GAME was not run), ``wcs`` the celestial WCS."""

    maps: dict[str, np.ndarray]
    wcs: WCS
    shape: tuple[int, int]

    def __getitem__(self, key: str) -> np.ndarray:
        return self.maps[key]

    def keys(self):
        return self.maps.keys()

    @property
    def properties(self) -> list[str]:
        """Property names, e.g. ``"12+log(O/H)"``."""
        return list(dict.fromkeys(k.rsplit("_", 1)[0] for k in self.maps))

    def write(self, path: str | Path) -> Path:
        """One image extension per map (EXTNAME = key), with the celestial WCS and units."""
        units = {k: PROPERTY_UNITS.get(k.rsplit("_", 1)[0], "") for k in self.maps}
        return write_maps(path, self.maps, self.wcs, units)

    @classmethod
    def concatenate(cls, parts: list["PropertyMaps"], wcs: WCS) -> "PropertyMaps":
        """Stack maps of consecutive row strips (a strip where GAME ran on no spaxel has no
        maps: it is filled with NaN)."""
        keys = list(dict.fromkeys(k for p in parts for k in p.maps))
        maps = {k: np.concatenate([p.maps.get(k, np.full(p.shape, np.nan)) for p in parts])
                for k in keys}
        return cls(maps, wcs, (sum(p.shape[0] for p in parts), parts[0].shape[1]))


def write_maps(path: str | Path, maps: dict[str, np.ndarray], wcs: WCS,
               units: dict[str, str] | None = None) -> Path:
    """Write 2-D maps to a FITS file, one image extension each, with the celestial WCS."""
    units = units or {}
    # the primary header carries the WCS too, so that a file without maps (no spaxel
    # analysed) still reads back
    hdus = [fits.PrimaryHDU(header=wcs.to_header())]
    hdus += [image_hdu(m, wcs, k, units.get(k, "")) for k, m in maps.items()]
    return write_fits(hdus, path)


def read_maps(path: str | Path) -> tuple[dict[str, np.ndarray], WCS]:
    """Maps written by :func:`write_maps` (or any file of image extensions): dict by name, WCS."""
    with fits.open(path) as hdul:
        maps = {h.header.get("MAPNAME", h.name): np.asarray(h.data, float) for h in hdul[1:]}
        with warnings.catch_warnings():  # a primary header has the WCS but no image
            warnings.simplefilter("ignore", FITSFixedWarning)
            wcs = WCS(hdul[1 if len(hdul) > 1 else 0].header)
    return maps, wcs


def game_maps(line_maps: LineMaps, game, lines=None, min_detected: int = 3,
              row_offset: int = 0, block_rows: int = BLOCK_ROWS,
              prepare: bool = True) -> PropertyMaps:
    """Run a fitted GAME estimator on every spaxel with enough detected lines.

    Parameters
    ----------
    line_maps
        From :func:`~course_utils.cube.fit_line_maps`.
    game
        A fitted :class:`course_utils.game.Game` (anything with its ``predict(intensities,
        errors, draw_seed=...)`` returning columns ``f"{property}_{stat}"``).
    lines
        Lines passed to GAME (default: those GAME was trained on, ``game.lines``, else all).
    min_detected
        Spaxels with fewer detected lines are left NaN.
    row_offset, block_rows
        GAME is called on blocks of ``block_rows`` image rows counted from row 0 of the cube
        (``row_offset`` is the cube row where ``line_maps`` starts). Each block's Monte Carlo
        draws are seeded by ``game.random_state`` and the block's number, so blocks draw
        independently and a spaxel's result depends only on its block -- the same however
        the cube is split into chunks (chunks must be whole blocks).
    prepare
        Before the blocks, call ``game.prepare(intensities, errors)`` once on every spaxel
        to be predicted, if the estimator has that method (returning the estimator, as
        ``fit`` does), on a shallow copy of it: models that depend on the data
        set (one per detected-line pattern, trained and calibrated at the data's noise) are
        then made once, not once per block. The chunked pipeline prepares on the whole cube
        and passes False for its strips.

    Returns
    -------
    PropertyMaps
    """
    lines = game_lines(game, line_maps) if lines is None else lines
    if row_offset % block_rows:
        raise ValueError(f"row_offset={row_offset} must be a multiple of block_rows={block_rows}")
    inten, err, spaxels = line_maps.game_inputs(lines, min_detected=min_detected)
    if prepare:
        game = prepare_game(game, inten, err)
    ny, nx = line_maps.shape
    maps: dict[str, np.ndarray] = {}
    for start in range(0, ny, block_rows):
        sel = (spaxels[:, 0] >= start) & (spaxels[:, 0] < start + block_rows)
        if not sel.any():
            continue
        out = game.predict(inten[sel].reset_index(drop=True), err[sel].reset_index(drop=True),
                           draw_seed=(row_offset + start) // block_rows)
        for column in out.columns:
            if column == "pattern" or not pd.api.types.is_numeric_dtype(out[column]):
                continue  # the pattern of detected lines is not a map
            values = out[column].to_numpy(float)
            target = maps.setdefault(column, np.full((ny, nx), np.nan))
            target[spaxels[sel, 0], spaxels[sel, 1]] = values
    return PropertyMaps(maps, line_maps.wcs, (ny, nx))


def game_lines(game, line_maps: LineMaps) -> list[str]:
    """The fitted lines GAME takes: those it was trained on (``game.lines``), else all."""
    return [l for l in getattr(game, "lines", line_maps.lines) if l in line_maps.lines]


def prepare_game(game, intensities, errors):
    """A copy of ``game`` prepared on these spaxels (``Game.prepare``; see :func:`game_maps`).

    The copy shares the estimator's trained models and keeps its own noise levels, so the
    caller's estimator is not tied to this cube. Estimators without ``prepare`` are returned
    as they are, and so is any estimator when there are no spaxels.
    """
    if not len(intensities) or not callable(getattr(game, "prepare", None)):
        return game
    return copy.copy(game).prepare(intensities, errors)


# --------------------------------------------------------------------------- BPT map

def log_ratio_map(num: np.ndarray, num_err: np.ndarray, den: np.ndarray, den_err: np.ndarray,
                  snr_min: float = 3.0) -> np.ndarray:
    """log10(num / den) where both lines have S/N = flux / error of at least ``snr_min``; NaN
    elsewhere (and where the data are NaN). The reference of notebook 08's first exercise."""
    with np.errstate(divide="ignore", invalid="ignore"):
        good = (num / num_err >= snr_min) & (den / den_err >= snr_min)
        return np.where(good, np.log10(num / den), np.nan)


def bpt_map(line_maps: LineMaps) -> dict[str, np.ndarray]:
    """[NII] BPT class of each spaxel, from detected lines only.

    Returns ``{"class": ..., "log_nii_ha": ..., "log_oiii_hb": ...}``; the class is 0
    star-forming, 1 composite, 2 AGN (Kauffmann et al. 2003; Kewley et al. 2001) and -1
    where one of the four lines is not detected.
    """
    need = ["NII6583", "Halpha", "OIII5007", "Hbeta"]
    missing = [l for l in need if l not in line_maps.lines]
    if missing:
        raise KeyError(f"the BPT map needs the lines {missing}, which were not fitted")
    ok = np.all([line_maps.status[line_maps.lines.index(l)] == DETECTED for l in need], axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(ok, np.log10(line_maps["NII6583"] / line_maps["Halpha"]), np.nan)
        y = np.where(ok, np.log10(line_maps["OIII5007"] / line_maps["Hbeta"]), np.nan)
    return {"class": bpt_class(x, y), "log_nii_ha": x, "log_oiii_hb": y}


# ---------------------------------------------------------------------- radial profiles

def sky_offsets(wcs: WCS, shape: tuple[int, int], center: SkyCoord = HENIZE2_10
                ) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (arcsec) east and north of ``center`` for every spaxel of a map."""
    y, x = np.mgrid[:shape[0], :shape[1]]
    sky = wcs.pixel_to_world(x, y)
    east, north = center.spherical_offsets_to(sky)
    return east.to_value(u.arcsec), north.to_value(u.arcsec)


def galactocentric_radius(wcs: WCS, shape: tuple[int, int], center: SkyCoord = HENIZE2_10,
                          pa: float = 0.0, inclination: float = 0.0) -> np.ndarray:
    """Radius (arcsec) in the plane of a disc with major axis at position angle ``pa``
    (degrees east of north) and ``inclination`` (degrees, 0 = face-on)."""
    east, north = sky_offsets(wcs, shape, center)
    pa_r = np.radians(pa)
    major = east * np.sin(pa_r) + north * np.cos(pa_r)
    minor = -east * np.cos(pa_r) + north * np.sin(pa_r)
    return np.hypot(major, minor / np.cos(np.radians(inclination)))


def arcsec_to_pc(arcsec, distance: u.Quantity = DISTANCE) -> np.ndarray:
    """Projected size in parsec of an angle in arcsec at ``distance`` (small angles)."""
    return (np.asarray(arcsec) * u.arcsec).to_value(u.rad) * distance.to_value(u.pc)


def radial_profile(image: np.ndarray, wcs: WCS, center: SkyCoord = HENIZE2_10,
                   bin_width: float = 0.4, r_max: float | str | None = None, pa: float = 0.0,
                   inclination: float = 0.0, distance: u.Quantity = DISTANCE,
                   min_spaxels: int = 3) -> pd.DataFrame:
    """Median and 16-84% range of a map in annuli around a sky position.

    Parameters
    ----------
    image, wcs
        A map and its celestial WCS; NaN spaxels are ignored.
    center
        Centre of the annuli (default Henize 2-10).
    bin_width, r_max
        Annulus width and outer radius in arcsec (default: the farthest finite spaxel).
        ``r_max="complete"``: only annuli that lie entirely inside the map (beyond the
        nearest edge of the field an annulus averages its corners only).
    pa, inclination
        Position angle of the major axis (degrees east of north) and inclination (degrees)
        for elliptical annuli; both 0 gives circles.
    distance
        Distance for the radius in parsec (default 8.23 Mpc, 1" = 39.9 pc).
    min_spaxels
        Annuli with fewer finite spaxels are dropped.

    Returns
    -------
    pandas.DataFrame
        One row per annulus: ``r_in``, ``r_out``, ``r_mid`` (arcsec), ``r_pc`` (the middle
        radius in pc), ``median``, ``p16``, ``p84`` and ``n`` (spaxels).
    """
    image = np.asarray(image, dtype=float)
    r = galactocentric_radius(wcs, image.shape, center, pa, inclination)
    ok = np.isfinite(image)
    if not ok.any():
        raise ValueError("the map has no finite spaxel")
    if r_max == "complete":
        border = np.concatenate([r[0], r[-1], r[:, 0], r[:, -1]])
        r_max = float(border.min())
        edges = np.arange(0.0, r_max + 1e-9, bin_width)
    else:
        r_max = float(r[ok].max()) if r_max is None else float(r_max)
        edges = np.arange(0.0, r_max + bin_width, bin_width)
    rows = []
    for r_in, r_out in zip(edges[:-1], edges[1:]):
        vals = image[ok & (r >= r_in) & (r < r_out)]
        if vals.size < min_spaxels:
            continue
        p16, med, p84 = np.percentile(vals, [16, 50, 84])
        rows.append((r_in, r_out, 0.5 * (r_in + r_out), med, p16, p84, vals.size))
    table = pd.DataFrame(rows, columns=["r_in", "r_out", "r_mid", "median", "p16", "p84", "n"])
    table.insert(3, "r_pc", arcsec_to_pc(table["r_mid"].to_numpy(), distance))
    return table


# ------------------------------------------------------------------------------- plots

def plot_map(image: np.ndarray, wcs: WCS, ax=None, title: str = "", label: str = "",
             cmap: str = "viridis", **imshow_kwargs):
    """Show a map on WCS axes (RA/Dec) with a labelled colour bar; returns the axes.

    ``label`` names the quantity and its unit, e.g. ``"12+log(O/H) [dex]"``.
    """
    import matplotlib.pyplot as plt

    new = ax is None
    if new:
        ax = plt.figure(figsize=(5.5, 4.5)).add_subplot(projection=wcs)
    im = ax.imshow(image, origin="lower", cmap=cmap, **imshow_kwargs)
    ax.figure.colorbar(im, ax=ax, label=label)
    _sky_axes(ax)
    ax.set_title(title)
    if new:
        ax.figure.tight_layout()
    return ax


def _sky_axes(ax) -> None:
    """RA/Dec labels; on WCS axes, few enough RA ticks that they do not overlap."""
    ax.set_xlabel("RA (ICRS)")
    ax.set_ylabel("Dec (ICRS)")
    if hasattr(ax, "coords"):
        ax.coords[0].set_ticks(number=3)
        ax.coords[0].set_major_formatter("hh:mm:ss.s")


def plot_property_maps(maps: PropertyMaps, stat: str = "mean", properties=None,
                       ncols: int = 2, mask: np.ndarray | None = None):
    """One WCS panel per property for one statistic (mean, std, p16, p84 ...).

    ``ncols`` panels a row, 5 in wide each (two make a figure that a laptop shows at full
    size). ``mask``: spaxels to leave blank, e.g. flagged ones (``maps["flag"] > 0``). Each
    colour scale spans the 2nd to 98th percentile of its map, so a few noisy spaxels at the
    edge of the field do not flatten the rest."""
    import matplotlib.pyplot as plt

    properties = list(properties or maps.properties)
    nrows = -(-len(properties) // ncols)
    fig = plt.figure(figsize=(5.0 * min(ncols, len(properties)), 4.0 * nrows))
    for i, prop in enumerate(properties):
        ax = fig.add_subplot(nrows, ncols, i + 1, projection=maps.wcs)
        unit = PROPERTY_UNITS.get(prop, "")
        image = np.array(maps[f"{prop}_{stat}"], dtype=float)
        if mask is not None:
            image[np.asarray(mask, dtype=bool)] = np.nan
        vmin, vmax = (np.nanpercentile(image, [2, 98]) if np.isfinite(image).any()
                      else (None, None))
        name = "$A_V$" if prop == "A_V" else prop  # the one property whose name is TeX-able
        what = f"{stat} of {name}" if stat != "std" else f"σ of {name}"
        plot_map(image, maps.wcs, ax=ax, title=f"{name} ({stat})", vmin=vmin, vmax=vmax,
                 label=f"{what} [{unit}]" if unit else what)
    fig.tight_layout()
    return fig


def plot_profile(profile: pd.DataFrame, ax=None, label: str = "", title: str = "",
                 distance: u.Quantity = DISTANCE):
    """Median and 16-84% band of a radial profile; top axis in parsec."""
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.figure(figsize=(5.5, 4)).add_subplot()
    ax.fill_between(profile["r_mid"], profile["p16"], profile["p84"], alpha=0.3,
                    label="16-84%")
    ax.plot(profile["r_mid"], profile["median"], "o-", label="median")
    ax.set_xlabel("radius [arcsec]")
    ax.set_ylabel(label)
    ax.set_title(title)
    ax.legend()
    scale = arcsec_to_pc(1.0, distance)
    top = ax.secondary_xaxis("top", functions=(lambda r: r * scale, lambda p: p / scale))
    top.set_xlabel(f"radius [pc] at D = {distance.to_value(u.Mpc):g} Mpc")
    return ax


def plot_bpt_map(line_maps: LineMaps, ax=None, title: str = "[NII] BPT class per spaxel"):
    """Map of the BPT class (star-forming, composite, AGN; grey = not classified)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    cls = bpt_map(line_maps)["class"].astype(float)
    cls[cls < 0] = np.nan
    cmap = ListedColormap(["tab:blue", "tab:green", "tab:red"])
    new = ax is None
    if new:
        ax = plt.figure(figsize=(6, 4.5)).add_subplot(projection=line_maps.wcs)
    ax.set_facecolor("0.85")
    im = ax.imshow(cls, origin="lower", cmap=cmap, vmin=-0.5, vmax=2.5)
    bar = ax.figure.colorbar(im, ax=ax, ticks=[0, 1, 2])
    bar.ax.set_yticklabels(["star-forming", "composite", "AGN"])
    bar.set_label("BPT class (grey: a line not detected)")
    _sky_axes(ax)
    ax.set_title(title)
    if new:
        ax.figure.tight_layout()
    return ax
