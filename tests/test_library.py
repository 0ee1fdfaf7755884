"""The emission-line library against the MAPPINGS grid it comes from and against physics."""

import inspect

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits
from scipy.interpolate import RegularGridInterpolator

from course_utils import library as L


@pytest.fixture(scope="module")
def grid():
    return L.load_grid("HII")


def test_grid_shape_axes_and_positive_fluxes(grid):
    axes, cube = L.grid_cube(grid, list(L.MUSE_LINES))
    assert cube.shape == (9, 12, 12, 10)
    assert np.allclose(axes[0], np.arange(-4, -1.99, 0.25))  # log U, step 0.25 (Thomas+18)
    assert np.isclose(axes[1][0], 4.2) and np.isclose(axes[1][-1], 8.6)
    assert np.isclose(axes[2][0], 7.061) and np.isclose(axes[2][-1], 9.304)
    fluxes = grid[grid.attrs["lines"]].to_numpy()
    assert np.all(np.isfinite(fluxes)) and np.all(fluxes > 0)


def test_nan_cells_become_the_floor_and_other_cells_are_untouched(grid):
    raw = fits.getdata(L.grid_path(), 1)
    oiii = np.asarray(raw["OIII5007"], dtype=float)
    assert np.sum(~np.isfinite(oiii)) == 10  # the documented NaN cells
    assert np.all(grid["OIII5007"][~np.isfinite(oiii)] == grid.attrs["floor"])
    assert np.allclose(grid["OIII5007"][np.isfinite(oiii)], oiii[np.isfinite(oiii)])
    assert 0 < grid.attrs["floor"] <= 1e-4


@pytest.mark.parametrize("interpolation", ["linear", "cubic"])
def test_library_reproduces_grid_fluxes_at_the_nodes(grid, interpolation):
    nodes = grid.sample(60, random_state=1)
    model = L.grid_model(nodes["log U"], nodes["log P/k"], nodes["12+log(O/H)"],
                         lines=L.MUSE_LINES, interpolation=interpolation)
    expected = nodes[list(L.MUSE_LINES)].to_numpy()
    assert np.allclose(model.to_numpy(), expected, rtol=1e-9)


