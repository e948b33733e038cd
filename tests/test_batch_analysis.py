"""`pmsim report` and `pmsim sweep` from the CLI: CIs, plots, SALib indices, exit codes."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from sim.batch import load_and_prepare, read_runs, run_experiment
from sim.batch.analysis import load_results, sensitivity
from sim.cli import app

GRID = """
name = "grid"
scenario = "default"
replications = 4
seed = 31
outcomes = ["delivered", "slip_days", "trust_change", "outcome", "days"]

[factors]
"pm.ownership" = [0.1, 0.9]
"pm.strategy" = ["balanced", "pressure"]
"""


def cli(*args):
    return CliRunner().invoke(app, list(map(str, args)))


@pytest.fixture(scope="module")
def grid_results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grid")
    p = tmp / "grid.toml"
    p.write_text(GRID, encoding="utf-8")
    run_experiment(load_and_prepare(p), tmp / "out", workers=2, progress=False)
    return p, tmp / "out"


def test_report_writes_table_plots_and_html(grid_results, tmp_path):
    _, out = grid_results
    res = cli("report", out, "--out", tmp_path / "rep")
    assert res.exit_code == 0, res.output
    assert "grid: 4 design points, 16 of 16 runs stored, 0 failed" in res.stdout
    assert "pm.ownership" in res.stdout and "trust_change" in res.stdout
    rep = tmp_path / "rep"
    summary = pd.read_csv(rep / "summary.csv")
    assert len(summary) == 4 and list(summary["runs"]) == [4, 4, 4, 4]
    pngs = sorted((rep / "plots").glob("*.png"))
    assert pngs and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    html = (rep / "report.html").read_text()
    assert "<h1>grid</h1>" in html and html.count("data:image/png;base64,") == len(pngs)

    # the CI is Student's t over the replications of the point
    runs = read_runs(out)
    y = runs.loc[runs.point == 2, "trust_change"].to_numpy()
    half = stats.t.ppf(0.975, len(y) - 1) * y.std(ddof=1) / np.sqrt(len(y))
    row = summary.loc[summary.point == 2].iloc[0]
    assert row["trust_change.mean"] == pytest.approx(y.mean())
    assert row["trust_change.ci_low"] == pytest.approx(y.mean() - half)
    assert row["trust_change.ci_high"] == pytest.approx(y.mean() + half)
    # booleans are shares, short categoricals one share per value
    assert 0 <= row["delivered.mean"] <= 1 and "outcome=delivered.mean" in summary


def test_salib_sobol_and_morris_indices_for_tiny_designs(tmp_path):
    import SALib.analyze.sobol

    base = ('name = "{name}"\nscenario = "default"\nseed = 4\noutcomes = ["days", "trust_change", "delivered"]\n'
            '[design]\nmethod = "{method}"\nsamples = {n}\n[factors]\n"pm.ownership" = {{low = 0.0, high = 1.0}}\n'
            '"departments.*.responsiveness" = {{low = 0.3, high = 1.0}}\n')
    for name, method, n in (("tiny_sobol", "sobol_indices", 8), ("tiny_morris", "morris", 3)):
        p = tmp_path / f"{name}.toml"
        p.write_text(base.format(name=name, method=method, n=n), encoding="utf-8")
        prepared = load_and_prepare(p)
        assert prepared.n_runs == (8 * 4 if method == "sobol_indices" else 3 * 3)
        run_experiment(prepared, tmp_path / name, workers=2, progress=False)

    res = load_results(tmp_path / "tiny_sobol")
    table, notes = sensitivity(res, seed=4)
    days = table[table.outcome == "days"].set_index("factor")
    assert list(days.index) == ["pm.ownership", "departments.*.responsiveness"]
    assert np.isfinite(days[["S1", "ST", "S1_conf", "ST_conf"]].to_numpy()).all()
    # exactly SALib's analysis of the per-point means
    y = res.runs.groupby("point")["days"].mean().to_numpy(float)
    direct = SALib.analyze.sobol.analyze(res.manifest["problem"], y, calc_second_order=False, seed=4)
    assert days["ST"].to_numpy() == pytest.approx(direct["ST"])

    res = load_results(tmp_path / "tiny_morris")
    table, _ = sensitivity(res, seed=4)
    assert {"mu", "mu_star", "sigma"} <= set(table.columns)
    assert set(table.factor) == {"pm.ownership", "departments.*.responsiveness"}

    out = cli("report", tmp_path / "tiny_sobol", "--no-plots")
    assert out.exit_code == 0 and "global sensitivity (SALib)" in out.stdout
    assert (tmp_path / "tiny_sobol" / "report" / "sensitivity.csv").is_file()


def test_bad_input_exits_2_with_one_line(tmp_path, grid_results):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\nreplications = 0\nfoo = 1\n', encoding="utf-8")
    cases = [
        (("sweep", bad), "replications"),
        (("sweep", tmp_path / "missing.toml"), "no such experiment file"),
        (("report", tmp_path), "not a pmsim results directory"),
    ]
    # a results directory of another experiment is refused
    other = tmp_path / "other.toml"
    other.write_text(GRID.replace("seed = 31", "seed = 32"), encoding="utf-8")
    cases.append((("sweep", other, "--out", grid_results[1], "--no-progress"), "spec hash"))
    for args, text in cases:
        res = cli(*args)
        assert res.exit_code == 2, (args, res.output)
        assert res.stderr.count("\n") == 1 and res.stderr.startswith("error: ") and text in res.stderr
        assert "Traceback" not in res.output


def test_dry_run_and_resume_from_the_cli(grid_results):
    p, out = grid_results
    res = cli("sweep", p, "--dry-run")
    assert res.exit_code == 0 and "4 design points x 4 replications = 16 runs" in res.stdout
    res = cli("sweep", p, "--out", out, "--no-progress")
    assert res.exit_code == 0 and "16 of 16 runs stored (0 run now, 16 already there)" in res.stdout
