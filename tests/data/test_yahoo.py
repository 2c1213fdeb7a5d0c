"""YahooSource: yfinance-shaped frames built from the real CSV values, failures, retries, offline mode.

The frames are laid out exactly as yfinance 1.x's ``download(..., group_by="column",
multi_level_index=True)`` returns them: MultiIndex columns named ``['Price', 'Ticker']`` with the fields
sorted (Adj Close, Close, High, Low, Open, Volume), a DatetimeIndex named ``Date`` and upper-case
tickers.  The values are read from shared/data/prices at test time.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd
import pytest

from eventstudy import CacheError, DataQualityWarning, DataSourceError
from eventstudy.data import CachedSource, YahooSource

YF_FIELDS = ["Adj Close", "Close", "High", "Low", "Open", "Volume"]


def csv_rows(prices_dir, ticker, start, end_exclusive):
    raw = pd.read_csv(prices_dir / f"{ticker.lstrip('^')}.csv", index_col="Date", parse_dates=True)
    return raw.loc[(raw.index >= pd.Timestamp(start)) & (raw.index < pd.Timestamp(end_exclusive))]


def yf_frame(prices_dir, tickers, start, end, *, tz=None):
    """What yfinance 1.x download returns for ``tickers`` (end exclusive), from the real files."""
    rows = {t.upper(): csv_rows(prices_dir, t, start, end) for t in tickers}
    index = pd.DatetimeIndex(sorted(set().union(*[r.index for r in rows.values()])), name="Date")
    columns = pd.MultiIndex.from_product([YF_FIELDS, sorted(rows)], names=["Price", "Ticker"])
    frame = pd.DataFrame(index=index, columns=columns, dtype="float64")
    for field, ticker in columns:
        frame[(field, ticker)] = rows[ticker][field].reindex(index)
    if tz is not None:
        frame.index = frame.index.tz_localize(tz)
    return frame


class FakeDownload:
    """A stand-in for yfinance.download serving the real CSV values; records every call."""

    def __init__(self, prices_dir, *, tz=None, single_level=False):
        self.prices_dir, self.tz, self.single_level = prices_dir, tz, single_level
        self.calls = []

    def __call__(self, tickers, *, start, end, **options):
        self.calls.append({"tickers": list(tickers), "start": start, "end": end, **options})
        frame = yf_frame(self.prices_dir, tickers, start, end, tz=self.tz)
        if self.single_level:
            frame = frame.droplevel(1, axis=1).rename_axis(None, axis=1)
        return frame


@pytest.fixture
def no_sleep(monkeypatch):
    pauses = []
    monkeypatch.setattr(time, "sleep", pauses.append)
    return pauses


# ---- normalization ----------------------------------------------------------------------------------


def test_one_batched_call_with_the_right_options(prices_dir):
    fake = FakeDownload(prices_dir)
    YahooSource(download=fake, timeout=7).get_prices(["NVDA", "SPY", "AMD"], "2025-05-08", "2025-05-16")
    assert len(fake.calls) == 1
    call = fake.calls[0]
    assert call["tickers"] == ["NVDA", "SPY", "AMD"]
    assert call["start"] == "2025-05-08" and call["end"] == "2025-05-17"  # yfinance's end is exclusive
    assert call["auto_adjust"] is False and call["actions"] is False
    assert call["group_by"] == "column" and call["multi_level_index"] is True and call["progress"] is False
    assert call["timeout"] == 7


@pytest.mark.parametrize("field", ["Adj Close", "Close", "Open", "Volume"])
def test_multiindex_frame_is_normalized_to_the_csv_values(prices_dir, field):
    tickers = ["SPY", "NVDA", "^GSPC"]
    got = YahooSource(download=FakeDownload(prices_dir)).get_prices(tickers, "2025-05-01", "2025-05-30", field=field)
    assert list(got.columns) == tickers  # requested order and spelling, although yfinance sorts and upper-cases
    assert got.index.name == "Date" and got.index.tz is None and (got.dtypes == "float64").all()
    for ticker in tickers:
        raw = csv_rows(prices_dir, ticker, "2025-05-01", "2025-05-31")[field]
        np.testing.assert_array_equal(got.index.to_numpy(), raw.index.to_numpy(dtype="datetime64[ns]"))
        np.testing.assert_array_equal(got[ticker].to_numpy(), raw.to_numpy(dtype="float64"))


def test_normalized_download_gives_the_known_returns(prices_dir):
    got = YahooSource(download=FakeDownload(prices_dir)).get_prices(["NVDA", "AMD", "SPY"], "2025-05-12", "2025-05-13")
    day = got.pct_change().loc["2025-05-13"] * 100
    assert (round(day["NVDA"], 2), round(day["AMD"], 2), round(day["SPY"], 2)) == (5.63, 4.01, 0.66)


def test_single_level_columns_for_one_ticker(prices_dir):
    fake = FakeDownload(prices_dir, single_level=True)
    got = YahooSource(download=fake).get_prices("NVDA", "2024-06-07", "2024-06-10", field="Close")
    assert list(got.columns) == ["NVDA"]
    assert got["NVDA"].pct_change().iloc[-1] * 100 == pytest.approx(0.746, abs=0.0005)  # PROVENANCE 4.2


def test_tz_aware_index_becomes_naive_dates(prices_dir):
    fake = FakeDownload(prices_dir, tz="America/New_York")
    got = YahooSource(download=fake).get_prices(["NVDA", "AMD"], "2025-05-12", "2025-05-13", field="Close")
    assert got.index.tz is None
    assert list(got.index) == [pd.Timestamp("2025-05-12"), pd.Timestamp("2025-05-13")]
    assert got.loc["2025-05-13", "NVDA"] == pytest.approx(129.93, abs=0.005)
    assert got.loc["2025-05-13", "AMD"] == pytest.approx(112.46, abs=0.005)


def test_ipo_ticker_rows_before_listing_are_dropped_and_recorded(prices_dir):
    with pytest.warns(DataQualityWarning, match="ARM: the data cover 2023-09-14"):
        got = YahooSource(download=FakeDownload(prices_dir)).get_history(["NVDA", "ARM"], "2023-09-01", "2023-09-29")
    assert got["ARM"].index[0] == pd.Timestamp("2023-09-14")
    assert got["NVDA"].index[0] == pd.Timestamp("2023-09-01")


# ---- failures ---------------------------------------------------------------------------------------


def test_empty_frame_is_retried_then_names_the_tickers(no_sleep):
    calls = []

    def empty(tickers, **options):
        calls.append(tickers)
        return pd.DataFrame()

    src = YahooSource(download=empty, retries=2, pause=0.5)
    with pytest.raises(DataSourceError, match=r"after 3 attempt\(s\)") as info:
        src.get_prices(["NVDA", "SPY"], "2025-05-01", "2025-05-30")
    assert set(info.value.failures) == {"NVDA", "SPY"}
    assert "NVDA" in str(info.value) and "SPY" in str(info.value)
    assert len(calls) == 3 and no_sleep == [0.5, 1.0]


@pytest.mark.parametrize("error", ["connection", "ratelimit", "timeout"])
def test_network_errors_are_retried_with_growing_pauses(no_sleep, error):
    from yfinance.exceptions import YFRateLimitError

    make = {
        "connection": lambda: ConnectionError("Failed to perform, curl: (7) Could not connect to server"),
        "ratelimit": YFRateLimitError,
        "timeout": lambda: TimeoutError("timed out"),
    }[error]
    attempts = []

    def failing(tickers, **options):
        attempts.append(1)
        raise make()

    with pytest.raises(DataSourceError, match=r"after 4 attempt\(s\)") as info:
        YahooSource(download=failing, retries=3, pause=1.0).get_prices("NVDA", "2025-05-01", "2025-05-30")
    assert no_sleep == [1.0, 2.0, 4.0]
    assert len(attempts) == 4
    assert type(make()).__name__ in str(info.value)
    assert info.value.url is not None and "yahoo" in info.value.url


def test_recovers_after_a_rate_limit(prices_dir, no_sleep):
    from yfinance.exceptions import YFRateLimitError

    fake = FakeDownload(prices_dir)
    state = {"n": 0}

    def flaky(tickers, **options):
        state["n"] += 1
        if state["n"] == 1:
            raise YFRateLimitError()
        return fake(tickers, **options)

    got = YahooSource(download=flaky, pause=0.25).get_prices("AMD", "2025-05-12", "2025-05-13", field="Close")
    assert round(got["AMD"].pct_change().iloc[-1] * 100, 2) == 4.01
    assert no_sleep == [0.25]


def test_other_exceptions_are_not_retried(no_sleep):
    def broken(tickers, **options):
        raise KeyError("chart")

    with pytest.raises(DataSourceError, match="KeyError") as info:
        YahooSource(download=broken).get_prices("NVDA", "2025-05-01", "2025-05-30")
    assert no_sleep == []
    assert isinstance(info.value.__cause__, KeyError)


def test_partial_success_names_the_failed_ticker(prices_dir, no_sleep):
    fake = FakeDownload(prices_dir)

    def partial(tickers, **options):
        frame = fake(["NVDA", "SPY"], **options)
        frame[("Adj Close", "XXXX")] = np.nan
        frame[("Close", "XXXX")] = np.nan
        return frame.sort_index(axis=1)

    with pytest.raises(DataSourceError, match=r"1 of 3 ticker") as info:
        YahooSource(download=partial).get_prices(["NVDA", "xxxx", "SPY"], "2025-05-12", "2025-05-13")
    assert list(info.value.failures) == ["xxxx"]
    assert "only missing values" in info.value.failures["xxxx"]
    assert no_sleep == []


def test_yfinance_logged_reasons_are_reported(prices_dir, no_sleep):
    fake = FakeDownload(prices_dir)

    def with_log(tickers, **options):
        # yfinance 1.x logs per-ticker errors instead of raising (and leaves shared._ERRORS empty)
        logging.getLogger("yfinance").error(
            "['NOSUCH']: YFPricesMissingError('possibly delisted; no price data found  (1d 2025-05-12 -> 2025-05-14)')"
        )
        return fake(["NVDA"], **options)

    with pytest.raises(DataSourceError, match=r"NOSUCH: .*possibly delisted; no price data found"):
        YahooSource(download=with_log).get_prices(["NVDA", "NOSUCH"], "2025-05-12", "2025-05-13")


def test_network_error_behind_no_timezone_found_is_retried(no_sleep):
    attempts = []

    def offline_like(tickers, **options):
        # what yfinance 1.7 logs when DNS fails: the real cause, then its own conclusion
        attempts.append(1)
        log = logging.getLogger("yfinance")
        log.error(
            "Failed to get ticker 'NVDA' reason: Failed to perform, curl: (6) Could not resolve host: "
            "query2.finance.yahoo.com"
        )
        log.error("$NVDA: possibly delisted; no timezone found")
        log.error("['NVDA']: possibly delisted; no timezone found")
        return pd.DataFrame()

    with pytest.raises(DataSourceError, match=r"after 2 attempt\(s\)") as info:
        YahooSource(download=offline_like, retries=1, pause=0).get_prices("NVDA", "2025-05-01", "2025-05-30")
    assert "Could not resolve host" in info.value.failures["NVDA"]
    assert len(attempts) == 2


def test_a_log_record_that_cannot_be_formatted_goes_to_handle_error(prices_dir, no_sleep, monkeypatch):
    fake = FakeDownload(prices_dir)
    reported = []
    monkeypatch.setattr(logging.Handler, "handleError", lambda handler, record: reported.append(type(handler).__name__))
    monkeypatch.setattr(logging.getLogger("yfinance"), "propagate", False)  # pytest's own handler re-raises

    def with_bad_record(tickers, **options):
        logging.getLogger("yfinance").error("%d rows for %s", "not a number")  # getMessage() raises TypeError
        return fake(tickers, **options)

    got = YahooSource(download=with_bad_record).get_prices("NVDA", "2025-05-12", "2025-05-13", field="Close")
    assert "_ErrorLog" in reported  # reported the logging way, not dropped silently
    assert got.loc["2025-05-13", "NVDA"] == pytest.approx(129.93, abs=0.005)  # PROVENANCE 4.4


def test_describe_records_the_library_versions():
    import importlib.metadata

    info = YahooSource().describe()
    assert info["yfinance"] == importlib.metadata.version("yfinance") == info["versions"]["yfinance"]
    assert info["versions"]["pandas"] == pd.__version__


def test_yfinance_shared_errors_exists():
    import yfinance.shared

    assert isinstance(yfinance.shared._ERRORS, dict)


def test_real_yfinance_with_the_network_cut(monkeypatch, tmp_path):
    # the real yfinance.download, with every connection sent to a closed local port
    import yfinance

    yfinance.set_tz_cache_location(str(tmp_path / "yfinance"))  # keep yfinance's own cache out of ~/.cache
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    src = YahooSource(retries=0, pause=0, timeout=2)
    started = time.monotonic()
    with pytest.raises(DataSourceError, match=r"Yahoo download failed") as info:
        src.get_prices(["NVDA", "SPY"], "2025-05-01", "2025-05-30")
    assert set(info.value.failures) == {"NVDA", "SPY"}
    assert any("onnect" in why or "curl" in why for why in info.value.failures.values())
    assert time.monotonic() - started < 20


def test_offline_never_calls_download(monkeypatch):
    monkeypatch.setenv("EVENTSTUDY_OFFLINE", "True")

    def must_not_run(*args, **kwargs):
        raise AssertionError("download called while offline")

    with pytest.raises(DataSourceError, match="offline: set EVENTSTUDY_PRICES_DIR .* or unset EVENTSTUDY_OFFLINE"):
        YahooSource(download=must_not_run).get_prices("NVDA", "2025-05-01", "2025-05-30")
    # the message names the tickers asked for (issue 21: it named the cause only)
    with pytest.raises(DataSourceError, match=r"Cannot download the prices of NVDA, AMD from Yahoo Finance: offline"):
        YahooSource(download=must_not_run).get_prices(["NVDA", "AMD"], "2025-05-01", "2025-05-30")
    with pytest.raises(DataSourceError, match=r"Cannot download the 5m bars of NVDA from Yahoo Finance: offline"):
        YahooSource(download=must_not_run).get_bars("NVDA", "2025-05-01", "2025-05-02", interval="5m")


def test_argument_checks():
    with pytest.raises(ValueError, match="'retries'"):
        YahooSource(retries=-1)
    with pytest.raises(TypeError, match="'pause'"):
        YahooSource(pause="1s")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'download'"):
        YahooSource(download="yfinance")  # type: ignore[arg-type]
    info = YahooSource().describe()
    assert info["kind"] == "yahoo" and info["yfinance"]


# ---- with the cache ---------------------------------------------------------------------------------


def test_cache_remembers_that_there_is_nothing_before_an_ipo(prices_dir):
    fake = FakeDownload(prices_dir)

    def yahoo_like(tickers, **options):
        frame = fake(tickers, **options)
        if frame[[c for c in frame.columns if c[1] == "ARM"]].isna().all().all():
            logging.getLogger("yfinance").error(
                "['ARM']: YFPricesMissingError('possibly delisted; no price data found  (1d 2022-01-01 -> 2023-01-01) "
                "(Yahoo error = \"Data doesn\\'t exist for startDate = 1641013200, endDate = 1672549200\")')"
            )
            return pd.DataFrame()
        return frame

    cached = CachedSource(YahooSource(download=yahoo_like, retries=0))
    with pytest.warns(DataQualityWarning, match="ARM"):
        cached.get_prices("ARM", "2023-01-01", "2023-12-29")
    with pytest.warns(DataQualityWarning, match="ARM: the data cover 2023-09-14"):
        prices = cached.get_prices("ARM", "2022-01-01", "2023-12-29")
    # the gap before the cached range, reaching five cached sessions (14..20 September) in; yfinance's end is
    # exclusive, hence the 21st
    assert len(fake.calls) == 2 and fake.calls[1]["end"] == "2023-09-21"
    with pytest.warns(DataQualityWarning, match="ARM"):
        again = cached.get_prices("ARM", "2022-06-01", "2023-12-29")
    assert len(fake.calls) == 2  # the empty years are known now
    assert prices.loc["2023-09-14":].equals(again.loc["2023-09-14":])
    with pytest.raises(CacheError):
        CachedSource(YahooSource(download=yahoo_like), offline=True).get_prices("ARM", "2021-01-01", "2023-12-29")


# ---- live (opt in with -m live) ---------------------------------------------------------------------


@pytest.mark.live
def test_live_yahoo_nvda_on_2025_05_13():
    prices = YahooSource(retries=2).get_prices(["NVDA", "SPY"], "2025-05-08", "2025-05-16", field="Close")
    day = prices.pct_change().loc["2025-05-13"] * 100
    assert day["NVDA"] == pytest.approx(5.63, abs=0.02)
    assert day["SPY"] == pytest.approx(0.66, abs=0.02)
