r"""Intraday bars on the exchange's grid of regular bars: bar returns and the overnight gaps.

Windows of an intraday study count bars on the grid of every regular bar the exchange's calendar has, so a
bar missing from the data is a missing row of that grid, never skipped over.  A **bar return** is close over
previous close *within one trading segment* (a regular session, or the morning and afternoon of an exchange
with a lunch break): :math:`r_b = C_b / C_{b-1} - 1`.  The first bar of a segment has no bar return; the
overnight (or lunch) gap is its own quantity (:func:`session_gaps`).  A bar next to a missing bar has no
return either: nothing is bridged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.data.bars import INTERVALS, exchange_calendar, schedule

__all__ = ["BarPanel", "bar_returns", "session_gaps"]


@dataclass(frozen=True, eq=False)
class BarPanel:
    """Regular-session bars of several tickers on one exchange's grid of bar starts.

    Attributes
    ----------
    grid : DatetimeIndex
        UTC start of every regular bar the calendar has between the first and last session of the data.
    tickers : list of str
    close, open : ndarray, shape (T, M)
        Bar closes and opens on the grid (NaN where the data lack the bar).
    returns : ndarray, shape (T, M)
        Bar returns (see the module notes); NaN on the first bar of a segment and next to a missing bar.
    segment_first : ndarray of bool, shape (T,)
        The bar opens a session or the afternoon after a break.
    session : ndarray of int, shape (T,)
        Session number of each bar (0, 1, ...).
    session_start : ndarray of int, shape (S + 1,)
        Row of each session's first bar; the last entry is T.
    session_dates : DatetimeIndex
        Exchange-local date of each session.
    calendar, interval : str
    first_bar, last_bar : dict of str to Timestamp
        Each ticker's first and last regular bar in the data.
    """

    grid: pd.DatetimeIndex
    tickers: list[str]
    close: np.ndarray
    open: np.ndarray
    returns: np.ndarray
    segment_first: np.ndarray
    session: np.ndarray
    session_start: np.ndarray
    session_dates: pd.DatetimeIndex
    calendar: str
    interval: str
    first_bar: dict = field(default_factory=dict)
    last_bar: dict = field(default_factory=dict)

    @property
    def step(self) -> pd.Timedelta:
        return INTERVALS[self.interval]

    @property
    def tz(self) -> str:
        return str(exchange_calendar(self.calendar).tz)

    def column(self, ticker: str) -> int:
        return self.tickers.index(ticker)

    @classmethod
    def from_bars(cls, bars: pd.DataFrame, tickers: Sequence[str] | None = None) -> BarPanel:
        """Put the regular bars of ``tickers`` (default: all in ``bars``) on their exchange's grid.

        Raises
        ------
        ValueError
            When the tickers are on different exchange calendars, or a regular bar lies off the grid (bars of
            two clocks, e.g. one file stamped :00/:05 and another :02/:07); the message names ticker and time.
        KeyError
            When a ticker is not in ``bars``.
        """
        interval, calendars = _bar_attrs(bars)
        present = [str(t) for t in bars.index.unique(level=0)]
        names = present if tickers is None else list(dict.fromkeys(tickers))
        for ticker in names:
            if ticker not in present:
                raise KeyError(f"No bars for {ticker!r}; the bars hold {present}. Read them with get_bars first.")
        codes = {t: calendars.get(t, "XNYS") for t in names}
        if len(set(codes.values())) > 1:
            raise ValueError(
                "The bars are on different clocks: "
                + ", ".join(f"{t} on {c}" for t, c in codes.items())
                + ". An intraday model compares bars of one exchange's session; use a benchmark traded on the "
                "same exchange (e.g. ^N225 for Tokyo stocks, SPY for US stocks)."
            )
        code = next(iter(codes.values()))
        step = INTERVALS[interval]
        stamps = bars.index.get_level_values(-1)
        if not isinstance(stamps, pd.DatetimeIndex) or stamps.tz is None:
            raise TypeError(
                f"The bars' time stamps carry no time zone (first: {stamps[0]!r}), so the instant of each bar is "
                "unknown. Read bars with get_bars (CsvSource, YahooSource), or localize the stamps first, e.g. "
                "bars.index.set_levels(bars.index.levels[1].tz_localize('America/New_York'), level=1)."
            )
        regular = {t: bars.loc[t] for t in names}
        for ticker, frame in regular.items():
            twice = frame.index.duplicated(keep=False)
            if twice.any():
                at = frame.index[twice][0]
                prices = frame.loc[frame.index == at, "Close"].tolist()
                raise ValueError(
                    f"{ticker}: the bar at {at.tz_convert(exchange_calendar(code).tz)} appears "
                    f"{len(prices)} times (Close {', '.join(f'{p:g}' for p in prices)}); "
                    f"{int(frame.index.duplicated().sum())} duplicated stamp(s). Keep one row per bar."
                )
        regular = {t: f.loc[f["regular"].to_numpy(dtype=bool)] for t, f in regular.items()}
        for ticker, frame in regular.items():
            if frame.empty:
                raise ValueError(f"{ticker} has no bar in the regular hours of {code}; check the stamps and label.")
        first = min(pd.Timestamp(f["session_date"].iloc[0]) for f in regular.values())
        last = max(pd.Timestamp(f["session_date"].iloc[-1]) for f in regular.values())
        grid, seg_first, session, session_start, dates = _grid(code, step, first, last)
        t, m = len(grid), len(names)
        close = np.full((t, m), np.nan)
        opens = np.full((t, m), np.nan)
        for j, ticker in enumerate(names):
            frame = regular[ticker]
            rows = grid.get_indexer(frame.index)
            off = rows < 0
            if off.any():
                i = int(np.flatnonzero(off)[0])
                local = frame.index[i].tz_convert(exchange_calendar(code).tz)
                raise ValueError(
                    f"{ticker}: the regular bar at {local} is off the {code} {interval} clock (bars start at the "
                    f"open and every {interval} after); {int(off.sum())} such bar(s). Bars of different clocks "
                    "cannot be compared bar by bar: resample them to a common clock first."
                )
            close[rows, j] = frame["Close"].to_numpy(dtype=float)
            opens[rows, j] = frame["Open"].to_numpy(dtype=float)
        previous = np.vstack([np.full((1, m), np.nan), close[:-1]])
        returns = close / previous - 1.0
        returns[seg_first] = np.nan
        return cls(
            grid=grid,
            tickers=names,
            close=close,
            open=opens,
            returns=returns,
            segment_first=seg_first,
            session=session,
            session_start=session_start,
            session_dates=dates,
            calendar=code,
            interval=interval,
            first_bar={t: regular[t].index[0] for t in names},
            last_bar={t: regular[t].index[-1] for t in names},
        )


def _bar_attrs(bars: Any) -> tuple[str, dict]:
    if not isinstance(bars, pd.DataFrame) or not isinstance(bars.index, pd.MultiIndex):
        raise TypeError(
            "The 'bars' parameter must be the frame get_bars returns (index (ticker, Datetime)). "
            f"Got {type(bars).__name__} instead."
        )
    interval = bars.attrs.get("eventstudy_interval")
    if interval not in INTERVALS:
        raise ValueError(
            "The 'bars' frame does not say its interval (attrs['eventstudy_interval']); read it with "
            "CsvSource(..., interval=...).get_bars or YahooSource().get_bars."
        )
    for column in ("Close", "Open", "regular", "session_date"):
        if column not in bars.columns:
            raise KeyError(f"The 'bars' frame has no {column!r} column; read it with get_bars.")
    return interval, dict(bars.attrs.get("eventstudy_calendars", {}))


def _grid(code: str, step: pd.Timedelta, first: pd.Timestamp, last: pd.Timestamp):
    """Every regular bar start of ``code`` for sessions ``first..last``, with segment and session marks."""
    sched = schedule(code, first, last)
    opens = sched["open"].to_numpy("datetime64[ns]").astype(np.int64)
    closes = sched["close"].to_numpy("datetime64[ns]").astype(np.int64)
    b0 = sched["break_start"].to_numpy("datetime64[ns]").astype(np.int64)
    b1 = sched["break_end"].to_numpy("datetime64[ns]").astype(np.int64)
    has_break = ~pd.isna(sched["break_start"]).to_numpy()
    s = step.value
    segment_starts, segment_ends, segment_owner = [], [], []
    # segments: the whole session, or morning and afternoon around a break
    for k in range(len(sched)):  # a loop over sessions (a few hundred), not bars or events
        if has_break[k]:
            segment_starts += [opens[k], b1[k]]
            segment_ends += [b0[k], closes[k]]
            segment_owner += [k, k]
        else:
            segment_starts.append(opens[k])
            segment_ends.append(closes[k])
            segment_owner.append(k)
    starts, ends, owner = np.array(segment_starts), np.array(segment_ends), np.array(segment_owner)
    counts = (ends - starts + s - 1) // s  # a last bar cut short by the close still counts
    seg_of_bar = np.repeat(np.arange(len(starts)), counts)
    first_rows = np.concatenate([[0], np.cumsum(counts)[:-1]])
    within = np.arange(counts.sum()) - np.repeat(first_rows, counts)
    stamps = starts[seg_of_bar] + within * s
    seg_first = within == 0
    session = owner[seg_of_bar]
    session_start = np.searchsorted(session, np.arange(len(sched) + 1))
    grid = pd.DatetimeIndex(stamps.astype("datetime64[ns]")).tz_localize("UTC").rename("Datetime")
    return grid, seg_first, session, session_start, pd.DatetimeIndex(sched.index)


def bar_returns(bars: pd.DataFrame, tickers: Sequence[str] | None = None) -> pd.DataFrame:
    r"""Bar returns on the exchange's grid of regular bars, one column per ticker.

    Parameters
    ----------
    bars
        What ``get_bars`` returns.
    tickers
        The columns wanted (default: every ticker in ``bars``); they must share one exchange calendar.

    Returns
    -------
    pandas.DataFrame
        Index: UTC start of every regular bar of the calendar from the first to the last session in the data;
        values :math:`C_b / C_{b-1} - 1` within one trading segment, NaN on the first bar of a session (or of
        the afternoon after a lunch break) and wherever this bar or the one before is missing.
        ``attrs`` holds ``eventstudy_interval`` and ``eventstudy_calendar``.

    Examples
    --------
    >>> bars = es.CsvSource("intraday/", interval="1m").get_bars(["NVDA", "SPY"], "2025-05-12", "2025-05-13")  # doctest: +SKIP
    >>> es.bar_returns(bars).loc["2025-05-13 13:31":"2025-05-13 13:35"]  # doctest: +SKIP
    """
    panel = BarPanel.from_bars(bars, tickers)
    out = pd.DataFrame(panel.returns, index=panel.grid, columns=pd.Index(panel.tickers, dtype=object))
    out.attrs = {"eventstudy_interval": panel.interval, "eventstudy_calendar": panel.calendar}
    return out


def session_gaps(bars: pd.DataFrame, tickers: Sequence[str] | None = None) -> pd.DataFrame:
    r"""The overnight gap of each session from the bars: first bar's open over the last close of the session before.

    .. math:: g_s = O_{s,\text{first}} / C_{s-1,\text{last}} - 1

    NaN when either bar is missing from the data (the gap is never taken from other bars).  The last regular
    bar of some vendors excludes the closing auction, so the daily files' open and close
    (``es.returns(prices, kind="overnight")``) are the better measure where they exist.

    Returns
    -------
    pandas.DataFrame
        Index: session date (exchange-local); one column per ticker.
    """
    panel = BarPanel.from_bars(bars, tickers)
    first_rows = panel.session_start[:-1]
    last_rows = panel.session_start[1:] - 1
    gaps = np.full((len(first_rows), len(panel.tickers)), np.nan)
    gaps[1:] = panel.open[first_rows[1:]] / panel.close[last_rows[:-1]] - 1.0
    return pd.DataFrame(gaps, index=panel.session_dates.rename("session"), columns=panel.tickers)
