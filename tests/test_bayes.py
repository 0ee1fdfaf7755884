"""Tests of the Bayesian grid-likelihood estimator (course_utils.bayes)."""

import numpy as np
import pytest
from scipy import optimize, stats

from course_utils.bayes import GridLikelihood
from course_utils.game import STATS
from course_utils.library import MUSE_LINES, build_library, grid_model

LINES = list(MUSE_LINES)


@pytest.fixture(scope="module")
def bayes():
    # a coarse grid keeps the test fast
    return GridLikelihood(n_points=(9, 12, 23), av_points=7).fit()


def test_posterior_is_the_gaussian_likelihood_with_the_best_scale(bayes):
    # Peer check: chi^2 minimised over the spectrum's scale by scipy, for a few grid models.
    rng = np.random.default_rng(0)
    observed = bayes.models_[1234] * 7.0 * rng.uniform(0.9, 1.1, len(LINES))
    sigma = 0.3 * observed
    post = bayes.posterior(observed[None, :], sigma[None, :]).ravel()
    picks = [1234, 1233, 1235, 1234 + 7, 1234 - 7]  # the model and its neighbours
    chi2 = []
    for g in picks:
        m = bayes.models_[g]
        fit = optimize.minimize_scalar(lambda s: np.sum(((observed - s * m) / sigma) ** 2),
                                       bounds=(0, 1e3), method="bounded")
        chi2.append(fit.fun)
    expected = np.exp(-0.5 * (np.array(chi2) - chi2[0]))
    assert expected.min() > 1e-8  # the comparison is not between underflowed zeros
    np.testing.assert_allclose(post[picks] / post[picks[0]], expected, rtol=1e-4, atol=1e-300)
    assert post.sum() == pytest.approx(1.0)


def test_recovers_a_model_at_a_grid_point(bayes):
    u, pk, oh, av = bayes.axes_[0][4], bayes.axes_[1][6], bayes.axes_[2][11], bayes.axes_[3][3]
    flux = grid_model(u, pk, oh, a_v=av, lines=LINES)
    table = bayes.predict(flux, 0.02 * flux)
    assert list(table.columns) == [f"{p}_{s}" for p in bayes.properties_ for s in STATS] + ["pattern"]
    for prop, true, tol in (("log U", u, 0.1), ("log P/k", pk, 0.3), ("12+log(O/H)", oh, 0.06),
                            ("A_V", av, 0.15)):
        assert table[f"{prop}_median"].iloc[0] == pytest.approx(true, abs=tol), prop
        assert table[f"{prop}_p16"].iloc[0] <= table[f"{prop}_median"].iloc[0] <= table[f"{prop}_p84"].iloc[0]


def test_marginal_statistics_match_scipy_for_a_gaussian():
    from course_utils.bayes import _stats

    x = np.linspace(-5, 5, 2001)
    pmf = stats.norm(0.3, 1.2).pdf(x)[None, :]
    pmf /= pmf.sum()
    got = dict(zip(STATS, _stats(x, pmf)[0]))
    assert got["mean"] == pytest.approx(0.3, abs=1e-3) and got["std"] == pytest.approx(1.2, abs=1e-3)
    assert got["median"] == pytest.approx(0.3, abs=1e-2)
    for name, level in (("p2.5", 0.025), ("p16", 0.16), ("p84", 0.84), ("p97.5", 0.975)):
        assert got[name] == pytest.approx(stats.norm(0.3, 1.2).ppf(level), abs=1e-2), name


def test_noisy_mocks_recovered_like_the_benchmark(bayes):
    library = build_library(60, LINES, seed=5)
    rng = np.random.default_rng(1)
    true = library.intensities.to_numpy()
    noisy = true * (1 + 0.1 * rng.standard_normal(true.shape)).clip(0.05)
    table = bayes.predict(noisy, 0.1 * true)
    # benchmarks/game_accuracy.py: 0.036 dex on 500 mocks with the full-resolution grid
    err = table["12+log(O/H)_mean"] - library.labels["12+log(O/H)"]
    assert np.sqrt(np.mean(err**2)) < 0.1


def test_missing_and_upper_limit_lines(bayes):
    flux = grid_model(-3.0, 6.0, 8.5, a_v=1.0, lines=LINES).to_numpy()
    missing = flux.copy()
    missing[0, 1] = 0.0
    errors = 0.05 * flux
    table = bayes.predict(missing, errors)
    assert table["pattern"].iloc[0] == "1011111111"
    limit = errors.copy()
    limit[0, 5] = -99.0
    wide = bayes.predict(flux, limit)["12+log(O/H)_std"].iloc[0]
    sharp = bayes.predict(flux, errors)["12+log(O/H)_std"].iloc[0]
    assert wide > sharp


def test_unknown_property_is_named():
    with pytest.raises(KeyError, match="log T"):
        GridLikelihood(properties=["log T"]).fit()
