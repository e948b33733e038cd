"""Experiments: pick or edit an experiment file, run it on the batch runner, browse results."""

from __future__ import annotations

import os
import time

import streamlit as st

from dashboard import charts, ui
from dashboard.experiments import (
    check_experiment,
    csv_bytes,
    describe,
    experiment_files,
    load_runs,
    numeric_outcomes,
    parquet_bytes,
    results_folders,
    results_root,
    start_sweep,
)
from sim.batch import ExperimentError

ui.setup_page("Experiments")
ss = st.session_state
FILES = experiment_files()


def _load_file() -> None:
    path = FILES.get(ss.get("exp_file"))
    if path is not None:
        ss["exp_text"] = path.read_text(encoding="utf-8")
    ss.pop("exp_checked", None)


if "exp_text" not in ss:
    ss["exp_file"] = ss.get("exp_file") or (next(iter(FILES)) if FILES else None)
    ss["exp_text"] = ""
    _load_file()

st.title("Experiments")
st.markdown("Sweep parameters with replications on the batch runner (`pmsim sweep` in the terminal), "
            "then compare outcomes across the design. Results are stored as Parquet under "
            f"`{results_root()}`.")
run_tab, browse_tab = st.tabs(["Run an experiment", "Browse results"])

with run_tab:
    if FILES:
        st.selectbox("Experiment file", list(FILES), key="exp_file", on_change=_load_file,
                     help="The files in experiments/. Edit the text below before running; the file itself "
                          "is not changed.")
    st.text_area("Experiment (TOML)", key="exp_text", height=340,
                 help="name, scenario, replications, seed, [design] and [factors] (dotted parameter paths with "
                      "lists of values or {low, high} ranges). See docs/batch.md.")
    c1, c2, c3 = st.columns([1, 2, 2])
    workers = c1.number_input("Worker processes", 1, max(1, os.cpu_count() or 1), 1, key="exp_workers",
                              help="1 runs in the dashboard's own process (no start-up cost); more use the "
                                   "batch runner's process pool.")
    fresh = c2.checkbox("Start afresh", key="exp_fresh",
                        help="Delete earlier results of this experiment first. Otherwise a stopped sweep "
                             "resumes where it was, and a changed experiment is refused.")
    check = c3.button("Check", key="exp_check", icon=":material/fact_check:")
    launch = c3.button("Run experiment", key="exp_run", type="primary", icon=":material/play_arrow:")
    prepared = None
    if check or launch:
        try:
            prepared = check_experiment(ss["exp_text"], source=f"{ss.get('exp_file') or 'experiment'} (edited)")
            ss["exp_checked"] = describe(prepared)
        except ExperimentError as exc:
            ss.pop("exp_checked", None)
            st.error(f"The experiment cannot run: {exc}", icon=":material/error:")
    if ss.get("exp_checked"):
        st.info(ss["exp_checked"], icon=":material/science:")
    if launch and prepared is not None:
        try:
            job = start_sweep(prepared, workers=int(workers), fresh=bool(fresh))
        except ExperimentError as exc:
            st.error(f"The experiment cannot run: {exc}", icon=":material/error:")
            job = None
        if job is not None:
            bar = st.progress(0.0, text="starting...")
            while job.running:
                done = job.done()
                bar.progress(min(done / job.total, 1.0), text=f"{done} of {job.total} runs stored "
                                                              f"({time.perf_counter() - job.started:.0f} s)")
                time.sleep(0.25)
            done = job.done()
            bar.progress(min(done / job.total, 1.0), text=f"{done} of {job.total} runs stored")
            if job.error:
                st.error(f"The sweep stopped: {job.error}", icon=":material/error:")
            else:
                st.success(job.report.text().splitlines()[0], icon=":material/check_circle:")
                ss["res_name"] = prepared.spec.name

with browse_tab:
    folders = results_folders()
    if not folders:
        st.info("No results yet: run an experiment first.")
    else:
        if ss.get("res_name") not in folders:
            ss["res_name"] = next(iter(folders))
        name = st.selectbox("Results of", list(folders), key="res_name")
        try:
            manifest, runs = load_runs(name)
        except ExperimentError as exc:
            st.error(f"Cannot read these results: {exc}", icon=":material/error:")
            st.stop()
        failed = int(runs["error"].notna().sum()) if "error" in runs else 0
        st.caption(f"{manifest.get('description') or ''}  \n{len(runs)} of {manifest.get('n_runs')} runs stored, "
                   f"{failed} failed; scenario {manifest.get('scenario')!r}; created {manifest.get('created')}")
        data = numeric_outcomes(runs[runs["error"].isna()] if "error" in runs else runs, manifest)
        factors = [f for f in manifest.get("factors", []) if f in data]
        outcomes = [c for c in data.columns if c not in factors + ["point", "replication"]]
        if not factors or not outcomes or data.empty:
            st.info("These results have no factors or no successful runs to plot.")
        else:
            default = outcomes.index("delivered") if "delivered" in outcomes else 0
            outcome = st.selectbox("Outcome", outcomes, index=default, key="res_outcome")
            left, right = st.columns(2)
            with left:
                fx = st.selectbox("Against factor", factors, key="res_factor")
                others = [f for f in factors if f != fx]
                colour = st.selectbox("One line per", [None] + others, key="res_colour",
                                      format_func=lambda f: "(all runs together)" if f is None else f)
                ui.chart(st, charts.outcome_vs_factor_chart(data, fx, outcome, colour))
            with right:
                if len(factors) >= 2:
                    hx = st.selectbox("Heatmap columns", factors, index=0, key="res_hx")
                    hy = st.selectbox("Heatmap rows", [f for f in factors if f != hx], index=0, key="res_hy")
                    ui.chart(st, charts.heatmap_chart(data, hx, hy, outcome))
                else:
                    st.info("A heatmap needs two factors; this experiment has one.")
        st.dataframe(runs.head(500), hide_index=True, width="stretch", height=260)
        d1, d2 = st.columns(2)
        d1.download_button("Download runs (Parquet)", data=lambda: parquet_bytes(runs), file_name=f"{name}.parquet",
                           mime="application/vnd.apache.parquet", key="dl_parquet", icon=":material/download:")
        d2.download_button("Download runs (CSV)", data=lambda: csv_bytes(runs), file_name=f"{name}.csv",
                           mime="text/csv", key="dl_csv", icon=":material/download:")
