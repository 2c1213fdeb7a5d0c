"""The price cache under real faults: a changed adjustment basis, killed and concurrent writers, failing
disks, and metadata that disagree with their data.

Prices come from shared/data/prices through real sources: :class:`YahooSource` whose ``download`` returns
yfinance-shaped frames of the shared prices (scaled as Yahoo served them before a split or a dividend), or
:class:`CsvSource`.  Writers are killed for real, in child processes.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy import CacheError, DataQualityWarning, DataSourceError, EventStudyWarning
from eventstudy.data import CachedSource, CsvSource, YahooSource
from eventstudy.data._store import read_entry, write_entry

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
from yahoo_as_of import YahooAsOf  # noqa: E402 - the one fake Yahoo of the tests and scripts/faults.py

PRICE_FIELDS = ["Open", "High", "Low", "Close", "Adj Close"]


def csv(prices_dir, ticker):
    return pd.read_csv(prices_dir / f"{ticker}.csv", index_col="Date", parse_dates=True)


# ---- class 1: a changed adjustment basis is detected and the history refetched -------------------------


def test_a_split_between_two_fetches_is_not_joined_into_a_crash(prices_dir):
    split = dict.fromkeys(PRICE_FIELDS, 10.0) | {"Volume": 0.1}
    yahoo = YahooAsOf(prices_dir, "2024-06-10", split)
    cached = CachedSource(YahooSource(download=yahoo, retries=0))
    before = cached.get_prices("NVDA", "2024-01-02", "2024-06-07")
    assert before["NVDA"].loc["2024-06-07"] == pytest.approx(1208.198, abs=0.01)  # the pre-split print
    yahoo.before_event = False  # months later: Yahoo's whole history is now divided by 10
    with pytest.warns(
        DataQualityWarning, match=r"NVDA: the cached prices were on an older adjustment basis.*ratio 0\.1"
    ):
        year = cached.get_prices("NVDA", "2024-01-02", "2024-12-31")
    rets = year["NVDA"].pct_change()
    # PROVENANCE 4.2: +0.746 % on the split day; NVDA's worst day of 2024 was -10.0 % (19 April)
    assert rets.loc["2024-06-10"] * 100 == pytest.approx(0.746, abs=0.0005)
    assert rets.idxmin() == pd.Timestamp("2024-04-19") and rets.min() > -0.11
    expected = csv(prices_dir, "NVDA")["Adj Close"].loc["2024-01-02":"2024-12-31"]
    np.testing.assert_allclose(year["NVDA"].to_numpy(), expected.to_numpy(), rtol=1e-12)
    # the entry on disk is on one basis too: served offline, January is the post-split price
    offline = CachedSource(YahooSource(download=yahoo), offline=True).get_prices("NVDA", "2024-01-02", "2024-12-31")
    assert offline["NVDA"].loc["2024-01-02"] == pytest.approx(expected.loc["2024-01-02"], rel=1e-12)


def test_a_dividend_between_two_fetches_is_detected(prices_dir):
    spy = csv(prices_dir, "SPY")
    factor = spy["Adj Close"] / spy["Close"]
    jump = factor.loc["2024-06-21"] / factor.loc["2024-06-20"]  # SPY went ex-dividend on 2024-06-21
    assert jump == pytest.approx(1.00323, abs=1e-5)
    yahoo = YahooAsOf(prices_dir, "2024-06-21", {"Adj Close": jump})
    cached = CachedSource(YahooSource(download=yahoo, retries=0))
    cached.get_prices("SPY", "2024-01-02", "2024-06-20")
    yahoo.before_event = False
    with pytest.warns(DataQualityWarning, match=r"SPY: the cached prices were on an older adjustment basis.*Adj Close"):
        got = cached.get_prices("SPY", "2024-01-02", "2024-12-31")
    expected = spy["Adj Close"].loc["2024-01-02":"2024-12-31"]
    np.testing.assert_allclose(got["SPY"].to_numpy(), expected.to_numpy(), rtol=1e-12)
    # the seam return is the real one (about +0.12 %), not the real one minus the 0.32 % dividend
    seam = got["SPY"].pct_change().loc["2024-06-21"]
    assert seam == pytest.approx(expected.loc["2024-06-21"] / expected.loc["2024-06-20"] - 1, abs=1e-12)


def test_an_unchanged_basis_appends_without_a_refetch(prices_dir):
    yahoo = YahooAsOf(prices_dir, "2030-01-01", {})
    cached = CachedSource(YahooSource(download=yahoo, retries=0))
    cached.get_prices("NVDA", "2024-01-02", "2024-03-28")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        cached.get_prices("NVDA", "2024-01-02", "2024-06-28")
    # one fetch for the new days (from five cached sessions back), no refetch of January
    assert yahoo.calls[1] == ("2024-03-22", "2024-06-29")
    assert len(yahoo.calls) == 2


def test_a_failed_refetch_serves_nothing_mixed(prices_dir):
    yahoo = YahooAsOf(prices_dir, "2024-06-10", dict.fromkeys(PRICE_FIELDS, 10.0))
    cached = CachedSource(YahooSource(download=yahoo, retries=0))
    cached.get_prices("NVDA", "2024-01-02", "2024-06-07")
    yahoo.before_event = False
    real = yahoo.__call__

    def refetch_fails(tickers, *, start, end, **options):
        if start == "2024-01-02":
            raise ConnectionError("connection reset by peer")
        return real(tickers, start=start, end=end, **options)

    cached.source.download = refetch_fails
    with pytest.raises(
        DataSourceError, match=r"NVDA: the cached prices are on another adjustment basis.*clear\('NVDA'\)"
    ):
        cached.get_prices("NVDA", "2024-01-02", "2024-12-31")


# ---- class 3: killed, concurrent and failing writers lose nothing that was cached ----------------------

CHILD = """
import os, sys, time, signal
sys.path.insert(0, {repo!r})
import pandas as pd
from eventstudy.data import CachedSource, CsvSource

