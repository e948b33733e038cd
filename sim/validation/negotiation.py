"""Validation of the negotiation building blocks against negotiation theory.

Every case draws its instances from seeds derived with
``numpy.random.SeedSequence(root).spawn(k)`` and reports one
:class:`~sim.validation.CaseResult` row per checked quantity. Expected values are
computed here, independently of the code under test (closed forms typed out again,
or brute force).

Cases
    * **Concession curves** (Faratin, Sierra & Jennings 1998): :func:`sim.concession.aspiration`
      equals ``u_max - (u_max - u_min) (k + (1 - k) (t/T)^(1/e))`` with e = 0.2
      (Boulware), 1 (linear), 5 (conceder), at fixed and random times.
    * **Plan space** (Pareto 1906; Nash 1950): on random small plan spaces (3-4
      features, random issue weights for 3 parties) :func:`sim.plan.pareto_mask`
      equals an O(n^2) brute-force dominance check (also on utilities rounded to
      create ties), :func:`sim.plan.distance_to_frontier` equals a brute-force
      minimum, and :func:`sim.plan.nash_point` maximises the Nash product found by
      brute force.
    * **Full-information agreements** (MODEL.md section 7): the model is run with
      ``pm.belief_noise = 0`` and every shock off, on the default organisation and on
      random organisations, for every strategy; the first agreed plan is placed in
      the utility space of (every lead's true utility, the PM's own utility as the
      protocol computes it) at the moment of agreement and compared with the Pareto
      frontier and the Nash point. See :func:`full_information_cases` for the
      frontier's definition and why vetoed plans are left out of it.
    * **Rubinstein (1982)**: the two-party, one-issue alternating-offers protocol of
      :mod:`sim.bargaining` played by subgame-perfect strategies gives the first mover
      ``(1 - d2) / (1 - d1 d2)`` at once, no one-shot deviation pays, and the
      finite-horizon game (Ståhl 1972) converges to that share as the deadline grows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sim.bargaining import (
    AlternatingOffers,
    BackwardInduction,
    Deviate,
    RubinsteinSPE,
)
from sim.concession import CONCESSION_EXPONENTS, aspiration
from sim.model import PMSimModel
from sim.params import ISSUES, Feature, Project, Scenario
from sim.plan import PlanSpace, distance_to_frontier, nash_point, pareto_mask, utilities
from sim.strategies import STRATEGIES
from sim.validation import CaseResult

__all__ = [
    "NegotiationPlan",
    "FULL",
    "QUICK",
    "DOCUMENTED_EXPONENTS",
    "FRONTIER_TOL",
    "AgreementProbe",
    "Agreement",
    "AgreementMetrics",
    "StrategyRuns",
    "first_agreement",
    "agreement_metrics",
    "family_runs",
    "random_organisation",
    "aligning_strategies",
    "brute_force_pareto",
    "brute_force_nash",
    "frontier_mask",
    "concession_cases",
    "plan_space_cases",
    "full_information_cases",
    "rubinstein_share",
    "rubinstein_cases",
    "finite_horizon_cases",
    "run_negotiation_cases",
]

EXACT_TOL = 1e-12
FRONTIER_TOL = 1e-9
"""Largest distance in utility space still counted as "on the frontier" (float rounding)."""

ROOT_CONCESSION = 19980001
ROOT_PLAN_SPACE = 19500001
ROOT_MODEL = 20130001
ROOT_RUBINSTEIN = 19820001

DOCUMENTED_EXPONENTS = {"boulware": 0.2, "linear": 1.0, "conceder": 5.0}
"""The exponents e sim/concession.py documents (Faratin et al. 1998, ``(t/T)^(1/e)``)."""

SHOCKS_OFF = {"events.scope_creep": 0.0, "events.incident": 0.0, "events.regulatory": 0.0,
              "events.reprioritisation": 0.0}
FULL_INFORMATION = {"pm.belief_noise": 0.0, **SHOCKS_OFF}


@dataclass(frozen=True)
class NegotiationPlan:
    """How many instances each family draws (``run_negotiation_cases`` picks one)."""

    concession_instances: int = 200
    plan_space_instances: int = 60
    model_plan_spaces: int = 6
    model_seeds: int = 30
    """Runs per strategy and per organisation family (same seeds for every strategy)."""
    rubinstein_random_pairs: int = 200


FULL = NegotiationPlan()
QUICK = NegotiationPlan(concession_instances=40, plan_space_instances=12, model_plan_spaces=2, model_seeds=5,
                        rubinstein_random_pairs=40)


def _seqs(root: int, k: int) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(root).spawn(k)


def _rngs(root: int, k: int) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in _seqs(root, k)]


# --------------------------------------------------------------------- concession

def _faratin(t: float, T: float, e: float, u_max: float, u_min: float, k: float = 0.0) -> float:
    """The documented curve, typed out again: u_max - (u_max - u_min) (k + (1-k) (t/T)^(1/e))."""
    tau = min(max(t / T, 0.0), 1.0)
    return u_max - (u_max - u_min) * (k + (1.0 - k) * math.pow(tau, 1.0 / e))


def concession_cases(instances: int, root: int = ROOT_CONCESSION) -> list[CaseResult]:
    """Boulware / linear / conceder aspirations equal the Faratin et al. (1998) formula."""
    out = []
    # a readable table: u_max = 1, u_min = 0, T = 20
    for style, e in DOCUMENTED_EXPONENTS.items():
        for tau in (0.25, 0.5, 0.75):
            exp = 1.0 - tau ** (1.0 / e)
            got = aspiration(tau * 20, 20, style, 1.0, 0.0)
            out.append(CaseResult(
                f"Concession {style}", f"aspiration at t/T = {tau} (u_max 1, u_min 0)",
                exp, got, EXACT_TOL, abs(got - exp) <= EXACT_TOL,
                f"1 - (t/T)^(1/e), e = {e:g}"))
    # random instances: u_max, u_min, T, k and times drawn per instance
    err = {s: 0.0 for s in DOCUMENTED_EXPONENTS}
    order_ok, ends_ok, points = 0, 0, 0
    for i, rng in enumerate(_rngs(root, instances)):
        u_max = float(rng.uniform(0.3, 1.0))
        u_min = float(rng.uniform(0.0, u_max))
        T = int(rng.integers(2, 61))
        k = float(rng.uniform(0.0, 0.3)) if i % 2 else 0.0
        times = [0.0, T / 4, T / 2, 3 * T / 4, float(T), float(rng.uniform(0, T)),
                 float(rng.integers(0, T + 1)), T * 1.5]
        for style, e in DOCUMENTED_EXPONENTS.items():
            for t in times:
                got = aspiration(t, T, style, u_max, u_min, k)
                err[style] = max(err[style], abs(got - _faratin(t, T, e, u_max, u_min, k)))
                points += 1
        interior = [t for t in times if 0 < t < T]
        a = {s: [aspiration(t, T, s, u_max, u_min, k) for t in interior] for s in DOCUMENTED_EXPONENTS}
        order_ok += all(b > l_ > c for b, l_, c in zip(a["boulware"], a["linear"], a["conceder"]))
        ends_ok += all(
            abs(aspiration(0, T, s, u_max, u_min, k) - (u_max - k * (u_max - u_min))) <= EXACT_TOL
            and abs(aspiration(T, T, s, u_max, u_min, k) - u_min) <= EXACT_TOL
            for s in DOCUMENTED_EXPONENTS)
    desc = (f"{instances} random (u_max, u_min, T, k): u_max in [0.3, 1], u_min in [0, u_max], "
            f"T in 2-60 days, k = 0 or in [0, 0.3]; 8 times each incl. 0, T/4, T/2, 3T/4, T and past T")
    for style, e in DOCUMENTED_EXPONENTS.items():
        out.append(CaseResult(
            f"Concession {style}", "max |aspiration - formula| over random instances",
            0.0, err[style], EXACT_TOL, err[style] <= EXACT_TOL, f"e = {e:g}; {desc}"))
    out.append(CaseResult(
        "Concession curves", "instances with Boulware > linear > conceder at every interior time",
        instances, order_ok, 0, order_ok == instances,
        "e < 1 holds out, e > 1 concedes early (the 1/e convention); u_max > u_min"))
    out.append(CaseResult(
        "Concession curves", "instances with aspiration(0) = u_max - k(u_max - u_min), aspiration(T) = u_min",
        instances, ends_ok, 0, ends_ok == instances, "all three styles"))
    same = {s: CONCESSION_EXPONENTS.get(s) for s in DOCUMENTED_EXPONENTS}
    out.append(CaseResult(
        "Concession curves", "exponents in sim.concession.CONCESSION_EXPONENTS",
        str(DOCUMENTED_EXPONENTS), str(same), 0, same == DOCUMENTED_EXPONENTS,
        "the values the module documents (Baarslag et al. 2013 examples)"))
    return out


# --------------------------------------------------------------------- plan space

def brute_force_pareto(U: np.ndarray) -> np.ndarray:
    """O(n^2) dominance: row i is dominated if some row is >= everywhere and > somewhere."""
    ge = (U[:, None, :] >= U[None, :, :]).all(axis=2)  # ge[j, i]: row j >= row i
    gt = (U[:, None, :] > U[None, :, :]).any(axis=2)
    return ~(ge & gt).any(axis=0)


frontier_mask = pareto_mask
"""The model's exact Pareto mask (sim.plan.pareto_mask), cross-checked against brute force here."""


