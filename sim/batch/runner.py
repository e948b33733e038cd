"""Run an experiment: chunks of runs on any :class:`concurrent.futures.Executor`.

* Every run is ``(run_id, point, replication, seed)`` with
  ``run_id = point * replications + replication`` and a seed derived from the
  master seed (:func:`sim.batch.design.run_seed`): results do not depend on the
  number of workers, the chunking or the order runs finish in.
* Locally, a :class:`~concurrent.futures.ProcessPoolExecutor` of long-lived workers
  (one per core) runs chunks of consecutive runs; on a cluster, Dask's
  ``Client(address).get_executor()`` does. The runner only uses ``submit`` and
  :func:`concurrent.futures.wait`.
* Finished runs are buffered and flushed to the results store every few seconds
  (one atomically renamed Parquet file per flush); on start, run ids already in the
  store are skipped, so re-running a stopped sweep resumes it.
* A run that raises is stored with its error string; the sweep goes on.
* A worker process that dies (killed, out of memory) breaks a local process pool: the
  pool is rebuilt and the runs it held are re-run, alone if need be; a run that kills
  its worker every time is stored as failed (``WorkerDied``) after :data:`SOLO_DEATHS`
  deaths. A results directory that cannot be written (disk full, quota, read-only)
  stops the sweep with :class:`~sim.batch.store.StoreError` saying so; every stored
  chunk stays complete, so the same command resumes once the problem is fixed.
"""

from __future__ import annotations

import concurrent.futures as cf
from concurrent.futures.process import BrokenProcessPool
import hashlib
import json
import math
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.batch.design import run_id as make_run_id
from sim.batch.design import run_seed
from sim.batch.spec import SCENARIO_FACTOR, ExperimentError, Prepared, apply_overrides
from sim.batch.store import ResultStore, StoreError
from sim.influence import THREADS_ENV

BASE_COLUMNS = [("run_id", "int64"), ("point", "int64"), ("replication", "int64"), ("seed", "int64")]
TAIL_COLUMNS = [("error", "string"), ("duration_s", "float64")]
RESERVED = {name for name, _ in BASE_COLUMNS + TAIL_COLUMNS}
ERROR_LIMIT = 2000
SOLO_DEATHS = 2
"""A run is recorded as failed (``WorkerDied``) once its worker process has died this many
times while running it alone; until then it is retried in a fresh worker."""


# ------------------------------------------------------------------ the worker side
@dataclass(frozen=True)
class ChunkContext:
    """What a worker needs besides the runs: scenario dumps (by digest), outcomes, flags."""

    scenarios: dict[str, tuple[str, dict]]   # reference -> (digest, Scenario.model_dump())
    outcomes: tuple[str, ...]
    timeseries: bool


@dataclass
class RunOutput:
    run_id: int
    outcomes: dict | None
    error: str | None
    duration_s: float
    timeseries: pd.DataFrame | None = None


_SCENARIOS: dict[str, Any] = {}
_LOCAL = threading.local()


