"""Intraday bars from CSV files: start labels in UTC, declared end labels converted, sessions marked, bad files refused.

Bad files are written to a temporary folder from rows of the real shared files, edited to carry one fault.
"""

from __future__ import annotations

import pandas as pd
import pytest

from eventstudy import CsvSource, DataSourceError


def read_rows(intraday_dir, name):
    return pd.read_csv(intraday_dir / name, dtype=str)


def test_us_minute_bars_are_utc_starts_with_the_file_values(intraday_dir):
    bars = CsvSource(intraday_dir, interval="1m").get_bars(["NVDA", "SPY"], "2025-05-13", "2025-05-13")
    raw = read_rows(intraday_dir, "NVDA_1m.csv").set_index("Datetime")
    nvda = bars.loc["NVDA"]
    assert str(nvda.index.tz) == "UTC"
    # 09:30 EDT is 13:30 UTC
    first = nvda.iloc[0]
    assert nvda.index[0] == pd.Timestamp("2025-05-13 13:30", tz="UTC")
    assert first["Close"] == float(raw.loc["2025-05-13T09:30:00-04:00", "Close"])
    assert first["session"] == "regular" and bool(first["regular"])
    assert (nvda["session_date"] == pd.Timestamp("2025-05-13")).all()
    assert bars.attrs["eventstudy_interval"] == "1m"
    assert bars.attrs["eventstudy_calendars"] == {"NVDA": "XNYS", "SPY": "XNYS"}


def test_pre_and_post_market_bars_are_kept_and_marked(intraday_dir):
    spy = CsvSource(intraday_dir, interval="5m").get_bars("SPY", "2025-05-13", "2025-05-13").loc["SPY"]
    local = spy.index.tz_convert("America/New_York")
    assert len(spy) == 191  # 04:00..19:55 every five minutes, one pre-market bar absent in the file
    expected = ["pre" if t < pd.Timestamp("09:30").time() else "post" if t >= pd.Timestamp("16:00").time() else "regular"
                for t in local.time]  # fmt: skip
    assert spy["session"].tolist() == expected
    assert int(spy["regular"].sum()) == 78


def test_tokyo_end_stamps_are_declared_and_moved_to_the_bar_start(intraday_dir):
    src = CsvSource(intraday_dir, interval="5m", label={"8035.T": "end"})
    bars = src.get_bars(["8035.T"], "2025-05-13", "2025-05-13").loc["8035.T"]
    local = bars.index.tz_convert("Asia/Tokyo")
    # the file's first bar of the day is stamped 09:05 and opens at the official open (24000)
    assert local[0] == pd.Timestamp("2025-05-13 09:00", tz="Asia/Tokyo")
    assert bars["Open"].iloc[0] == 24000.0
    assert (
        bars.attrs["eventstudy_labels"] == {"8035.T": "end"} and bars.attrs["eventstudy_calendars"]["8035.T"] == "XTKS"
    )
    lunch = bars.loc[
        (local >= pd.Timestamp("2025-05-13 11:30", tz="Asia/Tokyo"))
        & (local < pd.Timestamp("2025-05-13 12:30", tz="Asia/Tokyo"))
    ]
    assert len(lunch) and (lunch["session"] == "break").all()
    undeclared = CsvSource(intraday_dir, interval="5m").get_bars(["8035.T"], "2025-05-13", "2025-05-13").loc["8035.T"]
    assert undeclared.index[0] == pd.Timestamp("2025-05-13 09:05", tz="Asia/Tokyo")  # start label taken as given


def write(tmp_path, name, frame):
    frame.to_csv(tmp_path / name, index=False)
    return tmp_path


def real_day(intraday_dir, name, day):
    raw = read_rows(intraday_dir, name)
    return raw.loc[raw["Datetime"].str.startswith(day)].reset_index(drop=True)


def test_bars_without_a_zone_are_refused_naming_the_line(intraday_dir, tmp_path):
    rows = real_day(intraday_dir, "NVDA_5m.csv", "2025-05-13")
    rows.loc[3, "Datetime"] = rows.loc[3, "Datetime"][:19]
    write(tmp_path, "NVDA_5m.csv", rows)
    with pytest.raises(DataSourceError, match=r"NVDA.*line 5.*no UTC offset"):
        CsvSource(tmp_path, interval="5m").get_bars("NVDA", "2025-05-13", "2025-05-13")


