"""Replicated runs and confidence intervals: the maths behind ``pmsim compare``.

Pure functions (no printing), so the dashboard and tests can reuse them::

    from sim.compare import make_variants, compare
    variants = make_variants(strategies=["consultative", "pressure"], ownership=[0.2, 0.8])
    result = compare(scenario, variants, reps=20, seed=0)
    result.table          # one row per (variant, metric): mean, low, high, n
    result.runs           # one row per run: variant, rep, seed and every outcome

Seeds: replication ``r`` of every variant runs with the same seed, drawn from
``numpy.random.SeedSequence(seed).spawn(reps)`` (common random numbers: variants
are compared on the same luck, which narrows the confidence interval of their
difference). Nothing depends on the wall clock.

Intervals: the mean of each outcome over the runs where it is defined (delivery
day only exists for delivered runs) with a Student-t 95% interval
(``scipy.stats.t.interval``). For rates (delivered, on time) that is the normal
approximation to a proportion; the bounds are clipped to [0, 1].
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.params import Scenario

DEFAULT_METRICS: tuple[str, ...] = (
    "delivered", "on_time", "full_scope_on_time", "delivery_day", "delivered_value",
    "days_to_first_agreement", "renegotiations", "blame_events", "trust_change", "satisfaction",
)
"""Outcomes shown by ``pmsim compare`` unless ``--metrics`` says otherwise."""

RATE_METRICS = frozenset({"delivered", "on_time", "full_scope_on_time"})
"""Boolean outcomes: their mean is a rate and their interval is clipped to [0, 1]."""

# Short option names -> scenario paths.
FACTORS = {"strategy": "pm.strategy", "ownership": "pm.ownership", "archetype": "pm.archetype"}


@dataclass(frozen=True)
class Variant:
    """One arm of a comparison: a label and the overrides that define it."""

    label: str
    overrides: Mapping[str, Any] = field(default_factory=dict)


def make_variants(strategies: Sequence[str] | None = None, ownership: Sequence[float] | None = None,
                  archetypes: Sequence[str] | None = None,
                  extra: Mapping[str, Sequence[Any]] | None = None) -> list[Variant]:
    """Every combination of the given factor levels (a full factorial), in input order.

    ``extra`` maps further dotted parameter paths to their levels. With no factor at
    all there is one variant: the scenario as it is.
    """
    factors: list[tuple[str, str, Sequence[Any]]] = []
    for short, levels in (("strategy", strategies), ("ownership", ownership), ("archetype", archetypes)):
        if levels:
            factors.append((short, FACTORS[short], list(levels)))
    for path, levels in (extra or {}).items():
        if levels:
            factors.append((path, path, list(levels)))
    if not factors:
        return [Variant("as is", {})]
    out = []
    for combo in itertools.product(*(levels for _, _, levels in factors)):
        label = ", ".join(f"{short}={_fmt_level(v)}" for (short, _, _), v in zip(factors, combo))
        out.append(Variant(label, {path: v for (_, path, _), v in zip(factors, combo)}))
    return out


def _fmt_level(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def replication_seeds(seed: int, reps: int) -> list[int]:
    """``reps`` independent seeds derived from ``seed`` (SeedSequence spawning)."""
    if reps < 1:
        raise ValueError("reps must be at least 1")
    return [int(child.generate_state(1, dtype=np.uint32)[0])
            for child in np.random.SeedSequence(seed).spawn(reps)]


def run_variants(scenario: Scenario, variants: Sequence[Variant], reps: int, seed: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Run every variant ``reps`` times; one row per run (variant, rep, seed, outcomes).

    ``progress(done, total)`` is called after each run. Overrides are validated for
    every variant before the first run (a bad one raises ``ScenarioError``).
    """
    import sim
    from sim.scenarios import apply_overrides

    scenarios = [apply_overrides(scenario, dict(v.overrides)) if v.overrides else scenario for v in variants]
    seeds = replication_seeds(seed, reps)
    total = len(variants) * reps
    rows: list[dict] = []
    done = 0
    for v, sc in zip(variants, scenarios):
        for rep, s in enumerate(seeds):
            result = sim.run(sc, seed=s, timeseries=False)
            row = {"variant": v.label, "rep": rep, "seed": s}
            row.update({k: val for k, val in result.summary.items() if _scalar(val)})
            rows.append(row)
            done += 1
            if progress is not None:
                progress(done, total)
    return pd.DataFrame(rows)


