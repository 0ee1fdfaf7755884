"""The Cloudy libraries against the HII-CHI-mistry files they come from and against physics."""

import gzip

import numpy as np
import pandas as pd
import pytest

from course_utils import library as L
from course_utils.library import cloudy as C
from course_utils.nebular import te_oiii


@pytest.fixture(scope="module")
def table():
    return C.read_cloudy_grid(C.cloudy_path("cloudy-popstar"))


def test_files_have_the_documented_size_axes_and_no_halpha(table):
    assert len(table) == 4301
    assert list(table.columns[:3]) == list(C.CLOUDY_PARAMETERS)
    assert (table["12+log(O/H)"].min(), table["12+log(O/H)"].max()) == (6.9, 9.1)
    assert (table["log(N/O)"].min(), table["log(N/O)"].max()) == (-2.0, 0.0)
    assert (table["log(U)"].min(), table["log(U)"].max()) == (-4.0, -1.5)
    assert not any("6563" in c or "alpha" in c.lower() for c in table.columns)
    for grid in C.CLOUDY_GRIDS:
        axes, cube, column, repairs = C.cloudy_cube(grid)
        assert cube.shape == (23, 17, 11, len(C.CLOUDY_LINES) + 2)
        assert np.isfinite(cube).all() and np.all(cube[..., column["Hbeta"]] == 0)
        assert repairs["nodes_from_off_axis_rows"] == 22 and repairs["nodes_interpolated"] == 1


def test_nodes_on_the_axis_reproduce_the_file_exactly(table):
    on_axis = table[np.isin(np.round(table["log(N/O)"], 3), C.CLOUDY_AXES[1])]
    rows = on_axis.drop_duplicates(subset=list(C.CLOUDY_PARAMETERS)).sample(80, random_state=2)
    model = L.cloudy_model(rows["12+log(O/H)"], rows["log(N/O)"], rows["log(U)"],
                           lines=list(C.CLOUDY_LINES.values()), grid="cloudy-popstar")
    expected = rows[list(C.CLOUDY_LINES)].to_numpy()
    floor = C.cloudy_cube("cloudy-popstar")[3]["floor"]
    assert np.allclose(model.to_numpy(), np.where(expected > 0, expected, floor), rtol=1e-9)


def test_off_axis_rows_are_moved_by_interpolation_not_relabelled(table):
    """The 11 rows labelled log(N/O) = -1.675 are used at their own label: the regular node
    -1.625 lies between them and the -1.5 rows, not on them."""
    axes, cube, column, _ = C.cloudy_cube("cloudy-popstar")
    rows = table[np.isclose(table["log(N/O)"], -1.675)]
    oh = rows["12+log(O/H)"].iloc[0]
    a, b = int(np.argmin(abs(axes[0] - oh))), int(np.argmin(abs(axes[1] + 1.625)))
    for _, row in rows.iterrows():
        c = int(np.argmin(abs(axes[2] - row["log(U)"])))
        upper = table[np.isclose(table["12+log(O/H)"], oh) & np.isclose(table["log(N/O)"], -1.5)
                      & np.isclose(table["log(U)"], row["log(U)"])]["NII_6584"].iloc[0]
        node = 10 ** cube[a, b, c, column["NII6583"]]
        expected = 10 ** np.interp(-1.625, [-1.675, -1.5],
                                   np.log10([row["NII_6584"], upper]))
        assert node == pytest.approx(expected, rel=1e-9)


