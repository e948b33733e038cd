"""Unit tests of sim.influence on hand-checkable cases, plus regressions."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.influence import (
    InfluenceNetwork,
    bounded_confidence_weights,
    fj_fixed_point,
    fj_step,
    row_normalise,
)

SWAP = np.array([[0.0, 1.0], [1.0, 0.0]])


def test_row_normalise_sums_rows_and_keeps_empty_rows_empty():
    W = row_normalise(sp.csr_array(np.array([[1.0, 3.0], [0.0, 0.0]])))
    np.testing.assert_allclose(W.toarray(), [[0.25, 0.75], [0.0, 0.0]])


def test_fj_step_by_hand():
    x = fj_step(SWAP, np.array([0.5, 0.5]), np.array([0.0, 1.0]), np.array([0.2, 0.6]))
    # 0.5*0 + 0.5*0.6, 0.5*1 + 0.5*0.2
    np.testing.assert_allclose(x, [0.3, 0.6])


def test_fj_fixed_point_by_hand():
    # x1 = x2/2, x2 = 1/2 + x1/2  ->  x = (1/3, 2/3)
    x = fj_fixed_point(sp.csr_array(SWAP), np.array([0.5, 0.5]), np.array([0.0, 1.0]))
    np.testing.assert_allclose(x, [1 / 3, 2 / 3], atol=1e-14)
    # scalar stubbornness and dense W work too
    np.testing.assert_allclose(fj_fixed_point(SWAP, 0.5, np.array([0.0, 1.0])), x, atol=1e-14)


def test_fj_fixed_point_fully_stubborn_is_anchor():
    a = np.array([0.1, 0.7, 0.3])
    W = row_normalise(sp.csr_array(np.ones((3, 3))))
    np.testing.assert_allclose(fj_fixed_point(W, np.ones(3), a), a)


def test_fj_fixed_point_singular_raises_instead_of_nan():
    with pytest.raises(ValueError, match="singular"):
        fj_fixed_point(sp.csr_array(SWAP), np.zeros(2), np.array([0.0, 1.0]))


def test_fj_fixed_point_one_stubborn_node_pins_strongly_connected_group():
    # 3-cycle with one stubborn node: everyone ends at its anchor
    W = sp.csr_array(np.array([[0, 1.0, 0], [0, 0, 1.0], [1.0, 0, 0]]))
    x = fj_fixed_point(W, np.array([0.4, 0.0, 0.0]), np.array([0.9, 0.0, 0.0]))
    np.testing.assert_allclose(x, [0.9, 0.9, 0.9], atol=1e-12)


def test_bounded_confidence_weights_by_hand():
    W = sp.csr_array(np.full((3, 3), 1 / 3))
    B = bounded_confidence_weights(W, np.array([0.0, 0.1, 0.5]), 0.2).toarray()
    np.testing.assert_allclose(B, [[0.5, 0.5, 0], [0.5, 0.5, 0], [0, 0, 1.0]])


def test_bounded_confidence_lonely_row_without_self_loop_hears_itself():
    W = sp.csr_array(SWAP)
    B = bounded_confidence_weights(W, np.array([0.0, 0.9]), 0.5).toarray()
    np.testing.assert_allclose(B, np.eye(2))


def test_bounded_confidence_boundary_is_inclusive():
    W = sp.csr_array(np.full((2, 2), 0.5))
    B = bounded_confidence_weights(W, np.array([0.0, 0.25]), 0.25).toarray()
    np.testing.assert_allclose(B, np.full((2, 2), 0.5))


def _unsorted_base():
    # row 0 stores (0,1) before (0,0): not in canonical order
    return sp.csr_array((np.array([1.0, 1.0, 1.0, 1.0]), np.array([1, 0, 0, 1]),
                         np.array([0, 2, 4])), shape=(2, 2))


def test_network_keeps_trust_aligned_with_unsorted_base():
    base = _unsorted_base()
    assert not base.has_sorted_indices
    # node 0 trusts node 1 fully and itself not at all (order of base.data)
    net = InfluenceNetwork(base, np.zeros(2), np.array([0.0, 1.0]),
                           trust=np.array([1.0, 0.0, 1.0, 1.0]))
    np.testing.assert_allclose(net.W.toarray(), [[0.0, 1.0], [0.5, 0.5]])


def test_network_does_not_reorder_callers_matrix():
    base = _unsorted_base()
    InfluenceNetwork(base, np.zeros(2), np.zeros(2))
    np.testing.assert_array_equal(base.indices, [1, 0, 0, 1])


def test_network_rejects_trust_of_wrong_length():
    with pytest.raises(ValueError, match="one value per stored edge"):
        InfluenceNetwork(sp.csr_array(SWAP), np.zeros(2), np.zeros(2), trust=np.ones(3))


def test_network_W_is_row_normalised_base_times_trust():
    rng = np.random.default_rng(3)
    base = sp.random_array((20, 20), density=0.3, format="csr", rng=rng) + sp.eye_array(20)
    base = sp.csr_array(base)
    trust = rng.uniform(0.1, 1.0, base.nnz)
    net = InfluenceNetwork(base, np.full(20, 0.3), rng.random(20), trust=trust)
    expected = row_normalise(sp.csr_array((base.data * trust, base.indices, base.indptr),
                                          shape=base.shape))
    np.testing.assert_allclose(net.W.toarray(), expected.toarray(), atol=1e-15)


def test_network_node_with_no_trust_left_keeps_its_view():
    # regression: an all-zero row used to pull the node to s * anchor (towards 0)
    net = InfluenceNetwork(sp.csr_array(SWAP), np.zeros(2), np.array([0.6, 0.2]))
    net.scale_trust(np.array([True, False]), 0.0)  # node 0 no longer trusts node 1
    x = net.step(np.array([0.6, 0.2]))
    np.testing.assert_allclose(x, [0.6, 0.6])
    # same answer through the bounded-confidence path
    net_bc = InfluenceNetwork(sp.csr_array(SWAP), np.zeros(2), np.array([0.6, 0.2]), eps=1.0)
    net_bc.scale_trust(np.array([True, False]), 0.0)
    np.testing.assert_allclose(net_bc.step(np.array([0.6, 0.2])), [0.6, 0.6])


def test_network_trust_updates_clip_and_rebuild_W():
    base = sp.csr_array(np.array([[1.0, 1.0], [1.0, 1.0]]))
    net = InfluenceNetwork(base, np.zeros(2), np.array([0.0, 1.0]))
    np.testing.assert_allclose(net.W.toarray(), np.full((2, 2), 0.5))
    net.scale_trust(np.array([False, True, False, False]), 0.5)
    np.testing.assert_allclose(net.W.toarray()[0], [2 / 3, 1 / 3])
    net.add_trust(np.array([False, True, False, False]), 5.0)
    assert net.trust[1] == 1.0
    np.testing.assert_allclose(net.W.toarray()[0], [0.5, 0.5])
    net.add_trust(np.ones(4, dtype=bool), -3.0)
    assert np.all(net.trust == 0.0)


def test_network_step_matches_fj_step_and_clips():
    base = sp.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]]))
    s = np.array([0.5, 0.5])
    net = InfluenceNetwork(base, s, np.array([0.2, 0.6]))
    x = net.step(np.array([0.0, 1.0]))
    np.testing.assert_allclose(x, [0.3, 0.6])
    net2 = InfluenceNetwork(base, s, np.array([1.0, 1.0]))
    np.testing.assert_allclose(net2.step(np.array([1.8, 1.8])), [1.0, 1.0])


def test_network_with_eps_ignores_far_views():
    W = sp.csr_array(np.full((3, 3), 1.0))
    net = InfluenceNetwork(W, np.zeros(3), np.array([0.0, 0.1, 0.9]), eps=0.2)
    np.testing.assert_allclose(net.step(np.zeros(3)), [0.05, 0.05, 0.9])


@st.composite
def fj_instances(draw):
    n = draw(st.integers(2, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    A = (rng.random((n, n)) < 0.4) * rng.uniform(0.1, 1, (n, n)) + np.eye(n)
    s = rng.uniform(0.01, 1.0, n)
    return row_normalise(sp.csr_array(A)), s, rng.random(n)


@settings(max_examples=60, deadline=None)
@given(fj_instances())
def test_fj_fixed_point_solves_the_fixed_point_equation(inst):
    W, s, a = inst
    x = fj_fixed_point(W, s, a)
    np.testing.assert_allclose(fj_step(W, s, a, x), x, atol=1e-12)
    # and lies in the hull of the anchors (convex combination)
    assert a.min() - 1e-12 <= x.min() and x.max() <= a.max() + 1e-12


@settings(max_examples=40, deadline=None)
@given(fj_instances(), st.floats(0.0, 1.0))
def test_bounded_confidence_rows_stay_stochastic(inst, eps):
    W, _, x = inst
    B = bounded_confidence_weights(W, x, eps)
    np.testing.assert_allclose(B.sum(axis=1), 1.0, atol=1e-12)
    rows, cols = B.nonzero()
    assert np.all(np.abs(x[rows] - x[cols]) <= eps)
