"""Design expansion (pure): factors -> design points, run ids and run seeds.

No I/O and no model runs here. Given the same factors, design options and master
seed, :func:`expand` returns the same points in the same order, so a run's id
(design point index, replication) names the same simulation on every machine.

* ``grid``: the full factorial of every list factor, in file order (the last factor
  varies fastest).
* ``lhs`` / ``sobol``: ``samples`` points of the range and choice factors from
  :mod:`scipy.stats.qmc`, crossed with the grid of any list factors.
* ``sobol_indices`` / ``morris``: SALib's own sampling schemes (Saltelli-style
  Sobol sampling, Morris trajectories), so that :mod:`SALib.analyze` can use them.

Integer ranges are sampled uniformly over the whole numbers in ``[low, high]``;
choices over their values (the unit interval is cut into equal parts).
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.batch.spec import Choice, Range

_DESIGN_TAG = 0x5EED_D351
"""Mixed into the master seed for the design's own random numbers (never equal to a run seed)."""


@dataclass
class DesignPoints:
    """The expanded design."""

    method: str
    names: list[str]                       # factor names, file order
    points: list[dict[str, Any]]           # one dict per design point
    sampled: list[str] = field(default_factory=list)   # factors sampled (not crossed)
    problem: dict | None = None            # SALib problem (sensitivity methods)
    X: np.ndarray | None = None            # SALib sample matrix, rows = points (sensitivity methods)

    @property
    def n_points(self) -> int:
        return len(self.points)


def run_id(point: int, replication: int, replications: int) -> int:
    """The stable id of a run: ``point * replications + replication``."""
    return point * replications + replication


def split_run_id(rid: int, replications: int) -> tuple[int, int]:
    return divmod(rid, replications)


def run_seed(master: int, point: int, replication: int, common_random_numbers: bool = False) -> int:
    """A run's seed, derived with :class:`numpy.random.SeedSequence` from the master seed.

    ``SeedSequence(master, spawn_key=(point, replication))`` -- the same child that
    ``SeedSequence(master).spawn`` would give for a nested spawn -- reduced to a
    non-negative 63-bit integer (a plain ``int`` fits Parquet's int64 and Mesa's ``rng=``).
    With common random numbers the key is ``(replication,)`` only.
    """
    key = (replication,) if common_random_numbers else (point, replication)
    words = np.random.SeedSequence(master, spawn_key=key).generate_state(2, np.uint32)
    return ((int(words[0]) << 32) | int(words[1])) >> 1


def _design_seed(master: int) -> int:
    return int(np.random.SeedSequence([master, _DESIGN_TAG]).generate_state(1, np.uint32)[0])


def _as_python(v):
    return v.item() if isinstance(v, np.generic) else v


def _normalise_levels(values: list) -> list:
    """Lists mixing ints and floats (TOML ``[0, 0.5, 1]``) become floats; bools stay bools."""
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values) \
            and any(isinstance(v, float) for v in values):
        return [float(v) for v in values]
    return list(values)


def map_unit(f: Range | Choice, u: float) -> Any:
    """Map a unit-interval sample to the factor's value."""
    if isinstance(f, Choice):
        k = len(f.values)
        return _normalise_levels(f.values)[min(int(u * k), k - 1)]
    if f.type == "int":
        lo, hi = int(f.low), int(f.high)
        return min(lo + int(u * (hi - lo + 1)), hi)
    return float(f.low + u * (f.high - f.low))


def salib_bounds(f: Range | Choice) -> list[float]:
    if isinstance(f, Choice):
        return [0.0, float(len(f.values))]
    if f.type == "int":
        return [float(f.low), float(f.high) + 1.0]
    return [float(f.low), float(f.high)]


def map_salib(f: Range | Choice, x: float) -> Any:
    """Map a SALib sample (in :func:`salib_bounds` units) to the factor's value."""
    if isinstance(f, Choice):
        k = len(f.values)
        return _normalise_levels(f.values)[min(max(int(np.floor(x)), 0), k - 1)]
    if f.type == "int":
        return min(max(int(np.floor(x)), int(f.low)), int(f.high))
    return float(x)


def salib_problem(factors: dict[str, Range | Choice]) -> dict:
    return {"num_vars": len(factors), "names": list(factors),
            "bounds": [salib_bounds(f) for f in factors.values()]}


def expand(factors: dict[str, Any], design, seed: int = 0) -> DesignPoints:
    """Expand resolved factors (lists, :class:`Range`, :class:`Choice`) into design points.

    ``design`` is a :class:`sim.batch.spec.Design` (method, samples, scramble,
    second_order, levels).
    """
    method = design.method
    names = list(factors)
    if method == "grid":
        grid_names = names
        sampled_names: list[str] = []
    else:
        grid_names = [n for n in names if isinstance(factors[n], list)]
        sampled_names = [n for n in names if not isinstance(factors[n], list)]
    for n in grid_names:
        if isinstance(factors[n], Range):
            raise ValueError(f"factor {n!r} is a range: a grid cannot enumerate it")
    levels = [_normalise_levels(factors[n] if isinstance(factors[n], list) else factors[n].values)
              for n in grid_names]
    grid = [dict(zip(grid_names, combo)) for combo in itertools.product(*levels)]

    if method == "grid":
        return DesignPoints(method, names, [_ordered(p, names) for p in grid])

    d = len(sampled_names)
    n = int(design.samples)
    rng_seed = _design_seed(seed)
    sampled = {k: factors[k] for k in sampled_names}
    problem = None
    X = None
    if method in ("lhs", "sobol"):
        from scipy.stats import qmc

        gen = np.random.default_rng(rng_seed)
        if method == "lhs":
            U = qmc.LatinHypercube(d, rng=gen).random(n)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # balance warning when n is not a power of 2
                U = qmc.Sobol(d, scramble=design.scramble, rng=gen).random(n)
        samples = [{k: map_unit(sampled[k], float(u)) for k, u in zip(sampled_names, row)} for row in U]
    else:
        problem = salib_problem(sampled)
        if method == "sobol_indices":
            from SALib.sample import sobol as sobol_sample

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                X = sobol_sample.sample(problem, n, calc_second_order=design.second_order,
                                        scramble=design.scramble, seed=rng_seed)
        else:
            from SALib.sample import morris as morris_sample

            X = morris_sample.sample(problem, n, num_levels=design.levels, seed=rng_seed)
        samples = [{k: map_salib(sampled[k], float(x)) for k, x in zip(sampled_names, row)} for row in X]

    points = [_ordered({**g, **s}, names) for g in grid for s in samples]
    return DesignPoints(method, names, points, sampled=sampled_names, problem=problem, X=X)


def _ordered(point: dict, names: list[str]) -> dict:
    return {k: _as_python(point[k]) for k in names}