def test_halpha_is_case_b_at_each_nodes_own_temperature():
    # PyNeb's case B (Storey & Hummer 1995): 2.86 at 10^4 K, larger when colder
    assert C.halpha_hbeta(1e4) == pytest.approx(2.86, abs=0.01)
    assert C.halpha_hbeta(5000) > C.halpha_hbeta(1e4) > C.halpha_hbeta(2e4)
    axes, cube, column, repairs = C.cloudy_cube("cloudy-popstar")
    flux = 10 ** cube
    # a node with a bright 4363: its Halpha follows the temperature of its own [OIII] ratio
    a, b, c = np.argwhere(flux[..., column["OIII4363"]] > 0.05)[0]
    t = te_oiii((1 + 1 / 2.98) * flux[a, b, c, column["OIII5007"]] / flux[a, b, c, column["OIII4363"]])
    assert flux[a, b, c, column["Halpha"]] == pytest.approx(float(C.halpha_hbeta(t)), rel=1e-6)
    # not a constant: metal-rich (cold) nodes have larger decrements than metal-poor ones
    halpha = flux[..., column["Halpha"]]
    assert halpha[-1].mean() > halpha[0].mean() + 0.05
    assert 2.7 < halpha.min() and halpha.max() < 3.1
    assert 0.5 < repairs["temperature_measured"] < 1


def test_library_labels_priors_and_nitrogen_is_free():
    lib = L.build_library(3000, seed=1, av_range=(0, 0), grid="cloudy-bpass")
    assert list(lib.labels.columns) == list(L.CLOUDY_LABELS)
    assert "Halpha" in lib.intensities and "OIII4959" not in lib.intensities
    # N/O is free: at fixed O/H, [NII]/[OII] follows N/O
    n2o2 = np.log10(lib.intensities["NII6583"] / lib.intensities["OII3726_29"])
    band = lib.labels["12+log(O/H)"].between(8.0, 8.3)
    assert np.corrcoef(n2o2[band], lib.labels["log N/O"][band])[0, 1] > 0.9
    prior = L.build_library(3000, seed=1, av_range=(0, 0), grid="cloudy-bpass", prior="hcm-sfg")
    limits = L.hcm_constraints()
    oh, u = prior.labels["12+log(O/H)"], prior.labels["log U"]
    assert np.all(u >= np.interp(oh, limits["12+log(O/H)"], limits["log(U)_min"]) - 1e-9)
    assert np.all(u <= np.interp(oh, limits["12+log(O/H)"], limits["log(U)_max"]) + 1e-9)
    assert L.hcm_allowed(oh, u).all()
    # rejection from the uniform library keeps the models the prior could have drawn
    uniform = L.build_library(3000, seed=1, av_range=(0, 0), grid="cloudy-bpass").labels
    kept = L.hcm_allowed(uniform["12+log(O/H)"], uniform["log U"])
    assert 0.1 < kept.mean() < 0.3  # the band is 0.5-0.75 dex wide in a 2.5 dex range
    assert not L.hcm_allowed([8.0, 8.0, 9.1], [-3.5, -1.6, -3.0]).any()
    assert L.hcm_allowed([8.0, 6.9], [-2.5, -2.0]).all()  # 8.0: -2.75..-2.25; ends included
    assert prior.labels["log N/O"].min() < -1.9  # N/O stays free with this prior
    both = L.build_library(500, seed=1, grid="cloudy-bpass", prior="hcm-sfg-no")
    no = both.labels["log N/O"]
    assert np.all(no <= np.interp(both.labels["12+log(O/H)"], limits["12+log(O/H)"],
                                  limits["log(N/O)_max"]) + 1e-9)


def test_dust_and_derived_lines_work_as_for_mappings():
    lib = L.build_library(200, lines=["Hbeta", "Halpha", "OIII5007", "OIII4959", "NII6584"],
                          seed=3, av_range=(0.0, 2.0), grid="cloudy-popstar")
    clean = lib.with_dust((0, 0))
    assert np.allclose(clean.intensities["OIII5007"] / clean.intensities["OIII4959"], 2.98)
    ratio = clean.intensities["Halpha"] / clean.intensities["Hbeta"]
    assert ratio.between(2.7, 3.1).all()
    dusty = (lib.intensities["Halpha"] / lib.intensities["Hbeta"]) / ratio
    assert np.corrcoef(dusty, lib.labels["A_V"])[0, 1] > 0.99


