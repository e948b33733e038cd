"""Experiment files: the typed description of a sweep (TOML, validated by pydantic).

An experiment names a base scenario, the factors to vary (dotted parameter paths, as
in :meth:`sim.Scenario.with_overrides`), how to lay out the design, how many
replications to run per design point, a master seed and what to keep. See
docs/batch.md for the format; :func:`load_experiment` reads and validates a file,
:func:`prepare` resolves scenarios and registries and expands the design.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.scenarios import toml_table

Scalar = Union[bool, int, float, str]

SCENARIO_FACTOR = "scenario"
"""The special factor whose values are scenario references (library names or files)."""

WILDCARD = "*"
"""A factor's only value ``"*"`` means every entry of a registry (see :data:`REGISTRY_FACTORS`)."""

SAMPLED_METHODS = ("lhs", "sobol", "sobol_indices", "morris")
SENSITIVITY_METHODS = ("sobol_indices", "morris")


class ExperimentError(ValueError):
    """A bad experiment file or results directory (user input: the CLI exits 2)."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Range(Strict):
    """A continuous or integer range to sample: ``{low = 0.1, high = 0.9}``."""

    low: float
    high: float
    type: Literal["float", "int"] = Field("float", description="'int' samples whole numbers in [low, high].")

    @model_validator(mode="after")
    def _ordered(self):
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError(f"low ({self.low}) and high ({self.high}) must be finite numbers")
        if not self.high > self.low:
            raise ValueError(f"high ({self.high}) must be greater than low ({self.low})")
        if self.type == "int" and (self.low != int(self.low) or self.high != int(self.high)):
            raise ValueError("an int range needs whole-number low and high")
        return self


class Choice(Strict):
    """A categorical factor that is *sampled* in LHS/Sobol/SALib designs: ``{values = [...]}``."""

    values: list[Scalar] = Field(min_length=1)


Factor = Union[list[Scalar], Range, Choice]


class Design(Strict):
    """How factors become design points."""

    method: Literal["grid", "lhs", "sobol", "sobol_indices", "morris"] = Field(
        "grid", description="grid: full factorial over value lists; lhs / sobol: scipy.stats.qmc samples of the "
                            "ranges (crossed with any value lists); sobol_indices: SALib's Saltelli scheme for "
                            "Sobol indices; morris: SALib's Morris trajectories.")
    samples: int | None = Field(None, ge=1, le=1_000_000,
                                description="lhs/sobol: number of sampled points; sobol_indices: SALib's base N "
                                            "(points = N*(D+2), or N*(2D+2) with second_order); morris: trajectories "
                                            "(points = N*(D+1)).")
    scramble: bool = Field(True, description="Scramble the Sobol sequence (sobol, sobol_indices).")
    second_order: bool = Field(False, description="sobol_indices: also compute second-order indices.")
    levels: int = Field(4, ge=2, le=100, description="morris: number of grid levels.")


class Experiment(Strict):
    """One experiment file."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    scenario: str = Field("baseline", min_length=1,
                          description="Base scenario: a library name (e.g. 'baseline'), 'default' for "
                                      "sim.Scenario(), or a .toml path relative to the experiment file.")
    replications: int = Field(1, ge=1, description="Runs per design point (at most MAX_REPLICATIONS, sim/limits.py).")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="Master seed; every run's seed derives from it.")
    common_random_numbers: bool = Field(
        False, description="Give replication r the same seed at every design point (variance reduction when "
                           "comparing points); default: independent seeds per (point, replication).")
    outcomes: list[str] = Field(default_factory=list, description="Summary outcomes to keep; empty = all.")
    timeseries: bool = Field(False, description="Also keep each run's daily time series (separate table).")
    design: Design = Field(default_factory=Design)
    factors: dict[str, Factor] = Field(default_factory=dict)

    @field_validator("replications")
    @classmethod
    def _replications_cap(cls, value: int) -> int:
        from sim.limits import check_replications

        check_replications(value, what="")  # a LimitError names the cap
        return value

    @field_validator("factors", mode="before")
    @classmethod
    def _factor_shapes(cls, value):
        """Tell the three factor forms apart here, so an error names the form the user meant."""
        if not isinstance(value, dict):
            return value
        out = {}
        for key, spec in value.items():
            if isinstance(spec, list):
                if not spec:
                    raise ValueError(f"factor {key!r}: the list of values is empty")
                out[key] = spec
                continue
            if not isinstance(spec, dict):
                raise ValueError(f"factor {key!r}: expected a list of values, a range {{low, high}} or a "
                                 f"choice {{values = [...]}}; got {spec!r}")
            kind = Choice if "values" in spec else Range if ({"low", "high"} & set(spec)) else None
            if kind is None:
                raise ValueError(f"factor {key!r}: a table needs low and high (a range) or values (a "
                                 f"choice); got keys {sorted(spec)}")
            try:
                out[key] = kind.model_validate(spec)
            except ValidationError as exc:
                problems = []
                for err in exc.errors():
                    loc = ".".join(str(p) for p in err["loc"])
                    if err["type"] == "extra_forbidden":
                        problems.append(f"unknown field {loc!r}; allowed: {', '.join(kind.model_fields)}")
                    else:
                        msg = err["msg"].removeprefix("Value error, ")
                        problems.append(f"{loc}: {msg}" if loc else msg)
                raise ValueError(f"factor {key!r} ({kind.__name__.lower()}): " + "; ".join(problems)) from None
        return out

    @model_validator(mode="after")
    def _consistent(self):
        method = self.design.method
        ranges = [k for k, f in self.factors.items() if isinstance(f, (Range, Choice))]
        lists = [k for k, f in self.factors.items() if isinstance(f, list)]
        if method == "grid" and any(isinstance(f, Range) for f in self.factors.values()):
            bad = [k for k, f in self.factors.items() if isinstance(f, Range)]
            raise ValueError(f"factor(s) {bad} are ranges, which a grid cannot enumerate; set design.method "
                             f"to one of {list(SAMPLED_METHODS)} or give lists of values")
        if method in SAMPLED_METHODS:
            if not ranges:
                raise ValueError(f"design.method = {method!r} needs at least one sampled factor "
                                 f"(a range {{low, high}} or a choice {{values = [...]}})")
            if self.design.samples is None:
                raise ValueError(f"design.samples is required for design.method = {method!r}")
        if method in SENSITIVITY_METHODS and lists:
            raise ValueError(f"design.method = {method!r} samples every factor: write {lists} as ranges or "
                             f"choices ({{values = [...]}}), or fix them in the scenario")
        if method == "sobol_indices" and self.design.samples and self.design.samples & (self.design.samples - 1):
            raise ValueError(f"design.samples must be a power of 2 for sobol_indices (got {self.design.samples})")
        for name in self.factors:
            if name == SCENARIO_FACTOR:
                continue
            parts = name.split(".")
            if any(not p for p in parts):
                raise ValueError(f"factor {name!r} is not a dotted parameter path like 'pm.ownership'")
        return self


