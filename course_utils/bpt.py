"""A classification data set: star-forming (HII) versus AGN-ionised gas in the BPT plane.

The [NII] BPT diagram (Baldwin, Phillips & Terlevich 1981, PASP 93, 5) places a spectrum at
x = log([NII]6583/Halpha), y = log([OIII]5007/Hbeta). Here the points are MAPPINGS 5.1
photoionization models shipped with NebulaBayes (Thomas et al. 2018, ApJ 856, 89): the HII
region grid (label 0) and the AGN narrow-line-region grid (label 1). Notebooks 02 and 03
learn the boundary between them and compare it with the Kauffmann et al. (2003) and
Kewley et al. (2001) lines.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from course_utils.library import load_grid

BPT_LINES = ("NII6583", "Halpha", "OIII5007", "Hbeta")
FEATURES = ("log [NII]/Halpha", "log [OIII]/Hbeta")
CLASS_NAMES = ("HII (star-forming)", "AGN (narrow-line region)")
CLASS_COLOURS = ("tab:blue", "tab:red")  # HII, AGN: every figure of the classification uses these


def _usable(grid: pd.DataFrame, lines: Sequence[str] = ()) -> pd.DataFrame:
    """Rows where every BPT line and every one of ``lines`` is above the grid's floor (a real
    model value)."""
    columns = list(dict.fromkeys([*BPT_LINES, *lines]))
    return grid[(grid[columns] > grid.attrs["floor"]).all(axis=1)]


def agn_models(lines: Sequence[str] = ()) -> pd.DataFrame:
    """NebulaBayes' AGN narrow-line-region models whose BPT lines and ``lines`` are all above
    the grid's floor: the spectra GAME's domain flag has to refuse (the test set of
    ``benchmarks/game_calibration.py``, ``benchmarks/real_hii.py`` and the tests). Their
    BPT positions are :func:`bpt_ratios`; their classes, ``diagnostics.bpt_class`` of those."""
    return _usable(load_grid("NLR"), lines)


def bpt_ratios(grid: pd.DataFrame) -> np.ndarray:
    """The two BPT coordinates of each row, shape (n, 2), in dex."""
    return np.column_stack([np.log10(grid["NII6583"] / grid["Halpha"]),
                            np.log10(grid["OIII5007"] / grid["Hbeta"])])


def bpt_dataset(noise_dex: float = 0.1, agn_min_oh: float = 8.5, seed: int = 0
                ) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """HII and AGN model line ratios with measurement-like scatter, classes balanced.

    Parameters
    ----------
    noise_dex
        Standard deviation of the Gaussian scatter added to each log ratio, standing in
        for measurement errors (0 keeps the exact model values).
    agn_min_oh
        Keep AGN models with 12+log(O/H) at least this: AGN live in massive, metal-rich
        galaxies and metal-poor AGN are rare (Groves, Heckman & Kauffmann 2006, MNRAS 371,
        1559); the grid's metal-poor AGN models would fall among the star-forming ones.
    seed
        Seed of the AGN subsample and of the scatter.

    Returns
    -------
    X
        Array (n, 2): log [NII]/Halpha and log [OIII]/Hbeta.
    y
        0 for HII-region models, 1 for AGN models; as many of each.
    parameters
        The models' physical parameters (``log U``, ``log P/k``, ``12+log(O/H)``, ``kind``).
    """
    rng = np.random.default_rng(seed)
    hii = _usable(load_grid("HII"))
    agn = agn_models()
    agn = agn[agn["12+log(O/H)"] >= agn_min_oh]
    if len(agn) < len(hii):
        raise ValueError(f"only {len(agn)} AGN models with 12+log(O/H) >= {agn_min_oh}; "
                         f"need at least {len(hii)} to balance the classes")
    agn = agn.iloc[np.sort(rng.choice(len(agn), len(hii), replace=False))]
    X = np.vstack([bpt_ratios(hii), bpt_ratios(agn)])
    X = X + rng.normal(0.0, noise_dex, X.shape)
    y = np.repeat([0, 1], len(hii))
    columns = ["log U", "log P/k", "12+log(O/H)"]
    parameters = pd.concat([hii[columns].assign(kind="HII"), agn[columns].assign(kind="AGN")],
                           ignore_index=True)
    return X, y, parameters


def plot_bpt(ax: "matplotlib.axes.Axes", X: np.ndarray | None = None, y: np.ndarray | None = None,
             model=None, xlim: tuple[float, float] = (-3.0, 1.2),
             ylim: tuple[float, float] = (-3.0, 1.8), resolution: int = 250,
             s: float = 6) -> "matplotlib.axes.Axes":
    """Draw the [NII] BPT plane: a classifier's regions, the points and the K03/K01 lines.

    Star-forming means below both lines; K03 is drawn only right of the point where it crosses
    K01 (log [NII]/Halpha = -1.28), where it lies below K01.

    Parameters
    ----------
    ax
        Matplotlib axes to draw on.
    X, y
        Points (n, 2) and their classes (0 HII, 1 AGN); optional.
    model
        A fitted classifier with ``predict``; its decision regions are shaded.
    xlim, ylim
        Plot range in dex.
    resolution
        Number of grid cells per axis for the decision regions.
    s
        Marker size of the points.
    """
    from matplotlib.colors import ListedColormap

    from course_utils.diagnostics import K03_K01_CROSSING, kauffmann03, kewley01_nii

    colours = CLASS_COLOURS
    if model is not None:
        gx, gy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
        region = model.predict(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
        ax.contourf(gx, gy, region, levels=[-0.5, 0.5, 1.5], cmap=ListedColormap(colours), alpha=0.2)
    if X is not None:
        for label, (colour, name) in enumerate(zip(colours, CLASS_NAMES)):
            ax.scatter(*X[y == label].T, s=s, color=colour, alpha=0.6, label=name, linewidths=0)
    # K03 bounds the star-forming sequence only where it runs below K01 (right of their crossing)
    x = np.linspace(max(xlim[0], K03_K01_CROSSING), 0.04, 300)
    ax.plot(x, kauffmann03(x), "k--", lw=1.5, label="Kauffmann et al. 2003")
    x = np.linspace(xlim[0], 0.46, 300)
    ax.plot(x, kewley01_nii(x), "k-", lw=1.5, label="Kewley et al. 2001")
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel(r"log([NII]6583 / H$\alpha$) [dex]")
    ax.set_ylabel(r"log([OIII]5007 / H$\beta$) [dex]")
    return ax


def plot_bpt_tree(ax: "matplotlib.axes.Axes", tree, fontsize: float = 9) -> list:
    """Draw a fitted two-class tree (HII = 0, AGN = 1) in the colours of :func:`plot_bpt`.

    :func:`sklearn.tree.plot_tree` fills the boxes with its own palette (class 0 orange,
    class 1 blue), the reverse of the BPT figures. Here each box is tinted with its
    majority class's colour of :data:`CLASS_COLOURS`, the stronger the purer the node
    (as plot_tree shades them).

    Returns
    -------
    list
        The boxes (matplotlib annotations) in the order of the tree's nodes (depth first).
    """
    from matplotlib.colors import to_rgb
    from sklearn.tree import plot_tree

    drawn = plot_tree(tree, feature_names=list(FEATURES), class_names=["HII", "AGN"], filled=True,
                      impurity=True, ax=ax, fontsize=fontsize)
    boxes = [a for a in drawn if a.get_bbox_patch() is not None]  # not the "True"/"False" labels
    t = tree.tree_
    order, stack = [], [0]
    while stack:  # depth-first, left child first: the order in which plot_tree draws the boxes
        node = stack.pop()
        order.append(node)
        if t.children_left[node] != -1:
            stack += [t.children_right[node], t.children_left[node]]
    if len(order) != len(boxes):
        raise ValueError(f"expected one box per node ({len(order)}), plot_tree drew {len(boxes)}; "
                         f"draw the whole tree (no max_depth in plot_tree)")
    for node, box in zip(order, boxes):
        fractions = t.value[node][0] / t.value[node][0].sum()
        majority = int(np.argmax(fractions))
        runner_up = np.sort(fractions)[-2]
        strength = (fractions[majority] - runner_up) / (1 - runner_up) if runner_up < 1 else 0.0
        colour = (1 - strength) * np.ones(3) + strength * np.array(to_rgb(CLASS_COLOURS[majority]))
        box.get_bbox_patch().set_facecolor(colour)
    return boxes
