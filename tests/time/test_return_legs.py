"""Overnight and intraday legs of daily returns compound to the close-to-close return on the shared files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import eventstudy as es


def all_tickers(prices_dir):
    """Every shared daily file that has opens and closes (some hold adjusted closes only)."""
    out = []
    for path in sorted(prices_dir.glob("*.csv")):
        raw = pd.read_csv(path)
        if {"Open", "Close"} <= set(raw.columns) and raw["Open"].notna().any() and raw["Close"].notna().any():
            out.append(path.stem)
    return out


def test_legs_compound_to_the_adjusted_close_to_close_return(prices_dir):
    tickers = all_tickers(prices_dir)
    src = es.CsvSource(prices_dir)
    with pytest.warns(es.DataQualityWarning):  # some index files have no Adj Close: the close serves
        prices = src.get_prices(tickers, "2018-01-01", "2025-12-31", fields=["Open", "Close", "Adj Close"])
    overnight = es.returns(prices, kind="overnight")
    intraday = es.returns(prices, kind="intraday")
    # the reference: close-to-close from the files, read with pandas alone
    for ticker in tickers:
        raw = pd.read_csv(prices_dir / f"{ticker}.csv", index_col="Date", parse_dates=True)
        adj = raw["Adj Close"] if raw["Adj Close"].notna().any() else raw["Close"]
        reference = (adj / adj.shift(1) - 1.0).iloc[1:]
        both = ((1 + overnight[ticker]) * (1 + intraday[ticker]) - 1).reindex(reference.index)
        ok = reference.notna() & both.notna()
        assert len(tickers) >= 15
        assert ok.sum() > 500, ticker
        np.testing.assert_allclose(both[ok], reference[ok], rtol=0, atol=1e-12, err_msg=ticker)
        # the intraday leg is the raw close over the raw open, whatever the adjustment
        id_ref = (raw["Close"] / raw["Open"] - 1.0).reindex(reference.index)
        np.testing.assert_allclose(intraday[ticker].reindex(reference.index)[ok], id_ref[ok], rtol=1e-12, atol=1e-15)


def test_nvda_on_2025_05_13_splits_into_a_gap_and_a_session(prices_dir):
    prices = es.CsvSource(prices_dir).get_prices(
        ["NVDA"], "2025-05-01", "2025-05-20", fields=["Open", "Close", "Adj Close"]
    )
    raw = pd.read_csv(prices_dir / "NVDA.csv", index_col="Date", parse_dates=True)
    day, before = pd.Timestamp("2025-05-13"), pd.Timestamp("2025-05-12")
    a = raw.loc[day, "Adj Close"] / raw.loc[day, "Close"]
    expected_gap = raw.loc[day, "Open"] * a / raw.loc[before, "Adj Close"] - 1
    assert es.returns(prices, kind="overnight").loc[day, "NVDA"] == pytest.approx(expected_gap, abs=1e-14)
    assert es.returns(prices, kind="intraday").loc[day, "NVDA"] == pytest.approx(
        raw.loc[day, "Close"] / raw.loc[day, "Open"] - 1, abs=1e-14
    )


def test_single_field_api_is_unchanged_and_legs_need_fields(prices_dir):
    src = es.CsvSource(prices_dir)
    one = src.get_prices(["NVDA", "SPY"], "2025-05-01", "2025-05-20")
    assert list(one.columns) == ["NVDA", "SPY"] and one.attrs["eventstudy_field"] == "Adj Close"
    several = src.get_prices(["NVDA", "SPY"], "2025-05-01", "2025-05-20", fields=["Open", "Adj Close"])
    pd.testing.assert_frame_equal(several["Adj Close"], one, check_names=False)
    assert several.columns.names == ["field", "ticker"]
    with pytest.raises(TypeError, match='fields=\\["Open", "Close", "Adj Close"\\]'):
        es.returns(one, kind="overnight")
    with pytest.raises(KeyError, match=r"needs the .{1,3}Close.{1,3} field"):
        es.returns(several, kind="intraday")
    with pytest.raises(TypeError, match="list of fields"):
        src.get_prices(["NVDA"], "2025-05-01", "2025-05-20", fields="Open")


def test_a_study_of_one_leg_runs_through_event_study(prices_dir):
    prices = es.CsvSource(prices_dir).get_prices(
        ["NVDA", "SPY"], "2024-01-01", "2025-06-30", fields=["Open", "Close", "Adj Close"]
    )
    legs = es.returns(prices, kind="overnight")
    events = pd.DataFrame({"event_id": ["rescission"], "date": ["2025-05-14"], "ticker": ["NVDA"]})
    res = es.EventStudy(events, returns=legs, market="SPY", event_window=(0, 0), estimation_window=(-250, -11)).fit()
    car = res.car()
    assert len(car) == 1 and np.isfinite(car["car"].iloc[0])
