"""Prices from Yahoo Finance through :func:`yfinance.download` (imported only when used)."""

from __future__ import annotations

import ast
import logging
import re
import warnings
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import pandas as pd

from eventstudy.data import bars as _bars
from eventstudy.data import config
from eventstudy.data.base import FetchResult, PriceSource
from eventstudy.data.support import library_versions, retry
from eventstudy.data.validation import canonical_field, check_date_range, normalize_tickers
from eventstudy.exceptions import DataSourceError
from eventstudy.foundation.validation import check_positive_int

__all__ = ["YahooSource"]

OFFLINE_MESSAGE = "offline: set EVENTSTUDY_PRICES_DIR to a folder of price files or unset EVENTSTUDY_OFFLINE"


def _offline_error(tickers: list[str], what: str = "prices") -> DataSourceError:
    """The error of a download refused offline, naming the tickers that were asked for."""
    shown = ", ".join(tickers[:10]) + (f" and {len(tickers) - 10} more" if len(tickers) > 10 else "")
    return DataSourceError(
        f"Cannot download the {what} of {shown} from Yahoo Finance: {OFFLINE_MESSAGE}.",
        failures={t: "offline" for t in tickers},
    )


# Exceptions worth another try: rate limits and network trouble.  requests' and curl_cffi's errors derive
# from OSError; yfinance's rate-limit error does not, so it is matched by name (no import needed).
_RETRY_NAMES = {"YFRateLimitError", "RequestException", "CurlError", "ConnectionError", "Timeout"}
_TRANSIENT = re.compile(
    r"rate.?limit|too many requests|connect|timed? ?out|timeout|curl|failed to perform|network|proxy|ssl|"
    r"temporar|unavailable|reset by peer|resolve host|dns|\b50[234]\b",
    re.IGNORECASE,
)
# Yahoo answered and has no rows ("no timezone found" is left out: yfinance also says it when offline)
_NO_DATA = re.compile(
    r"no price data|data doesn't exist|no data found|YFPricesMissingError",
    re.IGNORECASE,
)


class _EmptyAnswer(Exception):
    """No ticker came back and Yahoo did not say plainly that it has no data: worth another try."""

    def __init__(self, result: FetchResult) -> None:
        self.result = result
        super().__init__("; ".join(sorted(set(result.failures.values()))) or "empty answer")


def _is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, _EmptyAnswer):
        return True
    if isinstance(exc, DataSourceError):
        return False
    if isinstance(exc, (OSError, TimeoutError)):
        return True
    return any(cls.__name__ in _RETRY_NAMES for cls in type(exc).__mro__)


