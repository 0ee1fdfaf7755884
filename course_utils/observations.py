"""Real HII regions: the published sample in ``data/hii_regions.csv`` and its loader.

The file holds reddening-corrected emission-line intensities of real HII regions and HII
galaxies relative to H-beta = 100, with the direct-method (electron-temperature) oxygen
abundance where it is published; ``data/README.md`` gives every source, table and conversion.
Columns are named after the library's canonical lines (``OII3726_29``, ``Hbeta``,
``OIII5007``, ``NII6583``, ``SII6716_31`` ...), each with an ``_err`` column; a value that was
not published is empty. Column ``line_list`` tells the two kinds of rows apart:

- ``strong``: five dereddened strong lines and the abundance, without errors (the compilation
  released with Ho 2019);
- ``extended``: published errors on the lines, H-alpha and [OIII]4959, and in most rows the
  auroral [OIII]4363 (several sources; some publish no abundance).

:func:`load_hii_regions` checks the file (a bad cell is reported with its file, row and
column) and returns a :class:`HIISample`, whose :meth:`HIISample.spectra` gives intensities
and errors in the layout :meth:`course_utils.game.Game.predict` and
:meth:`course_utils.bayes.GridLikelihood.predict` take (missing lines are 0).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from course_utils.library import canonical_line, write_game_inputs
from course_utils.library.gamefiles import read_utf8

#: The committed sample.
DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "hii_regions.csv"
#: Line columns of the file, in order of wavelength (canonical library names).
LINES = ("OII3726_29", "OII3726", "OII3729", "Hbeta", "OIII4363", "OIII4959", "OIII5007", "NII5755", "SIII6312",
         "NII6548", "Halpha", "NII6583", "SII6716", "SII6731", "SII6716_31", "SIII9069")
#: Measured quantities that come with the spectra (electron temperatures in K, 12+log(O/H)).
TRUTH = ("Te_OIII", "Te_NII", "OH_Te")
#: Text columns: region name, host galaxy, source (bibcode and table), original reference,
#: the line of the source file the row was transcribed from, and the kind of line list.
TEXT = ("name", "galaxy", "source", "reference", "release_line", "line_list")
#: Values of ``line_list``: five strong lines without errors, or lines with published errors.
LINE_LISTS = ("strong", "extended")
COLUMNS = (TEXT + tuple(c for l in LINES for c in (l, f"{l}_err"))
           + tuple(c for t in TRUTH for c in (t, f"{t}_err")))
#: Lines of the shipped GAME example (``data/examples``): those the extended rows publish.
EXAMPLE_LINES = ("OII3726_29", "OII3726", "OII3729", "Hbeta", "OIII4363", "OIII4959",
                 "OIII5007", "Halpha", "NII6583")
#: Physical bounds a published value must respect (anything outside is a transcription error).
BOUNDS = {"OH_Te": (6.0, 10.0), "Te_OIII": (3000.0, 30000.0), "Te_NII": (3000.0, 30000.0)}
#: The lowest 12+log(O/H) measured in any HII region: 6.86, a region of SBS 0335-052W (Izotov
#: et al. 2009, as quoted by Izotov et al. 2019, A&A 623, A40; the most metal-poor galaxy as a
#: whole, J0811+4730, has 6.98 +- 0.02, Izotov et al. 2018, MNRAS 473, 1956).
LOWEST_OH = 6.86
#: How far below :data:`LOWEST_OH` a published value may lie before it is marked as doubtful:
#: several times the 0.02-0.03 dex errors of those measurements, so that a value that agrees
#: with the most metal-poor regions within its errors is kept.
LOWEST_OH_MARGIN = 0.1


class HIIDataError(ValueError):
    """The sample file breaks its format; the message names the file, row and column."""


@dataclass
class HIISample:
    """Real HII regions with their published direct-method abundances.

    Attributes
    ----------
    intensities, errors
        One row per region, one column per line of :data:`LINES`: reddening-corrected
        intensity relative to H-beta = 100 and its 1-sigma error; NaN where not published.
    truth
        ``OH_Te`` (12+log(O/H) from the electron temperature), ``Te_OIII``, ``Te_NII`` (K) and
        their ``_err`` columns, NaN where not published.
    meta
        ``name``, ``galaxy``, ``source``, ``reference``, ``release_line``, ``line_list``, and
        ``quality``: empty for a usable row, otherwise why its abundance is doubtful (see
        :func:`data_quality`). The file's values are kept as published; comparisons with the
        direct method leave the doubtful rows out (:attr:`usable`).
    path
        The file read.
    """

    intensities: pd.DataFrame
    errors: pd.DataFrame
    truth: pd.DataFrame
    meta: pd.DataFrame
    path: Path

    def __len__(self) -> int:
        return len(self.intensities)

    def published_lines(self) -> list[str]:
        """Lines with at least one published intensity, in wavelength order."""
        return [l for l in LINES if self.intensities[l].notna().any()]

    @property
    def extended(self) -> pd.Series:
        """True for the rows with published errors (``line_list == "extended"``)."""
        return self.meta["line_list"] == "extended"

    @property
    def usable(self) -> pd.Series:
        """True for the rows whose direct-method abundance can be trusted (empty ``quality``)."""
        return self.meta["quality"] == ""

    def select(self, mask) -> "HIISample":
        """The regions where ``mask`` (boolean, aligned with the rows) is true."""
        mask = np.asarray(mask, dtype=bool)
        return HIISample(self.intensities[mask], self.errors[mask], self.truth[mask],
                         self.meta[mask], self.path)

    def spectra(self, lines, relative_error: float | None = None
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Intensities and errors of ``lines`` for :meth:`Game.predict` / :meth:`GridLikelihood.predict`.

        Missing intensities become 0 (GAME's convention for a line that was not measured),
        and so do their errors. Published errors are used as they are (a published 0.0 stays
        0: an exact detection); ``relative_error`` fills only the errors that are not
        published (every line of the ``strong`` rows; H-beta in some ``extended`` rows).

        Parameters
        ----------
        lines
            Line names or aliases (``"NII6584"``, ``"[O III] 5007"`` ...).
        relative_error
            Error assumed, as a fraction of the intensity, where a measured line has no
            published error. ``None``: every measured line must have a published error.

        Raises
        ------
        ValueError
            A measured line without a published error and no ``relative_error``.
        """
        if relative_error is not None and (
                isinstance(relative_error, bool) or not isinstance(relative_error, (int, float, np.number))
                or not 0 < float(relative_error) < np.inf):
            raise ValueError(f"relative_error={relative_error!r}: expected None or a fraction of "
                             "the intensity > 0 (0.1 for 10%)")
        names = [canonical_line(l) for l in lines]
        unknown = [n for n in names if n not in LINES]
        if unknown:
            raise KeyError(f"lines {unknown} are not columns of {self.path.name}; it has {list(LINES)}")
        I = self.intensities[names]
        E = self.errors[names]
        measured = I.notna() & (I > 0)
        no_error = measured & E.isna()
        if no_error.any().any():
            if relative_error is None:
                where = no_error.stack()
                row, col = where[where].index[0]
                raise ValueError(
                    f"{self.path.name}: {int(no_error.to_numpy().sum())} measured intensities "
                    f"have no published error (first: region {self.meta.at[row, 'name']!r}, "
                    f"line {col}); pass relative_error=... to assume one")
            # rounded to 6 significant digits: 0.1 x 7.0 is 0.7, not 0.7000000000000001
            assumed = (I * float(relative_error)).map(lambda v: float(f"{v:.6g}"))
            E = E.where(~no_error, assumed)
        return I.where(measured, 0.0), E.where(measured, 0.0)


