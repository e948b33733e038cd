"""MODEL.md section 5: each ownership behaviour matters (switching it off changes outcomes)."""

from __future__ import annotations

import copy

import pytest
from stats_helpers import blame_prone_inert, diff_ci, outcomes

import sim

SEEDS = range(40)


@pytest.fixture(scope="module")
def base():
    return outcomes(blame_prone_inert(), seeds=SEEDS, pm__ownership=0.9)


def test_follow_up_cuts_waiting_on_inert_stakeholders(base):
    off = outcomes(blame_prone_inert(), seeds=SEEDS, pm__ownership=0.9, ownership__follow_up=0.0)
    assert base.follow_ups.mean() > 0
    d, lo, hi = diff_ci(off.waiting_days, base.waiting_days)
    assert lo > 0, f"waiting days without follow-up +{d:.1f}, CI [{lo:.1f}, {hi:.1f}]"


def test_follow_up_multiplies_the_answer_chance():
    m = sim.PMSimModel(rng=0, pm__ownership=0.8)
    lead = m.lead_by_name("legal")
    plain = m.answer_chance(lead)
    m.followed_up_today = True
    assert m.answer_chance(lead) == pytest.approx(min(1.0, plain * (1 + 1.5 * 0.8)))


def test_blame_absorption_protects_trust():
    for seed in range(5):
        m = sim.PMSimModel(blame_prone_inert(), rng=seed, pm__ownership=1.0)
        for lead in m.leads:
            lead.blame_propensity = 1.0
        twin = copy.deepcopy(m)
        twin.params.ownership.absorb = 0.0
        before = m.org.mean_cross_trust()
        m.blame_round("slip", culprit="engineering")
        twin.blame_round("slip", culprit="engineering")
        assert m.counters["blame_absorbed"] == m.counters["blame_events"] > 0
        assert before > m.org.mean_cross_trust() > twin.org.mean_cross_trust()
        assert m.pm.attention_debt == m.counters["blame_absorbed"]  # absorbing costs attention


def test_blame_round_without_ownership_cuts_trust_fully():
    m = sim.PMSimModel(rng=1, pm__ownership=0.0)
    for lead in m.leads:
        lead.blame_propensity = 1.0
    before = m.org.mean_cross_trust()
    m.blame_round("test", culprit="engineering")
    assert m.counters["blame_events"] >= 2 and m.counters["blame_absorbed"] == 0
    assert m.org.mean_cross_trust() < before


def _executing_model(seed=0):
    m = sim.PMSimModel(blame_prone_inert(), rng=seed, pm__ownership=0.9)
    while m.phase != "executing" or m.build is None or m.build.waiting_sales:
        m.step()
    return m


def test_gap_filling_raises_progress_on_the_same_day():
    from sim.execution import build_day

    for seed in range(5):
        m = _executing_model(seed)
        for lead in m.leads:  # a misaligned engineering team, so there is a loss to recover
            m.org.net.x[lead.node] = 0.3
        twin = copy.deepcopy(m)
        m.gap_fill_today, twin.gap_fill_today = True, False
        assert build_day(m) > build_day(twin) > 0
        assert m.effort_done <= m.capacity_available


def test_early_replanning_only_with_ownership(base):
    low = outcomes(blame_prone_inert(), seeds=SEEDS, pm__ownership=0.3)
    assert base.early_replans.mean() > 0
    assert low.early_replans.sum() == 0


def test_early_replanning_reopens_before_the_release_day():
    """After a major incident the owning PM renegotiates while the date can still be met;
    with early re-planning switched off (same state, same draws) it never does."""
    early = []
    for seed in range(30):
        m = sim.PMSimModel(rng=seed, pm__ownership=0.9, events__incident=0.0, events__scope_creep=0.0)
        while m.running and m.phase != "executing":
            m.step()
        m.params.events.incident_loss = 0.7
        m.incident_days_left = 25
        release = m.build.release
        on, off = copy.deepcopy(m), copy.deepcopy(m)
        off.params.ownership.replan_threshold = 1.0
        on.run()
        off.run()
        replans = [e["day"] for e in on.events_log[len(m.events_log):]
                   if e["kind"] == "renegotiation" and "early re-plan" in e["text"]]
        if replans:
            early.append(replans[0] - release)
        assert off.counters["early_replans"] == 0
        assert not any("early re-plan" in e["text"] for e in off.events_log)
    assert len(early) >= 20, "a 25-day incident makes the burn-down predict a slip"
    assert max(early) < 0, "early re-plans happen before the release day"


def test_technical_pm_overstepping_costs_engineering_trust():
    tech = outcomes(seeds=SEEDS, pm__archetype="technical", pm__ownership=1.0)
    tame = outcomes(seeds=SEEDS, pm__archetype="technical", pm__ownership=1.0, ownership__overstep=0.0)
    assert tech.oversteps.mean() > 1 and tame.oversteps.sum() == 0
    d, lo, hi = diff_ci(tech.trust_engineering_end, tame.trust_engineering_end)
    assert hi < 0, f"engineering trust change from overstepping {d:+.3f}, CI [{lo:.3f}, {hi:.3f}]"