def test_a_zone_less_frame_is_refused():
    from eventstudy.data.bars import validate_bars

    frame = pd.DataFrame({"Close": [1.0, 2.0]}, index=pd.DatetimeIndex(["2025-05-13 09:30", "2025-05-13 09:35"]))
    with pytest.raises(DataSourceError, match="no time zone"):
        validate_bars("NVDA", frame, interval="5m")


def test_mixed_intervals_in_one_file_are_refused(intraday_dir, tmp_path):
    five = real_day(intraday_dir, "SPY_5m.csv", "2025-05-13T10")
    one = real_day(intraday_dir, "SPY_1m.csv", "2025-05-13T10:1")
    mixed = pd.concat([five, one]).sort_values("Datetime", key=lambda s: pd.to_datetime(s, utc=True))
    mixed = mixed.drop_duplicates("Datetime")
    write(tmp_path, "SPY_5m.csv", mixed)
    with pytest.raises(DataSourceError, match=r"SPY.*mixes bar intervals.*10:11"):
        CsvSource(tmp_path, interval="5m").get_bars("SPY", "2025-05-13", "2025-05-13")


def test_a_file_of_another_interval_is_refused(intraday_dir, tmp_path):
    write(tmp_path, "SPY_1m.csv", real_day(intraday_dir, "SPY_5m.csv", "2025-05-13"))
    with pytest.raises(DataSourceError, match=r"mostly 0 days 00:05:00 apart"):
        CsvSource(tmp_path, interval="1m").get_bars("SPY", "2025-05-13", "2025-05-13")


def test_duplicated_stamps_are_refused_naming_both_lines(intraday_dir, tmp_path):
    rows = real_day(intraday_dir, "AMD_5m.csv", "2025-05-13")
    rows = pd.concat([rows.iloc[:5], rows.iloc[4:5], rows.iloc[5:]])
    write(tmp_path, "AMD_5m.csv", rows)
    with pytest.raises(DataSourceError, match=r"AMD.*2025-05-13 13:50:00\+00:00 more than once \(line 6, line 7\)"):
        CsvSource(tmp_path, interval="5m").get_bars("AMD", "2025-05-13", "2025-05-13")


def test_a_missing_file_or_range_is_named(intraday_dir):
    with pytest.raises(DataSourceError, match=r"no file AMD_1m.csv"):
        CsvSource(intraday_dir, interval="1m").get_bars(["NVDA", "AMD"], "2025-05-13", "2025-05-13")
    with pytest.raises(DataSourceError, match=r"NVDA: no bars between 2024-01-02 and 2024-01-05"):
        CsvSource(intraday_dir, interval="1m").get_bars("NVDA", "2024-01-02", "2024-01-05")
    with pytest.raises(ValueError, match="interval"):
        CsvSource(intraday_dir).get_bars("NVDA", "2025-05-13", "2025-05-13")


def test_a_range_is_read_from_the_rows_near_it_with_the_bars_of_a_whole_read(intraday_dir, tmp_path):
    src = CsvSource(intraday_dir, interval="5m")
    whole = src.get_bars(["SPY", "NVDA"], "2024-01-01", "2026-12-31")
    part = src.get_bars(["SPY", "NVDA"], "2025-05-12", "2025-05-14")
    dates = whole["session_date"]
    pd.testing.assert_frame_equal(part, whole.loc[(dates >= "2025-05-12") & (dates <= "2025-05-14")])
    # a bad row far from the range is not read; one within it is named
    rows = pd.concat([real_day(intraday_dir, "NVDA_5m.csv", day) for day in ("2025-05-12", "2025-05-20")])
    rows.iloc[3, rows.columns.get_loc("Close")] = "oops"
    write(tmp_path, "NVDA_5m.csv", rows.reset_index(drop=True))
    assert len(CsvSource(tmp_path, interval="5m").get_bars("NVDA", "2025-05-20", "2025-05-20")) == 78
    with pytest.raises(DataSourceError, match=r"NVDA.*'Close'.*oops.*line 5"):
        CsvSource(tmp_path, interval="5m").get_bars("NVDA", "2025-05-12", "2025-05-12")
