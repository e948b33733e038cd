"""The `pmsim` command line: a thin face over sim.run, scenario loading and the batch runner.

Commands here: ``run``, ``compare``, ``list``, ``validate``, ``schema``, ``from-map``
(and, with no command, a run of the default organisation). Further command groups
live in their own modules, each exposing ``register(app)``; they are listed in
:data:`CLI_MODULES` and loaded when present.

Exit codes: 0 success; 2 bad input (one line on stderr, starting ``error:``, no
traceback); 1 internal error (set ``PMSIM_DEBUG=1`` for the traceback); 130
interrupted; 141 output pipe closed early.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, Optional

import typer

app = typer.Typer(help="pmsim: simulate a PM without formal authority delivering through others.",
                  no_args_is_help=False, add_completion=False, rich_markup_mode=None)

CLI_MODULES = ["sim.cli_batch", "sim.cli_validate", "sim.cli_dashboard"]

OUTCOME_KEYS = ("outcome", "delivered", "on_time", "full_scope_on_time", "delivery_day", "slip_days",
                "delivered_value", "max_value", "delivered_features", "days_to_first_agreement",
                "renegotiations", "escalations", "commitments", "compliances", "resistances",
                "blame_events", "trust_in_pm_start", "trust_in_pm_end", "cross_trust_start",
                "cross_trust_end", "satisfaction", "pm_attention_spent")


# ------------------------------------------------------------------ errors
def fail(message: str, code: int = 2) -> None:
    """Print one line on stderr and exit with ``code``."""
    one_line = " ".join(str(message).split())
    typer.echo(f"error: {one_line}", err=True)
    raise typer.Exit(code)


def user_errors(fn: Callable) -> Callable:
    """Turn a :class:`sim.scenarios.ScenarioError` (bad input) or a
    :class:`sim.limits.LimitError` (a request above a resource cap) into exit 2 with one line."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        from sim.limits import LimitError
        from sim.scenarios import ScenarioError

        try:
            return fn(*args, **kwargs)
        except (ScenarioError, LimitError) as exc:
            fail(str(exc), 2)

    return wrapper


# ------------------------------------------------------------------ helpers
def _fmt(val: Any) -> str:
    if isinstance(val, bool):
        return "yes" if val else "no"
    if isinstance(val, float):
        if math.isnan(val):
            return "-"
        return f"{val:.0f}" if val.is_integer() and abs(val) >= 1 else f"{val:.2f}"
    return str(val)


def _echo_outcomes(summary: dict, keys) -> None:
    """The outcome table: one aligned ``key value`` line per outcome present."""
    for key in keys:
        if key in summary:
            typer.echo(f"  {key:<26} {_fmt(summary[key])}")


def _parse_sets(sets: list[str] | None) -> dict[str, Any]:
    from sim.scenarios import parse_assignment

    out: dict[str, Any] = {}
    for text in sets or []:
        path, value = parse_assignment(text)
        out[path] = value
    return out


def _load(scenario: str, sets: list[str] | None):
    from sim.scenarios import load

    return load(scenario, _parse_sets(sets))


