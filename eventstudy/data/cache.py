"""A local cache in front of any price source: Parquet data plus JSON metadata, written atomically.

Layout: ``<cache dir>/prices/<source>/<ticker>.parquet`` (all fields, one row per date) beside
``<ticker>.json`` (what range is covered, when it was fetched, library versions, and the sha256 of the
Parquet bytes).  Nothing is pickled.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pandas as pd

from eventstudy.data import config
from eventstudy.data._basis import OVERLAP_ROWS, UNVERIFIABLE, basis_change
from eventstudy.data._store import (
    RECOVERED_KEY,
    CorruptEntryError,
    atomic_write_bytes,
    journal_path,
    metadata_path,
    quarantine,
    read_entry,
    remove_temp_files,
    safe_name,
    storage_errors,
    utc_now,
    write_entry,
)
from eventstudy.data.bar_cache import cached_bars
from eventstudy.data.base import FetchResult, PriceSource
from eventstudy.data.lock import entry_locks
from eventstudy.data.support import library_versions, warn
from eventstudy.data.validation import DATE_UNIT, FIELDS, normalize_tickers
from eventstudy.exceptions import CacheError, DataQualityWarning, DataSourceError, EventStudyWarning

__all__ = ["CachedSource", "atomic_write_bytes", "safe_name"]

_FORMAT = "eventstudy-price-cache"
_FORMAT_VERSION = 1
_DAY = pd.Timedelta(days=1)
_LOCK_STRIPES = 64


def _day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).as_unit(DATE_UNIT)


@dataclass
class _Entry:
    frame: pd.DataFrame
    meta: dict[str, Any]

    @property
    def start(self) -> pd.Timestamp:
        return _day(self.meta["covered_start"])

    @property
    def end(self) -> pd.Timestamp:
        return _day(self.meta["covered_end"])

    @property
    def end_fetched_at(self) -> pd.Timestamp:
        return pd.Timestamp(self.meta.get("end_fetched_at") or self.meta["fetched_at"])


def _check_coverage(frame: pd.DataFrame, meta: dict[str, Any], where: str) -> None:
    """Raise CorruptEntryError when the metadata's coverage, dates or row count disagree with the data."""
    start, end = _day(meta["covered_start"]), _day(meta["covered_end"])
    if start > end:
        raise CorruptEntryError(f"metadata {where} covers {start:%Y-%m-%d}..{end:%Y-%m-%d}, which is reversed")
    if meta.get("rows") is not None and meta["rows"] != len(frame):
        raise CorruptEntryError(f"metadata {where} records {meta['rows']} rows but the data file has {len(frame)}")
    if not len(frame):
        return
    first, last = frame.index[0], frame.index[-1]
    if first < start or last > end:
        raise CorruptEntryError(
            f"the data file has rows {first:%Y-%m-%d}..{last:%Y-%m-%d}, outside the range "
            f"{start:%Y-%m-%d}..{end:%Y-%m-%d} that metadata {where} say is covered"
        )
    for key, day in (("first_date", first), ("last_date", last)):
        if meta.get(key) is not None and meta[key] != f"{day:%Y-%m-%d}":
            raise CorruptEntryError(f"metadata {where} record {key} {meta[key]} but the data file's is {day:%Y-%m-%d}")
    if not frame.index.is_monotonic_increasing or frame.index.has_duplicates:
        raise CorruptEntryError("the data file's dates are not ascending and unique")


@dataclass(frozen=True)
class _Gap:
    start: pd.Timestamp
    end: pd.Timestamp
    refresh_only: bool  # True: only re-reads cached days that may have been incomplete


