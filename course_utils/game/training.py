"""Training per detected-line pattern: the library's features for a pattern, noise-aware
perturbations with the spectra's own errors, and the cache of fitted models, each new one
warm-started from the closest model already trained on the same or more lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from course_utils.game.constants import LIMIT_NOISE, NOISE_COPIES
from course_utils.game.montecarlo import truncated_normal
from course_utils.game.regressors import _MultiOutput
from course_utils.game.spectra import features, pattern_mask
from course_utils.library import UPPER_LIMIT

if TYPE_CHECKING:
    from course_utils.game.estimator import Game


def training_set(
    game: Game, pattern: str, noise: np.ndarray | None = None, rows: np.ndarray | None = None,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of a fitted estimator's library for one detected-line pattern
    (see :meth:`Game.training_set`)."""
    mask = pattern_mask(pattern)
    X = game.library_[:, mask] if rows is None else game.library_[rows][:, mask]
    Y = game.labels_ if rows is None else game.labels_[rows]
    if noise is not None:
        rng = np.random.default_rng([game._seed(), 1] if seed is None else seed)
        X = np.tile(X, (NOISE_COPIES, 1))
        X = truncated_normal(X, X * noise, rng)
        Y = np.tile(Y, (NOISE_COPIES, 1))
    return features(X), Y


def _noise_key(noise: np.ndarray | None):
    return None if noise is None else tuple(np.round(noise, 4))


def model_for(game: Game, pattern: str, noise: np.ndarray | None = None):
    """The fitted regressor for a detected-line pattern and noise level: trained on first use
    (from the closest cached model, when the regressor can start from one), then cached in
    ``game.models_``."""
    game._check_pattern(pattern)
    key = (pattern, _noise_key(noise))
    if key not in game.models_:
        X, Y = game.training_set(pattern, noise)
        model = game._make_model()
        if isinstance(model, _MultiOutput):
            # warm start from the cached model on the most lines that include these,
            # among them the one whose noise on these lines is closest; a noise-free
            # model only from a noise-free one (a noisy start blurs the sharp mapping)
            mask = pattern_mask(pattern)
            target = np.zeros(mask.sum()) if noise is None else np.asarray(noise, float)

            def closeness(item):
                (p, level), _ = item
                kept = mask[pattern_mask(p)]
                level = np.zeros(len(kept)) if level is None else np.asarray(level)
                return p.count("1"), -np.abs(level[kept] - target).sum()

            bases = [item for item in game.models_.items()
                     if np.all(pattern_mask(item[0][0])[mask])
                     and (item[0][1] is None) == (noise is None)]
            if bases:
                (base_pattern, _), base = max(bases, key=closeness)
                model.fit(X, Y, start=base, kept=mask[pattern_mask(base_pattern)])
                game.models_[key] = model
                return model
        game.models_[key] = model.fit(X, Y)
    return game.models_[key]


def fixed_noise(game: Game) -> np.ndarray | None:
    """The training noise of every line when ``noise_aware`` is False (None) or a number."""
    if game.noise_aware is False or game.noise_aware is None:
        return None
    if game.noise_aware is True:
        raise ValueError("noise_aware=True takes the noise level from the spectra")
    return np.full(len(game.lines_), float(game.noise_aware))


def noise_level(noise_aware, I: np.ndarray, E: np.ndarray | None,
                mask: np.ndarray) -> np.ndarray | None:
    """Relative error per line of a pattern that its noise-aware model is trained with (see
    :meth:`Game.noise_level`; ``noise_aware`` as that parameter of :class:`Game`)."""
    if noise_aware is False or noise_aware is None:
        return None
    if noise_aware is not True:
        return np.full(int(mask.sum()), float(noise_aware))
    if E is None:
        return None
    relative = np.where(E == UPPER_LIMIT, LIMIT_NOISE, np.where(E > 0, E / I, 0.0))
    # Rounded so that spectra with similar errors share one cached model.
    level = np.round(np.median(relative, axis=0), 2)
    return level if level.any() else None
