"""A study across exchanges on the real global prices: each listing on its own sessions and local index.

The reference numbers are computed here without the package: prices read with pandas, placed on the
exchange's sessions from exchange_calendars directly, simple returns without filling, and a statsmodels OLS
per listing on its own estimation rows.  Tolerance 1e-10 (vectorized engine against a loop).
"""

from __future__ import annotations

import warnings

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import eventstudy as es

# the October 2022 advanced-computing rules, given as a timestamp after the US close on Friday 2022-10-07
EVENT = pd.DataFrame({"id": ["oct7"], "date": ["2022-10-07T16:30:00-04:00"], "session": [""]})
LOCAL = {"XNYS": "SPY", "XHKG": "^HSI", "XSHG": "000300.SS", "XTKS": "^N225", "XTAI": "^TWII"}
LISTINGS = {"NVDA": "XNYS", "0981.HK": "XHKG", "688981.SS": "XSHG", "8035.T": "XTKS", "2330.TW": "XTAI"}
DAY0 = {"NVDA": "2022-10-10", "0981.HK": "2022-10-10", "688981.SS": "2022-10-10", "8035.T": "2022-10-11",
        "2330.TW": "2022-10-11", "ASML.AS": "2022-10-10"}  # fmt: skip
ESTIMATION, WINDOW = (-250, -11), (-5, 5)


def _file(folder, ticker):
    name = ticker.lstrip("^") + ".csv"
    return folder / name


def _own_returns(folder, ticker, exchange) -> pd.Series:
    """Close (or Adj Close where the file has it) on the exchange's sessions, simple returns, no filling."""
    table = pd.read_csv(_file(folder, ticker), parse_dates=["Date"], index_col="Date")
    price = table["Adj Close"] if table["Adj Close"].notna().any() else table["Close"]
    sessions = xcals.get_calendar(exchange, start="2019-01-01", end="2023-12-31").sessions
    sessions = pd.DatetimeIndex(sessions).tz_localize(None) if sessions.tz is not None else pd.DatetimeIndex(sessions)
    price = price.reindex(sessions[(sessions >= price.index.min()) & (sessions <= price.index.max())])
    return price.pct_change(fill_method=None)


@pytest.fixture(scope="module")
def global_prices(global_prices_dir, prices_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.DataQualityWarning)  # files without Adj Close fall back to Close
        foreign = es.CsvSource(global_prices_dir).get_prices(
            [t for t in [*LISTINGS, "ASML.AS", *LOCAL.values()] if t not in ("NVDA", "SPY")], "2021-01-01", "2023-06-30"
        )
    us = es.CsvSource(prices_dir).get_prices(["NVDA", "SPY"], "2021-01-01", "2023-06-30")
    return pd.concat([us, foreign], axis=1, sort=True)


@pytest.fixture(scope="module")
def res(global_prices):
    rets = es.returns(global_prices)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.DroppedFirmEventsWarning)
        return es.EventStudy(
            EVENT, rets, tickers=list(LISTINGS), market=LOCAL, estimation_window=ESTIMATION, event_window=WINDOW
        ).fit()


def test_each_listing_gets_the_day0_its_exchange_allows(res):
    got = res.firm_events.set_index("ticker")
    for ticker, exchange in LISTINGS.items():
        assert got.loc[ticker, "exchange"] == exchange
        assert got.loc[ticker, "day0"] == pd.Timestamp(DAY0[ticker]), ticker
        assert got.loc[ticker, "benchmarks"] == LOCAL[exchange]
    # the display names each exchange's benchmark, not a placeholder
    assert "benchmark per exchange: XNYS SPY, XHKG ^HSI, XSHG 000300.SS, XTKS ^N225, XTAI ^TWII" in str(res)


