"""The PM-without-authority model: one Mesa model, one step per working day.

Daily order (MODEL.md section 3): the PM's attention is renewed -> shocks -> PM acts
(ownership duties, then tactics within its attention) -> negotiation round (while there is no agreed plan) -> social
influence (Friedkin-Johnsen on the organisation network) -> execution -> end check ->
data collection. The model does no I/O; :func:`sim.run` wraps it.
"""

from __future__ import annotations

from collections import Counter
from functools import partial

import mesa
import numpy as np

from sim import execution as ex
from sim.agents import MemberAgent, PMAgent, StakeholderAgent
from sim.events import shock_day
from sim.limits import check_scenario
from sim.negotiation import NegotiationState, agreement_rule, negotiation_round
from sim.org import Organisation
from sim.params import Scenario
from sim.plan import ISSUE_INDEX, PlanSpace
from sim.tactics import build_tactics

MEMBER_AGENT_LIMIT = 500
"""Orgs with more members than this keep members in arrays only (no member agents)."""


def _support(model, dept: str) -> float:
    lead = model.lead_by_name(dept)
    return lead.support if lead is not None else float("nan")


def _trust(model, dept: str) -> float:
    lead = model.lead_by_name(dept)
    return lead.trust if lead is not None else float("nan")


def _mean_trust(model) -> float:
    return float(np.mean([l.trust for l in model.leads]))


def _cross_trust(model) -> float:
    return model.org.mean_cross_trust()


def _remaining(model) -> float:
    return ex.remaining_effort(model, model.build) if model.build is not None else float("nan")


def _release(model) -> float:
    return float(model.build.release) if model.build is not None else float("nan")


