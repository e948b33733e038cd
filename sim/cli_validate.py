"""`pmsim validate-model`: reproduce the classic results and publish the evidence.

Runs every validation case of :mod:`sim.validation.opinion` (DeGroot,
Friedkin-Johnsen, Hegselmann-Krause, Deffuant-Weisbuch) and
:mod:`sim.validation.negotiation` (concession curves, Pareto frontier and Nash point,
full-information agreements, Rubinstein), prints every checked quantity with PASS or
FAIL and exits 1 if any check fails.

``--write-docs`` also regenerates ``docs/validation.md`` from the same results: for
each case the formula, its source, the instances and a table of expected against
obtained values. The file holds no timings, dates or paths, and every instance comes
from a fixed seed root, so the same code gives the same file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import typer

from sim.validation import CaseResult, format_results

DOCS_PATH = Path(__file__).resolve().parents[1] / "docs" / "validation.md"
REGENERATE = "uv run pmsim validate-model --write-docs"

__all__ = ["Section", "SECTIONS", "DOCS_PATH", "collect", "section_of", "render_markdown",
           "exit_code", "validate_model", "register"]


@dataclass(frozen=True)
class Section:
    """One case family in docs/validation.md: which result rows it holds and how to read them."""

    title: str
    prefixes: tuple[str, ...]
    """Rows whose ``case`` starts with one of these belong here (longest match wins)."""
    formula: str
    source: str
    instances: Callable[[bool], str]
    """Description of the instances, given ``quick``."""
    notes: str = ""


def _op(quick: bool):
    from sim.validation import opinion
    return opinion.QUICK if quick else opinion.FULL


def _neg(quick: bool):
    from sim.validation import negotiation
    return negotiation.QUICK if quick else negotiation.FULL


SECTIONS: tuple[Section, ...] = (
    Section(
        "DeGroot consensus", ("DeGroot",),
        "`x(t+1) = W x(t)` with `W` row-stochastic, strongly connected and aperiodic: every opinion "
        "converges to `pi . x0`, where `pi W = pi`, `pi >= 0`, `sum(pi) = 1` (the left eigenvector "
        "of `W` for eigenvalue 1). Checked to 1e-8 on every instance.",
        "M. H. DeGroot, \"Reaching a consensus\", *J. Amer. Statist. Assoc.* 69 (1974) 118-121.",
        lambda q: f"{_op(q).linear_instances} random `W` (`sim.validation.opinion.random_influence_matrix`: "
                  "sparse random digraph with about 3 out-links per node, a directed cycle through all "
                  "nodes, self-loops; weights uniform in [0.1, 1], rows normalised), n from 5 to 80, "
                  "`x0` uniform in [0, 1]; iterated with `sim.classic.simulate` (the model's "
                  "`sim.influence.fj_step` with `s = 0`) until no opinion moves more than 1e-13."),
    Section(
        "Friedkin-Johnsen", ("Friedkin-Johnsen",),
        "`x(t+1) = S x0 + (I - S) W x(t)` with `S = diag(s)` converges to "
        "`x* = (I - (I - S) W)^-1 S x0`; the iteration, the engine's fixed-point solver "
        "(`sim.influence.fj_fixed_point`) and the model's `InfluenceNetwork` must agree with a "
        "dense solve to 1e-8.",
        "N. E. Friedkin & E. C. Johnsen, \"Social influence and opinions\", *J. Math. Sociol.* 15 "
        "(1990) 193-206.",
        lambda q: f"{_op(q).linear_instances} random `(W, s, x0)` from the same generator, s uniform in "
                  "(0, 1] (every third instance with about 30 % of the nodes at s = 0); the "
                  "`InfluenceNetwork` check adds a random trust in [0.05, 1] on every edge."),
    Section(
        "Hegselmann-Krause bounded confidence", ("Hegselmann-Krause",),
        "Each step every agent moves to the mean of the opinions within `eps` of its own "
        "(itself included), synchronously. From uniform opinions on [0, 1] the number of major "
        "clusters (holding more than 1 % of agents) tracks about `1/(2 eps)`; consensus for "
        "`eps >= 0.25`; convergence in finitely many steps is a theorem. The measured count sits "
        "below `1/(2 eps)` (clusters end about 2.0-2.6 `eps` apart, Blondel, Hendrickx & Tsitsiklis "
        "2009), so the check is a band of 0.6-1.0 times `1/(2 eps)` with the same ratio for every "
        "`eps` (count proportional to `1/eps`), as argued in `sim/validation/opinion.py`.",
        "R. Hegselmann & U. Krause, \"Opinion dynamics and bounded confidence: models, analysis and "
        "simulation\", *JASSS* 5(3) (2002); V. D. Blondel, J. M. Hendrickx & J. N. Tsitsiklis, "
        "\"On Krause's multi-agent consensus model with state-dependent connectivity\", *IEEE TAC* "
        "54(11) (2009); finite-time convergence: J. C. Dittmer (2001), J. Lorenz (2005).",
        lambda q: f"n = {_op(q).hk_agents} agents with uniform initial opinions, {_op(q).hk_seeds} seeds per "
                  "`eps` in {0.05, 0.1, 0.15} and {0.25, 0.3, 0.4}; the model's own bounded-confidence "
                  f"path against the reference on {_op(q).hk_reference_instances} instances (n 50-200)."),
    Section(
        "Deffuant-Weisbuch pairwise bounded confidence", ("Deffuant-Weisbuch",),
        "At each encounter a random pair with `|x_i - x_j| < d` moves together: "
        "`x_i += mu (x_j - x_i)`, `x_j += mu (x_i - x_j)`. Consensus for `d >= 0.5`; about "
        "`1/(2d)` major clusters for small `d` (within one cluster); `mu` changes the time to "
        "converge, not the number of clusters; the time scales as `1 / (mu (1 - mu))`.",
        "G. Deffuant, D. Neau, F. Amblard & G. Weisbuch, \"Mixing beliefs among interacting agents\", "
        "*Adv. Complex Syst.* 3 (2000) 87-98; E. Ben-Naim, P. L. Krapivsky & S. Redner, \"Bifurcations "
        "and patterns in compromise processes\", *Physica D* 183 (2003) 190-204.",
        lambda q: f"n = {_op(q).dw_agents} agents, {_op(q).dw_seeds} seeds, d in {{0.1, 0.2, 0.5, 0.6}}, "
                  "mu in {0.1, 0.5}; the same initial opinions per seed for every (d, mu)."),
    Section(
        "Concession curves", ("Concession",),
        "`aspiration(t) = u_max - (u_max - u_min) * (k + (1 - k) * (t/T)^(1/e))`, the polynomial "
        "family with the `1/e` exponent convention: `e = 0.2` Boulware (holds out), `e = 1` linear, "
        "`e = 5` conceder (gives ground early). The expected values are computed independently of "
        "`sim.concession`.",
        "P. Faratin, C. Sierra & N. R. Jennings, \"Negotiation decision functions for autonomous "
        "agents\", *Robotics and Autonomous Systems* 24(3-4) (1998) 159-182; exponents as in the "
        "examples of T. Baarslag et al. (2013).",
        lambda q: f"t/T in {{0.25, 0.5, 0.75}} with u_max = 1, u_min = 0; then "
                  f"{_neg(q).concession_instances} random (u_max, u_min, T, k) at 8 times each "
                  "(0, T/4, T/2, 3T/4, T, two random times, and past the deadline)."),
    Section(
        "Pareto frontier and Nash bargaining point of the plan space", ("Pareto frontier", "Nash bargaining point"),
        "A plan is Pareto-optimal when no other plan gives every party at least as much utility and "
        "one party more. The Nash bargaining point maximises `prod_k (u_k - d_k)` over the plans "
        "giving every party at least its disagreement utility `d_k`. `sim.plan.pareto_mask`, "
        "`distance_to_frontier` and `nash_point` are compared with an O(n^2) brute-force "
        "dominance check and a plain loop over the Nash product.",
        "V. Pareto, *Manuale di economia politica* (1906); J. F. Nash, \"The bargaining problem\", "
        "*Econometrica* 18(2) (1950) 155-162.",
        lambda q: f"{_neg(q).plan_space_instances} random plan spaces (`sim.plan.PlanSpace`, 3-4 features "
                  "with random value, effort, risk and novelty, random day, capacity and deadline; "
                  "378-810 plans) with Dirichlet(1) issue weights for 3 parties, also with utilities "
                  f"rounded to 0.1 to create ties; and {_neg(q).model_plan_spaces} utility spaces of the "
                  "model itself (valid plans x (3 leads + PM))."),
    Section(
        "Full-information agreements (MODEL.md section 7)", ("Full-information agreement",),
        "With full information and an interest-aligning strategy the first agreed plan lies on the "
        "Pareto frontier of the plan space: distance 0 (to 1e-9) in the utility space of every "
        "lead's true utility plus the PM's own utility as the protocol computes it "
        "(`PMSimModel.pm_utilities`), at the moment of agreement.",
        "Contract of MODEL.md section 7; the protocol is `sim/negotiation.py`.",
        lambda q: f"`pm.belief_noise = 0`, every shock rate 0, everything else at its default; "
                  f"{_neg(q).model_seeds} model seeds of the default organisation and "
                  f"{_neg(q).model_seeds} random organisations (Dirichlet(1) issue weights and "
                  "reservations in [0.4, 0.7] for the three leads; random value, effort, risk and "
                  "novelty for the six features), the same instances for every strategy; the "
                  "interest-aligning strategies are those whose classifier says so "
                  "(consultative, rational, balanced).",
        notes="*Valid* plans carry engineering's own quality bar for their scope (decision rights, "
              "`PMSimModel.valid_plans`). *Admissible* plans are valid plans that no veto holder "
              "vetoes: rule 3 of the protocol makes a vetoed plan impossible to agree whatever its "
              "utilities, so the frontier of possible agreements is that of the admissible plans. "
              "In the default organisation the two frontiers give the same distances; in random "
              "organisations a veto holder may put little weight on the issue its veto protects "
              "(engineering on feasibility), and a plan it must veto can then dominate the "
              "agreement. The utility space is copied inside `PMSimModel.agree`, before the same "
              "day's execution changes the feasibility scores "
              "(`sim.validation.negotiation.AgreementProbe`). A row \"dictated agreements where "
              "dictating gained the PM nothing\" counts agreements in which the PM set the quality "
              "bar although its own utility did not depend on it: such a plan is dominated by the "
              "PM's own proposal."),
    Section(
        "Negotiation metrics per strategy (ANAC)", ("Strategy ",),
        "For every strategy, the mean Euclidean distance of the first agreed plan to the Pareto "
        "frontier of the admissible plans and to their Nash point, with the disagreement point at "
        "the reservations (each lead's `reservation`, the PM's `pm.reservation`); the Nash point is "
        "undefined in a run where no admissible plan clears every reservation. Reported, not "
        "checked: the contract is checked in the section above.",
        "The standard metrics of the Automated Negotiating Agents Competition: T. Baarslag, "
        "K. Hindriks, C. Jonker, S. Kraus & R. Lin, \"The first automated negotiating agents "
        "competition (ANAC 2010)\", in *New Trends in Agent-Based Complex Automated Negotiations*, "
        "Springer (2012); T. Baarslag et al., \"Evaluating practical negotiating agents: results and "
        "analysis of the 2011 international competition\", *Artificial Intelligence* 198 (2013) 73-103.",
        lambda q: "the same runs as the section above, every strategy in `sim.strategies.STRATEGIES`."),
    Section(
        "Rubinstein alternating offers", ("Rubinstein",),
        "Two players split a pie of size 1; they alternate proposals (player 1 first), discounting "
        "by `d1`, `d2` per round. The unique subgame-perfect equilibrium gives the first mover "
        "`(1 - d2) / (1 - d1 d2)` in round 0. Played with `sim.bargaining.AlternatingOffers` and "
        "`RubinsteinSPE` on both sides; a one-shot deviation must not pay.",
        "A. Rubinstein, \"Perfect equilibrium in a bargaining model\", *Econometrica* 50(1) (1982) "
        "97-109.",
        lambda q: f"a 6 x 6 grid of (d1, d2) in {{0.1, 0.3, 0.5, 0.7, 0.9, 0.99}} and "
                  f"{_neg(q).rubinstein_random_pairs} random pairs in [0.01, 0.999].",
        notes="`sim/bargaining.py` is the model's protocol in textbook form: the same alternation "
              "(the model's PM proposes and the most salient objector counters on each day) and "
              "acceptance rule (accept iff the offer clears what the responder needs); the model "
              "adds multi-issue utilities over the plan space, more than two parties with vetoes "
              "and a quorum, decision rights, beliefs, and a deadline with concession curves in "
              "place of discount factors."),
    Section(
        "Rubinstein finite horizon (Ståhl)", ("Rubinstein finite horizon",),
        "With a deadline of T rounds, backward induction gives the first mover `s_1 = 1`, "
        "`s_2 = 1 - d2`, `s_T = (1 - d2) + d1 d2 s_(T-2)`, i.e. `(1 - d2)(1 - q^k)/(1 - q) + q^k` "
        "for `T = 2k + 1` and `(1 - d2)(1 - q^k)/(1 - q)` for `T = 2k` with `q = d1 d2`, which "
        "tends to Rubinstein's share as T grows.",
        "I. Ståhl, *Bargaining Theory*, Stockholm School of Economics (1972); Rubinstein (1982).",
        lambda q: "4 fixed and 6 random (d1, d2) in [0.3, 0.95], T in {1, 2, 3, 4, 5, 10, 20, 50, 100, "
                  "200, 400}, `BackwardInduction` on both sides."),
)


def section_of(result: CaseResult) -> Section | None:
    """The section whose longest prefix matches the row's case (None: no section claims it)."""
    best, length = None, -1
    for sec in SECTIONS:
        for p in sec.prefixes:
            if result.case.startswith(p) and len(p) > length:
                best, length = sec, len(p)
    return best


