"""YahooSource.get_bars and its cache, without a network: yfinance-shaped intraday frames from the real files.

The frames are laid out as yfinance 1.x's ``download(..., interval="5m", group_by="column",
multi_level_index=True)`` returns them: MultiIndex columns ``['Price', 'Ticker']`` with the fields sorted, a
tz-aware ``Datetime`` index in the exchange's zone.  The values are read from shared/data/intraday.  Yahoo's
look-back limits depend on today's date, so the clock is fixed to a day after the data.
"""

from __future__ import annotations

import time

import pandas as pd
import pytest

import eventstudy.data.yahoo as yahoo
from eventstudy import CacheError, DataQualityWarning, DataSourceError
from eventstudy.data import CachedSource, YahooSource

YF_FIELDS = ["Adj Close", "Close", "High", "Low", "Open", "Volume"]
NY = "America/New_York"


def yf_bars(intraday_dir, tickers, start, end_exclusive, interval):
    rows = {}
    for ticker in tickers:
        raw = pd.read_csv(intraday_dir / f"{ticker}_{interval}.csv")
        raw.index = pd.DatetimeIndex(pd.to_datetime(raw.pop("Datetime"), utc=True)).tz_convert(NY)
        raw["Adj Close"] = raw["Close"]
        keep = (raw.index >= pd.Timestamp(start, tz=NY)) & (raw.index < pd.Timestamp(end_exclusive, tz=NY))
        rows[ticker.upper()] = raw.loc[keep]
    index = pd.DatetimeIndex(sorted(set().union(*[r.index for r in rows.values()])), name="Datetime")
    columns = pd.MultiIndex.from_product([YF_FIELDS, sorted(rows)], names=["Price", "Ticker"])
    frame = pd.DataFrame(index=index, columns=columns, dtype="float64")
    for field, ticker in columns:
        frame[(field, ticker)] = rows[ticker][field].reindex(index)
    return frame


class FakeBarDownload:
    def __init__(self, intraday_dir):
        self.intraday_dir, self.calls = intraday_dir, []

    def __call__(self, tickers, *, start, end, interval, **options):
        self.calls.append({"tickers": list(tickers), "start": start, "end": end, "interval": interval, **options})
        return yf_bars(self.intraday_dir, tickers, start, end, interval)


@pytest.fixture
def june_2025(monkeypatch):
    monkeypatch.setattr(yahoo, "_today", lambda: pd.Timestamp("2025-06-01"))


def test_bars_come_back_start_labelled_in_utc_with_the_file_values(intraday_dir, june_2025):
    fake = FakeBarDownload(intraday_dir)
    bars = YahooSource(download=fake).get_bars(["NVDA", "SPY"], "2025-05-13", "2025-05-13", interval="5m")
    call = fake.calls[0]
    assert call["interval"] == "5m" and call["prepost"] is True and call["end"] == "2025-05-14"
    raw = pd.read_csv(intraday_dir / "NVDA_5m.csv", index_col="Datetime")
    assert (
        bars.loc[("NVDA", pd.Timestamp("2025-05-13 13:30", tz="UTC")), "Close"]
        == raw.loc["2025-05-13T09:30:00-04:00", "Close"]
    )
    spy = bars.loc["SPY"]
    assert (spy["session"] == "pre").sum() > 0 and (spy["session"] == "post").sum() > 0
    assert int(spy["regular"].sum()) == 78
    assert bars.attrs["eventstudy_interval"] == "5m"


def test_hourly_bars_are_asked_as_60m(intraday_dir, june_2025):
    seen = []

    def download(tickers, *, interval, **options):
        seen.append(interval)
        return yf_bars(intraday_dir, tickers, "2025-05-13", "2025-05-14", "15m")

    with pytest.raises(DataSourceError, match="off the 1h clock"):
        YahooSource(download=download).get_bars(["QQQ"], "2025-05-13", "2025-05-13", interval="1h")
    assert seen == ["60m"]


def test_a_start_beyond_yahoos_horizon_is_refused_before_any_download(intraday_dir, june_2025):
    fake = FakeBarDownload(intraday_dir)
    with pytest.raises(DataSourceError, match=r"Yahoo serves 1m bars for the last 7 days only"):
        YahooSource(download=fake).get_bars(["NVDA"], "2025-05-13", "2025-05-13", interval="1m")
    assert fake.calls == []


