"""Streamlit pieces shared by the pages: page set-up, cached runs, schema-driven controls."""

from __future__ import annotations

import json
from typing import Any

import altair as alt
import streamlit as st

from dashboard.library import load_library
from dashboard.runs import ExploreRun, explore_run, headline
from dashboard.schema import NONE_OPTION, SUB, ParamSpec, format_list, parse_list
from sim.params import Scenario

alt.data_transformers.disable_max_rows()  # a long horizon x many departments is still small data


def chart(where, fig: alt.TopLevelMixin) -> None:
    """Draw an Altair chart from :mod:`dashboard.charts` across ``where``'s width.

    The spec is built without JSON-schema validation (the tests validate every chart
    builder), which takes a tenth of a second off every re-render of the Explore page.
    """
    where.vega_lite_chart(fig.to_dict(validate=False), width="stretch")


def setup_page(title: str, sidebar_width: int | None = None) -> None:
    st.set_page_config(page_title=f"pmsim - {title}", page_icon=":material/groups:", layout="wide",
                       initial_sidebar_state=sidebar_width or "auto")


# ------------------------------------------------------------------------- cached work
@st.cache_data(max_entries=64, show_spinner=False)
def library_scenario(name: str) -> Scenario:
    return load_library(name)


@st.cache_data(max_entries=32, show_spinner=False)
def cached_explore(base_json: str, overrides_json: str, seed: int) -> ExploreRun:
    """One Explore run, cached by (scenario, changed parameters, seed)."""
    from dashboard.library import with_changes

    base = Scenario.model_validate_json(base_json)
    scenario = with_changes(base, json.loads(overrides_json))
    return explore_run(scenario, seed=seed)


# ---------------------------------------------------------------- schema-driven widgets
def to_widget(spec: ParamSpec, value: Any) -> tuple[bool, Any]:
    """The widget's representation of ``value`` and whether the widget can show it."""
    k = spec.kind
    try:
        if k in ("list_int", "list_float"):
            if isinstance(value, str):
                parse_list(value, k)
                return True, value
            return isinstance(value, list), format_list(list(value))
        if k == "select":
            if value is None or value == NONE_OPTION:
                return None in spec.options, NONE_OPTION
            return value in spec.options, value
        if k == "bool":
            return isinstance(value, bool), value
        if k in ("optional_float", "optional_int") and value is None:
            return True, None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False, value
        v = int(value) if k in ("int", "number_int", "optional_int") else float(value)
        if k in ("int", "number_int", "optional_int") and v != value:
            return False, value
        lo = spec.minimum if spec.minimum is not None else -float("inf")
        hi = spec.maximum if spec.maximum is not None else float("inf")
        return lo <= v <= hi, v
    except (TypeError, ValueError):
        return False, value


def init_params(specs: list[ParamSpec], wanted: dict[str, Any] | None = None) -> list[str]:
    """Give every control its starting value (the scenario's, or ``wanted`` from a link);
    returns problems with wanted values that cannot be shown."""
    problems = []
    wanted = wanted or {}
    for s in specs:
        if s.key in st.session_state:
            continue
        value = s.value
        if s.path in wanted:
            ok, v = to_widget(s, wanted[s.path])
            if ok:
                value = v
            else:
                problems.append(f"{s.path} = {wanted[s.path]!r} is outside what the control allows (ignored)")
        st.session_state[s.key] = to_widget(s, value)[1]
    return problems


def clear_params() -> None:
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith("p:")]:
        del st.session_state[key]


def read_params(specs: list[ParamSpec]) -> tuple[dict[str, Any], list[str]]:
    """Current control values by path (lists parsed) and the problems parsing them."""
    values, problems = {}, []
    for s in specs:
        raw = st.session_state.get(s.key, s.value)
        if s.kind in ("list_int", "list_float"):
            try:
                values[s.path] = parse_list(raw, s.kind)
            except ValueError as exc:
                problems.append(f"{s.label} ({s.path}): {exc}")
        elif s.kind == "select" and raw == NONE_OPTION:
            values[s.path] = None
        else:
            values[s.path] = raw
    return values, problems


def _fmt(step: float | None) -> str:
    """A float widget's display format with as many decimals as its step needs."""
    if not step or step >= 1:
        return "%.1f"
    decimals = max(0, len(f"{step:.10f}".rstrip("0").split(".")[1]))
    return f"%.{decimals}f"


