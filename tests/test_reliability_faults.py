"""Faults injected into batch sweeps (issue 8, item 4).

Each test breaks a real sweep: a worker process killed with SIGKILL mid-run, a run that
kills its own worker every time, the whole sweep killed with SIGKILL (twice), the results
disk filled up, the results directory read-only from the start or turned read-only mid-
sweep. Afterwards the stored results are never corrupted (every Parquet chunk reads, no
temporary file is left where a reader looks, run ids are unique and every stored row
equals the same run of an uninterrupted sweep), the error message says what happened,
and resuming gives exactly the rows of an uninterrupted sweep.

The disk tests mount small tmpfs filesystems (the tests run as root in CI); without the
privilege to mount they are skipped with the reason.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from proc_helpers import children
from reliability_cases import case

from sim.batch import load_and_prepare, read_runs, read_timeseries, run_experiment
from sim.batch import runner as batch_runner
from sim.batch.store import StoreError

ROOT = Path(__file__).resolve().parents[1]
N_RUNS = 30
EXPERIMENT = f"""
name = "faults"
scenario = "default"
replications = {N_RUNS // 3}
seed = 8
outcomes = ["delivered", "days", "trust_change", "outcome", "slip_days"]
timeseries = true

[factors]
"pm.ownership" = [0.1, 0.5, 0.9]
"""


def comparable(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["duration_s"]).sort_values("run_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    """The experiment file and the results of an uninterrupted sweep (the reference)."""
    folder = tmp_path_factory.mktemp("faults")
    path = folder / "faults.toml"
    path.write_text(EXPERIMENT, encoding="utf-8")
    with cf.ThreadPoolExecutor(1) as pool:
        run_experiment(load_and_prepare(path), folder / "reference", executor=pool, progress=False)
    ref = comparable(read_runs(folder / "reference"))
    assert len(ref) == N_RUNS and ref.error.isna().all()
    return path, ref, read_timeseries(folder / "reference")


def intact(out: Path, ref: pd.DataFrame, ref_ts: pd.DataFrame | None = None) -> pd.DataFrame:
    """The results directory is not corrupted: every chunk reads, no temporary file where a
    reader looks, unique run ids, every stored row equal to the reference's, and the time
    series chunks match the runs chunks."""
    for folder in (out / "runs", out / "timeseries"):
        for part in folder.glob("part-*.parquet"):
            pq.read_table(part)  # never half a file
    stored = comparable(read_runs(out))
    assert stored.run_id.is_unique
    pd.testing.assert_frame_equal(stored, ref[ref.run_id.isin(stored.run_id)].reset_index(drop=True))
    assert pd.read_parquet(out / "runs").shape[0] == len(stored)  # plain readers agree
    if ref_ts is not None:
        ts = read_timeseries(out)
        runs_with_ts = set(ts.run_id)
        assert runs_with_ts <= set(stored.run_id)
    return stored


def complete(out: Path, ref: pd.DataFrame, ref_ts: pd.DataFrame) -> None:
    stored = intact(out, ref, ref_ts)
    assert len(stored) == N_RUNS
    pd.testing.assert_frame_equal(stored, ref)
    pd.testing.assert_frame_equal(read_timeseries(out), ref_ts)
    leftovers = [p for p in out.rglob(".tmp-*")]
    assert not leftovers, leftovers


def resume(path: Path, out: Path, workers: int = 1):
    if workers == 1:
        with cf.ThreadPoolExecutor(1) as pool:
            return run_experiment(load_and_prepare(path), out, executor=pool, progress=False)
    return run_experiment(load_and_prepare(path), out, workers=workers, progress=False)


def sweep_cmd(path: Path, out: Path, workers: int = 2) -> list[str]:
    return [sys.executable, "-m", "sim.cli", "sweep", str(path), "--out", str(out), "--workers", str(workers),
            "--chunk-size", "1", "--flush-runs", "1", "--flush-seconds", "0", "--no-progress"]


def wait_for_parts(out: Path, n: int, proc: subprocess.Popen | None = None, thread: threading.Thread | None = None,
                   timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(list((out / "runs").glob("part-*.parquet"))) < n:
        if proc is not None:
            assert proc.poll() is None, proc.communicate()
        if thread is not None:
            assert thread.is_alive(), "the sweep ended before the fault could be injected"
        assert time.monotonic() < deadline, "the sweep wrote no chunks"
        time.sleep(0.005)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)  # only the process group this test started
        proc.wait(30)


# ------------------------------------------------------------------ worker processes
@case("fault", "SIGKILL to one worker process of a running 2-worker sweep (pmsim sweep)",
      "the pool is rebuilt, the runs the dead worker's pool held are re-run in fresh workers, the sweep "
      "finishes with exit 0 and a warning that a worker died; rows equal an uninterrupted sweep")
def test_worker_killed_mid_run_is_retried(experiment, tmp_path):
    path, ref, ref_ts = experiment
    out = tmp_path / "out"
    proc = subprocess.Popen(sweep_cmd(path, out), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        wait_for_parts(out, 2, proc=proc)
        argv = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        workers = [k for k in children(proc.pid) if Path(f"/proc/{k}/cmdline").read_bytes() == argv]
        assert workers, "no worker processes found"
        os.kill(workers[0], signal.SIGKILL)
        out_text, err_text = proc.communicate(timeout=180)
    finally:
        stop(proc)
    assert proc.returncode == 0, err_text
    assert "worker process died" in out_text and f"{N_RUNS} of {N_RUNS} runs stored" in out_text, out_text
    complete(out, ref, ref_ts)


@case("fault", "a run that kills its own worker process (SIGKILL) every time it is attempted (fault injector "
      "wrapped around the real run in the forked workers)",
      "the run is retried alone in fresh workers, then stored as failed with 'WorkerDied ... exit code -9'; "
      "every other run completes and equals the uninterrupted sweep")
def test_a_run_that_always_kills_its_worker_is_isolated(experiment, tmp_path, monkeypatch):
    path, ref, ref_ts = experiment
    real = batch_runner.run_one
    parent = os.getpid()

    def killer(ctx, rid, *args):
        if rid == 7 and os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(ctx, rid, *args)

    monkeypatch.setattr(batch_runner, "run_one", killer)  # forked workers inherit the injector
    monkeypatch.setenv(batch_runner.START_METHOD_ENV, "fork")
    report = run_experiment(load_and_prepare(path), tmp_path / "out", workers=2, chunk_size=3, flush_seconds=0.2,
                            progress=False)
    assert report.done == N_RUNS and report.failed_total == 1 and report.worker_deaths >= 3
    df = comparable(read_runs(tmp_path / "out"))
    bad = df[df.error.notna()]
    assert list(bad.run_id) == [7]
    assert bad.error.iloc[0].startswith("WorkerDied") and "exit code -9" in bad.error.iloc[0]
    good = df[df.run_id != 7].reset_index(drop=True)
    pd.testing.assert_frame_equal(good, ref[ref.run_id != 7].reset_index(drop=True), check_dtype=False)
    assert "worker process died" in report.text()


# ------------------------------------------------------------------ the whole sweep
@case("fault", "SIGKILL to the whole sweep (main process; workers die with it), twice at different points, "
      "then the same command again", "stored chunks intact and equal to the uninterrupted sweep after each "
      "kill; no orphan worker left; the resume runs exactly the missing runs and the final rows equal the "
      "uninterrupted sweep", count=2)
def test_sigkill_whole_sweep_twice_then_resume(experiment, tmp_path):
    path, ref, ref_ts = experiment
    out = tmp_path / "out"
    for target in (3, 9):
        proc = subprocess.Popen(sweep_cmd(path, out), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            wait_for_parts(out, target, proc=proc)
            workers = children(proc.pid)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(30)
            deadline = time.monotonic() + 10
            while any(Path(f"/proc/{w}").exists() and "Z" not in Path(f"/proc/{w}/stat").read_text().split()[2]
                      for w in workers if Path(f"/proc/{w}/stat").exists()):
                assert time.monotonic() < deadline, "worker processes outlived the killed sweep"
                time.sleep(0.05)
        finally:
            stop(proc)
        assert proc.returncode == -signal.SIGKILL
        stored = intact(out, ref, ref_ts)
        assert 0 < len(stored) < N_RUNS, "killed too late to test resume"
    before = len(read_runs(out))
    report = resume(path, out)
    assert report.ran == N_RUNS - before and report.done_before == before
    complete(out, ref, ref_ts)


# ------------------------------------------------------------------ the disk
@pytest.fixture
def tmpfs(tmp_path):
    """Mount small tmpfs filesystems under tmp_path; unmount exactly those afterwards."""
    mounted: list[Path] = []

    def mount(name: str, size: str = "1m", options: str = "") -> Path:
        target = tmp_path / name
        target.mkdir(exist_ok=True)
        opts = f"size={size}" + (f",{options}" if options else "")
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, f"pmsim-{uuid.uuid4().hex[:6]}", str(target)],
                             capture_output=True, text=True)
        if res.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs to simulate a full or read-only disk (needs root or "
                        f"CAP_SYS_ADMIN): {res.stderr.strip()}")
        mounted.append(target)
        return target

    yield mount
    for target in reversed(mounted):
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


def fill(folder: Path, leave: int) -> Path:
    """Fill the filesystem of ``folder`` leaving exactly ``leave`` bytes (rounded to pages) free."""
    reserve = folder / "reserve.bin"
    reserve.write_bytes(b"\0" * leave)
    filler = folder / "filler.bin"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    reserve.unlink()
    return filler


@case("fault", "the results disk fills up mid-sweep (a 1 MB tmpfs with 64 KB left)",
      "StoreError: '... cannot write results: no space left on the device (disk full); the N runs just finished "
      "were not stored ...; resume ...; K of 30 runs are stored'; no temporary or half-written file; pmsim sweep "
      "on the still-full disk exits 2 with that one line; after freeing space the resume completes exactly",
      count=2)
def test_disk_full_mid_sweep_then_resume(experiment, tmp_path, tmpfs, capsys):
    path, ref, ref_ts = experiment
    disk = tmpfs("disk", size="1m")
    filler = fill(disk, leave=64 * 1024)
    out = disk / "out"
    with pytest.raises(StoreError) as info:
        with cf.ThreadPoolExecutor(1) as pool:
            run_experiment(load_and_prepare(path), out, executor=pool, chunk_size=1, flush_seconds=0, flush_runs=1,
                           progress=False)
    msg = str(info.value)
    assert "no space left on the device" in msg and "resume" in msg and f"of {N_RUNS} runs are stored" in msg, msg
    assert not list(out.rglob(".tmp-*")), "a temporary chunk was left behind"
    stored = intact(out, ref, ref_ts)
    assert 0 < len(stored) < N_RUNS, "the disk did not fill up mid-sweep"
    from sim.cli import main

    with pytest.raises(SystemExit) as code:
        main(["sweep", str(path), "--out", str(out), "--workers", "1", "--no-progress"])
    err = capsys.readouterr().err
    assert code.value.code == 2 and err.count("\n") == 1 and "no space left on the device" in err, err
    intact(out, ref, ref_ts)
    filler.unlink()
    resume(path, out)
    complete(out, ref, ref_ts)


@case("fault", "results directory on a read-only filesystem from the start (new sweep), and an existing "
      "partial results directory remounted read-only before the resume",
      "StoreError / exit 2: 'cannot write the results directory: read-only file system; nothing was run'; "
      "the stored chunks stay readable; once writable the resume completes exactly", count=2)
def test_read_only_results_directory(experiment, tmp_path, tmpfs):
    path, ref, ref_ts = experiment
    ro = tmpfs("ro", options="ro")
    with pytest.raises(StoreError, match="read-only file system; nothing was run"):
        resume(path, ro / "out")
    # a partial sweep, then the disk turns read-only
    disk = tmpfs("disk", size="4m")
    filler = fill(disk, leave=64 * 1024)
    with pytest.raises(StoreError):
        resume(path, disk / "out")
    filler.unlink()
    before = intact(disk / "out", ref, ref_ts)
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True, capture_output=True)
    with pytest.raises(StoreError, match="read-only file system; nothing was run"):
        resume(path, disk / "out")
    assert len(intact(disk / "out", ref, ref_ts)) == len(before)
    subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True, capture_output=True)
    resume(path, disk / "out")
    complete(disk / "out", ref, ref_ts)


@case("fault", "the results folder turns read-only mid-sweep (a read-only filesystem mounted over runs/ while "
      "the sweep writes)", "StoreError naming 'read-only file system' and how many runs are stored; after the "
      "mount is gone the stored chunks are intact and the resume completes exactly")
def test_results_turn_read_only_mid_sweep(experiment, tmp_path, tmpfs):
    path, ref, ref_ts = experiment
    out = tmp_path / "out"
    errors: list[BaseException] = []

    def sweep():
        try:
            with cf.ThreadPoolExecutor(1) as pool:
                run_experiment(load_and_prepare(path), out, executor=pool, chunk_size=1, flush_seconds=0,
                               flush_runs=1, progress=False)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    thread = threading.Thread(target=sweep)
    thread.start()
    try:
        wait_for_parts(out, 2, thread=thread)
        tmpfs("out/runs", options="ro")  # over the folder being written
        thread.join(120)
    finally:
        thread.join(120)
    assert errors and isinstance(errors[0], StoreError), errors
    assert "read-only file system" in str(errors[0]) and "runs are stored" in str(errors[0])
    subprocess.run(["umount", "-l", str(out / "runs")], check=True, capture_output=True)
    stored = intact(out, ref, ref_ts)
    assert 0 < len(stored) < N_RUNS
    resume(path, out)
    complete(out, ref, ref_ts)
