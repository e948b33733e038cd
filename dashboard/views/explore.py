"""Explore: run one scenario, change any parameter, see what happened and why."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dashboard import charts, ui
from dashboard.library import UPLOAD_PREFIX, default_name, library, parse_upload, scenario_toml, with_changes
from dashboard.runs import ExploreRun
from dashboard.schema import GROUPS, changed, encode_value, overrides_from_query, param_specs
from sim.scenarios import ScenarioError

ui.setup_page("Explore", sidebar_width=400)
ss = st.session_state
LIB = library()


# ------------------------------------------------------------------ state and the URL
def _from_link() -> dict:
    """First visit of the session: take scenario, seed and changed parameters from the URL."""
    qp = st.query_params.to_dict()
    ss["explore_ready"] = True
    name = qp.get("scenario", default_name())
    if name not in LIB:
        ss["link_problems"] = [f"the link names scenario {name!r}, which is not in the library "
                               f"(uploaded scenarios cannot be shared by link); showing {default_name()!r}"]
        name = default_name()
    ss["scenario_name"] = name
    try:
        ss["seed"] = max(0, int(qp.get("seed", 0)))
    except ValueError:
        ss["seed"] = 0
    return qp


def _on_scenario_change() -> None:
    ui.clear_params()
    ss.pop("link_problems", None)


def _on_upload() -> None:
    file = ss.get("upload")
    ss.pop("upload_error", None)
    if file is None:
        return
    try:
        scenario = parse_upload(file.getvalue(), file.name)
    except ScenarioError as exc:
        ss["upload_error"] = str(exc)
        return
    key = UPLOAD_PREFIX + scenario.name
    ss.setdefault("uploads", {})[key] = scenario
    ss["scenario_name"] = key
    ui.clear_params()


def _reset() -> None:
    ui.clear_params()


link = _from_link() if "explore_ready" not in ss else None
uploads: dict = ss.get("uploads", {})
options = list(LIB) + list(uploads)
if ss.get("scenario_name") not in options:
    ss["scenario_name"] = default_name()
name = ss["scenario_name"]
base = uploads[name] if name in uploads else ui.library_scenario(name)
specs = param_specs(base)
wanted = {}
if link is not None:
    wanted, problems = overrides_from_query(link, specs)
    ss.setdefault("link_problems", []).extend(problems)
ss.setdefault("link_problems", []).extend(ui.init_params(specs, wanted))

# ------------------------------------------------------------------------- sidebar
with st.sidebar:
    st.selectbox("Scenario", options, key="scenario_name", on_change=_on_scenario_change,
                 help="A scenario from the library (scenarios/*.toml) or one you uploaded. "
                      "Changing it resets the parameters below to the scenario's values.")
    st.caption(base.description)
    st.file_uploader("Or upload a scenario file (.toml)", type=["toml"], key="upload", on_change=_on_upload,
                     help="A TOML scenario file as written by `pmsim` or downloaded below. It is read as data only; "
                          "`extends` may name a library scenario.")
    if ss.get("upload_error"):
        st.error(f"Could not use the uploaded file: {ss['upload_error']}", icon=":material/error:")
    st.number_input("Seed", min_value=0, max_value=2**31 - 1, step=1, key="seed",
                    help="The run's random seed: the same scenario, parameters and seed give the same run.")
    st.markdown("**Parameters** - every change re-runs the simulation. Hover over :material/help: for "
                "what a parameter means.")
    group = st.segmented_control("Parameter group", GROUPS, key="param_group", required=True, default=GROUPS[0],
                                 label_visibility="collapsed")
    ui.param_panel(specs, group)
    st.button("Reset parameters to the scenario's values", on_click=_reset, key="reset")

# ------------------------------------------------------------------------- main area
st.title("Explore a scenario")
st.markdown(f"**{name}** - {base.description}")
st.caption("A PM without formal authority negotiates a plan with the department leads, then delivers it "
           "through them. Change any parameter in the sidebar: every change re-runs the simulation.")
for problem in ss.get("link_problems", []):
    st.warning(problem, icon=":material/link_off:")

values, problems = ui.read_params(specs)
overrides = changed(specs, values)
scenario = None
for problem in problems:
    st.error(f"Cannot read a parameter: {problem}. The other changes are kept; fix this one and run again.",
             icon=":material/error:")
if not problems:
    try:
        scenario = with_changes(base, overrides)
    except ScenarioError as exc:
        st.error(f"These settings cannot be combined: {exc}. Your changes are kept; adjust them and run again.",
                 icon=":material/error:")

if overrides:
    with st.expander(f"{len(overrides)} parameter(s) changed from the scenario - the page's link reproduces them"):
        st.dataframe(pd.DataFrame({"parameter": list(overrides),
                                   "value": [encode_value(v) for v in overrides.values()]}),
                     hide_index=True, width="stretch")

if scenario is not None and name not in uploads:
    st.query_params.from_dict({"scenario": name, **({"seed": str(ss["seed"])} if ss["seed"] else {}),
                               **{p: encode_value(v) for p, v in overrides.items()}})

run: ExploreRun | None = None
if scenario is not None:
    try:
        with st.spinner("Simulating..."):
            key = (base.model_dump_json(), json.dumps(overrides, sort_keys=True), int(ss["seed"]))
            run = ui.cached_explore(*key)
        ss["last_run_token"] = hash(key)
        ss["last_run"] = run
    except ScenarioError as exc:
        st.error(f"These settings cannot be combined: {exc}", icon=":material/error:")
    except Exception as exc:  # a model failure must not show a traceback in the page
        st.error(f"The simulation stopped with an error: {type(exc).__name__}: {exc}. "
                 f"Try other settings.", icon=":material/error:")
if run is None and "last_run" in ss:
    run = ss["last_run"]
    st.info("Showing the last run that worked.", icon=":material/history:")
if run is None:
    st.stop()

result = run.result
summary = result.summary

# --- outcome cards
ui.outcome_cards(summary)

# --- support, trust, burn-down
ts = result.timeseries
left, right = st.columns(2)
ui.chart(left, charts.support_chart(ts, run.departments, run.deadline))
ui.chart(right, charts.trust_chart(ts, run.departments))
left, right = st.columns(2)
ui.chart(left, charts.burndown_chart(ts, run.deadline))


@st.fragment
def network_view(run: ExploreRun) -> None:
    last = len(run.network.support) - 1
    if ss.get("net_run") != ss.get("last_run_token") or ss.get("net_day", 0) > last:
        ss["net_run"] = ss.get("last_run_token")
        ss["net_day"] = last
    st.slider("Replay the organisation: day", 0, last, key="net_day",
              help="Move to replay the run: node colours show each person's support for the plan on that day, "
                   "edge shades the trust on each tie (darker = more trust).")
    ui.chart(st, charts.network_chart(run.network, ss["net_day"]))


with right:
    network_view(run)

@st.fragment
def negotiation_view(run: ExploreRun) -> None:
    offers = run.result.offers
    deps = run.departments
    eps = [e for e in run.episodes if e.frontier is not None]
    if offers.empty or not eps:
        st.info("No offers were made in this run.")
        return
    c1, c2, c3 = st.columns(3)
    labels = [f"day {e.start_day}: {e.reason}" for e in eps]
    pick = c1.selectbox("Negotiation", range(len(eps)), format_func=lambda i: labels[i], key="neg_episode",
                        help="The first negotiation, and one more each time an agreed plan was reopened.")
    a = c2.selectbox("Horizontal axis: utility to", deps, index=0, key="neg_x")
    b = c3.selectbox("Vertical axis: utility to", deps, index=min(1, len(deps) - 1), key="neg_y")
    end = eps[pick + 1].start_day if pick + 1 < len(eps) else None
    left, right = st.columns(2)
    ui.chart(left, charts.utility_space_chart(offers, eps[pick], deps, a, b, run.reservations, end_day=end))
    ui.chart(right, charts.offers_timeline_chart(offers, deps, run.reservations))


@st.fragment
def story_view(run: ExploreRun) -> None:
    ev = run.result.events
    people = sorted(set(ev["actor"].dropna()) | set(ev["target"].dropna()))
    kinds = sorted(ev["kind"].unique())
    c1, c2 = st.columns(2)
    who = c1.multiselect("Stakeholders", people, key="story_who", placeholder="everyone", persist_state="session",
                         help="Keep events where one of these acted or was the target.")
    what = c2.multiselect("Event types", kinds, key="story_kinds", placeholder="all types", persist_state="session")
    sel = ev
    if who:
        sel = sel[sel["actor"].isin(who) | sel["target"].isin(who)]
    if what:
        sel = sel[sel["kind"].isin(what)]
    st.caption(f"{len(sel)} of {len(ev)} events")
    st.dataframe(sel[["day", "text", "kind", "actor", "target"]].rename(columns={"text": "what happened"}),
                 hide_index=True, width="stretch",
                 height=320, column_config={"day": st.column_config.NumberColumn(width="small"),
                                            "what happened": st.column_config.TextColumn(width="large")})


def debrief_view(deb: dict) -> None:
    st.markdown("**Why each stakeholder committed or resisted**")
    cols = st.columns(max(1, min(4, len(deb["stakeholders"]))))
    for i, s in enumerate(deb["stakeholders"]):
        with cols[i % len(cols)].container(border=True):
            st.markdown(f"**{s['department']}** ended **{s['stance']}**")
            st.caption(f"trust in the PM {s['trust_start']:.2f} -> {s['trust_end']:.2f} - "
                       f"{s['commitments']} commitment, {s['compliances']} compliance, "
                       f"{s['resistances']} resistance")
            st.markdown("\n".join(f"- {w}" for w in s["why"]) or "- nothing notable")
    st.markdown("**Moves that mattered**")
    st.markdown("\n".join(f"- {m}" for m in deb["moves_that_mattered"]) or "- none")


# --- the deeper views: only the open tab is computed and drawn (keeps every re-run fast)
st.subheader("In detail: the story, the negotiation, the debrief")
story_tab, negotiation_tab, debrief_tab = st.tabs(["The story", "The negotiation", "Debrief"], key="explore_more",
                                                  on_change="rerun")
if story_tab.open:
    with story_tab:
        story_view(run)
if negotiation_tab.open:
    with negotiation_tab:
        negotiation_view(run)
if debrief_tab.open:
    with debrief_tab:
        debrief_view(result.debrief)

st.download_button("Download this scenario (TOML)", data=lambda: scenario_toml(scenario or base),
                   file_name=f"{(scenario or base).name}.toml", mime="application/toml", key="download_scenario",
                   icon=":material/download:")