def control(spec: ParamSpec) -> None:
    """One widget for one parameter (its value lives in session state under ``spec.key``)."""
    # persist_state: the value outlives the widget while another group of parameters is shown
    k, common = spec.kind, dict(key=spec.key, help=spec.help, persist_state="session")
    if k == "float":
        st.slider(spec.label, min_value=spec.minimum, max_value=spec.maximum, step=spec.step,
                  format=_fmt(spec.step), **common)
    elif k == "int":
        st.slider(spec.label, min_value=int(spec.minimum), max_value=int(spec.maximum), step=1, **common)
    elif k == "number_float":
        st.number_input(spec.label, min_value=spec.minimum, max_value=spec.maximum, step=spec.step,
                        format=_fmt(spec.step), **common)
    elif k == "number_int":
        st.number_input(spec.label, min_value=None if spec.minimum is None else int(spec.minimum),
                        max_value=None if spec.maximum is None else int(spec.maximum), step=1, **common)
    elif k == "optional_float":
        st.number_input(spec.label, value=None, min_value=float(spec.minimum), max_value=float(spec.maximum),
                        step=0.01, format="%.2f", placeholder=spec.placeholder, **common)
    elif k == "optional_int":
        st.number_input(spec.label, value=None, min_value=int(spec.minimum), max_value=int(spec.maximum),
                        step=1, placeholder=spec.placeholder, **common)
    elif k == "select":
        labels = spec.option_labels
        options = [NONE_OPTION if o is None else o for o in spec.options]
        st.selectbox(spec.label, options=options, format_func=lambda o: labels.get(o, str(o)), **common)
    elif k == "bool":
        st.checkbox(spec.label, **common)
    elif k in ("list_int", "list_float"):
        st.text_input(spec.label, **common)


def sections(specs: list[ParamSpec]) -> dict[str, list[ParamSpec]]:
    """Specs by section title, in schema order."""
    out: dict[str, list[ParamSpec]] = {}
    for s in specs:
        out.setdefault(s.section, []).append(s)
    return out


def param_panel(specs: list[ParamSpec], group: str) -> None:
    """The controls of one group: one expander per section (sub-sections as captions).

    Only the chosen group is drawn (a few dozen widgets instead of every parameter), which
    keeps each rerun fast; the other groups' values persist in session state.
    """
    mine = [s for s in specs if s.group == group]
    by_top: dict[str, dict[str, list[ParamSpec]]] = {}
    for title, items in sections(mine).items():
        top, _, sub = title.partition(SUB)
        by_top.setdefault(top, {})[sub] = items
    for i, (top, subs) in enumerate(by_top.items()):
        with st.expander(top, expanded=(i == 0)):
            for sub in sorted(subs, key=bool):  # the section's own fields first
                if sub:
                    note = subs[sub][0].note
                    st.markdown(f"**{sub.capitalize()}**" + (f"  \n{note}" if note else ""))
                for spec in subs[sub]:
                    control(spec)


def outcome_cards(summary: dict) -> None:
    """The headline outcome cards of one run, in a row."""
    cards = headline(summary)
    for col, (label, (value, delta, help_text)) in zip(st.columns(len(cards)), cards.items()):
        colour = "normal"
        if label == "Delivered?":
            colour = "green" if summary["on_time"] else ("orange" if summary["delivered"] else "red")
        col.metric(label, value, delta, help=help_text, border=True, delta_color=colour,
                   delta_arrow="off" if label in ("Delivered?", "Value delivered") else "auto")
    st.caption(f"**How it ended:** {summary['end_reason']}")


def stored_result(key: str, request, empty_hint: str, empty_icon: str, stale_hint: str):
    """The result a page keeps in session state under ``key`` as ``(request, result)``.

    With nothing stored the page shows ``empty_hint`` and stops; a result made for other
    settings than ``request`` is still returned, under a ``stale_hint`` warning."""
    stored = st.session_state.get(key)
    if stored is None:
        st.info(empty_hint, icon=empty_icon)
        st.stop()
    made_for, result = stored
    if made_for != request:
        st.warning(stale_hint, icon=":material/update:")
    return result
