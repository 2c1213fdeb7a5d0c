"""Prices from local CSV files: a folder of ``<TICKER>.csv`` files, or one long or wide file."""

from __future__ import annotations

import difflib
import functools
import io
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from eventstudy.data import bars as _bars
from eventstudy.data.base import FetchResult, PriceSource
from eventstudy.data.support import library_versions
from eventstudy.data.validation import (
    FIELDS,
    _squash,
    canonical_field,
    check_date_range,
    normalize_tickers,
    validate_history,
)
from eventstudy.exceptions import DataSourceError
from eventstudy.foundation.validation import check_choice

__all__ = ["CsvSource"]

Layout = Literal["directory", "long", "wide"]

_TICKER_HEADERS = {"ticker", "symbol", "tic", "permno"}
_VALUE_HEADERS = {"price", "value"}
_FIELD_HEADERS = {"field", "pricetype"}


def _read_text_table(path: Path) -> pd.DataFrame:
    """Read a CSV with every cell as text (empty -> missing) so that validation can name bad cells."""
    table = _read_with_arrow(path)
    if table is not None:
        return table
    try:
        return pd.read_csv(path, dtype=str, skipinitialspace=True, keep_default_na=True)
    except FileNotFoundError:
        raise DataSourceError(f"The price file {path} does not exist.", failures={path.name: "no such file"}) from None
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataSourceError(
            f"The price file {path} cannot be read as CSV: {exc}. Check that it is a comma-separated text "
            "file with one header row.",
            failures={path.name: str(exc)},
        ) from None


def _read_with_arrow(path: Path) -> pd.DataFrame | None:
    """The table pandas' C reader gives, read by Arrow's (about half its CPU), or None to leave it to that reader.

    Both read the same text and the same missing values (pandas hands Arrow its list of NA strings); they
    differ where the C reader's ``skipinitialspace`` drops spaces after a comma, and in what they say about
    a broken file: Arrow takes an unterminated quote to the end of the file as one cell (the rows after it
    vanish), where the C reader stops with "EOF inside string".  So a file with a quote, a file with a space
    or a tab where a field may start (after a comma or a line break), an empty table or any failure gives
    None: the C reader then reads the file, or names what is wrong.
    """
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b'"' in data:  # quoted fields: the C reader (price and bar files written by tools have none)
        return None
    blank = b" " in data or b"\t" in data  # one fast byte search; bar files hold neither
    if blank and (
        data.removeprefix(b"\xef\xbb\xbf")[:1] in (b" ", b"\t")
        or any(pair in data for pair in (b", ", b",\t", b"\n ", b"\n\t", b"\r ", b"\r\t"))
    ):
        return None
    try:
        table = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=True, engine="pyarrow")
    except Exception:  # noqa: BLE001  # whatever Arrow objects to, the C reader decides and says
        return None
    if table.empty or not all(isinstance(dtype, pd.StringDtype) for dtype in table.dtypes):
        return None
    return table


