"""Nonparametric tests against plain loops, hand-worked numbers and scipy."""

from __future__ import annotations

import dataclasses
import math

import inference_loops as loops
import numpy as np
import pandas as pd
import pytest
from scipy import __version__ as scipy_version
from scipy import stats

import eventstudy as es
from eventstudy.estimation.models import StackedFit
from eventstudy.estimation.panel import AlignedData
from eventstudy.inference import brown_warner, generalized_sign, permutation, rank, sign, wilcoxon
from eventstudy.inference.base import Inputs
from eventstudy.inference.nonparametric import (
    MIN_PERMUTATION_WINDOWS,
    _count,
    _rows_where_adjacent,
    _run_tallies,
    _running_count,
    _running_sums,
    _shared_ranks,
    _sorted_counts,
    labels,
    row_ranks,
)

WINDOWS = [(0, 0), (-1, 1), (-3, 3), (0, 2)]
RTOL = 1e-10


def raw_fit(y, estimation_window, event_window, day0):
    """A record on ``y`` (sessions x firm-events) with nothing estimated: abnormal returns are the data."""
    n = y.shape[1]
    resid = y[day0 + estimation_window[0] : day0 + estimation_window[1] + 1]
    return StackedFit(
        data=AlignedData.build(y, np.zeros((len(y), 0))),
        day0=np.full(n, day0),
        firm=np.arange(n),
        estimation_window=estimation_window,
        event_window=event_window,
        intercept=False,
        estimated=False,
        params=np.zeros((n, 0)),
        xtx_inv=np.zeros((n, 0, 0)),
        sigma2=np.nanvar(resid, axis=0, ddof=1),
        n_obs=np.isfinite(resid).sum(axis=0),
    )


@pytest.fixture()
def ranked():
    """Five firm-events: residuals -.02, -.01, .01, .02 on days -5..-2, a gap day -1, event ARs on day 0.

    The gap day holds 0.5, larger than everything: it must not be ranked.
    """
    y = np.empty((6, 5))
    y[:4] = np.array([-0.02, -0.01, 0.01, 0.02])[:, None]
    y[4] = 0.5
    y[5] = [0.03, 0.04, 0.05, 0.06, 0.025]
    return raw_fit(y, (-5, -2), (0, 0), day0=5)


# --------------------------------------------------------------------------------------------------------
# permutation
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("window", WINDOWS)
def test_permutation_matches_the_loop(study, window):
    fit, records = study
    for result, rec in zip(permutation(fit, window), records):
        if not math.isfinite(loops.car(rec, window)):
            assert not result.valid
            continue
        stat, p, m = loops.permutation(rec, window)
        np.testing.assert_allclose([result.stat, result.pvalue], [stat, p], rtol=RTOL)
        assert result.distribution == f"empirical ({m} windows)"


def test_permutation_hand_worked():
    # residuals -0.012, -0.011, ..., 0.011 (24 days); event AR 0.0115: only |-0.012| >= 0.0115,
    # so p = (1 + 1) / (1 + 24); sd of 24 consecutive steps of 0.001 is 0.001 * sqrt(24 * 25 / 12)
    y = np.append(np.arange(-12, 12) * 0.001, [0.0, 0.0115])[:, None]
    result = permutation(raw_fit(y, (-25, -2), (0, 0), day0=25), (0, 0))[0]
    assert result.pvalue == pytest.approx(2 / 25, rel=1e-12)
    assert result.stat == pytest.approx(0.0115 / (0.001 * math.sqrt(50)), rel=1e-12)
    assert result.distribution == "empirical (24 windows)"


