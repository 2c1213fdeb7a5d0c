"""CachedSource: round trip, missing ranges only, atomic writes, corruption, offline mode, staleness.

The wrapped source is a real one (CsvSource on the shared price files) that also records the ranges it
was asked for.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings

import pandas as pd
import pytest

from eventstudy import CacheError, DataQualityWarning, DataSourceError, EventStudyWarning
from eventstudy.data import CachedSource, CsvSource, PriceSource
from eventstudy.data._store import read_entry, write_entry

D = pd.Timestamp


class CountingCsv(CsvSource):
    """CsvSource that records every range it is asked for."""

    def __init__(self, path):
        super().__init__(path)
        self.calls: list[tuple[tuple[str, ...], str, str]] = []

    def _fetch(self, tickers, start, end):
        self.calls.append((tuple(tickers), f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}"))
        return super()._fetch(tickers, start, end)


@pytest.fixture
def counting(prices_dir):
    return CountingCsv(prices_dir)


def entry_files(cached: CachedSource, ticker: str):
    return cached.directory / f"{ticker}.parquet", cached.directory / f"{ticker}.json"


def direct(prices_dir, ticker, start, end, field="Adj Close"):
    raw = pd.read_csv(prices_dir / f"{ticker}.csv", index_col="Date", parse_dates=True)[field]
    return raw.loc[start:end]


def test_round_trip_serves_the_second_call_from_disk(counting, prices_dir):
    cached = CachedSource(counting)
    first = cached.get_prices(["NVDA", "SPY"], "2025-05-01", "2025-05-30")
    assert counting.calls == [(("NVDA", "SPY"), "2025-05-01", "2025-05-30")]
    second = CachedSource(counting).get_prices(["NVDA", "SPY"], "2025-05-05", "2025-05-20")
    assert len(counting.calls) == 1  # nothing asked of the wrapped source
    pd.testing.assert_frame_equal(second, first.loc["2025-05-05":"2025-05-20"], check_freq=False)
    # the cached values are the file's values
    pd.testing.assert_series_equal(
        second["NVDA"],
        direct(prices_dir, "NVDA", "2025-05-05", "2025-05-20").rename("NVDA").astype("float64"),
        check_index_type=False,
        check_freq=False,
    )
    assert round(second["NVDA"].pct_change().loc["2025-05-13"] * 100, 2) == 5.63


def test_metadata_records_coverage_versions_and_checksum(counting):
    cached = CachedSource(counting)
    cached.get_history("NVDA", "2025-05-03", "2025-05-30")
    parquet, meta_path = entry_files(cached, "NVDA")
    meta = json.loads(meta_path.read_text())
    assert meta["sha256"] == hashlib.sha256(parquet.read_bytes()).hexdigest()
    assert (meta["covered_start"], meta["covered_end"]) == ("2025-05-03", "2025-05-30")  # as requested
    assert (meta["first_date"], meta["last_date"]) == ("2025-05-05", "2025-05-30")  # actual trading days
    assert meta["rows"] == 19 and meta["source"] == counting.name
    assert meta["fields"] == ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
    assert set(meta["versions"]) >= {"eventstudy", "pandas", "pyarrow", "yfinance"}
    assert pd.Timestamp(meta["fetched_at"]).tzinfo is not None
    stored = pd.read_parquet(parquet)
    assert list(stored.columns) == meta["fields"] and len(stored) == 19
    assert not list(cached.directory.glob("*.tmp")) and not list(cached.directory.glob("*.pkl"))


def test_only_missing_ranges_are_fetched(counting, prices_dir):
    cached = CachedSource(counting)
    cached.get_prices("NVDA", "2024-01-02", "2024-06-28")
    cached.get_prices("NVDA", "2023-07-03", "2024-12-31")
    assert counting.calls == [
        (("NVDA",), "2024-01-02", "2024-06-28"),
        # before the cached start, reaching five cached sessions (2 to 8 January) in to compare them
        (("NVDA",), "2023-07-03", "2024-01-08"),
        # after the cached end, from five cached sessions back (24 to 28 June)
        (("NVDA",), "2024-06-24", "2024-12-31"),
    ]
    merged = cached.get_prices("NVDA", "2023-07-03", "2024-12-31")
    assert len(counting.calls) == 3
    expected = direct(prices_dir, "NVDA", "2023-07-03", "2024-12-31")
    assert merged["NVDA"].tolist() == expected.tolist()
    # the split stays continuous through the merged file (PROVENANCE 4.2)
    assert merged["NVDA"].pct_change().loc["2024-06-10"] * 100 == pytest.approx(0.746, abs=0.0005)


def test_tickers_with_different_gaps_are_grouped(counting):
    cached = CachedSource(counting)
    cached.get_prices(["NVDA"], "2025-01-02", "2025-03-31")
    counting.calls.clear()
    cached.get_prices(["NVDA", "AMD", "SPY"], "2025-01-02", "2025-04-30")
    assert sorted(counting.calls) == [
        (("AMD", "SPY"), "2025-01-02", "2025-04-30"),
        (("NVDA",), "2025-03-25", "2025-04-30"),  # five cached sessions (25..31 March) re-read to compare
    ]


def test_interrupted_write_keeps_the_old_file(counting, monkeypatch):
    cached = CachedSource(counting)
    cached.get_prices("NVDA", "2025-05-01", "2025-05-30")
    parquet, meta_path = entry_files(cached, "NVDA")
    before = parquet.read_bytes(), meta_path.read_bytes()
    real_replace = os.replace

    def crash(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.warns(EventStudyWarning, match=r"could not write the cache file .*NVDA\.parquet.*No space left"):
        got = cached.get_prices("NVDA", "2025-04-01", "2025-05-30")
    assert got.index[0] == D("2025-04-01")  # the data were still served
    monkeypatch.setattr(os, "replace", real_replace)
    assert (parquet.read_bytes(), meta_path.read_bytes()) == before
    assert not [p for p in cached.directory.iterdir() if p.name.endswith(".tmp")]
    again = CachedSource(counting, offline=True).get_prices("NVDA", "2025-05-01", "2025-05-30")
    assert again.index[0] == D("2025-05-01") and len(again) == 21


def test_crash_inside_the_parquet_writer_leaves_no_temp_file(counting, monkeypatch):
    cached = CachedSource(counting)
    cached.get_prices("SPY", "2025-05-01", "2025-05-30")
    parquet, _ = entry_files(cached, "SPY")
    before = parquet.read_bytes()
    real_fsync = os.fsync

    def fail_mid_write(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", fail_mid_write)
    with pytest.warns(EventStudyWarning, match="Input/output error"):
        cached.get_prices("SPY", "2025-04-01", "2025-05-30")
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert parquet.read_bytes() == before
    assert not [p for p in cached.directory.iterdir() if p.name.endswith(".tmp")]


def test_crash_between_data_and_metadata_is_detected(counting, monkeypatch):
    cached = CachedSource(counting)
    cached.get_prices("AMD", "2025-05-01", "2025-05-30")
    real_replace = os.replace

    def replace_data_only(src, dst):
        if str(dst).endswith(".json"):
            raise OSError("power cut")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_data_only)
    with pytest.warns(EventStudyWarning):
        cached.get_prices("AMD", "2025-04-01", "2025-05-30")
    monkeypatch.setattr(os, "replace", real_replace)
    # new data beside old metadata: the sha256 no longer matches, but the (complete) Parquet file carries
    # its own record, so the new April..May entry is recovered, even offline, and nothing is refetched
    calls = len(counting.calls)
    with pytest.warns(
        DataQualityWarning, match=r"AMD: .*AMD\.parquet does not match the sha256.*recovered the 2025-04-01"
    ):
        healed = CachedSource(counting, offline=True).get_prices("AMD", "2025-04-01", "2025-05-30")
    assert len(counting.calls) == calls
    assert round(healed["AMD"].pct_change().loc["2025-05-13"] * 100, 2) == 4.01
    assert healed.index[0] == D("2025-04-01")  # the April days written before the "power cut" are kept
    # the metadata were rewritten: the next read is silent
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CachedSource(counting, offline=True).get_prices("AMD", "2025-04-01", "2025-05-30")


def test_corrupt_file_is_refetched_with_a_warning(counting):
    cached = CachedSource(counting)
    cached.get_prices("NVDA", "2025-05-01", "2025-05-30")
    parquet, _ = entry_files(cached, "NVDA")
    parquet.write_bytes(b"PAR1 this is not parquet at all PAR1")
    with pytest.warns(DataQualityWarning, match=r"NVDA: the cache entry is corrupt .*NVDA\.parquet"):
        got = cached.get_prices("NVDA", "2025-05-01", "2025-05-30")
    assert len(counting.calls) == 2
    assert round(got["NVDA"].pct_change().loc["2025-05-13"] * 100, 2) == 5.63
    assert cached.cache_info().set_index("ticker").loc["NVDA", "status"] == "ok"


def test_corrupt_file_offline_raises_cache_error(counting, monkeypatch):
    cached = CachedSource(counting)
    cached.get_prices("NVDA", "2025-05-01", "2025-05-30")
    parquet, meta_path = entry_files(cached, "NVDA")
    parquet.write_bytes(os.urandom(256))
    monkeypatch.setenv("EVENTSTUDY_OFFLINE", "yes")
    with pytest.raises(CacheError, match=r"cache entry for NVDA is corrupt.*NVDA\.parquet"):
        cached.get_prices("NVDA", "2025-05-01", "2025-05-30")
    meta_path.write_text("{not json")
    with pytest.raises(CacheError, match=r"NVDA\.json is unreadable"):
        cached.get_prices("NVDA", "2025-05-01", "2025-05-30")
    assert len(counting.calls) == 1


def test_offline_with_nothing_cached(counting):
    cached = CachedSource(counting, offline=True)
    with pytest.raises(CacheError, match=r"offline: .*\n  NVDA: not cached: 2025-05-01\.\.2025-05-30") as info:
        cached.get_prices(["NVDA"], "2025-05-01", "2025-05-30")
    assert counting.calls == []
    assert isinstance(info.value, DataSourceError)


def test_offline_serves_what_is_cached_and_names_what_is_not(counting):
    CachedSource(counting).get_prices("NVDA", "2025-05-01", "2025-05-30")
    offline = CachedSource(counting, offline=True)
    assert len(offline.get_prices("NVDA", "2025-05-01", "2025-05-30")) == 21
    with pytest.raises(CacheError, match=r"NVDA: not cached: 2025-04-01\.\.2025-04-30"):
        offline.get_prices("NVDA", "2025-04-01", "2025-05-30")
    assert len(counting.calls) == 1


def test_cache_dir_comes_from_the_environment(counting, tmp_path, monkeypatch):
    monkeypatch.setenv("EVENTSTUDY_CACHE_DIR", str(tmp_path / "my-cache"))
    cached = CachedSource(counting)
    cached.get_prices("SPY", "2025-05-01", "2025-05-30")
    assert cached.directory.is_relative_to(tmp_path / "my-cache")
    assert list((tmp_path / "my-cache").rglob("SPY.parquet")) and list((tmp_path / "my-cache").rglob("SPY.json"))
    explicit = CachedSource(counting, cache_dir=tmp_path / "other")
    assert explicit.directory.is_relative_to(tmp_path / "other")


def test_recent_tail_is_refetched_until_it_is_old_enough(counting):
    cached = CachedSource(counting)
    cached.get_prices("NVDA", "2024-01-02", "2024-06-28")
    _, meta_path = entry_files(cached, "NVDA")

    def fetched_at(stamp):  # both records, the JSON and the Parquet file's own copy, as a writer would
        parquet = meta_path.with_suffix(".parquet")
        frame, meta = read_entry(parquet)
        meta = {k: v for k, v in meta.items() if k not in ("sha256", "parquet_file")}
        write_entry(parquet, frame, meta | {"end_fetched_at": stamp})

    fetched_at("2024-06-28T15:30:00+00:00")  # during the last cached session: it may be incomplete
    cached.get_prices("NVDA", "2024-03-01", "2024-06-28")
    # the last two days are refreshed; the read starts five cached sessions back (24 June), to compare the
    # older days and see whether a split or dividend changed the adjustment basis since
    assert counting.calls[-1] == (("NVDA",), "2024-06-24", "2024-06-28")
    assert len(counting.calls) == 2
    CachedSource(counting, offline=True).get_prices("NVDA", "2024-03-01", "2024-06-28")  # offline: as is
    fetched_at("2024-06-28T15:30:00+00:00")
    cached.get_prices("NVDA", "2024-01-02", "2024-03-28")  # does not reach the tail
    assert len(counting.calls) == 2
    fetched_at("2024-07-02T00:00:00+00:00")  # long after: served as is
    cached.get_prices("NVDA", "2024-03-01", "2024-06-28")
    assert len(counting.calls) == 2


def test_failed_tail_refresh_serves_the_cache_with_a_warning(prices_dir, tmp_path):
    class Flaky(CountingCsv):
        broken = False

        def _fetch(self, tickers, start, end):
            if self.broken:
                raise DataSourceError("network down")
            return super()._fetch(tickers, start, end)

    source = Flaky(prices_dir)
    cached = CachedSource(source, max_age="100000D")  # every cached day counts as recent
    cached.get_prices("SPY", "2025-05-01", "2025-05-30")
    source.broken = True
    with pytest.warns(DataQualityWarning, match="SPY: could not refresh the last cached days"):
        got = cached.get_prices("SPY", "2025-05-01", "2025-05-30")
    assert len(got) == 21


def test_clear_and_cache_info(counting):
    cached = CachedSource(counting)
    assert cached.cache_info().empty
    cached.get_prices(["NVDA", "^GSPC"], "2025-05-01", "2025-05-30")
    info = cached.cache_info()
    assert set(info["ticker"]) == {"NVDA", "^GSPC"}
    assert (info["status"] == "ok").all() and (info["rows"] == 21).all()
    assert info["covered_start"].eq(D("2025-05-01")).all()
    assert cached.clear("NVDA") == 2
    assert list(cached.cache_info()["ticker"]) == ["^GSPC"]
    # a write journal a killed writer left goes with its entry
    cached.get_prices("NVDA", "2025-05-01", "2025-05-30")
    (cached.directory / ".NVDA.parquet.journal").write_text("{}")
    assert cached.clear("NVDA") == 3 and not (cached.directory / ".NVDA.parquet.journal").exists()
    cached.clear()
    assert cached.cache_info().empty


def test_wraps_only_price_sources(counting):
    with pytest.raises(TypeError, match="'source' parameter must be a PriceSource"):
        CachedSource("yahoo")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'max_age'"):
        CachedSource(counting, max_age="-1D")
    assert isinstance(CachedSource(counting), PriceSource)
    assert CachedSource(counting).describe()["source"]["kind"] == "csv"


def test_an_arrow_error_while_caching_warns(counting, monkeypatch):
    import pyarrow
    import pyarrow.parquet

    def unserializable(*args, **kwargs):
        raise pyarrow.ArrowInvalid("cannot convert")

    monkeypatch.setattr(pyarrow.parquet, "write_table", unserializable)
    with pytest.warns(EventStudyWarning, match=r"could not write the cache file .*NVDA\.parquet.*ArrowInvalid"):
        got = CachedSource(counting).get_prices("NVDA", "2025-05-01", "2025-05-30")
    assert len(got) == 21


def test_an_unexpected_error_while_caching_is_not_hidden(counting, monkeypatch):
    def bug(src, dst):
        raise RuntimeError("not a storage problem")

    monkeypatch.setattr(os, "replace", bug)
    with pytest.raises(RuntimeError, match="not a storage problem"):
        CachedSource(counting).get_prices("NVDA", "2025-05-01", "2025-05-30")
