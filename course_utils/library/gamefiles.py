"""GAME's file formats: input spectra (intensities, errors, labels) and ``library.csv``.

Input files, as in the public GAME code (Ucci et al. 2017, 2018; ASCL 1912.012), are
whitespace-separated tables:

- intensities: the first row holds the lines' wavelengths in Angstrom, then one spectrum per
  row; an intensity of 0 means missing or not detected;
- errors: the same shape; -99 marks the intensity as an upper limit; an error of 0 with an
  intensity > 0 is an exact detection (GAME itself treats it as missing);
- labels: one CLOUDY 13 line label per row (e.g. ``[O III] 5007A``), one per column.

``library.csv`` is comma-separated: a header with the line labels followed by the names of the
physical parameters, a second row with the lines' wavelengths (GAME skips it), then one model
per row with the parameters in the last columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .builder import CLOUDY_LABELS, LABELS, Library
from .lines import UnknownLineError, canonical_line, canonical_lines, game_label, line_table

#: Error value that marks an intensity as an upper limit.
UPPER_LIMIT = -99.0
#: Largest allowed difference (Angstrom) between a file's wavelength and its label's line.
WAVELENGTH_TOLERANCE = 3.0


class GameFileError(ValueError):
    """A GAME-format file is malformed; the message names the file, row and column."""


@dataclass
class GameInputs:
    """Observed spectra read from GAME input files.

    Attributes
    ----------
    intensities, errors
        One row per spectrum, columns = canonical line names in file order. Intensity 0 =
        missing; error -99 = the intensity is an upper limit; error 0 with intensity > 0 =
        exact detection.
    labels
        The line labels as written in the labels file.
    wavelengths
        The wavelengths of the intensities file's first row (Angstrom).
    """

    intensities: pd.DataFrame
    errors: pd.DataFrame
    labels: list[str]
    wavelengths: np.ndarray

    @property
    def missing(self) -> pd.DataFrame:
        """True where a line is missing or not detected (intensity 0)."""
        return self.intensities == 0

    @property
    def upper_limits(self) -> pd.DataFrame:
        """True where the intensity is an upper limit (error -99)."""
        return (self.errors == UPPER_LIMIT) & ~self.missing


def read_utf8(path, error: type[Exception] = None) -> str:
    """A text file as UTF-8 (a byte-order mark is dropped); other encodings are an ``error``
    (default :class:`GameFileError`) naming the file and the row of the first bad byte."""
    error = GameFileError if error is None else error
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read the file ({exc.strerror})") from exc
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw:
        raise error(f"{path}: the file is UTF-16 text (or binary); save it as UTF-8 "
                    "or plain ASCII text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = raw[:exc.start].count(b"\n") + 1
        raise error(f"{path}, row {row}: byte {raw[exc.start]:#04x} is not UTF-8 text "
                    "(a Latin-1 or Windows-1252 file?); save it as UTF-8") from None


def _read_table(path: Path, delimiter: str | None = None, header_rows: int = 0,
                ) -> tuple[list[list[str]], np.ndarray, list[int]]:
    """Read a numeric table; return the header rows, the numbers and their file row numbers.

    Blank lines are skipped; rows are numbered as in the file (1-based), columns from 1.
    """
    path = Path(path)
    text = read_utf8(path)
    rows = [(i, [c.strip() for c in line.split(delimiter)])
            for i, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if len(rows) <= header_rows:
        raise GameFileError(f"{path}: expected at least {header_rows + 1} non-empty rows, "
                            f"found {len(rows)}")
    header = [cells for _, cells in rows[:header_rows]]
    body = rows[header_rows:]
    width = len(rows[0][1])
    for row, cells in body:
        if len(cells) != width:
            raise GameFileError(f"{path}, row {row}: {len(cells)} columns, expected {width} "
                                "like the first row (ragged rows)")
    try:
        values = np.array([cells for _, cells in body], dtype=float)
    except ValueError:
        for row, cells in body:  # find the culprit for the message
            for col, cell in enumerate(cells, start=1):
                try:
                    float(cell)
                except ValueError:
                    raise GameFileError(f"{path}, row {row}, column {col}: {cell!r} is not a "
                                        "number") from None
        raise
    bad = np.argwhere(~np.isfinite(values))
    if bad.size:
        i, j = bad[0]
        raise GameFileError(f"{path}, row {body[i][0]}, column {j + 1}: "
                            f"{body[i][1][j]!r} is not a finite number")
    return header, values, [row for row, _ in body]


def _read_labels(path: Path) -> list[str]:
    text = read_utf8(path)
    # keep the labels exactly as written (CLOUDY labels may hold double spaces)
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def read_game_inputs(intensities_path, errors_path, labels_path) -> GameInputs:
    """Read GAME's three input files and check them against each other.

    Raises
    ------
    GameFileError
        Ragged rows, non-numeric or non-finite cells, negative intensities, negative errors
        other than -99, files of different shapes or wavelengths, a labels file whose length
        differs from the number of columns, unknown labels, or a label whose line does not
        match the wavelength of its column. The message names the file, row and column.
    """
    _, intensities, rows = _read_table(intensities_path)
    _, errors, error_rows = _read_table(errors_path)
    labels = _read_labels(labels_path)
    wavelengths, intensities, rows = intensities[0], intensities[1:], rows[1:]
    error_wavelengths, errors, error_rows = errors[0], errors[1:], error_rows[1:]
    if len(intensities) == 0:
        raise GameFileError(f"{intensities_path}: no spectra; expected the wavelength row, then "
                            "one spectrum per row")
    for values, path, file_rows, what in ((intensities, intensities_path, rows, "intensity"),
                                          (errors, errors_path, error_rows, "error")):
        invalid = values < 0 if what == "intensity" else (values < 0) & (values != UPPER_LIMIT)
        if invalid.any():
            i, j = np.argwhere(invalid)[0]
            allowed = "0 (missing) or positive" if what == "intensity" else \
                f"0, positive, or {UPPER_LIMIT:g} (upper limit)"
            raise GameFileError(f"{path}, row {file_rows[i]}, column {j + 1}: {what} "
                                f"{values[i, j]:g}; expected {allowed}")
    n_columns = len(wavelengths)
    if errors.shape[1] != n_columns or len(errors) != len(intensities):
        raise GameFileError(f"{errors_path}: {len(errors)} spectra x {errors.shape[1]} lines, "
                            f"expected the shape of {intensities_path} ({len(intensities)} x "
                            f"{n_columns})")
    bad = np.flatnonzero(error_wavelengths != wavelengths)
    if bad.size:
        raise GameFileError(f"{errors_path}, row 1, column {bad[0] + 1}: wavelength "
                            f"{error_wavelengths[bad[0]]:g}, expected {wavelengths[bad[0]]:g} as "
                            f"in {intensities_path}")
    if len(labels) != n_columns:
        raise GameFileError(f"{labels_path}: {len(labels)} labels, expected one per column of "
                            f"{intensities_path} ({n_columns})")
    table = line_table(derived=True)
    names = []
    for row, (label, wave) in enumerate(zip(labels, wavelengths), start=1):
        try:
            name = canonical_line(label)
        except UnknownLineError as exc:
            raise GameFileError(f"{labels_path}, row {row}: {exc}") from None
        if abs(table.at[name, "wavelength"] - wave) > WAVELENGTH_TOLERANCE:
            raise GameFileError(
                f"{intensities_path}, row 1, column {row}: wavelength {wave:g} A does not match "
                f"the label {label!r} in {labels_path}, row {row} ({name}, "
                f"{table.at[name, 'wavelength']:g} A)")
        if name in names:
            raise GameFileError(f"{labels_path}, row {row}: {label!r} repeats the line {name} "
                                f"of row {names.index(name) + 1}")
        names.append(name)
    return GameInputs(pd.DataFrame(intensities, columns=names),
                      pd.DataFrame(errors, columns=names), labels, wavelengths)


def _check_frame(frame: pd.DataFrame, what: str, upper_limit_ok: bool = False) -> None:
    values = frame.to_numpy(dtype=float)
    finite = np.isfinite(values)
    invalid = ~finite | ((values < 0) & ~(upper_limit_ok & (values == UPPER_LIMIT)))
    if invalid.any():
        i, j = np.argwhere(invalid)[0]
        raise ValueError(f"{what}: row {frame.index[i]!r}, column {frame.columns[j]!r} holds "
                         f"{values[i, j]!r}; expected a finite number >= 0"
                         + (f" or {UPPER_LIMIT:g}" if upper_limit_ok else ""))


def write_game_inputs(intensities_path, errors_path, labels_path, intensities: pd.DataFrame,
                      errors: pd.DataFrame, labels: list[str] | None = None) -> None:
    """Write spectra as GAME's three input files.

    Parameters
    ----------
    intensities, errors
        One row per spectrum, columns = line names or aliases (same columns in both).
        Intensity 0 = missing; error -99 = upper limit.
    labels
        Labels to write, one per column; default the GAME label of each line.
    """
    names = canonical_lines(list(intensities.columns))
    if list(errors.columns) != list(intensities.columns) or errors.shape != intensities.shape:
        raise ValueError("errors must have the same shape and columns as intensities")
    _check_frame(intensities, "intensities")
    _check_frame(errors, "errors", upper_limit_ok=True)
    labels = [game_label(n) for n in names] if labels is None else list(labels)
    if len(labels) != len(names):
        raise ValueError(f"{len(labels)} labels for {len(names)} columns")
    wavelengths = line_table(derived=True).loc[names, "wavelength"].to_numpy()
    for path, frame in ((intensities_path, intensities), (errors_path, errors)):
        with open(path, "w") as f:
            _write_rows(f, np.vstack([wavelengths, frame.to_numpy(dtype=float)]), " ")
    Path(labels_path).write_text("".join(f"{label}\n" for label in labels))


def write_game_library(library: Library, path) -> None:
    """Write a library in GAME's ``library.csv`` layout (see the module docstring); the
    parameter columns are :data:`LABELS` (MAPPINGS) or :data:`CLOUDY_LABELS` (Cloudy)."""
    names = list(library.intensities.columns)
    labels = list(LABELS if set(LABELS) <= set(library.labels.columns) else CLOUDY_LABELS)
    header = [game_label(n) for n in names] + labels
    waves = [f"{w:g}" for w in library.lines.loc[names, "wavelength"]] + [""] * len(labels)
    values = np.hstack([library.intensities.to_numpy(dtype=float),
                        library.labels[labels].to_numpy(dtype=float)])
    with open(path, "w") as f:
        f.write(",".join(header) + "\n" + ",".join(waves) + "\n")
        _write_rows(f, values, ",")


def _write_rows(f, values: np.ndarray, sep: str) -> None:
    # repr gives the shortest text that reads back to the same float: exact and readable
    f.writelines(sep.join(map(repr, row)) + "\n" for row in values.tolist())


def read_game_library(path) -> Library:
    """Read a library written by :func:`write_game_library` (or in the same layout)."""
    path = Path(path)
    header, values, rows = _read_table(path, delimiter=",", header_rows=2)
    if len(header[1]) != len(header[0]):
        raise GameFileError(f"{path}, row 2: {len(header[1])} columns, expected "
                            f"{len(header[0])} like the header")
    columns = header[0]
    known = set(LABELS) | set(CLOUDY_LABELS)
    label_columns = [c for c in columns if c in known]
    if sorted(label_columns) not in (sorted(LABELS), sorted(CLOUDY_LABELS)):
        raise GameFileError(f"{path}, row 1: expected the parameter columns {list(LABELS)} "
                            f"(MAPPINGS) or {list(CLOUDY_LABELS)} (Cloudy), found {label_columns}")
    labels = list(LABELS if sorted(label_columns) == sorted(LABELS) else CLOUDY_LABELS)
    line_columns = [c for c in columns if c not in known]
    names = []
    for col, label in enumerate(columns, start=1):
        if label in known:
            continue
        try:
            names.append(canonical_line(label))
        except UnknownLineError as exc:
            raise GameFileError(f"{path}, row 1, column {col}: {exc}") from None
    try:
        canonical_lines(names)
    except ValueError as exc:
        raise GameFileError(f"{path}, row 1: {exc}") from None
    index = {c: i for i, c in enumerate(columns)}
    line_index = [index[c] for c in line_columns]
    table = line_table(derived=True)
    for name, col in zip(names, line_index):  # row 2: the wavelengths, not a model
        cell = header[1][col]
        try:
            wave = float(cell)
        except ValueError:
            wave = np.nan
        if not abs(wave - table.at[name, "wavelength"]) <= WAVELENGTH_TOLERANCE:
            raise GameFileError(
                f"{path}, row 2, column {col + 1}: {cell!r} is not the wavelength of "
                f"{columns[col]!r} ({table.at[name, 'wavelength']:g} A); row 2 of a library "
                "holds the lines' wavelengths, then one model per row")
    intensities = values[:, line_index]
    if (intensities < 0).any():
        i, j = np.argwhere(intensities < 0)[0]
        raise GameFileError(f"{path}, row {rows[i]}, column {line_index[j] + 1}: negative "
                            f"intensity {intensities[i, j]:g}")
    meta = table.loc[names, ["wavelength", "species"]]
    return Library(pd.DataFrame(intensities, columns=names),
                   pd.DataFrame(values[:, [index[c] for c in labels]], columns=labels),
                   meta, dict(file=str(path)))
