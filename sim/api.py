"""The public entry point: run a scenario with a seed, get a :class:`RunResult`."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from sim.debrief import build_debrief
from sim.model import PMSimModel
from sim.params import Scenario
from sim.results import RunResult, offers_frame, summarise


def as_scenario(scenario: Scenario | Mapping | None) -> Scenario:
    if scenario is None:
        return Scenario()
    if isinstance(scenario, Scenario):
        return scenario
    return Scenario.model_validate(dict(scenario))


def run(scenario: Scenario | Mapping | None = None, seed: int | None = 0,
        overrides: Mapping[str, object] | None = None, timeseries: bool = True) -> RunResult:
    """Run one scenario to its end state.

    Args:
        scenario: a Scenario, a plain mapping with the same fields, or None (default org).
        seed: the run's seed; same scenario and seed give identical results.
        overrides: dotted-path parameter overrides, e.g. ``{"pm.ownership": 0.9}``.
        timeseries: keep the daily DataFrame (batch runs may skip it).
    """
    sc = as_scenario(scenario)
    if overrides:
        sc = sc.with_overrides(dict(overrides))
    model = PMSimModel(sc, rng=seed, collect=timeseries)
    model.run()
    return result_of(model, seed)


def result_of(model: PMSimModel, seed: int | None) -> RunResult:
    """The :class:`RunResult` of a finished model (for callers that step the model themselves)."""
    ts = model.datacollector.get_model_vars_dataframe() if model.collect else pd.DataFrame()
    events = pd.DataFrame(model.events_log, columns=["day", "kind", "actor", "target", "text"])
    return RunResult(scenario=model.params.name, seed=seed, summary=summarise(model), timeseries=ts,
                     events=events, debrief=build_debrief(model), offers=offers_frame(model))
