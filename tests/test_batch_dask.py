"""The same sweep on a real Dask cluster (scheduler and worker started here on 127.0.0.1)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

from sim.batch import load_and_prepare, read_runs, run_experiment  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

EXPERIMENT = """
name = "on_dask"
scenario = "default"
replications = 3
seed = 2024
outcomes = ["delivered", "days", "trust_change", "outcome"]
timeseries = true

[design]
method = "lhs"
samples = 3

[factors]
"pm.strategy" = ["balanced", "pressure"]
"pm.ownership" = { low = 0.0, high = 1.0 }
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_for_log(path: Path, text: str, count: int, procs: list[subprocess.Popen], timeout: float = 120) -> None:
    """Poll a log file until ``text`` appears ``count`` times (fail early if a process died)."""
    deadline = time.monotonic() + timeout
    while path.read_text(errors="replace").count(text) < count:
        for p in procs:
            assert p.poll() is None, f"{p.args[:4]} exited early:\n{path.read_text(errors='replace')}"
        assert time.monotonic() < deadline, f"timed out waiting for {text!r} in {path}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``dask scheduler`` + ``dask worker`` (2 processes x 1 thread) as real subprocesses.

    Readiness is read from their logs, so this test process starts no Dask client (and
    no client threads) itself.
    """
    logs = tmp_path_factory.mktemp("dask")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    common = dict(cwd=ROOT, env=env, start_new_session=True, stderr=subprocess.STDOUT)
    slog, wlog = logs / "scheduler.log", logs / "worker.log"
    scheduler = subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--no-dashboard"], stdout=open(slog, "w"), **common)
    worker = None
    try:
        wait_for_log(slog, "Scheduler at:", 1, [scheduler])
        worker = subprocess.Popen([sys.executable, "-m", "dask", "worker", address, "--nworkers", "2",
                                   "--nthreads", "1", "--no-dashboard", "--memory-limit", "0",
                                   "--local-directory", str(logs)], stdout=open(wlog, "w"), **common)
        wait_for_log(wlog, "Registered to:", 2, [scheduler, worker])
        yield address
    finally:
        if worker is not None:
            stop(worker)
        stop(scheduler)


def test_dask_cluster_gives_the_local_results(cluster, tmp_path):
    p = tmp_path / "on_dask.toml"
    p.write_text(EXPERIMENT, encoding="utf-8")

    local = run_experiment(load_and_prepare(p), tmp_path / "local", workers=2, progress=False)
    assert local.ran == 18 and local.failed_total == 0

    # the CLI path users take: pmsim sweep --scheduler
    done = subprocess.run([sys.executable, "-m", "sim.cli", "sweep", str(p), "--out", str(tmp_path / "dask"),
                           "--scheduler", cluster, "--chunk-size", "2", "--no-progress"],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert "18 of 18 runs stored" in done.stdout and "0 failed" in done.stdout

    a = read_runs(tmp_path / "local").drop(columns="duration_s")
    b = read_runs(tmp_path / "dask").drop(columns="duration_s")
    pd.testing.assert_frame_equal(a, b)
    ta = pd.read_parquet(tmp_path / "local" / "timeseries").sort_values(["run_id", "day"]).reset_index(drop=True)
    tb = pd.read_parquet(tmp_path / "dask" / "timeseries").sort_values(["run_id", "day"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(ta, tb)
