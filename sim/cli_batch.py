"""`pmsim sweep` and `pmsim report`: batch experiments from the command line.

Bad input (a wrong experiment file, an unreachable scheduler, a results directory
of another experiment) exits 2 with one line on stderr; an internal error exits 1
(reported by :func:`sim.cli.main`; set ``PMSIM_DEBUG=1`` for the traceback); Ctrl-C exits 130 after storing every
finished run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer


def _fail(msg: str, code: int) -> None:
    one_line = "; ".join(part.strip() for part in str(msg).strip().splitlines() if part.strip())
    typer.echo(f"error: {one_line}", err=True)
    raise typer.Exit(code)


def _dask_executor(address: str, timeout: float):
    try:
        from distributed import Client
    except ImportError:
        _fail("--scheduler needs dask.distributed: install the 'dask' extra (uv sync --extra dask)", 2)
    try:
        client = Client(address, timeout=f"{timeout}s")
    except (OSError, TimeoutError, ValueError) as exc:
        _fail(f"cannot connect to the Dask scheduler at {address}: {exc}", 2)
    return client, client.get_executor(pure=False)


def sweep(
    file: Path = typer.Argument(..., help="Experiment file (TOML), e.g. experiments/ownership_vs_culture.toml."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Results directory [default: results/<name>]."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help="Local worker processes [default: all cores]."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://HOST:8786."),
    connect_timeout: float = typer.Option(15.0, "--connect-timeout", min=0.1, help="Seconds to wait for the Dask scheduler."),
    chunk_size: Optional[int] = typer.Option(None, "--chunk-size", min=1, help="Runs per task [default: ~0.5 s of work]."),
    flush_seconds: float = typer.Option(5.0, "--flush-seconds", min=0.0, help="Write finished runs at least this often."),
    flush_runs: int = typer.Option(5000, "--flush-runs", min=1, help="...or whenever this many runs are buffered."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show the progress bar."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate, print the design size and an estimate, run nothing."),
) -> None:
    """Run (or resume) a sweep: every design point x replication, results as Parquet."""
    from sim.batch.runner import SweepInterrupted, run_experiment
    from sim.batch.spec import ExperimentError, load_experiment, prepare

    client = None
    try:
        spec = load_experiment(file)
        executor = None
        if scheduler and not dry_run:
            client, executor = _dask_executor(scheduler, connect_timeout)
        prepared = prepare(spec, file)
        target = out if out is not None else Path("results") / prepared.spec.name
        n_cores = workers or os.cpu_count() or 1
        if dry_run:
            est = (prepared.probe_seconds or 0) * prepared.n_runs / n_cores
            typer.echo(f"{prepared.spec.name}: {prepared.design.n_points} design points x "
                       f"{prepared.spec.replications} replications = {prepared.n_runs} runs "
                       f"({prepared.design.method}); about {est:.0f} s on {n_cores} local workers "
                       f"(one run ~{(prepared.probe_seconds or 0) * 1000:.0f} ms) -> {target}")
            return
        report = run_experiment(prepared, target, executor=executor, workers=workers, chunk_size=chunk_size,
                                flush_seconds=flush_seconds, flush_runs=flush_runs,
                                progress=progress and sys.stderr.isatty())
        typer.echo(report.text())
    except SweepInterrupted as stop:
        typer.echo(stop.report.text(), err=True)
        raise typer.Exit(130)
    except ExperimentError as exc:
        _fail(str(exc), 2)
    finally:
        if client is not None:
            client.close()


def report(
    results: Path = typer.Argument(..., help="Results directory written by `pmsim sweep`."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Report directory [default: RESULTS/report]."),
    outcome: Optional[list[str]] = typer.Option(None, "--outcome", help="Outcome(s) to print (repeatable) [default: a few key ones]."),
    rows: int = typer.Option(40, "--rows", min=0, help="Design points to print."),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="Write the PNG plots."),
) -> None:
    """Per design point mean and 95% CI of each outcome, plots against each factor, SALib sensitivity."""
    from sim.batch.analysis import format_summary_lines, write_report
    from sim.batch.spec import ExperimentError

    try:
        files = write_report(results, out, plots=plots)
        man = files.summary
        from sim.batch.store import read_manifest

        manifest = read_manifest(results)
        n_stored = int(man["runs"].sum()) if "runs" in man else 0
        n_failed = int(man["failed"].sum()) if "failed" in man else 0
        typer.echo(f"{manifest['experiment']}: {manifest['n_points']} design points, {n_stored} of "
                   f"{manifest['n_runs']} runs stored, {n_failed} failed")
        if n_failed:
            from sim.batch.store import read_runs

            errors = read_runs(results, columns=["error"])["error"].dropna()
            for msg, n in errors.str.slice(0, 200).value_counts().head(5).items():
                typer.echo(f"  {n} x {msg}")
        for line in format_summary_lines(files.summary, list(manifest["factors"]), outcome, rows):
            typer.echo(line)
        if len(files.sensitivity):
            typer.echo("")
            typer.echo("global sensitivity (SALib):")
            sens = files.sensitivity
            key = "ST" if "ST" in sens else ("mu_star" if "mu_star" in sens else "S1")
            by = ["outcome", "cell"] if "cell" in sens else ["outcome"]
            for k, grp in sens.groupby(by, sort=False):
                o, cell = (k if isinstance(k, tuple) else (k,)) + (("",) if len(by) == 1 else ())
                if outcome and o not in outcome:
                    continue
                parts = ", ".join(f"{r.factor} {getattr(r, key):.2f}" for r in grp.itertuples())
                where = f" [{cell}]" if cell else ""
                typer.echo(f"  {o}{where} ({grp['method'].iloc[0]} {key}): {parts}")
        for n in files.notes:
            typer.echo(f"  note: {n}")
        typer.echo(f"wrote {files.summary_csv}, {len(files.plots)} plots and {files.html}")
    except ExperimentError as exc:
        _fail(str(exc), 2)


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)
    app.command("report")(report)
