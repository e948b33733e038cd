"""A whole large organisation run, the baseline's per-run time, and how cost grows.

Run from the repository root::

    uv run python benchmarks/scale.py             # everything (a few minutes)
    uv run python benchmarks/scale.py --quick     # smaller sweeps, fewer seeds

1. **Large organisation**: ``scenarios/large_org.toml`` when it exists (else the default
   organisation with its departments scaled 6:4:2 to 100,000 members), built and run
   for 120 days with ``PMSimModel``, in a child process so its peak memory
   (``ru_maxrss``) is its own. The model is stepped for all 120 days: when the project
   ends earlier (delivered or abandoned) the remaining days still do the daily work
   that scales with the organisation (influence, the leads' day, data collection); the
   table says on which day the project ended. Its cost is compared with 120 bare
   influence steps (``InfluenceNetwork.step`` on the same organisation), timed in the
   same process, interleaved with the runs; medians of the repeats. A second pass with
   ``tracemalloc`` gives the peak of the arrays allocated by the run.
2. **Baseline**: ``sim.run`` of ``scenarios/baseline.toml`` (or the default scenario)
   for 50 seeds; median and quartiles of the per-run time.
3. **Growth**: influence step and model day against members (1,000 to 1,000,000, mean
   degree 10) and against mean degree (5 to 40 at 100,000 members), and the large
   run's time against days: ``docs/scale_growth.png`` (log-log).

Results go to ``benchmarks/results/scale.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from common import ROOT, machine, organisation, scenario, shown, timed

import sim  # noqa: I001  (common puts the repository on sys.path)
from sim.params import Scenario

LARGE_MEMBERS = 100_000


# ----------------------------------------------------------------------- scenarios
def _load(name: str) -> Scenario | None:
    path = ROOT / "scenarios" / f"{name}.toml"
    if not path.exists():
        return None
    from sim.scenarios import load_scenario

    return load_scenario(path)


def large_scenario() -> tuple[Scenario, str]:
    sc = _load("large_org")
    if sc is not None:
        return sc, "scenarios/large_org.toml"
    return scenario(LARGE_MEMBERS), "default scenario, departments scaled 6:4:2 to 100,000 members"


def baseline_scenario() -> tuple[Scenario, str]:
    sc = _load("baseline")
    return (sc, "scenarios/baseline.toml") if sc is not None else (Scenario(), "default scenario")


def maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes


# ------------------------------------------------------------ the large run (child)
def run_days(model, days: int) -> tuple[np.ndarray, int | None]:
    """Step ``model`` for ``days`` days; cumulative seconds after each day, and the day
    the project ended (None if it was still running)."""
    clock = np.empty(days)
    ended = None
    t0 = time.perf_counter()
    for d in range(days):
        model.step()
        clock[d] = time.perf_counter() - t0
        if ended is None and not model.running:
            ended = model.day
    return clock, ended


def large_child(days: int, seed: int, repeats: int) -> dict:
    rss_imports = maxrss_bytes()
    sc, source = large_scenario()
    members = sum(d.members for d in sc.departments)
    builds, runs, bare, clocks = [], [], [], []
    ended = phase = None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        model = sim.PMSimModel(sc, rng=seed)
        builds.append(time.perf_counter() - t0)
        clock, ended = run_days(model, days)
        runs.append(clock[-1])
        clocks.append(clock)
        phase = model.phase
        frame = model.datacollector.get_model_vars_dataframe()  # what sim.run hands back
        assert len(frame) == days + 1
        net = model.org.net
        anchor = model.org._anchor.copy()
        bare.append(timed(lambda: net.step(anchor), days))  # noqa: B023 (used right here)
        org = model.org
        nbytes, nnz, builder = org.nbytes, int(net.base.nnz), org.builder
        del model, net, org, frame
    rss_peak = maxrss_bytes()
    # the arrays the build and run allocate, traced (slower; not timed)
    gc.collect()
    tracemalloc.start()
    model = sim.PMSimModel(sc, rng=seed)
    _, build_peak = tracemalloc.get_traced_memory()
    run_days(model, days)
    _, run_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"source": source, "members": members, "days": days, "seed": seed, "repeats": repeats,
            "builder": builder, "nnz": nnz, "ended_day": ended, "final_phase": phase,
            "build_s": builds, "days_s": runs, "bare_step_s": bare,
            "clock_median_s": np.median(np.vstack(clocks), axis=0).tolist(),
            "org_nbytes": nbytes, "rss_after_imports": rss_imports, "rss_peak": rss_peak,
            "tracemalloc_peak_build": build_peak, "tracemalloc_peak_run": run_peak}


def large_run(days: int, seed: int, repeats: int) -> dict:
    cmd = [sys.executable, __file__, "--child-large", "--days", str(days), "--seed", str(seed),
           "--repeats", str(repeats)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------- the baseline
def baseline_runs(seeds: int) -> dict:
    sc, source = baseline_scenario()
    sim.run(sc, seed=0)  # warm imports and caches
    full, model_only = [], []
    for seed in range(seeds):
        full.append(timed(lambda: sim.run(sc, seed=seed)))  # noqa: B023
        model_only.append(timed(lambda: sim.PMSimModel(sc, rng=seed).run()))  # noqa: B023
    q = lambda v: [float(x) for x in np.percentile(v, [25, 50, 75])]  # noqa: E731
    return {"source": source, "seeds": seeds, "sim_run_s": full, "model_only_s": model_only,
            "sim_run_quartiles_s": q(full), "model_only_quartiles_s": q(model_only),
            "members": sum(d.members for d in sc.departments)}


# ----------------------------------------------------------------------- the growth
def step_time(org, repeats: int = 5) -> float:
    lead, dept = np.full(org.D, 0.8), np.array([0.7, 0.4, 0.6][: org.D])
    org.step(lead, dept)
    k = max(3, int(2e7 // org.net.base.nnz))
    return statistics.median(timed(lambda: org.net.step(org._anchor), k) for _ in range(repeats))


def model_day_time(members: int, days: int = 30, seed: int = 1) -> tuple[float, float]:
    """Build time and median time of a model day over ``days`` days."""
    sc = scenario(members)
    t0 = time.perf_counter()
    m = sim.PMSimModel(sc, rng=seed)
    build = time.perf_counter() - t0
    clock, _ = run_days(m, days)
    return build, float(np.median(np.diff(np.concatenate([[0.0], clock]))))


def growth(members_list: list[int], degrees: list[float], model_days: bool) -> dict:
    by_members, by_degree = [], []
    for N in members_list:
        t0 = time.perf_counter()
        org = organisation(N, seed=0)
        build = time.perf_counter() - t0
        row = {"members": N, "nnz": int(org.net.base.nnz), "org_build_s": build,
               "bytes_per_member": org.nbytes / N, "step_s": step_time(org)}
        del org
        gc.collect()
        if model_days:
            row["model_build_s"], row["model_day_s"] = model_day_time(N)
        by_members.append(row)
        print(f"  members {N:>9,}: nnz {row['nnz']:>11,}  step {row['step_s'] * 1e3:8.3f} ms"
              + (f"  model day {row['model_day_s'] * 1e3:8.3f} ms" if model_days else ""), flush=True)
    for k in degrees:
        org = organisation(LARGE_MEMBERS, seed=0, mean_degree=k)
        row = {"mean_degree": k, "nnz": int(org.net.base.nnz), "step_s": step_time(org),
               "bytes_per_member": org.nbytes / LARGE_MEMBERS}
        by_degree.append(row)
        del org
        gc.collect()
        print(f"  degree {k:>5.0f} at 100,000: nnz {row['nnz']:>11,}  step {row['step_s'] * 1e3:8.3f} ms", flush=True)
    return {"by_members": by_members, "by_degree": by_degree}


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = result["growth"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.4))
    bm, bd = g["by_members"], g["by_degree"]
    nnz = np.array([r["nnz"] for r in bm])
    a1.loglog(nnz, [r["step_s"] for r in bm], "D-", label="influence step, members 1k-1M (degree 10)")
    if "model_day_s" in bm[0]:
        a1.loglog(nnz, [r["model_day_s"] for r in bm], "^-", label="whole model day, same orgs")
    a1.loglog([r["nnz"] for r in bd], [r["step_s"] for r in bd], "s--",
              label="influence step, degree 5-40 at 100k members")
    ref = np.array([nnz.min(), nnz.max()])
    a1.loglog(ref, bm[-1]["step_s"] * ref / nnz.max(), ":", color="grey", label="slope 1 (linear)")
    for r in bm:
        a1.annotate(f"{r['members']:,}", (r["nnz"], r["step_s"]), textcoords="offset points",
                    xytext=(4, -10), fontsize=7)
    a1.set_xlabel("stored edges of W (CSR nnz)")
    a1.set_ylabel("seconds (median)")
    a1.set_title("cost per day against edges")
    a1.grid(True, which="both", alpha=0.3)
    a1.legend(fontsize=7)
    large = result["large"]
    clock = np.array(large["clock_median_s"])
    days = np.arange(1, len(clock) + 1)
    a2.loglog(days, clock, "-", label=f"{large['members']:,}-member run, days only")
    build = statistics.median(large["build_s"])
    a2.loglog(days, clock + build, "--", label="including the build")
    a2.loglog(days, days * statistics.median(large["bare_step_s"]), ":", label="bare influence steps")
    a2.set_xlabel("days simulated")
    a2.set_ylabel("cumulative seconds (median of repeats)")
    a2.set_title("cost against days")
    a2.grid(True, which="both", alpha=0.3)
    a2.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---------------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sweeps and fewer seeds")
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline-seeds", type=int, default=50)
    ap.add_argument("--max-members", type=int, default=1_000_000)
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "scale.json")
    ap.add_argument("--plot", type=Path, default=ROOT / "docs" / "scale_growth.png")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--child-large", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_large:
        print(json.dumps(large_child(args.days, args.seed, args.repeats)))
        return 0

    info = machine()
    print(f"machine: {info['cpu']}, {info['nproc']} CPUs; numpy {info['numpy']}, scipy {info['scipy']}, "
          f"mesa {info['mesa']}; load average {info['loadavg_at_start'][0]:.2f}\n")

    large = large_run(args.days, args.seed, args.repeats)
    build = statistics.median(large["build_s"])
    run = statistics.median(large["days_s"])
    bare = statistics.median(large["bare_step_s"])
    whole = build + run
    ratio = whole / (args.days * bare)
    print(f"Large organisation ({large['source']}): {large['members']:,} members, {large['nnz']:,} stored edges "
          f"({large['builder']} builder), seed {large['seed']}, {args.days} days, median of {large['repeats']}")
    ended = (f"project ended on day {large['ended_day']} ({large['final_phase']})" if large["ended_day"]
             else "project still running at the end")
    print(f"  {ended}\n")
    print(f"  {'build':<34} {build:8.3f} s")
    print(f"  {f'{args.days} days':<34} {run:8.3f} s   ({run / args.days * 1e3:.2f} ms/day)")
    print(f"  {'whole run':<34} {whole:8.3f} s")
    print(f"  {f'{args.days} bare influence steps':<34} {args.days * bare:8.3f} s   ({bare * 1e3:.2f} ms/step)")
    print(f"  {'ratio whole run / bare steps':<34} {ratio:8.1f}x  (target < 20x) -> {'met' if ratio < 20 else 'NOT met'}")
    print(f"  {'ratio days only / bare steps':<34} {run / (args.days * bare):8.1f}x")
    mb = 1024 * 1024
    print(f"  {'peak RSS (ru_maxrss)':<34} {large['rss_peak'] / mb:8.0f} MB   "
          f"(after imports {large['rss_after_imports'] / mb:.0f} MB)")
    print(f"  {'traced peak, build / build + run':<34} {large['tracemalloc_peak_build'] / mb:8.0f} MB / "
          f"{large['tracemalloc_peak_run'] / mb:.0f} MB")
    print(f"  {'organisation arrays':<34} {large['org_nbytes'] / mb:8.1f} MB   "
          f"({large['org_nbytes'] / large['members']:.0f} bytes per member)\n")

    seeds = 10 if args.quick else args.baseline_seeds
    base = baseline_runs(seeds)
    q1, med, q3 = base["sim_run_quartiles_s"]
    m1, mmed, m3 = base["model_only_quartiles_s"]
    print(f"Baseline ({base['source']}, {base['members']} members), {seeds} seeds:")
    print(f"  sim.run (model + summary, timeseries, debrief): median {med * 1e3:.1f} ms "
          f"(quartiles {q1 * 1e3:.1f}-{q3 * 1e3:.1f} ms)")
    print(f"  model only (PMSimModel + run):                  median {mmed * 1e3:.1f} ms "
          f"(quartiles {m1 * 1e3:.1f}-{m3 * 1e3:.1f} ms)\n")

    print("Growth:")
    members = [1_000, 10_000, 100_000] if args.quick else [1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000]
    members = [n for n in members if n <= args.max_members]
    degrees = [5.0, 10.0, 20.0] if args.quick else [5.0, 10.0, 20.0, 40.0]
    grow = growth(members, degrees, model_days=True)

    info["loadavg_at_end"] = list(os.getloadavg())
    result = {"machine": info, "large": large, "baseline": base, "growth": grow,
              "summary": {"build_s": build, "days_s": run, "whole_s": whole, "bare_step_s": bare,
                          "ratio_whole_to_bare": ratio, "ratio_days_to_bare": run / (args.days * bare),
                          "baseline_sim_run_median_s": med, "baseline_model_median_s": mmed,
                          "peak_rss_MB": large["rss_peak"] / mb}}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"\n(load average at the end: {info['loadavg_at_end'][0]:.2f})\nwrote {shown(args.json)}")
    if not args.no_plot:
        plot(result, args.plot)
        print(f"wrote {shown(args.plot)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
