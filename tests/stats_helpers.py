"""Helpers for stochastic claims: run many seeds and compare means with a confidence interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

import sim
from sim.params import Scenario


def outcomes(scenario=None, seeds=range(40), **overrides) -> pd.DataFrame:
    """Summaries of one configuration over many seeds (no time series)."""
    ov = {k.replace("__", "."): v for k, v in overrides.items()}
    return pd.DataFrame([sim.run(scenario, seed=s, overrides=ov, timeseries=False).summary for s in seeds])


def diff_ci(a, b, level: float = 0.95) -> tuple[float, float, float]:
    """Mean difference a - b with a Welch t confidence interval."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    res = stats.ttest_ind(a, b, equal_var=False)
    ci = res.confidence_interval(level)
    return a.mean() - b.mean(), ci.low, ci.high


def blame_prone_inert() -> Scenario:
    """The default organisation with every lead blame-prone (0.6) and inert (responsiveness 0.3)."""
    ov = {}
    for d in ("engineering", "sales", "legal"):
        ov[f"departments.{d}.blame_propensity"] = 0.6
        ov[f"departments.{d}.responsiveness"] = 0.3
    return Scenario().with_overrides(ov)
