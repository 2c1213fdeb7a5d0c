"""Study inputs that used to pass without a word (issue 21): a stale quote, a one-row estimation window."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import eventstudy as es

EVENT = pd.DataFrame({"ticker": ["NVDA", "AMD"], "date": ["2025-05-13", "2025-05-13"]})


@pytest.fixture(scope="module")
def rets(prices_dir):
    prices = es.CsvSource(prices_dir).get_prices(["NVDA", "AMD", "SPY"], "2024-01-02", "2025-06-30")
    return es.returns(prices)


def window_rows(rets, day0="2025-05-13", lo=-250, hi=-11):
    at = rets.index.get_loc(pd.Timestamp(day0))
    return rets.index[at + lo : at + hi + 1]


def test_an_estimation_window_of_mostly_zero_returns_is_dropped_as_stale(rets):
    stale = rets.copy()
    rows = window_rows(rets)
    assert len(rows) == 240
    stale.loc[rows[1:], "NVDA"] = 0.0  # 239 of 240 returns exactly 0: a quote that stopped moving
    with pytest.warns(es.DroppedFirmEventsWarning, match="1 of 2 firm-events"):
        res = es.EventStudy(EVENT, returns=stale, market="SPY", estimation_window=(-250, -11)).fit()
    reasons = res.dropped.set_index("ticker")["reason"]
    assert (
        reasons["NVDA"] == "stale or thin trading: 239 of 240 estimation-window returns are exactly 0 (more than 50%)"
    )
    assert res.firm_events["ticker"].tolist() == ["AMD"]  # the other firm is kept


def test_half_zero_returns_are_kept(rets):
    thin = rets.copy()
    rows = window_rows(rets)
    thin.loc[rows[::2], "NVDA"] = 0.0  # exactly 120 of 240: not more than half
    assert int((thin.loc[rows, "NVDA"] == 0).sum()) == 120
    res = es.EventStudy(EVENT, returns=thin, market="SPY", estimation_window=(-250, -11)).fit()
    assert sorted(res.firm_events["ticker"]) == ["AMD", "NVDA"] and res.dropped.empty


def test_a_one_row_estimation_window_names_the_window_not_an_unset_parameter(rets):
    with pytest.raises(ValueError, match=r"'estimation_window' parameter \(-11, -11\) holds 1 session") as info:
        es.EventStudy(EVENT, returns=rets, market="SPY", estimation_window=(-11, -11)).fit()
    assert "min_estimation_obs' must lie" not in str(info.value)
    # set explicitly, min_estimation_obs is the parameter to name
    with pytest.raises(ValueError, match=r"'min_estimation_obs' parameter must lie between 3"):
        es.EventStudy(EVENT, returns=rets, market="SPY", estimation_window=(-11, -11), min_estimation_obs=3).fit()


def test_a_zero_return_real_series_is_not_called_stale(rets):
    # the real NVDA and AMD windows hold a few exact zeros at most: nothing is dropped
    rows = window_rows(rets)
    assert int((rets.loc[rows, ["NVDA", "AMD"]] == 0).to_numpy().sum()) < 10
    res = es.EventStudy(EVENT, returns=rets, market="SPY", estimation_window=(-250, -11)).fit()
    assert res.dropped.empty and res.n == 2


def test_a_nan_car_shows_n_a_with_a_note_not_a_blank_cell(rets):
    gap = rets.copy()
    gap.loc["2025-05-15", "NVDA"] = np.nan  # day +2 missing: NVDA's (-5,+5) CAR cannot be computed
    with pytest.warns(es.DataQualityWarning):
        res = es.EventStudy(EVENT, returns=gap, market="SPY").fit()
    assert np.isnan(res.car((-5, 5)).set_index("ticker").loc["NVDA", "car"])
    summary = res.summary()
    table = summary.tables[0].display.set_index("ticker")
    assert table.loc["NVDA", "CAR (-5,+5)"] == "n/a" and table.loc["AMD", "CAR (-5,+5)"].endswith("%")
    assert table.loc["NVDA", "CAR (-1,+1)"].endswith("%")  # the windows the gap does not reach are shown
    for text in (summary.as_text(), summary.to_markdown(), summary.as_html()):
        assert "n/a: the value could not be computed for that row" in text
    assert "n/a" not in " ".join(
        es.EventStudy(EVENT, returns=rets, market="SPY").fit().summary().tables[0].display.stack()
    )
