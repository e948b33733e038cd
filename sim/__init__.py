"""pmsim: a PM without formal authority negotiating and delivering a plan.

Public API::

    import sim
    result = sim.run(sim.Scenario(), seed=1)
    result.summary, result.timeseries, result.story(), result.debrief
"""

from sim.api import run
from sim.model import PMSimModel
from sim.params import Scenario
from sim.results import RunResult

__all__ = ["run", "PMSimModel", "Scenario", "RunResult"]
