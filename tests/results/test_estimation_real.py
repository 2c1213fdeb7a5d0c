"""The engine on real prices: the AI Diffusion Rule rescission, 2025-05-13 (shared/data/PROVENANCE.md, 4.4).

Prices are read at run time from ``../shared/data/prices`` (the ``prices_dir`` fixture skips when they are
absent); nothing is copied into the repository.  Reference: NVDA closed +5.63 % on 2025-05-13 (Adj Close,
PROVENANCE.md 4.4), with SPY +0.66 %, QQQ +1.52 % and SOXX +2.83 % the same day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import eventstudy as es

TICKERS = ["NVDA", "AMD", "SPY", "QQQ", "SOXX"]
EVENT_DAY = pd.Timestamp("2025-05-13")


@pytest.fixture(scope="module")
def returns(prices_dir):
    closes = {
        ticker: pd.read_csv(prices_dir / f"{ticker}.csv", index_col="Date", parse_dates=True)["Adj Close"]
        for ticker in TICKERS
    }
    prices = pd.DataFrame(closes).sort_index().loc["2024-01-01":"2025-06-30"]
    return es.returns(prices)


@pytest.fixture(scope="module")
def events():
    return pd.DataFrame({"ticker": ["NVDA", "AMD"], "date": ["2025-05-13"] * 2, "session": ["pre"] * 2})


def day0_ar(res, ticker):
    rows = res.ar
    return rows.loc[(rows["ticker"] == ticker) & (rows["event_time"] == 0), "ar"].item()


@pytest.fixture(scope="module")
def fits(returns, events):
    specs = {
        "SPY": ("SPY", "market"),
        "QQQ": ("QQQ", "market"),
        "SOXX": ("SOXX", "market"),
        "SPY+SOXX": (["SPY", "SOXX"], "multi-index"),
    }
    return {
        label: es.EventStudy(events, returns=returns, market=market, model=model).fit()
        for label, (market, model) in specs.items()
    }


def test_raw_day0_return_matches_provenance(returns, fits):
    assert returns.loc[EVENT_DAY, "NVDA"] == pytest.approx(0.0563, abs=5e-5)
    assert returns.loc[EVENT_DAY, "AMD"] == pytest.approx(0.0401, abs=5e-5)
    for res in fits.values():
        assert res.n == 2 and res.dropped.empty
        assert (res.firm_events["day0"] == EVENT_DAY).all()
        assert res.ar.query("event_time == 0")["date"].eq(EVENT_DAY).all()


def test_industry_benchmark_absorbs_part_of_the_move(returns, fits):
    raw = returns.loc[EVENT_DAY, "NVDA"]
    ar_spy, ar_soxx = day0_ar(fits["SPY"], "NVDA"), day0_ar(fits["SOXX"], "NVDA")
    assert 0 < ar_soxx < raw
    assert ar_soxx < ar_spy < raw
    assert 0 < day0_ar(fits["QQQ"], "NVDA") < raw
    # adding SOXX to SPY takes out the sector's day, leaving about what SOXX alone leaves
    assert day0_ar(fits["SPY+SOXX"], "NVDA") < ar_spy


@pytest.mark.parametrize("label", ["SPY", "QQQ", "SOXX", "SPY+SOXX"])
def test_decomposition_adds_up_to_the_raw_return(returns, fits, label):
    parts = fits[label].decompose(window=(0, 0)).set_index("ticker")
    labels = {
        "SPY": ["alpha", "SPY"],
        "QQQ": ["alpha", "QQQ"],
        "SOXX": ["alpha", "SOXX"],
        "SPY+SOXX": ["alpha", "SPY", "SOXX"],
    }[label]
    for ticker in ["NVDA", "AMD"]:
        total = parts.loc[ticker, labels].sum() + parts.loc[ticker, "abnormal"]
        assert parts.loc[ticker, "raw"] == pytest.approx(returns.loc[EVENT_DAY, ticker], abs=1e-15)
        assert total == pytest.approx(parts.loc[ticker, "raw"], abs=1e-12)


def test_real_data_market_model_matches_statsmodels(returns, fits):
    """NVDA vs SOXX: the engine's day-0 AR and se equal one OLS on the 240 estimation days (1e-10)."""
    res = fits["SOXX"]
    position = returns.index.get_loc(EVENT_DAY)
    window = returns.iloc[position - 250 : position - 10][["NVDA", "SOXX"]].dropna()
    x = sm.add_constant(window["SOXX"])
    ols = sm.OLS(window["NVDA"], x).fit(method="qr")
    x0 = np.array([1.0, returns.loc[EVENT_DAY, "SOXX"]])
    ar0 = returns.loc[EVENT_DAY, "NVDA"] - x0 @ ols.params.to_numpy()
    se0 = np.sqrt(ols.scale * (1 + x0 @ np.linalg.inv(x.T.to_numpy() @ x.to_numpy()) @ x0))
    row = res.ar.query("ticker == 'NVDA' and event_time == 0").iloc[0]
    np.testing.assert_allclose([row["ar"], row["se"]], [ar0, se0], rtol=1e-10)
    params = res.params.set_index("ticker").loc["NVDA"]
    np.testing.assert_allclose(params[["alpha", "beta_SOXX"]].to_numpy(dtype=float), ols.params, rtol=1e-10)
    assert params["n_obs"] == len(window) == 240


def test_catalog_rescission_events_run(returns):
    with pytest.warns(es.SessionAssumptionWarning, match="bis-rescinds-diffusion-huawei-guidance-2025-05-13"):
        catalog = es.load_events("export-controls")  # the 05-13 release time is unknown: day 0 rule "pre"
    rescission = catalog[
        catalog["id"].isin(
            ["report-rescind-diffusion-rule-2025-05-07", "bis-rescinds-diffusion-huawei-guidance-2025-05-13"]
        )
    ]
    assert len(rescission) == 2
    res = es.EventStudy(rescission, returns=returns, tickers=["NVDA", "AMD"], market="SOXX").fit()
    assert res.n == 4 and res.dropped.empty
    assert set(res.firm_events["event_id"]) == set(rescission["id"])
    day0 = res.firm_events.set_index(["event_id", "ticker"])["day0"]
    assert day0.loc[("bis-rescinds-diffusion-huawei-guidance-2025-05-13", "NVDA")] == EVENT_DAY
    assert day0.loc[("report-rescind-diffusion-rule-2025-05-07", "AMD")] == pd.Timestamp("2025-05-07")
    car = res.car(window=(0, 1))
    assert np.isfinite(car[["car", "se", "t"]].to_numpy()).all()
    # the two events are four sessions apart, so their (-5, 5) windows overlap and are flagged
    assert res.firm_events["overlaps"].map(len).gt(0).all()
