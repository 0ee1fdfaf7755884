"""Transfer-time arithmetic, the read/compute measurement and k-fold splits."""

import astropy.units as u
import numpy as np
import pytest
from sklearn.model_selection import KFold

from course_utils.bigdata import kfold_indices, measure_read_vs_compute, pass_time, transfer_time


def test_transfer_time_lecture_figure():
    # the lecture: 100 GB at 75 MB/s is about 22 minutes
    assert transfer_time(100 * u.GB, 75 * u.MB / u.s).to(u.min).value == pytest.approx(22.22, abs=0.01)
    assert transfer_time(1 * u.TB, 1 * u.GB / u.s).to_value(u.s) == pytest.approx(1000)
    assert transfer_time(1 * u.GiB, 1 * u.MiB / u.s).to_value(u.s) == pytest.approx(1024)
    with pytest.raises(u.UnitsError, match="rate"):
        transfer_time(100 * u.GB, 75 * u.MB)


def test_pass_time_moving_against_computing():
    flops = 1e9 / u.s
    # 100 GB at 75 MB/s: 1333 s to move; 25e9 float32 values at 1 GFLOP/s: 25 s to compute
    assert pass_time(100 * u.GB, 75 * u.MB / u.s, flops).to_value(u.s) == pytest.approx(1e11 / 75e6)
    assert pass_time(100 * u.GB, 75 * u.MB / u.s, flops, overlap=False).to_value(u.s) == pytest.approx(1e11 / 75e6 + 25)
    # 100 operations per value on data from fast memory: computing sets the time
    assert pass_time(1 * u.GB, 10 * u.GB / u.s, flops, 100).to_value(u.s) == pytest.approx(25)
    assert pass_time(1 * u.GB, 10 * u.GB / u.s, flops, 100, value_bytes=8).to_value(u.s) == pytest.approx(12.5)
    # a network link in bits: 1 TB at 1 Gbit/s is 8000 s; moving only, or computing only
    assert pass_time(1 * u.TB, 1 * u.Gbit / u.s, flops, 0).to_value(u.s) == pytest.approx(8000)
    assert pass_time(1 * u.GiB, np.inf * u.byte / u.s, flops).to_value(u.s) == pytest.approx(2**30 / 4 / 1e9)
    with pytest.raises(u.UnitsError, match="operations per second"):
        pass_time(1 * u.GB, 1 * u.GB / u.s, 1e9 * u.byte / u.s)
    with pytest.raises(ValueError, match="ops_per_value"):
        pass_time(1 * u.GB, 1 * u.GB / u.s, flops, -1)
    with pytest.raises(u.UnitsError, match="data volume"):  # a rate given where the volume goes
        pass_time(1 * u.GB / u.s, 1 * u.GB / u.s, flops)
    with pytest.raises(u.UnitsError, match="data volume"):  # a link speed without "per second"
        pass_time(1 * u.TB, 1 * u.Gbit, flops)


@pytest.mark.parametrize("n, k", [(10, 5), (11, 3), (103, 10), (7, 7)])
def test_kfold_matches_sklearn(n, k):
    mine = kfold_indices(n, k)
    theirs = list(KFold(n_splits=k).split(np.zeros(n)))
    assert len(mine) == k
    for (tr, te), (tr_sk, te_sk) in zip(mine, theirs):
        assert np.array_equal(te, te_sk) and np.array_equal(np.sort(tr), tr_sk)


