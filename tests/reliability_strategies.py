"""Hypothesis strategies for pmsim: random *valid* scenarios built from :mod:`sim.params`.

Ranges come from the pydantic schema itself (each field's ``ge`` / ``le`` / ``gt``), so a
new parameter is covered as soon as it exists. A few fields get narrower ranges so one
example runs in well under a second (see :data:`SPEED_CAPS`); structural constraints the
schema checks in validators (unique names, one department with capacity, horizon >=
deadline, review lists of equal length, the network's attention shares) are built in.

Used by tests/test_invariants.py and tests/test_reliability_*.py.
"""

from __future__ import annotations

import math
import typing
from typing import Any

import annotated_types
from hypothesis import strategies as st
from pydantic import BaseModel

from sim import params as P
from sim.strategies import STRATEGIES
from sim.tactics import TACTICS

SPEED_CAPS: dict[str, tuple[float, float]] = {
    # field -> (low, high) used instead of the schema's range, to keep one run cheap
    "Department.members": (0, 50),
    "Department.capacity": (0, 50),
    "Feature.effort": (0.01, 2000),
    "PM.attention": (1, 12),
    "Negotiation.max_days": (1, 120),
    "Execution.abandon_days": (1, 120),
}
"""Narrower ranges than the schema allows (members 0-50 as in the reliability brief)."""

MAX_PLANS = 2500
"""Largest plan space (scopes x releases x quality bars x review depths) drawn."""

DEPT_NAMES = list(P.DEPARTMENTS) + ["ops", "marketing", "x", "Équipe ünïcode"]


def _bounds(field) -> tuple[Any, Any, bool]:
    lo = hi = None
    exclusive_lo = False
    for m in field.metadata:
        if isinstance(m, annotated_types.Ge):
            lo = m.ge
        elif isinstance(m, annotated_types.Gt):
            lo, exclusive_lo = m.gt, True
        elif isinstance(m, annotated_types.Le):
            hi = m.le
    return lo, hi, exclusive_lo


def _strip_optional(ann):
    if typing.get_origin(ann) in (typing.Union, __import__("types").UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        return (args[0] if len(args) == 1 else ann), True
    return ann, False


def field_strategy(model: type[BaseModel], name: str) -> st.SearchStrategy:
    """A strategy for one scalar field of ``model`` from its type and range."""
    field = model.model_fields[name]
    ann, optional = _strip_optional(field.annotation)
    lo, hi, excl = _bounds(field)
    cap = SPEED_CAPS.get(f"{model.__name__}.{name}")
    if cap is not None:
        lo, hi = max(cap[0], lo) if lo is not None else cap[0], min(cap[1], hi) if hi is not None else cap[1]
    if ann is bool:
        s = st.booleans()
    elif ann is int:
        s = st.integers(int(lo if lo is not None else -1000), int(hi if hi is not None else 1000))
    elif ann is float:
        s = st.floats(float(lo if lo is not None else -1e6), float(hi if hi is not None else 1e6),
                      exclude_min=excl, allow_nan=False, allow_infinity=False)
    elif typing.get_origin(ann) is typing.Literal:
        s = st.sampled_from(typing.get_args(ann))
    else:
        raise TypeError(f"no strategy for {model.__name__}.{name}: {field.annotation}")
    return st.one_of(st.none(), s) if optional else s


def group(model: type[BaseModel], skip: tuple[str, ...] = (), **given: st.SearchStrategy) -> st.SearchStrategy:
    """A dict for ``model`` with every scalar field drawn (``given`` overrides some)."""
    fields = {}
    for name in model.model_fields:
        if name in skip:
            continue
        fields[name] = given[name] if name in given else field_strategy(model, name)
    return st.fixed_dictionaries(fields)


@st.composite
def weights(draw) -> dict:
    w = draw(group(P.Weights))
    if sum(w.values()) <= 0:
        w[draw(st.sampled_from(P.ISSUES))] = draw(st.floats(0.01, 1))
    return w


@st.composite
def departments(draw) -> list[dict]:
    n = draw(st.integers(1, 5))
    names = draw(st.lists(st.sampled_from(DEPT_NAMES), min_size=n, max_size=n, unique=True))
    out = []
    for name in names:
        d = draw(group(P.Department, skip=("name", "weights")))
        d["name"] = name
        d["weights"] = draw(weights())
        out.append(d)
    if not any(d["capacity"] > 0 for d in out):
        out[draw(st.integers(0, n - 1))]["capacity"] = draw(st.floats(0.01, 50))
    return out


@st.composite
def project(draw) -> dict:
    n = draw(st.integers(1, 6))
    feats = []
    for i in range(n):
        f = draw(group(P.Feature, skip=("name",)))
        f["name"] = f"F{i + 1}" + draw(st.sampled_from(["", " core", " ✓ ünïcode"]))
        feats.append(f)
    deadline = draw(st.integers(5, 300))
    horizon = draw(st.integers(max(deadline, 10), max(deadline, 10) + 200))
    scopes = 2 ** n - 1
    budget = max(1, MAX_PLANS // scopes)
    n_q = draw(st.integers(1, max(1, min(6, budget))))
    n_r = draw(st.integers(1, max(1, min(5, budget // n_q))))
    room = budget // (n_q * n_r)
    # an empty list means six releases derived from the deadline: only when they fit
    n_rel = draw(st.integers(0 if room >= 6 else 1, max(1, min(12, room))))
    releases = draw(st.lists(st.integers(1, horizon), min_size=n_rel, max_size=n_rel))
    return {
        "features": feats,
        "deadline": deadline,
        "horizon": horizon,
        "release_options": releases,
        "quality_levels": draw(st.lists(st.floats(0, 2), min_size=n_q, max_size=n_q)),
        "review_days": draw(st.lists(st.integers(0, 30), min_size=n_r, max_size=n_r)),
        "review_coverage": draw(st.lists(st.floats(0, 1), min_size=n_r, max_size=n_r)),
        "sales_input_at": draw(field_strategy(P.Project, "sales_input_at")),
    }


@st.composite
def network(draw) -> dict:
    net = draw(group(P.Network))
    if net["lead_listens_to_members"] + net["listen_to_pm"] > 1:
        net["listen_to_pm"] = max(0.0, 1.0 - net["lead_listens_to_members"])
    return net


@st.composite
def tactics(draw) -> dict:
    names = draw(st.lists(st.sampled_from(sorted(TACTICS)), max_size=3, unique=True))
    return {n: {k: v for k, v in draw(group(P.Tactic)).items() if v is not None} for n in names}


@st.composite
def scenario_data(draw) -> dict:
    """A plain dict that :class:`sim.params.Scenario` accepts."""
    pm = draw(group(P.PM, strategy=st.sampled_from(sorted(STRATEGIES))))
    return {
        "name": "hypothesis",
        "pm": pm,
        "departments": draw(departments()),
        "project": draw(project()),
        "negotiation": draw(group(P.Negotiation)),
        "execution": draw(group(P.Execution)),
        "ownership": draw(group(P.Ownership)),
        "events": draw(group(P.Events)),
        "network": draw(network()),
        "tactics": draw(tactics()),
    }


def scenarios() -> st.SearchStrategy[P.Scenario]:
    """Random valid :class:`sim.params.Scenario` objects."""
    return scenario_data().map(P.Scenario.model_validate)


def plan_count(sc: P.Scenario) -> int:
    return (2 ** len(sc.project.features) - 1) * len(sc.project.releases()) * \
        len(sc.project.quality_levels) * len(sc.project.review_days)


def finite(x) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return True  # not a number: not this check's business
