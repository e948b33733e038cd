"""Model invariants, checked by hypothesis over random valid scenarios (issue 8, item 2).

For every scenario drawn by :func:`reliability_strategies.scenarios` and any seed:

* no NaN or inf in any numeric output, except the documented ones: ``delivery_day`` and
  ``slip_days`` exactly when nothing was delivered; ``days_to_first_agreement``,
  ``satisfaction`` and ``utility_<dept>`` exactly when no plan was ever agreed;
  ``cross_trust_*`` exactly when there is a single department; in the time series,
  ``release_day`` / ``remaining_effort`` exactly on the days before the first agreement;
* support, trust and probabilities stay in [0, 1]: the time series' ``support_*`` /
  ``trust_*`` / ``trust_in_pm`` / ``cross_trust``, the organisation's opinion and trust
  arrays and every lead's attributes, every day; the outcome probabilities of every
  tactic used; every offer's utilities;
* effort done never exceeds the capacity available (each day and in total);
* the run ends by the horizon, in a terminal phase;
* the same scenario and seed give identical output (summary, time series, events, offers).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from reliability_cases import case
from reliability_strategies import scenarios
from sim.model import PMSimModel
from sim.results import summarise

EPS = 1e-9
TERMINAL = {"delivered", "failed", "abandoned"}
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=False, print_blob=True)


def in_unit(x, what: str) -> None:
    arr = np.asarray(x, dtype=float)
    assert np.all(np.isfinite(arr)), f"{what}: not finite: {arr[~np.isfinite(arr)][:5]}"
    assert np.all((arr >= -EPS) & (arr <= 1 + EPS)), f"{what}: outside [0, 1]: {arr[(arr < 0) | (arr > 1)][:5]}"


def check_day(model: PMSimModel) -> None:
    """Invariants of the model's state after any day."""
    org = model.org
    in_unit(org.x, "org.x (support opinions)")
    in_unit(org.net.trust, "org trust on edges")
    inter = org.inter_department_trust()
    in_unit(inter[~np.isnan(inter)], "inter-department trust")
    for lead in model.leads:
        d = lead.department
        in_unit(lead.trust, f"{d}.trust")
        in_unit(lead.support, f"{d}.support")
        in_unit(lead.commitment, f"{d}.commitment")
        in_unit(lead.compliance, f"{d}.compliance")
        in_unit(lead.blame_propensity, f"{d}.blame_propensity")
        in_unit(lead.answer_chance(), f"{d}.answer_chance()")
        in_unit(model.answer_chance(lead), f"model.answer_chance({d})")
        in_unit(lead.evaluation(), f"{d}.evaluation()")
        in_unit(model.pm.believed_reservation[d], f"PM's believed reservation of {d}")
        in_unit(model.pm.beliefs[d], f"PM's beliefs about {d}")
        assert abs(float(np.sum(model.pm.beliefs[d])) - 1) < 1e-6, f"PM's beliefs about {d} do not sum to 1"
        assert 0 <= lead.resistance <= 2 + EPS and 0 <= lead.resentment <= 3 + EPS
        assert math.isfinite(lead.threshold()), f"{d}.threshold() not finite"
    assert model.effort_done <= model.capacity_available * (1 + 1e-12) + EPS, \
        f"day {model.day}: effort done {model.effort_done} > capacity available {model.capacity_available}"
    assert np.all(model.done <= model.effort + EPS) and np.all(model.done >= 0)
    assert np.all(np.isfinite(model.effort)) and np.all(np.isfinite(model.risk))
    assert 0 <= model.pm.capital <= 10 + EPS and model.pm.attention_left >= 0
    in_unit(model.velocity_factor, "velocity factor")


def run_checked(scenario, seed: int, every: int = 1) -> PMSimModel:
    """Run day by day, checking the state after every ``every``-th day and the last; the run
    must end by the horizon."""
    model = PMSimModel(scenario, rng=seed)
    check_day(model)
    horizon = scenario.project.horizon
    while model.running:
        model.step()
        if model.day % every == 0 or not model.running:
            check_day(model)
        assert model.day <= horizon, f"still running on day {model.day} > horizon {horizon}"
    assert model.phase in TERMINAL and model.end_reason
    return model