class Slow(CsvSource):
    def _fetch(self, tickers, start, end):
        got = super()._fetch(tickers, start, end)
        time.sleep({sleep})  # hold the data a while, as a slow download does
        return got

mode, start, end = sys.argv[1:4]
if mode == "kill-before-metadata":
    real = os.replace
    def replace(src, dst):
        if str(dst).endswith(".json"):
            os.kill(os.getpid(), signal.SIGKILL)
        real(src, dst)
    os.replace = replace
if mode == "kill-inside-parquet":
    real_fsync = os.fsync
    def fsync(fd):
        os.kill(os.getpid(), signal.SIGKILL)
    os.fsync = fsync
CachedSource(Slow({prices!r}), cache_dir={cache!r}).get_prices("NVDA", start, end)
"""


def child(tmp_path, prices_dir, *args, sleep=0.0):
    script = tmp_path / "writer.py"
    script.write_text(CHILD.format(repo=str(REPO), sleep=sleep, prices=str(prices_dir), cache=str(tmp_path / "c")))
    env = {k: v for k, v in os.environ.items() if k != "EVENTSTUDY_OFFLINE"}
    return subprocess.Popen([sys.executable, str(script), *args], env=env, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_two_writer_processes_keep_both_ranges(tmp_path, prices_dir):
    first = child(tmp_path, prices_dir, "write", "2025-01-02", "2025-03-31", sleep=1.0)
    second = child(tmp_path, prices_dir, "write", "2025-04-01", "2025-06-30", sleep=1.0)
    assert first.wait(60) == 0, first.stderr.read().decode()
    assert second.wait(60) == 0, second.stderr.read().decode()
    offline = CachedSource(CsvSource(prices_dir), cache_dir=tmp_path / "c", offline=True)
    got = offline.get_prices("NVDA", "2025-01-02", "2025-06-30")  # CacheError if either range were lost
    expected = csv(prices_dir, "NVDA")["Adj Close"].loc["2025-01-02":"2025-06-30"]
    assert got["NVDA"].tolist() == expected.tolist()


@pytest.mark.slow
def test_a_writer_killed_between_data_and_metadata_loses_nothing(tmp_path, prices_dir):
    cache = CachedSource(CsvSource(prices_dir), cache_dir=tmp_path / "c")
    cache.get_prices("NVDA", "2025-03-03", "2025-03-31")
    killed = child(tmp_path, prices_dir, "kill-before-metadata", "2025-03-03", "2025-05-30")
    assert killed.wait(60) == -9
    leftovers = [p.name for p in cache.directory.iterdir() if p.name.endswith(".tmp")]
    assert leftovers and all(name.startswith(".NVDA.json.") for name in leftovers)
    offline = CachedSource(CsvSource(prices_dir), cache_dir=tmp_path / "c", offline=True)
    with pytest.warns(
        DataQualityWarning, match=r"NVDA: .*does not match the sha256.*recovered the 2025-03-03\.\.2025-05-30"
    ):
        got = offline.get_prices("NVDA", "2025-03-03", "2025-05-30")
    expected = csv(prices_dir, "NVDA")["Adj Close"].loc["2025-03-03":"2025-05-30"]
    assert got["NVDA"].tolist() == expected.tolist()  # March (old) and April-May (new) both kept
    cache.get_prices("NVDA", "2025-03-03", "2025-05-30")  # the next request cleans up what the kill left
    assert not [p for p in cache.directory.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_a_writer_killed_inside_the_parquet_write_keeps_the_old_entry(tmp_path, prices_dir):
    cache = CachedSource(CsvSource(prices_dir), cache_dir=tmp_path / "c")
    cache.get_prices("NVDA", "2025-03-03", "2025-03-31")
    parquet = cache.directory / "NVDA.parquet"
    before = parquet.read_bytes()
    killed = child(tmp_path, prices_dir, "kill-inside-parquet", "2025-03-03", "2025-05-30")
    assert killed.wait(60) == -9
    assert parquet.read_bytes() == before
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the old entry is intact: served without a word
        got = CachedSource(CsvSource(prices_dir), cache_dir=tmp_path / "c", offline=True).get_prices(
            "NVDA", "2025-03-03", "2025-03-31"
        )
    assert len(got) == 21  # the sessions of March 2025


@pytest.mark.parametrize("target", [".parquet", ".json"])
def test_a_full_disk_keeps_what_was_cached(counting_csv, monkeypatch, target):
    cached = CachedSource(counting_csv)
    cached.get_prices("AMD", "2025-05-01", "2025-05-30")
    real = os.replace

    def full(src, dst):
        if str(dst).endswith(target):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(os, "replace", full)
    with pytest.warns(EventStudyWarning, match="No space left on device"):
        got = cached.get_prices("AMD", "2025-04-01", "2025-05-30")
    assert len(got) == 42  # the user still gets the data: every session of April and May 2025
    monkeypatch.setattr(os, "replace", real)
    assert not [p for p in cached.directory.iterdir() if p.name.endswith(".tmp")]
    offline = CachedSource(counting_csv, offline=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # .json failing: the entry is recovered, with a word
        may = offline.get_prices("AMD", "2025-05-01", "2025-05-30")
    assert round(may["AMD"].pct_change().loc["2025-05-13"] * 100, 2) == 4.01


@pytest.fixture
def counting_csv(prices_dir):
    return CsvSource(prices_dir)


# ---- class 4: metadata that disagree with their data are not trusted -----------------------------------


def _entry(cached, ticker):
    return cached.directory / f"{ticker}.parquet", cached.directory / f"{ticker}.json"


def _edit(path, **changes):
    """Rewrite the entry with ``changes`` in both records (the JSON and the copy inside the Parquet file), as a
    writer that got them wrong would: the checks of the data against the record must still catch them.  (A
    JSON edited alone disagrees with the Parquet file's record: tests/data/test_cache_corruption.py.)"""
    parquet = path.with_suffix(".parquet")
    frame, meta = read_entry(parquet)
    write_entry(parquet, frame, {k: v for k, v in meta.items() if k not in ("sha256", "parquet_file")} | changes)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ticker": "AMD"}, r"is for ticker 'AMD', not 'NVDA'"),
        ({"format_version": 2}, r"has format version 2; this eventstudy reads version 1"),
        ({"covered_end": "2025-05-20"}, r"rows 2025-05-01\.\.2025-05-30, outside the range 2025-05-01\.\.2025-05-20"),
        ({"rows": 30}, r"records 30 rows but the data file has 21"),
        ({"first_date": "2025-04-30"}, r"first_date 2025-04-30 but the data file's is 2025-05-01"),
        ({"covered_start": "2025-06-01"}, r"covers 2025-06-01\.\.2025-05-30, which is reversed"),
    ],
)
def test_metadata_that_disagree_with_the_data_are_refused_offline_and_refetched_online(prices_dir, change, message):
    source = CsvSource(prices_dir)
    CachedSource(source).get_prices("NVDA", "2025-05-01", "2025-05-30")
    _edit(_entry(CachedSource(source), "NVDA")[1], **change)
    with pytest.raises(CacheError, match=r"The cache entry for NVDA is corrupt: .*" + message):
        CachedSource(source, offline=True).get_prices("NVDA", "2025-05-01", "2025-05-30")
    with pytest.warns(DataQualityWarning, match=r"NVDA: the cache entry is corrupt .*" + message):
        got = CachedSource(source).get_prices("NVDA", "2025-05-01", "2025-05-30")
    assert round(got["NVDA"].pct_change().loc["2025-05-13"] * 100, 2) == 5.63  # PROVENANCE: NVDA +5.63 %