def test_leave_every_second_node_out_error_is_small():
    """Interpolate a grid with every second node removed, compare at the removed nodes."""
    lines = [l for l in L.MUSE_LINES if l != "Hbeta"]  # Hbeta = 1 everywhere: no information
    axes, cube = L.grid_cube(L.load_grid(), lines)
    method = inspect.signature(L.build_library).parameters["interpolation"].default
    half = RegularGridInterpolator(tuple(a[::2] for a in axes), cube[::2, ::2, ::2],
                                   method=method)
    index = np.indices(cube.shape[:3]).reshape(3, -1).T
    last_kept = np.array([2 * ((n - 1) // 2) for n in cube.shape[:3]])
    left_out = np.all(index <= last_kept, axis=1) & np.any(index % 2 == 1, axis=1)
    points = np.column_stack([a[index[left_out, k]] for k, a in enumerate(axes)])
    error = np.abs(half(points) - cube[tuple(index[left_out].T)])
    assert np.median(error) < 0.02
    assert np.median(error[:, lines.index("OIII5007")]) < 0.1  # the hardest line


def test_anchor_model_ratios_match_the_grid_values():
    # NebulaBayes HII grid at log U = -3, log P/k = 6.2, 12 + log O/H = 8.76 (Thomas et al. 2018)
    expected = {"OIII5007": 0.311, "HeI5876": 0.106, "OI6300": 0.034, "Halpha": 2.917,
                "NII6583": 1.111, "SII6716": 0.396, "SII6731": 0.303, "SIII9069": 0.363}
    model = L.grid_model(-3.0, 6.2, 8.76, lines=["Hbeta", *expected]).iloc[0]
    for line, ratio in expected.items():
        assert model[line] / model["Hbeta"] == pytest.approx(ratio, rel=0.01), line


def ccm89(wavelength_angstrom, r_v=3.1):
    """A_lambda / A_V of Cardelli, Clayton & Mathis 1989 (ApJ 345, 245), eqs. 3a-3b (optical)."""
    y = 1e4 / wavelength_angstrom - 1.82
    a = np.polyval([0.32999, -0.77530, 0.01979, 0.72085, -0.02427, -0.50447, 0.17699, 1], y)
    b = np.polyval([-2.09002, 5.30260, -0.62251, -5.38434, 1.07233, 2.28305, 1.41338, 0], y)
    return a + b / r_v


def test_attenuation_follows_ccm89():
    waves = np.array([4861.3, 5006.8, 6562.8, 6583.5, 9068.6])
    assert np.allclose(L.attenuation(waves, [1.0])[0], ccm89(waves), atol=2e-3)
    assert np.allclose(L.attenuation(waves, [0.0, 2.0]), np.outer([0, 2], ccm89(waves)), atol=4e-3)


@pytest.fixture(scope="module")
def dusty():
    return L.build_library(5000, lines=["Hbeta", "Halpha", "OIII5007", "OIII4959", "NII6583",
                                        "NII6548"], seed=3)


def test_intrinsic_balmer_decrement_is_case_b_like(grid):
    grid_ratio = grid["Halpha"] / grid["Hbeta"]
    # Case B at 1e4 K is 2.863 (Osterbrock & Ferland 2006); the grid spans 2.8-3.6
    assert 2.75 < grid_ratio.min() < 2.863 < grid_ratio.max() < 3.65
    clean = L.build_library(5000, lines=["Hbeta", "Halpha"], seed=2, av_range=(0, 0))
    ratio = clean.intensities["Halpha"] / clean.intensities["Hbeta"]
    assert ratio.between(grid_ratio.min() - 0.02, grid_ratio.max() + 0.02).all()


def test_balmer_decrement_grows_with_av_as_the_curve_predicts(dusty):
    lib = dusty
    intrinsic = L.grid_model(lib.labels["log U"], lib.labels["log P/k"], lib.labels["12+log(O/H)"],
                             lines=["Hbeta", "Halpha"])
    observed = lib.intensities["Halpha"] / lib.intensities["Hbeta"]
    excess = 2.5 * np.log10(observed / (intrinsic["Halpha"] / intrinsic["Hbeta"]).to_numpy())
    # E(Hbeta - Halpha) = A_V (k(Hbeta) - k(Halpha)) with the CCM89 k values
    k_diff = ccm89(4861.3) - ccm89(6562.8)
    assert np.allclose(excess, lib.labels["A_V"] * k_diff, atol=1e-3 * lib.labels["A_V"].max())
    # Halpha itself is dimmed by A_Halpha = 0.82 A_V (CCM89, R_V = 3.1)
    assert ccm89(6562.8) == pytest.approx(0.818, abs=0.005)
    a_halpha = -2.5 * np.log10(lib.intensities["Halpha"] / intrinsic["Halpha"].to_numpy())
    assert np.allclose(a_halpha, 0.818 * lib.labels["A_V"], atol=0.01)


def test_derived_lines_follow_atomic_physics(dusty):
    i, a_v = dusty.intensities, dusty.labels["A_V"]
    # undo the small reddening difference between the two members of each doublet
    k = ccm89(np.array([5006.8, 4958.91, 6583.5, 6548.05]))
    assert np.allclose(i["OIII5007"] / i["OIII4959"] * 10 ** (0.4 * a_v * (k[0] - k[1])), 2.98)
    assert np.allclose(i["NII6583"] / i["NII6548"] * 10 ** (0.4 * a_v * (k[2] - k[3])), 2.94)


def test_labels_follow_the_stated_conventions(dusty):
    lab = dusty.labels
    assert list(lab.columns) == list(L.LABELS)
    assert np.allclose(lab["log(Z/Zsun)"], lab["12+log(O/H)"] - 8.76)  # MAPPINGS 5.1 solar
    assert np.allclose(lab["log n"], lab["log P/k"] - 4.0)  # n = (P/k) / 1e4 K
    assert lab["A_V"].between(0, 3).all() and lab["A_V"].std() > 0.8  # uniform on [0, 3]: 0.87
    axes = L.grid_cube(L.load_grid(), ["Hbeta"])[0]
    for name, axis in zip(L.GRID_PARAMETERS, axes):
        assert lab[name].between(axis[0], axis[-1]).all()
    assert dusty.lines.loc["OIII4959", "wavelength"] == pytest.approx(4958.9, abs=0.1)
    assert dusty.provenance["seed"] == 3


def test_same_seed_same_library_other_seed_other_library():
    a = L.build_library(500, lines=L.MUSE_LINES, seed=7)
    b = L.build_library(500, lines=L.MUSE_LINES, seed=7)
    c = L.build_library(500, lines=L.MUSE_LINES, seed=8)
    pd.testing.assert_frame_equal(a.intensities, b.intensities)
    pd.testing.assert_frame_equal(a.labels, b.labels)
    assert not np.allclose(a.labels, c.labels)


def test_library_accepts_aliases_and_rejects_bad_arguments():
    lib = L.build_library(10, lines=["H-beta 4861A", "[N II] 6584A", 6562.8])
    assert list(lib.intensities.columns) == ["Hbeta", "NII6583", "Halpha"]
    with pytest.raises(L.UnknownLineError, match="closest valid names: .*Halpha"):
        L.build_library(10, lines=["Halfa"])
    with pytest.raises(ValueError, match="same line"):
        L.build_library(10, lines=["NII6583", "NII6584"])
    with pytest.raises(ValueError, match="attenuation curve"):
        L.build_library(10, lines=["SIII187129"])
    with pytest.raises(ValueError, match="n_models"):
        L.build_library(0)
    with pytest.raises(ValueError, match="av_range"):
        L.build_library(10, av_range=(2, 1))
    with pytest.raises(ValueError, match="log U outside"):
        L.grid_model(-1.0, 6.0, 8.5)


def test_load_library_caches_checks_and_rebuilds(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_UTILS_DATA", str(tmp_path))
    built = L.build_library(300, lines=L.MUSE_LINES, seed=5)
    first = L.load_library(300, lines=L.MUSE_LINES, seed=5)
    files = list(tmp_path.glob("library_*.npz"))
    assert len(files) == 1
    cached = L.load_library(300, lines=L.MUSE_LINES, seed=5)
    for lib in (first, cached):
        pd.testing.assert_frame_equal(lib.intensities, built.intensities)
        pd.testing.assert_frame_equal(lib.labels, built.labels)
        pd.testing.assert_frame_equal(lib.lines, built.lines)
        assert lib.provenance == built.provenance
    # a corrupted file (one flipped byte in the data) is detected and rebuilt
    data = bytearray(files[0].read_bytes())
    data[len(data) // 2] ^= 0xFF
    files[0].write_bytes(bytes(data))
    rebuilt = L.load_library(300, lines=L.MUSE_LINES, seed=5)
    pd.testing.assert_frame_equal(rebuilt.intensities, built.intensities)
    # different parameters give a different file
    L.load_library(300, lines=L.MUSE_LINES, seed=6)
    assert len(list(tmp_path.glob("library_*.npz"))) == 2


def test_doublet_sums_equal_their_parts_and_default_lines_are_single():
    model = L.grid_model([-3.5, -2.5], [5.0, 7.0], [8.2, 8.9],
                         lines=["SII6716_31", "SII6716", "SII6731", "[O II] 3727", "OII3726",
                                "OII3729"])
    assert np.allclose(model["SII6716_31"], model["SII6716"] + model["SII6731"], rtol=0.01)
    assert np.allclose(model["OII3726_29"], model["OII3726"] + model["OII3729"], rtol=0.01)
    default = L.build_library(5, seed=0)
    assert default.intensities.shape[1] == 79 and "SII6716_31" not in default.intensities
    assert default.lines["wavelength"].between(*L.ATTENUATION_RANGE).all()
