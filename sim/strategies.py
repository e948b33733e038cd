"""Influence strategies: a tactic mix, a concession style and a targeting rule.

Each strategy is a small registered unit (in the manner of Axelrod-Python's players)
with a classifier, so tests and tournaments can select them by kind. The PM draws
one tactic per interaction from the mix with the model's rng.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sim.tactics import TACTICS

FALLBACK_TACTIC = "rational_persuasion"
"""What the PM uses when no tactic of its strategy's mix is usable right now, or when it
cannot afford the attention the drawn one costs."""


@dataclass(frozen=True)
class Strategy:
    name: str
    mix: dict[str, float]
    concession: str = "linear"
    targeting: str = "gap"  # "gap": most-needed support first; "salience": power/legitimacy/urgency first
    description: str = ""
    classifier: dict[str, object] = field(default_factory=dict)

    def __post_init__(self):
        unknown = set(self.mix) - set(TACTICS)
        if unknown:
            raise ValueError(f"strategy {self.name}: unknown tactics {sorted(unknown)}")

    def draw(self, rng: np.random.Generator, usable: Callable[[str], bool] | None = None) -> str:
        """One tactic from the mix. ``usable`` rules tactics out for this interaction (an
        escalation too soon after the last one); the rest keep their relative weights,
        and rational persuasion stands in when nothing in the mix is usable."""
        names = sorted(self.mix)
        if usable is not None:
            names = [n for n in names if usable(n)]
            if not names:
                return FALLBACK_TACTIC
        p = np.array([self.mix[n] for n in names], float)
        return names[int(rng.choice(len(names), p=p / p.sum()))]

    @property
    def hard_share(self) -> float:
        hard = {n for n, cls in TACTICS.items() if not cls.soft}
        return sum(v for k, v in self.mix.items() if k in hard) / sum(self.mix.values())


def _s(name, mix, concession, targeting, description, aligning=False):
    return Strategy(name, mix, concession, targeting, description,
                    {"interest_aligning": aligning, "hard": None})


STRATEGIES: dict[str, Strategy] = {s.name: s for s in (
    _s("consultative", {"consultation": 0.6, "rational_persuasion": 0.3, "relationship_building": 0.1},
       "linear", "gap", "asks first, learns priorities, builds commitment", aligning=True),
    _s("rational", {"rational_persuasion": 0.7, "consultation": 0.2, "inspirational_appeal": 0.1},
       "linear", "gap", "facts and logic", aligning=True),
    _s("inspirational", {"inspirational_appeal": 0.5, "rational_persuasion": 0.3, "relationship_building": 0.2},
       "linear", "gap", "ties the plan to shared values"),
    _s("pressure", {"pressure": 0.7, "rational_persuasion": 0.2, "legitimating": 0.1},
       "linear", "salience", "demands and deadlines"),
    _s("escalation", {"legitimating": 0.7, "pressure": 0.3},
       "linear", "salience", "invokes the executive's mandate"),
    _s("hardball", {"pressure": 0.6, "legitimating": 0.2, "rational_persuasion": 0.2},
       "boulware", "salience", "pressure plus a Boulware concession: concedes only near the deadline"),
    _s("exchange", {"exchange": 0.6, "rational_persuasion": 0.2, "relationship_building": 0.2},
       "conceder", "gap", "trades favours"),
    _s("coalition", {"coalition": 0.6, "rational_persuasion": 0.3, "consultation": 0.1},
       "linear", "salience", "enlists supporters to sway resisters"),
    _s("relationship", {"relationship_building": 0.5, "consultation": 0.3, "inspirational_appeal": 0.2},
       "conceder", "gap", "invests in trust first"),
    _s("balanced", {"rational_persuasion": 0.3, "consultation": 0.3, "inspirational_appeal": 0.1,
                    "exchange": 0.1, "coalition": 0.1, "relationship_building": 0.1},
       "linear", "gap", "a soft mix of everything", aligning=True),
)}
for _strategy in STRATEGIES.values():
    _strategy.classifier["hard"] = _strategy.hard_share >= 0.5
"""Registry of all strategies by name."""
