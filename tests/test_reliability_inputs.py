"""Bad input to the loaders, by hypothesis (issue 8, item 1).

Any input to the scenario loader (:func:`sim.scenarios.load_scenario`), the experiment
loader (:func:`sim.batch.spec.load_experiment` / :func:`~sim.batch.spec.prepare`) and
the stakeholder-map importer (:func:`sim.stakeholder_map.convert`) gives either a valid
object or the project's own error (:class:`~sim.scenarios.ScenarioError`,
:class:`~sim.batch.spec.ExperimentError`, :class:`~sim.stakeholder_map.MapError`) whose
message is one line naming the file (and, for a bad value, the field); never another
exception. The CLI turns those errors into exit code 2 with one ``error:`` line.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import math
import string
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from reliability_cases import case
from reliability_strategies import scenario_data
from sim.batch.spec import ExperimentError, load_experiment, prepare
from sim.params import Scenario
from sim.scenarios import SCENARIO_DIR, ScenarioError, apply_overrides, load_scenario, parse_assignment, validate_data
from sim.stakeholder_map import COLUMNS, MapError, convert

ROOT = Path(__file__).resolve().parents[1]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))

# ---------------------------------------------------------------- bad values
HUGE_INT = 2**70
BAD_SCALARS = st.sampled_from([
    math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, HUGE_INT, -HUGE_INT, 2**63 - 1, -(2**63),
    -1, -1.0, -0.0, 0, 1, 10**9, "", " ", "0.5", "nan", "true", "engineering", "x" * 5000, "\u202e\u0000",
    True, False, [], [1, 2], ["a", "b"], {}, {"a": 1}, {"name": "x"}, [{}], dt.date(2024, 1, 1),
    dt.datetime(2024, 1, 1, 12, 0), dt.time(12, 0),
]).map(copy.deepcopy)  # a fresh object each time: documents are mutated in place


def one_line(msg: str, *where: str) -> None:
    """``msg`` is one line and names one of ``where`` (a file)."""
    assert "\n" not in msg and "\r" not in msg, f"error message is not one line: {msg!r}"
    assert any(w in msg or Path(w).name in msg for w in where), f"error message does not name {where}: {msg!r}"
    assert "Traceback" not in msg


def leaves(node, prefix=()):
    """Every (path, value) in a nested dict/list."""
    if isinstance(node, dict):
        yield prefix, node
        for k, v in node.items():
            yield from leaves(v, prefix + (k,))
    elif isinstance(node, list):
        yield prefix, node
        for i, v in enumerate(node):
            yield from leaves(v, prefix + (i,))
    else:
        yield prefix, node


def set_at(node, path, value):
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value


def delete_at(node, path):
    for p in path[:-1]:
        node = node[p]
    del node[path[-1]]


@st.composite
def mutated_scenario(draw):
    """A valid scenario document with 1-3 mutations: bad values, deletions, unknown keys,
    duplicated names, unknown references, emptied tables and lists.

    Returns ``(document, names)``: ``names`` are the keys the mutations touched (an error
    about a bad value must name one of them, or the table it sits in)."""
    doc = draw(scenario_data())
    doc["name"] = draw(st.sampled_from(["mutant", "ünï", "a b"]))
    touched: set[str] = set()
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p, _ in leaves(doc) if p]
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(["value", "value", "value", "delete", "unknown_key", "duplicate", "unknown_ref",
                                     "empty"]))
        touched.update(str(p) for p in path if isinstance(p, str))
        try:
            if kind == "value":
                set_at(doc, path, draw(BAD_SCALARS))
            elif kind == "delete":
                delete_at(doc, path)
            elif kind == "unknown_key":
                parent = doc
                for p in path[:-1]:
                    parent = parent[p]
                if isinstance(parent, dict):
                    parent[draw(st.sampled_from(["colour", "Capacity", "deadline_", "x.y", "extends_"]))] = 1
            elif kind == "duplicate":
                lst = draw(st.sampled_from([doc["departments"], doc["project"]["features"]]))
                if isinstance(lst, list) and lst:
                    lst.append(dict(lst[0]) if isinstance(lst[0], dict) else lst[0])
                touched.update({"departments", "features", "name"})
            elif kind == "unknown_ref":
                target = draw(st.sampled_from(["strategy", "tactic", "hard_limit", "archetype", "concession"]))
                if target == "strategy":
                    doc.setdefault("pm", {})["strategy"] = draw(st.sampled_from(["blaanced", "Pressure", "", "*"]))
                elif target == "tactic":
                    doc["tactics"] = {draw(st.sampled_from(["presure", "bribery", ""])): {"cost": 1}}
                elif target == "hard_limit" and doc.get("departments"):
                    doc["departments"][0]["hard_limit"] = draw(st.sampled_from(["speed", "Safety", ""]))
                elif target == "archetype":
                    doc.setdefault("pm", {})["archetype"] = "wizard"
                else:
                    doc.setdefault("pm", {})["concession"] = "stubborn"
                touched.update({"pm", "strategy", "tactics", "hard_limit", "archetype", "concession", "departments"})
            else:  # empty a table or a list
                value = {} if isinstance(draw(st.sampled_from([{}, []])), dict) else []
                set_at(doc, path, value)
        except (KeyError, IndexError, TypeError):
            pass  # the path vanished under an earlier mutation
    return doc, touched


def drop_none(obj):
    if isinstance(obj, dict):
        return {k: drop_none(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [drop_none(v) for v in obj if v is not None]
    return obj


def write_toml(path: Path, doc: dict) -> bool:
    """Write ``doc`` as TOML (None means "left out"); False if TOML cannot express it."""
    try:
        path.write_text(tomli_w.dumps(drop_none(doc)), encoding="utf-8")
    except (TypeError, ValueError):
        return False
    return True


def load_or_error(path: Path, *also: Path):
    """The loader's answer: a Scenario, or the ScenarioError's message (checked: one line, names the
    file or, for a problem in a file it extends, that file)."""
    try:
        sc = load_scenario(path)
    except ScenarioError as exc:
        one_line(str(exc), str(path), *map(str, also))
        return str(exc)
    assert isinstance(sc, Scenario)
    return sc


# ================================================================ scenario files
@case("input", "scenario file of random bytes (any length, NUL bytes, invalid UTF-8, BOMs)",
      "ScenarioError naming the file: binary data / not UTF-8 (byte and offset) / not valid TOML (line and "
      "column) / empty file; never another exception", count=FAST.max_examples)
@FAST
@given(data=st.binary(max_size=400))
@example(data=b"")
@example(data=b"\xff\xfe\x00x")
@example(data=b"\xef\xbb\xbf")
@example(data=b"[project]\ndeadline = 1\xe9")
@example(data=b"x = " + b"[" * 2000 + b"]" * 2000)  # nesting deeper than Python's recursion limit
@example(data=b"x = " + b"{a = " * 2000 + b"1" + b"}" * 2000)
def test_scenario_random_bytes(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("bytes") / "random.toml"
    p.write_bytes(data)
    load_or_error(p)


@case("input", "library scenario files truncated at a random byte, or with a random byte replaced by an "
      "invalid UTF-8 byte (0x80-0xFF)",
      "either still a valid scenario or a one-line ScenarioError naming the file (and line/column or field)",
      count=FAST.max_examples)
@FAST
@given(name=st.sampled_from(sorted(p.name for p in SCENARIO_DIR.glob("*.toml"))), cut=st.floats(0, 1),
       bad=st.integers(0x80, 0xFF), mode=st.sampled_from(["truncate", "corrupt"]))
def test_scenario_truncated_or_corrupted(tmp_path_factory, name, cut, bad, mode):
    raw = (SCENARIO_DIR / name).read_bytes()
    at = int(cut * len(raw))
    data = raw[:at] if mode == "truncate" else raw[:at] + bytes([bad]) + raw[at + 1:]
    folder = tmp_path_factory.mktemp("trunc")
    for other in SCENARIO_DIR.glob("*.toml"):  # so "extends" still finds its base
        (folder / other.name).write_bytes(other.read_bytes())
    p = folder / name
    p.write_bytes(data)
    result = load_or_error(p)
    if mode == "corrupt" and isinstance(result, str) and "UTF-8" in result:
        assert f"offset {at}" in result, result


@case("input", "random TOML scenario documents built from the schema with 1-3 mutations: huge numbers "
      "(1e308, 2**70), NaN, +-inf, negative sizes, wrong types (strings, bools, lists, tables, dates), "
      "deleted keys, unknown keys, duplicate department/feature names, unknown strategy/tactic/hard limit/"
      "archetype, empty tables and lists",
      "a valid scenario, or a one-line ScenarioError naming the file and the field with the allowed range/"
      "type/choices (did-you-mean for near misses)", count=SLOW.max_examples * 3)
@settings(max_examples=SLOW.max_examples * 3, deadline=None, suppress_health_check=list(HealthCheck))
@given(mut=mutated_scenario())
def test_scenario_mutated_documents(tmp_path_factory, mut):
    doc, touched = mut
    p = tmp_path_factory.mktemp("mut") / "mutant.toml"
    assume(write_toml(p, doc))
    result = load_or_error(p)
    if isinstance(result, str):
        named = [t for t in touched if t in result] + [w for w in ("top level", "department", "feature", "unique",
                                                                  "horizon", "capacity", "name", "tactic",
                                                                  "strategy", "weight") if w in result]
        assert named, f"the error names none of the touched fields {sorted(touched)}: {result}"


@case("input", "random JSON-like structures (nested dicts/lists of random scalars) given to "
      "validate_data, the function behind every loader",
      "ScenarioError (never a pydantic ValidationError, TypeError or RecursionError)", count=FAST.max_examples)
@FAST
@given(data=st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                         lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
                             st.sampled_from(["pm", "departments", "project", "name", "network", "tactics",
                                              "features", "weights", "x", "events"]), kids, max_size=4),
                         max_leaves=20))
def test_validate_data_random_structures(data):
    doc = data if isinstance(data, dict) else {"departments": data}
    try:
        validate_data(doc, source="random.toml")
    except ScenarioError as exc:
        one_line(str(exc), "random.toml")


@case("input", "extends pointing at: a missing file, a directory, itself, a cycle of two files, a non-string, "
      "an empty string, a binary file, a file outside the folder (../)",
      "ScenarioError naming the file: not found (with did-you-mean) / is a directory / cyclic extends / "
      "must be a file name / binary data", count=8)
@pytest.mark.parametrize("target", ["missing.toml", "sub", "self.toml", "b.toml", 5, "", "bin.toml", "../outside.toml"])
def test_scenario_bad_extends(tmp_path, target):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "sub").mkdir()
    (folder / "bin.toml").write_bytes(b"\x00\x01")
    (folder / "b.toml").write_text('extends = "self.toml"\n')
    (tmp_path / "outside.toml").write_text("[pm]\nownership = 2.0\n")
    p = folder / "self.toml"
    p.write_text(tomli_w.dumps({"extends": target, "pm": {"ownership": 0.5}}))
    result = load_or_error(p, *folder.iterdir(), tmp_path / "outside.toml")
    assert isinstance(result, str), f"extends = {target!r} was accepted"


@case("input", "--set overrides with random text (no '=', empty path, unknown paths, list indices out of "
      "range, bad values)", "ScenarioError naming the override; never KeyError/IndexError/TypeError",
      count=FAST.max_examples)
@FAST
@given(text=st.text(alphabet=string.ascii_letters + string.digits + "._=-[]\"' ", max_size=40)
       | st.sampled_from(["pm.ownership=2", "departments.9.members=1", "departments.legal.weights=1",
                          "project.features.0.effort=-1", "pm=1", "tactics.pressure.cost=0", "a..b=1",
                          "departments.engineering=\"x\"", "project.horizon=nan", "pm.ownership=inf"]))
def test_overrides_random_text(text):
    try:
        path, value = parse_assignment(text)
        apply_overrides(Scenario(), {path: value})
    except ScenarioError as exc:
        assert "\n" not in str(exc)


# ================================================================ experiment files
EXP_BASE = {"name": "exp", "scenario": "default", "replications": 2, "seed": 1, "outcomes": ["delivered"],
            "design": {"method": "grid"}, "factors": {"pm.ownership": [0.2, 0.8]}}
EXP_BAD = st.one_of(BAD_SCALARS, st.sampled_from([
    {"low": 0, "high": math.inf, "type": "int"}, {"low": math.nan, "high": 1}, {"low": 1, "high": 0},
    {"low": -1e308, "high": 1e308}, {"values": []}, {"values": ["*"]}, ["*"], [math.nan], [math.inf],
    {"low": 0, "high": 1, "type": "complex"}, {"lo": 0}, "departments.*.members", {"values": [1, "a", True]},
]).map(copy.deepcopy))
EXP_KEYS = ["name", "scenario", "replications", "seed", "outcomes", "timeseries", "common_random_numbers",
            "design", "design.method", "design.samples", "design.levels", "factors", "factors.pm.ownership",
            "factors.departments.*.members", "factors.nope.x", "factors.scenario", "factors.pm.strategy",
            "factors.project.horizon", "extra"]


@st.composite
def mutated_experiment(draw):
    doc = copy.deepcopy(EXP_BASE)
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(EXP_KEYS))
        value = draw(EXP_BAD)
        if key.startswith("factors."):
            doc.setdefault("factors", {}) if isinstance(doc.get("factors"), dict) else None
            if isinstance(doc.get("factors"), dict):
                doc["factors"][key.removeprefix("factors.")] = value
        elif key.startswith("design."):
            if isinstance(doc.get("design"), dict):
                doc["design"][key.removeprefix("design.")] = value
        elif draw(st.booleans()):
            doc[key] = value
        else:
            doc.pop(key, None)
    return doc


def experiment_or_error(path: Path):
    try:
        spec = load_experiment(path)
    except ExperimentError as exc:
        one_line(str(exc), str(path))
        return str(exc)
    try:
        return prepare(spec, path, probe=False)
    except ExperimentError as exc:
        one_line(str(exc), str(path))
        return str(exc)


@case("input", "experiment file of random bytes (invalid UTF-8, NUL bytes, empty)",
      "ExperimentError naming the file (not UTF-8 / not valid TOML / field errors)", count=FAST.max_examples)
@FAST
@given(data=st.binary(max_size=300))
@example(data=b"name = \"x\xff\"")
@example(data=b"\xff\xfe")
@example(data=b"name = " + b"[" * 2000 + b"]" * 2000)
def test_experiment_random_bytes(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("eb") / "random_exp.toml"
    p.write_bytes(data)
    experiment_or_error(p)


@case("input", "random experiment documents with 1-3 mutations: bad scalars in every field, ranges with "
      "inf/NaN/low>high bounds, int ranges to infinity, empty choices, '*' outside registries, unknown "
      "parameter paths and outcomes, missing keys, unknown keys",
      "a prepared design or one ExperimentError line naming the file and the field", count=SLOW.max_examples * 3)
@settings(max_examples=SLOW.max_examples * 3, deadline=None, suppress_health_check=list(HealthCheck))
@given(doc=mutated_experiment())
@example(doc={**EXP_BASE, "design": {"method": "lhs", "samples": 4},
              "factors": {"project.horizon": {"low": 0, "high": math.inf, "type": "int"}}})
@example(doc={**EXP_BASE, "design": {"method": "lhs", "samples": 4},
              "factors": {"project.horizon": {"low": -math.inf, "high": 0, "type": "int"}}})
def test_experiment_mutated_documents(tmp_path_factory, doc):
    p = tmp_path_factory.mktemp("em") / "mutant_exp.toml"
    assume(write_toml(p, doc))
    experiment_or_error(p)


# ================================================================ stakeholder maps
NAMES = ["Ann", "Bob", "Cem", "Dee", "Eve", "Fay", "Gus", "ann", "Ann ", "Zoë", "O'Neil, Jr", "=cmd|' /C calc'!A0"]
DEPTS = ["engineering", "sales", "legal", "design", "Finance", "ops", "", " engineering", "x" * 200]
LEVEL = st.one_of(st.sampled_from(["low", "medium", "HIGH", "med", "", "nan", "inf", "-inf", "1e309", "-0.1",
                                   "1.0000001", "0", "1", "½", "high-ish", "0x1", "1_0"]),
                  st.floats(-2, 2).map(repr))
ATT = st.one_of(st.sampled_from(["supportive", "neutral", "resistant", "Resistant", "suportive", "", "nan",
                                 "-1", "1", "2", "hostile"]), st.floats(-2, 2).map(repr))


@st.composite
def stakeholder_map(draw) -> bytes:
    """A CSV stakeholder map with random rows: duplicate names, unknown listens_to references,
    self references, bad levels and attitudes, missing/duplicated/extra columns, ragged rows."""
    cols = list(COLUMNS)
    shape = draw(st.sampled_from(["ok", "ok", "ok", "missing", "dup", "extra", "semicolons", "upper"]))
    if shape == "missing":
        cols.remove(draw(st.sampled_from(COLUMNS)))
    elif shape == "dup":
        cols.append(draw(st.sampled_from(COLUMNS)))
    elif shape == "extra":
        cols.insert(draw(st.integers(0, len(cols))), "notes")
    elif shape == "upper":
        cols = [c.upper().replace("_", " ") for c in cols]
    n = draw(st.integers(0, 12))
    rows = []
    names = draw(st.lists(st.sampled_from(NAMES), min_size=n, max_size=n))
    for i in range(n):
        listens = draw(st.lists(st.sampled_from(NAMES + ["Nobody", ""]), max_size=3))
        cells = {"name": names[i], "department": draw(st.sampled_from(DEPTS)), "power": draw(LEVEL),
                 "interest": draw(LEVEL), "attitude": draw(ATT), "listens_to": ";".join(listens), "notes": "n, b"}
        row = [cells.get(c.lower().replace(" ", "_"), "") for c in cols]
        if draw(st.integers(0, 9)) == 0:
            row = row[: draw(st.integers(0, len(row)))] + (["surplus"] if draw(st.booleans()) else [])
        rows.append(row)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";" if shape == "semicolons" else ",")
    writer.writerow(cols)
    writer.writerows(rows)
    data = buf.getvalue().encode("utf-8")
    tail = draw(st.sampled_from(["none", "none", "none", "none", "bom", "latin1", "truncate", "nul"]))
    if tail == "bom":
        data = b"\xef\xbb\xbf" + data
    elif tail == "latin1":
        data = buf.getvalue().encode("latin-1", errors="replace") + "Zoë".encode("latin-1")
    elif tail == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif tail == "nul":
        data = data + b"\x00"
    return data


def map_or_error(path: Path):
    try:
        text, sc = convert(path)
    except MapError as exc:
        one_line(str(exc), str(path))
        return str(exc)
    except ScenarioError as exc:  # the converted scenario failed validation: still names the file
        one_line(str(exc), str(path))
        return str(exc)
    assert isinstance(sc, Scenario)
    import tomllib

    assert tomllib.loads(text)  # the TOML written is readable again
    return sc


@case("input", "random stakeholder maps (CSV), read by pmsim from-map and by the dashboard's map table: duplicate names, listens_to naming unknown people or "
      "themselves, bad power/interest/attitude cells (NaN, inf, 1e309, out of range, typos), missing, "
      "duplicated or extra columns, ';' as separator, ragged rows, CSV-injection names, BOM, Latin-1 "
      "bytes, truncation, NUL bytes, no rows, no engineering",
      "a valid scenario (plus TOML) or one MapError line naming the file, the row and the column",
      count=SLOW.max_examples * 4)
@settings(max_examples=SLOW.max_examples * 4, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=stakeholder_map())
def test_stakeholder_map_random(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("map") / "people.csv"
    p.write_bytes(data)
    result = map_or_error(p)
    if isinstance(result, str) and "row " in result and "row 1" not in result:
        assert "column" in result or "cells" in result or "no engineering" in result, result
    # the dashboard's map table reads the same bytes: a table exactly when read_map accepts them
    from dashboard.organisation import frame_from_csv
    from sim.stakeholder_map import read_map

    try:
        people = read_map(p)
    except MapError:
        people = None
    try:
        table = frame_from_csv(data)
    except ScenarioError as exc:
        assert people is None, f"the dashboard refused a map pmsim from-map accepts: {exc}"
        return
    assert people is not None and table["name"].str.strip().tolist() == [q.name for q in people]


@case("input", "stakeholder map of random bytes, and one whose cell is longer than the csv module's field "
      "limit (200,000 characters)", "MapError naming the file", count=FAST.max_examples + 1)
@FAST
@given(data=st.binary(max_size=300))
@example(data=b"name,department,power,interest,attitude,listens_to\n" + b"A" * 200_000 + b",engineering,1,1,neutral,\n")
def test_stakeholder_map_random_bytes(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("mapb") / "bytes.csv"
    p.write_bytes(data)
    map_or_error(p)


# ================================================================ the command line
def cli(argv: list[str], capsys) -> tuple[int, str, str]:
    from sim.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


CLI_BAD = [
    ("run", b"\xff\xfe\x00", "binary data"),
    ("run", b"[project]\ndeadline = 10\nhorizon = 5\n", "horizon"),
    ("run", b"[pm]\nownership = nan\n", "pm.ownership"),
    ("run", b"[[departments]]\nname = \"a\"\nmembers = -3\nweights = {value = 1}\ncapacity = 1\n", "members"),
    ("run", b"[pm\n", "not valid TOML"),
    ("validate", b"[[departments]]\nname = \"a\"\nweights = {value = 1}\ncapacity = 1\n"
                 b"[[departments]]\nname = \"a\"\nweights = {value = 1}\n", "unique"),
    ("from-map", b"name,department,power,interest,attitude,listens_to\nA,engineering,high,low,neutral,B\n", "'B'"),
    ("from-map", b"name,department,power,interest,attitude,listens_to\nA,engineering,nan,low,neutral,\n", "power"),
    ("sweep", b"name = \"x\"\nreplications = -1\n", "replications"),
    ("sweep", b"name = \"x\"\nscenario = \"default\"\n[factors]\n\"pm.nope\" = [1]\n", "nope"),
]


@case("input", "the CLI (run, validate, from-map, sweep) given binary files, inconsistent horizons, NaN, "
      "negative member counts, broken TOML, duplicate department names, maps with unknown references and "
      "NaN cells, experiments with negative replications and unknown parameters",
      "exit code 2 and one 'error:' line naming the file and the field; no traceback", count=len(CLI_BAD))
@pytest.mark.parametrize("command,data,field", CLI_BAD, ids=[f"{c}-{f}" for c, _, f in CLI_BAD])
def test_cli_bad_files_exit_2(tmp_path, capsys, command, data, field):
    p = tmp_path / ("in.csv" if command == "from-map" else "in.toml")
    p.write_bytes(data)
    code, out, err = cli([command, str(p)], capsys)
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert str(p) in lines[0] and field in lines[0], err
    assert "Traceback" not in err + out