def test_another_tickers_files_are_not_served(prices_dir):
    source = CsvSource(prices_dir)
    cached = CachedSource(source)
    cached.get_prices("AMD", "2025-05-01", "2025-05-30")
    amd_parquet, amd_json = _entry(cached, "AMD")
    nvda_parquet, nvda_json = _entry(cached, "NVDA")
    nvda_parquet.write_bytes(amd_parquet.read_bytes())
    nvda_json.write_bytes(amd_json.read_bytes())
    with pytest.raises(CacheError, match=r"NVDA.json is for ticker 'AMD', not 'NVDA'"):
        CachedSource(source, offline=True).get_prices("NVDA", "2025-05-01", "2025-05-30")


@pytest.mark.slow
def test_a_writer_waiting_too_long_for_the_lock_says_which_file(tmp_path):
    from eventstudy.data.lock import LockTimeout, entry_lock

    lock = tmp_path / ".locks" / "07.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import sys, time; sys.path.insert(0, {str(REPO)!r}); from pathlib import Path; "
            f"from eventstudy.data.lock import entry_lock\n"
            f"with entry_lock(Path({str(lock)!r})):\n    print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline().strip() == b"held"
        with pytest.raises(LockTimeout, match=r"07\.lock for more than 0\.3 s"), entry_lock(lock, timeout=0.3):
            pass
    finally:
        holder.kill()
        holder.wait()
    with entry_lock(lock, timeout=5) as held:  # the OS released the dead holder's lock
        assert held