def _scenario(ctx: ChunkContext, ref: str, point: int, overrides: dict):
    from sim.params import Scenario

    digest, dump = ctx.scenarios[ref]
    # Replications of a design point are consecutive in a chunk: reuse the point's scenario.
    # The key holds the overrides themselves (not the point index), since a long-lived
    # worker (Dask, a thread pool) may serve several experiments.
    key = (digest, repr(list(overrides.items())))
    cached = getattr(_LOCAL, "point", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    base = _SCENARIOS.get(digest)
    if base is None:
        if len(_SCENARIOS) >= 64:
            _SCENARIOS.clear()
        base = _SCENARIOS[digest] = Scenario.model_validate(dump)
    sc = apply_overrides(base, overrides)  # caps are checked by the model: the run records a LimitError
    _LOCAL.point = (key, sc)
    return sc


def run_one(ctx: ChunkContext, rid: int, point: int, seed: int, ref: str, overrides: dict) -> RunOutput:
    """One simulation: same result as ``sim.run(scenario, seed, overrides).summary``."""
    from sim.model import PMSimModel
    from sim.results import summarise

    t0 = time.perf_counter()
    try:
        sc = _scenario(ctx, ref, point, overrides)
        model = PMSimModel(sc, rng=seed, collect=ctx.timeseries)
        model.run()
        summary = summarise(model)
        outcomes = {k: summary.get(k) for k in ctx.outcomes}
        ts = model.datacollector.get_model_vars_dataframe() if ctx.timeseries else None
        return RunOutput(rid, outcomes, None, time.perf_counter() - t0, ts)
    except Exception as exc:  # noqa: BLE001 - any failure of one run is recorded, the sweep goes on
        return RunOutput(rid, None, error_text(exc), time.perf_counter() - t0, None)


def error_text(exc: BaseException) -> str:
    """One line: the exception type and message (pydantic errors as ``field: message``)."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors(include_url=False):
            loc = ".".join(str(p) for p in err["loc"])
            msg = str(err["msg"]).removeprefix("Value error, ")
            parts.append(f"{loc}: {msg}" if loc else msg)
        text = f"ValidationError: {'; '.join(parts)}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:ERROR_LIMIT]


def run_chunk(ctx: ChunkContext, runs: list[tuple]) -> list[RunOutput]:
    """Run a chunk of ``(run_id, point, seed, scenario_ref, overrides)`` in order."""
    return [run_one(ctx, *r) for r in runs]


def _ready() -> int:
    return os.getpid()


def _init_worker(main_pid: int) -> None:
    """Workers leave Ctrl-C to the parent and exit when the parent dies (even by kill -9).

    They step large organisations on one thread (the pool's processes already use the
    cores) unless ``PMSIM_THREADS`` says otherwise."""
    os.environ.setdefault(THREADS_ENV, "1")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux") and os.getppid() == main_pid:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
                if os.getppid() != main_pid:  # the parent died before prctl took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass
    threading.Thread(target=_watch_parent, args=(main_pid,), daemon=True, name="pmsim-parent-watch").start()


def _watch_parent(main_pid: int) -> None:
    while True:
        time.sleep(1.0)
        try:
            os.kill(main_pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass


START_METHOD_ENV = "PMSIM_START_METHOD"


def _mp_context():
    """How local workers start.

    ``fork`` on Linux while the parent runs no other Python thread: workers start at
    once with everything imported (a spawned worker re-imports numpy, pandas, Mesa and
    the model, seconds each). The only other threads then are native pools of
    fork-aware libraries (OpenBLAS, Arrow), so Python's "multi-threaded fork"
    DeprecationWarning is silenced for that one call (see :func:`_submit`). With other
    Python threads alive (a Dask client, a GUI) ``forkserver`` with the model
    preloaded; ``spawn`` where neither exists. ``PMSIM_START_METHOD`` overrides.
    """
    methods = mp.get_all_start_methods()
    forced = os.environ.get(START_METHOD_ENV)
    if forced:
        if forced not in methods:
            raise ExperimentError(f"{START_METHOD_ENV}={forced!r}: allowed: {', '.join(methods)}")
        methods = [forced]
    elif sys.platform.startswith("linux") and "fork" in methods and threading.active_count() == 1:
        return mp.get_context("fork")
    if methods == ["fork"]:
        return mp.get_context("fork")
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["sim.batch.runner", "sim.model", "sim.results"])
        return ctx
    return mp.get_context("spawn")


def local_executor(workers: int | None = None) -> cf.ProcessPoolExecutor:
    """A process pool of ``workers`` long-lived workers (default: all cores)."""
    n = workers or os.cpu_count() or 1
    return cf.ProcessPoolExecutor(max_workers=n, mp_context=_mp_context(), initializer=_init_worker,
                                  initargs=(os.getpid(),))


def _submit(executor: cf.Executor, fn, *args) -> cf.Future:
    if isinstance(executor, cf.ProcessPoolExecutor):
        import warnings

        with warnings.catch_warnings():  # see _mp_context: no other Python thread exists when we fork
            warnings.filterwarnings("ignore", message=r".*multi-threaded, use of fork\(\)", category=DeprecationWarning)
            return executor.submit(fn, *args)
    return executor.submit(fn, *args)


def executor_workers(executor: cf.Executor) -> int:
    n = getattr(executor, "_max_workers", None)
    if n:
        return int(n)
    client = getattr(executor, "_client", None)
    if client is not None:
        try:
            return max(1, sum(client.nthreads().values()))
        except Exception:  # noqa: BLE001 - only a hint for the chunk size
            return 1
    return 1


# ------------------------------------------------------------------ schema (probe)
def _kind(values) -> str:
    vals = [v for v in values if v is not None]
    if vals and all(isinstance(v, bool) for v in vals):
        return "bool"
    if vals and all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        return "int64"
    if vals and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return "float64"
    return "string"


def _value_kind(v) -> str:
    import numpy as np

    if isinstance(v, (bool, np.bool_)):
        return "bool"
    if isinstance(v, (int, float, np.integer, np.floating)):
        return "float64"
    return "string"


def _dtype_kind(dtype) -> str:
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int64"
    if pd.api.types.is_float_dtype(dtype):
        return "float64"
    return "string"


def digest(dump: dict) -> str:
    return hashlib.sha256(json.dumps(dump, sort_keys=True, default=str).encode()).hexdigest()[:16]


def probe_schema(prepared: Prepared) -> None:
    """Run every scenario once (seed 0) to learn its outcome and time-series columns.

    Fills ``prepared.outcomes``, ``runs_schema``, ``timeseries_schema`` and
    ``prepared.probe_seconds`` (mean wall time of one run, used to size chunks).
    """
    from sim.model import PMSimModel
    from sim.params import Scenario
    from sim.results import summarise

    keys: dict[str, str] = {}
    ts_cols: dict[str, str] = {"run_id": "int64"}
    spent = []
    for ref, dump in prepared.scenarios.items():
        t0 = time.perf_counter()
        model = PMSimModel(Scenario.model_validate(dump), rng=0)
        model.run()
        summary = summarise(model)
        spent.append(time.perf_counter() - t0)
        for k, v in summary.items():
            kind = _value_kind(v)
            if k in keys and keys[k] != kind:
                kind = "float64" if {keys[k], kind} == {"bool", "float64"} else "string"
            keys[k] = kind
        if prepared.spec.timeseries:
            df = model.datacollector.get_model_vars_dataframe()
            for col in df.columns:
                ts_cols.setdefault(str(col), _dtype_kind(df[col].dtype))
    if prepared.spec.outcomes:
        unknown = [o for o in prepared.spec.outcomes if o not in keys]
        if unknown:
            raise ExperimentError(f"outcomes: unknown outcome(s) {unknown}; allowed: {', '.join(keys)}")
        outcomes = list(dict.fromkeys(prepared.spec.outcomes))
    else:
        outcomes = list(keys)
    factor_cols = []
    for name in prepared.design.names:
        if name in RESERVED:
            raise ExperimentError(f"factors: {name!r} is a reserved column name")
        factor_cols.append((name, _kind([p[name] for p in prepared.design.points])))
    clash = {n for n, _ in factor_cols} & set(outcomes)
    if clash:
        raise ExperimentError(f"factors: {sorted(clash)} clash with outcome names")
    prepared.outcomes = outcomes
    prepared.runs_schema = BASE_COLUMNS + factor_cols + [(o, keys[o]) for o in outcomes] + TAIL_COLUMNS
    prepared.timeseries_schema = list(ts_cols.items()) if prepared.spec.timeseries else []
    prepared.probe_seconds = sum(spent) / max(len(spent), 1)


# ------------------------------------------------------------------ the plan of runs
@dataclass(frozen=True)
class RunSpec:
    run_id: int
    point: int
    replication: int
    seed: int


def all_runs(prepared: Prepared) -> list[RunSpec]:
    spec = prepared.spec
    reps = spec.replications
    return [RunSpec(make_run_id(p, r, reps), p, r, run_seed(spec.seed, p, r, spec.common_random_numbers))
            for p in range(prepared.design.n_points) for r in range(reps)]


def code_fingerprint() -> str:
    """Hash of the model's source (``sim/**/*.py`` except the CLI and the batch machinery).

    Stored in the manifest: resuming a sweep after the model changed mixes two model
    versions in one results directory, which the runner warns about.
    """
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("batch/") or rel.startswith("cli") or "/__pycache__/" in rel:
            continue
        h.update(rel.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def manifest_for(prepared: Prepared) -> dict:
    import datetime as dt

    d = prepared.design
    return {
        "format": 1,
        "experiment": prepared.spec.name,
        "description": prepared.spec.description,
        "source": str(prepared.source) if prepared.source else None,
        "spec_hash": prepared.spec_hash,
        "spec": prepared.normalised_spec(),
        "scenario": prepared.base,
        "method": d.method,
        "factors": d.names,
        "sampled": d.sampled,
        "problem": d.problem,
        "n_points": d.n_points,
        "replications": prepared.spec.replications,
        "n_runs": prepared.n_runs,
        "outcomes": prepared.outcomes,
        "runs_schema": [list(c) for c in prepared.runs_schema],
        "timeseries_schema": [list(c) for c in prepared.timeseries_schema],
        "code_fingerprint": code_fingerprint(),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def design_frame(prepared: Prepared) -> pd.DataFrame:
    d = prepared.design
    df = pd.DataFrame(d.points, columns=d.names) if d.names else pd.DataFrame(index=range(d.n_points))
    df.insert(0, "point", range(d.n_points))
    if d.X is not None:
        for j, name in enumerate(d.sampled):
            df[f"x:{name}"] = d.X[:, j]
    return df


# ------------------------------------------------------------------ the driver
@dataclass
class SweepReport:
    experiment: str
    out: Path
    n_runs: int
    done_before: int
    ran: int = 0
    failed_now: int = 0
    failed_total: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    interrupted: bool = False
    workers: int = 0
    warnings: list[str] = field(default_factory=list)
    worker_deaths: int = 0
    retried: int = 0

    @property
    def done(self) -> int:
        return self.done_before + self.ran

    @property
    def rate(self) -> float:
        return self.ran / self.seconds if self.seconds > 0 else 0.0

    def text(self) -> str:
        head = (f"{self.experiment}: {self.done} of {self.n_runs} runs stored "
                f"({self.ran} run now, {self.done_before} already there) in {self.seconds:.1f} s"
                f" ({self.rate:.1f} runs/s on {self.workers} workers); {self.failed_total} failed -> {self.out}")
        lines = [head] + [f"warning: {w}" for w in self.warnings]
        if self.worker_deaths:
            lines.append(f"warning: a worker process died {self.worker_deaths} time(s) (killed, or out of memory); "
                         f"the {self.retried} run(s) it held were re-run in fresh workers")
        for msg, n in sorted(self.errors.items(), key=lambda kv: -kv[1])[:5]:
            lines.append(f"  {n} x {msg}")
        if self.interrupted:
            lines.append("interrupted: run the same command again to resume")
        return "\n".join(lines)


class SweepInterrupted(KeyboardInterrupt):
    def __init__(self, report: SweepReport):
        super().__init__("sweep interrupted")
        self.report = report


class _NoProgress:
    def __init__(self, *a, **k): ...
    def __enter__(self): return self
    def __exit__(self, *exc): return False
    def update(self, **k): ...
    def start(self): ...
    def stop(self): ...


class _Progress:
    """A rich progress bar on stderr: runs done, rate, elapsed, time left, failures."""

    def __init__(self, name: str, total: int, done: int):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>6.1f} runs/s"), TimeElapsedColumn(), TextColumn("left"),
            TimeRemainingColumn(), TextColumn("failed {task.fields[failed]}"),
            console=Console(stderr=True), transient=False, refresh_per_second=4)
        self.task = self.progress.add_task(name, total=total, completed=done, rate=0.0, failed=0)
        self.t0 = time.perf_counter()
        self.done0 = done

    def start(self):
        self.progress.start()

    def stop(self):
        self.progress.stop()

    def update(self, completed: int, failed: int):
        dt = time.perf_counter() - self.t0
        rate = (completed - self.done0) / dt if dt > 0 else 0.0
        self.progress.update(self.task, completed=completed, rate=rate, failed=failed)


def _chunks(todo: list[RunSpec], size: int) -> list[list[RunSpec]]:
    return [todo[i:i + size] for i in range(0, len(todo), size)]


def auto_chunk_size(n_todo: int, workers: int, run_seconds: float | None) -> int:
    """About half a second of work per chunk, and at least four chunks per worker."""
    per_time = max(1, int(0.5 / run_seconds)) if run_seconds and run_seconds > 0 else 16
    per_balance = max(1, math.ceil(n_todo / (4 * max(workers, 1))))
    return max(1, min(per_time, per_balance, 500))


def run_experiment(prepared: Prepared, out: str | Path, *, executor: cf.Executor | None = None,
                   workers: int | None = None, chunk_size: int | None = None,
                   flush_seconds: float = 5.0, flush_runs: int = 5000, progress: bool = True) -> SweepReport:
    """Run (or resume) ``prepared`` into the results directory ``out``.

    Args:
        executor: any :class:`concurrent.futures.Executor`; default a local process pool
            of ``workers`` processes (default: all cores), shut down at the end.
        chunk_size: runs per task (default: about 0.5 s of work, >= 4 tasks per worker).
        flush_seconds / flush_runs: write a Parquet chunk when this much time has passed or
            this many runs are buffered (whichever first).
    Raises:
        SweepInterrupted on Ctrl-C (after storing every finished run).
    """
    out = Path(out)
    manifest = manifest_for(prepared)
    store = ResultStore.open(out, manifest, design_frame(prepared))
    warnings = []
    old = store.manifest.get("code_fingerprint")
    if old and old != manifest["code_fingerprint"]:
        warnings.append(f"the model's code changed since {out} was started (fingerprint {old} -> "
                        f"{manifest['code_fingerprint']}): stored and new runs come from different model "
                        f"versions; use a new --out for a clean sweep")
    try:
        report = _drive(prepared, store, executor, workers, chunk_size, flush_seconds, flush_runs, progress,
                        warnings)
    finally:
        store.close()
    return report


def _drive(prepared, store: ResultStore, executor, workers, chunk_size, flush_seconds, flush_runs,
           progress, warnings) -> SweepReport:
    spec = prepared.spec
    runs = all_runs(prepared)
    done = store.done_run_ids()
    todo = [r for r in runs if r.run_id not in done]
    report = SweepReport(spec.name, store.root, len(runs), len(runs) - len(todo), warnings=list(warnings))
    failed_before, _ = store.count_failures()
    t_start = time.perf_counter()
    if not todo:
        report.failed_total, report.errors = store.count_failures()
        return report

    own = executor is None
    if own:
        executor = local_executor(workers)
    n_workers = executor_workers(executor)
    report.workers = n_workers
    size = chunk_size or auto_chunk_size(len(todo), n_workers, getattr(prepared, "probe_seconds", None))
    outcomes = tuple(store.manifest["outcomes"])
    points = prepared.design.points
    scen_digests = {ref: (digest(dump), dump) for ref, dump in prepared.scenarios.items()}

    def task_args(chunk: list[RunSpec]):
        items = []
        refs = set()
        for r in chunk:
            values = points[r.point]
            ref = values.get(SCENARIO_FACTOR, prepared.base)
            refs.add(ref)
            overrides = {k: v for k, v in values.items() if k != SCENARIO_FACTOR}
            items.append((r.run_id, r.point, r.seed, ref, overrides))
        ctx = ChunkContext({ref: scen_digests[ref] for ref in refs}, outcomes, spec.timeseries)
        return ctx, items

    by_id = {r.run_id: r for r in todo}
    pending = iter(_chunks(todo, size))
    in_flight: set[cf.Future] = set()
    window = max(2, 2 * n_workers)
    buffer_rows: list[dict] = []
    buffer_ts: list[pd.DataFrame] = []
    last_flush = time.perf_counter()
    failed_now = 0
    # Worker crashes (a process killed, or out of memory) break a process pool and every
    # chunk in flight with it. Their runs are retried in a fresh pool: first one run per
    # task (level 1); if the pool breaks again, one run at a time with nothing else in
    # flight (level 2), so a run that kills its worker is known; after SOLO_DEATHS deaths
    # alone it is recorded as failed and the sweep goes on.
    submitted: dict[cf.Future, tuple[list[RunSpec], int]] = {}
    retry: list[RunSpec] = []
    quarantine: list[RunSpec] = []
    solo_deaths: dict[int, int] = {}

    def submit(chunk: list[RunSpec], level: int) -> None:
        nonlocal lost_error
        try:
            fut = _submit(executor, run_chunk, *task_args(chunk))
        except BrokenProcessPool as exc:  # the pool broke since the last wait: rebuild, then submit
            lost_error = exc
            recover([])
            fut = _submit(executor, run_chunk, *task_args(chunk))
        submitted[fut] = (chunk, level)
        in_flight.add(fut)
        worker_procs.update(getattr(executor, "_processes", None) or {})  # to read exit codes after a crash

    def submit_more():
        if quarantine:
            if not in_flight:
                submit([quarantine.pop(0)], 2)
            return
        while len(in_flight) < window:
            if retry:
                submit([retry.pop(0)], 1)
                continue
            chunk = next(pending, None)
            if chunk is None:
                return
            submit(chunk, 0)

    def take(outputs) -> None:
        nonlocal failed_now
        for o in outputs:
            r = by_id[o.run_id]
            row = {"run_id": r.run_id, "point": r.point, "replication": r.replication, "seed": r.seed,
                   "error": o.error, "duration_s": o.duration_s}
            row.update(points[r.point])
            if o.outcomes:
                row.update(o.outcomes)
            else:
                failed_now += 1
            buffer_rows.append(row)
            if o.timeseries is not None and len(o.timeseries):
                ts = o.timeseries.reset_index(drop=True)
                ts.insert(0, "run_id", r.run_id)
                buffer_ts.append(ts)

    def recover(lost: list[tuple[list[RunSpec], int]]) -> None:
        """The process pool broke: requeue the lost runs and start a fresh pool."""
        nonlocal executor, own
        if not isinstance(executor, cf.ProcessPoolExecutor):
            raise lost_error  # not a local pool (e.g. Dask retries by itself): nothing to rebuild
        cf.wait(in_flight)  # every other chunk in flight broke too; keep those that finished first
        for f in list(in_flight):
            in_flight.discard(f)
            chunk, level = submitted.pop(f)
            try:
                take(f.result())
            except BrokenProcessPool:
                lost.append((chunk, level))
        code = _dead_worker_code(worker_procs)
        worker_procs.clear()
        report.worker_deaths += 1
        for chunk, level in lost:
            report.retried += len(chunk)
            if level == 0:
                retry.extend(chunk)
            elif level == 1:
                quarantine.extend(chunk)
            else:
                r = chunk[0]
                solo_deaths[r.run_id] = solo_deaths.get(r.run_id, 0) + 1
                if solo_deaths[r.run_id] < SOLO_DEATHS:
                    quarantine.insert(0, r)
                else:
                    report.retried -= 1
                    take([RunOutput(r.run_id, None, f"WorkerDied: the worker process died {SOLO_DEATHS} times while "
                                    f"running this run alone (exit code {code}; -9 is SIGKILL, e.g. the "
                                    f"out-of-memory killer); not retried again", 0.0)])
        retry.sort(key=lambda r: r.run_id)
        quarantine.sort(key=lambda r: (solo_deaths.get(r.run_id, 0) == 0, r.run_id))
        if own:
            executor.shutdown(wait=False, cancel_futures=True)
        executor = local_executor(n_workers)  # a fresh pool (a caller's pool stays the caller's to shut down)
        own = True

    lost_error: BaseException | None = None
    worker_procs: dict = {}

    def flush():
        nonlocal last_flush
        if buffer_rows:
            ts = pd.concat(buffer_ts, ignore_index=True) if buffer_ts else None
            store.write_chunk(buffer_rows, ts)
            report.ran += len(buffer_rows)
            buffer_rows.clear()
            buffer_ts.clear()
        last_flush = time.perf_counter()

    bar = _Progress(spec.name, len(runs), report.done_before) if progress else _NoProgress()
    try:
        submit_more()  # first submit forks the local workers, before the progress thread exists
        bar.start()
        while in_flight:
            finished, _ = cf.wait(in_flight, timeout=max(0.05, flush_seconds - (time.perf_counter() - last_flush)),
                                  return_when=cf.FIRST_COMPLETED)
            lost = []
            for fut in finished:
                in_flight.discard(fut)
                chunk, level = submitted.pop(fut)
                try:
                    outputs = fut.result()
                except BrokenProcessPool as exc:  # a worker process died: not a run error
                    lost.append((chunk, level))
                    lost_error = exc
                    continue
                take(outputs)
            if lost:
                recover(lost)
            submit_more()
            if buffer_rows and (len(buffer_rows) >= flush_runs
                                or time.perf_counter() - last_flush >= flush_seconds):
                flush()
            bar.update(completed=report.done_before + report.ran + len(buffer_rows),
                       failed=failed_before + failed_now)
        flush()
    except KeyboardInterrupt:
        flush()
        report.interrupted = True
        _shutdown(executor, in_flight, own)
        own = False
        raise SweepInterrupted(_finish(report, store, t_start, failed_now)) from None
    except StoreError as exc:  # the results directory cannot be written: say what is stored
        _shutdown(executor, in_flight, own)
        own = False
        raise StoreError(f"{exc}; {report.done} of {report.n_runs} runs are stored") from None
    except BaseException:
        try:
            flush()
        except StoreError:
            pass  # the error being raised is the one to report
        _shutdown(executor, in_flight, own)
        own = False
        raise
    finally:
        bar.stop()
        if own:
            executor.shutdown(wait=True)
    return _finish(report, store, t_start, failed_now)


def _dead_worker_code(procs: dict) -> str:
    """Exit code of the worker that broke a process pool (best effort; '?' if unknown). The
    pool terminates its other workers with SIGTERM (-15) once one has died."""
    for p in procs.values():
        try:
            p.join(timeout=2)  # the pool's own thread may be reaping it right now
        except (AssertionError, OSError, ValueError):
            pass
    codes = [getattr(p, "exitcode", None) for p in procs.values()]
    codes = [c for c in codes if c not in (None, 0, -signal.SIGTERM)]
    return str(codes[0]) if codes else "?"


def _finish(report: SweepReport, store: ResultStore, t_start: float, failed_now: int) -> SweepReport:
    report.seconds = time.perf_counter() - t_start
    report.failed_now = failed_now
    report.failed_total, report.errors = store.count_failures()
    return report


def _shutdown(executor, in_flight, own: bool) -> None:
    for fut in in_flight:
        fut.cancel()
    if own:
        try:
            executor.shutdown(wait=False, cancel_futures=True)
        except TypeError:
            executor.shutdown(wait=False)
