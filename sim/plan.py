"""The plan space: every combination of scope, release day, quality bar and review depth.

A plan is a row index into :class:`PlanSpace`. Its *issue scores* (one column per
issue of :data:`sim.params.ISSUES`, each in [0, 1]) are pure functions of the plan,
the backlog and engineering capacity; a stakeholder's utility is the dot product of
its weights with those scores. Everything here is vectorised over all plans, so the
Pareto frontier and the Nash point are exact enumerations.

Decision rights: scope, release and review depth are *what* (the PM proposes them);
the quality bar is *how* (engineering chooses it). :meth:`PlanSpace.best_response_quality`
gives engineering's choice; a PM that sets the quality bar itself "dictates how" and the
plan's autonomy score drops to 0.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from sim.params import ISSUES, Project

ISSUE_INDEX = {name: i for i, name in enumerate(ISSUES)}


@dataclass(frozen=True)
class Plan:
    """A readable view of one plan."""

    features: tuple[str, ...]
    release: int
    quality: float
    review: int
    dictated: bool

    def describe(self) -> str:
        how = "PM-set" if self.dictated else "engineering's"
        names = ", ".join(f.split(" ")[0] for f in self.features) or "nothing"
        return (f"ship [{names}] on day {self.release}, {how} quality bar {self.quality:.0%}, "
                f"review depth {self.review}")


class PlanSpace:
    """All plans for a project, with vectorised issue scores."""

    def __init__(self, project: Project):
        self.project = project
        feats = project.features
        self.names = [f.name for f in feats]
        self.value = np.array([f.value for f in feats], float)
        self.effort = np.array([f.effort for f in feats], float)
        self.risk = np.array([f.risk for f in feats], float)
        self.novelty = np.array([f.novelty for f in feats], float)
        self.releases = np.array(project.releases(), float)
        self.qualities = np.array(project.quality_levels, float)
        self.review_days = np.array(project.review_days, float)
        self.review_coverage = np.array(project.review_coverage, float)
        masks = np.array(list(itertools.product([0, 1], repeat=len(feats))), float)
        masks = masks[masks.sum(axis=1) > 0]  # an empty plan is not a plan
        grid = np.array(list(itertools.product(range(len(masks)), range(len(self.releases)),
                                               range(len(self.qualities)),
                                               range(len(self.review_days)))))
        self.mask = masks[grid[:, 0]]
        self.mask_id = grid[:, 0]
        self.release_idx = grid[:, 1]
        self.quality_idx = grid[:, 2]
        self.review_idx = grid[:, 3]
        self.base_release = self.releases[self.release_idx]
        self.shift = 0  # days the release grid has slid because its earliest day has passed
        self.quality = self.qualities[self.quality_idx]
        self.review = self.review_days[self.review_idx]
        self.n = len(grid)
        # "what" = everything but quality; plans sharing it differ only in the how.
        self.what_id = (self.mask_id * len(self.releases) + self.release_idx) * len(self.review_days) + self.review_idx

    def __len__(self) -> int:
        return self.n

    @property
    def release(self) -> np.ndarray:
        """Release day of every plan: the scenario's grid, slid forward once time overtakes it."""
        return self.base_release + self.shift

    def slide_releases(self, today: int, lead_days: int = 5) -> bool:
        """Keep the earliest release option at least ``lead_days`` ahead of ``today``
        (a plan cannot promise a date that has passed). Returns whether the grid moved."""
        shift = max(0, int(today + lead_days - self.releases.min()))
        moved = shift != self.shift
        self.shift = shift
        return moved

    # ----------------------------------------------------------------- scores
    def plan_effort(self, effort=None, done=None, rows=None) -> np.ndarray:
        """Remaining effort of every plan (or of ``rows``): scope effort times
        (1 + quality bar), minus work done."""
        r = slice(None) if rows is None else rows
        effort = self.effort if effort is None else effort
        done = np.zeros_like(effort) if done is None else done
        return (self.mask[r] * np.maximum(effort - done, 0.0)).sum(axis=1) * (1.0 + self.quality[r])

    def scores(self, *, today: int, capacity: float, productivity: float, deadline: int,
               effort=None, risk=None, done=None, rows=None, review_pace: float = 1.0) -> np.ndarray:
        """Issue scores (plans x issues) for plans starting ``today``.

        ``effort``/``risk`` may be a believer's own estimates (a business PM
        under-rates effort); ``done`` is the effort already spent per feature;
        ``rows`` restricts the computation to some plans (default: all);
        ``review_pace`` is the expected calendar days per day of legal review (1 /
        the reviewer's daily answer chance), so slow reviewers leave less time to build.
        """
        r = slice(None) if rows is None else np.atleast_1d(rows)
        mask, release, quality = self.mask[r], self.release[r], self.quality[r]
        review, review_idx = self.review[r], self.review_idx[r]
        n = len(mask)
        risk = self.risk if risk is None else risk
        out = np.empty((n, len(ISSUES)))
        out[:, ISSUE_INDEX["value"]] = mask @ self.value / max(self.value.sum(), 1e-12)
        early = (deadline - release) / deadline
        out[:, ISSUE_INDEX["schedule"]] = np.clip(np.where(early >= 0, 0.9 + 0.5 * early, 0.9 + 1.8 * early), 0.0, 1.0)
        build_days = np.maximum(release - review * review_pace - today, 0.0)
        supply = capacity * productivity * build_days
        need = self.plan_effort(effort, done, r)
        with np.errstate(over="ignore"):  # a vanishing supply means an infinite load: feasibility 0
            load = np.divide(need, supply, out=np.full(n, np.inf), where=supply > 0)
            load[need <= 1e-9] = 0.0  # nothing left to build is always feasible
            out[:, ISSUE_INDEX["feasibility"]] = np.clip((1.15 - load) / 0.3, 0.0, 1.0)
        qspan = self.qualities.max() - self.qualities.min()
        out[:, ISSUE_INDEX["quality"]] = ((quality - self.qualities.min()) / qspan) if qspan > 0 else 1.0
        residual = mask @ risk
        covered = residual * (1.0 - self.review_coverage[review_idx])
        out[:, ISSUE_INDEX["safety"]] = 1.0 - covered / max(risk.sum(), 1e-12)
        out[:, ISSUE_INDEX["novelty"]] = mask @ self.novelty / max(self.novelty.sum(), 1e-12)
        out[:, ISSUE_INDEX["autonomy"]] = 1.0
        return out

    def best_response_quality(self, eng_utility: np.ndarray) -> np.ndarray:
        """For every plan, the index of the plan with the same *what* and engineering's
        preferred quality bar (engineering decides *how*)."""
        order = np.lexsort((-eng_utility, self.what_id))
        first = np.ones(self.n, bool)
        first[1:] = self.what_id[order][1:] != self.what_id[order][:-1]
        best_of_what = np.empty(self.what_id.max() + 1, int)
        best_of_what[self.what_id[order][first]] = order[first]
        return best_of_what[self.what_id]

    def plan(self, idx: int, dictated: bool = False, release: int | None = None) -> Plan:
        """A readable view of plan ``idx`` (``release`` overrides the day, e.g. the one agreed)."""
        feats = tuple(n for n, m in zip(self.names, self.mask[idx]) if m)
        day = int(self.release[idx]) if release is None else int(release)
        return Plan(feats, day, float(self.quality[idx]),
                    int(self.review_idx[idx]), dictated)