def test_shuffled_kfold_is_a_seeded_partition():
    folds = kfold_indices(53, 4, shuffle=True, random_state=0)
    tests = np.concatenate([te for _, te in folds])
    assert np.array_equal(np.sort(tests), np.arange(53))  # every point tested exactly once
    for train, test in folds:
        assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == 53
    assert sorted(len(te) for _, te in folds) == [13, 13, 13, 14]
    again = kfold_indices(53, 4, shuffle=True, random_state=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    assert not np.array_equal(folds[0][1], np.arange(14))
    with pytest.raises(ValueError, match="n_splits"):
        kfold_indices(3, 5)


def test_measure_read_vs_compute_cleans_up(tmp_path):
    result = measure_read_vs_compute(2.0, repeats=1, directory=tmp_path)
    assert result["size_mb"] == pytest.approx(2.0)
    assert result["read_cached_s"] > 0 and result["compute_s"] > 0
    assert list(tmp_path.iterdir()) == []  # the temporary file is gone
    with pytest.raises(ValueError, match="size_mb"):
        measure_read_vs_compute(5000)


def test_chunk_conditions_on_the_cluster_of_notebook_09():
    from course_utils.bigdata import chunk_bytes, chunk_conditions, largest_chunk_rows
    from course_utils.cube.maps import BLOCK_ROWS

    cluster = dict(worker_memory=4e9, read_rate=200e6, task_overhead=1e-3, n_workers=4)
    # one row of a 300 x 300 x 3681 cube: 300 spectra x 3681 channels x (4 + 4) bytes
    assert chunk_bytes(1) == 300 * 3681 * 8 == 8_834_400
    # memory: 4 x 8.83 MB x rows <= 2 GB up to 56 rows; overhead: >= 20 MB from 3 rows;
    # balance: 300 / rows >= 16 up to 18 rows
    assert chunk_conditions(56, **cluster, block_rows=1)["fits in memory"]
    assert not chunk_conditions(57, **cluster, block_rows=1)["fits in memory"]
    assert chunk_conditions(3, **cluster)["overhead <= 1%"] and not chunk_conditions(2, **cluster)["overhead <= 1%"]
    assert chunk_conditions(18, **cluster)["4 chunks per worker"]
    assert not chunk_conditions(19, **cluster)["4 chunks per worker"]
    assert largest_chunk_rows(**cluster) == BLOCK_ROWS == 16
    assert largest_chunk_rows(**cluster, block_rows=1) == 18
    # one worker: balance allows 75 rows, memory 56, whole blocks 48
    assert largest_chunk_rows(4e9, 200e6, 1e-3, 1) == 48
    # a fast disk and a slow scheduler: a chunk big enough to hide the overhead does not fit
    assert largest_chunk_rows(4e9, 2e9, 0.01, 1) is None


def test_time_until_download_exceeds():
    from course_utils.bigdata import time_until_download_exceeds

    # 1 PB at 1 Gbit/s (125 MB/s) takes 8e6 s today; one Julian year is 3.15576e7 s
    t = time_until_download_exceeds(1 * u.PB, 1 * u.Gbit / u.s, 1 * u.yr)
    assert t.unit == u.yr
    assert t.value == pytest.approx(np.log2(3.15576e7 / 8e6))
    # the doubling time scales the answer; a ten times faster link buys log2(10) doubling times
    slow = time_until_download_exceeds(1 * u.PB, 1 * u.Gbit / u.s, 1.5 * u.yr)
    assert slow.value == pytest.approx(1.5 * t.value)
    fast = time_until_download_exceeds(1 * u.PB, 10 * u.Gbit / u.s, 1 * u.yr)
    assert (fast - t).value == pytest.approx(np.log2(10))
    # already too big: negative
    assert time_until_download_exceeds(10 * u.PB, 12.5 * u.MB / u.s, 1 * u.yr).value < 0
    with pytest.raises(u.UnitsError):
        time_until_download_exceeds(1 * u.PB, 1 * u.Gbit / u.s, 1 * u.GB)


def test_schechter_integral_is_the_gamma_function():
    from scipy.integrate import quad
    from scipy.special import gamma

    from course_utils.bigdata import schechter

    # integral of phi* (L/L*)^alpha exp(-L/L*) dL = phi* L* Gamma(alpha + 1) for alpha > -1
    for alpha, L_star in [(-0.5, 2.0), (0.3, 0.7)]:
        total, _ = quad(lambda L: schechter(L, 3.0, L_star, alpha), 0, np.inf)
        assert total == pytest.approx(3.0 * L_star * gamma(alpha + 1), rel=1e-6)
    assert schechter(np.array([2.0]), 1.0, 2.0, -1.2) == pytest.approx(np.exp(-1.0))


def test_sample_schechter_follows_the_function():
    from scipy import stats
    from scipy.integrate import quad

    from course_utils.bigdata import sample_schechter, schechter

    L = sample_schechter(5000, L_star=3.0, alpha=-1.2, L_min=0.1, L_max=30.0, seed=1)
    assert L.min() >= 0.1 and L.max() <= 30.0
    norm = quad(lambda x: schechter(x, 1, 3.0, -1.2), 0.1, 30.0)[0]
    cdf = np.vectorize(lambda x: quad(lambda t: schechter(t, 1, 3.0, -1.2), 0.1, x)[0] / norm)
    assert stats.kstest(L, cdf).pvalue > 0.01
    assert np.array_equal(L, sample_schechter(5000, 3.0, -1.2, 0.1, 30.0, seed=1))
    with pytest.raises(ValueError, match="L_min"):
        sample_schechter(10, 1.0, -1.0, 0.0, 1.0)
