"""The organisation network: who listens to whom, weighted by trust.

Nodes: 0 is the PM, then one lead per department, then the members, ordered by
department so neighbours sit close in memory (members of department ``d`` are the
contiguous range :attr:`Organisation.member_slices` ``[d]``). Departments are
communities of a stochastic block model (dense inside, sparse across; Holland et al.
1983). Listening is directed: ``W[i, j] > 0`` means i listens to j. Members listen to
their neighbours and their lead; leads listen to their members
(``lead_listens_to_members`` of their attention), to the leads they are linked to, and
to the PM (``listen_to_pm``); everything is scaled by trust on the edge, and rows are
normalised (see :class:`sim.influence.InfluenceNetwork`).

Two builders draw the member graph, with the same distribution:

* small organisations (up to :data:`NETWORKX_MAX_MEMBERS` members) use networkx's
  ``stochastic_block_model`` seeded from the model's ``random.Random``;
* larger ones draw the edge list directly with numpy from the model's
  ``numpy.random.Generator`` (:func:`sbm_edges`: per block pair, a binomial edge count
  and that many distinct pairs sampled uniformly), and never build a networkx graph.
  :attr:`Organisation.graph` builds one lazily from the CSR matrix when asked (for
  drawing; :meth:`Organisation.subgraph` is cheaper for a sample of a large org).

Per-day costs are linear in the edges involved: the influence step streams the CSR
matrix once; a blame event rescales only the edges between the two departments (their
positions are precomputed once) and renormalises only the rows they sit in; the mean
trust between departments is kept per department pair and refreshed only for the
pairs that changed.
"""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import scipy.sparse as sp

from sim.influence import InfluenceNetwork
from sim.params import Department, Network

PM_NODE = 0
INTRA_TRUST = 0.8
INTER_TRUST = 0.6
NETWORKX_MAX_MEMBERS = 500
"""Organisations with at most this many members build their graph with networkx."""
SMALL_DEPARTMENT = 200
"""Departments up to this size use ``p_in`` / ``p_out``; larger ones ``mean_degree``."""


# ------------------------------------------------------------------ the graph
def block_probabilities(departments: list[Department], net: Network) -> np.ndarray:
    """D x D link probabilities between the members of two departments."""
    sizes = [d.members for d in departments]
    n_members = int(sum(sizes))
    D = len(departments)
    probs = np.zeros((D, D))
    for a, da in enumerate(departments):
        for b, db in enumerate(departments):
            if a == b:
                p = net.p_in if da.members <= SMALL_DEPARTMENT else min(1.0, net.mean_degree / max(da.members, 1))
            else:
                p = (net.p_out if max(da.members, db.members) <= SMALL_DEPARTMENT
                     else net.p_out * net.mean_degree / max(n_members, 1))
            probs[a, b] = p
    return probs