def brute_force_nash(U: np.ndarray, d: np.ndarray) -> tuple[float, list[int]]:
    """Largest Nash product prod(u_i - d_i) over rows with u >= d, by a plain loop; and the
    rows attaining it (to 1e-12). ``(-inf, [])`` when no row gives everyone at least d."""
    best, rows = -math.inf, []
    prods = []
    for i in range(U.shape[0]):
        gains = [float(u) - float(x) for u, x in zip(U[i], d, strict=True)]
        if min(gains) < 0:
            prods.append(-math.inf)
            continue
        p = math.prod(gains)
        prods.append(p)
        best = max(best, p)
    if best > -math.inf:
        rows = [i for i, p in enumerate(prods) if p >= best - 1e-12]
    return best, rows


def random_plan_space(rng: np.random.Generator) -> tuple[PlanSpace, np.ndarray]:
    """A random 3-4 feature project and its issue scores at a random day and capacity."""
    n = int(rng.integers(3, 5))
    feats = [Feature(name=f"F{i + 1}", value=float(rng.uniform(0.5, 8)),
                     effort=float(rng.uniform(10, 80)), risk=float(rng.uniform(0, 0.8)),
                     novelty=float(rng.uniform(0, 1))) for i in range(n)]
    deadline = int(rng.integers(20, 81))
    project = Project(features=feats, deadline=deadline, horizon=2 * deadline)
    space = PlanSpace(project)
    scores = space.scores(today=int(rng.integers(0, 10)), capacity=float(rng.uniform(1, 8)),
                          productivity=float(rng.uniform(0.5, 1.0)), deadline=deadline)
    return space, scores


