r"""Nonparametric tests: permutation, rank and sign tests.

Notation as in :mod:`eventstudy.inference.parametric`: firm-event :math:`i=1,\dots,N`, tested window
:math:`[\tau_1,\tau_2]` of :math:`L` days, :math:`AR_{it}` abnormal returns (in-sample residuals inside the
estimation window), :math:`CAR_i` their sum over the window.  Cross-sectional tests use the firm-events
with a CAR over the whole window and need at least :data:`~eventstudy.inference.base.MIN_FIRM_EVENTS` of
them.  P-values are two-sided.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from eventstudy.foundation.threads import CACHE_CELLS, row_blocks, thread_map
from eventstudy.inference.base import (
    Batch,
    Inputs,
    TestResult,
    TestSpec,
    cross_section_checks,
    dist_labels,
    register,
    share,
    single,
    state_nulls,
)
from eventstudy.inference.parametric import (
    _average_correlation,
    _estimation_days,
    _group_mean_sd,
    _pair_correlations,
    p_norm,
    p_t,
)
from eventstudy.inference.statistic import ABSOLUTE

__all__ = [
    "permutation",
    "rank",
    "generalized_sign",
    "sign",
    "wilcoxon",
    "MIN_PERMUTATION_WINDOWS",
    "MAX_EXACT_WILCOXON",
    "row_ranks",
    "grank_t",
    "grank_z",
]

#: the permutation test needs at least this many estimation-window comparison CARs
MIN_PERMUTATION_WINDOWS = 20
#: up to this many firm-events (no zeros, no ties) the Wilcoxon p-value is exact, beyond it normal
MAX_EXACT_WILCOXON = 50


# --------------------------------------------------------------------------------------------------------
# one firm-event
# --------------------------------------------------------------------------------------------------------


def _estimation_cars(inp: Inputs) -> tuple[np.ndarray, np.ndarray]:
    """Sums of the residuals over every run of :math:`L` consecutive grid days, and which runs count.

    Returns ``(cars, full)``, both (N, width - L + 1): ``cars[i, j]`` sums grid days ``j .. j+L-1`` and
    ``full[i, j]`` is True when all of them are estimation days with a residual (elsewhere ``cars`` is NaN).
    These are the comparison CARs of :func:`permutation` and the L-day CARs whose share of positives
    :func:`generalized_sign` expects; the tests count them block by block without these arrays
    (:func:`_run_tallies`), which are made, once per :class:`Inputs`, only when asked for (a firm-event's
    draws, the pseudo-event test of several groups).
    """

    def compute():
        res = inp.null_residuals
        n, width = res.shape
        length = inp.length
        if width < length:
            return np.full((n, 0), np.nan), np.zeros((n, 0), dtype=bool)
        if length == 1:
            return res, np.isfinite(res)  # a one-day "CAR" is the residual itself, sign included
        cars, full = np.empty((n, width - length + 1)), np.empty((n, width - length + 1), dtype=bool)
        total, count = _running_sums(inp)

        def block(rows: slice) -> None:  # row by row, in cache: blocks of rows on threads
            _run_sums(total[rows], count[rows], length, out=(cars[rows], full[rows]))

        thread_map(block, row_blocks(n, width, CACHE_CELLS))
        return cars, full

    return inp.once("estimation_cars", compute)


def _running_sums(inp: Inputs) -> tuple[np.ndarray, np.ndarray]:
    """Running sums along each row of :attr:`Inputs.null_residuals` (0 where missing) and running counts of
    the days with one, (N, G + 1) each for a grid of G days: the same for every window, so cached on the fit
    while the residuals are the fit's own.  Residuals made as :class:`Inputs` makes them are cumulated from
    the zero-filled estimation-window residuals of :func:`~eventstudy.inference.parametric._estimation_days`
    (which the pair correlations and Brown-Warner share when they run): no second ``isfinite`` and
    zero-filled copy (~1.7 of ~8.3 ms on 4,948 firm-events)."""

    def compute():
        res = inp.null_residuals
        n, width = res.shape
        # counts of at most the grid width: int16 (int32 beyond 32,767 days) quarters the cached array, and
        # numpy accumulates and subtracts it several times faster than int64
        count_type = np.int16 if width < 1 << 15 else np.int32
        total, count = np.zeros((n, width + 1)), np.zeros((n, width + 1), dtype=count_type)
        if res is inp.residuals and _own_residuals(inp):
            # NaN off the estimation window, whose residuals zero-filled and where they are finite the
            # pair correlations and Brown-Warner have made (the same sums: adding the zeros before is exact)
            values, finite = _estimation_days(inp)
            first = int(np.searchsorted(inp.grid, inp.fit.estimation_window[0]))
            on, after = slice(first + 1, first + 1 + values.shape[1]), slice(first + 1 + values.shape[1], None)

            def block(rows: slice) -> None:
                np.cumsum(values[rows], axis=1, out=total[rows, on])
                _running_count(finite[rows], out=count[rows, on])
                total[rows, after], count[rows, after] = total[rows, on.stop - 1, None], count[rows, on.stop - 1, None]
        else:

            def block(rows: slice) -> None:  # in cache: blocks of rows on threads
                ok = np.isfinite(res[rows])
                np.cumsum(np.where(ok, res[rows], 0.0), axis=1, out=total[rows, 1:])
                _running_count(ok, out=count[rows, 1:])

        thread_map(block, row_blocks(n, width, CACHE_CELLS))
        return total, count

    return inp.once_per_fit("running_sums", compute, inp.null_residuals)


def _run_sums(total: np.ndarray, count: np.ndarray, length: int, out, fill: float = np.nan) -> None:
    """Sums of each row over every run of ``length`` consecutive columns, ``fill`` where one is missing, and
    whether none is, from its running sums and counts (:func:`_running_sums`), into ``out`` (sums, whole).

    Differences of cumulative sums (two passes over the grid whatever the length) instead of summing every
    run; they agree with the direct sums to about 1e-16 of the cumulated residuals.
    """
    sums, whole = out
    np.equal(count[:, length:] - count[:, :-length], length, out=whole)
    np.subtract(total[:, length:], total[:, :-length], out=sums)
    np.copyto(sums, fill, where=~whole)


#: what :attr:`Inputs.null_residuals` is made of: an Inputs that overrides none has NaN off the estimation window
_RESIDUAL_SOURCES = ("residuals", "null_residuals", "estimation_mask")


def _own_residuals(inp: Inputs) -> bool:
    """Whether the residuals are made as :class:`Inputs` makes them, NaN off the estimation window."""
    return all(getattr(type(inp), name) is getattr(Inputs, name) for name in _RESIDUAL_SOURCES)


def _whole_runs(inp: Inputs, runs: int) -> slice:
    """The runs that may have a residual on each of their days: those inside the estimation window when the
    residuals are the fit's own (NaN on every other day), else all ``runs``."""
    if not _own_residuals(inp):
        return slice(0, runs)
    lo, hi = inp.fit.estimation_window
    days = np.flatnonzero((inp.grid >= lo) & (inp.grid <= hi))  # consecutive grid days
    if not len(days) or days[-1] - days[0] + 1 < inp.length:
        return slice(0, 0)
    return slice(int(days[0]), int(days[-1]) - inp.length + 2)


class RunTallies(NamedTuple):
    """What the tests on each firm-event's own estimation-window runs (:func:`_estimation_cars`) need of
    them, per firm-event: their number :math:`M_i` and spread, and how many lie beyond the event CAR."""

    windows: np.ndarray  #: :math:`M_i`, the runs with a residual on each of their days
    sd: np.ndarray  #: their standard deviation (ddof=1)
    beyond: np.ndarray  #: :math:`\#\{j: |CAR_{ij}| \ge |CAR_i|\}` (:func:`permutation`)
    below: np.ndarray  #: :math:`\#\{j: CAR_{ij} \le CAR_i\}` (:func:`~eventstudy.inference.sq`)
    above: np.ndarray  #: :math:`\#\{j: CAR_{ij} \ge CAR_i\}` (:func:`~eventstudy.inference.sq`)
    positive: np.ndarray  #: :math:`\#\{j: CAR_{ij} > 0\}` (:func:`generalized_sign`)


