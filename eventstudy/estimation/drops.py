"""What cannot be estimated, and why: the reasons ``res.dropped`` lists.

:func:`unplaceable` finds what needs no fit to refuse (no returns for the ticker, the same day 0 twice, day 0
or the event window outside the returns); :func:`unestimable` what the fit could not estimate (no return,
benchmark or regressor on day 0, too short an estimation window, a model not identified, a stale or thinly
traded quote: more than :data:`STALE_SHARE` of the estimation-window returns exactly 0);
:func:`dropped_table` lists the firm-events left out with the reason.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from eventstudy.estimation.design import Frames
from eventstudy.estimation.panel import gather
from eventstudy.estimation.quality import unidentified
from eventstudy.estimation.spec import FitSpec
from eventstudy.exceptions import EstimationError
from eventstudy.time.layout import Layout

__all__ = ["STALE_SHARE", "unplaceable", "unestimable", "dropped_table"]

#: A firm-event whose estimation window has more than this share of its returns exactly 0 is dropped as
#: "stale or thin trading": a quote that did not move on most days.
STALE_SHARE = 0.5


def unplaceable(firm_events, firm, day0, layout: Layout, spec: FitSpec, failures: dict[str, str]) -> pd.Series:
    """Reasons that need no fit: no returns for the ticker, day 0 or the event window outside the data."""
    reasons = pd.Series(None, index=firm_events.index, dtype=object)
    lo, hi = spec.event_window
    twice, first_id = _first_of_pair(firm_events)
    if twice.any():
        reasons[twice] = [
            f"same day 0 ({d:%Y-%m-%d}) as event {f!r} for this ticker; kept once so it is not counted twice"
            for d, f in zip(firm_events.loc[twice, "day0"], first_id)
        ]
    no_ticker = firm < 0
    spans = layout.spans()
    start = np.where(no_ticker, 0, spans[np.maximum(firm, 0), 0]) if len(spans) else np.zeros(len(firm), int)
    stop = np.where(no_ticker, 0, spans[np.maximum(firm, 0), 1]) if len(spans) else np.zeros(len(firm), int)
    outside = ~no_ticker & (day0 < 0)
    past_end = ~no_ticker & ~outside & (day0 + hi >= stop)
    before_start = ~no_ticker & ~outside & ~past_end & (day0 + lo < start)
    rows = layout.rows

    def bounds(i: int) -> tuple[str, str]:
        return f"{rows[start[i]]:%Y-%m-%d}", f"{rows[stop[i] - 1]:%Y-%m-%d}"

    reasons[no_ticker] = [
        f"no prices for this ticker: {failures[t]}" if t in failures else "no returns for this ticker"
        for t in firm_events.loc[no_ticker, "ticker"]
    ]
    for mask, text in (
        (outside, "day 0 lies outside the returns ({0} to {1})"),
        (past_end, "event window ends after the last return ({1})"),
        (before_start, "event window starts before the first return ({0})"),
    ):
        for i in np.flatnonzero(mask).tolist():
            if stop[i] > start[i]:
                reasons.iloc[i] = text.format(*bounds(i))
            else:
                reasons.iloc[i] = "no sessions of the security's exchange in the returns' date range"
    return reasons


def _first_of_pair(firm_events: pd.DataFrame) -> tuple[np.ndarray, list]:
    """Which firm-events repeat the ticker and day 0 of an earlier one with another ``event_id``, and for those
    the earlier one's id (NaN where day 0 is NaT, a key a group-by leaves out), from integer codes rather than
    a group-by: only the rows found are read as text."""
    tickers = pd.factorize(firm_events["ticker"])[0].astype(np.int64)
    days, found = pd.factorize(firm_events["day0"])
    pairs = pd.factorize(tickers * (len(found) + 1) + days)[0]
    _, first = np.unique(pairs, return_index=True)  # the first row of each pair (codes follow appearance)
    first = first[pairs]
    ids = pd.factorize(firm_events["event_id"])[0]  # equal codes, equal ids
    twice = (ids != ids[first]) | (days < 0)
    rows = np.flatnonzero(twice)
    earlier = firm_events["event_id"].take(first[rows]).tolist()
    return twice, [np.nan if days[r] < 0 else e for r, e in zip(rows.tolist(), earlier)]


def unestimable(fit, frames: Frames, layout: Layout, spec: FitSpec) -> np.ndarray:
    """Reasons found in the fit, most basic first: the return, then what the model subtracts or regresses
    on, on day 0; then too short an estimation window; then a model that is not identified."""
    zero = np.array([0])
    min_obs = spec.min_obs
    raw = frames.raw
    dates = layout.rows

    @functools.cache
    def returns_span(column: int) -> tuple[int, int] | None:
        """A ticker's first and last return (None: none), read for the firm-events a note is made for."""
        valid = np.flatnonzero(np.isfinite(raw[:, column]))
        return (int(valid[0]), int(valid[-1])) if len(valid) else None

    def span_note(row: int) -> str:
        span = returns_span(int(fit.firm[row]))
        if span is None:
            return "; the ticker has no returns in the data"
        first, last = span
        if fit.day0[row] + spec.estimation_window[0] < first:
            return f"; the ticker's returns start on {dates[first]:%Y-%m-%d}"
        if fit.day0[row] > last:
            return f"; the ticker's returns end on {dates[last]:%Y-%m-%d}"
        return ""

    reasons = np.full(fit.n, None, dtype=object)
    # later assignments win, so they run from the least to the most basic reason
    reasons[~np.isfinite(fit.sigma2)] = "model not identified on the estimation window (a regressor does not vary)"
    # a constant benchmark, a ticker identical to it, an exact fit
    specific = unidentified(fit, layout.tickers, frames.z_names, spec.markets.all())
    named = np.flatnonzero(specific != None)  # noqa: E711 - elementwise on an object array
    reasons[named] = specific[named]
    # a stale or thinly traded quote: most estimation-window returns exactly 0, so the variance (and every
    # test statistic scaled by it) describes the quote, not the security
    # Work in proportion to what it finds: only a security with more zero returns than STALE_SHARE of the
    # minimum window can hold such a window (a shorter window is dropped below for its length anyway), so only
    # its firm-events' windows are gathered.
    lo, hi = spec.estimation_window
    candidates = np.flatnonzero((raw == 0).sum(axis=0) > STALE_SHARE * min_obs)
    rows = np.flatnonzero(np.isin(fit.firm, candidates)) if len(candidates) else np.zeros(0, dtype=np.intp)
    if len(rows):
        window = gather(raw, fit.day0[rows], np.arange(lo, hi + 1), fit.firm[rows])
        observed = np.isfinite(window).sum(axis=1)
        zeros = (window == 0).sum(axis=1)
        for k in np.flatnonzero((observed > 0) & (zeros > STALE_SHARE * observed)).tolist():
            reasons[rows[k]] = (
                f"stale or thin trading: {zeros[k]} of {observed[k]} estimation-window returns are exactly 0 "
                f"(more than {STALE_SHARE:.0%})"
            )
    for row in np.flatnonzero(fit.n_obs < min_obs).tolist():  # only the firm-events with too short a window
        reasons[row] = f"{fit.n_obs[row]} estimation-window returns, fewer than the minimum {min_obs}{span_note(row)}"
    names = np.array(frames.z_names, dtype=object)
    if len(names):
        z0 = gather(frames.z, fit.day0, zero)[:, 0, :]
        missing = ~np.isfinite(z0)
        for row in np.flatnonzero(missing.any(axis=1)).tolist():  # only the firm-events with a gap on day 0
            reasons[row] = f"regressor {', '.join(names[missing[row]])} missing on day 0"
    offset0 = gather(frames.offset, fit.day0, zero, fit.firm)[:, 0]
    what = f"benchmark {frames.offset_name}" if frames.offset_name is not None else "risk-free rate (RF)"
    reasons[~np.isfinite(offset0)] = f"{what} missing on day 0"
    raw0 = gather(raw, fit.day0, zero, fit.firm)[:, 0]
    for row in np.flatnonzero(~np.isfinite(raw0)).tolist():
        reasons[row] = f"no return on day 0{span_note(row)}"
    return reasons


def nothing_estimated(dropped: pd.DataFrame) -> EstimationError:
    """The error of a fit that estimated no firm-event: the count, each reason's count, and ``dropped``."""
    return EstimationError(
        f"No firm-event could be estimated ({len(dropped)} dropped). Reasons:\n"
        + dropped.groupby("reason").size().to_string(),
        dropped=dropped,
    )


def dropped_table(firm_events: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    """``res.dropped``: the firm-events with a reason, and the reason."""
    columns = ["event_id", "ticker", "date", "day0", "reason"]
    rows = np.flatnonzero(reasons.notna().to_numpy())  # the few dropped rows, taken by position
    dropped = firm_events[columns[:-1]].take(rows).reset_index(drop=True)
    dropped["reason"] = reasons.iloc[rows].astype(str).array
    return dropped
