"""Validation of the simulation against published results.

Each validation module returns a list of :class:`CaseResult` rows, one per
checked quantity, so a command (``pmsim validate-model``) or a test can print
them as a table and fail on any ``passed == False``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["CaseResult", "format_results"]


@dataclass(frozen=True)
class CaseResult:
    """One checked quantity of one validation case.

    ``expected`` and ``obtained`` are numbers where possible (a string when the
    expectation is a description, e.g. ``"all runs"``); ``tolerance`` says how far
    apart they may be, in the units the ``detail`` text states.
    """

    case: str
    quantity: str
    expected: Any
    obtained: Any
    tolerance: Any
    passed: bool
    detail: str = ""

    def __post_init__(self) -> None:
        # plain Python values (numpy scalars sneak in from reductions): JSON-friendly
        for name in ("expected", "obtained", "tolerance"):
            v = getattr(self, name)
            if isinstance(v, np.generic):
                object.__setattr__(self, name, v.item())
        object.__setattr__(self, "passed", bool(self.passed))

    def as_dict(self) -> dict[str, Any]:
        """Plain dict, for a DataFrame or JSON."""
        return asdict(self)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def format_results(results: list[CaseResult], pass_mark: str = "ok  ") -> str:
    """A plain-text table of results, one line each, failures marked ``FAIL``
    (passes ``pass_mark``)."""
    lines = []
    for r in results:
        mark = pass_mark if r.passed else "FAIL"
        lines.append(f"{mark} {r.case} | {r.quantity}: expected {_fmt(r.expected)}, "
                     f"obtained {_fmt(r.obtained)} (tol {_fmt(r.tolerance)}) {r.detail}")
    return "\n".join(lines)
