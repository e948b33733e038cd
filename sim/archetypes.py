"""PM archetypes: where the PM comes from changes whom it convinces (MODEL.md section 1).

Credibility per department scales how receptive a department's lead is to the PM's
tactics. Biases: a technical PM over-values novel scope and tends to dictate *how*;
a business PM under-estimates effort (believes features cost ``effort_bias`` of their
true effort). All numbers are modelling assumptions that encode the qualitative
table of MODEL.md; none is a published estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.params import Weights


@dataclass(frozen=True)
class Archetype:
    name: str
    credibility: dict[str, float]
    default_credibility: float
    weights: Weights
    effort_bias: float = 1.0
    overstep_factor: float = 0.1
    description: str = ""
    notes: list[str] = field(default_factory=list)

    def credibility_with(self, department: str) -> float:
        return self.credibility.get(department, self.default_credibility)


ARCHETYPES: dict[str, Archetype] = {
    "technical": Archetype(
        "technical", {"engineering": 0.9, "sales": 0.3, "legal": 0.5}, 0.5,
        Weights(value=0.3, schedule=0.2, novelty=0.25, quality=0.15, feasibility=0.1),
        effort_bias=1.0, overstep_factor=1.0,
        description="ex-engineer: strong with engineering, weak with sales; loves 'cool' scope, oversteps into how"),
    "generalist": Archetype(
        "generalist", {}, 0.6,
        Weights(value=0.4, schedule=0.3, feasibility=0.15, safety=0.15),
        effort_bias=1.0, overstep_factor=0.1,
        description="moderate credibility with everyone, no strong bias"),
    "business": Archetype(
        "business", {"engineering": 0.3, "sales": 0.9, "legal": 0.75}, 0.6,
        Weights(value=0.5, schedule=0.4, safety=0.05, feasibility=0.05),
        effort_bias=0.7, overstep_factor=0.1,
        description="sales/MBA background: strong with sales and legal, weak with engineering; under-estimates effort"),
}
