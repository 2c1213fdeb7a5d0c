r"""Intraday event windows: bar returns on the exchange's clock, a market model per event, placebo tests.

Daily returns cannot tell an announcement from the other news of its day.  Here an event has an instant, the
**event bar** is the first regular-session bar whose start is at or after it, and windows are counted in bars
relative to that bar, on the grid of every regular bar the exchange's calendar has (a bar missing from the
data is a missing row of that grid, never skipped over).

Conventions
-----------
* A **bar return** is close over previous close *within one trading segment* (a regular session, or the
  morning and afternoon of an exchange with a lunch break): :math:`r_b = C_b / C_{b-1} - 1`.  The first bar of
  a segment has no bar return; the overnight (or lunch) gap is its own quantity (:func:`session_gaps`,
  ``es.returns(..., kind="overnight")``) and never enters an intraday model.  A bar next to a missing bar has
  no return either: nothing is bridged.
* The market model :math:`r_{ib} = \alpha_i + \beta_i r_{mb} + \varepsilon_{ib}` is fitted by OLS on each
  event's estimation bars, all events at once (:func:`eventstudy.models.estimate`, prefix sums over the grid).
* A CAR sums the abnormal returns of the window's bars that have a bar return; the first bar of a segment is
  left out by construction, any other missing bar makes the CAR missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._validation import check_inside, check_positive_int, check_windows
from .data.bars import INTERVALS, exchange_calendar, schedule
from .exceptions import DroppedFirmEventsWarning, EstimationError
from .models import estimate
from .panel import AlignedData, gather

__all__ = ["BarPanel", "bar_returns", "session_gaps", "IntradayStudy", "IntradayResults"]


# --------------------------------------------------------------------------------------------------------
# the bar grid
# --------------------------------------------------------------------------------------------------------


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
        regular = {t: bars.loc[t] for t in names}
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


# --------------------------------------------------------------------------------------------------------
# the study
# --------------------------------------------------------------------------------------------------------

_DROP_COLUMNS = ["event_id", "ticker", "time", "reason"]


def _event_table(events: Any) -> pd.DataFrame:
    if not isinstance(events, pd.DataFrame):
        raise TypeError(
            "The 'events' parameter must be a DataFrame with a 'ticker' and a tz-aware 'time' column. "
            f"Got {type(events).__name__} instead."
        )
    time_column = "time" if "time" in events.columns else "timestamp" if "timestamp" in events.columns else None
    for needed, present in (("ticker", "ticker" in events.columns), ("time", time_column is not None)):
        if not present:
            raise KeyError(
                f"The 'events' frame has no {needed!r} column (its columns are {list(events.columns)}); give "
                "one row per event with 'ticker' and a tz-aware 'time' (or 'timestamp')."
            )
    if events.empty:
        raise ValueError("The 'events' frame is empty; give at least one event.")
    raw = events[time_column]
    stamps = []
    for i, value in enumerate(raw):
        stamp = pd.Timestamp(value) if not pd.isna(value) else None
        if stamp is None or stamp is pd.NaT or stamp.tzinfo is None:
            raise ValueError(
                f"The event in row {i} ({events['ticker'].iloc[i]}) has the time {value!r}, which has no time "
                "zone; an instant needs one, e.g. pd.Timestamp('2025-05-13 09:30', tz='America/New_York')."
            )
        stamps.append(stamp.tz_convert("UTC"))
    if "event_id" in events.columns:
        ids = events["event_id"].astype(str).tolist()
    else:
        ids = [f"{t}@{s:%Y-%m-%dT%H:%MZ}" for t, s in zip(events["ticker"], stamps)]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ValueError(f"The event id {dup!r} appears twice; give each event its own 'event_id'.")
    return pd.DataFrame(
        {"event_id": ids, "ticker": events["ticker"].astype(str).to_numpy(), "time": pd.DatetimeIndex(stamps)}
    )


class IntradayStudy:
    r"""An intraday event study: market-model abnormal returns in bars around stated instants.

    Parameters
    ----------
    events
        One row per event: ``ticker`` and a tz-aware ``time`` (or ``timestamp``); an ``event_id`` column is
        used when present.
    bars
        What ``CsvSource(..., interval=...).get_bars`` or ``YahooSource().get_bars`` returns, holding the
        events' tickers and the market, all on one exchange's clock.
    market
        The benchmark ticker (its bars must be in ``bars``).
    event_window, estimation_window
        ``(start, end)`` in bars relative to the event bar, inclusive; the estimation window must end before
        the event window starts.  Bars count on the exchange's grid of regular bars, so a window of 780
        one-minute bars spans two NYSE sessions.
    placebo_sessions
        :math:`N`, how many previous sessions give a placebo window at the same clock time.
    min_sessions
        The estimation bars must come from at least this many sessions; an event whose estimation window
        crosses fewer is dropped (a model fitted on one morning describes that morning only).
    min_bars
        An event with fewer usable estimation bars is dropped.
    max_missing
        How many bars of a CAR window may lack a bar return (a bar missing from the data, or the bar after
        it) before the CAR is NaN.  Default 0.  Missing bars are left out of the sum, never bridged: a move
        across a missing minute is in no bar return.  One-minute Yahoo bars miss a few minutes a day.

    Notes
    -----
    The **event bar** is the first regular bar whose start is at or after the event time.  An event whose
    time falls outside the bars' range or outside the exchange's regular hours (closed market, lunch break)
    is dropped and listed in ``res.dropped`` with the first bar that could react: news that arrives while
    the market is shut shows up in the overnight gap (``es.returns(prices, kind="overnight")``,
    :func:`session_gaps`), not in a bar return.

    For event :math:`i` the market model :math:`r_{ib}=\alpha_i+\beta_i r_{mb}+\varepsilon_{ib}` is fitted by
    OLS on the usable bars of the estimation window, and
    :math:`AR_{ib} = r_{ib} - \hat\alpha_i - \hat\beta_i r_{mb}`.  Over a window :math:`W` of :math:`L` bars
    with a bar return (the first bar of a segment has none by construction; bars missing from the data are
    counted and tolerated up to ``max_missing``), :math:`CAR_i(W)=\sum_{b\in W} AR_{ib}` with MacKinlay's (1997, eqs. 7-13) variance
    :math:`\hat\sigma_i^2 (L + s'(X_i'X_i)^{-1}s)`, :math:`s=\sum_{b\in W} (1, r_{mb})'`; ``t = car / se``
    against a Student t with :math:`T_i-2` degrees of freedom.

    The **placebo test** needs no normality.  Let :math:`k` be the event bar's position in its session
    (bars since the open, i.e. the same local clock time, since a session opens at the same clock time every
    day).  For each of the :math:`N` previous sessions :math:`j` that has a bar at position :math:`k`, the
    placebo window is the same window around that bar, and :math:`CAR^{(j)}_i` sums the abnormal returns there
    with the event's own :math:`\hat\alpha_i,\hat\beta_i` under the same rules.  A placebo window that lacks
    more than ``max_missing`` bar returns (a session's first bar does not count), reaches outside the grid or
    overlaps the event window is left out; :math:`N_i` counts the rest.  Then

    .. math::

        p_i^{\text{placebo}} = \frac{1 + \#\{j : |CAR^{(j)}_i| \ge |CAR_i|\}}{1 + N_i},

    the rank p-value of the event's CAR among the CARs of ordinary days at the same time of day; with
    :math:`N_i` placebo days it cannot be below :math:`1/(1+N_i)`.

    References
    ----------
    MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of Economic Literature*, 35(1),
    13-39.

    Examples
    --------
    >>> bars = es.CsvSource("intraday/", interval="1m").get_bars(["NVDA", "SPY"], "2025-05-09", "2025-05-16")  # doctest: +SKIP
    >>> events = pd.DataFrame({"ticker": ["NVDA"], "time": [pd.Timestamp("2025-05-13 09:30", tz="America/New_York")]})  # doctest: +SKIP
    >>> res = es.IntradayStudy(events, bars, market="SPY", event_window=(0, 59)).fit()  # doctest: +SKIP
    >>> res.car()  # doctest: +SKIP
    """

    def __init__(
        self,
        events: pd.DataFrame,
        bars: pd.DataFrame,
        market: str = "SPY",
        *,
        event_window: tuple[int, int] = (0, 30),
        estimation_window: tuple[int, int] = (-780, -31),
        placebo_sessions: int = 20,
        min_sessions: int = 2,
        min_bars: int = 30,
        max_missing: int = 0,
    ) -> None:
        self.events = events
        self.bars = bars
        self.market = market
        self.event_window = event_window
        self.estimation_window = estimation_window
        self.placebo_sessions = placebo_sessions
        self.min_sessions = min_sessions
        self.min_bars = min_bars
        self.max_missing = max_missing

    def fit(self) -> IntradayResults:
        """Fit every event's market model at once and return the :class:`IntradayResults`.

        Raises
        ------
        EstimationError
            When no event can be estimated; ``dropped`` lists each with its reason.
        """
        import warnings

        estimation, event = check_windows(self.estimation_window, self.event_window)
        n_placebo = check_positive_int("placebo_sessions", self.placebo_sessions, minimum=0)
        min_sessions = check_positive_int("min_sessions", self.min_sessions)
        min_bars = check_positive_int("min_bars", self.min_bars, minimum=3)
        max_missing = check_positive_int("max_missing", self.max_missing, minimum=0)
        if not isinstance(self.market, str):
            raise TypeError(f"The 'market' parameter must be one ticker. Got {self.market!r} instead.")
        table = _event_table(self.events)
        present = (
            {str(t) for t in self.bars.index.unique(level=0)}
            if isinstance(self.bars, pd.DataFrame) and isinstance(self.bars.index, pd.MultiIndex)
            else set()
        )
        if self.market not in present:
            raise KeyError(f"The market {self.market!r} is not in the bars ({sorted(present)}); read its bars too.")
        dropped: list[dict] = []
        missing = ~table["ticker"].isin(present)
        for row in table.loc[missing].itertuples():
            dropped.append({**_drop_row(row), "reason": f"no bars for {row.ticker}"})
        table = table.loc[~missing].reset_index(drop=True)
        tickers = list(dict.fromkeys([*table["ticker"], self.market]))
        panel = BarPanel.from_bars(self.bars, tickers)
        keep, reasons, day0 = _event_bars(panel, table)
        for i in np.flatnonzero(~keep):
            dropped.append({**_drop_row(table.iloc[i]), "reason": reasons[i]})
        table, day0 = table.loc[keep].reset_index(drop=True), day0[keep]
        firm = np.array([panel.column(t) for t in table["ticker"]], dtype=np.int64)
        data = AlignedData.build(panel.returns, panel.returns[:, panel.column(self.market)])
        fit = estimate(data, day0, firm, estimation, event)
        sessions_used = _sessions_used(panel, data.usable, day0, firm, estimation)
        reasons = np.full(len(table), "", dtype=object)
        few_sessions = sessions_used < min_sessions
        reasons[few_sessions] = [
            f"the estimation window {estimation} crosses {k} session(s) with bar returns, fewer than "
            f"min_sessions={min_sessions}; widen it (about {len(panel.grid) // max(len(panel.session_dates), 1)} "
            "bars a session) or read bars from earlier days"
            for k in sessions_used[few_sessions]
        ]
        few_bars = ~few_sessions & ((fit.n_obs < min_bars) | ~np.isfinite(fit.sigma2))
        reasons[few_bars] = [
            f"only {n} usable bar returns in the estimation window {estimation} (min_bars={min_bars})"
            for n in fit.n_obs[few_bars]
        ]
        bad = few_sessions | few_bars
        for i in np.flatnonzero(bad):
            dropped.append({**_drop_row(table.iloc[i]), "reason": reasons[i]})
        if bad.all():
            frame = pd.DataFrame(dropped, columns=_DROP_COLUMNS)
            raise EstimationError(
                f"No intraday event could be estimated ({len(frame)} dropped): "
                + "; ".join(f"{r.event_id}: {r.reason}" for r in frame.itertuples()),
                dropped=frame,
            )
        fit = fit.take(np.flatnonzero(~bad))
        table = table.loc[~bad].reset_index(drop=True)
        dropped_frame = pd.DataFrame(dropped, columns=_DROP_COLUMNS)
        if len(dropped_frame):
            warnings.warn(
                f"{len(dropped_frame)} intraday event(s) dropped; see res.dropped for why "
                f"(first: {dropped_frame['event_id'].iloc[0]}: {dropped_frame['reason'].iloc[0]}).",
                DroppedFirmEventsWarning,
                stacklevel=2,
            )
        return IntradayResults(
            events=table,
            panel=panel,
            fit=fit,
            market=self.market,
            placebo_sessions=n_placebo,
            max_missing=max_missing,
            dropped=dropped_frame,
        )


def _drop_row(row) -> dict:
    get = row.get if isinstance(row, pd.Series) else lambda k: getattr(row, k)
    return {"event_id": get("event_id"), "ticker": get("ticker"), "time": get("time")}


def _event_bars(panel: BarPanel, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row of each event's bar on the grid; which events have one, and why not (vectorized over events)."""
    times = pd.DatetimeIndex(table["time"]).tz_convert("UTC")
    grid, step, t = panel.grid, panel.step, len(panel.grid)
    after = grid.searchsorted(times, side="left")
    before = grid.searchsorted(times, side="right") - 1
    first = pd.DatetimeIndex([panel.first_bar[k] for k in table["ticker"].unique()])
    last = pd.DatetimeIndex([panel.last_bar[k] for k in table["ticker"].unique()])
    which = pd.Index(table["ticker"].unique()).get_indexer(table["ticker"])
    lo, hi = first[which], last[which] + step
    outside = (times < lo) | (times >= hi)
    safe_before, safe_after = np.clip(before, 0, t - 1), np.clip(after, 0, t - 1)
    inside_bar = (before >= 0) & (times < grid[safe_before] + step)
    same_session = (after < t) & (panel.session[safe_after] == panel.session[safe_before])
    closed = ~outside & ~(inside_bar & same_session)
    keep = ~outside & ~closed
    reasons = np.full(len(table), "", dtype=object)
    tz = panel.tz
    for i in np.flatnonzero(outside).tolist():  # messages for the dropped events only
        reasons[i] = (
            f"event time {times[i].tz_convert(tz)} is outside the bars of {table['ticker'].iloc[i]} "
            f"({lo[i].tz_convert(tz)} .. {hi[i].tz_convert(tz)}); read bars that cover it"
        )
    for i in np.flatnonzero(closed).tolist():
        nxt = grid[after[i]].tz_convert(tz) if after[i] < t else None
        reasons[i] = (
            f"event time {times[i].tz_convert(tz)} is outside the regular hours of {panel.calendar} (market "
            f"closed); the first bar that could react starts at {nxt}: give that time to study the session, and "
            "measure the gap before it with es.returns(prices, kind='overnight') or session_gaps"
        )
    return keep, reasons, after.astype(np.int64)


def _sessions_used(panel: BarPanel, usable: np.ndarray, day0, firm, window) -> np.ndarray:
    """Number of sessions that contribute a usable bar to each event's estimation window."""
    t = len(panel.grid)
    start = np.clip(day0 + window[0], 0, t)
    stop = np.clip(day0 + window[1] + 1, 0, t)
    out = np.zeros(len(day0), dtype=np.int64)
    n_sessions = len(panel.session_dates)
    for m in np.unique(firm):  # a loop over securities, not events
        rows = np.flatnonzero(firm == m)
        # per session: does it have a usable bar up to row r?  prefix counts of usable bars, then per session
        counts = np.concatenate([[0], np.cumsum(usable[:, m])])
        lo_session = panel.session[np.clip(start[rows], 0, t - 1)]
        hi_session = panel.session[np.clip(stop[rows] - 1, 0, t - 1)]
        s_start, s_stop = panel.session_start[:-1], panel.session_start[1:]
        per_session = counts[s_stop] - counts[s_start]  # usable bars in each whole session
        has = np.concatenate([[0], np.cumsum(per_session > 0)])
        # whole sessions strictly inside, plus the partial first and last sessions of the window
        inner = np.maximum(has[np.maximum(hi_session, lo_session)] - has[np.minimum(lo_session + 1, n_sessions)], 0)
        first_part = counts[np.minimum(stop[rows], s_stop[lo_session])] - counts[start[rows]] > 0
        last_part = (hi_session > lo_session) & (counts[stop[rows]] - counts[s_start[hi_session]] > 0)
        out[rows] = inner + first_part + last_part
        out[rows[stop[rows] <= start[rows]]] = 0
    return out


class IntradayResults:
    """What :meth:`IntradayStudy.fit` returns: abnormal returns in bars, CARs with MacKinlay and placebo tests.

    Attributes
    ----------
    events : DataFrame
        The estimated events: ``event_id``, ``ticker``, ``time`` (UTC).
    dropped : DataFrame
        Events left out, with the reason (``event_id``, ``ticker``, ``time``, ``reason``).
    market : str
    """

    def __init__(self, *, events, panel, fit, market, placebo_sessions, max_missing, dropped) -> None:
        self.max_missing = max_missing
        self.events = events
        self.panel = panel
        self.fit_ = fit
        self.market = market
        self.placebo_sessions = placebo_sessions
        self.dropped = dropped

    # --- shape ---------------------------------------------------------------------------------------
    @property
    def event_window(self) -> tuple[int, int]:
        return self.fit_.event_window

    @property
    def estimation_window(self) -> tuple[int, int]:
        return self.fit_.estimation_window

    @property
    def interval(self) -> str:
        return self.panel.interval

    @property
    def event_bar_time(self) -> pd.DatetimeIndex:
        """UTC start of each event's event bar."""
        return self.panel.grid[self.fit_.day0]

    @property
    def params(self) -> pd.DataFrame:
        """``alpha``, ``beta``, ``sigma`` and ``n_obs`` (usable estimation bars) of each event."""
        f = self.fit_
        return pd.DataFrame(
            {"alpha": f.params[:, 0], "beta": f.params[:, 1], "sigma": np.sqrt(f.sigma2), "n_obs": f.n_obs},
            index=pd.Index(self.events["event_id"], name="event_id"),
        )

    # --- abnormal returns -------------------------------------------------------------------------------
    @property
    def ar(self) -> pd.DataFrame:
        """Abnormal returns on every event-window bar, tidy.

        Columns ``event_id, ticker, bar`` (relative to the event bar), ``time`` (UTC bar start), ``ret`` (the
        firm's bar return), ``market`` (the market's), ``ar``, ``first_bar`` (the bar opens a segment, so it
        has no return by construction) and ``se`` (MacKinlay's standard error, prediction error included).
        """
        f = self.fit_
        bars = f.event_days
        rows = f.day0[:, None] + bars[None, :]
        inside = (rows >= 0) & (rows < len(self.panel.grid))
        safe = np.clip(rows, 0, len(self.panel.grid) - 1)
        ret = gather(self.panel.returns, f.day0, bars, f.firm)
        mkt = gather(self.panel.returns[:, [self.panel.column(self.market)]], f.day0, bars)[:, :, 0]
        first = np.where(inside, self.panel.segment_first[safe], False)
        n, w = rows.shape
        return pd.DataFrame(
            {
                "event_id": np.repeat(self.events["event_id"].to_numpy(), w),
                "ticker": np.repeat(self.events["ticker"].to_numpy(), w),
                "bar": np.tile(bars, n),
                "time": self.panel.grid[safe.ravel()].where(inside.ravel()),
                "ret": ret.ravel(),
                "market": mkt.ravel(),
                "ar": f.ar_event.ravel(),
                "first_bar": first.ravel(),
                "se": np.sqrt(f.ar_variance()).ravel(),
            }
        )

    def _window_sums(self, rows: np.ndarray, firm: np.ndarray, params: np.ndarray):
        """CAR, included bars and the summed design over windows ``rows`` (shape (..., W)); NaN if a bar is missing."""
        t = len(self.panel.grid)
        inside = (rows >= 0) & (rows < t)
        safe = np.clip(rows, 0, t - 1)
        y = self.panel.returns[safe, firm.reshape(firm.shape + (1,) * (rows.ndim - firm.ndim))]
        z = self.panel.returns[safe, self.panel.column(self.market)]
        structural = inside & self.panel.segment_first[safe]
        alpha = params[..., 0].reshape(params.shape[:-1] + (1,) * (rows.ndim - params.ndim + 1))
        beta = params[..., 1].reshape(alpha.shape)
        ar = y - alpha - beta * z
        ar = np.where(inside, ar, np.nan)
        present = np.isfinite(ar)
        missing = (~structural & ~present).sum(axis=-1)
        include = ~structural & present
        car = np.where(include, ar, 0.0).sum(axis=-1)
        car = np.where(missing > self.max_missing, np.nan, car)
        length = include.sum(axis=-1)
        s_z = np.where(include, z, 0.0).sum(axis=-1)
        return car, length, missing, s_z, np.where(include, y, np.nan), np.where(include, z, np.nan)

    def car(self, window: tuple[int, int] | None = None) -> pd.DataFrame:
        r"""CAR of each event over ``window`` (default: the event window), with MacKinlay's and the placebo test.

        Returns
        -------
        pandas.DataFrame
            Index ``event_id``; columns ``ticker, time`` (event time, UTC), ``event_bar`` (UTC start of the
            event bar), ``window``, ``bars`` (bars with a bar return in the window), ``missing`` (bars without
            one, a segment's first bar apart: the CAR is NaN when there are more than ``max_missing``),
            ``raw`` and ``market_raw`` (compounded bar returns of the firm and the market over the bars in the
            CAR), ``price_change`` and ``market_price_change`` (close of the window's last bar over the close
            before its first bar return: the whole move, missing bars included; NaN across a session gap),
            ``car``, ``se``, ``t``, ``pvalue`` (Student t, :math:`T_i-2` df), ``placebo_pvalue`` and
            ``n_placebo`` (:math:`N_i`); see :class:`IntradayStudy` for the definitions.
        """
        from .inference.parametric import p_t

        window = self.event_window if window is None else check_inside("window", window, self.event_window)
        f = self.fit_
        offsets = np.arange(window[0], window[1] + 1)
        rows = f.day0[:, None] + offsets[None, :]
        car, length, missing, s_z, y, z = self._window_sums(rows, f.firm, f.params)
        s = np.stack([length.astype(float), s_z], axis=1)
        quad = np.einsum("nk,nkj,nj->n", s, f.xtx_inv, s)
        variance = f.sigma2 * (length + quad)
        se = np.sqrt(variance)
        t = car / se
        df = f.df
        change, market_change = self._price_change(rows, f.firm)
        placebo = self._placebo_cars(window)
        valid = np.isfinite(placebo)
        n_valid = valid.sum(axis=1)
        exceed = (np.abs(np.where(valid, placebo, 0.0)) >= np.abs(car)[:, None]) & valid
        placebo_p = np.where(np.isfinite(car) & (n_valid > 0), (1 + exceed.sum(axis=1)) / (1 + n_valid), np.nan)
        from .summary import window_label

        return pd.DataFrame(
            {
                "ticker": self.events["ticker"].to_numpy(),
                "time": self.events["time"].to_numpy(),
                "event_bar": self.event_bar_time,
                "window": window_label(window),
                "bars": length,
                "missing": missing,
                "raw": np.nanprod(1.0 + y, axis=1) - 1.0,
                "market_raw": np.nanprod(1.0 + z, axis=1) - 1.0,
                "price_change": change,
                "market_price_change": market_change,
                "car": car,
                "se": se,
                "t": t,
                "pvalue": p_t(t, df),
                "placebo_pvalue": placebo_p,
                "n_placebo": n_valid,
            },
            index=pd.Index(self.events["event_id"], name="event_id"),
        )

    def _price_change(self, rows: np.ndarray, firm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Close of the window's last bar over the close before its first bar return, firm and market.

        The base is the close of the bar before the window, or of the window's first bar when that bar opens a
        session (its own return is the gap).  NaN when a close is missing or the window crosses into another
        segment (the move would include a gap).
        """
        p, t = self.panel, len(self.panel.grid)
        first, last = rows[:, 0], rows[:, -1]
        ok = (first >= 0) & (last < t)
        first, last = np.clip(first, 0, t - 1), np.clip(last, 0, t - 1)
        inner = np.clip(rows[:, 1:], 0, t - 1)
        ok &= ~p.segment_first[inner].any(axis=1)
        base = np.where(p.segment_first[first], first, np.maximum(first - 1, 0))
        market = p.column(self.market)
        change = p.close[last, firm] / p.close[base, firm] - 1.0
        market_change = p.close[last, market] / p.close[base, market] - 1.0
        return np.where(ok, change, np.nan), np.where(ok, market_change, np.nan)

    def _placebo_rows(self) -> np.ndarray:
        """Grid row of the bar at the event bar's clock time on each of the previous sessions, -1 if none."""
        f, p = self.fit_, self.panel
        session = p.session[f.day0]
        position = f.day0 - p.session_start[session]
        back = np.arange(1, self.placebo_sessions + 1)
        earlier = session[:, None] - back[None, :]
        ok = earlier >= 0
        safe = np.where(ok, earlier, 0)
        length = p.session_start[safe + 1] - p.session_start[safe]
        ok &= position[:, None] < length
        return np.where(ok, p.session_start[safe] + position[:, None], -1)

    def _placebo_cars(self, window: tuple[int, int]) -> np.ndarray:
        """Placebo CARs, shape (N, placebo_sessions); NaN where the placebo window is unusable."""
        f = self.fit_
        base = self._placebo_rows()
        if base.shape[1] == 0:
            return np.zeros((f.n, 0))
        offsets = np.arange(window[0], window[1] + 1)
        rows = base[:, :, None] + offsets[None, None, :]
        car, *_ = self._window_sums(rows, f.firm[:, None], f.params[:, None, :])
        overlaps = base + window[1] >= (f.day0 + self.event_window[0])[:, None]
        return np.where((base >= 0) & ~overlaps, car, np.nan)

    def placebo(self, window: tuple[int, int] | None = None) -> pd.DataFrame:
        """The placebo CARs behind ``placebo_pvalue``: one row per event, one column per session back (1..N)."""
        window = self.event_window if window is None else check_inside("window", window, self.event_window)
        cars = self._placebo_cars(window)
        return pd.DataFrame(
            cars,
            index=pd.Index(self.events["event_id"], name="event_id"),
            columns=pd.Index(np.arange(1, cars.shape[1] + 1), name="sessions_back"),
        )

    # --- displays ----------------------------------------------------------------------------------
    def summary(self, windows: Sequence[tuple[int, int]] | None = None):
        """A :class:`~eventstudy.summary.Summary`: the design, the CAR table per window and the drops."""
        from .summary import Summary, Table

        windows = [self.event_window] if windows is None else list(windows)
        tables = []
        for window in windows:
            car = self.car(window).reset_index()
            car["event_bar"] = pd.DatetimeIndex(car["event_bar"]).tz_convert(self.panel.tz).strftime("%Y-%m-%d %H:%M")
            shown = car[["event_id", "ticker", "event_bar", "bars", "raw", "car", "se", "t", "pvalue",
                         "placebo_pvalue", "n_placebo"]]  # fmt: skip
            tables.append(
                Table(
                    title=f"CAR over bars {window[0]}..{window[1]}",
                    data=shown,
                    formats={
                        "raw": "pct",
                        "car": "pct",
                        "se": "pct",
                        "t": "{:.2f}",
                        "pvalue": "p",
                        "placebo_pvalue": "{:.3f}",
                    },  # fmt: skip
                )
            )
        notes = [f"{r.event_id}: {r.reason}" for r in self.dropped.itertuples()]
        facts = [
            ("Model", f"market model ({self.market}), OLS on bar returns"),
            ("Bars", f"{self.interval} on {self.panel.calendar} regular hours"),
            ("Estimation window", f"bars {self.estimation_window[0]}..{self.estimation_window[1]}"),
            ("Event window", f"bars {self.event_window[0]}..{self.event_window[1]}"),
            ("Placebo", f"same clock time on up to {self.placebo_sessions} previous sessions"),
            ("Events", f"{len(self.events)} estimated, {len(self.dropped)} dropped"),
        ]
        return Summary(title="Intraday event study", facts=facts, tables=tables, notes=notes)

    def __repr__(self) -> str:
        return self.summary().as_text()

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()
