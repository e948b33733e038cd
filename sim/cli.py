"""Minimal command line (the full CLI lives in a later issue): run the default organisation."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    import sim
    from sim.debrief import debrief_text

    args = sys.argv[1:] if argv is None else argv
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 0
    result = sim.run(seed=seed)
    s = result.summary
    print(f"pmsim: default organisation, seed {seed}")
    for key in ("outcome", "delivery_day", "slip_days", "delivered_value", "days_to_first_agreement",
                "renegotiations", "blame_events", "trust_in_pm_start", "trust_in_pm_end", "satisfaction"):
        val = s[key]
        print(f"  {key:<26} {val:.2f}" if isinstance(val, float) else f"  {key:<26} {val}")
    print()
    print(debrief_text(result.debrief))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