def test_zone_less_bars_from_yahoo_are_refused(intraday_dir, june_2025):
    def download(tickers, **options):
        frame = yf_bars(intraday_dir, tickers, "2025-05-13", "2025-05-14", "5m")
        return frame.set_axis(frame.index.tz_localize(None), axis=0)

    with pytest.raises(DataSourceError, match="without a time zone"):
        YahooSource(download=download, retries=0).get_bars(["NVDA"], "2025-05-13", "2025-05-13")


def test_real_yfinance_with_the_network_cut(monkeypatch, tmp_path):
    import yfinance

    yfinance.set_tz_cache_location(str(tmp_path / "yfinance"))
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    today = pd.Timestamp.now().normalize()
    started = time.monotonic()
    with pytest.raises(DataSourceError, match="Yahoo") as info:
        YahooSource(retries=0, pause=0, timeout=2).get_bars(["NVDA", "SPY"], today - pd.Timedelta(days=3), today)
    assert set(info.value.failures) == {"NVDA", "SPY"}
    assert time.monotonic() - started < 20


def test_offline_never_downloads_bars(monkeypatch):
    monkeypatch.setenv("EVENTSTUDY_OFFLINE", "1")

    def must_not_run(*args, **kwargs):
        raise AssertionError("download called while offline")

    with pytest.raises(DataSourceError, match="offline"):
        YahooSource(download=must_not_run).get_bars("NVDA", "2025-05-13", "2025-05-13")


def test_the_cache_accumulates_bars_and_serves_them_offline(intraday_dir, june_2025, tmp_path, monkeypatch):
    fake = FakeBarDownload(intraday_dir)
    cached = CachedSource(YahooSource(download=fake), cache_dir=tmp_path)
    first = cached.get_bars(["NVDA", "SPY"], "2025-05-12", "2025-05-13", interval="5m")
    second = cached.get_bars(["NVDA", "SPY"], "2025-05-12", "2025-05-14", interval="5m")
    assert [(c["start"], c["end"]) for c in fake.calls] == [("2025-05-12", "2025-05-14"), ("2025-05-14", "2025-05-15")]
    pd.testing.assert_frame_equal(second.loc[second["session_date"] <= "2025-05-13"], first)
    # later, with Yahoo's horizon long past, the cached bars are still served, offline
    monkeypatch.setattr(yahoo, "_today", lambda: pd.Timestamp("2026-01-01"))
    offline = CachedSource(YahooSource(download=fake), cache_dir=tmp_path, offline=True)
    again = offline.get_bars(["NVDA", "SPY"], "2025-05-12", "2025-05-14", interval="5m")
    pd.testing.assert_frame_equal(again, second)
    assert len(fake.calls) == 2
    with pytest.raises(CacheError, match=r"lacks 5m bars for \['NVDA'\]"):
        offline.get_bars(["NVDA"], "2025-05-12", "2025-05-16", interval="5m")


@pytest.mark.live
def test_live_yahoo_five_minute_bars_of_the_last_days():
    today = pd.Timestamp.now().normalize()
    bars = YahooSource(retries=2).get_bars(["SPY"], today - pd.Timedelta(days=6), today, interval="5m")
    regular = bars.loc["SPY"].query("regular")
    assert len(regular) >= 78 and str(regular.index.tz) == "UTC"


def test_a_flipped_byte_in_cached_bars_is_quarantined_and_refetched(intraday_dir, june_2025, tmp_path):
    # issue 21: a corrupt bar entry is never served; it is kept aside, named, and the bars fetched again
    fake = FakeBarDownload(intraday_dir)
    cached = CachedSource(YahooSource(download=fake), cache_dir=tmp_path)
    good = cached.get_bars(["NVDA"], "2025-05-12", "2025-05-13", interval="5m")
    parquet = next(tmp_path.glob("bars/*/NVDA_5m.parquet"))
    data = bytearray(parquet.read_bytes())
    data[len(data) // 2] ^= 0xFF
    parquet.write_bytes(bytes(data))
    offline = CachedSource(YahooSource(download=fake), cache_dir=tmp_path, offline=True)
    with pytest.raises(CacheError, match=r"cached 5m bars of NVDA are corrupt: .*NVDA_5m\.parquet"):
        offline.get_bars(["NVDA"], "2025-05-12", "2025-05-13", interval="5m")
    with pytest.warns(DataQualityWarning, match=r"NVDA: the cached 5m bars are corrupt .*moved them to .*\.quarantine"):
        again = cached.get_bars(["NVDA"], "2025-05-12", "2025-05-13", interval="5m")
    pd.testing.assert_frame_equal(again, good)
    kept = list(parquet.parent.glob(".quarantine/NVDA_5m-*/NVDA_5m.parquet"))
    assert len(kept) == 1 and kept[0].read_bytes() == bytes(data)