def model_plan_space_cases(instances: int, root: int) -> list[CaseResult]:
    """pareto_mask on the model's own utility space (valid plans of the default backlog)."""
    mismatch, plans, fronts = 0, 0, []
    for k, rng in enumerate(_rngs(root, instances)):
        org = random_organisation(rng) if k % 2 else {}
        m = PMSimModel(Scenario().with_overrides({**org, **FULL_INFORMATION}), rng=int(rng.integers(2**31)))
        V = np.column_stack([m.true_utility_matrix(), m.pm_utilities()])[m.valid_plans()]
        slow = brute_force_pareto(V)
        mismatch += int(np.sum(pareto_mask(V) != slow)) + int(np.sum(frontier_mask(V) != slow))
        plans += len(V)
        fronts.append(int(slow.sum()))
    return [CaseResult(
        "Pareto frontier", "plans where pareto_mask or frontier_mask differ, model's plan space",
        0, mismatch, 0, mismatch == 0,
        f"{instances} models on day 0 (default organisation and random ones alternately): valid plans "
        f"x (3 leads + PM), {plans} plans in all, frontier {min(fronts)}-{max(fronts)} plans")]


def plan_space_cases(instances: int, root: int = ROOT_PLAN_SPACE,
                     model_instances: int = 4) -> list[CaseResult]:
    """Pareto frontier, distance to it and Nash point against brute force on random instances."""
    mismatch, mismatch_ties, helper_mismatch, checked, frontier_sizes, sizes = 0, 0, 0, 0, [], []
    dist_err, nash_err, nash_cases, nash_empty_ok, nash_on_frontier, empty_cases = 0.0, 0.0, 0, 0, 0, 0
    for i, rng in enumerate(_rngs(root, instances)):
        space, scores = random_plan_space(rng)
        W = rng.dirichlet(np.ones(len(ISSUES)), size=3)
        U = utilities(scores, W)
        sizes.append(len(space))
        slow = brute_force_pareto(U)
        mismatch += int(np.sum(pareto_mask(U) != slow))
        helper_mismatch += int(np.sum(frontier_mask(U) != slow))
        frontier_sizes.append(int(slow.sum()))
        # ties: utilities on a coarse grid make equal rows and equal columns common
        Ut = np.round(U * 10) / 10
        slow_t = brute_force_pareto(Ut)
        mismatch_ties += int(np.sum(pareto_mask(Ut) != slow_t))
        helper_mismatch += int(np.sum(frontier_mask(Ut) != slow_t))
        checked += len(U)
        # distance to the frontier of a few random plans
        for idx in rng.integers(0, len(U), size=5):
            brute = min(math.dist(U[idx], U[j]) for j in np.flatnonzero(slow))
            dist_err = max(dist_err, abs(distance_to_frontier(U, int(idx)) - brute))
        # Nash: disagreement point at a random quantile of each party's utility;
        # every 4th instance one party's point is out of reach (no bargaining set)
        d = np.array([np.quantile(U[:, k], rng.uniform(0.2, 0.7)) for k in range(3)])
        if i % 4 == 3:
            d[int(rng.integers(3))] = U.max() + 0.01
        best, rows = brute_force_nash(U, d)
        got = nash_point(U, d)
        if not rows:
            empty_cases += 1
            nash_empty_ok += got == -1
            continue
        nash_cases += 1
        got_prod = math.prod(float(u - x) for u, x in zip(U[got], d, strict=True)) if got >= 0 else -math.inf
        nash_err = max(nash_err, abs(got_prod - best) if got >= 0 else math.inf)
        nash_on_frontier += bool(slow[got]) if got >= 0 else 0
    desc = (f"{instances} random plan spaces ({min(sizes)}-{max(sizes)} plans: 3-4 features with random "
            f"value, effort, risk, novelty; random day, capacity, deadline), 3 parties with Dirichlet(1) "
            f"weights on the {len(ISSUES)} issues")
    return [
        CaseResult("Pareto frontier", "plans where pareto_mask differs from brute force",
                   0, mismatch, 0, mismatch == 0,
                   f"{desc}; {checked} plans; frontier {min(frontier_sizes)}-{max(frontier_sizes)} plans"),
        CaseResult("Pareto frontier", "same, utilities rounded to 0.1 (many ties)",
                   0, mismatch_ties, 0, mismatch_ties == 0,
                   "equal rows dominate neither each other: both stay on the frontier"),
        CaseResult("Pareto frontier", "plans where frontier_mask (used on model runs) differs",
                   0, helper_mismatch, 0, helper_mismatch == 0,
                   "the vectorised helper of this module, on the same instances, with and without ties"),
        *model_plan_space_cases(model_instances, root + 1),
        CaseResult("Pareto frontier", "max |distance_to_frontier - brute-force minimum|",
                   0.0, dist_err, EXACT_TOL, dist_err <= EXACT_TOL,
                   "Euclidean distance in utility space, 5 random plans per instance"),
        CaseResult("Nash bargaining point", "max |Nash product of nash_point - brute-force maximum|",
                   0.0, nash_err, EXACT_TOL, nash_err <= EXACT_TOL,
                   f"{nash_cases} instances with a non-empty bargaining set; disagreement point d "
                   f"at a random 20-70% quantile of each party's utilities"),
        CaseResult("Nash bargaining point", "Nash points on the Pareto frontier",
                   nash_cases, nash_on_frontier, 0, nash_on_frontier == nash_cases,
                   "the Nash solution is Pareto-optimal (Nash 1950)"),
        CaseResult("Nash bargaining point", "empty bargaining sets reported as -1",
                   empty_cases, nash_empty_ok, 0, nash_empty_ok == empty_cases and empty_cases > 0,
                   "one party's disagreement utility above every plan"),
    ]


