"""Calendar-aligned matrices and the stacked firm-event views of them.

A study's data are a few matrices on the trading calendar's sessions: the dependent variable of each
security, the regressors shared by all securities, and a mask of the days usable for estimation.  A
firm-event is a (day 0, security) pair; its row of a stacked array reads the matrices at sessions
``day0 + t`` for relative days ``t``.  Everything here works on all firm-events at once: one fancy-indexing
step builds a stacked array, and window sums for thousands of estimation windows come from prefix sums
over the calendar, so no step loops over firm-events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["AlignedData", "WindowSums", "relative_days", "gather", "window_sums"]

#: firm-events gathered at once; a million rows at once spent most of the time faulting in index arrays
_GATHER_ROWS = 1 << 16

#: bytes of prefix sums held at once; securities are processed in chunks that fit (small enough to stay
#: in the allocator's heap and near the cache: larger buffers were slower, not faster)
PREFIX_BUDGET = 16 * 2**20


def relative_days(estimation_window: tuple[int, int], event_window: tuple[int, int]) -> np.ndarray:
    """The relative-day grid spanning both windows (and any gap between them)."""
    start = min(estimation_window[0], event_window[0])
    end = max(estimation_window[1], event_window[1])
    return np.arange(start, end + 1)


@dataclass(frozen=True, eq=False)
class AlignedData:
    """A study's data on T calendar sessions.

    Attributes
    ----------
    y : ndarray, shape (T, M)
        Dependent variable of each of the M securities (the return, in excess of the risk-free rate or
        of the market where the model says so).
    z : ndarray, shape (T, P)
        Regressors shared by every security, the constant excluded (P may be 0).
    usable : ndarray of bool, shape (T, M)
        Days a security may be used for estimation: ``y`` and every regressor observed and the day not
        excluded (for example, inside another event's window).
    spans : ndarray of int, shape (M, 2), optional
        First and one-past-last row of each security's block of sessions (None: every row).
    """

    y: np.ndarray
    z: np.ndarray
    usable: np.ndarray
    spans: np.ndarray | None = None

    @classmethod
    def build(
        cls, y: np.ndarray, z: np.ndarray, excluded: np.ndarray | None = None, *, spans: np.ndarray | None = None
    ) -> AlignedData:
        """The matrices, with the usable days; ``spans`` (M, 2) gives the rows each security can have data in
        (its block of sessions, see :mod:`eventstudy.time.layout`), so window sums need not run over the rest."""
        y = np.asarray(y, dtype=float)
        z = np.asarray(z, dtype=float).reshape(len(y), -1)
        usable = np.isfinite(y) & np.isfinite(z).all(axis=1)[:, None]
        if excluded is not None:
            usable &= ~np.broadcast_to(excluded, usable.shape)
        if spans is not None:
            spans = np.asarray(spans, dtype=np.int64).reshape(y.shape[1], 2)
        return cls(y=y, z=z, usable=usable, spans=spans)

    @property
    def n_sessions(self) -> int:
        return self.y.shape[0]


def gather(
    matrix: np.ndarray, day0: np.ndarray, offsets: np.ndarray, columns: np.ndarray | None = None, *, fill=np.nan
):
    """Read ``matrix`` at sessions ``day0[:, None] + offsets``; ``fill`` outside the matrix.

    Parameters
    ----------
    matrix : ndarray, shape (T, M), (T, P) or (T,)
    day0 : ndarray of int, shape (N,)
    offsets : ndarray of int, shape (L,)
    columns : ndarray of int, shape (N,), optional
        Column of ``matrix`` for each firm-event, giving an ``(N, L)`` array.  Without it every column is
        kept, giving ``(N, L, P)`` (the regressors shared by all firms).
    """
    day0, offsets = np.asarray(day0), np.asarray(offsets)
    length, sessions = len(offsets), matrix.shape[0]
    if not length or length > sessions or not len(day0) or (length > 1 and (np.diff(offsets) != 1).any()):
        return _gather_indexed(matrix, day0, offsets, columns, fill=fill)
    # consecutive days: every firm-event reads a run of rows, a window of numpy's sliding view of the matrix
    # (T - L + 1, M, L), so one fancy index copies the runs; the flat positions of each cell were most of
    # the time.  Firm-events whose run leaves the matrix are read cell by cell.
    start = day0 + offsets[0]
    outside = (start < 0) | (start > sessions - length)
    windows = sliding_window_view(matrix, length, axis=0)
    first = np.where(outside, 0, start)
    if columns is not None:
        out = windows[first, columns]
    elif matrix.ndim == 1:  # one series: (N, L)
        out = windows[first]
    else:  # (N, P, L) read, laid out as the cell-by-cell read's (N, L, P)
        out = np.ascontiguousarray(np.swapaxes(windows[first], 1, 2))
    if outside.any():
        rows = np.flatnonzero(outside)
        out[rows] = _gather_indexed(matrix, day0[rows], offsets, None if columns is None else columns[rows], fill=fill)
    return out


def _gather_indexed(
    matrix: np.ndarray, day0: np.ndarray, offsets: np.ndarray, columns: np.ndarray | None = None, *, fill=np.nan
):
    """:func:`gather` cell by cell (any offsets; ``fill`` outside the matrix)."""
    if len(day0) > _GATHER_ROWS:  # by chunks: the index temporaries stay small and in cache
        parts = range(0, len(day0), _GATHER_ROWS)
        first = _gather_indexed(
            matrix, day0[:_GATHER_ROWS], offsets, None if columns is None else columns[:_GATHER_ROWS], fill=fill
        )
        out = np.empty((len(day0), *first.shape[1:]), dtype=first.dtype)
        out[:_GATHER_ROWS] = first
        for a in parts[1:]:
            b = a + _GATHER_ROWS
            out[a:b] = _gather_indexed(matrix, day0[a:b], offsets, None if columns is None else columns[a:b], fill=fill)
        return out
    positions = day0[:, None] + offsets[None, :]
    inside = (positions >= 0) & (positions < matrix.shape[0])
    all_inside = bool(inside.all())
    if not all_inside:
        positions = np.clip(positions, 0, matrix.shape[0] - 1)
    if columns is not None and matrix.flags.c_contiguous:
        # one flat index instead of a pair: numpy's 2-d fancy indexing was most of a million-row gather
        out = matrix.reshape(-1).take(positions * matrix.shape[1] + columns[:, None])
    else:
        out = matrix[positions, columns[:, None]] if columns is not None else matrix[positions]
    if not all_inside:
        out = out.copy()
        out[~inside] = fill
    return out


@dataclass(frozen=True, eq=False)
class WindowSums:
    r"""Sufficient statistics of each firm-event's estimation window.

    ``n`` = :math:`T_i`, ``sy`` = :math:`\sum y`, ``syy`` = :math:`\sum y^2`, ``sz`` = :math:`\sum z`,
    ``szz`` = :math:`\sum z z'`, ``szy`` = :math:`\sum z y`, all over the usable days of the window.
    """

    n: np.ndarray
    sy: np.ndarray
    syy: np.ndarray
    sz: np.ndarray
    szz: np.ndarray
    szy: np.ndarray


def window_sums(data: AlignedData, day0: np.ndarray, firm: np.ndarray, window: tuple[int, int]) -> WindowSums:
    r"""Sums over each firm-event's window, from prefix sums over the calendar.

    For a quantity :math:`q_t` (masked to the usable days) with prefix sums :math:`C_t=\sum_{s<t} q_s`, the
    sum over sessions :math:`a..b` is :math:`C_{b+1}-C_a`: one subtraction per firm-event however long the
    window.  Windows reaching outside the data are cut at its edges (fewer observations).
    Securities are handled in blocks so the prefix sums stay within :data:`PREFIX_BUDGET`.
    """
    t, m = data.y.shape
    p = data.z.shape[1]
    n = len(day0)
    start = np.clip(day0 + window[0], 0, t)
    stop = np.clip(day0 + window[1] + 1, 0, t)
    out = WindowSums(
        n=np.zeros(n, dtype=np.int64),
        sy=np.zeros(n),
        syy=np.zeros(n),
        sz=np.zeros((n, p)),
        szz=np.zeros((n, p, p)),
        szy=np.zeros((n, p)),
    )
    used_securities = np.unique(firm)
    # a missing regressor has weight zero everywhere, but 0 * NaN is NaN and would poison every later
    # prefix sum, so missing values enter as zeros
    z_all = np.where(np.isfinite(data.z), data.z, 0.0)
    spans = data.spans if data.spans is not None else np.tile([0, t], (m, 1))
    span_of = spans[used_securities]
    q = 3 + 2 * p + p * p
    # firm-events by security, so each chunk of securities finds its rows with one slice
    order = np.argsort(firm, kind="stable")
    firm_sorted = firm[order]
    # one buffer, reused by every chunk of every block: fresh memory costs a page fault per 4 kB on first
    # write, which took longer than the sums themselves
    buffer = np.empty(max(PREFIX_BUDGET // 8, q * (int((span_of[:, 1] - span_of[:, 0]).max(initial=0)) + 1)))
    # securities of one block share their rows: the prefix sums run over those rows only
    for lo_row, hi_row in np.unique(span_of, axis=0):
        in_span = used_securities[(span_of[:, 0] == lo_row) & (span_of[:, 1] == hi_row)]
        rows_t = hi_row - lo_row
        per_security = (rows_t + 1) * q * 8
        block = max(1, min(PREFIX_BUDGET // max(per_security, 1), len(in_span)))
        z = z_all[lo_row:hi_row]
        zz = (z[:, :, None] * z[:, None, :]).reshape(rows_t, p * p)
        for first in range(0, len(in_span), block):
            securities = in_span[first : first + block]
            prefix = buffer[: (rows_t + 1) * q * len(securities)].reshape(rows_t + 1, q, len(securities))
            usable = data.usable[lo_row:hi_row, securities]
            prefix[0] = 0.0
            w, y = prefix[1:, 0], prefix[1:, 1]
            w[...] = usable
            np.copyto(y, data.y[lo_row:hi_row, securities])
            y[~usable] = 0.0
            np.multiply(y, y, out=prefix[1:, 2])
            for k in range(p):
                np.multiply(w, z[:, [k]], out=prefix[1:, 3 + k])
                np.multiply(y, z[:, [k]], out=prefix[1:, 3 + p + k])
            for k in range(p * p):
                np.multiply(w, zz[:, [k]], out=prefix[1:, 3 + 2 * p + k])
            # row by row: numpy's cumsum along the first axis of a 3-d array is several times slower
            for row in range(1, rows_t + 1):  # a loop over sessions, not firm-events
                prefix[row] += prefix[row - 1]
            lo_pos = np.searchsorted(firm_sorted, securities[0], side="left")
            hi_pos = np.searchsorted(firm_sorted, securities[-1], side="right")
            rows = order[lo_pos:hi_pos]  # securities are sorted, so their firm-events are one slice ...
            if hi_pos - lo_pos and securities[-1] - securities[0] >= len(securities):
                rows = rows[np.isin(firm[rows], securities)]  # ... less those of other blocks' securities
            col = np.searchsorted(securities, firm[rows])
            a = np.clip(start[rows] - lo_row, 0, rows_t)
            b = np.clip(stop[rows] - lo_row, 0, rows_t)
            sums = prefix[b, :, col] - prefix[a, :, col]  # (R, Q)
            out.n[rows] = np.rint(sums[:, 0]).astype(np.int64)
            out.sy[rows] = sums[:, 1]
            out.syy[rows] = sums[:, 2]
            out.sz[rows] = sums[:, 3 : 3 + p]
            out.szy[rows] = sums[:, 3 + p : 3 + 2 * p]
            out.szz[rows] = sums[:, 3 + 2 * p :].reshape(len(rows), p, p)
    return out
