"""Experiments for the dashboard (no Streamlit): files, checks, sweeps in the background,
results folders.

Everything the page writes goes under ``results/`` of the project (tests point
``PMSIM_RESULTS_DIR`` at a temporary folder instead); an experiment's results folder
is ``results/<experiment name>``, and names or scenario paths that would lead outside
are refused.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.batch import ExperimentError, Prepared, read_manifest, read_runs, run_experiment
from sim.batch.analysis import outcome_frame
from sim.batch.runner import local_executor
from sim.batch.spec import SCENARIO_FACTOR, is_path_ref, parse_experiment, prepare

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS_DIR = ROOT / "experiments"
MAX_TEXT = 100_000


def results_root() -> Path:
    """The folder every result of the dashboard goes to."""
    return Path(os.environ.get("PMSIM_RESULTS_DIR") or ROOT / "results")


def experiment_files() -> dict[str, Path]:
    """The project's experiment files by stem."""
    return {p.stem: p for p in sorted(EXPERIMENTS_DIR.glob("*.toml"))}


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def results_dir_for(name: str) -> Path:
    """``results/<name>``; refuses names that leave the results folder."""
    root = results_root()
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise ExperimentError(f"experiment name {name!r} cannot name a results folder")
    out = root / name
    if not _inside(out, root) or out.resolve() == root.resolve():
        raise ExperimentError(f"experiment name {name!r} leads outside {root}")
    return out


def check_experiment(text: str, source: str = "experiment") -> Prepared:
    """Validate an experiment's TOML text and lay out its design (no runs yet).

    Scenario references may be library names or files inside the project.
    """
    if len(text) > MAX_TEXT:
        raise ExperimentError(f"{source}: {len(text)} characters is too long for an experiment file")
    spec = parse_experiment(text, source)
    refs = [spec.scenario]
    factor = spec.factors.get(SCENARIO_FACTOR)
    values = factor if isinstance(factor, list) else getattr(factor, "values", None)  # a list or a choice
    if values:
        refs += [r for r in values if isinstance(r, str)]
    for ref in refs:
        if is_path_ref(ref) and not _inside(EXPERIMENTS_DIR / ref, ROOT):
            raise ExperimentError(f"{source}: scenario {ref!r} lies outside the project; use a library name "
                                  f"or a file under {ROOT}")
    results_dir_for(spec.name)
    try:
        return prepare(spec, EXPERIMENTS_DIR / f"{spec.name}.toml", probe=True)
    except ExperimentError:
        raise
    except (ValueError, KeyError) as exc:
        raise ExperimentError(f"{source}: {exc}") from None


def describe(prepared: Prepared) -> str:
    d = prepared.design
    factors = ", ".join(f"{name} ({len(set(map(str, (p[name] for p in d.points))))} levels)" for name in d.names)
    return (f"{d.n_points} design points x {prepared.spec.replications} replications = "
            f"**{prepared.n_runs} runs** ({d.method} design; factors: {factors or 'none'})")


# ------------------------------------------------------------------------- sweeps
@dataclass
class SweepJob:
    """A sweep running in a background thread; the page polls :meth:`progress`."""

    prepared: Prepared
    out: Path
    workers: int
    thread: threading.Thread | None = None
    report: object | None = None
    error: str | None = None
    started: float = field(default_factory=time.perf_counter)

    @property
    def total(self) -> int:
        return self.prepared.n_runs

    def done(self) -> int:
        """Runs stored so far (the store writes a chunk every half second)."""
        try:
            return len(read_runs(self.out, columns=["run_id"]))
        except (ExperimentError, OSError, ValueError):
            return 0

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def _run(self) -> None:
        executor: cf.Executor
        # one worker: run in this process (no start-up cost); more: the runner's process pool
        executor = cf.ThreadPoolExecutor(max_workers=1) if self.workers <= 1 else local_executor(self.workers)
        try:
            self.report = run_experiment(self.prepared, self.out, executor=executor, flush_seconds=0.5,
                                         progress=False)
        except ExperimentError as exc:
            self.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - reported in the page, never as a traceback
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            executor.shutdown(wait=True, cancel_futures=True)


def start_sweep(prepared: Prepared, workers: int = 1, fresh: bool = False) -> SweepJob:
    """Start ``prepared`` into ``results/<name>`` (resuming it unless ``fresh``)."""
    out = results_dir_for(prepared.spec.name)
    if fresh and out.exists():
        if not _inside(out, results_root()) or not (out / "manifest.json").is_file():
            raise ExperimentError(f"{out} is not a results folder of the dashboard; not deleting it")
        shutil.rmtree(out)
    job = SweepJob(prepared, out, workers)
    job.thread = threading.Thread(target=job._run, name=f"pmsim-sweep-{prepared.spec.name}", daemon=True)
    job.thread.start()
    return job


# ----------------------------------------------------------------------- results
def results_folders() -> dict[str, dict]:
    """Result folders under ``results/`` that hold a manifest, by name -> manifest."""
    out = {}
    root = results_root()
    if root.is_dir():
        for p in sorted(root.iterdir()):
            if p.is_dir() and (p / "manifest.json").is_file():
                try:
                    out[p.name] = read_manifest(p)
                except ExperimentError:
                    continue
    return out


def load_runs(name: str) -> tuple[dict, pd.DataFrame]:
    folder = results_dir_for(name)
    return read_manifest(folder), read_runs(folder)


def numeric_outcomes(runs: pd.DataFrame, manifest: dict) -> pd.DataFrame:
    """The runs' factor columns plus a numeric view of every outcome (bools as 0/1)."""
    factors = [f for f in manifest.get("factors", []) if f in runs]
    Y = outcome_frame(runs, list(manifest.get("outcomes", [])))
    return pd.concat([runs[factors + ["point", "replication"]], Y], axis=1)


def parquet_bytes(runs: pd.DataFrame) -> bytes:
    return runs.to_parquet(index=False)


def csv_bytes(runs: pd.DataFrame) -> bytes:
    return runs.to_csv(index=False).encode()