def test_each_listings_abnormal_returns_equal_ols_on_its_own_sessions(res, global_prices_dir, prices_dir):
    ar = res.ar.set_index(["ticker", "event_time"])
    for ticker, exchange in LISTINGS.items():
        folder = prices_dir if exchange == "XNYS" else global_prices_dir
        y = _own_returns(folder, ticker, exchange)
        x = _own_returns(folder, LOCAL[exchange], exchange).reindex(y.index)
        centre = y.index.get_loc(pd.Timestamp(DAY0[ticker]))
        rows = slice(centre + ESTIMATION[0], centre + ESTIMATION[1] + 1)
        sample = pd.concat([y.iloc[rows], x.iloc[rows]], axis=1, keys=["y", "x"]).dropna()
        ols = sm.OLS(sample["y"], sm.add_constant(sample["x"])).fit()
        window = slice(centre + WINDOW[0], centre + WINDOW[1] + 1)
        expected = (y.iloc[window] - ols.params["const"] - ols.params["x"] * x.iloc[window]).to_numpy()
        got = ar.loc[ticker].sort_index()
        np.testing.assert_allclose(got["ar"].to_numpy(), expected, rtol=0, atol=1e-10, err_msg=ticker)
        # the dates are the listing's own sessions: Tokyo and Taipei skip 2022-10-10
        np.testing.assert_array_equal(got["date"].to_numpy(), y.index[window].to_numpy())
        params = res.params.set_index("ticker").loc[ticker]
        assert params["n_obs"] == len(sample)
        np.testing.assert_allclose(params["beta_market"], ols.params["x"], rtol=1e-10)


def test_returns_of_mixed_listings_stay_on_their_own_sessions(global_prices, global_prices_dir):
    rets = es.returns(global_prices)
    assert rets.attrs["eventstudy_exchanges"]["8035.T"] == "XTKS"
    assert np.isnan(rets.loc["2022-10-10", "8035.T"])  # Sports Day in Tokyo
    assert np.isfinite(rets.loc["2022-10-10", "0981.HK"])
    expected = _own_returns(global_prices_dir, "8035.T", "XTKS")
    # the first Tokyo session after the holiday is measured from the previous Tokyo session, not bridged
    np.testing.assert_allclose(rets.loc["2022-10-11", "8035.T"], expected.loc["2022-10-11"], rtol=1e-12)
    assert rets.loc["2022-10-11", "8035.T"] == pytest.approx(-0.0549, abs=5e-5)  # PROVENANCE's sanity value


def test_a_foreign_listing_against_a_us_index_needs_and_gets_a_stated_rule(global_prices):
    rets = es.returns(global_prices)
    with pytest.raises(ValueError, match="align_benchmarks='same-date'"):
        es.EventStudy(EVENT, rets, tickers=["ASML.AS"], market="SPY").fit()
    res = es.EventStudy(
        EVENT, rets, tickers=["ASML.AS"], market="SPY", model="dimson", align_benchmarks="same-date"
    ).fit()
    assert res.firm_events.loc[0, "day0"] == pd.Timestamp(DAY0["ASML.AS"])
    assert res.settings["align_benchmarks"] == "same-date"


def test_an_event_before_a_listings_first_session_is_a_recorded_drop(global_prices_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.DataQualityWarning)
        prices = es.CsvSource(global_prices_dir).get_prices(["688041.SS", "000300.SS"], "2021-06-01", "2023-06-30")
    rets = es.returns(prices)
    with pytest.raises(es.EstimationError) as info:
        es.EventStudy(EVENT, rets, tickers=["688041.SS"], market="000300.SS").fit()
    reason = info.value.dropped.loc[0, "reason"]
    assert "fewer than the minimum" in reason and "returns start on 2022-08-15" in reason


# -- non-synchronous trading: Dimson and Scholes-Williams against hand regressions ---------------------------


@pytest.fixture(scope="module")
def tokyo(global_prices):
    """8035.T against SPY taken on the same date: the textbook case of non-synchronous prices."""
    rets = es.returns(global_prices)
    study = dict(market="SPY", align_benchmarks="same-date", estimation_window=ESTIMATION, event_window=WINDOW)
    return rets, study


def _hand_design(rets):
    y = rets["8035.T"].dropna()  # Tokyo sessions with a return
    sessions = xcals.get_calendar("XTKS", start="2019-01-01", end="2023-12-31").sessions
    sessions = pd.DatetimeIndex(sessions).tz_localize(None) if sessions.tz is not None else pd.DatetimeIndex(sessions)
    sessions = sessions[(sessions >= y.index.min()) & (sessions <= y.index.max())]
    y = y.reindex(sessions)
    m = rets["SPY"].reindex(sessions)  # the US return dated the same day (NaN when New York was closed)
    return y, pd.DataFrame({"lag": m.shift(1), "m": m, "lead": m.shift(-1)})


def _hand_sample(rets):
    """The design, day 0's row (2022-10-11 in Tokyo) and the estimation rows with every value present."""
    y, x = _hand_design(rets)
    centre = y.index.get_loc(pd.Timestamp("2022-10-11"))
    rows = slice(centre + ESTIMATION[0], centre + ESTIMATION[1] + 1)
    return y, x, centre, pd.concat([y.iloc[rows].rename("y"), x.iloc[rows]], axis=1).dropna()


