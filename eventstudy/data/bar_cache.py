"""Intraday bars kept on disk so that they accumulate across runs beyond Yahoo's look-back horizon.

Layout: ``<cache dir>/bars/<source>/<ticker>_<interval>.parquet`` (start-labelled OHLCV bars, UTC index)
beside ``.json`` metadata (the exchange-local dates covered, when fetched, versions, the sha256 of the
Parquet bytes), written atomically by the same store as the daily prices (:mod:`eventstudy.data._store`).
Session marks are not stored: they are recomputed from the exchange calendar on every read.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Protocol, cast

import pandas as pd

from eventstudy.data import bars as _bars
from eventstudy.data._store import (
    CorruptEntryError,
    quarantine,
    read_entry,
    remove_temp_files,
    safe_name,
    storage_errors,
    utc_now,
    write_entry,
)
from eventstudy.data.base import PriceSource
from eventstudy.data.lock import entry_locks
from eventstudy.data.support import library_versions, warn
from eventstudy.data.validation import check_date_range, normalize_tickers
from eventstudy.exceptions import CacheError, DataQualityWarning


class _BarHost(Protocol):
    """What the bar cache needs of the daily cache that hosts it (:class:`~eventstudy.data.cache.CachedSource`,
    which imports this module: the protocol keeps the import one-way)."""

    source: PriceSource
    cache_dir: Path

    @property
    def name(self) -> str: ...

    @property
    def offline(self) -> bool: ...

    def _lock_path(self, ticker: str) -> Path: ...


__all__ = ["cached_bars"]

_FORMAT = "eventstudy-bar-cache"
_OHLCV = list(_bars.BAR_FIELDS)
_Stored = tuple[pd.DataFrame, dict]  # an entry read back: the bars and their metadata


def _paths(cached: _BarHost, ticker: str, interval: str):
    folder = cached.cache_dir / "bars" / safe_name(cached.source.name)
    return folder / f"{safe_name(ticker)}_{interval}.parquet"


def _read(cached: _BarHost, ticker: str, interval: str, offline: bool):
    path = _paths(cached, ticker, interval)
    try:
        found = read_entry(path, expected_format=_FORMAT)
    except CorruptEntryError as exc:
        if offline:
            raise CacheError(
                f"The cached {interval} bars of {ticker} are corrupt: {exc}. Go online to fetch them again, or "
                f"delete {path} and its .json.",
                failures={ticker: str(exc)},
            ) from None
        kept = quarantine(path)
        aside = f"moved them to {kept}" if kept is not None else "could not move them aside"
        warn(
            f"{ticker}: the cached {interval} bars are corrupt ({exc}); {aside} and fetching them again.",
            DataQualityWarning,
        )
        return None
    if found is None:
        return None
    frame, meta = found
    frame.index = frame.index.rename("Datetime")
    return frame[_OHLCV], meta


def cached_bars(cached: _BarHost, tickers, start, end, *, interval: str) -> pd.DataFrame:
    """The body of :meth:`CachedSource.get_bars`: serve cached bars, fetch and merge the dates not covered."""
    interval = _bars.check_interval(interval)
    names = normalize_tickers(tickers)
    first, last = check_date_range(start, end)
    getter = getattr(cached.source, "get_bars", None)
    if getter is None:
        raise TypeError(f"{type(cached.source).__name__} has no get_bars; wrap YahooSource().")
    # one writer per ticker from the read to the write, as for daily prices: two processes fetching bars of
    # one ticker must not overwrite each other's new dates
    with entry_locks([cached._lock_path(f"{t}_{interval}") for t in names]):
        for ticker in names:  # under the lock no live writer owns them: a killed one left them
            with contextlib.suppress(OSError):
                remove_temp_files(_paths(cached, ticker, interval))
        return _cached_bars_locked(cached, getter, names, first, last, interval)


def _cached_bars_locked(cached: _BarHost, getter, names, first, last, interval: str) -> pd.DataFrame:
    offline = cached.offline
    stored: dict[str, _Stored | None] = {t: _read(cached, t, interval, offline) for t in names}
    now = utc_now()
    today = now.tz_localize(None).normalize()
    wanted: dict[str, tuple[pd.Timestamp, pd.Timestamp]] = {}
    for ticker, entry in stored.items():
        if entry is None:
            wanted[ticker] = (first, last)
            continue
        lo, hi = pd.Timestamp(entry[1]["covered_start"]), pd.Timestamp(entry[1]["covered_end"])
        # the last cached day may have been fetched before its session closed: read it again
        complete_hi = (
            hi
            if pd.Timestamp(entry[1]["fetched_at"]).tz_localize(None) > hi + pd.Timedelta(days=1)
            else hi - pd.Timedelta(days=1)
        )
        if first >= lo and last <= complete_hi:
            continue
        gap_lo = first if first < lo else min(complete_hi + pd.Timedelta(days=1), last)
        gap_hi = last if last > complete_hi else lo - pd.Timedelta(days=1)
        wanted[ticker] = (gap_lo, max(gap_hi, gap_lo))
    if wanted and offline:
        raise CacheError(
            f"Offline, and the cache lacks {interval} bars for {sorted(wanted)} in {first:%Y-%m-%d}..{last:%Y-%m-%d}.",
            failures={t: f"{a:%Y-%m-%d}..{b:%Y-%m-%d} not cached" for t, (a, b) in wanted.items()},
        )
    groups: dict[tuple[pd.Timestamp, pd.Timestamp], list[str]] = {}
    for ticker, span in wanted.items():
        groups.setdefault(span, []).append(ticker)
    for (lo, hi), group in groups.items():  # one download per distinct range
        fetched = getter(list(group), lo, hi, interval=interval)
        for ticker in group:
            new = fetched.loc[ticker][_OHLCV]
            old = stored[ticker]
            merged = new if old is None else pd.concat([old[0], new])
            merged = merged[~merged.index.duplicated(keep="last")].sort_index()
            covered = (lo, hi) if old is None else (
                min(lo, pd.Timestamp(old[1]["covered_start"])), max(hi, pd.Timestamp(old[1]["covered_end"]))
            )  # fmt: skip
            meta = {
                "format": _FORMAT,
                "source": cached.source.name,
                "ticker": ticker,
                "interval": interval,
                "covered_start": f"{covered[0]:%Y-%m-%d}",
                "covered_end": f"{min(covered[1], today):%Y-%m-%d}",
                "fetched_at": now.isoformat(),
                "rows": int(len(merged)),
                "versions": library_versions(),
            }
            try:
                write_entry(_paths(cached, ticker, interval), merged.astype("float64"), meta)
            except storage_errors() as exc:
                warn(f"{ticker}: could not write the bar cache ({type(exc).__name__}: {exc}); bars not cached.")
            stored[ticker] = (merged, meta)
    frames, calendars, labels = {}, {}, {}
    for ticker in names:
        calendars[ticker] = _bars.calendar_for(ticker)
        labels[ticker] = "start"
        checked = _bars.validate_bars(
            ticker,
            cast(_Stored, stored[ticker])[0],
            interval=interval,
            calendar=calendars[ticker],
            where=f"the {interval} bar cache",
        )
        frames[ticker] = _bars.in_range(checked, first, last)
    return _bars.stack_bars(frames, interval=interval, calendars=calendars, labels=labels, source=cached.name)
