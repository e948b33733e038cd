"""Every model parameter as typed data: defaults, ranges, units and sources.

One schema drives validation, the scenario files, the dashboard's controls, the
sweeps and the parameter tables of docs/ODD.md. Each field's ``description`` is its
help text; ``json_schema_extra={"source": ...}`` says where the default comes from.

Units: time is in working days (one model step = one day); effort is in
engineer-days; capacity is effort per day; probabilities, trust, support, weights
and utilities are in [0, 1].
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.limits import MAX_DAYS, MAX_MEMBERS  # resource caps: one department / the horizon

ISSUES: tuple[str, ...] = ("value", "schedule", "feasibility", "quality", "safety",
                           "novelty", "autonomy")
"""The plan's issues every stakeholder weighs (see sim/plan.py for their scores)."""

DEPARTMENTS: tuple[str, ...] = ("engineering", "sales", "legal", "design", "finance",
                                "support", "executive")

ASSUMED = "modelling assumption (no published figure); chosen so the default organisation is plausible"


def P(default, *, ge=None, le=None, gt=None, description: str, source: str = ASSUMED, unit: str = ""):
    """A documented parameter: default, range, help text, unit and source."""
    extra = {"source": source}
    if unit:
        extra["unit"] = unit
    return Field(default, ge=ge, le=le, gt=gt, description=description, json_schema_extra=extra)


