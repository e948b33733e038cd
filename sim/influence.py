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

import warnings

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

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
    scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
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
    lonely = sums <= 0
    if lonely.any():
        masked = masked + sp.csr_array(sp.diags_array(lonely.astype(float)))
    return row_normalise(masked)


class InfluenceNetwork:
    """Support for the plan on a trust-weighted network, stepped one day at a time.

    ``base`` holds the structural listening weights (who listens to whom, CSR) and
    ``trust`` one trust value per stored edge, aligned with ``base.data``. The
    effective weights are ``row_normalise(base * trust)``; they are rebuilt lazily
    after trust changes, in place on the CSR data array.
    """

    def __init__(self, base: sp.csr_array, stubbornness: np.ndarray, x0: np.ndarray,
                 trust: np.ndarray | None = None, eps: float | None = None):
        # copy: sorting below must not reorder the caller's matrix behind its back
        self.base = sp.csr_array(base, dtype=float, copy=True)
        self.n = self.base.shape[0]
        self.rows = np.repeat(np.arange(self.n, dtype=np.int64), np.diff(self.base.indptr))
        nnz = self.base.data.shape[0]
        self.trust = (np.ones(nnz) if trust is None
                      else np.asarray(trust, dtype=float).copy())
        if self.trust.shape != (nnz,):
            raise ValueError(f"trust needs one value per stored edge ({nnz}), "
                             f"got shape {self.trust.shape}")
        # sort column indices within rows, permuting trust with the edges so it stays
        # aligned (base.sort_indices() alone would reorder data but not trust)
        order = np.lexsort((self.base.indices, self.rows))
        self.base.indices = self.base.indices[order]
        self.base.data = self.base.data[order]
        self.base.has_sorted_indices = True
        self.trust = self.trust[order]
        self.s = np.asarray(stubbornness, dtype=float)
        self.x = np.asarray(x0, dtype=float).copy()
        self.eps = eps
        self._W = sp.csr_array((np.empty_like(self.base.data), self.base.indices,
                                self.base.indptr), shape=self.base.shape)
        self._lonely = np.zeros(self.n, dtype=bool)
        self._dirty = True

    @property
    def W(self) -> sp.csr_array:
        """The current row-stochastic influence matrix.

        A row whose trust has all fallen to zero (or that has no edge) is left
        empty here; :meth:`step` treats that node as listening only to itself,
        as :func:`bounded_confidence_weights` does for a row with no link left.
        """
        if self._dirty:
            raw = self.base.data * self.trust
            sums = np.bincount(self.rows, weights=raw, minlength=self.n)
            inv = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
            np.multiply(raw, inv[self.rows], out=self._W.data)
            self._lonely = sums <= 0
            self._dirty = False
        return self._W

    def scale_trust(self, edge_mask: np.ndarray, factor: float) -> None:
        """Multiply the trust on the masked edges by ``factor`` (clipped to [0, 1])."""
        self.trust[edge_mask] = np.clip(self.trust[edge_mask] * factor, 0.0, 1.0)
        self._dirty = True

    def add_trust(self, edge_mask: np.ndarray, delta: float) -> None:
        """Add ``delta`` to the trust on the masked edges (clipped to [0, 1])."""
        self.trust[edge_mask] = np.clip(self.trust[edge_mask] + delta, 0.0, 1.0)
        self._dirty = True

    def step(self, anchor: np.ndarray) -> np.ndarray:
        """Advance one day of Friedkin-Johnsen towards ``anchor``; return opinions."""
        if self.eps is not None:
            W = bounded_confidence_weights(self.W, self.x, self.eps)
            new = fj_step(W, self.s, anchor, self.x)
        else:
            W = self.W
            heard = W @ self.x
            if self._lonely.any():  # nobody trusted: hear only yourself, not 0
                heard[self._lonely] = self.x[self._lonely]
            new = self.s * anchor + (1.0 - self.s) * heard
        self.x = np.clip(new, 0.0, 1.0)
        return self.x
