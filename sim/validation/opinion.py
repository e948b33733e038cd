"""Validation of the influence core against classic opinion-dynamics results.

Every case draws many random instances, each from its own seed derived with
``numpy.random.SeedSequence(root).spawn(k)``, and reports one
:class:`~sim.validation.CaseResult` row per checked quantity.

Exact results (checked to 1e-8 on every instance)
    * DeGroot (1974): with ``W`` row-stochastic, strongly connected and aperiodic,
      every opinion converges to ``pi . x0`` (``pi`` the left Perron vector).
    * Friedkin & Johnsen (1990): ``x(t) -> x* = (I - (I - S) W)^-1 S x0``; the
      iteration, :func:`sim.influence.fj_fixed_point` and the model's
      :class:`sim.influence.InfluenceNetwork` must all agree with a dense solve.
    * Hegselmann-Krause through :func:`sim.influence.bounded_confidence_weights`
      (the model's code path) equals the reference implementation in
      :mod:`sim.classic`.

Statistical results (checked over seeds, with tolerances argued below)
    * Hegselmann & Krause (2002), uniform opinions on [0, 1], ``n = 500``. The
      folklore "about 1/(2 eps) clusters" comes from the "2R conjecture"
      (Blondel, Hendrickx & Tsitsiklis 2009): final clusters end roughly ``2 eps``
      apart (in practice a bit more). Measured here, major clusters sit about
      2.0-2.6 eps apart and the outermost ones about 1.6 eps inside the interval,
      so the count is *below* 1/(2 eps): mean 7.5 / 3.8 / 2.5 for eps = 0.05 /
      0.1 / 0.15 against 10 / 5 / 3.3 (7.9 / 4.0 / 2.5 at n = 50,000, so this is
      not a finite-size effect). A check ``|mean - 1/(2 eps)| <= 1`` would therefore
      fail at eps = 0.05 and 0.1. What is checked: the mean count is between 0.6
      and 1.0 times 1/(2 eps) for each eps, ``mean * 2 eps`` is the same for all
      eps within 0.15 (the count scales as 1/eps), the spread across seeds is at
      most one cluster (sd <= 1), consensus (one major cluster) in every run for
      eps >= 0.25, and every run stops in finitely many steps.
    * Deffuant et al. (2000): consensus in every run for d >= 0.5; about 1/(2d)
      major clusters for d = 0.1, 0.2 within one cluster (rate-equation analysis
      puts major clusters about 2.16 d apart, Ben-Naim, Krapivsky & Redner 2003,
      i.e. ~4.6 and ~2.3 clusters; measured 4.5-4.6 and 2.0-2.1); the convergence
      parameter mu changes the time to converge but not the count of major
      clusters (mean counts for mu = 0.1 and 0.5 on the same initial opinions
      differ by at most 0.5). For the time: an encounter at distance D removes
      ``2 mu (1 - mu) D^2`` from the sum of squared deviations, so when all pairs
      interact the spread decays at a rate proportional to ``mu (1 - mu)`` and
      ``T(mu=0.1) / T(mu=0.5) ~ (0.5 * 0.5) / (0.1 * 0.9) = 2.78``; checked at
      d = 0.5 to within 15 %.

"Major" clusters hold more than 1 % of the agents
(:func:`sim.classic.count_major_clusters`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sim.classic import (
    count_major_clusters,
    deffuant_weisbuch,
    degroot_consensus,
    hegselmann_krause,
    simulate,
)
from sim.influence import InfluenceNetwork, fj_fixed_point, row_normalise
from sim.validation import CaseResult

__all__ = [
    "OpinionPlan",
    "random_influence_matrix",
    "degroot_cases",
    "friedkin_johnsen_cases",
    "hk_reference_cases",
    "hk_runs",
    "hk_count_ok",
    "dw_count_ok",
    "hegselmann_krause_cases",
    "deffuant_weisbuch_cases",
    "run_opinion_cases",
]

EXACT_TOL = 1e-8

# one root per family so adding instances to one family never shifts another
ROOT_DEGROOT = 19740001
ROOT_FJ = 19900001
ROOT_HK = 20020001
ROOT_DW = 20000001


@dataclass(frozen=True)
class OpinionPlan:
    """How many instances each family draws (``run_opinion_cases`` picks one)."""

    linear_instances: int = 200
    hk_reference_instances: int = 10
    hk_agents: int = 500
    hk_seeds: int = 50
    dw_agents: int = 500
    dw_seeds: int = 50


FULL = OpinionPlan()
QUICK = OpinionPlan(linear_instances=30, hk_reference_instances=3, hk_seeds=12, dw_seeds=12)


def _rngs(root: int, k: int) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in np.random.SeedSequence(root).spawn(k)]


def random_influence_matrix(rng: np.random.Generator, n: int, mean_degree: float = 3.0,
                            normalise: bool = True) -> sp.csr_array:
    """Random weighted listening matrix that is strongly connected and aperiodic.

    A sparse random digraph (about ``mean_degree`` out-links per node), plus a
    directed cycle through all nodes in random order (strong connectivity), plus
    self-loops (aperiodicity). Weights are uniform in [0.1, 1]; rows are
    normalised unless ``normalise`` is False.
    """
    p = min(1.0, mean_degree / max(n - 1, 1))
    A = rng.random((n, n)) < p
    perm = rng.permutation(n)
    A[perm, np.roll(perm, -1)] = True
    A[np.arange(n), np.arange(n)] = True
    rows, cols = np.nonzero(A)
    B = sp.csr_array((rng.uniform(0.1, 1.0, rows.size), (rows, cols)), shape=(n, n))
    return row_normalise(B) if normalise else B


def degroot_cases(instances: int, root: int = ROOT_DEGROOT) -> list[CaseResult]:
    """DeGroot consensus equals ``pi . x0`` on random strongly connected aperiodic W."""
    err_sim, err_eig, steps, sizes = [], [], [], []
    mean_gap, not_converged = [], 0
    for rng in _rngs(root, instances):
        n = int(rng.integers(5, 81))
        W = random_influence_matrix(rng, n)
        x0 = rng.random(n)
        pi = degroot_consensus(W)
        traj, ok = simulate(W, 0.0, x0, tol=1e-13, max_steps=200_000)
        not_converged += not ok
        target = float(pi @ x0)
        err_sim.append(np.max(np.abs(traj[-1] - target)))
        err_eig.append(np.max(np.abs(pi @ W.toarray() - pi)))
        mean_gap.append(abs(float(x0.mean()) - target))
        steps.append(traj.shape[0] - 1)
        sizes.append(n)
    worst = int(np.argmax(err_sim))
    mean_gap = np.array(mean_gap)
    out = [
        CaseResult(
            "DeGroot consensus", "max |x(T) - pi.x0| over nodes and instances",
            0.0, float(max(err_sim)), EXACT_TOL,
            max(err_sim) <= EXACT_TOL and not_converged == 0,
            f"{instances} random W (n {min(sizes)}-{max(sizes)}); steps up to {max(steps)}; "
            f"{not_converged} not converged; worst instance #{worst}"),
        CaseResult(
            "DeGroot consensus", "max |pi W - pi| (pi is the left eigenvector)",
            0.0, float(max(err_eig)), 1e-12, max(err_eig) <= 1e-12,
            f"{instances} instances"),
        # negative control: the check must be able to tell pi.x0 from the plain mean
        CaseResult(
            "DeGroot consensus", "instances where the plain mean is > 1e-6 off pi.x0",
            instances, int(np.sum(mean_gap > 1e-6)), 0,
            bool(np.all(mean_gap > 1e-6)),
            f"negative control: W is not doubly stochastic, so the unweighted mean is wrong "
            f"(median gap {np.median(mean_gap):.3g})"),
    ]
    return out


def friedkin_johnsen_cases(instances: int, root: int = ROOT_FJ) -> list[CaseResult]:
    """FJ iteration, fj_fixed_point and InfluenceNetwork all reach the closed form."""
    err_iter, err_solver, err_net, steps, sizes = [], [], [], [], []
    not_converged = 0
    for k, rng in enumerate(_rngs(root, instances)):
        n = int(rng.integers(5, 81))
        B = random_influence_matrix(rng, n, normalise=False)
        W = row_normalise(B)
        x0 = rng.random(n)
        s = 1.0 - rng.random(n)  # (0, 1]
        if k % 3 == 2:  # also cover some nodes with no stubbornness at all
            s[rng.random(n) < 0.3] = 0.0
            s[rng.integers(n)] = 1.0 - rng.random()
        Wd = W.toarray()
        x_star = np.linalg.solve(np.eye(n) - (1.0 - s)[:, None] * Wd, s * x0)
        traj, ok = simulate(W, s, x0, tol=1e-13, max_steps=200_000)
        not_converged += not ok
        err_iter.append(np.max(np.abs(traj[-1] - x_star)))
        err_solver.append(np.max(np.abs(fj_fixed_point(W, s, x0) - traj[-1])))

        # the model's wrapper, with random trust on the edges
        trust = rng.uniform(0.05, 1.0, B.nnz)
        W_eff = row_normalise(sp.csr_array((B.data * trust, B.indices, B.indptr), shape=B.shape))
        x_eff = np.linalg.solve(np.eye(n) - (1.0 - s)[:, None] * W_eff.toarray(), s * x0)
        net = InfluenceNetwork(B, s, x0, trust=trust)
        x = net.x.copy()
        for _ in range(200_000):
            new = net.step(x0).copy()
            if np.max(np.abs(new - x)) <= 1e-13:
                break
            x = new
        else:
            not_converged += 1
        err_net.append(np.max(np.abs(net.x - x_eff)))
        steps.append(traj.shape[0] - 1)
        sizes.append(n)
    desc = f"{instances} random (W, s, x0), n {min(sizes)}-{max(sizes)}, s in (0,1] " \
           f"(every 3rd instance with ~30% s = 0)"
    return [
        CaseResult("Friedkin-Johnsen", "max |x(T) - (I-(I-S)W)^-1 S x0|",
                   0.0, float(max(err_iter)), EXACT_TOL,
                   max(err_iter) <= EXACT_TOL and not_converged == 0,
                   f"{desc}; steps up to {max(steps)}; {not_converged} not converged"),
        CaseResult("Friedkin-Johnsen", "max |fj_fixed_point - iteration|",
                   0.0, float(max(err_solver)), EXACT_TOL, max(err_solver) <= EXACT_TOL,
                   "sparse LU in sim.influence against the iterated map"),
        CaseResult("Friedkin-Johnsen", "max |InfluenceNetwork.step^T - x*(trust-weighted W)|",
                   0.0, float(max(err_net)), EXACT_TOL, max(err_net) <= EXACT_TOL,
                   "model wrapper with random trust per edge, anchor = x0"),
    ]


def hk_reference_cases(instances: int, root: int = ROOT_HK + 1) -> list[CaseResult]:
    """HK through influence.bounded_confidence_weights equals the sorted-window HK."""
    errs, same_steps = [], 0
    for rng in _rngs(root, instances):
        n = int(rng.integers(50, 201))
        eps = float(rng.uniform(0.05, 0.3))
        x0 = rng.random(n)
        W = sp.csr_array(np.full((n, n), 1.0 / n))
        traj, ok = simulate(W, 0.0, x0, eps=eps, tol=1e-12)
        ref = hegselmann_krause(x0, eps)
        errs.append(np.max(np.abs(traj[-1] - ref.x)) if ok and ref.converged else np.inf)
        same_steps += abs((traj.shape[0] - 2) - ref.steps) <= 1
    return [CaseResult(
        "Hegselmann-Krause", "max |model bounded-confidence path - reference HK|",
        0.0, float(max(errs)), 1e-9, max(errs) <= 1e-9,
        f"{instances} instances, n 50-200, eps in [0.05, 0.3], complete graph W = 1/n; "
        f"step counts agree within 1 in {same_steps}/{instances}")]


HK_BAND = (0.6, 1.0)
"""Accepted range of ``mean major clusters / (1 / (2 eps))`` for HK (see module doc)."""


def hk_count_ok(mean: float, sd: float, eps: float) -> bool:
    """The HK cluster-count criterion: mean within ``HK_BAND`` x 1/(2 eps), sd <= 1."""
    ratio = mean * 2.0 * eps
    return HK_BAND[0] <= ratio <= HK_BAND[1] and sd <= 1.0


def dw_count_ok(mean: float, d: float) -> bool:
    """The DW cluster-count criterion: mean within one cluster of 1/(2 d)."""
    return abs(mean - 1.0 / (2.0 * d)) <= 1.0


def hk_runs(agents: int, seeds: int, eps: float, root: int = ROOT_HK):
    """Major-cluster counts, steps and convergence flags of HK over ``seeds`` uniform draws."""
    counts, steps, ok = [], [], []
    for rng in _rngs(root, seeds):
        r = hegselmann_krause(rng.random(agents), eps)
        counts.append(count_major_clusters(r.x))
        steps.append(r.steps)
        ok.append(r.converged)
    return np.array(counts), np.array(steps), np.array(ok)


def hegselmann_krause_cases(agents: int, seeds: int, root: int = ROOT_HK) -> list[CaseResult]:
    """Cluster counts, consensus and finite stopping of HK from uniform opinions."""
    out = []
    ratios = {}
    max_steps_seen, stopped, runs = 0, 0, 0
    for eps in (0.05, 0.1, 0.15):
        counts, steps, conv = hk_runs(agents, seeds, eps, root)
        max_steps_seen = max(max_steps_seen, int(steps.max()))
        stopped += int(conv.sum())
        runs += seeds
        counts = counts.astype(float)
        mean, sd = float(counts.mean()), float(counts.std(ddof=1))
        ideal = 1.0 / (2.0 * eps)
        ratios[eps] = mean / ideal
        ok = hk_count_ok(mean, sd, eps)
        out.append(CaseResult(
            f"Hegselmann-Krause eps={eps}", "mean major clusters",
            ideal, mean, "mean in [0.6, 1.0] x 1/(2 eps), sd <= 1", ok,
            f"mean {mean:.2f} +- {sd:.2f} (sd), range {int(counts.min())}-{int(counts.max())}, "
            f"{seeds} seeds, n={agents}; |mean - 1/(2eps)| = {abs(mean - ideal):.2f}"))
    spread = max(ratios.values()) - min(ratios.values())
    out.append(CaseResult(
        "Hegselmann-Krause", "spread of mean*2eps across eps (count ~ 1/eps)",
        0.0, spread, 0.15, spread <= 0.15,
        "mean*2eps: " + ", ".join(f"eps={e}: {v:.3f}" for e, v in ratios.items())))
    cons = {}
    for eps in (0.25, 0.3, 0.4):
        counts, steps, conv = hk_runs(agents, seeds, eps, root)
        max_steps_seen = max(max_steps_seen, int(steps.max()))
        stopped += int(conv.sum())
        runs += seeds
        cons[eps] = int(np.sum(counts == 1))
    total = len(cons) * seeds
    out.append(CaseResult(
        "Hegselmann-Krause eps>=0.25", "runs ending in one major cluster",
        total, sum(cons.values()), 0, sum(cons.values()) == total,
        ", ".join(f"eps={e}: {c}/{seeds}" for e, c in cons.items())))
    out.append(CaseResult(
        "Hegselmann-Krause", "runs stopped in finitely many steps",
        runs, stopped, 0, stopped == runs,
        f"max steps {max_steps_seen} (cap 100000); stop when no opinion can move > 1e-12"))
    return out


def deffuant_weisbuch_cases(agents: int, seeds: int, root: int = ROOT_DW) -> list[CaseResult]:
    """Consensus, cluster counts and the role of mu in Deffuant-Weisbuch."""
    seqs = np.random.SeedSequence(root).spawn(seeds)
    x0s = [np.random.default_rng(s).random(agents) for s in seqs]

    def runs(d: float, mu: float):
        # dynamics stream depends on (seed, d, mu), initial opinions only on seed
        counts, times, ok = [], [], 0
        for s, x0 in zip(seqs, x0s, strict=True):
            key = s.spawn_key + (round(d * 1000), round(mu * 1000))
            dyn = np.random.default_rng(np.random.SeedSequence(s.entropy, spawn_key=key))
            r = deffuant_weisbuch(x0, d, mu, dyn)
            counts.append(count_major_clusters(r.x))
            times.append(r.interactions / agents)
            ok += r.converged
        return np.array(counts, dtype=float), np.array(times), ok

    out = []
    res = {(d, mu): runs(d, mu) for d in (0.1, 0.2, 0.5) for mu in (0.1, 0.5)}
    res[(0.6, 0.5)] = runs(0.6, 0.5)
    unconverged = sum(seeds - v[2] for v in res.values())

    cons = {k: int(np.sum(v[0] == 1)) for k, v in res.items() if k[0] >= 0.5}
    out.append(CaseResult(
        "Deffuant-Weisbuch d>=0.5", "runs ending in one major cluster",
        len(cons) * seeds, sum(cons.values()), 0, sum(cons.values()) == len(cons) * seeds,
        ", ".join(f"d={d} mu={mu}: {c}/{seeds}" for (d, mu), c in cons.items())))
    for d in (0.1, 0.2):
        for mu in (0.1, 0.5):
            c = res[(d, mu)][0]
            mean, sd = float(c.mean()), float(c.std(ddof=1))
            ideal = 1.0 / (2.0 * d)
            out.append(CaseResult(
                f"Deffuant-Weisbuch d={d} mu={mu}", "mean major clusters",
                ideal, mean, 1.0, dw_count_ok(mean, d),
                f"mean {mean:.2f} +- {sd:.2f} (sd), range {int(c.min())}-{int(c.max())}, "
                f"{seeds} seeds, n={agents}; rate equation ~1/(2.16 d) = {1 / (2.155 * d):.2f}"))
    for d in (0.1, 0.2):
        a, b = res[(d, 0.1)][0], res[(d, 0.5)][0]
        diff = float(a.mean() - b.mean())
        ta, tb = np.median(res[(d, 0.1)][1]), np.median(res[(d, 0.5)][1])
        out.append(CaseResult(
            f"Deffuant-Weisbuch d={d}", "mean clusters mu=0.1 minus mu=0.5",
            0.0, diff, 0.5, abs(diff) <= 0.5,
            f"same initial opinions per seed; median sweeps to converge "
            f"mu=0.1: {ta:.0f}, mu=0.5: {tb:.0f}"))
    ta, tb = res[(0.5, 0.1)][1], res[(0.5, 0.5)][1]
    ratio = float(ta.mean() / tb.mean())
    theory = (0.5 * 0.5) / (0.1 * 0.9)
    out.append(CaseResult(
        "Deffuant-Weisbuch d=0.5", "T(mu=0.1) / T(mu=0.5)",
        theory, ratio, 0.15 * theory, abs(ratio - theory) <= 0.15 * theory,
        f"mean sweeps (encounters / n) to converge: "
        f"mu=0.1 {ta.mean():.1f} +- {ta.std(ddof=1):.1f}, "
        f"mu=0.5 {tb.mean():.1f} +- {tb.std(ddof=1):.1f}; theory mu(1-mu) ratio"))
    out.append(CaseResult(
        "Deffuant-Weisbuch", "runs converged (no pair within d differs by > 1e-6)",
        seeds * len(res), seeds * len(res) - unconverged, 0, unconverged == 0,
        f"{len(res)} (d, mu) settings x {seeds} seeds"))
    return out


def run_opinion_cases(quick: bool = False) -> list[CaseResult]:
    """All opinion-dynamics validation cases; ``quick`` uses fewer seeds (test suite)."""
    plan = QUICK if quick else FULL
    return [
        *degroot_cases(plan.linear_instances),
        *friedkin_johnsen_cases(plan.linear_instances),
        *hk_reference_cases(plan.hk_reference_instances),
        *hegselmann_krause_cases(plan.hk_agents, plan.hk_seeds),
        *deffuant_weisbuch_cases(plan.dw_agents, plan.dw_seeds),
    ]
