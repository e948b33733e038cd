"""Two-party alternating-offers bargaining over one issue: the protocol in its textbook form.

The game (Ståhl 1972; Rubinstein 1982): two players split a pie of size 1. Rounds are
numbered ``t = 0, 1, 2, ...``; in round ``t`` player ``t % 2`` proposes (player 0
moves first) a split, stated as the share ``x`` it keeps for itself, and the other
player accepts or rejects. On acceptance the game ends and player ``i`` receives
``d_i ** t * share_i`` (``d_i`` in (0, 1) is its discount factor per round). On
rejection the next round starts with the roles swapped. With a ``deadline`` of ``T``
rounds, no agreement in rounds ``0 .. T-1`` gives both players 0 (the disagreement
point); without one, play is capped at ``max_rounds`` (perpetual disagreement is worth
0 too).

Known solutions, used by :mod:`sim.validation.negotiation`:

* infinite horizon (Rubinstein 1982, "Perfect equilibrium in a bargaining model",
  *Econometrica* 50(1) 97-109): the unique subgame-perfect equilibrium (SPE) is
  stationary; the proposer ``i`` keeps ``(1 - d_j) / (1 - d_i d_j)`` and the responder
  accepts at once, so the first mover gets ``(1 - d2) / (1 - d1 d2)``;
* finite horizon (Ståhl 1972, *Bargaining Theory*): backward induction from the last
  round, where the proposer takes everything, gives the first mover ``s_T`` with
  ``s_1 = 1``, ``s_2 = 1 - d2`` and ``s_T = (1 - d2) + d1 d2 s_(T-2)``, which converges
  to Rubinstein's share geometrically as ``T`` grows.

Strategies are small classes in the manner of the model's strategy registry
(:mod:`sim.strategies`): a name, a classifier and two decisions, ``propose`` and
``respond``. :data:`BARGAINING_STRATEGIES` lists them.

How this relates to the model's protocol (:mod:`sim.negotiation`)
--------------------------------------------------------------------
It is the same skeleton with the model's extras stripped away:

* **Alternation.** Here the proposer alternates every round. In the model each
  negotiation day holds one exchange: the PM proposes, and when the plan is rejected
  the most salient objector replies with a counter-offer that is put to every lead
  at once. Day ``k`` of the model is rounds ``2k`` (PM) and ``2k + 1`` (a lead) here.
* **Acceptance.** Here the responder accepts iff the offer gives it at least what it
  demands (for the SPE strategy: its continuation value). In the model each lead
  accepts iff its utility clears its threshold (reservation minus its concession over
  time, moved by network support, commitment and resistance).
* **Time pressure.** Here it is explicit discounting plus an optional deadline. The
  model has no discount factor: time pressure is the negotiation deadline
  (``negotiation.max_days``; no agreement means the effort is abandoned, the
  disagreement point) and the time-dependent concession curves of
  :mod:`sim.concession` (the PM's aspiration, the leads' falling thresholds).
  :class:`TimeDependent` plays such a curve in this game.
* **What the model adds.** Multi-issue utilities over an enumerated plan space
  (:mod:`sim.plan`) instead of one pie; more than two parties, of which the veto
  holders must all accept and the rest by quorum (``negotiation.quorum``); decision
  rights (engineering fills in the quality bar); beliefs about the other parties'
  priorities that learning improves; and offers chosen by a score over those beliefs
  rather than by an equilibrium computation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from sim.concession import aspiration

__all__ = [
    "Move",
    "BargainingOutcome",
    "AlternatingOffers",
    "BargainingStrategy",
    "RubinsteinSPE",
    "BackwardInduction",
    "TimeDependent",
    "FixedDemand",
    "Deviate",
    "BARGAINING_STRATEGIES",
    "spe_share",
    "finite_horizon_shares",
]

ACCEPT_TOL = 1e-12
"""Rounding slack when a responder compares an offer with what it needs (the SPE offer
equals the responder's continuation value exactly, up to floating point)."""


@dataclass(frozen=True)
class Move:
    """One round: who proposed, the share it demanded for itself, and the answer."""

    round: int
    proposer: int
    demand: float
    accepted: bool


@dataclass(frozen=True)
class BargainingOutcome:
    """How a game ended. ``shares`` are undiscounted, ``payoffs`` discounted to round 0."""

    agreed: bool
    round: int | None
    shares: tuple[float, float]
    payoffs: tuple[float, float]
    history: tuple[Move, ...]


@dataclass(frozen=True)
class AlternatingOffers:
    """The protocol: split a pie of size 1, player 0 proposes first.

    Args:
        discounts: ``(d1, d2)``, each in (0, 1].
        deadline: number of rounds allowed (``T``); ``None`` for the infinite horizon.
        max_rounds: cap on play without a deadline.
    """

    discounts: tuple[float, float]
    deadline: int | None = None
    max_rounds: int = 10_000

    def __post_init__(self) -> None:
        d1, d2 = self.discounts
        if not (0.0 < d1 <= 1.0 and 0.0 < d2 <= 1.0):
            raise ValueError(f"discount factors must lie in (0, 1], got {self.discounts}")
        if self.deadline is not None and self.deadline < 1:
            raise ValueError("deadline must be at least one round")

    @staticmethod
    def proposer(t: int) -> int:
        """Who proposes in round ``t``."""
        return t % 2

    @property
    def rounds(self) -> int:
        return self.deadline if self.deadline is not None else self.max_rounds

    def play(self, strategies: tuple["BargainingStrategy", "BargainingStrategy"]) -> BargainingOutcome:
        """Play the game between ``strategies[0]`` (first mover) and ``strategies[1]``."""
        history: list[Move] = []
        for t in range(self.rounds):
            i = self.proposer(t)
            j = 1 - i
            demand = float(strategies[i].propose(self, t, i))
            if not 0.0 <= demand <= 1.0:
                raise ValueError(f"{strategies[i].name} demanded {demand}, outside [0, 1]")
            accepted = bool(strategies[j].respond(self, t, j, 1.0 - demand))
            history.append(Move(t, i, demand, accepted))
            if accepted:
                shares = [0.0, 0.0]
                shares[i], shares[j] = demand, 1.0 - demand
                payoffs = tuple(self.discounts[k] ** t * shares[k] for k in (0, 1))
                return BargainingOutcome(True, t, (shares[0], shares[1]), payoffs, tuple(history))
        return BargainingOutcome(False, None, (0.0, 0.0), (0.0, 0.0), tuple(history))


def spe_share(d_self: float, d_other: float) -> float:
    """Share a proposer keeps in Rubinstein's stationary SPE: ``(1 - d_other) / (1 - d_self d_other)``."""
    if d_self * d_other >= 1.0:
        raise ValueError("the infinite-horizon SPE needs d1 * d2 < 1")
    return (1.0 - d_other) / (1.0 - d_self * d_other)


def finite_horizon_shares(discounts: tuple[float, float], deadline: int) -> list[float]:
    """Backward induction: ``v[t]`` is the share the proposer of round ``t`` keeps in the SPE of
    the game with ``deadline`` rounds. In the last round the proposer takes everything; earlier
    it leaves the responder exactly what that player would get by rejecting (discounted one
    round): ``v[t] = 1 - d_resp * v[t+1]``."""
    v = [0.0] * deadline
    v[deadline - 1] = 1.0
    for t in range(deadline - 2, -1, -1):
        responder = 1 - AlternatingOffers.proposer(t)
        v[t] = 1.0 - discounts[responder] * v[t + 1]
    return v


class BargainingStrategy:
    """A bargaining strategy: a name, a classifier and two decisions.

    ``propose(game, t, me)`` returns the share the player keeps when it proposes in round
    ``t``; ``respond(game, t, me, share)`` says whether it accepts ``share`` for itself.
    Strategies are stateless: everything they need is the game and the round.
    """

    name: ClassVar[str] = "strategy"
    classifier: ClassVar[dict[str, object]] = {}

    def propose(self, game: AlternatingOffers, t: int, me: int) -> float:  # pragma: no cover
        raise NotImplementedError

    def respond(self, game: AlternatingOffers, t: int, me: int, share: float) -> bool:  # pragma: no cover
        raise NotImplementedError


class RubinsteinSPE(BargainingStrategy):
    """Rubinstein's (1982) stationary subgame-perfect strategy for the infinite horizon.

    Propose: keep ``(1 - d_other) / (1 - d_me d_other)``. Respond: accept iff the offer is
    at least the continuation value, ``d_me`` times what it would keep as next proposer.
    """

    name = "rubinstein_spe"
    classifier = {"subgame_perfect": True, "horizon": "infinite", "source": "Rubinstein 1982"}

    def propose(self, game, t, me):
        d = game.discounts
        return spe_share(d[me], d[1 - me])

    def respond(self, game, t, me, share):
        d = game.discounts
        return share >= d[me] * spe_share(d[me], d[1 - me]) - ACCEPT_TOL


class BackwardInduction(BargainingStrategy):
    """The subgame-perfect strategy of the finite game (Ståhl 1972): needs ``game.deadline``.

    Propose the backward-induction share of round ``t``; accept iff the offer is at least
    what proposing next round is worth now (0 in the last round: anything beats nothing).
    """

    name = "backward_induction"
    classifier = {"subgame_perfect": True, "horizon": "finite", "source": "Ståhl 1972"}

    def _values(self, game) -> list[float]:
        if game.deadline is None:
            raise ValueError("BackwardInduction needs a game with a deadline")
        return finite_horizon_shares(game.discounts, game.deadline)

    def propose(self, game, t, me):
        return self._values(game)[t]

    def respond(self, game, t, me, share):
        v = self._values(game)
        later = game.discounts[me] * v[t + 1] if t + 1 < game.deadline else 0.0
        return share >= later - ACCEPT_TOL


@dataclass
class TimeDependent(BargainingStrategy):
    """A time-dependent concession tactic (Faratin, Sierra & Jennings 1998), as the model's PM uses.

    Demands its aspiration ``aspiration(t, T, style, 1, reservation)`` from
    :mod:`sim.concession` (``T`` = the game's deadline, or ``horizon``); accepts an offer that
    meets what it would demand itself in the next round (the ANAC "AC_next" rule).
    """

    style: str | float = "linear"
    reservation: float = 0.0
    horizon: int = 20

    name: ClassVar[str] = "time_dependent"
    classifier: ClassVar[dict[str, object]] = {"subgame_perfect": False, "source": "Faratin et al. 1998"}

    def _deadline(self, game) -> int:
        return (game.deadline if game.deadline is not None else self.horizon) - 1

    def demand(self, game, t) -> float:
        return aspiration(t, self._deadline(game), self.style, 1.0, self.reservation)

    def propose(self, game, t, me):
        return self.demand(game, t)

    def respond(self, game, t, me, share):
        return share >= self.demand(game, t + 1) - ACCEPT_TOL


@dataclass
class FixedDemand(BargainingStrategy):
    """Always demands ``demand``; accepts any offer of at least ``accept_at``."""

    demand: float = 0.5
    accept_at: float = 0.5

    name: ClassVar[str] = "fixed_demand"
    classifier: ClassVar[dict[str, object]] = {"subgame_perfect": False}

    def propose(self, game, t, me):
        return self.demand

    def respond(self, game, t, me, share):
        return share >= self.accept_at - ACCEPT_TOL


@dataclass
class Deviate(BargainingStrategy):
    """A one-shot deviation: in round ``at`` play ``demand`` (as proposer) or ``accept`` (as
    responder) instead of ``base``; otherwise play ``base``. Used to check that no one-shot
    deviation from an equilibrium pays (the one-shot deviation principle)."""

    base: BargainingStrategy = field(default_factory=RubinsteinSPE)
    at: int = 0
    demand: float | None = None
    accept: bool | None = None

    name: ClassVar[str] = "deviate"
    classifier: ClassVar[dict[str, object]] = {"subgame_perfect": False}

    def propose(self, game, t, me):
        if t == self.at and self.demand is not None:
            return self.demand
        return self.base.propose(game, t, me)

    def respond(self, game, t, me, share):
        if t == self.at and self.accept is not None:
            return self.accept
        return self.base.respond(game, t, me, share)


BARGAINING_STRATEGIES: dict[str, type[BargainingStrategy]] = {
    cls.name: cls for cls in (RubinsteinSPE, BackwardInduction, TimeDependent, FixedDemand, Deviate)
}
"""Registry of the bargaining strategies by name."""
