"""Exploration figures: right data on labelled axes, BPT lines from the published formulas."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils import diagnostics
from course_utils import library as L


@pytest.fixture(scope="module")
def lib():
    return L.build_library(400, lines=L.MUSE_LINES, seed=1)


def test_ratio_diagram_plots_the_ratios_with_a_colour_bar(lib):
    ax = L.ratio_diagram(lib, (("SII6716", "SII6731"), "Halpha"), ("NII6583", "Halpha"),
                         color="log U")
    xy = ax.collections[0].get_offsets()
    i = lib.intensities
    assert np.allclose(xy[:, 0], np.log10((i["SII6716"] + i["SII6731"]) / i["Halpha"]))
    assert np.allclose(xy[:, 1], np.log10(i["NII6583"] / i["Halpha"]))
    assert np.allclose(ax.collections[0].get_array(), lib.labels["log U"])
    assert "[S II] 6716 + [S II] 6731" in ax.get_xlabel() and "(dex)" in ax.get_ylabel()
    assert ax.figure.axes[1].get_ylabel() == "log U (dex, dimensionless)"  # colour bar
    with pytest.raises(KeyError, match="unknown label"):
        L.ratio_diagram(lib, ("NII6583", "Halpha"), ("OIII5007", "Hbeta"), color="Z")
    plt.close("all")


def test_ratio_diagram_subsamples_large_libraries(lib):
    ax = L.ratio_diagram(lib, ("NII6583", "Halpha"), ("OIII5007", "Hbeta"), max_points=100)
    assert len(ax.collections[0].get_offsets()) == 100
    plt.close("all")


def test_bpt_axes_draw_the_demarcation_lines():
    ax = L.bpt_axes("NII")
    k01, k03 = ax.lines
    x = k01.get_xdata()
    ok = np.isfinite(k01.get_ydata())
    # Kewley et al. 2001: 0.61 / (x - 0.47) + 1.19; Kauffmann et al. 2003: 0.61 / (x - 0.05) + 1.30
    assert np.allclose(k01.get_ydata()[ok], 0.61 / (x[ok] - 0.47) + 1.19)
    assert np.allclose(k03.get_ydata(), diagnostics.kauffmann03(k03.get_xdata()), equal_nan=True)
    # K03 only where it lies below K01 (right of their crossing at log [NII]/Halpha = -1.28)
    assert k03.get_xdata().min() > -1.29
    assert np.all(k03.get_ydata() <= diagnostics.kewley01_nii(k03.get_xdata()) + 1e-9)
    assert "[N II] 6584" in ax.get_xlabel() and "[O III] 5007" in ax.get_ylabel()
    assert len(L.bpt_axes("SII").lines) == 1
    with pytest.raises(ValueError, match="unknown BPT"):
        L.bpt_axes("NeIII")
    plt.close("all")


def test_library_models_are_star_forming_in_the_bpt(lib):
    ax = L.bpt_diagram(lib)
    x, y = ax.collections[0].get_offsets().T
    # HII-region models lie below the maximum-starburst line (Kewley et al. 2001)
    assert np.mean(diagnostics.bpt_class(x, y) < 2) > 0.95
    plt.close("all")


def test_parameter_histograms_count_every_model(lib):
    fig = L.parameter_histograms(lib, ["12+log(O/H)", "A_V"])
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert sum(p.get_height() for p in ax.patches) == len(lib)
        assert ax.get_ylabel() == "number of models" and ax.get_xlabel()
    assert fig.axes[1].get_xlabel() == "A$_V$ (mag)"
    plt.close("all")


def test_ratio_diagram_writes_a_v_as_tex(lib):
    ax = L.ratio_diagram(lib, ("Halpha", "Hbeta"), ("SIII9069", "Halpha"), color="A_V", max_points=50)
    assert ax.get_title().endswith("coloured by $A_V$")
    plt.close("all")
