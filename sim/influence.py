"""Social influence on arrays: Friedkin-Johnsen with optional bounded confidence.

Pure functions over numpy / scipy.sparse so the classic results can be tested in
isolation, plus :class:`InfluenceNetwork`, the stateful wrapper the model uses.

Conventions
-----------
* ``W`` is row-stochastic: row ``i`` holds whom ``i`` listens to.
* ``s`` is stubbornness in [0, 1]: the weight of a node's anchor (its own
  evaluation). ``s = 0`` everywhere is DeGroot; ``s = 1`` never moves.
* Friedkin-Johnsen (Friedkin & Johnsen 1990): ``x' = s*a + (1-s) * W x``.
  Its fixed point is ``x* = (I - (I - S) W)^-1 S a``.
* Bounded confidence (Hegselmann & Krause 2002) drops the links to views further
  than ``eps`` away and renormalises the rest (a node always hears itself).
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from queue import Empty, SimpleQueue

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse import _sparsetools

_TINY = np.finfo(float).tiny
"""Smallest normal double. A row whose weights sum below it counts as empty: 1 / sum would
overflow to inf and a zero weight times inf is NaN (trust cut again and again by blame
reaches subnormal values)."""

__all__ = [
    "row_normalise",
    "fj_step",
    "fj_fixed_point",
    "bounded_confidence_weights",
    "InfluenceNetwork",
]


def row_normalise(W: sp.csr_array) -> sp.csr_array:
    """Return ``W`` scaled so that each non-empty row sums to one."""
    W = sp.csr_array(W, dtype=float)
    sums = np.asarray(W.sum(axis=1)).ravel()
    scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums >= _TINY)
    return sp.csr_array(sp.diags_array(scale) @ W)


def fj_step(W, s: np.ndarray, anchor: np.ndarray, x: np.ndarray) -> np.ndarray:
    """One synchronous Friedkin-Johnsen update ``s*a + (1-s) * W x``."""
    return s * anchor + (1.0 - s) * (W @ x)


def fj_fixed_point(W, s: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """Solve ``x* = (I - (I - S) W)^-1 S a`` directly (sparse LU).

    ``s`` may be a scalar or one value per node. The system is singular when some
    closed group of nodes has no stubbornness at all (e.g. ``s = 0``: DeGroot has
    no unique fixed point); that raises ``ValueError`` instead of returning NaN.
    """
    anchor = np.asarray(anchor, dtype=float)
    n = anchor.shape[0]
    s = np.broadcast_to(np.asarray(s, dtype=float), (n,))
    A = sp.identity(n, format="csc") - sp.diags_array(1.0 - s) @ sp.csc_array(W)
    with warnings.catch_warnings():
        warnings.simplefilter("error", spla.MatrixRankWarning)
        try:
            x = np.asarray(spla.spsolve(sp.csc_array(A), s * anchor), dtype=float).ravel()
        except (spla.MatrixRankWarning, RuntimeError) as exc:
            raise ValueError("I - (I - S) W is singular: some closed group of nodes has "
                             "zero stubbornness, so the fixed point is not unique") from exc
    if not np.all(np.isfinite(x)):
        raise ValueError("I - (I - S) W is singular: the fixed point is not unique")
    return x


def bounded_confidence_weights(W: sp.csr_array, x: np.ndarray, eps: float) -> sp.csr_array:
    """Mask the links of ``W`` whose opinions differ by more than ``eps``; renormalise.

    A row left with no link keeps only itself (the node holds its view).
    """
    W = sp.csr_array(W)
    rows = np.repeat(np.arange(W.shape[0]), np.diff(W.indptr))
    data = W.data * (np.abs(x[W.indices] - x[rows]) <= eps)
    masked = sp.csr_array((data, W.indices.copy(), W.indptr.copy()), shape=W.shape)
    sums = np.asarray(masked.sum(axis=1)).ravel()
    lonely = sums < _TINY
    if lonely.any():
        masked = masked + sp.csr_array(sp.diags_array(lonely.astype(float)))
    return row_normalise(masked)


class InfluenceNetwork:
    """Support for the plan on a trust-weighted network, stepped one day at a time.

    ``base`` holds the structural listening weights (who listens to whom, CSR) and
    ``trust`` one trust value per stored edge, aligned with ``base.data``. The
    effective weights are ``row_normalise(base * trust)``; they are rebuilt lazily
    after trust changes, in place on the CSR data array: only the rows whose edges
    changed when the change came through :meth:`scale_trust` / :meth:`add_trust` /
    :meth:`set_trust` with edge indices or :meth:`touch_rows`, every row otherwise.

    Performance notes (see ``docs/performance.md``): the matrix keeps 32-bit indices
    when they fit, the step reuses preallocated buffers and calls scipy's CSR
    mat-vec kernel directly (``W @ x`` would allocate and re-check the operands every
    day), and the per-edge row index is not stored (:attr:`rows` derives it on
    demand). Networks of :data:`THREADED_MIN_NODES` nodes or more run the whole day
    (mat-vec, anchor pull, clip) on row blocks in threads, so each block's vectors are
    still in its core's cache for the ufuncs. The numbers are the same, operation for
    operation, as the textbook ``s * a + (1 - s) * (W @ x)``, whatever the split.
    """

    def __init__(self, base: sp.csr_array, stubbornness: np.ndarray, x0: np.ndarray,
                 trust: np.ndarray | None = None, eps: float | None = None):
        # copy: sorting below must not reorder the caller's matrix behind its back
        self.base = sp.csr_array(base, dtype=float, copy=True)
        self.n = self.base.shape[0]
        _compact_indices(self.base)
        nnz = self.base.data.shape[0]
        self.trust = (np.ones(nnz) if trust is None
                      else np.asarray(trust, dtype=float).copy())
        if self.trust.shape != (nnz,):
            raise ValueError(f"trust needs one value per stored edge ({nnz}), "
                             f"got shape {self.trust.shape}")
        # sort column indices within rows, permuting trust with the edges so it stays
        # aligned (base.sort_indices() alone would reorder data but not trust)
        if not _sparsetools.csr_has_sorted_indices(self.n, self.base.indptr, self.base.indices):
            order = np.lexsort((self.base.indices, self.rows))
            self.base.indices = self.base.indices[order]
            self.base.data = self.base.data[order]
            self.trust = self.trust[order]
        self.base.has_sorted_indices = True
        self.s = stubbornness
        self.x = np.asarray(x0, dtype=float).copy()
        self.eps = eps
        self._W = sp.csr_array((np.empty_like(self.base.data), self.base.indices,
                                self.base.indptr), shape=self.base.shape)
        self._lonely = np.zeros(self.n, dtype=bool)
        self._lonely_nodes = np.zeros(0, dtype=np.int64)
        self._any_lonely = False
        # preallocated day buffers (the step allocates only the new opinion vector)
        self._heard = np.empty(self.n)
        self._pull = np.empty(self.n)
        self._blocks = _row_blocks(self._W, self.n)  # row blocks for threaded steps (large orgs)
        self._dirty_rows: list[np.ndarray] = []
        self.version = 0
        self._dirty = True

    # ------------------------------------------------------------ state
    @property
    def s(self) -> np.ndarray:
        """Stubbornness per node (assign a new array to change it; it is read-only)."""
        return self._s

    @s.setter
    def s(self, value) -> None:
        s = np.array(value, dtype=float)  # own copy: the cached 1 - s must stay in step
        self._one_minus_s = 1.0 - s
        s.flags.writeable = False
        self._s = s

    @property
    def rows(self) -> np.ndarray:
        """Row (listener) of every stored edge, derived from ``base.indptr`` on demand."""
        return np.repeat(np.arange(self.n, dtype=np.int64), np.diff(self.base.indptr))

    @property
    def _dirty(self) -> bool:
        return self._full_dirty or bool(self._dirty_rows)

    @_dirty.setter
    def _dirty(self, value: bool) -> None:
        # ``net._dirty = True`` after editing ``base.data`` / ``trust`` directly: every
        # row is rebuilt on the next read of :attr:`W`.
        self._full_dirty = bool(value)
        if value:
            self._dirty_rows = []
            self.version += 1

    def touch_rows(self, rows) -> None:
        """Mark rows whose ``base.data`` or ``trust`` entries changed: only those rows are
        renormalised on the next read of :attr:`W` (cost linear in their edges)."""
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        if rows.size:
            if not self._full_dirty:
                self._dirty_rows.append(rows)
            self.version += 1

    def _rows_of_edges(self, edges: np.ndarray) -> np.ndarray:
        indptr = self.base.indptr
        return np.searchsorted(indptr, edges.astype(indptr.dtype, copy=False), side="right") - 1

    @property
    def W(self) -> sp.csr_array:
        """The current row-stochastic influence matrix.

        A row whose trust has all fallen to zero (or that has no edge) is left
        empty here; :meth:`step` treats that node as listening only to itself,
        as :func:`bounded_confidence_weights` does for a row with no link left.
        """
        if self._full_dirty:
            self._rebuild_all()
        elif self._dirty_rows:
            rows = self._dirty_rows
            if len(rows) == 1 and len(rows[0]) == 1:
                rows = rows[0]
            else:  # sorted unique rows in O(n + k), cheaper than np.unique for a blame's many rows
                mark = np.zeros(self.n, dtype=bool)
                for r in rows:
                    mark[r] = True
                rows = np.flatnonzero(mark)
            self._rebuild_rows(rows)
        return self._W

    def _ones_vector(self) -> np.ndarray:
        if getattr(self, "_ones", None) is None or self._ones.shape[0] != self.n:
            self._ones = np.ones(self.n)
        return self._ones

    def _rebuild_all(self) -> None:
        n, indptr, indices = self.n, self.base.indptr, self.base.indices
        data = self._W.data
        np.multiply(self.base.data, self.trust, out=data)               # raw = base * trust
        sums = np.zeros(n)
        _sparsetools.csr_matvec(n, n, indptr, indices, data, self._ones_vector(), sums)  # row sums, in order
        inv = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums >= _TINY)
        _sparsetools.csr_scale_rows(n, n, indptr, indices, data, inv)   # raw * inv[row]
        self._lonely = sums < _TINY
        self._lonely_changed()
        self._full_dirty = False
        self._dirty_rows = []

    def _rebuild_rows(self, rows: np.ndarray) -> None:
        """Renormalise the given rows (sorted, unique): long rows (a lead listening to a
        whole department) and runs of consecutive rows in place on slices when there are
        few of them, the rest through one gather of their edges. Same operations as
        :meth:`_rebuild_all`."""
        indptr = self.base.indptr
        long = (indptr[rows + 1] - indptr[rows]) >= 512
        if long.any() and not long.all():
            for r in rows[long]:
                self._rebuild_range(int(r), int(r) + 1)
            rows = rows[~long]
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        if len(breaks) < 8:
            for run in np.split(rows, breaks):
                self._rebuild_range(int(run[0]), int(run[-1]) + 1)
        else:
            self._rebuild_scattered(rows)
        self._lonely_changed()
        self._dirty_rows = []

    def _lonely_changed(self) -> None:
        self._lonely_nodes = np.flatnonzero(self._lonely)
        self._any_lonely = len(self._lonely_nodes) > 0

    def _rebuild_range(self, r0: int, r1: int) -> None:
        indptr = self.base.indptr
        e0, e1 = int(indptr[r0]), int(indptr[r1])
        sub = indptr[r0:r1 + 1] - indptr[r0]
        cols = self.base.indices[e0:e1]
        data = self._W.data[e0:e1]
        np.multiply(self.base.data[e0:e1], self.trust[e0:e1], out=data)
        sums = np.zeros(r1 - r0)
        _sparsetools.csr_matvec(r1 - r0, self.n, sub, cols, data, self._ones_vector(), sums)
        inv = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums >= _TINY)
        _sparsetools.csr_scale_rows(r1 - r0, self.n, sub, cols, data, inv)
        self._lonely[r0:r1] = sums < _TINY

    def _rebuild_scattered(self, rows: np.ndarray) -> None:
        indptr = self.base.indptr
        starts = indptr[rows].astype(np.int64)
        lens = indptr[rows + 1] - starts
        total = int(lens.sum())
        if total:
            # edge positions of the rows, in CSR order: arange per row, concatenated
            shift = np.repeat(starts - (np.cumsum(lens) - lens), lens)
            edges = np.arange(total, dtype=np.int64) + shift
            raw = self.base.data[edges] * self.trust[edges]
            local = np.repeat(np.arange(len(rows)), lens)
            sums = np.bincount(local, weights=raw, minlength=len(rows))
        else:
            sums = np.zeros(len(rows))
        inv = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums >= _TINY)
        if total:
            self._W.data[edges] = raw * inv[local]
        self._lonely[rows] = sums < _TINY

    # ------------------------------------------------------------ trust
    def _select(self, edges) -> tuple[np.ndarray, bool]:
        edges = np.asarray(edges)
        return edges, edges.dtype == bool

    def _changed(self, edges: np.ndarray, is_mask: bool) -> None:
        if is_mask:
            self._dirty = True
        else:
            self.touch_rows(self._rows_of_edges(edges))

    def scale_trust(self, edge_mask: np.ndarray, factor: float) -> None:
        """Multiply the trust on the given edges by ``factor`` (clipped to [0, 1]).

        ``edge_mask`` is a boolean mask over the stored edges or an array of edge
        positions; positions renormalise only the rows they touch."""
        edges, is_mask = self._select(edge_mask)
        self.trust[edges] = np.clip(self.trust[edges] * factor, 0.0, 1.0)
        self._changed(edges, is_mask)

    def add_trust(self, edge_mask: np.ndarray, delta: float) -> None:
        """Add ``delta`` to the trust on the given edges (mask or positions; clipped to [0, 1])."""
        edges, is_mask = self._select(edge_mask)
        self.trust[edges] = np.clip(self.trust[edges] + delta, 0.0, 1.0)
        self._changed(edges, is_mask)

    def set_trust(self, edge_mask: np.ndarray, value: float) -> None:
        """Set the trust on the given edges (mask or positions) to ``value``."""
        edges, is_mask = self._select(edge_mask)
        self.trust[edges] = value
        self._changed(edges, is_mask)

    # ------------------------------------------------------------ the day
    def step(self, anchor: np.ndarray) -> np.ndarray:
        """Advance one day of Friedkin-Johnsen towards ``anchor``; return opinions.

        Returns a new array (also stored as :attr:`x`): earlier results are not
        overwritten by later steps."""
        if self.eps is not None:
            W = bounded_confidence_weights(self.W, self.x, self.eps)
            new = fj_step(W, self.s, anchor, self.x)
            self.x = np.clip(new, 0.0, 1.0)
            return self.x
        W = self.W
        x = self.x
        new = np.empty(self.n)
        blocks = self._blocks
        if blocks is None:
            self._day_rows(W, (0, self.n, W.indptr), x, anchor, new)
        else:  # large orgs: row blocks on threads (scipy's kernel and numpy release the GIL)
            queue = SimpleQueue()
            for block in blocks:
                queue.put(block)
            helper = _pool().submit(self._drain, queue, W, x, anchor, new)
            self._drain(queue, W, x, anchor, new)  # this thread works too
            helper.result()
        self.x = new
        return new

    def _drain(self, queue: SimpleQueue, W, x, anchor, new) -> None:
        while True:
            try:
                block = queue.get_nowait()
            except Empty:
                return
            self._day_rows(W, block, x, anchor, new)

    def _day_rows(self, W, block, x, anchor, new) -> None:
        """The day for rows ``r0:r1``: ``new = clip(s*a + (1-s) * W x, 0, 1)`` on them.

        Every operation works on the block's own slices, which stay in the core's cache
        between the mat-vec and the ufuncs; the sums and their order are the same for
        every split, so any split gives the same numbers, bit for bit."""
        r0, r1, indptr = block
        lonely = self._lonely_nodes if self._any_lonely else None
        if r1 - r0 == self.n:  # the whole network (small orgs): no views to make
            heard, pull, s, one_minus_s = self._heard, self._pull, self._s, self._one_minus_s
            indices, data = W.indices, W.data
        else:
            rows = slice(r0, r1)
            heard, pull, s, one_minus_s = self._heard[rows], self._pull[rows], self._s[rows], self._one_minus_s[rows]
            edges = slice(W.indptr[r0], W.indptr[r1])
            indices, data = W.indices[edges], W.data[edges]
            anchor, new = anchor[rows], new[rows]
            if lonely is not None:
                lonely = lonely[np.searchsorted(lonely, r0):np.searchsorted(lonely, r1)]
        heard.fill(0.0)
        _sparsetools.csr_matvec(r1 - r0, self.n, indptr, indices, data, x, heard)  # heard = W x
        if lonely is not None:  # nobody trusted: hear only yourself, not 0
            heard[lonely - r0 if r0 else lonely] = x[lonely]
        np.multiply(s, anchor, out=pull)                     # s * a
        np.multiply(one_minus_s, heard, out=heard)           # (1 - s) * W x
        np.add(pull, heard, out=pull)
        np.clip(pull, 0.0, 1.0, out=new)


THREADED_MIN_NODES = 50_000
"""Networks at least this large step their mat-vec on :func:`step_threads` threads."""

_POOL: ThreadPoolExecutor | None = None


THREADS_ENV = "PMSIM_THREADS"
"""Environment variable: threads for a large network's step (batch workers default to 1)."""


