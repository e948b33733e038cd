"""Each library scenario shows what its header says, over many seeds.

The headers of scenarios/*.toml make claims ("impossible_scope never delivers the
full scope on time", "in a blame culture ownership pays", ...); these tests hold
them to it. Seeds are spawned from a fixed SeedSequence (sim.compare); sample sizes
are small to keep the file fast, so thresholds leave room for sampling error while
still separating the scenarios. docs/scenarios.md has the 20-seed measurements.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pytest

import sim
from sim.compare import mean_ci, replication_seeds
from sim.scenarios import load

N = 12


@lru_cache(maxsize=None)
def runs(name: str, overrides: tuple = (), n: int = N) -> tuple:
    sc = load(name, dict(overrides))
    return tuple(sim.run(sc, seed=s, timeseries=False) for s in replication_seeds(0, n))


def mean(name: str, key: str, overrides: tuple = (), n: int = N) -> float:
    vals = [float(r.summary[key]) for r in runs(name, overrides, n)]
    vals = [v for v in vals if np.isfinite(v)]
    return float(np.mean(vals)) if vals else float("nan")


def shipped(name: str, overrides: tuple = (), n: int = N) -> tuple[int, dict[str, int]]:
    """Delivered runs and how often each feature (by its short name, e.g. F2) shipped."""
    delivered, counts = 0, {}
    for r in runs(name, overrides, n):
        end = r.events[r.events.kind == "end"].text.iloc[-1]
        if end.startswith("delivered"):
            delivered += 1
            for f in re.search(r"\[(.*?)\]", end).group(1).split(", "):
                counts[f] = counts.get(f, 0) + 1
    return delivered, counts


LOW, HIGH = (("pm.ownership", 0.1),), (("pm.ownership", 0.9),)


def test_baseline_delivers_a_reduced_scope_mostly_on_time():
    assert mean("baseline", "delivered") >= 0.8
    assert mean("baseline", "on_time") >= 0.5
    assert mean("baseline", "full_scope_on_time") == 0.0
    delivered, counts = shipped("baseline")
    assert counts.get("F1", 0) >= 0.7 * delivered and counts.get("F2", 0) >= 0.4 * delivered
    assert counts.get("F3", 0) + counts.get("F4", 0) <= 1  # the risky and the "cool" feature are dropped
    assert mean("baseline", "blame_events") < 2.0  # a blame round follows shocks and slips; rare = a couple per run


def test_blame_culture_blames_and_ownership_pays():
    n = 16
    base_blame = mean("baseline", "blame_events", LOW, n)
    low_blame = mean("blame_culture", "blame_events", LOW, n)
    assert low_blame >= 1.5 and low_blame >= 4 * max(base_blame, 0.1)
    assert mean("blame_culture", "cross_trust_end", LOW, n) < mean("baseline", "cross_trust_end", LOW, n) - 0.05
    low, high = runs("blame_culture", LOW, n), runs("blame_culture", HIGH, n)
    diff = [float(h.summary["delivered"]) - float(lo.summary["delivered"]) for lo, h in zip(low, high)]
    m, lo_ci, _, _ = mean_ci(diff)
    assert lo_ci > 0, f"high ownership should deliver more often (paired diff {m:.2f}, CI low {lo_ci:.2f})"
    assert mean("blame_culture", "on_time", HIGH, n) > mean("blame_culture", "on_time", LOW, n) + 0.2
    assert mean("blame_culture", "blame_events", HIGH, n) < low_blame


def test_deadline_crunch_shrinks_the_scope():
    assert mean("deadline_crunch", "delivered") >= 0.8
    assert mean("deadline_crunch", "delivered_features") <= 1.6
    assert mean("deadline_crunch", "delivered_value") < 0.7 * mean("baseline", "delivered_value")
    pressure = (("pm.strategy", "pressure"),)
    assert mean("deadline_crunch", "trust_change", pressure) < -0.3 < mean("deadline_crunch", "trust_change")
    assert mean("deadline_crunch", "on_time", HIGH) >= mean("deadline_crunch", "on_time", LOW)


def test_resource_starved_ships_little_and_ownership_helps():
    assert mean("resource_starved", "delivered_value") < 0.6 * mean("baseline", "delivered_value")
    assert mean("resource_starved", "delivered_features") <= 1.5
    assert mean("resource_starved", "on_time", HIGH) > mean("resource_starved", "on_time", LOW)


def test_misaligned_priorities_agree_later_and_sales_pays():
    assert mean("misaligned_priorities", "days_to_first_agreement") > mean("baseline", "days_to_first_agreement")
    assert mean("misaligned_priorities", "utility_sales") < mean("baseline", "utility_sales")
    d_mis, c_mis = shipped("misaligned_priorities")
    d_base, c_base = shipped("baseline")
    assert c_mis.get("F2", 0) / max(d_mis, 1) < c_base.get("F2", 0) / max(d_base, 1)
    pressure = (("pm.strategy", "pressure"),)
    assert mean("misaligned_priorities", "delivered", pressure) <= 0.75


def test_inert_org_waits_and_follow_up_cuts_the_wait():
    assert mean("inert_org", "waiting_days") > 3 * mean("baseline", "waiting_days")
    assert mean("inert_org", "waiting_days", HIGH) < mean("inert_org", "waiting_days", LOW) - 3
    assert mean("inert_org", "delivered", HIGH) > mean("inert_org", "delivered", LOW)


def test_regulated_launch_legal_cuts_the_big_deal():
    d_reg, c_reg = shipped("regulated_launch")
    d_base, c_base = shipped("baseline")
    assert c_reg.get("F2", 0) / max(d_reg, 1) <= 0.25 < c_base.get("F2", 0) / max(d_base, 1)
    assert c_reg.get("F3", 0) == c_reg.get("F4", 0) == 0
    assert mean("regulated_launch", "on_time", HIGH) > mean("regulated_launch", "on_time", LOW) + 0.2
    technical = (("pm.archetype", "technical"),)
    assert mean("regulated_launch", "on_time", technical) <= 0.4


def test_technical_pm_with_high_ownership_loses_engineering():
    high = mean("technical_pm_oversteps", "trust_engineering_end")
    assert mean("technical_pm_oversteps", "oversteps") >= 10
    assert high < 0.25
    assert mean("technical_pm_oversteps", "trust_engineering_end", LOW) > high + 0.3
    generalist = (("pm.archetype", "generalist"),)
    assert mean("technical_pm_oversteps", "trust_engineering_end", generalist) > high + 0.25
    assert mean("technical_pm_oversteps", "on_time", generalist) >= mean("technical_pm_oversteps", "on_time") - 0.1


@pytest.mark.parametrize("overrides", [
    (("pm.strategy", "balanced"),), (("pm.strategy", "consultative"),), (("pm.strategy", "pressure"),),
    (("pm.strategy", "hardball"),), (("pm.strategy", "escalation"),), (("pm.ownership", 1.0),),
], ids=lambda o: f"{o[0][0]}={o[0][1]}")
def test_impossible_scope_is_never_delivered_in_full_on_time(overrides):
    # Past the deadline full_scope_on_time cannot become true: stop there to keep it quick.
    short = overrides + (("project.horizon", 50),)
    results = runs("impossible_scope", short, 8)
    assert not any(r.summary["full_scope_on_time"] for r in results)
    for r in results:  # ... and the log says why
        assert r.events.text.str.contains("the full scope cannot fit").any()
