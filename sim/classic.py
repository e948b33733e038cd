"""Classic opinion-dynamics models as pure numpy functions.

These are the reference implementations the influence core is validated against
(see :mod:`sim.validation.opinion`). Nothing here touches global random state:
stochastic models take a :class:`numpy.random.Generator`.

* DeGroot (1974): ``x(t+1) = W x(t)``; consensus value ``pi . x0`` with ``pi`` the
  left eigenvector of ``W`` for eigenvalue 1.
* Friedkin & Johnsen (1990): ``x(t+1) = S a + (I - S) W x(t)``, stepped with
  :func:`sim.influence.fj_step` (``s = 0`` is DeGroot).
* Hegselmann & Krause (2002): synchronous bounded confidence on a complete graph.
* Deffuant, Neau, Amblard & Weisbuch (2000): pairwise bounded confidence.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from sim.influence import bounded_confidence_weights, fj_step

__all__ = [
    "degroot_consensus",
    "simulate",
    "HKResult",
    "hegselmann_krause",
    "DWResult",
    "deffuant_weisbuch",
    "cluster_sizes",
    "count_major_clusters",
]


# --------------------------------------------------------------------------- DeGroot

def _dense(W) -> np.ndarray:
    return W.toarray() if sp.issparse(W) else np.asarray(W, dtype=float)


def degroot_consensus(W, *, atol: float = 1e-9) -> np.ndarray:
    """Consensus weights of DeGroot's model: the left eigenvector of ``W`` for eigenvalue 1.

    Source: M. H. DeGroot, "Reaching a consensus", *J. Amer. Statist. Assoc.* 69
    (1974) 118-121. If ``W`` is row-stochastic with a single closed strongly
    connected class that is aperiodic, ``W^t -> 1 pi`` and every opinion converges
    to ``pi . x0``, where ``pi W = pi``, ``pi >= 0``, ``sum(pi) = 1``.

    Computed densely (SVD of ``(I - W)^T``, O(n^3)); meant for validation sizes.
    Raises ``ValueError`` if ``W`` is not row-stochastic or if eigenvalue 1 is not
    simple (several closed classes: the limit then depends on more than one
    vector and no single ``pi`` exists).
    """
    A = _dense(W)
    n = A.shape[0]
    if A.ndim != 2 or A.shape != (n, n):
        raise ValueError(f"W must be square, got shape {A.shape}")
    if (A < -atol).any() or not np.allclose(A.sum(axis=1), 1.0, atol=atol, rtol=0):
        raise ValueError("W must be row-stochastic (non-negative, rows summing to 1)")
    _, sv, vh = np.linalg.svd((np.eye(n) - A).T)
    scale = max(1.0, float(sv[0]))
    if n > 1 and sv[-2] <= 1e-10 * n * scale:
        raise ValueError("eigenvalue 1 of W is not simple: no unique consensus vector "
                         "(W has more than one closed class)")
    pi = vh[-1]
    pi = pi / pi.sum()
    if (pi < -1e-9).any():
        raise ValueError("left eigenvector has mixed signs; W is not a valid stochastic matrix")
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum()


def simulate(W, s, x0, anchor=None, eps: float | None = None, tol: float = 1e-12,
             max_steps: int = 100_000) -> tuple[np.ndarray, bool]:
    """Iterate Friedkin-Johnsen synchronously from ``x0`` until it stops moving.

    Sources: Friedkin & Johnsen, "Social influence and opinions", *J. Math.
    Sociol.* 15 (1990) 193-206 (with ``s = 0`` this is DeGroot 1974); with ``eps``
    the weights are masked each step by bounded confidence (Hegselmann & Krause,
    *JASSS* 5(3) 2002) via :func:`sim.influence.bounded_confidence_weights`.

    ``x(t+1) = s*anchor + (1-s) * W_t x(t)`` where ``W_t = W`` or its bounded-
    confidence mask at ``x(t)``. ``anchor`` defaults to ``x0``; ``s`` is a scalar or
    one value per node. Stops when ``max|x(t+1) - x(t)| <= tol``.

    Returns ``(trajectory, converged)``: ``trajectory`` has shape ``(steps + 1, n)``
    with ``x0`` as row 0; ``converged`` is False if ``max_steps`` ran out first.
    """
    x = np.asarray(x0, dtype=float).copy()
    n = x.shape[0]
    s = np.broadcast_to(np.asarray(s, dtype=float), (n,))
    a = x.copy() if anchor is None else np.asarray(anchor, dtype=float)
    if eps is not None:
        W = sp.csr_array(W)
    traj = [x.copy()]
    converged = False
    for _ in range(max_steps):
        Wt = W if eps is None else bounded_confidence_weights(W, x, eps)
        new = fj_step(Wt, s, a, x)
        traj.append(new)
        if np.max(np.abs(new - x), initial=0.0) <= tol:
            converged = True
            x = new
            break
        x = new
    return np.vstack(traj), converged


# ------------------------------------------------------------------ Hegselmann-Krause

class HKResult(NamedTuple):
    """Outcome of :func:`hegselmann_krause`."""

    x: np.ndarray
    """Final opinions, in the agents' original order."""
    steps: int
    """Synchronous updates performed before the stopping rule held."""
    converged: bool
    """False only if ``max_steps`` ran out (the theorem says this cannot happen)."""


