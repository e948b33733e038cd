"""Experiment files and design expansion (pure: no model runs except where noted)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from sim.batch.design import expand, run_id, run_seed, split_run_id
from sim.batch.spec import Choice, Design, Experiment, ExperimentError, Range, expand_paths, load_experiment, prepare

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "experiments").glob("*.toml"))


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# ------------------------------------------------------------------ grids
def test_grid_is_full_factorial_in_file_order():
    factors = {"a": [1, 2, 3], "b": ["x", "y"], "c": [0.1, 0.2]}
    d = expand(factors, Design(method="grid"))
    assert d.n_points == 12
    assert d.points == [dict(zip("abc", combo)) for combo in itertools.product(*factors.values())]
    assert d.points[1] == {"a": 1, "b": "x", "c": 0.2}  # the last factor varies fastest


def test_grid_without_factors_is_one_point():
    assert expand({}, Design()).points == [{}]


def test_mixed_int_float_levels_become_floats():
    d = expand({"a": [0, 0.5, 1]}, Design())
    assert [p["a"] for p in d.points] == [0.0, 0.5, 1.0]
    assert all(isinstance(p["a"], float) for p in d.points)


# ------------------------------------------------------------------ samples
@pytest.mark.parametrize("method", ["lhs", "sobol"])
def test_sampled_designs_respect_bounds_types_and_choices(method):
    factors = {"x": Range(low=0.2, high=0.7), "k": Range(low=1, high=4, type="int"),
               "s": Choice(values=["a", "b", "c"])}
    d = expand(factors, Design(method=method, samples=64), seed=5)
    assert d.n_points == 64
    xs = np.array([p["x"] for p in d.points])
    assert xs.min() >= 0.2 and xs.max() <= 0.7
    ks = [p["k"] for p in d.points]
    assert all(isinstance(k, int) for k in ks) and set(ks) == {1, 2, 3, 4}
    assert {p["s"] for p in d.points} == {"a", "b", "c"}
    if method == "lhs":  # Latin hypercube: exactly one sample in each of the n strata
        strata = np.floor((xs - 0.2) / 0.5 * 64).astype(int)
        assert sorted(strata) == list(range(64))
    again = expand(factors, Design(method=method, samples=64), seed=5)
    assert again.points == d.points
    assert expand(factors, Design(method=method, samples=64), seed=6).points != d.points


def test_list_factors_are_crossed_with_the_sample():
    factors = {"arch": ["technical", "business"], "x": Range(low=0, high=1)}
    d = expand(factors, Design(method="lhs", samples=5), seed=1)
    assert d.n_points == 10
    assert [p["arch"] for p in d.points] == ["technical"] * 5 + ["business"] * 5
    assert [p["x"] for p in d.points[:5]] == [p["x"] for p in d.points[5:]]
    assert d.sampled == ["x"]


def test_salib_designs_have_salib_sizes():
    factors = {"x": Range(low=0, high=1), "y": Range(low=-1, high=1), "n": Range(low=1, high=3, type="int")}
    sob = expand(factors, Design(method="sobol_indices", samples=8), seed=2)
    assert sob.n_points == 8 * (3 + 2) and sob.X.shape == (40, 3)
    sob2 = expand(factors, Design(method="sobol_indices", samples=8, second_order=True), seed=2)
    assert sob2.n_points == 8 * (2 * 3 + 2)
    mor = expand(factors, Design(method="morris", samples=4, levels=4), seed=2)
    assert mor.n_points == 4 * (3 + 1)
    for d in (sob, mor):
        assert d.problem["names"] == ["x", "y", "n"]
        assert all(0 <= p["x"] <= 1 and -1 <= p["y"] <= 1 and p["n"] in (1, 2, 3) for p in d.points)


# ------------------------------------------------------------------ ids and seeds
def test_run_ids_are_stable_and_invertible():
    ids = [run_id(p, r, 7) for p in range(5) for r in range(7)]
    assert ids == list(range(35))
    assert all(split_run_id(run_id(p, r, 7), 7) == (p, r) for p in range(5) for r in range(7))


def test_run_seeds_derive_from_seed_sequence():
    seeds = {run_seed(42, p, r) for p in range(20) for r in range(20)}
    assert len(seeds) == 400
    assert all(0 <= s < 2**63 for s in seeds)
    assert run_seed(42, 3, 4) == run_seed(42, 3, 4) != run_seed(43, 3, 4)
    words = np.random.SeedSequence(42, spawn_key=(3, 4)).generate_state(2, np.uint32)
    assert run_seed(42, 3, 4) == ((int(words[0]) << 32) | int(words[1])) >> 1
    # common random numbers: the same seed for replication r at every point
    assert run_seed(42, 0, 4, True) == run_seed(42, 9, 4, True) != run_seed(42, 0, 5, True)


# ------------------------------------------------------------------ files
def test_wildcard_paths_expand_over_named_items():
    import sim

    data = sim.Scenario().model_dump()
    names = [d["name"] for d in data["departments"]]
    assert expand_paths(data, "departments.*.blame_propensity") == [f"departments.{n}.blame_propensity"
                                                                     for n in names]
    assert expand_paths(data, "pm.ownership") == ["pm.ownership"]


def test_experiment_file_errors_name_file_field_and_allowed(tmp_path):
    p = write(tmp_path, 'name = "x"\ncolour = "red"\n[design]\nmethod = "gird"\n')
    with pytest.raises(ExperimentError) as err:
        load_experiment(p)
    msg = str(err.value)
    assert str(p) in msg and "colour" in msg and "allowed: name" in msg
    assert "design.method" in msg and "'sobol_indices'" in msg

    p = write(tmp_path, 'name = "x"\n[factors]\n"pm.ownership" = {low = 0.1, high = 0.9, typ = "int"}\n')
    with pytest.raises(ExperimentError, match=r"unknown field 'typ'; allowed: low, high, type"):
        load_experiment(p)

    p = write(tmp_path, 'name = "x"\n[factors]\n"pm.ownership" = {low = 0.1, high = 0.9}\n')
    with pytest.raises(ExperimentError, match="ranges, which a grid cannot enumerate"):
        load_experiment(p)

    p = write(tmp_path, 'name = "x"\n[design]\nmethod = "morris"\nsamples = 4\n[factors]\n'
                        '"pm.ownership" = [0.1, 0.5]\n"pm.attention" = {low = 1, high = 5, type = "int"}\n')
    with pytest.raises(ExperimentError, match="samples every factor"):
        load_experiment(p)


def test_prepare_checks_paths_and_values_against_the_scenario(tmp_path):
    spec = Experiment.model_validate({"name": "x", "scenario": "default", "factors": {"pm.ownershp": [0.5]}})
    with pytest.raises(ExperimentError, match=r"factors\.pm\.ownershp.*ownership"):
        prepare(spec, tmp_path / "x.toml", probe=False)
    spec = Experiment.model_validate({"name": "x", "scenario": "default", "factors": {"pm.ownership": [0.5, 1.5]}})
    with pytest.raises(ExperimentError, match=r"pm\.ownership = 1\.5"):
        prepare(spec, tmp_path / "x.toml", probe=False)
    spec = Experiment.model_validate({"name": "x", "scenario": "no_such_scenario"})
    with pytest.raises(ExperimentError, match="no_such_scenario"):
        prepare(spec, tmp_path / "x.toml", probe=False)


def test_registry_wildcards_expand():
    from sim.strategies import STRATEGIES

    spec = Experiment.model_validate({"name": "x", "scenario": "default", "factors": {"pm.strategy": ["*"]}})
    prepared = prepare(spec, None, probe=False)
    assert [p["pm.strategy"] for p in prepared.design.points] == list(STRATEGIES)


def test_spec_hash_tracks_what_changes_results(tmp_path):
    base = {"name": "x", "scenario": "default", "factors": {"pm.ownership": [0.2, 0.8]}}
    h = prepare(Experiment.model_validate(base), None, probe=False).spec_hash
    assert prepare(Experiment.model_validate({**base, "description": "other words"}), None, probe=False).spec_hash == h
    assert prepare(Experiment.model_validate({**base, "seed": 1}), None, probe=False).spec_hash != h
    assert prepare(Experiment.model_validate({**base, "factors": {"pm.ownership": [0.2, 0.9]}}),
                   None, probe=False).spec_hash != h


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_experiments_are_valid_and_small(path):
    prepared = prepare(load_experiment(path), path, probe=False)
    assert prepared.spec.name == path.stem
    assert 0 < prepared.n_runs <= 2500  # a few minutes on 2 cores at ~50-100 ms a run


def test_the_tournament_covers_every_strategy_and_library_scenario():
    from sim.scenarios import scenario_library
    from sim.strategies import STRATEGIES

    prepared = prepare(load_experiment(ROOT / "experiments" / "strategy_tournament.toml"),
                       ROOT / "experiments" / "strategy_tournament.toml", probe=False)
    pairs = {(p["scenario"], p["pm.strategy"]) for p in prepared.design.points}
    assert pairs == {(name, s) for name, _, _ in scenario_library() for s in STRATEGIES}
