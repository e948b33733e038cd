"""The dashboard's pure parts: schema-driven controls, runs with snapshots, charts, uploads."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from dashboard import charts
from dashboard.library import parse_upload, scenario_toml, with_changes
from dashboard.runs import explore_run, headline
from dashboard.schema import changed, decode_value, encode_value, overrides_from_query, param_specs, parse_list
from sim.limits import MAX_UPLOAD_BYTES
from sim.params import Scenario
from sim.plan import pareto_mask
from sim.scenarios import ScenarioError


def _leaves(data, prefix=""):
    """Dotted paths of every scalar/list-of-number leaf of a model dump (items by name)."""
    out = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_leaves(value, path + "."))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                out.update(_leaves(item, f"{path}.{item['name']}."))
        else:
            out[path] = value
    return out


def test_every_parameter_gets_a_control_with_schema_bounds_and_help():
    sc = Scenario()
    specs = {s.path: s for s in param_specs(sc)}
    leaves = {p: v for p, v in _leaves(sc.model_dump()).items()
              if not p.endswith(".name") and p not in ("name", "description")}
    assert set(leaves) <= set(specs)
    for path, value in leaves.items():
        assert specs[path].value == value
        assert specs[path].help, path
    own = specs["pm.ownership"]
    assert (own.kind, own.minimum, own.maximum, own.group) == ("float", 0, 1, "PM")
    assert "Ownership mindset" in own.help
    assert specs["pm.strategy"].group == "Strategy"
    assert set(specs["pm.strategy"].options) == set(sim.strategies.STRATEGIES)
    assert specs["events.regulatory"].step <= 0.001  # 0.005 must sit on the slider's grid
    assert specs["departments.legal.veto"].kind == "bool"
    assert specs["network.bounded_confidence"].kind == "optional_float"
    assert {s.group for s in specs.values()} == {"PM", "Strategy", "Organisation", "Project", "Events"}
    # every tactic's overridable fields, blank by default
    assert specs["tactics.pressure.commitment"].value is None


def test_changed_overrides_and_url_round_trip():
    specs = param_specs(Scenario())
    values = {s.path: s.value for s in specs}
    values["pm.ownership"] = 0.9
    values["pm.strategy"] = "consultative"
    values["project.review_days"] = [2, 5, 9]
    over = changed(specs, values)
    assert over == {"pm.ownership": 0.9, "pm.strategy": "consultative", "project.review_days": [2, 5, 9]}
    query = {k: encode_value(v) for k, v in over.items()}
    assert query["pm.strategy"] == "consultative"
    back, problems = overrides_from_query({"scenario": "baseline", **query, "nonsense.key": "1"}, specs)
    assert back == over
    assert problems and "nonsense.key" in problems[0]
    assert decode_value("0.5") == 0.5 and decode_value("consultative") == "consultative"


def test_parse_list_messages():
    assert parse_list("2, 5 ,10", "list_int") == [2, 5, 10]
    assert parse_list("0.1;0.3", "list_float") == [0.1, 0.3]
    with pytest.raises(ValueError, match="'x' is not an integer"):
        parse_list("2, x", "list_int")


def test_explore_run_matches_sim_run_and_keeps_snapshots():
    sc = Scenario()
    run = explore_run(sc, seed=3)
    ref = sim.run(sc, seed=3)
    for key, value in ref.summary.items():
        got = run.result.summary[key]
        assert got == value or (isinstance(value, float) and math.isnan(value) and math.isnan(got)), key
    days = run.days
    net = run.network
    assert net.support.shape == (days + 1, len(net.nodes))
    assert net.trust.shape == (days + 1, len(net.edges))
    assert len(net.stance) == days + 1
    assert list(net.nodes["role"][:4]) == ["PM", "lead", "lead", "lead"]
    # the leads' support in the snapshots is the support the model reported each day
    lead_rows = net.nodes.index[net.nodes["role"] == "lead"]
    for row, dept in zip(lead_rows, run.departments):
        np.testing.assert_allclose(net.support[:, row], run.result.timeseries[f"support_{dept}"], atol=1e-6)
    ep = run.episodes[0]
    assert ep.frontier is not None and len(ep.frontier)
    assert pareto_mask(ep.frontier).all()


def test_large_org_draws_only_leads_and_a_sample():
    sc = Scenario().with_overrides({"departments.engineering.members": 3000, "departments.sales.members": 1500})
    run = explore_run(sc, seed=1)
    assert run.network.total_nodes > 4500
    assert len(run.network.nodes) <= 1 + 3 + 120
    chart = charts.network_chart(run.network, 5).to_dict()
    assert "sample" in str(chart["title"])


def test_charts_build_without_streamlit():
    run = explore_run(Scenario(), seed=1)
    r = run.result
    figs = [charts.support_chart(r.timeseries, run.departments, run.deadline),
            charts.trust_chart(r.timeseries, run.departments),
            charts.burndown_chart(r.timeseries, run.deadline),
            charts.network_chart(run.network, 0),
            charts.network_chart(run.network, run.days),
            charts.utility_space_chart(r.offers, run.episodes[0], run.departments, "engineering", "sales",
                                       run.reservations),
            charts.offers_timeline_chart(r.offers, run.departments, run.reservations)]
    for fig in figs:
        spec = fig.to_dict()
        assert "layer" in spec or "mark" in spec
    nodes, edges = charts.network_frames(run.network, 0)
    assert nodes["support"].between(0, 1).all() and edges["trust"].between(0, 1).all()
    best = charts.best_case_burn(r.timeseries).dropna()
    assert (best >= 0).all()
    stair = charts.frontier_2d(np.array([[0.1, 0.9], [0.5, 0.5], [0.4, 0.4], [0.9, 0.1]]))
    assert stair.tolist() == [[0.1, 0.9], [0.5, 0.5], [0.9, 0.1]]
    cards = headline(r.summary)
    assert list(cards) == ["Delivered?", "Slip vs deadline", "Value delivered", "Trust in the PM", "Renegotiations"]


def test_upload_is_validated_as_data():
    sc = parse_upload(scenario_toml(Scenario()).encode(), "mine.toml")
    assert sc.pm == Scenario().pm
    small = parse_upload(b'extends = "baseline"\n[pm]\nownership = 0.9\n', "x.toml")
    assert small.pm.ownership == 0.9 and small.name == "x"
    bad = {b"": "empty", b"\x00\x01": "binary", b"[pm\nownership=1": "not valid TOML",
           b"[pm]\nownership = 2\n": "pm.ownership = 2 is out of range",
           b"[project]\ndeadline = 90\nhorizon = 50\n": "horizon (50) must be at least the deadline",
           b'extends = "../../etc/passwd"\n': "may only extend a library scenario",
           b"x" * (MAX_UPLOAD_BYTES + 1): "exceeds the cap"}
    for data, message in bad.items():
        with pytest.raises(ScenarioError, match=message.replace("(", r"\(").replace(")", r"\)")):
            parse_upload(data, "bad.toml")


def test_with_changes_explains_impossible_combinations():
    with pytest.raises(ScenarioError, match=r"horizon \(30\) must be at least the deadline \(60\)"):
        with_changes(Scenario(), {"project.horizon": 30})
    assert with_changes(Scenario(), {"pm.ownership": 0.7}).pm.ownership == 0.7


def test_compare_and_experiment_charts():
    import pandas as pd

    runs = pd.DataFrame({"variant": ["a", "a", "b", "b"], "on_time": [1.0, 0.0, 1.0, 1.0],
                         "outcome": ["delivered", "abandoned", "delivered", "delivered"],
                         "slip_days": [1.0, np.nan, -3.0, 0.0]})
    stats = pd.DataFrame({"variant": ["a", "b"], "mean": [0.5, 1.0], "lo": [0.0, 1.0], "hi": [1.0, 1.0], "n": [2, 2]})
    for fig in (charts.distribution_chart(runs, "slip_days"), charts.outcome_mix_chart(runs),
                charts.means_ci_chart(stats, "on_time")):
        fig.to_dict()
    sweep = pd.DataFrame({"pm.ownership": [0.2, 0.2, 0.8, 0.8], "pm.strategy": ["x", "y", "x", "y"],
                          "delivered": [1.0, 0.0, 1.0, 1.0]})
    heat = charts.heatmap_chart(sweep, "pm.ownership", "pm.strategy", "delivered").to_dict()
    assert heat["layer"][0]["encoding"]["x"]["title"] == "pm.ownership"  # dotted names survive
    means = charts.factor_means(sweep, ["pm.ownership"], "delivered")
    assert means["mean"].tolist() == [0.5, 1.0] and means["n"].tolist() == [2, 2]
    assert means.loc[1, "lo"] == means.loc[1, "hi"] == 1.0
    charts.outcome_vs_factor_chart(sweep, "pm.ownership", "delivered", "pm.strategy").to_dict()