def _run_tallies(inp: Inputs) -> RunTallies:
    r"""The :class:`RunTallies` of :func:`permutation`, :func:`~eventstudy.inference.sq` and
    :func:`generalized_sign`, in one pass over the runs (once per :class:`Inputs`).

    Block of rows by block of rows, the runs are made from the running sums (:func:`_run_sums`, as
    :func:`_estimation_cars` makes them, but 0 where missing) and tallied at once, so the (N, M) arrays of
    runs are never materialised nor read again by each test.  The blocks are large (``BLOCK_CELLS``, a few
    MB): each of the dozen numpy calls a block makes costs per call and per row, and blocks a quarter that
    size, which stay in L2, took ~10% longer.  A row's missing runs, :math:`G_i` zeros,
    all compare alike with the event CAR, so each count over the whole row less :math:`G_i` times that
    comparison for 0 is the count over the runs (a NaN CAR compares false with both).  The spread is from
    the sums of :math:`x` and :math:`x^2` (row products, not an elementwise square and a sum),
    :math:`s^2=(\sum x^2-M\bar x^2)/(M-1)`: the runs are sums of in-sample residuals, whose mean is near 0
    against their spread, so the cancellation costs no precision that matters (the loop in
    tests/reference agrees to 1e-10).
    """

    def compute():
        res = inp.null_residuals
        n, width = res.shape
        length = inp.length
        runs = max(width - length + 1, 0)
        counts = np.zeros((5, n), dtype=np.int64)
        sd = np.full(n, np.nan)
        if runs and length > 1:
            total, days = _running_sums(inp)
        car = inp.car[:, None]
        size = np.abs(car)
        ones = np.ones(runs)

        def block(rows: slice) -> None:  # row by row: blocks of rows on threads
            if length == 1:  # a one-day "CAR" is the residual itself, sign included
                full = np.isfinite(res[rows])
                x = np.where(full, res[rows], 0.0)
            else:
                x, full = np.empty((rows.stop - rows.start, runs)), np.empty((rows.stop - rows.start, runs), bool)
                _run_sums(total[rows], days[rows], length, out=(x, full), fill=0.0)
            m, beyond, below, above, positive = counts[:, rows]
            m[:] = _count(full)
            with np.errstate(invalid="ignore", divide="ignore"):
                s1 = np.vecdot(x, ones) / m  # each row alone: bits independent of the block
                variance = (np.vecdot(x, x) - m * s1 * s1) / (m - 1)
            sd[rows] = np.sqrt(np.maximum(variance, 0.0))
            gaps, at, hit = runs - m, car[rows, 0], full  # full: a buffer from here on
            # the event CAR spread along each row: numpy compares two arrays about twice as fast as an array
            # with a column it broadcasts, which more than pays for the copy that two comparisons share
            level = np.empty_like(x)
            np.copyto(level, car[rows])
            below[:] = _count(np.less_equal(x, level, out=hit)) - gaps * (0.0 <= at)
            above[:] = _count(np.greater_equal(x, level, out=hit)) - gaps * (0.0 >= at)
            positive[:] = _count(np.greater(x, 0.0, out=hit))
            beyond[:] = _count(np.greater_equal(np.abs(x, out=x), size[rows], out=hit)) - gaps * (at == 0.0)

        if runs:
            thread_map(block, row_blocks(n, runs))
        return RunTallies(counts[0], sd, *counts[1:])

    return inp.once("run_tallies", compute)


def own_runs_test(inp: Inputs, test: str, pvalue) -> Batch:
    """A test of each firm-event's CAR against the CARs of its own estimation-window runs (:func:`permutation`,
    :func:`~eventstudy.inference.sq`): the statistic is the CAR over the runs' standard deviation and
    ``pvalue(tallies)`` the test's p-value from their :class:`RunTallies` (see :func:`_estimation_cars`)."""
    n, width = inp.residuals.shape
    length = inp.length
    batch = Batch(n, group=inp.groups.ids)
    batch.n[:] = 1
    car = inp.car
    if width < length:
        batch.fail(np.ones(n, bool), "the grid is shorter than the window")
        return batch.finish()
    tallies = _run_tallies(inp)
    windows, sd = tallies.windows, tallies.sd
    with np.errstate(invalid="ignore", divide="ignore"):
        batch.stat = car / sd
        batch.pvalue = pvalue(tallies)
    batch.distribution = labels("empirical ({} windows)", windows)

    def draws(k: int) -> np.ndarray:  # on request only: the runs of all firm-events, once
        cars, full = _estimation_cars(inp)
        return cars[k][full[k]] / sd[k]

    batch.draws = draws
    batch.fail(~np.isfinite(car), "no abnormal return on some day of the window, so no CAR")
    batch.fail_each(
        windows < MIN_PERMUTATION_WINDOWS,
        windows,
        lambda k: (
            f"only {k} estimation-window CARs of {length} consecutive days to compare with; {test} needs "
            f"{MIN_PERMUTATION_WINDOWS}"
        ),
    )
    tail_notes(batch, car)
    return batch.finish()


def labels(template: str, values: np.ndarray) -> np.ndarray:
    """``template.format(v)`` for each of ``values`` (counts), each distinct value formatted once.

    Counts of at most a few times as many as there are values index a table of the texts (a count of each
    value instead of a sort); others go through ``np.unique``.
    """
    values = np.asarray(values).ravel()
    if values.dtype.kind in "iu" and len(values) and 0 <= values.min() and values.max() < 4 * len(values) + 1024:
        distinct = np.flatnonzero(np.bincount(values))
        table = np.empty(int(distinct[-1]) + 1, dtype=object)
        table[distinct] = [template.format(v) for v in distinct]
        return table[values]
    distinct, inverse = np.unique(values, return_inverse=True)
    return np.array([template.format(v) for v in distinct], dtype=object)[inverse.ravel()]


def _permutation(inp: Inputs) -> Batch:
    def pvalue(tallies: RunTallies) -> np.ndarray:
        return (1.0 + tallies.beyond) / (1.0 + tallies.windows)

    return own_runs_test(inp, "the permutation test", pvalue)


#: the notes of :func:`tail_notes`, lower then upper
_TAILS = np.array(["lower tail (negative)", "upper tail (positive)"], dtype=object)


def tail_notes(batch: Batch, value: np.ndarray) -> None:
    """Say which tail a resampling test's statistic fell in (a two-sided p-value hides it): one note for
    both tails, each entry's picked from a table (a caveat per tail reads and compares the notes twice)."""
    with np.errstate(invalid="ignore"):
        upper, lower = value > 0, value < 0
    batch.caveat(upper | lower, _TAILS[upper.view(np.uint8)])


def permutation(fit, window: tuple[int, int]) -> list[TestResult]:
    r"""Permutation (empirical-distribution) test of each firm-event's CAR.

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)

    Returns
    -------
    list of TestResult
        One per firm-event, in the row order of ``fit``; invalid with fewer than
        :data:`MIN_PERMUTATION_WINDOWS` comparison windows.

    Notes
    -----
    The event CAR is compared with the CARs of every run of :math:`L` consecutive estimation-window days
    on which the firm-event has residuals, :math:`CAR_{ij}`, :math:`j=1,\dots,M_i`:

    .. math::

        p_i = \frac{1 + \#\{j: |CAR_{ij}| \ge |CAR_i|\}}{1 + M_i}, \qquad
        \text{stat}_i = \frac{CAR_i}{s_i},\qquad
        s^2_i = \frac{1}{M_i-1}\sum_{j}\bigl(CAR_{ij}-\overline{CAR}_{i\cdot}\bigr)^2 ,

    where :math:`\overline{CAR}_{i\cdot}` is the mean of the comparison CARs.  The p-value is the
    two-sided rank of :math:`|CAR_i|` (it needs no normality, and the ``+1`` counts the event window
    itself); the statistic only shows the size and sign.  The comparison CARs overlap for :math:`L>1` and
    are in-sample residuals, whose variance is smaller than that of out-of-sample prediction errors by
    about :math:`K/T_i` plus the prediction-error term, so the test is slightly liberal with short
    estimation windows.

    References
    ----------
    Gelbach, J. B., Helland, E., & Klick, J. (2013). Valid inference in single-firm, single-event studies.
    *American Law and Economics Review*, 15(2), 495-541.
    """
    return _permutation(Inputs(fit, window)).results("permutation", window)


