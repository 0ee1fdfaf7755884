"""Maps, radial profiles, the BPT map and the in-memory vs chunked (dask) pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from astropy.wcs import WCS
from sklearn.base import BaseEstimator

from course_utils.cube import (DETECTED, HENIZE2_10, arcsec_to_pc, bpt_map, game_maps,
                               make_henize2_10_cube, plot_bpt_map, plot_map, plot_profile,
                               radial_profile, read_maps, run_pipeline)

SIZE = 24


class SeededN2Game(BaseEstimator):
    """Test double with GAME's predict contract: PP04 N2 metallicity plus seeded Monte Carlo
    noise, so results depend on the random_state of each call."""

    def __init__(self, lines=("Hbeta", "OIII5007", "Halpha", "NII6583"), random_state=0):
        self.lines = lines
        self.random_state = random_state

    def predict(self, intensities, errors=None, draw_seed=None):
        rng = np.random.default_rng([self.random_state, draw_seed or 0])
        n2 = np.log10(intensities["NII6583"] / intensities["Halpha"]).to_numpy()
        draws = 8.90 + 0.57 * n2 + rng.normal(0.0, 0.05, (50, len(n2)))
        return pd.DataFrame({"12+log(O/H)_mean": draws.mean(0), "12+log(O/H)_std": draws.std(0),
                             "pattern": ["".join("1" if e != 0 else "0" for e in row)
                                         for row in np.asarray(errors)]})


@pytest.fixture(scope="module")
def cube_path(tmp_path_factory):
    return make_henize2_10_cube(tmp_path_factory.mktemp("maps") / "small.fits", size=SIZE)[0]


@pytest.fixture(scope="module")
def in_memory(cube_path):
    return run_pipeline(cube_path, SeededN2Game())


def test_game_runs_only_on_spaxels_with_enough_detections(in_memory):
    oh = in_memory.properties["12+log(O/H)_mean"]
    n_detected = (in_memory.lines.status == DETECTED).sum(axis=0)
    assert np.array_equal(np.isfinite(oh), n_detected >= 3)
    # the estimator saw fluxes: the map is PP04 N2 of the fitted lines plus ~0.05/sqrt(50) noise
    n2 = np.log10(in_memory.lines["NII6583"] / in_memory.lines["Halpha"])
    ok = np.isfinite(oh)
    assert np.abs(oh[ok] - (8.90 + 0.57 * n2[ok])).max() < 0.05
    assert "pattern" not in in_memory.properties.keys()


def test_line_maps_strips_are_the_inverse_of_concatenate(in_memory):
    maps = in_memory.lines
    parts = [maps.strip(slice(y, min(y + 10, SIZE))) for y in range(0, SIZE, 10)]
    assert [p.shape for p in parts] == [(10, SIZE), (10, SIZE), (4, SIZE)]
    again = type(maps).concatenate(parts, maps.wcs)
    for name in ("flux", "error", "status", "velocity", "sigma"):
        assert np.array_equal(getattr(again, name), getattr(maps, name), equal_nan=True)
    # a strip's WCS starts at its own first row
    assert np.allclose(parts[1].wcs.pixel_to_world_values(0, 0),
                       maps.wcs.pixel_to_world_values(0, 10))


# 16: a GAME task per line-fitting strip; 32: one strip, split into two GAME blocks
@pytest.mark.parametrize("chunk_rows", [16, 32])
def test_chunked_dask_run_equals_the_in_memory_run(cube_path, in_memory, chunk_rows):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        chunked = run_pipeline(cube_path, SeededN2Game(), scheduler=client,
                               chunk_rows=chunk_rows)
    for key in in_memory.properties.keys():
        assert np.array_equal(chunked.properties[key], in_memory.properties[key], equal_nan=True)
    assert np.array_equal(chunked.lines.flux, in_memory.lines.flux, equal_nan=True)
    assert np.array_equal(chunked.lines.status, in_memory.lines.status)
    # and the seeds matter: another random_state changes the Monte Carlo part
    other = game_maps(in_memory.lines, SeededN2Game(random_state=1))
    assert not np.array_equal(other["12+log(O/H)_std"], in_memory.properties["12+log(O/H)_std"],
                              equal_nan=True)


def test_game_maps_refuses_misaligned_chunks(in_memory):
    with pytest.raises(ValueError, match="multiple"):
        game_maps(in_memory.lines, SeededN2Game(), row_offset=3)


def test_maps_are_written_with_the_celestial_wcs(in_memory, tmp_path):
    lines_path, props_path = in_memory.write(tmp_path)
    maps, wcs = read_maps(props_path)
    np.testing.assert_allclose(maps["12+log(O/H)_mean"], in_memory.properties["12+log(O/H)_mean"],
                               rtol=1e-6)
    assert wcs.pixel_to_world(3, 5).separation(in_memory.lines.wcs.pixel_to_world(3, 5)).arcsec < 1e-6
    line_maps, _ = read_maps(lines_path)
    assert {"Halpha", "Halpha_ERR", "Halpha_STATUS", "VELOCITY", "SIGMA"} <= set(line_maps)


def test_bpt_map_classifies_the_hii_regions_as_star_forming(in_memory):
    bpt = bpt_map(in_memory.lines)
    classified = bpt["class"] >= 0
    assert classified.sum() > 0.5 * SIZE * SIZE
    # every spaxel of the synthetic galaxy comes from the HII-region grid (no AGN)
    assert (bpt["class"][classified] == 0).mean() > 0.95


def _wcs(size=41, scale=0.2):
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [HENIZE2_10.ra.deg, HENIZE2_10.dec.deg]
    w.wcs.crpix = [(size + 1) / 2, (size + 1) / 2]
    w.wcs.cdelt = [-scale / 3600, scale / 3600]
    return w


def test_radial_profile_of_a_linear_map():
    size = 41
    y, x = np.mgrid[:size, :size] - (size - 1) / 2
    r = 0.2 * np.hypot(x, y)                 # arcsec, tangent-plane offsets
    image = 2.0 * r + 1.0
    prof = radial_profile(image, _wcs(size), bin_width=0.5, r_max=3.5)
    assert len(prof) == 7
    # median of a linear map over an annulus: a * r_half + b, where r_half splits the
    # annulus' area in two, sqrt((r_in^2 + r_out^2) / 2), to within the spaxel sampling
    r_half = np.sqrt((prof["r_in"] ** 2 + prof["r_out"] ** 2) / 2)
    np.testing.assert_allclose(prof["median"], 2.0 * r_half + 1.0, atol=0.1)
    assert (prof["p16"] < prof["median"]).all() and (prof["median"] < prof["p84"]).all()
    # 1 arcsec at 8.23 Mpc is 39.9 pc
    np.testing.assert_allclose(prof["r_pc"], 39.9 * prof["r_mid"], rtol=1e-3)
    assert arcsec_to_pc(1.0) == pytest.approx(39.9, rel=1e-3)
    # annulus areas: spaxel counts follow 2 pi r dr / 0.04 arcsec^2
    np.testing.assert_allclose(prof["n"][2:], 2 * np.pi * prof["r_mid"][2:] * 0.5 / 0.04, rtol=0.1)


def test_elliptical_annuli_follow_an_inclined_disc():
    size = 61
    y, x = np.mgrid[:size, :size] - (size - 1) / 2
    east, north = -0.2 * x, 0.2 * y          # RA grows to the left
    pa, incl = np.radians(60.0), np.radians(60.0)
    major = east * np.sin(pa) + north * np.cos(pa)
    minor = -east * np.cos(pa) + north * np.sin(pa)
    disc = np.exp(-np.hypot(major, minor / np.cos(incl)) / 1.5)   # exponential disc, h = 1.5"
    tilted = radial_profile(disc, _wcs(size), bin_width=0.4, r_max=4.0, pa=60, inclination=60)
    face_on = radial_profile(disc, _wcs(size), bin_width=0.4, r_max=4.0)
    np.testing.assert_allclose(tilted["median"], np.exp(-tilted["r_mid"] / 1.5), rtol=0.1)
    spread_tilted = (tilted["p84"] - tilted["p16"]).median()
    spread_round = (face_on["p84"] - face_on["p16"]).median()
    assert spread_tilted < 0.5 * spread_round


def test_radial_profile_rejects_an_empty_map():
    with pytest.raises(ValueError, match="no finite"):
        radial_profile(np.full((5, 5), np.nan), _wcs(5))


def test_plots_have_wcs_axes_colour_bars_and_units(in_memory):
    import matplotlib.pyplot as plt

    ax = plot_map(in_memory.lines["Halpha"], in_memory.lines.wcs, title="H-alpha",
                  label="flux [1e-20 erg/s/cm2]")
    assert ax.get_xlabel() and ax.get_ylabel() and len(ax.figure.axes) == 2
    assert ax.figure.axes[1].get_ylabel() == "flux [1e-20 erg/s/cm2]"
    prof = radial_profile(in_memory.properties["12+log(O/H)_mean"], in_memory.lines.wcs)
    ax = plot_profile(prof, label="12+log(O/H) [dex]")
    assert "arcsec" in ax.get_xlabel()
    ax = plot_bpt_map(in_memory.lines)
    assert ax.get_title()
    plt.close("all")


def test_pipeline_takes_a_list_of_cubes(cube_path, in_memory):
    results = run_pipeline([cube_path, cube_path], None, lines=["Halpha", "NII6583"])
    assert len(results) == 2 and all(r.properties is None for r in results)
    np.testing.assert_array_equal(results[1].lines["Halpha"], in_memory.lines["Halpha"])


class PreparedN2Game(SeededN2Game):
    """The test double with a ``prepare`` step, as a GAME whose models depend on the data set:
    it records every call and shifts its metallicity by the number of spectra it saw."""

    def __init__(self, lines=("Hbeta", "OIII5007", "Halpha", "NII6583"), random_state=0):
        super().__init__(lines, random_state)
        self.prepared = []

    def prepare(self, intensities, errors):
        self.prepared.append(len(intensities))
        return self

    def predict(self, intensities, errors=None, draw_seed=None):
        out = super().predict(intensities, errors, draw_seed)
        out["12+log(O/H)_mean"] += 1e-6 * sum(self.prepared)
        return out


def test_game_is_prepared_once_on_the_whole_cube(cube_path, in_memory):
    from distributed import Client, LocalCluster

    game = PreparedN2Game()
    result = run_pipeline(cube_path, game)
    n_spectra = int(np.isfinite(result.properties["12+log(O/H)_mean"]).sum())
    assert game.prepared == [n_spectra]  # once, with every spaxel, not once per block
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        chunked_game = PreparedN2Game()
        chunked = run_pipeline(cube_path, chunked_game, scheduler=client, chunk_rows=16)
    assert chunked_game.prepared == [n_spectra]
    assert np.array_equal(chunked.properties["12+log(O/H)_mean"],
                          result.properties["12+log(O/H)_mean"], equal_nan=True)


def test_radial_profile_can_stop_where_annuli_leave_the_field():
    size = 41
    image = np.ones((size, size))
    full = radial_profile(image, _wcs(size), bin_width=0.5)
    complete = radial_profile(image, _wcs(size), bin_width=0.5, r_max="complete")
    # the field's half-width is 20 spaxels = 4": annuli beyond it only hold the corners
    assert complete["r_out"].max() <= 4.0 + 1e-9 < full["r_out"].max()
    np.testing.assert_allclose(complete["n"][2:], 2 * np.pi * complete["r_mid"][2:] * 0.5 / 0.04,
                               rtol=0.1)
    assert (full["n"].iloc[-1] < 0.5 * 2 * np.pi * full["r_mid"].iloc[-1] * 0.5 / 0.04)


def test_property_maps_blank_masked_spaxels_and_ignore_outliers_in_the_colour_scale(in_memory):
    import matplotlib.pyplot as plt

    from course_utils.cube import PropertyMaps, plot_property_maps

    props = in_memory.properties
    oh = np.array(props["12+log(O/H)_mean"])
    finite = np.argwhere(np.isfinite(oh))
    (y0, x0), (y1, x1) = finite[0], finite[-1]
    oh[y1, x1] = 100.0  # one wild spaxel must not set the colour scale
    maps = PropertyMaps({"12+log(O/H)_mean": oh}, props.wcs, props.shape)
    mask = np.zeros(props.shape, dtype=bool)
    mask[y0, x0] = True
    fig = plot_property_maps(maps, "mean", mask=mask)
    image = fig.axes[0].images[0]
    shown = np.ma.filled(image.get_array(), np.nan)
    assert np.isnan(shown[y0, x0]) and np.isfinite(oh[y0, x0])
    assert image.get_clim()[1] < 20
    assert fig.get_size_inches()[0] <= 10
    plt.close("all")