# --------------------------------------------------- full-information agreements

@dataclass(frozen=True)
class Agreement:
    """The first agreed plan of a run and the utility space it was agreed in."""

    day: int
    plan: int
    dictated: bool
    by: str
    V: np.ndarray
    """Plans x parties: every lead's true utility, then the PM's own utility (as the protocol uses)."""
    point: np.ndarray
    """The agreed plan's row (with the autonomy loss when the PM dictated the quality bar)."""
    valid: np.ndarray
    """Plans whose quality bar is engineering's choice (decision rights)."""
    admissible: np.ndarray
    """Valid plans that no veto holder vetoes (the plans that can be agreed at all)."""
    reservations: np.ndarray
    """Disagreement point: each lead's reservation, then the PM's."""
    offer_gap: float
    """max |utilities recorded on the agreed offer - point|: 0 when V is what the protocol saw."""
    dictation_gain: float
    """PM's own utility of the agreed plan minus that of the same scope with engineering's
    quality bar (0 when not dictated): what the PM gained by dictating *how*."""


class AgreementProbe(PMSimModel):
    """The model, unchanged, that photographs the utility space at its first agreement.

    :meth:`PMSimModel.agree` is called inside the negotiation round right after the
    vote, before the same day's execution adds progress (which changes the feasibility
    scores); so the matrices copied here are exactly those the protocol used. Reading
    them only fills the model's caches: no random draw, no state change.
    """

    agreement: Agreement | None = None

    def agree(self, plan: int, dictated: bool) -> bool:
        if self.first_agreement_day is None:
            self.agreement = self._snapshot(plan, dictated)
        return super().agree(plan, dictated)

    def _snapshot(self, plan: int, dictated: bool) -> Agreement:
        V = np.column_stack([self.true_utility_matrix(), self.pm_utilities()])
        valid = self.valid_plans().copy()
        admissible = valid.copy()
        for p in np.flatnonzero(valid):
            if any(lead.veto_reason(int(p)) for lead in self.leads if lead.veto):
                admissible[p] = False
        leads_u = np.array([self.true_utility(l.index, plan, dictated) for l in self.leads])
        point = V[plan].copy() if not dictated else np.append(leads_u, V[plan, -1])
        offer = self.offers[-1]
        recorded = np.array([offer.utilities[l.department] for l in self.leads])
        own_choice = np.flatnonzero(valid & (self.plans.what_id == self.plans.what_id[plan]))
        gain = float(V[plan, -1] - V[own_choice[0], -1]) if dictated and own_choice.size else 0.0
        return Agreement(
            day=self.day, plan=plan, dictated=dictated, by=offer.by, V=V, point=point,
            valid=valid, admissible=admissible,
            reservations=np.append([l.reservation for l in self.leads], self.params.pm.reservation),
            offer_gap=float(np.max(np.abs(recorded - point[:-1]))), dictation_gain=gain)


