"""When GAME may be wrong: the bits of the ``flag`` column, the misfit of a spectrum against
the library model at its estimated properties (through an emulator of the line ratios), the
[NII] BPT position against the Kewley et al. (2001) line, and each line's residual."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from course_utils.game.constants import (EDGE_SIGMAS, KEWLEY_SIGMAS, MIN_DETECTED, MISFIT_DRAWS,
                                         MODEL_ERROR, RELIABLE_LINES)
from course_utils.game.regressors import _MultiOutput, default_regressor
from course_utils.game.spectra import GameInputError, _as_arrays, _normalise, features
from course_utils.library import UPPER_LIMIT

if TYPE_CHECKING:
    from course_utils.game.estimator import Game

#: Bits of the ``flag`` column (0: usable). A spectrum can carry several.
FLAG_NOT_REPRODUCED = 1
FLAG_NOT_STAR_FORMING = 2
FLAG_FEW_LINES = 4
FLAG_OUTSIDE_LIBRARY = 8
FLAG_BPT_UNKNOWN = 16
FLAGS = {
    FLAG_NOT_REPRODUCED: "line ratios not reproduced by the library within the errors",
    FLAG_NOT_STAR_FORMING: f"above the Kewley et al. (2001) maximum-starburst line in the "
                           f"[NII] BPT diagram by more than {KEWLEY_SIGMAS:g} sigma: not ionised "
                           "by young stars alone",
    FLAG_FEW_LINES: f"fewer than {RELIABLE_LINES} detected lines (fewer than {MIN_DETECTED}: "
                    "no estimate)",
    FLAG_OUTSIDE_LIBRARY: f"an estimate lies more than {EDGE_SIGMAS:g} sigma beyond the "
                          "library's parameter range",
    FLAG_BPT_UNKNOWN: "[OIII]5007 and Hbeta (or [NII]6583 and Halpha) both only upper limits: "
                      "the spectrum's place in the [NII] BPT diagram, so whether young stars "
                      "ionise it, is unknown",
}


def describe_flag(flag: int) -> list[str]:
    """The meanings of the bits set in a ``flag`` value (empty for 0: usable)."""
    return [text for bit, text in FLAGS.items() if int(flag) & bit]


def fit_emulator(game: Game) -> tuple[_MultiOutput, np.ndarray]:
    """The emulator of a fitted estimator's library, which maps properties to line ratios (the
    features of all its lines), and its error per line (dex) on the held-out models, scale
    offset removed."""
    emulator = _MultiOutput(default_regressor(game._seed())).fit(game.labels_,
                                                                 features(game.library_))
    residual = features(game.calibration_library_) - emulator.predict(game.calibration_labels_)
    residual -= residual.mean(axis=1, keepdims=True)
    return emulator, np.sqrt(np.mean(residual**2, axis=0))


def misfit(game: Game, mask: np.ndarray, I: np.ndarray, E: np.ndarray | None,
           thetas: np.ndarray) -> np.ndarray:
    """Chi-square of each spectrum against the library model at its estimated properties.

    ``thetas``: candidate properties, ``(n_spectra, n_candidates, n_properties)``; the
    best candidate counts. The model's line ratios come from the emulator; the
    spectrum's scale is fitted (weighted mean offset in log flux); each line's error gets
    the emulator's error and :data:`MODEL_ERROR` in quadrature; an upper limit L counts
    only when the model exceeds it, with sigma L/3.
    """
    n, k, _ = thetas.shape
    model = game.emulator_.predict(thetas.reshape(n * k, -1))[:, mask].reshape(n, k, -1)
    E = np.zeros_like(I) if E is None else E
    limit = (E == UPPER_LIMIT)[:, None, :]
    with np.errstate(divide="ignore"):
        log_i = np.log10(I)[:, None, :]
    relative = np.where(E > 0, E / I, 0.0)[:, None, :]
    variance = (np.log10(np.e) ** 2 * (relative**2 + MODEL_ERROR**2)
                + game.emulator_error_[mask] ** 2)
    weight = np.where(limit, 0.0, 1.0 / variance)
    offset = (weight * (log_i - model)).sum(axis=2) / weight.sum(axis=2)
    residual = log_i - model - offset[:, :, None]
    chi2 = (weight * residual**2).sum(axis=2)
    excess = np.where(limit, np.clip(-residual, 0, None), 0.0)  # model above the limit
    chi2 += ((3 * (10.0**excess - 1)) ** 2).sum(axis=2)
    return chi2.min(axis=1)


def candidates(game: Game, centre: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Properties at which to test a spectrum: its centre and a few of its draws."""
    step = max(raw.shape[1] // MISFIT_DRAWS, 1)
    return game._clip(np.concatenate([centre[:, None, :], raw[:, ::step][:, :MISFIT_DRAWS]],
                                     axis=1))


def line_residuals(game: Game, intensities, table: pd.DataFrame) -> pd.DataFrame:
    """How far each observed line is from the library model at the estimated properties
    (see :meth:`Game.line_residuals`)."""
    game._check_fitted()
    I, _, index = _as_arrays(game.lines_, intensities, None)
    I, _ = _normalise(I, None)
    columns = [f"{p}_median" for p in game.properties_]
    absent = [c for c in columns if c not in getattr(table, "columns", [])]
    if absent:
        raise GameInputError(f"table: missing columns {absent}; give what predict returned "
                             "for these spectra")
    if len(table) != len(I) or (index is not None and not table.index.equals(index)):
        raise GameInputError(f"table: {len(table)} rows for {len(I)} spectra (or other row "
                             "labels); give what predict returned for these spectra")
    theta = table[columns].to_numpy(dtype=float)
    ok = np.isfinite(theta).all(axis=1)
    out = np.full(I.shape, np.nan)
    model = game.emulator_.predict(game._clip(theta[ok]))
    with np.errstate(divide="ignore"):
        log_i = np.where(I[ok] > 0, np.log10(I[ok]), np.nan)
    residual = log_i - model
    out[ok] = residual - np.nanmean(residual, axis=1, keepdims=True)
    return pd.DataFrame(out, columns=game.lines_, index=index)


def bpt_flag(all_lines: list[str], mask: np.ndarray, I: np.ndarray,
             E: np.ndarray | None) -> np.ndarray:
    """The BPT bits of each spectrum (pattern ``mask`` of the estimator's lines ``all_lines``,
    its lines' intensities and errors).

    FLAG_NOT_STAR_FORMING where the spectrum is surely above the Kewley et al. (2001)
    line: still above it when both ratios are moved towards the star-forming side by
    :data:`KEWLEY_SIGMAS` of their errors (any direction within that ellipse; the errors
    of the two lines of a ratio in quadrature). An upper limit on [NII] or [OIII] leaves
    its ratio unknown from below, so only measured numerators count; an upper limit on
    Halpha or Hbeta makes the ratio a lower bound, which is enough to be sure.
    FLAG_BPT_UNKNOWN where both lines of a ratio are upper limits (a faint spectrum: its
    place in the diagram is unbounded). Nothing when the estimator's lines lack one of
    the four.
    """
    from course_utils.diagnostics import above_kewley01_nii

    need = ("NII6583", "Halpha", "OIII5007", "Hbeta")
    flag = np.zeros(len(I), dtype=np.int64)
    if not all(l in all_lines for l in need):
        return flag
    lines = [l for l, m in zip(all_lines, mask) if m]
    E = np.zeros_like(I) if E is None else E

    def line(name):  # intensity, relative error, measured?, present? (per spectrum)
        if name not in lines:
            zero = np.zeros(len(I))
            return zero, zero, zero.astype(bool), zero.astype(bool)
        j = lines.index(name)
        measured = E[:, j] != UPPER_LIMIT
        relative = np.where(measured & (E[:, j] > 0), E[:, j] / I[:, j], 0.0)
        return I[:, j], relative, measured, np.ones(len(I), bool)

    def ratio(top, bottom):  # log ratio (-inf: unknown from below) and its sigma
        (i_t, r_t, m_t, _), (i_b, r_b, _, p_b) = line(top), line(bottom)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(m_t & p_b, np.log10(i_t / np.where(p_b, i_b, 1.0)), -np.inf)
        return value, np.log10(np.e) * np.hypot(r_t, r_b)

    (x, sx), (y, sy) = ratio("NII6583", "Halpha"), ratio("OIII5007", "Hbeta")
    # "above" is an upper set (the line falls with x), so the ellipse lies above when
    # its quarter towards lower x and y does
    angle = np.linspace(0.0, np.pi / 2, 17)[:, None]
    surely = above_kewley01_nii(x - KEWLEY_SIGMAS * sx * np.cos(angle),
                                y - KEWLEY_SIGMAS * sy * np.sin(angle)).all(axis=0)
    flag[surely] |= FLAG_NOT_STAR_FORMING
    limits = [line(l)[3] & ~line(l)[2] for l in need]  # upper limits
    flag[(limits[0] & limits[1]) | (limits[2] & limits[3])] |= FLAG_BPT_UNKNOWN
    return flag