def test_dimson_betas_equal_a_hand_regression(tokyo):
    rets, study = tokyo
    res = es.EventStudy(EVENT, rets, tickers=["8035.T"], model="dimson", **study).fit()
    y, x, centre, sample = _hand_sample(rets)
    ols = sm.OLS(sample["y"], sm.add_constant(sample[["lag", "m", "lead"]])).fit()
    params = res.params.iloc[0]
    np.testing.assert_allclose(
        params[["alpha", "beta_SPY_lag1", "beta_SPY", "beta_SPY_lead1"]].to_numpy(float),
        ols.params[["const", "lag", "m", "lead"]].to_numpy(),
        rtol=1e-9,
    )
    assert params["beta_dimson"] == pytest.approx(ols.params[["lag", "m", "lead"]].sum(), rel=1e-9)
    window = slice(centre + WINDOW[0], centre + WINDOW[1] + 1)
    expected = y.iloc[window] - ols.predict(sm.add_constant(x.iloc[window][["lag", "m", "lead"]], has_constant="add"))
    np.testing.assert_allclose(res.ar["ar"].to_numpy(), expected.to_numpy(), atol=1e-10)


def test_scholes_williams_beta_equals_its_formula_by_hand(tokyo):
    rets, study = tokyo
    res = es.EventStudy(EVENT, rets, tickers=["8035.T"], model="scholes-williams", **study).fit()
    y, x, centre, sample = _hand_sample(rets)
    slopes = [np.polyfit(sample[c], sample["y"], 1)[0] for c in ("lag", "m", "lead")]
    rho = np.corrcoef(sample["m"], sample["lag"])[0, 1]
    beta = sum(slopes) / (1 + 2 * rho)
    alpha = sample["y"].mean() - beta * sample["m"].mean()
    params = res.params.iloc[0]
    assert params["beta_sw"] == pytest.approx(beta, rel=1e-9)
    assert params["alpha"] == pytest.approx(alpha, rel=1e-9, abs=1e-12)
    resid = sample["y"] - alpha - beta * sample["m"]
    assert params["sigma"] == pytest.approx(np.sqrt((resid**2).sum() / (len(sample) - 2)), rel=1e-9)
    day0 = y.iloc[centre] - alpha - beta * x["m"].iloc[centre]
    assert res.ar.set_index("event_time").loc[0, "ar"] == pytest.approx(day0, abs=1e-12)


# -- currency ------------------------------------------------------------------------------------------------


def test_a_tokyo_listing_in_dollars_uses_the_yen_over_its_own_sessions(global_prices, global_prices_dir):
    rets = es.returns(global_prices)
    fx = pd.read_csv(global_prices_dir / "JPY=X.csv", parse_dates=["Date"], index_col="Date")["Close"]
    usd = es.to_currency(rets, fx, columns=["8035.T"], quote="local-per-target")
    # Yahoo dates an FX close by the start of the day, so the first quote after Tokyo's close of 2022-10-11
    # is dated 2022-10-12, and the one after its previous session (Friday 2022-10-07) is dated 2022-10-10
    yen = rets.loc["2022-10-11", "8035.T"]
    expected = (1 + yen) * (fx.loc["2022-10-10"] / fx.loc["2022-10-12"]) - 1
    assert usd.loc["2022-10-11", "8035.T"] == pytest.approx(expected, rel=1e-12)
    assert usd["NVDA"].equals(rets["NVDA"])  # other columns untouched
    assert "8035.T converted" in usd.attrs["eventstudy_notes"][-1]
    with pytest.raises(KeyError, match="not in the returns"):
        es.to_currency(rets, fx, columns=["6501.T"], quote="local-per-target")


def test_one_announcement_on_several_exchanges_is_one_group_for_tests_across_events(res, tmp_path):
    # five listings, five different day-0 sessions of one announcement: one independent group, not five dates
    assert res.fit.cluster.tolist() == [0, 0, 0, 0, 0]
    loaded = es.load(res.save(tmp_path / "study"))
    assert loaded.fit.cluster.tolist() == [0, 0, 0, 0, 0]


def test_im_t_counts_one_announcement_on_five_exchanges_as_one_date(res):
    im = res.tests([(0, 1)], tests=["im_t"]).iloc[0]
    assert np.isnan(im["stat"]) and "needs at least 2; got 1" in im["note"]
