"""Write docs/reliability.md from the reliability tests' case registry.

    uv run python -m tests.reliability_report          # rewrite docs/reliability.md
    uv run python -m tests.reliability_report --check  # exit 1 if the file is out of date

Every reliability test registers what it feeds the engine and what the engine does about
it (:mod:`reliability_cases`); this module imports those test modules, collects the
registry and renders it, with the resource caps of :mod:`sim.limits` and the list of
bugs the tests found. ``tests/test_reliability_report.py`` keeps the committed file in
step with the tests.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
DOC = ROOT / "docs" / "reliability.md"
MODULES = ["test_invariants", "test_reliability_inputs", "test_reliability_limits", "test_reliability_faults",
           "test_reliability_dashboard"]

BUGS: list[tuple[str, str, str, str]] = [
    # (where, input that triggered it, what happened, what it does now)
    ("sim/org.py (networkx SBM builder)", "network.p_in or p_out below 1.1e-16 (e.g. 1e-17)",
     "ZeroDivisionError inside networkx (it divides by log(1 - p) and 1 - p == 1)",
     "such a probability is 0 in effect and is passed as 0"),
    ("sim/influence.py (row normalisation)", "trust cut by blame again and again until it is subnormal "
     "(two leads listening only to each other, blame_trust_cut 0.875, blame propensity 1)",
     "1/sum overflowed to inf and 0 * inf gave NaN support (NaN in org.x and the time series)",
     "a row whose weights sum below the smallest normal double counts as empty"),
    ("sim/batch/spec.py (load_experiment)", "an experiment file that is not UTF-8",
     "UnicodeDecodeError (the CLI reported an internal error, exit 1)",
     "ExperimentError naming the file and the byte offset (exit 2)"),
    ("sim/batch/spec.py (Range)", "a range factor with an infinite bound, e.g. {low = 0, high = inf, type = \"int\"}",
     "OverflowError from int(inf) inside the validator", "ExperimentError: low and high must be finite"),
    ("sim/scenarios.py, sim/batch/spec.py, dashboard/library.py, dashboard/experiments.py",
     "TOML nested deeper than Python's recursion limit (x = [[[[...]]]] 500+ deep)",
     "RecursionError from tomllib", "the loader's own error: not valid TOML, nested too deeply"),
    ("sim/stakeholder_map.py (read_map)", "a CSV cell longer than 131,072 characters",
     "_csv.Error: field larger than field limit", "MapError naming the file"),
    ("dashboard/organisation.py (frame_from_csv)", "a map row with one trailing empty cell; a ragged row",
     "pandas moved the first column into the index (names shown as departments, silently) or raised "
     "ParserError (a Streamlit exception on the page)",
     "the table is read with the csv module exactly as read_map reads it"),
    ("dashboard/experiments.py (check_experiment)", "an edited experiment whose scenario factor is a choice "
     "{values = [\"/elsewhere.toml\"]}", "the path-outside-the-project check covered lists only, so a scenario "
     "file outside the project was read", "choices are checked too"),
    ("sim/batch/runner.py", "a worker process killed (SIGKILL, out-of-memory killer)",
     "BrokenProcessPool ended the whole sweep as an internal error (exit 1)",
     "the pool is rebuilt and the lost runs re-run; a run that kills its worker every time is isolated and "
     "stored as WorkerDied"),
    ("sim/batch/store.py, sim/batch/runner.py", "results disk full, quota exceeded, read-only results directory",
     "OSError as an internal error (exit 1); a timeseries chunk could be left without its runs chunk",
     "StoreError (exit 2) saying what happened and how many runs are stored; no temporary or orphan file"),
    ("sim (no caps)", "20 departments of 1,000,000 members each; grids of 10^9 design points",
     "accepted, then memory exhaustion while building the network or laying out the design",
     "refused up front by sim/limits.py with a message naming the cap"),
]

NOTES = [
    "Harmless, not changed: with a capacity of ~1e-311 effort/day (subnormal) numpy warns about an overflow "
    "in sim/plan.py's feasibility score; the result (feasibility 0) is right.",
]


def collect():
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    cases = importlib.import_module("reliability_cases")
    for name in MODULES:
        importlib.import_module(name)
    seen, out = set(), []
    for c in cases.REGISTRY:
        key = (c.kind, c.tried, c.test)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return cases.KINDS, out


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render() -> str:
    from sim import limits

    kinds, cases = collect()
    total = {k: sum(c.count for c in cases if c.kind == k) for k in kinds}
    bad_inputs = total["input"] + total["limit"] + total["dashboard"]
    lines = [
        "# Reliability: bad inputs, faults and limits",
        "",
        "<!-- generated by `uv run python -m tests.reliability_report` from the case registry of the",
        "     reliability tests (tests/reliability_cases.py); do not edit by hand -->",
        "",
        "What pmsim does when it is fed bad files, extreme parameters and oversized requests, and when a",
        "long sweep is killed or its disk fails. Every row below is a test in CI (`uv run pytest`); the",
        "hypothesis tests draw new inputs on every run, so the counts are the examples tried per run.",
        "",
        "## Summary",
        "",
        f"- **{bad_inputs:,} bad or extreme inputs** tried per test run: {total['input']:,} malformed files and "
        f"values for the loaders, {total['limit']:,} requests around the resource caps, {total['dashboard']:,} "
        f"dashboard uploads, names and links.",
        f"- **{total['invariant']:,} random valid scenarios** (and hand-picked corners) checked against the "
        f"model's invariants.",
        f"- **{total['fault']:,} faults injected** into real sweeps (killed workers, killed sweeps, full and "
        f"read-only disks). None lost or corrupted stored results: after each, every stored row equals the "
        f"same run of an uninterrupted sweep and the resume completes the table exactly.",
        f"- **{len(BUGS)} bugs found and fixed** (listed at the end).",
        "",
        "Rules the tests enforce:",
        "",
        "- A loader returns a valid object or raises the project's own error (`ScenarioError`, `MapError`,",
        "  `ExperimentError`) whose message is one line naming the file and, for a bad value, the field,",
        "  with the allowed range or choices. The command line turns it into exit code 2 and one",
        "  `error:` line; never a traceback.",
        "- A request above a resource cap is refused before any work, naming the cap.",
        "- A sweep's stored results are never corrupted: chunks are written under a hidden name and",
        "  renamed into place, so a reader sees whole files only; a failed write removes its temporary",
        "  file; the same command resumes.",
        "",
        "## Resource caps (`sim/limits.py`)",
        "",
        "| cap | value | what it bounds |",
        "| --- | --- | --- |",
        *[f"| `{name}` | {value} | {_cell(what)} |" for name, value, what in limits.table()],
        "",
        "Sized for a 2-core, 24 GB machine: at 1,000,000 members the organisation network takes about",
        "0.5 GB; 5,000 days is about 20 working years. Enforced in the scenario loader, `sim.run`, the CLI",
        "(`pmsim run/compare/sweep`: exit 2), experiment files and the batch runner (a design point whose",
        "factor values together exceed a cap is stored as a failed run), and the dashboard (Streamlit's",
        "`server.maxUploadSize` plus an exact byte check with an `st.error`).",
        "",
    ]
    for kind, title in kinds.items():
        rows = [c for c in cases if c.kind == kind]
        if not rows:
            continue
        lines += [f"## {title}", "", "| tried | what the engine does | inputs | test |", "| --- | --- | --- | --- |"]
        for c in rows:
            lines.append(f"| {_cell(c.tried)} | {_cell(c.behaviour)} | {c.count:,} | `{c.test.split('::')[-1]}` |")
        lines.append("")
    lines += ["## Bugs found by these tests (all fixed)", "", "| where | input | was | now |", "| --- | --- | --- | --- |"]
    lines += [f"| {_cell(w)} | {_cell(i)} | {_cell(was)} | {_cell(now)} |" for w, i, was, now in BUGS]
    lines += ["", *[f"- {n}" for n in NOTES], ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in argv:
        current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        if current != text:
            print(f"{DOC} is out of date: run `uv run python -m tests.reliability_report`", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
