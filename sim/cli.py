"""The `pmsim` command line: a thin face over sim.run, scenario loading and the batch runner.

Command groups live in their own modules, each exposing ``register(app)``; they are
listed in :data:`CLI_MODULES` and loaded when present.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(help="pmsim: simulate a PM without formal authority delivering through others.",
                  no_args_is_help=False, add_completion=False)

CLI_MODULES = ["sim.cli_batch", "sim.cli_validate", "sim.cli_dashboard"]


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
    for key in ("outcome", "delivery_day", "slip_days", "delivered_value", "days_to_first_agreement",
                "renegotiations", "blame_events", "trust_in_pm_start", "trust_in_pm_end", "satisfaction"):
        val = s[key]
        typer.echo(f"  {key:<26} {val:.2f}" if isinstance(val, float) else f"  {key:<26} {val}")
    typer.echo("")
    typer.echo(debrief_text(result.debrief))


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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
