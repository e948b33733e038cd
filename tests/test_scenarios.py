"""Scenario files: loading, extends/merging, error messages, overrides, library, schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sim
from sim.params import Scenario
from sim.scenarios import (SCENARIO_DIR, SCHEMA_PATH, ScenarioError, apply_overrides, deep_merge,
                           find_scenario, header_comment, load, load_scenario, parse_assignment,
                           scenario_json_schema, scenario_library, validate_data, validate_file)

LIBRARY = scenario_library()
REQUIRED = {"baseline", "deadline_crunch", "resource_starved", "misaligned_priorities", "blame_culture",
            "inert_org", "regulated_launch", "technical_pm_oversteps", "impossible_scope", "large_org"}


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def error_of(path: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert "\n" not in msg and msg.strip() == msg
    return msg


# ------------------------------------------------------------------ library
def test_library_holds_the_required_scenarios():
    assert REQUIRED <= {name for name, _, _ in LIBRARY}


@pytest.mark.parametrize("name,path,desc", LIBRARY, ids=[n for n, _, _ in LIBRARY])
def test_every_library_file_has_a_header_and_loads(name, path, desc):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# "), "the first line must be the one-line description comment"
    assert len(desc) > 20 and desc == header_comment(path)
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("look for" in line.lower() for line in header), "the header must say what to look for"
    sc = validate_file(path)
    assert sc.name == name
    assert sc.description == desc


@pytest.mark.parametrize("name,path,desc", LIBRARY, ids=[n for n, _, _ in LIBRARY])
def test_every_library_file_runs(name, path, desc):
    sc = load_scenario(path)
    big = sum(d.members for d in sc.departments) > 1000
    overrides = {"project.horizon": sc.project.deadline} if big else None  # keep the big org quick
    result = sim.run(sc, seed=1, overrides=overrides, timeseries=False)
    assert result.summary["outcome"] in {"delivered", "failed", "abandoned"}
    assert result.summary["effort_done"] <= result.summary["capacity_available"] + 1e-9


def test_large_org_has_thousands_of_members():
    sc = load("large_org")
    assert 5_000 <= sum(d.members for d in sc.departments) <= 10_000
    assert len(sc.departments) >= 3


def test_baseline_is_the_default_organisation_written_out():
    """baseline.toml spells out the model defaults so users can copy it; keep it in step."""
    a = load("baseline").model_dump()
    b = Scenario().model_dump()
    for key in ("name", "description"):
        a.pop(key), b.pop(key)
    diff = {k: (a[k], b[k]) for k in a if a[k] != b[k]}
    assert not diff, f"scenarios/baseline.toml differs from the defaults in sim/params.py: {sorted(diff)}"


def test_committed_json_schema_matches_the_models():
    committed = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert committed == scenario_json_schema(), "regenerate with: uv run pmsim schema > scenarios/scenario.schema.json"
    assert "extends" in committed["properties"]
    assert committed["additionalProperties"] is False


def test_find_scenario_by_name_path_and_hint(tmp_path):
    assert find_scenario("blame_culture") == SCENARIO_DIR / "blame_culture.toml"
    assert find_scenario("blame_culture.toml") == SCENARIO_DIR / "blame_culture.toml"
    p = write(tmp_path, "mine.toml", 'name = "mine"\n')
    assert find_scenario(str(p)) == p
    with pytest.raises(ScenarioError, match="did you mean 'blame_culture'"):
        find_scenario("blame_cultur")


# ------------------------------------------------------------------ extends
def test_extends_merges_tables_and_named_lists(tmp_path):
    write(tmp_path, "base.toml", """# base
[pm]
ownership = 0.3
strategy = "consultative"
[[departments]]
name = "engineering"
weights = { feasibility = 1.0 }
capacity = 5.0
veto = true
[[departments]]
name = "sales"
weights = { value = 1.0 }
[[departments]]
name = "legal"
weights = { safety = 1.0 }
""")
    child = write(tmp_path, "sub/child.toml", """# A child scenario for the test.
