"""A whole large organisation run, the baseline's per-run time, and how cost grows.

Run from the repository root::

    uv run python benchmarks/scale.py             # everything (a few minutes)
    uv run python benchmarks/scale.py --quick     # smaller sweeps, fewer seeds

1. **Large organisation**: ``scenarios/large_org.toml`` with its departments scaled in
   proportion to 100,000 members (else the default organisation scaled 6:4:2), built and run
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
from functools import partial
from pathlib import Path

import numpy as np
from common import ROOT, clocked, clocked_call, machine, organisation, scenario, shown

import sim  # common puts the repository on sys.path
from sim.params import Scenario

LARGE_MEMBERS = 100_000


# ----------------------------------------------------------------------- scenarios
def _load(name: str) -> Scenario | None:
    path = ROOT / "scenarios" / f"{name}.toml"
    if not path.exists():
        return None
    from sim.scenarios import load_scenario

    return load_scenario(path)


def large_scenario(members: int = LARGE_MEMBERS) -> tuple[Scenario, str]:
    """``scenarios/large_org.toml`` with its departments scaled in proportion to
    ``members`` in total (the default scenario scaled 6:4:2 if the file is missing)."""
    sc = _load("large_org")
    if sc is None:
        return scenario(members), f"default scenario, departments scaled 6:4:2 to {members:,} members"
    sizes = np.array([d.members for d in sc.departments], dtype=float)
    if sizes.sum() != members:
        new = np.floor(sizes / sizes.sum() * members).astype(int)
        new[np.argmax(sizes)] += members - new.sum()
        sc = sc.with_overrides({f"departments.{d.name}.members": int(k) for d, k in zip(sc.departments, new)})
    split = "/".join(f"{d.members:,}" for d in sc.departments)
    return sc, f"scenarios/large_org.toml scaled to {members:,} members ({split})"


def baseline_scenario() -> tuple[Scenario, str]:
    sc = _load("baseline")
    return (sc, "scenarios/baseline.toml") if sc is not None else (Scenario(), "default scenario")


def maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes


# ------------------------------------------------------------ the large run (child)
def run_days(model, days: int) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Step ``model`` for ``days`` days; cumulative wall and CPU seconds after each day,
    and the day the project ended (None if it was still running)."""
    wall, cpu = np.empty(days), np.empty(days)
    ended = None
    w0, c0 = time.perf_counter(), time.process_time()
    for d in range(days):
        model.step()
        wall[d], cpu[d] = time.perf_counter() - w0, time.process_time() - c0
        if ended is None and not model.running:
            ended = model.day
    return wall, cpu, ended


def large_child(days: int, seed: int, repeats: int) -> dict:
    rss_imports = maxrss_bytes()
    sc, source = large_scenario()
    members = sum(d.members for d in sc.departments)
    t = {k: [] for k in ("build_wall", "build_cpu", "days_wall", "days_cpu", "bare_wall", "bare_cpu")}
    clocks_wall, clocks_cpu = [], []
    ended = phase = None
    for _ in range(repeats):
        gc.collect()
        model, w, c = clocked_call(sim.PMSimModel, sc, rng=seed)
        t["build_wall"].append(w)
        t["build_cpu"].append(c)
        wall, cpu, ended = run_days(model, days)
        t["days_wall"].append(wall[-1])
        t["days_cpu"].append(cpu[-1])
        clocks_wall.append(wall)
        clocks_cpu.append(cpu)
        phase = model.phase
        frame = model.datacollector.get_model_vars_dataframe()  # what sim.run hands back
        assert len(frame) == days + 1
        w, c = clocked(partial(model.org.net.step, model.org._anchor.copy()), days)
        t["bare_wall"].append(w)
        t["bare_cpu"].append(c)
        nbytes, nnz, builder = model.org.nbytes, int(model.org.net.base.nnz), model.org.builder
        del model, frame
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
            "builder": builder, "nnz": nnz, "ended_day": ended, "final_phase": phase, "times_s": t,
            "clock_wall_median_s": np.median(np.vstack(clocks_wall), axis=0).tolist(),
            "clock_cpu_median_s": np.median(np.vstack(clocks_cpu), axis=0).tolist(),
            "org_nbytes": nbytes, "rss_after_imports": rss_imports, "rss_peak": rss_peak,
            "tracemalloc_peak_build": build_peak, "tracemalloc_peak_run": run_peak}