def step_threads() -> int:
    """Threads for a large network's step: ``PMSIM_THREADS`` if set, else up to 2 cores."""
    env = os.environ.get(THREADS_ENV)
    if env and env.isdigit() and int(env) >= 1:
        return int(env)
    return max(1, min(2, os.cpu_count() or 1))


def _forget_pool() -> None:
    """In a forked child the parent's pool threads do not exist: its queue would never be
    served and a large network's step would wait for ever. The child starts its own."""
    global _POOL
    _POOL = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        # the stepping thread works on blocks too, so one helper fewer than step_threads()
        _POOL = ThreadPoolExecutor(max_workers=max(1, step_threads() - 1), thread_name_prefix="pmsim-step")
    return _POOL


def _row_blocks(W, n: int):
    """Row ranges (with rebased indptr) splitting the edges evenly, or None for one block.

    Two blocks per thread: the threads take them from a queue, so a thread slowed by a
    busy core does less of the day."""
    threads = step_threads()
    if n < THREADED_MIN_NODES or threads < 2:
        return None
    k = 2 * threads
    cuts = np.searchsorted(W.indptr, np.linspace(0, W.indptr[-1], k + 1)[1:-1])
    bounds = [0, *sorted({int(c) for c in cuts if 0 < c < n}), n]
    return [(r0, r1, (W.indptr[r0:r1 + 1] - W.indptr[r0]).astype(W.indptr.dtype))
            for r0, r1 in zip(bounds[:-1], bounds[1:])]


def _compact_indices(A: sp.csr_array) -> None:
    """Store ``indices`` / ``indptr`` as int32 when they fit (a third less to stream)."""
    if A.indices.dtype != np.int32 and max(A.nnz, A.shape[0], A.shape[1]) < np.iinfo(np.int32).max:
        A.indices = A.indices.astype(np.int32)
        A.indptr = A.indptr.astype(np.int32)