def _scalar(val: Any) -> bool:
    return isinstance(val, (bool, int, float, str, np.bool_, np.integer, np.floating)) or val is None


def mean_ci(values: Iterable[float], confidence: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and Student-t confidence interval of the finite values: ``(mean, low, high, n)``.

    With one value the interval is undefined (nan); with no spread it is the mean itself.
    """
    x = np.asarray([float(v) for v in values if v is not None], float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    m = float(x.mean())
    if n == 1:
        return m, math.nan, math.nan, 1
    sd = float(x.std(ddof=1))
    if sd == 0.0:
        return m, m, m, n
    low, high = stats.t.interval(confidence, df=n - 1, loc=m, scale=sd / math.sqrt(n))
    return m, float(low), float(high), n


def summarise_runs(runs: pd.DataFrame, metrics: Sequence[str] = DEFAULT_METRICS,
                   confidence: float = 0.95) -> pd.DataFrame:
    """Long table: one row per (variant, metric) with mean, low, high and n (runs counted)."""
    missing = [m for m in metrics if m not in runs.columns]
    if missing:
        raise KeyError(f"unknown outcome(s) {missing}")
    rows = []
    for label in dict.fromkeys(runs["variant"]):  # keep the variants' order
        sub = runs[runs["variant"] == label]
        for metric in metrics:
            m, lo, hi, n = mean_ci(sub[metric].astype(float), confidence)
            if metric in RATE_METRICS and n:
                lo, hi = max(0.0, lo), min(1.0, hi)
            rows.append({"variant": label, "metric": metric, "mean": m, "low": lo, "high": hi, "n": n})
    return pd.DataFrame(rows, columns=["variant", "metric", "mean", "low", "high", "n"])


def paired_difference(runs: pd.DataFrame, a: str, b: str, metric: str,
                      confidence: float = 0.95) -> tuple[float, float, float, int]:
    """Mean of (b - a) over replications both variants share, with its t interval.

    Replications are paired by ``rep`` (same seed), so this is the common-random-
    numbers estimate of the effect of moving from variant ``a`` to ``b``.
    """
    wide = runs.pivot_table(index="rep", columns="variant", values=metric, aggfunc="first")
    if a not in wide or b not in wide:
        raise KeyError(f"no runs for variant {a!r} or {b!r}")
    diff = wide[b].astype(float) - wide[a].astype(float)
    return mean_ci(diff, confidence)


@dataclass
class Comparison:
    """Everything a comparison produced."""

    scenario: str
    variants: list[Variant]
    reps: int
    seed: int
    metrics: tuple[str, ...]
    runs: pd.DataFrame
    table: pd.DataFrame

    def cell(self, variant: str, metric: str) -> dict:
        row = self.table[(self.table["variant"] == variant) & (self.table["metric"] == metric)]
        if row.empty:
            raise KeyError((variant, metric))
        return row.iloc[0].to_dict()


def compare(scenario: Scenario, variants: Sequence[Variant], reps: int = 20, seed: int = 0,
            metrics: Sequence[str] = DEFAULT_METRICS, confidence: float = 0.95,
            progress: Callable[[int, int], None] | None = None) -> Comparison:
    """Replicated runs of every variant and the table of means with confidence intervals."""
    runs = run_variants(scenario, variants, reps, seed, progress)
    table = summarise_runs(runs, metrics, confidence)
    return Comparison(scenario.name, list(variants), reps, seed, tuple(metrics), runs, table)


def format_table(comparison: Comparison, digits: int = 2) -> str:
    """Plain-text table: one row per metric, one column per variant, ``mean [low, high]``."""
    labels = [v.label for v in comparison.variants]
    header = ["outcome"] + labels
    body = []
    for metric in comparison.metrics:
        row = [metric]
        for label in labels:
            c = comparison.cell(label, metric)
            row.append(_fmt_cell(c["mean"], c["low"], c["high"], c["n"], comparison.reps, digits))
        body.append(row)
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for row in body:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def _fmt_cell(m: float, lo: float, hi: float, n: int, reps: int, digits: int) -> str:
    if n == 0:
        return "-"
    text = f"{m:.{digits}f}"
    if math.isfinite(lo) and math.isfinite(hi):
        text += f" [{lo:.{digits}f}, {hi:.{digits}f}]"
    if n < reps:
        text += f" (n={n})"
    return text
