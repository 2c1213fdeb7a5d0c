"""The price-source interface: one method to implement, the template methods that shape every source's data.

A source implements one method, :meth:`PriceSource._fetch`, that returns the raw rows it has for some
tickers.  The template methods :meth:`PriceSource.get_history` and :meth:`PriceSource.get_prices` do the
rest, the same way for every source (the pattern of pandas-datareader's ``base.py``):

1. check the arguments (tickers, ``start <= end``, the field);
2. call ``_fetch`` once for all tickers;
3. pass each ticker's rows through :func:`~eventstudy.data.validation.validate_history` (dates readable,
   ascending, unique; prices numeric and positive) so that a bad file or download fails with a message
   naming the ticker and row;
4. keep the rows in ``start..end``, and record (never hide) a ticker whose data do not cover that range;
5. for :meth:`~PriceSource.get_prices`, pick the field, falling back to Close with a recorded warning
   where the field is missing.

Notes about the data (a late start, a substituted field) are issued as
:class:`~eventstudy.exceptions.DataQualityWarning` and kept, as a list of strings, in
``frame.attrs["eventstudy_notes"]`` so that they travel with the prices into the results.

A ticker that cannot be read makes the whole request fail by default (``missing="raise"``); with
``missing="skip"`` the others are returned and each failed ticker is recorded with its reason in
``frame.attrs["eventstudy_failures"]``.

The checks live in :mod:`eventstudy.data.validation` and the shared helpers (retries, warnings, library
versions) in :mod:`eventstudy.data.support`; the names this module exported before they moved there are
still importable from here.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Literal

import numpy as np
import pandas as pd

from eventstudy.data.support import library_versions, retry, warn
from eventstudy.data.validation import (
    DATE_UNIT,
    FIELDS,
    PRICE_FIELDS,
    RATE_TICKERS,
    Field,
    canonical_field,
    check_date_range,
    normalize_tickers,
    to_day,
    validate_history,
)
from eventstudy.exceptions import DataSourceError
from eventstudy.foundation.keys import FAILURES_KEY, NOTES_KEY
from eventstudy.foundation.validation import check_choice

__all__ = [
    "FIELDS",
    "PRICE_FIELDS",
    "RATE_TICKERS",
    "NOTES_KEY",
    "FAILURES_KEY",
    "MISSING",
    "Field",
    "Missing",
    "FetchResult",
    "PriceSource",
    "canonical_field",
    "normalize_tickers",
    "to_day",
    "check_date_range",
    "validate_history",
    "library_versions",
    "retry",
]

#: Accepted values of the ``missing`` argument of :meth:`PriceSource.get_prices` and ``get_history``.
MISSING: tuple[str, ...] = ("raise", "skip")

Missing = Literal["raise", "skip"]


@dataclass
class FetchResult:
    """What :meth:`PriceSource._fetch` found.

    Parameters
    ----------
    frames
        Ticker -> rows as the source has them: a date-like index and columns named after the fields (any
        case or spelling that :func:`canonical_field` understands; other columns are ignored).  The rows
        may extend beyond the requested range.
    failures
        Ticker -> why nothing could be read for it.
    no_data
        The failed tickers for which the source answered that it has no rows in the requested range
        (as opposed to a network or file error).  A cache uses this to remember an empty range.
    origins
        Ticker -> where its rows came from (e.g. ``"file /data/NVDA.csv"``), used in error messages.
    lines
        Ticker -> the file line number of each row, used to name the row at fault.
    errors
        Ticker -> the error that stopped it (an unreadable file, a bad value, a range a cache cannot serve
        offline).  The public methods raise it as it is, unless ``missing="skip"``: then the ticker is left
        out and the error's reason recorded.  Several tickers may share one error.
    """

    frames: dict[str, pd.DataFrame] = dc_field(default_factory=dict)
    failures: dict[str, str] = dc_field(default_factory=dict)
    no_data: set[str] = dc_field(default_factory=set)
    origins: dict[str, str] = dc_field(default_factory=dict)
    lines: dict[str, np.ndarray] = dc_field(default_factory=dict)
    errors: dict[str, DataSourceError] = dc_field(default_factory=dict)


def _error_reason(error: DataSourceError, ticker: str) -> str:
    """The reason ``error`` gives for ``ticker``: its ``failures`` entry, else the first line of its message."""
    return error.failures.get(ticker) or str(error).split("\n", 1)[0]


# --------------------------------------------------------------------------------------------------
# the source interface


def _coverage_note(ticker: str, frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> str | None:
    """A note when the rows miss more than one weekday at either end of the requested range."""
    first, last = frame.index[0], frame.index[-1]
    today = pd.Timestamp.now().normalize()
    wanted_end = min(end, today)
    missing_start = int(np.busday_count(start.date(), first.date())) if first > start else 0
    missing_end = (
        int(np.busday_count((last + pd.Timedelta(days=1)).date(), (wanted_end + pd.Timedelta(days=1)).date()))
        if last < wanted_end
        else 0
    )
    # one weekday is allowed for a holiday (e.g. a range that starts on 1 January)
    if missing_start <= 1 and missing_end <= 1:
        return None
    return (
        f"{ticker}: the data cover {first:%Y-%m-%d}..{last:%Y-%m-%d}, not all of the requested "
        f"{start:%Y-%m-%d}..{end:%Y-%m-%d} (about {missing_start} weekday(s) missing at the start and "
        f"{missing_end} at the end); the rows there were kept, the rest are missing."
    )


class PriceSource(abc.ABC):
    """Base class of every price source.

    Subclasses implement :attr:`name` and :meth:`_fetch`; the public methods are template methods that
    check arguments, validate the rows with :func:`validate_history` and shape the result the same way
    for every source.
    """

    # ---- to implement -----------------------------------------------------------------------------

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """Short identifier used in provenance and cache keys, e.g. ``"yahoo"`` or ``"csv:/data"``."""

    @abc.abstractmethod
    def _fetch(
        self, tickers: list[str], start: pd.Timestamp, end: pd.Timestamp
    ) -> FetchResult | Mapping[str, pd.DataFrame]:
        """Return the rows the source has for ``tickers`` over (at least) ``start..end``.

        Return a :class:`FetchResult`, or simply a mapping ticker -> rows (a ticker left out counts as
        "no data").  Raise :class:`~eventstudy.exceptions.DataSourceError` when nothing could be read at
        all (e.g. the network is down).
        """

    # ---- provided ---------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """Return a JSON-ready description of the source for provenance records.

        Returns
        -------
        dict
            ``name``, ``kind`` (the class), ``location`` and ``versions`` of the libraries involved.
        """
        return {
            "name": self.name,
            "kind": type(self).__name__,
            "location": None,
            "versions": library_versions(),
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def _collect(self, tickers: list[str], start: pd.Timestamp, end: pd.Timestamp) -> FetchResult:
        """Call :meth:`_fetch` and validate what came back; per-ticker problems are returned, not raised."""
        raw = self._fetch(list(tickers), start, end)
        if not isinstance(raw, FetchResult):
            raw = FetchResult(frames=dict(raw))
        out = FetchResult(
            failures={t: why for t, why in raw.failures.items() if t in tickers},
            no_data={t for t in raw.no_data if t in tickers},
            origins=dict(raw.origins),
            errors={t: error for t, error in raw.errors.items() if t in tickers},
        )
        for ticker in tickers:
            if ticker in out.failures or ticker in out.errors:
                continue
            if ticker not in raw.frames:
                out.failures[ticker] = f"{self.name} returned no data"
                continue
            where = raw.origins.get(ticker, f"the data from {self.name}")
            try:
                out.frames[ticker] = validate_history(
                    ticker, raw.frames[ticker], where=where, lines=raw.lines.get(ticker)
                )
            except DataSourceError as error:
                out.errors[ticker] = error
        return out

    def _history(
        self, names: list[str], first: pd.Timestamp, last: pd.Timestamp
    ) -> tuple[dict[str, pd.DataFrame], dict[str, str], dict[str, DataSourceError]]:
        """The rows of each ticker in ``first..last``, and what failed: reasons, and errors to raise."""
        result = self._collect(names, first, last)
        failures = dict(result.failures)
        history: dict[str, pd.DataFrame] = {}
        short_coverage: list[str] = []
        for ticker in names:
            if ticker not in result.frames:
                continue
            frame = result.frames[ticker]
            kept = frame.loc[(frame.index >= first) & (frame.index <= last)]
            kept = kept.loc[kept.notna().any(axis=1)]
            if kept.empty:
                span = (
                    f"its data cover {frame.index[0]:%Y-%m-%d}..{frame.index[-1]:%Y-%m-%d}"
                    if len(frame)
                    else "there are no rows at all"
                )
                failures[ticker] = f"no rows between {first:%Y-%m-%d} and {last:%Y-%m-%d}; {span}"
                continue
            notes = []
            note = _coverage_note(ticker, kept, first, last)
            if note is not None:
                notes.append(note)
                short_coverage.append(note)
            kept = kept.copy()
            kept.attrs = {NOTES_KEY: notes, "eventstudy_source": self.name}
            history[ticker] = kept
        if short_coverage:  # one warning per call, however many tickers start late or end early
            warn(
                short_coverage[0]
                if len(short_coverage) == 1
                else (f"{len(short_coverage)} tickers do not cover the whole range: " + " | ".join(short_coverage))
            )
        return history, failures, result.errors

    def _unavailable(
        self,
        names: list[str],
        first: pd.Timestamp,
        last: pd.Timestamp,
        failures: dict[str, str],
        errors: dict[str, DataSourceError],
    ) -> DataSourceError:
        """The error for tickers that could not be read: the first one a source raised, else a summary."""
        for ticker in names:
            if ticker in errors:
                return errors[ticker]
        return DataSourceError(
            f"Could not get prices for {len(failures)} of {len(names)} ticker(s) from {self.name} "
            f"({first:%Y-%m-%d}..{last:%Y-%m-%d}). Check the ticker spelling and the date range.",
            failures={t: failures[t] for t in names if t in failures},
        )

    @staticmethod
    def _skipped(names: list[str], failures: dict[str, str], errors: dict[str, DataSourceError]) -> dict[str, str]:
        """Ticker -> reason for every ticker left out, in the order asked."""
        reasons = {**failures, **{t: _error_reason(error, t) for t, error in errors.items()}}
        return {t: reasons[t] for t in names if t in reasons}

    def get_history(
        self, tickers: str | Sequence[str], start: Any, end: Any, *, missing: Missing = "raise"
    ) -> dict[str, pd.DataFrame]:
        """Return every field for each ticker over ``start..end`` (inclusive).

        Parameters
        ----------
        tickers
            One ticker or a list; duplicates are dropped, order is kept.
        start, end
            First and last calendar day wanted (anything :class:`pandas.Timestamp` reads).
        missing
            What to do about a ticker that cannot be read or has no rows in the range: ``"raise"``
            (default) a :class:`~eventstudy.exceptions.DataSourceError`, or ``"skip"`` it and return the
            others, recording why in ``attrs["eventstudy_failures"]``.

        Returns
        -------
        dict of str to pandas.DataFrame
            Ticker (as written) -> DatetimeIndex ``Date`` and float64 columns Open, High, Low, Close,
            Adj Close, Volume (all NaN where the source lacks the field).  A ticker whose rows do not
            cover the range keeps the rows it has; a note says so (see ``attrs["eventstudy_notes"]``).
            Every frame's ``attrs["eventstudy_failures"]`` maps each ticker of the request that was left
            out to the reason (the same dict on every frame; empty when none was).

        Raises
        ------
        ValueError
            When ``start`` is after ``end``, or ``missing`` is not ``"raise"`` or ``"skip"``.
        DataSourceError
            When a ticker cannot be read or has no rows in the range (with ``missing="skip"``: when no
            ticker can); ``failures`` maps each ticker to the reason.
        """
        check_choice("missing", missing, MISSING)
        names = normalize_tickers(tickers)
        first, last = check_date_range(start, end)
        history, failures, errors = self._history(names, first, last)
        if (failures or errors) and (missing == "raise" or not history):
            raise self._unavailable(names, first, last, failures, errors)
        skipped = self._skipped(names, failures, errors)
        for frame in history.values():
            frame.attrs[FAILURES_KEY] = dict(skipped)
        return history

    def get_prices(
        self,
        tickers: str | Sequence[str],
        start: Any,
        end: Any,
        *,
        field: Field = "Adj Close",
        fields: Sequence[Field] | None = None,
        missing: Missing = "raise",
    ) -> pd.DataFrame:
        """Return one field (or several) for several tickers as a wide frame.

        Parameters
        ----------
        tickers
            One ticker or a list; duplicates are dropped, order is kept.
        start, end
            First and last calendar day wanted, inclusive.
        field
            One of ``"Open", "High", "Low", "Close", "Adj Close", "Volume"``.
        fields
            Several fields at once, e.g. ``["Open", "Close", "Adj Close"]`` (what
            ``es.returns(..., kind="overnight")`` needs); ``field`` is then ignored and the columns are a
            MultiIndex ``(field, ticker)``.  The source is read once.
        missing
            What to do about a ticker that cannot be read, has no rows in the range or lacks the field:
            ``"raise"`` (default) a :class:`~eventstudy.exceptions.DataSourceError`, or ``"skip"`` it
            (no column) and record why in ``attrs["eventstudy_failures"]``.  The source is read once
            either way.

        Returns
        -------
        pandas.DataFrame
            DatetimeIndex ``Date`` (tz-naive, midnight, ascending, unique; the union of the tickers'
            dates), one float64 column per ticker in the order given and named as written.
            ``attrs["eventstudy_notes"]`` lists what was recorded while reading;
            ``attrs["eventstudy_price_columns"]`` names the column each ticker's values came from (the field
            asked for, or ``Close`` where it stood in), so a study never mixes price bases unseen;
            ``attrs["eventstudy_failures"]`` maps each ticker left out to the reason (empty when none was).
            With ``fields``: columns ``(field, ticker)``, fields in the order given; a ticker left out for
            one field is left out of all.

        Raises
        ------
        DataSourceError
            As :meth:`get_history`, and when the field is missing for a ticker and Close cannot stand in.
            With ``missing="skip"``, only when no ticker is left.

        Notes
        -----
        When a ticker has no value at all for a price field in the range but has Close, Close is used
        with a :class:`~eventstudy.exceptions.DataQualityWarning` (for Adj Close: returns then leave out
        dividends).  There is no fallback for Close itself (a file with only Adj Close cannot give raw
        closes) nor for Volume.
        """
        check_choice("missing", missing, MISSING)
        if fields is not None:
            if isinstance(fields, str):
                raise TypeError(f"The 'fields' parameter must be a list of fields, e.g. [{fields!r}]. Got {fields!r}.")
            wanted = [check_choice("fields", f, FIELDS) for f in dict.fromkeys(fields)]
            if not wanted:
                raise ValueError("The 'fields' parameter is empty; give at least one field, e.g. ['Close'].")
        else:
            wanted = [check_choice("field", field, FIELDS)]
        names = normalize_tickers(tickers)
        first, last = check_date_range(start, end)
        history, failures, errors = self._history(names, first, last)
        if (failures or errors) and (missing == "raise" or not history):
            raise self._unavailable(names, first, last, failures, errors)
        if fields is None:
            return self._wide(history, names, field, failures, errors, missing)
        parts = [self._wide(history, names, f, failures, errors, missing) for f in wanted]
        common = [t for t in parts[0].columns if all(t in part.columns for part in parts)]
        out = pd.concat({f: part[common] for f, part in zip(wanted, parts)}, axis=1, sort=True)
        out.columns = out.columns.set_names(["field", "ticker"])
        skipped: dict[str, str] = {}
        for part in parts:
            skipped.update(part.attrs[FAILURES_KEY])
        out.attrs = {
            NOTES_KEY: list(dict.fromkeys(n for part in parts for n in part.attrs[NOTES_KEY])),
            "eventstudy_source": self.name,
            "eventstudy_fields": wanted,
            FAILURES_KEY: skipped,
        }
        return out

    def _wide(
        self,
        history: dict[str, pd.DataFrame],
        names: list[str],
        field: str,
        failures: dict[str, str],
        errors: dict[str, DataSourceError],
        missing: str,
    ) -> pd.DataFrame:
        """One field of ``history`` as a wide frame (the body of :meth:`get_prices`)."""
        notes: list[str] = []
        columns: dict[str, pd.Series] = {}
        lacking: dict[str, str] = {}
        fallbacks: list[str] = []
        used: dict[str, str] = {}
        for ticker, frame in history.items():
            notes.extend(frame.attrs.get(NOTES_KEY, []))
            values = frame[field]
            used[ticker] = field
            if values.isna().all():
                available = [f for f in FIELDS if frame[f].notna().any()]
                if field in PRICE_FIELDS and field != "Close" and "Close" in available:
                    why = (
                        "returns will not include dividends"
                        if field == "Adj Close"
                        else f"the close stands in for the {field.lower()}"
                    )
                    note = f"{ticker}: no {field!r} values in the data; used 'Close' instead, so {why}."
                    fallbacks.append(note)
                    notes.append(note)
                    values = frame["Close"]
                    used[ticker] = "Close"
                else:
                    hint = f" Ask for field={available[0]!r} instead." if available else ""
                    lacking[ticker] = f"no {field!r} values; the data have {available}.{hint}"
                    continue
            columns[ticker] = values
        if fallbacks:
            warn(" | ".join(fallbacks))
        if lacking and (missing == "raise" or not columns):
            raise DataSourceError(
                f"The field {field!r} is missing for {len(lacking)} ticker(s) in {self.name}.",
                failures={**self._skipped(names, failures, errors), **lacking},
            )
        wide = pd.concat(columns, axis=1, sort=True)
        wide = wide.sort_index().astype("float64")
        wide.index = pd.DatetimeIndex(wide.index).as_unit(DATE_UNIT).rename("Date")
        wide.columns = pd.Index(list(columns), dtype=object)
        wide.attrs = {
            NOTES_KEY: notes,
            "eventstudy_source": self.name,
            "eventstudy_field": field,
            "eventstudy_price_columns": {t: used[t] for t in columns},
            FAILURES_KEY: self._skipped(names, {**failures, **lacking}, errors),
        }
        return wide
