"""Yukl's proactive influence tactics, one small class each, in a registry.

Each tactic has an outcome table: the chance a use of it ends in **commitment**
(the target adopts the plan as its own: durable), **compliance** (goes along for
now: decays, and is the first to break under a shock) or **resistance** (digs in).

Default tables come from Falbe & Yukl (1992, Academy of Management Journal 35(3),
Table 2; reproduced in Yukl, *Leadership in Organizations*), who coded 504 influence
incidents by outcome. Tactics that study did not code separately (relationship
building; "legitimating / escalation" as an executive mandate) take the nearest coded
tactic's row, which the docs mark as an assumption. Every row can be overridden per
scenario (``[tactics.<name>]`` with commitment / compliance / resistance /
trust_effect / cost).

The table is the outcome for an average target. :func:`modulate` shifts it towards
commitment for a receptive target (credible PM, trusted, plan near acceptable) and
towards resistance for an unreceptive one; that shift is a modelling assumption.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from sim.agents import PMAgent, StakeholderAgent

OUTCOMES: tuple[str, ...] = ("commitment", "compliance", "resistance")
FALBE_YUKL_1992 = "Falbe & Yukl 1992, AMJ 35(3) Table 2 (outcome shares of 504 incidents)"


def modulate(table, receptiveness: float, gap: float, k: float = 2.5, g: float = 4.0) -> np.ndarray:
    """Shift an outcome table (c, m, r) by the target's receptiveness and the plan's gap.

    ``receptiveness`` in [0, 1] is the PM's credibility with the department times the
    target's trust; ``gap`` is the plan's perceived utility minus the target's
    threshold. Commitment is multiplied by exp(k(rho-0.5) + g*gap), resistance divided
    by it; compliance is unchanged; the result is renormalised. Pure function.
    """
    c, m, r = (float(x) for x in table)
    f = math.exp(k * (receptiveness - 0.5) + g * max(min(gap, 0.5), -0.5))
    out = np.array([c * f, m, r / f])
    total = out.sum()
    return out / total if total > 0 else np.array([0.0, 1.0, 0.0])


@dataclass
class TacticResult:
    """What one use of a tactic did, kept in the causal trace."""

    day: int
    tactic: str
    target: str
    outcome: str | None
    probabilities: tuple[float, float, float]
    reasons: list[str] = field(default_factory=list)
    margin_before: float = 0.0
    margin_after: float = 0.0


class Tactic:
    """Base class: an influence tactic the PM can use on one stakeholder lead."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    soft: ClassVar[bool] = True
    table: ClassVar[tuple[float, float, float]] = (0.33, 0.34, 0.33)
    trust_effect: ClassVar[float] = 0.0
    cost: ClassVar[int] = 1
    source: ClassVar[str] = FALBE_YUKL_1992
    uses_credibility: ClassVar[bool] = True
    """False for tactics whose force is a deadline or a mandate: the table is then shifted
    only by the plan's gap, as for a target of middling receptiveness (assumption)."""

    def __init__(self, override=None):
        table = list(self.table)
        self.trust_delta = self.trust_effect
        self.attention_cost = self.cost
        if override is not None:
            for i, key in enumerate(OUTCOMES):
                val = getattr(override, key)
                if val is not None:
                    table[i] = val
            if override.trust_effect is not None:
                self.trust_delta = override.trust_effect
            if override.cost is not None:
                self.attention_cost = override.cost
        total = sum(table)
        self.outcome_table = tuple(t / total for t in table) if total > 0 else (0.0, 1.0, 0.0)

    def probabilities(self, pm: "PMAgent", target: "StakeholderAgent") -> np.ndarray:
        rho = pm.credibility[target.department] * target.trust if self.uses_credibility else 0.5
        return modulate(self.outcome_table, rho, target.margin())

    def use(self, pm: "PMAgent", target: "StakeholderAgent") -> TacticResult:
        """Apply the tactic: draw an outcome, let the target react, add side effects."""
        model = pm.model
        before = target.margin()
        probs = self.probabilities(pm, target)
        outcome = OUTCOMES[int(model.rng.choice(3, p=probs))] if self.draws_outcome() else None
        reasons = target.reasons_for(pm, outcome)
        if outcome is not None:
            target.receive(outcome, self.name, hard=not self.soft)
        target.adjust_trust(self.trust_delta, cause=self.name)
        self.side_effects(pm, target, outcome, reasons)
        return TacticResult(model.day, self.name, target.department, outcome,
                            tuple(float(p) for p in probs), reasons, before, target.margin())

    def draws_outcome(self) -> bool:
        return True

    def available(self, pm: "PMAgent", target: "StakeholderAgent") -> bool:
        """Whether the PM can use this tactic on ``target`` today (default: always)."""
        return True

    def side_effects(self, pm, target, outcome, reasons) -> None:
        """Tactic-specific effects beyond the outcome (override in subclasses)."""


