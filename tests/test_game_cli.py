"""Tests of the ``game`` command-line tool (course_utils.game_cli)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_utils.game import PROPERTIES, STATS
from course_utils.game_cli import main
from course_utils.library import (MUSE_LINES, Library, build_library, write_game_inputs,
                                  write_game_library)

LINES = list(MUSE_LINES)
FAST = ["--draws", "20", "--cv-folds", "2", "--cv-models", "300", "--quiet"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    spectra = build_library(12, LINES, seed=3).intensities
    errors = 0.1 * spectra
    spectra.iloc[0, 4] = 0.0  # Halpha missing
    errors.iloc[0, 4] = 0.0
    errors.iloc[1, 2] = -99.0  # upper limit
    paths = {k: folder / f"{k}.txt" for k in ("intensities", "errors", "labels")}
    write_game_inputs(paths["intensities"], paths["errors"], paths["labels"], spectra, errors)
    library = build_library(600, LINES, seed=0)
    paths["library"] = folder / "library.csv"
    write_game_library(library, paths["library"])
    small = Library(library.intensities.drop(columns="SIII9069"), library.labels,
                    library.lines.drop(index="SIII9069"))
    paths["library_without_siii"] = folder / "library_no_siii.csv"
    write_game_library(small, paths["library_without_siii"])
    return paths


def args(files, out, **replace):
    given = {"intensities": files["intensities"], "errors": files["errors"],
             "labels": files["labels"], "library": files["library"]}
    given.update(replace)
    argv = ["run", "--out", str(out)] + FAST
    for key, value in given.items():
        argv += [f"--{key}", str(value)]
    return argv


def test_good_files_give_one_row_per_spectrum(files, tmp_path):
    out = tmp_path / "out"
    assert main(args(files, out) + ["--save-draws"]) == 0
    table = pd.read_csv(out / "output_ml.csv")
    assert len(table) == 12 and list(table["row"]) == list(range(1, 13))
    assert list(table.columns) == (["row"] + [f"{p}_{s}" for p in PROPERTIES for s in STATS]
                                   + ["pattern", "flag"])
    assert table["flag"].dtype.kind == "i"
    assert table["pattern"].astype(str).str.zfill(10).iloc[0] == "1111011111"
    validation = pd.read_csv(out / "validation.csv", dtype={"pattern": str})
    assert set(validation["pattern"]) == {"1111111111", "1111011111"}
    assert (validation["rmse"] > 0).all()
    importances = pd.read_csv(out / "feature_importances.csv", dtype={"pattern": str})
    assert len(importances) == 10 + 9
    draws = np.load(out / "draws.npz")
    assert draws["draws"].shape == (12, 20, 4)
    run = json.loads((out / "run.json").read_text())
    assert run["lines"] == LINES and set(run["flag_bits"]) == {"1", "2", "4", "8", "16"}
    # pattern ids are text: quoted in the file, read back as written with the documented call
    assert '"1111011111"' in (out / "output_ml.csv").read_text()
    typed = pd.read_csv(out / "output_ml.csv", dtype={"pattern": str})
    assert typed["pattern"].iloc[0] == "1111011111"


def test_model_error_widens_the_intervals(files, tmp_path):
    widths = {}
    for error in ("0", "0.3"):
        out = tmp_path / f"out{error}"
        assert main(args(files, out) + ["--model-error", error]) == 0
        assert json.loads((out / "run.json").read_text())["options"]["model_error"] == float(error)
        table = pd.read_csv(out / "output_ml.csv")
        widths[error] = table["12+log(O/H)_p84"] - table["12+log(O/H)_p16"]
    assert np.median(widths["0.3"] / widths["0"]) > 1.5


def test_built_library_and_property_choice(files, tmp_path):
    out = tmp_path / "out"
    argv = args(files, out)
    i = argv.index("--library")
    del argv[i:i + 2]
    assert main(argv + ["--library-size", "500", "--properties", "log(Z/Zsun)", "log n"]) == 0
    table = pd.read_csv(out / "output_ml.csv")
    assert "log(Z/Zsun)_median" in table and "log n_p84" in table and len(table) == 12


def bad(files, out, capsys, argv, message):
    status = main(argv)
    err = capsys.readouterr().err.strip()
    assert status == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("game: error:"), err
    assert message in err, err
    assert not out.exists() or not any(out.iterdir())
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


def write(path, text):
    path.write_text(text)
    return path


def test_missing_file(files, tmp_path, capsys):
    out = tmp_path / "out"
    bad(files, out, capsys, args(files, out, errors=tmp_path / "nope.txt"), "nope.txt")


def test_malformed_file(files, tmp_path, capsys):
    text = files["intensities"].read_text().splitlines()
    text[3] = text[3].replace(" ", " x", 1)
    broken = write(tmp_path / "broken.txt", "\n".join(text))
    out = tmp_path / "out"
    bad(files, out, capsys, args(files, out, intensities=broken), "row 4")


def test_mismatched_files(files, tmp_path, capsys):
    short = write(tmp_path / "short.txt", "\n".join(files["errors"].read_text().splitlines()[:5]))
    out = tmp_path / "out"
    bad(files, out, capsys, args(files, out, errors=short), "short.txt")


def test_unknown_label(files, tmp_path, capsys):
    labels = files["labels"].read_text().replace("[O I] 6300A", "[Xx I] 6300A")
    out = tmp_path / "out"
    bad(files, out, capsys, args(files, out, labels=write(tmp_path / "l.dat", labels)), "Xx I")


def test_row_with_every_line_missing(files, tmp_path, capsys):
    rows = files["intensities"].read_text().splitlines()
    rows[5] = " ".join(["0"] * len(LINES))
    out = tmp_path / "out"
    bad(files, out, capsys,
        args(files, out, intensities=write(tmp_path / "i.txt", "\n".join(rows))), "no detected line")


def test_nan_cell(files, tmp_path, capsys):
    rows = files["errors"].read_text().splitlines()
    cells = rows[2].split()
    cells[3] = "nan"
    rows[2] = " ".join(cells)
    out = tmp_path / "out"
    bad(files, out, capsys, args(files, out, errors=write(tmp_path / "e.txt", "\n".join(rows))),
        "column 4")


def test_output_folder_not_empty(files, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(args(files, out)) == 2
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_line_the_library_lacks(files, tmp_path, capsys):
    out = tmp_path / "out"
    bad(files, out, capsys, args(files, out, library=files["library_without_siii"]), "SIII9069")
    assert main(args(files, out, library=files["library_without_siii"])
                + ["--drop-unknown-lines"]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "SIII9069" in err
    assert len(pd.read_csv(out / "output_ml.csv")) == 12


def test_bad_option_values(files, tmp_path, capsys):
    out = tmp_path / "out"
    bad(files, out, capsys, args(files, out) + ["--draws", "0"], "--draws")
    bad(files, out, capsys, args(files, out) + ["--properties", "log T"], "log T")
    bad(files, out, capsys, ["run", "--out", str(out)], "required")


def test_help_documents_every_option():
    result = subprocess.run([sys.executable, "-m", "course_utils.game_cli", "run", "--help"],
                            capture_output=True, text=True, check=True)
    for option in ("--intensities", "--errors", "--labels", "--out", "--properties", "--draws",
                   "--library-size", "--library", "--seed", "--save-draws",
                   "--drop-unknown-lines", "--noise-free", "--no-dust", "--model-error"):
        assert option in result.stdout


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(["intensities", "errors", "labels", "library"]),
       text=st.text(alphabet=st.sampled_from(list("0123456789.-e+ \t\nnaix[]A,")), max_size=300))
def test_random_malformed_inputs_never_give_a_traceback(files, tmp_path, capsys, which, text):
    path = write(tmp_path / f"random_{which}.txt", text)
    out = tmp_path / "random_out"
    status = main(args(files, out, **{which: path}))
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("game: error:") and "Traceback" not in err


# ---------------------------------------------------------------- failures that were tracebacks

def test_header_only_intensities_fail_before_training(files, tmp_path, capsys):
    header = files["intensities"].read_text().splitlines()[0]
    errors_header = files["errors"].read_text().splitlines()[0]
    out = tmp_path / "out"
    bad(files, out, capsys, args(files, out, intensities=write(tmp_path / "h.txt", header),
                                 errors=write(tmp_path / "he.txt", errors_header)), "no spectra")


@pytest.mark.parametrize("option, value, message", [
    ("--seed", "-1", "--seed"), ("--seed", "5000000000", "--seed"), ("--seed", "5e9", "--seed"),
    ("--cv-models", "1", "--cv-models"), ("--cv-folds", "1000", "--cv-folds"),
    ("--cv-folds", "1", "--cv-folds"), ("--draws", "100000000", "--draws"),
    ("--draws", "1e8", "--draws"), ("--library-size", "5", "--library-size"),
    ("--model-error", "-0.1", "--model-error"), ("--model-error", "nan", "--model-error"),
    ("--model-error", "10%", "--model-error"),
])
def test_option_values_are_checked_before_any_work(files, tmp_path, capsys, option, value,
                                                   message):
    out = tmp_path / "out"
    argv = args(files, out)
    if option in argv:
        i = argv.index(option)
        del argv[i:i + 2]
    if option == "--library-size":
        i = argv.index("--library")
        del argv[i:i + 2]
    bad(files, out, capsys, argv + [option, value], message)


def test_one_model_library(files, tmp_path, capsys):
    rows = files["library"].read_text().splitlines()
    out = tmp_path / "out"
    bad(files, out, capsys, args(files, out, library=write(tmp_path / "one.csv",
                                                           "\n".join(rows[:3]))), "1 models")


def test_library_without_its_wavelength_row(files, tmp_path, capsys):
    rows = files["library"].read_text().splitlines()
    out = tmp_path / "out"
    bad(files, out, capsys, args(files, out, library=write(tmp_path / "nowave.csv",
                                                           "\n".join(rows[:1] + rows[2:]))),
        "row 2")


@pytest.mark.parametrize("encoding, message", [("utf-16", "UTF-16"), ("latin-1", "UTF-8")])
def test_other_encodings_are_named(files, tmp_path, capsys, encoding, message):
    labels = files["labels"].read_text().replace("[O I] 6300A", "[O I] 6300A \u00c5")
    path = tmp_path / f"labels_{encoding}.dat"
    path.write_bytes(labels.encode(encoding))
    out = tmp_path / "out"
    bad(files, out, capsys, args(files, out, labels=path), message)


def test_a_byte_order_mark_is_accepted(files, tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + files["intensities"].read_bytes())
    assert main(args(files, tmp_path / "out", intensities=path)) == 0


def test_unwritable_output_is_found_before_computing(files, tmp_path, capsys):
    import os
    import time

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        # as root, permissions do not bind: /proc takes no new folders from anyone
        parent = locked if not os.access(locked, os.W_OK) else Path("/proc")
        if not parent.is_dir():
            pytest.skip("no folder here refuses writes")
        start = time.perf_counter()
        status = main(args(files, parent / "game_out"))
        assert status == 2 and "cannot write" in capsys.readouterr().err
        assert time.perf_counter() - start < 5  # before the library is read or trained
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGQUIT"])
def test_sigterm_leaves_no_output(files, tmp_path, name):
    # a slow run (draws, a larger library) killed while it computes: no folder, no hidden
    # temporary folder with a half-written output_ml.csv
    import signal
    import time

    out = tmp_path / "out"
    argv = [sys.executable, "-m", "course_utils.game_cli"] + args(files, out)
    argv[argv.index("--draws") + 1] = "2000"
    process = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]:  # computing
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)
    process.send_signal(getattr(signal, name))
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2, err
    assert name in err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_no_dust_fits_dust_free_models(files, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(args(files, out) + ["--no-dust"]) == 0
    table = pd.read_csv(out / "output_ml.csv")
    assert (table.filter(like="A_V_") == 0).all().all()
    # A_V is 0 in every model: no R^2 (not -inf), and no divide-by-zero warnings
    validation = pd.read_csv(out / "validation.csv", dtype={"pattern": str})
    assert validation.loc[validation["property"] == "A_V", "r2"].isna().all()
    assert np.isfinite(validation.loc[validation["property"] != "A_V", "r2"]).all()
    assert "warning" not in capsys.readouterr().err


# ---------------------------------------------------------------- third reliability pass

def test_version():
    result = subprocess.run([sys.executable, "-m", "course_utils.game_cli", "--version"],
                            capture_output=True, text=True)
    from course_utils import __version__

    assert result.returncode == 0 and result.stdout.strip() == f"game {__version__}"


def test_catalogue_without_two_detected_lines_in_any_spectrum(files, tmp_path, capsys):
    # an Hbeta-only catalogue (and one with a second line only as an upper limit): one line
    spectra = build_library(4, LINES, seed=5).intensities
    spectra.loc[:, [l for l in LINES if l not in ("Hbeta", "Halpha")]] = 0.0
    errors = 0.1 * spectra
    errors["Halpha"] = -99.0
    paths = [tmp_path / f"{k}.txt" for k in ("i", "e", "l")]
    write_game_inputs(*paths, spectra, errors)
    out = tmp_path / "out"
    bad(files, out, capsys, args(files, out, intensities=paths[0], errors=paths[1],
                                 labels=paths[2]), "no spectrum has 2 or more detected lines")


def test_too_few_draws_are_refused(files, tmp_path, capsys):
    out = tmp_path / "out"
    argv = args(files, out)
    argv[argv.index("--draws") + 1] = "5"
    bad(files, out, capsys, argv, "--draws must be from 20")


def test_work_that_does_not_fit_in_memory_is_refused_before_it_starts(files, tmp_path, capsys,
                                                                    monkeypatch):
    from course_utils import game_cli

    out = tmp_path / "out"
    argv = args(files, out)
    i = argv.index("--library")
    del argv[i:i + 2]
    bad(files, out, capsys, argv + ["--library-size", "1000000000000"], "--library-size")
    monkeypatch.setattr(game_cli, "_available_memory", lambda: 50 * 2**20)  # a 50 MB cap
    argv = args(files, out)
    argv[argv.index("--draws") + 1] = "10000"
    bad(files, out, capsys, argv, "--draws 10000 on 12 spectra needs about")
    big = write(tmp_path / "big.txt", files["intensities"].read_text() * 3000)
    bad(files, out, capsys, args(files, out, intensities=big), "needs about")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_as_input_is_refused(files, tmp_path, capsys):
    out = tmp_path / "out"
    bad(files, out, capsys, args(files, out, intensities="/dev/zero"), "regular file")


def test_output_paths_that_cannot_work_are_refused_first(files, tmp_path, capsys):
    target = tmp_path / "elsewhere"
    for name, make in (("link", lambda p: p.symlink_to(target, target_is_directory=True)),
                       ("dangling", lambda p: p.symlink_to(tmp_path / "nowhere")),
                       ("file", lambda p: p.write_text("x"))):
        out = tmp_path / name
        make(out)
        message = "is a file" if name == "file" else "symbolic link"
        status = main(args(files, out))
        err = capsys.readouterr().err
        assert status == 2 and message in err, err


def test_output_folder_has_the_usual_mode_and_may_have_a_long_name(files, tmp_path,
                                                                  monkeypatch):
    import os

    from course_utils import game_cli

    monkeypatch.setattr(game_cli, "_run", lambda args, tmp: (tmp / "output_ml.csv").write_text(""))
    out = tmp_path / ("r" * 250)
    assert main(args(files, out)) == 0
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask


def test_signals_are_taken_before_the_slow_imports(files, tmp_path, capsys, monkeypatch):
    import os
    import signal

    from course_utils import game_cli

    script = "import sys, course_utils.game_cli; print('numpy' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert loaded.stdout.strip() == "False"  # the import Ctrl-C can land in is main's

    def slow_parser():  # Ctrl-C while the parser imports numpy, pandas and scikit-learn
        os.kill(os.getpid(), signal.SIGINT)
        raise AssertionError("the signal should have stopped the start-up")

    monkeypatch.setattr(game_cli, "build_parser", slow_parser)
    assert main(["run"]) == 2
    assert "stopped by SIGINT" in capsys.readouterr().err


def test_one_property_gives_no_warnings(files, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(args(files, out) + ["--properties", "log U"]) == 0
    assert "warning" not in capsys.readouterr().err
