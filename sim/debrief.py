"""The debrief: why each stakeholder committed or resisted, and which PM moves mattered.

Built only from the run's causal trace (tactic results with their reasons and
acceptance margins before/after, trust changes with their causes, ownership actions),
never from canned advice.
"""

from __future__ import annotations

from collections import Counter


def stakeholder_debrief(model, lead) -> dict:
    outcomes = Counter(o for _, _, o in lead.outcomes)
    by_tactic = Counter((t, o) for _, t, o in lead.outcomes)
    reasons: list[str] = []
    cred = model.pm.credibility[lead.department]
    if cred < 0.5:
        reasons.append(f"the {model.pm.archetype} PM had low credibility with {lead.department} ({cred:.2f})")
    losses = [(d, c) for _, d, c in lead.trust_log if d < 0]
    if losses:
        worst = Counter()
        for d, c in losses:
            worst[c] += -d
        cause, amount = worst.most_common(1)[0]
        reasons.append(f"trust in the PM fell {amount:.2f} through '{cause}'")
    gains = [(d, c) for _, d, c in lead.trust_log if d > 0]
    if gains:
        best = Counter()
        for d, c in gains:
            best[c] += d
        cause, amount = best.most_common(1)[0]
        reasons.append(f"trust rose {amount:.2f} through '{cause}'")
    results = [r for r in model.trace if r.target == lead.department]
    for r in results[-3:]:
        if r.outcome == "resistance" and r.reasons:
            reasons.append(f"day {r.day}: resisted {r.tactic.replace('_', ' ')} because {r.reasons[0]}")
    final_u = lead.utility() if model.reference_plan() is not None else None
    if final_u is not None:
        gap = final_u - lead.reservation
        reasons.append(f"final plan utility {final_u:.2f} vs reservation {lead.reservation:.2f} "
                       f"({'above' if gap >= 0 else 'below'} by {abs(gap):.2f})")
    if lead.current_urgency() < 0.4:
        reasons.append(f"low urgency ({lead.current_urgency():.2f})")
    return {
        "department": lead.department,
        "stance": lead.stance,
        "trust_start": model.initial_trust[lead.department],
        "trust_end": lead.trust,
        "commitments": outcomes["commitment"],
        "compliances": outcomes["compliance"],
        "resistances": outcomes["resistance"],
        "by_tactic": {f"{t}:{o}": n for (t, o), n in sorted(by_tactic.items())},
        "why": reasons,
    }


def moves_that_mattered(model, limit: int = 5) -> list[str]:
    """Tactics that turned an objection into acceptance, then the largest margin shifts."""
    flips = [r for r in model.trace if r.margin_before < 0 <= r.margin_after]
    moves = [f"day {r.day}: {r.tactic.replace('_', ' ')} on {r.target} turned an objection into "
             f"acceptance ({r.margin_before:+.2f} -> {r.margin_after:+.2f}, {r.outcome or 'no outcome drawn'})"
             for r in flips]
    flipped = {id(r) for r in flips}
    rest = sorted((r for r in model.trace if id(r) not in flipped),
                  key=lambda r: -abs(r.margin_after - r.margin_before))
    for r in rest:
        if len(moves) >= limit:
            break
        if abs(r.margin_after - r.margin_before) < 0.02:
            break
        moves.append(f"day {r.day}: {r.tactic.replace('_', ' ')} on {r.target} moved its margin "
                     f"{r.margin_before:+.2f} -> {r.margin_after:+.2f} ({r.outcome or 'no outcome drawn'})")
    c = model.counters
    if c["follow_ups"]:
        moves.append(f"{c['follow_ups']} follow-ups on blocked work")
    if c["blame_absorbed"]:
        moves.append(f"absorbed {c['blame_absorbed']} of {c['blame_events']} blame events")
    if c["early_replans"]:
        moves.append(f"{c['early_replans']} early re-plans when the burn-down predicted a slip")
    if c["oversteps"]:
        moves.append(f"stepped into engineering's *how* {c['oversteps']} times (cost engineering trust)")
    return moves[: limit + 4]


def build_debrief(model) -> dict:
    return {
        "outcome": model.phase,
        "reason": model.end_reason,
        "stakeholders": [stakeholder_debrief(model, l) for l in model.leads],
        "moves_that_mattered": moves_that_mattered(model),
    }


def debrief_text(debrief: dict) -> str:
    lines = [f"Outcome: {debrief['outcome']} - {debrief['reason']}"]
    for s in debrief["stakeholders"]:
        lines.append(f"- {s['department']} ended {s['stance']} (trust {s['trust_start']:.2f} -> {s['trust_end']:.2f}; "
                     f"{s['commitments']} commitment, {s['compliances']} compliance, {s['resistances']} resistance)")
        lines.extend(f"    because {w}" for w in s["why"])
    lines.append("Moves that mattered:")
    lines.extend(f"- {m}" for m in debrief["moves_that_mattered"])
    return "\n".join(lines)
