r"""Resampling tests: null distributions taken from the estimation window itself, and the bootstrap.

Notation as in :mod:`eventstudy.inference.parametric`: firm-event :math:`i=1,\dots,N`, tested window of
:math:`L` days, :math:`CAR_i` its cumulative abnormal return, :math:`\hat\varepsilon_{it}` the in-sample
residuals of the estimation window.  The *runs* of a firm-event are the sums of its residuals over every
:math:`L` consecutive relative days of the estimation window on which it has a residual,

.. math::

    CAR_{ij} = \sum_{t=s_j}^{s_j+L-1}\hat\varepsilon_{it},\qquad j=1,\dots,M,

the comparison CARs of :func:`~eventstudy.inference.permutation` (runs that touch a session passed in
``exclude``, say a flagged market crash, are left out).  Runs are aligned in *relative* time: run
:math:`j` starts on the same relative day :math:`s_j` for every firm-event, so firm-events that share day 0
share the calendar days of every run and their cross-correlation is kept.

Equal-tailed p-values count each tail separately, with the observed statistic counted once among the
:math:`M` draws (the ``+1``),

.. math::

    p = \min\Bigl(1,\ 2\min\Bigl(\frac{1+\#\{S_j\le S\}}{1+M},\ \frac{1+\#\{S_j\ge S\}}{1+M}\Bigr)\Bigr),

and the note says which tail the statistic fell in.
"""

from __future__ import annotations

import numpy as np

from eventstudy.foundation.threads import CACHE_CELLS, row_blocks, thread_map
from eventstudy.foundation.validation import check_choice
from eventstudy.inference.base import (
    Batch,
    Inputs,
    TestResult,
    TestSpec,
    cross_section_checks,
    register,
    single,
    state_nulls,
)
from eventstudy.inference.nonparametric import (
    MIN_PERMUTATION_WINDOWS,
    RunTallies,
    _estimation_cars,
    _running_sums,
    _whole_runs,
    labels,
    own_runs_test,
    tail_notes,
)
from eventstudy.inference.parametric import p_t

__all__ = [
    "pseudo_event",
    "pseudo_event_t",
    "pseudo_event_mean",
    "sq",
    "skew_t",
    "boot_skew_t",
    "equal_tailed_pvalue",
    "PSEUDO_STATISTICS",
    "MIN_PSEUDO_SHARE",
    "BOOTSTRAP_DRAWS",
    "BOOTSTRAP_SEED",
]

#: the pooled statistics :func:`pseudo_event` can rank
PSEUDO_STATISTICS = ("bmp", "csect_t", "mean")
#: a pseudo-event run counts when at least this share of the group's firm-events have it
MIN_PSEUDO_SHARE = 0.9
#: resamples of the Lyon, Barber & Tsai bootstrap
BOOTSTRAP_DRAWS = 1000
#: its seed: the same data give the same p-value
BOOTSTRAP_SEED = 20250513