# --------------------------------------------------------------------- loading
def _allowed_fields(model: type[BaseModel], loc: tuple) -> list[str] | None:
    """Field names allowed at ``loc`` (the location's parent) in ``model``, if a model is there."""
    node: Any = model
    for part in loc[:-1]:
        if not (isinstance(node, type) and issubclass(node, BaseModel)):
            return None
        info = node.model_fields.get(part)
        if info is None:
            return None
        node = info.annotation
    if isinstance(node, type) and issubclass(node, BaseModel):
        return list(node.model_fields)
    return None


def format_validation_error(exc: ValidationError, source: str, model: type[BaseModel] = Experiment) -> str:
    """One line: ``file: field: problem (allowed: ...); field: problem``."""
    problems = []
    for err in exc.errors():
        # union members appear in loc under their type names: drop them to keep the path readable
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and (
            "[" in p or p in ("bool", "int", "float", "str", "Range", "Choice"))))
        where = ".".join(str(p) for p in loc)
        if err["type"] == "extra_forbidden":
            allowed = _allowed_fields(model, loc)
            where = ".".join(str(p) for p in loc[:-1])
            msg = f"unknown field {loc[-1]!r}" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] != "value_error" and "input" in err and not isinstance(err["input"], (dict, list)):
                msg += f" (got {err['input']!r})"
        text = f"{where}: {msg}" if where else msg
        if text not in problems:
            problems.append(text)
    return f"{source}: " + "; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else "")


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment TOML file; raise :class:`ExperimentError` naming file and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExperimentError(f"{path}: no such experiment file") from None
    except UnicodeDecodeError as exc:
        raise ExperimentError(f"{path}: not UTF-8 text (byte at offset {exc.start}); save the file as UTF-8") from None
    except OSError as exc:
        raise ExperimentError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_experiment(text, str(path))


