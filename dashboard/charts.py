"""Chart builders: pure functions from run data to Altair charts (no Streamlit).

Each function takes plain data (DataFrames, arrays, the dataclasses of
:mod:`dashboard.runs`) and returns an ``alt.Chart``/``alt.LayerChart``, so tests can
build and inspect every chart without a browser.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from dashboard.runs import Episode, NetworkSnapshots

PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#eeca3b",
           "#9d755d", "#bab0ac", "#ff9da6"]
SUPPORT_SCHEME = "redyellowgreen"
HEIGHT = 240


def fit_width(builder):
    """Charts fill their container's width and keep their own plot height (Streamlit's
    default autosize "fit" would squeeze the plot to make room for titles and legends)."""
    import functools

    @functools.wraps(builder)
    def wrapped(*args, **kwargs):
        chart = builder(*args, **kwargs)
        chart.autosize = alt.AutoSizeParams(type="fit-x", contains="padding")  # in place: no copy
        return chart
    return wrapped


def department_scale(departments: list[str]) -> alt.Scale:
    """One colour per department, the same in every chart."""
    return alt.Scale(domain=list(departments), range=[PALETTE[i % len(PALETTE)] for i in range(len(departments))])


def _deadline_rule(deadline: int, label: str = "deadline") -> list[alt.Chart]:
    """A dashed red rule at the deadline and its label (two layers)."""
    df = pd.DataFrame({"day": [deadline], "label": [f"{label} (day {deadline})"]})
    rule = alt.Chart(df).mark_rule(color="#d62728", strokeDash=[6, 4], strokeWidth=2).encode(
        x=alt.X("day:Q"), tooltip=[alt.Tooltip("label:N")])
    text = alt.Chart(df).mark_text(align="right", dx=-4, color="#d62728", fontWeight="bold").encode(
        x=alt.X("day:Q"), y=alt.YValue(8), text=alt.Text("label:N"))  # left of the rule: clear of legends
    return [rule, text]


def negotiation_blocks(ts: pd.DataFrame) -> pd.DataFrame:
    """First and last day of every stretch of days spent negotiating (numpy, no groupby)."""
    neg = (ts["phase"].to_numpy(dtype=object) == "negotiating").astype(np.int8)
    days = ts["day"].to_numpy()
    edges = np.diff(np.concatenate([[0], neg, [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return pd.DataFrame({"min": days[starts], "max": days[ends], "label": "negotiating"})


def _phase_bands(ts: pd.DataFrame) -> alt.Chart:
    """Light bands over the days a plan was being negotiated."""
    return alt.Chart(negotiation_blocks(ts)).mark_rect(color="#999999", opacity=0.12).encode(
        x=alt.X("min:Q"), x2=alt.X2("max:Q"),
        tooltip=[alt.Tooltip("label:N", title="phase"), alt.Tooltip("min:Q", title="from day"),
                 alt.Tooltip("max:Q", title="to day")])


def _per_department(ts: pd.DataFrame, prefix: str, departments: list[str], value: str) -> pd.DataFrame:
    """Long table (day, department, value) of the ``<prefix><department>`` columns (numpy)."""
    present = [d for d in departments if f"{prefix}{d}" in ts]
    days = ts["day"].to_numpy()
    values = np.concatenate([ts[f"{prefix}{d}"].to_numpy(float) for d in present]) if present else np.array([])
    return pd.DataFrame({"day": np.tile(days, len(present)), "department": np.repeat(present, len(days)),
                         value: values})


@fit_width
def support_chart(ts: pd.DataFrame, departments: list[str], deadline: int) -> alt.LayerChart:
    """Each lead's support for the current plan over time (0 = against, 1 = for)."""
    long = _per_department(ts, "support_", departments, "support")
    lines = alt.Chart(long).mark_line(strokeWidth=2.5).encode(
        x=alt.X("day:Q", title="day"),
        y=alt.Y("support:Q", title="support for the plan", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("department:N", scale=department_scale(departments), title="stakeholder"),
        tooltip=[alt.Tooltip("day:Q"), alt.Tooltip("department:N"), alt.Tooltip("support:Q", format=".2f")])
    half = alt.Chart(pd.DataFrame({"y": [0.5]})).mark_rule(color="#888", strokeDash=[2, 2]).encode(y=alt.Y("y:Q"))
    return alt.layer(_phase_bands(ts), half, lines, *_deadline_rule(deadline),
                     title="Support for the plan, per stakeholder (grey: negotiating)", height=HEIGHT)


@fit_width
def trust_chart(ts: pd.DataFrame, departments: list[str]) -> alt.LayerChart:
    """Each lead's trust in the PM over time, and the mean trust between departments."""
    long = _per_department(ts, "trust_", departments, "trust")
    lines = alt.Chart(long).mark_line(strokeWidth=2.5).encode(
        x=alt.X("day:Q", title="day"),
        y=alt.Y("trust:Q", title="trust", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("department:N", scale=department_scale(departments), title="trust in the PM of"),
        tooltip=[alt.Tooltip("day:Q"), alt.Tooltip("department:N"), alt.Tooltip("trust:Q", format=".2f")])
    cross = pd.DataFrame({"day": ts["day"].to_numpy(), "trust": ts["cross_trust"].to_numpy(float),
                          "series": "between departments (mean)"})
    dashed = alt.Chart(cross).mark_line(color="#555", strokeDash=[5, 3]).encode(
        x=alt.X("day:Q"), y=alt.Y("trust:Q"), tooltip=[alt.Tooltip("day:Q"), alt.Tooltip("series:N"), alt.Tooltip("trust:Q", format=".2f")])
    return alt.layer(lines, dashed, title="Trust in the PM (dashed: trust between departments)", height=HEIGHT)


def best_case_burn(ts: pd.DataFrame) -> pd.Series:
    """Remaining effort if every available engineer-day had gone into the plan: restarts
    from the actual remaining effort whenever a plan is agreed or scope grows."""
    rem = ts["remaining_effort"].to_numpy(float)
    cap = ts["capacity_available"].to_numpy(float)
    out = np.full(len(ts), np.nan)
    start = None
    for i in range(len(ts)):
        if np.isnan(rem[i]):
            start = None
            continue
        if start is None or rem[i] > rem[i - 1] + 1e-9:
            start = i
            out[i] = rem[i]
        else:
            out[i] = max(rem[start] - (cap[i] - cap[start]), 0.0)
    return pd.Series(out, index=ts.index)


@fit_width
def burndown_chart(ts: pd.DataFrame, deadline: int) -> alt.LayerChart:
    """Remaining effort of the agreed plan against what capacity allowed, the planned
    release and the deadline."""
    days = ts["day"].to_numpy()
    effort = np.concatenate([ts["remaining_effort"].to_numpy(float), best_case_burn(ts).to_numpy(float)])
    long = pd.DataFrame({"day": np.tile(days, 2), "effort": effort,
                         "series": np.repeat(["remaining effort", "best case at full capacity"], len(days))})
    long = long[np.isfinite(effort)]
    scale = alt.Scale(domain=["remaining effort", "best case at full capacity"], range=["#1f77b4", "#9ecae1"])
    lines = alt.Chart(long).mark_line(strokeWidth=2.5).encode(
        x=alt.X("day:Q", title="day", scale=alt.Scale(domain=[0, max(int(ts["day"].max()), deadline) + 2])),
        y=alt.Y("effort:Q", title="engineer-days left"),
        color=alt.Color("series:N", scale=scale, title="effort left"),
        strokeDash=alt.StrokeDash("series:N", scale=alt.Scale(domain=scale.domain, range=[[1, 0], [5, 3]]),
                                  title="effort left"),
        tooltip=[alt.Tooltip("day:Q"), alt.Tooltip("series:N"), alt.Tooltip("effort:Q", format=".1f")])
    layers = [_phase_bands(ts), lines, *_deadline_rule(deadline)]
    release = ts["release_day"].dropna()
    if len(release):
        rel = int(release.iloc[-1])
        df_rel = pd.DataFrame({"day": [rel], "label": [f"planned release (day {rel})"]})
        layers.append(alt.Chart(df_rel).mark_rule(color="#2ca02c", strokeDash=[2, 2], strokeWidth=2).encode(
            x=alt.X("day:Q"), tooltip=[alt.Tooltip("label:N")]))
        layers.append(alt.Chart(df_rel).mark_text(align="right", dx=-4, color="#2ca02c").encode(
            x=alt.X("day:Q"), y=alt.YValue(24), text=alt.Text("label:N")))
    return alt.layer(*layers, title="Burn-down of the agreed plan", height=HEIGHT)


# ----------------------------------------------------------------------------- network
def network_frames(snap: NetworkSnapshots, day: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Node and edge tables of the drawn organisation on ``day``."""
    day = int(min(max(day, 0), len(snap.support) - 1))
    nodes = snap.nodes.copy()
    nodes["support"] = snap.support[day].astype(float)
    stance = snap.stance[day]
    nodes["stance"] = [stance.get(d, "") if r == "lead" else "" for d, r in zip(nodes["department"], nodes["role"])]
    nodes["size"] = nodes["role"].map({"PM": 700, "lead": 480, "member": 90})
    e = snap.edges
    edges = pd.DataFrame({"x": nodes["x"].to_numpy()[e["source"]], "y": nodes["y"].to_numpy()[e["source"]],
                          "x2": nodes["x"].to_numpy()[e["target"]], "y2": nodes["y"].to_numpy()[e["target"]],
                          "trust": snap.trust[day].astype(float), "kind": e["kind"].to_numpy(),
                          "between": [f"{nodes['label'].iloc[s]} - {nodes['label'].iloc[t]}"
                                      for s, t in zip(e["source"], e["target"])]})
    return nodes, edges


@fit_width
def network_chart(snap: NetworkSnapshots, day: int) -> alt.LayerChart:
    """The organisation on ``day``: nodes coloured by support, edges by trust."""
    nodes, edges = network_frames(snap, day)
    axis = alt.Axis(labels=False, ticks=False, grid=False, domain=False, title=None)
    x = alt.X("x:Q", axis=axis, scale=alt.Scale(domain=[-1.5, 1.5]))
    y = alt.Y("y:Q", axis=axis, scale=alt.Scale(domain=[-1.5, 1.5]))
    edge_layer = alt.Chart(edges).mark_rule(strokeWidth=1.6, opacity=0.8).encode(
        x=x, y=y, x2=alt.X2("x2:Q"), y2=alt.Y2("y2:Q"),
        color=alt.Color("trust:Q", scale=alt.Scale(scheme="greys", domain=[0, 1]),
                        legend=alt.Legend(title="trust on a tie", orient="right", gradientLength=120)),
        tooltip=[alt.Tooltip("between:N"), alt.Tooltip("trust:Q", format=".2f")])
    node_layer = alt.Chart(nodes).mark_circle(opacity=1, stroke="#333", strokeWidth=0.8).encode(
        x=x, y=y, size=alt.Size("size:Q", legend=None, scale=None),
        color=alt.Color("support:Q", scale=alt.Scale(scheme=SUPPORT_SCHEME, domain=[0, 1]),
                        legend=alt.Legend(title="support for the plan", orient="right", gradientLength=120)),
        tooltip=[alt.Tooltip("label:N"), alt.Tooltip("support:Q", format=".2f"), alt.Tooltip("stance:N")])
    named = nodes[nodes["role"] != "member"].copy()
    named["text"] = [lab if r == "PM" else (f"{d}" + (f" ({s})" if s else ""))
                     for lab, r, d, s in zip(named["label"], named["role"], named["department"], named["stance"])]
    labels = alt.Chart(named).mark_text(dy=-18, fontSize=13, fontWeight="bold").encode(x=x, y=y, text=alt.Text("text:N"))
    shown = len(nodes) - 1
    total = snap.total_nodes - 1
    sub = (f"all {total} people" if shown >= total else f"the {len(named) - 1} leads and a sample of "
           f"{shown - len(named) + 1} of {total - len(named) + 1} members")
    chart = alt.layer(edge_layer, node_layer, labels, height=340,
                      title=alt.TitleParams(f"Organisation on day {day}", subtitle=f"Drawn: {sub}"))
    chart.resolve = alt.Resolve(scale=alt.ScaleResolveMap(color="independent"))  # in place: no copy
    return chart


# --------------------------------------------------------------------- negotiation
def frontier_2d(points: np.ndarray) -> np.ndarray:
    """The upper-right staircase of 2-D points (sorted by x)."""
    if len(points) == 0:
        return points
    order = np.lexsort((-points[:, 1], -points[:, 0]))
    best_y = -np.inf
    keep = []
    for i in order:
        if points[i, 1] > best_y + 1e-12:
            keep.append(i)
            best_y = points[i, 1]
    out = points[keep]
    return out[np.argsort(out[:, 0])]


@fit_width
def utility_space_chart(offers: pd.DataFrame, episode: Episode, departments: list[str],
                        a: str, b: str, reservations: dict[str, float],
                        end_day: int | None = None) -> alt.LayerChart:
    """Offers of one negotiation in the utility space of stakeholders ``a`` (x) and ``b`` (y),
    over the plans (grey), the Pareto-optimal plans (blue) and the two-way frontier."""
    ia, ib = departments.index(a), departments.index(b)
    ax_x = alt.X("x:Q", title=f"utility to {a}", scale=alt.Scale(domain=[0, 1]))
    ax_y = alt.Y("y:Q", title=f"utility to {b}", scale=alt.Scale(domain=[0, 1]))
    layers = []
    if episode.cloud is not None:
        cloud = pd.DataFrame({"x": episode.cloud[:, ia], "y": episode.cloud[:, ib]})
        layers.append(alt.Chart(cloud).mark_circle(size=14, color="#c7c7c7", opacity=0.5).encode(x=ax_x, y=ax_y))
    if episode.frontier is not None and len(episode.frontier):
        par = pd.DataFrame({"x": episode.frontier[:, ia], "y": episode.frontier[:, ib]})
        par["kind"] = "Pareto-optimal plan"
        layers.append(alt.Chart(par).mark_circle(size=28, color="#6baed6", opacity=0.7).encode(
            x=ax_x, y=ax_y, tooltip=[alt.Tooltip("kind:N"), alt.Tooltip("x:Q", format=".2f"), alt.Tooltip("y:Q", format=".2f")]))
        stair = frontier_2d(episode.frontier[:, [ia, ib]])
        layers.append(alt.Chart(pd.DataFrame({"x": stair[:, 0], "y": stair[:, 1]})).mark_line(
            color="#08519c", strokeWidth=2, interpolate="step-before").encode(x=ax_x, y=ax_y))
    res = pd.DataFrame({"x": [reservations.get(a, np.nan)], "y": [reservations.get(b, np.nan)]})
    layers.append(alt.Chart(res).mark_rule(color="#d62728", strokeDash=[4, 3]).encode(x=alt.X("x:Q")))
    layers.append(alt.Chart(res).mark_rule(color="#d62728", strokeDash=[4, 3]).encode(y=alt.Y("y:Q")))
    sel = offers
    if len(offers):
        sel = offers[offers["day"] >= episode.start_day]
        if end_day is not None:
            sel = sel[sel["day"] < end_day]
    if len(sel):
        df = pd.DataFrame({"x": sel[f"u_{a}"].to_numpy(float), "y": sel[f"u_{b}"].to_numpy(float),
                           "day": sel["day"].to_numpy(), "by": sel["by"].to_numpy(),
                           "agreed": np.where(sel["agreed"].to_numpy(bool), "agreed", "rejected"),
                           "size": np.where(sel["agreed"].to_numpy(bool), 420, 110),
                           "order": np.arange(len(sel))})
        layers.append(alt.Chart(df).mark_line(color="#444", strokeWidth=1, opacity=0.6).encode(
            x=ax_x, y=ax_y, order=alt.Order("order:Q")))
        layers.append(alt.Chart(df).mark_point(filled=True, size=110, stroke="#222", strokeWidth=0.7).encode(
            x=ax_x, y=ax_y,
            color=alt.Color("day:Q", scale=alt.Scale(scheme="viridis"), title="offer day",
                            legend=alt.Legend(format="d", tickMinStep=1)),
            shape=alt.Shape("agreed:N", scale=alt.Scale(domain=["rejected", "agreed"], range=["circle", "diamond"]),
                            title="offer"),
            size=alt.Size("size:Q", scale=None, legend=None),
            tooltip=[alt.Tooltip("day:Q"), alt.Tooltip("by:N", title="offered by"), alt.Tooltip("agreed:N"),
                     alt.Tooltip("x:Q", title=f"utility to {a}", format=".2f"),
                     alt.Tooltip("y:Q", title=f"utility to {b}", format=".2f")]))
    when = f"day {episode.frontier_day}" if episode.frontier_day is not None else "no offers"
    return alt.layer(*layers, height=320, title=alt.TitleParams(
        "Negotiation in utility space",
        subtitle=f"grey: plans; blue: Pareto frontier ({when}); red dashes: reservations"))


@fit_width
def offers_timeline_chart(offers: pd.DataFrame, departments: list[str], reservations: dict[str, float]) -> alt.LayerChart:
    """Each stakeholder's utility of every offer by day, with its reservation level."""
    if offers.empty:
        df = pd.DataFrame({"day": [], "department": [], "utility": []})
    else:
        df = offers.reset_index().melt(["index", "day", "by", "agreed"], [f"u_{d}" for d in departments],
                                       var_name="department", value_name="utility")
        df["department"] = df["department"].str.removeprefix("u_")
    scale = department_scale(departments)
    pts = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("day:Q", title="day", axis=alt.Axis(format="d", tickMinStep=1)),
        y=alt.Y("utility:Q", title="utility of the offer", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("department:N", scale=scale, title="stakeholder"),
        tooltip=[alt.Tooltip("day:Q"), alt.Tooltip("department:N"), alt.Tooltip("utility:Q", format=".2f")] +
        ([alt.Tooltip("by:N"), alt.Tooltip("agreed:N")] if not offers.empty else []))
    res = pd.DataFrame({"department": list(reservations), "utility": list(reservations.values())})
    rules = alt.Chart(res).mark_rule(strokeDash=[4, 3]).encode(
        y=alt.Y("utility:Q"), color=alt.Color("department:N", scale=scale, legend=None),
        tooltip=[alt.Tooltip("department:N"), alt.Tooltip("utility:Q", title="reservation", format=".2f")])
    return alt.layer(rules, pts, title="Every offer's utility per stakeholder (dashes: reservation)", height=HEIGHT)


# ------------------------------------------------------------------------ compare
def _rows_height(n: int) -> int:
    return max(140, 34 * n + 40)


def _variant_axis(by: str, order: list[str]) -> alt.Y:
    return alt.Y(f"{by}:N", title=None, sort=order, axis=alt.Axis(labelLimit=320))


@fit_width
def distribution_chart(runs: pd.DataFrame, outcome: str, by: str = "variant") -> alt.LayerChart:
    """One dot per replication and a box per variant (variants on rows: long labels stay readable)."""
    df = runs[[by, outcome]].dropna()
    order = list(dict.fromkeys(runs[by]))
    y = _variant_axis(by, order)
    colour = alt.Color(f"{by}:N", legend=None, sort=order)
    box = alt.Chart(df).mark_boxplot(extent="min-max", opacity=0.35, size=20).encode(
        y=y, x=alt.X(f"{outcome}:Q", title=outcome.replace("_", " ")), color=colour)
    dots = alt.Chart(df).mark_circle(size=26, opacity=0.7).encode(
        y=y, x=alt.X(f"{outcome}:Q"), yOffset=alt.YOffset("jitter:Q"), color=colour,
        tooltip=[alt.Tooltip(f"{by}:N"), alt.Tooltip(f"{outcome}:Q", format=".2f")]
    ).transform_calculate(jitter="(random() - 0.5) * 16")
    return alt.layer(box, dots, title=f"Every run's {outcome.replace('_', ' ')}, per variant",
                                   height=_rows_height(len(order)))


@fit_width
def outcome_mix_chart(runs: pd.DataFrame, by: str = "variant") -> alt.Chart:
    """How the runs of each variant ended (delivered, abandoned, failed), as shares."""
    order = list(dict.fromkeys(runs[by]))
    df = runs.groupby([by, "outcome"], sort=False).size().rename("runs").reset_index()
    df["share"] = df["runs"] / df.groupby(by)["runs"].transform("sum")
    ends = ["delivered", "executing", "negotiating", "failed", "abandoned"]
    colours = ["#54a24b", "#9ecae1", "#bab0ac", "#f58518", "#e45756"]
    return alt.Chart(df).mark_bar().encode(
        y=_variant_axis(by, order),
        x=alt.X("share:Q", title="share of runs", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("outcome:N", scale=alt.Scale(domain=ends, range=colours), title="how runs ended"),
        order=alt.Order("outcome:N"),
        tooltip=[alt.Tooltip(f"{by}:N"), alt.Tooltip("outcome:N"), alt.Tooltip("runs:Q"),
                 alt.Tooltip("share:Q", format=".0%")]).properties(title="How the runs ended",
                                                                   height=_rows_height(len(order)))


@fit_width
def means_ci_chart(stats: pd.DataFrame, outcome: str, by: str = "variant") -> alt.LayerChart:
    """Means with 95% confidence intervals; ``stats`` has columns by, mean, lo, hi, n."""
    order = list(dict.fromkeys(stats[by]))
    y = _variant_axis(by, order)
    colour = alt.Color(f"{by}:N", legend=None, sort=order)
    bars = alt.Chart(stats).mark_errorbar(ticks=True, thickness=2).encode(
        y=y, x=alt.X("lo:Q", title=f"mean {outcome.replace('_', ' ')} (95% CI)"), x2=alt.X2("hi:Q"), color=colour)
    pts = alt.Chart(stats).mark_point(filled=True, size=90).encode(
        y=y, x=alt.X("mean:Q"), color=colour,
        tooltip=[alt.Tooltip(f"{by}:N"), alt.Tooltip("mean:Q", format=".3f"), alt.Tooltip("lo:Q", format=".3f"),
                 alt.Tooltip("hi:Q", format=".3f"), alt.Tooltip("n:Q", title="runs")])
    return alt.layer(bars, pts, title=f"Mean {outcome.replace('_', ' ')} with its 95% confidence interval",
                                   height=_rows_height(len(order)))


# --------------------------------------------------------------------- experiments
def _level_type(s: pd.Series) -> str:
    return "quantitative" if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) else "nominal"


@fit_width
def heatmap_chart(df: pd.DataFrame, x: str, y: str, outcome: str) -> alt.LayerChart:
    """Mean of ``outcome`` over two factors (factor names may hold dots: columns are renamed)."""
    agg = df.groupby([x, y], dropna=False)[outcome].mean().reset_index()
    agg.columns = ["fx", "fy", "value"]
    agg["label"] = agg["value"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    lo, hi = agg["value"].min(), agg["value"].max()
    rel = (agg["value"] - lo) / (hi - lo) if hi > lo else pd.Series(0.5, index=agg.index)
    agg["ink"] = np.where(rel > 0.55, "black", "white")  # readable on viridis' light and dark ends
    base = alt.Chart(agg).encode(x=alt.X("fx:O", title=x), y=alt.Y("fy:O", title=y, sort="descending"))
    rect = base.mark_rect().encode(
        color=alt.Color("value:Q", title=f"mean {outcome}", scale=alt.Scale(scheme="viridis")),
        tooltip=[alt.Tooltip("fx:O", title=x), alt.Tooltip("fy:O", title=y),
                 alt.Tooltip("value:Q", title=f"mean {outcome}", format=".3f")])
    text = base.mark_text(fontSize=11).encode(text=alt.Text("label:N"),
                                              color=alt.Color("ink:N", scale=None, legend=None))
    chart = alt.layer(rect, text, title=f"Mean {outcome} over {x} and {y}", height=280)
    # the cells' colour scale (quantitative) and the labels' ink (literal colours) must not merge
    chart.resolve = alt.Resolve(scale=alt.ScaleResolveMap(color="independent"))
    return chart


def factor_means(df: pd.DataFrame, keys: list[str], outcome: str, level: float = 0.95) -> pd.DataFrame:
    """Mean, Student-t confidence interval and count of ``outcome`` per combination of ``keys``."""
    from scipy import stats as st

    g = df.groupby(keys, dropna=False)[outcome]
    out = g.mean().rename("mean").to_frame()
    out["n"] = g.count()
    sd = g.std(ddof=1)
    tq = st.t.ppf(0.5 + level / 2, (out["n"] - 1).clip(lower=1))
    half = (tq * sd / np.sqrt(out["n"].clip(lower=1))).fillna(0.0)
    out["lo"], out["hi"] = out["mean"] - half, out["mean"] + half
    values = df[outcome].dropna()
    if len(values) and values.isin([0.0, 1.0]).all():  # a rate: its interval stays in [0, 1]
        out["lo"], out["hi"] = out["lo"].clip(0.0, 1.0), out["hi"].clip(0.0, 1.0)
    return out.reset_index()


@fit_width
def outcome_vs_factor_chart(df: pd.DataFrame, factor: str, outcome: str, color: str | None = None) -> alt.LayerChart:
    """Mean of ``outcome`` (with a 95% CI band) against one factor, one line per ``color``."""
    keys = [factor] + ([color] if color else [])
    stats = factor_means(df, keys, outcome)
    stats = stats.rename(columns={factor: "fx", **({color: "col"} if color else {})})
    xenc = alt.X("fx", type=_level_type(stats["fx"]), title=factor)
    enc = {"color": alt.Color("col:N", title=color)} if color else {}
    tips = [alt.Tooltip("fx", type=_level_type(stats["fx"]), title=factor)]
    if color:
        tips.append(alt.Tooltip("col:N", title=color))
    band = alt.Chart(stats).mark_area(opacity=0.2).encode(x=xenc, y=alt.Y("lo:Q"), y2=alt.Y2("hi:Q"), **enc)
    line = alt.Chart(stats).mark_line(point=True).encode(
        x=xenc, y=alt.Y("mean:Q", title=f"mean {outcome}"), **enc,
        tooltip=tips + [alt.Tooltip("mean:Q", format=".3f"), alt.Tooltip("n:Q", title="runs")])
    return alt.layer(band, line, title=f"{outcome} against {factor} (band: 95% CI)", height=HEIGHT)
