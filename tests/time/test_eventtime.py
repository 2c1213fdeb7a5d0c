"""Event time: one resolver of day 0 for the catalog, the study and every exchange.

Expected dates are worked out by hand from the exchanges' published holidays, not from the code:

* 2025-04-11 was a Friday; 22:00 New York time is after the NYSE close, so the first session to react is
  Monday 2025-04-14.
* 2025-05-13T02:00Z is 22:00 on 2025-05-12 in New York (EDT, UTC-4): after that day's close, before the
  open of Tuesday 2025-05-13.
* 2022-10-07 (a Friday) after the US close: Monday 2022-10-10 was Columbus Day (NYSE open), Chung Yeung had
  been on 2022-10-04 (Hong Kong open on the 10th), Japan's Sports Day and Taiwan's National Day closed Tokyo
  and Taipei on the 10th, so their first session is 2022-10-11; China's Golden Week ended on 2022-10-07
  (Shanghai open on the 10th); Amsterdam traded on the 10th.
* The rescission of 2025-05-13 has an unknown session; the rule ``post`` takes the next session,
  Wednesday 2025-05-14.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy.exceptions import EventCatalogError, SessionAssumptionWarning

RESCISSION = "bis-rescinds-diffusion-huawei-guidance-2025-05-13"


def _synthetic_returns(tickers, start="2024-01-01", end="2025-12-31", seed=0) -> pd.DataFrame:
    """Returns on NYSE sessions (market model with noise) for tickers listed in New York."""
    sessions = es.TradingCalendar("XNYS").sessions_in_range(start, end)
    rng = np.random.default_rng(seed)
    market = rng.normal(0, 0.01, len(sessions))
    data = {"SPY": market}
    for t in tickers:
        data[t] = 0.0002 + 1.1 * market + rng.normal(0, 0.015, len(sessions))
    frame = pd.DataFrame(data, index=sessions)
    frame.attrs["return_kind"] = "simple"
    return frame


# -- the five silent cases -------------------------------------------------------------------------------


def test_unknown_session_given_to_load_events_travels_to_the_study():
    with pytest.warns(SessionAssumptionWarning, match="unknown_session='post'"):
        events = es.load_events("export-controls", unknown_session="post")
    event = events[events["id"] == RESCISSION]
    assert event["day0"].item() == pd.Timestamp("2025-05-14")
    res = es.EventStudy(event, _synthetic_returns(["NVDA"]), tickers=["NVDA"], market="SPY").fit()
    assert res.firm_events.loc[0, "day0"] == pd.Timestamp("2025-05-14")
    assert "taken as 'post'" in res.firm_events.loc[0, "day0_rule"]


def test_a_time_in_the_date_column_decides_the_session(tmp_path):
    (tmp_path / "e.csv").write_text("id,date,session\nlate,2025-04-11T22:00:00-04:00,\n", encoding="utf-8")
    events = es.load_events(tmp_path / "e.csv")
    assert events.loc[0, "day0"] == pd.Timestamp("2025-04-14")
    assert events.loc[0, "timestamp"] == pd.Timestamp("2025-04-12T02:00:00Z")
    assert "after the XNYS close" in events.loc[0, "day0_rule"]
    firm = pd.DataFrame({"ticker": ["NVDA"], "date": ["2025-04-11T22:00:00-04:00"], "event_id": ["late"]})
    res = es.EventStudy(firm, _synthetic_returns(["NVDA"]), market="SPY").fit()
    assert res.firm_events.loc[0, "day0"] == pd.Timestamp("2025-04-14")


def test_a_utc_timestamp_is_not_cut_to_its_utc_date(tmp_path):
    (tmp_path / "e.csv").write_text("id,date,session\nx,2025-05-13T02:00Z,pre\n", encoding="utf-8")
    events = es.load_events(tmp_path / "e.csv")
    assert events.loc[0, "day0"] == pd.Timestamp("2025-05-13")  # not 2025-05-12: no look-ahead
    assert events.loc[0, "date"] == pd.Timestamp("2025-05-12")  # the New York calendar day of the release
    aware = pd.DataFrame({"ticker": ["NVDA"], "date": [pd.Timestamp("2025-05-13T02:00Z")]})
    res = es.EventStudy(aware, _synthetic_returns(["NVDA"]), market="SPY").fit()
    assert res.firm_events.loc[0, "day0"] == pd.Timestamp("2025-05-13")


def test_one_event_id_with_two_dates_is_refused_naming_both_rows():
    events = pd.DataFrame({"event_id": ["E1", "E1"], "ticker": ["NVDA", "AMD"], "date": ["2025-05-07", "2025-05-13"]})
    with pytest.raises(ValueError, match=r"'E1' has different dates .*row 1: .*2025-05-07.*row 2: .*2025-05-13"):
        es.EventStudy(events, _synthetic_returns(["NVDA", "AMD"]), market="SPY").fit()


def test_a_taiwan_calendar_accepts_the_catalogs_own_events(catalog, global_prices_dir):
    event = catalog[catalog["id"] == "bis-advanced-computing-rule-2022-10-07"]
    source = es.CsvSource(global_prices_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.DataQualityWarning)  # the TWSE files have no Adj Close
        res = es.EventStudy(event, source=source, tickers=["2330.TW"], market="^TWII", calendar="XTAI").fit()
    # 'intraday' on the US clock (Friday afternoon in New York) is after Taipei's close: next session, and
    # Monday 2022-10-10 was Taiwan's National Day
    assert res.firm_events.loc[0, "day0"] == pd.Timestamp("2022-10-11")


# -- timestamps on every exchange -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, expected",
    [("XNYS", "2022-10-10"), ("XHKG", "2022-10-10"), ("XSHG", "2022-10-10"), ("XTKS", "2022-10-11"),
     ("XTAI", "2022-10-11"), ("XAMS", "2022-10-10")],
)  # fmt: skip
def test_a_friday_evening_announcement_reaches_each_exchange_on_its_next_session(code, expected, tmp_path):
    (tmp_path / "e.csv").write_text("id,date,session\noct7,2022-10-07T16:30:00-04:00,\n", encoding="utf-8")
    events = es.load_events(tmp_path / "e.csv", calendar=code)
    assert events.loc[0, "day0"] == pd.Timestamp(expected)


def test_during_the_session_is_that_session_and_says_so(tmp_path):
    (tmp_path / "e.csv").write_text("id,date,session\nmid,2025-05-07T13:05:00-04:00,intraday\n", encoding="utf-8")
    events = es.load_events(tmp_path / "e.csv")
    assert events.loc[0, "day0"] == pd.Timestamp("2025-05-07")
    assert "during the XNYS session" in events.loc[0, "day0_rule"]
    # the same minute is 02:05 on May 8 in Tokyo: before its open, so that morning's session
    tokyo = es.load_events(tmp_path / "e.csv", calendar="XTKS")
    assert tokyo.loc[0, "day0"] == pd.Timestamp("2025-05-08")
    assert "before the XTKS open" in tokyo.loc[0, "day0_rule"]


def test_date_columns_with_time_and_timezone(tmp_path):
    text = "id,date,session,time,timezone\nsec,2023-10-17,,17:27,America/New_York\n"
    (tmp_path / "e.csv").write_text(text, encoding="utf-8")
    events = es.load_events(tmp_path / "e.csv")
    assert events.loc[0, "timestamp"] == pd.Timestamp("2023-10-17T21:27:00Z")
    assert events.loc[0, "day0"] == pd.Timestamp("2023-10-18")


def test_a_day0_the_user_gives_is_kept(tmp_path):
    (tmp_path / "e.csv").write_text("id,date,session,day0\nx,2025-05-09,post,2025-05-13\n", encoding="utf-8")
    events = es.load_events(tmp_path / "e.csv")
    assert events.loc[0, "day0"] == pd.Timestamp("2025-05-13") and events.loc[0, "day0_rule"] == "given"
    res = es.EventStudy(events, _synthetic_returns(["NVDA"]), tickers=["NVDA"], market="SPY").fit()
    assert res.firm_events.loc[0, "day0"] == pd.Timestamp("2025-05-13")
    (tmp_path / "bad.csv").write_text("id,date,session,day0\nx,2025-05-09,post,2025-05-10\n", encoding="utf-8")
    with pytest.raises(EventCatalogError, match="2025-05-10, is not a session of XNYS"):
        es.load_events(tmp_path / "bad.csv")


def test_a_us_session_that_spans_two_tokyo_sessions_takes_the_earlier_and_warns(tmp_path):
    # 'pre' on 2025-05-07 is 00:00-09:30 New York time = 13:00-22:30 in Tokyo: during the May 7 afternoon
    # session or after it, so May 7 (the earlier) with a warning
    (tmp_path / "e.csv").write_text("id,date,session\np,2025-05-07,pre\n", encoding="utf-8")
    with pytest.warns(SessionAssumptionWarning, match=r"spans two XTKS sessions: p \(2025-05-07 or 2025-05-08\)"):
        events = es.load_events(tmp_path / "e.csv", calendar="XTKS")
    assert events.loc[0, "day0"] == pd.Timestamp("2025-05-07")


# -- bad input ------------------------------------------------------------------------------------------


def test_a_naive_time_is_refused_naming_the_row(tmp_path):
    (tmp_path / "e.csv").write_text("id,date,session\na,2025-05-07,pre\nb,2025-05-07T18:00:00,\n", encoding="utf-8")
    with pytest.raises(EventCatalogError, match=r"e.csv row 2 \(id 'b'\), column 'date': the time .* has no time zone"):
        es.load_events(tmp_path / "e.csv")
    events = es.load_events(tmp_path / "e.csv", naive_tz="America/New_York")
    assert events.set_index("id").loc["b", "day0"] == pd.Timestamp("2025-05-08")
    firm = pd.DataFrame({"ticker": ["NVDA"], "date": [pd.Timestamp("2025-05-07 18:00")]})
    with pytest.raises(ValueError, match="times without a time zone"):
        es.EventStudy(firm, _synthetic_returns(["NVDA"]), market="SPY").fit()


def test_unknown_suffixes_and_indices_are_refused_not_guessed():
    assert es.exchange_of("0981.HK") == "XHKG" and es.exchange_of("^N225") == "XTKS"
    assert es.exchange_of("BRK.B") == "XNYS"  # a share class, not a market suffix
    with pytest.raises(ValueError, match=r"'ABC\.XX'.*suffix '\.XX'.*exchanges=\{'ABC\.XX': 'XNYS'\}"):
        es.exchange_of("ABC.XX")
    with pytest.raises(ValueError, match=r"'\^MYIDX' is not one of the index symbols"):
        es.exchange_of("^MYIDX")
    assert es.exchange_of("ABC.XX", {"ABC.XX": "XLON"}) == "XLON"


def test_a_benchmark_on_another_exchange_needs_a_rule():
    events = pd.DataFrame({"ticker": ["8035.T"], "date": ["2025-05-07"], "session": ["post"]})
    rets = _synthetic_returns(["8035.T"])
    with pytest.raises(
        ValueError, match=r"SPY trades on XNYS, the securities .* on XTKS.*align_benchmarks='same-date'"
    ):
        es.EventStudy(events, rets, market="SPY").fit()


def test_the_catalog_carries_release_timestamps_consistent_with_its_sessions(catalog):
    stamped = catalog[catalog["timestamp"].notna()].set_index("id")
    assert len(stamped) >= 3
    # Trump's remark aboard Air Force One at about 22:45 New York time on 2025-10-28: after the NYSE close, so
    # New York reacts on 2025-10-29; in Seoul it is 11:45 on 2025-10-29, during that morning's session
    remark = stamped.loc["trump-blackwell-xi-remark-2025-10-28"]
    assert remark["session"] == "post" and remark["day0"] == pd.Timestamp("2025-10-29")
    assert remark["timestamp"] == pd.Timestamp("2025-10-29T02:45:00Z")
    seoul = es.load_events("export-controls", calendar="XKRX").set_index("id")
    assert seoul.loc["trump-blackwell-xi-remark-2025-10-28", "day0"] == pd.Timestamp("2025-10-29")


def test_a_session_that_contradicts_its_timestamp_is_reported(tmp_path):
    (tmp_path / "e.csv").write_text("id,date,session,timestamp\nx,2025-05-13,pre,2025-05-13T14:00:00-04:00\n")
    with pytest.warns(SessionAssumptionWarning, match=r"x \(session 'pre', but 2025-05-13 14:00 EDT is intraday\)"):
        events = es.load_events(tmp_path / "e.csv")
    assert events.loc[0, "day0"] == pd.Timestamp("2025-05-13")


def test_columns_the_study_does_not_read_are_not_its_concern():
    rets = _synthetic_returns(["NVDA"])
    rets["ABC.XX"] = 0.0  # an exchange nobody can name, in a column nobody asked for
    events = pd.DataFrame({"ticker": ["NVDA"], "date": ["2025-05-07"], "session": ["post"]})
    res = es.EventStudy(events, rets, market="SPY").fit()
    assert res.firm_events.loc[0, "day0"] == pd.Timestamp("2025-05-08")
    with pytest.raises(ValueError, match=r"'ABC\.XX'.*suffix '\.XX'"):
        es.EventStudy(events.assign(ticker="ABC.XX"), rets, market="SPY").fit()


@pytest.mark.parametrize(
    "exchange, inside, outside",
    [
        ("XNYS", ("2019-12-27", "2019-12-30", "2020-01-01"), ("2019-12-26", "2019-12-20", "2019-01-02")),
        ("XHKG", ("2019-12-26", "2019-12-30"), ("2019-12-25", "2019-11-02")),
    ],
)
def test_a_date_has_a_day_0_up_to_a_week_before_the_calendars_first_open(exchange, inside, outside):
    """Issue 23: dates far from the calendar's start skip the zone conversion; those near it keep it.

    By hand: a date is midnight on the US clock (05:00 UTC in winter), and an instant has a day 0 from a week
    before the calendar's first open.  New York's first open, 2020-01-02 09:30 (14:30 UTC), puts that limit at
    2019-12-26 14:30 UTC: midnight of the 26th (05:00 UTC) is before it, of the 27th after it.  Hong Kong's,
    09:30 there (01:30 UTC), puts it at 2019-12-26 01:30 UTC: midnight of the 26th in New York (05:00 UTC) is
    after it although the 26th's own midnight (00:00) is before it, and midnight of the 25th is before it.
    Every date with a day 0 gets the calendar's first session, 2020-01-02.
    """
    from eventstudy.estimation.firmevents import firm_events, place
    from eventstudy.time.layout import CalendarSpec

    calendars = CalendarSpec(es.TradingCalendar(exchange, start="2020-01-02", end="2020-12-31"))
    for date in inside:
        placed = place(firm_events(pd.DataFrame({"ticker": ["AAA"], "date": [date]}), None), calendars)
        assert placed.loc[0, "day0"] == pd.Timestamp("2020-01-02"), date
    for date in outside:
        with pytest.raises(ValueError, match=rf"{date} \(session local\) has no day 0 inside the {exchange} trading"):
            place(firm_events(pd.DataFrame({"ticker": ["AAA"], "date": [date]}), None), calendars)