def parse_experiment(text: str, source: str) -> Experiment:
    """An experiment's TOML text -> a validated :class:`Experiment` (one-line errors naming ``source``)."""
    data = toml_table(text, source, ExperimentError)
    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:
        raise ExperimentError(format_validation_error(exc, source)) from None


# ------------------------------------------------------------------- resolving
def _scenario_module():
    try:
        import sim.scenarios as mod
    except ModuleNotFoundError as exc:
        if exc.name == "sim.scenarios":
            return None
        raise
    return mod


def library_scenario_names() -> list[str]:
    """Names of the scenario library (``scenarios/*.toml``), sorted."""
    mod = _scenario_module()
    if mod is not None and hasattr(mod, "scenario_library"):
        return sorted(name for name, _path, _desc in mod.scenario_library())
    folder = Path(__file__).resolve().parents[2] / "scenarios"
    return sorted(p.stem for p in folder.glob("*.toml"))


def is_path_ref(ref: str) -> bool:
    return ref.endswith(".toml") or "/" in ref or "\\" in ref


def resolve_scenario(ref: str, base_dir: Path):
    """Load a scenario reference: 'default' (``sim.Scenario()``), a library name, or a .toml
    path relative to ``base_dir``."""
    from sim.params import Scenario

    mod = _scenario_module()
    if ref == "default":
        return Scenario()
    if mod is None:
        if ref == "baseline":
            return Scenario()  # no scenario library installed: its baseline is the default org
        raise ExperimentError(f"scenario {ref!r}: the scenario library (sim.scenarios) is not available; "
                              f"use 'default'")
    arg = str((base_dir / ref).resolve()) if is_path_ref(ref) else ref
    try:
        if hasattr(mod, "load"):
            return mod.load(arg)
        return mod.load_scenario(arg)
    except (mod.ScenarioError, FileNotFoundError) as exc:
        raise ExperimentError(f"scenario {ref!r}: {exc}") from None


def check_override(scenario, path: str, value) -> None:
    """Raise :class:`ExperimentError` if ``{path: value}`` is not a valid override of ``scenario``."""
    mod = _scenario_module()
    try:
        expanded = expand_overrides(scenario.model_dump(), {path: value})
    except KeyError as exc:
        raise ExperimentError(exc.args[0] if exc.args else str(exc)) from None
    if mod is not None and hasattr(mod, "apply_overrides"):
        try:
            mod.apply_overrides(scenario, expanded, source="factor")
        except mod.ScenarioError as exc:
            raise ExperimentError(str(exc)) from None
        return
    try:
        scenario.with_overrides(expanded)
    except KeyError as exc:
        raise ExperimentError(exc.args[0] if exc.args else str(exc)) from None
    except ValidationError as exc:
        raise ExperimentError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None


REGISTRY_FACTORS = {"pm.strategy": "strategies", "pm.archetype": "archetypes", SCENARIO_FACTOR: "scenarios"}


