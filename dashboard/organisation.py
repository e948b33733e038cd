"""A stakeholder map edited as a table -> a scenario (no Streamlit here).

The table has the columns of a map file (see :mod:`sim.stakeholder_map`); it is written
to a temporary CSV and read back with :func:`sim.stakeholder_map.read_map`, so the
table and ``pmsim from-map`` apply exactly the same checks and conversion.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

import pandas as pd

from sim.limits import LimitError, check_upload
from sim.params import Scenario
from sim.scenarios import ScenarioError, validate_data
from sim.stakeholder_map import COLUMNS, MapError, map_to_data, read_map, to_toml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_MAP = ROOT / "scenarios" / "maps" / "example_map.csv"
MAX_PEOPLE = 2000


def empty_map() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("power", "interest") else "object")
                         for c in COLUMNS})


def example_map() -> pd.DataFrame:
    """The example map shipped in scenarios/maps (an empty table when it is missing)."""
    if not EXAMPLE_MAP.is_file():
        return empty_map()
    return frame_from_csv(EXAMPLE_MAP.read_bytes())


def frame_from_csv(data: bytes) -> pd.DataFrame:
    """A map table from CSV bytes (data only); raises MapError for a file that is not a map."""
    try:
        check_upload(len(data), what="the map")
    except LimitError as exc:
        raise MapError(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="pmsim-map-") as tmp:
        path = Path(tmp) / "map.csv"
        path.write_bytes(data)
        try:
            read_map(path)  # the same checks as pmsim from-map, with row numbers
        except MapError as exc:
            raise MapError(_readable(str(exc), tmp)) from None
    # the cells exactly as read_map saw them (csv module): pandas would shift a row with a
    # trailing empty cell into an index column, or fail on a ragged row read_map accepts
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header = ["_".join(c.strip().lower().replace("-", " ").split()) for c in rows[0]]
    where = {c: header.index(c) for c in COLUMNS}
    records = [[(cells[where[c]] if where[c] < len(cells) else "") for c in COLUMNS]
               for cells in rows[1:] if any(c.strip() for c in cells)]
    df = pd.DataFrame(records, columns=list(COLUMNS), dtype=object)
    for col in ("power", "interest"):
        levels = {"low": 0.2, "medium": 0.5, "med": 0.5, "high": 0.8}
        df[col] = [levels.get(v.strip().lower(), v) for v in df[col]]
        df[col] = pd.to_numeric(df[col], errors="coerce")
    return df.reset_index(drop=True)


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("\n", " ")


def frame_to_csv(df: pd.DataFrame) -> str:
    out = io.StringIO()
    clean = pd.DataFrame({c: [_cell(v) for v in df[c]] if c in df else "" for c in COLUMNS})
    clean = clean[[any(str(v).strip() for v in row) for row in clean.itertuples(index=False)]]
    clean.to_csv(out, index=False)
    return out.getvalue()


def _readable(message: str, tmp: str) -> str:
    """Messages of read_map name the temporary file and spreadsheet rows (header = row 1):
    say "table row N" with N counted from the first person instead."""
    message = message.replace(str(Path(tmp) / "map.csv") + ": ", "").replace(str(tmp), "")
    return re.sub(r"\brow (\d+)", lambda m: f"table row {int(m.group(1)) - 1}" if m.group(1) != "1"
                  else "the header", message)


def map_to_scenario(df: pd.DataFrame, name: str = "my_organisation") -> tuple[Scenario, str]:
    """The scenario the table describes and its TOML text; raises MapError/ScenarioError with
    a one-line message naming the table row and column."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name.strip()) or "my_organisation"
    text = frame_to_csv(df)
    people_rows = text.count("\n") - 1
    if people_rows < 1:
        raise MapError("the table is empty: add at least one person per department (engineering builds)")
    if people_rows > MAX_PEOPLE:
        raise MapError(f"{people_rows} people is more than the page converts ({MAX_PEOPLE}); use `pmsim from-map`")
    with tempfile.TemporaryDirectory(prefix="pmsim-map-") as tmp:
        path = Path(tmp) / "map.csv"
        path.write_text(text, encoding="utf-8")
        try:
            people = read_map(path)
            data = map_to_data(people, name=name, source="the table")
            scenario = validate_data(data, source="the table")
        except ScenarioError as exc:
            raise type(exc)(_readable(str(exc), tmp)) from None
    data["description"] = data["description"].replace("the stakeholder map the table", "the table")
    scenario = scenario.model_copy(update={"description": data["description"]})
    return scenario, to_toml(data, source="the dashboard's table")


def departments_table(scenario: Scenario) -> pd.DataFrame:
    """What the conversion made of each department."""
    return pd.DataFrame([{"department": d.name, "members": d.members, "capacity": d.capacity,
                          "power": d.power, "urgency": d.urgency, "trust in the PM": d.initial_trust,
                          "reservation": d.reservation, "veto": d.veto} for d in scenario.departments])
