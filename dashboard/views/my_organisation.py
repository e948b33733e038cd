"""My organisation: a stakeholder map edited as a table becomes a scenario to run and download."""

from __future__ import annotations

import json

import streamlit as st

from dashboard import charts, ui
from dashboard.library import UPLOAD_PREFIX
from dashboard.organisation import departments_table, empty_map, example_map, frame_from_csv, map_to_scenario
from sim.scenarios import ScenarioError

ui.setup_page("My organisation")
ss = st.session_state


def _set_table(df) -> None:
    ss["org_map"] = df
    ss["org_version"] = ss.get("org_version", 0) + 1  # a fresh editor for a new table


def _load_example() -> None:
    _set_table(example_map())
    ss.pop("org_upload_error", None)


def _clear() -> None:
    _set_table(empty_map())


def _on_upload() -> None:
    file = ss.get("org_upload")
    ss.pop("org_upload_error", None)
    if file is None:
        return
    try:
        _set_table(frame_from_csv(file.getvalue()))
    except ScenarioError as exc:
        ss["org_upload_error"] = f"{file.name}: {exc}"


if "org_map" not in ss:
    _load_example()

st.title("My organisation")
st.markdown("Describe the people around your project: one row per person with their **department**, "
            "**power** over the outcome and **interest** in it (0 to 1), **attitude** to your plan and whom "
            "they **listen to** (names separated by `;`). The most powerful person of each department is "
            "its lead; an `engineering` department is required (it builds the product).")

c1, c2, c3 = st.columns([2, 1, 1])
c1.file_uploader("Load a map (CSV with the columns below)", type=["csv"], key="org_upload", on_change=_on_upload,
                 help="The same format as `pmsim from-map`; read as data only.")
c2.button("Load the example map", on_click=_load_example, key="org_example", icon=":material/refresh:")
c3.button("Start from an empty table", on_click=_clear, key="org_clear", icon=":material/delete_sweep:")
if ss.get("org_upload_error"):
    st.error(f"Could not load the map: {ss['org_upload_error']}", icon=":material/error:")

cfg = st.column_config
table = st.data_editor(
    ss["org_map"], key=f"org_editor_{ss['org_version']}", num_rows="dynamic", hide_index=True, width="stretch",
    column_config={
        "name": cfg.TextColumn("name", help="A person's name (unique).", required=True),
        "department": cfg.TextColumn("department", help="engineering, sales, legal, design, finance, support, "
                                                        "executive or any other name.", required=True),
        "power": cfg.NumberColumn("power", min_value=0.0, max_value=1.0, step=0.05, format="%.2f",
                                  help="Influence over the outcome, 0 to 1.", required=True),
        "interest": cfg.NumberColumn("interest", min_value=0.0, max_value=1.0, step=0.05, format="%.2f",
                                     help="How much they care right now, 0 to 1.", required=True),
        "attitude": cfg.SelectboxColumn("attitude", options=["supportive", "neutral", "resistant"],
                                        help="Their attitude to your plan.", required=True),
        "listens_to": cfg.TextColumn("listens_to", help="Names of the people whose views they listen to, "
                                                        "separated by ;", width="large"),
    })
st.text_input("Scenario name", value="my_organisation", key="org_name",
              help="Used for the downloaded file and in the Explore page.")

try:
    scenario, toml_text = map_to_scenario(table, ss["org_name"])
except ScenarioError as exc:
    st.error(f"The table cannot become a scenario yet: {exc}. Your edits are kept; fix the cell and go on.",
             icon=":material/error:")
    st.stop()

st.subheader("The scenario")
st.caption(scenario.description)
st.dataframe(departments_table(scenario), hide_index=True, width="stretch")
b1, b2, b3, b4 = st.columns(4, vertical_alignment="bottom")
seed = b1.number_input("Seed", 0, 2**31 - 1, 0, key="org_seed", help="The run's random seed.")
run = b2.button("Run this organisation", type="primary", key="org_run", icon=":material/play_arrow:")
if b3.button("Open in Explore", key="org_explore", icon=":material/open_in_new:",
             help="Explore every parameter of this scenario (PM, strategy, events...)."):
    key = UPLOAD_PREFIX + scenario.name
    ss.setdefault("uploads", {})[key] = scenario
    ss["scenario_name"] = key
    ui.clear_params()
    st.switch_page("views/explore.py")
b4.download_button("Download scenario (TOML)", data=toml_text, file_name=f"{scenario.name}.toml",
                   mime="application/toml", key="org_download", icon=":material/download:")

request = (scenario.model_dump_json(), int(seed))
if run:
    with st.spinner("Simulating..."):
        ss["org_result"] = (request, ui.cached_explore(scenario.model_dump_json(), json.dumps({}), int(seed)))
result = ui.stored_result("org_result", request,
                          "Press **Run this organisation** to simulate it with the default PM.",
                          ":material/play_arrow:",
                          "The table changed since this run; press **Run this organisation** to update it.")
ui.outcome_cards(result.result.summary)
left, right = st.columns(2)
ui.chart(left, charts.support_chart(result.result.timeseries, result.departments, result.deadline))
ui.chart(right, charts.network_chart(result.network, result.days))
