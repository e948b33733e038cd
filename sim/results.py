"""Outcomes of a finished run (MODEL.md section 6), computed from the model's state."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.plan import ISSUE_INDEX


@dataclass
class RunResult:
    """Everything one run produced: summary, daily series, story and debrief."""

    scenario: str
    seed: int | None
    summary: dict
    timeseries: pd.DataFrame
    events: pd.DataFrame
    debrief: dict
    offers: pd.DataFrame = field(default_factory=pd.DataFrame)

    def story(self) -> str:
        return "\n".join(f"day {r.day:>3}: {r.text}" for r in self.events.itertuples())


def delivered_value(model) -> float:
    """Customer value of the shipped scope, discounted by quality and residual risk."""
    if model.phase != "delivered" or model.build is None:
        return 0.0
    b = model.build
    s = model.true_scores(b.plan, b.dictated)
    raw = float((b.mask * model.plans.value).sum())
    quality = 0.7 + 0.3 * s[ISSUE_INDEX["quality"]]
    residual = 1.0 - s[ISSUE_INDEX["safety"]]
    return raw * quality * (1.0 - 0.5 * residual)


def summarise(model) -> dict:
    """The per-run outcome summary (flat, JSON- and Parquet-friendly)."""
    p = model.params
    c = model.counters
    delivered = model.phase == "delivered"
    on_time = delivered and model.delivery_day <= p.project.deadline
    full = delivered and len(model.delivered_scope) == len(model.plans.names)
    out = {
        "outcome": model.phase,
        "delivered": delivered,
        "on_time": bool(on_time),
        "full_scope_on_time": bool(on_time and full),
        "delivery_day": model.delivery_day if delivered else np.nan,
        "slip_days": (model.delivery_day - p.project.deadline) if delivered else np.nan,
        "days": model.day,
        "delivered_value": delivered_value(model),
        "max_value": float(model.plans.value.sum()),
        "delivered_features": len(model.delivered_scope),
        "days_to_first_agreement": model.first_agreement_day if model.first_agreement_day is not None else np.nan,
        "renegotiations": c["renegotiations"],
        "escalations": c["escalations"],
        "commitments": c["commitment"],
        "compliances": c["compliance"],
        "resistances": c["resistance"],
        "blame_events": c["blame_events"],
        "blame_absorbed": c["blame_absorbed"],
        "follow_ups": c["follow_ups"],
        "gap_fill_days": c["gap_fill_days"],
        "early_replans": c["early_replans"],
        "oversteps": c["oversteps"],
        "shocks": c["shocks"],
        "waiting_days": c["waiting_days"],
        "trust_in_pm_start": float(np.mean(list(model.initial_trust.values()))),
        "trust_in_pm_end": float(np.mean([l.trust for l in model.leads])),
        "cross_trust_start": model.initial_cross_trust,
        "cross_trust_end": model.org.mean_cross_trust(),
        "effort_done": model.effort_done,
        "capacity_available": model.capacity_available,
        "pm_capital_spent": model.pm.capital_spent,
        "pm_attention_spent": model.pm.attention_spent,
        "end_reason": model.end_reason,
    }
    out["trust_change"] = out["trust_in_pm_end"] - out["trust_in_pm_start"]
    ref = model.build
    utils = []
    for lead in model.leads:
        # satisfaction is judged as of agreement: later the schedule and feasibility scores of
        # any plan decay simply because time has passed
        u = ref.utilities[lead.department] if ref is not None else np.nan
        out[f"utility_{lead.department}"] = u
        out[f"trust_{lead.department}_start"] = model.initial_trust[lead.department]
        out[f"trust_{lead.department}_end"] = lead.trust
        utils.append(u)
    out["satisfaction"] = float(np.mean(utils)) if ref is not None else np.nan
    return out


def offers_frame(model) -> pd.DataFrame:
    rows = []
    for o in model.offers:
        row = {"day": o.day, "by": o.by, "plan": o.plan, "dictated": o.dictated, "agreed": o.agreed}
        row.update({f"u_{k}": v for k, v in o.utilities.items()})
        row.update({f"accept_{k}": v for k, v in o.responses.items()})
        rows.append(row)
    return pd.DataFrame(rows)
