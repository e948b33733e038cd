"""Helpers shared by the benchmark scripts (plain functions, no framework).

The scripts put the repository root on ``sys.path`` so they run from a fresh clone
with ``uv run python benchmarks/<script>.py``.
"""

from __future__ import annotations

import gc
import os
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.org import SMALL_DEPARTMENT, Organisation
from sim.params import Scenario

SHARES = (6, 4, 2)
"""The default organisation's department proportions (engineering, sales, legal)."""


def scenario(members: int, mean_degree: float = 10.0, base: Scenario | None = None) -> Scenario:
    """``base`` (default: the default scenario) with ``members`` people split 6:4:2 over
    its three departments and a mean degree of about ``mean_degree`` everywhere (a
    department of at most 200 members links with ``p_in``: it is set to give that
    department the same degree)."""
    base = base or Scenario()
    sizes = [members * k // sum(SHARES) for k in SHARES]
    sizes[0] += members - sum(sizes)
    names = [d.name for d in base.departments]
    ov = {f"departments.{n}.members": s for n, s in zip(names, sizes)}
    ov["network.mean_degree"] = mean_degree
    small = [s for s in sizes if 1 < s <= SMALL_DEPARTMENT]
    if small:
        ov["network.p_in"] = min(1.0, mean_degree / (min(small) - 1))
    return base.with_overrides(ov)


def organisation(members: int, seed: int = 0, mean_degree: float = 10.0) -> Organisation:
    """The organisation of :func:`scenario`, built as the model builds it."""
    sc = scenario(members, mean_degree)
    return Organisation(sc.departments, sc.network, random.Random(seed), np.random.default_rng(seed),
                        [d.initial_trust for d in sc.departments])


def clocked(fn, k: int = 1) -> tuple[float, float]:
    """Wall-clock and CPU seconds per call of ``fn`` over a block of ``k`` calls (gc off,
    as timeit does). CPU time is the process's, every thread counted (the influence step
    of a large organisation runs on two): it leaves out the time the process waited for
    a core, which matters on a shared machine, and shows what the work costs in cores."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        w, c = time.perf_counter(), time.process_time()
        for _ in range(k):
            fn()
        return (time.perf_counter() - w) / k, (time.process_time() - c) / k
    finally:
        if enabled:
            gc.enable()


def clocked_call(fn, *args, **kwargs):
    """``(fn(*args, **kwargs), wall seconds, CPU seconds)`` of one call (gc off)."""
    out = []
    w, c = clocked(lambda: out.append(fn(*args, **kwargs)))
    return out[0], w, c


def timed(fn, k: int = 1) -> float:
    """Wall-clock seconds per call of ``fn`` over a block of ``k`` calls (gc off)."""
    return clocked(fn, k)[0]


def copy_bandwidth(repeats: int = 10, nbytes: int = 160_000_000) -> tuple[float, float]:
    """Best bytes/s of ``np.copyto`` between two preallocated arrays, counting the bytes
    read and written; by wall clock and by CPU time."""
    a = np.ones(nbytes // 8)
    b = np.empty_like(a)
    np.copyto(b, a)
    runs = [clocked(lambda: np.copyto(b, a)) for _ in range(repeats)]
    return 2 * a.nbytes / min(r[0] for r in runs), 2 * a.nbytes / min(r[1] for r in runs)


def machine() -> dict:
    """CPU model, CPU count, library versions and the load average right now."""
    import mesa
    import networkx as nx
    import scipy

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "nproc": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__, "mesa": mesa.__version__,
            "networkx": nx.__version__, "loadavg_at_start": list(os.getloadavg()),
            "date": time.strftime("%Y-%m-%d %H:%M")}


def shown(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
