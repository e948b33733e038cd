"""Building the agreed plan: capacity, productivity, waiting on people, slips.

Each day the departments with capacity (engineering by default, the *builder*) supply
their effort (less while an incident pulls it). Progress is ``capacity * productivity``,
where productivity falls with the builders' misalignment (low support for the plan),
is partly recovered by a PM filling gaps, loses a share to rework at low quality bars,
and drops while work waits on sales' input. Progress can never exceed the capacity
available that day. When the build is done, the *reviewer* (the veto holder whose hard
limit is safety: legal by default) reviews for the plan's review days; each day of
review happens only if the reviewer answers that day. Answer chances fall with trust
(collaboration inertia) and rise when the PM follows up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np



@dataclass
class Build:
    utilities: dict[str, float]  # each lead's true utility of the plan on the day it was agreed
    plan: int
    dictated: bool
    release: int
    quality: float
    review_left: int
    mask: np.ndarray
    sales_input_done: bool = False
    waiting_sales: bool = False
    behind: bool = False
    missed_release: bool = False
    recent: list[float] = field(default_factory=list)


def remaining_effort(model, build: Build) -> float:
    """Effort (engineer-days) still needed for the agreed scope at its quality bar."""
    left = np.maximum(model.effort - model.done, 0.0)
    return float((build.mask * left).sum() * (1.0 + build.quality))


def plan_effort(model, build: Build) -> float:
    return float((build.mask * model.effort).sum() * (1.0 + build.quality))


def capacity_today(model) -> float:
    cap = sum(l.capacity for l in model.leads)
    if model.incident_days_left > 0:
        cap *= 1.0 - model.params.events.incident_loss
    return cap


def build_day(model) -> float:
    """Engineering turns today's capacity into progress on the current build; returns progress.

    Also runs while the plan is being renegotiated: the team keeps building the old
    plan until a new one is agreed."""
    b: Build = model.build
    ex = model.params.execution
    own = model.params.ownership
    pm = model.pm
    cap = capacity_today(model)
    model.capacity_available += cap
    remaining = remaining_effort(model, b)
    progress = 0.0
    if remaining > 1e-9:
        eng = model.builders_support()
        loss = ex.misalignment_loss * (1.0 - eng)
        if model.gap_fill_today:
            loss *= 1.0 - own.gap_fill * pm.ownership
        qs = model.plans.qualities
        q_norm = (b.quality - qs.min()) / (qs.max() - qs.min()) if qs.max() > qs.min() else 1.0
        prod = ex.productivity * (1.0 - loss) * (1.0 - ex.rework * (1.0 - q_norm))
        if b.waiting_sales:
            prod *= 1.0 - ex.blocked_share
        progress = min(remaining, cap * prod)
        if cap > 0 and progress < remaining:
            # everyone re-plans with the burn rate they observe (exponential average)
            model.velocity_factor = 0.8 * model.velocity_factor + 0.2 * (progress / cap)
        model.add_progress(b, progress)
        model.effort_done += progress
        total = plan_effort(model, b)
        done_share = 1.0 - remaining_effort(model, b) / total if total > 0 else 1.0
        if not b.sales_input_done and not b.waiting_sales and done_share >= model.params.project.sales_input_at:
            b.waiting_sales = True
            model.log("waiting", "engineering needs sales' input on the deal requirements; work slows until sales answers",
                      actor="engineering", target="sales")
        if b.waiting_sales:
            sales = model.lead_by_name("sales")
            if sales is None or model.rng.random() < model.answer_chance(sales):
                b.waiting_sales = False
                b.sales_input_done = True
                model.log("unblocked", "sales answered; engineering is unblocked", actor="sales")
            else:
                model.counters["waiting_days"] += 1
    return progress


def execution_day(model) -> None:
    """One day of building, waiting and reviewing; may trigger slips, blame and re-plans."""
    b: Build = model.build
    progress = build_day(model)
    if remaining_effort(model, b) <= 1e-9 and progress <= 0:
        legal = model.reviewer()
        if b.review_left > 0:
            if legal is None or model.rng.random() < model.answer_chance(legal):
                b.review_left -= 1
                if b.review_left == 0:
                    model.log("review", "legal finished its review", actor="legal")
            else:
                model.counters["waiting_days"] += 1
        if b.review_left == 0:
            veto = legal.veto_reason(b.plan, b.dictated) if legal is not None else None
            if veto:
                model.log("objection", f"legal refused to sign off: {veto}", actor="legal")
                model.blame_round(f"{legal.department} refused sign-off", culprit=legal.department)
                model.renegotiate(f"legal refused sign-off ({veto})")
                return
            model.deliver()
            return
    b.recent = (b.recent + [progress])[-7:]
    check_schedule(model, b)


def projected_finish(model, b: Build) -> float:
    """Burn-down forecast: today + remaining build at recent velocity + expected review days."""
    remaining = remaining_effort(model, b)
    velocity = max(sum(l.capacity for l in model.leads) * model.velocity_factor, 1e-6)
    legal = model.reviewer()
    p = model.answer_chance(legal) if legal is not None else 1.0
    return model.day + remaining / velocity + b.review_left / max(p, 0.05)


def check_schedule(model, b: Build) -> None:
    """Detect a predicted slip (blame, and early re-planning with ownership) or a missed release."""
    ex = model.params.execution
    pm = model.pm
    if model.day > b.release and not b.missed_release:
        b.missed_release = True
        model.log("slip", f"release day {b.release} passed without delivery", actor="PM")
        model.blame_round("missed release", culprit=model.builder().department)
        model.renegotiate(f"release day {b.release} missed")
        return
    finish = projected_finish(model, b)
    if finish > b.release + ex.slip_margin:
        if not b.behind:
            b.behind = True
            model.log("slip", f"burn-down predicts day {finish:.0f} against release day {b.release}",
                      actor="engineering")
            model.blame_round("predicted slip", culprit=model.builder().department)
        if (pm.ownership >= model.params.ownership.replan_threshold and pm.wants()
                and model.day < b.release
                and model.day - model.last_agreement_day >= ex.replan_cooldown):
            pm.attention_debt += 2
            model.counters["early_replans"] += 1
            model.renegotiate(f"early re-plan: burn-down predicts day {finish:.0f} vs release day {b.release}")
    else:
        b.behind = False


def feasibility_note(model) -> str:
    """Why the full scope can or cannot fit: capacity vs effort by the deadline."""
    p = model.params
    full = float(model.effort.sum() * (1.0 + min(p.project.quality_levels)))
    cap = sum(l.capacity for l in model.leads) * p.execution.productivity
    supply = cap * max(p.project.deadline - min(p.project.review_days), 0)
    verdict = "fits" if full <= supply else "cannot fit"
    return (f"full scope needs {full:.0f} engineer-days; engineering can supply at most {supply:.0f} "
            f"by the deadline (day {p.project.deadline}): the full scope {verdict}")

