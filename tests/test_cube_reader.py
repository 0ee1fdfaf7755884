"""The cube reader and the pipeline never give a silent wrong answer on broken input.

Each case is either answered right or refused with a CubeError that names the file and the
header key or extension at fault.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from course_utils.cube import (DETECTED, MISSING, CubeError, fit_line_maps,
                               make_henize2_10_cube, read_maps, read_muse_cube, run_pipeline)
from course_utils.cube.muse import MUSE_DWAVE, MUSE_WAVE0
from course_utils.library import line_table

SIZE = 16
Z = 0.002912


class N2Game:
    """Test double with GAME's predict contract: the PP04 N2 metallicity of each spaxel."""

    lines = ("Hbeta", "OIII5007", "Halpha", "NII6583")

    def predict(self, intensities, errors=None, draw_seed=None):
        n2 = np.log10(intensities["NII6583"] / intensities["Halpha"]).to_numpy()
        return pd.DataFrame({"12+log(O/H)_mean": 8.90 + 0.57 * n2})


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    return make_henize2_10_cube(tmp_path_factory.mktemp("reader") / "cube.fits", size=SIZE,
                                seed=5)[0]


def _rewrite(source, target, edit):
    """Copy a cube, letting ``edit(hdul)`` change it in memory first."""
    with fits.open(source) as hdul:
        hdul = fits.HDUList([h.copy() for h in hdul])
    edit(hdul)
    hdul.writeto(target)
    return target


def _channels(line, half_width=1.5):
    """Channels within half_width A of a line's observed centre."""
    centre = line_table()["wavelength"][line] * (1 + Z)
    wave = MUSE_WAVE0 + MUSE_DWAVE * np.arange(3681)
    return np.flatnonzero(np.abs(wave - centre) < half_width)


@pytest.fixture(scope="module")
def reference(path):
    return fit_line_maps(read_muse_cube(path))


@pytest.mark.parametrize("line", ["Hbeta", "Halpha"])
def test_nan_channels_over_a_line_peak_make_it_missing(path, tmp_path, reference, line):
    block = (slice(6, 10), slice(6, 10))

    def edit(hdul):
        hdul["DATA"].data[(_channels(line),) + block] = np.nan

    maps = fit_line_maps(read_muse_cube(_rewrite(path, tmp_path / "nan.fits", edit)))
    i = maps.lines.index(line)
    assert (reference.status[i][block] == DETECTED).all()
    # not an upper limit: the line's own channels are gone
    assert (maps.status[i][block] == MISSING).all()
    intensities, errors, spaxels = maps.game_inputs(min_detected=1)
    inside = (spaxels[:, 0] >= 6) & (spaxels[:, 0] < 10) & (spaxels[:, 1] >= 6) & (spaxels[:, 1] < 10)
    assert (intensities[line][inside] == 0).all() and (errors[line][inside] == 0).all()
    # elsewhere nothing changes
    outside = np.ones((SIZE, SIZE), bool)
    outside[block] = False
    assert np.array_equal(maps.status[:, outside], reference.status[:, outside])


def test_dq_flagged_spaxels_are_never_fitted(path, tmp_path, reference):
    def edit(hdul):
        hdul["DQ"].data[:, 8, 8] = 1                       # a whole spaxel flagged
        hdul["DQ"].data[_channels("Halpha"), 7, 8] = 4     # H-alpha's channels of another

    flagged = _rewrite(path, tmp_path / "dq.fits", edit)
    result = run_pipeline(flagged, N2Game())
    status = result.lines.status
    assert (status[:, 8, 8] == MISSING).all()
    assert np.isnan(result.lines.velocity[8, 8])
    assert np.isnan(result.properties["12+log(O/H)_mean"][8, 8])
    assert status[result.lines.lines.index("Halpha"), 7, 8] == MISSING
    assert np.isfinite(reference.velocity[8, 8]) and np.isfinite(reference.velocity[7, 8])
    assert read_muse_cube(flagged).mask[8, 8]


def test_cd_matrix_with_cdelt3_gives_the_right_step(path, tmp_path):
    def edit(hdul):
        for ext in ("DATA", "STAT", "DQ"):
            header = hdul[ext].header
            del header["CD3_3"]
            header["CDELT3"] = MUSE_DWAVE

    cube = read_muse_cube(_rewrite(path, tmp_path / "cdelt.fits", edit))
    np.testing.assert_allclose(np.diff(cube.wavelength), MUSE_DWAVE)
    assert cube.wavelength[0] == pytest.approx(MUSE_WAVE0)