@pytest.mark.parametrize("after", [False, True])
@pytest.mark.parametrize("window", [(0, 0), (0, 2)])
def test_run_tallies_with_missing_days_zero_cars_and_ties_match_the_loop(window, after, monkeypatch):
    """The tallies count the missing runs as zeros and take them off again: rows with missing days, event
    CARs of exactly 0 (which a zero compares equal to), a NaN CAR, and runs tying with the CAR.  Residuals
    in 1/1024ths keep every sum exact, so the loop's direct sums tie exactly where the code's do.  With the
    estimation window ``after`` the event, the grid's first runs are off it (counted as gaps and taken off)."""
    monkeypatch.setattr("eventstudy.inference.nonparametric.CACHE_CELLS", 100)  # a few rows a block: the sums
    monkeypatch.setattr("eventstudy.foundation.threads.BLOCK_CELLS", 100)  # and the tallies, carried across blocks
    rng = np.random.default_rng(3)
    y = rng.integers(-4, 5, (33, 30)) / 1024
    y[:30][rng.random((30, 30)) < 0.15] = np.nan
    y[30:, :8] = 0.0  # CAR exactly 0
    y[30, 8] = np.nan  # no CAR
    length = window[1] - window[0] + 1
    if after:  # the same sessions, the event's three first: estimation window on grid days 3..32
        fit = raw_fit(np.vstack([y[30:], y[:30]]), (3, 32), window, day0=0)
    else:
        fit = raw_fit(y, (-30, -1), window, day0=30)
    tallies = _run_tallies(Inputs(fit, window))
    for i in range(30):
        sums = np.array([y[j : j + length, i].sum() for j in range(30 - length + 1)])
        runs, car = sums[np.isfinite(sums)], y[30 : 30 + length, i].sum()
        counts = [len(runs), np.sum(np.abs(runs) >= abs(car)), np.sum(runs <= car), np.sum(runs >= car)]
        assert [tallies.windows[i], tallies.beyond[i], tallies.below[i], tallies.above[i]] == counts
        assert tallies.positive[i] == np.sum(runs > 0)
        assert tallies.sd[i] == pytest.approx(np.std(runs, ddof=1), rel=1e-12)
    assert tallies.beyond[0] == tallies.windows[0] > 0 and tallies.beyond[8] == 0


