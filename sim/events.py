"""Random shocks: scope creep, incidents, regulatory change, executive re-prioritisation.

Each shock is a small function registered in :data:`SHOCKS` with the name of its
daily-rate parameter in :class:`sim.params.Events`. A shock raises urgency, wipes out
compliance (commitment holds) and makes every lead re-check the agreed plan.
"""

from __future__ import annotations

import numpy as np


def scope_creep(model) -> str:
    ev = model.params.events
    pm = model.pm
    if model.build is None:
        return ""
    if pm.wants() and pm.spend_attention(1):
        model.counters["creep_deflected"] += 1
        return "sales asked for more scope; the PM negotiated it into the next release"
    mask = model.build.mask.astype(bool)
    model.effort[mask] *= 1.0 + ev.scope_creep_effort
    model.plans_changed()
    return f"sales asked for more scope: the agreed features grew by {ev.scope_creep_effort:.0%} effort"


def incident(model) -> str:
    ev = model.params.events
    model.incident_days_left = ev.incident_days
    return f"an incident pulled {ev.incident_loss:.0%} of engineering capacity for {ev.incident_days} days"


def regulatory(model) -> str:
    ev = model.params.events
    model.risk = np.minimum(1.0, model.risk + ev.regulatory_risk)
    model.plans_changed()
    return f"a regulatory change raised every feature's legal risk by {ev.regulatory_risk:.2f}"


def reprioritisation(model) -> str:
    lead = model.leads[int(model.rng.integers(len(model.leads)))]
    draw = model.rng.dirichlet(np.ones(len(lead.weights)))
    lead.weights = 0.7 * lead.weights + 0.3 * draw
    model.plans_changed()
    return f"the executive re-prioritised: {lead.department}'s priorities shifted"


def _culprit(model, shock: str) -> str | None:
    """Whom a shock's blame naturally falls on ("" = no blame: nobody's fault)."""
    if shock == "incident":
        return model.builder().department
    if shock == "scope_creep":
        return "sales"
    if shock == "regulatory":
        reviewer = model.reviewer()
        return reviewer.department if reviewer is not None else None
    return ""


SHOCKS = {
    "scope_creep": scope_creep,
    "incident": incident,
    "regulatory": regulatory,
    "reprioritisation": reprioritisation,
}


def shock_day(model) -> None:
    """Draw today's shocks (each independently at its daily rate) and apply them."""
    ev = model.params.events
    if model.incident_days_left > 0:
        model.incident_days_left -= 1
    model.shock_urgency *= 0.8
    for name, fn in SHOCKS.items():
        rate = getattr(ev, name)
        if rate > 0 and model.rng.random() < rate:
            text = fn(model)
            if not text:
                continue
            model.counters["shocks"] += 1
            model.shock_urgency = min(1.0, model.shock_urgency + 0.3)
            model.log("shock", text, actor=name)
            broken = [l.department for l in model.leads if l.break_compliance()]
            if broken:
                model.log("shock", f"compliance broke: {', '.join(broken)} no longer go along", actor=name)
            culprit = _culprit(model, name)
            if model.build is not None and culprit != "":
                model.blame_round(name.replace("_", " "), culprit=culprit)
            model.recheck_plan(f"after the {name.replace('_', ' ')}")
