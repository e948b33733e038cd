"""Stakeholder map import: a PM's CSV map of people -> a scenario file.

Columns (header row required, any order, case-insensitive; extra columns are ignored):

========== ==================================================================
name       a person's name (unique)
department the department they belong to (engineering, sales, legal, design, ...)
power      influence over the outcome: a number in [0, 1] or low / medium / high
interest   how much they care right now: a number in [0, 1] or low / medium / high
attitude   supportive / neutral / resistant, or a number in [-1, 1]
listens_to names of the people whose views they listen to, separated by ``;``
========== ==================================================================

How a map becomes a scenario (see docs/scenarios.md):

* one department per distinct ``department``; its **lead** is the person with the
  highest power (the first such row on a tie); everybody else counts as a member;
* the lead's power sets the department's ``power`` and ``legitimacy``, its interest
  the ``urgency``, its attitude ``a`` the ``initial_trust`` (0.6 + 0.3 a) and the
  ``reservation`` (the template's, minus 0.05 a);
* issue weights, veto, responsiveness and blame propensity come from a template per
  department name (the model's defaults for engineering, sales and legal; documented
  templates for design, finance, support, executive; a neutral one otherwise);
* engineering's capacity is one effort/day per engineering member (the lead manages);
* ``listens_to`` links estimate the network's block densities: ``network.p_in`` =
  links inside departments / possible pairs inside, ``network.p_out`` = links across /
  possible pairs across (the maximum-likelihood estimate of a stochastic block model).

Every problem raises :class:`MapError` (a :class:`sim.scenarios.ScenarioError`) whose
one-line message names the file, the row (as a spreadsheet shows it: the header is
row 1) and the column.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from sim.scenarios import ScenarioError, _hint, validate_data

COLUMNS: tuple[str, ...] = ("name", "department", "power", "interest", "attitude", "listens_to")
LEVELS = {"low": 0.2, "medium": 0.5, "med": 0.5, "high": 0.8}
ATTITUDES = {"supportive": 1.0, "neutral": 0.0, "resistant": -1.0}
TRUST_BASE, TRUST_SLOPE = 0.6, 0.3
RESERVATION_SLOPE = 0.05
CAPACITY_PER_ENGINEER = 1.0

# Templates for departments the model's defaults do not cover (modelling assumptions).
EXTRA_TEMPLATES: dict[str, dict[str, Any]] = {
    "design": {"weights": {"value": 0.3, "quality": 0.35, "autonomy": 0.15, "novelty": 0.2},
               "reservation": 0.7, "responsiveness": 0.7, "blame_propensity": 0.2},
    "finance": {"weights": {"feasibility": 0.4, "value": 0.3, "schedule": 0.2, "safety": 0.1},
                "reservation": 0.75, "responsiveness": 0.5, "blame_propensity": 0.2},
    "support": {"weights": {"quality": 0.45, "safety": 0.2, "value": 0.2, "feasibility": 0.15},
                "reservation": 0.7, "responsiveness": 0.7, "blame_propensity": 0.25},
    "executive": {"weights": {"value": 0.45, "schedule": 0.35, "safety": 0.1, "feasibility": 0.1},
                  "reservation": 0.7, "responsiveness": 0.5, "blame_propensity": 0.2},
}
GENERIC_TEMPLATE: dict[str, Any] = {
    "weights": {"value": 0.3, "schedule": 0.2, "feasibility": 0.2, "quality": 0.2, "safety": 0.1},
    "reservation": 0.7, "responsiveness": 0.6, "blame_propensity": 0.2,
}
# Fields a template may carry over from the model's default departments.
TEMPLATE_FIELDS = ("weights", "reservation", "stubbornness", "member_stubbornness", "responsiveness",
                   "blame_propensity", "veto", "hard_limit", "misperception")


class MapError(ScenarioError):
    """A problem with a stakeholder map; ``str(error)`` is one line."""


@dataclass(frozen=True)
class Person:
    row: int
    name: str
    department: str
    power: float
    interest: float
    attitude: float
    listens_to: tuple[str, ...]


# ------------------------------------------------------------------ reading
def _normalise(col: str) -> str:
    return "_".join(col.strip().lower().replace("-", " ").split())


def read_map(path: Path | str) -> list[Person]:
    """Read and check a stakeholder map CSV (see the module docstring for the columns)."""
    path = Path(path)
    if not path.is_file():
        raise MapError(f"{path}: file not found" if not path.exists() else f"{path}: not a file", path)
    raw = path.read_bytes()
    if not raw.strip():
        raise MapError(f"{path}: empty file (expected a header row: {', '.join(COLUMNS)})", path)
    if b"\x00" in raw:
        raise MapError(f"{path}: binary data (NUL bytes), not a CSV text file", path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MapError(f"{path}: not UTF-8 text (byte 0x{raw[exc.start:exc.start + 1].hex()} at offset "
                       f"{exc.start}); save the map as CSV UTF-8", path) from None
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:  # e.g. a cell longer than the csv module's field limit
        raise MapError(f"{path}: not a readable CSV file ({exc})", path) from None
    header = rows[0] if rows else []
    cols = [_normalise(c) for c in header]
    if len(header) == 1 and ";" in header[0]:
        raise MapError(f"{path}: row 1: the header has no commas; columns must be separated by commas "
                       f"(';' is only for separating names inside listens_to)", path)
    missing = [c for c in COLUMNS if c not in cols]
    if missing:
        hint = _hint(missing[0], [c for c in cols if c not in COLUMNS])
        raise MapError(f"{path}: row 1: missing column{'s' if len(missing) > 1 else ''} "
                       f"{', '.join(repr(m) for m in missing)}{hint}; expected columns: {', '.join(COLUMNS)}", path)
    dup = [c for c in COLUMNS if cols.count(c) > 1]
    if dup:
        raise MapError(f"{path}: row 1: column {dup[0]!r} appears twice", path)
    idx = {c: cols.index(c) for c in COLUMNS}
    people: list[Person] = []
    seen: dict[str, int] = {}
    for r, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) < len(header):
            cells = cells + [""] * (len(header) - len(cells))
        elif len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
            raise MapError(f"{path}: row {r}: {len(cells)} cells but the header has {len(header)} columns "
                           f"(quote a cell that contains a comma)", path)

        def cell(col: str) -> str:
            return cells[idx[col]].strip()

        name = cell("name")
        if not name:
            raise MapError(f"{path}: row {r}, column 'name': empty name", path)
        if name in seen:
            raise MapError(f"{path}: row {r}, column 'name': duplicate name {name!r} (first on row {seen[name]})", path)
        seen[name] = r
        dept = cell("department").lower()
        if not dept:
            raise MapError(f"{path}: row {r}, column 'department': empty department for {name!r}", path)
        power = _level(path, r, "power", cell("power"))
        interest = _level(path, r, "interest", cell("interest"))
        attitude = _attitude(path, r, cell("attitude"))
        listens = tuple(n.strip() for n in cell("listens_to").split(";") if n.strip())
        people.append(Person(r, name, dept, power, interest, attitude, listens))
    if not people:
        raise MapError(f"{path}: no people in the map (only a header row)", path)
    names = [p.name for p in people]
    for p in people:
        for other in p.listens_to:
            if other not in seen:
                raise MapError(f"{path}: row {p.row}, column 'listens_to': {other!r} is not a name in the map"
                               f"{_hint(other, names)}", path)
            if other == p.name:
                raise MapError(f"{path}: row {p.row}, column 'listens_to': {p.name!r} lists themself", path)
    return people


def _level(path, row: int, col: str, text: str) -> float:
    if text.lower() in LEVELS:
        return LEVELS[text.lower()]
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not (0.0 <= value <= 1.0):
        shown = repr(text) if text else "an empty cell"
        raise MapError(f"{path}: row {row}, column {col!r}: {shown} is not allowed "
                       f"(expected a number in [0, 1] or low / medium / high)", path)
    return value


def _attitude(path, row: int, text: str) -> float:
    if text.lower() in ATTITUDES:
        return ATTITUDES[text.lower()]
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not (-1.0 <= value <= 1.0):
        shown = repr(text) if text else "an empty cell"
        hint = _hint(text.lower(), ATTITUDES) if text else ""
        raise MapError(f"{path}: row {row}, column 'attitude': {shown} is not allowed{hint} "
                       f"(expected supportive / neutral / resistant or a number in [-1, 1])", path)
    return value


# ------------------------------------------------------------- converting
def _templates() -> dict[str, dict[str, Any]]:
    from sim.params import default_departments

    out = {k: dict(v) for k, v in EXTRA_TEMPLATES.items()}
    for d in default_departments():
        dump = d.model_dump()
        out[d.name] = {k: dump[k] for k in TEMPLATE_FIELDS if k in dump and dump[k] is not None}
    return out


def map_to_data(people: list[Person], name: str = "stakeholder_map", source: str = "") -> dict:
    """The scenario (as a plain dict) a stakeholder map describes."""
    templates = _templates()
    depts: dict[str, list[Person]] = {}
    for p in people:
        depts.setdefault(p.department, []).append(p)
    if "engineering" not in depts:
        raise MapError(f"{source}: no engineering department in the map: someone must build the product "
                       f"(found: {', '.join(depts)})", source)
    departments = []
    for dname, members in depts.items():
        lead = max(members, key=lambda p: (p.power, -p.row))
        t = dict(templates.get(dname, GENERIC_TEMPLATE))
        base_res = t.pop("reservation", 0.7)
        d: dict[str, Any] = {"name": dname, "members": len(members) - 1}
        if dname == "engineering":
            d["capacity"] = float(max(len(members) - 1, 1)) * CAPACITY_PER_ENGINEER
        d["power"] = round(lead.power, 3)
        d["legitimacy"] = round(lead.power, 3)
        d["urgency"] = round(lead.interest, 3)
        d["initial_trust"] = round(_clip(TRUST_BASE + TRUST_SLOPE * lead.attitude), 3)
        d["reservation"] = round(_clip(base_res - RESERVATION_SLOPE * lead.attitude), 3)
        d.update(t)
        departments.append(d)
    data: dict[str, Any] = {
        "name": name,
        "description": f"Imported from the stakeholder map {Path(source).name if source else ''}: "
                       f"{len(people)} people in {len(depts)} departments "
                       f"({', '.join(f'{k} led by {max(v, key=lambda p: (p.power, -p.row)).name}' for k, v in depts.items())}).",
        "departments": departments,
    }
    network = _network_density(people)
    if network:
        data["network"] = network
    return data


def _network_density(people: list[Person]) -> dict[str, float]:
    dept = {p.name: p.department for p in people}
    pairs = {tuple(sorted((p.name, q))) for p in people for q in p.listens_to}
    if not pairs:
        return {}
    inside = sum(1 for a, b in pairs if dept[a] == dept[b])
    across = len(pairs) - inside
    sizes: dict[str, int] = {}
    for p in people:
        sizes[p.department] = sizes.get(p.department, 0) + 1
    possible_in = sum(n * (n - 1) // 2 for n in sizes.values())
    n = len(people)
    possible_out = n * (n - 1) // 2 - possible_in
    out = {}
    if possible_in:
        out["p_in"] = round(inside / possible_in, 3)
    if possible_out:
        out["p_out"] = round(across / possible_out, 3)
    return out


def _clip(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return min(hi, max(lo, x))


def to_toml(data: dict, source: str = "") -> str:
    """The scenario dict as a commented TOML file."""
    clean = _drop_none(data)
    head = [f"# Scenario imported from the stakeholder map {source or '(unnamed)'} by `pmsim from-map`.",
            "# Leads are the highest-power person per department; issue weights, vetoes and",
            "# responsiveness come from per-department templates (docs/scenarios.md). Edit freely.",
            ""]
    return "\n".join(head) + tomli_w.dumps(clean)


def _drop_none(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _drop_none(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [_drop_none(v) for v in obj]
    return obj


def convert(path: Path | str, name: str | None = None) -> tuple[str, Any]:
    """Read a map and return ``(toml_text, Scenario)``; the scenario is validated."""
    path = Path(path)
    people = read_map(path)
    data = map_to_data(people, name=name or path.stem, source=str(path))
    scenario = validate_data(data, source=str(path))
    return to_toml(data, source=path.name), scenario
