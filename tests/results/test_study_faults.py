"""Study inputs that used to pass without a word (issue 21): a stale quote, a one-row estimation window."""

from __future__ import annotations

import warnings

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


def test_a_firm_event_left_out_by_the_second_stage_is_not_warned_of_as_kept_with_a_gap():
    """The event-window gap warning names kept firm-events ("... and were kept"): it is counted on the final
    fit, after a second stage (GARCH's likelihood) has left some out, not before (it named AAA's firm-event,
    which the second stage then dropped). Here a second stage drops AAA; BBB, with no gap, is kept."""
    from eventstudy.estimation.linear import MarketModel

    class SecondStage(MarketModel):
        def refit(self, fit):
            why = np.full(fit.n, None, dtype=object)
            why[0] = "second stage did not converge"
            return fit, why

    sessions = pd.bdate_range("2021-01-04", periods=400)
    rng = np.random.default_rng(3)
    m = rng.normal(0, 0.01, 400)
    returns = pd.DataFrame(
        {"MKT": m, "AAA": m + rng.normal(0, 0.02, 400), "BBB": m + rng.normal(0, 0.02, 400)}, index=sessions
    )
    day0 = sessions[300]
    returns.loc[sessions[303], "AAA"] = np.nan  # a gap inside AAA's event window
    events = pd.DataFrame({"event_id": ["e", "e"], "ticker": ["AAA", "BBB"], "day0": [day0, day0]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = es.EventStudy(events, returns=returns, market="MKT", model=SecondStage(), calendar="XNYS").fit()
    assert res.firm_events["ticker"].tolist() == ["BBB"]
    assert res.dropped[["ticker", "reason"]].values.tolist() == [["AAA", "second stage did not converge"]]
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "lack an abnormal return inside the event window" in m], messages
    assert any("1 of 2 firm-events could not be estimated" in m for m in messages)