class Strict(BaseModel):
    """Base for parameter groups: unknown keys are errors, assignment is validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Weights(Strict):
    """How much a stakeholder cares about each issue of the plan (normalised to sum 1)."""

    value: float = P(0.0, ge=0, le=1, description="Customer value of the shipped scope.")
    schedule: float = P(0.0, ge=0, le=1, description="Shipping early relative to the deal date.")
    feasibility: float = P(0.0, ge=0, le=1, description="Slack between the plan's effort and engineering capacity.")
    quality: float = P(0.0, ge=0, le=1, description="Share of effort on testing and debt (the quality bar).")
    safety: float = P(0.0, ge=0, le=1, description="Low residual legal risk after review.")
    novelty: float = P(0.0, ge=0, le=1, description="Technically novel ('cool') scope.")
    autonomy: float = P(0.0, ge=0, le=1, description="Engineering deciding *how* without the PM dictating it.")

    def vector(self) -> list[float]:
        raw = [getattr(self, k) for k in ISSUES]
        total = sum(raw)
        return [r / total for r in raw] if total > 0 else [1.0 / len(raw)] * len(raw)

    @model_validator(mode="after")
    def _not_all_zero(self):
        if sum(getattr(self, k) for k in ISSUES) <= 0:
            raise ValueError("at least one issue weight must be positive")
        return self


class Department(Strict):
    """One department: its lead (a decision maker) and its members."""

    name: str = Field(description="Department name, e.g. engineering, sales, legal.",
                      json_schema_extra={"source": "scenario structure; defaults assumed"})
    weights: Weights = Field(description="Issue weights of the department's lead (members anchor on the department's evaluation plus a fixed personal offset).",
                             json_schema_extra={"source": "scenario structure; defaults assumed"})
    reservation: float = P(0.5, ge=0, le=1, description="Utility below which the lead objects to a plan.",
                           source="Raiffa 1982 (reservation value); level assumed")
    stubbornness: float = P(0.5, ge=0, le=1, description="Friedkin-Johnsen weight on the lead's own evaluation.",
                            source="Friedkin & Johnsen 1990; level assumed")
    member_stubbornness: float = P(0.3, ge=0, le=1, description="Friedkin-Johnsen stubbornness of members.")
    responsiveness: float = P(0.7, ge=0.01, le=1, description="Chance per day the department answers a request at full trust in the PM and across departments (inertia is its inverse).")
    blame_propensity: float = P(0.2, ge=0, le=1, description="Chance the lead blames someone after a setback.")
    veto: bool = Field(False, description="Whether the lead's acceptance is required for agreement and release.",
                       json_schema_extra={"source": "scenario structure; defaults assumed"})
    hard_limit: Literal["feasibility", "safety"] | None = Field(
        None, description="Issue on which a veto holder objects outright whatever the persuasion (engineering: feasibility; legal: safety).",
        json_schema_extra={"source": "MODEL.md section 2 (legal veto on release, engineering on feasibility)"})
    members: int = P(4, ge=0, le=MAX_MEMBERS, description="Number of members (non-decision makers) in the department.", unit="people")
    capacity: float = P(0.0, ge=0, le=100_000, description="Effort the department supplies per day (engineering).", unit="effort/day")
    power: float = P(0.5, ge=0, le=1, description="Salience: power over the outcome.", source="Mitchell, Agle & Wood 1997 (salience); level assumed")
    legitimacy: float = P(0.5, ge=0, le=1, description="Salience: legitimacy of the claim.", source="Mitchell, Agle & Wood 1997; level assumed")
    urgency: float = P(0.3, ge=0, le=1, description="Salience: base urgency (rises near the deadline and after shocks).", source="Mitchell, Agle & Wood 1997; level assumed")
    initial_trust: float = P(0.6, ge=0, le=1, description="Trust in the PM at the start.")
    misperception: float = P(0.1, ge=0, le=0.5, description="How much the lead under-rates a plan's utility until persuaded.")


def default_departments() -> list[Department]:
    return [
        Department(name="engineering", weights=Weights(feasibility=0.35, quality=0.2, novelty=0.1, autonomy=0.2, value=0.1, schedule=0.05),
                   reservation=0.8, veto=True, hard_limit="feasibility", members=6, capacity=6.0, power=0.8, legitimacy=0.7,
                   responsiveness=0.8, blame_propensity=0.2),
        Department(name="sales", weights=Weights(value=0.5, schedule=0.4, safety=0.05, feasibility=0.05),
                   reservation=0.78, veto=False, members=4, power=0.7, legitimacy=0.6, urgency=0.5,
                   responsiveness=0.7, blame_propensity=0.25),
        Department(name="legal", weights=Weights(safety=0.7, schedule=0.1, value=0.1, feasibility=0.1),
                   reservation=0.8, veto=True, hard_limit="safety", members=2, power=0.6, legitimacy=0.9, urgency=0.2,
                   responsiveness=0.6, blame_propensity=0.15, stubbornness=0.6),
    ]


class Feature(Strict):
    """One backlog item."""

    name: str = Field(description="Feature name (unique in the backlog).", json_schema_extra={"source": "scenario structure"})
    value: float = P(1.0, ge=0, le=1000, description="Customer value if shipped.", unit="value points")
    effort: float = P(20.0, gt=0, le=1_000_000, description="Engineering effort to build it.", unit="engineer-days")
    risk: float = P(0.2, ge=0, le=1, description="Legal/regulatory risk it carries.")
    novelty: float = P(0.3, ge=0, le=1, description="How technically novel ('cool') it is.")


def default_backlog() -> list[Feature]:
    return [
        Feature(name="F1 core workflow", value=5, effort=60, risk=0.1, novelty=0.2),
        Feature(name="F2 big-deal integration", value=6, effort=70, risk=0.3, novelty=0.3),
        Feature(name="F3 data export", value=2, effort=30, risk=0.7, novelty=0.1),
        Feature(name="F4 ML ranking", value=3, effort=60, risk=0.4, novelty=0.9),
        Feature(name="F5 admin console", value=2, effort=25, risk=0.1, novelty=0.2),
        Feature(name="F6 audit trail", value=1.5, effort=20, risk=0.05, novelty=0.1),
    ]


class Project(Strict):
    """What is being delivered and by when."""

    features: list[Feature] = Field(default_factory=default_backlog, min_length=1, max_length=12,
                                    description="The backlog the plan chooses from.", json_schema_extra={"source": ASSUMED})
    deadline: int = P(60, ge=5, le=2000, description="The deal / launch date sales cares about.", unit="day")
    horizon: int = P(120, ge=10, le=MAX_DAYS, description="Last simulated day; undelivered by then = failed.", unit="day")
    release_options: list[int] = Field(default_factory=list, max_length=12,
                                       description="Release days the plan may choose; empty = derived from the deadline (0.8x to 1.5x).", json_schema_extra={"source": ASSUMED})
    quality_levels: list[float] = Field(default_factory=lambda: [0.1, 0.2, 0.3], min_length=1, max_length=6,
                                        description="Quality bars (share of extra effort on testing/debt) engineering may choose.", json_schema_extra={"source": ASSUMED})
    review_days: list[int] = Field(default_factory=lambda: [2, 5, 10], min_length=1, max_length=5,
                                   description="Legal review length per review depth (light, standard, thorough).", json_schema_extra={"source": ASSUMED})
    review_coverage: list[float] = Field(default_factory=lambda: [0.3, 0.6, 0.9], min_length=1, max_length=5,
                                         description="Share of each feature's legal risk a review depth removes.", json_schema_extra={"source": ASSUMED})
    sales_input_at: float = P(0.3, ge=0, le=1, description="Share of effort done when engineering needs sales' input before going on.")

    @model_validator(mode="after")
    def _consistent(self):
        if self.horizon < self.deadline:
            raise ValueError(f"horizon ({self.horizon}) must be at least the deadline ({self.deadline})")
        if len(self.review_days) != len(self.review_coverage):
            raise ValueError("review_days and review_coverage must have the same length")
        if any(not (0 <= c <= 1) for c in self.review_coverage):
            raise ValueError("review_coverage values must lie in [0, 1]")
        if any(not (0 <= q <= 2) for q in self.quality_levels):
            raise ValueError("quality_levels must lie in [0, 2]")
        if any(d < 0 for d in self.review_days):
            raise ValueError("review_days must be non-negative")
        if any(not (1 <= r <= self.horizon) for r in self.release_options):
            raise ValueError(f"release_options must lie in [1, horizon={self.horizon}]")
        names = [f.name for f in self.features]
        if len(set(names)) != len(names):
            raise ValueError("feature names must be unique")
        return self

    def releases(self) -> list[int]:
        if self.release_options:
            return sorted(set(self.release_options))
        d = self.deadline
        opts = {round(d * f) for f in (0.8, 0.9, 1.0, 1.15, 1.3, 1.5)}
        return sorted(o for o in opts if 1 <= o <= self.horizon)


class PM(Strict):
    """The product manager: owns the outcome, commands nobody."""

    archetype: Literal["technical", "generalist", "business"] = Field(
        "generalist", description="Background: sets credibility per department and biases (MODEL.md section 1).",
        json_schema_extra={"source": "modelling choice (structural)"})
    ownership: float = P(0.5, ge=0, le=1, description="Ownership mindset: how much attention goes to follow-up, absorbing blame, gap filling and early re-planning.")
    strategy: str = Field("balanced", description="Influence strategy from the registry (see sim/strategies.py).",
                          json_schema_extra={"source": "modelling choice (structural)"})
    concession: Literal["boulware", "linear", "conceder"] | None = Field(
        None, description="Override the strategy's concession style.",
        json_schema_extra={"source": "modelling choice (structural)"})
    attention: int = P(4, ge=1, le=50, description="Interactions the PM can afford per day.", unit="interactions/day")
    capital: float = P(1.0, ge=0, le=10, description="Relationship capital (goodwill) at the start.")
    belief_noise: float = P(0.3, ge=0, le=1, description="How wrong the PM's initial beliefs about stakeholders' priorities and reservations are (0 = full information).")
    reservation: float = P(0.3, ge=0, le=1, description="Lowest own utility the PM will concede to.")
    escalation_cooldown: int = P(10, ge=0, le=250, unit="days",
                                 description="Days after an escalation about a lead before the executive will hear about that lead again (0 = any day); meanwhile the PM draws from the strategy's other tactics.",
                                 source="assumed: an executive sponsor's attention is scarce and repeated escalation about the same person is sent back (two working weeks)")


class Negotiation(Strict):
    """Alternating-offers protocol with a deadline (see sim/negotiation.py)."""

    max_days: int = P(30, ge=1, le=1000, description="Negotiation deadline: days without agreement before alignment is declared collapsed.", unit="days",
                      source="Rubinstein 1982 / Faratin, Sierra & Jennings 1998 (deadline-bound alternating offers); length assumed")
    quorum: float = P(0.66, ge=0, le=1, description="Share of leads that must accept (veto holders always must).")
    support_weight: float = P(0.2, ge=0, le=1, description="How much a lead's network support shifts its acceptance threshold.")
    stakeholder_concession: float = P(0.12, ge=0, le=0.5, description="How far a flexible lead's threshold falls by the negotiation deadline (scaled by 1 - stubbornness).")
    feasibility_veto: float = P(0.15, ge=0, le=1, description="A veto holder with hard_limit 'feasibility' (engineering) rejects plans whose feasibility score is below this.")
    safety_veto: float = P(0.35, ge=0, le=1, description="A veto holder with hard_limit 'safety' (legal) rejects plans, and refuses sign-off, when the safety score is below this.")
    belief_learning: float = P(0.5, ge=0, le=1, description="Share of the belief error a consultation removes.",
                               source="assumed; consultation reveals priorities (Yukl 2013)")
    counter_learning: float = P(0.15, ge=0, le=1, description="Share of belief error removed by hearing a counter-offer.")
    overstep_trust_cost: float = P(0.08, ge=0, le=1, description="The builder's (engineering's) trust in the PM lost when a proposal dictates *how*.")


class Execution(Strict):
    """Building the agreed plan."""

    productivity: float = P(0.9, ge=0.05, le=1, description="Share of capacity turned into progress when fully aligned.")
    misalignment_loss: float = P(0.5, ge=0, le=1, description="Productivity lost when the builders' (engineering's) support is zero.")
    rework: float = P(0.15, ge=0, le=1, description="Share of progress lost to rework at the lowest quality bar (none at the highest).",
                      source="assumed; technical debt and rework (Cunningham 1992 metaphor), size assumed")
    blocked_share: float = P(0.6, ge=0, le=1, description="Share of capacity idle while waiting on sales' input.")
    slip_margin: int = P(3, ge=0, le=100, description="Projected slip (days) that counts as 'behind plan'.", unit="days")
    recheck_tolerance: float = P(0.05, ge=0, le=1, description="How far below its threshold an agreed plan may fall before a lead withdraws (status-quo bias).")
    replan_cooldown: int = P(7, ge=0, le=100, description="Days after an agreement before the PM re-plans early again.", unit="days")
    abandon_support: float = P(0.15, ge=0, le=1, description="Mean lead support below which alignment counts as collapsing.")
    abandon_days: int = P(10, ge=1, le=1000, description="Days of collapsed support before the effort is abandoned.", unit="days")
    blame_trust_cut: float = P(0.15, ge=0, le=1, description="Share of trust a blame event removes on the edges it hits.")
    compliance_decay: float = P(0.08, ge=0, le=1, description="Daily decay of compliance (commitment does not decay).",
                                source="Yukl 2013: compliance is temporary, commitment lasting; rate assumed")


class Ownership(Strict):
    """Strength of the ownership behaviours (MODEL.md section 5)."""

    follow_up: float = P(1.5, ge=0, le=10, description="Multiplier on a blocked party's daily answer chance per unit ownership when the PM follows up.")
    absorb: float = P(0.8, ge=0, le=1, description="Share of a blame event's trust loss the PM absorbs at full ownership.")
    gap_fill: float = P(0.5, ge=0, le=1, description="Share of the misalignment productivity loss the PM recovers at full ownership by taking small tasks off the critical path.")
    replan_threshold: float = P(0.4, ge=0, le=1, description="Ownership above which the PM re-plans as soon as the burn-down predicts a slip.")
    overstep: float = P(0.5, ge=0, le=1, description="Chance per unit ownership that a technical PM dictates *how* (other archetypes: a tenth of it).")
    overstep_trust_cost: float = P(0.03, ge=0, le=1, description="The builder's (engineering's) trust lost each time the PM micromanages while filling gaps (a technical PM ten times as often).")


class Events(Strict):
    """Random shocks (rates are chances per day)."""

    scope_creep: float = P(0.02, ge=0, le=1, description="Chance per day sales asks for more scope.")
    scope_creep_effort: float = P(0.15, ge=0, le=2, description="Extra effort of a scope-creep request, as share of the plan's effort.")
    incident: float = P(0.03, ge=0, le=1, description="Chance per day an incident pulls engineering capacity.")
    incident_loss: float = P(0.5, ge=0, le=1, description="Share of capacity an incident takes.")
    incident_days: int = P(4, ge=1, le=100, description="How long an incident lasts.", unit="days")
    regulatory: float = P(0.005, ge=0, le=1, description="Chance per day of a regulatory change raising legal risk.")
    regulatory_risk: float = P(0.2, ge=0, le=1, description="Risk added to every feature by a regulatory change.")
    reprioritisation: float = P(0.005, ge=0, le=1, description="Chance per day the executive re-prioritises (weights shift).")


class Network(Strict):
    """The organisation network (stochastic block model by department)."""

    p_in: float = P(0.5, ge=0, le=1, description="Link probability inside a department (small orgs).",
                    source="Holland, Laskey & Leinhardt 1983 (stochastic block model); level assumed")
    p_out: float = P(0.05, ge=0, le=1, description="Link probability across departments.")
    mean_degree: float = P(10.0, ge=1, le=200, description="Mean degree used instead of p_in/p_out when a department has more than 200 members.")
    lead_listens_to_members: float = P(0.3, ge=0, le=1, description="Share of a lead's attention on its own members' views.")
    listen_to_pm: float = P(0.2, ge=0, le=1, description="Weight of the PM's view in each lead's listening (scaled by trust).")
    bounded_confidence: float | None = Field(None, ge=0, le=1, description="Hegselmann-Krause confidence bound on support (None = off).",
                                             json_schema_extra={"source": "Hegselmann & Krause 2002; off by default"})

    @model_validator(mode="after")
    def _attention_shares(self):
        if self.lead_listens_to_members + self.listen_to_pm > 1:
            raise ValueError("lead_listens_to_members + listen_to_pm must not exceed 1 (a lead's attention is shared)")
        return self


class Tactic(Strict):
    """Overridable outcome table and effect sizes of one influence tactic."""

    commitment: float | None = Field(None, ge=0, le=1, description="Override of the share of uses ending in commitment (renormalised with the other two).",
                                     json_schema_extra={"source": "Falbe & Yukl 1992 defaults in sim/tactics.py; override assumed"})
    compliance: float | None = Field(None, ge=0, le=1, description="Override of the share of uses ending in compliance (renormalised with the other two).",
                                     json_schema_extra={"source": "Falbe & Yukl 1992 defaults in sim/tactics.py; override assumed"})
    resistance: float | None = Field(None, ge=0, le=1, description="Override of the share of uses ending in resistance (renormalised with the other two).",
                                     json_schema_extra={"source": "Falbe & Yukl 1992 defaults in sim/tactics.py; override assumed"})
    trust_effect: float | None = Field(None, ge=-1, le=1, description="Override of the change in the target's trust in the PM per use.",
                                       json_schema_extra={"source": ASSUMED})
    cost: int | None = Field(None, ge=1, le=10, description="Override of the attention the tactic costs per use.",
                             json_schema_extra={"source": ASSUMED})


class Scenario(Strict):
    """A complete description of one situation; every field has a default."""

    name: str = "default"
    description: str = "The default organisation: engineering, sales and legal, one PM, a six-feature backlog."
    pm: PM = Field(default_factory=PM)
    departments: list[Department] = Field(default_factory=default_departments, min_length=1, max_length=20)
    project: Project = Field(default_factory=Project)
    negotiation: Negotiation = Field(default_factory=Negotiation)
    execution: Execution = Field(default_factory=Execution)
    ownership: Ownership = Field(default_factory=Ownership)
    events: Events = Field(default_factory=Events)
    network: Network = Field(default_factory=Network)
    tactics: dict[str, Tactic] = Field(default_factory=dict, description="Per-tactic overrides of the outcome table.")

    @model_validator(mode="after")
    def _consistent(self):
        names = [d.name for d in self.departments]
        if len(set(names)) != len(names):
            raise ValueError(f"department names must be unique, got {names}")
        if not any(d.capacity > 0 for d in self.departments):
            raise ValueError("at least one department needs capacity > 0 (who builds it?)")
        from sim.tactics import TACTICS
        unknown = set(self.tactics) - set(TACTICS)
        if unknown:
            raise ValueError(f"unknown tactic(s) {sorted(unknown)}; allowed: {sorted(TACTICS)}")
        from sim.strategies import STRATEGIES
        if self.pm.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.pm.strategy!r}; allowed: {sorted(STRATEGIES)}")
        return self

    def with_overrides(self, overrides: dict[str, object]) -> "Scenario":
        """Return a copy with dotted-path overrides applied, e.g. {"pm.ownership": 0.8}."""
        data = self.model_dump()
        for path, value in overrides.items():
            set_path(data, path, value)
        return Scenario.model_validate(data)


def set_path(data: dict, path: str, value) -> None:
    """Set ``data[a][b]...`` for the dotted ``path`` "a.b..."; list items by name or index."""
    parts = path.split(".")
    node = data
    for i, key in enumerate(parts[:-1]):
        node = _child(node, key, ".".join(parts[: i + 1]))
    last = parts[-1]
    if isinstance(node, list):
        node[_list_index(node, last, path)] = value
    elif isinstance(node, dict):
        if last not in node and parts[0] != "tactics":
            raise KeyError(f"unknown parameter {path!r}")
        node[last] = value
    else:
        raise KeyError(f"cannot set {path!r}")


def _child(node, key, where):
    if isinstance(node, list):
        return node[_list_index(node, key, where)]
    if isinstance(node, dict):
        if key not in node:
            if where == "tactics" or where.startswith("tactics."):
                node[key] = {}
            else:
                raise KeyError(f"unknown parameter {where!r}")
        return node[key]
    raise KeyError(f"unknown parameter {where!r}")


def _list_index(items: list, key: str, where: str) -> int:
    if key.isdigit():
        idx = int(key)
        if idx >= len(items):
            raise KeyError(f"index {idx} out of range at {where!r}")
        return idx
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == key:
            return i
    raise KeyError(f"no item named {key!r} at {where!r}")