def _blocks(xs: np.ndarray, sep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (inclusive) indices of the runs of sorted ``xs`` split where ``sep``."""
    cut = np.flatnonzero(sep)
    starts = np.concatenate(([0], cut + 1))
    ends = np.concatenate((cut, [xs.shape[0] - 1]))
    return starts, ends


def hegselmann_krause(x0, eps: float, tol: float = 1e-12,
                      max_steps: int = 100_000) -> HKResult:
    """Hegselmann-Krause bounded confidence on a complete graph, run to convergence.

    Source: R. Hegselmann & U. Krause, "Opinion dynamics and bounded confidence:
    models, analysis and simulation", *JASSS* 5(3) (2002). Each step every agent
    moves to the mean of all opinions ``x_j`` with ``|x_j - x_i| <= eps`` (itself
    included), synchronously.

    O(n log n) per step: the update preserves the order of opinions, so with the
    opinions sorted each confidence set is a contiguous window found by
    ``searchsorted``, and window means come from a cumulative sum.

    Stopping rule (exact, no float drift): split the sorted opinions where
    consecutive gaps exceed ``eps``; once every such block spans at most ``tol``,
    each agent's confidence set is its own block and no opinion can move by more
    than ``tol``. HK on a complete graph reaches this in finitely many steps
    (Dittmer 2001; Lorenz 2005), so ``converged`` is False only if ``max_steps``
    (generous by default) ran out.
    """
    x0 = np.asarray(x0, dtype=float)
    n = x0.shape[0]
    if n == 0:
        return HKResult(x0.copy(), 0, True)
    order = np.argsort(x0, kind="stable")
    xs = x0[order]
    steps = 0
    converged = False
    while True:
        starts, ends = _blocks(xs, np.diff(xs) > eps)
        if np.all(xs[ends] - xs[starts] <= tol):
            converged = True
            break
        if steps >= max_steps:
            break
        cs = np.concatenate(([0.0], np.cumsum(xs)))
        lo = np.searchsorted(xs, xs - eps, side="left")
        hi = np.searchsorted(xs, xs + eps, side="right")
        xs = np.sort((cs[hi] - cs[lo]) / (hi - lo))
        steps += 1
    out = np.empty(n)
    out[order] = xs
    return HKResult(out, steps, converged)


# ------------------------------------------------------------------- Deffuant-Weisbuch

class DWResult(NamedTuple):
    """Outcome of :func:`deffuant_weisbuch`."""

    x: np.ndarray
    """Final opinions, in the agents' original order."""
    interactions: int
    """Pairwise encounters drawn (including those out of confidence range)."""
    converged: bool
    """True if the stopping rule held before ``max_interactions``."""


def deffuant_weisbuch(x0, d: float, mu: float, rng: np.random.Generator, *,
                      tol: float = 1e-6, max_interactions: int | None = None) -> DWResult:
    """Deffuant-Weisbuch pairwise bounded confidence in a mixed population.

    Source: G. Deffuant, D. Neau, F. Amblard & G. Weisbuch, "Mixing beliefs among
    interacting agents", *Adv. Complex Syst.* 3 (2000) 87-98. At each encounter an
    ordered pair ``i != j`` is drawn uniformly at random; if ``|x_i - x_j| < d``
    both move towards each other: ``x_i += mu (x_j - x_i)``, ``x_j += mu (x_i - x_j)``.
    Encounters are sequential, one pair at a time, as in the paper.

    Stopping rule: split the sorted opinions where neighbours are ``d`` or more
    apart. Such groups can never interact again (each group stays inside its own
    range), so once every group spans at most ``tol`` no encounter can move any
    opinion by more than ``tol``.

    Speed without changing the process: encounters between two groups are
    certain no-ops, and a group that already spans ``<= tol`` is frozen (which
    moves final opinions by at most ``tol``). So only encounters inside the
    still-active groups are simulated, one by one; the number of encounters drawn
    in between (no-ops) is sampled from its exact geometric distribution. This
    is the same random process as the plain pair-by-pair loop, which at
    ``n = 500`` needs millions of draws per run because a stray pair of agents
    meets only once in ~n^2/2 draws. The groups are recomputed after every
    ``len(active)`` simulated encounters, so ``interactions`` (the encounters
    drawn, no-ops included) is counted up to the first check that finds the
    state settled: a resolution of about one sweep of the active agents.

    All randomness comes from ``rng``. ``max_interactions`` (encounters, default
    ``10^6 * n``) bounds the run; ``converged`` is False if it ran out.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    if not 0.0 < mu <= 0.5:
        raise ValueError("mu must be in (0, 0.5]")
    x_arr = np.asarray(x0, dtype=float).copy()
    n = x_arr.shape[0]
    if n < 2:
        return DWResult(x_arr, 0, True)
    max_interactions = 10**6 * n if max_interactions is None else int(max_interactions)
    active = np.arange(n)
    done = 0
    converged = False
    while True:
        # regroup the active agents; groups split at gaps >= d never meet again
        srt = active[np.argsort(x_arr[active], kind="stable")]
        xs = x_arr[srt]
        starts, ends = _blocks(xs, np.diff(xs) >= d)
        live = xs[ends] - xs[starts] > tol
        if not live.any():
            converged = True
            break
        if done >= max_interactions:
            break
        active = np.concatenate([srt[a:b + 1]
                                 for a, b in zip(starts[live], ends[live], strict=True)])
        sizes = (ends - starts + 1)[live]
        offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        pairs = sizes * (sizes - 1.0)
        p_live = pairs.sum() / (n * (n - 1.0))
        k = active.shape[0]
        # k encounters inside live groups, and the no-op draws that precede each
        done += int(rng.geometric(min(1.0, p_live), size=k).sum())
        grp = np.searchsorted(np.cumsum(pairs) / pairs.sum(), rng.random(k), side="right")
        grp = np.minimum(grp, sizes.shape[0] - 1)
        m = sizes[grp]
        li = rng.integers(0, m)
        lj = rng.integers(0, m - 1)
        lj += lj >= li
        ii = active[offsets[grp] + li].tolist()
        jj = active[offsets[grp] + lj].tolist()
        x = x_arr.tolist()  # python floats: ~10x faster scalar access than ndarray
        for i, j in zip(ii, jj, strict=True):
            xi = x[i]
            diff = x[j] - xi
            if -d < diff < d:
                step = mu * diff
                x[i] = xi + step
                x[j] -= step
        x_arr = np.asarray(x)
    return DWResult(x_arr, done, converged)


# ------------------------------------------------------------------------- clusters

def cluster_sizes(x, gap: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """Group opinions into clusters split where sorted neighbours differ by more than ``gap``.

    Returns ``(centres, sizes)``, one entry per cluster in increasing order of
    opinion. ``gap`` must exceed the within-cluster spread left by the stopping
    rule (``tol``) and be below the confidence bound (HK clusters end more than
    ``eps`` apart, DW clusters at least ``d`` apart).
    """
    xs = np.sort(np.asarray(x, dtype=float))
    if xs.size == 0:
        return np.empty(0), np.empty(0, dtype=int)
    starts, ends = _blocks(xs, np.diff(xs) > gap)
    sizes = ends - starts + 1
    cs = np.concatenate(([0.0], np.cumsum(xs)))
    centres = (cs[ends + 1] - cs[starts]) / sizes
    return centres, sizes


def count_major_clusters(x, min_share: float = 0.01, gap: float = 1e-4) -> int:
    """Number of opinion clusters holding more than ``min_share`` of the agents.

    Small "minor" clusters (a handful of extremists left behind at the edges) are
    a well-known finite-size artefact of bounded-confidence models (Deffuant et
    al. 2000; Lorenz 2007, "Continuous opinion dynamics under bounded confidence:
    a survey", *Int. J. Mod. Phys. C* 18), so the classic cluster-count results
    are about major clusters only. See :func:`cluster_sizes` for ``gap``.
    """
    x = np.asarray(x, dtype=float)
    _, sizes = cluster_sizes(x, gap)
    return int(np.sum(sizes > min_share * x.size))