class CachedSource(PriceSource):
    """Keep what another source returns on disk and ask it only for what is missing.

    Parameters
    ----------
    source
        The source to cache, e.g. :class:`~eventstudy.data.YahooSource`.
    cache_dir
        Folder of the cache; default ``$EVENTSTUDY_CACHE_DIR``, else the user cache folder
        (:func:`platformdirs.user_cache_dir`).
    offline
        Never call ``source``: serve from the cache or raise :class:`~eventstudy.exceptions.CacheError`
        naming what is missing.  Default: ``$EVENTSTUDY_OFFLINE`` is ``1``, ``true``, ``yes`` or ``on``
        (read at each request).
    max_age
        Cached days within ``max_age`` before the time they were fetched may have been incomplete (a
        session not yet closed, a late correction); when a request reaches them they are fetched again.
        Older data are served as they are.

    Notes
    -----
    For each ticker the cache holds one Parquet file with all fields and a JSON file recording the range
    covered (as requested, so that a late IPO is not asked again for the years before it), the first and
    last actual dates, when the data were fetched, library versions, the row count and the sha256 of the
    Parquet bytes.  A request fetches only the days before the cached start and after the cached end,
    merges them and rewrites both files.

    Adjusted prices change retroactively (splits, dividends), so every such fetch also re-reads the five
    cached sessions next to the new days and compares them; when they differ, the cached prices are on an
    older basis and the whole range is refetched and the entry replaced, with a
    :class:`~eventstudy.exceptions.DataQualityWarning` naming the day, the field and the ratio.  Old and
    new prices are never joined: if that refetch fails, the request fails.

    Files are written to a temporary file, fsynced and renamed (Parquet first, metadata last), under a
    per-ticker lock held from the read to the write, so two processes writing one ticker keep both
    ranges.  An interrupted write leaves the old files; a write interrupted between the two leaves
    complete data beside stale metadata and a write journal recording the new data's sha256, and only
    then does the record the Parquet file carries recover the entry (with a warning).  Any other entry
    whose checksum, ticker, format version, source, covered range, dates or row count disagree with its
    data, or whose metadata disagree with the record inside the Parquet file, is corrupt: online it is
    moved aside into ``.quarantine/`` (kept, never blessed), a
    :class:`~eventstudy.exceptions.DataQualityWarning` names the failed check and the quarantine folder,
    and the range is fetched again; offline it raises :class:`~eventstudy.exceptions.CacheError`.

    With ``missing="skip"`` a ticker the wrapped source cannot give, or (offline) one whose range is not
    cached, is left out and recorded, and the others are served; when none can be, the error is raised.
    """

    def __init__(
        self,
        source: PriceSource,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        offline: bool | None = None,
        max_age: pd.Timedelta | str = "1D",
    ) -> None:
        if not isinstance(source, PriceSource):
            raise TypeError(
                "The 'source' parameter must be a PriceSource such as YahooSource() or CsvSource(folder). "
                f"Got {type(source).__name__} instead."
            )
        if offline is not None and not isinstance(offline, bool):
            raise TypeError(f"The 'offline' parameter must be True, False or None. Got {offline!r} instead.")
        try:
            age = pd.Timedelta(max_age)
        except (TypeError, ValueError):
            raise TypeError(
                f"The 'max_age' parameter must be a duration such as pd.Timedelta('1D') or '12h'. Got {max_age!r}."
            ) from None
        if age is pd.NaT or age < pd.Timedelta(0):
            raise ValueError(f"The 'max_age' parameter must be a duration >= 0. Got {max_age!r} instead.")
        self.source = source
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else config.cache_dir()
        self._offline = offline
        self.max_age = age

    # ---- PriceSource ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """``"cache:<wrapped source name>"``."""
        return f"cache:{self.source.name}"

    @property
    def offline(self) -> bool:
        """Whether the wrapped source is off limits (the argument, else ``$EVENTSTUDY_OFFLINE``)."""
        return self._offline if self._offline is not None else config.is_offline()

    @property
    def directory(self) -> Path:
        """The folder holding this source's cache files."""
        return self.cache_dir / "prices" / safe_name(self.source.name)

    def describe(self) -> dict[str, Any]:
        """Provenance: the cache folder and settings, and the wrapped source's own description."""
        return {
            "name": self.name,
            "kind": "cache",
            "location": str(self.directory),
            "max_age": str(self.max_age),
            "offline": self.offline,
            "source": self.source.describe(),
            "versions": library_versions(),
        }

    def _fetch(self, tickers: list[str], start: pd.Timestamp, end: pd.Timestamp) -> FetchResult:
        # one writer per ticker from the read to the write, so no process overwrites another's new dates
        with entry_locks([self._lock_path(t) for t in tickers]):
            for ticker in tickers:  # under the lock no live writer owns them: a killed one left them
                with contextlib.suppress(OSError):
                    remove_temp_files(self._paths(ticker)[0])
            return self._fetch_locked(tickers, start, end)

    def _fetch_locked(self, tickers: list[str], start: pd.Timestamp, end: pd.Timestamp) -> FetchResult:
        now = utc_now()
        today = now.tz_localize(None).normalize().as_unit(DATE_UNIT)
        offline = self.offline
        entries: dict[str, _Entry | None] = {t: self._load(t, offline=offline) for t in tickers}
        plans = {t: self._gaps(entries[t], start, end, today=today, offline=offline) for t in tickers}

        result = FetchResult()
        if offline:
            missing = {
                t: ", ".join(f"{g.start:%Y-%m-%d}..{g.end:%Y-%m-%d}" for g in gaps) for t, gaps in plans.items() if gaps
            }
            if missing:
                error = CacheError(
                    f"offline: the cache at {self.directory} lacks these ranges for {self.source.name}. Go online "
                    "(unset EVENTSTUDY_OFFLINE) to fetch them, or set EVENTSTUDY_PRICES_DIR to a folder of price "
                    "files.",
                    failures={t: f"not cached: {why}" for t, why in missing.items()},
                )
                if len(missing) == len(tickers):
                    raise error
                # raised as it is unless the caller skips missing tickers; the cached ones are served
                result.errors.update(dict.fromkeys(missing, error))

        groups: dict[tuple[_Gap, ...], list[str]] = {}
        for ticker in tickers:
            if ticker not in result.errors:
                groups.setdefault(tuple(plans[ticker]), []).append(ticker)
        for gaps, group in groups.items():
            parts: dict[str, list[pd.DataFrame]] = {t: [] for t in group}
            covered: dict[str, list[_Gap]] = {t: [] for t in group}
            rebase: dict[str, str] = {}
            for gap in gaps:
                self._fetch_gap(gap, group, entries, parts, covered, result, rebase)
            for ticker in group:
                if ticker in result.failures or ticker in result.errors:
                    continue
                entry = entries[ticker]
                if ticker in rebase:  # set only for a ticker whose entry overlaps a fetched gap
                    entry = self._refetch_all(
                        ticker, cast(_Entry, entry), rebase[ticker], start, end, now, today, result
                    )
                    if entry is None:
                        continue
                elif covered[ticker]:
                    entry = self._merge_and_store(ticker, entry, parts[ticker], covered[ticker], now, today)
                if entry is None:
                    result.failures[ticker] = f"{self.source.name} returned no data"
                    continue
                result.frames[ticker] = entry.frame
                result.origins[ticker] = f"cache file {self._paths(ticker)[0]}"
        return result

    # ---- planning and fetching --------------------------------------------------------------------

    def _gaps(
        self, entry: _Entry | None, start: pd.Timestamp, end: pd.Timestamp, *, today: pd.Timestamp, offline: bool
    ) -> list[_Gap]:
        last_wanted = min(end, today)
        if entry is None:
            return [_Gap(start, max(last_wanted, start), False)]
        gaps = []
        rows = entry.frame.index if not offline else entry.frame.index[:0]  # offline nothing is fetched
        # gaps run up to the cached range, even past the request, so that the range stays contiguous, and
        # reach a few cached rows into it: those are compared to see whether the adjustment basis changed
        if start < entry.start:
            stop = rows[min(OVERLAP_ROWS, len(rows)) - 1] if len(rows) else entry.start - _DAY
            gaps.append(_Gap(start, max(stop, entry.start - _DAY), False))
        tail_from = None
        if not offline:
            fetched = entry.end_fetched_at.tz_convert("UTC").tz_localize(None)
            if fetched - entry.end < self.max_age:
                tail_from = max(entry.start, (fetched - self.max_age).normalize().as_unit(DATE_UNIT))
        if last_wanted > entry.end:
            first = entry.end + _DAY if tail_from is None else tail_from
            if len(rows):
                first = min(first, rows[max(len(rows) - OVERLAP_ROWS, 0)])
            gaps.append(_Gap(first, last_wanted, False))
        elif tail_from is not None and end >= tail_from:
            # the refreshed days alone could all be recent: a few older ones are re-read to check the basis
            first = min(tail_from, rows[max(len(rows) - OVERLAP_ROWS, 0)]) if len(rows) else tail_from
            gaps.append(_Gap(first, entry.end, True))
        return gaps

    def _fetch_gap(
        self,
        gap: _Gap,
        group: list[str],
        entries: dict[str, _Entry | None],
        parts: dict[str, list[pd.DataFrame]],
        covered: dict[str, list[_Gap]],
        result: FetchResult,
        rebase: dict[str, str],
    ) -> None:
        wanted = [t for t in group if t not in result.failures and t not in result.errors]
        if not wanted:
            return
        try:
            got = self.source._collect(wanted, gap.start, gap.end)
        except DataSourceError as exc:
            for ticker in wanted:
                if gap.refresh_only:
                    self._warn_stale(ticker, entries[ticker], exc)
                else:
                    result.errors[ticker] = exc
            return
        for ticker in wanted:
            if ticker in got.frames:
                frame = got.frames[ticker]
                part = frame.loc[(frame.index >= gap.start) & (frame.index <= gap.end)]
                parts[ticker].append(part)
                covered[ticker].append(gap)
                entry = entries[ticker]
                overlap = (
                    entry is not None and ((entry.frame.index >= gap.start) & (entry.frame.index <= gap.end)).any()
                )
                if overlap and entry is not None and ticker not in rebase:
                    horizon = (entry.end_fetched_at.tz_convert("UTC").tz_localize(None) - self.max_age).normalize()
                    changed = basis_change(entry.frame, part, complete_before=horizon)
                    if changed is not None and not (gap.refresh_only and changed.startswith(UNVERIFIABLE)):
                        rebase[ticker] = changed
            elif ticker in got.no_data and entries[ticker] is not None:
                covered[ticker].append(gap)  # the source has nothing there (e.g. before an IPO)
            elif gap.refresh_only:
                self._warn_stale(ticker, entries[ticker], got.errors.get(ticker) or got.failures.get(ticker, "no data"))
            elif ticker in got.errors:
                result.errors[ticker] = got.errors[ticker]
            else:
                result.failures[ticker] = got.failures.get(ticker, f"{self.source.name} returned no data")

    def _refetch_all(
        self,
        ticker: str,
        entry: _Entry,
        why: str,
        start: pd.Timestamp,
        end: pd.Timestamp,
        now: pd.Timestamp,
        today: pd.Timestamp,
        result: FetchResult,
    ) -> _Entry | None:
        """Replace an entry whose adjustment basis changed by the whole range fetched afresh (never a mix)."""
        first = min(start, entry.start)
        last = max(min(end, today), entry.end)
        span = f"{first:%Y-%m-%d}..{last:%Y-%m-%d}"
        try:
            got = self.source._collect([ticker], first, last)
            problem = got.errors.get(ticker) or got.failures.get(ticker)
        except DataSourceError as exc:
            problem = exc
        if problem is not None or ticker not in got.frames:
            result.errors[ticker] = DataSourceError(
                f"{ticker}: the cached prices are on another adjustment basis than {self.source.name}'s ({why}), "
                f"and refetching the whole range {span} failed ({problem or 'no data'}). Nothing mixing the two "
                f"bases is served: retry later, or forget the entry with CachedSource.clear({ticker!r}).",
                failures={ticker: f"adjustment basis changed; refetch of {span} failed"},
            )
            return None
        frame = got.frames[ticker]
        frame = frame.loc[(frame.index >= first) & (frame.index <= last)]
        warn(
            f"{ticker}: the cached prices were on an older adjustment basis ({why}: a split, dividend or "
            f"correction since they were cached); refetched the whole range {span} from {self.source.name} and "
            "replaced the cache entry, so old and new prices are never joined.",
            DataQualityWarning,
        )
        return self._merge_and_store(ticker, None, [frame], [_Gap(first, last, False)], now, today)

    def _warn_stale(self, ticker: str, entry: _Entry | None, why: object) -> None:
        fetched = entry.meta.get("end_fetched_at") if entry is not None else "?"
        warn(
            f"{ticker}: could not refresh the last cached days from {self.source.name} ({why}); serving the "
            f"cached data fetched at {fetched}, which may miss the latest session.",
            DataQualityWarning,
        )

    def _merge_and_store(
        self,
        ticker: str,
        entry: _Entry | None,
        parts: list[pd.DataFrame],
        gaps: list[_Gap],
        now: pd.Timestamp,
        today: pd.Timestamp,
    ) -> _Entry | None:
        if entry is not None:
            old = entry.frame
        else:
            empty = pd.DatetimeIndex([], name="Date").as_unit(DATE_UNIT)
            old = pd.DataFrame(index=empty, columns=list(FIELDS), dtype="float64")
        keep = pd.Series(True, index=old.index)
        for gap in gaps:
            keep &= ~((old.index >= gap.start) & (old.index <= gap.end))
        pieces = [p for p in [old.loc[keep.to_numpy()], *parts] if len(p)]
        if not pieces:
            if entry is None:
                return None
            frame = old.iloc[:0]
        else:
            frame = pd.concat(pieces).sort_index()
        frame = frame.astype("float64")
        frame.index = pd.DatetimeIndex(frame.index).as_unit(DATE_UNIT).rename("Date")

        start = min([g.start for g in gaps] + ([entry.start] if entry is not None else []))
        end = max([min(g.end, today) for g in gaps] + ([entry.end] if entry is not None else []))
        stamp = now.isoformat()
        # without an entry `end` is a gap's own end, so the stamp is always the new one
        end_fetched = (
            stamp if entry is None or any(g.end >= end for g in gaps) else entry.meta.get("end_fetched_at", stamp)
        )
        meta = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "source": self.source.name,
            "source_description": self.source.describe(),
            "ticker": ticker,
            "fields": list(FIELDS),
            "covered_start": f"{start:%Y-%m-%d}",
            "covered_end": f"{end:%Y-%m-%d}",
            "first_date": f"{frame.index[0]:%Y-%m-%d}" if len(frame) else None,
            "last_date": f"{frame.index[-1]:%Y-%m-%d}" if len(frame) else None,
            "fetched_at": stamp,
            "end_fetched_at": end_fetched,
            "created_at": entry.meta.get("created_at", stamp) if entry is not None else stamp,
            "versions": library_versions(),
            "rows": int(len(frame)),
        }
        new = _Entry(frame=frame, meta=meta)
        parquet = self._paths(ticker)[0]
        try:
            new.meta = write_entry(parquet, frame, meta)
        except storage_errors() as exc:  # the data are good; only caching failed
            warn(
                f"{ticker}: could not write the cache file {parquet} ({type(exc).__name__}: {exc}); the data were "
                f"fetched but not cached. Check the free space and permissions of {self.directory} or set "
                "EVENTSTUDY_CACHE_DIR.",
                EventStudyWarning,
            )
        return new

    # ---- files ------------------------------------------------------------------------------------

    def _paths(self, ticker: str) -> tuple[Path, Path]:
        parquet = self.directory / f"{safe_name(ticker)}.parquet"
        return parquet, metadata_path(parquet)

    def _lock_path(self, ticker: str) -> Path:
        # 64 lock files shared out by a hash, so that a request for thousands of tickers holds at most 64
        # descriptors; two tickers on one stripe only wait for each other
        stripe = int(hashlib.sha1(ticker.encode("utf-8")).hexdigest(), 16) % _LOCK_STRIPES
        return self.directory / ".locks" / f"{stripe:02d}.lock"

    def _read(self, ticker: str) -> _Entry | None:
        """Read and verify an entry; None when not cached; raise CorruptEntryError naming the check that failed.

        An entry whose metadata were lost or left stale by a write interrupted between the two renames is
        recovered from the record inside the (complete) Parquet file; ``entry.meta`` then holds
        ``RECOVERED_KEY`` with what was wrong.
        """
        parquet, meta_path = self._paths(ticker)
        found = read_entry(parquet, expected_format=_FORMAT, recover=True)
        if found is None:
            return None
        frame, meta = found
        where = f"{parquet.name} (record recovered from the data file)" if RECOVERED_KEY in meta else meta_path.name
        lacking = [f for f in FIELDS if f not in frame.columns]
        if lacking:
            raise CorruptEntryError(f"data file {parquet} lacks the column(s) {lacking}")
        if meta.get("format_version") != _FORMAT_VERSION:
            raise CorruptEntryError(
                f"metadata {where} has format version {meta.get('format_version')!r}; this eventstudy reads version "
                f"{_FORMAT_VERSION}"
            )
        if meta.get("ticker") != ticker:
            raise CorruptEntryError(f"metadata {where} is for ticker {meta.get('ticker')!r}, not {ticker!r}")
        if meta.get("source") not in (None, self.source.name):
            raise CorruptEntryError(f"metadata {where} is for source {meta.get('source')!r}, not {self.source.name!r}")
        for key in ("covered_start", "covered_end", "fetched_at"):
            try:
                pd.Timestamp(meta[key])
            except (KeyError, TypeError, ValueError):
                raise CorruptEntryError(f"metadata {where} has no readable {key!r}") from None
        _check_coverage(frame, meta, where)
        return _Entry(frame=frame[list(FIELDS)], meta=meta)

    def _load(self, ticker: str, *, offline: bool) -> _Entry | None:
        try:
            entry = self._read(ticker)
            if entry is not None and RECOVERED_KEY in entry.meta:
                self._restore_metadata(ticker, entry)
            return entry
        except CorruptEntryError as exc:
            if offline:
                raise CacheError(
                    f"The cache entry for {ticker} is corrupt: {exc}. Go online to fetch it again, or delete "
                    f"{self._paths(ticker)[0]} and its .json.",
                    failures={ticker: str(exc)},
                ) from None
            kept = quarantine(self._paths(ticker)[0])
            aside = f"moved it to {kept}" if kept is not None else "could not move it aside"
            warn(
                f"{ticker}: the cache entry is corrupt ({exc}); {aside} and fetching the data again from "
                f"{self.source.name}.",
                DataQualityWarning,
            )
            return None

    # ---- intraday bars ----------------------------------------------------------------------------

    def get_bars(self, tickers, start, end, *, interval: str = "5m") -> pd.DataFrame:
        """Intraday bars of the wrapped source (e.g. YahooSource), kept on disk so they accumulate across runs.

        Cached bars live in ``<cache dir>/bars/<source>/<ticker>_<interval>.parquet`` with JSON metadata,
        written like the daily entries; only the dates not yet covered are fetched (the last cached day is
        fetched again when it was cached before its session ended), and offline a range not cached raises
        :class:`~eventstudy.exceptions.CacheError`.  Returns what ``get_bars`` of the source returns.
        """
        return cached_bars(self, tickers, start, end, interval=interval)

    def _restore_metadata(self, ticker: str, entry: _Entry) -> None:
        """Say that an entry was recovered, and write its metadata back (under the ticker's lock).

        Called only for an entry :func:`~eventstudy.data._store.read_entry` recovered, i.e. whose write
        journal proved an interrupted write of these very bytes; then the journal is done with.
        """
        problem = entry.meta.pop(RECOVERED_KEY)
        parquet, meta_path = self._paths(ticker)
        note = "; the metadata file was rewritten"
        try:
            atomic_write_bytes(meta_path, json.dumps(entry.meta, indent=2, default=str).encode("utf-8"))
            with contextlib.suppress(FileNotFoundError):
                journal_path(parquet).unlink()
        except OSError as exc:
            note = f"; the metadata file could not be rewritten ({exc})"
        warn(
            f"{ticker}: {problem} (a write interrupted between the data and the metadata); recovered the "
            f"{entry.meta.get('covered_start')}..{entry.meta.get('covered_end')} entry from the record inside "
            f"{parquet}, whose data are complete{note}.",
            DataQualityWarning,
        )

    # ---- housekeeping -----------------------------------------------------------------------------

    def clear(self, tickers: str | list[str] | None = None) -> int:
        """Delete cached entries of this source.

        Parameters
        ----------
        tickers
            The tickers to forget; None forgets every ticker of this source.

        Returns
        -------
        int
            How many files were removed.
        """
        if not self.directory.exists():
            return 0
        if tickers is None:
            targets = [p for p in self.directory.iterdir() if p.is_file()]
        else:
            targets = []
            for ticker in normalize_tickers(tickers):
                parquet, meta_path = self._paths(ticker)
                targets += [parquet, meta_path, journal_path(parquet)]
                targets += list(self.directory.glob(f".{parquet.name}.*.tmp"))
                targets += list(self.directory.glob(f".{meta_path.name}.*.tmp"))
        removed = 0
        for path in targets:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
        return removed

    def cache_info(self) -> pd.DataFrame:
        """Describe what is cached for this source, one row per ticker.

        Returns
        -------
        pandas.DataFrame
            Columns ``ticker, covered_start, covered_end, first_date, last_date, rows, fetched_at, bytes,
            status, file``; ``status`` is ``"ok"`` or the reason the entry is unusable.
        """
        columns = [
            "ticker",
            "covered_start",
            "covered_end",
            "first_date",
            "last_date",
            "rows",
            "fetched_at",
            "bytes",
            "status",
            "file",
        ]
        rows: list[dict[str, Any]] = []
        if self.directory.exists():
            for meta_path in sorted(self.directory.glob("*.json")):
                try:
                    meta = json.loads(meta_path.read_text(encoding="utf-8"))
                    ticker = meta["ticker"]
                except (OSError, ValueError, KeyError, TypeError) as exc:
                    rows.append({"ticker": None, "status": f"unreadable metadata ({exc})", "file": str(meta_path)})
                    continue
                try:
                    entry = self._read(ticker)
                    recovered = entry.meta.get(RECOVERED_KEY) if entry is not None else None
                    status = f"recoverable on the next request: {recovered}" if recovered else "ok"
                except CorruptEntryError as exc:
                    status = str(exc)
                parquet = self._paths(ticker)[0]
                rows.append(
                    {
                        "ticker": ticker,
                        "covered_start": meta.get("covered_start"),
                        "covered_end": meta.get("covered_end"),
                        "first_date": meta.get("first_date"),
                        "last_date": meta.get("last_date"),
                        "rows": meta.get("rows"),
                        "fetched_at": meta.get("fetched_at"),
                        "bytes": parquet.stat().st_size if parquet.exists() else None,
                        "status": status,
                        "file": str(parquet),
                    }
                )
        info = pd.DataFrame(rows, columns=columns)
        for column in ("covered_start", "covered_end", "first_date", "last_date"):
            info[column] = pd.to_datetime(info[column])
        info["fetched_at"] = pd.to_datetime(info["fetched_at"], utc=True)
        return info
