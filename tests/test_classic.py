"""Unit tests of sim.classic: hand-checkable cases and brute-force cross-checks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.classic import (
    cluster_sizes,
    count_major_clusters,
    deffuant_weisbuch,
    degroot_consensus,
    hegselmann_krause,
    simulate,
)
from sim.influence import fj_fixed_point, row_normalise

# ----------------------------------------------------------------------- DeGroot


def test_degroot_consensus_two_nodes_by_hand():
    a, b = 0.2, 0.6
    W = np.array([[1 - a, a], [b, 1 - b]])
    np.testing.assert_allclose(degroot_consensus(W), [b / (a + b), a / (a + b)], atol=1e-14)


def test_degroot_consensus_doubly_stochastic_is_uniform():
    W = np.array([[0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.25, 0.25, 0.5]])
    np.testing.assert_allclose(degroot_consensus(sp.csr_array(W)), np.full(3, 1 / 3))


def test_degroot_limit_is_not_the_plain_mean():
    # the wrong formula (unweighted mean) must be told apart from pi . x0
    W = np.array([[0.9, 0.1, 0.0], [0.0, 0.5, 0.5], [0.3, 0.0, 0.7]])
    x0 = np.array([0.0, 0.5, 1.0])
    pi = degroot_consensus(W)
    traj, ok = simulate(W, 0.0, x0)
    assert ok
    np.testing.assert_allclose(traj[-1], pi @ x0, atol=1e-10)
    assert abs(pi @ x0 - x0.mean()) > 0.05
    assert np.max(np.abs(traj[-1] - x0.mean())) > 0.05


def test_degroot_transient_node_gets_no_weight():
    # node 2 listens to 0 and 1, nobody listens to 2
    W = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.4, 0.4, 0.2]])
    np.testing.assert_allclose(degroot_consensus(W), [0.5, 0.5, 0.0], atol=1e-14)


def test_degroot_two_closed_classes_has_no_consensus_vector():
    with pytest.raises(ValueError, match="not simple"):
        degroot_consensus(np.eye(2))


def test_degroot_rejects_non_stochastic():
    with pytest.raises(ValueError, match="row-stochastic"):
        degroot_consensus(np.array([[0.5, 0.6], [0.5, 0.5]]))


# ------------------------------------------------------------------------ simulate


def test_simulate_trajectory_shape_and_first_row():
    W = np.array([[0.5, 0.5], [0.5, 0.5]])
    traj, ok = simulate(W, 0.0, np.array([0.0, 1.0]))
    assert ok
    np.testing.assert_array_equal(traj[0], [0.0, 1.0])
    np.testing.assert_allclose(traj[1], [0.5, 0.5])
    assert traj.shape == (3, 2)  # x0, the consensus step, the no-change step


def test_simulate_reports_non_convergence():
    W = np.array([[0.9, 0.1], [0.1, 0.9]])
    traj, ok = simulate(W, 0.0, np.array([0.0, 1.0]), max_steps=3)
    assert not ok and traj.shape == (4, 2)


def test_simulate_fully_stubborn_never_moves():
    W = row_normalise(sp.csr_array(np.ones((3, 3))))
    x0 = np.array([0.1, 0.5, 0.9])
    traj, ok = simulate(W, 1.0, x0, anchor=x0)
    assert ok and traj.shape[0] == 2
    np.testing.assert_array_equal(traj[-1], x0)


def test_simulate_fj_limit_is_the_closed_form_not_a_transposed_one():
    rng = np.random.default_rng(11)
    n = 8
    W = row_normalise(sp.csr_array(rng.random((n, n)) * (rng.random((n, n)) < 0.5)
                                   + np.eye(n)))
    s = rng.uniform(0.05, 0.9, n)
    x0 = rng.random(n)
    traj, ok = simulate(W, s, x0)
    assert ok
    S, eye, Wd = np.diag(s), np.eye(n), W.toarray()
    right = np.linalg.solve(eye - (eye - S) @ Wd, S @ x0)
    wrong = np.linalg.solve(eye - Wd @ (eye - S), S @ x0)  # a plausible slip
    np.testing.assert_allclose(traj[-1], right, atol=1e-10)
    np.testing.assert_allclose(fj_fixed_point(W, s, x0), right, atol=1e-12)
    assert np.max(np.abs(traj[-1] - wrong)) > 1e-3


# -------------------------------------------------------------- Hegselmann-Krause


def _hk_brute(x, eps, tol=1e-12):
    for t in range(10_000):
        A = np.abs(x[:, None] - x[None, :]) <= eps
        new = (A @ x) / A.sum(axis=1)
        if np.max(np.abs(new - x)) <= tol:
            return new, t
        x = new
    raise AssertionError("brute-force HK did not stop")


def test_hk_by_hand():
    # step 1: 0 -> mean(0, .1) = .05, .1 -> mean(0, .1, .2) = .1, .2 -> .15, 1 stays
    # step 2: .05, .1, .15 all within .15 of each other -> .1
    r = hegselmann_krause(np.array([0.2, 1.0, 0.0, 0.1]), 0.15)
    assert r.converged and r.steps == 2
    np.testing.assert_allclose(r.x, [0.1, 1.0, 0.1, 0.1], atol=1e-15)


def test_hk_already_settled_takes_no_step():
    r = hegselmann_krause(np.array([0.0, 0.0, 0.5]), 0.2)
    assert r.converged and r.steps == 0


def test_hk_reports_step_cap():
    r = hegselmann_krause(np.linspace(0, 1, 50), 0.05, max_steps=1)
    assert not r.converged and r.steps == 1


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 120), st.floats(0.02, 0.5))
def test_hk_matches_brute_force(seed, n, eps):
    x0 = np.random.default_rng(seed).random(n)
    r = hegselmann_krause(x0, eps)
    ref, _ = _hk_brute(x0, eps)
    assert r.converged
    np.testing.assert_allclose(r.x, ref, atol=1e-10)


def test_hk_matches_model_bounded_confidence_path():
    x0 = np.random.default_rng(5).random(150)
    W = sp.csr_array(np.full((150, 150), 1 / 150))
    traj, ok = simulate(W, 0.0, x0, eps=0.12)
    r = hegselmann_krause(x0, 0.12)
    assert ok and r.converged
    np.testing.assert_allclose(traj[-1], r.x, atol=1e-12)


def test_hk_wide_confidence_is_one_step_consensus():
    x0 = np.random.default_rng(0).random(100)
    r = hegselmann_krause(x0, 1.0)
    assert r.steps == 1
    np.testing.assert_allclose(r.x, x0.mean(), atol=1e-14)


# ------------------------------------------------------------- Deffuant-Weisbuch


def test_dw_requires_a_generator():
    with pytest.raises(TypeError):
        deffuant_weisbuch(np.array([0.0, 0.1]), 0.5, 0.5, np.random.RandomState(0))
    with pytest.raises(ValueError):
        deffuant_weisbuch(np.array([0.0, 0.1]), 0.5, 0.7, np.random.default_rng(0))


def test_dw_two_agents_meet_and_agree():
    r = deffuant_weisbuch(np.array([0.2, 0.4]), 0.5, 0.5, np.random.default_rng(1))
    assert r.converged and r.interactions >= 1
    np.testing.assert_allclose(r.x, [0.3, 0.3])


def test_dw_out_of_range_agents_never_move():
    x0 = np.array([0.0, 0.5, 1.0])
    r = deffuant_weisbuch(x0, 0.5, 0.5, np.random.default_rng(1))
    assert r.converged and r.interactions == 0
    np.testing.assert_array_equal(r.x, x0)


def test_dw_is_reproducible_and_conserves_the_mean():
    x0 = np.random.default_rng(2).random(300)
    a = deffuant_weisbuch(x0, 0.2, 0.3, np.random.default_rng(7))
    b = deffuant_weisbuch(x0, 0.2, 0.3, np.random.default_rng(7))
    c = deffuant_weisbuch(x0, 0.2, 0.3, np.random.default_rng(8))
    np.testing.assert_array_equal(a.x, b.x)
    assert a.interactions == b.interactions
    assert a.interactions != c.interactions
    assert abs(a.x.mean() - x0.mean()) < 1e-12  # each encounter conserves the sum


def test_dw_final_state_is_settled():
    x0 = np.random.default_rng(3).random(400)
    r = deffuant_weisbuch(x0, 0.15, 0.5, np.random.default_rng(3), tol=1e-6)
    assert r.converged
    centres, sizes = cluster_sizes(r.x, gap=1e-4)
    assert np.all(np.diff(centres) >= 0.15)  # clusters cannot interact any more
    xs = np.sort(r.x)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    for k in range(len(sizes)):
        assert np.ptp(xs[labels == k]) <= 1e-6


def test_dw_reports_interaction_cap():
    x0 = np.random.default_rng(4).random(100)
    r = deffuant_weisbuch(x0, 0.3, 0.1, np.random.default_rng(4), max_interactions=50)
    assert not r.converged and r.interactions <= 150


def test_dw_skipped_noops_have_the_right_waiting_time():
    # a settled bloc of 48 and a pair 0.05 apart: only the pair can move. The
    # pair is drawn with probability 2 / (n (n - 1)) per encounter and the run
    # checks after 2 simulated encounters, so E[interactions] = n (n - 1).
    n = 50
    x0 = np.concatenate(([0.0, 0.05], np.full(n - 2, 0.9)))
    rng = np.random.default_rng(12)
    t = np.array([deffuant_weisbuch(x0, 0.2, 0.5, rng).interactions for _ in range(400)])
    expected = n * (n - 1)
    se = np.sqrt(2 * (1 - 2 / expected)) * expected / 2 / np.sqrt(len(t))
    assert abs(t.mean() - expected) < 4 * se


def _dw_plain(x, d, mu, rng, draws):
    x = x.tolist()
    n = len(x)
    ii = rng.integers(0, n, draws)
    jj = rng.integers(0, n - 1, draws)
    jj += jj >= ii
    for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
        diff = x[j] - x[i]
        if abs(diff) < d:
            x[i] += mu * diff
            x[j] -= mu * diff
    return np.array(x)


def test_dw_matches_plain_pairwise_loop_in_distribution():
    # same initial opinions, many dynamics seeds: the number of final clusters
    # from the fast implementation and from a naive loop must agree on average
    x0 = np.random.default_rng(9).random(30)
    fast, plain = [], []
    for k in range(120):
        r = deffuant_weisbuch(x0, 0.25, 0.5, np.random.default_rng([1, k]), tol=1e-3)
        fast.append(len(cluster_sizes(r.x, gap=1e-2)[1]))
        xp = _dw_plain(x0, 0.25, 0.5, np.random.default_rng([2, k]), 3000)
        plain.append(len(cluster_sizes(xp, gap=1e-2)[1]))
    fast, plain = np.array(fast, float), np.array(plain, float)
    se = np.sqrt(fast.var(ddof=1) / len(fast) + plain.var(ddof=1) / len(plain))
    assert abs(fast.mean() - plain.mean()) <= 4 * se + 0.05


# ---------------------------------------------------------------------- clusters


def test_cluster_sizes_and_major_count_by_hand():
    x = np.concatenate((np.zeros(50), np.full(49, 0.5), [1.0]))
    centres, sizes = cluster_sizes(x)
    np.testing.assert_allclose(centres, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(sizes, [50, 49, 1])
    assert count_major_clusters(x) == 2  # the lone agent is 1 %, not more
    assert count_major_clusters(x, min_share=0.0) == 3
    assert count_major_clusters(x, min_share=0.495) == 1


def test_cluster_gap_merges_close_opinions():
    x = np.array([0.0, 5e-5, 0.3, 0.3 + 2e-4])
    assert count_major_clusters(x, min_share=0.0) == 3
    assert count_major_clusters(x, min_share=0.0, gap=1e-3) == 2
    assert count_major_clusters(np.array([])) == 0
