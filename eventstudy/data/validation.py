"""The checks every price request and every source's rows go through, and the fields a row can hold.

:class:`~eventstudy.data.base.PriceSource` runs them the same way for every source:

* the arguments: :func:`normalize_tickers`, :func:`to_day` and :func:`check_date_range` (tickers as a list
  without duplicates, ``start <= end``), with messages that name the argument;
* the rows: :func:`validate_history` (dates readable, ascending, unique; prices numeric and positive), so
  that a bad file or download fails with a message naming the ticker and the row;
* the field names: :data:`FIELDS`, and :func:`canonical_field` for the spellings files use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from eventstudy.exceptions import DataSourceError

__all__ = [
    "FIELDS",
    "PRICE_FIELDS",
    "RATE_TICKERS",
    "DATE_UNIT",
    "Field",
    "canonical_field",
    "normalize_tickers",
    "to_day",
    "check_date_range",
    "validate_history",
]

#: The fields a source can provide, as Yahoo names them.
FIELDS: tuple[str, ...] = ("Open", "High", "Low", "Close", "Adj Close", "Volume")
#: The fields that are prices (must be > 0).  Volume may be 0.
PRICE_FIELDS: tuple[str, ...] = ("Open", "High", "Low", "Close", "Adj Close")
#: Yahoo's interest-rate indices (13-week, 5-, 10-, 30-year Treasury yields, in percent a year).  Their
#: quotes are yields, not prices, and can be zero or negative (^IRX was below zero in March 2020), so the
#: positivity check does not apply to them.
RATE_TICKERS = frozenset({"IRX", "FVX", "TNX", "TYX"})
#: Resolution of every date index returned by the data layer.
DATE_UNIT: Literal["ns"] = "ns"

Field = Literal["Open", "High", "Low", "Close", "Adj Close", "Volume"]

# lower-case, letters and digits only -> field name
_FIELD_ALIASES = {
    "open": "Open",
    "high": "High",
    "low": "Low",
    "close": "Close",
    "adjclose": "Adj Close",
    "adjustedclose": "Adj Close",
    "adjclosed": "Adj Close",
    "volume": "Volume",
}


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(text).lower())


def canonical_field(name: Any) -> str | None:
    """Return the field a column header stands for, or None.

    Case, spaces, underscores and hyphens are ignored: ``"Adj Close"``, ``"adj_close"``, ``"Adj_Close"``
    and ``"adjclose"`` all give ``"Adj Close"``.
    """
    return _FIELD_ALIASES.get(_squash(name))


# --------------------------------------------------------------------------------------------------
# argument checks


def normalize_tickers(tickers: str | Sequence[str], *, name: str = "tickers") -> list[str]:
    """Return ``tickers`` as a list without duplicates, in the order given.

    A single string is one ticker.  Raises ``TypeError`` for anything but strings and ``ValueError`` for
    an empty list, an empty ticker or a string holding several tickers.
    """
    if isinstance(tickers, str):
        if re.search(r"[\s,;]", tickers.strip()):
            parts = [part for part in re.split(r"[\s,;]+", tickers) if part]
            raise ValueError(
                f"The {name!r} parameter must be one ticker or a list of tickers. Got {tickers!r}; "
                f"write it as a list, e.g. {parts!r}."
            )
        tickers = [tickers]
    elif isinstance(tickers, (bytes, Mapping)) or not isinstance(tickers, (Sequence, pd.Index, np.ndarray, set)):
        raise TypeError(
            f"The {name!r} parameter must be a ticker or a list of tickers, e.g. ['NVDA', 'SPY']. "
            f"Got {type(tickers).__name__} instead."
        )
    out: list[str] = []
    for ticker in tickers:
        if not isinstance(ticker, str):
            raise TypeError(
                f"The {name!r} parameter must hold ticker strings. Got {ticker!r} ({type(ticker).__name__}) instead."
            )
        if not ticker.strip():
            raise ValueError(f"The {name!r} parameter holds an empty ticker. Remove it.")
        if ticker not in out:
            out.append(ticker)
    if not out:
        raise ValueError(f"The {name!r} parameter is empty. Give at least one ticker, e.g. ['NVDA'].")
    return out


def to_day(name: str, value: Any) -> pd.Timestamp:
    """Return ``value`` as a tz-naive Timestamp at midnight; ``name`` is the argument for messages."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        raise TypeError(f"The {name!r} parameter must be a date such as '2025-05-13'. Got {value!r} instead.")
    if isinstance(value, (int, float, np.integer, np.floating)):  # pandas reads 20250513 as ns since 1970
        raise TypeError(
            f"The {name!r} parameter must be a date such as '2025-05-13'. Got the number {value!r}, which pandas "
            "would read as nanoseconds since 1970; write the date as text, e.g. '2025-05-13'."
        )
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"The {name!r} parameter must be a date such as '2025-05-13'. Got {value!r} instead ({exc})."
        ) from None
    if stamp is pd.NaT:
        raise ValueError(f"The {name!r} parameter must be a date such as '2025-05-13'. Got {value!r} instead.")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize().as_unit(DATE_UNIT)