def test_a_cube_without_a_spectral_step_is_refused(path, tmp_path):
    def edit(hdul):
        del hdul["DATA"].header["CD3_3"]

    bad = _rewrite(path, tmp_path / "nostep.fits", edit)
    with pytest.raises(CubeError, match="CD3_3") as info:
        read_muse_cube(bad)
    assert str(bad) in str(info.value)


def test_all_bad_stat_warns_and_writes_readable_files(path, tmp_path):
    def edit(hdul):
        hdul["STAT"].data[:] = np.nan

    bad = _rewrite(path, tmp_path / "stat.fits", edit)
    with pytest.warns(UserWarning, match="no spaxel") as record:
        result = run_pipeline(bad, N2Game())
    assert str(bad) in str(record[0].message)
    lines_path, props_path = result.write(tmp_path / "out")
    for written in (lines_path, props_path):
        maps, wcs = read_maps(written)
        assert wcs.naxis == 2
        assert all(np.isnan(m).all() for k, m in maps.items() if not k.endswith("STATUS"))


def test_a_wrong_redshift_warns(path):
    with pytest.warns(UserWarning, match="redshift"):
        fit_line_maps(read_muse_cube(path), lines=["Halpha", "NII6583"], redshift=0.05)


def test_an_unreadable_bunit_is_refused_at_read_time(path, tmp_path):
    def edit(hdul):
        hdul["DATA"].header["BUNIT"] = "1e-20 erg/s/cm2/Angstroem per spaxel"

    bad = _rewrite(path, tmp_path / "bunit.fits", edit)
    with pytest.raises(CubeError, match="BUNIT") as info:
        read_muse_cube(bad)
    assert str(bad) in str(info.value) and "DATA" in str(info.value)


@pytest.mark.parametrize("keep", [0.5, 0.999])
def test_a_truncated_file_names_the_file(path, tmp_path, keep):
    data = path.read_bytes()
    short = tmp_path / "short.fits"
    short.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CubeError) as info:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # astropy's own truncation warning is not enough
            read_muse_cube(short, scan=False)
    assert str(short) in str(info.value) and "truncated" in str(info.value)


def test_write_is_all_or_nothing(path, tmp_path, monkeypatch):
    import course_utils.cube.maps as maps_module

    result = run_pipeline(path, N2Game())
    out = tmp_path / "out"

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(maps_module.PropertyMaps, "write", broken)
    with pytest.raises(OSError, match="disk full"):
        result.write(out)
    assert list(out.iterdir()) == []  # no line maps without their properties, no temporaries


def test_a_rerun_replaces_every_output(path, tmp_path):
    out = tmp_path / "out"
    with_game = run_pipeline(path, N2Game())
    lines_path, props_path = with_game.write(out)
    assert props_path.is_file()
    lines_only = run_pipeline(path, None, lines=["Halpha", "NII6583"])
    new_lines, new_props = lines_only.write(out)
    assert new_lines == lines_path and new_props is None
    # the properties of the earlier run do not stay beside the new line maps
    assert sorted(p.name for p in out.iterdir()) == [lines_path.name]
    maps, _ = read_maps(new_lines)
    assert "OIII5007" not in maps


def test_a_spectral_axis_without_cunit3(path, tmp_path):
    # FITS reads a unit-less axis in metres; a MUSE cube without CUNIT3 is in Angstrom
    def drop(hdul):
        del hdul["DATA"].header["CUNIT3"]

    angstrom = _rewrite(path, tmp_path / "no_cunit3.fits", drop)
    with pytest.warns(UserWarning, match="CUNIT3"):
        cube = read_muse_cube(angstrom, scan=False)
    np.testing.assert_allclose(cube.wavelength, read_muse_cube(path, scan=False).wavelength)

    def metres(hdul):  # the same axis written in metres, without saying so: the FITS default
        header = hdul["DATA"].header
        del header["CUNIT3"]
        header["CRVAL3"] *= 1e-10
        header["CD3_3"] *= 1e-10

    in_metres = _rewrite(path, tmp_path / "metres.fits", metres)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cube = read_muse_cube(in_metres, scan=False)
    np.testing.assert_allclose(cube.wavelength, read_muse_cube(path, scan=False).wavelength,
                               rtol=1e-6)

    def nonsense(hdul):
        header = hdul["DATA"].header
        del header["CUNIT3"]
        header["CRVAL3"] = 5e8
    with pytest.raises(CubeError, match="CUNIT3"):
        read_muse_cube(_rewrite(path, tmp_path / "nonsense.fits", nonsense), scan=False)