def registry_values(factor: str) -> list[str]:
    kind = REGISTRY_FACTORS[factor]
    if kind == "strategies":
        from sim.strategies import STRATEGIES
        return list(STRATEGIES)
    if kind == "archetypes":
        from sim.archetypes import ARCHETYPES
        return list(ARCHETYPES)
    return library_scenario_names()


def expand_paths(data: dict, path: str) -> list[str]:
    """Expand ``*`` segments of a dotted path over the list items of ``data`` (a scenario dump).

    ``departments.*.responsiveness`` becomes one path per department name.
    """
    parts = path.split(".")
    if WILDCARD not in parts:
        return [path]
    out: list[str] = []

    def walk(node, i, prefix):
        if i == len(parts):
            out.append(".".join(prefix))
            return
        key = parts[i]
        if key == WILDCARD:
            if not isinstance(node, list):
                raise KeyError(f"'*' in {path!r} must stand for the items of a list (e.g. departments)")
            for j, item in enumerate(node):
                name = item.get("name") if isinstance(item, dict) else None
                walk(item, i + 1, prefix + [str(name) if name is not None else str(j)])
            return
        if isinstance(node, dict):
            if key not in node:
                raise KeyError(f"unknown parameter {'.'.join(prefix + [key])!r}")
            walk(node[key], i + 1, prefix + [key])
        elif isinstance(node, list):
            from sim.params import _list_index  # same rule as with_overrides
            walk(node[_list_index(node, key, '.'.join(prefix + [key]))], i + 1, prefix + [key])
        else:
            out.append(".".join(prefix + parts[i:]))

    walk(data, 0, [])
    return out


def expand_overrides(data: dict, overrides: dict[str, Any]) -> dict[str, Any]:
    """Overrides with wildcards expanded against the scenario dump ``data``."""
    out: dict[str, Any] = {}
    for path, value in overrides.items():
        for p in expand_paths(data, path):
            out[p] = value
    return out


def apply_overrides(scenario, overrides: dict[str, Any]):
    """``scenario.with_overrides`` with ``*`` wildcards expanded."""
    if not overrides:
        return scenario
    if any(WILDCARD in path.split(".") for path in overrides):
        overrides = expand_overrides(scenario.model_dump(), overrides)
    return scenario.with_overrides(overrides)


@dataclass
class Prepared:
    """An experiment with scenarios loaded, registries expanded and the design laid out."""

    spec: Experiment
    source: Path | None
    scenarios: dict[str, dict]       # scenario reference -> Scenario.model_dump()
    base: str                        # reference of the base scenario
    factors: dict[str, Any]          # resolved factors (wildcards expanded)
    design: Any                      # sim.batch.design.Design
    spec_hash: str
    outcomes: list[str] = field(default_factory=list)
    runs_schema: list[tuple[str, str]] = field(default_factory=list)
    timeseries_schema: list[tuple[str, str]] = field(default_factory=list)
    probe_seconds: float | None = None

    @property
    def n_runs(self) -> int:
        return self.design.n_points * self.spec.replications

    def normalised_spec(self) -> dict:
        data = self.spec.model_dump(mode="json")
        data["factors"] = {k: _factor_json(v) for k, v in self.factors.items()}
        return data


def _factor_json(f) -> Any:
    if isinstance(f, BaseModel):
        return f.model_dump(mode="json")
    return list(f)


