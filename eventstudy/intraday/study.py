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
  event's estimation bars, all events at once (:func:`eventstudy.estimation.models.estimate`, prefix sums over the grid).
* A CAR sums the abnormal returns of the window's bars that have a bar return; the first bar of a segment is
  left out by construction, any other missing bar makes the CAR missing.

The bar grid (:class:`~eventstudy.intraday.bars.BarPanel`, :func:`bar_returns`, :func:`session_gaps`) lives in
:mod:`eventstudy.intraday.bars` and the results in :mod:`eventstudy.intraday.inference`; both are importable
from here too.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.estimation.models import estimate
from eventstudy.estimation.panel import AlignedData
from eventstudy.exceptions import DroppedFirmEventsWarning, EstimationError
from eventstudy.foundation.validation import check_positive_int, check_windows
from eventstudy.intraday.bars import BarPanel, bar_returns, session_gaps
from eventstudy.intraday.inference import IntradayResults

__all__ = ["BarPanel", "bar_returns", "session_gaps", "IntradayStudy", "IntradayResults"]

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
