"""The decision makers: one PM and one lead per department (Mesa agents), plus light
member agents that are views onto the organisation's arrays (small orgs only)."""

from __future__ import annotations

import math

import mesa
import numpy as np

from sim.archetypes import ARCHETYPES
from sim.params import ISSUES, Department
from sim.plan import ISSUE_INDEX
from sim.strategies import FALLBACK_TACTIC, STRATEGIES


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


class StakeholderAgent(mesa.Agent):
    """A department lead: weighs the plan's issues, accepts or objects, blames, answers late.

    Stance after the PM's tactics: ``committed`` (durable, lowers its threshold),
    ``compliant`` (a decaying concession that breaks first under a shock) or
    ``resistant`` (raises its threshold).
    """

    role = "lead"

    def __init__(self, model, params: Department, index: int):
        super().__init__(model)
        self.params = params
        self.department = params.name
        self.index = index
        self.node = 1 + index
        self.weights = np.array(params.weights.vector())
        self.reservation = params.reservation
        self.stubbornness = params.stubbornness
        self.responsiveness = params.responsiveness
        self.blame_propensity = params.blame_propensity
        self.veto = params.veto
        self.capacity = params.capacity
        self.power, self.legitimacy, self.urgency = params.power, params.legitimacy, params.urgency
        self.trust = params.initial_trust
        self.misperception = params.misperception
        self.commitment = 0.0
        self.compliance = 0.0
        self.resistance = 0.0
        self.resentment = 0.0
        self.stance = "neutral"
        self.trust_log: list[tuple[int, float, str]] = []
        self.outcomes: list[tuple[int, str, str]] = []

    # ---------------------------------------------------------- evaluation
    @property
    def support(self) -> float:
        return float(self.model.org.x[self.node])

    def utility(self, plan: int | None = None, dictated: bool = False) -> float:
        """True utility of a plan (default: the reference plan) for this department."""
        return self.model.true_utility(self.index, plan, dictated)

    def perceived_utility(self, plan: int | None = None, dictated: bool = False) -> float:
        return self.utility(plan, dictated) - self.misperception

    def threshold(self) -> float:
        """Utility the lead needs today to accept: reservation, minus its own concession
        over the negotiation, minus network support and commitment/compliance, plus resistance."""
        neg = self.model.params.negotiation
        tau = self.model.negotiation_progress()
        t = self.reservation - neg.stakeholder_concession * (1 - self.stubbornness) * tau
        t -= neg.support_weight * (self.support - 0.5)
        t -= 0.08 * self.commitment + 0.25 * self.compliance - 0.05 * self.resistance
        if self.model.phase == "executing":
            t += 0.04 * self.resentment  # resistance to hard tactics surfaces later
        return t

    def margin(self, plan: int | None = None, dictated: bool = False) -> float:
        return self.perceived_utility(plan, dictated) - self.threshold()

    def veto_reason(self, plan: int, dictated: bool = False) -> str | None:
        """A veto holder's hard objection, independent of persuasion."""
        if not self.veto:
            return None
        neg = self.model.params.negotiation
        s = self.model.true_scores(plan, dictated)
        limit = self.params.hard_limit
        if limit == "feasibility" and s[ISSUE_INDEX["feasibility"]] < neg.feasibility_veto:
            return f"infeasible with current capacity (feasibility {s[ISSUE_INDEX['feasibility']]:.2f})"
        if limit == "safety" and s[ISSUE_INDEX["safety"]] < neg.safety_veto:
            return f"residual legal risk too high (safety {s[ISSUE_INDEX['safety']]:.2f})"
        return None

    def respond(self, plan: int, dictated: bool = False, tolerance: float = 0.0) -> tuple[bool, str]:
        """Accept or object to a proposal; the reason is kept for the story and debrief.

        ``tolerance`` lets an already agreed plan fall that far below the threshold
        before the lead withdraws (status-quo bias)."""
        veto = self.veto_reason(plan, dictated)
        if veto:
            return False, f"veto: {veto}"
        m = self.margin(plan, dictated)
        if m >= -tolerance:
            return True, f"utility {self.utility(plan, dictated):.2f} clears its threshold {self.threshold():.2f}"
        worst = self._worst_issue(plan, dictated)
        return False, f"short by {-m:.2f} (cares most about {worst})"

    def _worst_issue(self, plan, dictated) -> str:
        s = self.model.true_scores(plan, dictated)
        loss = self.weights * (1 - s)
        return ISSUES[int(np.argmax(loss))]

    def evaluation(self) -> float:
        """The lead's own view of the reference plan: the anchor of its support."""
        ref = self.model.reference_plan()
        if ref is None:
            base = 0.5
        else:
            base = _sigmoid((self.perceived_utility(*ref) - self.reservation) / 0.08)
        return min(1.0, max(0.0, base + 0.15 * self.commitment + 0.25 * self.compliance - 0.2 * self.resistance))

    # ------------------------------------------------------------ reactions
    def receive(self, outcome: str, tactic: str, hard: bool = False) -> None:
        """React to a tactic: commitment holds, compliance decays, resistance digs in.

        Resistance to a *hard* tactic (pressure, escalation, coalition) is not voiced
        now, under the weight of the deadline or the mandate: it becomes resentment,
        which raises the bar during execution and makes the lead blame more readily."""
        self.outcomes.append((self.model.day, tactic, outcome))
        if outcome == "resistance" and hard:
            self.resentment = min(3.0, self.resentment + 1.0)
            self.raise_blame(0.03)
            self.stance = "resentful" if self.stance != "committed" else self.stance
            self.model.counters[outcome] += 1
            return
        if outcome == "commitment":
            self.commitment = 1.0
            self.resistance = max(0.0, self.resistance - 0.5)
            self.stance = "committed"
        elif outcome == "compliance":
            self.compliance = 1.0
            if self.stance != "committed":
                self.stance = "compliant"
        elif outcome == "resistance":
            self.resistance = min(2.0, self.resistance + 1.0)
            self.commitment = max(0.0, self.commitment - 0.5)
            self.stance = "resistant"
        self.model.counters[outcome] += 1

    def decay(self) -> None:
        """Compliance fades every day; resistance slowly; commitment does not."""
        self.compliance *= 1.0 - self.model.params.execution.compliance_decay
        self.resistance *= 0.97
        if self.stance == "compliant" and self.compliance < 0.2:
            self.stance = "neutral"

    def break_compliance(self) -> bool:
        """A shock wipes out compliance; returns whether the lead was compliant."""
        was = self.compliance > 0.05 and self.stance != "committed"
        self.compliance = 0.0
        if self.stance == "compliant":
            self.stance = "neutral"
        return was

    def raise_blame(self, delta: float) -> None:
        """Hard tactics leave a lead quicker to blame (capped at 1)."""
        self.blame_propensity = min(1.0, self.blame_propensity + delta)

    def adjust_trust(self, delta: float, cause: str) -> None:
        if delta == 0:
            return
        new = min(1.0, max(0.0, self.trust + delta))
        if new != self.trust:
            self.trust_log.append((self.model.day, new - self.trust, cause))
        self.trust = new
        self.model.org.set_pm_trust(self.index, self.trust)

    def answer_chance(self) -> float:
        """Chance per day of answering a request: inertia grows as trust falls."""
        return self.responsiveness * (0.3 + 0.7 * self.trust)

    def salience(self) -> float:
        """Power + legitimacy + urgency (Mitchell, Agle & Wood 1997); urgency rises near the deadline."""
        return self.power + self.legitimacy + self.current_urgency()

    def current_urgency(self) -> float:
        near = min(1.0, self.model.day / max(self.model.params.project.deadline, 1))
        return min(1.0, self.urgency + 0.5 * near + self.model.shock_urgency)

    def reasons_for(self, pm, outcome: str | None) -> list[str]:
        """Why this lead reacted as it did: a causal note for the debrief."""
        reasons = []
        cred = pm.credibility[self.department]
        if cred < 0.5:
            reasons.append(f"low credibility of a {pm.archetype} PM with {self.department} ({cred:.2f})")
        if self.trust < 0.4:
            lost = [c for _, d, c in self.trust_log if d < 0]
            cause = f" (lost to {lost[-1]})" if lost else ""
            reasons.append(f"low trust in the PM ({self.trust:.2f}){cause}")
        m = self.margin()
        if m < -0.05:
            reasons.append(f"plan below its threshold by {-m:.2f}")
        elif m > 0.05:
            reasons.append(f"plan above its threshold by {m:.2f}")
        if self.current_urgency() < 0.4:
            reasons.append(f"low urgency ({self.current_urgency():.2f})")
        return reasons

    def step(self) -> None:
        self.decay()


