"""Large networks step on row blocks in threads: the numbers must not change."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from sim import influence
from sim.influence import InfluenceNetwork, fj_step


def _network(n: int, seed: int = 0) -> InfluenceNetwork:
    rng = np.random.default_rng(seed)
    m = 10 * n
    rows = rng.integers(0, n, m)
    cols = (rows + rng.integers(1, 400, m)) % n
    base = sp.csr_array((rng.random(m), (rows, cols)), shape=(n, n))
    base.sum_duplicates()
    return InfluenceNetwork(base, rng.uniform(0.1, 0.9, n), rng.random(n), trust=None)


def test_large_networks_split_rows_into_blocks_covering_every_edge():
    net = _network(influence.THREADED_MIN_NODES + 10)
    if influence.step_threads() < 2:
        assert net._blocks is None
        return
    blocks = net._blocks
    assert blocks is not None and blocks[0][0] == 0 and blocks[-1][1] == net.n
    assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:]))
    assert sum(int(b[2][-1]) for b in blocks) == net.W.nnz


def test_threaded_step_equals_the_single_threaded_step_exactly():
    net = _network(influence.THREADED_MIN_NODES + 10, seed=3)
    anchor = np.random.default_rng(9).random(net.n)
    x0 = net.x.copy()
    threaded = [net.step(anchor).copy() for _ in range(5)]
    net.x = x0.copy()
    net._blocks = None
    single = [net.step(anchor).copy() for _ in range(5)]
    for a, b in zip(threaded, single):
        np.testing.assert_array_equal(a, b)
    expected = np.clip(fj_step(net.W, net.s, anchor, x0), 0.0, 1.0)
    heard_someone = np.diff(net.W.indptr) > 0  # a node nobody is heard by keeps its own view
    np.testing.assert_allclose(threaded[0][heard_someone], expected[heard_someone], rtol=0, atol=1e-15)


def test_small_networks_stay_single_threaded():
    assert _network(1000)._blocks is None
