"""Scale behaviour of the organisation network (sim/org.py, sim/influence.py).

No wall-clock assertions here: the benchmarks in ``benchmarks/`` measure time. These
tests pin what the fast paths must keep: the numpy SBM has the SBM's densities, is
reproducible per seed, nodes are ordered by department, a 100k-member organisation
builds and steps within a few hundred bytes per member, and the fast organisation
gives the same numbers as the plain, mask-based implementation it replaced.
"""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from sim.influence import bounded_confidence_weights, fj_step
from sim.org import PM_NODE, Organisation, block_probabilities, sbm_edges
from sim.params import Scenario


def scenario_with(sizes: dict[str, int], **overrides) -> Scenario:
    ov = {f"departments.{k}.members": v for k, v in sizes.items()}
    return Scenario().with_overrides({**ov, **overrides})


def make_org(sc: Scenario, seed: int = 0, builder: str = "auto") -> Organisation:
    return Organisation(sc.departments, sc.network, random.Random(seed), np.random.default_rng(seed),
                        [d.initial_trust for d in sc.departments], builder=builder)


# --------------------------------------------------------------------------- the SBM
def test_numpy_sbm_density_per_block_pair_matches_within_sampling_error():
    sizes = np.array([120, 80, 40])
    probs = np.array([[0.10, 0.02, 0.05],
                      [0.02, 0.30, 0.00],
                      [0.05, 0.00, 1.00]])
    seeds = 30
    counts = np.zeros((3, 3))
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    block = np.repeat(np.arange(3), sizes)
    for seed in range(seeds):
        u, v = sbm_edges(sizes, probs, np.random.default_rng(seed))
        assert np.all(u < v), "edges are listed once, u < v (no self-loops)"
        assert len(np.unique(u * offsets[-1] + v)) == len(u), "no duplicate edges"
        np.add.at(counts, (block[u], block[v]), 1)
    for a in range(3):
        for b in range(a, 3):
            pairs = sizes[a] * (sizes[a] - 1) / 2 if a == b else sizes[a] * sizes[b]
            p = probs[a, b]
            got = counts[a, b] / (pairs * seeds)
            sd = np.sqrt(p * (1 - p) / (pairs * seeds))
            assert abs(got - p) <= 4 * sd + 1e-12, f"block ({a},{b}): density {got:.4f} vs p={p}"
    assert counts[1, 2] == 0 and counts[2, 2] == seeds * 40 * 39 / 2  # p = 0 and p = 1 exactly


def test_numpy_sbm_uniform_over_pairs_inside_a_block():
    # every node pair of one block is equally likely: degrees average out to (s-1) p
    sizes, p = np.array([60]), np.array([[0.2]])
    deg = np.zeros(60)
    for seed in range(200):
        u, v = sbm_edges(sizes, p, np.random.default_rng(seed))
        deg += np.bincount(u, minlength=60) + np.bincount(v, minlength=60)
    mean = deg / 200
    expected = 59 * 0.2
    sd = np.sqrt(59 * 0.2 * 0.8 / 200)
    assert np.all(np.abs(mean - expected) <= 5 * sd)


def test_numpy_sbm_is_reproducible_per_seed():
    sizes, probs = [500, 300], np.array([[0.02, 0.001], [0.001, 0.03]])
    a = sbm_edges(sizes, probs, np.random.default_rng(7))
    b = sbm_edges(sizes, probs, np.random.default_rng(7))
    c = sbm_edges(sizes, probs, np.random.default_rng(8))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert len(a[0]) != len(c[0]) or not np.array_equal(a[0], c[0])


def test_large_org_is_reproducible_per_model_seed():
    import sim

    sc = scenario_with({"engineering": 1200, "sales": 800, "legal": 400})
    m1, m2 = sim.PMSimModel(sc, rng=3), sim.PMSimModel(sc, rng=3)
    assert m1.org.builder == "numpy"
    for a, b in [(m1.org.net.base.indptr, m2.org.net.base.indptr),
                 (m1.org.net.base.indices, m2.org.net.base.indices),
                 (m1.org.member_noise, m2.org.member_noise)]:
        np.testing.assert_array_equal(a, b)
    for _ in range(5):
        m1.step()
        m2.step()
    np.testing.assert_array_equal(m1.org.x, m2.org.x)
    m3 = sim.PMSimModel(sc, rng=4)
    assert not np.array_equal(m1.org.net.base.indices, m3.org.net.base.indices)


