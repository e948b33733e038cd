"""Control specifications generated from the parameter schema (no Streamlit here).

Every field of :class:`sim.params.Scenario` becomes one :class:`ParamSpec`: its dotted
override path (the same paths :meth:`Scenario.with_overrides` and the URL use), a
label, help text from the field's description and source, bounds from its
constraints, and the widget kind that fits its type. Nothing is hand-written per
parameter; only the grouping (which tab a section goes to) is declared here.
"""

from __future__ import annotations

import json
import math
import typing
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel

from sim.archetypes import ARCHETYPES
from sim.params import ASSUMED, Scenario, Tactic
from sim.strategies import STRATEGIES
from sim.tactics import OUTCOMES, TACTICS

GROUPS: tuple[str, ...] = ("PM", "Strategy", "Organisation", "Project", "Events")
"""The tabs of the Explore page's parameter panel, in order."""

SECTION_OF: dict[str, tuple[str, str]] = {
    # top-level scenario field -> (group, section title)
    "pm": ("PM", "The product manager"),
    "ownership": ("PM", "Ownership behaviours"),
    "negotiation": ("Strategy", "Negotiation protocol"),
    "tactics": ("Strategy", "Tactic outcome tables"),
    "departments": ("Organisation", "Departments"),
    "network": ("Organisation", "Organisation network"),
    "project": ("Project", "Project"),
    "execution": ("Project", "Execution"),
    "events": ("Events", "Random shocks"),
}
STRATEGY_FIELDS = {"pm.strategy", "pm.concession"}
"""PM fields shown under the Strategy tab rather than the PM tab."""

SKIPPED = {"name", "description"}
NONE_OPTION = "(the strategy's own)"
"""How a select control shows the value None (Streamlit's selectbox reads None as no choice)."""
SUB = " › "
"""Separates a section from its sub-section in :attr:`ParamSpec.section`."""
SLIDER_MAX_SPAN = 1000
"""Bounded numbers with a wider range than this get a number box instead of a slider."""

Kind = Literal["float", "int", "number_float", "number_int", "select", "bool",
               "optional_float", "optional_int", "list_int", "list_float"]


@dataclass(frozen=True)
class ParamSpec:
    """One editable parameter: where it lives, how to show it, and its current value."""

    path: str
    label: str
    help: str
    kind: Kind
    group: str
    section: str
    value: Any
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    options: tuple = ()
    option_labels: dict = field(default_factory=dict)
    placeholder: str = ""
    note: str = ""  # what the (sub-)section is, from the nested field's description

    @property
    def key(self) -> str:
        """The Streamlit widget key."""
        return "p:" + self.path


def humanise(name: str) -> str:
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


def _bounds(info) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in info.metadata:
        if hasattr(m, "ge"):
            lo = m.ge
        elif hasattr(m, "gt"):
            lo = m.gt
        elif hasattr(m, "le"):
            hi = m.le
        elif hasattr(m, "lt"):
            hi = m.lt
    return lo, hi


def _decimals(x: float) -> int:
    text = repr(float(x))
    if "e" in text:
        return 6
    return len(text.split(".")[1].rstrip("0"))


def float_step(lo: float, hi: float, *values: float) -> float:
    """A slider step fine enough for the range (1/100 of it, rounded down to a power of
    ten) and for every given value to sit on the grid (0.005 needs 0.001)."""
    span = max(hi - lo, 1e-9)
    step = 10.0 ** math.floor(math.log10(span / 100))
    for v in values:
        if v is not None:
            step = min(step, 10.0 ** -min(_decimals(v), 6))
    return step


def _help(info, lo=None, hi=None, gt=False) -> str:
    parts = [info.description or ""]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if extra.get("unit"):
        parts.append(f"Unit: {extra['unit']}.")
    if lo is not None or hi is not None:
        low = "" if lo is None else (f"above {lo:g}" if gt else f"from {lo:g}")
        high = "" if hi is None else f"to {hi:g}"
        parts.append(f"Allowed: {' '.join(p for p in (low, high) if p)}.")
    source = extra.get("source")
    if source:
        parts.append("Source: " + ("modelling assumption." if source == ASSUMED else source + "."))
    return " ".join(p for p in parts if p)


