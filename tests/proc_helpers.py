"""Process helpers shared by the tests that start and kill real processes."""

from __future__ import annotations

from pathlib import Path


def children(pid: int) -> list[int]:
    """Child process ids of ``pid`` (Linux /proc), e.g. a sweep's worker processes."""
    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            pass
    return kids
