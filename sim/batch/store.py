"""The results directory: a manifest, the design and Parquet datasets written chunk by chunk.

Layout::

    RESULTS/
      manifest.json        experiment, spec hash, run count, column schemas
      design.parquet       one row per design point (factor values; SALib sample matrix)
      runs/part-*.parquet  one row per finished run (run_id, point, replication, seed,
                           factor values, outcomes, error, duration_s)
      timeseries/part-*.parquet   daily series, when the experiment keeps them (run_id, day, ...)

Every chunk is written to a hidden temporary name and renamed into place with
:func:`os.replace`, so a reader (or a resumed sweep) never sees half a file; Arrow and
pandas skip names starting with ``.`` or ``_``. A timeseries chunk is renamed before
its runs chunk and carries the same name: on resume, timeseries chunks whose runs
chunk never landed are deleted, so a run is "done" exactly when its row is in ``runs/``.
``pd.read_parquet(RESULTS / "runs")`` reads the whole table.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.batch.spec import ExperimentError

MANIFEST = "manifest.json"
DESIGN = "design.parquet"
RUNS = "runs"
TIMESERIES = "timeseries"
LOCK = ".lock"
FORMAT = 1

TYPES = {"int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_(), "string": pa.string()}


def arrow_schema(columns: list[tuple[str, str]] | list[list[str]]) -> pa.Schema:
    return pa.schema([pa.field(name, TYPES[kind]) for name, kind in columns])


def _coerce(value, kind: str):
    if value is None:
        return None
    try:
        if kind == "float64":
            return float(value)
        if kind == "int64":
            return int(value)
        if kind == "bool":
            return bool(value)
        return str(value)
    except (TypeError, ValueError):
        return None


def rows_to_table(rows: list[dict], columns: list[tuple[str, str]]) -> pa.Table:
    """A table with exactly ``columns`` (name, type); missing keys become null, extra keys are dropped."""
    arrays = []
    for name, kind in columns:
        arrays.append(pa.array([_coerce(r.get(name), kind) for r in rows], type=TYPES[kind]))
    return pa.Table.from_arrays(arrays, schema=arrow_schema(columns))


def frame_to_table(df: pd.DataFrame, columns: list[tuple[str, str]]) -> pa.Table:
    """Conform a DataFrame to ``columns`` (missing columns null, extra dropped, types cast)."""
    arrays = []
    for name, kind in columns:
        if name in df.columns:
            col = df[name]
            if kind == "string":
                values = [None if (v is None or (isinstance(v, float) and v != v)) else str(v) for v in col]
                arrays.append(pa.array(values, type=pa.string()))
            else:
                arrays.append(pa.array(col.to_numpy(), type=TYPES[kind], from_pandas=True))
        else:
            arrays.append(pa.nulls(len(df), type=TYPES[kind]))
    return pa.Table.from_arrays(arrays, schema=arrow_schema(columns))


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class StoreError(ExperimentError):
    """The results directory cannot be written (disk full, quota, read-only, permissions).

    Every chunk already stored is complete (chunks are renamed into place only once fully
    written), so the sweep can be resumed once the problem is fixed."""


def io_problem(exc: OSError) -> str:
    """A short reason for an I/O error: disk full, quota, read-only, permissions."""
    import errno

    reasons = {errno.ENOSPC: "no space left on the device (disk full)", errno.EDQUOT: "disk quota exceeded",
               errno.EROFS: "read-only file system", errno.EACCES: "permission denied",
               errno.EPERM: "operation not permitted"}
    if exc.errno in reasons:
        return reasons[exc.errno]
    text = str(exc)
    for code, reason in reasons.items():  # pyarrow's OSError carries the errno only in its text
        if f"errno {code}]" in text.lower() or os.strerror(code).lower() in text.lower():
            return reason
    return exc.strerror or text


def _discard(tmp: Path) -> None:
    try:
        tmp.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only directory: the next writer's _clean removes it


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex[:8]}-{path.name}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        _discard(tmp)  # never leave half a file behind, even under a hidden name
        raise
    _fsync_dir(path.parent)


def atomic_write_table(path: Path, table: pa.Table) -> None:
    tmp = path.with_name(f".tmp-{path.name}")
    try:
        pq.write_table(table, tmp, compression="zstd")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        _discard(tmp)
        raise


def read_manifest(root: str | Path) -> dict:
    root = Path(root)
    path = root / MANIFEST
    if not path.is_file():
        raise ExperimentError(f"{root}: not a pmsim results directory (no {MANIFEST})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ExperimentError(f"{path}: unreadable manifest: {exc}") from None


def _parts(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("part-*.parquet"))


def read_table(folder: Path, schema: pa.Schema, columns: list[str] | None = None) -> pa.Table:
    parts = _parts(folder)
    if not parts:
        table = schema.empty_table()
        return table.select(columns) if columns else table
    tables = [pq.read_table(p, columns=columns, schema=schema) if columns is None
              else pq.read_table(p, columns=columns) for p in parts]
    return pa.concat_tables(tables)


def read_runs(root: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """All stored runs as a DataFrame sorted by run_id."""
    root = Path(root)
    man = read_manifest(root)
    df = read_table(root / RUNS, arrow_schema(man["runs_schema"]), columns).to_pandas()
    if "run_id" in df.columns:
        df = df.sort_values("run_id", kind="stable").reset_index(drop=True)
    return df


def read_timeseries(root: str | Path) -> pd.DataFrame:
    root = Path(root)
    man = read_manifest(root)
    if not man.get("timeseries_schema"):
        return pd.DataFrame()
    df = read_table(root / TIMESERIES, arrow_schema(man["timeseries_schema"])).to_pandas()
    return df.sort_values(["run_id", "day"], kind="stable").reset_index(drop=True)


def read_design(root: str | Path) -> pd.DataFrame:
    return pd.read_parquet(Path(root) / DESIGN)


class ResultStore:
    """Append-only writer of one results directory, held under an exclusive lock."""

    def __init__(self, root: Path, manifest: dict, lock_fh):
        self.root = root
        self.manifest = manifest
        self._lock_fh = lock_fh
        self.runs_columns = [tuple(c) for c in manifest["runs_schema"]]
        self.ts_columns = [tuple(c) for c in manifest.get("timeseries_schema") or []]
        self._seq = len(_parts(root / RUNS))

    # ----------------------------------------------------------------- open
    @classmethod
    def open(cls, root: str | Path, manifest: dict, design: pd.DataFrame | None = None) -> "ResultStore":
        """Open (or create) ``root`` for ``manifest``; refuse a directory of another experiment."""
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise ExperimentError(f"{root}: exists and is not a directory")
        existing = root / MANIFEST
        if existing.is_file():
            old = read_manifest(root)
            if old.get("spec_hash") != manifest["spec_hash"]:
                raise ExperimentError(
                    f"{root}: holds results of experiment {old.get('experiment')!r} with spec hash "
                    f"{old.get('spec_hash')}, but this experiment's hash is {manifest['spec_hash']} "
                    f"(the file, a factor, the seed or a scenario changed); use another --out directory")
            manifest = old  # keep the schema the existing chunks were written with
        elif root.is_dir() and any(p.name != LOCK for p in root.iterdir()):
            raise ExperimentError(f"{root}: exists, is not empty and is not a pmsim results directory")
        try:
            root.mkdir(parents=True, exist_ok=True)
            lock_fh = _lock(root)
        except OSError as exc:
            raise StoreError(f"{root}: cannot write the results directory: {io_problem(exc)}; nothing was run") from None
        try:
            (root / RUNS).mkdir(exist_ok=True)
            if manifest.get("timeseries_schema"):
                (root / TIMESERIES).mkdir(exist_ok=True)
            if not existing.is_file():
                if design is not None:
                    atomic_write_table(root / DESIGN, pa.Table.from_pandas(design, preserve_index=False))
                atomic_write_bytes(existing, json.dumps(manifest, indent=1, default=str).encode())
            store = cls(root, manifest, lock_fh)
            store._clean()
        except OSError as exc:
            _unlock(lock_fh)
            raise StoreError(f"{root}: cannot write the results directory: {io_problem(exc)}; nothing was run") from None
        except BaseException:
            _unlock(lock_fh)
            raise
        return store

    def _clean(self) -> None:
        """Remove leftovers of an interrupted writer: temp files and orphan timeseries chunks."""
        for folder in (self.root / RUNS, self.root / TIMESERIES, self.root):
            if folder.is_dir():
                for p in folder.glob(".tmp-*"):
                    p.unlink(missing_ok=True)
        runs = {p.name for p in _parts(self.root / RUNS)}
        for p in _parts(self.root / TIMESERIES):
            if p.name not in runs:
                p.unlink(missing_ok=True)

    # ------------------------------------------------------------- reading
    def done_run_ids(self) -> set[int]:
        table = read_table(self.root / RUNS, arrow_schema(self.runs_columns), columns=["run_id"])
        return set(table.column("run_id").to_pylist())

    def count_failures(self) -> tuple[int, dict[str, int]]:
        table = read_table(self.root / RUNS, arrow_schema(self.runs_columns), columns=["error"])
        errors = [e for e in table.column("error").to_pylist() if e is not None]
        counts: dict[str, int] = {}
        for e in errors:
            head = e.splitlines()[0][:200]
            counts[head] = counts.get(head, 0) + 1
        return len(errors), counts

    # ------------------------------------------------------------- writing
    def write_chunk(self, rows: list[dict], timeseries: pd.DataFrame | None = None) -> Path | None:
        """Write one chunk of runs (and their time series) atomically."""
        if not rows:
            return None
        name = f"part-{self._seq:06d}-{uuid.uuid4().hex[:8]}.parquet"
        self._seq += 1
        try:
            if self.ts_columns and timeseries is not None and len(timeseries):
                atomic_write_table(self.root / TIMESERIES / name, frame_to_table(timeseries, self.ts_columns))
            path = self.root / RUNS / name
            atomic_write_table(path, rows_to_table(rows, self.runs_columns))
        except OSError as exc:
            _discard(self.root / TIMESERIES / name)  # no time series without its runs row
            raise StoreError(f"{self.root}: cannot write results: {io_problem(exc)}; the {len(rows)} runs just "
                             f"finished were not stored (every stored chunk is complete); fix the problem and "
                             f"run the same command again to resume") from None
        return path

    def close(self) -> None:
        _fsync_dir(self.root / RUNS)
        if self.ts_columns:
            _fsync_dir(self.root / TIMESERIES)
        _unlock(self._lock_fh)
        self._lock_fh = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _lock(root: Path):
    fh = open(root / LOCK, "a+")
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        return fh
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise ExperimentError(f"{root}: another sweep is writing to this directory") from None
    return fh


def _unlock(fh) -> None:
    if fh is None:
        return
    try:
        import fcntl
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    except (ImportError, OSError):
        pass
    fh.close()
