"""One Explore run, with what the dashboard draws kept along the way (no Streamlit here).

:func:`explore_run` steps a :class:`sim.PMSimModel` day by day exactly as
:func:`sim.run` does (the same seed gives the same summary) and records, per day,
the support of a small drawable part of the organisation and the trust on its edges,
and, per negotiation, the Pareto frontier of the plans on the day its first offer
was made. The model keeps neither (it only logs aggregates), so this module takes
the snapshots from the live model object; a large organisation is drawn as its
leads plus a fixed-size sample of members, never laid out in full.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

from sim.api import result_of
from sim.model import PMSimModel
from sim.org import PM_NODE
from sim.params import Scenario
from sim.plan import pareto_mask
from sim.results import RunResult

MAX_DRAWN_NODES = 120
"""At most this many members are drawn (plus the PM and the leads)."""
CLOUD_POINTS = 500
"""Plans drawn as the grey background of the utility-space chart."""


@dataclass
class Episode:
    """One negotiation (the first, or one after a plan was reopened)."""

    start_day: int
    reason: str
    frontier_day: int | None = None
    frontier: np.ndarray | None = None  # Pareto-optimal valid plans: utilities (rows) per lead (columns)
    cloud: np.ndarray | None = None     # a sample of all valid plans, same columns


@dataclass
class NetworkSnapshots:
    """The drawn part of the organisation and its state on every day of the run."""

    nodes: pd.DataFrame              # node, label, department, role, x, y
    edges: pd.DataFrame              # source, target (row positions in ``nodes``), kind
    support: np.ndarray              # days x nodes
    trust: np.ndarray                # days x edges (mean of both directions)
    stance: list[dict[str, str]]     # per day: lead department -> stance
    total_nodes: int = 0
    total_edges: int = 0


@dataclass
class ExploreRun:
    """Everything the Explore page shows for one (scenario, seed)."""

    result: RunResult
    departments: list[str]
    reservations: dict[str, float]
    deadline: int
    horizon: int
    network: NetworkSnapshots
    episodes: list[Episode] = field(default_factory=list)

    @property
    def days(self) -> int:
        return int(self.result.summary["days"])


# ----------------------------------------------------------------------------- network
def _drawn_nodes(model: PMSimModel, max_members: int) -> np.ndarray:
    """PM, every lead, and up to ``max_members`` members spread evenly over departments
    (a fixed sample: numpy seed 0, never the model's generator)."""
    org = model.org
    picks = [np.array([PM_NODE]), org.lead_nodes]
    per_dept = max(1, max_members // max(org.D, 1))
    sampler = np.random.default_rng(0)
    for d in range(org.D):
        members = np.flatnonzero((org.dept == d) & ~org.is_lead)
        if len(members) > per_dept:
            members = np.sort(sampler.choice(members, per_dept, replace=False))
        picks.append(members)
    return np.concatenate(picks).astype(np.int64)


def _edge_slots(model: PMSimModel, pairs: np.ndarray) -> np.ndarray:
    """For directed pairs (u listens to v), their position in the trust array (-1: none)."""
    net = model.org.net
    out = np.full(len(pairs), -1, dtype=np.int64)
    indptr, indices = net.base.indptr, net.base.indices
    for k, (u, v) in enumerate(pairs):
        lo, hi = indptr[u], indptr[u + 1]
        pos = lo + np.searchsorted(indices[lo:hi], v)
        if pos < hi and indices[pos] == v:
            out[k] = pos
    return out


def _layout(model: PMSimModel, nodes: np.ndarray, sub: nx.Graph) -> dict[int, tuple[float, float]]:
    """PM in the centre, leads on a circle, each lead's members clustered around it."""
    org = model.org
    D = max(org.D, 1)
    pos = {PM_NODE: (0.0, 0.0)}
    radius = min(0.42, 0.85 * np.sin(np.pi / D)) if D > 1 else 0.6
    for d in range(org.D):
        angle = np.pi / 2 - 2 * np.pi * d / D
        cx, cy = np.cos(angle), np.sin(angle)
        lead = int(org.lead_nodes[d])
        pos[lead] = (cx, cy)
        members = [int(n) for n in nodes if org.dept[n] == d and not org.is_lead[n]]
        if not members:
            continue
        g = sub.subgraph(members + [lead]).copy()
        local = nx.spring_layout(g, pos={lead: (0.0, 0.0), **{m: (np.cos(i), np.sin(i)) for i, m in enumerate(members)}},
                                 fixed=[lead], seed=0, iterations=40)
        arr = np.array([local[m] for m in members])
        scale = np.abs(arr).max() or 1.0
        for m, (x, y) in zip(members, arr / scale * radius):
            pos[m] = (cx + x, cy + y)
    return pos


class _Recorder:
    def __init__(self, model: PMSimModel, max_members: int):
        org = model.org
        self.model = model
        self.nodes = _drawn_nodes(model, max_members)
        sub = org.subgraph(self.nodes.tolist())  # never builds the whole graph of a large org
        und = [(int(u), int(v)) for u, v in sub.edges()]
        und += [(PM_NODE, int(lead)) for lead in org.lead_nodes]
        self.pairs = np.array(und, dtype=np.int64).reshape(-1, 2)
        self.fwd = _edge_slots(model, self.pairs)
        self.bwd = _edge_slots(model, self.pairs[:, ::-1])
        pos = _layout(model, self.nodes, sub)
        names = [d.name for d in model.params.departments]
        row_of = {int(n): i for i, n in enumerate(self.nodes)}
        rows = []
        for n in self.nodes:
            n = int(n)
            if n == PM_NODE:
                rows.append(("PM", "PM", "PM"))
            elif org.is_lead[n]:
                dep = names[int(org.dept[n])]
                rows.append((f"{dep} lead", dep, "lead"))
            else:
                dep = names[int(org.dept[n])]
                rows.append((f"{dep} member #{n}", dep, "member"))
        self.node_frame = pd.DataFrame({
            "node": self.nodes, "label": [r[0] for r in rows], "department": [r[1] for r in rows],
            "role": [r[2] for r in rows], "x": [pos[int(n)][0] for n in self.nodes],
            "y": [pos[int(n)][1] for n in self.nodes]})
        kind = np.where(self.pairs[:, 0] == PM_NODE, "PM",
                        np.where(org.dept[self.pairs[:, 0]] == org.dept[self.pairs[:, 1]], "inside", "across"))
        self.edge_frame = pd.DataFrame({"source": [row_of[int(u)] for u in self.pairs[:, 0]],
                                        "target": [row_of[int(v)] for v in self.pairs[:, 1]],
                                        "kind": kind})
        self.support: list[np.ndarray] = []
        self.trust: list[np.ndarray] = []
        self.stance: list[dict[str, str]] = []
        self.episodes: list[Episode] = []
        self._episode_of: dict[int, Episode] = {}
        self.take()

    def take(self) -> None:
        m = self.model
        self.support.append(m.org.x[self.nodes].astype(np.float32))
        t = m.org.net.trust
        fwd = np.where(self.fwd >= 0, t[np.maximum(self.fwd, 0)], np.nan)
        bwd = np.where(self.bwd >= 0, t[np.maximum(self.bwd, 0)], np.nan)
        self.trust.append(np.nanmean(np.vstack([fwd, bwd]), axis=0).astype(np.float32))
        self.stance.append({lead.department: lead.stance for lead in m.leads})
        self._watch_negotiation()

    def _watch_negotiation(self) -> None:
        m = self.model
        neg = m.negotiation
        ep = self._episode_of.get(id(neg))
        if ep is None:
            ep = Episode(start_day=neg.start_day, reason=neg.reason)
            self._episode_of[id(neg)] = ep
            self.episodes.append(ep)
        if ep.frontier is None and neg.offers:
            ep.frontier_day = m.day
            ep.frontier, ep.cloud = frontier_and_cloud(m)

    def snapshots(self) -> NetworkSnapshots:
        return NetworkSnapshots(nodes=self.node_frame, edges=self.edge_frame,
                                support=np.vstack(self.support), trust=np.vstack(self.trust),
                                stance=self.stance, total_nodes=int(self.model.org.n),
                                total_edges=int(self.model.org.number_of_edges()))


def _drop_dominated(U: np.ndarray) -> np.ndarray:
    """Indices of rows of U not dominated by the best-sum rows: a vectorised pre-filter (one
    pass per frontier plan) so that :func:`sim.plan.pareto_mask`, which compares every plan
    with every frontier plan in Python, only sees the few candidates."""
    alive = np.arange(len(U))
    keep: list[int] = []
    while len(alive):
        best = alive[np.argmax(U[alive].sum(axis=1))]
        keep.append(int(best))
        u = U[best]
        dominated = np.all(U[alive] <= u, axis=1)
        alive = alive[~dominated]
    return np.array(sorted(keep), dtype=np.int64)


def frontier_and_cloud(model: PMSimModel) -> tuple[np.ndarray, np.ndarray]:
    """The Pareto frontier of the valid plans today (utilities per lead, exact) and a
    sample of all valid plans for context."""
    U = model.true_utility_matrix()[model.valid_plans()]
    U = np.unique(U, axis=0)
    cand = U[_drop_dominated(U)]
    frontier = cand[pareto_mask(cand)]
    sampler = np.random.default_rng(0)
    cloud = U if len(U) <= CLOUD_POINTS else U[sampler.choice(len(U), CLOUD_POINTS, replace=False)]
    return frontier, cloud


# ----------------------------------------------------------------------------- running
def explore_run(scenario: Scenario, seed: int = 0, max_members: int = MAX_DRAWN_NODES) -> ExploreRun:
    """Run ``scenario`` with ``seed`` as :func:`sim.run` would, keeping the snapshots."""
    model = PMSimModel(scenario, rng=seed)
    rec = _Recorder(model, max_members)
    limit = scenario.project.horizon
    while model.running and model.day < limit:
        model.step()
        rec.take()
    return ExploreRun(result=result_of(model, seed), departments=[lead.department for lead in model.leads],
                      reservations={lead.department: float(lead.reservation) for lead in model.leads},
                      deadline=scenario.project.deadline, horizon=scenario.project.horizon,
                      network=rec.snapshots(), episodes=rec.episodes)


def headline(summary: dict) -> dict[str, tuple[str, str | None, str]]:
    """The outcome cards: label -> (value, delta or None, help)."""
    delivered = bool(summary["delivered"])
    outcome = str(summary["outcome"])
    if delivered:
        first = "Yes"
        first_delta = f"day {int(summary['delivery_day'])}, " + ("on time" if summary["on_time"] else "late")
    else:
        first = "No"
        first_delta = outcome
    slip = summary["slip_days"]
    slip_text = "n/a" if slip != slip else f"{int(slip):+d} days"
    value = f"{summary['delivered_value']:.1f}"
    t0, t1 = summary["trust_in_pm_start"], summary["trust_in_pm_end"]
    return {
        "Delivered?": (first, first_delta,
                       "Whether the plan shipped before the horizon; otherwise how the run ended."),
        "Slip vs deadline": (slip_text, None,
                             "Delivery day minus the deadline (negative = early). n/a when nothing shipped."),
        "Value delivered": (value, f"of {summary['max_value']:.1f}; {summary['delivered_features']} features",
                            "Customer value of the shipped scope (discounted by quality and residual legal risk) "
                            "out of the whole backlog's value."),
        "Trust in the PM": (f"{t1:.2f}", f"{t1 - t0:+.2f} from {t0:.2f}",
                            "Mean trust of the department leads in the PM at the end, and its change."),
        "Renegotiations": (str(int(summary["renegotiations"])), None,
                           "How often an agreed plan was reopened (a lead withdrew, a shock, a predicted slip)."),
    }