def first_agreement(scenario: Scenario, seed: int) -> Agreement | None:
    """Run the model until its first agreement; None if it ends without one."""
    m = AgreementProbe(scenario, rng=seed)
    while m.running and m.first_agreement_day is None:
        m.step()
    return m.agreement


def random_organisation(rng: np.random.Generator) -> dict[str, object]:
    """Overrides for a random organisation: Dirichlet(1) issue weights and reservations in
    [0.4, 0.7] for the three leads, and random value, effort, risk and novelty for the six
    default features (veto rights, capacity and everything else stay at their defaults)."""
    ov: dict[str, object] = {}
    for dept in ("engineering", "sales", "legal"):
        for issue, w in zip(ISSUES, rng.dirichlet(np.ones(len(ISSUES))), strict=True):
            ov[f"departments.{dept}.weights.{issue}"] = float(w)
        ov[f"departments.{dept}.reservation"] = float(rng.uniform(0.4, 0.7))
    for i in range(len(Project().features)):
        ov[f"project.features.{i}.value"] = float(rng.uniform(1, 6))
        ov[f"project.features.{i}.effort"] = float(rng.uniform(15, 70))
        ov[f"project.features.{i}.risk"] = float(rng.uniform(0, 0.7))
        ov[f"project.features.{i}.novelty"] = float(rng.uniform(0, 1))
    return ov


@dataclass
class AgreementMetrics:
    """Distances of one agreement in utility space (NaN where undefined)."""

    to_valid_frontier: float
    to_frontier: float
    """To the frontier of the admissible plans."""
    to_nash: float
    """To the Nash point of the admissible plans, disagreement point = reservations."""
    frontier_share: float
    """Share of the admissible plans on their frontier (what a random pick would hit)."""


def agreement_metrics(a: Agreement) -> AgreementMetrics:
    def dist(subset: np.ndarray) -> float:
        S = a.V[subset]
        return float(np.min(np.linalg.norm(S[frontier_mask(S)] - a.point, axis=1)))

    S = a.V[a.admissible]
    k = nash_point(S, a.reservations)
    to_nash = float(np.linalg.norm(S[k] - a.point)) if k >= 0 else math.nan
    return AgreementMetrics(dist(a.valid), dist(a.admissible), to_nash,
                            float(frontier_mask(S).sum()) / len(S))


@dataclass
class StrategyRuns:
    """Agreements of one strategy over one family of instances."""

    runs: int = 0
    days: list = field(default_factory=list)
    dictated: list = field(default_factory=list)
    """Per agreement: whether the PM dictated the quality bar."""
    dictation_gain: list = field(default_factory=list)
    offer_gap: float = 0.0
    metrics: list = field(default_factory=list)

    @property
    def agreed(self) -> int:
        return len(self.metrics)

    def values(self, name: str) -> list[float]:
        return [getattr(m, name) for m in self.metrics]


def family_runs(family: str, seeds: int, root: int) -> dict[str, StrategyRuns]:
    """Run every strategy on the same ``seeds`` instances of one family ("default" or "random")."""
    instances = []
    for ss in _seqs(root, seeds):
        rng = np.random.default_rng(ss)
        org = random_organisation(rng) if family == "random" else {}
        instances.append((org, int(rng.integers(2**31))))
    base = Scenario()
    out = {}
    for name in STRATEGIES:
        st = StrategyRuns()
        for org, seed in instances:
            a = first_agreement(base.with_overrides({**org, **FULL_INFORMATION, "pm.strategy": name}), seed)
            st.runs += 1
            if a is None:
                continue
            st.days.append(a.day)
            st.dictated.append(a.dictated)
            st.dictation_gain.append(a.dictation_gain)
            st.offer_gap = max(st.offer_gap, a.offer_gap)
            st.metrics.append(agreement_metrics(a))
        out[name] = st
    return out


def _mean(xs) -> float:
    xs = [x for x in xs if not math.isnan(x)]
    return float(np.mean(xs)) if xs else math.nan


def _max(xs) -> float:
    return max(xs) if xs else math.nan


def _defined(xs) -> int:
    return sum(not math.isnan(x) for x in xs)


