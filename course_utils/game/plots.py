"""Figures of GAME's results: predicted against true properties, and one spectrum's PDFs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course_utils.game.validation import Validation


def plot_true_vs_predicted(validation: Validation, axes=None):
    """One panel per property: predicted against true, with the 1:1 line and the RMSE."""
    import matplotlib.pyplot as plt

    props = list(validation.true.columns)
    if axes is None:
        _, axes = plt.subplots(1, len(props), figsize=(3.6 * len(props), 3.4), squeeze=False)
        axes = axes[0]
    for ax, prop in zip(axes, props):
        t, p = validation.true[prop], validation.predicted[prop]
        ax.hexbin(t, p, gridsize=40, mincnt=1, bins="log", cmap="viridis")
        lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
        ax.plot([lo, hi], [lo, hi], "k--", lw=1)
        unit = "mag" if prop == "A_V" else "dex"
        ax.set(xlabel=f"true {prop} ({unit})", ylabel=f"predicted {prop} ({unit})",
               title=f"{prop}: RMSE {validation.scores.at[prop, 'rmse']:.3f} {unit}")
    return axes


def plot_pdfs(draws: np.ndarray, properties: Sequence[str], spectrum: int = 0, axes=None):
    """Histograms of one spectrum's Monte Carlo draws (its PDFs), one panel per property."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, len(properties), figsize=(3.6 * len(properties), 3.0),
                               squeeze=False)
        axes = axes[0]
    for j, (ax, prop) in enumerate(zip(axes, properties)):
        values = draws[spectrum, :, j]
        ax.hist(values, bins=30, density=True, color="0.6")
        for q, style in zip(np.percentile(values, [16, 50, 84]), (":", "-", ":")):
            ax.axvline(q, color="k", ls=style, lw=1)
        unit = "mag" if prop == "A_V" else "dex"
        ax.set(xlabel=f"{prop} ({unit})", ylabel=f"probability density (1/{unit})",
               title=f"spectrum {spectrum}: {prop}")
    return axes