def test_bad_arguments_and_lines_the_grid_lacks_are_refused():
    with pytest.raises(ValueError, match="grid="):
        L.build_library(10, grid="cloudy")
    with pytest.raises(ValueError, match="not computed by the cloudy-popstar grid"):
        L.build_library(10, lines=["HeI5876"], grid="cloudy-popstar")
    with pytest.raises(ValueError, match="needs a Cloudy grid"):
        L.build_library(10, prior="hcm-sfg")
    with pytest.raises(ValueError, match="prior="):
        L.build_library(10, grid="cloudy-bpass", prior="flat")
    with pytest.raises(ValueError, match="outside the grid's range"):
        L.cloudy_model(9.5, -1.0, -3.0)


def test_a_damaged_file_is_reported_with_line_and_column(tmp_path):
    source = C.cloudy_path("cloudy-popstar")
    with gzip.open(source, "rt") as f:
        text = f.read().splitlines()
    header = next(i for i, l in enumerate(text) if not l.startswith("#"))
    cells = text[header + 3].split("\t")
    cells[6] = " x"
    text[header + 3] = "\t".join(cells)
    bad = tmp_path / "bad.dat"
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(C.CloudyGridError, match=rf"bad.dat, line {header + 4}, column 'OIII_5007'"):
        C.read_cloudy_grid(bad)


