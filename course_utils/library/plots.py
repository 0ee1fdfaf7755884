"""Figures for exploring a library: line-ratio diagrams, BPT axes, parameter histograms.

BPT diagrams: Baldwin, Phillips & Terlevich 1981 (PASP 93, 5), with the demarcation lines of
Kauffmann et al. 2003 and Kewley et al. 2001 from :mod:`course_utils.diagnostics`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import diagnostics
from .builder import Library
from .lines import canonical_line, line_table

if TYPE_CHECKING:  # pyplot is imported on first use: it is slow to import
    import matplotlib.pyplot as plt

#: How each label is written on an axis (all are logarithmic or magnitudes).
LABEL_TEXT = {
    "12+log(O/H)": "12 + log(O/H) (dex)",
    "log(Z/Zsun)": "log(Z/Z$_\\odot$) (dex)",
    "log U": "log U (dex, dimensionless)",
    "log P/k": "log P/k (log K cm$^{-3}$)",
    "log n": "log n (log cm$^{-3}$)",
    "A_V": "A$_V$ (mag)",
}


def line_text(name: str) -> str:
    """A line's name for axis labels: ``[N II] 6583`` or ``H I 6563`` (air, Angstrom)."""
    name = canonical_line(name)
    if name in ("Halpha", "Hbeta", "Hgamma", "Hdelta"):
        return "H" + {"Halpha": r"$\alpha$", "Hbeta": r"$\beta$", "Hgamma": r"$\gamma$",
                      "Hdelta": r"$\delta$"}[name]
    row = line_table(derived=True).loc[name]
    species = row["species"] if row["species"] in ("H I", "He I", "He II") else f"[{row['species']}]"
    return f"{species} {row['wavelength']:.0f}"


def log_ratio(library: Library, numerator, denominator) -> np.ndarray:
    """log10 of a line ratio; a tuple of names in the numerator or denominator is summed."""
    def total(names):
        names = [names] if isinstance(names, (str, float, int)) else list(names)
        return sum(library.intensities[canonical_line(n)].to_numpy() for n in names)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(total(numerator) / total(denominator))


def _ratio_text(numerator, denominator) -> str:
    def text(names):
        names = [names] if isinstance(names, (str, float, int)) else list(names)
        return " + ".join(line_text(n) for n in names)
    return f"log({text(numerator)} / {text(denominator)}) (dex)"


def ratio_diagram(library: Library, x: tuple, y: tuple, color: str = "12+log(O/H)",
                  ax: plt.Axes | None = None, max_points: int = 20_000, seed: int = 0,
                  **scatter_kw) -> plt.Axes:
    """Scatter one log line ratio against another, coloured by a physical parameter.

    Parameters
    ----------
    library
        The models to plot.
    x, y
        ``(numerator, denominator)`` line names; either may be a tuple of lines to sum,
        e.g. ``(("SII6716", "SII6731"), "Halpha")``.
    color
        A column of ``library.labels``; shown with a labelled colour bar.
    ax
        Axes to draw on (default: a new figure).
    max_points
        Plot at most this many models (a random subset drawn with ``seed``), to keep the
        figure light.
    """
    import matplotlib.pyplot as plt

    if color not in library.labels:
        raise KeyError(f"unknown label {color!r}; expected one of {list(library.labels)}")
    ax = ax if ax is not None else plt.figure(figsize=(6, 5)).add_subplot()
    rows = np.arange(len(library))
    if len(rows) > max_points:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_points, replace=False))
    xs, ys = log_ratio(library, *x)[rows], log_ratio(library, *y)[rows]
    kw = dict(s=3, alpha=0.6, cmap="viridis", rasterized=True) | scatter_kw
    points = ax.scatter(xs, ys, c=library.labels[color].to_numpy()[rows], **kw)
    ax.figure.colorbar(points, ax=ax, label=LABEL_TEXT.get(color, color))
    ax.set_xlabel(_ratio_text(*x))
    ax.set_ylabel(_ratio_text(*y))
    ax.set_title(f"{len(rows)} library models, coloured by {'$A_V$' if color == 'A_V' else color}")
    return ax


#: The three BPT diagrams: x-ratio numerator and the K01 (and K03) lines of each.
_BPT = {
    "NII": ("NII6583", diagnostics.kewley01_nii, diagnostics.kauffmann03, (-2.0, 0.7)),
    "SII": (("SII6716", "SII6731"), diagnostics.kewley01_sii, None, (-1.5, 0.5)),
    "OI": ("OI6300", diagnostics.kewley01_oi, None, (-3.0, 0.0)),
}


def bpt_axes(kind: str = "NII", ax: plt.Axes | None = None) -> plt.Axes:
    """Axes of a BPT diagram with its demarcation lines (K01 maximum starburst, K03).

    Parameters
    ----------
    kind
        ``"NII"``, ``"SII"`` or ``"OI"``: the x axis is log([N II] 6583 / Halpha),
        log([S II] 6716+6731 / Halpha) or log([O I] 6300 / Halpha); y is log([O III] 5007 / Hbeta).
    """
    import matplotlib.pyplot as plt

    if kind not in _BPT:
        raise ValueError(f"unknown BPT diagram {kind!r}; expected one of {list(_BPT)}")
    numerator, k01, k03, xlim = _BPT[kind]
    ax = ax if ax is not None else plt.figure(figsize=(6, 5)).add_subplot()
    x = np.linspace(*xlim, 400)
    ax.plot(x, k01(x), "k-", label="Kewley et al. 2001 (maximum starburst)")
    if k03 is not None:  # only where it lies below K01: star-forming means below both
        xk = np.linspace(max(xlim[0], diagnostics.K03_K01_CROSSING), min(xlim[1], 0.04), 400)
        ax.plot(xk, k03(xk), "k--", label="Kauffmann et al. 2003 (star-forming)")
    ax.set_xlim(*xlim)
    ax.set_ylim(-1.5, 1.5)
    ax.set_xlabel(_ratio_text(numerator, "Halpha"))
    ax.set_ylabel(_ratio_text("OIII5007", "Hbeta"))
    ax.set_title(f"{ {'NII': '[N II]', 'SII': '[S II]', 'OI': '[O I]'}[kind]} BPT diagram")
    ax.legend(loc="lower left", fontsize="small")
    return ax


def bpt_diagram(library: Library, kind: str = "NII", color: str = "12+log(O/H)",
                ax: plt.Axes | None = None, **kw) -> plt.Axes:
    """The library in a BPT diagram (:func:`bpt_axes` + :func:`ratio_diagram`)."""
    ax = bpt_axes(kind, ax)
    title = ax.get_title()
    ratio_diagram(library, (_BPT[kind][0], "Halpha"), ("OIII5007", "Hbeta"), color, ax, **kw)
    ax.set_title(title)
    return ax


def parameter_histograms(library: Library, labels: list[str] | None = None, bins: int = 40,
                         ) -> plt.Figure:
    """One histogram per physical parameter of the library (default: all labels)."""
    import matplotlib.pyplot as plt

    labels = list(library.labels) if labels is None else list(labels)
    fig, axes = plt.subplots(1, len(labels), figsize=(3 * len(labels), 2.8), squeeze=False,
                             constrained_layout=True)
    for ax, name in zip(axes[0], labels):
        ax.hist(library.labels[name], bins=bins, color="C0")
        ax.set_xlabel(LABEL_TEXT.get(name, name))
        ax.set_ylabel("number of models")
    fig.suptitle(f"Parameters of {len(library)} library models")
    return fig
