"""Resource limits (issue 8, item 3): requests above a cap are refused up front, quickly,
with a message naming the cap, in sim.run, the scenario loader, the CLI, the batch
runner and the dashboard's upload parsers."""

from __future__ import annotations

import time

import pytest

import sim
from reliability_cases import case
from sim import limits
from sim.batch.spec import ExperimentError, load_and_prepare
from sim.limits import (MAX_DAYS, MAX_MEMBERS, MAX_REPLICATIONS, MAX_UPLOAD_BYTES, LimitError,
                        check_scenario)
from sim.params import Scenario
from sim.scenarios import ScenarioError, load_scenario

QUICK = 3.0  # seconds: a refusal must not first build what it refuses


def big_departments(total: int, n: int = 3) -> list[dict]:
    per = -(-total // n)
    return [{"name": f"d{i}", "weights": {"value": 1}, "capacity": 1.0, "members": per} for i in range(n)]


def refused_quickly(fn, *exc_types, match: str):
    t0 = time.perf_counter()
    with pytest.raises(exc_types) as info:
        fn()
    assert time.perf_counter() - t0 < QUICK, "the refusal took too long"
    assert match in str(info.value), str(info.value)
    assert "\n" not in str(info.value)
    return str(info.value)


@case("limit", "each cap at its value and one above (members, days, replications, runs, upload bytes)",
      "at the cap: accepted; above: LimitError whose message names the cap (e.g. MAX_MEMBERS) and its value",
      count=2 * len(limits.CAPS))
@pytest.mark.parametrize("name", sorted(limits.CAPS))
def test_each_cap_accepts_its_value_and_refuses_one_more(name):
    cap = limits.CAPS[name]
    limits.check(name, cap.value)
    with pytest.raises(LimitError) as info:
        limits.check(name, cap.value + 1)
    assert info.value.cap == name and name in str(info.value) and f"{cap.value:,}" in str(info.value)


def test_caps_are_what_the_schema_and_docs_say():
    assert (MAX_MEMBERS, MAX_DAYS, MAX_REPLICATIONS, MAX_UPLOAD_BYTES) == (1_000_000, 5_000, 100_000, 1_000_000)
    dept = Scenario.model_json_schema()["$defs"]["Department"]["properties"]["members"]
    horizon = Scenario.model_json_schema()["$defs"]["Project"]["properties"]["horizon"]
    assert dept["maximum"] == MAX_MEMBERS and horizon["maximum"] == MAX_DAYS
    for row in limits.table():
        assert row[0] in limits.__doc__


@case("limit", "sim.run with 1,000,001 members in total (three departments each under the per-department "
      "cap), and with overrides pushing the total above the cap",
      "LimitError naming MAX_MEMBERS within a second, before any network is built", count=2)
def test_sim_run_refuses_too_many_members():
    sc = Scenario(departments=big_departments(MAX_MEMBERS + 1))
    refused_quickly(lambda: sim.run(sc), LimitError, match="MAX_MEMBERS")
    over = {f"departments.{d.name}.members": 400_000 for d in Scenario().departments}
    refused_quickly(lambda: sim.run(Scenario(), overrides=over), LimitError, match="MAX_MEMBERS")
    at_cap = big_departments(3)
    at_cap[0]["members"] = MAX_MEMBERS - 2
    check_scenario(Scenario(departments=at_cap))  # exactly at the cap: fine


@case("limit", "a scenario file with more members in total than MAX_MEMBERS, and one with horizon 5001",
      "ScenarioError naming the file and the cap (MAX_MEMBERS; horizon's allowed range ends at 5000)", count=2)
def test_scenario_file_above_the_caps(tmp_path):
    import tomli_w

    p = tmp_path / "huge.toml"
    p.write_text(tomli_w.dumps({"departments": big_departments(MAX_MEMBERS + 3)}))
    msg = refused_quickly(lambda: load_scenario(p), ScenarioError, match="MAX_MEMBERS")
    assert str(p) in msg
    p.write_text("[project]\nhorizon = 5001\n")
    msg = refused_quickly(lambda: load_scenario(p), ScenarioError, match="5000")
    assert "project.horizon" in msg and str(p) in msg


def cli(argv, capsys):
    from sim.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return info.value.code, out.err


@case("limit", "CLI: pmsim run on a file above MAX_MEMBERS; pmsim compare --reps 100001; "
      "pmsim run --set project.horizon=99999", "exit code 2 and one error line naming the cap", count=3)
def test_cli_refuses_above_the_caps(tmp_path, capsys):
    import tomli_w

    p = tmp_path / "huge.toml"
    p.write_text(tomli_w.dumps({"departments": big_departments(MAX_MEMBERS + 1)}))
    code, err = cli(["run", str(p)], capsys)
    assert code == 2 and "MAX_MEMBERS" in err and err.count("\n") == 1, err
    code, err = cli(["compare", "baseline", "--reps", str(MAX_REPLICATIONS + 1), "--no-progress"], capsys)
    assert code == 2 and "MAX_REPLICATIONS" in err and err.count("\n") == 1, err
    code, err = cli(["run", "baseline", "--set", "project.horizon=99999"], capsys)
    assert code == 2 and "5000" in err and err.count("\n") == 1, err


EXPERIMENTS = {
    "replications": ('name = "x"\nscenario = "default"\nreplications = 100001\n', "MAX_REPLICATIONS"),
    "grid": ('name = "x"\nscenario = "default"\n[factors]\n'
             + "".join(f'"pm.ownership{"" if i == 0 else ""}" = [0.1]\n' for i in range(1))
             + "".join(f'"departments.engineering.{k}" = [{", ".join(str(j / 100) for j in range(100))}]\n'
                       for k in ("stubbornness", "member_stubbornness", "power", "legitimacy"))
             + '"departments.sales.urgency" = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]\n',
             "MAX_RUNS"),
    "sobol": ('name = "x"\nscenario = "default"\nreplications = 1000\n[design]\nmethod = "sobol_indices"\n'
              'samples = 524288\nsecond_order = true\n[factors]\n"pm.ownership" = {low = 0, high = 1}\n'
              '"pm.capital" = {low = 0, high = 1}\n', "MAX_RUNS"),
    "members": ('name = "x"\nscenario = "default"\n[factors]\n"departments.*.members" = [400000]\n', "MAX_MEMBERS"),
}


@case("limit", "experiment files: replications 100,001; a grid of 10^9 design points; a Sobol design of "
      "5 million points x 1,000 replications; a factor giving every department 400,000 members",
      "ExperimentError naming the file and the cap (MAX_REPLICATIONS / MAX_RUNS / MAX_MEMBERS) in well under "
      "a second: the design is never laid out", count=len(EXPERIMENTS))
@pytest.mark.parametrize("kind", sorted(EXPERIMENTS))
def test_experiment_above_the_caps(tmp_path, kind):
    text, cap = EXPERIMENTS[kind]
    p = tmp_path / "big.toml"
    p.write_text(text)
    msg = refused_quickly(lambda: load_and_prepare(p, probe=False), ExperimentError, match=cap)
    assert str(p) in msg


@case("limit", "a sweep whose factor values are each within the caps but together exceed MAX_MEMBERS",
      "the run is stored with a LimitError naming the cap (never built); the sweep completes", count=1)
def test_sweep_combination_above_a_cap_is_recorded(tmp_path):
    import concurrent.futures as cf

    from sim.batch import read_runs, run_experiment

    p = tmp_path / "combo.toml"
    p.write_text('name = "combo"\nscenario = "default"\nreplications = 2\noutcomes = ["delivered"]\n'
                 '[factors]\n"departments.engineering.members" = [500001]\n"departments.sales.members" = [500000]\n')
    prepared = load_and_prepare(p)  # each value alone is fine: engineering 500,001 + 4 + 2 members
    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(1) as pool:
        report = run_experiment(prepared, tmp_path / "out", executor=pool, progress=False)
    assert time.perf_counter() - t0 < 10
    df = read_runs(tmp_path / "out")
    assert report.failed_total == 2 and len(df) == 2 and df.delivered.isna().all()
    assert df.error.str.contains("LimitError").all() and df.error.str.contains("MAX_MEMBERS").all()
    assert "MAX_MEMBERS" in report.text()


@case("limit", "dashboard uploads of MAX_UPLOAD_BYTES + 1 bytes (scenario TOML, stakeholder map CSV) and a "
      "1 MB TOML file of valid syntax (a 100,000-element array)",
      "ScenarioError / MapError naming MAX_UPLOAD_BYTES; the largest accepted file is checked in under 3 s",
      count=3)
def test_dashboard_upload_caps():
    from dashboard.library import parse_upload
    from dashboard.organisation import frame_from_csv
    from sim.stakeholder_map import MapError

    refused_quickly(lambda: parse_upload(b"#" * (MAX_UPLOAD_BYTES + 1), "big.toml"), ScenarioError,
                    match="MAX_UPLOAD_BYTES")
    refused_quickly(lambda: frame_from_csv(b"a" * (MAX_UPLOAD_BYTES + 1)), MapError, match="MAX_UPLOAD_BYTES")
    body = b"[project]\nrelease_options = [" + b"1, " * ((MAX_UPLOAD_BYTES - 40) // 3) + b"1]\n"
    assert len(body) <= MAX_UPLOAD_BYTES
    refused_quickly(lambda: parse_upload(body, "long.toml"), ScenarioError, match="release_options")


def test_dashboard_server_caps_uploads_and_binds_locally():
    from sim.cli_dashboard import streamlit_command

    cmd = streamlit_command(8501)
    assert cmd[cmd.index("--server.maxUploadSize") + 1] == "1"
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