def test_a_split_seen_while_refreshing_the_last_cached_days_is_not_joined(prices_dir):
    split = dict.fromkeys(PRICE_FIELDS, 10.0) | {"Volume": 0.1}
    yahoo = YahooAsOf(prices_dir, "2024-06-10", split)
    cached = CachedSource(YahooSource(download=yahoo, retries=0))
    cached.get_prices("NVDA", "2024-05-01", "2024-06-07")
    # fetched during the last session: it gets refreshed
    _edit(cached.directory / "NVDA.json", end_fetched_at="2024-06-07T15:30:00+00:00")
    yahoo.before_event = False
    with pytest.warns(DataQualityWarning, match=r"NVDA: the cached prices were on an older adjustment basis"):
        got = cached.get_prices("NVDA", "2024-05-01", "2024-06-07")
    expected = csv(prices_dir, "NVDA")["Adj Close"].loc["2024-05-01":"2024-06-07"]
    np.testing.assert_allclose(got["NVDA"].to_numpy(), expected.to_numpy(), rtol=1e-12)


def test_a_killed_journal_write_leaves_no_temporary_file(tmp_path):
    """What a writer killed while writing the journal left (its temporary file) goes with the others'."""
    from eventstudy.data._store import journal_path, metadata_path, remove_temp_files

    path = tmp_path / "NVDA.parquet"
    leftovers = [
        tmp_path / f".{name}.k1ll3d.tmp" for name in (path.name, metadata_path(path).name, journal_path(path).name)
    ]
    for leftover in leftovers:
        leftover.write_bytes(b"half")
    assert remove_temp_files(path) == 3
    assert not any(p.exists() for p in leftovers)
