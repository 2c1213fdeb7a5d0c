"""Bars that used to pass unnoticed (issue 21): a day of another interval, a stamp twice, naive stamps.

The bars are the shared NVDA and SPY 1-minute files; each fault is made from them in a temporary folder,
and the files read are compared by sha256 before and after (reading never changes them).
"""

from __future__ import annotations

import hashlib
import shutil

import pandas as pd
import pytest

import eventstudy as es
from eventstudy import DataSourceError

NY = "America/New_York"


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_day_of_5_minute_bars_in_a_1_minute_file_is_refused_naming_the_day(intraday_dir, tmp_path):
    raw = pd.read_csv(intraday_dir / "NVDA_1m.csv")
    stamps = pd.to_datetime(raw["Datetime"], utc=True).dt.tz_convert(NY)
    on_day = stamps.dt.strftime("%Y-%m-%d") == "2025-05-12"
    assert on_day.sum() > 300  # a full session of minutes in the shared file
    keep = ~on_day | (stamps.dt.minute % 5 == 0)  # that day holds 5-minute bars only
    raw.loc[keep.to_numpy()].to_csv(tmp_path / "NVDA_1m.csv", index=False)
    before = sha(tmp_path / "NVDA_1m.csv")
    with pytest.raises(
        DataSourceError, match=r"NVDA: .*read as 1m bars, but on 2025-05-12 its bars are 0 days 00:05:00 apart"
    ):
        es.CsvSource(tmp_path, interval="1m").get_bars(["NVDA"], "2025-05-09", "2025-05-14")
    assert sha(tmp_path / "NVDA_1m.csv") == before


def test_the_shared_1_minute_file_passes_the_day_by_day_check(intraday_dir, tmp_path):
    shutil.copy(intraday_dir / "NVDA_1m.csv", tmp_path / "NVDA_1m.csv")
    bars = es.CsvSource(tmp_path, interval="1m").get_bars(["NVDA"], "2025-05-09", "2025-05-14")
    assert len(bars) > 1000


@pytest.fixture
def bars(intraday_dir):
    return es.CsvSource(intraday_dir, interval="1m").get_bars(["NVDA", "SPY"], "2025-05-09", "2025-05-14")


EVENTS = pd.DataFrame({"ticker": ["NVDA"], "time": [pd.Timestamp("2025-05-13 10:02:30", tz=NY)]})


def test_a_bar_stamped_twice_at_two_prices_is_refused_naming_ticker_and_time(bars):
    at = pd.Timestamp("2025-05-13 14:30", tz="UTC")  # 10:30 New York
    twin = bars.loc[[("NVDA", at)]].copy()
    twin["Close"] = twin["Close"] * 1.01
    doubled = pd.concat([bars, twin]).sort_index()
    doubled.attrs = bars.attrs
    with pytest.raises(ValueError, match=r"NVDA: the bar at 2025-05-13 10:30:00-04:00 appears 2 times \(Close "):
        es.IntradayStudy(EVENTS, doubled, market="SPY", event_window=(0, 29), estimation_window=(-780, -31)).fit()


def test_bars_with_naive_stamps_are_a_clear_error(bars):
    naive = bars.copy()
    naive.index = naive.index.set_levels(naive.index.levels[1].tz_localize(None), level=1)
    naive.attrs = bars.attrs
    with pytest.raises(TypeError, match=r"time stamps carry no time zone .*localize the stamps"):
        es.IntradayStudy(EVENTS, naive, market="SPY", event_window=(0, 29), estimation_window=(-780, -31)).fit()
