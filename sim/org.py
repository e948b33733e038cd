"""The organisation network: who listens to whom, weighted by trust.

Nodes: 0 is the PM, then one lead per department, then the members, ordered by
department so neighbours sit close in memory. Departments are communities of a
stochastic block model (dense inside, sparse across; Holland et al. 1983) built with
networkx and seeded from the model. Listening is directed: ``W[i, j] > 0`` means i
listens to j. Members listen to their neighbours and their lead; leads listen to
their members (``lead_listens_to_members`` of their attention), to the leads they are
linked to, and to the PM (``listen_to_pm``); everything is scaled by trust on the
edge, and rows are normalised (see :class:`sim.influence.InfluenceNetwork`).
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


def build_graph(departments: list[Department], net: Network, rnd: random.Random) -> tuple[nx.Graph, np.ndarray]:
    """An undirected SBM over leads and members; returns the graph and node departments.

    Node 0 is the PM (department -1); nodes 1..D are the leads.
    """
    D = len(departments)
    sizes = [d.members for d in departments]
    member_dept = np.repeat(np.arange(D), sizes)
    n_members = int(sum(sizes))
    total = 1 + D + n_members
    dept = np.concatenate([[-1], np.arange(D), member_dept]).astype(np.int64)
    G = nx.empty_graph(total)
    # Leads know each other (the leadership team) and every lead knows its own members.
    for a in range(D):
        for b in range(a + 1, D):
            G.add_edge(1 + a, 1 + b)
    if n_members:
        probs = []
        for a, da in enumerate(departments):
            row = []
            for b, db in enumerate(departments):
                if a == b:
                    p = net.p_in if da.members <= 200 else min(1.0, net.mean_degree / max(da.members, 1))
                else:
                    p = net.p_out if max(da.members, db.members) <= 200 else net.p_out * net.mean_degree / max(n_members, 1)
                row.append(p)
            probs.append(row)
        nonempty = [i for i, s in enumerate(sizes) if s > 0]
        sbm = nx.stochastic_block_model([sizes[i] for i in nonempty],
                                        [[probs[i][j] for j in nonempty] for i in nonempty],
                                        seed=rnd, sparse=True)
        offset = 1 + D
        G.add_edges_from((offset + u, offset + v) for u, v in sbm.edges())
        for i in range(n_members):
            G.add_edge(1 + int(member_dept[i]), offset + i)
    return G, dept


class Organisation:
    """The network, its support opinions and trust, behind a small interface."""

    def __init__(self, departments: list[Department], net: Network, rnd: random.Random,
                 rng: np.random.Generator, pm_trust: list[float]):
        self.departments = departments
        self.D = len(departments)
        self.graph, self.dept = build_graph(departments, net, rnd)
        n = self.graph.number_of_nodes()
        self.n = n
        self.lead_nodes = np.arange(1, 1 + self.D)
        is_lead = np.zeros(n, bool)
        is_lead[self.lead_nodes] = True
        self.is_lead = is_lead
        # Directed listening weights from the undirected graph.
        edges = np.array(list(self.graph.edges()), dtype=np.int64).reshape(-1, 2)
        src = np.concatenate([edges[:, 0], edges[:, 1]])
        dst = np.concatenate([edges[:, 1], edges[:, 0]])
        w = np.ones(len(src))
        # A lead splits its attention: lead_listens_to_members on its members, the rest on leads.
        lead_src = is_lead[src]
        member_dst = ~is_lead[dst] & (dst != PM_NODE)
        n_members_of = np.bincount(self.dept[dst[lead_src & member_dst]], minlength=self.D) if len(src) else np.zeros(self.D)
        n_leads_of = max(self.D - 1, 1)
        sel = lead_src & member_dst
        w[sel] = net.lead_listens_to_members / np.maximum(n_members_of[self.dept[src[sel]]], 1)
        sel = lead_src & is_lead[dst]
        w[sel] = (1.0 - net.lead_listens_to_members - net.listen_to_pm) / n_leads_of
        # Members weigh their lead like two colleagues.
        sel = ~lead_src & is_lead[dst]
        w[sel] = 2.0
        # Leads listen to the PM; the PM listens to no one (it holds the plan).
        src = np.concatenate([src, self.lead_nodes])
        dst = np.concatenate([dst, np.full(self.D, PM_NODE)])
        w = np.concatenate([w, np.full(self.D, net.listen_to_pm)])
        keep = src != PM_NODE
        src, dst, w = src[keep], dst[keep], w[keep]
        base = sp.csr_array((w, (src, dst)), shape=(n, n))
        base.sum_duplicates()
        base.sort_indices()
        rows = np.repeat(np.arange(n), np.diff(base.indptr))
        cols = base.indices
        self.edge_src_dept = self.dept[rows]
        self.edge_dst_dept = self.dept[cols]
        self.pm_edge = cols == PM_NODE
        trust = np.where(self.edge_src_dept == self.edge_dst_dept, INTRA_TRUST, INTER_TRUST).astype(float)
        lead_of_edge = np.where(self.pm_edge, self.edge_src_dept, 0)
        trust[self.pm_edge] = np.asarray(pm_trust, float)[lead_of_edge[self.pm_edge]]
        self.edge_rows = rows
        stub = np.empty(n)
        stub[PM_NODE] = 1.0
        stub[self.lead_nodes] = [d.stubbornness for d in departments]
        member_stub = np.array([d.member_stubbornness for d in departments])
        members = slice(1 + self.D, n)
        stub[members] = member_stub[self.dept[members]]
        x0 = np.full(n, 0.5)
        x0[PM_NODE] = 1.0
        self.member_noise = rng.normal(0.0, 0.1, n)
        self.member_noise[: 1 + self.D] = 0.0
        self.net = InfluenceNetwork(base, stub, x0, trust=trust, eps=net.bounded_confidence)
        self.initial_inter_trust = self.inter_department_trust()

    # ------------------------------------------------------------ opinions
    @property
    def x(self) -> np.ndarray:
        return self.net.x

    def step(self, lead_anchor: np.ndarray, dept_anchor: np.ndarray) -> np.ndarray:
        """One day of influence: leads anchor on their own evaluation, members on their
        department's evaluation of the plan plus their own idiosyncratic offset."""
        anchor = np.clip(dept_anchor[np.maximum(self.dept, 0)] + self.member_noise, 0.0, 1.0)
        anchor[PM_NODE] = 1.0
        anchor[self.lead_nodes] = lead_anchor
        return self.net.step(anchor)

    def support_by_department(self, members_only: bool = True) -> np.ndarray:
        """Mean support of each department's members (np.bincount, no per-node loop)."""
        sel = self.dept >= 0
        if members_only:
            sel &= ~self.is_lead
        counts = np.bincount(self.dept[sel], minlength=self.D)
        sums = np.bincount(self.dept[sel], weights=self.x[sel], minlength=self.D)
        return np.divide(sums, counts, out=self.x[self.lead_nodes].copy(), where=counts > 0)

    # ---------------------------------------------------------------- trust
    def set_pm_trust(self, dept_idx: int, value: float) -> None:
        mask = self.pm_edge & (self.edge_src_dept == dept_idx)
        self.net.trust[mask] = value
        self.net._dirty = True

    def blame(self, from_dept: int, to_dept: int, cut: float) -> None:
        """Cut trust on every edge between two departments (both directions)."""
        mask = ((self.edge_src_dept == from_dept) & (self.edge_dst_dept == to_dept)) | \
               ((self.edge_src_dept == to_dept) & (self.edge_dst_dept == from_dept))
        self.net.scale_trust(mask & ~self.pm_edge, 1.0 - cut)

    def rally_supporters(self, node: int, boost: float) -> int:
        """Coalition: raise the weight ``node`` puts on neighbours who support the plan."""
        start, end = self.net.base.indptr[node], self.net.base.indptr[node + 1]
        cols = self.net.base.indices[start:end]
        supportive = (self.x[cols] > 0.6) & (cols != PM_NODE)
        idx = np.arange(start, end)[supportive]
        self.net.base.data[idx] *= boost
        self.net._dirty = True
        return int(supportive.sum())

    def inter_department_trust(self) -> np.ndarray:
        """D x D mean trust on edges between departments (diagonal: inside)."""
        sel = ~self.pm_edge & (self.edge_src_dept >= 0)
        code = self.edge_src_dept[sel] * self.D + self.edge_dst_dept[sel]
        sums = np.bincount(code, weights=self.net.trust[sel], minlength=self.D * self.D)
        counts = np.bincount(code, minlength=self.D * self.D)
        out = np.divide(sums, counts, out=np.full(self.D * self.D, np.nan), where=counts > 0)
        return out.reshape(self.D, self.D)

    def mean_cross_trust(self) -> float:
        m = self.inter_department_trust()
        off = ~np.eye(self.D, dtype=bool) & ~np.isnan(m)
        return float(m[off].mean()) if off.any() else float("nan")
