"""Parameter tables of docs/ODD.md, generated from the pydantic schema and the registries.

The ODD description (docs/ODD.md) is prose written by hand, except for the block
between ``<!-- BEGIN PARAMETERS -->`` and ``<!-- END PARAMETERS -->``, which this
module writes: every parameter of :class:`sim.params.Scenario` with its default, range
(from the fields' ``ge``/``gt``/``le``/``lt``/length constraints), unit, description and
source (``json_schema_extra["source"]``), the default departments and backlog, the
tactic outcome tables (:data:`sim.tactics.TACTICS`), the strategies
(:data:`sim.strategies.STRATEGIES`) and the archetypes (:data:`sim.archetypes.ARCHETYPES`).

Regenerate after any parameter change::

    uv run python -m sim.odd            # rewrite the block in docs/ODD.md
    uv run python -m sim.odd --check    # exit 1 if docs/ODD.md is out of date

tests/test_odd.py fails when the committed block differs from what this produces.
Nothing here is typed by hand that the code already knows: new fields, departments,
features, tactics, strategies, archetypes and parameter groups show up on their own.
"""

from __future__ import annotations

import inspect
import sys
import types
import typing
from collections.abc import Callable, Iterable
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from sim import params as P

BEGIN = "<!-- BEGIN PARAMETERS -->"
END = "<!-- END PARAMETERS -->"
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"
COMMAND = "uv run python -m sim.odd"

ASSUMED_SHORT = "assumption"
"""How the tables abbreviate :data:`sim.params.ASSUMED` (explained above the tables)."""

# The parameter groups of the scenario, in the order of the ODD tables:
# (heading, model, dotted prefix used by Scenario.with_overrides).
SIMPLE_GROUPS: list[tuple[str, type[BaseModel], str]] = [
    ("Negotiation", P.Negotiation, "negotiation"),
    ("Execution", P.Execution, "execution"),
    ("Ownership", P.Ownership, "ownership"),
    ("Events", P.Events, "events"),
    ("Network", P.Network, "network"),
]


# --------------------------------------------------------------------------- helpers

def _extra(info: FieldInfo) -> dict:
    extra = info.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def field_source(info: FieldInfo) -> str:
    """The field's documented source ('' when it has none)."""
    src = _extra(info).get("source")
    return str(src).strip() if src else ""


def field_description(info: FieldInfo) -> str:
    return (info.description or "").strip()


def _cell(text: object) -> str:
    """Make text safe for one markdown table cell."""
    s = str(text).replace("\r", " ").replace("\n", " ").replace("|", "\\|").strip()
    return s if s else "—"


def fmt(value: object) -> str:
    """A value as the tables show it (deterministic, compact)."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return f"`{value}`"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v).strip("`") for v in value) + "]"
    if isinstance(value, BaseModel):
        return type(value).__name__
    return str(value)


def _table(header: list[str], rows: Iterable[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _default(info: FieldInfo) -> object:
    """The field's default value (PydanticUndefined when required)."""
    if info.default_factory is not None:
        try:
            return info.default_factory()
        except TypeError:  # a factory that wants the validated data: not shown
            return PydanticUndefined
    return info.default


def _default_text(info: FieldInfo) -> str:
    d = _default(info)
    if d is PydanticUndefined:
        return "required"
    if isinstance(d, list) and d and isinstance(d[0], BaseModel):
        return f"{len(d)} items (see the default table in this section)"
    if isinstance(d, list) and not d:
        return "[] (derived)"
    return fmt(d)


def _unwrap(annotation) -> tuple[list, bool]:
    """(non-None members of a union annotation, whether None is allowed)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        return [a for a in args if a is not type(None)], type(None) in args
    return [annotation], False


def _bounds(info: FieldInfo) -> dict[str, object]:
    out: dict[str, object] = {}
    for meta in info.metadata:
        for key in ("ge", "gt", "le", "lt", "min_length", "max_length"):
            val = getattr(meta, key, None)
            if val is not None:
                out[key] = val
    return out


def field_range(name: str, info: FieldInfo) -> str:
    """The field's allowed values, from its annotation and constraints."""
    members, optional = _unwrap(info.annotation)
    b = _bounds(info)
    kinds = []
    for ann in members:
        if typing.get_origin(ann) is typing.Literal:
            kinds.append("one of " + ", ".join(f"`{v}`" for v in typing.get_args(ann)))
        elif ann is bool:
            kinds.append("True / False")
        elif typing.get_origin(ann) is list:
            (item,) = typing.get_args(ann) or (object,)
            item_name = getattr(item, "__name__", str(item))
            lo, hi = b.get("min_length", 0), b.get("max_length")
            kinds.append(f"list of {item_name}, {lo}–{hi} items" if hi is not None
                         else f"list of {item_name}, at least {lo} items")
        elif typing.get_origin(ann) is dict:
            kinds.append("mapping")
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            kinds.append(f"{ann.__name__} (sub-fields in the next rows)")
        elif ann is str:
            if name == "strategy":
                from sim.strategies import STRATEGIES
                kinds.append("one of " + ", ".join(f"`{s}`" for s in STRATEGIES))
            else:
                kinds.append("text")
        else:
            lo = ("[", b["ge"]) if "ge" in b else ("(", b["gt"]) if "gt" in b else None
            hi = (b["le"], "]") if "le" in b else (b["lt"], ")") if "lt" in b else None
            if lo and hi:
                kinds.append(f"{lo[0]}{fmt(lo[1])}, {fmt(hi[0])}{hi[1]}")
            elif lo:
                kinds.append(("≥ " if lo[0] == "[" else "> ") + fmt(lo[1]))
            elif hi:
                kinds.append(("≤ " if hi[1] == "]" else "< ") + fmt(hi[0]))
            else:
                kinds.append(getattr(ann, "__name__", str(ann)))
    text = " or ".join(kinds)
    return f"{text} or None" if optional else text


