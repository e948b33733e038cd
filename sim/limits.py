"""Resource limits: the largest requests pmsim accepts, and checks that refuse the rest.

The caps are sized for a modest machine (2 cores, 24 GB of memory): a run at every cap
at once still fits in memory and finishes, and a request above a cap is refused up
front, with a message that names the cap, instead of exhausting the machine hours later.

========================  ===========  ==================================================
cap                       value        why
========================  ===========  ==================================================
``MAX_MEMBERS``           1,000,000    members over all departments of one scenario: the
                                       organisation network (mean degree 10) takes about
                                       0.5 GB at this size and a day of influence ~0.1 s
``MAX_DAYS``              5,000        simulated days (``project.horizon``): about 20
                                       working years, a few seconds per run for a small
                                       organisation
``MAX_REPLICATIONS``      100,000      replications per design point (experiment files,
                                       ``pmsim compare --reps``)
``MAX_RUNS``              10,000,000   runs in one sweep (design points x replications):
                                       the plan of runs and the results table stay in
                                       memory (a few GB at this size)
``MAX_UPLOAD_BYTES``      1,000,000    bytes of one file uploaded to the dashboard
                                       (scenario TOML, experiment TOML, stakeholder CSV)
========================  ===========  ==================================================

Every check raises :class:`LimitError` (a ``ValueError``) whose one-line message names
the cap, e.g. ``"2,000,000 members exceeds the cap of 1,000,000 members (MAX_MEMBERS in
sim/limits.py)"``; the loaders turn it into their own error type with the file name
(:class:`sim.scenarios.ScenarioError`, :class:`sim.batch.spec.ExperimentError`), so the
command line exits with code 2 and the dashboard shows it as an error message.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_MEMBERS = 1_000_000
MAX_DAYS = 5_000
MAX_REPLICATIONS = 100_000
MAX_RUNS = 10_000_000
MAX_UPLOAD_BYTES = 1_000_000


@dataclass(frozen=True)
class Cap:
    name: str
    value: int
    unit: str
    what: str


CAPS: dict[str, Cap] = {c.name: c for c in (
    Cap("MAX_MEMBERS", MAX_MEMBERS, "members", "members over all departments of one scenario"),
    Cap("MAX_DAYS", MAX_DAYS, "days", "simulated days (project.horizon)"),
    Cap("MAX_REPLICATIONS", MAX_REPLICATIONS, "replications", "replications per design point"),
    Cap("MAX_RUNS", MAX_RUNS, "runs", "runs in one sweep (design points x replications)"),
    Cap("MAX_UPLOAD_BYTES", MAX_UPLOAD_BYTES, "bytes", "bytes of one uploaded file"),
)}
"""Every cap with its unit and meaning (for documentation and the dashboard)."""


class LimitError(ValueError):
    """A request above one of the resource caps; ``cap`` is the cap's name."""

    def __init__(self, message: str, cap: str):
        super().__init__(message)
        self.cap = cap


def _fmt(n: int | float) -> str:
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,}"


def check(cap: str, value: int | float, what: str = "") -> None:
    """Raise :class:`LimitError` if ``value`` exceeds the cap called ``cap``."""
    c = CAPS[cap]
    if value > c.value:
        about = f"{what}: " if what else ""
        raise LimitError(f"{about}{_fmt(value)} {c.unit} exceeds the cap of {_fmt(c.value)} {c.unit} "
                         f"({c.name} in sim/limits.py: {c.what})", cap)


def check_members(total: int, what: str = "departments.*.members") -> None:
    check("MAX_MEMBERS", total, what)


def check_days(days: int, what: str = "project.horizon") -> None:
    check("MAX_DAYS", days, what)


def check_replications(n: int, what: str = "replications") -> None:
    check("MAX_REPLICATIONS", n, what)


def check_runs(n: int, what: str = "design points x replications") -> None:
    check("MAX_RUNS", n, what)


def check_upload(n_bytes: int, what: str = "upload") -> None:
    check("MAX_UPLOAD_BYTES", n_bytes, what)


def check_scenario(scenario) -> None:
    """The caps one scenario must respect: total members and simulated days."""
    check_members(sum(int(d.members) for d in scenario.departments), "departments.*.members (total)")
    check_days(int(scenario.project.horizon))


def table() -> list[tuple[str, str, str]]:
    """``(name, value, meaning)`` rows for documentation."""
    return [(c.name, f"{_fmt(c.value)} {c.unit}", c.what) for c in CAPS.values()]
