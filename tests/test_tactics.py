"""Every tactic: a shared battery (Axelrod-style) plus tests that pin its own behaviour."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import sim
from sim.params import Tactic as TacticOverride
from sim.tactics import OUTCOMES, TACTICS, build_tactics, modulate


def model_in_negotiation(seed=0, **overrides):
    m = sim.PMSimModel(rng=seed, **overrides)
    m.step()  # day 1: a proposal exists, so margins are defined
    return m


def forced(name, outcome):
    """The tactic with its table overridden so that it always produces ``outcome``."""
    table = {o: (1.0 if o == outcome else 0.0) for o in OUTCOMES}
    return TACTICS[name](TacticOverride(**table))


class TacticBattery:
    name = ""

    def test_registered_with_docs_and_source(self):
        cls = TACTICS[self.name]
        assert cls.name == self.name and cls.label and cls.__doc__ and cls.source

    @pytest.mark.parametrize("trust", [0.0, 0.5, 1.0])
    def test_probabilities_are_a_distribution(self, trust):
        m = model_in_negotiation()
        lead = m.leads[1]
        lead.trust = trust
        p = TACTICS[self.name]().probabilities(m.pm, lead)
        assert np.all(p >= 0) and p.sum() == pytest.approx(1.0)

    def test_override_replaces_the_outcome_table(self):
        t = TACTICS[self.name](TacticOverride(commitment=0, compliance=0.6, resistance=0.2, cost=3))
        assert t.outcome_table == pytest.approx((0.0, 0.75, 0.25))
        assert t.attention_cost == 3

    def test_pickles_equal(self):
        t = TACTICS[self.name]()
        u = pickle.loads(pickle.dumps(t))
        assert u.outcome_table == t.outcome_table and u.trust_delta == t.trust_delta

    def test_seeded_reproducibility(self):
        def outcomes(seed):
            m = model_in_negotiation(seed)
            t = TACTICS[self.name]()
            return [t.use(m.pm, m.leads[i % 3]).outcome for i in range(12)]
        assert outcomes(3) == outcomes(3)

    def test_records_a_causal_trace(self):
        m = model_in_negotiation()
        res = TACTICS[self.name]().use(m.pm, m.leads[0])
        assert res.tactic == self.name and res.target == m.leads[0].department
        assert res.day == m.day


class TestRationalPersuasion(TacticBattery):
    name = "rational_persuasion"

    def test_corrects_misperception_more_with_credibility(self):
        m = model_in_negotiation()
        eng, sales = m.lead_by_name("engineering"), m.lead_by_name("sales")
        m.pm.credibility["engineering"], m.pm.credibility["sales"] = 0.9, 0.2
        eng.misperception = sales.misperception = 0.2
        TACTICS[self.name]().use(m.pm, eng)
        TACTICS[self.name]().use(m.pm, sales)
        assert eng.misperception < sales.misperception < 0.2


class TestConsultation(TacticBattery):
    name = "consultation"

    def test_pm_learns_true_priorities_and_it_costs_two(self):
        m = model_in_negotiation(pm__belief_noise=0.8)
        lead = m.leads[0]
        before = m.pm.belief_error(lead)
        TACTICS[self.name]().use(m.pm, lead)
        assert m.pm.belief_error(lead) < before * 0.6
        assert TACTICS[self.name]().attention_cost == 2


class TestInspirationalAppeal(TacticBattery):
    name = "inspirational_appeal"

    def test_needs_trust(self):
        m = model_in_negotiation()
        lead = m.leads[1]
        lead.trust = 0.1
        low = TACTICS[self.name]().probabilities(m.pm, lead)
        lead.trust = 0.9
        high = TACTICS[self.name]().probabilities(m.pm, lead)
        assert high[0] > low[0] + 0.2 and low[2] > high[2]


class TestExchange(TacticBattery):
    name = "exchange"

    def test_spends_capital_and_backfires_without_it(self):
        m = model_in_negotiation()
        lead = m.leads[1]
        rich = TACTICS[self.name]().probabilities(m.pm, lead)
        before = m.pm.capital
        TACTICS[self.name]().use(m.pm, lead)
        assert m.pm.capital == pytest.approx(before - 0.15)
        m.pm.capital = 0.0
        poor = TACTICS[self.name]().probabilities(m.pm, lead)
        assert poor[2] > rich[2] and poor[0] < rich[0]


class TestCoalition(TacticBattery):
    name = "coalition"

    def test_target_listens_more_to_supporters(self):
        m = model_in_negotiation()
        lead = m.leads[0]
        net = m.org.net
        start, end = net.base.indptr[lead.node], net.base.indptr[lead.node + 1]
        cols = net.base.indices[start:end]
        m.org.net.x[cols] = 0.9  # everyone it listens to supports the plan
        m.org.net.x[0] = 1.0
        before = net.base.data[start:end].copy()
        TACTICS[self.name]().use(m.pm, lead)
        after = net.base.data[start:end]
        assert np.all(after[cols != 0] > before[cols != 0])


class TestLegitimating(TacticBattery):
    name = "legitimating"

    def test_escalation_counted_trust_lost_blame_later(self):
        m = model_in_negotiation()
        lead = m.leads[2]
        trust, blame = lead.trust, lead.blame_propensity
        forced(self.name, "compliance").use(m.pm, lead)
        assert m.counters["escalations"] == 1
        assert lead.trust == pytest.approx(trust - 0.08)
        assert lead.blame_propensity == pytest.approx(blame + 0.1)

    def test_not_again_about_the_same_lead_until_the_cooldown_has_passed(self):
        m = model_in_negotiation(pm__escalation_cooldown=5)
        tactic, sales, legal = TACTICS[self.name](), m.leads[1], m.leads[2]
        assert tactic.available(m.pm, sales)
        tactic.use(m.pm, sales)
        for _ in range(4):
            m.step()
            assert not tactic.available(m.pm, sales), f"day {m.day}: escalated about sales again"
            assert tactic.available(m.pm, legal)  # the cooldown is per lead
        m.step()
        assert tactic.available(m.pm, sales)

    def test_a_cooldown_of_zero_puts_no_limit(self):
        m = model_in_negotiation(pm__escalation_cooldown=0)
        tactic, lead = TACTICS[self.name](), m.leads[0]
        tactic.use(m.pm, lead)
        assert tactic.available(m.pm, lead)

    def test_escalations_per_lead_are_bounded_by_the_cooldown_in_whole_runs(self):
        cooldown, seeds = 10, range(12)
        for seed in seeds:
            m = sim.PMSimModel(rng=seed, pm__strategy="escalation", pm__escalation_cooldown=cooldown)
            m.run()
            days = {}
            for r in m.trace:
                if r.tactic == self.name:
                    days.setdefault(r.target, []).append(r.day)
            escalations = m.counters["escalations"]
            assert escalations <= len(m.leads) * (m.day // cooldown + 1)
            for target, ds in days.items():
                assert np.all(np.diff(ds) >= cooldown), (seed, target, ds)
        unlimited = [sim.run(seed=s, overrides={"pm.strategy": "escalation", "pm.escalation_cooldown": 0},
                             timeseries=False).summary["escalations"] for s in seeds]
        limited = [sim.run(seed=s, overrides={"pm.strategy": "escalation"}, timeseries=False).summary["escalations"]
                   for s in seeds]
        assert np.mean(limited) < 0.5 * np.mean(unlimited)


def test_a_strategy_draws_only_usable_tactics_and_falls_back_to_persuasion():
    from sim.strategies import FALLBACK_TACTIC, STRATEGIES

    escalation = STRATEGIES["escalation"]
    draws = {escalation.draw(np.random.default_rng(s), usable=lambda n: n != "legitimating") for s in range(50)}
    assert draws == {"pressure"}
    assert escalation.draw(np.random.default_rng(0), usable=lambda n: False) == FALLBACK_TACTIC
    # a filter that rules nothing out draws exactly what no filter draws
    for name, strategy in STRATEGIES.items():
        plain = [strategy.draw(np.random.default_rng(s)) for s in range(30)]
        assert plain == [strategy.draw(np.random.default_rng(s), usable=lambda n: True) for s in range(30)], name


class TestPressure(TacticBattery):
    name = "pressure"

    def test_trust_erodes_and_blame_rises_regardless_of_credibility(self):
        m = model_in_negotiation()
        lead = m.leads[1]
        m.pm.credibility[lead.department] = 0.1
        p_low = TACTICS[self.name]().probabilities(m.pm, lead)
        m.pm.credibility[lead.department] = 0.9
        p_high = TACTICS[self.name]().probabilities(m.pm, lead)
        assert p_low == pytest.approx(p_high)
        trust, blame = lead.trust, lead.blame_propensity
        TACTICS[self.name]().use(m.pm, lead)
        assert lead.trust < trust and lead.blame_propensity > blame


class TestRelationshipBuilding(TacticBattery):
    name = "relationship_building"

    def test_no_immediate_shift_but_trust_and_capital_grow(self):
        m = model_in_negotiation()
        lead = m.leads[0]
        trust, cap, thr = lead.trust, m.pm.capital, lead.threshold()
        res = TACTICS[self.name]().use(m.pm, lead)
        assert res.outcome is None
        assert lead.trust == pytest.approx(trust + 0.04)
        assert m.pm.capital == pytest.approx(cap + 0.05)
        assert lead.threshold() == pytest.approx(thr)


def test_every_registered_tactic_has_a_test_class():
    tested = {cls.name for cls in TacticBattery.__subclasses__()}
    assert tested == set(TACTICS)


def test_default_tables_follow_falbe_yukl_ordering():
    """Soft tactics (consultation, inspirational, rational) beat hard ones on commitment."""
    t = build_tactics()
    soft = min(t[n].outcome_table[0] for n in ("consultation", "inspirational_appeal", "rational_persuasion"))
    hard = max(t[n].outcome_table[0] for n in ("pressure", "coalition", "legitimating"))
    assert soft > hard


def test_modulate_shifts_towards_commitment_for_receptive_targets():
    base = (0.3, 0.4, 0.3)
    lo, hi = modulate(base, 0.1, -0.2), modulate(base, 0.9, 0.2)
    assert hi[0] > base[0] > lo[0] and hi[2] < base[2] < lo[2]
    assert modulate(base, 0.5, 0.0) == pytest.approx(base)


# ------------------------------------------- commitment vs compliance downstream
def test_commitment_holds_while_compliance_decays_and_breaks_under_shock():
    m = model_in_negotiation()
    committed, compliant = m.leads[0], m.leads[1]
    for lead in (committed, compliant):
        lead.commitment = lead.compliance = lead.resistance = 0.0
        lead.stance = "neutral"
    forced("consultation", "commitment").use(m.pm, committed)
    forced("pressure", "compliance").use(m.pm, compliant)
    c_drop = committed.reservation - committed.threshold()
    m_drop = compliant.reservation - compliant.threshold()
    for _ in range(30):
        committed.decay()
        compliant.decay()
    assert committed.commitment == 1.0
    assert compliant.compliance < 0.1
    forced("pressure", "compliance").use(m.pm, compliant)
    assert compliant.break_compliance() is True and compliant.compliance == 0.0
    assert committed.break_compliance() is False and committed.commitment == 1.0
    assert c_drop > 0 and m_drop > 0


def test_resistance_to_hard_tactics_surfaces_during_execution():
    m = model_in_negotiation()
    lead = m.leads[1]
    before = lead.threshold()
    forced("pressure", "resistance").use(m.pm, lead)
    assert lead.resentment == 1.0
    assert lead.threshold() == pytest.approx(before, abs=1e-9)  # not voiced during negotiation
    m.phase = "executing"
    assert lead.threshold() > before
