"""Stakeholder map import (sim/stakeholder_map.py): mapping rules and one-line errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import sim
from sim.scenarios import SCENARIO_DIR, load_scenario
from sim.stakeholder_map import MapError, convert, map_to_data, read_map

EXAMPLE = SCENARIO_DIR / "maps" / "example_map.csv"
HEADER = "name,department,power,interest,attitude,listens_to\n"


def write(tmp_path: Path, text: str | bytes, name: str = "map.csv") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def test_example_map_converts_validates_and_runs(tmp_path):
    text, sc = convert(EXAMPLE)
    assert text.startswith("# ")
    out = write(tmp_path, text, "example.toml")
    again = load_scenario(out)
    assert again.model_dump(exclude={"name", "description"}) == sc.model_dump(exclude={"name", "description"})
    assert [d.name for d in sc.departments] == ["engineering", "sales", "legal", "design"]
    result = sim.run(sc, seed=3, timeseries=False)
    assert result.summary["outcome"] in {"delivered", "failed", "abandoned"}


def test_mapping_rules(tmp_path):
    p = write(tmp_path, HEADER +
              "Ann,Engineering,0.4,0.5,neutral,Bob\n"
              "Bob,engineering,high,0.9,resistant,Ann;Cy\n"
              "Cy,engineering,0.2,low,0.5,\n"
              "Dee,sales,0.7,0.8,supportive,Bob\n"
              "Eve,legal,0.6,0.2,-0.5,\n")
    data = map_to_data(read_map(p), name="t", source=str(p))
    eng, sales, legal = data["departments"]
    # the highest-power person leads; the others are members
    assert eng["name"] == "engineering" and eng["members"] == 2 and eng["power"] == 0.8
    assert eng["legitimacy"] == 0.8 and eng["urgency"] == 0.9          # lead Bob: power high, interest 0.9
    assert eng["initial_trust"] == pytest.approx(0.3)                   # resistant: 0.6 - 0.3
    assert eng["reservation"] == pytest.approx(0.85)                    # template 0.8 + 0.05
    assert eng["capacity"] == 2.0 and eng["veto"] is True                # one effort/day per member
    assert sales["initial_trust"] == pytest.approx(0.9) and sales["members"] == 0 and "capacity" not in sales
    assert legal["initial_trust"] == pytest.approx(0.45) and legal["urgency"] == 0.2
    # listens_to pairs: Ann-Bob, Bob-Cy (inside engineering: 2 of 3 pairs), Dee-Bob (across: 1 of 7)
    assert data["network"] == {"p_in": round(2 / 3, 3), "p_out": round(1 / 7, 3)}


def test_cli_writes_a_loadable_file(tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app

    out = tmp_path / "from_map.toml"
    r = CliRunner().invoke(app, ["from-map", str(EXAMPLE), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "wrote" in r.stdout and "4 departments" in r.stdout
    tomllib.loads(out.read_text())
    assert load_scenario(out).name == "from_map"
    r = CliRunner().invoke(app, ["from-map", str(EXAMPLE)])
    assert r.exit_code == 0 and r.stdout.startswith("# Scenario imported")


BAD_MAPS = {
    "empty": ("", ["empty file"]),
    "header_only": (HEADER, ["no people"]),
    "missing_column": ("name,department,power,interest,attitude,listens\nA,engineering,1,1,neutral,\n",
                       ["row 1", "missing column 'listens_to'", "did you mean 'listens'"]),
    "semicolons": ("name;department;power;interest;attitude;listens_to\n", ["row 1", "commas"]),
    "unknown_listener": (HEADER + "Ann,engineering,0.5,0.5,neutral,Bobb\nBob,sales,0.5,0.5,neutral,\n",
                         ["row 2", "column 'listens_to'", "'Bobb'", "did you mean 'Bob'"]),
    "duplicate": (HEADER + "Ann,engineering,0.5,0.5,neutral,\nBob,sales,0.5,0.5,neutral,\nAnn,legal,0.5,0.5,neutral,\n",
                  ["row 4", "column 'name'", "duplicate name 'Ann'", "first on row 2"]),
    "bad_power": (HEADER + "Ann,engineering,huge,0.5,neutral,\n", ["row 2", "column 'power'", "'huge'", "low / medium / high"]),
    "power_range": (HEADER + "Ann,engineering,5,0.5,neutral,\n", ["row 2", "column 'power'", "'5'"]),
    "empty_interest": (HEADER + "Ann,engineering,0.5,,neutral,\n", ["row 2", "column 'interest'", "empty cell"]),
    "bad_attitude": (HEADER + "Ann,engineering,0.5,0.5,supportve,\n", ["row 2", "column 'attitude'", "did you mean 'supportive'"]),
    "empty_name": (HEADER + ",engineering,0.5,0.5,neutral,\n", ["row 2", "column 'name'", "empty name"]),
    "empty_department": (HEADER + "Ann,,0.5,0.5,neutral,\n", ["row 2", "column 'department'"]),
    "self_listen": (HEADER + "Ann,engineering,0.5,0.5,neutral,Ann\n", ["row 2", "lists themself"]),
    "too_many_cells": (HEADER + "Ann,engineering,0.5,0.5,neutral,Bob,Cy\n", ["row 2", "7 cells", "6 columns"]),
    "no_engineering": (HEADER + "Ann,sales,0.5,0.5,neutral,\n", ["no engineering department"]),
    "binary": (bytes(range(256)), ["binary data"]),
    "non_utf8": (HEADER.encode() + b"Jos\xe9,engineering,0.5,0.5,neutral,\n", ["not UTF-8"]),
}


@pytest.mark.parametrize("case", sorted(BAD_MAPS))
def test_bad_maps_give_one_line_naming_row_and_column(tmp_path, case):
    content, fragments = BAD_MAPS[case]
    p = write(tmp_path, content)
    with pytest.raises(MapError) as info:
        convert(p)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(str(p))
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in {msg!r}"


def test_bad_map_on_the_command_line_exits_2_with_one_line(tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app

    p = write(tmp_path, BAD_MAPS["unknown_listener"][0])
    r = CliRunner().invoke(app, ["from-map", str(p)])
    assert r.exit_code == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: ") and "row 2" in r.stderr
    assert r.stdout == ""


def test_excel_style_header_and_bom_are_accepted(tmp_path):
    p = write(tmp_path, "\ufeffName,Department,Power,Interest,Attitude,Listens To,Notes\n"
                        "Ann,engineering,medium,high,supportive,,likes demos\n"
                        "Bob,engineering,low,low,neutral,Ann,\n")
    people = read_map(p)
    assert [x.name for x in people] == ["Ann", "Bob"] and people[1].listens_to == ("Ann",)
    assert people[0].power == 0.5 and people[0].interest == 0.8
