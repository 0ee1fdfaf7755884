"""The HII-versus-AGN BPT data set built from the MAPPINGS grids."""

import numpy as np
import pytest

from course_utils.bpt import bpt_dataset, plot_bpt
from course_utils.diagnostics import bpt_class


def test_exact_models_sit_where_the_grid_and_the_bpt_lines_put_them():
    X, y, params = bpt_dataset(noise_dex=0.0)
    assert np.bincount(y).tolist() == [len(y) // 2] * 2 and len(params) == len(y)
    # the reference model log U = -3, log P/k = 6.2, 12+log(O/H) = 8.76 of the HII grid:
    # [NII]/Halpha = 1.111 / 2.917 and [OIII]/Hbeta = 0.311
    row = np.flatnonzero(np.isclose(params["log U"], -3) & np.isclose(params["log P/k"], 6.2)
                         & np.isclose(params["12+log(O/H)"], 8.76) & (params["kind"] == "HII"))
    assert len(row) == 1
    assert np.allclose(X[row[0]], [np.log10(1.111 / 2.917), np.log10(0.311)], atol=2e-3)
    # Kewley et al. 2001 is a maximum-starburst line: no HII-region model lies above it,
    # and most metal-rich AGN models lie above Kauffmann et al. 2003
    cls = bpt_class(*X.T)
    assert np.all(cls[y == 0] < 2)
    assert np.mean(cls[y == 1] >= 1) > 0.85
    assert params.loc[y == 1, "12+log(O/H)"].min() >= 8.5


def test_scatter_is_seeded_and_has_the_requested_size():
    exact, _, _ = bpt_dataset(noise_dex=0.0)
    a, _, _ = bpt_dataset(noise_dex=0.1, seed=3)
    b, _, _ = bpt_dataset(noise_dex=0.1, seed=3)
    assert np.array_equal(a, b)
    assert np.std(a[: len(a) // 2] - exact[: len(a) // 2]) == pytest.approx(0.1, rel=0.05)


def test_too_strict_metallicity_cut_is_reported():
    with pytest.raises(ValueError, match="12\\+log\\(O/H\\)"):
        bpt_dataset(agn_min_oh=9.3)


def test_plot_bpt_draws_regions_points_and_lines():
    import matplotlib.pyplot as plt
    from sklearn.tree import DecisionTreeClassifier

    X, y, _ = bpt_dataset()
    fig, ax = plt.subplots()
    plot_bpt(ax, X, y, DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y), resolution=20)
    labels = [h.get_label() for h in ax.get_legend_handles_labels()[0]]
    assert "Kewley et al. 2001" in labels and "AGN (narrow-line region)" in labels
    assert "[NII]" in ax.get_xlabel() and "[OIII]" in ax.get_ylabel()
    # the drawn K01 curve is the published one
    line = next(l for l in ax.get_lines() if l.get_label() == "Kewley et al. 2001")
    xd, yd = line.get_data()
    assert np.allclose(yd, 0.61 / (xd - 0.47) + 1.19)
    # K03 (0.61 / (x - 0.05) + 1.30) is drawn only where it lies below K01: left of
    # log [NII]/Halpha = -1.28 it runs above K01 and bounds nothing
    k03 = next(l for l in ax.get_lines() if l.get_label() == "Kauffmann et al. 2003")
    xk, yk = k03.get_data()
    assert np.allclose(yk, 0.61 / (xk - 0.05) + 1.30)
    assert xk.min() > -1.29 and np.all(yk <= 0.61 / (xk - 0.47) + 1.19 + 1e-9)
    plt.close(fig)


def test_tree_boxes_take_the_colours_of_the_bpt_scatter():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb
    from sklearn.tree import DecisionTreeClassifier

    from course_utils.bpt import CLASS_COLOURS, plot_bpt_tree

    X, y, _ = bpt_dataset(noise_dex=0.1, seed=0)
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    fig, ax = plt.subplots()
    boxes = plot_bpt_tree(ax, tree)
    t = tree.tree_
    assert len(boxes) == t.node_count
    blue, red = (np.array(to_rgb(c)) for c in CLASS_COLOURS)
    order, stack = [], [0]
    while stack:
        node = stack.pop()
        order.append(node)
        if t.children_left[node] != -1:
            stack += [t.children_right[node], t.children_left[node]]
    for node, box in zip(order, boxes):
        colour = np.array(box.get_bbox_patch().get_facecolor()[:3])
        hii, agn = t.value[node][0]
        assert str(int(t.n_node_samples[node])) in box.get_text()  # the box belongs to this node
        if hii > agn:  # tinted towards the HII blue, never towards the AGN red
            assert np.linalg.norm(colour - blue) <= np.linalg.norm(colour - red)
        elif agn > hii:
            assert np.linalg.norm(colour - red) <= np.linalg.norm(colour - blue)
        else:
            assert np.allclose(colour, 1.0)  # an even node stays white
    assert min(b.get_fontsize() for b in boxes) >= 9
    plt.close(fig)