def equal_tailed_pvalue(stat: np.ndarray, draws: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Equal-tailed resampling p-value of each row's ``stat`` among its ``valid`` ``draws`` (rows, M)."""
    stat = np.asarray(stat, dtype=float)[:, None]
    with np.errstate(invalid="ignore"):
        below = (valid & (draws <= stat)).sum(axis=1)
        above = (valid & (draws >= stat)).sum(axis=1)
    return _equal_tailed(below, above, valid.sum(axis=1))


def _equal_tailed(below: np.ndarray, above: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``2 min(1 + below, 1 + above) / (1 + m)``, at most 1: the equal-tailed p-value from the counts of the
    ``m`` draws at or below and at or above the statistic."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.minimum(2.0 * np.minimum(1.0 + below, 1.0 + above) / (1.0 + m), 1.0)


def _pseudo_draws(inp: Inputs, statistic: str):
    """The pooled statistic on every run, and how many firm-events each run has (memoized per Inputs)."""
    scaled = statistic == "bmp"

    def sums():
        # the sums over firm-events of each run, shared by the statistics that pool the same values
        # (``csect_t`` and ``mean`` both pool the raw CARs; one group's both kinds come from one pass when
        # tests of both kinds run)
        if inp.groups.n == 1:
            both = inp.runs_any(("pseudo_event",)) and inp.runs_any(("pseudo_event_t", "pseudo_event_mean"))
            kinds = (False, True) if both else (scaled,)
            return inp.once(
                ("pseudo_event_study_sums", kinds), lambda: _study_run_sums(inp, _pseudo_scale(inp), kinds)
            )[scaled]
        scale = _pseudo_scale(inp) if scaled else None
        cars, full = _estimation_cars(inp)
        with np.errstate(invalid="ignore", divide="ignore"):
            pseudo = cars if scale is None else cars / scale[:, None]
        ok = inp.used[:, None] & full & np.isfinite(pseudo)
        return _pooled_sums(pseudo, ok, inp.groups)

    def stat():
        n, s1, s2 = inp.once(("pseudo_event_sums", scaled), sums)
        return _pooled_stat(n, s1, s2, statistic)

    return inp.once(("pseudo_event", statistic), stat)


def _pseudo_scale(inp: Inputs) -> np.ndarray:
    """:math:`c_i=\\hat\\sigma_i\\sqrt L`, what BMP's pseudo-event CARs are divided by."""
    return np.sqrt(inp.fit.sigma2 * inp.length)


#: per group, or per run of one group: the count, sum and sum of squares of the values pooled
Sums = tuple[np.ndarray, np.ndarray, np.ndarray]


def _pooled_sums(values: np.ndarray, ok: np.ndarray, groups) -> Sums:
    """Count, sum and sum of squares of ``values`` over the rows ``ok`` of each group."""
    x = np.where(ok, values, 0.0)
    return groups.sum(ok).astype(float), groups.sum(x), groups.sum(x * x)


def _study_run_sums(inp: Inputs, scale: np.ndarray, kinds: tuple[bool, ...] = (False, True)) -> dict[bool, Sums]:
    """:func:`_pooled_sums` of one group's runs over the used firm-events with a CAR on run ``j``, for each of
    ``kinds``: of the CARs ``CAR_ij`` (False) and of ``CAR_ij / scale_i`` (True), in blocks of rows made from the running sums, without the (N, M) arrays of CARs.

    Both kinds come from one pass: the runs' sums, which runs count and their counts are made once per
    block.  Each block is added to the totals so far as one more row on top of it: ``sum(axis=0)`` adds the
    rows of a C-ordered array one after the other, so the sums are those of the whole array, bit for bit
    (the rows left out add zeros).  That pass takes a run as a CAR when all its days have a residual,
    without asking whether ``CAR_ij / scale_i`` is finite: it is for a used firm-event unless its scale is 0
    or NaN or the division overflows, and a quotient that is not finite makes its run's sum not finite, so
    only then are the divided sums taken again, checking each quotient.
    """
    scales = tuple(np.where(inp.used, scale, 1.0) if divided else None for divided in kinds)
    sums = dict(zip(kinds, _run_sums_in_blocks(inp, scales, checked=False)))
    if True in sums and not np.isfinite(sums[True][1]).all():
        (sums[True],) = _run_sums_in_blocks(inp, (scale,), checked=True)
    return sums


def _run_sums_in_blocks(inp: Inputs, scales: tuple, *, checked: bool) -> list[Sums]:
    """:func:`_pooled_sums` of each run's ``CAR_ij / scale_i`` over the firm-events, for each of ``scales``
    (None: the CARs themselves); with ``checked`` (one scale) leaving out the runs whose quotient is not
    finite.  Unchecked, each quotient is taken of the CAR zeroed where its run does not count, so a scale of
    0 or NaN on a firm-event that is not used would only make a sum not finite and send the caller to the
    checked pass, with the same result (:func:`_study_run_sums` puts 1 there).

    Only the runs of :func:`_whole_runs` are summed: the others have no CAR on any row (count and sums 0).
    """
    n, width = inp.null_residuals.shape
    runs = max(width - inp.length + 1, 0)
    count = np.zeros(runs, dtype=np.int64)
    s1, s2 = np.zeros((len(scales), runs)), np.zeros((len(scales), runs))
    whole = _whole_runs(inp, runs)
    m = whole.stop - whole.start
    blocks = row_blocks(n if m > 0 else 0, m, CACHE_CELLS)
    if blocks:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            _add_run_sums(inp, scales, checked, blocks, whole, (count[whole], s1[:, whole], s2[:, whole]))
    counts = count[None].astype(float)
    return [(counts, s1[at, None], s2[at, None]) for at in range(len(scales))]


def _add_run_sums(inp: Inputs, scales: tuple, checked: bool, blocks: list[slice], whole: slice, out) -> None:
    """The block loop of :func:`_run_sums_in_blocks`: adds each block's counts and sums into ``out``
    (counts (M,), sums (scales, M), sums of squares (scales, M)), the totals of the runs ``whole``."""
    res, length, used = inp.null_residuals, inp.length, inp.used
    first, stop = whole.start, whole.stop
    counted, sum1, sum2 = out
    # one set of buffers for every block (fresh arrays per block cost more than the arithmetic in them)
    step, m = blocks[0].stop, stop - first
    xs = np.empty((len(scales), step + 1, m))  # per scale, row 0: the totals so far
    ok = np.empty((step, m), dtype=bool)
    total = days = gaps = np.empty((0, 0))
    if length > 1:
        total, days = _running_sums(inp)
        gaps = np.empty((step, m), dtype=days.dtype)
    # a block's counts in 16 bits when they fit: numpy adds bytes into 16 bits ~3x faster than into 64
    small = np.uint16 if step < 1 << 16 else np.int64
    for rows in blocks:
        k = rows.stop - rows.start
        body, good = xs[0, 1 : k + 1], ok[:k]
        if length == 1:  # a one-day run is the residual
            np.copyto(body, res[rows, whole])
        else:  # the runs' sums, and whether all their days have a residual (_run_sums)
            np.subtract(total[rows, first + length : stop + length], total[rows, whole], out=body)
            np.subtract(days[rows, first + length : stop + length], days[rows, whole], out=gaps[:k])
            np.equal(gaps[:k], length, out=good)
        if checked:
            np.divide(body, scales[0][rows, None], out=body)
        if length == 1:
            np.isfinite(body, out=good)
        elif checked:
            good &= np.isfinite(body)
        skip = ~used[rows]
        if skip.any():
            good[skip] = False
        counted += np.add.reduce(good.view(np.uint8), axis=0, dtype=small)
        np.copyto(body, 0.0, where=np.logical_not(good, out=good))  # good is read no more in this block
        # the first scale last: the others divide its block before it is squared
        for at in reversed(range(len(scales))):
            block, scale = xs[at, : k + 1], scales[at]
            if scale is not None and not checked:
                np.divide(body, scale[rows, None], out=block[1:])
            block[0] = sum1[at]
            sum1[at] = block.sum(axis=0)
            np.multiply(block[1:], block[1:], out=block[1:])
            block[0] = sum2[at]
            sum2[at] = block.sum(axis=0)


def _pooled_stat(n: np.ndarray, s1: np.ndarray, s2: np.ndarray, statistic: str):
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        if statistic == "mean":
            return mean, n
        var = np.maximum(s2 - n * mean * mean, 0.0) / (n - 1.0)
        return mean / np.sqrt(var / n), n


def _pooled(values: np.ndarray, ok: np.ndarray, groups, statistic: str):
    """The pooled statistic of ``values`` over the rows ``ok`` of each group; ``values`` (N,) or (N, M).

    One pass over the values (sums of x and x^2): CARs are small and of one scale, so the cancellation in
    ``s2 - n mean^2`` costs no precision that matters here (the loop in tests/reference agrees to 1e-10).
    """
    return _pooled_stat(*_pooled_sums(values, ok, groups), statistic)


def _pseudo_event(inp: Inputs, statistic: str = "bmp", name: str = "pseudo_event") -> Batch:
    groups, used = inp.groups, inp.used
    event = inp.scar if statistic == "bmp" else inp.car
    stat, _ = _pooled(event, used, groups, statistic)
    draws, count = _pseudo_draws(inp, statistic)
    runs = (count >= np.maximum(MIN_PSEUDO_SHARE * inp.n_used[:, None], 2)) & np.isfinite(draws)
    batch = Batch(groups.n)
    batch.stat = stat
    batch.pvalue = equal_tailed_pvalue(stat, draws, runs)
    m = runs.sum(axis=1)
    batch.distribution = labels("empirical ({} pseudo-events)", m)
    batch.draws = lambda k: draws[k][runs[k]]
    cross_section_checks(batch, inp, name)
    batch.fail_each(
        m < MIN_PERMUTATION_WINDOWS,
        m,
        lambda k: (
            f"only {k} estimation-window runs of {inp.length} days shared by {MIN_PSEUDO_SHARE:.0%} of the "
            f"firm-events; {name} needs {MIN_PERMUTATION_WINDOWS}"
        ),
    )
    tail_notes(batch, stat)
    return batch.finish()


def pseudo_event(fit, window: tuple[int, int], *, statistic: str = "bmp", exclude=None) -> TestResult:
    r"""Pooled test whose null distribution is the same statistic on the estimation window's pseudo-events.

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)
    statistic : {"bmp", "csect_t", "mean"}
        The pooled statistic: BMP's t of the standardized CARs (registered as ``pseudo_event``), the
        cross-sectional t of the CARs (``pseudo_event_t``) or the mean CAR (``pseudo_event_mean``).
    exclude : array_like, optional
        Sessions kept out of the null (see :func:`~eventstudy.inference.run_tests`).

    Returns
    -------
    TestResult
        ``distribution`` is ``"empirical (M pseudo-events)"``; invalid with fewer than
        :data:`~eventstudy.inference.MIN_PERMUTATION_WINDOWS` runs.

    Notes
    -----
    Every run :math:`j` of :math:`L` estimation-window days (module docstring) is a fake event window for
    all firm-events at once, and the pooled statistic is recomputed on it (Hein & Westfall 2004; the
    "placebo" inference of Cohn, Johnson, Liu & Wardlaw 2023):

    .. math::

        S_j = g\bigl(CAR_{1j}/c_1,\dots,CAR_{Nj}/c_N\bigr),\qquad
        S = g\bigl(CAR_1/d_1,\dots,CAR_N/d_N\bigr),

    with :math:`g` the mean (``"mean"``, :math:`c_i=d_i=1`), the cross-sectional t
    :math:`\bar x/(s_x/\sqrt N)` (``"csect_t"``, :math:`c_i=d_i=1`) or the same t of standardized CARs
    (``"bmp"``, :math:`d_i=\hat\sigma_{CAR_i}` MacKinlay's prediction-error standard deviation and
    :math:`c_i=\hat\sigma_i\sqrt L` for the in-sample runs).  The p-value is the equal-tailed rank of
    :math:`S` among the :math:`S_j` (module docstring).  Because all firm-events move to the same pseudo
    day together, the null keeps their cross-correlation (same-day clusters), their fat tails and any
    event-day-like volatility of the market; it assumes the event window is exchangeable with the
    estimation window's runs, so an event-induced rise in variance makes it over-reject unless the
    statistic is studentized across firms (``"bmp"``, ``"csect_t"``).  Runs overlap for :math:`L>1`, so
    the :math:`M` draws are not independent; the p-value stays valid under exchangeability but is coarse
    (its smallest value is :math:`2/(M+1)`).  A run counts when at least :data:`MIN_PSEUDO_SHARE` of the
    group's firm-events have residuals on all its days; the others are left out of that run.

    References
    ----------
    Hein, S. E., & Westfall, P. (2004). Improving tests of abnormal returns by bootstrapping the
    multivariate regression model with event parameters. *Journal of Financial Econometrics*, 2(3),
    451-471.

    Cohn, J. B., Johnson, Z., Liu, Z., & Wardlaw, M. I. (2023). Past is prologue: Inference from the cross
    section of returns around an event. Working paper, University of Texas at Austin.
    """
    check_choice("statistic", statistic, PSEUDO_STATISTICS)
    name = {"bmp": "pseudo_event", "csect_t": "pseudo_event_t", "mean": "pseudo_event_mean"}[statistic]
    return single(_pseudo_event(Inputs(fit, window, exclude=exclude, tests=(name,)), statistic, name), name, window)


def _sq(inp: Inputs) -> Batch:
    def pvalue(tallies: RunTallies) -> np.ndarray:
        return _equal_tailed(tallies.below, tallies.above, tallies.windows)

    return own_runs_test(inp, "sq", pvalue)


def sq(fit, window: tuple[int, int], *, exclude=None) -> list[TestResult]:
    r"""Gelbach, Helland & Klick's (2013) sample-quantile test of each firm-event's CAR, equal-tailed.

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)
    exclude : array_like, optional
        Sessions kept out of the comparison CARs (see :func:`~eventstudy.inference.run_tests`).

    Returns
    -------
    list of TestResult
        One per firm-event; the note says which tail :math:`CAR_i` fell in.

    Notes
    -----
    The event CAR is compared with the lower and upper sample quantiles of the firm-event's own
    estimation-window runs :math:`CAR_{ij}` (module docstring) rather than with a normal distribution, so
    fat tails and skewness are the data's own:

    .. math::

        p_i = \min\Bigl(1,\ 2\min\Bigl(\frac{1+\#\{j: CAR_{ij}\le CAR_i\}}{1+M_i},\
        \frac{1+\#\{j: CAR_{ij}\ge CAR_i\}}{1+M_i}\Bigr)\Bigr).

    Rejecting when :math:`p_i\le\alpha` is rejecting when :math:`CAR_i` lies beyond the
    :math:`\alpha/2` or :math:`1-\alpha/2` sample quantile, Gelbach et al.'s SQ test, with the event
    counted among the draws so that the level holds exactly under exchangeability.  Unlike
    :func:`~eventstudy.inference.permutation`, which ranks :math:`|CAR_i|`, each tail gets
    :math:`\alpha/2`: a skewed residual distribution cannot spend the level on one side.  The statistic is
    :math:`CAR_i/s_i` (:math:`s_i` the standard deviation of the runs), shown for the size and sign.
    With :math:`M_i=240` runs the smallest p-value is :math:`2/241\approx0.0083`, so a 1% test rejects
    only beyond every run.  For :math:`L>1` the runs overlap (Gelbach et al. treat one day).

    References
    ----------
    Gelbach, J. B., Helland, E., & Klick, J. (2013). Valid inference in single-firm, single-event studies.
    *American Law and Economics Review*, 15(2), 495-541.
    """
    return _sq(Inputs(fit, window, exclude=exclude)).results("sq", window)


# --------------------------------------------------------------------------------------------------------
# skewness-adjusted t and its bootstrap (Johnson 1978; Hall 1992; Lyon, Barber & Tsai 1999)
# --------------------------------------------------------------------------------------------------------


def _skew_t_stat(x: np.ndarray, centre=0.0, floor=0.0, *, overwrite: bool = False) -> np.ndarray:
    """Johnson's skewness-adjusted t of each row of ``x`` (rows, n), about ``centre`` (rows,) or scalar.

    NaN where the standard deviation is at most ``floor`` (a resample repeating one value).  With
    ``overwrite`` the deviations from the mean are written over ``x`` (a resample's scratch copy).
    """
    n = float(x.shape[-1])  # callers pass finite values only
    with np.errstate(invalid="ignore", divide="ignore"):
        # the sums as row products (one pass each, no elementwise square or cube to sum); each row alone, so
        # a row's bits do not depend on the rows beside it
        mean = np.vecdot(x, np.ones(x.shape[-1])) / n
        dev = np.subtract(x, mean[..., None], out=x if overwrite else None)
        s = np.sqrt(np.vecdot(dev, dev) / (n - 1.0))
        s = np.where(s > floor, s, np.nan)
        gamma = np.vecdot(dev * dev, dev) / (n * s**3)
        ratio = (mean - centre) / s
        return np.sqrt(n) * (ratio + gamma * ratio**2 / 3.0 + gamma / (6.0 * n))


def _resampled_skew_t(sample: np.ndarray, pick: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """:func:`_skew_t_stat` of every resample ``sample[:, pick[b]]`` about the sample mean, (G, B): each
    resample alone, so blocks of them run on threads, each block gathered by ``np.take`` (half the time of
    fancy indexing) into a scratch array that stays in cache.

    The gathered block is laid out (group, resample, draw) in memory, each resample's draws side by side, so
    that the row products along each resample (:func:`_skew_t_stat`) add in the same order (the same bits)
    for any number of groups.
    """
    centre = sample.mean(axis=1)[:, None]
    blocks = row_blocks(len(pick), sample.shape[0] * pick.shape[1], CACHE_CELLS)

    def block(b: slice) -> np.ndarray:
        x = np.take(sample, pick[b], axis=1)  # (G, resamples, n_b)
        return _skew_t_stat(x, centre=centre, floor=floor, overwrite=True)

    return np.concatenate(thread_map(block, blocks), axis=1)


def skew_batch(values: np.ndarray, used: np.ndarray, groups, *, bootstrap: bool) -> Batch:
    """``skew_t`` (or with ``bootstrap`` ``boot_skew_t``) of ``values`` over the ``used`` rows of each group.

    Shared by the CAR tests and :meth:`EventStudyResults.bhar_tests`; groups of equal size are computed in
    one pass.
    """
    batch = Batch(groups.n)
    members = groups.members(used)
    sizes = np.array([len(rows) for rows in members])
    n_draws = np.zeros(groups.n, dtype=np.int64)
    rows = np.zeros(groups.n, dtype=np.int64)
    boot = np.full(groups.n, None, dtype=object)  # per group: its block of draws and its row in it
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    for size in np.unique(sizes[sizes > 2]):  # fewer values have no skewness (and fail below)
        which = np.flatnonzero(sizes == size)
        sample = np.stack([values[members[g]] for g in which])  # (G_s, n)
        t = _skew_t_stat(sample)
        batch.stat[which] = t
        if not bootstrap:
            batch.pvalue[which] = p_t(t, size - 1)
            continue
        size_b = max(3, int(size) // 4)
        # the same resample rows for every group; in 32 bits (the draws of 64, numpy drawing both from the
        # same 32-bit bounded generator below 2**32), half the memory to write and gather from
        small = np.int32 if size < 1 << 31 else np.int64
        pick = rng.integers(0, size, (BOOTSTRAP_DRAWS, size_b), dtype=small)
        # resamples whose spread is below 1e-8 of the sample's repeat one value: no t, dropped
        floor = 1e-8 * sample.std(axis=1, ddof=1)[:, None]
        draws = _resampled_skew_t(sample, pick, floor)  # (G_s, B)
        ok = np.isfinite(draws)
        batch.pvalue[which] = equal_tailed_pvalue(t, np.where(ok, draws, np.nan), ok)
        n_draws[which] = ok.sum(axis=1)
        boot[which] = [(draws, ok)] * len(which)
        rows[which] = np.arange(len(which))
    batch.n[:] = sizes
    if bootstrap:
        batch.distribution = np.array([f"bootstrap ({k} resamples)" for k in n_draws], dtype=object)
        batch.draws = lambda k: boot[k][0][rows[k]][boot[k][1][rows[k]]]
    else:
        batch.distribution = np.array([f"t({max(k - 1, 0)})" for k in sizes], dtype=object)
    # too few firm-events: the callers say so in their own words (cross_section_checks, bhar_tests)
    if bootstrap:
        tail_notes(batch, batch.stat)
    return batch


def _skew(inp: Inputs, bootstrap: bool) -> Batch:
    name = "boot_skew_t" if bootstrap else "skew_t"
    batch = skew_batch(np.where(inp.used, inp.car, np.nan), inp.used, inp.groups, bootstrap=bootstrap)
    cross_section_checks(batch, inp, name)
    return batch.finish()


def skew_t(fit, window: tuple[int, int]) -> TestResult:
    r"""Skewness-adjusted t of the mean CAR (Johnson 1978; Hall 1992; Lyon, Barber & Tsai 1999).

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)

    Returns
    -------
    TestResult

    Notes
    -----
    With :math:`x_i` the :math:`N` CARs (or BHARs, :meth:`EventStudyResults.bhar_tests`),
    :math:`\bar x` their mean, :math:`s` their standard deviation (ddof 1),

    .. math::

        S = \frac{\bar x}{s},\qquad
        \hat\gamma = \frac{\sum_i (x_i-\bar x)^3}{N s^3},\qquad
        t_{sa} = \sqrt N\Bigl(S + \frac{\hat\gamma}{3}S^2 + \frac{\hat\gamma}{6N}\Bigr)\ \dot\sim\ t(N-1).

    Johnson's (1978) modified t removes the first-order bias that skewness puts in the t statistic
    (Hall 1992 derives it from the Edgeworth expansion); Lyon, Barber & Tsai (1999, eq. 5) use it for
    long-run buy-and-hold abnormal returns, whose cross-section is strongly right-skewed.  The
    :math:`t(N-1)` reference is the usual one; its accuracy in small samples is what
    :func:`boot_skew_t` improves.  Independent firm-events are assumed.

    References
    ----------
    Johnson, N. J. (1978). Modified t tests and confidence intervals for asymmetrical populations.
    *Journal of the American Statistical Association*, 73(363), 536-544.

    Hall, P. (1992). On the removal of skewness by transformation. *Journal of the Royal Statistical
    Society B*, 54(1), 221-228.

    Lyon, J. D., Barber, B. M., & Tsai, C.-L. (1999). Improved methods for tests of long-run abnormal stock
    returns. *Journal of Finance*, 54(1), 165-201.
    """
    return single(_skew(Inputs(fit, window), False), "skew_t", window)


def boot_skew_t(fit, window: tuple[int, int]) -> TestResult:
    r"""Lyon, Barber & Tsai's (1999) bootstrapped skewness-adjusted t of the mean CAR.

    Parameters
    ----------
    fit : StackedFit
    window : (int, int)

    Returns
    -------
    TestResult
        ``distribution`` is ``"bootstrap (B resamples)"``; the note says which tail :math:`t_{sa}` hit.

    Notes
    -----
    :math:`t_{sa}` of :func:`skew_t` is referred to its bootstrap distribution: :data:`BOOTSTRAP_DRAWS`
    resamples of :math:`n_b=\max(3,\lfloor N/4\rfloor)` of the :math:`N` values drawn with replacement
    (LBT 1999, section III.B, resample :math:`N/4`), each giving

    .. math::

        t^{b}_{sa} = \sqrt{n_b}\Bigl(S_b + \frac{\hat\gamma_b}{3}S_b^2 + \frac{\hat\gamma_b}{6n_b}\Bigr),
        \qquad S_b = \frac{\bar x_b - \bar x}{s_b},

    centred at the sample mean :math:`\bar x` so the resamples obey the null, with :math:`s_b` and
    :math:`\hat\gamma_b` the resample's standard deviation and skewness.  The p-value is equal-tailed
    (module docstring), as LBT reject below the :math:`\alpha/2` or above the :math:`1-\alpha/2` quantile
    of :math:`t^b_{sa}`.  Resamples with no variation (standard deviation below :math:`10^{-8}s`) are
    dropped.  The draws are seeded
    (:data:`BOOTSTRAP_SEED`), so the same data give the same p-value; the floor of three keeps the
    resample's skewness defined for :math:`N<12`, where LBT's :math:`N/4` would be smaller.

    References
    ----------
    Lyon, J. D., Barber, B. M., & Tsai, C.-L. (1999). Improved methods for tests of long-run abnormal stock
    returns. *Journal of Finance*, 54(1), 165-201.
    """
    return single(_skew(Inputs(fit, window), True), "boot_skew_t", window)


def pseudo_event_t(fit, window: tuple[int, int], *, exclude=None) -> TestResult:
    return pseudo_event(fit, window, statistic="csect_t", exclude=exclude)


def pseudo_event_mean(fit, window: tuple[int, int], *, exclude=None) -> TestResult:
    return pseudo_event(fit, window, statistic="mean", exclude=exclude)


pseudo_event_t.__doc__ = (
    f"""``pseudo_event(fit, window, statistic="csect_t")``: the cross-sectional t.\n{pseudo_event.__doc__}"""
)
pseudo_event_mean.__doc__ = (
    f"""``pseudo_event(fit, window, statistic="mean")``: the mean CAR.\n{pseudo_event.__doc__}"""
)

_HW = "Hein & Westfall (2004); Cohn, Johnson, Liu & Wardlaw (2023)"
for _stat, _name, _function, _what in (
    ("bmp", "pseudo_event", pseudo_event, "BMP's t ranked among the same t on estimation-window pseudo-events"),
    ("csect_t", "pseudo_event_t", pseudo_event_t, "cross-sectional t ranked among estimation-window pseudo-events"),
    ("mean", "pseudo_event_mean", pseudo_event_mean, "mean CAR ranked among estimation-window pseudo-events"),
):
    register(
        TestSpec(
            _name,
            _function,
            "cross-section",
            _what,
            _HW,
            lambda inp, _s=_stat, _n=_name: _pseudo_event(inp, _s, _n),
        )
    )
register(
    TestSpec(
        "sq",
        sq,
        "single",
        "one firm-event's CAR against the lower and upper quantiles of its estimation-window CARs",
        "Gelbach, Helland & Klick (2013)",
        _sq,
    )
)
register(
    TestSpec(
        "skew_t",
        skew_t,
        "cross-section",
        "skewness-adjusted t of the mean CAR",
        "Johnson (1978); Hall (1992); Lyon, Barber & Tsai (1999)",
        lambda inp: _skew(inp, False),
    )
)
register(
    TestSpec(
        "boot_skew_t",
        boot_skew_t,
        "cross-section",
        "bootstrapped skewness-adjusted t of the mean CAR",
        "Lyon, Barber & Tsai (1999)",
        lambda inp: _skew(inp, True),
    )
)
state_nulls(
    {
        "pseudo_event": "the event's pooled statistic is drawn from its distribution on estimation-window days",
        "pseudo_event_t": "the event's pooled statistic is drawn from its distribution on estimation-window days",
        "pseudo_event_mean": "the event's mean CAR is drawn from its distribution on estimation-window days",
        "sq": "the event CAR is drawn from the distribution of the estimation-window CARs",
        "skew_t": "the mean CAR is zero",
        "boot_skew_t": "the mean CAR is zero",
    }
)
