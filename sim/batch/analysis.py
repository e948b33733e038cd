"""Analysis of a results directory: confidence intervals, factor plots, global sensitivity.

Never runs a model. Reads the Parquet tables written by the runner and produces:

* :func:`point_summary`: per design point, the mean and 95% confidence interval
  (Student's t, :func:`scipy.stats.t`) of each numeric or boolean outcome (booleans
  as shares; short categorical outcomes such as ``outcome`` as one share per value);
* :func:`plot_outcome`: each outcome against each factor (PNG via matplotlib);
* :func:`sensitivity`: SALib indices -- Sobol (``sobol_indices`` designs, analysed with
  :func:`SALib.analyze.sobol.analyze`), Morris (``morris`` designs,
  :func:`SALib.analyze.morris.analyze`) and RBD-FAST for plain LHS / Sobol samples
  (:func:`SALib.analyze.rbd_fast.analyze`);
* :func:`write_report`: all of the above into a folder with one self-contained HTML page.
"""

from __future__ import annotations

import base64
import html
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.compare import RATE_METRICS

from sim.batch.store import read_design, read_manifest, read_runs

META = {"run_id", "point", "replication", "seed", "error", "duration_s"}
MAX_CATEGORIES = 8
RBD_FAST_MIN = 100
"""Fewer sampled points than this give RBD-FAST indices too noisy to report."""
DEFAULT_SHOWN = ("delivered", "on_time", "slip_days", "delivered_value", "trust_change", "satisfaction")


@dataclass
class Results:
    root: Path
    manifest: dict
    runs: pd.DataFrame
    design: pd.DataFrame

    @property
    def factors(self) -> list[str]:
        return list(self.manifest["factors"])

    @property
    def failures(self) -> int:
        return int(self.runs["error"].notna().sum()) if "error" in self.runs else 0


def load_results(root: str | Path) -> Results:
    root = Path(root)
    man = read_manifest(root)
    return Results(root, man, read_runs(root), read_design(root))


