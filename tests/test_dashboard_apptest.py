"""Every dashboard page run headless with streamlit.testing.v1.AppTest: change controls,
run, and check the rendered elements and values."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import sim
from dashboard.library import load_library
from dashboard.runs import headline

PAGES = Path(__file__).resolve().parents[1] / "dashboard" / "views"
TIMEOUT = 90


def page(name: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(PAGES / name), default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected_cards(overrides: dict, seed: int = 0, scenario: str = "baseline") -> dict[str, str]:
    result = sim.run(load_library(scenario), seed=seed, overrides=overrides)
    return {label: value for label, (value, _, _) in headline(result.summary).items()}


def no_trouble(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


# ---------------------------------------------------------------------------- Explore
def test_explore_first_view_shows_the_baseline_run():
    at = page("explore.py")
    no_trouble(at)
    assert not at.error
    assert at.selectbox(key="scenario_name").value == "baseline"
    assert metrics(at) == expected_cards({})
    assert at.slider(key="net_day").value == at.slider(key="net_day").max  # the network opens on the last day
    assert at.dataframe  # the story table: the first of the lazy tabs
    assert not any("Moves that mattered" in m.value for m in at.markdown)  # closed tabs are not computed
    at.session_state["explore_more"] = "Debrief"  # AppTest has no tab clicks: set the tabs' state
    at.run()
    no_trouble(at)
    assert any("Moves that mattered" in m.value for m in at.markdown)
    at.session_state["explore_more"] = "The negotiation"
    at.run()
    no_trouble(at)
    assert at.selectbox(key="neg_x").value == "engineering" and at.selectbox(key="neg_y").value == "sales"
    at.selectbox(key="neg_y").set_value("legal").run()
    no_trouble(at)


def test_explore_change_ownership_and_strategy_reruns_and_updates_the_link():
    at = page("explore.py")
    at.slider(key="p:pm.ownership").set_value(0.9).run()  # every change re-runs
    assert metrics(at) == expected_cards({"pm.ownership": 0.9})
    at.button_group(key="param_group").set_value("Strategy").run()
    at.selectbox(key="p:pm.strategy").set_value("consultative").run()
    no_trouble(at)
    changes = {"pm.ownership": 0.9, "pm.strategy": "consultative"}
    assert metrics(at) == expected_cards(changes)
    assert at.query_params["pm.ownership"] == "0.9"
    assert at.query_params["pm.strategy"] == "consultative"
    assert any("2 parameter(s) changed" in e.label for e in at.expander)


def test_explore_link_reproduces_the_view():
    at = page("explore.py", {"scenario": "deadline_crunch", "seed": "4", "pm.ownership": "0.2",
                             "departments.legal.responsiveness": "0.3"})
    no_trouble(at)
    assert at.selectbox(key="scenario_name").value == "deadline_crunch"
    assert at.slider(key="p:pm.ownership").value == pytest.approx(0.2)
    assert at.session_state["p:departments.legal.responsiveness"] == pytest.approx(0.3)
    at.button_group(key="param_group").set_value("Organisation").run()
    assert at.slider(key="p:departments.legal.responsiveness").value == pytest.approx(0.3)
    assert metrics(at) == expected_cards({"pm.ownership": 0.2, "departments.legal.responsiveness": 0.3},
                                         seed=4, scenario="deadline_crunch")


def test_explore_bad_link_values_are_reported_not_fatal():
    at = page("explore.py", {"scenario": "no_such_scenario", "pm.ownership": "7", "pm.wrong": "1"})
    no_trouble(at)
    text = " ".join(w.value for w in at.warning)
    assert "no_such_scenario" in text and "pm.wrong" in text and "pm.ownership" in text
    assert metrics(at) == expected_cards({})


def test_explore_impossible_combination_shows_an_error_and_keeps_edits():
    at = page("explore.py")
    at.slider(key="p:pm.ownership").set_value(0.8).run()
    ok = metrics(at)
    at.button_group(key="param_group").set_value("Project").run()
    at.number_input(key="p:project.horizon").set_value(30).run()
    no_trouble(at)
    assert any("horizon (30) must be at least the deadline (60)" in e.value for e in at.error)
    assert at.session_state["p:pm.ownership"] == pytest.approx(0.8)
    assert at.number_input(key="p:project.horizon").value == 30
    assert metrics(at) == ok  # the last run that worked stays on screen
    # a list that cannot be read
    at.number_input(key="p:project.horizon").set_value(120).run()
    at.text_input(key="p:project.review_days").set_value("2, x, 10").run()
    no_trouble(at)
    assert any("'x' is not an integer" in e.value for e in at.error)


def test_explore_switching_scenario_resets_parameters_and_story_filters_work():
    at = page("explore.py")
    at.slider(key="p:pm.ownership").set_value(1.0).run()
    at.selectbox(key="scenario_name").set_value("blame_culture").run()
    no_trouble(at)
    expected = load_library("blame_culture").pm.ownership
    assert at.slider(key="p:pm.ownership").value == pytest.approx(expected)
    assert metrics(at) == expected_cards({}, scenario="blame_culture")
    at.multiselect(key="story_who").set_value(["legal"]).run()
    table = at.dataframe[-1].value
    assert len(table) and all("legal" in (str(a), str(t)) for a, t in zip(table["actor"], table["target"]))
    at.multiselect(key="story_kinds").set_value(["blame"]).run()
    assert set(at.dataframe[-1].value["kind"]) <= {"blame"}
    at.slider(key="net_day").set_value(3).run()
    no_trouble(at)
    assert at.slider(key="net_day").value == 3


# ------------------------------------------------------------------------ Experiments
TINY_EXPERIMENT = '''name = "dash_tiny"
scenario = "baseline"
replications = 2
seed = 3
outcomes = ["delivered", "slip_days", "trust_change", "outcome"]
[factors]
"pm.ownership" = [0.2, 0.8]
"pm.strategy" = ["balanced", "pressure"]
'''


@pytest.fixture
def results_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PMSIM_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path / "results"


def test_experiments_run_browse_and_refuse_bad_files(results_dir):
    from sim.batch import read_runs

    at = page("experiments.py")
    no_trouble(at)
    assert at.selectbox(key="exp_file").value  # the project's experiment files are offered
    assert "[factors]" in at.text_area(key="exp_text").value
    at.text_area(key="exp_text").set_value(TINY_EXPERIMENT)
    at.button(key="exp_run").click().run()
    no_trouble(at)
    assert not at.error
    assert any("8 runs" in i.value for i in at.info)
    assert any("8 of 8 runs stored" in s.value for s in at.success)
    stored = read_runs(results_dir / "dash_tiny")
    assert len(stored) == 8 and stored["error"].isna().all()
    # the results are browsable at once
    assert at.selectbox(key="res_name").value == "dash_tiny"
    assert at.selectbox(key="res_outcome").value == "delivered"
    assert len(at.dataframe[-1].value) == 8
    at.selectbox(key="res_outcome").set_value("trust_change").run()
    at.selectbox(key="res_colour").set_value("pm.strategy").run()
    no_trouble(at)
    # running again resumes: nothing left to do
    at.button(key="exp_run").click().run()
    assert any("0 run now, 8 already there" in s.value for s in at.success)
    # bad input: a message, never a traceback, and the text is kept
    for bad, message in [(TINY_EXPERIMENT.replace('"dash_tiny"', '".."'), "cannot name a results folder"),
                         (TINY_EXPERIMENT.replace('"baseline"', '"../../../etc/x.toml"'), "outside the project"),
                         (TINY_EXPERIMENT.replace("replications = 2", "replications = 0"), "replications"),
                         (TINY_EXPERIMENT.replace('"pm.ownership"', '"pm.ownrship"'), "ownrship"),
                         ("name = [", "not valid TOML")]:
        at.text_area(key="exp_text").set_value(bad)
        at.button(key="exp_check").click().run()
        no_trouble(at)
        assert any(message in e.value for e in at.error), (message, [e.value for e in at.error])
        assert at.text_area(key="exp_text").value == bad


# ---------------------------------------------------------------------------- Compare
def test_compare_runs_variants_with_progress_and_confidence_intervals():
    from sim.compare import compare, make_variants

    at = page("compare.py")
    no_trouble(at)
    assert any("Run comparison" in i.value for i in at.info)
    at.multiselect(key="cmp_strategies").set_value(["consultative", "pressure"])
    at.multiselect(key="cmp_ownership").set_value([1.0])
    at.slider(key="cmp_reps").set_value(3).run()
    assert any("2 variant(s) x 3 replications = **6 runs**" in i.value for i in at.info)
    at.button(key="cmp_run").click().run()
    no_trouble(at)
    assert not at.error
    table = at.dataframe[0].value
    expected = compare(load_library("baseline"),
                       make_variants(strategies=["consultative", "pressure"], ownership=[1.0]), reps=3, seed=0)
    cell = expected.cell("strategy=pressure, ownership=1", "trust_change")
    assert table.loc["trust_change", "strategy=pressure, ownership=1"].startswith(f"{cell['mean']:.2f} [")
    assert list(table.index)[:2] == ["delivered", "on_time"]
    at.selectbox(key="cmp_metric").set_value("delivered_value").run()
    no_trouble(at)
    # changing the settings marks the shown comparison as stale instead of hiding it
    at.slider(key="cmp_reps").set_value(4).run()
    assert any("settings changed" in w.value for w in at.warning)


def test_compare_refuses_too_many_runs():
    at = page("compare.py")
    at.multiselect(key="cmp_strategies").set_value(list(sim.strategies.STRATEGIES))
    at.multiselect(key="cmp_ownership").set_value([0.0, 0.25, 0.5, 0.75, 1.0])
    at.multiselect(key="cmp_archetypes").set_value(["technical", "business", "generalist"])
    at.slider(key="cmp_reps").set_value(200).run()
    no_trouble(at)
    assert at.button(key="cmp_run").disabled
    assert any("more than this page runs at once" in e.value for e in at.error)


# -------------------------------------------------------------------- My organisation
def test_my_organisation_table_becomes_a_scenario_and_runs():
    from dashboard.organisation import example_map, map_to_scenario

    at = page("my_organisation.py")
    no_trouble(at)
    assert not at.error
    assert "engineering led by Priya Raman" in at.caption[0].value
    assert len(at.data_editor) == 1 and len(at.data_editor[0].value) == len(example_map())
    at.button(key="org_run").click().run()
    no_trouble(at)
    scenario, _ = map_to_scenario(example_map())
    assert metrics(at) == expected_cards_for(scenario)
    # AppTest cannot type into st.data_editor: replace the table it edits (the browser test types)
    table = example_map()
    table.loc[table["name"] == "Tom Becker", "power"] = 0.95
    at.session_state["org_map"] = table
    at.session_state["org_version"] += 1
    at.run()
    no_trouble(at)
    assert "engineering led by Tom Becker" in at.caption[0].value
    assert any("table changed since this run" in w.value for w in at.warning)
    # a broken cell: a message that names the row and column; the rest of the table is kept
    table.loc[2, "listens_to"] = "Nobody Known"
    at.session_state["org_map"] = table
    at.session_state["org_version"] += 1
    at.run()
    no_trouble(at)
    assert any("table row 3, column 'listens_to': 'Nobody Known' is not a name" in e.value for e in at.error)
    assert at.data_editor[0].value.loc[0, "name"] == "Priya Raman"


def expected_cards_for(scenario, seed: int = 0) -> dict[str, str]:
    result = sim.run(scenario, seed=seed)
    return {label: value for label, (value, _, _) in headline(result.summary).items()}


def test_explore_optional_choice_none_is_shown_and_round_trips():
    at = page("explore.py")
    at.button_group(key="param_group").set_value("Strategy").run()
    concession = at.selectbox(key="p:pm.concession")
    assert concession.value == "(the strategy's own)"  # None, shown as a choice, not as "no selection"
    concession.set_value("boulware").run()
    no_trouble(at)
    assert at.query_params["pm.concession"] == "boulware"
    assert metrics(at) == expected_cards({"pm.concession": "boulware"})
    at.selectbox(key="p:pm.concession").set_value("(the strategy's own)").run()
    assert "pm.concession" not in at.query_params
    assert metrics(at) == expected_cards({})


def test_explore_every_library_scenario_renders():
    from dashboard.library import library

    at = page("explore.py")
    for name in library():
        at.selectbox(key="scenario_name").set_value(name).run()
        no_trouble(at)
        assert not at.error, (name, [e.value for e in at.error])
        assert len(at.metric) == 5, name
