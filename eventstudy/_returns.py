"""Daily returns from prices, on the trading calendar, without filling gaps."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

from ._keys import NOTES_KEY
from ._validation import check_choice
from .calendar import TradingCalendar
from .layout import CalendarSpec

__all__ = ["returns"]


def returns(
    prices: pd.DataFrame | pd.Series,
    kind: Literal["simple", "log"] = "simple",
    *,
    calendar: str | TradingCalendar | Mapping[str, str] | None = "auto",
) -> pd.DataFrame | pd.Series:
    r"""Close-to-close returns, one per session of each security's own exchange, never bridging a missing price.

    Parameters
    ----------
    prices
        Wide DataFrame of prices (DatetimeIndex, one column per ticker), or one Series. Use adjusted closes
        so that splits and dividends do not show up as returns.
    kind
        ``"simple"`` for :math:`P_t / P_{t-1} - 1`, ``"log"`` for :math:`\ln(P_t / P_{t-1})`.
    calendar
        ``"auto"`` (default): each column on the sessions of its own exchange, read from its Yahoo symbol
        (:func:`eventstudy.exchanges.exchange_of`: ``8035.T`` on Tokyo's, ``NVDA`` on the NYSE's); a mapping
        ``{ticker: code}`` names exchanges over that.  An exchange code or
        :class:`~eventstudy.calendar.TradingCalendar`: every column on that calendar.  The prices are first
        aligned to the sessions (:meth:`TradingCalendar.align`), so a missing session becomes a NaN row
        instead of silently producing a two-session return.  ``None`` skips the alignment and takes
        consecutive rows as consecutive sessions.

    Returns
    -------
    DataFrame or Series
        Float returns with each column's first date dropped (it has no return), same columns in the same
        order, index named ``Date`` unless the input index had a name.  With securities of several exchanges
        the index is the union of their sessions and each column is NaN on the days its exchange was closed.
        ``attrs["eventstudy_notes"]`` lists what the alignment changed; ``attrs["eventstudy_exchanges"]``
        maps each column to its exchange.

    Raises
    ------
    TypeError
        If ``prices`` is not a DataFrame/Series with a DatetimeIndex, or a column is not numeric.
    ValueError
        If the index is duplicated or unsorted, a price is zero or negative (the message names the
        ticker, date and value), or a column's exchange cannot be told from its symbol.

    Notes
    -----
    No value is filled: a NaN price on session :math:`t` makes the returns of sessions :math:`t` and
    :math:`t+1` NaN, because the return on :math:`t+1` would otherwise span two sessions.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.Series([100.0, 110.0, 99.0], index=pd.to_datetime(["2025-01-06", "2025-01-07", "2025-01-08"]))
    >>> returns(p).round(4).tolist()
    [0.1, -0.1]
    """
    kind = check_choice("kind", kind, ("simple", "log"))
    is_series = isinstance(prices, pd.Series)
    if not isinstance(prices, (pd.DataFrame, pd.Series)):
        raise TypeError(
            f"The 'prices' parameter must be a DataFrame (one column per ticker) or a Series. "
            f"Got {type(prices).__name__} instead."
        )
    frame = prices.to_frame() if is_series else prices
    _check_prices(frame)
    if calendar is None:
        out = _from_aligned(frame, kind)
        exchanges: dict[str, str] = {}
    else:
        spec = CalendarSpec(calendar)
        exchanges = {str(c): spec.exchange(str(c)) for c in frame.columns}
        parts = []
        for code in dict.fromkeys(exchanges.values()):
            columns = [c for c in frame.columns if exchanges[str(c)] == code]
            part = frame[columns]
            cal = spec.calendar(code)
            if len(set(exchanges.values())) > 1:
                # rows that exist only because another exchange traded that day are not this exchange's data
                part = part.loc[part.notna().any(axis=1) | part.index.isin(cal.sessions)]
            parts.append(_from_aligned(cal.align(part), kind))
        out = parts[0] if len(parts) == 1 else _union(parts, frame.columns)
    out.index.name = frame.index.name or "Date"
    out.attrs["return_kind"] = kind
    if exchanges:
        out.attrs["eventstudy_exchanges"] = exchanges
    if is_series:
        series = out.iloc[:, 0]
        series.attrs = out.attrs
        return series
    return out


def _from_aligned(aligned: pd.DataFrame, kind: str) -> pd.DataFrame:
    values = aligned.astype("float64")
    ratio = values / values.shift(1)
    out = (np.log(ratio) if kind == "log" else ratio - 1.0).iloc[1:]
    out.attrs = copy.deepcopy(aligned.attrs)
    return out


def _union(parts: list[pd.DataFrame], columns) -> pd.DataFrame:
    """Returns of several exchanges on the union of their sessions, columns in the original order."""
    notes: list[str] = []
    for part in parts:
        notes.extend(part.attrs.get(NOTES_KEY, []))
    out = pd.concat(parts, axis=1, sort=True)[list(columns)]
    out.attrs = {NOTES_KEY: notes} if notes else {}
    return out


def _check_prices(frame: pd.DataFrame) -> None:
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise TypeError(
            f"The 'prices' parameter must have a DatetimeIndex. Got {type(frame.index).__name__}; "
            "read the file with parse_dates=['Date'], index_col='Date' or call pd.to_datetime on the index."
        )
    for column in frame.columns:
        dtype = frame[column].dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            raise TypeError(
                f"Column {column!r} of 'prices' is not numeric (dtype {dtype}). Convert it with "
                "pd.to_numeric(..., errors='coerce') or drop it."
            )
    if frame.index.has_duplicates:
        dupes = frame.index[frame.index.duplicated()].unique()
        shown = ", ".join(str(d.date()) for d in dupes[:5])
        raise ValueError(
            f"The 'prices' index has duplicated dates ({shown}). Keep one row per date, e.g. "
            "prices[~prices.index.duplicated(keep='last')]."
        )
    if not frame.index.is_monotonic_increasing:
        i = int(np.flatnonzero(np.diff(frame.index.asi8) < 0)[0])
        raise ValueError(
            f"The 'prices' index is not sorted: {frame.index[i + 1].date()} comes after "
            f"{frame.index[i].date()}. Sort it with prices.sort_index()."
        )
    values = frame.to_numpy(dtype="float64", na_value=np.nan)
    bad = values <= 0  # NaN compares False, so missing prices pass here and become NaN returns
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"Price of {frame.columns[col]!r} on {frame.index[row].date()} is {values[row, col]:g}; prices "
            "must be positive. Fix or drop that observation (set it to NaN to leave a gap)."
        )