class _ErrorLog(logging.Handler):
    """Collect yfinance's per-ticker error messages, which ``download`` logs instead of raising."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - trivial
        try:
            self.messages.append(record.getMessage())
        except Exception:  # noqa: BLE001 - the logging protocol: report through handleError, never raise
            self.handleError(record)

    def reasons(self) -> dict[str, str]:
        """Ticker (upper case) -> reason; a network error wins over what yfinance concluded from it."""
        found: dict[str, list[str]] = {}
        for message in self.messages:
            text = message.strip()
            batch = re.match(r"^(\[.*?\]):\s*(.*)$", text, re.DOTALL)
            if batch:
                try:
                    symbols = ast.literal_eval(batch.group(1))
                except (ValueError, SyntaxError):
                    continue
                for symbol in symbols:
                    found.setdefault(str(symbol).upper(), []).append(batch.group(2).strip())
                continue
            single = re.match(r"^Failed to get ticker '([^']+)' reason:\s*(.*)$", text, re.DOTALL)
            if single is None:
                single = re.match(r"^\$([^:\s]+):\s*(.*)$", text, re.DOTALL)
            if single:
                found.setdefault(single.group(1).upper(), []).append(single.group(2).strip())
        # yfinance reports a failed time-zone lookup as "possibly delisted; no timezone found" even when
        # the lookup failed for lack of a network: the network error is the real reason
        return {
            symbol: next((m for m in messages if _TRANSIENT.search(m)), messages[-1])
            for symbol, messages in found.items()
        }


def _shared_errors() -> dict[str, str]:
    """``yfinance.shared._ERRORS`` where a version fills it (0.2.x does; 1.x logs instead)."""
    try:
        from yfinance import shared
    except Exception:  # pragma: no cover - yfinance missing or broken
        return {}
    errors = getattr(shared, "_ERRORS", None)
    return {str(k).upper(): str(v) for k, v in errors.items()} if isinstance(errors, dict) else {}


def _default_download() -> Callable[..., Any]:
    try:
        import yfinance
    except ImportError:  # pragma: no cover - yfinance is a dependency
        raise DataSourceError(
            "YahooSource needs the yfinance package: pip install yfinance, or read local files with CsvSource."
        ) from None
    return yfinance.download


def _split_download(frame: Any, tickers: list[str]) -> dict[str, pd.DataFrame]:
    """Turn what ``yfinance.download`` returned into ticker -> rows (requested tickers only)."""
    if frame is None or not isinstance(frame, pd.DataFrame) or frame.empty:
        return {}
    index = frame.index
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        frame = frame.set_axis(index.tz_localize(None), axis=0)
    columns = frame.columns
    out: dict[str, pd.DataFrame] = {}
    if isinstance(columns, pd.MultiIndex):
        levels = list(range(columns.nlevels))
        price_level = None
        if "Price" in columns.names:
            price_level = columns.names.index("Price")
        else:
            for level in levels:
                if all(canonical_field(v) is not None for v in columns.get_level_values(level).unique()):
                    price_level = level
                    break
        if price_level is None or columns.nlevels != 2:
            raise DataSourceError(
                f"Yahoo returned columns this version of eventstudy does not understand: {list(columns)[:6]}."
            )
        ticker_level = 1 - price_level
        symbols = {str(s).upper(): s for s in columns.get_level_values(ticker_level).unique()}
        for ticker in tickers:
            symbol = symbols.get(ticker.upper())
            if symbol is None:
                continue
            part = frame.xs(symbol, axis=1, level=ticker_level)
            out[ticker] = part.loc[:, [c for c in part.columns if canonical_field(c) is not None]]
    else:
        if not any(canonical_field(c) is not None for c in columns):
            raise DataSourceError(
                f"Yahoo returned columns this version of eventstudy does not understand: {list(columns)[:6]}."
            )
        if len(tickers) != 1:
            raise DataSourceError(
                f"Yahoo returned one set of columns {list(columns)} for {len(tickers)} tickers; cannot tell "
                "which ticker they belong to."
            )
        out[tickers[0]] = frame.loc[:, [c for c in columns if canonical_field(c) is not None]]
    for ticker, part in out.items():
        # yfinance aligns all tickers on one index; rows that are all NaN belong to another ticker
        out[ticker] = part.loc[part.notna().any(axis=1)]
    return out


class YahooSource(PriceSource):
    """Daily prices from Yahoo Finance, downloaded with :func:`yfinance.download`.

    Parameters
    ----------
    retries
        How many more times to try after a rate-limit or network error, or an empty answer.
    pause
        Seconds to wait before the first retry; the wait doubles each time (``pause * 2**attempt``).
    timeout
        Seconds yfinance waits for each answer.
    download
        A callable with :func:`yfinance.download`'s signature; default ``yfinance.download``.  Pass your
        own to route through a proxy session or to test without a network.

    Notes
    -----
    All tickers go to Yahoo in one batched call with ``auto_adjust=False`` (so both Close and Adj Close
    come back) and ``end`` one day later than asked, because yfinance's ``end`` is exclusive.

    yfinance does not raise when a ticker fails: it logs the reason and returns an empty or all-NaN
    column.  This class turns that into a :class:`~eventstudy.exceptions.DataSourceError` naming each
    failed ticker with yfinance's reason; a partial success is an error too, never silent NaN columns
    (with ``missing="skip"``, the failed tickers are left out and recorded instead).

    With ``EVENTSTUDY_OFFLINE`` set, every request fails at once without touching the network.
    """

    def __init__(
        self,
        *,
        retries: int = 3,
        pause: float = 1.0,
        timeout: float = 30,
        download: Callable[..., Any] | None = None,
    ) -> None:
        self.retries = check_positive_int("retries", retries, minimum=0)
        for label, value in (("pause", pause), ("timeout", timeout)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"The {label!r} parameter must be a number of seconds. Got {value!r} instead.")
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"The {label!r} parameter must be a number of seconds >= 0. Got {value!r} instead.")
        self.pause = float(pause)
        self.timeout = float(timeout)
        if download is not None and not callable(download):
            raise TypeError(
                "The 'download' parameter must be a callable like yfinance.download. "
                f"Got {type(download).__name__} instead."
            )
        self.download = download

    @property
    def name(self) -> str:
        """``"yahoo"``."""
        return "yahoo"

    def describe(self) -> dict[str, Any]:
        """Provenance: Yahoo Finance through yfinance (with its version) and the request options."""
        versions = library_versions()
        return {
            "name": self.name,
            "kind": "yahoo",
            "location": "https://finance.yahoo.com (via yfinance.download)",
            "options": {"auto_adjust": False, "actions": False, "interval": "1d"},
            "downloader": "yfinance.download" if self.download is None else repr(self.download),
            "yfinance": versions["yfinance"],
            "versions": versions,
        }

    def _call(
        self,
        download: Callable[..., Any],
        tickers: list[str],
        start: pd.Timestamp,
        end: pd.Timestamp,
        **options: Any,
    ) -> tuple[Any, dict[str, str]]:
        """One ``yfinance.download`` of daily prices (or, with ``options`` such as ``interval=`` and
        ``prepost=``, of bars), and the reasons yfinance gave for the tickers it could not serve."""
        log = _ErrorLog()
        logger = logging.getLogger("yfinance")
        logger.addHandler(log)
        try:
            with warnings.catch_warnings():
                # yfinance's own deprecation noise (e.g. pandas' inplace warnings) is not the user's concern
                warnings.filterwarnings("ignore", module=r"yfinance(\.|$)")
                frame = download(
                    list(tickers),
                    start=f"{start:%Y-%m-%d}",
                    end=f"{end + pd.Timedelta(days=1):%Y-%m-%d}",
                    auto_adjust=False,
                    actions=False,
                    group_by="column",
                    progress=False,
                    threads=True,
                    multi_level_index=True,
                    timeout=self.timeout,
                    **options,
                )
        finally:
            logger.removeHandler(log)
        reasons = {**_shared_errors(), **log.reasons()} if self.download is None else log.reasons()
        return frame, reasons

    def _attempt(
        self, download: Callable[..., Any], tickers: list[str], start: pd.Timestamp, end: pd.Timestamp
    ) -> FetchResult:
        """One download, sorted into rows and reasons; raises :class:`_EmptyAnswer` when worth retrying."""
        frame, reasons = self._call(download, tickers, start, end)
        parts = _split_download(frame, tickers)
        result = FetchResult()
        for ticker in tickers:
            part = parts.get(ticker)
            if part is not None and not part.empty:
                result.frames[ticker] = part
                result.origins[ticker] = f"the Yahoo download of {ticker}"
                continue
            why = reasons.get(ticker.upper())
            if why is None:
                result.failures[ticker] = (
                    "Yahoo returned no data (misspelled, delisted, or not listed in the range?)"
                    if part is None
                    else "Yahoo returned only missing values"
                )
                # a ticker empty while others came back: the service answered, this one has nothing
                if parts and any(not p.empty for p in parts.values()):
                    result.no_data.add(ticker)
            else:
                result.failures[ticker] = why
                if _NO_DATA.search(why) and not _TRANSIENT.search(why):
                    result.no_data.add(ticker)
        # nothing at all came back: try again unless Yahoo said plainly there is no data
        if not result.frames and not set(result.failures) <= result.no_data:
            raise _EmptyAnswer(result)
        return result

    def get_bars(self, tickers, start, end, *, interval: str = "5m") -> pd.DataFrame:
        """Intraday bars from Yahoo through :func:`yfinance.download`, start-labelled in UTC, sessions marked.

        Parameters
        ----------
        tickers
            One ticker or a list, downloaded in one batched call.
        start, end
            First and last exchange-local date wanted, inclusive.
        interval
            ``"1m"``, ``"2m"``, ``"5m"``, ``"15m"``, ``"30m"`` or ``"1h"``.  Yahoo serves 1-minute bars for about
            the last 7 days, 2- to 30-minute bars for 60 days and hourly bars for 730 days
            (:data:`~eventstudy.data.bars.YAHOO_INTERVAL_DAYS`); an older ``start`` is refused before any
            download.  Wrap the source in :class:`~eventstudy.data.CachedSource` so that bars accumulate
            across runs beyond that horizon.

        Returns
        -------
        pandas.DataFrame
            As :meth:`CsvSource.get_bars <eventstudy.data.CsvSource.get_bars>`: index ``(ticker, Datetime)``,
            OHLCV, ``session``, ``regular`` and ``session_date``; pre- and post-market bars (``prepost=True``)
            are kept and marked.  Yahoo stamps bars by their start.

        Notes
        -----
        yfinance's 1-minute bars open with the opening-auction print (Open = High = Low = Close, large volume);
        it is the session's first bar, which has no bar return, so it only sets the base of the next one.
        """
        return _get_bars(self, tickers, start, end, interval=interval)

    def _fetch(self, tickers: list[str], start: pd.Timestamp, end: pd.Timestamp) -> FetchResult:
        if config.is_offline():
            raise _offline_error(tickers)
        download = self.download or _default_download()
        url = "https://query2.finance.yahoo.com/v8/finance/chart/"
        span = f"{tickers} ({start:%Y-%m-%d}..{end:%Y-%m-%d})"
        try:
            return retry(
                lambda: self._attempt(download, tickers, start, end),
                retries=self.retries,
                pause=self.pause,
                retry_on=_is_retryable,
            )
        except DataSourceError:
            raise
        except _EmptyAnswer as empty:
            failures, reason = empty.result.failures, str(empty)
        except Exception as exc:  # noqa: BLE001 - whatever the download raised, reported with the tickers
            reason = f"{type(exc).__name__}: {exc}"
            if not _is_retryable(exc):
                raise DataSourceError(
                    f"Yahoo download failed for {span}: {reason}.", failures={t: reason for t in tickers}, url=url
                ) from exc
            failures = {t: reason for t in tickers}
        raise DataSourceError(
            f"Yahoo download failed for {span} after {self.retries + 1} attempt(s): {reason.rstrip('.')}. Check "
            "the network, wait if rate-limited, or set EVENTSTUDY_PRICES_DIR to read local files.",
            failures=failures,
            url=url,
        )


# ---- intraday bars ---------------------------------------------------------------------------------------


def _today() -> pd.Timestamp:
    """Today in UTC, as a day (a function so that tests of Yahoo's look-back limits can fix the clock)."""
    return pd.Timestamp.now(tz="UTC").tz_localize(None).normalize()


def _split_bars(frame: Any, tickers: list[str]) -> dict[str, pd.DataFrame]:
    """Ticker -> bars with a tz-aware index from a ``yfinance.download(interval=...)`` frame."""
    if frame is None or not isinstance(frame, pd.DataFrame) or frame.empty:
        return {}
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise DataSourceError(
            "Yahoo returned intraday bars without a time zone; eventstudy cannot place them in the session "
            "(update yfinance)."
        )
    zone = index.tz
    parts = _split_download(frame, tickers)  # drops the zone (the daily path wants dates) ...
    # ... so it is put back: the wall-clock stamps are unchanged by the split
    return {t: p.set_axis(cast(pd.DatetimeIndex, p.index).tz_localize(zone), axis=0) for t, p in parts.items()}


def _get_bars(self: YahooSource, tickers, start, end, *, interval: str) -> pd.DataFrame:
    """The body of :meth:`YahooSource.get_bars`."""
    interval = _bars.check_interval(interval)
    names = normalize_tickers(tickers)
    first, last = check_date_range(start, end)
    if config.is_offline():
        raise _offline_error(names, f"{interval} bars")
    horizon = _today() - pd.Timedelta(days=_bars.YAHOO_INTERVAL_DAYS[interval])
    if first < horizon:
        raise DataSourceError(
            f"Yahoo serves {interval} bars for the last {_bars.YAHOO_INTERVAL_DAYS[interval]} days only (from "
            f"{horizon:%Y-%m-%d}); 'start' is {first:%Y-%m-%d}. Use a longer interval, a later start, or bars "
            "cached by CachedSource(YahooSource()) from earlier runs.",
            failures={t: f"{interval} bars before {horizon:%Y-%m-%d}" for t in names},
        )
    download = self.download or _default_download()
    url = "https://query2.finance.yahoo.com/v8/finance/chart/"

    def attempt():
        frame, reasons = self._call(
            download, list(names), first, last, interval="60m" if interval == "1h" else interval, prepost=True
        )
        parts = _split_bars(frame, names)
        if not parts:
            raise _EmptyAnswer(FetchResult(failures={t: reasons.get(t.upper(), "no bars") for t in names}))
        return parts, reasons

    span = f"{names} {interval} ({first:%Y-%m-%d}..{last:%Y-%m-%d})"
    try:
        parts, reasons = retry(attempt, retries=self.retries, pause=self.pause, retry_on=_is_retryable)
    except DataSourceError:
        raise
    except _EmptyAnswer as empty:
        raise DataSourceError(
            f"Yahoo returned no {interval} bars for {span}: {empty}.", failures=empty.result.failures, url=url
        ) from None
    except Exception as exc:  # noqa: BLE001 - whatever the download raised, reported with the tickers
        reason = f"{type(exc).__name__}: {exc}"
        raise DataSourceError(
            f"Yahoo download of bars failed for {span}: {reason}. Check the network or read local files with "
            "CsvSource(folder, interval=...).",
            failures={t: reason for t in names},
            url=url,
        ) from exc
    frames, calendars, labels, failures = {}, {}, {}, {}
    for ticker in names:
        part = parts.get(ticker)
        if part is None or part.empty:
            failures[ticker] = reasons.get(ticker.upper(), "Yahoo returned no bars")
            continue
        calendars[ticker] = _bars.calendar_for(ticker)
        labels[ticker] = "start"
        checked = _bars.validate_bars(
            ticker,
            part,
            interval=interval,
            label="start",
            calendar=calendars[ticker],
            where=f"the Yahoo {interval} download of {ticker}",
        )
        kept = _bars.in_range(checked, first, last)
        if kept.empty:
            failures[ticker] = f"no {interval} bars between {first:%Y-%m-%d} and {last:%Y-%m-%d}"
            continue
        frames[ticker] = kept
    if failures:
        raise DataSourceError(
            f"Could not get {interval} bars for {len(failures)} of {len(names)} ticker(s) from Yahoo.",
            failures=failures,
            url=url,
        )
    return _bars.stack_bars(frames, interval=interval, calendars=calendars, labels=labels, source=self.name)