def _split(text: str | None, kind: Callable[[str], Any] = str, option: str = "") -> list[Any] | None:
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        fail(f"{option} needs a comma-separated list, got {text!r}")
    try:
        return [kind(t) for t in items]
    except ValueError:
        fail(f"{option} {text!r}: every item must be a number, e.g. {option} 0.2,0.8")
    return None


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class _Progress:
    """A progress bar on stderr that appears only once the work is predicted to take
    longer than ``after`` seconds (and only on a terminal, unless ``force``)."""

    def __init__(self, label: str, after: float = 1.5, enabled: bool = True, force: bool = False):
        self.label, self.after = label, after
        self.enabled = enabled and (force or _stderr_is_tty())
        self.force = force
        self.start = time.perf_counter()
        self.bar = None
        self.task = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            elapsed = time.perf_counter() - self.start
            if elapsed / done * total < self.after or done == total:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            console = Console(stderr=True, force_terminal=self.force or None)
            self.bar = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(),
                                TimeRemainingColumn(), console=console, transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=total)
        self.bar.update(self.task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


# ------------------------------------------------------------------ default
@app.callback(invoke_without_command=True)
def _default(ctx: typer.Context, seed: int = typer.Option(0, help="Seed of the run.")) -> None:
    """With no command: run the default organisation and print its outcome and debrief."""
    if ctx.invoked_subcommand is not None:
        return
    import sim
    from sim.debrief import debrief_text

    result = sim.run(seed=seed)
    s = result.summary
    typer.echo(f"pmsim: default organisation, seed {seed}")
    _echo_outcomes(s, ("outcome", "delivery_day", "slip_days", "delivered_value", "days_to_first_agreement",
                       "renegotiations", "blame_events", "trust_in_pm_start", "trust_in_pm_end", "satisfaction"))
    typer.echo("")
    typer.echo(debrief_text(result.debrief))


# ------------------------------------------------------------------ run
SCENARIO_HELP = "Scenario file (TOML) or library name, e.g. blame_culture (see `pmsim list`)."
SET_HELP = "Override a parameter: path.to.param=value (TOML value: 0.8, true, \"text\"); repeatable."


@app.command("run")
@user_errors
def run_command(
    scenario: str = typer.Argument(..., help=SCENARIO_HELP),
    seed: int = typer.Option(0, "--seed", "-s", help="Seed of the run (same seed, same result)."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help=SET_HELP),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write summary.json, timeseries, events and offers here."),
    fmt: str = typer.Option("csv", "--format", help="Table format for --out: csv or parquet."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the outcome table (no story, no debrief)."),
) -> None:
    """Run one scenario and print its outcome, its story (the event log) and the debrief."""
    import sim
    from sim.debrief import debrief_text

    if fmt not in ("csv", "parquet"):
        fail(f"--format {fmt!r}: choose csv or parquet")
    overrides = _parse_sets(set_)
    sc = _load(scenario, set_)
    result = sim.run(sc, seed=seed)
    s = result.summary
    typer.echo(f"pmsim run: scenario {sc.name!r}, seed {seed}"
               + (f", overrides {', '.join(f'{k}={v}' for k, v in overrides.items())}" if overrides else ""))
    _echo_outcomes(s, (*OUTCOME_KEYS, "end_reason"))
    if not quiet:
        typer.echo("\nStory")
        typer.echo(result.story())
        typer.echo("\nDebrief")
        typer.echo(debrief_text(result.debrief))
    if out is not None:
        try:
            written = write_run(result, sc, out, fmt, overrides)
        except OSError as exc:
            fail(f"--out {out}: cannot write the results ({exc.strerror or exc})")
        typer.echo(f"\nwrote {', '.join(p.name for p in written)} to {out}")


def write_run(result, scenario, out: Path, fmt: str = "csv", overrides: dict | None = None) -> list[Path]:
    """Write a run's summary (JSON), time series, events and offers (CSV or Parquet) and the
    resolved scenario (TOML) into ``out``."""
    import tomli_w

    from sim.stakeholder_map import _drop_none

    out.mkdir(parents=True, exist_ok=True)
    written = []
    summary = {"scenario": scenario.name, "seed": result.seed, "overrides": overrides or {}, **result.summary}
    p = out / "summary.json"
    p.write_text(json.dumps(_json_safe(summary), indent=2) + "\n")
    written.append(p)
    for name, frame in (("timeseries", result.timeseries), ("events", result.events), ("offers", result.offers)):
        p = out / f"{name}.{fmt}"
        if fmt == "parquet":
            frame.to_parquet(p, index=False)
        else:
            frame.to_csv(p, index=False)
        written.append(p)
    p = out / "scenario.toml"
    p.write_text(f"# The scenario of this run, with every parameter resolved (seed {result.seed}).\n"
                 + tomli_w.dumps(_drop_none(scenario.model_dump(mode="json"))))
    written.append(p)
    return written


# ------------------------------------------------------------------ compare
from sim.strategies import STRATEGIES as _STRATEGIES  # noqa: E402 - for the help text

_STRATEGY_NAMES = sorted(_STRATEGIES)


@app.command("compare")
@user_errors
def compare_command(
    scenario: str = typer.Argument(..., help=SCENARIO_HELP),
    strategies: Optional[str] = typer.Option(None, "--strategies", help=f"Comma-separated strategies from: {', '.join(_STRATEGY_NAMES)}."),
    ownership: Optional[str] = typer.Option(None, "--ownership", help="Comma-separated ownership levels in 0..1, e.g. 0.2,0.8."),
    archetypes: Optional[str] = typer.Option(None, "--archetypes", help="Comma-separated PM archetypes: technical, generalist, business."),
    vary: Optional[list[str]] = typer.Option(None, "--vary", help="Any parameter's levels: path=v1,v2 (TOML values), e.g. --vary project.deadline=40,60; repeatable."),
    reps: int = typer.Option(20, "--reps", "-n", min=1, help="Replications (seeds) per variant (at most MAX_REPLICATIONS, sim/limits.py)."),
    seed: int = typer.Option(0, "--seed", "-s", help="Master seed; replication seeds are spawned from it."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help=SET_HELP),
    metrics: Optional[str] = typer.Option(None, "--metrics", help="Comma-separated outcomes to show (default: the main ones)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write runs.csv (every run) and table.csv (means and CIs) here."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar when it takes a while."),
) -> None:
    """Compare strategies, ownership levels or archetypes: N seeded runs each, means with 95% CIs.

    Every variant (each combination of the given levels) runs the same replication
    seeds, so differences are not down to luck. Examples:

    \b
      pmsim compare blame_culture --ownership 0.1,0.9 --reps 30
      pmsim compare baseline --strategies consultative,pressure --vary project.deadline=40,60
    """
    from sim import compare as cmp
    from sim.strategies import STRATEGIES

    sc = _load(scenario, set_)
    strat = _split(strategies, str, "--strategies")
    if strat:
        from sim.scenarios import _hint_or_allowed

        for s in strat:
            if s not in STRATEGIES:
                fail(f"--strategies: unknown strategy {s!r}{_hint_or_allowed(s, STRATEGIES)}")
    own = _split(ownership, float, "--ownership")
    arch = _split(archetypes, str, "--archetypes")
    chosen = tuple(_split(metrics, str, "--metrics") or cmp.DEFAULT_METRICS)
    known = set(_numeric_outcomes(sc))
    for m in chosen:
        if m not in known:
            from sim.scenarios import _hint_or_allowed

            fail(f"--metrics: unknown outcome {m!r}{_hint_or_allowed(m, sorted(known))}")
    extra = {}
    for text in vary or []:
        from sim.scenarios import parse_assignment

        path, _ = parse_assignment(text.split(",")[0])
        levels = [parse_assignment(f"{path}={v}")[1] for v in text.partition("=")[2].split(",") if v.strip()]
        if not levels:
            fail(f"--vary {text!r}: give levels as path=v1,v2")
        extra[path] = levels
    variants = cmp.make_variants(strategies=strat, ownership=own, archetypes=arch, extra=extra)
    from sim.scenarios import apply_overrides

    for v in variants:  # bad levels fail now, before any run
        apply_overrides(sc, dict(v.overrides), source="variant")
    from sim.limits import check_replications, check_runs

    check_replications(reps, "--reps")  # resource caps: LimitError -> exit 2 naming the cap
    check_runs(len(variants) * reps, "variants x --reps")
    bar = _Progress(f"{sc.name}: {len(variants)} variants x {reps} runs", enabled=progress)
    try:
        result = cmp.compare(sc, variants, reps=reps, seed=seed, metrics=chosen, progress=bar)
    finally:
        bar.close()
    typer.echo(f"pmsim compare: scenario {sc.name!r}, {len(variants)} variant(s) x {reps} runs "
               f"(seeds spawned from {seed}); mean [95% CI]")
    typer.echo(cmp.format_table(result))
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
            result.runs.to_csv(out / "runs.csv", index=False)
            result.table.to_csv(out / "table.csv", index=False)
        except OSError as exc:
            fail(f"--out {out}: cannot write the results ({exc.strerror or exc})")
        typer.echo(f"\nwrote runs.csv, table.csv to {out}")


def _numeric_outcomes(scenario) -> list[str]:
    """Outcomes ``--metrics`` may name: the numeric keys of a run's summary."""
    from sim.compare import DEFAULT_METRICS

    names = set(DEFAULT_METRICS) | {
        "slip_days", "days", "max_value", "delivered_features", "escalations", "commitments", "compliances",
        "resistances", "blame_absorbed", "follow_ups", "gap_fill_days", "early_replans", "oversteps",
        "shocks", "waiting_days", "trust_in_pm_start", "trust_in_pm_end", "cross_trust_start",
        "cross_trust_end", "effort_done", "capacity_available", "pm_capital_spent", "pm_attention_spent",
    }
    for d in scenario.departments:
        names |= {f"utility_{d.name}", f"trust_{d.name}_start", f"trust_{d.name}_end"}
    return sorted(names)


# ------------------------------------------------------------------ library
@app.command("list")
def list_command() -> None:
    """List the scenario library with one-line descriptions."""
    from sim.scenarios import SCENARIO_DIR, scenario_library

    entries = scenario_library()
    if not entries:
        typer.echo(f"no scenarios in {SCENARIO_DIR}")
        return
    width = max(len(name) for name, _, _ in entries)
    for name, _, desc in entries:
        typer.echo(f"{name:<{width}}  {desc}")


@app.command("validate")
@user_errors
def validate_command(files: list[Path] = typer.Argument(..., help="Scenario file(s) to check.")) -> None:
    """Check scenario files; prints a one-line summary per file, exit 0 if all are valid, 2 if not."""
    from sim.scenarios import ScenarioError, validate_file

    bad = 0
    for f in files:
        try:
            sc = validate_file(f)
        except ScenarioError as exc:
            bad += 1
            typer.echo(f"error: {exc}", err=True)
            continue
        members = sum(d.members for d in sc.departments)
        typer.echo(f"ok: {f} (scenario {sc.name!r}: {len(sc.departments)} departments, {members} members, "
                   f"{len(sc.project.features)} features, deadline day {sc.project.deadline})")
    if bad:
        raise typer.Exit(2)


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of scenario files (as committed in scenarios/scenario.schema.json)."""
    from sim.scenarios import schema_text

    typer.echo(schema_text(), nl=False)


@app.command("from-map")
@user_errors
def from_map_command(
    csv_file: Path = typer.Argument(..., metavar="MAP.csv", help="Stakeholder map: name, department, power, interest, attitude, listens_to."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the scenario here (default: print it)."),
    name: Optional[str] = typer.Option(None, "--name", help="Scenario name (default: the output's file name, else the map's)."),
) -> None:
    """Turn a stakeholder map (CSV) into a scenario file (TOML). Columns: see docs/scenarios.md."""
    from sim.stakeholder_map import convert

    text, sc = convert(csv_file, name=name or (output.stem if output is not None else None))
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
    except OSError as exc:
        fail(f"--output {output}: cannot write the scenario ({exc.strerror or exc})")
    members = sum(d.members for d in sc.departments)
    typer.echo(f"wrote {output}: scenario {sc.name!r} with {len(sc.departments)} departments "
               f"({', '.join(d.name for d in sc.departments)}), {len(sc.departments) + members} people; "
               f"run it with: pmsim run {output}")


# ------------------------------------------------------------------ plumbing
def _load_command_modules() -> None:
    for name in CLI_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(app)


_load_command_modules()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``pmsim`` script: one-line errors, documented exit codes."""
    from typer.exceptions import Abort, Exit, TyperException

    try:
        rc = app(args=argv, prog_name="pmsim", standalone_mode=False)
    except Exit as exc:
        sys.exit(exc.exit_code)
    except Abort:
        typer.echo("error: interrupted", err=True)
        sys.exit(130)
    except TyperException as exc:  # usage errors: missing argument, unknown option, bad value
        ctx = getattr(exc, "ctx", None)
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        typer.echo(f"error: {' '.join(exc.format_message().split())}{where}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("error: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:  # e.g. `pmsim run x | head`: the reader left, nothing to report
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        sys.exit(141)
    except Exception as exc:  # noqa: BLE001 - the documented "internal error" exit
        if os.environ.get("PMSIM_DEBUG"):
            raise
        typer.echo(f"error: internal error: {type(exc).__name__}: {' '.join(str(exc).split())} "
                   f"(set PMSIM_DEBUG=1 for the traceback)", err=True)
        sys.exit(1)
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    main()
