"""docs/ODD.md stays in step with the code: its parameter tables are exactly what
sim.odd generates from the schema and the registries, and they cover everything."""

from __future__ import annotations

import re
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from sim import odd
from sim import params as P
from sim.archetypes import ARCHETYPES
from sim.strategies import STRATEGIES
from sim.tactics import TACTICS

# Fields of sim/params.py that lack a description or source today. The lead owns that
# file; the missing text was reported with exact wording to add. New gaps fail
# test_every_field_has_description_and_source; closing one of these needs no change here.
KNOWN_GAPS: set[str] = set()


@pytest.fixture(scope="module")
def tables() -> str:
    return odd.parameter_tables()


def _row(tables: str, label: str) -> list[str]:
    """The cells of the table row whose first cell is `label` (exactly one such row)."""
    rows = [line for line in tables.splitlines() if line.startswith(f"| `{label}` |")]
    assert len(rows) == 1, f"expected one row for {label!r}, found {len(rows)}"
    return [c.strip() for c in rows[0].strip().strip("|").split(" | ")]


def _section(tables: str, heading: str) -> str:
    """The part of the tables under the ``### heading...`` line, up to the next heading."""
    start = tables.index(f"### {heading}")
    end = tables.find("\n### ", start + 1)
    return tables[start: end if end >= 0 else None]


def test_committed_odd_matches_generator(tables):
    text = odd.DEFAULT_PATH.read_text(encoding="utf-8")
    assert odd.generated_block(text) == "\n" + tables + "\n", (
        f"docs/ODD.md parameter tables are out of date: run `{odd.COMMAND}` and commit docs/ODD.md")
    assert odd.COMMAND in text.split(odd.BEGIN)[0][:2000], "the regeneration command is documented at the top"


def test_generator_is_deterministic(tables):
    assert odd.parameter_tables() == tables


def test_all_parameter_groups_are_reached():
    models = set(odd.parameter_models())
    expected = {P.PM, P.Department, P.Weights, P.Feature, P.Project, P.Negotiation, P.Execution,
                P.Ownership, P.Events, P.Network, P.Tactic}
    assert expected <= models
    assert P.Scenario not in models


def test_every_field_of_every_parameter_model_appears(tables):
    for model in odd.parameter_models():
        for name in model.model_fields:
            assert re.search(rf"\| `([\w<>.]+\.)?{re.escape(name)}` \|", tables), \
                f"{model.__name__}.{name} has no row in the parameter tables"


@pytest.mark.parametrize("model,prefix", [(m, p) for _, m, p in odd.SIMPLE_GROUPS]
                         + [(P.PM, "pm"), (P.Project, "project")])
def test_group_rows_show_schema_default_range_and_source(tables, model, prefix):
    instance = model()
    for name, info in model.model_fields.items():
        cells = _row(tables, f"{prefix}.{name}")
        value = getattr(instance, name)
        if not isinstance(value, list):
            assert cells[1] == odd.fmt(value)
        assert cells[2] == odd.field_range(name, info)
        assert cells[4] == (odd.field_description(info) or "—")
        source = odd.field_source(info)
        assert cells[5] == (odd.ASSUMED_SHORT if source == P.ASSUMED else source or "—")


def test_departments_show_every_default_department(tables):
    depts = P.default_departments()
    header = next(line for line in tables.splitlines() if line.startswith("| Parameter | Field default |"))
    for d in depts:
        assert f"| {d.name} |" in header
    cells = _row(tables, "reservation")
    assert cells[2: 2 + len(depts)] == [odd.fmt(d.reservation) for d in depts]
    for issue in P.ISSUES:
        cells = _row(tables, f"weights.{issue}")
        assert cells[2: 2 + len(depts)] == [odd.fmt(getattr(d.weights, issue)) for d in depts]


def test_default_backlog_appears(tables):
    for f in P.default_backlog():
        assert f"| {f.name} | {odd.fmt(f.value)} | {odd.fmt(f.effort)} |" in tables


def test_every_tactic_appears_with_its_outcome_table(tables):
    section = _section(tables, "Tactics")
    for name, cls in TACTICS.items():
        t = cls()
        cells = _row(section, name)
        assert cells[1] == cls.label
        assert cells[3:6] == [f"{p:.2f}" for p in t.outcome_table]
        assert cells[6] == odd.fmt(t.trust_delta) and cells[7] == odd.fmt(t.attention_cost)
        assert cells[-1] == cls.source


def test_every_strategy_and_archetype_appears(tables):
    for name, s in STRATEGIES.items():
        cells = _row(_section(tables, "Strategies"), name)
        for tactic in s.mix:
            assert tactic in cells[1]
        assert cells[2].startswith(s.concession)
    for name, a in ARCHETYPES.items():
        cells = _row(_section(tables, "Archetypes"), name)
        assert cells[-1] == a.description


def test_every_field_has_description_and_source():
    missing = {g.split(":")[0]: g for g in odd.missing_docs()}
    new = sorted(set(missing) - KNOWN_GAPS)
    assert not new, "fields without a description or source: " + "; ".join(missing[k] for k in new)
    fields = {f"{m.__name__}.{n}" for m in odd.parameter_models() for n in m.model_fields}
    assert KNOWN_GAPS <= fields, f"KNOWN_GAPS names fields that no longer exist: {KNOWN_GAPS - fields}"


def test_no_field_lacks_description_or_source():
    assert odd.missing_docs() == []


# ------------------------------------------------------------- the generator itself

class _Probe(BaseModel):
    a: float = Field(0.25, gt=0, lt=1, description="open interval", json_schema_extra={"source": "S1", "unit": "u"})
    b: int | None = Field(None, ge=2, description="optional, lower bound only", json_schema_extra={"source": "S2"})
    c: Literal["x", "y"] = Field("x", description="choice | with a pipe")
    d: list[float] = Field(default_factory=lambda: [0.5, 2.0], min_length=1, max_length=3, description="list")


def test_model_table_reads_ranges_units_and_escapes():
    text = odd.model_table(_Probe, "probe")
    assert _row(text, "probe.a") == ["`probe.a`", "0.25", "(0, 1)", "u", "open interval", "S1"]
    assert _row(text, "probe.b")[1:3] == ["None", "≥ 2 or None"]
    assert _row(text, "probe.c")[2:5] == ["one of `x`, `y`", "—", "choice \\| with a pipe"]
    assert _row(text, "probe.d")[1:3] == ["[0.5, 2]", "list of float, 1–3 items"]


def test_write_odd_replaces_only_the_block(tmp_path):
    path = tmp_path / "ODD.md"
    path.write_text(f"# head\n{odd.BEGIN}\nstale\n{odd.END}\ntail\n", encoding="utf-8")
    assert odd.main([str(path), "--check"], echo=lambda _: None) == 1
    assert odd.write_odd(path) is True
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"# head\n{odd.BEGIN}\n") and text.endswith(f"\n{odd.END}\ntail\n")
    assert "stale" not in text
    assert odd.write_odd(path) is False  # idempotent
    assert odd.main([str(path), "--check"], echo=lambda _: None) == 0


def test_missing_or_duplicated_markers_are_errors(tmp_path):
    path = tmp_path / "ODD.md"
    path.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(ValueError):
        odd.write_odd(path)
    path.write_text(f"{odd.BEGIN}\n{odd.END}\n{odd.BEGIN}\n", encoding="utf-8")
    with pytest.raises(ValueError):
        odd.write_odd(path)