# ----------------------------------------------------------------------- the layout
@pytest.mark.parametrize("builder", ["networkx", "numpy"])
def test_nodes_are_ordered_by_department(builder):
    sc = scenario_with({"engineering": 30, "sales": 20, "legal": 10})
    org = make_org(sc, builder=builder)
    assert org.dept[PM_NODE] == -1
    np.testing.assert_array_equal(org.dept[org.lead_nodes], np.arange(org.D))
    members = org.dept[1 + org.D:]
    assert np.all(np.diff(members) >= 0)
    np.testing.assert_array_equal(np.bincount(members), [30, 20, 10])
    for d, sl in enumerate(org.member_slices):
        assert np.all(org.dept[sl] == d) and sl.stop - sl.start == [30, 20, 10][d]


def test_mean_degree_of_large_departments_follows_the_scenario():
    sc = scenario_with({"engineering": 6000, "sales": 4000, "legal": 2000})
    org = make_org(sc, seed=1)
    base = org.net.base
    members = slice(1 + org.D, org.n)
    deg = np.diff(base.indptr)[members] - 1  # minus the edge to the lead
    assert deg.mean() == pytest.approx(sc.network.mean_degree, rel=0.05)
    assert org.number_of_edges() == org.graph.number_of_edges()


def test_default_org_still_uses_networkx_and_its_graph():
    org = make_org(Scenario())
    assert org.builder == "networkx"
    G = org.graph
    assert G.number_of_nodes() == org.n
    # the CSR structure is the graph's (plus the leads' edges to the PM)
    u, v = org._undirected()
    assert set(zip(u.tolist(), v.tolist())) == {tuple(sorted(e)) for e in G.edges()}


def test_subgraph_from_csr_equals_networkx_subgraph():
    sc = scenario_with({"engineering": 700, "sales": 300, "legal": 100})
    org = make_org(sc, seed=2)
    nodes = np.r_[0, org.lead_nodes, np.random.default_rng(0).choice(np.arange(4, org.n), 150, replace=False)]
    fast = org.subgraph(nodes)
    assert org._graph is None, "subgraph must not build the whole graph"
    slow = org.graph.subgraph(nodes.tolist())
    assert set(fast.nodes) == set(slow.nodes)
    assert {frozenset(e) for e in fast.edges} == {frozenset(e) for e in slow.edges}


# -------------------------------------------------------------------- 100k members
def test_hundred_thousand_members_build_and_step_in_a_few_hundred_bytes_each():
    sc = scenario_with({"engineering": 50_000, "sales": 33_333, "legal": 16_667})
    org = make_org(sc, seed=5)
    assert org.builder == "numpy" and org._graph is None
    assert org.n_members == 100_000
    per_member = org.nbytes / org.n_members
    assert per_member < 500, f"{per_member:.0f} bytes per member"
    assert org.net.base.indices.dtype == np.int32
    x = org.step(np.full(org.D, 0.9), np.array([0.8, 0.2, 0.6]))
    for _ in range(9):
        x = org.step(np.full(org.D, 0.9), np.array([0.8, 0.2, 0.6]))
    assert np.all((x >= 0) & (x <= 1))
    support = org.support_by_department()
    assert support[0] > support[2] > support[1]  # members drift towards their department's view
    org.blame(0, 1, 0.3)
    org.set_pm_trust(2, 0.1)
    m = org.inter_department_trust()
    assert m[0, 1] < m[0, 2] and m[1, 0] < m[2, 0]
    org.step(np.full(org.D, 0.9), np.array([0.8, 0.2, 0.6]))


# ------------------------------------------------ same numbers as the plain version
@pytest.mark.parametrize("pattern", ["one row", "a run of rows", "scattered rows", "long rows among scattered",
                                     "mask"])
