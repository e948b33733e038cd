"""The `pmsim` command line: commands, outputs, one-line errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app, main
from sim.scenarios import SCHEMA_PATH, scenario_library

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


def invoke(*args: str):
    return runner.invoke(app, list(args))


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    """The real entry point (sim.cli:main, as the `pmsim` script runs it), in process."""
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return info.value.code, out, err


# ------------------------------------------------------------------ run
def test_no_command_runs_the_default_organisation():
    r = invoke("--seed", "1")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("pmsim: default organisation, seed 1") and "Outcome:" in r.stdout


def test_run_prints_outcome_story_and_debrief():
    r = invoke("run", "baseline", "--seed", "2")
    assert r.exit_code == 0, r.output
    assert "pmsim run: scenario 'baseline', seed 2" in r.stdout
    for key in ("outcome", "delivery_day", "blame_events", "trust_in_pm_end", "end_reason"):
        assert f"  {key}" in r.stdout
    assert "\nStory\nday   0:" in r.stdout and "\nDebrief\n" in r.stdout
    assert r.stdout == invoke("run", "baseline", "--seed", "2").stdout  # same seed, same output


def test_run_quiet_hides_the_story_and_set_overrides():
    r = invoke("run", "baseline", "--quiet", "--set", "pm.ownership=0.9", "--set", 'pm.strategy="consultative"')
    assert r.exit_code == 0, r.output
    assert "Story" not in r.stdout and "overrides pm.ownership=0.9, pm.strategy=consultative" in r.stdout


def test_run_accepts_a_path(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text(f'extends = "{(ROOT / "scenarios" / "baseline.toml").as_posix()}"\n[pm]\nownership = 0.2\n')
    r = invoke("run", str(p), "-q")
    assert r.exit_code == 0, r.output and "scenario 'mine'" in r.stdout


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_run_out_writes_summary_timeseries_events(tmp_path, fmt):
    r = invoke("run", "baseline", "--seed", "1", "--quiet", "--out", str(tmp_path), "--format", fmt)
    assert r.exit_code == 0, r.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["scenario"] == "baseline" and summary["seed"] == 1 and "outcome" in summary
    read = pd.read_parquet if fmt == "parquet" else pd.read_csv
    ts = read(tmp_path / f"timeseries.{fmt}")
    ev = read(tmp_path / f"events.{fmt}")
    assert {"day", "effort_done", "trust_in_pm"} <= set(ts.columns) and len(ts) == summary["days"] + 1
    assert list(ev.columns) == ["day", "kind", "actor", "target", "text"] and len(ev) > 5
    # the resolved scenario reproduces the run
    r2 = invoke("run", str(tmp_path / "scenario.toml"), "--seed", "1", "--quiet")
    assert r2.exit_code == 0, r2.output
    assert r2.stdout.split("\n", 1)[1].strip() == r.stdout.split("\n", 1)[1].split("\nwrote")[0].strip()


# ------------------------------------------------------------------ compare
def test_compare_blame_culture_low_vs_high_ownership(tmp_path):
    r = invoke("compare", "blame_culture", "--ownership", "0.1,0.9", "--reps", "12", "--seed", "3",
               "--metrics", "on_time,delivered_value,trust_change,blame_events", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert "mean [95% CI]" in lines[0]
    assert "ownership=0.1" in lines[1] and "ownership=0.9" in lines[1]
    row = next(line for line in lines if line.startswith("on_time"))
    assert row.count("[") == 2  # a mean and an interval per variant
    table = pd.read_csv(tmp_path / "table.csv")
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert len(runs) == 24
    on_time = table[table.metric == "on_time"].set_index("variant")["mean"]
    assert on_time["ownership=0.9"] > on_time["ownership=0.1"]


def test_compare_strategies_and_archetypes_factorial():
    r = invoke("compare", "baseline", "--strategies", "consultative,pressure", "--archetypes", "technical",
               "--reps", "2", "--metrics", "delivered")
    assert r.exit_code == 0, r.output
    assert "strategy=consultative, archetype=technical" in r.stdout and "strategy=pressure, archetype=technical" in r.stdout


@pytest.mark.parametrize("args,fragment", [
    (["--strategies", "consultive"], "did you mean 'consultative'"),
    (["--ownership", "0.2,lots"], "must be a number"),
    (["--ownership", "0.2,1.7"], "pm.ownership = 1.7 is out of range"),
    (["--archetypes", "wizard"], "pm.archetype = 'wizard' is not allowed"),
    (["--metrics", "on_tme"], "did you mean 'on_time'"),
])
def test_compare_bad_options_exit_2(args, fragment):
    r = invoke("compare", "baseline", "--reps", "2", *args)
    assert r.exit_code == 2
    assert r.stderr.count("\n") == 1 and fragment in r.stderr and r.stdout == ""


# ------------------------------------------------------------------ list, validate, schema
def test_list_shows_every_library_scenario_with_its_description():
    r = invoke("list")
    assert r.exit_code == 0
    for name, _, desc in scenario_library():
        assert any(line.startswith(name + " ") and line.endswith(desc) for line in r.stdout.splitlines())


def test_validate_ok_and_bad(tmp_path):
    files = [str(p) for _, p, _ in scenario_library()]
    r = invoke("validate", *files)
    assert r.exit_code == 0 and r.stdout.count("ok: ") == len(files)
    bad = tmp_path / "bad.toml"
    bad.write_text("[pm]\nownership = 2\n")
    r = invoke("validate", files[0], str(bad))
    assert r.exit_code == 2 and "ok: " in r.stdout
    assert r.stderr.count("\n") == 1 and "pm.ownership = 2 is out of range" in r.stderr


def test_schema_prints_the_committed_schema():
    r = invoke("schema")
    assert r.exit_code == 0
    assert json.loads(r.stdout) == json.loads(SCHEMA_PATH.read_text())


def test_progress_bar_appears_only_for_slow_work(capsys):
    from sim.cli import _Progress

    quick = _Progress("quick", after=60.0, force=True)
    for i in range(1, 4):
        quick(i, 3)
    quick.close()
    assert quick.bar is None
    slow = _Progress("slow work", after=0.0, force=True)
    for i in range(1, 4):
        slow(i, 4)
    assert slow.bar is not None
    slow.close()
    assert "slow work" in capsys.readouterr().err


def test_unwritable_out_is_bad_input(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = invoke("run", "baseline", "-q", "--out", str(blocker / "sub"))
    assert r.exit_code == 2 and r.stderr.startswith(f"error: --out {blocker / 'sub'}: cannot write")


def test_every_command_has_help():
    for cmd in ("run", "compare", "list", "validate", "schema", "from-map"):
        r = invoke(cmd, "--help")
        assert r.exit_code == 0 and "Usage:" in r.stdout, cmd


# ------------------------------------------------------------------ bad input: exit 2, one line
MALFORMED = {
    "wrong_type": ('[project]\ndeadline = "soon"\n', "project.deadline = 'soon' has the wrong type"),
    "unknown_key": ("[pm]\nownrship = 0.3\n", "unknown key 'ownrship' in [pm] (did you mean 'ownership'?)"),
    "out_of_range": ("[[departments]]\nname = \"engineering\"\nweights = { value = 1 }\ncapacity = 6\nresponsiveness = 3\n",
                     "departments[engineering].responsiveness = 3 is out of range"),
    "missing_extends": ('extends = "missing.toml"\n', "extends target 'missing.toml' not found"),
    "cyclic_extends": ('extends = "cyclic_extends.toml"\n', "cyclic extends"),
    "empty": ("", "empty file"),
    "binary": (bytes(range(256)) * 8, "binary data"),
    "non_utf8": (b"name = \"\xff\xfe\"\n", "not UTF-8"),
}


def _write(tmp_path: Path, case: str) -> Path:
    content, _ = MALFORMED[case]
    p = tmp_path / f"{case}.toml"
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content)
    return p


@pytest.mark.parametrize("command", ["run", "validate", "compare"])
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_scenarios_exit_2_with_one_line(tmp_path, capsys, case, command):
    p = _write(tmp_path, case)
    args = [command, str(p)] + (["--reps", "1"] if command == "compare" else [])
    code, out, err = run_main(capsys, *args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"error: {p}: ")
    assert MALFORMED[case][1] in err
    assert "Traceback" not in err and out == ""


@pytest.mark.parametrize("args,fragment", [
    (["run", "no_such_scenario"], "no such file and no library scenario"),
    (["run", "blame_cultur"], "did you mean 'blame_culture'"),
    (["run", "baseline", "--set", "pm.ownership=lots"], "pm.ownership = 'lots' has the wrong type"),
    (["run", "baseline", "--set", "pm.ownrship=1"], "did you mean 'ownership'"),
    (["run", "baseline", "--set", "noequals"], "expected path.to.param=value"),
    (["run", "baseline", "--format", "xls"], "choose csv or parquet"),
    (["run"], "Missing argument"),
    (["run", "baseline", "--bogus"], "No such option: --bogus"),
    (["compare", "baseline", "--reps", "0"], "--reps"),
    (["from-map", "nowhere.csv"], "file not found"),
    (["frobnicate"], "No such command"),
])
def test_bad_arguments_exit_2_with_one_line(capsys, args, fragment):
    code, out, err = run_main(capsys, *args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and fragment in err, err


def test_internal_error_exits_1_without_traceback(capsys, monkeypatch):
    import sim

    def broken(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(sim, "run", broken)
    monkeypatch.delenv("PMSIM_DEBUG", raising=False)
    code, out, err = run_main(capsys, "run", "baseline")
    assert code == 1 and err.startswith("error: internal error: RuntimeError: boom") and err.count("\n") == 1


def test_real_process_exit_codes(tmp_path):
    """The installed entry point, as a user runs it: a subprocess."""
    bad = _write(tmp_path, "unknown_key")
    proc = subprocess.run([sys.executable, "-c", "from sim.cli import main; main()", "run", str(bad)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [f"error: {bad}: unknown key 'ownrship' in [pm] (did you mean 'ownership'?)"]