def outcome_frame(runs: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """Numeric view of the outcomes: bools as 0/1, short categoricals as one 0/1 column per value."""
    cols = {}
    ok = runs["error"].isna() if "error" in runs else pd.Series(True, index=runs.index)
    for name in outcomes:
        if name not in runs:
            continue
        s = runs[name]
        if pd.api.types.is_bool_dtype(s) or (s.dtype == object and s.dropna().map(type).eq(bool).all()
                                             and s.notna().any()):
            cols[name] = s.astype("float64").where(ok)
        elif pd.api.types.is_numeric_dtype(s):
            cols[name] = s.astype("float64")
        else:
            values = s.dropna().unique()
            if 0 < len(values) <= MAX_CATEGORIES:
                for v in sorted(values, key=str):
                    cols[f"{name}={v}"] = (s == v).astype("float64").where(ok)
    return pd.DataFrame(cols, index=runs.index)


def _ci(mean: pd.Series, std: pd.Series, n: pd.Series, level: float = 0.95):
    df = (n - 1).where(n > 1)
    half = pd.Series(stats.t.ppf(0.5 + level / 2, df.to_numpy(dtype=float)), index=n.index) * std / np.sqrt(n)
    return mean - half, mean + half


def point_summary(res: Results, outcomes: list[str] | None = None, level: float = 0.95) -> pd.DataFrame:
    """Per design point: factor values, runs, failures, and ``<outcome>.mean/.ci_low/.ci_high``."""
    outcomes = outcomes or list(res.manifest["outcomes"])
    Y = outcome_frame(res.runs, outcomes)
    Y["point"] = res.runs["point"].to_numpy()
    g = Y.groupby("point")
    mean, std, n = g.mean(), g.std(ddof=1), g.count()
    out = res.design[["point", *res.factors]].set_index("point").copy()
    counts = res.runs.groupby("point").agg(runs=("run_id", "size"),
                                          failed=("error", lambda e: int(e.notna().sum())))
    out = out.join(counts, how="left")
    out[["runs", "failed"]] = out[["runs", "failed"]].fillna(0).astype(int)
    blocks = {}
    for col in mean.columns:
        lo, hi = _ci(mean[col], std[col], n[col], level)
        if col in RATE_METRICS:  # a rate's interval stays within [0, 1]
            lo, hi = lo.clip(0.0, 1.0), hi.clip(0.0, 1.0)
        blocks[f"{col}.mean"] = mean[col]
        blocks[f"{col}.ci_low"] = lo
        blocks[f"{col}.ci_high"] = hi
        blocks[f"{col}.n"] = n[col]
    out = out.join(pd.DataFrame(blocks), how="left")
    return out.reset_index()


def summary_outcomes(summary: pd.DataFrame) -> list[str]:
    return [c[: -len(".mean")] for c in summary.columns if c.endswith(".mean")]


def varying_outcomes(summary: pd.DataFrame) -> list[str]:
    """Outcomes whose point means are not all equal (the ones worth plotting)."""
    keep = []
    for o in summary_outcomes(summary):
        m = summary[f"{o}.mean"].dropna()
        if len(m) and (m.max() - m.min()) > 1e-12:
            keep.append(o)
    return keep


# ------------------------------------------------------------------- plots
def _is_numeric_factor(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def factor_effect(res: Results, Y: pd.DataFrame, outcome: str, factor: str, level: float = 0.95) -> pd.DataFrame:
    """Mean and CI of ``outcome`` over all runs at each level of ``factor`` (binned if continuous)."""
    x = res.runs[factor]
    y = Y[outcome]
    if _is_numeric_factor(x) and x.nunique() > 12:
        bins = pd.qcut(x, q=min(10, x.nunique()), duplicates="drop")
        key = bins.map(lambda b: b.mid).astype(float)
    else:
        key = x
    frame = pd.DataFrame({"x": key.to_numpy(), "y": y.to_numpy()}).dropna(subset=["x"])
    g = frame.groupby("x", sort=True)["y"]
    mean, std, n = g.mean(), g.std(ddof=1), g.count()
    lo, hi = _ci(mean, std, n, level)
    return pd.DataFrame({"x": mean.index, "mean": mean.to_numpy(), "ci_low": lo.to_numpy(),
                         "ci_high": hi.to_numpy(), "n": n.to_numpy()})


def plot_outcome(res: Results, Y: pd.DataFrame, outcome: str, path: Path, summary: pd.DataFrame | None = None):
    """One PNG: ``outcome`` against each factor (one panel per factor), with 95% CIs."""
    from matplotlib.figure import Figure

    factors = res.factors or ["point"]
    k = len(factors)
    cols = min(k, 3)
    rows = int(np.ceil(k / cols))
    fig = Figure(figsize=(4.2 * cols, 3.2 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, factor in zip(axes, factors):
        if factor == "point":
            x = res.runs["point"]
            ax.plot(x, Y[outcome], ".", alpha=0.3)
        else:
            eff = factor_effect(res, Y, outcome, factor)
            xs = res.runs[factor]
            numeric = _is_numeric_factor(xs)
            if numeric:
                if summary is not None and f"{outcome}.mean" in summary and xs.nunique() > 12:
                    ax.plot(summary[factor], summary[f"{outcome}.mean"], ".", color="0.6", alpha=0.5,
                            label="design points")
                ax.errorbar(eff["x"].astype(float), eff["mean"],
                            yerr=[eff["mean"] - eff["ci_low"], eff["ci_high"] - eff["mean"]],
                            fmt="o-", capsize=3, label="mean, 95% CI")
            else:
                pos = np.arange(len(eff))
                ax.bar(pos, eff["mean"], yerr=[eff["mean"] - eff["ci_low"], eff["ci_high"] - eff["mean"]],
                       capsize=3, color="tab:blue", alpha=0.8)
                ax.set_xticks(pos, [str(v) for v in eff["x"]], rotation=45, ha="right", fontsize=8)
        ax.set_xlabel(factor, fontsize=9)
        ax.set_ylabel(outcome, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[k:]:
        ax.set_visible(False)
    fig.suptitle(f"{outcome} by factor (mean, 95% CI)", fontsize=11)
    fig.savefig(path, dpi=90)
    return path


# ------------------------------------------------------------------- sensitivity
def _problem(man: dict) -> dict | None:
    prob = man.get("problem")
    if not prob:
        return None
    return {"num_vars": int(prob["num_vars"]), "names": list(prob["names"]),
            "bounds": [list(map(float, b)) for b in prob["bounds"]]}


def _numeric_X(res: Results, design: pd.DataFrame) -> tuple[dict, np.ndarray]:
    """Sample matrix of a plain LHS/Sobol design in factor units (choices as level index + 0.5)."""
    man = res.manifest
    sampled = man.get("sampled") or []
    spec = man["spec"]["factors"]
    cols, bounds = [], []
    for name in sampled:
        f = spec[name]
        s = design[name]
        if isinstance(f, dict) and "values" in f:
            levels = [str(v) for v in f["values"]]
            cols.append(s.map(lambda v: levels.index(str(v))).astype(float).to_numpy() + 0.5)
            bounds.append([0.0, float(len(levels))])
        else:
            cols.append(s.astype(float).to_numpy())
            bounds.append([float(f["low"]), float(f["high"])])
    return {"num_vars": len(sampled), "names": list(sampled), "bounds": bounds}, np.column_stack(cols)


def _cells(res: Results) -> list[tuple[str, np.ndarray]]:
    """Design points grouped by the values of the grid (list) factors crossed with a sample."""
    sampled = set(res.manifest.get("sampled") or [])
    grid = [f for f in res.factors if f not in sampled]
    if not grid:
        return [("", res.design["point"].to_numpy())]
    out = []
    for key, grp in res.design.groupby(grid, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        out.append((", ".join(f"{f}={v}" for f, v in zip(grid, key)), grp["point"].to_numpy()))
    return out


def sensitivity(res: Results, outcomes: list[str] | None = None, seed: int = 0) -> tuple[pd.DataFrame, list[str]]:
    """Global sensitivity indices by SALib, per outcome and factor.

    Uses the per-point mean over replications as the model output. Returns the
    table (columns: method, outcome, factor, and the SALib indices) and notes on
    outcomes that could not be analysed (e.g. NaN at some design point).
    """
    man = res.manifest
    method = man.get("method")
    outcomes = outcomes or list(man["outcomes"])
    Y = outcome_frame(res.runs, outcomes)
    Y["point"] = res.runs["point"].to_numpy()
    means = Y.groupby("point").mean().reindex(range(int(man["n_points"])))
    notes: list[str] = []
    rows: list[dict] = []
    cells: list[tuple[str, np.ndarray]] = [("", np.arange(int(man["n_points"])))]
    if method in ("sobol_indices", "morris"):
        problem = _problem(man)
        X = res.design[[f"x:{n}" for n in problem["names"]]].to_numpy(dtype=float)
    elif method in ("lhs", "sobol"):
        cells = _cells(res)
        problem, X = _numeric_X(res, res.design)
    else:
        return pd.DataFrame(), []
    second = bool(man["spec"]["design"].get("second_order"))
    levels = int(man["spec"]["design"].get("levels", 4))
    for col in means.columns:
        for cell, points in cells:
            y = means[col].to_numpy(dtype=float)[points]
            label = f"{col} [{cell}]" if cell else col
            if not np.all(np.isfinite(y)):
                notes.append(f"{label}: not analysed ({int((~np.isfinite(y)).sum())} design points without a value)")
                continue
            if np.ptp(y) == 0:
                continue
            if method in ("lhs", "sobol") and len(y) < RBD_FAST_MIN:
                note = f"RBD-FAST sensitivity needs at least {RBD_FAST_MIN} sampled points per grid cell (have {len(y)})"
                if note not in notes:
                    notes.append(note)
                continue
            base = {"outcome": col, **({"cell": cell} if cell else {})}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rows.extend(_salib(method, problem, X[points], y, base, second, levels, seed))
    return pd.DataFrame(rows), notes


def _salib(method, problem, X, y, base, second, levels, seed) -> list[dict]:
    names = problem["names"]
    if method == "sobol_indices":
        from SALib.analyze import sobol

        Si = sobol.analyze(problem, y, calc_second_order=second, seed=seed, print_to_console=False)
        return [{"method": "sobol", **base, "factor": n, "S1": float(Si["S1"][j]),
                 "S1_conf": float(Si["S1_conf"][j]), "ST": float(Si["ST"][j]), "ST_conf": float(Si["ST_conf"][j])}
                for j, n in enumerate(names)]
    if method == "morris":
        from SALib.analyze import morris

        Si = morris.analyze(problem, X, y, num_levels=levels, seed=seed, print_to_console=False)
        return [{"method": "morris", **base, "factor": n, "mu": float(Si["mu"][j]),
                 "mu_star": float(Si["mu_star"][j]), "sigma": float(Si["sigma"][j]),
                 "mu_star_conf": float(Si["mu_star_conf"][j])} for j, n in enumerate(names)]
    from SALib.analyze import rbd_fast

    M = max(1, min(10, (len(y) - 1) // 2 - 1))  # RBD-FAST needs more samples than 2M harmonics
    Si = rbd_fast.analyze(problem, X, y, M=M, seed=seed, print_to_console=False)
    return [{"method": "rbd_fast", **base, "factor": n, "S1": float(Si["S1"][j]),
             "S1_conf": float(Si["S1_conf"][j])} for j, n in enumerate(names)]


# ------------------------------------------------------------------- report
@dataclass
class ReportFiles:
    out: Path
    summary_csv: Path
    html: Path
    plots: list[Path]
    sensitivity_csv: Path | None
    summary: pd.DataFrame
    sensitivity: pd.DataFrame
    notes: list[str]


def write_report(root: str | Path, out: str | Path | None = None, outcomes: list[str] | None = None,
                 plots: bool = True) -> ReportFiles:
    """Write summary.csv/.parquet, sensitivity.csv, plots/*.png and report.html into ``out``."""
    res = load_results(root)
    out = Path(out) if out is not None else res.root / "report"
    (out / "plots").mkdir(parents=True, exist_ok=True)
    summary = point_summary(res, outcomes)
    summary.to_csv(out / "summary.csv", index=False)
    summary.to_parquet(out / "summary.parquet", index=False)
    sens, notes = sensitivity(res, outcomes, seed=int(res.manifest["spec"].get("seed", 0)))
    sens_csv = None
    if len(sens):
        sens_csv = out / "sensitivity.csv"
        sens.to_csv(sens_csv, index=False)
    made: list[Path] = []
    if plots and len(res.runs):
        Y = outcome_frame(res.runs, outcomes or list(res.manifest["outcomes"]))
        for o in varying_outcomes(summary):
            made.append(plot_outcome(res, Y, o, out / "plots" / f"{_safe(o)}.png", summary))
    page = out / "report.html"
    page.write_text(_html(res, summary, sens, notes, made), encoding="utf-8")
    return ReportFiles(out, out / "summary.csv", page, made, sens_csv, summary, sens, notes)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _html(res: Results, summary: pd.DataFrame, sens: pd.DataFrame, notes: list[str], plots: list[Path]) -> str:
    man = res.manifest
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>pmsim report: {esc(man['experiment'])}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;"
        "text-align:right}th{background:#f4f4f4}img{max-width:100%;border:1px solid #eee;margin:6px 0}"
        ".scroll{overflow-x:auto;max-height:600px}</style></head><body>",
        f"<h1>{esc(man['experiment'])}</h1><p>{esc(man.get('description') or '')}</p>",
        f"<p>Design: <b>{esc(str(man['method']))}</b>, {man['n_points']} design points x "
        f"{man['replications']} replications = {man['n_runs']} runs; stored {len(res.runs)} runs, "
        f"{res.failures} failed. Base scenario: {esc(str(man['scenario']))}. Spec hash {esc(man['spec_hash'])}."
        f"</p><p>Factors: {esc(', '.join(res.factors) or '(none)')}</p>",
    ]
    if len(sens):
        parts.append("<h2>Global sensitivity (SALib)</h2><div class='scroll'>")
        parts.append(sens.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0))
        parts.append("</div>")
    for n in notes:
        parts.append(f"<p><i>{esc(n)}</i></p>")
    if plots:
        parts.append("<h2>Outcomes against factors</h2>")
        for p in plots:
            data = base64.b64encode(p.read_bytes()).decode()
            parts.append(f"<h3>{esc(p.stem)}</h3><img alt='{esc(p.stem)}' src='data:image/png;base64,{data}'>")
    shown = summary.head(500)
    parts.append(f"<h2>Per design point: mean and 95% CI</h2><p>{len(summary)} points"
                 f"{' (first 500 shown; all in summary.csv)' if len(summary) > 500 else ''}.</p>"
                 "<div class='scroll'>")
    parts.append(shown.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0, na_rep=""))
    parts.append("</div></body></html>")
    return "\n".join(parts)


def format_summary_lines(summary: pd.DataFrame, factors: list[str], outcomes: list[str] | None = None,
                         rows: int = 40) -> list[str]:
    """Text table: one line per design point with ``mean [ci_low, ci_high]`` of a few outcomes."""
    available = summary_outcomes(summary)
    if outcomes:
        shown = [o for o in outcomes if o in available]
    else:
        shown = [o for o in DEFAULT_SHOWN if o in available] or available[:6]
    header = ["point", *factors, "runs", "failed", *shown]
    table = []
    for _, r in summary.head(rows).iterrows():
        cells = [str(int(r["point"]))]
        for f in factors:
            v = r[f]
            cells.append(f"{v:.4g}" if isinstance(v, float) else str(v))
        cells += [str(int(r["runs"])), str(int(r["failed"]))]
        for o in shown:
            m, lo, hi = r[f"{o}.mean"], r[f"{o}.ci_low"], r[f"{o}.ci_high"]
            if pd.isna(m):
                cells.append("-")
            elif pd.isna(lo):
                cells.append(f"{m:.3g}")
            else:
                cells.append(f"{m:.3g} [{lo:.3g}, {hi:.3g}]")
        table.append(cells)
    widths = [max(len(h), *(len(row[i]) for row in table)) if table else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in table]
    if len(summary) > rows:
        lines.append(f"... {len(summary) - rows} more design points in summary.csv")
    return lines