def _source_text(info: FieldInfo) -> str:
    src = field_source(info)
    if src and src == getattr(P, "ASSUMED", None):
        return ASSUMED_SHORT
    return src


def _row(path: str, info: FieldInfo, defaults: list[str] | None = None) -> list[object]:
    row: list[object] = [f"`{path}`"]
    row += defaults if defaults is not None else [_default_text(info)]
    row += [field_range(path.rsplit(".", 1)[-1], info), _extra(info).get("unit", ""),
            field_description(info), _source_text(info)]
    return row


HEADER = ["Parameter", "Default", "Range", "Unit", "Description", "Source"]


def model_table(model: type[BaseModel], prefix: str) -> str:
    """One row per field of ``model``; nested models get one row per sub-field."""
    rows = []
    for name, info in model.model_fields.items():
        rows.append(_row(f"{prefix}.{name}" if prefix else name, info))
        members, _ = _unwrap(info.annotation)
        for ann in members:
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                for sub, sinfo in ann.model_fields.items():
                    rows.append(_row(f"{prefix}.{name}.{sub}" if prefix else f"{name}.{sub}", sinfo))
    return _table(HEADER, rows)


def parameter_models() -> list[type[BaseModel]]:
    """Every pydantic model reachable from :class:`sim.params.Scenario` (not Scenario itself)."""
    seen: list[type[BaseModel]] = []

    def walk(ann) -> None:
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            if ann not in seen and ann is not P.Scenario:
                seen.append(ann)
                for info in ann.model_fields.values():
                    walk(info.annotation)
            return
        for arg in typing.get_args(ann):
            walk(arg)

    for info in P.Scenario.model_fields.values():
        walk(info.annotation)
    return seen


def missing_docs() -> list[str]:
    """``Model.field: what is missing`` for every parameter field without a description
    or a source (the lead owns sim/params.py; this lists what to add there)."""
    out = []
    for model in parameter_models():
        for name, info in model.model_fields.items():
            lacks = [what for what, ok in (("description", field_description(info)),
                                           ("source", field_source(info))) if not ok]
            if lacks:
                out.append(f"{model.__name__}.{name}: no {' and no '.join(lacks)}")
    return out


# ----------------------------------------------------------------------- sections

def _pm_section() -> str:
    return "### PM (`pm.*`)\n\n" + model_table(P.PM, "pm")


def _department_section() -> str:
    depts = P.default_departments()
    names = [d.name for d in depts]
    header = ["Parameter", "Field default"] + [f"{n}" for n in names] + HEADER[2:]
    rows = []
    for name, info in P.Department.model_fields.items():
        per = [fmt(getattr(d, name)) if not isinstance(getattr(d, name), BaseModel) else "(below)"
               for d in depts]
        rows.append(_row(f"{name}", info, [_default_text(info)] + per))
        members, _ = _unwrap(info.annotation)
        for ann in members:
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                for sub, sinfo in ann.model_fields.items():
                    vals = [fmt(getattr(getattr(d, name), sub)) for d in depts]
                    rows.append(_row(f"{name}.{sub}", sinfo, [_default_text(sinfo)] + vals))
    intro = ("### Department (`departments.<name>.*`)\n\n"
             "One row per field; *Field default* applies to a department a scenario adds without "
             "setting the field, the next columns are the default departments of "
             "`sim.params.default_departments()`. Issue weights are normalised to sum 1 before use.")
    return intro + "\n\n" + _table(header, rows)


