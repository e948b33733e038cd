"""The comparison maths: seeds, t intervals, variants, summaries (sim/compare.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.compare import (DEFAULT_METRICS, Variant, compare, format_table, make_variants, mean_ci,
                         paired_difference, replication_seeds, summarise_runs)
from sim.params import Scenario
from sim.scenarios import ScenarioError


def test_replication_seeds_are_deterministic_distinct_and_prefix_stable():
    a = replication_seeds(7, 10)
    assert a == replication_seeds(7, 10)
    assert len(set(a)) == 10
    assert replication_seeds(7, 4) == a[:4]  # more replications keep the first ones
    assert replication_seeds(8, 10) != a
    expected = [int(c.generate_state(1, dtype=np.uint32)[0]) for c in np.random.SeedSequence(7).spawn(3)]
    assert a[:3] == expected
    with pytest.raises(ValueError):
        replication_seeds(0, 0)


def test_mean_ci_is_the_student_t_interval():
    x = [1.0, 2.0, 4.0, 7.0, 11.0]
    m, lo, hi, n = mean_ci(x)
    ref = stats.t.interval(0.95, df=4, loc=np.mean(x), scale=stats.sem(x))
    assert (m, n) == (5.0, 5)
    assert lo == pytest.approx(ref[0]) and hi == pytest.approx(ref[1])


def test_mean_ci_edge_cases():
    assert mean_ci([]) [3] == 0 and math.isnan(mean_ci([])[0])
    m, lo, hi, n = mean_ci([3.0])
    assert (m, n) == (3.0, 1) and math.isnan(lo) and math.isnan(hi)
    assert mean_ci([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0, 3)
    assert mean_ci([1.0, float("nan"), 3.0, None])[3] == 2  # undefined values are left out


def test_mean_ci_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(2000):
        _, lo, hi, _ = mean_ci(rng.normal(3.0, 2.0, size=8))
        hits += lo <= 3.0 <= hi
    assert 0.93 <= hits / 2000 <= 0.97


def test_make_variants_is_a_full_factorial_in_input_order():
    v = make_variants(strategies=["consultative", "pressure"], ownership=[0.2, 0.8])
    assert [x.label for x in v] == ["strategy=consultative, ownership=0.2", "strategy=consultative, ownership=0.8",
                                    "strategy=pressure, ownership=0.2", "strategy=pressure, ownership=0.8"]
    assert v[1].overrides == {"pm.strategy": "consultative", "pm.ownership": 0.8}
    assert make_variants() == [Variant("as is", {})]
    w = make_variants(archetypes=["technical"], extra={"project.deadline": [40, 50]})
    assert [x.overrides for x in w] == [{"pm.archetype": "technical", "project.deadline": 40},
                                        {"pm.archetype": "technical", "project.deadline": 50}]


def test_summarise_runs_rates_clip_and_undefined_values_count():
    runs = pd.DataFrame({"variant": ["a"] * 4 + ["b"] * 4,
                         "delivered": [True, True, True, False, False, False, False, True],
                         "delivery_day": [10, 12, 14, np.nan, np.nan, np.nan, np.nan, 20]})
    t = summarise_runs(runs, ["delivered", "delivery_day"])
    a = t[(t.variant == "a") & (t.metric == "delivered")].iloc[0]
    assert a["mean"] == 0.75 and a["high"] == 1.0 and 0.0 <= a["low"] < 0.75  # clipped to [0, 1]
    d = t[(t.variant == "a") & (t.metric == "delivery_day")].iloc[0]
    assert d["mean"] == 12 and d["n"] == 3
    b = t[(t.variant == "b") & (t.metric == "delivery_day")].iloc[0]
    assert b["n"] == 1 and math.isnan(b["low"])
    with pytest.raises(KeyError):
        summarise_runs(runs, ["nope"])


def test_paired_difference_pairs_by_replication():
    runs = pd.DataFrame({"variant": ["a", "a", "a", "b", "b", "b"], "rep": [0, 1, 2, 0, 1, 2],
                         "x": [1.0, 5.0, 9.0, 2.0, 6.0, 11.0]})
    m, lo, hi, n = paired_difference(runs, "a", "b", "x")
    assert n == 3 and m == pytest.approx(4 / 3)
    ref = stats.t.interval(0.95, 2, loc=4 / 3, scale=stats.sem([1.0, 1.0, 2.0]))
    assert (lo, hi) == pytest.approx(ref)


def test_compare_is_reproducible_and_uses_common_seeds():
    sc = Scenario()
    variants = make_variants(ownership=[0.2, 0.8])
    calls = []
    a = compare(sc, variants, reps=3, seed=5, progress=lambda done, total: calls.append((done, total)))
    b = compare(sc, variants, reps=3, seed=5)
    pd.testing.assert_frame_equal(a.runs, b.runs)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert calls[-1] == (6, 6) and len(calls) == 6
    seeds = a.runs.groupby("variant")["seed"].apply(list)
    assert seeds.iloc[0] == seeds.iloc[1] == replication_seeds(5, 3)
    assert set(a.table["metric"]) == set(DEFAULT_METRICS)
    text = format_table(a)
    assert "ownership=0.2" in text.splitlines()[0] and "delivered" in text


def test_compare_rejects_a_bad_variant_before_running():
    with pytest.raises(ScenarioError, match="pm.ownership = 3"):
        compare(Scenario(), make_variants(ownership=[0.5, 3.0]), reps=2)