def aligning_strategies() -> list[str]:
    """Strategies whose classifier says ``interest_aligning``."""
    return [n for n, s in STRATEGIES.items() if s.classifier.get("interest_aligning")]


def full_information_cases(seeds: int, root: int = ROOT_MODEL) -> list[CaseResult]:
    """With full information the first agreed plan is Pareto-optimal; ANAC metrics per strategy.

    Set-up: ``pm.belief_noise = 0`` (the PM knows every lead's priorities and
    reservation), every shock rate 0, everything else at its default. Two families of
    ``seeds`` instances each, the same instances for every strategy: the default
    organisation with ``seeds`` model seeds, and random organisations
    (:func:`random_organisation`), each with its own model seed.

    Utility space: one axis per lead (its true utility) plus the PM's own utility as
    :func:`sim.negotiation.pm_proposal` computes it (:meth:`PMSimModel.pm_utilities`),
    at the moment of the first agreement (:class:`AgreementProbe`).

    Frontiers: over the *valid* plans (engineering's own quality bar for their scope:
    :meth:`PMSimModel.valid_plans`), and over the *admissible* plans (valid and not
    vetoed by any veto holder: rule 3 of the protocol makes a vetoed plan impossible
    to agree, whatever its utilities, so it is not a possible agreement). When a
    veto holder's weights barely count the issue its veto protects (random
    organisations: engineering with little weight on feasibility), an infeasible plan
    can dominate the agreement; the valid-plan distance is then positive while the
    admissible-plan distance is 0. The contract checked is the admissible one, for
    the interest-aligning strategies; the valid-plan distance is checked on the
    default organisation and reported for the random ones.

    Nash point (ANAC's "distance to Nash"): over the admissible plans, disagreement
    point = the reservations (each lead's ``reservation``, the PM's ``pm.reservation``);
    undefined in a run where no admissible plan clears every reservation.
    """
    out = []
    aligning = aligning_strategies()
    for family, froot in (("default", root), ("random", root + 1)):
        label = "default organisation" if family == "default" else "random organisations"
        stats = family_runs(family, seeds, froot)
        al = [m for n in aligning for m in stats[n].metrics]
        dictated = [d for n in aligning for d in stats[n].dictated]
        gains = [g for n in aligning for g, d in zip(stats[n].dictation_gain, stats[n].dictated,
                                                     strict=True) if d]
        adm = [m.to_frontier for m in al]
        val = [m.to_valid_frontier for m in al]
        runs = sum(stats[n].runs for n in aligning)
        on = sum(d <= FRONTIER_TOL for d in adm)
        case = f"Full-information agreement, {label}"
        setup = (f"{seeds} {'model seeds' if family == 'default' else 'random organisations'} x "
                 f"{len(aligning)} interest-aligning strategies ({', '.join(aligning)}); "
                 f"belief_noise 0, shocks off; {len(al)}/{runs} runs agreed")
        out.append(CaseResult(
            case, "first agreements on the Pareto frontier of admissible plans",
            len(al), on, 0, on == len(al) and len(al) > 0, setup))
        out.append(CaseResult(
            case, "max distance to the frontier of admissible plans",
            0.0, _max(adm), FRONTIER_TOL, bool(adm) and _max(adm) <= FRONTIER_TOL,
            "Euclidean, in utility space (3 leads + PM); admissible = valid and not vetoed"))
        kept = [d for d, dic in zip(adm, dictated, strict=True) if not dic]
        on_kept = sum(d <= FRONTIER_TOL for d in kept)
        out.append(CaseResult(
            case, "agreements within decision rights (quality bar not dictated) on the frontier",
            len(kept), on_kept, 0, on_kept == len(kept),
            "the protocol's own guarantee: the PM's proposal maximises a score rising in every "
            "lead's utility, ties to the PM; a counter maximises the objector's utility"))
        idle = sum(g <= EXACT_TOL for g in gains)
        off_dic = sum(d > FRONTIER_TOL for d, dic in zip(adm, dictated, strict=True) if dic)
        out.append(CaseResult(
            case, "dictated agreements where dictating gained the PM nothing",
            0, idle, 0, idle == 0,
            f"{sum(dictated)} agreements with a PM-set quality bar, {off_dic} of them off the "
            f"frontier; a PM indifferent between quality bars should leave engineering's choice "
            f"(a dictation it gains nothing from is dominated by its own proposal)"))
        behind_veto = sum(v > FRONTIER_TOL >= d for v, d in zip(val, adm, strict=True))
        if family == "default":
            out.append(CaseResult(
                case, "max distance to the frontier of valid plans",
                0.0, _max(val), FRONTIER_TOL, bool(val) and _max(val) <= FRONTIER_TOL,
                "valid = engineering's quality bar (decision rights), vetoed plans included"))
        else:
            out.append(CaseResult(
                case, "max distance to the frontier of valid plans (reported)",
                "reported", _max(val), "-", True,
                f"{behind_veto} of {len(al)} agreements dominated only by vetoed plans (plans "
                f"engineering or legal must veto although their weights would like them)"))
        chance = _mean([m.frontier_share for m in al])
        out.append(CaseResult(
            case, "share of admissible plans on the frontier (chance level)",
            "< 0.25", chance, 0.25, chance < 0.25,
            "negative control: a plan picked at random would be off the frontier most of the time"))
        gap = max(stats[n].offer_gap for n in STRATEGIES)
        out.append(CaseResult(
            case, "max |utilities on the agreed offer - snapshot|",
            0.0, gap, FRONTIER_TOL, gap <= FRONTIER_TOL,
            "all strategies: the utility space measured is the one the protocol voted in"))
        for name, st in stats.items():
            d_f, d_n = st.values("to_frontier"), st.values("to_nash")
            kind = "interest-aligning" if name in aligning else "not interest-aligning"
            out.append(CaseResult(
                f"Strategy {name}, {label}", "mean distance to Pareto frontier",
                "reported", _mean(d_f), "-", True,
                f"{kind}; {st.agreed}/{st.runs} agreed, mean day {_mean(st.days):.1f}; "
                f"max {_max(d_f):.3g}, {sum(d > FRONTIER_TOL for d in d_f)} off the frontier, "
                f"{sum(st.dictated)} dictated; valid-plan frontier: mean "
                f"{_mean(st.values('to_valid_frontier')):.3g}"))
            sd = float(np.nanstd(d_n)) if _defined(d_n) else math.nan
            out.append(CaseResult(
                f"Strategy {name}, {label}", "mean distance to Nash point (d = reservations)",
                "reported", _mean(d_n), "-", True,
                f"defined in {_defined(d_n)}/{st.agreed} runs; sd {sd:.3g}"))
    return out