def _label(name: str, info) -> str:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    unit = extra.get("unit")
    return humanise(name) + (f" ({unit})" if unit else "")


def _item_key(item: dict, index: int) -> str:
    name = str(item.get("name", ""))
    return name if name and "." not in name and not name.isdigit() else str(index)


def _field_spec(path: str, name: str, info, value, group: str, section: str) -> ParamSpec | None:
    ann = info.annotation
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    lo, hi = _bounds(info)
    gt = any(hasattr(m, "gt") for m in info.metadata)
    label = _label(name, info)
    common = dict(path=path, label=label, group=group, section=section, value=value)
    if path == "pm.strategy":
        return ParamSpec(kind="select", options=tuple(STRATEGIES), help=_help(info),
                         option_labels={k: f"{k} - {s.description}" for k, s in STRATEGIES.items()}, **common)
    if path == "pm.archetype":
        return ParamSpec(kind="select", options=tuple(ARCHETYPES), help=_help(info),
                         option_labels={k: f"{k} - {a.description}" for k, a in ARCHETYPES.items()}, **common)
    if origin is Literal:
        return ParamSpec(kind="select", options=args, help=_help(info), **common)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)) and type(None) in args:
        inner = [a for a in args if a is not type(None)][0]
        if typing.get_origin(inner) is Literal:
            opts = (None, *typing.get_args(inner))
            return ParamSpec(kind="select", options=opts, help=_help(info) + " Empty = the strategy's own.",
                             option_labels={None: NONE_OPTION}, **common)
        kind = "optional_int" if inner is int else "optional_float"
        return ParamSpec(kind=kind, minimum=lo, maximum=hi, help=_help(info, lo, hi) + " Blank = off.",
                         placeholder="off", **common)
    if ann is bool:
        return ParamSpec(kind="bool", help=_help(info), **common)
    if origin is list and args and args[0] in (int, float):
        kind = "list_int" if args[0] is int else "list_float"
        return ParamSpec(kind=kind, help=_help(info) + " Comma-separated numbers.", **common)
    if ann in (int, float):
        help_text = _help(info, lo, hi, gt)
        bounded = lo is not None and hi is not None
        if ann is int:
            kind = "int" if bounded and hi - lo <= SLIDER_MAX_SPAN else "number_int"
            return ParamSpec(kind=kind, minimum=lo, maximum=hi, step=1, help=help_text, **common)
        if bounded and hi - lo <= SLIDER_MAX_SPAN and not gt:
            return ParamSpec(kind="float", minimum=float(lo), maximum=float(hi),
                             step=float_step(lo, hi, value, info.default if isinstance(info.default, float) else None),
                             help=help_text, **common)
        minimum = None if lo is None else float(lo) + (1e-6 if gt else 0.0)
        return ParamSpec(kind="number_float", minimum=minimum, maximum=None if hi is None else float(hi),
                         step=float_step(lo or 0.0, min(hi or 100.0, 100.0), value), help=help_text, **common)
    return None


def _model_specs(model_cls: type[BaseModel], data: dict, prefix: str, group: str, section: str,
                 out: list[ParamSpec]) -> None:
    nested = []
    for name, info in model_cls.model_fields.items():
        if name in SKIPPED:
            continue
        path = f"{prefix}.{name}"
        ann = info.annotation
        origin, args = typing.get_origin(ann), typing.get_args(ann)
        if (isinstance(ann, type) and issubclass(ann, BaseModel)) or (
                origin is list and args and isinstance(args[0], type) and issubclass(args[0], BaseModel)):
            nested.append((name, path, ann, args))
            continue
        g = "Strategy" if path in STRATEGY_FIELDS else group
        s = "Influence strategy" if path in STRATEGY_FIELDS else section
        spec = _field_spec(path, name, info, data[name], g, s)
        if spec is not None:
            out.append(spec)
    for name, path, ann, args in nested:  # groups and lists after the plain fields
        if args:
            for i, item in enumerate(data[name]):
                sub_section = f"{humanise(name).removesuffix('s')}: {item.get('name', i)}"
                _model_specs(args[0], item, f"{path}.{_item_key(item, i)}", group, sub_section, out)
        else:
            start = len(out)
            _model_specs(ann, data[name], path, group, f"{section}{SUB}{humanise(name).lower()}", out)
            note = model_cls.model_fields[name].description or ""
            out[start:] = [replace(s, note=note) for s in out[start:]]


