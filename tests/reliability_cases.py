"""A registry of the bad inputs tried and faults injected by the reliability tests.

Each reliability test is decorated with :func:`case`, which records *what is fed in* and
*what the engine does about it*; ``uv run python -m tests.reliability_report`` imports
the test modules and writes the registry into docs/reliability.md. A case's ``count``
is how many distinct inputs it tries (hypothesis examples count as many as the test's
``max_examples``; a parametrised test registers one case per parameter).
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = {
    "invariant": "Model invariants (random valid scenarios)",
    "input": "Bad input to the loaders (scenario files, experiment files, stakeholder maps)",
    "limit": "Resource limits",
    "fault": "Faults injected into batch sweeps",
    "dashboard": "Dashboard safety",
}


@dataclass(frozen=True)
class Case:
    kind: str
    tried: str
    behaviour: str
    count: int
    test: str


REGISTRY: list[Case] = []


def case(kind: str, tried: str, behaviour: str, count: int = 1):
    """Register a reliability case for the decorated test (returns the test unchanged)."""
    if kind not in KINDS:
        raise ValueError(f"unknown case kind {kind!r}; allowed: {sorted(KINDS)}")

    def deco(fn):
        REGISTRY.append(Case(kind, tried, behaviour, int(count), f"{fn.__module__}::{fn.__name__}"))
        return fn

    return deco


def register(kind: str, tried: str, behaviour: str, count: int = 1, test: str = "") -> None:
    """Register a case that is not one test function (e.g. one entry of a parametrised table)."""
    if kind not in KINDS:
        raise ValueError(f"unknown case kind {kind!r}; allowed: {sorted(KINDS)}")
    REGISTRY.append(Case(kind, tried, behaviour, int(count), test))
