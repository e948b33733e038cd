"""Markdown tables of the last benchmark results, for docs/performance.md.

    uv run python benchmarks/report.py    # reads benchmarks/results/{influence,scale}.json
"""

from __future__ import annotations

import json
import statistics

from common import ROOT

RESULTS = ROOT / "benchmarks" / "results"


def _cell(b: dict, key: str) -> str:
    return f"{b[key]['GBps']:.1f} GB/s ({100 * b[key]['share_of_copy']:.0f}%)"


def influence(path=RESULTS / "influence.json") -> str:
    data = json.loads(path.read_text())
    m, bw = data["machine"], data["copy_bandwidth_Bps"]
    out = [(f"Measured {m.get('date', '')} on {m['cpu']} ({m['nproc']} CPUs), numpy {m['numpy']}, scipy {m['scipy']}, "
           f"mesa {m['mesa']}, networkx {m['networkx']}; load average {m['loadavg_at_start'][0]:.1f} at the start, "
           f"{m['loadavg_at_end'][0]:.1f} at the end. Copy bandwidth (best of 20 `np.copyto`, 160 MB, read + "
           f"write): {bw['wall'] / 1e9:.1f} GB/s by wall clock, {bw['cpu'] / 1e9:.1f} GB/s by CPU time."), ""]
    for clock, title in (("wall", "wall clock"), ("cpu", "CPU time of the process, all threads")):
        out += [f"Time per influence step, {title} (median):", "",
                ("| members | stored edges | plain Mesa | engine step | org day | bare scipy | engine speed-up "
                "| org day speed-up | bare scipy speed-up |"),
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in data["rows"]:
            t = r[f"{clock}_median_s"]
            s = {k: t["plain_mesa"] / t[k] for k in ("engine", "org_day", "bare_scipy")}
            out.append(f"| {r['members']:,} | {r['nnz']:,} | {t['plain_mesa'] * 1e3:.2f} ms | "
                       f"{t['engine'] * 1e6:.1f} µs | {t['org_day'] * 1e6:.1f} µs | {t['bare_scipy'] * 1e6:.1f} µs | "
                       f"**{s['engine']:,.0f}x** | {s['org_day']:,.0f}x | {s['bare_scipy']:,.0f}x |")
        out.append("")
    out += [("Effective memory bandwidth of the step (bytes it must touch / median time; share of the copy "
            "bandwidth measured with the same clock):"), "",
            "| members | bytes per step | engine, wall clock | engine, CPU time | bare scipy, wall clock | bare scipy, CPU time |",
            "|---:|---:|---:|---:|---:|---:|"]
    for r in data["rows"]:
        b = r["bandwidth"]
        out.append(f"| {r['members']:,} | {r['step_bytes'] / 1e6:.2f} MB | **{_cell(b, 'engine_wall')}** | "
                   f"{_cell(b, 'engine_cpu')} | {_cell(b, 'bare_scipy_wall')} | {_cell(b, 'bare_scipy_cpu')} |")
    return "\n".join(out)


def scale(path=RESULTS / "scale.json") -> str:
    data = json.loads(path.read_text())
    m, large, base, grow, summ = data["machine"], data["large"], data["baseline"], data["growth"], data["summary"]
    mb = 1024 * 1024
    t = {k: statistics.median(v) for k, v in large["times_s"].items()}
    days = large["days"]
    out = [(f"Measured {m.get('date', '')} on {m['cpu']} ({m['nproc']} CPUs); load average {m['loadavg_at_start'][0]:.1f} at the start, "
           f"{m['loadavg_at_end'][0]:.1f} at the end."), "",
           f"**Large organisation**: {large['source']}; {large['nnz']:,} stored edges; seed {large['seed']}; "
           f"{days} days, median of {large['repeats']} runs"
           + (f" (the project ended on day {large['ended_day']}, {large['final_phase']}; the organisation "
              f"lived on to day {days})." if large["ended_day"] else "."), "",
           "| | CPU time | wall clock |", "|---|---:|---:|"]
    for label, key in (("build", "build"), (f"{days} days", "days")):
        out.append(f"| {label} | {t[f'{key}_cpu']:.3f} s | {t[f'{key}_wall']:.3f} s |")
    out += [f"| whole run | {summ['cpu']['whole_s']:.3f} s | {summ['wall']['whole_s']:.3f} s |",
            f"| per day | {t['days_cpu'] / days * 1e3:.2f} ms | {t['days_wall'] / days * 1e3:.2f} ms |",
            f"| {days} bare influence steps | {days * t['bare_cpu']:.3f} s | {days * t['bare_wall']:.3f} s |",
            (f"| **whole run / bare steps** | **{summ['cpu']['ratio_whole_to_bare']:.1f}x** | "
            f"**{summ['wall']['ratio_whole_to_bare']:.1f}x** |"),
            (f"| days only / bare steps | {summ['cpu']['ratio_days_to_bare']:.1f}x | "
            f"{summ['wall']['ratio_days_to_bare']:.1f}x |"), "",
            (f"Peak memory of the run's process: {large['rss_peak'] / mb:.0f} MB RSS (`ru_maxrss`; "
            f"{large['rss_after_imports'] / mb:.0f} MB of it is the interpreter and imports); peak of the "
            f"allocations traced by `tracemalloc`: {large['tracemalloc_peak_build'] / mb:.0f} MB while building, "
            f"{large['tracemalloc_peak_run'] / mb:.0f} MB over build and run; the organisation's arrays: "
            f"{large['org_nbytes'] / mb:.1f} MB ({large['org_nbytes'] / large['members']:.0f} bytes per member)."), ""]
    out += [f"**Baseline** ({base['source']}, {base['members']} members), {base['seeds']} seeds, per run:", "",
            "| | median CPU | quartiles CPU | median wall | quartiles wall |", "|---|---:|---:|---:|---:|"]
    for name, label in (("sim_run", "`sim.run` (model, summary, timeseries, debrief)"),
                        ("model_only", "model only (`PMSimModel(...).run()`)")):
        qc, qw = base[f"{name}_cpu_quartiles_s"], base[f"{name}_wall_quartiles_s"]
        out.append(f"| {label} | {qc[1] * 1e3:.1f} ms | {qc[0] * 1e3:.1f}-{qc[2] * 1e3:.1f} ms | "
                   f"{qw[1] * 1e3:.1f} ms | {qw[0] * 1e3:.1f}-{qw[2] * 1e3:.1f} ms |")
    out += ["", "**Growth with members** (mean degree 10; CPU time of the process, all threads, medians):", "",
            "| members | stored edges | build the organisation | influence step | ns per edge | model day | bytes per member |",
            "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in grow["by_members"]:
        out.append(f"| {r['members']:,} | {r['nnz']:,} | {r['org_build_cpu_s']:.3f} s | {r['step_cpu_s'] * 1e3:.3f} ms | "
                   f"{r['step_cpu_s'] / r['nnz'] * 1e9:.2f} | {r['model_day_cpu_s'] * 1e3:.3f} ms | "
                   f"{r['bytes_per_member']:.0f} |")
    out += ["", "**Growth with edges** (100,000 members; CPU time of the process, all threads, medians):", "",
            "| mean degree | stored edges | influence step | ns per edge | bytes per member |", "|---:|---:|---:|---:|---:|"]
    for r in grow["by_degree"]:
        out.append(f"| {r['mean_degree']:.0f} | {r['nnz']:,} | {r['step_cpu_s'] * 1e3:.3f} ms | "
                   f"{r['step_cpu_s'] / r['nnz'] * 1e9:.2f} | {r['bytes_per_member']:.0f} |")
    return "\n".join(out)


if __name__ == "__main__":
    print(influence())
    print()
    print(scale())