def _tactic_specs(data: dict, out: list[ParamSpec]) -> None:
    group, _ = SECTION_OF["tactics"]
    for tname, cls in TACTICS.items():
        current = data.get(tname, {}) or {}
        builtin = dict(zip(OUTCOMES, cls.table))
        builtin.update(trust_effect=cls.trust_effect, cost=cls.cost)
        section = f"Tactic: {cls.label}"
        for fname, info in Tactic.model_fields.items():
            lo, hi = _bounds(info)
            if fname in OUTCOMES:
                text = (f"Relative chance that {cls.label} ends in {fname} "
                        f"(the three outcomes are renormalised to sum to 1).")
            elif fname == "trust_effect":
                text = f"Change of the target's trust in the PM each time {cls.label} is used."
            else:
                text = f"Attention {cls.label} costs the PM (interactions)."
            text += f" Allowed: {lo:g} to {hi:g}. Blank = built-in {builtin[fname]:g} ({cls.source})."
            kind = "optional_int" if fname == "cost" else "optional_float"
            out.append(ParamSpec(path=f"tactics.{tname}.{fname}", label=humanise(fname), help=text,
                                 kind=kind, group=group, section=section, value=current.get(fname),
                                 minimum=lo, maximum=hi, placeholder=f"built-in {builtin[fname]:g}"))


def param_specs(scenario: Scenario) -> list[ParamSpec]:
    """Every editable parameter of ``scenario``, in schema order, with its current value."""
    data = scenario.model_dump()
    out: list[ParamSpec] = []
    for name, info in Scenario.model_fields.items():
        if name in SKIPPED:
            continue
        if name == "tactics":
            _tactic_specs(data["tactics"], out)
            continue
        group, section = SECTION_OF[name]
        ann = info.annotation
        origin, args = typing.get_origin(ann), typing.get_args(ann)
        if origin is list:
            for i, item in enumerate(data[name]):
                _model_specs(args[0], item, f"{name}.{_item_key(item, i)}", group,
                             f"{humanise(name)[:-1]}: {item.get('name', i)}", out)
        else:
            _model_specs(ann, data[name], name, group, section, out)
    return out


# ------------------------------------------------------------------ values and the URL
def parse_list(text: str, kind: Kind) -> list:
    """'0.1, 0.2' -> [0.1, 0.2]; raises ValueError with a readable message."""
    items = [t.strip() for t in str(text).replace(";", ",").split(",") if t.strip()]
    conv = int if kind == "list_int" else float
    out = []
    for t in items:
        try:
            out.append(conv(float(t)) if conv is int and float(t).is_integer() else conv(t))
        except ValueError:
            raise ValueError(f"{t!r} is not a{'n integer' if conv is int else ' number'}") from None
    return out


def format_list(values: list) -> str:
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return math.isclose(a, float(b), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def changed(specs: list[ParamSpec], values: dict[str, Any]) -> dict[str, Any]:
    """The overrides: values (by path) that differ from the specs' current values."""
    by_path = {s.path: s for s in specs}
    return {p: v for p, v in values.items() if p in by_path and not same(v, by_path[p].value)}


def encode_value(value) -> str:
    """A URL query value: plain text for strings, JSON for everything else."""
    return value if isinstance(value, str) else json.dumps(value)


def decode_value(text: str):
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        return text


def overrides_from_query(params: dict[str, str], specs: list[ParamSpec]) -> tuple[dict, list[str]]:
    """Overrides read from URL query parameters; unknown names are returned as problems."""
    by_path = {s.path: s for s in specs}
    out, problems = {}, []
    for name, text in params.items():
        if name in ("scenario", "seed", "page"):
            continue
        if name not in by_path:
            problems.append(f"unknown parameter {name!r} in the link (ignored)")
            continue
        value = decode_value(text)
        spec = by_path[name]
        if spec.kind in ("float", "number_float") and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        out[name] = value
    return out, problems
