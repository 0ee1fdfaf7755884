"""The ``game`` command: GAME on spectra given in GAME's file formats.

Example::

    game run --intensities inputs.txt --errors errors.txt --labels labels.dat --out results

reads the three input files of the public GAME code (Ucci et al. 2017, 2018), trains the
course's GAME estimator (:mod:`course_utils.game`) on the course library (or on a
``library.csv`` in GAME's layout) and writes to the output folder:

- ``output_ml.csv``: one row per spectrum (``row`` = its data row, 1-based),
  ``{property}_{mean,median,std,p2.5,p16,p84,p97.5}`` (calibrated: the percentiles hold the
  truth as often as they say), ``pattern`` (the detected-line pattern id: one character per
  input line, in the labels file's order, ``1`` where the line is used, ``0`` where it is
  missing; written quoted, read it as text: ``pd.read_csv(path, dtype={"pattern": str})``)
  and ``flag`` (0 = usable; the bits are listed in ``run.json``);
- ``validation.csv``: shuffled k-fold cross-validation per pattern and property (RMSE, R^2,
  bias) on library models perturbed with the pattern's errors;
- ``feature_importances.csv``: permutation importance of each line, per pattern and property;
- ``draws.npz`` (with ``--save-draws``): the Monte Carlo draws, shape (spectra, draws,
  properties), with the property names and patterns;
- ``run.json``: the options and the library's provenance.

Bad input ends with a one-line message naming the file, row and column, exit status 2,
and nothing written: every option and file is checked before any computing (the memory a
run needs too), results go to a temporary folder renamed to ``--out`` at the end, and an
interruption (Ctrl-C, SIGTERM, SIGHUP, SIGQUIT), even during start-up, removes that folder
and also exits with status 2.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import sys
import tempfile
import warnings
from pathlib import Path

from course_utils import __version__

# numpy, pandas, scikit-learn and the course's modules are imported inside the functions,
# after main() has taken over the signals: Ctrl-C during their slow import is a clean exit.

EXIT_BAD_INPUT = 2
#: Most folds of the per-pattern cross-validation (each fold trains a model).
MAX_FOLDS = 20
#: Signals that stop a run cleanly (those that exist on this platform).
SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
                if hasattr(signal, name))
#: Bytes of memory per Monte Carlo draw of one spectrum: the draws of its lines (float32 and
#: the float64 normal they come from) and, per property, the regressor's outputs, the
#: calibrated values, their ranks, the summary's sorted copy and the output array.
BYTES_PER_DRAW_LINE, BYTES_PER_DRAW_PROPERTY = 32, 80
#: Bytes per library model and line (or property): the library, its noisy copies for
#: training, features and their float32 copies.
BYTES_PER_MODEL_COLUMN = 8 * 20
#: Bytes of memory per byte of an input text file read into tables.
BYTES_PER_INPUT_BYTE = 10


class UsageError(ValueError):
    """Bad command-line usage or input; reported in one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of argparse's usage block
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    from course_utils.game import MAX_DRAWS, MIN_CALIBRATED_DRAWS, PROPERTIES
    from course_utils.library import CLOUDY_LABELS, LABELS, LIBRARY_GRIDS

    parser = _Parser(prog="game", description="GAME: physical properties of ionized gas "
                     "from emission-line intensities by machine learning (Ucci et al. 2017-2019).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser(
        "run", help="predict physical properties of spectra given in GAME's file formats",
        description="Predict physical properties, with Monte Carlo uncertainties, of the "
        "spectra in GAME's input files. Missing lines have intensity 0; an error of -99 marks "
        "an upper limit; an error of 0 on a detected line means exact. In output_ml.csv, "
        "'pattern' names the lines each spectrum was fitted with: one character per line of "
        "the labels file, in its order, 1 = used, 0 = missing (e.g. 0111111111: all but the "
        "first); it is written quoted: read it as text, e.g. pandas.read_csv(path, "
        "dtype={'pattern': str}).")
    run.add_argument("--intensities", required=True, type=Path, metavar="FILE",
                     help="intensities file: first row the wavelengths (Angstrom), then one "
                     "spectrum per row, 0 = missing")
    run.add_argument("--errors", required=True, type=Path, metavar="FILE",
                     help="errors file, same shape: 1-sigma errors, -99 = upper limit")
    run.add_argument("--labels", required=True, type=Path, metavar="FILE",
                     help="labels file: one CLOUDY line label per row, e.g. '[O III] 5007A'")
    run.add_argument("--out", required=True, type=Path, metavar="DIR",
                     help="output folder (must not exist or be empty)")
    run.add_argument("--properties", nargs="+", default=None, metavar="NAME",
                     help=f"properties to predict, any of {', '.join(LABELS)} "
                     "(default: all but log(Z/Zsun) and log n); with a Cloudy --grid any of "
                     f"{', '.join(CLOUDY_LABELS)} (default: all); quote names with spaces, "
                     "e.g. --properties 'log U' A_V")
    run.add_argument("--draws", type=int, default=100, metavar="N",
                     help=f"Monte Carlo draws per spectrum, {MIN_CALIBRATED_DRAWS} to {MAX_DRAWS} "
                     "(default: 100). The percentiles are calibrated at any number in that "
                     f"range (fewer than {MIN_CALIBRATED_DRAWS} cannot reach the 2.5th and "
                     "97.5th; measured coverage of [p2.5, p97.5]: 0.94 at 20, 100 and 1000); "
                     "more draws make each spectrum's statistics less noisy, at a cost in time "
                     "and memory in proportion: about 2.5 microseconds and 0.6 KB per draw and "
                     "spectrum once the models are trained (0.25 ms per spectrum at 100)")
    source = run.add_mutually_exclusive_group()
    source.add_argument("--library-size", type=int, default=50_000, metavar="N",
                        help="models in the course library built from the MAPPINGS 5.1 grid "
                        "(default: 50000)")
    source.add_argument("--library", type=Path, metavar="FILE",
                        help="use this library instead, in GAME's library.csv layout")
    run.add_argument("--grid", choices=list(LIBRARY_GRIDS), default="mappings",
                     help="photoionisation grid of the course library: MAPPINGS 5.1 (default) "
                     "or the Cloudy 17 grids of HII-CHI-mistry (N/O free, no pressure axis)")
    run.add_argument("--seed", type=int, default=0, metavar="S",
                     help="seed of the library, the training and the draws, 0 to "
                     f"{2**32 - 1} (default: 0)")
    run.add_argument("--save-draws", action="store_true",
                     help="also write every Monte Carlo draw to draws.npz")
    run.add_argument("--noise-free", action="store_true",
                     help="train on the noise-free library (default: noise-aware training with "
                     "each pattern's median relative errors)")
    run.add_argument("--no-dust", action="store_true",
                     help="the spectra are corrected for dust: fit dust-free models (A_V = 0) "
                     "instead of A_V from 0 to 3 mag")
    run.add_argument("--model-error", type=float, default=0.0, metavar="F",
                     help="relative error of the models' line fluxes, 0 to 1, included in the "
                     "uncertainties (default: 0, the models are exact; NebulaBayes uses 0.1)")
    run.add_argument("--regressor", choices=["default", "game2019"], default="default",
                     help="'default' (multi-output MLP) or 'game2019' (GAME's published "
                     "AdaBoost configuration; slow)")
    run.add_argument("--drop-unknown-lines", action="store_true",
                     help="drop input lines the library lacks (with a warning) instead of "
                     "stopping with an error")
    run.add_argument("--cv-folds", type=int, default=3, metavar="K",
                     help=f"folds of the per-pattern cross-validation, 2 to {MAX_FOLDS} "
                     "(default: 3)")
    run.add_argument("--cv-models", type=int, default=10_000, metavar="N",
                     help="library models used by the cross-validation and the importances "
                     "(default: 10000)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _check_args(args) -> None:
    """Every option, before any file is read or anything computed."""
    from course_utils.game import MAX_DRAWS, MIN_CALIBRATED_DRAWS, MIN_MODELS, PROPERTIES
    from course_utils.library import CLOUDY_LABELS, LABELS

    if not MIN_CALIBRATED_DRAWS <= args.draws <= MAX_DRAWS:
        raise UsageError(f"--draws must be from {MIN_CALIBRATED_DRAWS} to {MAX_DRAWS}, got "
                         f"{args.draws} (fewer draws cannot give calibrated 2.5th and 97.5th "
                         "percentiles)")
    if not 0 <= args.seed < 2**32:
        raise UsageError(f"--seed must be from 0 to {2**32 - 1}, got {args.seed}")
    if args.library is None and args.library_size < MIN_MODELS:
        raise UsageError(f"--library-size must be at least {MIN_MODELS}, got {args.library_size}")
    if not 0 <= args.model_error <= 1:  # also false for nan
        raise UsageError(f"--model-error must be from 0 to 1, got {args.model_error}")
    if not 2 <= args.cv_folds <= MAX_FOLDS:
        raise UsageError(f"--cv-folds must be from 2 to {MAX_FOLDS}, got {args.cv_folds}")
    if args.cv_models < args.cv_folds:
        raise UsageError(f"--cv-models ({args.cv_models}) must be at least --cv-folds "
                         f"({args.cv_folds}): each fold needs models")
    if args.library is not None and args.grid != "mappings":
        raise UsageError("--grid builds the course library; it cannot be combined with --library")
    if args.library is not None:  # either set; the library file decides (checked when read)
        labels = tuple(dict.fromkeys(LABELS + CLOUDY_LABELS))
    else:
        labels = LABELS if args.grid == "mappings" else CLOUDY_LABELS
    if args.properties is None and args.library is None:
        args.properties = list(PROPERTIES if labels is LABELS else CLOUDY_LABELS)
    unknown = [p for p in args.properties or [] if p not in labels]
    if unknown:
        raise UsageError(f"--properties: unknown {unknown}; expected some of {list(labels)}")
    if args.properties is not None and len(set(args.properties)) != len(args.properties):
        raise UsageError(f"--properties: repeated names in {args.properties}")
    out = args.out
    if out.is_symlink():  # also a dangling one: renaming onto it would fail at the end
        raise UsageError(f"{out}: is a symbolic link; give the path of a new folder")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: is a file, not a folder; choose a new folder")
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out}: output folder exists and is not empty; choose a new folder")
    if not out.resolve().parent.is_dir():
        raise UsageError(f"{out}: parent folder {out.resolve().parent} does not exist")
    for option in ("intensities", "errors", "labels", "library"):
        path = getattr(args, option)
        if path is not None and path.exists() and not path.is_file():
            raise UsageError(f"{path}: --{option} must be a regular file (not a folder, device "
                             "or pipe)")
    _check_memory(BYTES_PER_INPUT_BYTE * sum(
        p.stat().st_size for p in (args.intensities, args.errors, args.library)
        if p is not None and p.is_file()), "reading --intensities and --errors")
    if args.library is None:
        _check_memory(args.library_size * (len(LABELS) + 20) * BYTES_PER_MODEL_COLUMN,
                      f"--library-size {args.library_size}")