def test_partial_renormalisation_equals_a_full_rebuild(pattern):
    from sim.influence import InfluenceNetwork

    rng = np.random.default_rng(5)
    n = 1000
    dense = sp.random_array((n, n), density=0.01, format="lil", rng=rng)
    dense[3, :900] = 1.0  # two rows as long as a lead's (rebuilt on their own slices)
    dense[7, 50:950] = 2.0
    base = sp.csr_array(dense.tocsr())
    net = InfluenceNetwork(base, np.full(n, 0.3), rng.random(n), trust=rng.uniform(0.2, 1, base.nnz))
    net.W  # built once
    rows = {"one row": [17], "a run of rows": np.arange(40, 90),
            "scattered rows": rng.choice(n, 60, replace=False),
            "long rows among scattered": np.r_[3, 7, rng.choice(np.arange(10, n), 60, replace=False)],
            "mask": None}[pattern]
    if rows is None:
        net.scale_trust(rng.random(base.nnz) < 0.3, 0.0)  # boolean mask: full rebuild
    else:
        edges = np.concatenate([np.arange(net.base.indptr[r], net.base.indptr[r + 1]) for r in rows])
        net.scale_trust(edges[: len(edges) // 2], 0.0)  # some rows lose all their trust
        net.add_trust(edges[len(edges) // 2:], 0.1)
    fresh = InfluenceNetwork(net.base, np.full(n, 0.3), net.x, trust=net.trust)
    np.testing.assert_array_equal(net.W.data, fresh.W.data)
    np.testing.assert_array_equal(net._lonely, fresh._lonely)
    assert net._any_lonely == fresh._lonely.any()
    a = rng.random(n)
    np.testing.assert_array_equal(net.step(a), fresh.step(a))



class PlainOrganisation:
    """The organisation as first written (networkx graph in, boolean masks over all
    edges for every trust change, bincount for every read): the reference the fast
    :class:`Organisation` must reproduce number for number on the same graph."""

    def __init__(self, G, dept, departments, net, pm_trust, member_noise):
        D = len(departments)
        n = G.number_of_nodes()
        self.D, self.dept, self.lead_nodes = D, dept, np.arange(1, 1 + D)
        is_lead = np.zeros(n, bool)
        is_lead[self.lead_nodes] = True
        self.is_lead = is_lead
        edges = np.array(list(G.edges()), dtype=np.int64).reshape(-1, 2)
        src = np.concatenate([edges[:, 0], edges[:, 1]])
        dst = np.concatenate([edges[:, 1], edges[:, 0]])
        w = np.ones(len(src))
        lead_src = is_lead[src]
        member_dst = ~is_lead[dst] & (dst != PM_NODE)
        n_members_of = np.bincount(dept[dst[lead_src & member_dst]], minlength=D)
        sel = lead_src & member_dst
        w[sel] = net.lead_listens_to_members / np.maximum(n_members_of[dept[src[sel]]], 1)
        sel = lead_src & is_lead[dst]
        w[sel] = (1.0 - net.lead_listens_to_members - net.listen_to_pm) / max(D - 1, 1)
        w[~lead_src & is_lead[dst]] = 2.0
        src = np.concatenate([src, self.lead_nodes])
        dst = np.concatenate([dst, np.full(D, PM_NODE)])
        w = np.concatenate([w, np.full(D, net.listen_to_pm)])
        keep = src != PM_NODE
        base = sp.csr_array((w[keep], (src[keep], dst[keep])), shape=(n, n))
        base.sum_duplicates()
        base.sort_indices()
        rows = np.repeat(np.arange(n), np.diff(base.indptr))
        self.src_dept, self.dst_dept = dept[rows], dept[base.indices]
        self.pm_edge = base.indices == PM_NODE
        trust = np.where(self.src_dept == self.dst_dept, 0.8, 0.6).astype(float)
        trust[self.pm_edge] = np.asarray(pm_trust, float)[self.src_dept[self.pm_edge]]
        stub = np.empty(n)
        stub[PM_NODE] = 1.0
        stub[self.lead_nodes] = [d.stubbornness for d in departments]
        stub[1 + D:] = np.array([d.member_stubbornness for d in departments])[dept[1 + D:]]
        x0 = np.full(n, 0.5)
        x0[PM_NODE] = 1.0
        self.member_noise = member_noise
        self.base, self.trust, self.s, self.x, self.eps = base, trust, stub, x0, net.bounded_confidence
        self.rows = rows

    @property
    def W(self):
        raw = self.base.data * self.trust
        sums = np.bincount(self.rows, weights=raw, minlength=len(self.x))
        inv = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
        self.lonely = sums <= 0
        return sp.csr_array((raw * inv[self.rows], self.base.indices, self.base.indptr), shape=self.base.shape)

    def step(self, lead_anchor, dept_anchor):
        anchor = np.clip(dept_anchor[np.maximum(self.dept, 0)] + self.member_noise, 0.0, 1.0)
        anchor[PM_NODE] = 1.0
        anchor[self.lead_nodes] = lead_anchor
        if self.eps is not None:
            new = fj_step(bounded_confidence_weights(self.W, self.x, self.eps), self.s, anchor, self.x)
        else:
            heard = self.W @ self.x
            heard[self.lonely] = self.x[self.lonely]
            new = self.s * anchor + (1.0 - self.s) * heard
        self.x = np.clip(new, 0.0, 1.0)
        return self.x

    def set_pm_trust(self, d, value):
        self.trust[self.pm_edge & (self.src_dept == d)] = value

    def blame(self, a, b, cut):
        mask = ((self.src_dept == a) & (self.dst_dept == b)) | ((self.src_dept == b) & (self.dst_dept == a))
        mask &= ~self.pm_edge
        self.trust[mask] = np.clip(self.trust[mask] * (1.0 - cut), 0.0, 1.0)

    def rally_supporters(self, node, boost):
        start, end = self.base.indptr[node], self.base.indptr[node + 1]
        cols = self.base.indices[start:end]
        supportive = (self.x[cols] > 0.6) & (cols != PM_NODE)
        self.base.data[np.arange(start, end)[supportive]] *= boost
        return int(supportive.sum())

    def inter_department_trust(self):
        sel = ~self.pm_edge & (self.src_dept >= 0)
        code = self.src_dept[sel] * self.D + self.dst_dept[sel]
        sums = np.bincount(code, weights=self.trust[sel], minlength=self.D ** 2)
        counts = np.bincount(code, minlength=self.D ** 2)
        return np.divide(sums, counts, out=np.full(self.D ** 2, np.nan), where=counts > 0).reshape(self.D, self.D)


def _same_numbers(fast: Organisation, plain: PlainOrganisation, days: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    np.testing.assert_array_equal(fast.net.base.indptr, plain.base.indptr)
    np.testing.assert_array_equal(fast.net.base.indices, plain.base.indices)
    np.testing.assert_array_equal(fast.net.base.data, plain.base.data)
    np.testing.assert_array_equal(fast.net.trust, plain.trust)
    np.testing.assert_array_equal(fast.net.W.data, plain.W.data)
    for day in range(days):
        lead_anchor, dept_anchor = rng.random(fast.D), rng.random(fast.D)
        np.testing.assert_array_equal(fast.step(lead_anchor, dept_anchor), plain.step(lead_anchor, dept_anchor))
        event = day % 5
        if event == 1:
            a, b = rng.choice(fast.D, 2, replace=False)
            cut = float(rng.uniform(0.05, 1.0))  # up to a full cut: rows may lose all trust
            fast.blame(a, b, cut)
            plain.blame(a, b, cut)
        elif event == 2:
            d, v = int(rng.integers(fast.D)), float(rng.uniform(0, 1))
            fast.set_pm_trust(d, v)
            plain.set_pm_trust(d, v)
        elif event == 3:
            node = int(rng.choice(fast.lead_nodes))
            assert fast.rally_supporters(node, 1.3) == plain.rally_supporters(node, 1.3)
        np.testing.assert_array_equal(fast.inter_department_trust(), plain.inter_department_trust())
    np.testing.assert_array_equal(fast.net.trust, plain.trust)
    np.testing.assert_array_equal(fast.net.W.data, plain.W.data)
    np.testing.assert_array_equal(fast.net.base.data, plain.base.data)


@pytest.mark.parametrize("builder", ["numpy", "networkx"])
def test_fast_org_gives_the_plain_numbers_on_a_small_org(builder):
    sc = scenario_with({"engineering": 60, "sales": 40, "legal": 20})
    fast = make_org(sc, seed=11, builder=builder)
    plain = PlainOrganisation(fast.graph, fast.dept.copy(), sc.departments, sc.network,
                              [d.initial_trust for d in sc.departments], fast.member_noise.copy())
    _same_numbers(fast, plain)


def test_fast_org_gives_the_plain_numbers_with_bounded_confidence_and_many_departments():
    sc = Scenario().with_overrides({"network.bounded_confidence": 0.25})
    deps = [d.model_copy(update={"name": f"d{i}", "members": 15 + 10 * i})
            for i, d in enumerate(sc.departments * 2)]
    sc = sc.model_copy(update={"departments": deps})
    fast = make_org(sc, seed=4, builder="numpy")
    plain = PlainOrganisation(fast.graph, fast.dept.copy(), sc.departments, sc.network,
                              [d.initial_trust for d in sc.departments], fast.member_noise.copy())
    _same_numbers(fast, plain, days=25, seed=1)


def test_graph_of_a_numpy_org_is_the_networkx_view_of_its_csr():
    sc = scenario_with({"engineering": 600, "sales": 200, "legal": 100})
    org = make_org(sc, seed=3)
    G = org.graph
    assert isinstance(G, nx.Graph) and G.number_of_nodes() == org.n
    A = nx.to_scipy_sparse_array(G, nodelist=range(org.n), format="csr")
    structure = org.net.base.copy()
    structure.data[:] = 1.0
    structure = structure.toarray()
    structure[:, PM_NODE] = 0.0  # the leads' edges to the PM are not part of the graph
    np.testing.assert_array_equal(A.toarray(), structure)


def test_block_probabilities_switch_to_mean_degree_for_large_departments():
    sc = scenario_with({"engineering": 1000, "sales": 100, "legal": 10})
    P = block_probabilities(sc.departments, sc.network)
    assert P[0, 0] == pytest.approx(10 / 1000)
    assert P[1, 1] == P[2, 2] == sc.network.p_in
    assert P[1, 2] == sc.network.p_out
    assert P[0, 1] == pytest.approx(sc.network.p_out * 10 / 1110)