class RationalPersuasion(Tactic):
    """Facts and logic: corrects the target's under-rating of the plan; credibility matters."""

    name = "rational_persuasion"
    label = "rational persuasion"
    table = (0.23, 0.47, 0.30)

    def side_effects(self, pm, target, outcome, reasons):
        cred = pm.credibility[target.department]
        target.misperception *= 1.0 - 0.7 * cred
        reasons.append(f"facts corrected its view of the plan (credibility {cred:.2f})")


class Consultation(Tactic):
    """Asks for input: the PM learns true priorities; buy-in lasts. Costs two interactions."""

    name = "consultation"
    label = "consultation"
    table = (0.55, 0.18, 0.27)
    trust_effect = 0.02
    cost = 2

    def side_effects(self, pm, target, outcome, reasons):
        err = pm.learn(target, pm.model.params.negotiation.belief_learning)
        reasons.append(f"PM learned its priorities (belief error now {err:.2f})")


class InspirationalAppeal(Tactic):
    """Ties the plan to shared values; works only where the target trusts the PM."""

    name = "inspirational_appeal"
    label = "inspirational appeal"
    table = (0.90, 0.10, 0.00)
    trust_effect = 0.01

    def probabilities(self, pm, target):
        c, m, r = super().probabilities(pm, target)
        t = target.trust
        # Without trust an appeal to shared values rings hollow: commitment scales
        # with trust and the rest turns into resistance (assumption).
        return np.array([c * t, m, r + c * (1 - t)]) / (c + m + r)


class Exchange(Tactic):
    """Trades favours: spends relationship capital (a committed partner returns half of
    it); without capital it backfires."""

    name = "exchange"
    label = "exchange"
    table = (0.37, 0.37, 0.26)
    price: ClassVar[float] = 0.15

    def probabilities(self, pm, target):
        p = super().probabilities(pm, target)
        if pm.capital < self.price:
            return np.array([p[0] * 0.2, p[1] * 0.5, p[2] + p[0] * 0.8 + p[1] * 0.5])
        return p

    def side_effects(self, pm, target, outcome, reasons):
        if pm.capital >= self.price:
            pm.spend_capital(self.price)
            reasons.append(f"PM spent {self.price:.2f} capital on a favour")
        else:
            reasons.append("PM had no capital left to trade")
        if outcome == "commitment" and pm.capital_spent > 0 and reasons[-1].startswith("PM spent"):
            # a committed partner reciprocates: part of the favour comes back (assumption)
            pm.capital = min(10.0, pm.capital + self.price / 2)
            reasons.append("the favour was returned: PM earned back some capital")


class Coalition(Tactic):
    """Enlists supporters: the target listens more to the plan's supporters."""

    name = "coalition"
    label = "coalition"
    soft = False
    table = (0.03, 0.44, 0.53)
    trust_effect = -0.01

    def side_effects(self, pm, target, outcome, reasons):
        n = pm.model.org.rally_supporters(target.node, boost=1.3)
        reasons.append(f"{n} supporters now weigh more in its network")


class Legitimating(Tactic):
    """Invokes the executive's mandate (escalation): compliance now, resistance later."""

    name = "legitimating"
    label = "legitimating / escalation"
    soft = False
    table = (0.00, 0.44, 0.56)
    trust_effect = -0.08
    uses_credibility = False  # the mandate's weight, not the PM's credibility

    def available(self, pm, target):
        """Not again about the same lead within ``pm.escalation_cooldown`` days."""
        last = pm.last_escalation.get(target.department)
        return last is None or pm.model.day - last >= pm.params.escalation_cooldown

    def side_effects(self, pm, target, outcome, reasons):
        pm.model.counters["escalations"] += 1
        pm.last_escalation[target.department] = pm.model.day
        target.raise_blame(0.1)
        reasons.append("escalated over its head: it will blame more readily")


class Pressure(Tactic):
    """Demands and deadlines: fast compliance, trust erosion, more blame later."""

    name = "pressure"
    label = "pressure"
    soft = False
    table = (0.03, 0.41, 0.56)
    trust_effect = -0.04
    uses_credibility = False  # pressure works through the deadline

    def side_effects(self, pm, target, outcome, reasons):
        target.raise_blame(0.05)


class RelationshipBuilding(Tactic):
    """No immediate shift: trust and relationship capital grow slowly."""

    name = "relationship_building"
    label = "relationship building"
    table = (0.31, 0.41, 0.28)
    trust_effect = 0.04
    source = "no outcome drawn; trust/capital gains assumed (nearest coded tactic: ingratiation, Falbe & Yukl 1992)"

    def draws_outcome(self) -> bool:
        return False

    def side_effects(self, pm, target, outcome, reasons):
        pm.capital = min(10.0, pm.capital + 0.05)
        reasons.append("trust and capital grew; no immediate change of stance")


TACTICS: dict[str, type[Tactic]] = {
    cls.name: cls for cls in (RationalPersuasion, Consultation, InspirationalAppeal, Exchange,
                              Coalition, Legitimating, Pressure, RelationshipBuilding)
}
"""Registry of all tactics by name."""


def build_tactics(overrides: dict | None = None) -> dict[str, Tactic]:
    """Instantiate every tactic with the scenario's overrides."""
    overrides = overrides or {}
    return {name: cls(overrides.get(name)) for name, cls in TACTICS.items()}
