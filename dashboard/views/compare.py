"""Compare: replicated runs of strategies / ownership levels / archetypes, means with 95% CIs."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dashboard import charts, ui
from dashboard.library import UPLOAD_PREFIX, default_name, library
from sim.archetypes import ARCHETYPES
from sim.compare import DEFAULT_METRICS, RATE_METRICS, compare, make_variants
from sim.scenarios import ScenarioError
from sim.strategies import STRATEGIES

ui.setup_page("Compare")
ss = st.session_state
MAX_RUNS = 5000
OWNERSHIP_LEVELS = [0.0, 0.25, 0.5, 0.75, 1.0]
METRIC_HELP = {
    "delivered": "share of runs that delivered", "on_time": "share delivered by the deadline",
    "full_scope_on_time": "share delivering the whole backlog on time", "delivery_day": "day of delivery",
    "delivered_value": "customer value shipped", "days_to_first_agreement": "days until a plan was agreed",
    "renegotiations": "times the plan was reopened", "blame_events": "blame events",
    "trust_change": "change of the leads' mean trust in the PM", "satisfaction": "leads' mean utility of the plan",
}

st.title("Compare strategies")
st.markdown("Run each variant many times with the same seeds (common random numbers) and compare the "
            "outcomes: the mean of each variant with its 95% confidence interval, and how single runs spread.")

uploads = ss.get("uploads", {})
names = list(library()) + list(uploads)
if ss.get("cmp_scenario") not in names:
    ss["cmp_scenario"] = ss.get("scenario_name") if ss.get("scenario_name") in names else default_name()
with st.sidebar:
    st.selectbox("Scenario", names, key="cmp_scenario",
                 help="The organisation and project every variant runs on (uploaded scenarios from Explore "
                      "are listed too).")
    name = ss["cmp_scenario"]
    base = uploads[name] if name.startswith(UPLOAD_PREFIX) else ui.library_scenario(name)
    st.caption(base.description)
    st.multiselect("Strategies", list(STRATEGIES), default=["balanced", "consultative", "pressure"],
                   key="cmp_strategies", format_func=lambda s: f"{s} - {STRATEGIES[s].description}",
                   help="Influence strategies from sim/strategies.py.")
    st.multiselect("PM ownership levels", OWNERSHIP_LEVELS, default=[], key="cmp_ownership",
                   help="Leave empty to keep the scenario's ownership "
                        f"({base.pm.ownership:g}). Several levels are crossed with the strategies.")
    st.multiselect("PM archetypes", list(ARCHETYPES), default=[], key="cmp_archetypes",
                   format_func=lambda a: f"{a} - {ARCHETYPES[a].description}",
                   help=f"Leave empty to keep the scenario's archetype ({base.pm.archetype}).")
    st.slider("Replications per variant", 2, 200, 20, key="cmp_reps",
              help="More replications give narrower confidence intervals (and take longer).")
    st.number_input("Seed", 0, 2**31 - 1, 0, key="cmp_seed",
                    help="Replication r of every variant uses the same seed derived from this one.")

variants = make_variants(strategies=ss["cmp_strategies"] or None, ownership=ss["cmp_ownership"] or None,
                         archetypes=ss["cmp_archetypes"] or None)
reps = int(ss["cmp_reps"])
n_runs = len(variants) * reps
c1, c2 = st.columns([3, 1])
c1.info(f"{len(variants)} variant(s) x {reps} replications = **{n_runs} runs** on **{name}**",
        icon=":material/calculate:")
go = c2.button("Run comparison", type="primary", key="cmp_run", icon=":material/play_arrow:",
               disabled=n_runs > MAX_RUNS, width="stretch")
if n_runs > MAX_RUNS:
    st.error(f"{n_runs} runs is more than this page runs at once ({MAX_RUNS}); use fewer variants or "
             f"replications, or the Experiments page.", icon=":material/error:")

request = json.dumps({"scenario": base.model_dump(mode="json"), "variants": [[v.label, dict(v.overrides)]
                                                                           for v in variants],
                      "reps": reps, "seed": int(ss["cmp_seed"])}, sort_keys=True)
if go:
    bar = st.progress(0.0, text="starting...")

    def tick(done: int, total: int) -> None:
        bar.progress(done / total, text=f"{done} of {total} runs")

    try:
        result = compare(base, variants, reps=reps, seed=int(ss["cmp_seed"]), progress=tick)
        ss["cmp_result"] = (request, result)
    except ScenarioError as exc:
        st.error(f"These variants cannot run: {exc}", icon=":material/error:")
    except Exception as exc:  # a model failure must not show a traceback in the page
        st.error(f"The comparison stopped: {type(exc).__name__}: {exc}", icon=":material/error:")
    bar.empty()

result = ui.stored_result("cmp_result", request,
                          "Choose variants in the sidebar and press **Run comparison**.", ":material/arrow_back:",
                          "The settings changed since this comparison ran; press **Run comparison** to update it.")

metrics = [m for m in DEFAULT_METRICS if m in result.runs]
metric = st.selectbox("Outcome", metrics, index=metrics.index("on_time") if "on_time" in metrics else 0,
                      key="cmp_metric", format_func=lambda m: f"{m} ({METRIC_HELP.get(m, '')})")
labels = [v.label for v in result.variants]
factors = {label.split("=", 1)[0] for label in labels if "=" in label and "," not in label}
short = {lab: lab.split("=", 1)[1] for lab in labels} if len(factors) == 1 else {lab: lab for lab in labels}
runs = result.runs.copy()
runs["variant"] = runs["variant"].map(short)
runs[metric] = runs[metric].astype(float)
stats = result.table[result.table["metric"] == metric].rename(columns={"low": "lo", "high": "hi"})
stats = stats.assign(variant=stats["variant"].map(short))
left, right = st.columns(2)
ui.chart(left, charts.means_ci_chart(stats, metric))
if metric in RATE_METRICS:
    ui.chart(right, charts.outcome_mix_chart(runs))
else:
    ui.chart(right, charts.distribution_chart(runs, metric))

st.subheader("All outcomes: mean [95% CI]")


def _cell(row) -> str:
    if not row["n"]:
        return "-"
    text = f"{row['mean']:.2f}"
    if pd.notna(row["low"]) and pd.notna(row["high"]):
        text += f" [{row['low']:.2f}, {row['high']:.2f}]"
    if row["n"] < result.reps:  # e.g. delivery day: only the runs that delivered
        text += f" (n={int(row['n'])})"
    return text


table = result.table.assign(cell=result.table.apply(_cell, axis=1)).pivot(index="metric", columns="variant",
                                                                          values="cell")
table = table.reindex(index=list(result.metrics), columns=labels).rename(columns=short)
st.dataframe(table, width="stretch")
st.download_button("Download all runs (CSV)", data=lambda: result.runs.to_csv(index=False).encode(),
                   file_name=f"compare_{result.scenario}.csv", mime="text/csv", key="cmp_download",
                   icon=":material/download:")