def _row_error(path: Path, mask, column: str, problem: str, values: pd.Series | None = None,
               names: pd.Series | None = None) -> HIIDataError:
    """The error for the first row where ``mask`` is true: the file, the row as in the file
    (header = row 1), the region's name (if ``names``), the column, the cell's value (if
    ``values``) and ``problem``."""
    i = int(np.flatnonzero(np.asarray(mask))[0])
    region = f" ({names.iloc[i]})" if names is not None else ""
    cell = values.iloc[i] if values is not None else None
    if isinstance(cell, np.generic):  # 12.1, not np.float64(12.1)
        cell = cell.item()
    value = "" if values is None else repr(cell)
    return HIIDataError(f"{path}, row {i + 2}{region}, column {column!r}: {value}{problem}")


def _numbers(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The numeric columns as floats; a cell that is not a number is reported by row and column."""
    out = {}
    for column in COLUMNS[len(TEXT):]:
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.isna() & table[column].notna() & (table[column].astype(str).str.strip() != "")
        if bad.any():
            raise _row_error(path, bad, column, " is not a number", table[column])
        out[column] = values.astype(float)
    return pd.DataFrame(out, index=table.index)


def _check(numbers: pd.DataFrame, table: pd.DataFrame, path: Path) -> None:
    def fail(mask: pd.Series, column: str, expected: str):
        raise _row_error(path, mask, column, f"; expected {expected}", numbers[column], table["name"])

    for column in numbers.columns:
        values = numbers[column]
        if not np.isfinite(values.fillna(0.0)).all():
            fail(~np.isfinite(values.fillna(0.0)), column, "a finite number")
        if column.endswith("_err"):
            if (values < 0).any():
                fail(values < 0, column, "an error >= 0")
            if (values.notna() & numbers[column[:-4]].isna()).any():
                fail(values.notna() & numbers[column[:-4]].isna(), column,
                     f"no error where {column[:-4]!r} is empty")
        elif column in LINES and (values <= 0).any():
            fail(values <= 0, column, "an intensity > 0 (leave the cell empty if not measured)")
    kinds = table["line_list"]
    unknown = ~kinds.isin(LINE_LISTS)
    if unknown.any():
        raise _row_error(path, unknown, "line_list", f"; expected one of {list(LINE_LISTS)}", kinds,
                         table["name"])
    hbeta = numbers["Hbeta"]
    if (hbeta.notna() & (hbeta != 100.0)).any():
        fail(hbeta.notna() & (hbeta != 100.0), "Hbeta", "100 (intensities relative to H-beta = 100)")
    for column, (low, high) in BOUNDS.items():
        values = numbers[column]
        outside = values.notna() & ((values < low) | (values > high))
        if outside.any():
            fail(outside, column, f"a value in [{low:g}, {high:g}]")
    useless = numbers["OH_Te"].isna() & numbers["OIII4363"].isna()
    if useless.any():
        fail(useless, "OH_Te", "the published direct-method 12+log(O/H), or [OIII]4363 to "
             "compute it from")


def data_quality(intensities: pd.DataFrame, oh_te: pd.Series) -> pd.Series:
    """Why each row's direct-method abundance is doubtful; an empty string where it is not.

    A row is doubtful when

    - its 12+log(O/H) lies more than :data:`LOWEST_OH_MARGIN` below :data:`LOWEST_OH`, the
      lowest abundance measured in any HII region: an impossible value, most likely an error
      of the compilation;
    - another row has exactly the same line intensities but a different abundance: at most one
      of them can be right, and nothing says which.

    Both reasons are joined with "; " when both apply.
    """
    reasons = pd.Series("", index=oh_te.index, dtype=object)

    def add(name, why: str) -> None:
        reasons[name] = why if not reasons[name] else f"{reasons[name]}; {why}"

    for name in oh_te.index[(oh_te < LOWEST_OH - LOWEST_OH_MARGIN).to_numpy()]:
        add(name, f"12+log(O/H) = {oh_te[name]:.3f} is more than {LOWEST_OH_MARGIN:g} dex below "
                  f"{LOWEST_OH:g}, the lowest measured in any HII region")
    lines = intensities.round(6).fillna(-1.0)  # a line missing from both rows matches
    groups = lines.groupby(list(lines.columns), sort=False).groups
    for members in groups.values():
        members = list(members)
        values = oh_te[members].dropna()
        if len(members) > 1 and values.nunique() > 1:
            for name in members:
                others = ", ".join(f"{o} ({oh_te[o]:.3f})" for o in members if o != name)
                add(name, f"same line intensities as {others} with a different 12+log(O/H)")
    return reasons


def _check_row_lengths(text: str, path: Path) -> None:
    """Every data row has as many cells as the header (a row that lost its trailing commas
    would read its last columns as empty)."""
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None:
        return
    for number, row in enumerate(rows, start=2):
        if row and len(row) != len(header):
            raise HIIDataError(f"{path}, row {number}: {len(row)} cells, expected {len(header)} "
                               "as in the header (an empty cell still needs its comma)")


def load_hii_regions(path: str | Path | None = None) -> HIISample:
    """Read and check the sample of real HII regions (default: ``data/hii_regions.csv``).

    Raises
    ------
    HIIDataError
        A file that is not UTF-8, a row with more or fewer cells than the header, missing or
        unknown columns, a cell that is not a number, a negative error, an error
        without its value, an intensity <= 0, H-beta other than 100, an abundance or
        temperature outside physical bounds, a region with neither its abundance nor
        [OIII]4363, an unknown ``line_list``, or repeated names; the message names the file,
        row (as in the file, header = row 1) and column.
    """
    path = Path(DATA_FILE if path is None else path)
    try:
        text = read_utf8(path, HIIDataError)
        _check_row_lengths(text, path)
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise HIIDataError(f"{path}: cannot read the file ({exc})") from exc
    missing = [c for c in COLUMNS if c not in table.columns]
    unknown = [c for c in table.columns if c not in COLUMNS]
    if missing or unknown:
        raise HIIDataError(f"{path}, row 1: missing columns {missing}, unknown columns {unknown}; "
                           f"expected {list(COLUMNS)}")
    if table["name"].isna().any():
        raise _row_error(path, table["name"].isna(), "name", "empty; every region needs a name")
    repeated = table["name"].duplicated()
    if repeated.any():
        raise _row_error(path, repeated, "name", " repeats an earlier name", table["name"])
    numbers = _numbers(table, path)
    _check(numbers, table, path)
    index = pd.Index(table["name"], name="name")
    frame = lambda cols: numbers[list(cols)].set_axis(index, axis=0)
    intensities = frame(LINES)
    truth = frame(c for t in TRUTH for c in (t, f"{t}_err"))
    meta = table[list(TEXT)].fillna("").set_axis(index, axis=0)
    meta["quality"] = data_quality(intensities, truth["OH_Te"])
    return HIISample(
        intensities=intensities, errors=frame(f"{l}_err" for l in LINES).set_axis(list(LINES), axis=1),
        truth=truth, meta=meta, path=path)


def write_example_game_inputs(directory: str | Path, lines=EXAMPLE_LINES,
                              relative_error: float = 0.1,
                              sample: HIISample | None = None) -> list[Path]:
    """Write ``inputs.dat``, ``errors.dat`` and ``labels.dat`` (GAME's formats) for a sample.

    By default the ``extended`` rows (published errors) and :data:`EXAMPLE_LINES`, which is
    what ``data/examples`` holds. ``relative_error`` is the error assumed where none is
    published (see :meth:`HIISample.spectra`). Returns the three paths.
    """
    if sample is None:
        sample = load_hii_regions()
        sample = sample.select(sample.extended)
    intensities, errors = sample.spectra(lines, relative_error=relative_error)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / n for n in ("inputs.dat", "errors.dat", "labels.dat")]
    write_game_inputs(*paths, intensities.reset_index(drop=True), errors.reset_index(drop=True))
    return paths


def compare_to_direct(estimate, direct) -> tuple[float, float, int]:
    """Median offset, robust scatter and number of regions of ``estimate - direct``.

    The scatter is 1.4826 x the median absolute deviation of the differences from their
    median (the standard deviation for Gaussian differences, insensitive to outliers).
    Regions where either value is NaN (a calibration outside its range) are left out.
    """
    d = np.asarray(estimate, dtype=float) - np.asarray(direct, dtype=float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return float("nan"), float("nan"), 0
    offset = float(np.median(d))
    return offset, float(1.4826 * np.median(np.abs(d - offset))), int(d.size)