def collect(quick: bool = False, echo: Callable[[str], None] | None = None) -> list[CaseResult]:
    """Run every validation case (opinion dynamics, then negotiation)."""
    from sim.validation.negotiation import run_negotiation_cases
    from sim.validation.opinion import run_opinion_cases

    results: list[CaseResult] = []
    for label, run in (("opinion dynamics", run_opinion_cases), ("negotiation", run_negotiation_cases)):
        t0 = time.perf_counter()
        rows = run(quick=quick)
        results.extend(rows)
        if echo is not None:
            echo(f"== {label}: {len(rows)} checks in {time.perf_counter() - t0:.1f} s")
            echo(format_results(rows, pass_mark="PASS"))
    return results


def _cell(v) -> str:
    from sim.validation import _fmt

    text = _fmt(v) if not isinstance(v, str) else v
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(results: list[CaseResult], quick: bool = False) -> str:
    """docs/validation.md from the results: deterministic (no timings, dates or paths)."""
    failed = [r for r in results if not r.passed]
    groups: dict[str, list[CaseResult]] = {s.title: [] for s in SECTIONS}
    other: list[CaseResult] = []
    for r in results:
        sec = section_of(r)
        (groups[sec.title] if sec is not None else other).append(r)
    variant = ("the quick variant (`--quick`, fewer seeds)" if quick
               else "the full variant (the default; `--quick` draws fewer seeds)")
    lines = [
        "# Validation against classic results",
        "",
        f"<!-- Generated by `{REGENERATE}`. Do not edit by hand. -->",
        "",
        f"This file is generated by `{REGENERATE}` and committed; regenerate it after changing "
        "the engine. The same checks run in the test suite (`tests/test_validation_opinion.py`, "
        "`tests/test_validation_negotiation.py`, `tests/test_cli_validate.py`), and "
        "`uv run pmsim validate-model` prints them and exits non-zero on any failure.",
        "",
        f"Produced by {variant}. Every instance is drawn from a seed derived with "
        "`numpy.random.SeedSequence` from a fixed root per case family, so the same code "
        "produces the same file. Numbers are shown to 4 significant digits.",
        "",
        f"**Result: {len(results)} checks, {len(results) - len(failed)} passed, {len(failed)} failed.**",
        "",
        "| # | case family | checks | passed | failed |",
        "|---|---|---|---|---|",
    ]
    numbered = [(s.title, groups[s.title]) for s in SECTIONS if groups[s.title]]
    if other:
        numbered.append(("Other checks", other))
    for i, (title, rows) in enumerate(numbered, 1):
        bad = sum(not r.passed for r in rows)
        lines.append(f"| {i} | {title} | {len(rows)} | {len(rows) - bad} | {bad} |")
    by_title = {s.title: s for s in SECTIONS}
    for i, (title, rows) in enumerate(numbered, 1):
        lines += ["", f"## {i}. {title}", ""]
        sec = by_title.get(title)
        if sec is not None:
            lines += [f"**Formula.** {sec.formula}", "", f"**Source.** {sec.source}", "",
                      f"**Instances.** {sec.instances(quick)}", ""]
            if sec.notes:
                lines += [f"**Notes.** {sec.notes}", ""]
        lines += ["| case | quantity | expected | obtained | tolerance | result | detail |",
                  "|---|---|---|---|---|---|---|"]
        for r in rows:
            mark = "PASS" if r.passed else "**FAIL**"
            lines.append(f"| {_cell(r.case)} | {_cell(r.quantity)} | {_cell(r.expected)} | "
                         f"{_cell(r.obtained)} | {_cell(r.tolerance)} | {mark} | {_cell(r.detail)} |")
    return "\n".join(lines) + "\n"