def utilities(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Utility of every plan for every party: scores (P x I) @ weights.T (I x K) -> P x K."""
    return scores @ np.atleast_2d(weights).T


def pareto_mask(U: np.ndarray) -> np.ndarray:
    """Boolean mask of the Pareto-optimal rows of U (plans x parties), exact.

    A row is dominated when another row is >= in every column and > in one.
    Repeatedly take the lexicographically largest remaining row (nothing remaining can
    dominate it, and nothing removed can either: whatever dominated a removed row would
    dominate it too), keep it, and drop every remaining row it dominates in one
    vectorised comparison: O(n * frontier size) array work.
    """
    U = np.asarray(U, dtype=float)
    keep = np.zeros(len(U), bool)
    remaining = np.lexsort(U.T[::-1])[::-1]
    while remaining.size:
        i = remaining[0]
        keep[i] = True
        R = U[remaining[1:]]
        u = U[i]
        dominated = np.all(R <= u, axis=1) & np.any(R < u, axis=1)
        remaining = remaining[1:][~dominated]
    return keep


def distance_to_frontier(U: np.ndarray, idx: int, frontier: np.ndarray | None = None) -> float:
    """Euclidean distance in utility space from plan ``idx`` to the nearest Pareto plan."""
    frontier = pareto_mask(U) if frontier is None else frontier
    return float(np.min(np.linalg.norm(U[frontier] - U[idx], axis=1)))


def nash_point(U: np.ndarray, disagreement: np.ndarray) -> int:
    """Index of the plan maximising the Nash product prod(u_i - d_i) over plans that give
    every party at least its disagreement utility (Nash 1950). -1 when none does."""
    gains = U - disagreement
    ok = np.all(gains >= 0, axis=1)
    if not ok.any():
        return -1
    prod = np.where(ok, np.prod(np.clip(gains, 0, None), axis=1), -np.inf)
    return int(np.argmax(prod))