# ---------------------------------------------------------------------- Rubinstein

def rubinstein_share(d1: float, d2: float) -> float:
    """Rubinstein (1982): the first mover's share in the unique SPE, typed out independently."""
    return (1.0 - d2) / (1.0 - d1 * d2)


GRID = (0.1, 0.3, 0.5, 0.7, 0.9, 0.99)


def rubinstein_cases(random_pairs: int, root: int = ROOT_RUBINSTEIN,
                     share_formula: Callable[[float, float], float] = rubinstein_share) -> list[CaseResult]:
    """SPE play of the alternating-offers protocol gives the first mover (1 - d2)/(1 - d1 d2).

    ``share_formula`` is the expected first-mover share; pass a wrong one to see the
    check fail.
    """
    pairs = [(a, b) for a in GRID for b in GRID]
    pairs += [tuple(float(x) for x in rng.uniform(0.01, 0.999, 2)) for rng in _rngs(root, random_pairs)]
    err, immediate, dev_gain, dev_tried = 0.0, 0, -math.inf, 0
    spe = (RubinsteinSPE(), RubinsteinSPE())
    for d1, d2 in pairs:
        game = AlternatingOffers((d1, d2))
        res = game.play(spe)
        expected = share_formula(d1, d2)
        err = max(err, abs(res.shares[0] - expected), abs(res.shares[1] - (1.0 - expected)))
        immediate += res.agreed and res.round == 0
        # one-shot deviations: other first demands, and the responder rejecting at once
        star = res.payoffs
        for demand in (0.0, 0.5 * star[0], star[0] - 0.01, min(1.0, star[0] + 0.01),
                       min(1.0, star[0] + 0.1), 1.0):
            dev = game.play((Deviate(RubinsteinSPE(), at=0, demand=demand), RubinsteinSPE()))
            dev_gain = max(dev_gain, dev.payoffs[0] - star[0])
            dev_tried += 1
        dev = game.play((RubinsteinSPE(), Deviate(RubinsteinSPE(), at=0, accept=False)))
        dev_gain = max(dev_gain, dev.payoffs[1] - star[1])
        dev_tried += 1
    desc = (f"{len(GRID)}x{len(GRID)} grid d1, d2 in {GRID} + {random_pairs} random pairs in "
            f"[0.01, 0.999]; both players RubinsteinSPE")
    out = [CaseResult("Rubinstein", "max |first mover's share - (1 - d2)/(1 - d1 d2)|",
                      0.0, err, EXACT_TOL, err <= EXACT_TOL, desc),
           CaseResult("Rubinstein", "games agreed in round 0", len(pairs), immediate, 0,
                      immediate == len(pairs), "the SPE has no delay")]
    for d1, d2 in ((0.9, 0.9), (0.9, 0.5), (0.5, 0.9), (0.99, 0.95)):
        got = AlternatingOffers((d1, d2)).play(spe).shares[0]
        exp = share_formula(d1, d2)
        out.append(CaseResult(f"Rubinstein d1={d1} d2={d2}", "first mover's share",
                              exp, got, EXACT_TOL, abs(got - exp) <= EXACT_TOL,
                              "the more patient player gets more; d1 = d2 = d gives 1/(1 + d)"))
    out.append(CaseResult("Rubinstein", "max payoff gain of a one-shot deviation",
                          "<= 0", dev_gain, EXACT_TOL, dev_gain <= EXACT_TOL,
                          f"{dev_tried} deviations: first demand 0, half, -0.01, +0.01, +0.1, 1; "
                          f"responder rejecting the first offer (indifferent)"))
    return out


