"""The negotiation protocol: alternating offers with a deadline and decision rights.

Protocol (one round per day while there is no agreed plan):

1. The PM proposes the *what* (scope, release day, review depth). Among the plans
   whose utility to the PM (as it sees them) is at least its aspiration today (see
   :mod:`sim.concession`), it picks the one maximising ``sum_k u_k + 2 * sum_k
   min(0, u_k - r_k)`` over the leads, computed with its *beliefs* about their
   priorities and reservations (ties go to the PM's own utility). This score rises in
   every lead's utility, so with true beliefs the choice is Pareto-optimal.
2. Decision rights: the *how* (quality bar) is the builder's (the first department
   with capacity: engineering by default). The builder fills in its preferred quality
   bar for that scope, unless the PM dictates one: a PM who strictly prefers another
   bar and oversteps (chance ``ownership.overstep * ownership``, a tenth of it for
   non-technical PMs). Then the plan's autonomy score is 0 and the builder's trust in
   the PM drops by ``negotiation.overstep_trust_cost``. The PM has no veto and no command.
3. Every lead answers accept or object. Veto holders object outright when the plan
   breaks their hard limit (``Department.hard_limit``; engineering: feasibility,
   legal: safety); the PM remembers announced limits and stops proposing such plans.
4. The plan is agreed when every veto holder and at least ``quorum`` of all leads
   accept.
5. Otherwise the most salient objector counters with its own best plan among those
   the PM could still accept; the PM hears the counter (and learns a little about
   that lead's priorities and reservation), and if the counter meets its aspiration it is put to
   every lead at once (the alternating offer); agreed under the same rule.
6. With no agreement after ``negotiation.max_days`` the effort is abandoned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.concession import aspiration


@dataclass
class Offer:
    day: int
    by: str
    plan: int
    dictated: bool
    utilities: dict[str, float]
    responses: dict[str, bool]
    agreed: bool


@dataclass
class NegotiationState:
    start_day: int
    reason: str
    offers: list[Offer] = field(default_factory=list)


def pm_proposal(model) -> tuple[int, float]:
    """The PM's offer today and its aspiration (see module docstring, step 1)."""
    pm = model.pm
    neg = model.negotiation
    believed = model.believed_utilities()  # plans x leads, with engineering's best-response how
    own = model.pm_utilities()
    valid = model.valid_plans()
    u_max = float(own[valid & model.known_limits_ok()].max()) if (valid & model.known_limits_ok()).any() \
        else float(own[valid].max())
    t = model.day - neg.start_day
    a = aspiration(t, model.params.negotiation.max_days, pm.concession, u_max,
                   min(u_max, pm.params.reservation))
    valid = valid & model.known_limits_ok()
    if not valid.any():
        valid = model.valid_plans()
    candidates = valid & (own >= a - 1e-12)
    if not candidates.any():
        candidates = valid & (own >= own[valid].max() - 1e-12)
    believed_res = np.array([model.believed_reservation(l) for l in model.leads])
    score = believed.sum(axis=1) + 2.0 * np.minimum(0.0, believed - believed_res).sum(axis=1)
    score = np.where(candidates, score, -np.inf)
    best = np.flatnonzero(score >= score.max() - 1e-12)
    pick = int(best[np.argmax(own[best])])
    return pick, a


def counter_offer(model, lead, a: float) -> int:
    """The objector's best plan among those meeting the PM's aspiration (ties: joint utility)."""
    own = model.pm_utilities()
    U = model.true_utility_matrix()
    ok = model.valid_plans() & (own >= a - 1e-12)
    if not ok.any():
        ok = model.valid_plans()
    mine = np.where(ok, U[:, lead.index], -np.inf)
    best = np.flatnonzero(mine >= mine.max() - 1e-12)
    joint = U[best].sum(axis=1)
    best = best[joint >= joint.max() - 1e-12]
    return int(best[np.argmax(own[best])])  # last tie-break: the PM's own utility


def agreement_rule(model, responses: dict[str, bool]) -> bool:
    """Step 4 of the protocol: every veto holder and at least a quorum of leads accept."""
    vetoes_ok = all(responses[l.department] for l in model.leads if l.veto)
    share = sum(responses.values()) / len(responses)
    return vetoes_ok and share >= model.params.negotiation.quorum - 1e-12


def put_to_vote(model, plan: int, dictated: bool, by: str) -> tuple[bool, Offer]:
    """Every lead answers; agreement needs every veto holder and a quorum."""
    responses, utilities = {}, {}
    for lead in model.leads:
        ok, why = lead.respond(plan, dictated)
        responses[lead.department] = ok
        utilities[lead.department] = lead.utility(plan, dictated)
        verb = "accepted" if ok else "objected"
        model.log("response", f"{lead.department} {verb}: {why}", actor=lead.department)
    agreed = agreement_rule(model, responses)
    offer = Offer(model.day, by, plan, dictated, utilities, responses, agreed)
    model.negotiation.offers.append(offer)
    model.offers.append(offer)
    return agreed, offer


def negotiation_round(model) -> bool:
    """One day of the protocol. Returns True when a plan is agreed."""
    pm = model.pm
    plan, a = pm_proposal(model)
    dictated = False
    if model.dictation_choice(plan) != plan and pm.oversteps():
        plan = model.dictation_choice(plan)
        dictated = True
        model.builder().adjust_trust(-model.params.negotiation.overstep_trust_cost, cause="PM dictated how")
        model.counters["oversteps"] += 1
    model.current_proposal = (plan, dictated)
    how = " (dictating the quality bar)" if dictated else ""
    model.log("proposal", f"PM proposed: {model.plans.plan(plan, dictated).describe()}{how}; "
              f"aspiration {a:.2f}", actor="PM")
    agreed, offer = put_to_vote(model, plan, dictated, "PM")
    if agreed:
        return model.agree(plan, dictated)
    objectors = [l for l in model.leads if not offer.responses[l.department]]
    for lead in objectors:
        if lead.veto_reason(plan, dictated):
            model.known_vetoes.add(lead.department)
    lead = max(objectors, key=lambda l: (l.salience(), -l.index))
    counter = counter_offer(model, lead, a)
    pm.learn(lead, model.params.negotiation.counter_learning)
    if counter == plan:
        return False
    if model.pm_utilities()[counter] >= a - 1e-12:
        model.log("counter", f"{lead.department} countered: {model.plans.plan(counter).describe()}; "
                  f"PM put it to everyone", actor=lead.department)
        agreed, _ = put_to_vote(model, counter, False, lead.department)
        if agreed:
            return model.agree(counter, False)
    else:
        model.log("counter", f"{lead.department} countered with a plan below the PM's aspiration "
                  f"({model.pm_utilities()[counter]:.2f} < {a:.2f}); PM declined", actor=lead.department)
    return False
