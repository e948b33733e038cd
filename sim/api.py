"""The public entry point: run a scenario with a seed, get a :class:`RunResult`."""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike

import pandas as pd

from sim.debrief import build_debrief
from sim.model import PMSimModel
from sim.params import Scenario
from sim.results import RunResult, offers_frame, summarise
from sim.scenarios import load, validate_data


def as_scenario(scenario: Scenario | Mapping | str | PathLike | None) -> Scenario:
    """A :class:`Scenario` from any of the forms :func:`run` accepts.

    A string or path is a library name (``"blame_culture"``) or a TOML file, loaded with
    ``extends``; a mapping is validated like a file's contents. Bad input raises
    :class:`sim.scenarios.ScenarioError` naming the source, the field and what is allowed.
    """
    if scenario is None:
        return Scenario()
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, (str, PathLike)):
        return load(scenario)
    if isinstance(scenario, Mapping):
        return validate_data(dict(scenario), "<mapping>")
    raise TypeError(f"scenario: expected a Scenario, a mapping, a library name or a path, "
                    f"got {type(scenario).__name__}")


def run(scenario: Scenario | Mapping | str | PathLike | None = None, seed: int | None = 0,
        overrides: Mapping[str, object] | None = None, timeseries: bool = True) -> RunResult:
    """Run one scenario to its end state.

    Args:
        scenario: a Scenario, a plain mapping with the same fields, a library name
            (``"blame_culture"``) or a TOML path, or None (the default organisation).
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
