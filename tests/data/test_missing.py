"""missing="skip": the tickers a source can read come back, the others are recorded with the reason.

The values are checked against the shared price files read with plain pandas, not against the code.
"""

from __future__ import annotations

import pandas as pd
import pytest

import eventstudy.data.local
from eventstudy import CacheError, DataSourceError
from eventstudy.data import CachedSource, CsvSource

START, END = "2025-05-08", "2025-05-16"


def file_column(prices_dir, ticker, field="Adj Close", start=START, end=END) -> pd.Series:
    raw = pd.read_csv(prices_dir / f"{ticker}.csv", index_col="Date", parse_dates=True)
    return raw.loc[start:end, field].astype("float64").rename(ticker)


@pytest.fixture
def reads(monkeypatch):
    """Every CSV file CsvSource reads, in order."""
    seen: list[str] = []
    real = eventstudy.data.local._read_text_table

    def counting(path):
        seen.append(path.name)
        return real(path)

    monkeypatch.setattr(eventstudy.data.local, "_read_text_table", counting)
    return seen


def test_skip_returns_the_others_and_records_why_reading_each_file_once(prices_dir, reads):
    src = CsvSource(prices_dir)
    prices = src.get_prices(["NVDA", "NOSUCH", "SPY"], START, END, missing="skip")
    assert sorted(reads) == ["NVDA.csv", "SPY.csv"]  # one pass over the files, no second call
    assert list(prices.columns) == ["NVDA", "SPY"]
    for ticker in ("NVDA", "SPY"):
        pd.testing.assert_series_equal(
            prices[ticker], file_column(prices_dir, ticker), check_index_type=False, check_freq=False
        )
    assert round(prices["NVDA"].pct_change().loc["2025-05-13"] * 100, 2) == 5.63  # PROVENANCE 4.4
    failures = prices.attrs["eventstudy_failures"]
    assert list(failures) == ["NOSUCH"] and "no file NOSUCH.csv" in failures["NOSUCH"]
    # the columns are those raise mode gives for the readable tickers
    pd.testing.assert_frame_equal(prices, src.get_prices(["NVDA", "SPY"], START, END), check_like=False)


def test_raise_is_the_default_and_names_the_same_reason(prices_dir):
    src = CsvSource(prices_dir)
    with pytest.raises(DataSourceError, match=r"1 of 3 ticker") as info:
        src.get_prices(["NVDA", "NOSUCH", "SPY"], START, END)
    skipped = src.get_prices(["NVDA", "NOSUCH", "SPY"], START, END, missing="skip")
    assert info.value.failures == skipped.attrs["eventstudy_failures"]
    assert src.get_prices("NVDA", START, END).attrs["eventstudy_failures"] == {}


def test_skip_with_nothing_readable_still_raises(prices_dir):
    with pytest.raises(DataSourceError, match=r"2 of 2 ticker") as info:
        CsvSource(prices_dir).get_prices(["NOSUCH", "NOTHER"], START, END, missing="skip")
    assert set(info.value.failures) == {"NOSUCH", "NOTHER"}


def test_history_frames_carry_the_failures(prices_dir, reads):
    history = CsvSource(prices_dir).get_history(["AMD", "NOSUCH"], START, END, missing="skip")
    assert list(history) == ["AMD"] and reads == ["AMD.csv"]
    assert history["AMD"]["Close"].tolist() == file_column(prices_dir, "AMD", "Close").tolist()
    assert set(history["AMD"].attrs["eventstudy_failures"]) == {"NOSUCH"}


def test_a_ticker_without_the_field_is_skipped(prices_dir):
    # QQQ's file has Adj Close only, and Adj Close never stands in for Close
    prices = CsvSource(prices_dir).get_prices(["NVDA", "QQQ"], START, END, field="Close", missing="skip")
    assert list(prices.columns) == ["NVDA"]
    assert prices["NVDA"].tolist() == file_column(prices_dir, "NVDA", "Close").tolist()
    assert "no 'Close' values" in prices.attrs["eventstudy_failures"]["QQQ"]
    with pytest.raises(DataSourceError, match=r"field 'Close' is missing for 1 ticker"):
        CsvSource(prices_dir).get_prices(["QQQ"], START, END, field="Close", missing="skip")


def test_a_broken_file_is_skipped_with_its_reason(tmp_path):
    (tmp_path / "ABC.csv").write_text("Date,Close\n2024-01-02,10\n2024-01-03,11\n")
    (tmp_path / "BAD.csv").write_text("Date,Close\n2024-01-02,10\n2024-01-03,ten\n")
    (tmp_path / "NODATE.csv").write_text("when,Close\n2024-01-02,10\n")
    src = CsvSource(tmp_path)
    prices = src.get_prices(["ABC", "BAD", "NODATE"], "2024-01-02", "2024-01-03", field="Close", missing="skip")
    assert prices["ABC"].tolist() == [10.0, 11.0] and list(prices.columns) == ["ABC"]
    failures = prices.attrs["eventstudy_failures"]
    assert "'ten'" in failures["BAD"]
    assert "no 'Date' column" in failures["NODATE"]
    # raise mode raises the file's own error, as before
    with pytest.raises(DataSourceError, match=r"BAD: column 'Close' .* not a number: 'ten'.*line 3"):
        src.get_prices(["ABC", "BAD"], "2024-01-02", "2024-01-03", field="Close")


def test_missing_is_validated(prices_dir):
    src = CsvSource(prices_dir)
    with pytest.raises(ValueError, match=r"'missing' parameter must be one of \('raise', 'skip'\)"):
        src.get_prices("NVDA", START, END, missing="drop")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'missing'"):
        src.get_history("NVDA", START, END, missing="ignore")  # type: ignore[arg-type]


def test_cached_source_passes_skip_through(prices_dir, reads):
    cached = CachedSource(CsvSource(prices_dir))
    prices = cached.get_prices(["NVDA", "NOSUCH"], START, END, missing="skip")
    assert list(prices.columns) == ["NVDA"] and reads == ["NVDA.csv"]
    assert prices["NVDA"].tolist() == file_column(prices_dir, "NVDA").tolist()
    assert "no file NOSUCH.csv" in prices.attrs["eventstudy_failures"]["NOSUCH"]
    assert [p.name for p in sorted(cached.directory.glob("*.parquet"))] == ["NVDA.parquet"]


def test_offline_cache_serves_what_it_has_when_skipping(prices_dir, reads):
    CachedSource(CsvSource(prices_dir)).get_prices("NVDA", START, END)
    offline = CachedSource(CsvSource(prices_dir), offline=True)
    prices = offline.get_prices(["NVDA", "SPY"], START, END, missing="skip")
    assert reads == ["NVDA.csv"]  # SPY was never read: offline, and not cached
    assert list(prices.columns) == ["NVDA"]
    assert prices["NVDA"].tolist() == file_column(prices_dir, "NVDA").tolist()
    assert prices.attrs["eventstudy_failures"] == {"SPY": f"not cached: {START}..{END}"}
    with pytest.raises(CacheError, match=rf"offline: .*\n  SPY: not cached: {START}\.\.{END}"):
        offline.get_prices(["NVDA", "SPY"], START, END)
    with pytest.raises(CacheError, match="offline"):
        offline.get_prices(["SPY"], START, END, missing="skip")