def _stahl(d1: float, d2: float, T: int) -> float:
    """Closed form of the finite game's first-mover share (Ståhl 1972), typed out independently:
    s_T = (1 - d2)(1 - q^k)/(1 - q) + q^k for odd T = 2k + 1, and (1 - d2)(1 - q^k)/(1 - q)
    for even T = 2k, with q = d1 d2."""
    q = d1 * d2
    k = (T - 1) // 2 if T % 2 else T // 2
    geometric = (1.0 - d2) * (1.0 - q**k) / (1.0 - q)
    return geometric + q**k if T % 2 else geometric


def finite_horizon_cases(root: int = ROOT_RUBINSTEIN + 1) -> list[CaseResult]:
    """Backward-induction play of the T-round game matches Ståhl's closed form and tends to
    Rubinstein's share as T grows."""
    horizons = (1, 2, 3, 4, 5, 10, 20, 50, 100, 200, 400)
    pairs = [(0.9, 0.9), (0.9, 0.6), (0.6, 0.9), (0.95, 0.8)]
    pairs += [tuple(float(x) for x in rng.uniform(0.3, 0.95, 2)) for rng in _rngs(root, 6)]
    err, monotone, immediate, games = 0.0, 0, 0, 0
    gaps = {}
    for d1, d2 in pairs:
        star = rubinstein_share(d1, d2)
        gap = []
        for T in horizons:
            res = AlternatingOffers((d1, d2), deadline=T).play((BackwardInduction(), BackwardInduction()))
            err = max(err, abs(res.shares[0] - _stahl(d1, d2, T)))
            immediate += res.agreed and res.round == 0
            games += 1
            gap.append(abs(res.shares[0] - star))
        gaps[(d1, d2)] = gap
        # |s_T - s*| shrinks by d1 d2 every two rounds: non-increasing within each parity
        odd, even = gap[0::2], gap[1::2]
        monotone += all(b <= a + 1e-15 for a, b in zip(odd, odd[1:])) and \
            all(b <= a + 1e-15 for a, b in zip(even, even[1:]))
    last = max(g[-1] for g in gaps.values())
    out = [
        CaseResult("Rubinstein finite horizon", "max |backward-induction share - Ståhl closed form|",
                   0.0, err, EXACT_TOL, err <= EXACT_TOL,
                   f"{len(pairs)} (d1, d2) pairs (4 fixed, 6 random in [0.3, 0.95]) x T in {horizons}"),
        CaseResult("Rubinstein finite horizon", "games agreed in round 0", games, immediate, 0,
                   immediate == games, "backward induction: no delay"),
        CaseResult("Rubinstein finite horizon", "pairs with |s_T - s*| non-increasing in T (per parity)",
                   len(pairs), monotone, 0, monotone == len(pairs),
                   "the gap shrinks by a factor d1 d2 every two rounds"),
    ]
    for d1, d2 in ((0.9, 0.9), (0.95, 0.8)):
        g = gaps[(d1, d2)]
        for T in (10, 50, 400):
            out.append(CaseResult(
                f"Rubinstein finite horizon d1={d1} d2={d2}", f"|s_T - (1-d2)/(1-d1 d2)| at T = {T}",
                "-> 0", g[horizons.index(T)], 1e-8 if T == 400 else "-",
                g[horizons.index(T)] <= 1e-8 if T == 400 else True,
                f"s* = {rubinstein_share(d1, d2):.6f}; checked (1e-8) at T = 400, reported at smaller T"))
    out.append(CaseResult("Rubinstein finite horizon", "max |s_T - s*| at T = 400 over all pairs",
                          0.0, last, 1e-8, last <= 1e-8, "convergence to Rubinstein's share"))
    return out


def run_negotiation_cases(quick: bool = False) -> list[CaseResult]:
    """All negotiation validation cases; ``quick`` uses fewer seeds (test suite)."""
    plan = QUICK if quick else FULL
    return [
        *concession_cases(plan.concession_instances),
        *plan_space_cases(plan.plan_space_instances, model_instances=plan.model_plan_spaces),
        *rubinstein_cases(plan.rubinstein_random_pairs),
        *finite_horizon_cases(),
        *full_information_cases(plan.model_seeds),
    ]