class CsvSource(PriceSource):
    """Prices read from CSV files on disk.

    Parameters
    ----------
    directory_or_file
        Either a folder with one ``<TICKER>.csv`` per ticker, or a single CSV file in one of two
        layouts (detected from the header):

        * **long**: ``date, ticker, price`` (``symbol`` is accepted for ``ticker``, ``value`` for
          ``price``), with an optional ``field`` column naming the field of each row; or ``date,
          ticker`` plus field columns (``Close``, ``Adj Close``, ...).
        * **wide**: ``Date`` plus one column per ticker.
    date_column
        Header of the date column (compared ignoring case, spaces and underscores).
    price_field
        The field that the values of a long file without a ``field`` column, or of a wide file, count
        as.  Default ``"Adj Close"``: such files usually hold adjusted closes.
    interval
        For :meth:`get_bars`: the bar length, ``"1m"``, ``"2m"``, ``"5m"``, ``"15m"``, ``"30m"`` or ``"1h"``;
        bars are read from ``<TICKER>_<interval>.csv`` in the folder.
    label
        For :meth:`get_bars`: ``"start"`` (default) when a file's stamps mark the start of each bar,
        ``"end"`` when they mark its end, or a mapping ticker -> label (tickers left out are ``"start"``).
        End stamps are moved back by one interval; the label is declared, never guessed.
    calendars
        For :meth:`get_bars`: ticker -> exchange_calendars code where
        :func:`~eventstudy.data.bars.calendar_for` guesses wrong (``.T`` -> XTKS, no suffix -> XNYS).

    Notes
    -----
    A per-ticker file has a date column plus any of Open, High, Low, Close, Adj Close, Volume; header
    case and spelling are free (``Adj Close``, ``adj_close``, ``adjclose`` ...), other columns are
    ignored and empty cells are missing values.  An index ticker is looked up without its caret
    (``^GSPC`` -> ``GSPC.csv``) and with it (``^GSPC.csv``); file names are matched ignoring case.

    Examples
    --------
    >>> src = CsvSource("prices/")  # doctest: +SKIP
    >>> src.get_prices(["NVDA", "^GSPC"], "2025-05-01", "2025-05-30")  # doctest: +SKIP
    >>> CsvSource("intraday/", interval="1m").get_bars(["NVDA", "SPY"], "2025-05-12", "2025-05-14")  # doctest: +SKIP
    >>> tokyo = CsvSource("intraday/", interval="5m", label="end")  # the Tokyo files stamp the bar end  # doctest: +SKIP
    """

    def __init__(
        self,
        directory_or_file: str | os.PathLike[str],
        *,
        date_column: str = "Date",
        price_field: str = "Adj Close",
        interval: str | None = None,
        label: str | dict[str, str] = "start",
        calendars: dict[str, str] | None = None,
    ) -> None:
        if not isinstance(directory_or_file, (str, os.PathLike)):
            raise TypeError(
                "The 'directory_or_file' parameter must be a path to a folder or a CSV file. "
                f"Got {type(directory_or_file).__name__} instead."
            )
        if not isinstance(date_column, str) or not date_column.strip():
            raise TypeError(f"The 'date_column' parameter must be a column header such as 'Date'. Got {date_column!r}.")
        path = Path(directory_or_file).expanduser()
        if not path.exists():
            raise DataSourceError(
                f"The 'directory_or_file' parameter points to {path}, which does not exist. Give a folder of "
                "<TICKER>.csv files or a CSV file.",
                failures={str(path): "does not exist"},
            )
        self.path = path.resolve()
        self.date_column = date_column
        self.price_field = check_choice("price_field", price_field, FIELDS)
        self.interval = None if interval is None else _bars.check_interval(interval)
        self.label = _bars.check_label(label)
        self.calendars = dict(calendars or {})
        #: the rows (as text) of each bar file read, by (path, modification time, size), when a caller that reads
        #: the same files for several ranges asks for it (``{}``); None (default): nothing is kept
        self._kept_bars: dict | None = None
        #: the same for the checked rows of each per-ticker daily file (by path, modification time, size, ticker)
        self._kept_history: dict | None = None

    # ---- PriceSource ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """``"csv:<absolute path>"``."""
        return f"csv:{self.path}"

    @property
    def layout(self) -> Layout:
        """``"directory"``, ``"long"`` or ``"wide"``."""
        if self.path.is_dir():
            return "directory"
        header = self._header(self.path)
        return "long" if any(_squash(h) in _TICKER_HEADERS for h in header) else "wide"

    def describe(self) -> dict[str, Any]:
        """Provenance: the path and layout, the date column and the library versions."""
        return {
            "name": self.name,
            "kind": "csv",
            "location": str(self.path),
            "layout": self.layout,
            "date_column": self.date_column,
            "price_field": self.price_field,
            "versions": library_versions(),
        }

    def tickers(self) -> list[str]:
        """The tickers available (file stems for a folder, tickers found in a single file)."""
        if self.path.is_dir():
            return sorted(p.stem for p in self.path.iterdir() if p.suffix.lower() == ".csv")
        table = _read_text_table(self.path)
        if self.layout == "long":
            return sorted(table[self._find_column(table, _TICKER_HEADERS, "ticker")].dropna().unique())
        date = self._find_column(table, {_squash(self.date_column)}, self.date_column)
        return [c for c in table.columns if c != date]

    def _collect(self, tickers: list[str], start: pd.Timestamp, end: pd.Timestamp) -> FetchResult:
        """Read and check the files, reusing the checked rows of files already read when ``_kept_history`` is
        a dict (a folder's files are read whole, whatever the range, so the checked rows do not depend on it)."""
        kept = self._kept_history
        if kept is None or not self.path.is_dir():
            return super()._collect(tickers, start, end)
        files = {p.name.lower(): p for p in self.path.iterdir() if p.is_file() and p.suffix.lower() == ".csv"}
        keys = {}
        for ticker in tickers:
            path = self._file_for(ticker, files)
            if path is not None:
                stat = path.stat()
                keys[ticker] = (path, stat.st_mtime_ns, stat.st_size, ticker, self.date_column)
        hits = [t for t in tickers if t in keys and keys[t] in kept]
        rest = [t for t in tickers if t not in hits]
        out = super()._collect(rest, start, end) if rest else FetchResult()
        for ticker in rest:
            if ticker in out.frames and ticker in keys:
                kept[keys[ticker]] = out.frames[ticker]
        for ticker in hits:
            out.frames[ticker] = kept[keys[ticker]]
            out.origins[ticker] = f"file {keys[ticker][0]}"
        return out

    def _fetch(self, tickers: list[str], start: pd.Timestamp, end: pd.Timestamp) -> FetchResult:
        if self.path.is_dir():
            return self._fetch_directory(tickers)
        table = _read_text_table(self.path)
        if self.layout == "long":
            return self._fetch_long(table, tickers)
        return self._fetch_wide(table, tickers)

    # ---- intraday bars ----------------------------------------------------------------------------

    def get_bars(self, tickers, start, end) -> pd.DataFrame:
        """Read intraday bars from ``<TICKER>_<interval>.csv`` files, start-labelled, in UTC, sessions marked.

        Parameters
        ----------
        tickers
            One ticker or a list (``^N225`` is read from ``N225_5m.csv``).
        start, end
            First and last exchange-local date wanted, inclusive.

        Returns
        -------
        pandas.DataFrame
            Index ``(ticker, Datetime)`` with ``Datetime`` the tz-aware UTC start of each bar; columns
            Open, High, Low, Close, Volume, ``session`` (``"pre"``, ``"regular"``, ``"break"``, ``"post"``,
            ``"closed"``), ``regular`` and ``session_date``.  Pre- and post-market bars are kept and marked.
            ``attrs`` holds ``eventstudy_interval``, ``eventstudy_calendars`` (ticker -> exchange code) and
            ``eventstudy_labels`` (ticker -> the declared stamp label).

        Raises
        ------
        ValueError
            When the source was made without ``interval=``, or ``start`` is after ``end``.
        DataSourceError
            When a file is missing or has no bars in the range, or its bars fail a check of
            :func:`~eventstudy.data.bars.validate_bars` (no zone, mixed intervals, duplicated stamps ...).
            Only the rows written within two days of the range are parsed and checked (all of them when a
            stamp does not start with a date): a year of 5-minute bars holds 50,000 rows, an event a few days.
        """
        if self.interval is None:
            raise ValueError(
                "The 'interval' parameter of CsvSource is needed to read bars: CsvSource(folder, interval='5m')."
            )
        if not self.path.is_dir():
            raise DataSourceError(
                f"Bars are read from a folder of <TICKER>_{self.interval}.csv files; {self.path} is a file.",
                failures={str(self.path): "not a folder"},
            )
        names = normalize_tickers(tickers)
        first, last = check_date_range(start, end)
        files = {p.name.lower(): p for p in self.path.iterdir() if p.is_file() and p.suffix.lower() == ".csv"}
        frames, calendars, labels, failures = {}, {}, {}, {}
        for ticker in names:
            path = self._bar_file_for(ticker, files)
            if path is None:
                wanted = f"{ticker.lstrip('^')}_{self.interval}.csv"
                close = difflib.get_close_matches(wanted.lower(), list(files), n=3)
                hint = f"; similar files: {[files[c].name for c in close]}" if close else ""
                failures[ticker] = f"no file {wanted} in {self.path}{hint}"
                continue
            calendars[ticker] = _bars.calendar_for(ticker, self.calendars)
            labels[ticker] = _bars.label_for(ticker, self.label)
            stat = path.stat()
            key = (path, stat.st_mtime_ns, stat.st_size)
            table = None if self._kept_bars is None else self._kept_bars.get(key)
            if table is None:
                table = _read_text_table(path)
                if self._kept_bars is not None:
                    self._kept_bars[key] = table
            stamp = self._find_column(table, {"datetime", "date", "timestamp", "time"}, "Datetime", where=path)
            lines = np.arange(2, len(table) + 2)
            near = _bars.rows_near(table[stamp], first, last)
            check = functools.partial(
                _bars.validate_bars,
                ticker,
                interval=self.interval,
                label=labels[ticker],
                calendar=calendars[ticker],
                where=f"file {path}",
            )
            whole = near is None or not near.any()  # no row near the range: the message says what the file covers
            bars = (
                check(table.set_index(stamp), lines=lines)
                if whole
                else check(table.loc[near].set_index(stamp), lines=lines[near])
            )
            kept = _bars.in_range(bars, first, last)
            if kept.empty:
                if not whole:
                    bars = check(table.set_index(stamp), lines=lines)
                failures[ticker] = (
                    f"no bars between {first:%Y-%m-%d} and {last:%Y-%m-%d}; {path.name} covers "
                    f"{bars['session_date'].iloc[0]:%Y-%m-%d}..{bars['session_date'].iloc[-1]:%Y-%m-%d}"
                )
                continue
            frames[ticker] = kept
        if failures:
            raise DataSourceError(
                f"Could not read {self.interval} bars for {len(failures)} of {len(names)} ticker(s) from {self.path}.",
                failures=failures,
            )
        return _bars.stack_bars(frames, interval=self.interval, calendars=calendars, labels=labels, source=self.name)

    def _bar_file_for(self, ticker: str, files: dict[str, Path]) -> Path | None:
        for stem in (ticker, ticker.lstrip("^")):
            found = files.get(f"{stem}_{self.interval}.csv".lower())
            if found is not None:
                return found
        return None

    # ---- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _header(path: Path) -> list[str]:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            first = handle.readline()
        return [cell.strip() for cell in first.strip().split(",")]

    def _find_column(self, table: pd.DataFrame, wanted: set[str], label: str, *, where: Path | None = None) -> str:
        for column in table.columns:
            if _squash(column) in wanted:
                return column
        raise DataSourceError(
            f"The file {where or self.path} has no {label!r} column; its columns are {list(table.columns)}. "
            f"Rename the column, or pass date_column= to CsvSource if the dates are under another header.",
            failures={str(where or self.path): f"no {label} column"},
        )

    def _file_for(self, ticker: str, files: dict[str, Path]) -> Path | None:
        for stem in (ticker, ticker.lstrip("^")):
            for candidate in (stem, stem.replace("/", "-"), stem.replace(".", "-")):
                found = files.get(candidate.lower() + ".csv")
                if found is not None:
                    return found
        return None

    def _fetch_directory(self, tickers: list[str]) -> FetchResult:
        files = {p.name.lower(): p for p in self.path.iterdir() if p.is_file() and p.suffix.lower() == ".csv"}
        result = FetchResult()
        for ticker in tickers:
            path = self._file_for(ticker, files)
            if path is None:
                wanted = f"{ticker.lstrip('^')}.csv"
                close = difflib.get_close_matches(wanted.lower(), list(files), n=3)
                hint = f"; similar files: {[files[c].name for c in close]}" if close else ""
                result.failures[ticker] = f"no file {wanted} in {self.path}{hint}"
                continue
            try:
                table = _read_text_table(path)
                date = self._find_column(table, {_squash(self.date_column)}, self.date_column, where=path)
            except DataSourceError as error:  # this file only: the others can still be read
                result.errors[ticker] = error
                continue
            frame = table.set_index(date)
            if not any(canonical_field(c) for c in frame.columns):
                result.failures[ticker] = (
                    f"{path.name} has no price column (expected any of {list(FIELDS)}; found {list(frame.columns)})"
                )
                continue
            result.frames[ticker] = frame
            result.origins[ticker] = f"file {path}"
            result.lines[ticker] = np.arange(2, len(frame) + 2)
        return result

    def _fetch_long(self, table: pd.DataFrame, tickers: list[str]) -> FetchResult:
        date = self._find_column(table, {_squash(self.date_column), "date"}, self.date_column)
        symbol = self._find_column(table, _TICKER_HEADERS, "ticker")
        value = next((c for c in table.columns if _squash(c) in _VALUE_HEADERS), None)
        kind = next((c for c in table.columns if _squash(c) in _FIELD_HEADERS), None)
        table = table.assign(_line=np.arange(2, len(table) + 2))
        result = FetchResult()
        names = table[symbol].astype(str).str.strip()
        available = sorted(names.dropna().unique())
        for ticker in tickers:
            mask = names == ticker
            if not mask.any():
                mask = names.str.upper() == ticker.upper()
            if not mask.any():
                mask = names.str.lstrip("^").str.upper() == ticker.lstrip("^").upper()
            if not mask.any():
                close = difflib.get_close_matches(ticker, available, n=3)
                hint = f"; similar: {close}" if close else ""
                result.failures[ticker] = f"no rows for this ticker in {self.path.name}{hint}"
                continue
            rows = table.loc[mask]
            where = f"file {self.path} (rows of {ticker})"
            if value is None:
                frame = rows.set_index(date)
                result.lines[ticker] = rows["_line"].to_numpy()
            elif kind is None:
                frame = rows.set_index(date)[[value]].rename(columns={value: self.price_field})
                result.lines[ticker] = rows["_line"].to_numpy()
            else:
                try:
                    frame = self._pivot_fields(ticker, rows, date, value, kind, where)
                except DataSourceError as error:  # this ticker's rows only
                    result.errors[ticker] = error
                    continue
            result.frames[ticker] = frame
            result.origins[ticker] = where
        return result

    def _pivot_fields(
        self, ticker: str, rows: pd.DataFrame, date: str, value: str, kind: str, where: str
    ) -> pd.DataFrame:
        fields = rows[kind].map(lambda label: canonical_field(label) if isinstance(label, str) else None)
        unknown = fields.isna().to_numpy()
        if unknown.any():
            i = int(unknown.argmax())
            raise DataSourceError(
                f"{ticker}: {where} names an unknown field {rows[kind].iloc[i]!r} at line {int(rows['_line'].iloc[i])}; "
                f"use one of {list(FIELDS)}.",
                failures={ticker: f"unknown field {rows[kind].iloc[i]!r}"},
            )
        parts = []
        for field, group in rows.groupby(fields.to_numpy(), sort=False):
            # check order and duplicates within each field before the rows are joined on date
            one = validate_history(
                ticker,
                group.set_index(date)[[value]].rename(columns={value: field}),
                where=f"{where}, field {field}",
                lines=group["_line"].to_numpy(),
            )
            parts.append(one[[field]])
        return pd.concat(parts, axis=1, sort=True)

    def _fetch_wide(self, table: pd.DataFrame, tickers: list[str]) -> FetchResult:
        date = self._find_column(table, {_squash(self.date_column)}, self.date_column)
        frame = table.set_index(date)
        lookup = {str(c): c for c in frame.columns}
        upper = {str(c).upper(): c for c in frame.columns}
        result = FetchResult()
        for ticker in tickers:
            column = (
                lookup.get(ticker)
                or upper.get(ticker.upper())
                or upper.get(ticker.lstrip("^").upper())
                or upper.get("^" + ticker.lstrip("^").upper())
            )
            if column is None:
                close = difflib.get_close_matches(ticker, list(lookup), n=3)
                hint = f"; similar: {close}" if close else ""
                result.failures[ticker] = f"no column {ticker!r} in {self.path.name}{hint}"
                continue
            result.frames[ticker] = frame[[column]].rename(columns={column: self.price_field})
            result.origins[ticker] = f"file {self.path} (column {column!r})"
            result.lines[ticker] = np.arange(2, len(frame) + 2)
        return result
