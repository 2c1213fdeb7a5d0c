"""Shenzhen listings are XSHE (their own exchange) on the Shanghai Stock Exchange's sessions."""

from __future__ import annotations

import warnings

import pandas as pd

import eventstudy as es
from eventstudy.foundation.exchanges import exchange_of, sessions_code
from eventstudy.time.layout import MarketSpec, calendar_of, same_sessions


def test_shenzhen_is_xshe_on_shanghais_sessions():
    assert exchange_of("002371.SZ") == "XSHE" and exchange_of("688981.SS") == "XSHG"
    assert sessions_code("XSHE") == "XSHG" and same_sessions("XSHE", "XSHG") and not same_sessions("XSHE", "XHKG")
    shenzhen, shanghai = calendar_of("XSHE"), calendar_of("XSHG")
    assert shenzhen.name == "XSHE"
    assert shenzhen.sessions.equals(shanghai.sessions)
    # the Golden Week of 2022: closed 3-7 October, open again on the 10th
    assert shenzhen.day_zero("2022-10-07", session="pre") == pd.Timestamp("2022-10-10")
    # a benchmark mapped to Shanghai serves a Shenzhen listing (same sessions); an exact key still wins
    assert MarketSpec({"XSHG": "000300.SS"}).of("002371.SZ", "XSHE") == ("000300.SS",)
    assert MarketSpec({"XSHG": "000300.SS", "XSHE": "399001.SZ"}).of("002371.SZ", "XSHE") == ("399001.SZ",)


def test_a_shenzhen_listing_is_labelled_xshe_in_a_study(global_prices_dir):
    event = pd.DataFrame({"id": ["oct7"], "date": ["2022-10-07T16:30:00-04:00"], "session": [""]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the files hold Close only (no dividends): not what this test is about
        prices = es.CsvSource(global_prices_dir).get_prices(["002371.SZ", "000300.SS"], "2021-06-01", "2022-11-30")
        rets = es.returns(prices)
        res = es.EventStudy(event, rets, tickers=["002371.SZ"], market={"XSHG": "000300.SS"}).fit()
    row = res.firm_events.iloc[0]
    assert row["exchange"] == "XSHE" and row["day0"] == pd.Timestamp("2022-10-10")


def test_the_us_exchanges_keep_nyse_sessions_as_exchange_calendars_aliases_say():
    """One table of shared sessions: every US code maps to XNYS, where exchange_calendars has it as an alias of
    XNYS; and an exchange code maps only to a calendar exchange_calendars builds."""
    import exchange_calendars as xcals

    from eventstudy.foundation.exchanges import SESSIONS_OF

    aliases = xcals.calendar_utils.global_calendar_dispatcher._aliases
    known = set(xcals.get_calendar_names(include_aliases=False))
    assert {c for c in SESSIONS_OF if c in aliases} >= {"XNAS", "XASE", "ARCX", "BATS"}
    for code, keeps in SESSIONS_OF.items():
        assert keeps in known, code
        if code in aliases:
            assert aliases[code] == keeps, code
    for us in ("XNAS", "XASE", "ARCX", "BATS", "IEXG"):
        assert same_sessions(us, "XNYS") and same_sessions("XNYS", us) and same_sessions(us, "ARCX")
    assert not same_sessions("XNAS", "XTKS") and not same_sessions("XSHE", "XNYS")