def _hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def prepare(spec: Experiment, source: str | Path | None = None, *, probe: bool = True) -> Prepared:
    """Resolve scenario references and ``"*"`` registries, check every factor against the base
    scenario, expand the design and (``probe``) run one quick probe per scenario to fix the
    results' column schema."""
    from sim.batch.design import expand

    src = Path(source) if source is not None else None
    where = str(src) if src is not None else f"experiment {spec.name!r}"
    base_dir = src.resolve().parent if src is not None else Path.cwd()

    factors: dict[str, Any] = {}
    for name, f in spec.factors.items():
        values = f if isinstance(f, list) else (f.values if isinstance(f, Choice) else None)
        if values is not None and list(values) == [WILDCARD]:
            if name not in REGISTRY_FACTORS:
                raise ExperimentError(f"{where}: factors.{name}: '*' is only allowed for "
                                      f"{sorted(REGISTRY_FACTORS)}")
            expanded = registry_values(name)
            if not expanded:
                raise ExperimentError(f"{where}: factors.{name}: '*' matched nothing")
            f = expanded if isinstance(f, list) else Choice(values=expanded)
        factors[name] = f

    scenarios: dict[str, dict] = {}
    objects: dict[str, Any] = {}

    def load(ref: str, field_name: str):
        if ref not in objects:
            try:
                objects[ref] = resolve_scenario(ref, base_dir)
            except ExperimentError as exc:
                raise ExperimentError(f"{where}: {field_name}: {exc}") from None
            scenarios[ref] = objects[ref].model_dump(mode="json")
        return objects[ref]

    load(spec.scenario, "scenario")  # the base scenario must load even if a factor replaces it
    scenario_refs = [spec.scenario]
    if SCENARIO_FACTOR in factors:
        f = factors[SCENARIO_FACTOR]
        if isinstance(f, Range):
            raise ExperimentError(f"{where}: factors.scenario: must be a list of scenario names or files")
        refs = f if isinstance(f, list) else f.values
        for ref in refs:
            if not isinstance(ref, str):
                raise ExperimentError(f"{where}: factors.scenario: {ref!r} is not a scenario name or path")
            load(ref, "factors.scenario")
        scenario_refs = list(refs)

    # Check each factor path and each value (alone) against every scenario it applies to.
    for name, f in factors.items():
        if name == SCENARIO_FACTOR:
            continue
        if isinstance(f, Range):
            probes = [f.low, f.high] if f.type == "float" else [int(f.low), int(f.high)]
        else:
            probes = list(f if isinstance(f, list) else f.values)
        for ref in scenario_refs:
            for value in probes:
                try:
                    check_override(objects[ref], name, value)
                except ExperimentError as exc:
                    msg = str(exc)
                    if msg.startswith("factor ") and ": " in msg:
                        msg = msg.split(": ", 1)[1]
                    raise ExperimentError(f"{where}: factors.{name} = {value!r}: {msg} (in scenario {ref!r})") from None

    from sim.limits import LimitError, check_runs

    try:  # before expanding: a huge grid would exhaust memory while being laid out
        check_runs(design_size(factors, spec.design) * spec.replications)
    except LimitError as exc:
        raise ExperimentError(f"{where}: {exc}") from None
    design = expand(factors, spec.design, seed=spec.seed)
    hashed = {
        "spec": {k: v for k, v in spec.model_dump(mode="json").items() if k not in ("description",)},
        "factors": {k: _factor_json(v) for k, v in factors.items()},
        "scenarios": scenarios,
    }
    prepared = Prepared(spec=spec, source=src, scenarios=scenarios, base=spec.scenario, factors=factors,
                        design=design, spec_hash=_hash(hashed))
    if probe:
        from sim.batch.runner import probe_schema
        try:
            probe_schema(prepared)
        except ExperimentError as exc:
            raise ExperimentError(f"{where}: {exc}") from None
    return prepared


def design_size(factors: dict[str, Any], design: Design) -> int:
    """Number of design points :func:`sim.batch.design.expand` would lay out (without doing it)."""
    import math as _math

    lists = [f for f in factors.values() if isinstance(f, list)]
    if design.method == "grid":
        return _math.prod(len(f) if isinstance(f, list) else len(f.values) for f in factors.values())
    sampled = len(factors) - len(lists)
    n = int(design.samples or 0)
    if design.method == "sobol_indices":
        n *= (2 * sampled + 2) if design.second_order else (sampled + 2)
    elif design.method == "morris":
        n *= sampled + 1
    return _math.prod(len(f) for f in lists) * n


def load_and_prepare(path: str | Path, *, probe: bool = True) -> Prepared:
    return prepare(load_experiment(path), path, probe=probe)
