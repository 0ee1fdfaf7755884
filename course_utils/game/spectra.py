"""What GAME reads: checks of the spectra, errors and library it is given, normalisation by the
brightest detected line, the features (log line ratios) and detected-line patterns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from course_utils.game.constants import FLOOR, MIN_MODELS
from course_utils.library import UPPER_LIMIT


class GameInputError(ValueError):
    """Intensities, errors or a library that GAME cannot use; the message names the row and
    column."""


def features(intensities: np.ndarray) -> np.ndarray:
    """GAME's features: log10 of each spectrum divided by its brightest line.

    Parameters
    ----------
    intensities
        Array ``(n_spectra, n_lines)`` of the lines used (all detected; no NaN).

    Returns
    -------
    numpy.ndarray
        ``log10(I / max(I))`` floored at ``log10(FLOOR)``, so every row has a 0 and values <= 0.
    """
    intensities = np.asarray(intensities)
    brightest = intensities.max(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = intensities / brightest
    # NaN (0/0) and anything below the floor go to the floor
    return np.log10(np.fmax(ratio, FLOOR, out=ratio), out=ratio)


def pattern_id(detected: np.ndarray) -> str:
    """Name of a detected-line pattern: '1' for each line used, '0' for each missing line."""
    return "".join("1" if d else "0" for d in detected)


def pattern_mask(pattern: str) -> np.ndarray:
    """Boolean mask of the lines a pattern id uses (inverse of :func:`pattern_id`)."""
    return np.array([c == "1" for c in pattern])


def _normalise(I: np.ndarray, E: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Spectra and errors divided by each spectrum's brightest detected line (double precision),
    so results do not depend on the units; missing lines become 0."""
    detected = np.isfinite(I) & (I > 0)
    peak = np.where(detected, I, 0.0).max(axis=1, keepdims=True)
    I = np.where(detected, I, 0.0) / peak
    if E is not None:
        E = np.where(E == UPPER_LIMIT, UPPER_LIMIT, np.where(detected, E, 0.0) / peak)
    return I, E


def _as_arrays(lines: Sequence[str], intensities, errors):
    """Intensities, errors (or None) and row labels (or None) of spectra given as tables or
    arrays, columns in the order of ``lines``; clear errors for anything GAME cannot use."""
    lines = list(lines)

    def table(data, what):
        if isinstance(data, pd.Series):  # one spectrum, labelled by line
            data = data.to_frame().T
        if isinstance(data, pd.DataFrame):
            absent = [l for l in lines if l not in data.columns]
            if absent:
                raise GameInputError(f"{what}: missing line columns {absent}")
            data = data[lines]
        try:
            array = np.array(data, dtype=float)
        except (TypeError, ValueError) as exc:
            raise GameInputError(f"{what}: expected numbers ({exc})") from None
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2 or array.shape[1] != len(lines):
            raise GameInputError(f"{what}: expected shape (n_spectra, {len(lines)}) "
                                 f"with columns {lines}, got {array.shape}")
        return array

    if isinstance(intensities, pd.DataFrame) and isinstance(errors, pd.DataFrame) \
            and not errors.index.equals(intensities.index):
        # errors pair with their spectra by row label, as columns pair by line name
        same = (intensities.index.is_unique and errors.index.is_unique
                and len(errors.index) == len(intensities.index)
                and errors.index.isin(intensities.index).all())
        if not same:
            extra = [v for v in errors.index if v not in intensities.index][:3]
            raise GameInputError(f"errors: row labels {extra or list(errors.index[:3])} do "
                                 "not match the intensities' (errors are paired with their "
                                 "spectra by row label); give both the same index, or arrays")
        errors = errors.loc[intensities.index]
    I = table(intensities, "intensities")
    E = None if errors is None else table(errors, "errors")
    if E is not None and E.shape != I.shape:
        raise GameInputError(f"errors: shape {E.shape} differs from intensities {I.shape}")
    where = lambda bad: f"row {np.argwhere(bad)[0][0]}, column {lines[np.argwhere(bad)[0][1]]}"
    if np.any(np.isinf(I)) or np.any(I < 0):
        raise GameInputError(f"intensities: negative or infinite value at "
                             f"{where(np.isinf(I) | (I < 0))}")
    detected = np.isfinite(I) & (I > 0)
    empty = ~detected.any(axis=1)
    if empty.any():
        raise GameInputError(f"intensities: row {np.flatnonzero(empty)[0]} has no detected line")
    if E is not None:
        bad = detected & ~(np.isfinite(E) & ((E >= 0) | (E == UPPER_LIMIT)))
        if bad.any():
            raise GameInputError(f"errors: expected an error >= 0 or {UPPER_LIMIT:g} (upper "
                                 f"limit) for a detected line at {where(bad)}")
    if isinstance(intensities, pd.DataFrame):
        index = intensities.index
    elif isinstance(intensities, pd.Series):
        index = pd.Index([intensities.name])
    else:
        index = None
    return I, E, index


def _check_library(X: np.ndarray, Y: np.ndarray, lines: list[str], properties: list[str]) -> None:
    """Clear errors for libraries GAME cannot learn from."""
    for values, names, what in ((X, lines, "intensity"), (Y, properties, "property")):
        bad = ~np.isfinite(values) | ((values < 0) if what == "intensity" else False)
        if np.any(bad):
            i, j = np.argwhere(bad)[0]
            raise GameInputError(f"library: model {i}, {what} {names[j]!r} is {values[i, j]!r}; "
                                 "expected a finite number" + (" >= 0" if what == "intensity" else ""))
    zero = np.flatnonzero((X == 0).all(axis=0))
    if zero.size:
        raise GameInputError(f"library: line {lines[zero[0]]!r} is 0 in every model, so no "
                             "spectrum can be compared with it; leave it out of `lines`")
    if len(X) < MIN_MODELS:
        raise GameInputError(f"library: {len(X)} models; GAME needs at least {MIN_MODELS} "
                             "(tens of thousands for useful accuracy)")