def large_run(days: int, seed: int, repeats: int) -> dict:
    cmd = [sys.executable, __file__, "--child-large", "--days", str(days), "--seed", str(seed),
           "--repeats", str(repeats)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------- the baseline
def _model_run(sc, seed):
    return sim.PMSimModel(sc, rng=seed).run()


def baseline_runs(seeds: int) -> dict:
    sc, source = baseline_scenario()
    sim.run(sc, seed=0)  # warm imports and caches
    out = {"source": source, "seeds": seeds, "members": sum(d.members for d in sc.departments)}
    runs = {"sim_run": [], "model_only": []}
    for seed in range(seeds):
        runs["sim_run"].append(clocked(partial(sim.run, sc, seed=seed)))
        runs["model_only"].append(clocked_call(_model_run, sc, seed)[1:])
    for name, v in runs.items():
        for i, clock in enumerate(("wall", "cpu")):
            vals = [r[i] for r in v]
            out[f"{name}_{clock}_s"] = vals
            out[f"{name}_{clock}_quartiles_s"] = [float(x) for x in np.percentile(vals, [25, 50, 75])]
    return out


# ----------------------------------------------------------------------- the growth
def step_time(org, repeats: int = 5) -> tuple[float, float]:
    """Median wall and CPU seconds of one influence step."""
    lead, dept = np.full(org.D, 0.8), np.array([0.7, 0.4, 0.6][: org.D])
    org.step(lead, dept)
    k = max(3, int(2e7 // org.net.base.nnz))
    runs = [clocked(partial(org.net.step, org._anchor), k) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def model_day_time(members: int, days: int = 30, seed: int = 1) -> dict:
    """Build time and median time of a model day over ``days`` days (wall and CPU)."""
    sc = scenario(members)
    model, bw, bc = clocked_call(sim.PMSimModel, sc, rng=seed)
    wall, cpu, _ = run_days(model, days)
    return {"model_build_wall_s": bw, "model_build_cpu_s": bc,
            "model_day_wall_s": float(np.median(np.diff(np.concatenate([[0.0], wall])))),
            "model_day_cpu_s": float(np.median(np.diff(np.concatenate([[0.0], cpu]))))}


def growth(members_list: list[int], degrees: list[float]) -> dict:
    by_members, by_degree = [], []
    for N in members_list:
        org, bw, bc = clocked_call(organisation, N, seed=0)
        sw, sc = step_time(org)
        row = {"members": N, "nnz": int(org.net.base.nnz), "org_build_wall_s": bw, "org_build_cpu_s": bc,
               "bytes_per_member": org.nbytes / N, "step_wall_s": sw, "step_cpu_s": sc}
        del org
        gc.collect()
        row.update(model_day_time(N))
        by_members.append(row)
        print(f"  {N:>9,} members: nnz {row['nnz']:>11,}  org build {bc:7.3f} s  step {sc * 1e3:8.3f} ms  "
              f"model day {row['model_day_cpu_s'] * 1e3:8.3f} ms  {row['bytes_per_member']:4.0f} B/member",
              flush=True)
    for k in degrees:
        org = organisation(LARGE_MEMBERS, seed=0, mean_degree=k)
        sw, sc = step_time(org)
        row = {"mean_degree": k, "nnz": int(org.net.base.nnz), "step_wall_s": sw, "step_cpu_s": sc,
               "bytes_per_member": org.nbytes / LARGE_MEMBERS}
        by_degree.append(row)
        del org
        gc.collect()
        print(f"  degree {k:>4.0f} at 100,000 members: nnz {row['nnz']:>11,}  step {sc * 1e3:8.3f} ms  "
              f"{row['bytes_per_member']:4.0f} B/member", flush=True)
    return {"by_members": by_members, "by_degree": by_degree}


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = result["growth"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.4))
    bm, bd = g["by_members"], g["by_degree"]
    nnz = np.array([r["nnz"] for r in bm])
    a1.loglog(nnz, [r["step_cpu_s"] for r in bm], "D-", label="influence step, 1k-1M members (degree 10)")
    a1.loglog(nnz, [r["model_day_cpu_s"] for r in bm], "^-", label="whole model day, same organisations")
    a1.loglog(nnz, [r["org_build_cpu_s"] for r in bm], "o:", label="building the organisation")
    a1.loglog([r["nnz"] for r in bd], [r["step_cpu_s"] for r in bd], "s--",
              label="influence step, degree 5-40 at 100k members")
    ref = np.array([nnz.min(), nnz.max()])
    a1.loglog(ref, bm[-1]["step_cpu_s"] * ref / nnz.max(), ":", color="grey", label="slope 1 (linear)")
    for r in bm:
        a1.annotate(f"{r['members']:,}", (r["nnz"], r["step_cpu_s"]), textcoords="offset points",
                    xytext=(4, -10), fontsize=7)
    a1.set_xlabel("stored edges of W (CSR nnz)")
    a1.set_ylabel("CPU seconds (median)")
    a1.set_title("cost against members and edges")
    a1.grid(True, which="both", alpha=0.3)
    a1.legend(fontsize=7)
    large = result["large"]
    clock = np.array(large["clock_cpu_median_s"])
    days = np.arange(1, len(clock) + 1)
    t = large["times_s"]
    a2.loglog(days, clock, "-", label=f"{large['members']:,}-member run, the days")
    a2.loglog(days, clock + statistics.median(t["build_cpu"]), "--", label="the days plus the build")
    a2.loglog(days, days * statistics.median(t["bare_cpu"]), ":", label="bare influence steps")
    a2.set_xlabel("days simulated")
    a2.set_ylabel("cumulative CPU seconds (median of repeats)")
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
    t = {k: statistics.median(v) for k, v in large["times_s"].items()}
    summary = {}
    print(f"Large organisation ({large['source']}): {large['members']:,} members, {large['nnz']:,} stored edges "
          f"({large['builder']} builder), seed {large['seed']}, {args.days} days, median of {large['repeats']} runs")
    ended = (f"the project ended on day {large['ended_day']} ({large['final_phase']}); the organisation "
             f"lived on to day {args.days}" if large["ended_day"] else "the project ran all the days")
    print(f"  {ended}\n")
    print(f"  {'':<30} {'wall clock':>12} {'CPU time':>12}")
    for clock in ("wall", "cpu"):
        build, days, bare = t[f"build_{clock}"], t[f"days_{clock}"], t[f"bare_{clock}"]
        summary[clock] = {"build_s": build, "days_s": days, "whole_s": build + days, "bare_step_s": bare,
                          "ratio_whole_to_bare": (build + days) / (args.days * bare),
                          "ratio_days_to_bare": days / (args.days * bare)}
    sw, sc = summary["wall"], summary["cpu"]
    rows = [("build", "build_s", "s"), (f"{args.days} days", "days_s", "s"), ("whole run", "whole_s", "s")]
    for label, key, unit in rows:
        print(f"  {label:<30} {sw[key]:>10.3f} {unit} {sc[key]:>10.3f} {unit}")
    print(f"  {'per day':<30} {sw['days_s'] / args.days * 1e3:>9.2f} ms {sc['days_s'] / args.days * 1e3:>9.2f} ms")
    print(f"  {f'{args.days} bare influence steps':<30} {args.days * sw['bare_step_s']:>10.3f} s "
          f"{args.days * sc['bare_step_s']:>10.3f} s")
    print(f"  {'ratio whole run / bare steps':<30} {sw['ratio_whole_to_bare']:>10.1f} x {sc['ratio_whole_to_bare']:>10.1f} x"
          f"   (target < 20x)")
    print(f"  {'ratio days only / bare steps':<30} {sw['ratio_days_to_bare']:>10.1f} x {sc['ratio_days_to_bare']:>10.1f} x")
    mb = 1024 * 1024
    print(f"\n  peak RSS of the run's process (ru_maxrss): {large['rss_peak'] / mb:.0f} MB "
          f"(of which {large['rss_after_imports'] / mb:.0f} MB after imports)")
    print(f"  peak of traced allocations: {large['tracemalloc_peak_build'] / mb:.0f} MB building, "
          f"{large['tracemalloc_peak_run'] / mb:.0f} MB building and running")
    print(f"  organisation arrays: {large['org_nbytes'] / mb:.1f} MB "
          f"({large['org_nbytes'] / large['members']:.0f} bytes per member)\n")

    seeds = 10 if args.quick else args.baseline_seeds
    base = baseline_runs(seeds)
    print(f"Baseline ({base['source']}, {base['members']} members), {seeds} seeds, per run "
          f"(median, quartiles):")
    for name, label in (("sim_run", "sim.run (model + summary, timeseries, debrief)"),
                        ("model_only", "model only (PMSimModel + run)")):
        parts = []
        for clock in ("wall", "cpu"):
            q1, med, q3 = base[f"{name}_{clock}_quartiles_s"]
            parts.append(f"{clock} {med * 1e3:6.1f} ms ({q1 * 1e3:.1f}-{q3 * 1e3:.1f})")
        print(f"  {label:<48} " + "   ".join(parts))

    print("\nGrowth (CPU time, medians):")
    members = [1_000, 10_000, 100_000] if args.quick else [1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000]
    members = [n for n in members if n <= args.max_members]
    degrees = [5.0, 10.0, 20.0] if args.quick else [5.0, 10.0, 20.0, 40.0]
    grow = growth(members, degrees)

    info["loadavg_at_end"] = list(os.getloadavg())
    summary["baseline_sim_run_median_wall_s"] = base["sim_run_wall_quartiles_s"][1]
    summary["baseline_sim_run_median_cpu_s"] = base["sim_run_cpu_quartiles_s"][1]
    summary["peak_rss_MB"] = large["rss_peak"] / mb
    result = {"machine": info, "large": large, "baseline": base, "growth": grow, "summary": summary}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"\nload average at the start {info['loadavg_at_start'][0]:.2f}, at the end "
          f"{info['loadavg_at_end'][0]:.2f} ({info['nproc']} CPUs)\nwrote {shown(args.json)}")
    if not args.no_plot:
        plot(result, args.plot)
        print(f"wrote {shown(args.plot)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
