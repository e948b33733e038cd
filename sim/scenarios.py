"""Scenario files: TOML read with ``tomllib``, validated by :class:`sim.params.Scenario`.

A scenario file sets any subset of the fields of :class:`sim.params.Scenario`
(everything else keeps its default). A file may start from another one::

    # Deadline crunch: ...
    extends = "baseline.toml"      # relative to this file
    [project]
    deadline = 40
    [[departments]]                # list items are matched by name and deep-merged
    name = "sales"
    urgency = 0.9

Merging rules (``extends``): tables merge key by key; lists of named tables
(``departments``, ``project.features``) merge item by item on ``name`` (an item with
``remove = true`` drops the inherited item of that name; new names are appended);
any other value (numbers, strings, plain lists) replaces the inherited one. A file
without ``extends`` starts from the model defaults, and a list it gives replaces the
default list.

Every problem raises :class:`ScenarioError` whose message is one line naming the
file, the field path, the bad value and what is allowed. Nothing here prints.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import tomllib
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import BaseModel, ValidationError

from sim.params import Scenario

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
"""The scenario library shipped with the project."""

SCHEMA_PATH = SCENARIO_DIR / "scenario.schema.json"

NAMED_LISTS = {("departments",), ("project", "features")}
"""Lists whose items are matched by ``name`` when a file extends another."""

MAX_ERRORS_SHOWN = 3


class ScenarioError(Exception):
    """A problem with user input (a scenario file, a library name, an override).

    ``str(error)`` is a single line meant for the user; ``path`` is the file concerned
    (when there is one).
    """

    def __init__(self, message: str, path: Path | str | None = None):
        super().__init__(" ".join(str(message).split()))
        self.path = path


# --------------------------------------------------------------------- reading
def read_toml(path: Path | str) -> dict:
    """Read one TOML file into a dict, turning every way it can be unreadable into a
    one-line :class:`ScenarioError` (missing, a directory, empty, binary, not UTF-8,
    not TOML, no settings)."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"{path}: file not found", path)
    if path.is_dir():
        raise ScenarioError(f"{path}: is a directory, not a scenario file", path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read file ({exc.strerror or exc})", path) from None
    return parse_toml_bytes(raw, str(path), path)


def parse_toml_bytes(raw: bytes, source: str, path: Path | str | None = None) -> dict:
    """A scenario file's bytes -> its table: empty, binary, non-UTF-8, malformed or
    settings-free input each gives a one-line :class:`ScenarioError` naming ``source``."""
    if not raw.strip():
        raise ScenarioError(f"{source}: empty file (a scenario needs at least one setting, "
                            f"e.g. extends = \"baseline.toml\")", path)
    if b"\x00" in raw:
        raise ScenarioError(f"{source}: binary data (NUL bytes), not a TOML text file", path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start:exc.start + 1].hex()
        raise ScenarioError(f"{source}: not UTF-8 text (byte 0x{bad} at offset {exc.start}); "
                            f"save the file as UTF-8", path) from None
    data = toml_table(text.removeprefix("\ufeff"), source, lambda msg: ScenarioError(msg, path))
    if not data:
        raise ScenarioError(f"{source}: no settings, only comments (a scenario needs at least one "
                            f"setting, e.g. extends = \"baseline.toml\")", path)
    return data


def toml_table(text: str, source: str, error: Callable[[str], Exception] = ScenarioError) -> dict:
    """Parse TOML text; a syntax error or absurd nesting raises ``error`` with one line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise error(f"{source}: not valid TOML: arrays or tables nested too deeply") from None


def header_comment(path: Path | str) -> str:
    """The first comment line of a file (without ``#``), skipping ``#:`` editor directives."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                s = line.strip()
                if not s:
                    continue
                if not s.startswith("#"):
                    return ""
                if s.startswith("#:") or s.startswith("#!"):
                    continue
                text = s.lstrip("#").strip()
                if text:
                    return text
    except OSError:
        return ""
    return ""


# --------------------------------------------------------------------- merging
def deep_merge(base: Any, override: Any, where: tuple = (), file: Path | str = "") -> Any:
    """Merge ``override`` onto ``base`` (see the module docstring for the rules)."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = deep_merge(base[key], value, where + (key,), file) if key in base else value
        return out
    if where in NAMED_LISTS and isinstance(base, list) and isinstance(override, list):
        return _merge_named(base, override, where, file)
    return copy.deepcopy(override)


def _merge_named(base: list, override: list, where: tuple, file) -> list:
    label = ".".join(where)
    out = [copy.deepcopy(item) for item in base]
    for i, item in enumerate(override):
        if not isinstance(item, dict):
            raise ScenarioError(f"{file}: {label}[{i}] = {_show(item)} must be a table "
                                f"([[{label}]] with a name)", file)
        name = item.get("name")
        if not isinstance(name, str):
            raise ScenarioError(f"{file}: {label}[{i}] has no name; in a file that extends another, "
                                f"items of {label} are matched by name (add name = \"...\")", file)
        names = [b.get("name") if isinstance(b, dict) else None for b in out]
        if item.get("remove") is True:
            if name not in names:
                raise ScenarioError(f"{file}: {label}[{name}] has remove = true but no inherited item is "
                                    f"called {name!r}{_hint(name, [n for n in names if n])}", file)
            del out[names.index(name)]
            continue
        if "remove" in item:
            raise ScenarioError(f"{file}: {label}[{name}].remove = {_show(item['remove'])}: "
                                f"only remove = true is allowed", file)
        if name in names:
            j = names.index(name)
            out[j] = deep_merge(out[j], item, where + (name,), file)
        else:
            out.append(copy.deepcopy(item))
    return out


# --------------------------------------------------------------------- loading
def load_scenario(path: Path | str) -> Scenario:
    """Load and validate a scenario file (following ``extends``); raise :class:`ScenarioError`."""
    return _load(Path(path), ())


def validate_file(path: Path | str) -> Scenario:
    """Check a scenario file; returns the validated Scenario or raises :class:`ScenarioError`."""
    return load_scenario(path)


def _load(path: Path, chain: tuple[Path, ...]) -> Scenario:
    data = read_toml(path)
    ext = data.pop("extends", None)
    if ext is not None:
        if not isinstance(ext, str) or not ext.strip():
            raise ScenarioError(f"{path}: extends = {_show(ext)} must be a file name, "
                                f"e.g. extends = \"baseline.toml\"", path)
        target = _extends_target(path, ext)
        here = path.resolve()
        if target.resolve() in chain + (here,):
            cycle = " -> ".join(p.name for p in chain + (here, target.resolve()))
            raise ScenarioError(f"{path}: cyclic extends: {cycle}", path)
        base = _load(target, chain + (here,)).model_dump()
        merged = deep_merge(base, data, (), path)
    else:
        merged = data
    if "name" not in data:
        merged["name"] = path.stem
    if "description" not in data:
        header = header_comment(path)
        if header:
            merged["description"] = header
    return validate_data(merged, source=str(path))


def _extends_target(path: Path, ext: str) -> Path:
    """``ext`` relative to the extending file (``.toml`` may be left out); failing that,
    a bare name of the library (``extends = "baseline.toml"`` works from any folder)."""
    target = path.parent / ext
    if not target.exists() and not target.suffix:
        alt = target.with_suffix(".toml")
        if alt.exists():
            return alt
    if target.exists():
        return target
    bare = Path(ext)
    if bare.parent == Path("."):
        library = {name: p for name, p, _ in scenario_library()}
        name = bare.name.removesuffix(".toml")
        if name in library:
            return library[name]
    nearby = [p.name for p in path.parent.glob("*.toml")] + [f"{n}.toml" for n, _, _ in scenario_library()]
    raise ScenarioError(f"{path}: extends target {ext!r} not found (looked for {target} and in the "
                        f"scenario library){_hint(bare.name, sorted(set(nearby)))}", path)


def validate_data(data: dict, source: str = "<scenario>") -> Scenario:
    """Validate a plain dict as a Scenario; errors become one-line :class:`ScenarioError`."""
    from sim.limits import LimitError, check_scenario

    _precheck_registries(data, source)
    try:
        # Strict JSON-mode validation keeps TOML's types honest: true is not a number,
        # "5" is not 5 (TOML dates become strings and fail as the wrong type).
        scenario = Scenario.model_validate_json(json.dumps(data, default=_plain), strict=True)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, data, source), source) from None
    try:
        check_scenario(scenario)  # resource caps (sim/limits.py)
    except LimitError as exc:
        raise ScenarioError(f"{source}: {exc}", source) from None
    return scenario


def _plain(obj: Any) -> Any:
    """JSON fallback: numpy scalars become Python numbers, anything else (dates) a string."""
    item = getattr(obj, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            pass
    return str(obj)


def _precheck_registries(data: dict, source: str) -> None:
    """Strategy and tactic names come from registries: check them first for a better hint."""
    from sim.strategies import STRATEGIES
    from sim.tactics import TACTICS

    pm = data.get("pm")
    if isinstance(pm, dict) and isinstance(pm.get("strategy"), str) and pm["strategy"] not in STRATEGIES:
        s = pm["strategy"]
        raise ScenarioError(f"{source}: pm.strategy = {s!r} is not a known strategy"
                            f"{_hint_or_allowed(s, STRATEGIES)}", source)
    tactics = data.get("tactics")
    if isinstance(tactics, dict):
        for name in tactics:
            if name not in TACTICS:
                raise ScenarioError(f"{source}: unknown tactic [tactics.{name}]"
                                    f"{_hint_or_allowed(name, TACTICS)}", source)


# ------------------------------------------------------------ error messages
def format_validation_error(exc: ValidationError, data: Any, source: str) -> str:
    """One line: ``source: <first problem>; <second>; ... (+N more)``."""
    errors = exc.errors(include_url=False)
    parts = [describe_error(err, data) for err in errors[:MAX_ERRORS_SHOWN]]
    more = len(errors) - MAX_ERRORS_SHOWN
    tail = f" (+{more} more)" if more > 0 else ""
    return f"{source}: " + "; ".join(parts) + tail


def describe_error(err: dict, data: Any) -> str:
    """One pydantic error as text: field path, bad value, what is allowed."""
    loc = tuple(err.get("loc", ()))
    kind = err.get("type", "")
    msg = str(err.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    where = readable_loc(loc, data)
    value = err.get("input")
    field, owner = field_at(loc)
    if kind == "extra_forbidden":
        parent = readable_loc(loc[:-1], data)
        key = str(loc[-1])
        allowed = sorted(owner.model_fields) if owner is not None else []
        place = f"[{parent}]" if parent else "the top level"
        return f"unknown key {key!r} in {place}{_hint_or_allowed(key, allowed, 'allowed keys')}"
    if kind == "missing":
        about = f" - {field.description}" if field is not None and field.description else ""
        return f"{where} is required but missing{about}"
    if kind == "literal_error":
        expected = [a for a in typing.get_args(_strip_optional(field.annotation))] if field else []
        hint = _hint(str(value), [str(e) for e in expected]) if isinstance(value, str) else ""
        allowed = ", ".join(repr(e) for e in expected)
        return f"{where} = {_show(value)} is not allowed{hint} (allowed: {allowed})"
    allowed = allowed_text(field, element=bool(loc) and isinstance(loc[-1], int))
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than",
                "too_short", "too_long", "finite_number"}:
        return f"{where} = {_show(value)} is out of range (allowed: {allowed or msg.lower()})"
    if kind.endswith("_type") or kind.endswith("_parsing") or kind in {"int_from_float", "model_type",
                                                                       "dict_type", "list_type"}:
        return f"{where} = {_show(value)} has the wrong type (expected {allowed or msg.lower()})"
    if not where:
        return msg
    return f"{where}: {msg}"


def readable_loc(loc: tuple, data: Any) -> str:
    """``('departments', 0, 'capacity')`` -> ``departments[engineering].capacity`` (names
    from the data where the item has one)."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            name = item.get("name") if isinstance(item, dict) else None
            out += f"[{name}]" if isinstance(name, str) else f"[{part}]"
            node = item
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def _strip_optional(annotation):
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def field_at(loc: tuple) -> tuple[Any, type[BaseModel] | None]:
    """The pydantic FieldInfo at ``loc`` (or None) and the model class that owns the last key."""
    model: type[BaseModel] | None = Scenario
    field = None
    owner: type[BaseModel] | None = Scenario
    pending = None  # annotation of a container still being indexed
    for part in loc:
        if pending is not None:
            origin = typing.get_origin(pending)
            args = typing.get_args(pending)
            if origin is list and args:
                pending = _strip_optional(args[0])
            elif origin is dict and len(args) == 2:
                pending = _strip_optional(args[1])
            else:
                return None, None
            if isinstance(pending, type) and issubclass(pending, BaseModel):
                model, owner, pending, field = pending, pending, None, None
            continue
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return field, owner if model is None else model
        owner = model
        field = model.model_fields[part]
        ann = _strip_optional(field.annotation)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
        elif typing.get_origin(ann) in (list, dict):
            model, pending = None, ann
        else:
            model = None
    return field, owner


def allowed_text(field, element: bool = False) -> str:
    """What a field accepts: its type, range and unit, e.g. ``a number, 0 <= value <= 1``.
    With ``element``, what one item of a list field accepts."""
    if field is None:
        return ""
    ann = _strip_optional(field.annotation)
    if element and typing.get_origin(ann) is list and typing.get_args(ann):
        item = _strip_optional(typing.get_args(ann)[0])
        return {float: "a number", int: "a whole number", bool: "true or false", str: "a string"}.get(item, "a table")
    optional = ann is not field.annotation
    kind = {float: "a number", int: "a whole number", bool: "true or false", str: "a string"}.get(ann)
    if kind is None:
        origin = typing.get_origin(ann)
        if origin is list:
            kind = "a list"
        elif origin is dict:
            kind = "a table"
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            kind = "a table"
        else:
            kind = ""
    lo = hi = None
    lo_op = hi_op = "<="
    min_len = max_len = None
    for m in field.metadata:
        if isinstance(m, annotated_types.Ge):
            lo = m.ge
        elif isinstance(m, annotated_types.Gt):
            lo, lo_op = m.gt, "<"
        elif isinstance(m, annotated_types.Le):
            hi = m.le
        elif isinstance(m, annotated_types.Lt):
            hi, hi_op = m.lt, "<"
        elif isinstance(m, annotated_types.MinLen):
            min_len = m.min_length
        elif isinstance(m, annotated_types.MaxLen):
            max_len = m.max_length
    parts = [kind] if kind else []
    if lo is not None and hi is not None:
        parts.append(f"{_num(lo)} {lo_op} value {hi_op} {_num(hi)}")
    elif lo is not None:
        parts.append(f"value {'>=' if lo_op == '<=' else '>'} {_num(lo)}")
    elif hi is not None:
        parts.append(f"value {hi_op} {_num(hi)}")
    if min_len is not None or max_len is not None:
        parts.append(f"{min_len or 0} to {max_len if max_len is not None else 'any number of'} items")
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if extra.get("unit"):
        parts.append(f"unit: {extra['unit']}")
    if optional:
        parts.append("or left out")
    return ", ".join(parts)


def _num(x) -> str:
    return f"{x:g}" if isinstance(x, float) else f"{x:,}".replace(",", "_") if isinstance(x, int) and abs(x) >= 10_000 else str(x)


def _show(value: Any, limit: int = 60) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, default=str)
    elif isinstance(value, float) and math.isfinite(value):
        text = f"{value:g}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _hint_or_allowed(word: str, choices, label: str = "allowed") -> str:
    """``" (did you mean 'x'?)"`` when a choice is close, else the list of choices."""
    hint = _hint(word, choices)
    if hint or not choices:
        return hint
    return f" ({label}: {', '.join(sorted(str(c) for c in choices))})"


def _hint(word: str, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# ------------------------------------------------------------- the library
def scenario_library(directory: Path | str | None = None) -> list[tuple[str, Path, str]]:
    """Every scenario in the library: ``(name, path, one-line description)``, by name.

    The description is the file's first comment line.
    """
    root = Path(directory) if directory is not None else SCENARIO_DIR
    return [(p.stem, p, header_comment(p)) for p in sorted(root.glob("*.toml"))]


def find_scenario(ref: str | Path) -> Path:
    """A scenario path from a path or a library name (``blame_culture`` or ``blame_culture.toml``)."""
    path = Path(ref)
    if path.is_file():
        return path
    library = {name: p for name, p, _ in scenario_library()}
    key = path.name.removesuffix(".toml") if path.parent == Path(".") else None
    if key in library:
        return library[key]
    if path.exists():
        return path  # a directory: let read_toml say so
    hint = _hint(str(ref), library)
    raise ScenarioError(f"{ref}: no such file and no library scenario of that name{hint} "
                        f"(see `pmsim list`)", ref)


def load(ref: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load a scenario by path or library name, then apply dotted ``overrides``."""
    sc = load_scenario(find_scenario(ref))
    return apply_overrides(sc, overrides) if overrides else sc


# ----------------------------------------------------------- overrides
def parse_assignment(text: str) -> tuple[str, Any]:
    """``"pm.ownership=0.8"`` -> ``("pm.ownership", 0.8)``. Values parse as TOML scalars
    (numbers, booleans, quoted strings); anything else is taken as a bare string."""
    if "=" not in text:
        raise ScenarioError(f"--set {text!r}: expected path.to.param=value, e.g. --set pm.ownership=0.8")
    path, _, raw = text.partition("=")
    path, raw = path.strip(), raw.strip()
    if not path:
        raise ScenarioError(f"--set {text!r}: the parameter path before '=' is empty")
    if raw == "":
        raise ScenarioError(f"--set {text!r}: no value after '='")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return path, value


def apply_overrides(scenario: Scenario, overrides: dict[str, Any], source: str = "--set") -> Scenario:
    """Apply dotted overrides (list items by name or index) with one-line errors."""
    from sim.params import set_path

    data = scenario.model_dump()
    for path, value in overrides.items():
        try:
            set_path(data, path, value)
        except (KeyError, IndexError, TypeError):
            raise ScenarioError(f"{source} {path}={_show(value)}: {_path_problem(data, path)}") from None
    return validate_data(data, source=f"{source} {', '.join(f'{k}={_show(v)}' for k, v in overrides.items())}")


def _path_problem(data: dict, path: str) -> str:
    node: Any = data
    done: list[str] = []
    for key in path.split("."):
        here = ".".join(done) or "the top level"
        if isinstance(node, list):
            names = [i.get("name") for i in node if isinstance(i, dict)]
            if key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            elif key in names:
                node = node[names.index(key)]
            else:
                return f"no item {key!r} in {here}{_hint_or_allowed(key, names, 'items')}"
        elif isinstance(node, dict):
            if key not in node:
                if done and done[0] == "tactics":
                    return f"unknown key {key!r} in {here}"
                return f"unknown parameter {key!r} in {here}{_hint(key, node)}"
            node = node[key]
        else:
            return f"{here} is a single value, it has no {key!r}"
        done.append(key)
    return "cannot set this parameter"


# --------------------------------------------------------------- schema
def scenario_json_schema() -> dict:
    """JSON Schema of a scenario file: :class:`Scenario`'s schema plus ``extends``."""
    schema = Scenario.model_json_schema()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    schema["title"] = "pmsim scenario"
    schema["properties"] = {
        "extends": {"type": "string",
                    "description": "Another scenario file (relative to this one) to start from; "
                                   "tables merge, departments and features merge by name."},
        **schema["properties"]}
    return schema


def schema_text() -> str:
    return json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False) + "\n"
