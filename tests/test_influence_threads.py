"""Large networks step on row blocks in threads: the numbers must not change."""

from __future__ import annotations

import numpy as np
import pytest
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


def _steps(net: InfluenceNetwork, anchor: np.ndarray, days: int) -> list[np.ndarray]:
    return [net.step(anchor).copy() for _ in range(days)]


@pytest.fixture
def two_threads(monkeypatch):
    """The threaded path whatever the machine's core count (threads work on one core too)."""
    monkeypatch.setenv(influence.THREADS_ENV, "2")


def test_large_networks_split_rows_into_blocks_covering_every_edge(two_threads):
    net = _network(influence.THREADED_MIN_NODES + 10)
    blocks = net._blocks
    assert blocks is not None and blocks[0][0] == 0 and blocks[-1][1] == net.n
    assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:]))
    assert sum(int(b[2][-1]) for b in blocks) == net.W.nnz


def test_threaded_step_equals_the_single_threaded_step_exactly(two_threads):
    net = _network(influence.THREADED_MIN_NODES + 10, seed=3)
    assert net._blocks is not None
    anchor = np.random.default_rng(9).random(net.n)
    x0 = net.x.copy()
    threaded = _steps(net, anchor, 5)
    net.x, net._blocks = x0.copy(), None
    single = _steps(net, anchor, 5)
    for a, b in zip(threaded, single):
        np.testing.assert_array_equal(a, b)
    expected = np.clip(fj_step(net.W, net.s, anchor, x0), 0.0, 1.0)
    heard_someone = np.diff(net.W.indptr) > 0  # a node nobody is heard by keeps its own view
    np.testing.assert_allclose(threaded[0][heard_someone], expected[heard_someone], rtol=0, atol=1e-15)


def test_small_networks_stay_single_threaded(two_threads):
    assert _network(1000)._blocks is None


def test_one_thread_means_one_block(monkeypatch):
    monkeypatch.setenv(influence.THREADS_ENV, "1")
    assert _network(influence.THREADED_MIN_NODES + 10)._blocks is None


def test_threaded_step_keeps_the_view_of_nodes_nobody_is_trusted_by_in_every_block(two_threads):
    net = _network(influence.THREADED_MIN_NODES + 10, seed=5)
    # distrust everyone a spread of nodes listens to: lonely nodes in every row block
    lonely = np.linspace(0, net.n - 1, 40).astype(np.int64)
    indptr = net.base.indptr
    net.set_trust(np.concatenate([np.arange(indptr[r], indptr[r + 1]) for r in lonely]), 0.0)
    anchor = np.random.default_rng(2).random(net.n)
    x0 = net.x.copy()
    threaded = _steps(net, anchor, 3)
    net.x, net._blocks = x0.copy(), None
    single = _steps(net, anchor, 3)
    for a, b in zip(threaded, single):
        np.testing.assert_array_equal(a, b)
    s = net.s[lonely]
    np.testing.assert_allclose(threaded[0][lonely], s * anchor[lonely] + (1 - s) * x0[lonely], atol=1e-15)


def test_networks_stepped_from_several_threads_at_once_get_their_own_numbers(two_threads):
    """Dashboard sessions step their models on their own threads, sharing the step pool."""
    from concurrent.futures import ThreadPoolExecutor

    nets = [_network(influence.THREADED_MIN_NODES + 10, seed=s) for s in (11, 12, 13)]
    anchors = [np.random.default_rng(s).random(n.n) for s, n in zip((21, 22, 23), nets)]
    x0 = [n.x.copy() for n in nets]
    alone = [_steps(n, a, 4) for n, a in zip(nets, anchors)]
    for n, x in zip(nets, x0):
        n.x = x.copy()
    with ThreadPoolExecutor(3) as sessions:
        together = list(sessions.map(_steps, nets, anchors, [4] * 3))
    for a, b in zip(alone, together):
        for day_a, day_b in zip(a, b):
            np.testing.assert_array_equal(day_a, day_b)


def _step_fresh_large_network(seed: int) -> np.ndarray:
    net = _network(influence.THREADED_MIN_NODES + 10, seed=seed)
    return net.step(np.random.default_rng(seed).random(net.n))


def _step_in_child(conn, seed: int) -> None:
    conn.send(_step_fresh_large_network(seed))


def test_a_process_forked_after_a_threaded_step_steps_large_networks_too(two_threads):
    """mesa.batch_run and multiprocessing fork on Linux: the child must not wait on the
    parent's step threads, which it does not have."""
    import multiprocessing as mp
    import warnings

    if "fork" not in mp.get_all_start_methods():
        pytest.skip("no fork start method on this platform")
    expected = _step_fresh_large_network(31)  # starts this process's step pool
    assert influence._POOL is not None
    ctx = mp.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*multi-threaded, use of fork\(\)", category=DeprecationWarning)
        child = ctx.Process(target=_step_in_child, args=(send, 31))
        child.start()
    try:
        assert receive.poll(120), "the forked child's step never finished"
        got = receive.recv()
    finally:
        child.kill()
        child.join()
    np.testing.assert_array_equal(got, expected)


def test_a_whole_large_model_run_is_the_same_with_and_without_step_threads(two_threads):
    """Trust edits, blame rounds and partial rebuilds feed the threaded step: same days, same numbers."""
    import sim
    from sim.params import Scenario

    sizes = {"engineering": 30_000, "sales": 20_000, "legal": 10_000}
    sc = Scenario().with_overrides({f"departments.{d}.members": n for d, n in sizes.items()}
                                   | {"events.incident": 0.1, "events.scope_creep": 0.1})
    runs = []
    for threaded in (True, False):
        m = sim.PMSimModel(sc, rng=5)
        if threaded:
            assert m.org.net._blocks is not None
        else:
            m.org.net._blocks = None
        m.run(max_days=40)
        assert m.counters["blame_events"] > 0  # blame rescaled cross-department trust: partial rebuilds
        runs.append((m.datacollector.get_model_vars_dataframe(), m.org.x.copy(), m.events_log))
    (ts_a, x_a, log_a), (ts_b, x_b, log_b) = runs
    assert ts_a["trust_in_pm"].nunique() > 1  # trust moved, so W was rebuilt along the way
    np.testing.assert_array_equal(x_a, x_b)
    assert ts_a.equals(ts_b) and log_a == log_b