class PMSimModel(mesa.Model):
    """A PM negotiating a plan with department leads, then living through its execution.

    Args:
        scenario: a :class:`sim.params.Scenario` (default: the default organisation).
        rng: seed or numpy Generator (Mesa 3 convention).
        collect: record the daily time series with the DataCollector (batch runs that
            keep only the summary switch it off: about 10% faster).
        **overrides: dotted parameter paths with ``__`` for ``.``, e.g.
            ``pm__ownership=0.8``; plus the shortcuts ``ownership``, ``strategy``,
            ``archetype``.

    Raises:
        sim.limits.LimitError: the scenario exceeds a resource cap (checked before
            anything is built, however the model is started).
    """

    def __init__(self, scenario: Scenario | None = None, rng=None, collect: bool = True, **overrides):
        super().__init__(rng=rng)
        self.collect = collect
        scenario = scenario or Scenario()
        if overrides:
            scenario = scenario.with_overrides(_expand(overrides))
        check_scenario(scenario)  # resource caps (sim/limits.py), before anything is built
        self.params = scenario
        p = scenario
        self.day = 0
        self.phase = "negotiating"
        self.counters: Counter = Counter()
        self.events_log: list[dict] = []
        self.trace: list = []
        self.offers: list = []
        self.effort = np.array([f.effort for f in p.project.features], float)
        self.risk = np.array([f.risk for f in p.project.features], float)
        self.done = np.zeros_like(self.effort)
        self.plans = PlanSpace(p.project)
        self._cache: dict = {}
        self._version = 0
        self.tactics = build_tactics(p.tactics)
        self.build: ex.Build | None = None
        self.current_proposal: tuple[int, bool] | None = None
        self.known_vetoes: set[str] = set()
        self.incident_days_left = 0
        self.shock_urgency = 0.0
        self.capacity_available = 0.0
        self.effort_done = 0.0
        self.gap_fill_today = False
        self.followed_up_today = False
        self.low_support_days = 0
        # Productivity everyone plans with: expected at first, then the observed burn rate.
        self.velocity_factor = p.execution.productivity * (1.0 - 0.25 * p.execution.misalignment_loss)
        self.last_agreement_day = 0
        self.first_agreement_day: int | None = None
        self.delivery_day: int | None = None
        self.end_reason = ""
        self.delivered_scope: tuple[str, ...] = ()

        self.pm = PMAgent(self, p.pm)
        self.leads = [StakeholderAgent(self, d, i) for i, d in enumerate(p.departments)]
        self.org = Organisation(p.departments, p.network, self.random, self.rng,
                                [l.trust for l in self.leads])
        if self.org.n - 1 - len(self.leads) <= MEMBER_AGENT_LIMIT:
            names = [d.name for d in p.departments]
            for node in range(1 + len(self.leads), self.org.n):
                MemberAgent(self, node, names[int(self.org.dept[node])])
        self.pm.init_beliefs(self.leads)
        self.negotiation = NegotiationState(start_day=1, reason="initial plan")
        self.initial_trust = {l.department: l.trust for l in self.leads}
        self.initial_cross_trust = self.org.mean_cross_trust()
        self.log("start", ex.feasibility_note(self), actor="PM")

        reporters = {"day": "day", "phase": "phase", "effort_done": "effort_done",
                     "capacity_available": "capacity_available",
                     "remaining_effort": _remaining, "release_day": _release,
                     "trust_in_pm": _mean_trust, "cross_trust": _cross_trust,
                     "pm_capital": _pm_capital, "pm_attention_spent": _pm_attention}
        for lead in self.leads:
            reporters[f"support_{lead.department}"] = partial(_support, dept=lead.department)
            reporters[f"trust_{lead.department}"] = partial(_trust, dept=lead.department)
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        self.datacollector.collect(self)

    # ------------------------------------------------------------ the day
    def step(self) -> None:
        self.day += 1
        self.gap_fill_today = False
        self.followed_up_today = False
        self.pm.new_day()
        if self.plans.slide_releases(self.day):
            self.plans_changed()
        shock_day(self)
        if self.running:
            self.pm.step()
        if self.running and self.phase == "negotiating":
            if self.day - self.negotiation.start_day >= self.params.negotiation.max_days:
                self.end("abandoned", f"no agreement within {self.params.negotiation.max_days} days "
                         f"of negotiation ({self.negotiation.reason})")
            else:
                negotiation_round(self)
        self.influence_day()
        self.agents_by_type[StakeholderAgent].do("step")
        if self.running and self.phase == "executing":
            ex.execution_day(self)
        elif self.running and self.phase == "negotiating" and self.build is not None:
            ex.build_day(self)  # the team keeps building the old plan while it is renegotiated
        if self.running:
            self.check_collapse()
        if self.running and self.day >= self.params.project.horizon:
            self.end("failed", f"horizon (day {self.day}) reached without delivery")
        if self.collect:
            self.datacollector.collect(self)

    def run(self, max_days: int | None = None) -> "PMSimModel":
        limit = max_days or self.params.project.horizon
        while self.running and self.day < limit:
            self.step()
        return self

    # ------------------------------------------------------- plan utilities
    def plans_changed(self) -> None:
        self._version += 1
        self._cache.clear()

    def _score_args(self, believer: str) -> dict:
        p = self.params
        effort = self.effort if believer == "true" else self.effort * self.pm.profile.effort_bias
        return dict(today=self.day, capacity=sum(l.capacity for l in self.leads),
                    productivity=self.velocity_factor, deadline=p.project.deadline, effort=effort,
                    risk=self.risk, done=self.done * (effort / self.effort),
                    review_pace=self.review_pace())

    def reviewer(self) -> StakeholderAgent | None:
        """The veto holder whose hard limit is safety (legal by default) reviews before release."""
        return next((l for l in self.leads if l.veto and l.params.hard_limit == "safety"), None)

    def review_pace(self) -> float:
        """Expected calendar days per review day (everyone plans with the reviewer's inertia)."""
        key = ("pace", self.day, self._version)
        if key not in self._cache:
            r = self.reviewer()
            self._cache[key] = 1.0 / max(self.answer_chance(r, plain=True), 0.05) if r is not None else 1.0
        return self._cache[key]

    def _scores(self, believer: str = "true") -> np.ndarray:
        """Issue scores of every plan today, as the truth or as the PM believes (cached per day)."""
        key = ("scores", believer, self.day, self._version)
        if key not in self._cache:
            self._cache[key] = self.plans.scores(**self._score_args(believer))
        return self._cache[key]

    def true_scores(self, plan: int, dictated: bool = False) -> np.ndarray:
        key = ("scores", "true", self.day, self._version)
        if key in self._cache:
            s = self._cache[key][plan].copy()
        else:  # one row is enough (execution re-scores only the agreed plan)
            rkey = ("row", plan, self.day, self._version)
            if rkey not in self._cache:
                self._cache[rkey] = self.plans.scores(**self._score_args("true"), rows=plan)[0]
            s = self._cache[rkey].copy()
        if dictated:
            s[ISSUE_INDEX["autonomy"]] = 0.0
        return s

    def true_utility_matrix(self) -> np.ndarray:
        key = ("U", self.day, self._version)
        if key not in self._cache:
            W = np.array([l.weights for l in self.leads])
            self._cache[key] = self._scores("true") @ W.T
        return self._cache[key]

    def true_utility(self, lead_index: int, plan: int | None = None, dictated: bool = False) -> float:
        if plan is None:
            ref = self.reference_plan()
            if ref is None:
                return self.leads[lead_index].reservation
            plan, dictated = ref
        return float(self.true_scores(plan, dictated) @ self.leads[lead_index].weights)

    def valid_plans(self) -> np.ndarray:
        """Plans whose quality bar is engineering's own choice for their scope (decision rights)."""
        key = ("valid", self.day, self._version)
        if key not in self._cache:
            w = self.builder().weights
            br = self.plans.best_response_quality(self._scores("true") @ w)
            self._cache[key] = br == np.arange(len(self.plans))
        return self._cache[key]

    def believed_utilities(self) -> np.ndarray:
        B = np.array([self.pm.beliefs[l.department] for l in self.leads])
        return self._scores("pm") @ B.T

    def known_limits_ok(self) -> np.ndarray:
        """Plans that respect the hard limits veto holders have announced, as the PM sees them
        (a business PM's low effort estimates make it think infeasible plans feasible)."""
        ok = np.ones(len(self.plans), bool)
        neg = self.params.negotiation
        s = self._scores("pm")
        limits = {self.lead_by_name(d).params.hard_limit for d in self.known_vetoes}
        if "feasibility" in limits:
            ok &= s[:, ISSUE_INDEX["feasibility"]] >= neg.feasibility_veto
        if "safety" in limits:
            ok &= s[:, ISSUE_INDEX["safety"]] >= neg.safety_veto
        return ok

    def believed_reservation(self, lead) -> float:
        return self.pm.believed_reservation[lead.department]

    def pm_utilities(self) -> np.ndarray:
        key = ("pmU", self.day, self._version)
        if key not in self._cache:
            self._cache[key] = self._scores("pm") @ self.pm.weights
        return self._cache[key]

    def dictation_choice(self, plan: int) -> int:
        """The quality bar the PM would impose for the same scope (its own favourite)."""
        same = np.flatnonzero(self.plans.what_id == self.plans.what_id[plan])
        own = self._scores("pm")[same] @ self.pm.weights
        if own.max() <= own[same == plan][0] + 1e-12:
            return plan  # the PM has no reason of its own to override engineering's choice
        return int(same[np.argmax(own)])

    def reference_plan(self) -> tuple[int, bool] | None:
        if self.build is not None and self.phase == "executing":
            return self.build.plan, self.build.dictated
        return self.current_proposal

    def negotiation_progress(self) -> float:
        return min(1.0, max(0.0, (self.day - self.negotiation.start_day) / self.params.negotiation.max_days))

    # -------------------------------------------------------------- people
    def lead_by_name(self, name: str) -> StakeholderAgent | None:
        for lead in self.leads:
            if lead.department == name:
                return lead
        return None

    def builder(self) -> StakeholderAgent:
        """The department that decides *how* (the first with capacity; engineering by default)."""
        return next(l for l in self.leads if l.capacity > 0)

    def builders_support(self) -> float:
        builders = [l for l in self.leads if l.capacity > 0]
        total = sum(l.capacity for l in builders)
        return sum(l.support * l.capacity for l in builders) / total

    def answer_chance(self, lead: StakeholderAgent, plain: bool = False) -> float:
        """Daily chance a lead answers: its responsiveness, scaled down by low trust in the PM
        and across departments, scaled up when the PM follows up."""
        cross = self.org.inter_department_trust()[lead.index]
        others = np.delete(cross, lead.index) if len(cross) > 1 else cross
        cross_trust = float(np.nanmean(others)) if np.isfinite(others).any() else 1.0
        p = lead.answer_chance() * (0.4 + 0.6 * cross_trust)
        if self.followed_up_today and not plain:
            p *= 1.0 + self.params.ownership.follow_up * self.pm.ownership
        return min(1.0, p)

    def ownership_duties(self, pm: PMAgent) -> None:
        """Ownership spends attention: follow-up on blocked work and gap filling."""
        if pm.attention_debt:
            paid = min(pm.attention_debt, pm.attention_left)
            pm.attention_left -= paid
            pm.attention_spent += paid
            pm.attention_debt -= paid
        if self.phase != "executing" or self.build is None:
            return
        b = self.build
        blocked = b.waiting_sales or ex.remaining_effort(self, b) <= 1e-9
        if blocked and pm.wants() and pm.spend_attention(1):
            self.followed_up_today = True
            self.counters["follow_ups"] += 1
            who = "sales" if b.waiting_sales else "legal"
            self.log("ownership", f"PM followed up with {who} on blocked work", actor="PM", target=who)
        if ex.remaining_effort(self, b) > 1e-9 and pm.wants() and pm.spend_attention(1):
            self.gap_fill_today = True
            self.counters["gap_fill_days"] += 1
            if pm.oversteps():
                eng = self.builder()
                eng.adjust_trust(-self.params.ownership.overstep_trust_cost, cause="PM micromanaged how")
                self.counters["oversteps"] += 1
                self.log("overstep", f"PM stepped into how {eng.department} builds; {eng.department} resents it",
                         actor="PM", target=eng.department)

    def record_tactic(self, result) -> None:
        self.trace.append(result)
        self.counters[f"tactic_{result.tactic}"] += 1
        outcome = result.outcome or "no immediate change"
        why = "; ".join(result.reasons[:2])
        self.log("tactic", f"PM used {self.tactics[result.tactic].label} on {result.target}: "
                 f"{outcome}" + (f" ({why})" if why else ""), actor="PM", target=result.target)

    def blame_round(self, trigger: str, culprit: str | None) -> None:
        """After a setback each lead may blame another department or the PM.

        A lead blames with chance ``blame_propensity * (1.5 - trust)``; it blames the PM
        with chance ``(1 - trust) / 2`` (distrust looks for the owner), else the culprit
        department (or a random other one). The PM, with chance = ownership, takes
        accountability: it spends attention tomorrow and damps the trust cut by
        ``ownership.absorb * ownership``; otherwise the cut lands in full."""
        pm = self.pm
        cut = self.params.execution.blame_trust_cut
        order = self.rng.permutation(len(self.leads))
        for i in order:
            lead = self.leads[int(i)]
            if self.rng.random() >= lead.blame_propensity * (1.5 - lead.trust):
                continue
            if self.rng.random() < (1.0 - lead.trust) / 2:
                blamed = "the PM"
            elif culprit and culprit != lead.department and self.lead_by_name(culprit) is not None:
                blamed = culprit
            else:
                others = [l.department for l in self.leads if l.department != lead.department]
                blamed = others[int(self.rng.integers(len(others)))] if others else "the PM"
            self.counters["blame_events"] += 1
            absorbed = pm.ownership > 0 and pm.wants()
            if absorbed:
                pm.attention_debt += 1
                self.counters["blame_absorbed"] += 1
                eff = cut * (1.0 - self.params.ownership.absorb * pm.ownership)
                lead.adjust_trust(0.02 * pm.ownership, cause="PM took accountability")
                self.log("blame", f"{lead.department} blamed {blamed} for the {trigger}; "
                         f"PM took accountability, damping the damage", actor=lead.department, target=blamed)
            else:
                eff = cut
                loss = cut if blamed == "the PM" else cut / 2
                lead.adjust_trust(-loss, cause=f"blame event ({trigger})")
                self.log("blame", f"{lead.department} blamed {blamed} for the {trigger}; trust fell",
                         actor=lead.department, target=blamed)
            other = self.lead_by_name(blamed)
            if other is not None:
                self.org.blame(lead.index, other.index, eff)
                other.adjust_trust(-eff / 3, cause=f"blamed by {lead.department}")

    # ------------------------------------------------------ transitions
    def agree(self, plan: int, dictated: bool) -> bool:
        if self.first_agreement_day is None:
            self.first_agreement_day = self.day
        self.phase = "executing"
        self.last_agreement_day = self.day
        prev = self.build
        self.build = ex.Build(utilities={l.department: l.utility(plan, dictated) for l in self.leads},
                              plan=plan, dictated=dictated, release=int(self.plans.release[plan]),
                              quality=float(self.plans.quality[plan]),
                              review_left=int(self.plans.review[plan]),
                              mask=self.plans.mask[plan].copy(),
                              sales_input_done=prev.sales_input_done if prev else False,
                              behind=prev.behind if prev else False)
        self.current_proposal = (plan, dictated)
        self.log("agreement", f"plan agreed: {self.plans.plan(plan, dictated).describe()}", actor="PM")
        return True

    def renegotiate(self, reason: str) -> None:
        self.counters["renegotiations"] += 1
        self.phase = "negotiating"
        self.negotiation = NegotiationState(start_day=self.day, reason=reason)
        self.log("renegotiation", f"plan reopened: {reason}", actor="PM")

    def recheck_plan(self, why: str) -> None:
        """Leads re-check the agreed plan (after a shock or as compliance fades)."""
        if self.phase != "executing" or self.build is None:
            return
        b = self.build
        tol = self.params.execution.recheck_tolerance
        answers = {l.department: l.respond(b.plan, b.dictated, tol) for l in self.leads}
        if agreement_rule(self, {d: ok for d, (ok, _) in answers.items()}):
            return
        quitters = [f"{d} ({why_not})" for d, (ok, why_not) in answers.items() if not ok]
        self.renegotiate(f"{', '.join(quitters)} withdrew support {why}")

    def add_progress(self, b: ex.Build, progress: float) -> None:
        left = b.mask * np.maximum(self.effort - self.done, 0.0) * (1.0 + b.quality)
        total = left.sum()
        if total <= 0:
            return
        self.done += (left / total) * progress / (1.0 + b.quality)
        self.done = np.minimum(self.done, self.effort)
        self.plans_changed()

    def deliver(self) -> None:
        b = self.build
        self.delivered_scope = self.plans.plan(b.plan).features
        self.delivery_day = self.day
        self.end("delivered", f"delivered on day {self.day}: "
                 f"{self.plans.plan(b.plan, b.dictated, release=b.release).describe()}")

    def end(self, phase: str, reason: str) -> None:
        self.phase = phase
        self.end_reason = reason
        self.running = False
        self.log("end", reason, actor="PM")
        if phase != "delivered" or len(self.delivered_scope) < len(self.plans.names):
            self.log("why", ex.feasibility_note(self), actor="PM")

    def check_collapse(self) -> None:
        mean_support = float(np.mean([l.support for l in self.leads]))
        if mean_support < self.params.execution.abandon_support:
            self.low_support_days += 1
        else:
            self.low_support_days = 0
        if self.low_support_days >= self.params.execution.abandon_days:
            self.end("abandoned", f"alignment collapsed: mean lead support below "
                     f"{self.params.execution.abandon_support:.2f} for {self.low_support_days} days")
        elif self.phase == "executing" and self.day % 5 == 0:
            self.recheck_plan("at the weekly check-in")

    def influence_day(self) -> None:
        lead_anchor = np.array([l.evaluation() for l in self.leads])
        ref = self.reference_plan()
        res = np.array([l.reservation for l in self.leads])
        if ref is None:
            dept_anchor = np.full(len(self.leads), 0.5)
        else:
            u = np.array([self.true_utility(l.index, *ref) for l in self.leads])
            dept_anchor = 1.0 / (1.0 + np.exp(-(u - res) / 0.08))
        self.org.step(lead_anchor, dept_anchor)

    # --------------------------------------------------------------- story
    def log(self, kind: str, text: str, actor: str | None = None, target: str | None = None) -> None:
        self.events_log.append({"day": self.day, "kind": kind, "actor": actor, "target": target,
                                "text": text})


def _pm_capital(model) -> float:
    return model.pm.capital


def _pm_attention(model) -> int:
    return model.pm.attention_spent


SHORTCUTS = {"ownership": "pm.ownership", "strategy": "pm.strategy", "archetype": "pm.archetype"}


def _expand(overrides: dict) -> dict:
    return {SHORTCUTS.get(k, k.replace("__", ".")): v for k, v in overrides.items()}
