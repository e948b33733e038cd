"""Negotiation validation: the quick cases pass, the checks can fail, and sim.bargaining works."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import PMSimModel, Scenario
from sim.bargaining import (
    BARGAINING_STRATEGIES,
    AlternatingOffers,
    BackwardInduction,
    Deviate,
    FixedDemand,
    RubinsteinSPE,
    TimeDependent,
    finite_horizon_shares,
    spe_share,
)
from sim.concession import aspiration
from sim.plan import distance_to_frontier, nash_point, pareto_mask
from sim.validation import CaseResult, format_results
from sim.validation.negotiation import (
    FRONTIER_TOL,
    FULL_INFORMATION,
    ROOT_MODEL,
    AgreementProbe,
    agreement_metrics,
    aligning_strategies,
    brute_force_nash,
    brute_force_pareto,
    first_agreement,
    frontier_mask,
    random_organisation,
    rubinstein_cases,
    run_negotiation_cases,
)

# ------------------------------------------------------------------ the quick cases


@pytest.fixture(scope="module")
def quick_results() -> list[CaseResult]:
    return run_negotiation_cases(quick=True)


def test_every_quick_case_passes(quick_results):
    failed = [r for r in quick_results if not r.passed]
    assert not failed, "\n" + format_results(failed)


def test_quick_cases_cover_every_family_and_strategy(quick_results):
    cases = {r.case for r in quick_results}
    for prefix in ("Concession boulware", "Concession linear", "Concession conceder", "Pareto frontier",
                   "Nash bargaining point", "Full-information agreement, default organisation",
                   "Full-information agreement, random organisations", "Rubinstein",
                   "Rubinstein finite horizon"):
        assert any(c.startswith(prefix) for c in cases), prefix
    from sim.strategies import STRATEGIES
    for name in STRATEGIES:
        rows = [r for r in quick_results if r.case.startswith(f"Strategy {name},")]
        assert {r.quantity for r in rows} == {"mean distance to Pareto frontier",
                                             "mean distance to Nash point (d = reservations)"}
        assert len(rows) == 4  # two families
    assert all(r.detail for r in quick_results)


def test_contract_rows_are_real_checks(quick_results):
    contract = [r for r in quick_results if r.case.startswith("Full-information agreement")
                and r.quantity.startswith("first agreements on the Pareto frontier")]
    assert len(contract) == 2
    for r in contract:
        assert r.expected == r.obtained and r.expected >= 3 * 4  # most runs agree


def test_results_are_reproducible():
    assert rubinstein_cases(10) == rubinstein_cases(10)


# ----------------------------------------------------------- the checks can fail


def test_a_wrong_rubinstein_formula_is_detected():
    # the second mover's share, and the formula with the discount factors swapped
    for wrong in (lambda d1, d2: 1 - (1 - d2) / (1 - d1 * d2), lambda d1, d2: (1 - d1) / (1 - d1 * d2)):
        rows = rubinstein_cases(5, share_formula=wrong)
        grid = [r for r in rows if r.quantity.startswith("max |first mover's share")]
        assert len(grid) == 1 and not grid[0].passed and grid[0].obtained > 0.1
        # the single-pair rows fail too, except where the wrong formula happens to agree
        # (swapping d1 and d2 changes nothing when d1 = d2)
        pairs = [r for r in rows if r.quantity == "first mover's share"]
        assert sum(not r.passed for r in pairs) >= 3
    assert all(r.passed for r in rubinstein_cases(5))


def test_the_other_exponent_convention_differs_from_the_documented_one():
    # (t/T)^e instead of (t/T)^(1/e) would turn Boulware into a conceder
    assert aspiration(10, 20, "boulware", 1.0, 0.0) == pytest.approx(1 - 0.5 ** 5)
    assert abs(aspiration(10, 20, "boulware", 1.0, 0.0) - (1 - 0.5 ** 0.2)) > 0.5


def test_brute_force_pareto_by_hand():
    U = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.4, 0.4], [0.5, 0.5], [1.0, 0.0]])
    expected = np.array([True, True, True, False, True, True])  # duplicates both stay
    np.testing.assert_array_equal(brute_force_pareto(U), expected)
    np.testing.assert_array_equal(pareto_mask(U), expected)
    np.testing.assert_array_equal(frontier_mask(U), expected)
    assert distance_to_frontier(U, 3) == pytest.approx(math.hypot(0.1, 0.1))


def test_frontier_mask_matches_brute_force_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(100):
        U = np.round(rng.random((int(rng.integers(1, 120)), int(rng.integers(1, 5)))) * 4)
        np.testing.assert_array_equal(frontier_mask(U), brute_force_pareto(U))


def test_brute_force_nash_by_hand():
    U = np.array([[0.9, 0.1], [0.6, 0.6], [0.2, 0.9], [0.7, 0.5]])
    best, rows = brute_force_nash(U, np.zeros(2))
    assert rows == [1] and best == pytest.approx(0.36)
    assert nash_point(U, np.zeros(2)) == 1
    # the disagreement point moves the solution; out of reach gives -1
    assert brute_force_nash(U, np.array([0.65, 0.0]))[1] == [0, 3]  # both products are 0.025: a tie
    assert nash_point(U, np.array([1.0, 0.0])) == -1
    assert brute_force_nash(U, np.array([1.0, 0.0])) == (-math.inf, [])


# ------------------------------------------------------- the full-information probe


def test_probe_does_not_change_the_run():
    sc = Scenario().with_overrides({**FULL_INFORMATION, "pm.strategy": "pressure"})
    plain, probe = PMSimModel(sc, rng=3), AgreementProbe(sc, rng=3)
    for _ in range(15):
        plain.step()
        probe.step()
    assert probe.agreement is not None
    assert plain.events_log == probe.events_log
    assert plain.first_agreement_day == probe.first_agreement_day == probe.agreement.day


def test_agreement_snapshot_is_the_protocols_utility_space():
    sc = Scenario().with_overrides({**FULL_INFORMATION, "pm.strategy": "consultative"})
    a = first_agreement(sc, 1)
    assert a is not None and a.offer_gap <= 1e-12
    assert a.valid[a.plan] and a.admissible[a.plan]
    assert a.admissible.sum() <= a.valid.sum() < len(a.V)
    m = agreement_metrics(a)
    assert m.to_frontier <= FRONTIER_TOL and m.to_valid_frontier <= FRONTIER_TOL
    assert 0 < m.frontier_share < 0.25


def test_metrics_detect_an_off_frontier_plan():
    sc = Scenario().with_overrides({**FULL_INFORMATION, "pm.strategy": "balanced"})
    a = first_agreement(sc, 2)
    S = a.V[a.admissible]
    worst = S[np.argmin(S.sum(axis=1))]
    from dataclasses import replace
    m = agreement_metrics(replace(a, point=worst))
    assert m.to_frontier > 0.05 and m.to_nash > 0.05


def test_random_organisation_is_a_valid_scenario():
    ov = random_organisation(np.random.default_rng(1))
    sc = Scenario().with_overrides(ov)
    w = sc.departments[0].weights.vector()
    assert sum(w) == pytest.approx(1.0)
    assert ov != random_organisation(np.random.default_rng(2))
    assert aligning_strategies() == ["consultative", "rational", "balanced"]


def test_full_information_agreement_is_pareto_optimal_on_a_tie_instance():
    # random organisation #23 of the full run, where the PM's utility does not depend on the
    # quality bar (its weights ignore quality and every quality bar leaves feasibility at 1)
    rng = np.random.default_rng(np.random.SeedSequence(ROOT_MODEL + 1).spawn(24)[23])
    org = random_organisation(rng)
    sc = Scenario().with_overrides({**org, **FULL_INFORMATION, "pm.strategy": "consultative"})
    a = first_agreement(sc, int(rng.integers(2**31)))
    assert not (a.dictated and a.dictation_gain <= 1e-12)
    assert agreement_metrics(a).to_frontier <= FRONTIER_TOL


# ------------------------------------------------------------------- sim.bargaining


@pytest.mark.parametrize("d1,d2", [(0.9, 0.9), (0.5, 0.8), (0.99, 0.1)])
def test_spe_play_gives_rubinsteins_split_at_once(d1, d2):
    res = AlternatingOffers((d1, d2)).play((RubinsteinSPE(), RubinsteinSPE()))
    assert res.agreed and res.round == 0 and len(res.history) == 1
    assert res.shares[0] == pytest.approx((1 - d2) / (1 - d1 * d2), abs=1e-14)
    assert sum(res.shares) == pytest.approx(1.0)
    assert res.payoffs == res.shares  # round 0: no discounting


def test_equal_patience_gives_the_first_mover_advantage():
    d = 0.8
    assert spe_share(d, d) == pytest.approx(1 / (1 + d))
    assert spe_share(d, d) > 0.5


def test_rejection_discounts_and_swaps_the_proposer():
    game = AlternatingOffers((0.9, 0.8))
    star = game.play((RubinsteinSPE(), RubinsteinSPE())).payoffs
    greedy = game.play((Deviate(RubinsteinSPE(), at=0, demand=0.95), RubinsteinSPE()))
    assert greedy.round == 1 and [m.proposer for m in greedy.history] == [0, 1]
    # player 1 now proposes its SPE share; player 0 gets the rest, discounted one round
    assert greedy.payoffs[0] == pytest.approx(0.9 * (1 - spe_share(0.8, 0.9)))
    assert greedy.payoffs[0] < star[0]


def test_finite_horizon_backward_induction_by_hand():
    d = (0.9, 0.8)
    assert finite_horizon_shares(d, 1) == [1.0]
    assert finite_horizon_shares(d, 2) == pytest.approx([0.2, 1.0])
    assert finite_horizon_shares(d, 3) == pytest.approx([1 - 0.8 * (1 - 0.9), 1 - 0.9, 1.0])
    for T in (1, 2, 3, 7):
        res = AlternatingOffers(d, deadline=T).play((BackwardInduction(), BackwardInduction()))
        assert res.agreed and res.round == 0
        assert res.shares[0] == pytest.approx(finite_horizon_shares(d, T)[0])


def test_deadline_without_agreement_gives_the_disagreement_point():
    game = AlternatingOffers((0.9, 0.9), deadline=6)
    res = game.play((FixedDemand(0.8, 0.8), FixedDemand(0.8, 0.8)))
    assert not res.agreed and res.round is None and len(res.history) == 6
    assert res.payoffs == (0.0, 0.0)
    capped = AlternatingOffers((0.9, 0.9), max_rounds=11).play((FixedDemand(1.0, 1.0), FixedDemand(1.0, 1.0)))
    assert not capped.agreed and len(capped.history) == 11


def test_compatible_fixed_demands_agree_with_discounting():
    res = AlternatingOffers((0.5, 0.5)).play((FixedDemand(0.7, 0.9), FixedDemand(0.6, 0.3)))
    # round 0: player 1 is offered 0.3 and accepts
    assert res.round == 0 and res.shares == pytest.approx((0.7, 0.3))
    res = AlternatingOffers((0.5, 0.5)).play((FixedDemand(0.8, 0.3), FixedDemand(0.7, 0.3)))
    # round 0 rejected (0.2 < 0.3); round 1: player 0 is offered 0.3 and accepts
    assert res.round == 1 and res.shares == pytest.approx((0.3, 0.7))
    assert res.payoffs == pytest.approx((0.15, 0.35))


def test_time_dependent_concession_in_the_game():
    game = AlternatingOffers((1.0, 1.0), deadline=20)
    tough = game.play((TimeDependent("boulware"), TimeDependent("conceder")))
    soft = game.play((TimeDependent("conceder"), TimeDependent("boulware")))
    assert tough.agreed and soft.agreed
    assert tough.shares[0] > 0.5 > soft.shares[0]  # holding out pays against a conceder
    linear = game.play((TimeDependent("linear"), TimeDependent("linear")))
    assert linear.agreed and 0 < linear.round < 19


def test_protocol_rejects_bad_input():
    with pytest.raises(ValueError):
        AlternatingOffers((0.0, 0.5))
    with pytest.raises(ValueError):
        AlternatingOffers((0.5, 0.5), deadline=0)
    with pytest.raises(ValueError):
        AlternatingOffers((0.5, 0.5)).play((FixedDemand(1.5, 0.0), FixedDemand()))
    with pytest.raises(ValueError):
        AlternatingOffers((0.5, 0.5)).play((BackwardInduction(), BackwardInduction()))
    with pytest.raises(ValueError):
        spe_share(1.0, 1.0)


def test_strategy_registry():
    assert set(BARGAINING_STRATEGIES) == {"rubinstein_spe", "backward_induction", "time_dependent",
                                          "fixed_demand", "deviate"}
    for name, cls in BARGAINING_STRATEGIES.items():
        assert cls.name == name and isinstance(cls.classifier, dict)
    assert RubinsteinSPE.classifier["subgame_perfect"] and BackwardInduction.classifier["subgame_perfect"]
