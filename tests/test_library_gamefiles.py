"""GAME's file formats: round trips and a clear error for every kind of malformed file."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_utils import library as L

LABELS = ["H-alpha 6563A", "[O III] 5007A", "H-beta 4861A", "He I  6678A"]
INTENSITIES = "6563 5007 4861 6678\n2.9 1.2 1.0 0.03\n3.1 0.5 1.0 0\n2.8 0 1.0 0.02\n"
ERRORS = "6563 5007 4861 6678\n0.1 0.05 0.04 0.01\n0.2 -99 0.05 0\n0 0 0.1 0.01\n"


def write(tmp_path, intensities=INTENSITIES, errors=ERRORS, labels="\n".join(LABELS) + "\n"):
    paths = [tmp_path / n for n in ("inputs.dat", "errors.dat", "labels.dat")]
    for path, text in zip(paths, (intensities, errors, labels)):
        path.write_text(text)
    return paths


def test_reads_games_example_layout(tmp_path):
    inputs = L.read_game_inputs(*write(tmp_path))
    assert list(inputs.intensities.columns) == ["Halpha", "OIII5007", "Hbeta", "HeI6678"]
    assert inputs.labels == LABELS  # as in the file, double space kept
    assert np.array_equal(inputs.wavelengths, [6563, 5007, 4861, 6678])
    assert inputs.intensities.shape == inputs.errors.shape == (3, 4)
    assert inputs.intensities.at[0, "Halpha"] == 2.9
    assert inputs.missing.at[1, "HeI6678"] and inputs.missing.at[2, "OIII5007"]
    assert inputs.upper_limits.at[1, "OIII5007"] and inputs.upper_limits.to_numpy().sum() == 1


def test_inputs_round_trip(tmp_path):
    inputs = L.read_game_inputs(*write(tmp_path))
    out = [tmp_path / n for n in ("i2.dat", "e2.dat", "l2.dat")]
    L.write_game_inputs(*out, inputs.intensities, inputs.errors)
    again = L.read_game_inputs(*out)
    pd.testing.assert_frame_equal(again.intensities, inputs.intensities)
    pd.testing.assert_frame_equal(again.errors, inputs.errors)
    assert again.labels == LABELS  # default labels are the GAME labels
    assert (tmp_path / "l2.dat").read_text().splitlines()[3] == "He I  6678A"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.floats(0, 1e6, allow_subnormal=False), min_size=6, max_size=6))
def test_inputs_round_trip_any_finite_values(tmp_path, values):
    intensities = pd.DataFrame(np.reshape(values, (2, 3)), columns=["Hbeta", "OIII5007", "Halpha"])
    errors = (0.1 * intensities).where(intensities > 1, -99.0)
    paths = [tmp_path / n for n in ("i.dat", "e.dat", "l.dat")]
    L.write_game_inputs(*paths, intensities, errors)
    again = L.read_game_inputs(*paths)
    assert np.array_equal(again.intensities.to_numpy(), intensities.to_numpy())
    assert np.array_equal(again.errors.to_numpy(), errors.to_numpy())


@pytest.mark.parametrize("which, text, message", [
    ("intensities", "6563 5007 4861 6678\n2.9 1.2 1.0\n", r"inputs.dat, row 2: 3 columns, expected 4"),
    ("intensities", "6563 5007 4861 6678\n2.9 1.2 x 0.1\n", r"inputs.dat, row 2, column 3: 'x' is not a number"),
    ("intensities", "6563 5007 4861 6678\n2.9 nan 1 0.1\n", r"inputs.dat, row 2, column 2: 'nan' is not a finite"),
    ("intensities", "6563 5007 4861 6678\n2.9 1 1 0.1\n2.9 1 inf 0.1\n", r"inputs.dat, row 3, column 3: 'inf'"),
    ("intensities", "6563 5007 4861 6678\n2.9 1 1 -0.1\n", r"inputs.dat, row 2, column 4: intensity -0.1"),
    ("errors", "6563 5007 4861 6678\n0.1 0.1 0.1 -1\n0 0 0 0\n0 0 0 0\n", r"errors.dat, row 2, column 4: error -1"),
    ("errors", "6563 5007 4861 6678\n0.1 0.1 0.1 0.1\n", r"errors.dat: 1 spectra x 4 lines, expected"),
    ("errors", "6563 5007 4862 6678\n0 0 0 0\n0 0 0 0\n0 0 0 0\n", r"errors.dat, row 1, column 3: wavelength 4862"),
    ("labels", "H-alpha 6563A\n[O III] 5007A\nH-beta 4861A\n", r"labels.dat: 3 labels, expected one per column"),
    ("labels", "H-alpha 6563A\n[O III] 5007A\nH-beta 4861A\n[Ar III] 7135A\n", r"labels.dat, row 4: unknown emission line"),
    ("labels", "H-alpha 6563A\n[O III] 5007A\n[N II] 6584A\nHe I  6678A\n", r"inputs.dat, row 1, column 3: wavelength 4861 A does not match"),
    ("intensities", "\n\n", r"inputs.dat: expected at least 1 non-empty rows"),
])
def test_malformed_inputs_name_file_row_and_column(tmp_path, which, text, message):
    kwargs = {"intensities": INTENSITIES, "errors": ERRORS,
              "labels": "\n".join(LABELS) + "\n", which: text}
    with pytest.raises(L.GameFileError, match=message):
        L.read_game_inputs(*write(tmp_path, **kwargs))


def test_repeated_line_is_refused(tmp_path):
    header = "6563 6563 4861 6678\n"
    paths = write(tmp_path, header + INTENSITIES.split("\n", 1)[1], header + ERRORS.split("\n", 1)[1],
                  "H-alpha 6563A\nHalpha\nH-beta 4861A\nHe I  6678A\n")
    with pytest.raises(L.GameFileError, match=r"labels.dat, row 2: 'Halpha' repeats the line Halpha"):
        L.read_game_inputs(*paths)


def test_missing_file_is_named(tmp_path):
    paths = write(tmp_path)
    with pytest.raises(L.GameFileError, match="nothere.dat: cannot read"):
        L.read_game_inputs(paths[0], tmp_path / "nothere.dat", paths[2])


def test_writing_bad_values_is_refused(tmp_path):
    frame = pd.DataFrame({"Hbeta": [1.0, np.nan]})
    with pytest.raises(ValueError, match="row 1, column 'Hbeta'"):
        L.write_game_inputs(*(tmp_path / n for n in "iel"), frame, frame.fillna(0))
    with pytest.raises(ValueError, match="-99"):
        L.write_game_inputs(*(tmp_path / n for n in "iel"), frame.fillna(1), frame.fillna(-5))


def test_library_csv_round_trip_and_game_layout(tmp_path):
    lib = L.build_library(200, lines=["Hbeta", "OIII5007", "OIII4959", "Halpha", "NII6583",
                                      "HeI6678"], seed=4)
    path = tmp_path / "library.csv"
    L.write_game_library(lib, path)
    header, waves = path.read_text().splitlines()[:2]
    assert header.split(",")[:6] == ["H-beta 4861A", "[O III] 5007A", "[O III] 4959A",
                                     "H-alpha 6563A", "[N II] 6584A", "He I  6678A"]
    assert header.split(",")[6:] == list(L.LABELS)  # parameters in the last columns
    assert float(waves.split(",")[3]) == pytest.approx(6562.8)
    # GAME reads it with np.loadtxt(skiprows=2, delimiter=",")
    assert np.loadtxt(path, skiprows=2, delimiter=",").shape == (200, 12)
    again = L.read_game_library(path)
    pd.testing.assert_frame_equal(again.intensities, lib.intensities)
    pd.testing.assert_frame_equal(again.labels, lib.labels)
    pd.testing.assert_frame_equal(again.lines, lib.lines)


def test_malformed_library_csv(tmp_path):
    lib = L.build_library(3, lines=["Hbeta", "Halpha"], seed=4)
    path = tmp_path / "library.csv"
    L.write_game_library(lib, path)
    rows = path.read_text().splitlines()
    bad = rows[:3] + [rows[3] + ",1"] + rows[4:]
    path.write_text("\n".join(bad))
    with pytest.raises(L.GameFileError, match=r"library.csv, row 4: 9 columns, expected 8"):
        L.read_game_library(path)
    path.write_text("\n".join(rows[:2] + [rows[2].replace(rows[2].split(",")[1], "-1", 1)] + rows[3:]))
    with pytest.raises(L.GameFileError, match=r"library.csv, row 3, column 2: negative intensity"):
        L.read_game_library(path)
    path.write_text("\n".join([rows[0].replace("A_V", "Av")] + rows[1:]))
    with pytest.raises(L.GameFileError, match=r"row 1: expected the parameter columns"):
        L.read_game_library(path)