# --------------------------------------------------------------------------------------------------------
# rank test
# --------------------------------------------------------------------------------------------------------


def row_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks (1 = smallest, ties averaged) within each row, ignoring NaN, which keep NaN ranks."""
    values = np.asarray(values, dtype=float)
    return _ranks_in_order(values, *_sort_order(values))


def _sort_order(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_flat` of an order sorting each row of ``values`` ascending, NaN last (ties in any order), and
    the values in that order: :func:`_key_order`, whose rows that are not ascending are argsorted instead."""
    values = np.ascontiguousarray(values, dtype=float)
    flat, ordered = _key_order(values)
    _sort_rows_again(values, _rows_where_adjacent(np.less, ordered), flat, ordered)
    return flat, ordered


def _sort_rows_again(values: np.ndarray, rows: np.ndarray, flat: np.ndarray, ordered: np.ndarray) -> None:
    """Argsort the rows ``rows`` of C-ordered ``values`` (stable, NaN last) into their :func:`_flat` order
    ``flat`` and their values in that order ``ordered``: the few rows :func:`_key_order` left out of order."""
    if len(rows):
        flat[rows] = np.argsort(values[rows], axis=1, kind="stable") + (rows * values.shape[1])[:, None]
        ordered[rows] = values.ravel()[flat[rows]]


def _rows_where_adjacent(compare, rows: np.ndarray) -> np.ndarray:
    """Which rows of ``rows`` (n, w) have an entry for which ``compare(entry, the one before it)`` holds.

    One comparison along the raveled rows (contiguous operands, about twice as fast as comparing the two
    offset views of each row), the pairs that straddle two rows left out."""
    n, width = rows.shape
    if width < 2:
        return np.empty(0, dtype=np.intp)
    flat = np.ascontiguousarray(rows).reshape(-1)
    hit = np.empty(n * width, dtype=bool)
    compare(flat[1:], flat[:-1], out=hit[:-1])
    hit = hit.reshape(n, width)
    hit[:, -1] = False  # a row's last entry against the next row's first, and the very last (not written)
    return np.flatnonzero(hit.any(axis=1))


