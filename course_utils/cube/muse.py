"""MUSE data cubes: the ESO pipeline format, the instrument's resolution, and a reader.

A MUSE cube from the ESO pipeline has an empty PRIMARY HDU, a ``DATA`` extension (float32 flux
density), a ``STAT`` extension (its variance) and optionally ``DQ`` (data quality). Celestial
axes are RA---TAN/DEC--TAN with 0.2" spaxels; the spectral axis is air wavelength (``AWAV``)
from 4749.89 A in 1.25 A steps (Bacon et al. 2010, SPIE 7735; Weilbacher et al. 2020, A&A 641,
A28). Spaxels outside the exposed field are NaN.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.utils.exceptions import AstropyUserWarning
from astropy.wcs import WCS, FITSFixedWarning

#: Flux-density unit of MUSE pipeline cubes, as the ESO pipeline writes it.
MUSE_BUNIT = "10**(-20)*erg/s/cm**2/Angstrom"
#: Nominal-mode spectral sampling: first channel (A, air), step (A) and number of channels.
MUSE_WAVE0, MUSE_DWAVE, MUSE_NWAVE = 4749.890625, 1.25, 3681
#: Spaxel size in arcsec.
MUSE_SPAXEL = 0.2
#: Resolving power at the blue and red ends of the range (Bacon et al. 2010).
MUSE_RESOLVING_POWER = ((4750.0, 1600.0), (9350.0, 3500.0))
#: Speed of light in km/s.
C_KMS = 299_792.458


class CubeError(ValueError):
    """A file is not a data cube the course can read."""


class CubeWarning(UserWarning):
    """A cube was read and analysed, but the result is probably not what was wanted."""


def muse_resolving_power(wavelength) -> np.ndarray:
    """MUSE resolving power R = lambda / FWHM, linear between 1600 at 4750 A and 3500 at 9350 A."""
    (w0, r0), (w1, r1) = MUSE_RESOLVING_POWER
    return r0 + (r1 - r0) * (np.asarray(wavelength, dtype=float) - w0) / (w1 - w0)


def instrumental_sigma(wavelength) -> np.ndarray:
    """Gaussian sigma (A) of MUSE's line-spread function at an observed wavelength (A)."""
    wavelength = np.asarray(wavelength, dtype=float)
    return wavelength / muse_resolving_power(wavelength) / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def parse_unit(bunit: str | None) -> u.UnitBase:
    """Read a BUNIT string such as MUSE's ``10**(-20)*erg/s/cm**2/Angstrom``.

    Raises ValueError for a string astropy cannot read (no unit is guessed).
    """
    if not bunit or not str(bunit).strip():
        return u.dimensionless_unscaled
    with warnings.catch_warnings():
        # the ESO string uses several slashes, which the FITS standard discourages
        warnings.simplefilter("ignore", u.UnitsWarning)
        return u.Unit(bunit, parse_strict="raise")