def _project_section() -> str:
    from sim.plan import PlanSpace

    parts = ["### Feature / Project (`project.*`, `project.features.<name>.*`)",
             "Feature fields:", model_table(P.Feature, "project.features.<name>")]
    backlog = P.default_backlog()
    cols = [n for n in P.Feature.model_fields if n != "name"]
    units = {n: _extra(P.Feature.model_fields[n]).get("unit", "") for n in cols}
    header = ["Default feature"] + [f"{c} ({units[c]})" if units[c] else c for c in cols]
    parts += ["The default backlog (`sim.params.default_backlog()`):",
              _table(header, [[f.name] + [fmt(getattr(f, c)) for c in cols] for f in backlog])]
    parts += ["Project fields:", model_table(P.Project, "project")]
    proj = P.Project()
    space = PlanSpace(proj)
    parts.append(f"With the defaults the release options derived from the deadline are "
                 f"{fmt(proj.releases())} and the plan space holds {space.n} plans "
                 f"({2 ** len(proj.features) - 1} non-empty scopes × {len(proj.releases())} release days × "
                 f"{len(proj.quality_levels)} quality bars × {len(proj.review_days)} review depths).")
    return "\n\n".join(parts)


def _simple_sections() -> str:
    return "\n\n".join(f"### {title} (`{prefix}.*`)\n\n" + model_table(model, prefix)
                       for title, model, prefix in SIMPLE_GROUPS)


def _other_groups_section() -> str:
    """Groups added to the schema that this generator has no dedicated section for."""
    known = {P.PM, P.Department, P.Weights, P.Feature, P.Project, P.Tactic} | {m for _, m, _ in SIMPLE_GROUPS}
    extra = [m for m in parameter_models() if m not in known]
    if not extra:
        return ""
    return "\n\n".join(f"### {m.__name__}\n\n" + model_table(m, "") for m in extra)