def exit_code(results: list[CaseResult]) -> int:
    """0 when every check passed, 1 otherwise (also 1 when there is nothing to check)."""
    return 0 if results and all(r.passed for r in results) else 1


def validate_model(
    quick: bool = typer.Option(False, "--quick", help="Fewer seeds per case (what the test suite runs)."),
    write_docs: bool = typer.Option(False, "--write-docs",
                                    help="Also regenerate docs/validation.md from the results."),
    docs_path: Path = typer.Option(DOCS_PATH, "--docs-path", help="Where --write-docs writes."),
) -> None:
    """Reproduce the classic results (opinion dynamics, negotiation theory); exit 1 on any FAIL."""
    t0 = time.perf_counter()
    results = collect(quick, echo=typer.echo)
    failed = [r for r in results if not r.passed]
    typer.echo(f"validate-model ({'quick' if quick else 'full'}): {len(results)} checks, "
               f"{len(results) - len(failed)} passed, {len(failed)} failed "
               f"in {time.perf_counter() - t0:.1f} s")
    for r in failed:
        typer.echo(f"FAILED: {r.case} | {r.quantity}", err=True)
    if write_docs:
        docs_path.parent.mkdir(parents=True, exist_ok=True)
        docs_path.write_text(render_markdown(results, quick), encoding="utf-8")
        typer.echo(f"wrote {docs_path}")
    raise typer.Exit(exit_code(results))


def register(app: typer.Typer) -> None:
    """Add ``validate-model`` to the ``pmsim`` app."""
    app.command("validate-model")(validate_model)
