"""The batch runner on real process pools: determinism, failures, resume after kill -9, refusal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.batch import ExperimentError, load_and_prepare, read_manifest, read_runs, read_timeseries, run_experiment

ROOT = Path(__file__).resolve().parents[1]

TINY = """
name = "tiny"
scenario = "default"
replications = 3
seed = 99
outcomes = ["delivered", "slip_days", "trust_change", "outcome", "days"]
timeseries = {timeseries}

[factors]
"pm.ownership" = [0.2, 0.8]
"departments.*.blame_propensity" = [0.1, 0.6]
"""


def tiny(tmp_path: Path, timeseries: bool = False) -> Path:
    p = tmp_path / "tiny.toml"
    p.write_text(TINY.format(timeseries=str(timeseries).lower()), encoding="utf-8")
    return p


def comparable(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["duration_s"]).sort_values("run_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def two_worker_results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("w2")
    prepared = load_and_prepare(tiny(tmp, timeseries=True))
    report = run_experiment(prepared, tmp / "out", workers=2, chunk_size=2, progress=False)
    return prepared, tmp / "out", report


def test_results_do_not_depend_on_worker_count(two_worker_results, tmp_path):
    prepared, out2, report = two_worker_results
    assert report.n_runs == report.ran == 12 and report.failed_total == 0
    r1 = run_experiment(prepared, tmp_path / "out1", workers=1, chunk_size=5, progress=False)
    assert r1.ran == 12
    df1, df2 = comparable(read_runs(tmp_path / "out1")), comparable(read_runs(out2))
    pd.testing.assert_frame_equal(df1, df2)
    assert list(df2["run_id"]) == list(range(12))
    pd.testing.assert_frame_equal(read_timeseries(tmp_path / "out1"), read_timeseries(out2))


def test_a_stored_row_is_what_sim_run_returns(two_worker_results):
    prepared, out, _ = two_worker_results
    df = read_runs(out)
    row = df.iloc[7]
    overrides = {"pm.ownership": row["pm.ownership"]}
    for d in sim.Scenario().departments:
        overrides[f"departments.{d.name}.blame_propensity"] = row["departments.*.blame_propensity"]
    result = sim.run(sim.Scenario(), seed=int(row["seed"]), overrides=overrides)
    for key in ("delivered", "trust_change", "outcome", "days"):
        assert row[key] == result.summary[key]
    ts = read_timeseries(out)
    mine = ts[ts.run_id == row["run_id"]].drop(columns="run_id").reset_index(drop=True)
    assert len(mine) == len(result.timeseries)
    assert list(mine["trust_in_pm"]) == pytest.approx(list(result.timeseries["trust_in_pm"]))


def test_worker_caches_do_not_leak_between_experiments():
    # a long-lived worker (Dask, a thread pool) may run point 0 of two different experiments
    from sim.batch.runner import ChunkContext, digest, run_chunk

    dump = sim.Scenario().model_dump(mode="json")
    ctx = ChunkContext({"default": (digest(dump), dump)}, ("trust_change", "days"), False)
    for own in (0.1, 0.9):
        [out] = run_chunk(ctx, [(0, 0, 7, "default", {"pm.ownership": own})])
        ref = sim.run(sim.Scenario(), seed=7, overrides={"pm.ownership": own}, timeseries=False).summary
        assert out.outcomes == {"trust_change": ref["trust_change"], "days": ref["days"]}


def test_results_are_plain_parquet(two_worker_results):
    _, out, _ = two_worker_results
    import pyarrow.dataset as ds

    df = pd.read_parquet(out / "runs")
    assert len(df) == 12 and {"run_id", "point", "replication", "seed", "pm.ownership", "delivered",
                              "error"} <= set(df.columns)
    assert ds.dataset(out / "runs", format="parquet").count_rows() == 12


def test_a_failing_run_is_recorded_and_counted(tmp_path):
    # Each value is valid alone, but deadline 100 with horizon 80 is not: those runs raise.
    p = tmp_path / "fail.toml"
    p.write_text('name = "fail"\nscenario = "default"\nreplications = 2\noutcomes = ["delivered"]\n'
                 '[factors]\n"project.deadline" = [60, 100]\n"project.horizon" = [80, 150]\n', encoding="utf-8")
    report = run_experiment(load_and_prepare(p), tmp_path / "out", workers=2, progress=False)
    assert report.n_runs == 8 and report.failed_total == 2 and report.failed_now == 2
    assert "2 failed" in report.text() and "horizon" in report.text()
    df = read_runs(tmp_path / "out")
    bad = df[df.error.notna()]
    assert list(bad.point) == [2, 2]  # (deadline 100, horizon 80)
    assert bad.error.str.contains("horizon").all() and bad.delivered.isna().all()
    assert df[df.error.isna()].delivered.notna().all()


def test_a_results_dir_of_another_experiment_is_refused(two_worker_results, tmp_path):
    _, out, _ = two_worker_results
    p = tmp_path / "tiny.toml"
    p.write_text(TINY.format(timeseries="true").replace("seed = 99", "seed = 100"), encoding="utf-8")
    with pytest.raises(ExperimentError, match="spec hash"):
        run_experiment(load_and_prepare(p), out, workers=1, progress=False)
    # the same experiment again is a no-op resume
    again = run_experiment(load_and_prepare(tiny(tmp_path, timeseries=True)), out, workers=1, progress=False)
    assert again.ran == 0 and again.done == 12 and again.warnings == []
    assert read_manifest(out)["n_runs"] == 12


def test_resuming_after_the_model_changed_warns(tmp_path):
    import json

    prepared = load_and_prepare(tiny(tmp_path))
    out = tmp_path / "out"
    run_experiment(prepared, out, workers=1, progress=False)
    man = json.loads((out / "manifest.json").read_text())
    man["code_fingerprint"] = "0" * 16  # as if written by another version of the model
    (out / "manifest.json").write_text(json.dumps(man))
    report = run_experiment(prepared, out, workers=1, progress=False)
    assert report.ran == 0 and "model's code changed" in report.text()


def test_resume_after_kill_9_of_a_real_sweep(tmp_path):
    p = tmp_path / "resume.toml"
    p.write_text('name = "resume"\nscenario = "default"\nreplications = 20\nseed = 5\n'
                 'outcomes = ["delivered", "days", "trust_change"]\n[factors]\n"pm.ownership" = [0.1, 0.5, 0.9]\n',
                 encoding="utf-8")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(p), "--out", str(out), "--workers", "2",
           "--chunk-size", "1", "--flush-runs", "2", "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        runs_dir = out / "runs"
        deadline = time.monotonic() + 120
        while True:  # poll until some chunks are on disk, then kill -9
            parts = list(runs_dir.glob("part-*.parquet")) if runs_dir.is_dir() else []
            if len(parts) >= 3:
                break
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the sweep wrote no chunks"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    stored = read_runs(out)
    assert 0 < len(stored) < 60, "killed too late to test resume"
    assert stored.run_id.is_unique

    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert f"({60 - len(stored)} run now, {len(stored)} already there)" in done.stdout
    df = read_runs(out)
    assert len(df) == 60 and df.run_id.is_unique and sorted(df.run_id) == list(range(60))
    assert df.error.isna().all()
    # a resumed row equals an uninterrupted computation of the same run
    row = df.iloc[45]
    ref = sim.run(sim.Scenario(), seed=int(row.seed), overrides={"pm.ownership": row["pm.ownership"]},
                  timeseries=False).summary
    assert (row.days, row.trust_change) == (ref["days"], pytest.approx(ref["trust_change"]))


def test_local_workers_step_large_organisations_on_one_thread_unless_told(monkeypatch):
    """The pool's processes already use the cores; PMSIM_THREADS, when set, still wins."""
    from sim import influence
    from sim.batch.runner import _submit, local_executor

    monkeypatch.delenv(influence.THREADS_ENV, raising=False)
    with local_executor(1) as pool:
        assert _submit(pool, influence.step_threads).result(timeout=120) == 1
    assert influence.THREADS_ENV not in os.environ  # set in the workers, not in the parent
    monkeypatch.setenv(influence.THREADS_ENV, "3")
    with local_executor(1) as pool:
        assert _submit(pool, influence.step_threads).result(timeout=120) == 3