@dataclass
class MuseCube:
    """A spectral cube read from FITS.

    Attributes
    ----------
    data
        Flux density, shape ``(n_wave, ny, nx)``, float32 (memory-mapped when the file allows).
    variance
        Variance of ``data`` (same shape) or None when the file has no ``STAT`` extension.
    wavelength
        Air wavelength of each channel in Angstrom.
    wcs
        Celestial (2-D) WCS of the spaxel grid.
    unit
        Unit of ``data``.
    mask
        Boolean ``(ny, nx)`` map, True for spaxels with no usable data (NaN everywhere or
        flagged in ``DQ``), as in :mod:`numpy.ma`; None if the cube was read without
        scanning (``scan=False``).
    path
        The file read.
    header
        Header of the data extension.
    dq
        Data-quality flags (same shape as ``data``, 0 = good) or None without a ``DQ``
        extension. Flagged voxels are treated like NaN ones everywhere.
    """

    data: np.ndarray
    variance: np.ndarray | None
    wavelength: np.ndarray
    wcs: WCS
    unit: u.UnitBase
    mask: np.ndarray | None
    path: Path | None = None
    header: fits.Header | None = None
    dq: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.data.shape

    def spectrum(self, y: int, x: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Flux and variance of one spaxel (row ``y``, column ``x``) as float64 arrays."""
        var = None if self.variance is None else np.asarray(self.variance[:, y, x], float)
        return np.asarray(self.data[:, y, x], float), var


def _cube_hdu(hdul: fits.HDUList, path: Path) -> fits.ImageHDU:
    if "DATA" in hdul:
        hdu = hdul["DATA"]
    else:  # some reductions put the cube in the primary or first image HDU
        hdu = next((h for h in hdul if h.is_image and h.header.get("NAXIS", 0) >= 2), None)
        if hdu is None:
            raise CubeError(f"{path}: no image extension found (expected a 'DATA' extension "
                            "with a 3-D cube)")
    if hdu.header.get("NAXIS", 0) != 3:
        raise CubeError(f"{path}: extension {hdu.name!r} has {hdu.header.get('NAXIS', 0)} axes; "
                        "expected a 3-D cube (2 spatial axes and 1 spectral axis)")
    return hdu


def _wavelength(header: fits.Header, n_wave: int, path: Path, extname: str) -> np.ndarray:
    ctype = str(header.get("CTYPE3", "")).strip()
    if not ctype.startswith("AWAV"):
        raise CubeError(f"{path}: axis 3 has CTYPE3 = {ctype!r}; expected a spectral axis of air "
                        "wavelength ('AWAV', as in MUSE pipeline cubes)")
    has_cd = any(k.startswith("CD") and "_" in k for k in header.keys())
    if "CD3_3" not in header:
        if has_cd and "CDELT3" in header:
            # a CD matrix for the sky beside a CDELT3 for the spectrum: with any CDi_j
            # present, WCS readers ignore CDELT3 (and take CD3_3 = 0 or 1), so apply it here
            header = header.copy()
            header["CD3_3"] = header["CDELT3"]
        elif "CDELT3" not in header:
            raise CubeError(f"{path}: extension {extname!r} has neither CD3_3 nor CDELT3: "
                            "the wavelength step of the spectral axis is unknown")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        spectral = WCS(header).sub([3])
    # pixel_to_world_values honours CD or PC+CDELT and returns SI (m) once CUNIT3 is known
    world = np.asarray(spectral.pixel_to_world_values(np.arange(n_wave)), dtype=float)
    if str(header.get("CUNIT3", "")).strip():
        wave = (world * u.Unit(spectral.wcs.cunit[0] or "m")).to_value(u.AA)
    else:  # FITS says metres; cubes that leave CUNIT3 out are nearly always in Angstrom
        wave = _unitless_wavelength(world, path, extname)
    if n_wave > 1 and not (np.all(np.isfinite(wave)) and np.all(np.diff(wave) > 0)):
        raise CubeError(f"{path}: extension {extname!r}: the spectral axis (CRVAL3, CRPIX3, "
                        "CD3_3 or CDELT3) does not give increasing wavelengths")
    return wave


#: Air wavelengths (Angstrom) a spectrograph of ionized gas can cover: far UV to mid-IR.
PLAUSIBLE_ANGSTROM = (900.0, 30e4)


def _unitless_wavelength(world: np.ndarray, path: Path, extname: str) -> np.ndarray:
    """Wavelengths (Angstrom) of a spectral axis without CUNIT3: metres (the FITS default)
    when plausible as such, otherwise Angstrom with a warning, otherwise an error."""
    low, high = PLAUSIBLE_ANGSTROM
    finite = world[np.isfinite(world)]
    inside = lambda w: finite.size > 0 and low <= w.min() and w.max() <= high  # noqa: E731
    if inside(finite * 1e10):
        return world * 1e10
    if inside(finite):
        warnings.warn(f"{path}: extension {extname!r} has no CUNIT3; its wavelengths "
                      f"({finite.min():.6g} to {finite.max():.6g}) are read as Angstrom, not "
                      "as metres (the FITS default). Add CUNIT3 = 'Angstrom' to the header "
                      "to silence this", CubeWarning, stacklevel=4)
        return world
    raise CubeError(f"{path}: extension {extname!r} has no CUNIT3, and its spectral axis "
                    f"({finite.min() if finite.size else np.nan:.6g} to "
                    f"{finite.max() if finite.size else np.nan:.6g}) is neither metres nor "
                    "Angstrom of optical light; add CUNIT3 (e.g. 'Angstrom') to the header")


def _check_complete(hdul: fits.HDUList, path: Path) -> None:
    """Refuse a file shorter than its headers say (an interrupted copy or download)."""
    size = os.path.getsize(path)
    for i, hdu in enumerate(hdul):
        info = hdul.fileinfo(i)
        if info is None or getattr(info.get("file"), "compression", None):
            continue  # offsets of a compressed file count decompressed bytes
        end = info["datLoc"] + info["datSpan"]
        if end > size:
            raise CubeError(f"{path}: the file is truncated: extension {hdu.name!r} needs "
                            f"{end} bytes, the file has {size}")


def read_muse_cube(path: str | Path, memmap: bool = True, scan: bool = True) -> MuseCube:
    """Read a MUSE cube (ESO pipeline layout) or any 3-D FITS cube with an AWAV axis.

    Parameters
    ----------
    path
        FITS file with ``DATA`` (and optionally ``STAT`` and ``DQ``) extensions, or a single
        3-D image HDU.
    memmap
        Memory-map the data instead of reading it into memory (ignored for compressed files).
    scan
        Read every channel once to find the unusable spaxels (``mask``) and refuse an all-NaN
        cube. Workers that process part of a cube pass False.

    Returns
    -------
    MuseCube

    Raises
    ------
    CubeError
        If the file has no 3-D image, no AWAV spectral axis, or no finite spaxel.
    """
    path = Path(path)
    try:
        hdul = fits.open(path, memmap=memmap)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AstropyUserWarning)
            len(hdul)  # reads every header (the data stay on disk)
    except (OSError, ValueError, TypeError) as exc:
        raise CubeError(f"{path}: not a readable FITS file ({exc})") from exc
    with hdul:
        truncated = [str(w.message) for w in caught if "truncated" in str(w.message)]
        if truncated:  # astropy drops the extensions it could not read, with a warning
            raise CubeError(f"{path}: the file is truncated ({truncated[0]})")
        _check_complete(hdul, path)
        hdu = _cube_hdu(hdul, path)
        header = hdu.header.copy()
        try:
            unit = parse_unit(header.get("BUNIT"))
        except ValueError as exc:
            raise CubeError(f"{path}: extension {hdu.name!r} has BUNIT = "
                            f"{header.get('BUNIT')!r}, which is not a unit ({exc})") from None
        data = _image(hdu, path)
        if data.dtype.kind != "f":
            raise CubeError(f"{path}: data of type {data.dtype}; expected floating-point flux")
        wavelength = _wavelength(header, data.shape[0], path, hdu.name)
        variance = _image(hdul["STAT"], path) if "STAT" in hdul else None
        if variance is not None and variance.shape != data.shape:
            raise CubeError(f"{path}: STAT has shape {variance.shape}, DATA has {data.shape}")
        dq = _image(hdul["DQ"], path) if "DQ" in hdul else None
        if dq is not None and dq.shape != data.shape:
            raise CubeError(f"{path}: DQ has shape {dq.shape}, DATA has {data.shape}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            wcs = WCS(header).celestial
        if wcs.naxis != 2:
            raise CubeError(f"{path}: no celestial axes (RA/DEC) in the header of {hdu.name!r}")
        # a spaxel is usable if any channel is finite (and unflagged); scan in blocks of
        # channels so a memory-mapped cube is never copied whole
        usable = np.zeros(data.shape[1:], dtype=bool)
        for start in range(0, data.shape[0] if scan else 0, 256):
            good = np.isfinite(data[start:start + 256])
            if dq is not None:
                good &= dq[start:start + 256] == 0
            usable |= good.any(axis=0)
    if scan and not usable.any():
        raise CubeError(f"{path}: every spaxel is NaN (or flagged in DQ); nothing to analyse")
    return MuseCube(data=data, variance=variance, wavelength=wavelength, wcs=wcs, unit=unit,
                    mask=~usable if scan else None, path=path, header=header, dq=dq)


def _image(hdu, path: Path) -> np.ndarray:
    """The data of an image extension, or a CubeError naming the file and the extension."""
    try:
        return hdu.data
    except (OSError, ValueError, TypeError) as exc:
        raise CubeError(f"{path}: cannot read extension {hdu.name!r} ({exc}); the file may be "
                        "truncated or damaged") from exc


def write_fits(hdus, path: str | Path) -> Path:
    """Write an HDU list under a temporary name, then rename it: an interrupted write never
    leaves a half-written file under the final name."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fits.HDUList(hdus).writeto(tmp, overwrite=True)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def image_hdu(image: np.ndarray, wcs: WCS, name: str, unit: str = "",
              comment: str = "") -> fits.ImageHDU:
    """An image extension carrying the cube's celestial WCS (for maps of any quantity)."""
    hdu = fits.ImageHDU(np.asarray(image, dtype=np.float32), header=wcs.to_header(), name=name)
    hdu.header["MAPNAME"] = (name, "name of the map (EXTNAME is upper case)")
    if unit:
        hdu.header["BUNIT"] = unit
    if comment:
        hdu.header["COMMENT"] = comment
    return hdu