def check_summary(s: dict, model: PMSimModel) -> None:
    delivered = s["outcome"] == "delivered"
    agreed = model.first_agreement_day is not None
    depts = [l.department for l in model.leads]
    nan_when = {
        "delivery_day": not delivered, "slip_days": not delivered,
        "days_to_first_agreement": not agreed, "satisfaction": not agreed,
        "cross_trust_start": len(depts) == 1, "cross_trust_end": len(depts) == 1,
        **{f"utility_{d}": not agreed for d in depts},
    }
    for key, value in s.items():
        if isinstance(value, (bool, np.bool_, str)):
            continue
        v = float(value)
        if key in nan_when:
            assert math.isnan(v) == nan_when[key], f"summary {key} = {v} (NaN expected: {nan_when[key]})"
            if math.isnan(v):
                continue
        assert math.isfinite(v), f"summary {key} = {v}"
    for key in ("trust_in_pm_start", "trust_in_pm_end", "satisfaction", "cross_trust_start", "cross_trust_end",
                *[f"trust_{d}_start" for d in depts], *[f"trust_{d}_end" for d in depts],
                *[f"utility_{d}" for d in depts]):
        if not math.isnan(float(s[key])):
            in_unit(s[key], f"summary {key}")
    assert s["days"] <= model.params.project.horizon
    assert s["effort_done"] <= s["capacity_available"] * (1 + 1e-12) + EPS
    assert 0 <= s["delivered_value"] <= s["max_value"] + EPS
    assert s["delivered"] == delivered and (not s["on_time"] or delivered)
    if delivered:
        assert s["delivery_day"] <= model.params.project.horizon


def check_timeseries(ts: pd.DataFrame, model: PMSimModel) -> None:
    assert len(ts) == model.day + 1 and list(ts["day"]) == list(range(model.day + 1))
    first = model.first_agreement_day
    before = ts["day"] < first if first is not None else pd.Series(True, index=ts.index)
    for col in ts.columns:
        if col == "phase":
            continue
        values = ts[col].to_numpy(dtype=float)
        nan = np.isnan(values)
        if col in ("release_day", "remaining_effort"):
            assert (nan == before.to_numpy()).all(), f"{col}: NaN on days {ts['day'][nan].tolist()[:5]}, " \
                                                     f"first agreement day {first}"
        elif col == "cross_trust" and len(model.leads) == 1:
            assert nan.all()
        else:
            assert not nan.any(), f"timeseries {col} has NaN on days {ts['day'][nan].tolist()[:5]}"
        assert not np.isinf(values).any(), f"timeseries {col} has inf"
        if col.startswith(("support_", "trust_")) or col == "cross_trust":
            in_unit(values[~nan], f"timeseries {col}")
    effort = ts["effort_done"].to_numpy()
    cap = ts["capacity_available"].to_numpy()
    assert np.all(effort <= cap * (1 + 1e-12) + EPS), "cumulative effort done > capacity available"
    assert np.all(np.diff(effort) <= np.diff(cap) * (1 + 1e-12) + EPS), "a day's effort > that day's capacity"
    assert np.all(np.diff(effort) >= -EPS) and np.all(np.diff(cap) >= -EPS)


def check_trace(model: PMSimModel) -> None:
    for r in model.trace:
        p = np.array(r.probabilities)
        in_unit(p, f"tactic {r.tactic} probabilities")
        assert abs(p.sum() - 1) < 1e-9, f"tactic {r.tactic} probabilities sum to {p.sum()}"
    for o in model.offers:
        in_unit(list(o.utilities.values()), f"offer utilities on day {o.day}")


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_exact=True)


def same_summary(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            continue
        assert x == y, f"summary {k}: {x!r} != {y!r}"


@case("invariant", "random valid scenarios (1-5 departments, 0-50 members, 1-6 features, every parameter "
      "in its schema range, bounded confidence on/off) run day by day",
      "no NaN/inf outside the documented NaNs; support, trust, beliefs, probabilities and utilities in "
      "[0, 1]; effort done <= capacity available every day; the run ends by the horizon in a terminal phase",
      count=SETTINGS.max_examples)
@SETTINGS
@given(sc=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_random_scenarios_keep_the_invariants(sc, seed):
    model = run_checked(sc, seed)
    summary = summarise(model)
    check_summary(summary, model)
    check_timeseries(model.datacollector.get_model_vars_dataframe(), model)
    check_trace(model)


@case("invariant", "the same random scenario and seed run twice through sim.run",
      "identical summary, time series, events and offers", count=25)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sc=scenarios(), seed=st.integers(0, 2**63 - 1))
def test_same_seed_same_output(sc, seed):
    a = sim.run(sc, seed=seed)
    b = sim.run(sc, seed=seed)
    same_summary(a.summary, b.summary)
    same(a.timeseries, b.timeseries)
    same(a.events, b.events)
    same(a.offers, b.offers)
    assert a.story() == b.story()
    assert _nan_equal(a.debrief, b.debrief)


def _nan_equal(x, y) -> bool:
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_nan_equal(x[k], y[k]) for k in x)
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        return len(x) == len(y) and all(_nan_equal(a, b) for a, b in zip(x, y))
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return x == y


