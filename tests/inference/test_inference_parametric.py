"""Parametric tests against plain loops written from the papers, hand-worked numbers and scipy."""

from __future__ import annotations

import math
import re

import inference_loops as loops
import numpy as np
import pytest
from scipy import stats

from eventstudy.estimation.models import StackedFit, estimate
from eventstudy.estimation.panel import AlignedData
from eventstudy.inference import (
    ar_t,
    average_correlation,
    bmp,
    brown_warner,
    car_t,
    csect_t,
    kp_bmp,
    kp_patell,
    patell,
)

WINDOWS = [(0, 0), (-1, 1), (-3, 3), (0, 2)]
RTOL = 1e-10


def hand_fit(event_ar, sigma2, n_obs, day0=None):
    """A market-adjusted-style record (nothing estimated): the abnormal return is the data itself.

    Estimation window (-11, -1) holds small made-up residuals; day 0 holds ``event_ar``.  ``sigma2`` and
    ``n_obs`` are set by hand, so CAR_i = event_ar[i], Var(CAR_i) = sigma2[i] and T_i - K = n_obs[i] - 1.
    """
    n = len(event_ar)
    y = np.tile(np.linspace(-0.01, 0.01, 12)[:, None], (1, n))
    y[11] = event_ar
    data = AlignedData.build(y, np.zeros((12, 0)))
    day0 = np.full(n, 11) if day0 is None else np.asarray(day0)
    return StackedFit(
        data=data,
        day0=day0,
        firm=np.arange(n),
        estimation_window=(-11, -1),
        event_window=(0, 0),
        intercept=False,
        estimated=False,
        params=np.zeros((n, 0)),
        xtx_inv=np.zeros((n, 0, 0)),
        sigma2=np.asarray(sigma2, dtype=float),
        n_obs=np.asarray(n_obs),
    )


# five firm-events: CAR = 0.02, -0.01, 0.03, 0.012, 0.005 with sd 0.01, 0.02, 0.015, 0.012, 0.01
# -> standardized CARs 2, -0.5, 2, 1, 0.5; T_i = 11 so T_i - K = 10 (nothing estimated, K counted as 1)
HAND_CAR = [0.02, -0.01, 0.03, 0.012, 0.005]
HAND_SIGMA2 = [1e-4, 4e-4, 2.25e-4, 1.44e-4, 1e-4]


def parse_df(distribution: str) -> list[float]:
    return [float(v) for v in re.findall(r"[\d.]+", distribution)]


# --------------------------------------------------------------------------------------------------------
# single firm-event
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("window", WINDOWS)
def test_car_t_matches_the_loop(study, window):
    fit, records = study
    results = car_t(fit, window)
    assert len(results) == fit.n
    for result, rec in zip(results, records):
        expected = loops.car_t(rec, window) if math.isfinite(loops.car(rec, window)) else (math.nan, math.nan)
        if math.isnan(expected[0]):
            assert not result.valid and "CAR" in result.note
            continue
        np.testing.assert_allclose([result.stat, result.pvalue], expected, rtol=RTOL)
        assert result.distribution == f"t({rec['T'] - rec['K']})"


def test_ar_t_is_car_t_on_one_day_and_refuses_longer_windows(study):
    fit, _ = study
    one = ar_t(fit, (1, 1))
    same = car_t(fit, (1, 1))
    np.testing.assert_allclose([r.stat for r in one], [r.stat for r in same], rtol=RTOL)
    longer = ar_t(fit, (-1, 1))
    assert all(not r.valid and r.note == "ar_t takes a one-day window; use car_t" for r in longer)
    # a firm-event without a CAR keeps car_t's reason (the first given), with no statistic computed for any
    gappy = fit.signed(np.ones(fit.n))
    ar = np.array(gappy.ar_event)
    ar[0, 0] = np.nan
    gappy._cache["ar_event"] = ar
    notes = [r.note for r in ar_t(gappy, (-3, 3))]
    plain = car_t(gappy, (-3, 3))
    assert notes[0] == "no abnormal return on some day of the window, so no CAR" == plain[0].note
    assert notes == [r.note if not r.valid else "ar_t takes a one-day window; use car_t" for r in plain]
    assert all(np.isnan(r.stat) and r.distribution == "" for r in ar_t(gappy, (-3, 3)))


def test_car_t_hand_worked():
    # t = 0.02 / sqrt(1e-4) = 2 with T - K = 10 degrees of freedom
    result = car_t(hand_fit(HAND_CAR, HAND_SIGMA2, [11] * 5), (0, 0))[0]
    assert result.stat == pytest.approx(2.0, rel=1e-12)
    assert result.pvalue == pytest.approx(2 * stats.t.sf(2.0, 10), rel=1e-12)
    assert result.distribution == "t(10)"


# --------------------------------------------------------------------------------------------------------
# cross-section
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("name", ["csect_t", "patell", "bmp"])
def test_cross_sectional_tests_match_the_loops(study, window, name):
    fit, records = study
    function = {"csect_t": csect_t, "patell": patell, "bmp": bmp}[name]
    result = function(fit, window)
    expected = getattr(loops, name)(records, window)
    np.testing.assert_allclose([result.stat, result.pvalue], expected, rtol=RTOL)
    assert result.n == len(loops.usable(records, window))
    if window == (0, 2):  # firm-event 5 has no return on day +2
        assert result.n == 7 and "1 of 8 firm-events left out" in result.note