def _first_line(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.splitlines()[0] if doc else ""


def _tactic_section() -> str:
    from sim import tactics as T

    parts = ["### Tactics (`tactics.<name>.*`)",
             "Override fields (any subset, per tactic; the three outcome shares are renormalised "
             "to sum 1 after overriding):",
             model_table(P.Tactic, "tactics.<name>")]
    base_attrs = set(vars(T.Tactic))
    rows = []
    for name, cls in T.TACTICS.items():
        inst = cls()
        c, m, r = inst.outcome_table
        extras = {k: v for k, v in vars(cls).items()
                  if k not in base_attrs and not k.startswith("_") and isinstance(v, (int, float))
                  and not isinstance(v, bool)}
        extra_txt = ", ".join(f"{k} = {fmt(v)}" for k, v in sorted(extras.items()))
        rows.append([f"`{name}`", cls.label, "soft" if cls.soft else "hard",
                     f"{c:.2f}", f"{m:.2f}", f"{r:.2f}", fmt(inst.trust_delta), fmt(inst.attention_cost),
                     "yes" if inst.draws_outcome() else "no",
                     _first_line(cls) + (f" ({extra_txt})" if extra_txt else ""), cls.source])
    parts += ["Default outcome tables (`sim.tactics.TACTICS`): share of uses ending in commitment / "
              "compliance / resistance for an average target, the trust-in-PM change per use, the "
              "attention it costs, and what else it does:",
              _table(["Tactic", "Label", "Kind", "Commitment", "Compliance", "Resistance",
                      "Trust effect", "Attention cost", "Draws outcome", "Effect", "Source"], rows)]
    sig = inspect.signature(T.modulate).parameters
    parts.append(f"Modulation constants (`sim.tactics.modulate`): k = {fmt(sig['k'].default)}, "
                 f"g = {fmt(sig['g'].default)}, gap clipped to [-0.5, 0.5] (modelling assumptions).")
    return "\n\n".join(parts)


def _strategy_section() -> str:
    from sim.concession import CONCESSION_EXPONENTS
    from sim.strategies import STRATEGIES

    rows = []
    for name, s in STRATEGIES.items():
        total = sum(s.mix.values())
        mix = ", ".join(f"{t} {v / total:.2f}" for t, v in sorted(s.mix.items(), key=lambda kv: (-kv[1], kv[0])))
        e = CONCESSION_EXPONENTS.get(s.concession)
        rows.append([f"`{name}`", mix, f"{s.concession} (e = {fmt(e)})", s.targeting,
                     f"{s.hard_share:.2f}", "yes" if s.classifier.get("interest_aligning") else "no",
                     s.description])
    parts = ["### Strategies (`pm.strategy`)",
             "Registry `sim.strategies.STRATEGIES`; the PM draws one tactic per interaction from the "
             "mix. All mixes and assignments are modelling assumptions.",
             _table(["Strategy", "Tactic mix", "Concession", "Targeting", "Hard share",
                     "Interest-aligning", "Description"], rows),
             "Concession exponents (`sim.concession.CONCESSION_EXPONENTS`, convention "
             "F(t) = (t/T)^(1/e)):",
             _table(["Style", "e", "Meaning"],
                    [[f"`{k}`", fmt(v), "concedes late (Boulware)" if v < 1 else
                      "concedes early (conceder)" if v > 1 else "concedes at a constant rate"]
                     for k, v in CONCESSION_EXPONENTS.items()])]
    return "\n\n".join(parts)


def _archetype_section() -> str:
    from sim.archetypes import ARCHETYPES

    depts = [d.name for d in P.default_departments()]
    extra_depts = sorted({k for a in ARCHETYPES.values() for k in a.credibility} - set(depts))
    depts += extra_depts
    rows = []
    for name, a in ARCHETYPES.items():
        w = a.weights.vector()
        weights = ", ".join(f"{i} {v:.2f}" for i, v in zip(P.ISSUES, w) if v > 0)
        rows.append([f"`{name}`"] + [fmt(a.credibility_with(d)) for d in depts]
                    + [fmt(a.default_credibility), fmt(a.effort_bias), fmt(a.overstep_factor),
                       weights, a.description])
    return "\n\n".join([
        "### Archetypes (`pm.archetype`)",
        "Registry `sim.archetypes.ARCHETYPES`: credibility with each department (scales the "
        "target's receptiveness to tactics), the PM's own issue weights (normalised), its effort "
        "estimate as a share of true effort, and its overstep factor. All values are modelling "
        "assumptions that encode the qualitative archetype table of MODEL.md section 1; none is a "
        "published estimate.",
        _table(["Archetype"] + [f"cred. {d}" for d in depts]
               + ["cred. other", "Effort bias", "Overstep factor", "Own weights", "Description"], rows)])


def _constants_section() -> str:
    from sim import model as M
    from sim import org as O

    rows = [["`sim.org.INTRA_TRUST`", fmt(O.INTRA_TRUST), "initial trust on edges inside a department"],
            ["`sim.org.INTER_TRUST`", fmt(O.INTER_TRUST), "initial trust on edges between departments"],
            ["`sim.model.MEMBER_AGENT_LIMIT`", fmt(M.MEMBER_AGENT_LIMIT),
             "above this many members, members live in arrays only (no Mesa agents)"]]
    return "\n\n".join(["### Module constants (not scenario parameters)",
                        "Importable constants the model uses; modelling assumptions. Other fixed "
                        "numbers inside formulas are listed with their submodels in section 7.",
                        _table(["Constant", "Value", "Meaning"], rows)])


def parameter_tables() -> str:
    """All parameter tables as markdown (the block between the ODD.md markers)."""
    sections = [
        f"_Generated by `{COMMAND}` from `sim/params.py` and the registries; do not edit by hand._",
        f"*{ASSUMED_SHORT}* in a Source column stands for: {getattr(P, 'ASSUMED', 'modelling assumption')}.",
        _pm_section(),
        _department_section(),
        _project_section(),
        _simple_sections(),
        _other_groups_section(),
        _tactic_section(),
        _strategy_section(),
        _archetype_section(),
        _constants_section(),
    ]
    return "\n\n".join(s for s in sections if s)


# -------------------------------------------------------------------------- writing

def generated_block(text: str) -> str:
    """The text strictly between the markers of ``text`` (ValueError if they are missing)."""
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise ValueError(f"ODD text needs exactly one {BEGIN!r} and one {END!r} marker")
    start, end = text.find(BEGIN), text.find(END)
    if end < start:
        raise ValueError(f"the marker {END!r} comes before {BEGIN!r}")
    return text[start + len(BEGIN): end]


def render(text: str) -> str:
    """``text`` with the block between the markers replaced by fresh tables."""
    generated_block(text)  # validates the markers
    start, end = text.find(BEGIN), text.find(END)
    return text[: start + len(BEGIN)] + "\n" + parameter_tables() + "\n" + text[end:]


def write_odd(path: str | Path = DEFAULT_PATH) -> bool:
    """Replace the parameter block of the ODD file at ``path``; return whether it changed."""
    path = Path(path)
    old = path.read_text(encoding="utf-8")
    new = render(old)
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old


def main(argv: list[str] | None = None, echo: Callable[[str], None] = print) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [a for a in args if not a.startswith("--")]
    path = Path(paths[0]) if paths else DEFAULT_PATH
    if check:
        current = path.read_text(encoding="utf-8")
        if render(current) != current:
            echo(f"{path}: parameter tables are out of date; run `{COMMAND}`")
            return 1
        echo(f"{path}: parameter tables are up to date")
        return 0
    changed = write_odd(path)
    echo(f"{path}: parameter tables {'updated' if changed else 'already up to date'}")
    gaps = missing_docs()
    if gaps:
        echo("fields without a description or source (add them in sim/params.py):")
        for g in gaps:
            echo(f"  {g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
