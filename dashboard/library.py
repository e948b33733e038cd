"""Scenarios for the dashboard: the library, uploads (parsed as data only), TOML export.

Built on :mod:`sim.scenarios`; nothing here touches Streamlit. Every user-facing
problem is a :class:`sim.scenarios.ScenarioError` with a one-line message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w

from sim.limits import MAX_UPLOAD_BYTES, LimitError, check_upload  # noqa: F401 - the cap lives in sim/limits.py
from sim.params import Scenario, set_path
from sim.scenarios import ScenarioError, parse_toml_bytes, apply_overrides, deep_merge, load_scenario, scenario_library, validate_data

DEFAULT_NAME = "baseline"
UPLOAD_PREFIX = "uploaded: "


def library() -> dict[str, str]:
    """Library scenario names -> one-line descriptions (the model defaults when the
    library folder is empty)."""
    entries = {name: desc for name, _, desc in scenario_library()}
    return entries or {"default": Scenario().description}


def default_name() -> str:
    names = library()
    return DEFAULT_NAME if DEFAULT_NAME in names else next(iter(names))


def load_library(name: str) -> Scenario:
    """A library scenario by name (raises ScenarioError for an unknown name)."""
    paths = {n: p for n, p, _ in scenario_library()}
    if name in paths:
        return load_scenario(paths[name])
    if not paths and name == "default":
        return Scenario()
    raise ScenarioError(f"no library scenario called {name!r} (available: {', '.join(library())})")


def parse_upload(data: bytes, filename: str = "upload.toml") -> Scenario:
    """Validate an uploaded scenario file from its bytes alone.

    The file is read as TOML data; nothing in it is executed and no file path in it is
    followed: ``extends`` may only name a library scenario (``extends = "baseline"``).
    """
    source = Path(filename).name or "upload.toml"
    try:
        check_upload(len(data), what=f"{source}: too large")
    except LimitError as exc:
        raise ScenarioError(str(exc)) from None
    doc: dict[str, Any] = parse_toml_bytes(data, source)
    named = "name" in doc
    ext = doc.pop("extends", None)
    if ext is not None:
        name = str(ext).removesuffix(".toml")
        if not isinstance(ext, str) or "/" in name or "\\" in name or name not in library():
            raise ScenarioError(f"{source}: extends = {ext!r}: an uploaded file may only extend a library "
                                f"scenario ({', '.join(library())})")
        doc = deep_merge(load_library(name).model_dump(), doc, (), source)
    if not named:
        doc["name"] = Path(source).stem
    return validate_data(doc, source=source)


def with_changes(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """``scenario`` with dotted overrides applied (ScenarioError with a readable message)."""
    if not overrides:
        return scenario
    data = scenario.model_dump()
    for path, value in overrides.items():
        try:
            set_path(data, path, value)
        except (KeyError, IndexError, TypeError):
            apply_overrides(scenario, {path: value})  # raises ScenarioError naming the bad path
    try:
        return validate_data(data, source="scenario")
    except ScenarioError as exc:
        raise ScenarioError(str(exc).removeprefix("scenario: ")) from None


def scenario_toml(scenario: Scenario) -> str:
    """A complete scenario file for ``scenario`` (None values are left out: they are defaults)."""
    head = f"# {scenario.description}\n" if scenario.description else ""
    return head + tomli_w.dumps(scenario.model_dump(mode="json", exclude_none=True))
