"""Daily returns from prices, on the trading calendar, without filling gaps."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Literal, cast, overload

import numpy as np
import pandas as pd

from eventstudy.foundation.keys import NOTES_KEY
from eventstudy.foundation.validation import check_choice
from eventstudy.time.calendar import TradingCalendar
from eventstudy.time.layout import CalendarSpec

__all__ = ["returns"]


Kind = Literal["simple", "log", "overnight", "intraday"]
_Calendars = str | TradingCalendar | Mapping[str, str] | None


@overload
def returns(prices: pd.DataFrame, kind: Kind = "simple", *, calendar: _Calendars = "auto") -> pd.DataFrame: ...
@overload
def returns(prices: pd.Series, kind: Kind = "simple", *, calendar: _Calendars = "auto") -> pd.Series: ...
@overload
def returns(
    prices: pd.DataFrame | pd.Series, kind: Kind = "simple", *, calendar: _Calendars = "auto"
) -> pd.DataFrame | pd.Series: ...
def returns(
    prices: pd.DataFrame | pd.Series,
    kind: Literal["simple", "log", "overnight", "intraday"] = "simple",
    *,
    calendar: str | TradingCalendar | Mapping[str, str] | None = "auto",
) -> pd.DataFrame | pd.Series:
    r"""Close-to-close returns, or their overnight and intraday legs, one per session of each security's own
    exchange, never bridging a missing price.

    Parameters
    ----------
    prices
        Wide DataFrame of prices (DatetimeIndex, one column per ticker), or one Series. Use adjusted closes
        so that splits and dividends do not show up as returns.
    kind
        ``"simple"`` for :math:`P_t / P_{t-1} - 1`, ``"log"`` for :math:`\ln(P_t / P_{t-1})`;
        ``"overnight"`` (open over the previous close) or ``"intraday"`` (close over the open) for the two legs
        of the daily return, from a frame of several fields (see Notes).
    calendar
        ``"auto"`` (default): each column on the sessions of its own exchange, read from its Yahoo symbol
        (:func:`eventstudy.foundation.exchanges.exchange_of`: ``8035.T`` on Tokyo's, ``NVDA`` on the NYSE's); a mapping
        ``{ticker: code}`` names exchanges over that.  An exchange code or
        :class:`~eventstudy.time.calendar.TradingCalendar`: every column on that calendar.  The prices are first
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
    **Overnight and intraday legs.** ``prices`` then holds columns ``(field, ticker)`` with ``Open`` and
    ``Close`` and, where the source has it, ``Adj Close``, as ``source.get_prices(tickers, start, end,
    fields=["Open", "Close", "Adj Close"])`` returns.  The open is adjusted with the same day's factor
    :math:`a_t = A_t / C_t` (adjusted over raw close), :math:`O^*_t = a_t O_t`, so that

    .. math::

        r^{\text{on}}_t = \frac{O^*_t}{A_{t-1}} - 1, \qquad
        r^{\text{id}}_t = \frac{A_t}{O^*_t} - 1 = \frac{C_t}{O_t} - 1, \qquad
        (1 + r^{\text{on}}_t)(1 + r^{\text{id}}_t) = \frac{A_t}{A_{t-1}} ,

    the close-to-close return of ``kind="simple"`` on the adjusted close, exactly: a dividend or split
    that goes ex on day :math:`t` is taken out of the overnight leg.  Without Adj Close (or where it is
    missing) the raw close serves as :math:`A` and a note says so.  An event study of one leg passes these
    returns to the study: ``es.EventStudy(events, returns=es.returns(p, kind="overnight"), market="SPY")``
    (the market's leg comes from the same frame).

    No value is filled: a NaN price on day :math:`t` makes the returns of days :math:`t` and :math:`t+1`
    NaN, because the return on :math:`t+1` would otherwise span two sessions.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.Series([100.0, 110.0, 99.0], index=pd.to_datetime(["2025-01-06", "2025-01-07", "2025-01-08"]))
    >>> returns(p).round(4).tolist()
    [0.1, -0.1]
    """
    kind = check_choice("kind", kind, ("simple", "log", "overnight", "intraday"))
    if kind in ("overnight", "intraday"):
        return _leg_returns(prices, kind, calendar)
    is_series = isinstance(prices, pd.Series)
    if not isinstance(prices, (pd.DataFrame, pd.Series)):
        raise TypeError(
            f"The 'prices' parameter must be a DataFrame (one column per ticker) or a Series. "
            f"Got {type(prices).__name__} instead."
        )
    frame = prices.to_frame() if isinstance(prices, pd.Series) else prices
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
    out = (cast(pd.DataFrame, np.log(ratio)) if kind == "log" else ratio - 1.0).iloc[1:]
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


def _leg_returns(prices: pd.DataFrame | pd.Series, kind: str, calendar) -> pd.DataFrame:
    """The overnight or intraday leg of the adjusted close-to-close return (see :func:`returns`)."""
    if not isinstance(prices, pd.DataFrame) or not isinstance(prices.columns, pd.MultiIndex):
        raise TypeError(
            f"kind={kind!r} needs prices with columns (field, ticker) holding Open and Close (and Adj Close), "
            'e.g. source.get_prices(tickers, start, end, fields=["Open", "Close", "Adj Close"]). '
            f"Got {type(prices).__name__} with {'MultiIndex' if isinstance(getattr(prices, 'columns', None), pd.MultiIndex) else 'flat'} columns."
        )
    fields = list(dict.fromkeys(prices.columns.get_level_values(0)))
    for needed in ("Open", "Close"):
        if needed not in fields:
            raise KeyError(
                f"kind={kind!r} needs the {needed!r} field; the prices hold {fields}. Ask the source for "
                'fields=["Open", "Close", "Adj Close"].'
            )
    _check_prices(prices)
    if calendar is not None:
        spec = CalendarSpec(calendar)
        tickers = list(dict.fromkeys(prices.columns.get_level_values(1)))
        exchanges = {t: spec.exchange(str(t)) for t in tickers}
        codes = list(dict.fromkeys(exchanges.values()))
        if len(codes) > 1:  # each exchange's legs on its own sessions, then their union
            parts = []
            for code in codes:
                part = prices.loc[
                    :, prices.columns.get_level_values(1).isin([t for t in tickers if exchanges[t] == code])
                ]
                part = part.loc[part.notna().any(axis=1) | part.index.isin(spec.calendar(code).sessions)]
                parts.append(_leg_returns(part, kind, spec.calendar(code)))
            out = _union(parts, tickers)
            out.index.name = prices.index.name or "Date"
            out.attrs.update({"return_kind": "simple", "return_leg": kind})
            return out
        aligned = spec.calendar(codes[0]).align(prices)
    else:
        aligned = prices
    # the columns are (field, ticker): one field is a frame of tickers
    opens = cast(pd.DataFrame, aligned["Open"]).astype("float64")
    close = cast(pd.DataFrame, aligned["Close"]).astype("float64")[opens.columns]
    notes = list(aligned.attrs.get(NOTES_KEY, []))
    if "Adj Close" in fields:
        adjusted = cast(pd.DataFrame, aligned["Adj Close"]).astype("float64")[opens.columns]
        lacking = [t for t in opens.columns if adjusted[t].isna().all() and close[t].notna().any()]
        for ticker in lacking:
            adjusted[ticker] = close[ticker]
        if lacking:
            notes.append(f"returns: no 'Adj Close' for {lacking}; the raw close serves, so dividends are left out.")
    else:
        adjusted = close
        notes.append("returns: no 'Adj Close' field; the raw close serves, so dividends are left out.")
    open_adjusted = opens * (adjusted / close)
    if kind == "overnight":
        out = open_adjusted / adjusted.shift(1) - 1.0
    else:
        out = adjusted / open_adjusted - 1.0
    out = out.iloc[1:]
    out.columns = pd.Index(list(opens.columns), dtype=object)
    out.index.name = prices.index.name or "Date"
    out.attrs = {k: copy.deepcopy(v) for k, v in aligned.attrs.items() if k != NOTES_KEY}
    out.attrs[NOTES_KEY] = notes
    # each leg is a simple return; the study reads return_kind, so the leg is recorded beside it
    out.attrs["return_kind"] = "simple"
    out.attrs["return_leg"] = kind
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