@pytest.mark.parametrize("window", WINDOWS)
def test_brown_warner_matches_the_loop(study, window):
    fit, records = study
    result = brown_warner(fit, window)
    expected = loops.brown_warner(records, window, loops.ESTIMATION)
    np.testing.assert_allclose([result.stat, result.pvalue], expected, rtol=RTOL)


@pytest.mark.parametrize("window", [(0, 0), (1, 1), (-1, 1)])
def test_brown_warner_counts_with_many_or_few_firm_events_left_out_match_the_loop(window):
    # each estimation day's count of firm-events is every firm-event's count less those of the firm-events a
    # window leaves out when they are fewer than half (day 0: none; day +1: two of twelve, whose missing
    # estimation days must come off the counts; days -1..+1: seven of twelve have no return on day -1, so the
    # count is over the five used)
    rng = np.random.default_rng(8)
    t, m = 300, 12
    market = rng.normal(0.0004, 0.01, t)
    y = 0.0002 + market[:, None] + rng.normal(0.0, 0.015, (t, m))
    y[rng.integers(150, 240, 30), rng.integers(0, m, 30)] = np.nan  # missing estimation days
    y[259, :7] = np.nan  # day -1 of the firm-events on session 260
    y[261, :2] = np.nan  # and day +1 of two of them
    y[[160, 170, 200], 0] = np.nan  # which miss estimation days of their own
    day0, firm = np.full(m, 260), np.arange(m)
    fit = estimate(AlignedData.build(y, market), day0, firm, loops.ESTIMATION, loops.EVENT)
    records = loops.firm_events(y, market, day0, firm, loops.ESTIMATION, loops.EVENT)
    result = brown_warner(fit, window)
    np.testing.assert_allclose(
        [result.stat, result.pvalue], loops.brown_warner(records, window, loops.ESTIMATION), rtol=RTOL
    )
    assert result.n == len(loops.usable(records, window)) == {(0, 0): 12, (1, 1): 10, (-1, 1): 5}[window]


def test_patell_bmp_csect_hand_worked():
    fit = hand_fit(HAND_CAR, HAND_SIGMA2, [11] * 5)
    # Patell: sum SCAR = 2 - 0.5 + 2 + 1 + 0.5 = 5; sum (T-K)/(T-K-2) = 5 * 10/8 = 6.25; Z = 5 / 2.5 = 2
    z = patell(fit, (0, 0))
    assert z.stat == pytest.approx(2.0, rel=1e-12)
    assert z.pvalue == pytest.approx(0.04550026389635842, rel=1e-12)
    assert z.distribution == "N(0,1)"
    # BMP: mean SCAR 1, deviations 1, -1.5, 1, 0, -0.5 -> s^2 = 4.5 / 4 = 1.125; t = 1 / sqrt(1.125 / 5)
    t = bmp(fit, (0, 0))
    assert t.stat == pytest.approx(1 / math.sqrt(1.125 / 5), rel=1e-12)
    assert t.distribution == "t(4)"
    # csect_t: mean CAR 0.0114, deviations .0086, -.0214, .0186, .0006, -.0064,
    # squares 7.396e-5, 4.5796e-4, 3.4596e-4, 3.6e-7, 4.096e-5 -> SS = 9.192e-4
    c = csect_t(fit, (0, 0))
    assert c.stat == pytest.approx(0.0114 / math.sqrt(9.192e-4 / 4 / 5), rel=1e-12)


def test_bmp_is_the_cross_sectional_t_of_standardized_cars(study):
    fit, _ = study
    window = (-1, 1)
    scar = fit.car(window) / np.sqrt(fit.car_variance(window))
    expected = stats.ttest_1samp(scar, 0.0)
    result = bmp(fit, window)
    np.testing.assert_allclose([result.stat, result.pvalue], [expected.statistic, expected.pvalue], rtol=RTOL)


def test_market_adjusted_returns_match_the_loop():
    y, market, day0, firm = loops.synthetic()
    excess = y - market[:, None]
    fit = estimate(
        AlignedData.build(excess, np.zeros((len(y), 0))),
        day0,
        firm,
        loops.ESTIMATION,
        loops.EVENT,
        intercept=False,
        estimated=False,
    )
    records = loops.firm_events(
        excess, np.zeros((len(y), 0)), day0, firm, loops.ESTIMATION, loops.EVENT, intercept=False, estimated=False
    )
    for window in [(0, 0), (-3, 3)]:
        np.testing.assert_allclose(
            [patell(fit, window).stat, bmp(fit, window).stat],
            [loops.patell(records, window)[0], loops.bmp(records, window)[0]],
            rtol=RTOL,
        )
        np.testing.assert_allclose(
            [r.stat for r in car_t(fit, window)], [loops.car_t(r, window)[0] for r in records], rtol=RTOL
        )