@case("invariant", "extreme corners: the longest horizon (5000 days) with a 1,000,000 engineer-day feature, "
      "0.01 effort/day and abandonment as late as the schema allows; a single department with no members; "
      "every shock every day",
      "the run still ends by the horizon with finite outputs", count=3)
def test_extreme_corners():
    base = sim.Scenario()
    corners = [
        # long horizon, almost no capacity, abandonment disabled as far as the schema allows
        base.with_overrides({"project.deadline": 2000, "project.horizon": 5000,
                             "project.features": [{"name": "only", "effort": 1_000_000, "value": 1}],
                             "project.quality_levels": [0.0], "project.review_days": [0],
                             "project.review_coverage": [0.0],
                             "departments.engineering.capacity": 0.01, "execution.abandon_days": 1000,
                             "execution.abandon_support": 0.0, "negotiation.max_days": 1000,
                             "negotiation.feasibility_veto": 0.0, "negotiation.safety_veto": 0.0}),
        # one department, nobody else: cross trust undefined, no sales, no legal
        sim.Scenario(departments=[{"name": "solo", "weights": {"value": 1}, "capacity": 1, "members": 0}]),
        # every shock every day
        base.with_overrides({"events.scope_creep": 1.0, "events.incident": 1.0, "events.regulatory": 1.0,
                             "events.reprioritisation": 1.0, "events.scope_creep_effort": 2.0,
                             "events.incident_loss": 1.0}),
    ]
    for sc in corners:
        model = run_checked(sc, seed=3, every=50)
        check_summary(summarise(model), model)
        check_timeseries(model.datacollector.get_model_vars_dataframe(), model)
        check_trace(model)


@case("invariant", "trust cut by 87.5% at every blame, day after day, until it reaches subnormal values "
      "(found by hypothesis: two leads who listen only to each other, blame propensity 1)",
      "support stays finite: a row whose listening weights sum below the smallest normal double counts as "
      "empty (was: 1/sum = inf, 0 * inf = NaN support on the last day)", count=1)
def test_trust_cut_to_subnormal_values_keeps_support_finite():
    zero = dict(reservation=0.0, stubbornness=0.0, member_stubbornness=0.0, responsiveness=1.0, members=0,
                power=0.0, legitimacy=0.0, urgency=0.0, initial_trust=0.0, misperception=0.0)
    sc = sim.Scenario(
        pm=dict(archetype="technical", ownership=0.0, attention=1, capital=0.0, belief_noise=0.0, reservation=0.0),
        departments=[dict(name="engineering", weights={"autonomy": 1.0}, capacity=1.0, blame_propensity=1.0, **zero),
                     dict(name="sales", weights={"feasibility": 1.0}, blame_propensity=0.0, **zero)],
        project=dict(features=[dict(name="F1", value=0.0, effort=348.0, risk=0.0, novelty=0.0)], deadline=190,
                     horizon=348, release_options=[1], quality_levels=[0.0], review_days=[0, 0, 0],
                     review_coverage=[0.0, 0.0, 0.0], sales_input_at=0.0),
        negotiation=dict(max_days=2, quorum=0.0, support_weight=0.0, stakeholder_concession=0.0,
                         feasibility_veto=0.0, safety_veto=0.0, belief_learning=0.0, counter_learning=0.0,
                         overstep_trust_cost=0.0),
        execution=dict(productivity=1.0, misalignment_loss=0.0, rework=0.0, blocked_share=0.0, slip_margin=0,
                       recheck_tolerance=0.0, replan_cooldown=0, abandon_support=0.0, abandon_days=1,
                       blame_trust_cut=0.875, compliance_decay=0.0),
        ownership=dict(follow_up=0.0, absorb=0.0, gap_fill=0.0, replan_threshold=0.0, overstep=0.0,
                       overstep_trust_cost=0.0),
        events=dict(scope_creep=0.0, incident=1.0, incident_loss=0.0, incident_days=1, regulatory=0.0,
                    reprioritisation=0.0),
        network=dict(p_in=0.0, p_out=0.0, lead_listens_to_members=0.0, listen_to_pm=0.0),
    )
    model = run_checked(sc, seed=0, every=50)
    check_timeseries(model.datacollector.get_model_vars_dataframe(), model)
    # the same fault on the influence network alone: a row whose only trusted edge is subnormal
    import scipy.sparse as sp

    from sim.influence import InfluenceNetwork

    base = sp.csr_array(np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]))
    base.data[:] = 1.0
    net = InfluenceNetwork(base, np.zeros(3), np.array([1.0, 0.5, 0.5]), trust=np.full(base.nnz, 8e-310))
    x = net.step(np.full(3, 0.5))
    assert np.isfinite(x).all() and np.isfinite(net.W.data).all()
