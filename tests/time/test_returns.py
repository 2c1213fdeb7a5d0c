"""returns(): simple and log returns on the trading calendar, never bridging a gap."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from eventstudy import DataQualityWarning, TradingCalendar, returns

DAYS = ["2025-01-06", "2025-01-07", "2025-01-08", "2025-01-10", "2025-01-13"]  # 2025-01-09 closed


def _frame(columns: dict[str, list[float]], days: list[str] = DAYS) -> pd.DataFrame:
    return pd.DataFrame(columns, index=pd.DatetimeIndex(pd.to_datetime(days), name="Date"))


def _loop(values: list[float], kind: str) -> list[float]:
    out = []
    for before, now in zip(values[:-1], values[1:]):
        out.append(math.log(now / before) if kind == "log" else now / before - 1.0)
    return out


@pytest.mark.parametrize("kind", ["simple", "log"])
def test_returns_equal_a_hand_loop(kind):
    nvda = [100.0, 103.0, 99.5, 101.25, 120.0]
    amd = [50.0, 49.0, 49.0, 51.5, 50.0]
    got = returns(_frame({"NVDA": nvda, "AMD": amd}), kind)
    assert list(got.columns) == ["NVDA", "AMD"]
    assert got.index.name == "Date"
    assert list(got.index.strftime("%Y-%m-%d")) == DAYS[1:]  # first day has no return
    np.testing.assert_allclose(got["NVDA"], _loop(nvda, kind), rtol=0, atol=1e-14)
    np.testing.assert_allclose(got["AMD"], _loop(amd, kind), rtol=0, atol=1e-14)


def test_series_in_series_out():
    prices = _frame({"NVDA": [100.0, 110.0, 99.0, 99.0, 108.9]})["NVDA"]
    got = returns(prices)
    assert isinstance(got, pd.Series) and got.name == "NVDA"
    np.testing.assert_allclose(got.to_numpy(), [0.1, -0.1, 0.0, 0.1], atol=1e-14)


def test_a_missing_price_makes_that_day_and_the_next_nan():
    got = returns(_frame({"NVDA": [100.0, 101.0, np.nan, 103.0, 104.0], "AMD": [1.0, 2.0, 3.0, 4.0, 5.0]}))
    assert np.isnan(got.loc["2025-01-08", "NVDA"]) and np.isnan(got.loc["2025-01-10", "NVDA"])
    assert got.loc["2025-01-13", "NVDA"] == pytest.approx(104.0 / 103.0 - 1)
    assert got["AMD"].notna().all()  # other tickers unaffected


def test_a_session_missing_for_every_ticker_is_not_bridged():
    days = ["2025-01-06", "2025-01-07", "2025-01-10", "2025-01-13"]  # 2025-01-08 missing everywhere
    prices = _frame({"NVDA": [100.0, 101.0, 103.0, 104.0]}, days)
    got = returns(prices)
    assert got.loc[["2025-01-08", "2025-01-10"], "NVDA"].isna().all()
    assert any("2025-01-08" in note for note in got.attrs["eventstudy_notes"])
    # without a calendar, consecutive rows are taken as consecutive sessions
    raw = returns(prices, calendar=None)
    assert raw.loc["2025-01-10", "NVDA"] == pytest.approx(103.0 / 101.0 - 1)


def test_weekend_rows_are_dropped_with_a_warning_and_notes_kept():
    prices = _frame({"NVDA": [100.0, 101.0, 102.0, 103.0]}, ["2025-01-03", "2025-01-04", "2025-01-06", "2025-01-07"])
    prices.attrs["eventstudy_notes"] = ["source: test"]
    with pytest.warns(DataQualityWarning, match="2025-01-04"):
        got = returns(prices, calendar=TradingCalendar())
    assert got.loc["2025-01-06", "NVDA"] == pytest.approx(102.0 / 100.0 - 1)
    assert got.attrs["eventstudy_notes"][0] == "source: test"
    assert len(got.attrs["eventstudy_notes"]) == 2


def test_notes_survive_with_and_without_a_calendar():
    prices = _frame({"NVDA": [100.0, 101.0, 102.0, 103.0, 104.0]})
    prices.attrs["eventstudy_notes"] = ["source: test"]
    for calendar in (None, "XNYS"):
        got = returns(prices, calendar=calendar)
        assert got.attrs["eventstudy_notes"][0] == "source: test"
        assert got.attrs["return_kind"] == "simple"
    prices.attrs["eventstudy_notes"] = []
    assert returns(prices).attrs["eventstudy_notes"] == []


def test_calendar_is_a_code_a_calendar_or_none():
    with pytest.raises(TypeError, match="'calendar' parameter must be an exchange code"):
        returns(_frame({"NVDA": [1.0, 2.0, 3.0, 4.0, 5.0]}), calendar=42)  # type: ignore[arg-type]


def test_kind_is_validated():
    with pytest.raises(ValueError, match=r"'kind'.*'pct'"):
        returns(_frame({"NVDA": [1.0, 2.0, 3.0, 4.0, 5.0]}), "pct")


def test_non_numeric_column_is_named():
    prices = _frame({"NVDA": [1.0, 2.0, 3.0, 4.0, 5.0], "AMD": ["1", "2", "3", "4", "x"]})
    with pytest.raises(TypeError, match="'AMD'.*not numeric"):
        returns(prices)


@pytest.mark.parametrize("bad", [0.0, -3.5])
def test_non_positive_price_names_ticker_date_and_value(bad):
    prices = _frame({"NVDA": [1.0, 2.0, 3.0, 4.0, 5.0], "AMD": [1.0, 2.0, bad, 4.0, 5.0]})
    with pytest.raises(ValueError, match=rf"'AMD' on 2025-01-08 is {bad:g}"):
        returns(prices)


def test_unsorted_index_is_rejected():
    prices = _frame({"NVDA": [1.0, 2.0, 3.0, 4.0, 5.0]}).iloc[[0, 2, 1, 3, 4]]
    with pytest.raises(ValueError, match=r"not sorted.*sort_index"):
        returns(prices)


def test_duplicated_dates_are_rejected():
    days = ["2025-01-06", "2025-01-07", "2025-01-07", "2025-01-08", "2025-01-10"]
    prices = _frame({"NVDA": [1.0, 2.0, 3.0, 4.0, 5.0]}, days)
    with pytest.raises(ValueError, match="duplicated dates.*2025-01-07"):
        returns(prices)


def test_wrong_types_are_type_errors():
    with pytest.raises(TypeError, match="'prices'"):
        returns([1.0, 2.0])
    with pytest.raises(TypeError, match="DatetimeIndex"):
        returns(pd.DataFrame({"NVDA": [1.0, 2.0]}))


def test_nvda_return_on_2025_05_13_matches_provenance(prices_dir):
    # PROVENANCE.md 4.4: NVDA +5.63% on 2025-05-13 (Saudi/Humain day), Adj Close close-to-close
    prices = pd.read_csv(prices_dir / "NVDA.csv", index_col="Date", parse_dates=True)[["Adj Close"]]
    got = returns(prices)
    assert got.loc["2025-05-13", "Adj Close"] * 100 == pytest.approx(5.63, abs=0.005)
    # the file has every session, so the calendar changes nothing: same as plain pandas
    plain = prices["Adj Close"].pct_change(fill_method=None).iloc[1:]
    np.testing.assert_allclose(got["Adj Close"].to_numpy(), plain.to_numpy(), rtol=1e-12)


def test_eventstudy_returns_is_callable_whatever_the_import_order():
    import importlib

    import eventstudy

    importlib.import_module("eventstudy.time.returns")  # importing the module must not shadow the function
    prices = _frame({"NVDA": [100.0, 110.0, 99.0, 99.0, 108.9]})
    np.testing.assert_allclose(eventstudy.returns(prices)["NVDA"], [0.1, -0.1, 0.0, 0.1], atol=1e-14)
