"""Time-dependent concession: how a negotiator's aspiration falls towards its deadline.

Parameterisation (Faratin, Sierra & Jennings 1998, the "polynomial" family)::

    F(t) = k + (1 - k) * (t / T) ** (1 / e)
    aspiration(t) = u_max - (u_max - u_min) * F(t)

With this convention ``e < 1`` is **Boulware** (holds out, concedes late),
``e = 1`` is **linear**, and ``e > 1`` is a **conceder** (gives ground early).
(The other convention in the literature, ``(t/T) ** e``, flips the meaning of the
exponent; we use ``1/e``.)  ``k`` is the share conceded at t = 0 (0 here).
"""

from __future__ import annotations

CONCESSION_EXPONENTS: dict[str, float] = {"boulware": 0.2, "linear": 1.0, "conceder": 5.0}
"""Default exponents e; Boulware 0.2 and conceder 5 are the values used in the
ANAC agent literature's examples (e.g. Baarslag et al. 2013); assumed here."""


def concession_fraction(t: float, deadline: float, e: float, k: float = 0.0) -> float:
    """F(t): share of the range between u_max and u_min conceded by time t."""
    if deadline <= 0:
        return 1.0
    tau = min(max(t / deadline, 0.0), 1.0)
    return k + (1.0 - k) * tau ** (1.0 / e)


def aspiration(t: float, deadline: float, style: str | float, u_max: float, u_min: float,
               k: float = 0.0) -> float:
    """The utility a negotiator still insists on at time ``t``."""
    e = CONCESSION_EXPONENTS[style] if isinstance(style, str) else float(style)
    return u_max - (u_max - u_min) * concession_fraction(t, deadline, e, k)