def _key_order(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_flat` of an order of each row of ``values`` from one sort of integer keys, and the values in
    that order: ascending with NaN last, except in the rows where keys tie in their upper bits (the caller
    checks: such a row's values are not ascending).

    numpy sorts integers several times faster than it argsorts floats, so each value becomes an integer
    key that orders as the float does, its column in the lowest bits: one ``sort`` gives the columns in
    order.  Keys that tie in the other bits may put their values out of order.  Rows of up to 512 days
    get 32-bit keys (:func:`_level_keys`, sorted about four times faster than 64-bit ones), longer rows,
    whose values would share levels too often, 64-bit keys (:func:`_bit_keys`).
    """
    values = np.ascontiguousarray(values, dtype=float)
    n, width = values.shape
    bits = max(1, int(width - 1).bit_length())
    if bits > 32:  # pragma: no cover - rows of billions of days
        flat = _flat(np.argsort(values, axis=1, kind="stable"))
        return flat, values.ravel()[flat]
    key = _level_keys(values, bits) if bits <= 9 else _bit_keys(values, bits)
    key.sort(axis=1)
    key &= key.dtype.type((1 << bits) - 1)
    flat = _flat(key)
    return flat, values.ravel()[flat]


def _level_keys(values: np.ndarray, bits: int) -> np.ndarray:
    """32-bit sort keys of :func:`_sort_order`: each value's level between its row's smallest and largest
    value (a monotone map: a larger level means a value at least as large) above ``bits`` bits of column.

    The levels are worked out in float32, half the memory traffic of float64 (it holds the whole numbers up
    to :math:`2^{24}` exactly, so rows of up to 256 days, whose columns take at most 8 bits, get levels 0 to
    :math:`2^{24}-1`, not more, the values all but the top 16 of them: the margin below): rounding
    to float32, subtracting the row's smallest value and scaling are each monotone, so the levels still
    order as the values do.  Values that share a level (in about one row in 250 on the benchmarks' 271-day
    rows of daily returns) may come out of order, as do the values of a row with an infinity or a span
    beyond float32 (all on level 0); :func:`_sort_order` finds such rows out of order and sorts them again.
    NaN come last: the values' levels stay below the highest (the scale leaves a margin of 16 levels for
    the roundings), to which one ``fmin`` takes every NaN (it passes over them).
    """
    width = values.shape[1]
    # NaN's level, the values' stay below it: at most 2**24 - 1, whole numbers that float32 holds exactly
    last = np.float32((1 << min(32 - bits, 24)) - 1)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        level = values.astype(np.float32)
        low = np.fmin.reduce(level, axis=1)  # fmin, fmax: NaN left out
        high = np.fmax.reduce(level, axis=1)
        span = high - low
        # (high - low) * scale is at most last - 16 to within a few roundings of relative 2**-24: below last
        scale = (last - np.float32(16.0)) / span
        scale[~np.isfinite(scale)] = 0.0  # one value or none in the row: level 0
        level -= low[:, None]  # at least 0 (a rounded difference keeps its sign)
        level *= scale[:, None]
        odd = np.flatnonzero(np.isinf(low) | np.isinf(high) | np.isinf(span))  # inf - inf, inf * 0: NaN
        if len(odd):
            level[odd] = np.where(np.isnan(values[odd]), np.nan, 0.0)
    np.fmin(level, last, out=level)  # any NaN, whatever its sign bit, to the last level
    key = level.astype(np.uint32)
    key <<= np.uint32(bits)
    key |= np.arange(width, dtype=np.uint32)
    return key


def _bit_keys(values: np.ndarray, bits: int) -> np.ndarray:
    """64-bit sort keys of :func:`_sort_order`: the float's bits, the negative ones flipped, so that they
    order as the floats do, the lowest ``bits`` replaced by the column (values that differ only there may
    come out of order); NaN last."""
    raw = values.view(np.int64)
    column = np.int64((1 << bits) - 1)
    key = raw >> 63  # negative floats: all bits but the sign flipped
    key &= np.int64(0x7FFFFFFFFFFFFFFF)
    key ^= raw
    key &= ~column
    last = np.iinfo(np.int64).max & ~column  # any NaN (whatever its sign bit) last
    np.copyto(key, last, where=np.isnan(values))
    key |= np.arange(values.shape[1], dtype=np.int64)
    return key


def _flat(order: np.ndarray) -> np.ndarray:
    """Positions along each row of an (n, width) array as positions in the raveled array (one fancy index
    instead of take_along_axis' two, about three times faster on these shapes)."""
    n, width = order.shape
    return order + np.arange(0, n * width, width)[:, None]


def _ranks_in_order(values: np.ndarray, flat: np.ndarray, ordered: np.ndarray | None = None) -> np.ndarray:
    """:func:`row_ranks` given ``flat`` (:func:`_flat` of an order that sorts each row ascending with NaN
    last; tied values may come in any order: each gets the mean position of its run) and, if at hand, the
    values in that order."""
    n, width = values.shape
    if ordered is None:
        ordered = np.ascontiguousarray(values).ravel()[flat]
    position = np.broadcast_to(np.arange(1.0, width + 1.0), (n, width))
    first = np.ones((n, width), dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]  # NaN != NaN: missing days never tie
    if first.all():
        average = position
    else:  # ties: every member of a run of equal values gets the mean of the run's positions
        last = np.ones((n, width), dtype=bool)
        last[:, :-1] = first[:, 1:]
        start = np.maximum.accumulate(np.where(first, position, 0.0), axis=1)
        end = np.minimum.accumulate(np.where(last, position, width + 1.0)[:, ::-1], axis=1)[:, ::-1]
        average = (start + end) / 2.0
    ranks = np.empty(n * width)
    ranks[flat] = np.where(np.isnan(ordered), np.nan, average)  # NaN values keep NaN ranks
    return ranks.reshape(n, width)


def _fit_ranks(inp: Inputs, name: str, compute):
    """``compute()`` once per fit and abnormal returns: row ranks that do not depend on the window or on
    which firm-events are used (each row is ranked alone), cached on the fit while ``inp.ar`` is the fit's
    own (a simulation's injected abnormal returns get their own)."""
    cache = inp.fit._cache.setdefault("inference:ranks", {})
    with inp.fit.lock(("inference:ranks", name)):
        entry = cache.get(name)
        if entry is None or entry[0] is not inp.ar:
            entry = (inp.ar, compute())
            cache[name] = entry
    return entry[1]


class SharedRanks(NamedTuple):
    """What the rank tests read of every window, from one sort per row (:func:`_shared_ranks`)."""

    #: (N, W) the rank test's combined window: the estimation days plus the event days with an abnormal return
    combined: np.ndarray
    #: (N, W) its centred ranks :math:`U_{it}-\tfrac12`, 0 off the combined window
    centred: np.ndarray
    #: (N, W) float32, each estimation day's rank among the firm-event's SARs (0 on the other days)
    own: np.ndarray
    #: (N, W) the combined days' SARs of each row in ascending order, NaN last
    sorted_sar: np.ndarray
    #: (N, W + 1) how many of the first ``c`` of ``sorted_sar`` are estimation days, for each ``c``
    est_before: np.ndarray
    #: (W,) firm-events ranked on each column in the combined window, and in the estimation window
    combined_columns: np.ndarray
    est_columns: np.ndarray
    #: (N,) estimation days of each row, :math:`T_i`
    est_rows: np.ndarray


def _shared_ranks(inp: Inputs) -> SharedRanks:
    r"""The rank test's combined window and its centred ranks, and the generalized rank test's ranks of the
    estimation-day SARs and the SARs in sorted order, from one sort per row (cached on the fit by
    :func:`_fit_ranks`); then, of each column, the firm-events ranked on it in the combined window and in the
    estimation window (see :class:`SharedRanks`).

    Dividing a row by its :math:`\hat\sigma_i>0` keeps its order (correctly rounded division is monotone),
    so the combined window's sort order, restricted to the estimation days, also sorts the SARs; ties are
    found on the SARs themselves, so the ranks are those of :func:`row_ranks`.
    """

    def compute():
        ar, est = inp.ar, inp.estimation_mask
        event = inp.event_grid_positions
        sigma2 = np.asarray(inp.fit.sigma2, dtype=float)
        n, width = ar.shape
        # the SARs' own ranks are whole or half numbers up to the grid's width: float32 holds them exactly in
        # half the memory each window's grank reads; counts of at most the width: int16 (int32 beyond)
        count_type = np.int16 if width < 1 << 15 else np.int32
        own, before = np.empty(ar.shape, dtype=np.float32), np.empty((n, width + 1), dtype=count_type)
        out = (np.empty(est.shape, dtype=bool), np.empty(ar.shape), own, np.empty(ar.shape), before)

        def block(rows: slice) -> None:  # every row is ranked alone: blocks of rows on threads
            _rank_rows(ar[rows], est[rows], event, sigma2[rows], tuple(whole[rows] for whole in out))

        thread_map(block, row_blocks(n, width, CACHE_CELLS))
        return SharedRanks(*out, _count(out[0], axis=0), _count(est, axis=0), _count(est))

    return _fit_ranks(inp, "shared", compute)


def _rank_rows(ar, est, event, sigma2, out) -> None:
    r""":func:`_shared_ranks` of some rows, written into ``out`` (combined, centred, own, sorted_sar,
    est_before; views of rows).

    Where a row's SARs are all distinct (and so are its abnormal returns: equal returns give equal SARs), a
    value's rank is its position in the sorted row and an estimation day's own rank the number of
    estimation days up to it in that order: one sort and one running count, no second sort.  Rows with a
    tie or without a positive :math:`\hat\sigma^2_i` are ranked by :func:`_rank_rows_with_ties`.
    """
    combined, centred, own, scaled, before = out
    n, width = ar.shape
    np.copyto(combined, est)
    combined[:, event] |= np.isfinite(ar[:, event])
    values = np.where(combined, ar, np.nan)
    flat, ordered = _key_order(values)  # rows out of order (keys that tie) are sorted below
    sigma = np.sqrt(sigma2)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):  # the SARs in sorted order
        np.divide(ordered, sigma, out=scaled)
        # a row whose SARs do not strictly ascend came out of the key sort out of order or has ties (dividing
        # by sigma_i > 0 keeps the order): one check finds both; those few rows are argsorted, then looked at
        # for ties.  NaN compare false: missing days never tie
        suspect = _rows_where_adjacent(np.less_equal, scaled)
        redo = ~(np.isfinite(sigma2) & (sigma2 > 0))
        if len(suspect):
            _sort_rows_again(values, suspect, flat, ordered)
            scaled[suspect] = again = ordered[suspect] / sigma[suspect]
            redo[suspect] |= (again[:, 1:] == again[:, :-1]).any(axis=1)
    missing = np.isnan(ordered)  # last in each row
    total = _count(combined)  # M_i, the rank test's ranked days
    redo |= width - _count(missing) != total  # a ranked day without a return (not expected)
    in_estimation = est.reshape(-1)[flat]
    in_estimation &= ~missing
    before[:, 0] = 0
    _running_count(in_estimation, out=before[:, 1:])
    # one scatter takes each value's sorted position K (low bits) and its own rank (high bits) to its column
    wide = np.int32 if width < 1 << 15 else np.int64
    shift = 16 if wide is np.int32 else 32
    packed = before[:, 1:].astype(wide)
    packed <<= shift
    packed |= np.arange(1, width + 1, dtype=wide)
    column = np.empty(n * width, dtype=wide)
    column[flat] = packed
    column = column.reshape(n, width)
    # U - 1/2 = K / (M + 1) - 1/2 on the combined days, 0 elsewhere (the missing days, last in the order)
    np.bitwise_and(column, (1 << shift) - 1, out=packed)
    np.divide(packed, 1.0 + total[:, None], out=centred)
    centred -= 0.5
    np.copyto(centred, 0.0, where=~combined)
    column >>= shift
    np.multiply(column, est, out=own, casting="unsafe")  # 0 off the estimation days
    if redo.any():
        ar, est, combined, sigma = ar[redo], est[redo], combined[redo], sigma[redo]
        with np.errstate(invalid="ignore", divide="ignore"):
            sar = np.where(combined, ar / sigma, np.nan)
        ranks, own_ranks = _rank_rows_with_ties(ar, est, combined, np.where(est, sar, np.nan), sigma2[redo])
        own[redo] = np.where(est, own_ranks, 0.0)
        centred[redo] = np.where(combined, ranks / (1.0 + total[redo, None]) - 0.5, 0.0)
        order = np.argsort(sar, axis=1, kind="stable")  # SARs of 0 or inf do not keep the order: sort them
        scaled[redo] = np.take_along_axis(sar, order, axis=1)
        counted = np.take_along_axis(est & ~np.isnan(sar), order, axis=1)
        before[redo, 1:] = np.cumsum(counted, axis=1)


def _running_count(mask: np.ndarray, out: np.ndarray) -> None:
    """``np.cumsum(mask, axis=1)`` of a C-ordered boolean (n, w) array into ``out``: one running count along
    the raveled rows less each row's start: one int32 pass (int64 from 2**31 cells), two to three times
    faster than numpy's count along each row in int16 (which works row by row).  Like it, it holds the GIL
    (numpy's accumulate does)."""
    n, width = mask.shape
    running = np.cumsum(mask.reshape(-1), dtype=np.int32 if n * width < 1 << 31 else np.int64).reshape(n, width)
    start = np.zeros(n, dtype=running.dtype)
    start[1:] = running[:-1, -1]
    np.subtract(running, start[:, None], out=out, casting="unsafe")


def _rank_rows_with_ties(ar, est, combined, sar, sigma2) -> tuple[np.ndarray, np.ndarray]:
    """The combined ranks and the SARs' own ranks of rows with ties (:func:`_rank_rows`), mid-ranks."""
    values = np.where(combined, ar, np.nan)
    flat, ordered = _sort_order(values)
    ranks = _ranks_in_order(values, flat, ordered)
    # the estimation days first, in the combined order (a stable radix sort of a boolean key per row)
    est_first = np.argsort(~np.ascontiguousarray(est).ravel()[flat], axis=1, kind="stable")
    own = _ranks_in_order(sar, flat.ravel()[_flat(est_first)])
    odd = ~(np.isfinite(sigma2) & (sigma2 > 0))  # SARs of 0 or inf do not keep the order: sort them
    if odd.any():
        own[odd] = row_ranks(sar[odd])
    return ranks, own


def _sorted_counts(sorted_rows: np.ndarray, before: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, ...]:
    r"""How many of each row's counted entries are below ``value`` (one per row) and how many at or below it,
    given the row's entries in ascending order, NaN last (``sorted_rows``, (n, w)), and how many of its
    first ``c`` entries count (``before``, (n, w + 1)).

    A binary search on all rows at once, :math:`\lceil\log_2(w+1)\rceil` steps of (n,) operations, for the
    entries at or below; those below are the same unless the last of them equals ``value``, and those few
    rows are searched again.  A NaN ``value`` has no entry below it.
    """
    n, width = sorted_rows.shape
    if width == 0:  # pragma: no cover - a grid without days
        return np.zeros(n, dtype=before.dtype), np.zeros(n, dtype=before.dtype)
    flat = sorted_rows.reshape(-1)
    last = np.arange(n) * width - 1  # before each row's first entry

    def search(rows: np.ndarray, strict: bool) -> np.ndarray:
        count, edge, limit = np.zeros(len(rows), dtype=np.intp), last[rows], value[rows]
        step = 1 << (width.bit_length() - 1)
        while step:  # the largest count whose last entry lies below: binary digits from the top
            more = np.minimum(count + step, width)
            entry = flat[edge + more]
            np.copyto(count, more, where=(entry < limit) if strict else (entry <= limit))
            step >>= 1
        return count

    every = np.arange(n)
    at_or_below = search(every, False)
    below = at_or_below.copy()
    with np.errstate(invalid="ignore"):
        equal = np.flatnonzero((at_or_below > 0) & (flat[last + np.maximum(at_or_below, 1)] == value))
    if len(equal):
        below[equal] = search(equal, True)
    counted = before.reshape(-1)
    starts = every * (width + 1)
    return counted[starts + below], counted[starts + at_or_below]


def _count_rows(groups, mask: np.ndarray, columns: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``groups.sum`` of the boolean ``mask`` (N, L) over the rows ``rows``, given ``columns``, its column
    counts over every row: for one group, those less the few rows left out (counts are exact)."""
    if groups.n == 1:
        return (columns - mask[~rows].sum(axis=0))[None]
    return _sum_rows(groups, mask, rows)


def _sum_rows(groups, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``groups.sum`` of ``values`` (N, L) over the rows ``rows`` only (the others count as 0).

    One group: a reduction that skips the other rows, the same additions in the same order as summing
    the array with those rows zeroed, without that (N, L) copy."""
    if groups.n == 1:
        dtype = np.int64 if values.dtype == bool else None
        return np.asarray(np.sum(values, axis=0, where=rows[:, None], dtype=dtype))[None]
    return groups.sum(values & rows[:, None] if values.dtype == bool else np.where(rows[:, None], values, 0.0))


def _count(mask: np.ndarray, axis: int = 1) -> np.ndarray:
    """``mask.sum(axis=axis)`` of a boolean (N, L) array, in uint16 while a row (column) cannot hold more
    (about 3x faster along either axis)."""
    if mask.shape[axis] >= 1 << 16:  # 65,536 firm-events or days
        return mask.sum(axis=axis)
    return np.ascontiguousarray(mask).view(np.uint8).sum(axis=axis, dtype=np.uint16)


def _sum_blocks(groups, rows: int, width: int, fill) -> np.ndarray:
    """``groups.sum`` of the (rows, width) array that ``fill(rows, out)`` writes block of rows by block.

    One group: each block, in cache, is added to the totals so far as one more row on top of them, without
    the whole array; ``sum(axis=0)`` adds the rows of a C-ordered array one after the other, so the totals
    are those of the whole array bit for bit.  Several groups: the array, filled by blocks on threads.
    """
    blocks = row_blocks(rows, width, CACHE_CELLS)
    if groups.n != 1:
        whole = np.empty((rows, width))
        thread_map(lambda part: fill(part, whole[part]), blocks)
        return groups.sum(whole)
    totals = np.zeros(width)
    for part in blocks:
        block = np.empty((part.stop - part.start + 1, width))
        fill(part, block[1:])
        block[0] = totals
        totals = block.sum(axis=0)
    return totals[None]


def _rank(inp: Inputs) -> Batch:
    groups, used = inp.groups, inp.used
    ranks = _shared_ranks(inp)  # centred: whichever rows are used
    combined, centred, combined_columns = ranks.combined, ranks.centred, ranks.combined_columns
    with np.errstate(invalid="ignore", divide="ignore"):
        n_t = _count_rows(groups, combined, combined_columns, used)  # firm-events ranked on each day, (G, L)
        a_t = np.where(n_t > 0, _sum_rows(groups, centred, used) / np.sqrt(n_t), 0.0)
        days = (n_t > 0).sum(axis=1)
        s = np.sqrt((a_t**2).sum(axis=1) / days)
        z = a_t[:, inp.grid_positions].sum(axis=1) / (np.sqrt(inp.length) * s)
    batch = Batch(groups.n)
    batch.stat, batch.pvalue = z, p_norm(z)
    batch.distribution[:] = "N(0,1)"
    cross_section_checks(batch, inp, "rank")
    return batch.finish()


def rank(fit, window: tuple[int, int]) -> TestResult:
    r"""Corrado's (1989) rank test, for several days as in Campbell & Wasley (1993), with missing days.

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)

    Returns
    -------
    TestResult

    Notes
    -----
    Each firm-event's abnormal returns on its combined window :math:`C_i` (the estimation days used in
    the fit plus the event-window days with an abnormal return; not any gap between the two) are ranked,
    :math:`K_{it}` from 1 (ties get their average rank), and standardized by the number of ranked days
    :math:`M_i=|C_i|` as in Corrado & Zivney (1992), so that firm-events with missing days are comparable:

    .. math::

        U_{it} = \frac{K_{it}}{M_i+1}, \qquad
        A_t = \frac{1}{\sqrt{N_t}}\sum_{i:\,t\in C_i}\Bigl(U_{it}-\tfrac12\Bigr), \qquad
        S^2 = \frac{1}{T_C}\sum_{t\in D} A_t^2,

    .. math::

        Z = \frac{\sum_{t=\tau_1}^{\tau_2} A_t}{\sqrt{L}\,S} \sim N(0,1),

    where :math:`N_t` counts the firm-events ranked on relative day :math:`t`, :math:`D` the relative
    days with :math:`N_t>0` and :math:`T_C=|D|`.  Averaged over a firm-event's ranked days
    :math:`U_{it}` is :math:`\tfrac12` exactly (the ranks are a permutation of :math:`1,\dots,M_i`, ties
    averaged), so :math:`A_t` and :math:`S` are taken about the known mean 0.  For a given event day,
    :math:`E(U_{it})=\tfrac12` holds only if the event window's out-of-sample prediction errors are
    exchangeable with the estimation window's in-sample residuals, which is approximate: with
    :math:`h_t=x_t'(X_i'X_i)^{-1}x_t`, a prediction error has variance :math:`\sigma^2_i(1+h_t)` and a
    residual :math:`\sigma^2_i(1-h_t)`, so event-day ranks are a little more dispersed than estimation-day
    ranks.  With symmetric errors the mean rank is still :math:`\tfrac12`, but with skewed errors the
    extra dispersion moves it, so the centring is approximate (the effect shrinks as :math:`T_i` grows).
    For one day (:math:`L=1`) and no missing data :math:`Z` is Corrado's
    statistic; for :math:`L>1` it cumulates the daily mean ranks as Campbell & Wasley (1993) and Cowan
    (1992) do.  Because :math:`S` is the time-series dispersion of the *daily* mean rank, cross-correlation
    among same-day firm-events enters :math:`S` too.

    References
    ----------
    Corrado, C. J. (1989). A nonparametric test for abnormal security-price performance in event studies.
    *Journal of Financial Economics*, 23(2), 385-395.

    Corrado, C. J., & Zivney, T. L. (1992). The specification and power of the sign test in event study
    hypothesis tests using daily stock returns. *Journal of Financial and Quantitative Analysis*, 27(3),
    465-478.

    Campbell, C. J., & Wasley, C. E. (1993). Measuring security price performance using daily NASDAQ
    returns. *Journal of Financial Economics*, 33(1), 73-92.
    """
    return single(_rank(Inputs(fit, window)), "rank", window)


# --------------------------------------------------------------------------------------------------------
# generalized rank tests (Kolari & Pynnonen 2011)
# --------------------------------------------------------------------------------------------------------


def _grank(inp: Inputs, kind: str) -> Batch:
    z, t_days = inp.once("grank", lambda: _grank_z(inp))  # Z and T, shared by grank_t and grank_z
    groups = inp.groups
    batch = Batch(groups.n)
    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "t":
            batch.stat = z * np.sqrt((t_days - 2.0) / (t_days - 1.0 - z**2))
            batch.pvalue = p_t(batch.stat, t_days - 2.0)
            batch.distribution = dist_labels("t", t_days - 2.0)
        else:
            batch.stat, batch.pvalue = z.copy(), p_norm(z)
            batch.distribution[:] = "N(0,1)"
    cross_section_checks(batch, inp, f"grank_{kind}")
    batch.fail(t_days < 4, "fewer than 4 estimation days with a standardized abnormal return")
    return batch.finish()


def _grank_z(inp: Inputs):
    """Kolari & Pynnonen's Z and T (estimation days with a rank) of each group."""
    groups, used = inp.groups, inp.used
    # the ranks first: another thread may be computing the pair correlations rbar needs meanwhile
    ranks = _shared_ranks(inp)
    own, est_columns = ranks.own, ranks.est_columns
    with np.errstate(invalid="ignore", divide="ignore"):
        _, sd, n = _group_mean_sd(inp, inp.scar)
        # the cross-sectional SD of correlated SCARs estimates sqrt(1 - rbar) times their SD (Kolari &
        # Pynnonen 2010): undo that shrinkage, rbar = 0 where no firm-events share event days
        rbar = np.nan_to_num(_average_correlation(inp)[0], nan=0.0)
        scale = sd / np.sqrt(1.0 - np.clip(rbar, None, 0.99))
        gscar = np.where(used, inp.scar / groups.expand(scale), np.nan)  # restandardized cumulative SCAR
    # rank the T_i estimation-day SARs and the one cumulated event observation together: the SARs' ranks
    # among themselves do not depend on the window (cached), and the event observation moves each SAR's
    # rank up by one where it is smaller (by a half where it ties).  How many SARs lie below it and at it
    # comes from a search in the sorted SARs; an SAR is above it exactly when its own rank exceeds the
    # count at or below it (ties share their mean rank, which stays inside their run of positions).  The
    # SARs of unused rows meet a NaN event observation, none lies below it, and their U are left out.
    mask = inp.estimation_mask
    rows_n, width = own.shape
    below, at_or_below = _sorted_counts(ranks.sorted_sar, ranks.est_before, gscar)
    ties = at_or_below - below
    ranked = 1.0 + (ranks.est_rows + used)  # T_i + 1 ranked values, plus one (unused rows: U is not summed)
    # the counts as float32, as the ranks are: comparisons without a cast
    below_32, at_or_below_32 = below.astype(np.float32), at_or_below.astype(np.float32)

    with np.errstate(divide="ignore"):
        weight = np.where(used, 1.0 / ranked, 0.0)  # 1 / (T_i + 2) on used rows

    def fill(rows: slice, terms: np.ndarray) -> None:  # U + 1/2 of some rows' estimation days, in cache
        # (own + above + tied / 2) / (T_i + 2) on the estimation days of used rows, 0 elsewhere (own ranks are
        # 0 off the estimation days, never above a count): the numerator is a whole or half number, exact
        mine = own[rows]
        np.add(mine, np.greater(mine, at_or_below_32[rows, None]), out=terms)
        if ties[rows].any():
            tied = (mine > below_32[rows, None]) & (mine <= at_or_below_32[rows, None])
            np.add(terms, 0.5, out=terms, where=tied)
        terms *= weight[rows, None]
        unused = ~used[rows]
        if unused.any():  # weighted 0, but an estimation day without a rank (SARs 0/0) would be NaN * 0
            terms[unused] = 0.0

    # sum_i U_it = sum_i (U_it + 1/2) - n_t / 2: the 1/2 of each ranked day taken out once per day, not per
    # firm-event; in row order for one group as for several, so a sample's bits do not depend on the others
    days_t = _count_rows(groups, mask, est_columns, used)  # used firm-events ranked on each estimation day
    u_sums = _sum_blocks(groups, rows_n, width, fill) - 0.5 * days_t
    with np.errstate(invalid="ignore", divide="ignore"):
        u_event = np.where(used, (1.0 + below + 0.5 * ties) / ranked - 0.5, 0.0)
        # the estimation days' columns, then the event observation's
        n_t = np.concatenate([days_t, groups.sum(used)[:, None]], axis=1)  # (G, L + 1)
        sums = np.concatenate([u_sums, groups.sum(u_event)[:, None]], axis=1)
        u_bar = np.where(n_t > 0, sums / n_t, 0.0)
        days = (n_t > 0).sum(axis=1)  # |D| = T + 1
        s_u = np.sqrt((n_t / n[:, None] * u_bar**2).sum(axis=1) / days)
        z = u_bar[:, -1] / s_u
    return z, days - 1.0


_GRANK_NOTES = r"""
    Notes
    -----
    Kolari & Pynnönen (2011).  Conventions (the paper's unless said):

    * **Standardization.** Estimation days: :math:`SAR_{it}=\hat\varepsilon_{it}/\hat\sigma_i`, with
      :math:`\hat\sigma^2_i` the residual variance on :math:`T_i-K` degrees of freedom.  The window is
      collapsed into one observation, the standardized CAR
      :math:`SCAR_i=CAR_i/\hat\sigma_{CAR_i}` (MacKinlay's prediction-error variance), restandardized
      by its cross-sectional standard deviation to absorb event-induced volatility:
      :math:`SCAR^*_i=SCAR_i\sqrt{1-\bar r}/S_{SCAR}`,
      :math:`S^2_{SCAR}=\frac{1}{N-1}\sum_i(SCAR_i-\overline{SCAR})^2`.  The factor :math:`\sqrt{1-\bar r}`
      is this package's, not the paper's: with average correlation :math:`\bar r`
      (:func:`~eventstudy.inference.average_correlation`, 0 when no firm-events share event days, capped at
      0.99) the cross-sectional variance estimates :math:`1-\bar r` times the SCARs' variance (Kolari &
      Pynnönen 2010), so dividing by :math:`S_{SCAR}` alone inflates the event observation of a same-day
      cluster: on 13 same-day semiconductor stocks (average residual correlation 0.32) the paper's form
      rejected 9.0% at the 5% level, this one 6.1% (``results/size-power``).
    * **What is ranked.** For each firm-event the :math:`T_i` estimation days used in the fit and the one
      cumulated event observation, :math:`GSAR_{it}=SAR_{it}` on estimation days and :math:`SCAR^*_i` for
      the event (day "0"); event-window days outside the tested window and gap days are not ranked.  With
      :math:`K_{it}` the rank among these :math:`T_i+1` values (ties averaged),

      .. math::

          U_{it} = \frac{K_{it}}{T_i+2}-\frac12 ,

      so :math:`U_{it}` has mean exactly 0 over each firm-event's ranked values.
    * **The statistic.** With :math:`n_t` the firm-events ranked on relative day :math:`t` (the event
      observation has :math:`n_0=N`), :math:`\bar U_t=\frac1{n_t}\sum_i U_{it}`, :math:`D` the estimation
      days with :math:`n_t>0` plus the event observation and :math:`T=|D|-1`:

      .. math::

          S_{\bar U} = \sqrt{\frac{1}{T+1}\sum_{t\in D}\frac{n_t}{N}\bar U_t^{\,2}},\qquad
          Z = \frac{\bar U_0}{S_{\bar U}},\qquad
          t_{grank} = Z\sqrt{\frac{T-2}{T-1-Z^2}} \sim t(T-2).

      ``grank_t`` reports :math:`t_{grank}` on :math:`T-2` degrees of freedom (KP 2011, eq. 13);
      ``grank_z`` reports :math:`Z` against :math:`N(0,1)`, its large-:math:`T` limit.  Because
      :math:`S_{\bar U}` is the time-series dispersion of the *daily mean* rank, cross-correlation among
      same-day firm-events enters it (as in :func:`rank`); the restandardization handles event-induced
      volatility; the collapse of the window into one observation handles multi-day windows without
      Campbell & Wasley's :math:`\sqrt L` scaling.  Estimation days are aligned in relative time, which
      is calendar time for firm-events that share day 0.
    * **Limits.** With strongly correlated same-day firms the event's mean rank behaves like one firm's
      rank, which is bounded, so the distribution of :math:`Z` is too flat in the middle and too thin in the
      tails: on the 13 same-day semiconductor stocks it rejected 0.0% at 1%, 6.1% at 5% and 14.1% at 10%.
      Prefer ``pseudo_event`` or ``kp_bmp`` for tight levels on such clusters.

    References
    ----------
    Kolari, J. W., & Pynnönen, S. (2011). Nonparametric rank tests for event studies. *Journal of Empirical
    Finance*, 18(5), 953-971.
"""


def grank_t(fit, window: tuple[int, int]) -> TestResult:
    return single(_grank(Inputs(fit, window), "t"), "grank_t", window)


def grank_z(fit, window: tuple[int, int]) -> TestResult:
    return single(_grank(Inputs(fit, window), "z"), "grank_z", window)


grank_t.__doc__ = (
    "Kolari & Pynnönen's (2011) generalized rank t test, robust to cross-correlation and event-induced "
    "volatility.\n\n    Parameters\n    ----------\n    fit : StackedFit\n    window : (int, int)\n\n"
    "    Returns\n    -------\n    TestResult\n" + _GRANK_NOTES
)
grank_z.__doc__ = (
    "Kolari & Pynnönen's (2011) generalized rank Z (the statistic before the t transformation), N(0,1)."
    "\n\n    Parameters\n    ----------\n    fit : StackedFit\n    window : (int, int)\n\n"
    "    Returns\n    -------\n    TestResult\n" + _GRANK_NOTES
)


# --------------------------------------------------------------------------------------------------------
# sign tests
# --------------------------------------------------------------------------------------------------------


def _generalized_sign(inp: Inputs) -> Batch:
    groups, used = inp.groups, inp.used
    tallies = _run_tallies(inp)
    windows = tallies.windows
    counted = used & (windows > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = tallies.positive / windows
        p_hat = groups.sum(np.where(counted, share, 0.0)) / groups.sum(counted)
        n = inp.n_used.astype(float)
        w = groups.sum(used & (inp.car > 0))
        z = (w - n * p_hat) / np.sqrt(n * p_hat * (1.0 - p_hat))
    batch = Batch(groups.n)
    batch.stat, batch.pvalue = z, p_norm(z)
    batch.distribution[:] = "N(0,1)"
    cross_section_checks(batch, inp, "generalized_sign")
    batch.fail(
        groups.sum(counted) == 0,
        f"no firm-event has {inp.length} consecutive estimation days to estimate the share of positive CARs",
    )
    batch.fail(
        (p_hat == 0) | (p_hat == 1),
        "every estimation-window CAR has the same sign, so the expected share positive is 0 or 1",
    )
    days = "" if inp.length == 1 else f" ({inp.length}-day estimation-window CARs)"
    texts = np.array([f"expected share positive {p:.4f}{days}" for p in p_hat], dtype=object)
    batch.caveat(np.isfinite(p_hat), texts)
    return batch.finish()


def generalized_sign(fit, window: tuple[int, int]) -> TestResult:
    r"""Cowan's (1992) generalized sign test, with the expected share taken from :math:`L`-day CARs.

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)

    Returns
    -------
    TestResult
        The note gives :math:`\hat p_L`.

    Notes
    -----
    The number of positive CARs is compared with the share of positive CARs of the same length in the
    estimation window, not with one half:

    .. math::

        \hat p_L = \frac1N\sum_{i=1}^N \frac{1}{M_i}\sum_{j=1}^{M_i} \mathbf 1\{CAR_{ij}>0\},
        \qquad
        Z = \frac{w - N\hat p_L}{\sqrt{N\hat p_L(1-\hat p_L)}} \sim N(0,1),

    where :math:`CAR_{ij}` are the sums of firm-event :math:`i`'s residuals over its :math:`M_i` runs of
    :math:`L` consecutive estimation days (the comparison CARs of :func:`permutation`; runs that would
    include a missing day are skipped), and :math:`w` is the number of the :math:`N` firm-events with
    :math:`CAR_i>0` (firm-events without any run are left out of the average; :math:`N` still counts
    them in :math:`w`).  For :math:`L=1` the runs are single days and :math:`\hat p_1` is Cowan's share of
    positive residuals, :math:`\frac1N\sum_i\frac1{T_i}\sum_{t\in E_i}\mathbf 1\{\hat\varepsilon_{it}>0\}`.

    Why :math:`L`-day CARs: with skewed returns the share of positive daily residuals is not one half
    (right skew puts the median below the mean), and Cowan's correction removes that bias for a one-day
    window.  A sum of :math:`L` days is less skewed, so :math:`P(CAR_i>0)` drifts towards one half as
    :math:`L` grows, and the daily share would leave :math:`E(w)-N\hat p_1` growing with :math:`N`: the
    daily :math:`\hat p_1` over-rejects for multi-day windows.  :math:`\hat p_L` estimates
    :math:`P(CAR_i>0)` for the window's own length.  All overlapping runs are used rather than
    non-overlapping blocks: each run has the distribution of an :math:`L`-day CAR, so the share is
    unbiased either way, and the overlapping share has the smaller variance and does not depend on
    where the first block starts.

    The variance :math:`N\hat p_L(1-\hat p_L)` treats :math:`\hat p_L` as known, as Cowan does.  Its own
    sampling variance, roughly :math:`p(1-p)L/(NM)` with :math:`M` runs per firm-event (overlapping runs
    carry about :math:`M/L` independent signs), adds a share of about :math:`L/M` to the variance of
    :math:`w-N\hat p_L`: negligible for a day, about 5% for :math:`L=11` and :math:`M=230`, so long
    windows tested against short estimation windows are slightly liberal.
    The comparison CARs are in-sample residuals, whose distribution is close to but not the same as
    that of out-of-sample prediction errors.

    References
    ----------
    Cowan, A. R. (1992). Nonparametric event study tests. *Review of Quantitative Finance and Accounting*,
    2(4), 343-358.
    """
    return single(_generalized_sign(Inputs(fit, window)), "generalized_sign", window)


def _sign(inp: Inputs) -> Batch:
    groups = inp.groups
    n = inp.n_used
    w = groups.sum(inp.used & (inp.car > 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (w - n / 2.0) / np.sqrt(n / 4.0)
    # the two-sided binomial p-value of scipy.stats.binomtest for p = 1/2: both tails of the smaller count
    k = np.minimum(w, n - w)
    from scipy import stats  # here: only the exact binomial tail needs scipy.stats (0.45 s to import)

    p = np.where(2 * k == n, 1.0, stats.binom.cdf(k, n, 0.5) + stats.binom.sf(n - k - 1, n, 0.5))
    batch = Batch(groups.n)
    batch.stat, batch.pvalue = z, np.minimum(p, 1.0)
    batch.distribution = np.array([f"binomial({k}, 0.5)" for k in n], dtype=object)
    cross_section_checks(batch, inp, "sign")
    return batch.finish()


def sign(fit, window: tuple[int, int]) -> TestResult:
    r"""Sign test: are positive CARs more (or less) common than one half?

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)

    Returns
    -------
    TestResult
        ``stat`` is the normal approximation, for display; the p-value is the exact binomial one.

    Notes
    -----
    With :math:`w` the number of the :math:`N` firm-events with :math:`CAR_i>0`,

    .. math::

        w \sim \operatorname{Binomial}(N, \tfrac12), \qquad
        p = \sum_{k:\ P(k)\le P(w)} P(k) = P(X\le m) + P(X\ge N-m),\quad m=\min(w, N-w),

    the two-sided exact p-value of :func:`scipy.stats.binomtest` (1 when :math:`w=N/2`), and the displayed
    statistic is :math:`z=(w-N/2)/\sqrt{N/4}`.  It assumes a median abnormal return of zero, which skewed
    daily returns violate; :func:`generalized_sign` corrects for that.

    References
    ----------
    Brown, S. J., & Warner, J. B. (1980). Measuring security price performance. *Journal of Financial
    Economics*, 8(3), 205-258.
    """
    return single(_sign(Inputs(fit, window)), "sign", window)


def _signed_rank(sample: np.ndarray):
    """Signed-rank pieces of each row, zeros dropped: z, the non-zero count and whether any |value| ties."""
    nonzero = sample != 0
    magnitude = np.where(nonzero, np.abs(sample), np.nan)
    ranks = row_ranks(magnitude)
    n = nonzero.sum(axis=1).astype(float)
    w_plus = np.where(sample > 0, ranks, 0.0).sum(axis=1)
    # tie correction sum_g (t_g^3 - t_g) = sum over values of (t^2 - 1), t the size of the value's tie group
    ordered = np.sort(magnitude, axis=1)  # NaN (the zeros) last; NaN != NaN, so they never tie
    rows, width = ordered.shape
    first = np.ones((rows, width), dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    group = np.cumsum(first, axis=1) - 1 + width * np.arange(rows)[:, None]
    size = np.bincount(group.ravel(), minlength=rows * width)[group]
    ties = np.where(np.isfinite(ordered), size**2 - 1.0, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = n * (n + 1) * (2 * n + 1) / 24.0 - ties / 48.0
        z = (w_plus - n * (n + 1) / 4.0) / np.sqrt(variance)
    return z, n.astype(np.int64), ties > 0


def _wilcoxon(inp: Inputs) -> Batch:
    groups = inp.groups
    batch = Batch(groups.n)
    members = groups.members(inp.used)
    sizes = np.array([len(rows) for rows in members])
    car = inp.car
    zeros = np.zeros(groups.n, dtype=np.int64)
    for size in np.unique(sizes[sizes > 0]):
        which = np.flatnonzero(sizes == size)
        sample = np.stack([car[members[g]] for g in which])
        z, nonzero, tied = _signed_rank(sample)
        zeros[which] = size - nonzero
        exact = (nonzero == size) & ~tied & (size <= MAX_EXACT_WILCOXON)
        batch.stat[which] = z
        batch.pvalue[which] = p_norm(z)
        if exact.any():
            from scipy import stats  # here: only the exact signed-rank tail needs scipy.stats

            batch.pvalue[which[exact]] = stats.wilcoxon(sample[exact], axis=1, method="exact").pvalue
        normal = np.where(tied, "N(0,1), tie-corrected", "N(0,1)")
        batch.distribution[which] = np.where(exact, f"exact signed-rank({size})", normal)
    cross_section_checks(batch, inp, "wilcoxon")
    texts = np.array([f"{k} zero CARs left out (Wilcoxon's zero method)" for k in zeros], dtype=object)
    batch.caveat(zeros > 0, texts)
    return batch.finish()


def wilcoxon(fit, window: tuple[int, int]) -> TestResult:
    r"""Wilcoxon signed-rank test of the CARs' median.

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)

    Returns
    -------
    TestResult
        ``stat`` is :math:`z` below.  ``distribution`` says which p-value it is: ``"exact signed-rank(N)"``
        for at most :data:`MAX_EXACT_WILCOXON` firm-events with no zero and no tied :math:`|CAR_i|`,
        ``"N(0,1)"`` or ``"N(0,1), tie-corrected"`` otherwise.

    Notes
    -----
    Zero CARs are dropped (Wilcoxon's zero method, ``zero_method="wilcox"`` in
    :func:`scipy.stats.wilcoxon`); with :math:`R_i` the average rank of :math:`|CAR_i|` among the
    :math:`n` non-zero CARs and :math:`t_g` the sizes of the groups of tied :math:`|CAR_i|`,

    .. math::

        W^+ = \sum_{i:\,CAR_i>0} R_i, \qquad
        z = \frac{W^+ - n(n+1)/4}{\sqrt{\dfrac{n(n+1)(2n+1)}{24} - \dfrac{\sum_g (t_g^3-t_g)}{48}}} .

    The p-value is chosen by a fixed rule, the same for every SciPy version:

    * no zero CAR, no ties and :math:`n\le 50`: the two-sided tail of the exact null distribution of
      :math:`W^+` (``scipy.stats.wilcoxon(..., method="exact")``); :math:`z` is then its standardized
      value, shown for the size and sign;
    * otherwise :math:`2\,\Phi(-|z|)`, the normal approximation with the tie-corrected variance above and
      no continuity correction (``method="asymptotic", zero_method="wilcox", correction=False``), so the
      statistic and the p-value correspond exactly.

    The exact distribution assumes distinct, non-zero values; with ties the conditional (permutation)
    distribution would be needed, and the tie-corrected normal approximation is the standard substitute
    (Lehmann 1975, ch. 3).  The test assumes CARs symmetric about a median of zero.

    References
    ----------
    Wilcoxon, F. (1945). Individual comparisons by ranking methods. *Biometrics Bulletin*, 1(6), 80-83.

    Lehmann, E. L. (1975). *Nonparametrics: Statistical Methods Based on Ranks*. Holden-Day.
    """
    return single(_wilcoxon(Inputs(fit, window)), "wilcoxon", window)


register(
    TestSpec(
        "permutation",
        permutation,
        "single",
        "one firm-event's CAR ranked among its own estimation-window CARs",
        "Gelbach, Helland & Klick (2013)",
        _permutation,
    )
)
register(
    TestSpec(
        "rank",
        rank,
        "cross-section",
        "standardized ranks of abnormal returns over the estimation and event windows",
        "Corrado (1989); Corrado & Zivney (1992); Campbell & Wasley (1993)",
        _rank,
    )
)
register(
    TestSpec(
        "grank_t",
        grank_t,
        "cross-section",
        "generalized rank t: restandardized cumulative SCAR ranked with estimation-day SARs",
        "Kolari & Pynnönen (2011)",
        lambda inp: _grank(inp, "t"),
    )
)
register(
    TestSpec(
        "grank_z",
        grank_z,
        "cross-section",
        "generalized rank Z (before the t transformation)",
        "Kolari & Pynnönen (2011)",
        lambda inp: _grank(inp, "z"),
    )
)
register(
    TestSpec(
        "generalized_sign",
        generalized_sign,
        "cross-section",
        "positive CARs against the share of positive estimation-window CARs of the same length",
        "Cowan (1992)",
        _generalized_sign,
    )
)
register(
    TestSpec(
        "sign", sign, "cross-section", "positive CARs against one half, exact binomial", "Brown & Warner (1980)", _sign
    )
)
register(TestSpec("wilcoxon", wilcoxon, "cross-section", "signed-rank test of the CARs", "Wilcoxon (1945)", _wilcoxon))

state_nulls(
    {"permutation": "the event CAR is drawn from the same distribution as the estimation-window CARs"},
    alternative=ABSOLUTE,
)
state_nulls(
    {
        "rank": "event-window abnormal returns rank like estimation-window ones (mean rank one half)",
        "grank_t": "the cumulated event observation ranks like an estimation day (mean rank one half)",
        "grank_z": "the cumulated event observation ranks like an estimation day (mean rank one half)",
        "generalized_sign": "the share of positive CARs equals the estimation-window share",
        "sign": "the median CAR is zero",
        "wilcoxon": "the CARs are symmetric about zero",
    }
)
share(("grank_t", "grank_z"), _pair_correlations)
share(("rank", "grank_t", "grank_z"), _shared_ranks)