extends = "../base.toml"
[pm]
ownership = 0.9
[[departments]]
name = "sales"
urgency = 0.95
weights = { schedule = 0.5 }
[[departments]]
name = "design"
weights = { quality = 1.0 }
[[departments]]
name = "legal"
remove = true
""")
    sc = load_scenario(child)
    assert sc.name == "child" and sc.description == "A child scenario for the test."
    assert sc.pm.ownership == 0.9 and sc.pm.strategy == "consultative"  # merged, not replaced
    assert [d.name for d in sc.departments] == ["engineering", "sales", "design"]
    sales = sc.departments[1]
    assert sales.urgency == 0.95
    assert sales.weights.value == 1.0 and sales.weights.schedule == 0.5  # nested tables merge too
    assert sc.departments[0].capacity == 5.0


def test_extends_onto_a_file_that_keeps_the_default_lists(tmp_path):
    write(tmp_path, "a.toml", "[project]\ndeadline = 50\n")
    b = write(tmp_path, "b.toml", 'extends = "a"\n[[project.features]]\nname = "F3 data export"\nrisk = 0.95\n')
    sc = load_scenario(b)
    assert sc.project.deadline == 50
    risks = {f.name: f.risk for f in sc.project.features}
    assert risks["F3 data export"] == 0.95 and len(risks) == 6


def test_extends_falls_back_to_the_library(tmp_path):
    p = write(tmp_path, "mine.toml", 'extends = "blame_culture.toml"\n[pm]\nownership = 0.8\n')
    sc = load_scenario(p)
    assert sc.name == "mine" and sc.pm.ownership == 0.8
    assert sc.execution.blame_trust_cut == load("blame_culture").execution.blame_trust_cut
    local = write(tmp_path, "baseline.toml", "[pm]\nownership = 0.11\n")  # a local file wins
    p2 = write(tmp_path, "other.toml", 'extends = "baseline"\n')
    assert load_scenario(p2).pm.ownership == 0.11 and local.exists()


def test_a_file_without_extends_replaces_default_lists(tmp_path):
    p = write(tmp_path, "solo.toml", '[[project.features]]\nname = "only"\neffort = 10\n')
    assert [f.name for f in load_scenario(p).project.features] == ["only"]


def test_deep_merge_rules():
    base = {"a": {"x": 1, "y": [1, 2]}, "departments": [{"name": "e", "k": 1}], "s": "t"}
    over = {"a": {"y": [3]}, "departments": [{"name": "e", "k": 2}, {"name": "f"}], "s": "u"}
    assert deep_merge(base, over) == {"a": {"x": 1, "y": [3]},
                                      "departments": [{"name": "e", "k": 2}, {"name": "f"}], "s": "u"}
    assert base["departments"][0]["k"] == 1  # inputs untouched


# ------------------------------------------------------------------ errors
MALFORMED = {
    # name: (file content, fragments the one-line message must contain)
    "unknown_key": ("[pm]\nownrship = 0.3\n", ["'ownrship'", "[pm]", "did you mean 'ownership'"]),
    "unknown_top": ("deadlne = 3\n", ["'deadlne'", "top level"]),
    "wrong_type": ('[project]\ndeadline = "soon"\n', ["project.deadline", "'soon'", "wrong type", "whole number", "5 <= value <= 2000"]),
    "bool_for_number": ("[pm]\nownership = true\n", ["pm.ownership", "true", "a number"]),
    "out_of_range": ("[pm]\nownership = 1.5\n", ["pm.ownership = 1.5", "out of range", "0 <= value <= 1"]),
    "dept_range": ('extends = "ok.toml"\n[[departments]]\nname = "engineering"\ncapacity = -2\n',
                   ["departments[engineering].capacity = -2", "out of range", "effort/day"]),
    "literal": ('[pm]\narchetype = "tehcnical"\n', ["pm.archetype", "'tehcnical'", "did you mean 'technical'"]),
    "strategy": ('[pm]\nstrategy = "consultive"\n', ["pm.strategy", "did you mean 'consultative'"]),
    "cross_field": ("[project]\ndeadline = 100\nhorizon = 50\n", ["project", "horizon (50) must be at least the deadline (100)"]),
    "missing_required": ('[[departments]]\nname = "eng"\ncapacity = 1.0\n', ["departments[eng].weights", "required"]),
    "missing_extends": ('extends = "nope.toml"\n', ["extends target 'nope.toml' not found"]),
    "extends_type": ("extends = 3\n", ["extends = 3", "file name"]),
    "empty": ("", ["empty file"]),
    "whitespace_only": ("  \n\n", ["empty file"]),
    "comments_only": ("# just a comment\n", ["no settings"]),
    "binary": (bytes(range(256)) * 4, ["binary data"]),
    "non_utf8": (b"name = \"caf\xe9\"\n", ["not UTF-8", "0xe9"]),
    "bad_toml": ("[pm\nownership = 1\n", ["not valid TOML", "line 1"]),
    "named_item_without_name": ('extends = "ok.toml"\n[[departments]]\nurgency = 0.5\n', ["departments[0] has no name"]),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_files_give_one_line_naming_the_problem(tmp_path, case):
    content, fragments = MALFORMED[case]
    write(tmp_path, "ok.toml", "[pm]\nownership = 0.5\n")
    path = write(tmp_path, f"{case}.toml", content)
    msg = error_of(path)
    assert msg.startswith(str(path)), msg
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in {msg!r}"


def test_cyclic_extends(tmp_path):
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    b = write(tmp_path, "b.toml", 'extends = "c.toml"\n')
    write(tmp_path, "c.toml", 'extends = "a.toml"\n')
    msg = error_of(tmp_path / "a.toml")
    assert "cyclic extends: a.toml -> b.toml -> c.toml -> a.toml" in msg
    assert "cyclic extends" in error_of(b)


def test_self_extends(tmp_path):
    p = write(tmp_path, "self.toml", 'extends = "self.toml"\n')
    assert "cyclic extends: self.toml -> self.toml" in error_of(p)


def test_error_in_the_base_names_the_base(tmp_path):
    base = write(tmp_path, "base.toml", "[pm]\nownership = 7\n")
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n')
    assert error_of(child).startswith(str(base))


def test_many_errors_stay_on_one_line(tmp_path):
    p = write(tmp_path, "many.toml", "[pm]\nownership = 2\nattention = 0\ncapital = -1\nbelief_noise = 5\n")
    msg = error_of(p)
    assert msg.count(" is out of range") == 3 and msg.endswith("(+1 more)")


def test_missing_file_and_directory(tmp_path):
    assert "file not found" in error_of(tmp_path / "none.toml")
    assert "is a directory" in error_of(tmp_path)


# ------------------------------------------------------------------ overrides
def test_parse_assignment_reads_toml_scalars():
    assert parse_assignment("pm.ownership=0.8") == ("pm.ownership", 0.8)
    assert parse_assignment("project.deadline = 45") == ("project.deadline", 45)
    assert parse_assignment("departments.legal.veto=false") == ("departments.legal.veto", False)
    assert parse_assignment('pm.strategy="pressure"') == ("pm.strategy", "pressure")
    assert parse_assignment("pm.strategy=pressure") == ("pm.strategy", "pressure")  # bare word = string
    for bad in ("pm.ownership", "=3", "pm.ownership="):
        with pytest.raises(ScenarioError):
            parse_assignment(bad)


def test_apply_overrides_paths_and_errors():
    sc = apply_overrides(Scenario(), {"pm.ownership": 0.9, "departments.legal.responsiveness": 0.2,
                                      "project.features.0.effort": 5.0, "tactics.pressure.cost": 3})
    assert sc.pm.ownership == 0.9 and sc.departments[2].responsiveness == 0.2
    assert sc.project.features[0].effort == 5.0 and sc.tactics["pressure"].cost == 3
    cases = {
        "pm.ownrship": "did you mean 'ownership'",
        "departments.sale.capacity": "did you mean 'sales'",
        "pm.ownership.x": "single value",
    }
    for path, frag in cases.items():
        with pytest.raises(ScenarioError, match=frag):
            apply_overrides(Scenario(), {path: 1})
    with pytest.raises(ScenarioError, match=r"pm.ownership = 'high' has the wrong type"):
        apply_overrides(Scenario(), {"pm.ownership": "high"})


def test_validate_data_accepts_numpy_scalars():
    np = pytest.importorskip("numpy")
    sc = validate_data({"project": {"deadline": np.int64(40)}, "pm": {"ownership": np.float64(0.25)}})
    assert sc.project.deadline == 40 and sc.pm.ownership == 0.25


def test_sim_run_takes_a_library_name_a_path_or_a_mapping(tmp_path):
    by_name = sim.run("blame_culture", seed=4, timeseries=False).summary
    assert by_name == sim.run(SCENARIO_DIR / "blame_culture.toml", seed=4, timeseries=False).summary
    assert by_name == sim.run(str(SCENARIO_DIR / "blame_culture.toml"), seed=4, timeseries=False).summary
    assert by_name == sim.run(sim.scenarios.load("blame_culture"), seed=4, timeseries=False).summary
    assert by_name != sim.run("baseline", seed=4, timeseries=False).summary
    mine = tmp_path / "mine.toml"
    mine.write_text('extends = "blame_culture"\n[pm]\nownership = 0.95\n')
    assert sim.run(mine, seed=4, timeseries=False).summary != by_name


def test_sim_run_names_what_is_wrong_with_its_scenario():
    with pytest.raises(ScenarioError, match=r"did you mean 'blame_culture'"):
        sim.run("blame_cultur")
    with pytest.raises(ScenarioError, match=r"<mapping>: pm.ownership = 3 is out of range"):
        sim.run({"pm": {"ownership": 3}})
    with pytest.raises(TypeError, match="expected a Scenario, a mapping, a library name or a path"):
        sim.run(5)