def _available_memory() -> int | None:
    """Bytes this process may still allocate: the least of the memory the system has
    available, the control group's limit and the address-space limit (``ulimit -v``); None
    where none of them can be read."""
    found = []
    try:
        with open("/proc/meminfo") as f:
            found += [int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:")]
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            used = int(Path("/sys/fs/cgroup/memory.current").read_text())
            found.append(int(limit) - used)
    except (OSError, ValueError):
        pass
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            size = 0
            with open("/proc/self/status") as f:
                size = next((int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:")), 0)
            found.append(soft - size)
    except (ImportError, OSError, ValueError):
        pass
    return max(min(found), 0) if found else None


def _check_memory(needed: int, what: str) -> None:
    """Refuse, before the work, what would not fit in memory."""
    available = _available_memory()
    if available is not None and needed > available:
        raise UsageError(f"{what} needs about {_size(needed)} of memory; {_size(available)} is "
                         "available; use fewer draws, spectra or models (split the input files)")


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def _library(args, lines: list[str]):
    """The library (read or built) and the input lines it has; names the lines it lacks."""
    from course_utils.game import MIN_MODELS
    from course_utils.library import build_library, library_lines, read_game_library

    if args.library is not None:
        library = read_game_library(args.library)
        available = list(library.intensities.columns)
        where = str(args.library)
    else:
        available = library_lines(args.grid)
        where = f"the course library ({args.grid} grid)"
        library = None
    lacking = [l for l in lines if l not in available]
    if lacking and not args.drop_unknown_lines:
        raise UsageError(f"{args.labels}: lines {lacking} are not in {where}; remove them or "
                         "pass --drop-unknown-lines")
    if lacking:
        warnings.warn(f"dropping lines not in {where}: {lacking}", stacklevel=2)
    kept = [l for l in lines if l not in lacking]
    if not kept:
        raise UsageError(f"{args.labels}: none of the lines is in {where}")
    if library is None:
        library = build_library(args.library_size, kept, seed=args.seed, grid=args.grid)
    elif len(library) < MIN_MODELS:  # also enough for the folds: MAX_FOLDS < MIN_MODELS
        raise UsageError(f"{args.library}: {len(library)} models; GAME needs at least {MIN_MODELS}")
    return library, kept


class Interrupted(Exception):
    """The run was stopped by a signal (SIGINT, SIGTERM, SIGHUP or SIGQUIT)."""


def _stop(signum, frame):
    raise Interrupted(f"stopped by {signal.Signals(signum).name}; nothing was written")


def run(args) -> None:
    """The ``game run`` command (raises on bad input, writes nothing then)."""
    _check_args(args)
    parent = args.out.resolve().parent
    try:  # the output folder's place must take files before any computing starts
        # a short prefix: a long --out name must not make the temporary name too long
        tmp = Path(tempfile.mkdtemp(prefix=f".{args.out.name[:40]}.", dir=parent))
    except OSError as exc:
        raise UsageError(f"{args.out}: cannot write in {parent} ({exc.strerror})") from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # as a folder made by mkdir, not mkdtemp's 0700
        _run(args, tmp)
        if args.out.exists():
            args.out.rmdir()  # empty, checked above
        tmp.rename(args.out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _run(args, tmp: Path) -> None:
    import numpy as np
    import pandas as pd

    from course_utils.game import (FLAGS, MIN_DETECTED, PROPERTIES, STATS, Game, cross_validate,
                                   feature_importances, pattern_mask)
    from course_utils.library import CLOUDY_LABELS, UPPER_LIMIT, read_game_inputs

    inputs = read_game_inputs(args.intensities, args.errors, args.labels)
    _check_memory(len(inputs.intensities) * args.draws
                  * (BYTES_PER_DRAW_LINE * inputs.intensities.shape[1]
                     + BYTES_PER_DRAW_PROPERTY * len(args.properties or CLOUDY_LABELS)),
                  f"--draws {args.draws} on {len(inputs.intensities)} spectra")
    library, lines = _library(args, list(inputs.intensities.columns))
    intensities, errors = inputs.intensities[lines], inputs.errors[lines]
    empty = np.flatnonzero(~(intensities.to_numpy() > 0).any(axis=1))
    if empty.size:
        raise UsageError(f"{args.intensities}, data row {empty[0] + 1}: no detected line "
                         f"(every intensity of {lines} is 0)")
    if args.properties is None:  # a library file: MAPPINGS' or Cloudy's default properties
        cloudy = "log N/O" in library.labels.columns
        args.properties = list(CLOUDY_LABELS if cloudy else PROPERTIES)
    absent = [p for p in args.properties if p not in library.labels.columns]
    if absent:
        raise UsageError(f"--properties: {absent} not in the library {args.library}; it has "
                         f"{list(library.labels.columns)}")
    measured = ((intensities.to_numpy() > 0) & (errors.to_numpy() != UPPER_LIMIT)).sum(axis=1)
    if (measured < MIN_DETECTED).all():
        raise UsageError(f"{args.intensities}: no spectrum has {MIN_DETECTED} or more detected "
                         f"lines (upper limits aside; the most is {measured.max()}); GAME needs "
                         "line ratios")
    game = Game(properties=args.properties, lines=lines, regressor=args.regressor,
                n_draws=args.draws, noise_aware=not args.noise_free,
                av_range=(0.0, 0.0) if args.no_dust else None, model_error=args.model_error,
                random_state=args.seed)
    game.fit(library)
    cv_models = min(args.cv_models, len(game.library_))

    detected = intensities.to_numpy() > 0
    patterns, inverse = np.unique(detected, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(-patterns.sum(axis=1), kind="stable")  # more lines first (warm starts)
    tables, draws = [None] * len(patterns), np.empty((len(intensities), args.draws,
                                                      len(args.properties)))
    validation, importances = [], []
    from tqdm.auto import tqdm

    for k in tqdm(order, desc="patterns", unit="pattern", disable=args.quiet, file=sys.stderr):
        rows = np.flatnonzero(inverse == k)
        table, draws[rows] = game.predict(intensities.iloc[rows], errors.iloc[rows],
                                          return_draws=True)
        tables[k] = table
        pattern = table["pattern"].iloc[0]
        mask = pattern_mask(pattern)
        if mask.sum() < MIN_DETECTED:  # nothing to learn from one line
            continue
        noise = None if args.noise_free else game.noise_level(
            intensities.to_numpy()[rows][:, mask], errors.to_numpy()[rows][:, mask], mask)
        check = cross_validate(game, pattern, n_splits=args.cv_folds, noise=noise,
                               max_models=cv_models)
        validation.append(check.scores.reset_index().assign(pattern=pattern,
                                                            n_spectra=len(rows)))
        imp = feature_importances(game, pattern, n_repeats=3,
                                  test_size=min(cv_models, 2000), noise=noise)
        imp.columns = [f"{kind}_{prop}" for kind, prop in imp.columns]
        importances.append(imp.reset_index().assign(pattern=pattern))

    output = pd.concat(tables).sort_index()
    output.insert(0, "row", output.index + 1)
    def write(frame: pd.DataFrame, name: str) -> None:
        # text quoted (the pattern ids are '0111...', never numbers), numbers not: floats are
        # rounded to 6 significant digits first, as float_format would, but stay numbers
        floats = frame.select_dtypes("float").columns
        frame = frame.assign(**{c: frame[c].map(lambda v: float(f"{v:.6g}")) for c in floats})
        frame.to_csv(tmp / name, index=False, quoting=csv.QUOTE_NONNUMERIC)

    write(output, "output_ml.csv")
    for name, tables in (("validation.csv", validation), ("feature_importances.csv", importances)):
        write(pd.concat(tables) if tables else pd.DataFrame(), name)
    if args.save_draws:
        np.savez_compressed(tmp / "draws.npz", draws=draws.astype(np.float32),
                            properties=np.array(args.properties),
                            pattern=output["pattern"].to_numpy().astype(str))
    options = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    provenance = {k: (str(v) if not isinstance(v, (int, float, str, list)) else v)
                  for k, v in library.provenance.items()}
    (tmp / "run.json").write_text(json.dumps(
        {"options": options, "lines": lines, "library": provenance,
         "statistics": list(STATS), "flag_bits": {str(b): t for b, t in FLAGS.items()}},
        indent=1))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``game`` console script; returns the exit status."""
    handlers = {sig: signal.getsignal(sig) for sig in SIGNALS}
    try:
        for sig in handlers:  # a stopped run (or start-up) cleans up after itself
            signal.signal(sig, _stop)
        args = build_parser().parse_args(argv)
        with warnings.catch_warnings():
            warnings.simplefilter("default")  # show our warnings once, as one line each
            warnings.showwarning = lambda message, *a, **k: print(f"game: warning: {message}",
                                                                  file=sys.stderr)
            run(args)
    except Exception as exc:  # noqa: BLE001 - only input errors are reported, others re-raised
        if not isinstance(exc, (UsageError, OSError, Interrupted, *_input_errors())):
            raise
        print(f"game: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    return 0


def _input_errors() -> tuple[type, ...]:
    """The course's exceptions for bad input files (imported only once they are needed)."""
    from course_utils.game import GameInputError
    from course_utils.library import GameFileError, UnknownLineError

    return GameFileError, GameInputError, UnknownLineError


if __name__ == "__main__":
    raise SystemExit(main())
