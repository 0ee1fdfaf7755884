"""Run NebulaBayes 0.9.9 (Thomas et al. 2018, ApJ 856, 89) on today's numpy/scipy.

Used only by the benchmarks, as the Bayesian peer a user would pick; ``course_utils`` never
imports it. NebulaBayes 0.9.9 calls names that numpy 2 and scipy >= 1.14 removed, so this
module restores them before importing it:

- ``np.product``, ``np.float``, ``np.int``, ``np.str``, ``np.trapz`` (numpy 2 removed them);
- ``scipy.integrate.cumtrapz`` and ``simps`` (now ``cumulative_trapezoid`` and ``simpson``).

Two more problems are avoided by how the grid is passed, not by patching:

- for a FITS path NebulaBayes reads HDU 0 (``fits.getdata(path, 0)``) while the table is in
  HDU 1: the grid is read here and passed as a DataFrame;
- the file's parameters are float32, and the float32 ``linspace`` of the interpolated axes
  fails NebulaBayes' uniform-spacing assert under numpy 2: the parameters are cast to float64.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import scipy.integrate
from astropy.table import Table

for _name, _value in (("product", np.prod), ("float", float), ("int", int), ("str", str),
                      ("trapz", getattr(np, "trapezoid", None))):
    if _name not in vars(np) and _value is not None:  # vars(): no deprecation warning
        setattr(np, _name, _value)
if not hasattr(scipy.integrate, "cumtrapz"):
    scipy.integrate.cumtrapz = scipy.integrate.cumulative_trapezoid
if not hasattr(scipy.integrate, "simps"):
    scipy.integrate.simps = scipy.integrate.simpson

import NebulaBayes  # noqa: E402  (after the compatibility names exist)
from NebulaBayes import NB_Model  # noqa: E402

from course_utils.library import grid_path  # noqa: E402

PARAMETERS = ["log U", "log P/k", "12 + log O/H"]


def hii_grid() -> pd.DataFrame:
    """NebulaBayes' HII grid from HDU 1, parameters in float64."""
    frame = Table.read(grid_path("HII"), hdu=1).to_pandas()
    frame[PARAMETERS] = frame[PARAMETERS].astype(np.float64)
    return frame


def model(lines: list[str], shape=(30, 30, 30)) -> NB_Model:
    """An NB_Model on the HII grid with the given lines (logging quietened)."""
    logging.getLogger("NebulaBayes").setLevel(logging.ERROR)
    return NB_Model(hii_grid(), grid_params=PARAMETERS, line_list=list(lines),
                    interpd_grid_shape=list(shape))


__all__ = ["NebulaBayes", "NB_Model", "PARAMETERS", "hii_grid", "model"]