class MemberAgent(mesa.Agent):
    """A department member: no decisions, its support lives in the organisation's arrays."""

    role = "member"

    def __init__(self, model, node: int, department: str):
        super().__init__(model)
        self.node = node
        self.department = department

    @property
    def support(self) -> float:
        return float(self.model.org.x[self.node])


class PMAgent(mesa.Agent):
    """The product manager: proposes the *what*, influences, and (with ownership) follows up,
    absorbs blame, fills gaps and re-plans early. Attention is the scarce resource."""

    def __init__(self, model, params):
        super().__init__(model)
        self.params = params
        self.archetype = params.archetype
        self.profile = ARCHETYPES[params.archetype]
        self.ownership = params.ownership
        self.strategy = STRATEGIES[params.strategy]
        self.concession = params.concession or self.strategy.concession
        self.attention = params.attention
        self.capital = params.capital
        self.capital_spent = 0.0
        self.attention_spent = 0
        self.attention_left = params.attention
        self.weights = np.array(self.profile.weights.vector())
        self.credibility: dict[str, float] = {}
        self.beliefs: dict[str, np.ndarray] = {}
        self.believed_reservation: dict[str, float] = {}
        self.attention_debt = 0
        self.last_escalation: dict[str, int] = {}  # department -> day the PM last escalated about its lead

    def init_beliefs(self, leads: list[StakeholderAgent]) -> None:
        """Beliefs about priorities start as noisy copies of the truth (Dirichlet noise)."""
        noise = self.params.belief_noise
        for lead in leads:
            self.credibility[lead.department] = self.profile.credibility_with(lead.department)
            # Without information the PM guesses a middling reservation of 0.6.
            self.believed_reservation[lead.department] = (1 - noise) * lead.reservation + noise * 0.6
            if noise <= 0:
                self.beliefs[lead.department] = lead.weights.copy()
            else:
                draw = self.model.rng.dirichlet(np.full(len(ISSUES), 1.0))
                self.beliefs[lead.department] = (1 - noise) * lead.weights + noise * draw

    def belief_error(self, lead: StakeholderAgent) -> float:
        return float(np.abs(self.beliefs[lead.department] - lead.weights).sum() / 2)

    def learn(self, lead: StakeholderAgent, rate: float) -> float:
        """Dialogue moves beliefs about a lead's priorities towards the truth."""
        b = self.beliefs[lead.department]
        self.beliefs[lead.department] = b + rate * (lead.weights - b)
        r = self.believed_reservation[lead.department]
        self.believed_reservation[lead.department] = r + rate * (lead.reservation - r)
        return self.belief_error(lead)

    def spend_capital(self, amount: float) -> None:
        amount = min(amount, self.capital)
        self.capital -= amount
        self.capital_spent += amount

    def spend_attention(self, units: int) -> bool:
        if self.attention_left < units:
            return False
        self.attention_left -= units
        self.attention_spent += units
        return True

    def wants(self, duty_scale: float = 1.0) -> bool:
        """Whether the PM takes up an ownership duty today (chance = ownership)."""
        return self.model.rng.random() < self.ownership * duty_scale

    def oversteps(self) -> bool:
        """A PM (above all a technical one) dictating *how*: chance overstep * ownership."""
        p = self.model.params.ownership.overstep * self.ownership * self.profile.overstep_factor
        return self.model.rng.random() < p

    def targets(self) -> list[StakeholderAgent]:
        """Leads ordered by the strategy's targeting rule."""
        leads = list(self.model.leads)
        if self.strategy.targeting == "salience":
            key = [-(l.salience() * (1.5 - l.support)) for l in leads]
        else:
            key = [l.margin() - (0.2 if l.veto else 0.0) for l in leads]
        order = np.lexsort((np.arange(len(leads)), np.array(key)))
        return [leads[i] for i in order]

    def influence(self) -> None:
        """Spend the attention left today on tactics, one target at a time."""
        tactics = self.model.tactics
        for target in self.targets():
            if self.attention_left <= 0:
                break
            if target.margin() > (0.05 if self.model.phase == "executing" else 0.1):
                continue  # the PM spends attention only on leads who still need convincing
            name = self.strategy.draw(self.model.rng, usable=lambda n: tactics[n].available(self, target))
            tactic = tactics[name]
            if not self.spend_attention(tactic.attention_cost):
                if not self.spend_attention(1):
                    break
                tactic = tactics[FALLBACK_TACTIC]
            result = tactic.use(self, target)
            self.model.record_tactic(result)

    def new_day(self) -> None:
        """Attention is renewed each morning (before the day's shocks)."""
        self.attention_left = self.attention

    def step(self) -> None:
        self.model.ownership_duties(self)
        self.influence()