@pytest.mark.parametrize("after", [False, True])
def test_running_sums_of_the_fit_residuals_match_the_loop(after):
    """The fit's own residuals are cumulated from the estimation window's zero-filled ones (shared with
    the pair correlations): the running sums and counts must still run over the whole grid, 0 before the
    window and flat after it, as a loop over every day of each row makes them."""
    rng = np.random.default_rng(5)
    y = rng.normal(size=(33, 6))
    y[:30][rng.random((30, 6)) < 0.2] = np.nan
    if after:  # the event's three days first, then the estimation window
        fit = raw_fit(np.vstack([y[30:], y[:30]]), (3, 32), (0, 2), day0=0)
    else:
        fit = raw_fit(y, (-30, -4), (0, 2), day0=30)  # grid days -3..-1 and 0..2 are off the window
    inp = Inputs(fit, (0, 2))
    total, count = _running_sums(inp)
    res = inp.residuals
    assert np.isnan(res[:, 27 if not after else 0]).all()  # a day off the estimation window
    for i in range(fit.n):
        sums, days = [0.0], [0]
        for value in res[i]:
            sums.append(sums[-1] + (value if math.isfinite(value) else 0.0))
            days.append(days[-1] + math.isfinite(value))
        np.testing.assert_allclose(total[i], sums, rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(count[i], days)


def test_permutation_needs_enough_comparison_windows():
    y = np.append(np.arange(-7, 7) * 0.001, [0.0, 0.01])[:, None]  # 14 estimation days
    result = permutation(raw_fit(y, (-15, -2), (0, 0), day0=15), (0, 0))[0]
    assert not result.valid
    assert "only 14 estimation-window CARs" in result.note and str(MIN_PERMUTATION_WINDOWS) in result.note


# --------------------------------------------------------------------------------------------------------
# rank
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("window", WINDOWS)
def test_rank_matches_the_loop(study, window):
    fit, records = study
    result = rank(fit, window)
    np.testing.assert_allclose([result.stat, result.pvalue], loops.rank(records, window, loops.EVENT), rtol=RTOL)


def test_rank_hand_worked(ranked):
    # ranks 1..4 on the estimation days and 5 on day 0 for every firm-event (the gap day is not ranked):
    # U - 1/2 = -1/3, -1/6, 0, 1/6, 1/3; A_t = 5 (U - 1/2) / sqrt(5); S^2 = (5/5)(1/9 + 1/36 + 0 + 1/36 + 1/9)
    # = 5/18; Z = sqrt(5)/3 / sqrt(5/18) = sqrt(2)
    result = rank(ranked, (0, 0))
    assert result.stat == pytest.approx(math.sqrt(2), rel=1e-12)
    assert result.pvalue == pytest.approx(2 * stats.norm.sf(math.sqrt(2)), rel=1e-12)


def test_brown_warner_hand_worked(ranked):
    # AAR on the estimation days -.02, -.01, .01, .02: mean 0, S^2 = 10e-4 / 3; AAR_0 = 0.205 / 5 = 0.041
    result = brown_warner(ranked, (0, 0))
    assert result.stat == pytest.approx(0.041 / math.sqrt(1e-3 / 3), rel=1e-12)
    assert result.distribution == "t(3)"


@pytest.mark.parametrize("width", [0, 1, 2, 7])
def test_rows_where_adjacent_compare_within_rows_only(width):
    # one comparison along the raveled rows: a row's last entry must not meet the next row's first
    rng = np.random.default_rng(11)
    rows = np.sort(rng.normal(size=(30, width)), axis=1)
    rows[rng.random(rows.shape) < 0.1] = np.nan
    if width > 1:
        rows[3, 1] = rows[3, 0]  # a tie
        rows[5, -1] = rows[5, 0] - 1.0  # out of order at the end of a row
        rows[6, 0] = 1e9  # out of order at the start of a row (the row before ends below it)
    for compare in (np.less, np.less_equal):
        expected = [i for i, row in enumerate(rows) if any(compare(row[j + 1], row[j]) for j in range(width - 1))]
        np.testing.assert_array_equal(_rows_where_adjacent(compare, rows), expected)


def test_row_ranks_average_ties_and_skip_missing_values():
    rng = np.random.default_rng(3)
    values = np.round(rng.normal(size=(40, 25)), 1)  # many ties
    values[rng.random(values.shape) < 0.2] = np.nan
    expected = np.array([stats.rankdata(row, nan_policy="omit") for row in values])
    np.testing.assert_array_equal(row_ranks(values), expected)


# 32-bit keys of levels (at most 2**24 of them, in float32) up to 512 days, 64-bit keys of bits beyond
@pytest.mark.parametrize("width", [100, 300, 700])
def test_row_ranks_equal_scipy_on_values_that_differ_in_their_last_bits(width):
    # row_ranks sorts integer keys whose lowest bits hold the column (above them, a value's level within its
    # row's span, or its own bits): values on one level or equal but for those bits, signed zeros, infinities,
    # spans that overflow and NaN of either sign must still rank as scipy ranks them
    rng = np.random.default_rng(5)
    values = rng.normal(0.0, 0.02, (40, width))
    values[:, 7] = values[:, 3]
    values[:, 8] = np.nextafter(values[:, 3], np.inf)
    values[:, 9] = np.nextafter(values[:, 3], -np.inf)
    values[:5, 10], values[:5, 11] = -0.0, 0.0
    values[5, 12], values[6, 12] = -np.inf, np.inf
    values[8, 14], values[8, 15], values[9, :] = 1e308, -1e308, 0.5  # a span beyond the floats, a row of one value
    values[rng.random(values.shape) < 0.05] = np.nan
    values[7, 13] = -np.nan
    # rows in column order but for a missing value before an infinity or a span beyond the floats (their
    # values all share a level): NaN must still come last, after the infinity
    values[10:13] = np.linspace(-0.05, 0.05, width)
    values[10:13, 2], values[10, 20], values[11, 0], values[12, [0, -1]] = np.nan, np.inf, -np.inf, [-1e308, 1e308]
    # the levels are worked out in float32: a span beyond it (finite doubles that round to infinity) and values
    # below its smallest (they round to zero) must still rank as the doubles do
    values[13:16] = np.linspace(-0.05, 0.05, width)
    values[13, [0, 4]], values[14] = [np.nan, 1e39], np.linspace(1e-50, 2e-50, width)
    values[15, :3], values[15, 3:] = [np.nan, 1e-50, -1e-50], np.linspace(-1e-46, 1e-46, width - 3)
    got = row_ranks(values)
    for row, ranks in zip(values, got):
        finite = ~np.isnan(row)
        np.testing.assert_array_equal(ranks[finite], stats.rankdata(row[finite]))
        assert np.isnan(ranks[~finite]).all()


def test_shared_ranks_equal_scipy_on_rows_with_and_without_ties():
    # rows of distinct values take the sorted positions and a running count of estimation days; rows with
    # ties (rounded returns), a row with a missing estimation day and a row whose residual variance is 0
    # (its SARs are infinite) take the tie-aware path: both must give scipy's mid-ranks
    rng = np.random.default_rng(11)
    y = rng.normal(0.0, 0.02, (60, 12))
    y[:, 6:10] = np.round(y[:, 6:10], 2)
    y[20, 3] = np.nan
    fit = raw_fit(y, (-40, -6), (-3, 3), day0=50)
    sigma2 = np.asarray(fit.sigma2, dtype=float).copy()
    sigma2[10] = 0.0
    fit = dataclasses.replace(fit, sigma2=sigma2)
    ranks = _shared_ranks(Inputs(fit, (0, 0)))
    combined, centred, own = ranks.combined, ranks.centred, ranks.own
    est = fit.estimation_mask
    for i in range(fit.n):
        ar = fit.ar[i]
        expected = stats.rankdata(ar[combined[i]]) / (combined[i].sum() + 1) - 0.5  # the rank test's U - 1/2
        np.testing.assert_array_equal(centred[i][combined[i]], expected)
        assert (centred[i][~combined[i]] == 0).all()
        with np.errstate(divide="ignore", invalid="ignore"):
            sar = ar / np.sqrt(sigma2[i])
        np.testing.assert_array_equal(own[i][est[i]], stats.rankdata(sar[est[i]]))
        assert (own[i][~est[i]] == 0).all()
        # the SARs in order and the estimation days among the first c of them: at and between every SAR (and
        # beyond both ends), the count of estimation SARs below and at or below it, as grank searches them
        ordered = ranks.sorted_sar[i]
        finite = ~np.isnan(ordered)
        np.testing.assert_array_equal(ordered[finite], np.sort(sar[combined[i]]))
        estimation_sars = sar[est[i]]
        points = np.unique(np.concatenate([sar[combined[i]], [-np.inf, np.inf, 0.0]]))
        points = np.concatenate([points, (points[1:] + points[:-1]) / 2])
        for value in points:
            below = ranks.est_before[i][(ordered < value).sum()]
            at_or_below = ranks.est_before[i][(ordered <= value).sum()]
            assert below == (estimation_sars < value).sum() and at_or_below == (estimation_sars <= value).sum()
    assert combined[:, 37:].all() and not combined[:, 35:37].any()  # the gap days -5, -4 are not ranked
    np.testing.assert_array_equal(ranks.combined_columns, [column.sum() for column in combined.T])
    np.testing.assert_array_equal(ranks.est_columns, [column.sum() for column in est.T])
    assert est.sum(axis=1)[3] == 34  # the missing day is left out


def test_shared_ranks_equal_scipy_where_the_key_sort_leaves_values_out_of_order():
    # an earlier estimation day one float step above a later one: both share their 32-bit sort key's level,
    # so the key sort puts them in column order, the larger first; such rows must be ranked again
    rng = np.random.default_rng(12)
    y = rng.normal(0.0, 0.02, (60, 12))
    y[20] = np.nextafter(y[30], np.inf)
    fit = raw_fit(y, (-40, -6), (-3, 3), day0=50)
    ranks = _shared_ranks(Inputs(fit, (0, 0)))
    est = fit.estimation_mask
    for i in range(fit.n):
        combined, ar = ranks.combined[i], fit.ar[i]
        expected = stats.rankdata(ar[combined]) / (combined.sum() + 1) - 0.5
        np.testing.assert_array_equal(ranks.centred[i][combined], expected)
        sar = ar / np.sqrt(fit.sigma2[i])
        np.testing.assert_array_equal(ranks.own[i][est[i]], stats.rankdata(sar[est[i]]))
        np.testing.assert_array_equal(ranks.sorted_sar[i][: combined.sum()], np.sort(sar[combined]))


@pytest.mark.parametrize(
    "values", [[3, 0, 3, 7, 250], [5], [0, 0], np.array([2, 10**9, 2]), np.array([-1, 4, 4]), np.zeros(0, int)]
)
def test_labels_format_each_count(values):
    # small counts index a table of texts, others (huge, negative) take np.unique: both as the plain loop
    got = labels("empirical ({} windows)", np.asarray(values))
    assert got.tolist() == [f"empirical ({v} windows)" for v in values]


def test_running_count_is_the_count_along_each_row():
    # one running count along the raveled rows less each row's start, against counting row by row
    mask = np.random.default_rng(4).random((30, 17)) < 0.6
    out = np.full((30, 17), -1, dtype=np.int16)
    _running_count(mask, out=out)
    for row, counts in zip(mask, out):
        assert counts.tolist() == [int(row[: j + 1].sum()) for j in range(len(row))]


@pytest.mark.parametrize("shape", [(30, 17), (1 << 16, 3), (3, 1 << 16)])
@pytest.mark.parametrize("axis", [0, 1])
def test_count_along_either_axis_is_the_plain_count(shape, axis):
    # in uint16 while a row or column holds fewer than 65,536 entries, else numpy's own count: against a loop
    mask = np.random.default_rng(5).random(shape) < 0.6
    lines = mask.T if axis == 0 else mask
    lines[0] = True  # a full line of 65,536 would wrap around to 0 in uint16
    got = _count(mask, axis=axis)
    assert got.tolist() == [sum(bool(v) for v in line) for line in lines]


def test_sorted_counts_equal_plain_counts_with_ties_missing_values_and_infinities():
    # grank's counts of estimation SARs below and at the event observation, searched in the sorted SARs,
    # against counting them one by one; values equal to entries (ties), NaN, infinities and between entries
    rng = np.random.default_rng(2)
    rows, width = 50, 37
    entries = np.round(rng.normal(size=(rows, width)), 1)
    entries[:, 0], entries[1, :5] = -np.inf, np.inf
    entries[rng.random(entries.shape) < 0.1] = np.nan
    entries.sort(axis=1)  # NaN last
    counted = rng.random(entries.shape) < 0.8
    before = np.concatenate([np.zeros((rows, 1), int), np.cumsum(counted & ~np.isnan(entries), axis=1)], axis=1)
    for value_of in (
        lambda row: row[rng.integers(width)],
        lambda row: rng.normal(),
        lambda row: np.nan,
        lambda row: -np.inf,
    ):
        value = np.array([value_of(row) for row in entries])
        below, at_or_below = _sorted_counts(entries, before.astype(np.int16), value)
        for i in range(rows):
            mine = entries[i][counted[i] & ~np.isnan(entries[i])]
            assert below[i] == (mine < value[i]).sum() and at_or_below[i] == (mine <= value[i]).sum()


# --------------------------------------------------------------------------------------------------------
# sign tests
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("name", ["generalized_sign", "sign", "wilcoxon"])
def test_sign_tests_match_the_loops(study, window, name):
    fit, records = study
    result = {"generalized_sign": generalized_sign, "sign": sign, "wilcoxon": wilcoxon}[name](fit, window)
    np.testing.assert_allclose([result.stat, result.pvalue], getattr(loops, name)(records, window), rtol=RTOL)


@pytest.mark.parametrize("window", WINDOWS)
def test_generalized_sign_uses_l_day_estimation_cars(study, window):
    """The loop counts positive sums over every run of L estimation days; for L = 1 it is Cowan's formula."""
    fit, records = study
    result = generalized_sign(fit, window)
    np.testing.assert_allclose([result.stat, result.pvalue], loops.generalized_sign(records, window), rtol=RTOL)
    if window[0] == window[1]:
        daily = loops.generalized_sign_daily(records, window)
        np.testing.assert_allclose([result.stat, result.pvalue], daily, rtol=RTOL)


def test_generalized_sign_hand_worked_two_day_window():
    # estimation residuals -.03, .01, .01, .01 twice: 6 of 8 days positive, but the 2-day sums
    # -.02, .02, .02, -.02, -.02, .02, .02 are positive 4 times in 7; CARs over (0, 1): 5 of 6 positive
    residuals = np.array([-0.03, 0.01, 0.01, 0.01] * 2)
    y = np.zeros((10, 6))
    y[:8] = residuals[:, None]
    y[8] = [0.01, 0.02, -0.01, 0.03, 0.01, 0.02]
    y[9] = [0.01, 0.00, -0.02, -0.01, 0.00, 0.01]  # CARs .02, .02, -.03, .02, .01, .03
    result = generalized_sign(raw_fit(y, (-8, -1), (0, 1), day0=8), (0, 1))
    p = 4 / 7
    assert result.stat == pytest.approx((5 - 6 * p) / math.sqrt(6 * p * (1 - p)), rel=1e-12)
    assert "expected share positive 0.5714 (2-day estimation-window CARs)" in result.note
    one_day = generalized_sign(raw_fit(y, (-8, -1), (0, 1), day0=8), (0, 0))
    assert one_day.stat == pytest.approx((5 - 6 * 0.75) / math.sqrt(6 * 0.75 * 0.25), rel=1e-12)


def skewed_universe(seed: int, *, firms: int, sessions: int) -> pd.DataFrame:
    """Market-model returns with iid centred exponential residuals (skewness 2, P(e > 0) = 1/e = 0.37)."""
    rng = np.random.default_rng(seed)
    market = rng.normal(0.0003, 0.01, sessions)
    residuals = 0.015 * (rng.exponential(1.0, (sessions, firms)) - 1.0)
    frame = pd.DataFrame(
        market[:, None] + residuals,
        index=pd.bdate_range("2001-01-01", periods=sessions),
        columns=[f"F{i}" for i in range(firms)],
    )
    frame["SPY"] = market
    return frame


@pytest.mark.slow
def test_generalized_sign_keeps_its_size_over_eleven_days_with_skewed_residuals():
    """An 11-day CAR of these residuals is positive with probability about 0.46, a day's residual with
    1/e = 0.37: against the daily share the test rejected in 46% of these samples at 5%; against the
    share of positive 11-day estimation-window CARs it keeps its size."""
    out = es.simulate(
        skewed_universe(0, firms=200, sessions=2000),
        n_samples=1000,
        n_firms=100,
        event_window=(-5, 5),
        tests=["generalized_sign"],
        seed=0,
    )
    row = out.loc["generalized_sign"]
    assert row["n_valid"] == 1000
    for alpha in (0.01, 0.05, 0.10):
        rate = row[f"{alpha:.2f}"]
        assert abs(rate - alpha) <= 3 * math.sqrt(alpha * (1 - alpha) / 1000), (alpha, rate)
    assert abs(row["mean_stat"]) < 0.15


def test_sign_tests_hand_worked(ranked):
    # estimation residuals: 2 of 4 positive -> p-hat = 0.5; all 5 CARs positive -> w = 5
    g = generalized_sign(ranked, (0, 0))
    assert g.stat == pytest.approx((5 - 2.5) / math.sqrt(5 * 0.25), rel=1e-12)
    s = sign(ranked, (0, 0))
    assert s.pvalue == pytest.approx(2 / 32, rel=1e-12)  # both tails of Binomial(5, 1/2): 2 of 32 outcomes
    assert s.distribution == "binomial(5, 0.5)"


def test_wilcoxon_hand_worked():
    # CARs .02, -.01, .03, .012, .005: ranks of |CAR| 4, 2, 5, 3, 1; W+ = 13, W- = 2.
    # Exact: P(W- <= 2) = #{{}, {1}, {2}} / 32, two-sided 6/32; z = (13 - 7.5) / sqrt(5*6*11/24)
    y = np.zeros((25, 5))
    y[:24] = np.linspace(-0.02, 0.02, 24)[:, None]
    y[24] = [0.02, -0.01, 0.03, 0.012, 0.005]
    result = wilcoxon(raw_fit(y, (-24, -1), (0, 0), day0=24), (0, 0))
    assert result.pvalue == pytest.approx(6 / 32, rel=1e-12)
    assert result.stat == pytest.approx(5.5 / math.sqrt(13.75), rel=1e-12)
    assert result.distribution == "exact signed-rank(5)"
    assert result.pvalue == pytest.approx(stats.wilcoxon(y[24], method="exact").pvalue, rel=1e-12)


def signed_rank_fit(cars):
    y = np.zeros((25, len(cars)))
    y[:24] = np.linspace(-0.02, 0.02, 24)[:, None]
    y[24] = cars
    return raw_fit(y, (-24, -1), (0, 0), day0=24)


#: scipy 1.15 renamed the normal approximation of the signed-rank test from "approx" to "asymptotic"
ASYMPTOTIC = "asymptotic" if tuple(int(p) for p in scipy_version.split(".")[:2]) >= (1, 15) else "approx"


def test_wilcoxon_with_ties_and_zeros_is_scipys_tie_corrected_normal_approximation():
    # |CAR| ties (0.01 three times, 0.02 twice) and two zero CARs
    cars = np.array([0.01, -0.01, 0.01, 0.02, 0.02, 0.0, 0.03, -0.005, 0.0, 0.04, 0.015, -0.025])
    result = wilcoxon(signed_rank_fit(cars), (0, 0))
    scipy = stats.wilcoxon(cars, method=ASYMPTOTIC, zero_method="wilcox", correction=False)
    assert result.pvalue == pytest.approx(scipy.pvalue, rel=1e-12)
    assert -abs(result.stat) == pytest.approx(scipy.zstatistic, rel=1e-12)
    assert result.stat > 0  # seven of the ten non-zero CARs are positive, with the larger ranks
    assert result.distribution == "N(0,1), tie-corrected"
    assert "2 zero CARs left out" in result.note
    # by hand: 10 non-zero CARs, ties {0.01 x3: ranks 2-4 -> 3}, {0.02 x2: ranks 6-7 -> 6.5}
    # |CAR| sorted .005(1) .01 .01 .01(3) .015(5) .02 .02(6.5) .025(8) .03(9) .04(10); W+ = 3+3+6.5+6.5+9+10+5
    w_plus, n = 43.0, 10
    variance = n * (n + 1) * (2 * n + 1) / 24 - ((3**3 - 3) + (2**3 - 2)) / 48
    assert result.stat == pytest.approx((w_plus - n * (n + 1) / 4) / math.sqrt(variance), rel=1e-12)


def test_wilcoxon_beyond_fifty_firm_events_is_normal():
    rng = np.random.default_rng(4)
    cars = rng.normal(0.003, 0.02, 60)
    result = wilcoxon(signed_rank_fit(cars), (0, 0))
    scipy = stats.wilcoxon(cars, method=ASYMPTOTIC, correction=False)
    assert result.pvalue == pytest.approx(scipy.pvalue, rel=1e-12)
    assert result.distribution == "N(0,1)"
    small = wilcoxon(signed_rank_fit(cars[:50]), (0, 0))
    assert small.distribution == "exact signed-rank(50)"
    assert small.pvalue == pytest.approx(stats.wilcoxon(cars[:50], method="exact").pvalue, rel=1e-12)


def test_sign_pvalue_is_scipys_binomtest():
    rng = np.random.default_rng(11)
    y = rng.normal(0.002, 0.01, (40, 23))
    fit = raw_fit(y, (-39, -1), (0, 0), day0=39)
    result = sign(fit, (0, 0))
    w = int((y[39] > 0).sum())
    assert result.pvalue == pytest.approx(stats.binomtest(w, 23, 0.5).pvalue, rel=1e-12)


@pytest.mark.parametrize("function", [rank, generalized_sign, sign, wilcoxon])
def test_cross_sectional_nonparametric_tests_refuse_three_firm_events(study, function):
    fit, _ = study
    result = function(fit.take([0, 1, 2]), (0, 0))
    assert not result.valid and "needs at least 5 firm-events" in result.note