def test_load_library_caches_each_grid_and_prior_apart(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_UTILS_DATA", str(tmp_path))
    built = L.build_library(300, seed=5, grid="cloudy-popstar", prior="hcm-sfg")
    first = L.load_library(300, seed=5, grid="cloudy-popstar", prior="hcm-sfg")
    again = L.load_library(300, seed=5, grid="cloudy-popstar", prior="hcm-sfg")
    for lib in (first, again):
        pd.testing.assert_frame_equal(lib.intensities, built.intensities)
        pd.testing.assert_frame_equal(lib.labels, built.labels)
        assert lib.provenance == built.provenance
    L.load_library(300, seed=5, grid="cloudy-popstar")
    L.load_library(300, seed=5, grid="cloudy-bpass", prior="hcm-sfg")
    assert len(list(tmp_path.glob("library_*.npz"))) == 3


def test_game_and_the_grid_fit_recover_nitrogen_from_a_cloudy_library():
    from course_utils.bayes import GridLikelihood
    from course_utils.game import Game

    lines = ["OII3726_29", "Hbeta", "OIII5007", "NII6583", "SII6716_31"]
    props = ["12+log(O/H)", "log N/O", "log U"]
    train = L.build_library(4000, lines, seed=0, av_range=(0, 0), grid="cloudy-popstar")
    test = L.build_library(300, lines, seed=9, av_range=(0, 0), grid="cloudy-popstar")
    game = Game(properties=props, lines=lines, noise_aware=False, calibrate=False).fit(train)
    table = game.predict(test.intensities)
    error = table["log N/O_median"] - test.labels["log N/O"]
    # N/O spans 2 dex; [NII]/[OII] pins it (a fixed guess of the mean would give ~0.58 dex)
    assert np.sqrt(np.mean(error**2)) < 0.15
    fit = GridLikelihood(properties=props, lines=lines, av_range=(0, 0),
                         grid="cloudy-popstar").fit()
    assert fit.axis_names_ == ("12+log(O/H)", "log N/O", "log U", "A_V")
    posterior = fit.predict(test.intensities.iloc[:40], 0.05 * test.intensities.iloc[:40])
    error = posterior["log N/O_mean"] - test.labels["log N/O"].iloc[:40]
    assert np.median(np.abs(error)) < 0.1
    with pytest.raises(KeyError, match="log P/k"):
        GridLikelihood(properties=["log P/k"], grid="cloudy-bpass").fit()


def test_cli_grid_option_builds_a_cloudy_library_and_predicts_nitrogen(tmp_path, capsys):
    from course_utils.game_cli import main
    from course_utils.library import write_game_inputs

    lines = ["OII3726_29", "Hbeta", "OIII5007", "Halpha", "NII6583", "SII6716_31"]
    spectra = L.build_library(6, lines, seed=3, grid="cloudy-bpass").intensities
    paths = [tmp_path / f"{k}.txt" for k in ("intensities", "errors", "labels")]
    write_game_inputs(*paths, spectra, 0.1 * spectra)
    common = ["run", "--intensities", str(paths[0]), "--errors", str(paths[1]), "--labels",
              str(paths[2]), "--draws", "20", "--cv-folds", "2", "--cv-models", "300", "--quiet",
              "--library-size", "600"]
    out = tmp_path / "out"
    assert main(common + ["--out", str(out), "--grid", "cloudy-bpass"]) == 0
    table = pd.read_csv(out / "output_ml.csv")
    assert "log N/O_median" in table and "log P/k_median" not in table and len(table) == 6
    # a property the grid does not have is refused before any work, with status 2
    bad = tmp_path / "bad"
    assert main(common + ["--out", str(bad), "--grid", "cloudy-popstar",
                          "--properties", "log P/k"]) == 2
    assert "log P/k" in capsys.readouterr().err and not bad.exists()


def test_committed_files_are_the_ones_data_readme_names():
    import hashlib
    import re

    readme = (C.DATA_DIR.parent / "README.md").read_text()
    block = readme.split("<!-- cloudy checksums: start -->")[1].split("<!-- cloudy checksums: end -->")[0]
    sums = dict(re.findall(r"\| `([^`]+)` \| `([0-9a-f]{64})` \|", block))
    assert len(sums) == 4
    for name, digest in sums.items():
        path = C.DATA_DIR / name
        data = path.read_bytes() if path.exists() else gzip.decompress(
            (C.DATA_DIR / f"{name}.gz").read_bytes())
        assert hashlib.sha256(data).hexdigest() == digest, name
    assert "MIT License" in (C.DATA_DIR / "LICENSE").read_text()
    assert "f4e302eb06f5079eca23ea4372ec0f70a0c58b59" in readme and "2014MNRAS.441.2663P" in readme


def test_a_cloudy_library_round_trips_through_games_library_file(tmp_path):
    lib = L.build_library(50, ["Hbeta", "OIII5007", "Halpha", "NII6584"], seed=2,
                          grid="cloudy-popstar")
    L.write_game_library(lib, tmp_path / "library.csv")
    back = L.read_game_library(tmp_path / "library.csv")
    assert list(back.labels.columns) == list(L.CLOUDY_LABELS)
    pd.testing.assert_frame_equal(back.intensities, lib.intensities)
    pd.testing.assert_frame_equal(back.labels, lib.labels[list(L.CLOUDY_LABELS)])


def test_cli_reads_a_cloudy_library_file_and_names_a_property_it_lacks(tmp_path, capsys):
    from course_utils.game_cli import main
    from course_utils.library import write_game_inputs

    lines = ["OII3726_29", "Hbeta", "OIII5007", "NII6583"]
    library = L.build_library(600, lines, seed=0, av_range=(0, 0), grid="cloudy-popstar")
    L.write_game_library(library, tmp_path / "library.csv")
    spectra = L.build_library(4, lines, seed=3, av_range=(0, 0), grid="cloudy-popstar").intensities
    paths = [tmp_path / f"{k}.txt" for k in ("intensities", "errors", "labels")]
    write_game_inputs(*paths, spectra, 0.1 * spectra)
    common = ["run", "--intensities", str(paths[0]), "--errors", str(paths[1]), "--labels",
              str(paths[2]), "--draws", "20", "--cv-folds", "2", "--cv-models", "300", "--quiet",
              "--library", str(tmp_path / "library.csv")]
    assert main(common + ["--out", str(tmp_path / "out")]) == 0
    assert "log N/O_median" in pd.read_csv(tmp_path / "out" / "output_ml.csv")
    assert main(common + ["--out", str(tmp_path / "bad"), "--properties", "log P/k"]) == 2
    err = capsys.readouterr().err
    assert "log P/k" in err and "not in the library" in err and not (tmp_path / "bad").exists()
