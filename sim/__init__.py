"""pmsim: a PM without formal authority negotiating and delivering a plan.

Public API::

    import sim
    result = sim.run(sim.Scenario(), seed=1)
    result.summary, result.timeseries, result.story(), result.debrief

Names are imported lazily, so ``import sim`` (and light CLI commands such as
``pmsim list``) does not pay for Mesa, pandas and the model until they are used.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "run": "sim.api",
    "PMSimModel": "sim.model",
    "Scenario": "sim.params",
    "RunResult": "sim.results",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