def check_date_range(start: Any, end: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return ``(start, end)`` as days; raise ``ValueError`` naming both when start is after end."""
    first, last = to_day("start", start), to_day("end", end)
    if first > last:
        raise ValueError(
            f"The 'start' parameter ({first:%Y-%m-%d}) is after the 'end' parameter ({last:%Y-%m-%d}). "
            "Swap them or fix the dates."
        )
    return first, last


# --------------------------------------------------------------------------------------------------
# the one validation helper


def _row(i: int, lines: np.ndarray | None) -> str:
    return f"line {int(lines[i])}" if lines is not None and len(lines) > i else f"row {i + 1}"


def _parse_dates(ticker: str, index: pd.Index, where: str, lines: np.ndarray | None) -> pd.DatetimeIndex:
    if isinstance(index, pd.DatetimeIndex):
        parsed = index
        if parsed.isna().any():
            i = int(np.flatnonzero(parsed.isna())[0])
            raise DataSourceError(
                f"{ticker}: {where} has a row without a date ({_row(i, lines)}). Remove it or fill the date.",
                failures={ticker: "missing date"},
            )
    else:
        raw = pd.Series(np.asarray(index, dtype=object))
        text = raw.where(raw.isna(), raw.astype(str).str.strip())
        text = text.where(text != "", None)
        missing = text.isna().to_numpy()
        if missing.any():
            i = int(np.flatnonzero(missing)[0])
            raise DataSourceError(
                f"{ticker}: {where} has a row without a date ({_row(i, lines)}). Remove it or fill the date.",
                failures={ticker: "missing date"},
            )
        # daily data: the local calendar date is what counts; an offset such as -04:00 is dropped
        iso = text.str.match(r"^\d{4}-\d{2}-\d{2}(?:$|[ T])").to_numpy(dtype=bool)
        if iso.all():
            parsed_values = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
        else:
            parsed_values = pd.to_datetime(text, format="mixed", errors="coerce")
        bad = parsed_values.isna().to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataSourceError(
                f"{ticker}: {where} has a date that cannot be read: {text.iloc[i]!r} ({_row(i, lines)}). "
                "Write dates as YYYY-MM-DD.",
                failures={ticker: f"unreadable date {text.iloc[i]!r}"},
            )
        parsed = pd.DatetimeIndex(parsed_values)
    if parsed.tz is not None:
        parsed = parsed.tz_localize(None)
    return parsed.normalize().as_unit(DATE_UNIT).rename("Date")


def plain_floats(values: pd.Series, *, strip: bool) -> np.ndarray | None:
    """Text cells as float64 through Arrow's parser when every cell is a plain finite number or missing, else None.

    Files are read as text so that a bad cell can be named; parsing each cell with ``pd.to_numeric`` goes
    through Python objects (about 0.2 s for the report's files).  Arrow's cast parses the same decimal text
    to the same (correctly rounded) doubles.  Any cell it cannot parse, a non-finite value or a negative zero
    (``to_numeric`` reads ``"-0"`` as the integer 0) gives None: the caller's own parser then decides and
    names the cell.  ``strip``: trim spaces and read an empty cell as missing first.
    """
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(values.array)
    if strip:
        text = pc.utf8_trim(text, characters=" \t\n\r\x0b\x0c")
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)
    try:
        numbers = pc.cast(text, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    out = np.array(numbers.to_numpy(zero_copy_only=False), dtype="float64")
    missing = numbers.is_null().to_numpy(zero_copy_only=False)
    if (~np.isfinite(out) & ~missing).any() or np.signbit(out[out == 0]).any():
        return None
    return out


def _numeric(
    ticker: str, name: str, values: pd.Series, dates: pd.DatetimeIndex, where: str, lines: np.ndarray | None
) -> np.ndarray:
    fast = plain_floats(values, strip=True)
    if fast is not None:
        return fast
    if pd.api.types.is_bool_dtype(values.dtype) or not pd.api.types.is_numeric_dtype(values.dtype):
        raw = pd.Series(np.asarray(values, dtype=object))
        text = raw.where(raw.isna(), raw.astype(str).str.strip())
        text = text.where(text != "", None)
        numbers = pd.to_numeric(text, errors="coerce").astype("float64")
        bad = (text.notna() & numbers.isna()).to_numpy()
        if pd.api.types.is_bool_dtype(values.dtype):
            bad = np.ones(len(values), dtype=bool)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataSourceError(
                f"{ticker}: column {name!r} in {where} holds a value that is not a number: "
                f"{raw.iloc[i]!r} on {dates[i]:%Y-%m-%d} ({_row(i, lines)}); {int(bad.sum())} such value(s). "
                "Fix the file, or leave the cell empty for a missing value.",
                failures={ticker: f"non-numeric {name} value {raw.iloc[i]!r}"},
            )
        out = numbers.to_numpy(dtype="float64", copy=True)
    else:
        out = np.asarray(values, dtype="float64").copy()
    infinite = np.isinf(out)
    if infinite.any():
        i = int(np.flatnonzero(infinite)[0])
        raise DataSourceError(
            f"{ticker}: column {name!r} in {where} holds an infinite value on {dates[i]:%Y-%m-%d} "
            f"({_row(i, lines)}). Fix the data.",
            failures={ticker: f"infinite {name} value"},
        )
    return out


def validate_history(
    ticker: str,
    frame: pd.DataFrame,
    *,
    where: str = "the data",
    lines: np.ndarray | None = None,
    positive: bool | None = None,
) -> pd.DataFrame:
    """Check one ticker's rows and return them in the standard form.

    Every source passes its data through this function, so that the same mistakes give the same
    messages whatever the source.

    Parameters
    ----------
    ticker
        The ticker, as the user wrote it; named in every message.
    frame
        Rows with a date-like index and field columns (any spelling :func:`canonical_field` accepts;
        other columns are dropped).
    where
        Where the rows came from, e.g. ``"file /data/NVDA.csv"``; used in messages.
    lines
        The file line of each row, so that messages can name it.
    positive
        Whether price fields must be > 0.  Default: yes, except for the yield indices in
        :data:`RATE_TICKERS` (``^IRX`` etc.), whose quotes can be zero or negative.

    Returns
    -------
    pandas.DataFrame
        DatetimeIndex ``Date`` (tz-naive, midnight, ascending, unique) and one float64 column per field in
        :data:`FIELDS` order; a field the source lacks is all NaN.

    Raises
    ------
    DataSourceError
        When a date is missing or unreadable, the dates are not ascending or repeat, a value is not a
        number, a price is zero or negative (see ``positive``), or a volume is negative.  The message names the ticker, the
        row and the value.
    """
    columns: dict[str, Any] = {}
    for column in frame.columns:
        name = canonical_field(column)
        if name is None:
            continue
        if name in columns:
            raise DataSourceError(
                f"{ticker}: {where} has two columns for {name!r} ({columns[name]!r} and {column!r}). Keep one of them.",
                failures={ticker: f"two {name} columns"},
            )
        columns[name] = column

    dates = _parse_dates(ticker, frame.index, where, lines)
    if len(dates) > 1:
        later = dates[1:] < dates[:-1]
        if later.any():
            i = int(np.flatnonzero(later)[0]) + 1
            raise DataSourceError(
                f"{ticker}: {where} is not in date order: {_row(i, lines)} is dated {dates[i]:%Y-%m-%d}, "
                f"which comes before the previous row's {dates[i - 1]:%Y-%m-%d}. Sort the rows by date, "
                "oldest first.",
                failures={ticker: f"dates not in order at {_row(i, lines)}"},
            )
    repeated = dates.duplicated(keep=False)
    if repeated.any():
        counts = pd.Series(dates[repeated]).value_counts(sort=False)
        shown = ", ".join(f"{day:%Y-%m-%d} ({n} rows)" for day, n in list(counts.items())[:5])
        more = f" and {len(counts) - 5} more" if len(counts) > 5 else ""
        raise DataSourceError(
            f"{ticker}: {where} has duplicated dates: {shown}{more}. Keep one row per date.",
            failures={ticker: f"duplicated dates {shown}{more}"},
        )

    if positive is None:
        positive = ticker.lstrip("^").upper() not in RATE_TICKERS
    data: dict[str, np.ndarray] = {}
    for name in FIELDS:
        if name not in columns:
            data[name] = np.full(len(dates), np.nan)
            continue
        values = _numeric(ticker, name, frame[columns[name]], dates, where, lines)
        if name == "Volume":
            wrong = values < 0
            what = "a negative volume"
        elif positive:
            wrong = values <= 0
            what = "a zero or negative price"
        else:
            wrong = np.zeros(len(values), dtype=bool)
            what = ""
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            raise DataSourceError(
                f"{ticker}: {where} has {what} in column {name!r}: {values[i]:g} on {dates[i]:%Y-%m-%d} "
                f"({_row(i, lines)}); {int(wrong.sum())} such value(s). Prices must be positive: fix or "
                "remove the row, or leave the cell empty for a missing value.",
                failures={ticker: f"{name} {values[i]:g} on {dates[i]:%Y-%m-%d}"},
            )
        data[name] = values
    out = pd.DataFrame(data, index=dates, columns=list(FIELDS))
    out.columns.name = None
    return out
