"""A classification data set: star-forming (HII) versus AGN-ionised gas in the BPT plane.

The [NII] BPT diagram (Baldwin, Phillips & Terlevich 1981, PASP 93, 5) places a spectrum at
x = log([NII]6583/Halpha), y = log([OIII]5007/Hbeta). Here the points are MAPPINGS 5.1
photoionization models shipped with NebulaBayes (Thomas et al. 2018, ApJ 856, 89): the HII
region grid (label 0) and the AGN narrow-line-region grid (label 1). Notebooks 02 and 03
learn the boundary between them and compare it with the Kauffmann et al. (2003) and
Kewley et al. (2001) lines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from course_utils.library import load_grid

BPT_LINES = ("NII6583", "Halpha", "OIII5007", "Hbeta")
FEATURES = ("log [NII]/Halpha", "log [OIII]/Hbeta")
CLASS_NAMES = ("HII (star-forming)", "AGN (narrow-line region)")


def _usable(grid: pd.DataFrame) -> pd.DataFrame:
    """Rows where every BPT line is above the grid's floor (a real model value)."""
    return grid[(grid[list(BPT_LINES)] > grid.attrs["floor"]).all(axis=1)]


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
    agn = _usable(load_grid("NLR"))
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

    from course_utils.diagnostics import kauffmann03, kewley01_nii

    colours = ("tab:blue", "tab:red")
    if model is not None:
        gx, gy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
        region = model.predict(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
        ax.contourf(gx, gy, region, levels=[-0.5, 0.5, 1.5], cmap=ListedColormap(colours), alpha=0.2)
    if X is not None:
        for label, (colour, name) in enumerate(zip(colours, CLASS_NAMES)):
            ax.scatter(*X[y == label].T, s=s, color=colour, alpha=0.6, label=name, linewidths=0)
    x = np.linspace(xlim[0], 0.04, 300)
    ax.plot(x, kauffmann03(x), "k--", lw=1.5, label="Kauffmann et al. 2003")
    x = np.linspace(xlim[0], 0.46, 300)
    ax.plot(x, kewley01_nii(x), "k-", lw=1.5, label="Kewley et al. 2001")
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel(r"log([NII]6583 / H$\alpha$) [dex]")
    ax.set_ylabel(r"log([OIII]5007 / H$\beta$) [dex]")
    return ax
