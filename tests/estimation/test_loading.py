"""The loaders ask the model what it needs: Dimson's and Scholes-Williams' leads and lags are read from a source
as they are from a full table of returns.

Real prices from ``../shared/data/prices`` (skipped with the reason where absent).  The reference for the numbers
is a least-squares fit written here with numpy on the same returns (rtol 1e-10); ``source=`` against ``returns=``
is the same computation on inputs that must agree (atol 1e-10).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy.estimation.base import DataNeeds
from eventstudy.estimation.loading import required_span

#: the tariff pause, announced 2025-04-09 at 13:18 New York time (NVDA +18.7 % that day)
EVENTS = pd.DataFrame({"ticker": ["NVDA", "AMD"], "date": ["2025-04-09"] * 2, "session": ["intraday"] * 2})
WINDOWS = [(0, 0), (-1, 1), (-5, 5), (5, 5), (-5, -5)]


@pytest.fixture(scope="module")
def source(prices_dir):
    return es.CsvSource(prices_dir)


@pytest.fixture(scope="module")
def full_returns(source):
    """Every session of the files from 2023 on: more than any model reads."""
    return es.returns(source.get_prices(["NVDA", "AMD", "SPY"], "2023-01-01", "2025-09-30"))


def _fit(**kwargs):
    return es.EventStudy(EVENTS, market="SPY", **kwargs).fit()


@pytest.mark.parametrize("model", [es.Dimson(), es.Dimson(lags=2), es.ScholesWilliams()], ids=repr)
def test_a_source_gives_the_same_numbers_as_returns(model, source, full_returns):
    on_source = _fit(source=source, model=model)
    on_returns = _fit(returns=full_returns, model=model)
    assert on_source.n == on_returns.n == 2
    pd.testing.assert_frame_equal(on_source.params, on_returns.params, rtol=0, atol=1e-12)
    np.testing.assert_allclose(on_source.ar["ar"], on_returns.ar["ar"], rtol=0, atol=1e-10)
    assert np.isfinite(on_source.ar["ar"]).all()  # the last event day has its lead
    for window in WINDOWS:
        a, b = on_source.car(window=window), on_returns.car(window=window)
        np.testing.assert_allclose(a[["car", "se", "t"]], b[["car", "se", "t"]], rtol=0, atol=1e-10)
        assert np.isfinite(a["car"]).all()


def test_dimson_on_a_source_equals_a_hand_least_squares_fit(source, full_returns):
    """OLS of R_t on (1, R_m,t-1, R_m,t, R_m,t+1) over days -250..-11, abnormal returns on days -5..5."""
    res = _fit(source=source, model="dimson")
    frame = full_returns[["NVDA", "SPY"]]
    m = frame["SPY"].to_numpy()
    day0 = frame.index.get_loc(pd.Timestamp("2025-04-09"))
    for ticker in ("NVDA",):
        y = frame[ticker].to_numpy()
        rows = np.arange(day0 - 250, day0 - 10)
        x = np.column_stack([np.ones(len(rows)), m[rows - 1], m[rows], m[rows + 1]])
        coef, *_ = np.linalg.lstsq(x, y[rows], rcond=None)
        days = np.arange(day0 - 5, day0 + 6)
        ar = y[days] - np.column_stack([np.ones(len(days)), m[days - 1], m[days], m[days + 1]]) @ coef
        got = res.ar[res.ar["ticker"] == ticker]["ar"].to_numpy()
        np.testing.assert_allclose(got, ar, rtol=1e-10, atol=1e-14)
        car = res.car(window=(-5, 5)).set_index("ticker").loc[ticker, "car"]
        assert car == pytest.approx(ar.sum(), rel=1e-10)
        assert res.params.set_index("ticker").loc[ticker, "beta_dimson"] == pytest.approx(coef[1:].sum(), rel=1e-10)


def test_required_span_widens_by_the_model_leads_and_lags():
    sessions = es.TradingCalendar("XNYS").sessions
    day0 = pd.Timestamp("2025-04-09")
    k = sessions.get_loc(day0)
    firm_events = pd.DataFrame({"day0": [day0]})
    calendar = es.TradingCalendar("XNYS")
    plain = required_span(firm_events, (-250, -11), (-5, 5), calendar)
    wide = required_span(firm_events, (-250, -11), (-5, 5), calendar, DataNeeds(lags=2, leads=3))
    assert plain == (sessions[k - 251], sessions[k + 5])
    assert wide == (sessions[k - 253], sessions[k + 8])


def test_the_fit_keeps_its_own_returns_when_the_callers_frame_changes_later(full_returns):
    """The loader reads the caller's returns into an array of its own (issue 23: one array, not copies of frames
    per check): changing the caller's frame in place after the fit changes neither the results nor the returns'
    fingerprint, which is only computed when first read."""
    mine = pd.DataFrame(full_returns.to_numpy().copy(), index=full_returns.index, columns=full_returns.columns)
    kept = mine.copy()
    res = _fit(returns=mine)
    car = res.car().copy()
    mine.iloc[:, :] = 0.5  # in place, every cell
    assert res.provenance["returns_sha256"] == _fit(returns=kept).provenance["returns_sha256"]
    pd.testing.assert_frame_equal(res.car(), car)
    assert res.provenance["return_ranges"] == _fit(returns=kept).provenance["return_ranges"]
