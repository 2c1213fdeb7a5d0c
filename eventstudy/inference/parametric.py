r"""Parametric tests: the time-series t of one firm-event and the cross-sectional tests of many.

Notation shared by every docstring here: firm-event :math:`i=1,\dots,N`, tested window
:math:`[\tau_1,\tau_2]` of :math:`L=\tau_2-\tau_1+1` days inside the event window,
:math:`AR_{it}` the abnormal return (prediction error) on relative day :math:`t`,
:math:`CAR_i=\sum_{t=\tau_1}^{\tau_2} AR_{it}`, :math:`T_i` the estimation-window observations and :math:`K`
the estimated coefficients of the normal-return model (constant included), so that
:math:`T_i-K` are the residual degrees of freedom (:math:`T_i-1` for market-adjusted returns).
:math:`\hat\sigma^2_{CAR_i}` is MacKinlay's (1997, eqs. 7-13) variance of :math:`CAR_i` including the
prediction error of the estimated parameters, :meth:`~eventstudy.estimation.models.StackedFit.car_variance`:

.. math::

    \hat\sigma^2_{CAR_i} = \hat\sigma^2_i\bigl(L + s_i'(X_i'X_i)^{-1}s_i\bigr), \qquad
    s_i = \textstyle\sum_{t=\tau_1}^{\tau_2} x_{it}.

Cross-sectional tests use the firm-events whose CAR covers the whole window and whose variance is
finite (the others are left out and counted in the note), and need at least
:data:`~eventstudy.inference.base.MIN_FIRM_EVENTS` of them.  P-values are two-sided.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from eventstudy.foundation.tails import norm_sf, t_sf
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

__all__ = [
    "ar_t",
    "car_t",
    "csect_t",
    "brown_warner",
    "patell",
    "bmp",
    "kp_patell",
    "kp_bmp",
    "average_correlation",
    "MIN_OVERLAP",
]

#: pairs of firm-events need this many common estimation days for their residual correlation
MIN_OVERLAP = 30


def p_t(stat, df):
    """Two-sided p-value of a t statistic (``scipy.stats.t.sf``'s values, from ``scipy.special``)."""
    with np.errstate(invalid="ignore"):
        return 2.0 * t_sf(np.abs(stat), df)


def p_norm(stat):
    """Two-sided p-value of a standard-normal statistic (``scipy.stats.norm.sf``'s values)."""
    return 2.0 * norm_sf(np.abs(stat))


def _group_mean_sd(inp: Inputs, values: np.ndarray):
    """Mean and sample standard deviation (ddof=1) of ``values`` over the used firm-events of each group."""
    groups, used = inp.groups, inp.used
    n = inp.n_used.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = groups.sum(np.where(used, values, 0.0)) / n
        dev = np.where(used, values - groups.expand(mean), 0.0)
        sd = np.sqrt(groups.sum(dev**2) / (n - 1))
    return mean, sd, n


# --------------------------------------------------------------------------------------------------------
# one firm-event
# --------------------------------------------------------------------------------------------------------


def _car_t(inp: Inputs, one_day_only: bool = False) -> Batch:
    batch = Batch(inp.fit.n, group=inp.groups.ids)
    var = inp.car_variance
    batch.n[:] = 1
    if not one_day_only or inp.length == 1:
        df = inp.df
        with np.errstate(invalid="ignore", divide="ignore"):
            batch.stat = inp.car / np.sqrt(var)
        batch.pvalue = p_t(batch.stat, df)
        batch.distribution = dist_labels("t", df)
    batch.fail(~np.isfinite(var), "the normal-return model could not be estimated for this firm-event")
    batch.fail(~np.isfinite(inp.car), "no abnormal return on some day of the window, so no CAR")
    if one_day_only and inp.length != 1:  # every row fails (those above keep their reason): no statistic made
        batch.fail(np.ones(len(batch), bool), "ar_t takes a one-day window; use car_t")
    return batch.finish()


def _ar_t(inp: Inputs) -> Batch:
    return _car_t(inp, one_day_only=True)


def car_t(fit, window: tuple[int, int]) -> list[TestResult]:
    r"""Time-series t test of each firm-event's cumulative abnormal return.

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)
        Relative trading days, inclusive, inside the event window.

    Returns
    -------
    list of TestResult
        One per firm-event, in the row order of ``fit``.

    Notes
    -----
    MacKinlay (1997, eqs. 13-14), with the prediction-error variance of the CAR:

    .. math::

        t_i = \frac{CAR_i}{\hat\sigma_{CAR_i}} \sim t(T_i - K),

    where :math:`CAR_i` sums the window's abnormal returns, :math:`\hat\sigma^2_{CAR_i}` is
    :meth:`~eventstudy.estimation.models.StackedFit.car_variance` (the full covariance of the window's prediction
    errors), :math:`T_i` the estimation days and :math:`K` the coefficients.  The :math:`t` distribution is
    exact for normal, independent disturbances.  NaN when a window day lacks an abnormal return.

    References
    ----------
    MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of Economic Literature*,
    35(1), 13-39.
    """
    return _car_t(Inputs(fit, window)).results("car_t", window)


def ar_t(fit, window: tuple[int, int]) -> list[TestResult]:
    r"""Time-series t test of each firm-event's abnormal return on one day.

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)
        A one-day window ``(t, t)``; a longer window gives invalid results (use :func:`car_t`).

    Returns
    -------
    list of TestResult
        One per firm-event, in the row order of ``fit``.

    Notes
    -----
    MacKinlay (1997, eqs. 8-9):

    .. math::

        t_i = \frac{AR_{it}}{\hat\sigma_i\sqrt{1 + x_t'(X_i'X_i)^{-1}x_t}} \sim t(T_i-K),

    with :math:`\hat\sigma^2_i` the estimation-window residual variance, :math:`x_t` the day's regressors
    (constant included), :math:`X_i` the estimation-window regressors, :math:`T_i` the estimation days and
    :math:`K` the coefficients.  It is :func:`car_t` with :math:`L=1`.

    References
    ----------
    MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of Economic Literature*,
    35(1), 13-39.
    """
    return _ar_t(Inputs(fit, window)).results("ar_t", window)


# --------------------------------------------------------------------------------------------------------
# cross-section
# --------------------------------------------------------------------------------------------------------


def _mean_t(inp: Inputs, values: np.ndarray) -> Batch:
    """Cross-sectional t of the mean of ``values`` over each group's used firm-events, before any check.

    ``csect_t`` on the CARs, ``bmp`` on the standardized CARs.
    """
    mean, sd, n = _group_mean_sd(inp, values)
    batch = Batch(inp.groups.n)
    with np.errstate(invalid="ignore", divide="ignore"):
        batch.stat = mean / (sd / np.sqrt(n))
    batch.pvalue = p_t(batch.stat, n - 1)
    batch.distribution = dist_labels("t", n - 1)
    return batch


def _checked(batch: Batch, inp: Inputs, name: str) -> Batch:
    """A finished copy of ``batch`` with the cross-sectional checks, its reasons naming the test ``name``."""
    batch = batch.copy()
    cross_section_checks(batch, inp, name)
    return batch.finish()


def _standardized(inp: Inputs, kind: str) -> Batch:
    """bmp's t (``kind="bmp"``) or Patell's Z of the standardized CARs, before any check.

    Computed once per :class:`Inputs` and shared by the test and its Kolari-Pynnönen adjustment.
    """
    return inp.once(f"{kind}_unchecked", lambda: _mean_t(inp, inp.scar) if kind == "bmp" else _patell_z(inp))


def _csect_t(inp: Inputs) -> Batch:
    return _checked(_mean_t(inp, inp.car), inp, "csect_t")


def csect_t(fit, window: tuple[int, int]) -> TestResult:
    r"""Cross-sectional t test of the mean CAR.

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)

    Returns
    -------
    TestResult

    Notes
    -----
    The variance comes from the cross-section of CARs, so it allows event-induced variance but assumes
    independent firm-events (Brown & Warner 1985; MacKinlay 1997, section 5):

    .. math::

        t = \frac{\overline{CAR}}{s_{CAR}/\sqrt{N}} \sim t(N-1), \qquad
        \overline{CAR} = \frac1N\sum_i CAR_i, \qquad
        s^2_{CAR} = \frac{1}{N-1}\sum_i (CAR_i-\overline{CAR})^2,

    with :math:`N` the firm-events with a CAR over the window.  Same-day events are cross-correlated and
    make it over-reject; see :func:`kp_bmp`.

    References
    ----------
    Brown, S. J., & Warner, J. B. (1985). Using daily stock returns: The case of event studies. *Journal of
    Financial Economics*, 14(1), 3-31.
    """
    return single(_csect_t(Inputs(fit, window)), "csect_t", window)


def _estimation_days(inp: Inputs) -> tuple[np.ndarray, np.ndarray]:
    """The estimation-window residuals with 0 on the days they lack, and the days they have, (N, T): the
    same for every window (cached on the fit while the residuals are the fit's own).

    Made in blocks of rows on threads, each block of residuals read once from memory and then worked on in
    cache (``np.isfinite`` and ``np.where`` over the whole array read it twice and build a third array).
    """

    def compute():
        lo, hi = inp.fit.estimation_window
        days = np.flatnonzero((inp.grid >= lo) & (inp.grid <= hi))  # consecutive grid days: a slice, not a gather
        res = inp.residuals[:, days[0] : days[-1] + 1] if len(days) else inp.residuals[:, :0]
        values, finite = np.empty(res.shape), np.empty(res.shape, dtype=bool)

        def block(rows: slice) -> None:
            np.isfinite(res[rows], out=finite[rows])
            np.copyto(values[rows], res[rows])
            np.copyto(values[rows], 0.0, where=~finite[rows])

        thread_map(block, row_blocks(*res.shape, CACHE_CELLS))
        return values, finite

    return inp.once_per_fit("estimation_days", compute, inp.residuals)


def _day_counts(inp: Inputs) -> np.ndarray:
    """How many firm-events have a residual on each estimation day of :func:`_estimation_days`, (T,): a
    window's counts are then these less those of the few firm-events it does not use (once per fit)."""
    _, finite = _estimation_days(inp)
    # bytes added into 32 bits: twice as fast as counting booleans into 64
    return inp.once_per_fit(
        "estimation_day_counts",
        lambda: np.add.reduce(finite.view(np.uint8), axis=0, dtype=np.int64 if len(finite) >= 1 << 31 else np.int32),
        inp.residuals,
    )


def _brown_warner(inp: Inputs) -> Batch:
    groups, used = inp.groups, inp.used
    values, finite = _estimation_days(inp)
    if groups.n == 1:  # the sums as one product with the firm-events used as weights: no (N, T) mask per window
        left_out = ~used
        if np.count_nonzero(left_out) < len(used) // 2:  # every firm-event's days less those left out
            count = (_day_counts(inp) - np.count_nonzero(finite[left_out], axis=0))[None, :]
        else:
            count = np.count_nonzero(finite[used], axis=0)[None, :]
        total = (used.astype(float) @ values)[None, :]
    else:
        ok = used[:, None] & finite
        count, total = groups.sum(ok), groups.sum(np.where(ok, values, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        aar = total / count  # NaN where no firm-event has the day
        days = (count > 0).sum(axis=1)
        centred = np.where(count > 0, aar - np.nansum(aar, axis=1, keepdims=True) / days[:, None], 0.0)
        s = np.sqrt((centred**2).sum(axis=1) / (days - 1))
        caar = groups.sum(np.where(used[:, None], inp.ar_event[:, inp.positions], 0.0)).sum(axis=1) / inp.n_used
        batch = Batch(groups.n)
        batch.stat = caar / (np.sqrt(inp.length) * s)
    batch.pvalue = p_t(batch.stat, days - 1)
    batch.distribution = dist_labels("t", days - 1)
    cross_section_checks(batch, inp, "brown_warner")
    batch.fail(days < 3, "fewer than 3 estimation days with an average residual")
    return batch.finish()


def brown_warner(fit, window: tuple[int, int]) -> TestResult:
    r"""Brown & Warner (1985) test with the crude dependence adjustment.

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)

    Returns
    -------
    TestResult

    Notes
    -----
    The variance is the time-series variance of the *average* abnormal return over the estimation window,
    so cross-correlation between firm-events is absorbed (Brown & Warner 1980, 1985, "crude dependence
    adjustment"):

    .. math::

        AAR_t = \frac{1}{N_t}\sum_{i\in N_t} AR_{it}, \qquad
        S^2 = \frac{1}{T_e-1}\sum_{t\in E}\bigl(AAR_t-\overline{AAR}\bigr)^2, \qquad
        t = \frac{\sum_{t=\tau_1}^{\tau_2} AAR_t}{\sqrt{L}\,S} \sim t(T_e-1),

    where :math:`N_t` are the firm-events (of the :math:`N` with a CAR) observed on day :math:`t` (all of
    them inside the window), :math:`E` the estimation-window days on which at least one of them has a
    residual, :math:`T_e=|E|` and :math:`\overline{AAR}` the mean of :math:`AAR_t` over :math:`E`.  The
    estimation-window :math:`AR_{it}` are the in-sample residuals.

    References
    ----------
    Brown, S. J., & Warner, J. B. (1985). Using daily stock returns: The case of event studies. *Journal of
    Financial Economics*, 14(1), 3-31.
    """
    return single(_brown_warner(Inputs(fit, window)), "brown_warner", window)


def _patell_z(inp: Inputs) -> Batch:
    groups, used = inp.groups, inp.used
    scale = np.where(used, inp.df / (inp.df - 2.0), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = groups.sum(np.where(used, inp.scar, 0.0)) / np.sqrt(groups.sum(scale))
    batch = Batch(groups.n)
    batch.stat, batch.pvalue = z, p_norm(z)
    batch.distribution[:] = "N(0,1)"
    return batch


def _patell(inp: Inputs, name: str = "patell") -> Batch:
    return _checked(_standardized(inp, "patell"), inp, name)


def patell(fit, window: tuple[int, int]) -> TestResult:
    r"""Patell (1976) standardized-residual test.

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)

    Returns
    -------
    TestResult

    Notes
    -----
    Each CAR is standardized by its own prediction-error variance, so firm-events with noisy returns weigh
    less; the variance is the time-series one, so event-induced variance makes it over-reject (see
    :func:`bmp`):

    .. math::

        SCAR_i = \frac{CAR_i}{\hat\sigma_{CAR_i}}, \qquad
        Z = \frac{\sum_{i=1}^N SCAR_i}{\sqrt{\sum_{i=1}^N \frac{T_i-K}{T_i-K-2}}} \sim N(0,1),

    where :math:`\hat\sigma^2_{CAR_i}` is MacKinlay's prediction-error variance of the window's CAR (for
    :math:`L=1` Patell's :math:`\hat\sigma^2_i(1 + x_t'(X_i'X_i)^{-1}x_t)`), and
    :math:`(T_i-K)/(T_i-K-2)` is the variance of :math:`SCAR_i`, a :math:`t(T_i-K)` variable.

    For :math:`L=1` this is Patell's (1976) test.  For :math:`L>1` it is the *standardized-CAR* form of
    Mikkelson & Partch (1988), which is Campbell, Lo & MacKinlay's (1997, section 4.4) :math:`J_2` with
    each firm-event's own :math:`T_i`: the CAR is standardized once, by the variance of the whole window's
    prediction error (covariances of the days included).  It is not Patell's multi-day statistic, which
    standardizes each day's abnormal return by its own one-day prediction-error variance and sums the
    standardized residuals, :math:`\sum_t SAR_{it}/\sqrt{L}`; the two differ when the days' prediction
    errors are correlated through the estimated parameters or have unequal variances.

    References
    ----------
    Patell, J. M. (1976). Corporate forecasts of earnings per share and stock price behavior: Empirical
    tests. *Journal of Accounting Research*, 14(2), 246-276.

    Mikkelson, W. H., & Partch, M. M. (1988). Withdrawn security offerings. *Journal of Financial and
    Quantitative Analysis*, 23(2), 119-133.

    Campbell, J. Y., Lo, A. W., & MacKinlay, A. C. (1997). *The Econometrics of Financial Markets*,
    chapter 4. Princeton University Press.
    """
    return single(_patell(Inputs(fit, window)), "patell", window)


def _bmp(inp: Inputs, name: str = "bmp") -> Batch:
    return _checked(_standardized(inp, "bmp"), inp, name)


def bmp(fit, window: tuple[int, int]) -> TestResult:
    r"""Boehmer, Musumeci & Poulsen (1991) standardized cross-sectional test.

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)

    Returns
    -------
    TestResult

    Notes
    -----
    The cross-sectional t test of the standardized CARs of :func:`patell`: standardizing weighs the
    firm-events, and the cross-sectional variance allows an event-induced change of variance:

    .. math::

        t = \frac{\overline{SCAR}}{s_{SCAR}/\sqrt N} \sim t(N-1), \qquad
        \overline{SCAR} = \frac1N\sum_i SCAR_i,\qquad
        s^2_{SCAR} = \frac{1}{N-1}\sum_i\bigl(SCAR_i-\overline{SCAR}\bigr)^2,

    with :math:`SCAR_i = CAR_i/\hat\sigma_{CAR_i}` (MacKinlay's prediction-error variance).  For
    :math:`L>1` the CAR is standardized once over the whole window, as in Mikkelson & Partch (1988) and
    Campbell, Lo & MacKinlay's (1997) :math:`J_2` with each firm-event's own :math:`T_i` (see
    :func:`patell`), not by summing daily standardized residuals over :math:`\sqrt L`.

    References
    ----------
    Boehmer, E., Musumeci, J., & Poulsen, A. B. (1991). Event-study methodology under conditions of
    event-induced variance. *Journal of Financial Economics*, 30(2), 253-272.

    Mikkelson, W. H., & Partch, M. M. (1988). Withdrawn security offerings. *Journal of Financial and
    Quantitative Analysis*, 23(2), 119-133.

    Campbell, J. Y., Lo, A. W., & MacKinlay, A. C. (1997). *The Econometrics of Financial Markets*,
    chapter 4. Princeton University Press.
    """
    return single(_bmp(Inputs(fit, window)), "bmp", window)


# --------------------------------------------------------------------------------------------------------
# Kolari & Pynnonen (2010): cross-correlation
# --------------------------------------------------------------------------------------------------------


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b.T`` for each block of two stacks (B, n1, L), (B, n2, L) -> (B, n1, n2).

    One BLAS product per block for large blocks: numpy's stacked ``@`` once ran 6-8x slower than einsum on
    them, and einsum 4-5x slower than a loop of 2-d products (the loop runs over blocks, clusters or
    samples, never firm-events).  Blocks up to 32 x 32 (same-day clusters of a few firm-events) take one
    stacked product: 2-7x faster than the loop on numpy 2.4, with the same numbers.
    """
    if not len(a):
        return np.empty((0, a.shape[1], b.shape[1]))
    if a.shape[1] * b.shape[1] <= 1024:  # many small blocks: one stacked product
        return np.matmul(a, np.swapaxes(b, 1, 2))
    return np.stack([a[k] @ b[k].T for k in range(len(a))])


def _pearson(n, sa, sb, cross, qa, qb) -> np.ndarray:
    """Pearson correlations from the sums over each pair's common days: count, sums, cross products and sums
    of squares; NaN where a pair has fewer than :data:`MIN_OVERLAP` common days or no variation on them."""
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = cross - sa * sb / n
        va = qa - sa * sa / n
        vb = qb - sb * sb / n
        r = cov / np.sqrt(va * vb)
    ok = (n >= MIN_OVERLAP) & (va > 0) & (vb > 0)
    return np.where(ok, r, np.nan)


def _self_correlations(x: np.ndarray) -> np.ndarray:
    """Pearson correlations of every row of each block of a stack (B, n, L) with every other row of the block,
    on their common (non-NaN) columns: (B, n, n).  Four products per block, since the sums of one row over the
    days it shares with another are the transpose of the other way round."""
    mask = np.isfinite(x)
    return _masked_correlations(np.where(mask, x, 0.0), mask)


def _masked_correlations(v: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """:func:`_self_correlations` of the stack given as its values, 0 where missing, and its finite mask."""
    f = mask.astype(float)
    sa, squares = _cross(v, f), _cross(v * v, f)
    swap = lambda a: np.swapaxes(a, 1, 2)  # noqa: E731
    return _pearson(_cross(f, f), sa, swap(sa), _cross(v, v), squares, swap(squares))


def _same_mask_correlations(v: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """:func:`_masked_correlations` when every row of a block has the same missing days (``mask`` (B, 1, L))."""
    days = mask.sum(axis=2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        centred = np.where(mask, v - v.sum(axis=2, keepdims=True) / days, 0.0)
        cov = _cross(centred, centred)
        var = np.diagonal(cov, axis1=1, axis2=2)
        r = cov / np.sqrt(var[:, :, None] * var[:, None, :])
    ok = (days >= MIN_OVERLAP) & (var[:, :, None] > 0) & (var[:, None, :] > 0)
    return np.where(ok, r, np.nan)


#: firm-events per chunk of :func:`_near_pairs`: with the cross products in bands, a bigger chunk lays each row
#: fewer times (10,000 random-date firm-events, one thread: 96, 102-110 ms; 160, 93-100 ms; 256, 93-107 ms)
PAIR_CHUNK = 160
#: a chunk whose rows miss more than this share of their days takes six dense products: on 10,000 random-date
#: firm-events with more days missing at random, the sparse corrections (and the cross products in bands)
#: cost less up to 15-20 % (_near_pairs, one thread: 1 %, 93 ms against 256 ms; 10 %, 199 against 265; 15 %,
#: 212-256 against 251-275; 20 %, 334 against 288)
DENSE_MISSING = 0.15
#: same-day clusters of this many firm-events or more are taken one at a time (:func:`_same_day_pairs`: one
#: dense product and the sparse corrections); the pairs of smaller ones are near pairs 0 sessions apart, in
#: the chunks of :func:`_near_pairs`, when their group has pairs on different dates (else they are batched
#: by size in :func:`_same_day_pairs`), which costs less below about this size (measured, 50 clusters, per
#: cluster: of 20, 0.15 ms against 0.22 ms; of 40, 0.27 against 0.29; of 60, 0.41 against 0.37; of 100,
#: 0.79 against 0.59)
BIG_CLUSTER = 48


class _Rows(NamedTuple):
    """The firm-events of :func:`_near_pairs` sorted by group and date.  Their residuals stay in the fit's row
    order (the estimation days' columns): a chunk or a cluster gathers its rows through ``order``, so no
    sorted copy of the (N, L) residuals is made."""

    order: np.ndarray  # sorted position -> row of the fit
    group: np.ndarray
    day: np.ndarray  # day-0 session
    partner: np.ndarray  # first position it pairs with: the next in a small same-day cluster, else on a later day
    reach_end: np.ndarray  # past the last position within reach
    has: np.ndarray  # the position has a pair
    values: np.ndarray  # residuals, 0 where missing, by row of the fit (N, L)
    finite: np.ndarray  # the days each row of the fit has (N, L)
    clusters: np.ndarray  # first position of each same-day cluster (group and date alike)
    missing: np.ndarray  # missing days of the positions before each position (N + 1)
    # the rest is empty when there are no near pairs and no big same-day clusters
    totals: np.ndarray  # per position: days, sum and sum of squares (3, N)
    # per position: the totals less the sums over its first 0 .. reach - 1 days (days, sum, squares), then
    # less those over its last (sum, squares)
    rest: np.ndarray  # (5, reach, N)


def _lay(arrays, offset: np.ndarray, width: int, k: int) -> np.ndarray:
    """Rows of ``arrays`` (each (n, L)) laid on a calendar of ``width`` days, row i from column ``offset[i]``,
    zero elsewhere, into the first of ``k`` slots: (k, n, width).  One assignment per array, into the windows
    of numpy's sliding view of the slot (a slice per day held the interpreter's lock on every small copy,
    and the chunks of pairs run on threads)."""
    n, length = arrays[0].shape
    out = np.zeros((k, n, width))
    rows, offset = np.arange(n), np.asarray(offset, dtype=np.intp)
    for slot, array in enumerate(arrays):
        sliding_window_view(out[slot], length, axis=1, writeable=True)[rows, offset] = array
    return out


def _lay_by_day(arrays, offset: np.ndarray, width: int) -> np.ndarray:
    """:func:`_lay` with the calendar first: (width, 3, n), row i's days in column i of each slot from day
    ``offset[i]``, a third slot left (zero) for the squares when two arrays are given.  Rows of one calendar
    day are contiguous, so the sums over a few missing days are a sparse product without a transposed copy
    (:func:`_on_missing`)."""
    n, length = arrays[0].shape
    if width == length:  # one date (a cluster, or a chunk on one date): transposed copies, 4-5x faster
        out = np.empty((width, 3, n))
        for slot, array in enumerate(arrays):
            out[:, slot] = array.T
        out[:, len(arrays) :] = 0.0
        return out
    out = np.zeros((width, 3, n))
    rows, offset = np.arange(n), np.asarray(offset, dtype=np.intp)
    for slot, array in enumerate(arrays):
        sliding_window_view(out[:, slot], length, axis=0, writeable=True)[offset, rows] = array
    return out


def _take(a: np.ndarray, index: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``np.take(a, index, out=out)`` for indices known to be in range (the pairs' look-ups), in numpy's mode
    'wrap': the same values, without the copy through a buffer that mode 'raise' makes of ``out`` (14,000
    look-ups: 14 against 23 us)."""
    return np.take(a, index, out=out, mode="wrap")


def _on_missing(q: np.ndarray, cols: np.ndarray, pointer: np.ndarray) -> np.ndarray:
    """``m @ q`` for the 0/1 matrix m (rows, W) of a few missing days, given by their columns and a row
    pointer, and q (W, k) C-contiguous: (rows, k), as a sparse product (a dense one costs W multiplications a
    pair)."""
    from scipy.sparse import csr_matrix  # here: only the pairs need it (and a fit has loaded it)

    # 32-bit indices when they fit: scipy checks the values of 64-bit ones (10 of 25 us a matrix of a cluster)
    index = np.int32 if max(q.shape[0], len(cols)) < 1 << 31 else np.int64
    pointer = (pointer - pointer[0]).astype(index)
    m = csr_matrix((np.ones(len(cols)), cols.astype(index), pointer), shape=(len(pointer) - 1, q.shape[0]))
    return m @ q


def _sorted_rows(values: np.ndarray, finite: np.ndarray, group: np.ndarray, day0: np.ndarray, reach: int) -> _Rows:
    """:class:`_Rows` of the residuals ``values`` (N, L; 0 where missing) with their days ``finite`` on the
    relative-day grid, for pairs up to ``reach`` - 1 sessions apart."""
    order = np.lexsort((day0, group))
    g, d = group[order], day0[order]
    stride = int(d.max() - d.min()) + 2 * reach + 1 if len(d) else 1
    key = g.astype(np.int64) * stride + (d - (d.min() if len(d) else 0))  # sorted; a gap < reach is one group
    reach_end = np.searchsorted(key, key + reach - 1, side="right")
    # the grid days on which some row has a residual (the estimation window): the products skip the others
    span = np.flatnonzero(finite.any(axis=0))
    days = slice(int(span[0]), int(span[-1]) + 1) if len(span) else slice(0, 0)
    values, finite = values[:, days], finite[:, days]
    n, length = len(order), values.shape[1]
    clusters = np.flatnonzero(np.append(True, (g[1:] != g[:-1]) | (d[1:] != d[:-1])))  # same-day starts
    sizes = np.diff(np.append(clusters, n))
    later = np.repeat(clusters + sizes, sizes)  # the first position on a later date
    # a small same-day cluster's pairs are near pairs 0 sessions apart in the chunks, where its group has pairs
    # on different dates; in a group without any (a simulation's spread-out sample), its clusters are batched
    # by size instead (_same_day_pairs), not a chunk for a pair or two; a big cluster's, see _same_day_pairs
    starts = np.flatnonzero(np.append(True, g[1:] != g[:-1]))
    near = (
        np.repeat(np.logical_or.reduceat(reach_end > later, starts), np.diff(np.append(starts, n))) if n else later > 0
    )
    partner = np.where(np.repeat(sizes < BIG_CLUSTER, sizes) & near, np.arange(1, n + 1), later)
    has = reach_end > partner
    count = np.add.reduce(finite.view(np.uint8), axis=1, dtype=np.int32)[order]  # bytes: 2x faster than booleans
    missing = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(length - count, out=missing[1:])
    if not has.any() and not (sizes >= BIG_CLUSTER).any():  # no use for the sums (nor for batched clusters)
        return _Rows(
            order,
            g,
            d,
            partner,
            reach_end,
            has,
            values,
            finite,
            clusters,
            missing,
            np.empty((3, 0)),
            np.empty((5, 1, 0)),
        )
    totals = np.empty((3, n))
    totals[0], totals[1], totals[2] = count, values.sum(axis=1)[order], np.einsum("ij,ij->i", values, values)[order]
    # a used pair is at most reach - 1 sessions apart; pairs of big same-day clusters alone read no first days
    steps = min(reach - 1, length) if has.any() else 0
    # each position's first and last days, day by day (the last from the end), taken off its totals one
    # step at a time, each step over all positions at once
    day = np.empty((5, steps, n))
    # (gathered as rows, then transposed: a gather down the columns reads one value per row of the residuals)
    day[0], day[1], day[3] = (
        finite[order, :steps].T,
        values[order, :steps].T,
        values[order, length - steps :][:, ::-1].T,
    )
    np.multiply(day[1], day[1], out=day[2])
    np.multiply(day[3], day[3], out=day[4])
    rest = np.empty((5, steps + 1, n))
    rest[:3, 0], rest[3:, 0] = totals, totals[1:]
    for t in range(steps):
        np.subtract(rest[:, t], day[:, t], out=rest[:, t + 1])
    return _Rows(order, g, d, partner, reach_end, has, values, finite, clusters, missing, totals, rest)


def _correlations(rows: _Rows, a: tuple[int, int], b: tuple[int, int], ia, jb, gap) -> np.ndarray:
    """Correlations of the pairs (``a[0] + ia``, ``b[0] + jb``) of sorted positions, ``gap`` sessions apart
    (b's date less a's, 0 to reach - 1), on their common calendar days: (P,).  ``a`` and ``b`` are
    (first, past the last) with ``a[0] <= b[0]`` and ``a[1] <= b[1]``; the rows from ``a[0]`` to ``b[1]`` are
    laid on the calendar they span, and only the cross products are a dense product."""
    (a0, a1), (b0, b1) = a, b
    block = rows.order[a0:b1]
    f, x = np.take(rows.finite, block, axis=0), np.take(rows.values, block, axis=0)  # 1.2-1.8x faster than [block]
    nu, length = x.shape
    offset = rows.day[a0:b1] - rows.day[a0]
    width = int(offset[-1]) + length
    la, sb, m = a1 - a0, b0 - a0, rows.missing
    pb = sb + jb  # b's rows in the block
    if m[a1] - m[a0] + m[b1] - m[b0] > DENSE_MISSING * (a1 - a0 + b1 - b0) * length:
        fq, xq, sq = _lay([f, x], offset, width, 3)
        np.multiply(xq, xq, out=sq)
        fa, xa, qa, fb, xb, qb = fq[:la], xq[:la], sq[:la], fq[sb:], xq[sb:], sq[sb:]
        at = ia * (nu - sb) + jb
        products = (fa @ fb.T, xa @ fb.T, fa @ xb.T, xa @ xb.T, qa @ fb.T, fa @ qb.T)
        return _pearson(*(np.take(p, at) for p in products))
    # f = w - m, the window indicator (all the columns, on the row's dates) less the few missing days: a row's
    # sum over the days it shares with another is its total, less its sums outside the other's window (the
    # first or last days, as many as the gap between their dates) and on the other's missing days
    laid, on_missing = _laid_block(f, x, offset)
    # per pair: a's f, x, x^2 and b's x, x^2 over the days the two share, each the rest of the total outside
    # the other's window (at the gap) less the sums on the other's missing days; each a look-up at one index
    # per pair into a flat view that starts at the quantity
    n, steps = len(rows.order), rows.rest.shape[1]
    # a gap of the whole estimation window or more leaves none of a row's days in the other's window: its
    # rest stops there (at nothing)
    outside = np.minimum(gap, steps - 1) * n
    a_side = (a0 + ia + outside, pb * (3 * nu) + ia)  # a's sums: on b's missing days
    b_side = (a0 + pb + outside, ia * (3 * nu) + pb)
    rest, on_missing = rows.rest.ravel(), on_missing.ravel()
    sums, taken = np.empty((5, len(ia))), np.empty(len(ia))
    for k, (quantity, (at_rest, at_missing)) in enumerate(zip([0, 1, 2, 1, 2], [a_side] * 3 + [b_side] * 2)):
        _take(rest[k * steps * n :], at_rest, sums[k])
        sums[k] -= _take(on_missing[quantity * nu :], at_missing, taken)
    return _pearson(sums[0], sums[1], sums[3], _banded_cross(laid[:, 1], offset, length, ia, pb), sums[2], sums[4])


#: rows of a chunk per product of :func:`_banded_cross`
CROSS_BAND = 24


def _banded_cross(xs: np.ndarray, offset: np.ndarray, length: int, ia: np.ndarray, pb: np.ndarray) -> np.ndarray:
    """The cross products of the pairs (rows ``ia``, ``pb``) of rows laid on a calendar (W, n) from day
    ``offset``, pairs sorted by ``ia`` with ``pb`` rising in each row: (P,).  One product per band of
    :data:`CROSS_BAND` earlier rows, with the rows they pair with, on the days the pairs can share (from the
    first partner's date to the band's last window end): the block of every earlier row against every
    later one spends about half its products on pairs further apart than the reach."""
    cross = np.empty(len(ia))
    if not len(ia):
        return cross
    cuts = np.append(np.searchsorted(ia, np.arange(0, int(ia[-1]) + 1, CROSS_BAND)), len(ia))
    for p0, p1 in zip(cuts[:-1], cuts[1:]):
        if p0 == p1:
            continue
        i0, i1, j0, j1 = int(ia[p0]), int(ia[p1 - 1]) + 1, int(pb[p0]), int(pb[p1 - 1]) + 1
        days = slice(int(offset[j0]), int(offset[i1 - 1]) + length)
        block = xs[days, i0:i1].T @ xs[days, j0:j1]
        _take(block, (ia[p0:p1] - i0) * (j1 - j0) + pb[p0:p1] - j0, cross[p0:p1])
    return cross


def _laid_block(f: np.ndarray, x: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows (their days ``f`` and residuals ``x``, (n, L)) laid on the calendar from day ``offset``, f, x,
    x^2 as (W, 3, n), and the sums of f, x, x^2 of every row on the missing days of every row (row missing,
    quantity, row summed), (n, 3 n)."""
    nu, length = x.shape
    width = int(offset[-1]) + length
    q = _lay_by_day([f, x], offset, width)
    np.square(q[:, 1], out=q[:, 2])  # x x: 1.5x faster than np.multiply on this strided view (numpy 2.4)
    missing_rows, missing_cols = np.divmod(np.flatnonzero(~f), length)
    pointer = np.searchsorted(missing_rows, np.arange(nu + 1))
    return q, _on_missing(q.reshape(width, 3 * nu), missing_cols + offset[missing_rows], pointer)


def _cluster_correlations(rows: _Rows, bounds: tuple[int, int], out: np.ndarray) -> None:
    """:func:`_correlations` of every pair of a same-day cluster, the sorted positions ``bounds``, into ``out``
    (s, s), symmetric: a pair's at [a, b] and [b, a] (the same up to the rounding of the cross products).
    No day of one lies outside the other's window, so each sum is the total less the sum on the other's
    missing days, taken as (s, s) blocks rather than pair by pair (:func:`_symmetric_pearson`); a cluster
    missing more than :data:`DENSE_MISSING` of its days takes the four dense products of
    :func:`_masked_correlations` instead."""
    a0, a1 = bounds
    s = a1 - a0
    members = rows.order[a0:a1]
    f, x = rows.finite[members], rows.values[members]
    m, length = rows.missing, x.shape[1]
    if m[a1] - m[a0] > DENSE_MISSING * s * length:  # the four dense products of the small clusters' batches
        out[...] = _masked_correlations(x[None], f[None])[0]
        return
    # f, x and x^2 by day (L, 3, s), for the sparse product (:func:`_laid_block` without the calendar: one
    # date); the squares taken on the rows, then laid (twice as fast as on the laid view)
    q = _lay_by_day((f, x, x * x), np.zeros(s, dtype=np.intp), length)
    # every row's (a) sums of f, x, x^2 on each row's (b) missing days, [b, quantity, a]; rows.missing, the
    # missing days before each position, is their row pointer
    cols = np.flatnonzero(~f) % length
    on_missing = _on_missing(q.reshape(length, 3 * s), cols, m[a0 : a1 + 1]).reshape(s, 3, s)
    np.subtract(rows.totals[:, a0:a1], on_missing, out=on_missing)  # a's on the days it shares with b
    n, sums, squares = on_missing.transpose(1, 0, 2)
    _symmetric_pearson(n, sums, squares, x @ x.T, out)


def _symmetric_pearson(
    n: np.ndarray, sums: np.ndarray, squares: np.ndarray, cross: np.ndarray, out: np.ndarray
) -> None:
    """:func:`_pearson` of every pair of a block of rows, (s, s), from ``sums`` and ``squares`` of row a on the
    days it shares with row b at [b, a], ``n`` those days (the same both ways round) and the ``cross``
    products at [a, b]: b's sums for the pair are at [a, b], so each variance is taken once, for both pairs
    it is in (the same operations on the same numbers as :func:`_pearson`'s).  The pair (a, b)'s correlation
    is written at [b, a] of ``out``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        var = squares - sums * sums / n
        cov = cross.T - sums * sums.T / n
        # a pair with too few days or a variance not above 0 is NaN (through the product of the variances)
        np.copyto(var, np.nan, where=(n < MIN_OVERLAP) | ~(var > 0))
        both = var * var.T
        np.divide(cov, np.sqrt(both, out=both), out=out)


def _chunk_pairs(rows: _Rows, bounds: tuple[int, int], start: np.ndarray, out: tuple[np.ndarray, ...]) -> None:
    """The pairs of the sorted positions ``bounds`` with the later positions in reach (see :func:`_near_pairs`),
    in the order of the earlier position, then the later, written into their part of ``out``: pairs
    ``start[i]`` to ``start[i + 1]`` are those of position i."""
    a0, a1 = bounds
    partner = rows.partner[a0:a1]
    b0, b1 = int(partner[rows.has[a0:a1]].min()), int(rows.reach_end[a1 - 1])
    count = np.diff(start[a0 : a1 + 1])
    ia = np.repeat(np.arange(a1 - a0), count)
    jb = np.arange(len(ia)) + np.repeat(partner - b0 - (start[a0:a1] - start[a0]), count)
    j = b0 + jb
    first, second, group, gap, rho = (column[start[a0] : start[a1]] for column in out)
    # the earlier position's row and date repeated over its pairs (a copy, not a look-up per pair)
    first[:] = np.repeat(rows.order[a0:a1], count)
    _take(rows.order, j, second)
    group[:] = rows.group[a0]
    _take(rows.day, j, gap)
    gap -= np.repeat(rows.day[a0:a1], count)
    rho[:] = _correlations(rows, (a0, a1), (b0, b1), ia, jb, gap)


def _near_pairs(rows: _Rows):
    r"""Every pair of firm-events of one group whose day-0 sessions are 1 to ``reach`` - 1 apart, or on one
    date in a same-day cluster of fewer than :data:`BIG_CLUSTER` in a group with such pairs (the small
    clusters of a group without are :func:`_same_day_pairs`'), with the correlation of their residuals
    (:class:`_Rows`) on common calendar days.

    Returns the earlier and later rows (of the fit; on one date, the first and second in the sort), the group,
    the gap in sessions and the correlation, flat (P,).  Firm-events sorted by group and date are taken
    :data:`PAIR_CHUNK` at a time with the later ones they pair with, laid on the calendar span they cover
    (:func:`_correlations`): a loop over chunks, never over firm-events or pairs.

    Notes
    -----
    A pair's correlation needs six sums over the days both have: the count, the two sums, the two sums of
    squares and the cross product.  With the finite mask of a row written :math:`f = w - m`, its window
    :math:`w` (every estimation column, on its dates) less its few missing days :math:`m`, the sums of row
    :math:`a` over the days it shares with :math:`b` are

    .. math::

        \sum_t q_{at} f_{bt} = \sum_t q_{at} - \sum_{t \notin w_b} q_{at} - \sum_t q_{at} m_{bt},
        \qquad q \in \{f, x, x^2\},

    the row's total, less its first (or last) :math:`d_b - d_a` days (running sums) and a sparse product
    with the other's missing days; only the cross product :math:`\sum_t x_{at} x_{bt}` is a dense product,
    taken in bands of :data:`CROSS_BAND` earlier rows against the rows they pair with (:func:`_banded_cross`).
    These sums are taken at the pairs used only (about half of a chunk's block).  A chunk whose rows miss
    more than :data:`DENSE_MISSING` of their days takes the six dense products.
    """
    starts = np.union1d(np.arange(0, len(rows.day), PAIR_CHUNK), np.flatnonzero(np.diff(rows.group)) + 1)
    chunks = [(a, b) for a, b in zip(starts, np.append(starts[1:], len(rows.day))) if rows.has[a:b].any()]
    start = np.zeros(len(rows.day) + 1, dtype=np.int64)  # the pairs of each position, in position order
    np.cumsum(rows.reach_end - rows.partner, out=start[1:])
    out = tuple(
        np.empty(start[-1], dtype=dtype) for dtype in [rows.order.dtype] * 2 + [rows.group.dtype, rows.day.dtype, float]
    )
    # the chunks are independent: on threads (numpy releases the GIL in the products), each writing its part
    thread_map(lambda bounds: _chunk_pairs(rows, bounds, start, out), chunks)
    return out


def _same_day_pairs(rows: _Rows) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]]:
    """Same-day clusters of :class:`_Rows` (group and date alike) that are not near pairs 0 sessions apart:
    those of :data:`BIG_CLUSTER` or more firm-events, one at a time, and the smaller ones of groups without
    pairs on different dates, four products per batch of clusters of one size (:func:`_masked_correlations`).
    One batch per cluster size and kind, its blocks whole as a window sums them (:func:`_same_day_sums`: two
    products per batch, not a look-up per pair): group (B,), members (B, s) as rows of the fit, the
    correlations of every two members (B, s, s), symmetric, 0 where not estimated and on the diagonal, and
    where they are estimated (:func:`_zero_unestimated`)."""
    starts = rows.clusters
    sizes = np.diff(np.append(starts, len(rows.group)))
    # a small cluster of two or more whose first position pairs with no later one in its own cluster
    small = np.flatnonzero((sizes >= 2) & (sizes < BIG_CLUSTER) & (rows.partner[starts] != starts + 1))
    batches = []
    for size in np.unique(sizes[small]).tolist():
        these = small[sizes[small] == size]
        members = rows.order[starts[these, None] + np.arange(size)]  # (B, s)
        r = _masked_correlations(rows.values[members], rows.finite[members])
        batches.append((rows.group[starts[these]], members, r, _zero_unestimated(r)))

    def big_cluster(task: tuple[int, np.ndarray]) -> np.ndarray | None:
        start, out = task
        members = rows.order[start : start + len(out)]
        mask = rows.finite[members]
        if (mask == mask[:1]).all():  # the same missing days (or none): centred products, no sums per pair
            out[...] = _same_mask_correlations(rows.values[members][None], mask[None, :1])[0]
        else:
            _cluster_correlations(rows, (start, start + len(out)), out)
        return _zero_unestimated(out)  # in cache, just written

    # the big clusters one at a time, each into its block of the batch of its size
    at = np.flatnonzero(sizes >= BIG_CLUSTER)  # the few big clusters, found without a loop over all
    tasks: list[tuple[int, np.ndarray]] = []
    big = []
    for size in np.unique(sizes[at]).tolist():
        these = at[sizes[at] == size]
        r = np.empty((len(these), size, size))
        tasks += zip(starts[these].tolist(), r)
        big.append((rows.group[starts[these]], rows.order[starts[these, None] + np.arange(size)], r))
    estimated = iter(thread_map(big_cluster, tasks))
    for group, members, r in big:
        masks = [next(estimated) for _ in range(len(r))]
        if all(m is None for m in masks):
            batches.append((group, members, r, None))
        else:
            everywhere = 1.0 - np.eye(r.shape[1])
            batches.append((group, members, r, np.stack([everywhere if m is None else m[0] for m in masks])))
    return batches


def _zero_unestimated(r: np.ndarray) -> np.ndarray | None:
    """In place on correlation blocks (s, s) or (B, s, s) with NaN where not estimated: 0 there and on the
    diagonal (the blocks' sums then run over the estimated pairs alone).  Returns where rho is estimated off
    the diagonal, 1 or 0 (B, s, s), or None when it is everywhere (rho is estimated for every pair of real
    data).  A pair counts as estimated only when both its entries are, so that u'Eu / 2 counts whole pairs
    whatever wrote the block (the paths of :func:`_same_day_pairs` write NaN symmetrically)."""
    size = r.shape[-1]
    r = r.reshape(-1, size, size)  # a view: the same shape, or one axis added
    estimated = np.isfinite(r)
    estimated &= np.swapaxes(estimated, 1, 2)
    diagonal = np.arange(size)
    estimated[:, diagonal, diagonal] = False
    np.copyto(r, 0.0, where=~estimated)
    return None if np.count_nonzero(estimated) == r.size - r.shape[0] * size else estimated.astype(float)


_SPREAD_OUT = (
    "kp tests adjust for the cross-correlation of firm-events whose event windows share calendar days; "
    "these firm-events have none (spread-out dates), so use patell or bmp"
)


def _average_correlation(inp: Inputs):
    """rbar, pairs used and the reason it is NaN, per group (computed once per :class:`Inputs`)."""
    return inp.once("rbar", lambda: _estimate_correlation(inp))


class _PairCorrelations(NamedTuple):
    """Every pair of firm-events whose event windows can share calendar days (same group, day-0 sessions 0 to
    ``reach`` - 1 apart), with what every window's rbar takes from its correlation.  The near pairs flat (P,):
    rows of the fit, gap in sessions, slot and estimated rho (below); the pairs of the same-day clusters of
    :func:`_same_day_pairs` as their (s, s) blocks, which a window sums whole (:func:`_same_day_sums`): not
    flattened into their s (s - 1) / 2 pairs with a group and gap each, and gathered pair by pair in every
    window.  A pair's correlation does not depend on the tested window or on which other firm-events it uses,
    so this is computed once per fit and grouping, over all firm-events, and each window takes the pairs it
    uses.
    """

    reach: int
    first: np.ndarray
    second: np.ndarray
    gap: np.ndarray
    # what every window's rbar takes from the pairs (:func:`_estimate_correlation`), made once: the pair's slot
    # by group and gap (stride ``reach``), twice and plus 1 if its rho is estimated; rho with 0 for NaN; and
    # the largest gap (-1 without pairs)
    slot: np.ndarray
    estimated_rho: np.ndarray
    widest: int
    clusters: list  # (group (B,), members (B, s), rho (B, s, s), estimated (B, s, s) or None): _same_day_pairs

    @classmethod
    def of(cls, reach: int, first, second, group, gap, rho, clusters: list) -> _PairCorrelations:
        """From the columns of :func:`_near_pairs` and the batches of :func:`_same_day_pairs`, consuming
        ``group`` and ``rho``: the slots are made in the group's array and the estimated rho in rho's, in
        place (two fewer (P,) arrays of fresh memory, which the first summary pays for page by page: about
        4 ms at 900,000 pairs)."""
        finite = np.isfinite(rho)
        slot = group  # 2 (group reach + gap) + finite, int64 as the group ids
        slot *= reach
        slot += gap
        slot *= 2
        slot += finite
        np.copyto(rho, 0.0, where=~finite)
        return cls(reach, first, second, gap, slot, rho, int(gap.max(initial=-1)), clusters)


def _same_day_sums(clusters: list, used: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group, over the pairs of same-day clusters (:func:`_same_day_pairs`) whose two firm-events are
    ``used``: the pairs, those with an estimated rho and the sum of their rho, (3, n_groups).  With u the
    cluster's used members (0/1), the sum over its pairs i < j of a symmetric block with a zero diagonal is
    u' A u / 2: two products per block."""
    out = np.zeros((3, n_groups))
    for group, members, rho, estimated in clusters:
        u = used[members].astype(float)  # (B, s)
        k = u.sum(axis=1)
        pairs = k * (k - 1) / 2
        for row, sums in enumerate(
            (pairs, pairs if estimated is None else _half_form(estimated, u), _half_form(rho, u))
        ):
            out[row] += np.bincount(group, sums, minlength=n_groups)
    return out


def _half_form(a: np.ndarray, u: np.ndarray) -> np.ndarray:
    """u' A u / 2 for each block of a stack (B, s, s) and its vector (B, s): (B,)."""
    return np.einsum("bi,bi->b", u, (a @ u[:, :, None])[:, :, 0]) / 2


def _pair_correlations(inp: Inputs) -> _PairCorrelations:
    """:class:`_PairCorrelations` of the fit and grouping, cached on the fit (one grouping per fit in practice)."""
    lo, hi = inp.fit.event_window
    reach = hi - lo + 1  # a tested window is never longer than the event window
    cache = inp.fit._cache.setdefault("inference:pair_correlations", {})
    key = inp.groups.ids.tobytes()
    with inp.fit.lock("inference:pair_correlations"):
        if key not in cache or cache[key].reach < inp.length:
            pairs = _all_pair_correlations(inp, reach)
            cache.clear()
            cache[key] = pairs
        return cache[key]


def _all_pair_correlations(inp: Inputs, reach: int) -> _PairCorrelations:
    values, finite = _estimation_days(inp)  # shared with brown_warner: no second (N, L) copy
    rows = _sorted_rows(values, finite, inp.groups.ids, np.asarray(inp.fit.day0, dtype=np.int64), reach)
    first, second, group, gap, rho = _near_pairs(rows)
    return _PairCorrelations.of(reach, first, second, group, gap, rho, _same_day_pairs(rows))


def _estimate_correlation(inp: Inputs):
    groups, used, length = inp.groups, inp.used, inp.length
    pairs = _pair_correlations(inp)
    # per group and gap in sessions (0: same date): pairs, estimated pairs and the sum of their rho, over the
    # pairs on dates closer than the window: all of them when none is as far apart as the window is long, else
    # a gather
    near = slice(None) if length > pairs.widest else np.flatnonzero(pairs.gap < length)
    take = used[pairs.first[near]] & used[pairs.second[near]]
    # the counts and sums of the pairs taken by slot (the others on a spare one), then by group and gap; a
    # slot's rho summed in the pairs' order: the same sum as one over its group and gap with 0 for the others
    size = groups.n * pairs.reach
    slot = np.where(take, pairs.slot[near], 2 * size)
    by_slot = [
        np.bincount(slot, w, minlength=2 * size + 1)[:-1].reshape(groups.n, pairs.reach, 2)[:, :length]
        for w in (None, pairs.estimated_rho[near])
    ]
    counts, estimated = by_slot[0].sum(axis=2, dtype=float), by_slot[0][..., 1].astype(float)
    # weight (L - gap) / L: the share of the tested window the two have in common
    weight = (length - np.arange(length)) / length
    by_group = [np.ascontiguousarray(v, dtype=float) for v in (counts, estimated, by_slot[1][..., 1])]
    if pairs.clusters:  # the same-day clusters' pairs, 0 sessions apart
        for v, sums in zip(by_group, _same_day_sums(pairs.clusters, used, groups.n)):
            v[:, 0] += sums
    weight_all, weight_est, weighted = (v @ weight for v in by_group)
    rho_count, rho_sum = by_group[1].sum(axis=1), by_group[2].sum(axis=1)
    n = inp.n_used.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        imputed = (weight_all - weight_est) * rho_sum / np.maximum(rho_count, 1)
        rbar = (weighted + imputed) / (n * (n - 1) / 2)
    reason = np.full(groups.n, "", dtype=object)
    reason[rho_count == 0] = (
        f"cannot estimate the cross-correlation: no pair of firm-events with overlapping event windows shares "
        f"{MIN_OVERLAP} estimation days"
    )
    reason[weight_all == 0] = _SPREAD_OUT
    reason[n < 2] = "fewer than 2 firm-events"
    rbar[reason != ""] = np.nan
    return rbar, rho_count.astype(np.int64), reason


def average_correlation(fit, window: tuple[int, int]) -> float:
    r"""The average cross-correlation :math:`\bar r` that :func:`kp_bmp` and :func:`kp_patell` use.

    Returns NaN when it cannot be estimated (no firm-events whose event windows share calendar days, or no
    pair with :data:`MIN_OVERLAP` common estimation days).

    Notes
    -----
    Kolari & Pynnönen (2010) estimate :math:`\bar r` as the average sample correlation of the firm-events'
    estimation-window residuals.  For firm-events on different dates the abnormal returns of the tested
    windows are uncorrelated even when their estimation windows overlap, so each pair's correlation is
    weighted by the share of the tested window the two have in common in calendar time:

    .. math::

        \bar r = \frac{2}{N(N-1)}\sum_{i<j} \frac{o_{ij}}{L}\,\hat\rho_{ij}, \qquad
        o_{ij} = \max\bigl(0,\ L-|d_i-d_j|\bigr),

    where :math:`d_i` is firm-event :math:`i`'s day-0 session, :math:`L` the window length and
    :math:`\hat\rho_{ij}` the Pearson correlation of the two residual series on their common calendar days
    (at least :data:`MIN_OVERLAP`; a pair with :math:`o_{ij}>0` but fewer common days gets the mean of the
    estimated :math:`\hat\rho`).  When all firm-events share one date this is exactly Kolari & Pynnönen's
    average correlation; :math:`o_{ij}/L` is the correlation of two CARs whose windows overlap on
    :math:`o_{ij}` of :math:`L` independent days.

    References
    ----------
    Kolari, J. W., & Pynnönen, S. (2010). Event study testing with cross-sectional correlation of abnormal
    returns. *Review of Financial Studies*, 23(11), 3996-4025.
    """
    return float(_average_correlation(Inputs(fit, window))[0][0])


def _kp(inp: Inputs, kind: str, rbar=None) -> Batch:
    # a fresh copy of the base test's batch, its reasons naming this test ("kp_bmp is a cross-sectional ...")
    batch = _bmp(inp, name="kp_bmp") if kind == "bmp" else _patell(inp, name="kp_patell")
    n = inp.n_used.astype(float)
    if rbar is None:
        r, pairs, reason = _average_correlation(inp)
    else:
        r = np.full(inp.groups.n, float(rbar))
        pairs, reason = np.zeros(inp.groups.n, dtype=np.int64), np.full(inp.groups.n, "", dtype=object)
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = 1.0 + (n - 1.0) * r
        factor = np.sqrt((1.0 - r) / denom) if kind == "bmp" else np.sqrt(1.0 / denom)
    batch.stat = batch.stat * factor
    batch.pvalue = p_t(batch.stat, n - 1) if kind == "bmp" else p_norm(batch.stat)
    batch.fail(~np.isfinite(r), reason)
    batch.fail(~(denom > 0), "the estimated average correlation is below -1/(N-1)")
    texts = np.array(
        [f"rbar = {x:.4f} " + ("(given)" if rbar is not None else f"from {k} pairs") for x, k in zip(r, pairs)],
        dtype=object,
    )
    batch.caveat(np.isfinite(r), texts)
    return batch.finish()


def kp_patell(fit, window: tuple[int, int], *, rbar: float | None = None) -> TestResult:
    r"""Patell's Z adjusted for cross-sectional correlation (Kolari & Pynnönen 2010).

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)
    rbar : float, optional
        A known average correlation; estimated with :func:`average_correlation` by default.

    Returns
    -------
    TestResult
        Invalid when no two firm-events share calendar days of the tested window (spread-out dates): the
        correlation then plays no role and :func:`patell` applies.

    Notes
    -----
    With standardized CARs of (about) unit variance and average pairwise correlation :math:`\bar r`,
    :math:`\operatorname{Var}(\sum_i SCAR_i) = N\bigl(1+(N-1)\bar r\bigr)` instead of :math:`N`, so

    .. math::

        Z_{KP} = Z_{Patell}\,\sqrt{\frac{1}{1+(N-1)\bar r}} \sim N(0,1),

    with :math:`Z_{Patell}` of :func:`patell`, :math:`N` the firm-events and :math:`\bar r` from
    :func:`average_correlation`.  Unlike :func:`kp_bmp` there is no :math:`(1-\bar r)` factor: Patell's
    variance is the time-series one, which the correlation does not bias (Kolari & Pynnönen 2010,
    section 2).  With :math:`\bar r=0` it equals :func:`patell`.

    References
    ----------
    Kolari, J. W., & Pynnönen, S. (2010). Event study testing with cross-sectional correlation of abnormal
    returns. *Review of Financial Studies*, 23(11), 3996-4025.
    """
    return single(_kp(Inputs(fit, window), "patell", rbar), "kp_patell", window)


def kp_bmp(fit, window: tuple[int, int], *, rbar: float | None = None) -> TestResult:
    r"""The BMP test adjusted for cross-sectional correlation (Kolari & Pynnönen 2010).

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)
    rbar : float, optional
        A known average correlation; estimated with :func:`average_correlation` by default.

    Returns
    -------
    TestResult
        Invalid when no two firm-events share calendar days of the tested window (spread-out dates): the
        correlation then plays no role and :func:`bmp` applies.

    Notes
    -----
    Cross-correlation :math:`\bar r` inflates the variance of the mean standardized CAR by
    :math:`1+(N-1)\bar r` and biases the cross-sectional variance down by :math:`1-\bar r`, so

    .. math::

        t_{KP} = t_{BMP}\,\sqrt{\frac{1-\bar r}{1+(N-1)\bar r}} \sim t(N-1),

    with :math:`t_{BMP}` of :func:`bmp`, :math:`N` the firm-events and :math:`\bar r` from
    :func:`average_correlation` (the estimation-window residual correlations of firm-events sharing event
    days).  With :math:`\bar r=0` it equals :func:`bmp`.

    References
    ----------
    Kolari, J. W., & Pynnönen, S. (2010). Event study testing with cross-sectional correlation of abnormal
    returns. *Review of Financial Studies*, 23(11), 3996-4025.
    """
    return single(_kp(Inputs(fit, window), "bmp", rbar), "kp_bmp", window)


_KP_REF = "Kolari & Pynnönen (2010)"
register(TestSpec("ar_t", ar_t, "single", "t of one firm-event's one-day abnormal return", "MacKinlay (1997)", _ar_t))
register(
    TestSpec(
        "car_t", car_t, "single", "t of one firm-event's CAR, prediction-error variance", "MacKinlay (1997)", _car_t
    )
)
register(
    TestSpec(
        "csect_t", csect_t, "cross-section", "cross-sectional t of the mean CAR", "Brown & Warner (1985)", _csect_t
    )
)
register(
    TestSpec(
        "brown_warner",
        brown_warner,
        "cross-section",
        "mean CAR over the estimation-window standard deviation of the average residual",
        "Brown & Warner (1985)",
        _brown_warner,
    )
)
register(TestSpec("patell", patell, "cross-section", "sum of standardized CARs", "Patell (1976)", _patell))
register(
    TestSpec(
        "bmp",
        bmp,
        "cross-section",
        "cross-sectional t of standardized CARs",
        "Boehmer, Musumeci & Poulsen (1991)",
        _bmp,
    )
)
register(
    TestSpec(
        "kp_patell",
        kp_patell,
        "cross-section",
        "Patell's Z adjusted for cross-correlation",
        _KP_REF,
        lambda inp: _kp(inp, "patell"),
    )
)
register(
    TestSpec(
        "kp_bmp",
        kp_bmp,
        "cross-section",
        "BMP's t adjusted for cross-correlation",
        _KP_REF,
        lambda inp: _kp(inp, "bmp"),
    )
)

state_nulls(
    {
        "ar_t": "the firm-event's abnormal return on the day is zero",
        "car_t": "the firm-event's CAR over the window is zero",
        "csect_t": "the mean CAR is zero",
        "brown_warner": "the mean CAR is zero",
        "patell": "the mean standardized CAR is zero",
        "bmp": "the mean standardized CAR is zero",
        "kp_patell": "the mean standardized CAR is zero",
        "kp_bmp": "the mean standardized CAR is zero",
    }
)
# the pair correlations: the longest step of a summary on a design whose event windows overlap
share(("kp_bmp", "kp_patell"), _pair_correlations)