def sbm_edges(sizes, probs, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """An undirected stochastic block model drawn with numpy: edges ``(u, v)``, ``u < v``.

    Nodes are ``0 .. sum(sizes) - 1``, block by block. For each block pair the number
    of edges is drawn from ``Binomial(pairs, p)`` and that many distinct node pairs are
    sampled uniformly (Floyd's algorithm inside ``Generator.choice``): given its edge
    count, a G(n, p) edge set is uniform over sets of that size, so this is exactly the
    SBM distribution, in time and memory linear in the edges.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    probs = np.asarray(probs, dtype=float)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    us, vs = [], []
    for a in range(len(sizes)):
        for b in range(a, len(sizes)):
            sa, sb, p = int(sizes[a]), int(sizes[b]), float(probs[a, b])
            pairs = sa * (sa - 1) // 2 if a == b else sa * sb
            if pairs <= 0 or p <= 0:
                continue
            m = int(rng.binomial(pairs, min(p, 1.0)))
            if m == 0:
                continue
            k = rng.choice(pairs, size=m, replace=False, shuffle=False)
            if a == b:  # k -> (i, j), i < j, pairs listed as (0,1), (0,2), (1,2), (0,3), ...
                j = np.floor((1.0 + np.sqrt(1.0 + 8.0 * k)) / 2.0).astype(np.int64)
                j -= (j * (j - 1) // 2) > k
                j += ((j + 1) * j // 2) <= k
                i = k - j * (j - 1) // 2
                us.append(offsets[a] + i)
                vs.append(offsets[a] + j)
            else:
                us.append(offsets[a] + k // sb)
                vs.append(offsets[b] + k % sb)
    if not us:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(us), np.concatenate(vs)


def build_graph(departments: list[Department], net: Network, rnd: random.Random) -> tuple[nx.Graph, np.ndarray]:
    """An undirected SBM over leads and members with networkx (the small-org builder);
    returns the graph and node departments.

    Node 0 is the PM (department -1); nodes 1..D are the leads.
    """
    D = len(departments)
    sizes = [d.members for d in departments]
    dept = node_departments(sizes)
    n_members = int(sum(sizes))
    G = nx.empty_graph(len(dept))
    # Leads know each other (the leadership team) and every lead knows its own members.
    for a in range(D):
        for b in range(a + 1, D):
            G.add_edge(1 + a, 1 + b)
    if n_members:
        probs = block_probabilities(departments, net)
        nonempty = [i for i, s in enumerate(sizes) if s > 0]
        sbm = nx.stochastic_block_model([sizes[i] for i in nonempty],
                                        # p so small that 1 - p == 1 is 0 in effect (networkx divides by log(1 - p))
                                        [[float(probs[i, j]) if 1.0 - probs[i, j] < 1.0 else 0.0 for j in nonempty]
                                         for i in nonempty],
                                        seed=rnd, sparse=True)
        offset = 1 + D
        G.add_edges_from((offset + u, offset + v) for u, v in sbm.edges())
        member_dept = dept[offset:]
        for i in range(n_members):
            G.add_edge(1 + int(member_dept[i]), offset + i)
    return G, dept


def node_departments(sizes) -> np.ndarray:
    """Department of every node: -1 for the PM, ``d`` for lead ``1 + d`` and its members."""
    D = len(sizes)
    return np.concatenate([[-1], np.arange(D), np.repeat(np.arange(D), sizes)]).astype(np.int64)


def _undirected_edges(departments, net, rng, D) -> tuple[np.ndarray, np.ndarray]:
    """The numpy builder's whole undirected edge list (leads and members).

    Members are numbered by department and, inside a department, by degree: the SBM's
    labels are exchangeable within a block, so this changes nothing in distribution,
    but consecutive rows of the CSR matrix then have the same length and the mat-vec's
    inner loop ends where the branch predictor expects it (measured: about 1.5x faster
    at 100,000 members, 2x at 10,000; ``docs/performance.md``)."""
    sizes = [d.members for d in departments]
    offset = 1 + D
    u, v = sbm_edges(sizes, block_probabilities(departments, net), rng)
    n_members = int(sum(sizes))
    block = np.repeat(np.arange(D), sizes)
    degree = np.bincount(u, minlength=n_members) + np.bincount(v, minlength=n_members)
    order = np.lexsort((degree, block))  # stable: ties keep the sampled order
    rank = np.empty(n_members, dtype=np.int64)
    rank[order] = np.arange(n_members)
    u, v = rank[u], rank[v]
    la, lb = np.triu_indices(D, k=1)
    members = np.arange(offset, offset + n_members, dtype=np.int64)
    lead_of = 1 + block.astype(np.int64)
    return (np.concatenate([1 + la, u + offset, lead_of]),
            np.concatenate([1 + lb, v + offset, members]))


def listening_weights(u: np.ndarray, v: np.ndarray, dept: np.ndarray, D: int,
                      net: Network) -> sp.csr_array:
    """Directed structural weights (CSR, sorted, int32 indices when they fit) from an
    undirected edge list over PM/lead/member nodes ordered as in :func:`node_departments`."""
    n = len(dept)
    is_lead = np.zeros(n, bool)
    is_lead[1:1 + D] = True
    idx = np.int32 if n < np.iinfo(np.int32).max // 2 else np.int64
    src = np.concatenate([u, v]).astype(idx)
    dst = np.concatenate([v, u]).astype(idx)
    del u, v
    w = np.ones(len(src))
    # A lead splits its attention: lead_listens_to_members on its members, the rest on leads.
    lead_src = is_lead[src]
    member_dst = ~is_lead[dst] & (dst != PM_NODE)
    sel = lead_src & member_dst
    n_members_of = np.bincount(dept[dst[sel]], minlength=D) if len(src) else np.zeros(D)
    n_leads_of = max(D - 1, 1)
    w[sel] = net.lead_listens_to_members / np.maximum(n_members_of[dept[src[sel]]], 1)
    sel = lead_src & is_lead[dst]
    w[sel] = (1.0 - net.lead_listens_to_members - net.listen_to_pm) / n_leads_of
    # Members weigh their lead like two colleagues.
    sel = ~lead_src & is_lead[dst]
    w[sel] = 2.0
    del lead_src, member_dst, sel
    # Leads listen to the PM; the PM listens to no one (it holds the plan).
    leads = np.arange(1, 1 + D, dtype=idx)
    src = np.concatenate([src, leads])
    dst = np.concatenate([dst, np.full(D, PM_NODE, dtype=idx)])
    w = np.concatenate([w, np.full(D, net.listen_to_pm)])
    keep = src != PM_NODE
    if not keep.all():
        src, dst, w = src[keep], dst[keep], w[keep]
    base = sp.coo_array((w, (src, dst)), shape=(n, n)).tocsr()
    base.sum_duplicates()
    base.sort_indices()
    return base


class Organisation:
    """The network, its support opinions and trust, behind a small interface.

    Args:
        departments, net: the scenario's departments and network parameters.
        rnd: the model's ``random.Random`` (seeds the networkx builder).
        rng: the model's ``numpy.random.Generator`` (numpy builder, member noise).
        pm_trust: each lead's initial trust in the PM.
        builder: ``"auto"`` (networkx up to :data:`NETWORKX_MAX_MEMBERS` members, numpy
            above), ``"networkx"`` or ``"numpy"``.
    """

    def __init__(self, departments: list[Department], net: Network, rnd: random.Random,
                 rng: np.random.Generator, pm_trust: list[float], builder: str = "auto"):
        self.departments = departments
        self.D = D = len(departments)
        sizes = [d.members for d in departments]
        self.n_members = int(sum(sizes))
        if builder == "auto":
            builder = "networkx" if self.n_members <= NETWORKX_MAX_MEMBERS else "numpy"
        if builder not in ("networkx", "numpy"):
            raise ValueError(f"builder must be 'auto', 'networkx' or 'numpy', not {builder!r}")
        self.builder = builder
        if builder == "networkx":
            G, self.dept = build_graph(departments, net, rnd)
            self._graph = G
            edges = np.array(list(G.edges()), dtype=np.int64).reshape(-1, 2)
            u, v = edges[:, 0], edges[:, 1]
            del edges
        else:
            self._graph = None
            self.dept = node_departments(sizes)
            u, v = _undirected_edges(departments, net, rng, D)
        n = len(self.dept)
        self.n = n
        self.lead_nodes = np.arange(1, 1 + D)
        is_lead = np.zeros(n, bool)
        is_lead[self.lead_nodes] = True
        self.is_lead = is_lead
        bounds = np.cumsum([1 + D] + sizes)
        self.member_slices = [slice(int(bounds[d]), int(bounds[d + 1])) for d in range(D)]
        base = listening_weights(u, v, self.dept, D, net)
        del u, v
        indptr, cols = base.indptr, base.indices
        # The PM column is 0, so a lead's edge to the PM is the first of its row.
        self._pm_edges = indptr[self.lead_nodes].astype(np.int64)
        if D and not np.all(cols[self._pm_edges] == PM_NODE):
            raise AssertionError("every lead must listen to the PM")
        src_dept, dst_dept = self._edge_departments(indptr, cols)
        trust = np.where(src_dept == dst_dept, INTRA_TRUST, INTER_TRUST)
        trust[self._pm_edges] = np.asarray(pm_trust, float)
        stub = np.empty(n)
        stub[PM_NODE] = 1.0
        stub[self.lead_nodes] = [d.stubbornness for d in departments]
        member_stub = np.array([d.member_stubbornness for d in departments])
        stub[1 + D:] = member_stub[self.dept[1 + D:]]
        x0 = np.full(n, 0.5)
        x0[PM_NODE] = 1.0
        self.member_noise = rng.normal(0.0, 0.1, n)
        self.member_noise[: 1 + D] = 0.0
        self.net = InfluenceNetwork(base, stub, x0, trust=trust, eps=net.bounded_confidence)
        del base, trust
        self._anchor = np.empty(n)
        self._index_pairs(src_dept, dst_dept)
        del src_dept, dst_dept
        self.initial_inter_trust = self.inter_department_trust()

    # ------------------------------------------------------------ set-up helpers
    def _edge_departments(self, indptr, indices) -> tuple[np.ndarray, np.ndarray]:
        """Source and target department of every stored edge (temporary arrays)."""
        code = np.int8 if self.D < 127 else np.int16
        dept = self.dept.astype(code)
        return np.repeat(dept, np.diff(indptr)), dept[indices]

    def _index_pairs(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Positions of the edges between each ordered pair of distinct departments
        (PM edges excluded), kept once so a blame event touches only its own edges.
        ``src`` / ``dst``: department of every edge's listener / speaker."""
        D = self.D
        cross = np.flatnonzero((src != dst) & (src >= 0) & (dst >= 0))
        code = src[cross].astype(np.int64) * D + dst[cross]
        order = np.argsort(code, kind="stable")
        bounds = np.searchsorted(code[order], np.arange(D * D + 1))
        pos = cross[order].astype(np.int32 if self.net.base.indices.dtype == np.int32 else np.int64)
        self._pair_edges = {(a, b): pos[bounds[a * D + b]:bounds[a * D + b + 1]]
                            for a in range(D) for b in range(D) if a != b}
        self._refresh_pair_trust(src, dst)

    def _refresh_pair_trust(self, src: np.ndarray | None = None, dst: np.ndarray | None = None) -> None:
        """Sum and count of trust per (source, target) department pair, PM edges excluded."""
        D = self.D
        if src is None:
            src, dst = self._edge_departments(self.net.base.indptr, self.net.base.indices)
        sel = dst >= 0  # PM edges are the only ones into department -1
        code = src[sel].astype(np.int64) * D + dst[sel]
        self._pair_sums = np.bincount(code, weights=self.net.trust[sel], minlength=D * D)
        self._pair_counts = np.bincount(code, minlength=D * D)
        self._trust_version = self.net.version

    def _pair_edge_index(self, a: int, b: int) -> np.ndarray:
        if a != b:
            return self._pair_edges[(a, b)]
        # inside one department: the lead's row and the members' rows (built when asked)
        indptr, cols = self.net.base.indptr, self.net.base.indices
        sl = self.member_slices[a]
        lead = int(self.lead_nodes[a])
        spans = [np.arange(indptr[lead], indptr[lead + 1]), np.arange(indptr[sl.start], indptr[sl.stop])]
        pos = np.concatenate(spans)
        return pos[self.dept[cols[pos]] == a]

    # ------------------------------------------------------------ opinions
    @property
    def x(self) -> np.ndarray:
        return self.net.x

    def step(self, lead_anchor: np.ndarray, dept_anchor: np.ndarray) -> np.ndarray:
        """One day of influence: leads anchor on their own evaluation, members on their
        department's evaluation of the plan plus their own idiosyncratic offset."""
        anchor = self._anchor
        anchor[: 1 + self.D] = 0.0
        for d, sl in enumerate(self.member_slices):
            np.add(self.member_noise[sl], dept_anchor[d], out=anchor[sl])
        np.clip(anchor, 0.0, 1.0, out=anchor)
        anchor[PM_NODE] = 1.0
        anchor[self.lead_nodes] = lead_anchor
        return self.net.step(anchor)

    def support_by_department(self, members_only: bool = True) -> np.ndarray:
        """Mean support of each department's members (np.bincount, no per-node loop)."""
        x = self.x
        first = 1 + self.D if members_only else 1
        dept = self.dept[first:]
        counts = np.bincount(dept, minlength=self.D)
        sums = np.bincount(dept, weights=x[first:], minlength=self.D)
        return np.divide(sums, counts, out=x[self.lead_nodes].copy(), where=counts > 0)

    # ---------------------------------------------------------------- trust
    def set_pm_trust(self, dept_idx: int, value: float) -> None:
        """A lead's trust in the PM, on its one edge to the PM (renormalises that row only)."""
        in_sync = self._trust_version == self.net.version
        self.net.set_trust(self._pm_edges[dept_idx:dept_idx + 1], value)
        if in_sync:  # PM edges are not part of the department-pair means
            self._trust_version = self.net.version

    def blame(self, from_dept: int, to_dept: int, cut: float) -> None:
        """Cut trust on every edge between two departments (both directions)."""
        a, b = int(from_dept), int(to_dept)
        if a == b:
            edges = self._pair_edge_index(a, a)
        else:
            edges = np.concatenate([self._pair_edges[(a, b)], self._pair_edges[(b, a)]])
        in_sync = self._trust_version == self.net.version
        self.net.scale_trust(edges, 1.0 - cut)
        if in_sync:
            trust = self.net.trust
            for p, q in {(a, b), (b, a)}:
                t = trust[self._pair_edge_index(p, q)]
                # a running sum adds in edge order, as np.bincount does in _refresh_pair_trust
                self._pair_sums[p * self.D + q] = np.cumsum(t)[-1] if len(t) else 0.0
            self._trust_version = self.net.version

    def rally_supporters(self, node: int, boost: float) -> int:
        """Coalition: raise the weight ``node`` puts on neighbours who support the plan."""
        start, end = self.net.base.indptr[node], self.net.base.indptr[node + 1]
        cols = self.net.base.indices[start:end]
        supportive = (self.x[cols] > 0.6) & (cols != PM_NODE)
        idx = np.arange(start, end)[supportive]
        self.net.base.data[idx] *= boost
        in_sync = self._trust_version == self.net.version
        self.net.touch_rows([node])
        if in_sync:  # structural weights changed, trust did not
            self._trust_version = self.net.version
        return int(supportive.sum())

    def inter_department_trust(self) -> np.ndarray:
        """D x D mean trust on edges between departments (diagonal: inside).

        Kept per department pair and refreshed only for the pairs a blame event touched
        (fully if trust was edited some other way), so reading it every day is cheap."""
        if self._trust_version != self.net.version:
            self._refresh_pair_trust()
        D = self.D
        out = np.divide(self._pair_sums, self._pair_counts, out=np.full(D * D, np.nan),
                        where=self._pair_counts > 0)
        return out.reshape(D, D)

    def mean_cross_trust(self) -> float:
        m = self.inter_department_trust()
        off = ~np.eye(self.D, dtype=bool) & ~np.isnan(m)
        return float(m[off].mean()) if off.any() else float("nan")

    # ------------------------------------------------------------ the graph
    @property
    def graph(self) -> nx.Graph:
        """The undirected organisation graph (networkx), built on first use for orgs made by
        the numpy builder. Meant for drawing small orgs: for a sample of a large org use
        :meth:`subgraph`."""
        if self._graph is None:
            G = nx.empty_graph(self.n)
            G.add_edges_from(zip(*(a.tolist() for a in self._undirected())))
            self._graph = G
        return self._graph

    def _undirected(self, nodes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Undirected graph edges ``u < v`` from the CSR structure (PM edges are not part of
        the graph), optionally only among ``nodes``."""
        base = self.net.base
        if nodes is None:
            rows = np.repeat(np.arange(self.n), np.diff(base.indptr))
            cols = base.indices
        else:
            nodes = np.unique(np.asarray(nodes, dtype=np.int64))
            lens = base.indptr[nodes + 1] - base.indptr[nodes]
            starts = base.indptr[nodes].astype(np.int64)
            pos = np.arange(int(lens.sum())) + np.repeat(starts - (np.cumsum(lens) - lens), lens)
            rows = np.repeat(nodes, lens)
            cols = base.indices[pos]
            inside = np.isin(cols, nodes)
            rows, cols = rows[inside], cols[inside]
        keep = (rows < cols) & (cols != PM_NODE)
        return rows[keep], cols[keep].astype(np.int64)

    def subgraph(self, nodes) -> nx.Graph:
        """The graph induced on ``nodes`` (same as ``graph.subgraph(nodes)``), built from the
        CSR matrix without building the whole networkx graph."""
        nodes = [int(v) for v in nodes]
        if self._graph is not None:
            return self._graph.subgraph(nodes).copy()
        G = nx.Graph()
        G.add_nodes_from(sorted(set(nodes)))
        G.add_edges_from(zip(*(a.tolist() for a in self._undirected(np.array(nodes, dtype=np.int64)))))
        return G

    def number_of_edges(self) -> int:
        """Undirected graph edges (same as ``graph.number_of_edges()``), without networkx."""
        base = self.net.base
        return int((base.nnz - self.D) // 2)

    @property
    def nbytes(self) -> int:
        """Bytes held in the organisation's arrays (network, opinions, trust, indices)."""
        net = self.net
        arrays = [net.base.data, net.base.indices, net.base.indptr, net.trust, net._W.data,
                  net.s, net._one_minus_s, net.x, net._heard, net._pull, net._lonely,
                  self.dept, self.is_lead, self.member_noise, self._anchor, self._pm_edges,
                  self._pair_sums, self._pair_counts, *self._pair_edges.values()]
        if getattr(net, "_ones", None) is not None:
            arrays.append(net._ones)
        return int(sum(a.nbytes for a in arrays))