# --------------------------------------------------------------------------------------------------------
# Kolari & Pynnonen
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("window", WINDOWS)
def test_average_correlation_matches_the_pairwise_loop(study, window):
    fit, records = study
    assert average_correlation(fit, window) == pytest.approx(loops.rbar(records, window), rel=RTOL)


@pytest.mark.parametrize("window", WINDOWS)
def test_kp_tests_match_the_loops(study, window):
    fit, records = study
    r = loops.rbar(records, window)
    result = kp_bmp(fit, window)
    np.testing.assert_allclose([result.stat, result.pvalue], loops.kp_bmp(records, window, r), rtol=RTOL)
    result = kp_patell(fit, window)
    np.testing.assert_allclose([result.stat, result.pvalue], loops.kp_patell(records, window, r), rtol=RTOL)
    assert "rbar = " in result.note


def test_kp_with_zero_correlation_is_the_unadjusted_test(study):
    fit, _ = study
    for window in WINDOWS:
        assert kp_bmp(fit, window, rbar=0.0).stat == bmp(fit, window).stat
        assert kp_bmp(fit, window, rbar=0.0).pvalue == bmp(fit, window).pvalue
        assert kp_patell(fit, window, rbar=0.0).stat == patell(fit, window).stat
        assert kp_patell(fit, window, rbar=0.0).pvalue == patell(fit, window).pvalue


def test_kp_hand_worked_with_a_given_correlation():
    fit = hand_fit(HAND_CAR, HAND_SIGMA2, [11] * 5)
    # rbar = 0.1, N = 5: BMP t * sqrt(0.9 / 1.4); Patell Z = 2 / sqrt(1.4)
    bmp_t = 1 / math.sqrt(1.125 / 5)
    assert kp_bmp(fit, (0, 0), rbar=0.1).stat == pytest.approx(bmp_t * math.sqrt(0.9 / 1.4), rel=1e-12)
    assert kp_patell(fit, (0, 0), rbar=0.1).stat == pytest.approx(2 / math.sqrt(1.4), rel=1e-12)
    assert "(given)" in kp_patell(fit, (0, 0), rbar=0.1).note


def test_kp_is_invalid_for_spread_out_dates():
    y, market, _, _ = loops.synthetic()
    day0 = np.array([100, 120, 140, 160, 180, 200, 220])
    fit = estimate(AlignedData.build(y, market), day0, np.arange(7), loops.ESTIMATION, loops.EVENT)
    for function in (kp_bmp, kp_patell):
        result = function(fit, (-1, 1))
        assert not result.valid and math.isnan(result.stat)
        assert "spread-out dates" in result.note
    assert math.isnan(average_correlation(fit, (-1, 1)))
    # events 20 sessions apart: a 3-day window shares no calendar day, a wider one would
    assert bmp(fit, (-1, 1)).valid


def test_kp_cross_date_pairs_are_weighted_by_the_shared_window(study):
    fit, records = study
    # firm-events on sessions 230 and 232 share 5 of the 7 days of (-3, 3) but none of (0, 0)
    pair = fit.take([6, 7])
    wide = average_correlation(pair, (-3, 3))
    rec = [records[6], records[7]]
    assert wide == pytest.approx(loops.rbar(rec, (-3, 3)), rel=RTOL)
    cal_a = {230 + t: v for t, v in records[6]["resid"].items()}
    cal_b = {232 + t: v for t, v in records[7]["resid"].items()}
    common = sorted(set(cal_a) & set(cal_b))
    rho = np.corrcoef([cal_a[s] for s in common], [cal_b[s] for s in common])[0, 1]
    assert wide == pytest.approx(5 / 7 * rho, rel=RTOL)
    assert math.isnan(average_correlation(pair, (0, 0)))


# --------------------------------------------------------------------------------------------------------
# design rules and p-values
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", [csect_t, brown_warner, patell, bmp, kp_patell, kp_bmp])
def test_cross_sectional_tests_refuse_three_firm_events(study, function):
    fit, _ = study
    result = function(fit.take([0, 1, 2]), (0, 0))
    assert not result.valid and math.isnan(result.pvalue)
    assert "needs at least 5 firm-events" in result.note and "got 3" in result.note
    assert result.n == 3
    # the reason names the test itself, kp_bmp included (not the bmp it adjusts)
    assert result.note.startswith(f"{function.__name__} is a cross-sectional test")


@pytest.mark.parametrize("window", WINDOWS)
def test_pvalues_follow_the_stated_distribution(study, window):
    fit, _ = study
    for result in [csect_t(fit, window), brown_warner(fit, window), bmp(fit, window), kp_bmp(fit, window)]:
        (df,) = parse_df(result.distribution)
        assert result.pvalue == pytest.approx(2 * stats.t.sf(abs(result.stat), df), rel=1e-12)
    for result in [patell(fit, window), kp_patell(fit, window)]:
        assert result.pvalue == pytest.approx(2 * stats.norm.sf(abs(result.stat)), rel=1e-12)
    for result in car_t(fit, window):
        if result.valid:
            (df,) = parse_df(result.distribution)
            assert result.pvalue == pytest.approx(2 * stats.t.sf(abs(result.stat), df), rel=1e-12)
