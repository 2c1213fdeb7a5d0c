"""Issue 23: a CAR's variance from the window's regressor sums, without the (N, L, K) design of the event window.

``Var(CAR) = s^2 (L + x'(X'X)^-1 x)`` needs only ``x``, the sum of the design over the window's days.  The fit
adds the regressors day by day instead of building the design and summing it; here the sums are compared with
the design summed and, for the variance itself, with MacKinlay's formula written out firm-event by firm-event.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import eventstudy as es


def panel(seed: int = 11, days: int = 700, firms: int = 30):
    rng = np.random.default_rng(seed)
    index = es.TradingCalendar("XNYS").sessions_in_range("2015-01-02", "2019-12-31")[:days]
    factors = rng.normal(0.0003, 0.01, (days, 2))
    returns = pd.DataFrame(
        {f"F{k}": factors @ rng.uniform(0.3, 1.5, 2) + rng.normal(0, 0.02, days) for k in range(firms)}, index=index
    )
    returns["MKT"], returns["IDX"] = factors[:, 0], factors[:, 1]
    returns.iloc[rng.integers(0, days, 20), firms] = np.nan  # the market misses days: NaN sums
    returns.iloc[rng.integers(0, days, 20), firms + 1] = np.nan
    day0 = rng.integers(300, days - 30, 200)
    events = pd.DataFrame({"ticker": [f"F{k % firms}" for k in range(200)], "date": index[day0]})
    events = events.drop_duplicates().reset_index(drop=True)
    return returns, events


@pytest.mark.parametrize(
    "model, market",
    [
        ("market", "MKT"),
        ("constant-mean", "MKT"),
        ("market-adjusted", "MKT"),
        ("multi-index", ["MKT", "IDX"]),
        (es.Dimson(lags=1), "MKT"),
        ("capm", "MKT"),  # one regressor and no constant: the design summed as it is
    ],
    ids=str,
)
def test_window_sums_are_the_design_summed_over_the_window(model, market):
    returns, events = panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.DroppedFirmEventsWarning)  # the market's gaps on some day 0s
        warnings.simplefilter("ignore", es.DataQualityWarning)  # ... and inside some event windows
        risk_free = pd.Series(0.0001, index=returns.index) if model == "capm" else None
        res = es.EventStudy(
            events, returns=returns, market=market, model=model, event_window=(-5, 10), risk_free=risk_free
        ).fit()
    assert res.n > 150
    fit = res.fit
    for lo, hi in [(-5, 10), (-1, 1), (0, 0), (3, 10)]:
        days = np.arange(lo, hi + 1)
        want = fit.design(days).sum(axis=1)
        got = fit.design_sums(days)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)  # the same sums, in the same order
        assert (np.isnan(got) == np.isnan(want)).all()
        if got.shape[1] > 1 and (lo, hi) == (-5, 10):
            assert np.isnan(got).any()  # the benchmark's gaps reach some windows
        # MacKinlay's variance, firm-event by firm-event, from the design written out
        var = fit.car_variance((lo, hi))
        x = fit.design(days)
        for i in range(0, fit.n, 7):
            ones = np.ones(len(days))
            expected = fit.sigma2[i] * (len(days) + ones @ x[i] @ fit.xtx_inv[i] @ x[i].T @ ones)
            if np.isnan(expected):
                assert np.isnan(var[i])
            else:
                assert var[i] == pytest.approx(expected, rel=1e-10)


def test_the_market_models_car_variance_equals_a_plain_least_squares_loop():
    """MacKinlay's Var(CAR) = s^2 (L + x'(X'X)^-1 x) with s^2, X'X and x rebuilt from the returns alone: OLS of
    the firm on a constant and MKT over the 240 sessions (-250, -11) where both have a return, and x the sum
    of (1, MKT) over the window's days (independent of the fit's own sigma2, xtx_inv and design)."""
    returns, events = panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.DroppedFirmEventsWarning)
        warnings.simplefilter("ignore", es.DataQualityWarning)
        res = es.EventStudy(events, returns=returns, market="MKT", event_window=(-5, 10)).fit()
    checked = 0
    for window in [(-5, 10), (-1, 1), (0, 0)]:
        var = res.fit.car_variance(window)
        for i, row in enumerate(res.firm_events.itertuples()):
            if i % 9:
                continue
            at = returns.index.get_loc(row.day0)
            est = returns.iloc[at - 250 : at - 10][[row.ticker, "MKT"]].dropna()
            x = np.column_stack([np.ones(len(est)), est["MKT"]])
            beta, *_ = np.linalg.lstsq(x, est[row.ticker].to_numpy(), rcond=None)
            resid = est[row.ticker].to_numpy() - x @ beta
            s2 = resid @ resid / (len(est) - 2)
            days = returns["MKT"].iloc[at + window[0] : at + window[1] + 1].to_numpy()
            sums = np.array([len(days), days.sum()])
            expected = s2 * (len(days) + sums @ np.linalg.inv(x.T @ x) @ sums)
            if np.isnan(expected):
                assert np.isnan(var[i])
            else:
                assert var[i] == pytest.approx(expected, rel=1e-9), (row.ticker, row.day0, window)
                checked += 1
    assert checked > 30
