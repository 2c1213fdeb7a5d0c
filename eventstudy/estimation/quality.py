"""Checks that keep values that only look like data out of a study, each with a message naming the fix.

Three families, called by :meth:`eventstudy.EventStudy.fit` (and usable on their own):

* :func:`unidentified` -- firm-events whose normal-return model is not identified although the least
  squares ran: a benchmark that does not vary, a ticker identical to its benchmark (or a benchmark studied
  against itself), zero residual variance.  Each becomes a recorded drop with its reason.
* :func:`check_return_values` and :func:`check_dates` -- inputs that would be silently misread: infinite
  returns, returns in percent, integer dates such as 20250513.
* :func:`implausible_returns` -- daily returns beyond a plausible bound for the security's own history and
  the market's move that day (an unadjusted split, a quote switching from pence to pounds), warned with
  ticker and date and left for the user to decide.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from eventstudy.estimation.panel import gather
from eventstudy.exceptions import DataQualityWarning
from eventstudy.foundation.misread import (  # re-exported: one family of checks
    case_hint,
    check_dates,
    check_return_values,
    column_positions,
)

__all__ = [
    "IMPLAUSIBLE_LOG_RETURN",
    "IMPLAUSIBLE_ROBUST_Z",
    "case_hint",
    "check_dates",
    "check_return_values",
    "implausible_returns",
    "unidentified",
    "warn_implausible",
]

#: A day is implausible only when its abnormal log return exceeds this in absolute value (ln 1.8: a fall
#: of 44 % or a rise of 80 % beyond the market's move) ...
IMPLAUSIBLE_LOG_RETURN = float(np.log(1.8))
#: ... and this many robust standard deviations (1.4826 x the median absolute deviation) of the
#: security's own market-adjusted returns.
IMPLAUSIBLE_ROBUST_Z = 12.0

# relative size below which a spread is taken as exactly zero (rounding of returns near 1e-2 is ~1e-18)
_TINY = 1e-9
# residual variance below this share of the dependent variable's variance is an exact fit
_EXACT_FIT = 1e-10


# --------------------------------------------------------------------------------------------------------
# models that are not identified
# --------------------------------------------------------------------------------------------------------


def unidentified(fit, firm_names: Sequence[str], regressor_names: Sequence[str], market: Sequence[str]) -> np.ndarray:
    """Why each firm-event's model is not identified on its estimation window, or None where it is.

    Parameters
    ----------
    fit : StackedFit
        The fit of every firm-event (:func:`eventstudy.estimation.models.estimate`).
    firm_names
        Ticker of each column of ``fit.data.y``.
    regressor_names
        Name of each column of ``fit.data.z`` (the constant excluded).
    market
        The benchmark tickers, to recognise a benchmark studied against itself.

    Returns
    -------
    ndarray of object, shape (N,)
        None, or one sentence that names the series and the value at fault.

    Notes
    -----
    The least squares only fail on an exactly singular design; a benchmark that is constant up to rounding
    (a stale or forward-filled series) still gives a slope, made of rounding noise.  Here a regressor is
    constant when its standard deviation over the estimation days is below :data:`_TINY` times its
    root mean square, and the residual variance is zero when it is below 1e-10 times the dependent
    variable's variance -- a fit that is exact, so the abnormal returns and their t statistics
    carry no information.
    """
    reasons = np.full(fit.n, None, dtype=object)
    if fit.n == 0:
        return reasons
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # a firm-event without estimation days has no spread
        suspects = np.flatnonzero(_suspects(fit))
        for first in range(0, len(suspects), _CHUNK):  # (N, L) arrays for the suspects only, a chunk at a time
            rows = suspects[first : first + _CHUNK]
            part = np.full(len(rows), None, dtype=object)
            reasons[rows] = _unidentified(fit.take(rows), firm_names, regressor_names, market, part)
    return reasons


#: firm-events examined at once by the exact checks: bounds their (rows, L) arrays to a few hundred MB
_CHUNK = 50_000


def _suspects(fit) -> np.ndarray:
    r"""Firm-events that may fail a check of :func:`_unidentified`; the others provably pass it.

    The fit gives cheap bounds, far from the checks' thresholds: for least squares with a constant,
    :math:`1/(T_i\,[S_i^{-1}]_{kk})` is at most regressor k's variance over the window, and the residual
    variance of a security identical to a regressor, or fitted exactly, is at most :math:`10^{-10}` of its
    variance, itself at most the largest squared return of its column.  Only rows within a factor
    :math:`10^{6}` of a threshold, or with a failed fit, get the exact (N, L) checks.
    """
    n = fit.n
    if not (fit.estimated and fit.intercept and fit.dof is None and fit.xtx_inv.shape[1] == fit.params.shape[1]):
        return np.ones(n, dtype=bool)  # no bound from this fit's algebra: check every row exactly
    sigma2 = fit.sigma2
    suspect = ~np.isfinite(sigma2)
    y_max = _column_max_squared(fit.data.y, fit.data.spans)
    suspect |= ~(sigma2 > 1e-6 * y_max[fit.firm])
    p = fit.data.z.shape[1]
    if p:
        z_max = np.fmax.reduce(np.abs(fit.data.z), axis=0) ** 2  # (P,)
        s_inv = np.diagonal(fit.xtx_inv[:, 1:, 1:], axis1=1, axis2=2)  # (N, P)
        variance_floor = 1.0 / (np.maximum(fit.n_obs, 1)[:, None] * s_inv)
        suspect |= ~(variance_floor > 1e-6 * z_max[None, :]).all(axis=1)
    return suspect


def _unidentified(fit, firm_names, regressor_names, market, reasons: np.ndarray) -> np.ndarray:
    grid = fit.event_time
    mask = fit.estimation_mask
    names = np.asarray(firm_names, dtype=object)
    y = np.where(mask, gather(fit.data.y, fit.day0, grid, fit.firm), np.nan)
    y_sd = np.nanstd(y, axis=1)
    y_rms = np.sqrt(np.nanmean(y**2, axis=1))
    z = gather(fit.data.z, fit.day0, grid) if fit.data.z.shape[1] else np.zeros(mask.shape + (0,))
    for k, name in enumerate(regressor_names):
        zk = np.where(mask, z[:, :, k], np.nan)
        sd, rms = np.nanstd(zk, axis=1), np.sqrt(np.nanmean(zk**2, axis=1))
        flat = (sd <= _TINY * rms) | (sd == 0)
        for row in np.flatnonzero(flat & fit.estimated):
            value = np.nanmean(zk[row])
            reasons[row] = (
                f"model not identified: regressor {name} does not vary over the estimation window (every value "
                f"{value:.6g}), a flat or stale series; check it, or use model='constant-mean'"
            )
        same = (np.nanmax(np.abs(y - zk), axis=1) <= _TINY * np.maximum(y_rms, 1e-300)) & ~flat
        for row in np.flatnonzero(same):
            reasons[row] = _identical(names[fit.firm[row]], name, market)
    with np.errstate(invalid="ignore"):
        # an exact fit leaves only the rounding of the sums (about 1e-15 of the variance): 1e-10 is far above it
        # and far below any real security's unexplained share
        exact = np.isfinite(fit.sigma2) & (fit.sigma2 <= _EXACT_FIT * y_sd**2)
    for row in np.flatnonzero(exact & (reasons == None)):  # noqa: E711 - elementwise on an object array
        ticker = names[fit.firm[row]]
        if y_sd[row] <= _TINY * max(y_rms[row], 1e-300) and not fit.estimated:
            reasons[row] = (
                f"abnormal returns are zero on every estimation day: {ticker} moves exactly with the benchmark "
                f"{', '.join(market)}"
                + (" (the benchmark studied against itself)" if ticker in market else "")
                + "; there is nothing to test. Remove it from the tickers"
            )
        elif y_sd[row] == 0 or y_rms[row] == 0:
            reasons[row] = f"{ticker}'s returns do not vary over the estimation window: a halted or stale price series"
        else:
            reasons[row] = (
                f"zero residual variance: the model fits {ticker}'s estimation-window returns exactly (sigma^2 = "
                f"{fit.sigma2[row]:.3g}), so its t statistics are undefined; {ticker} is a copy or a combination "
                "of the regressors"
            )
    return reasons


def _column_max_squared(y: np.ndarray, spans: np.ndarray | None) -> np.ndarray:
    """Largest squared value of each column, over its own block's rows only (NaN for an empty column).

    ``fmax`` skips NaN; an infinite value only makes more firm-events suspects.
    """
    if spans is None:
        return _largest_absolute(y) ** 2
    out = np.full(y.shape[1], np.nan)
    for lo, hi in np.unique(spans, axis=0):
        columns = np.flatnonzero((spans[:, 0] == lo) & (spans[:, 1] == hi))
        if hi > lo:
            # a block's columns are consecutive (the layout's order): a view, not a copy of the block
            runs = bool(len(columns)) and columns[-1] - columns[0] + 1 == len(columns)
            block = y[lo:hi, columns[0] : columns[-1] + 1] if runs else y[lo:hi][:, columns]
            out[columns] = _largest_absolute(block) ** 2
    return out


def _largest_absolute(values: np.ndarray) -> np.ndarray:
    """Each column's largest absolute value, NaN skipped (NaN for an empty column): the larger of its largest
    value and its smallest negated, two reductions with no array of absolute values."""
    return np.fmax(np.fmax.reduce(values, axis=0), -np.fmin.reduce(values, axis=0))


def _identical(ticker: str, regressor: str, market: Sequence[str]) -> str:
    itself = " (the benchmark studied against itself)" if ticker == regressor or ticker in market else ""
    return (
        f"{ticker}'s returns are identical to the regressor {regressor} on every estimation day{itself}: beta is 1 "
        "and the residual variance 0 by construction, so nothing can be tested. Remove it from the tickers or "
        "check that its prices are not a copy of the benchmark's"
    )


# --------------------------------------------------------------------------------------------------------
# implausible returns
# --------------------------------------------------------------------------------------------------------


def implausible_returns(
    returns: pd.DataFrame, market: str | None = None, *, columns: Sequence | None = None
) -> pd.DataFrame:
    """Daily returns too large for the security's own history and the market's move that day.

    Parameters
    ----------
    returns
        Simple daily returns, one column per ticker.
    market
        A benchmark column; its return that day is taken off before judging (a crash of the whole market
        is not a data error).  None judges the raw returns.
    columns
        The columns to judge, in the order the table lists them (default: every column, in order); the
        others are not read, but for ``market``.

    Returns
    -------
    DataFrame
        One row per suspicious day: ``ticker, date, return, market_return, robust_z, hint``; empty when
        none.  Nothing is changed or dropped: the caller decides.

    Notes
    -----
    With :math:`a_t = \\ln(1 + r_t) - \\ln(1 + m_t)` (the market-adjusted log return) and
    :math:`s = 1.4826\\,\\mathrm{MAD}(a)` over the whole series, a day is flagged when
    :math:`|a_t| > \\ln 1.8` and :math:`|a_t - \\mathrm{median}(a)| > 12 s`.  The first bound ignores the
    big days of real stocks (NVDA +24 % on 2023-05-25, ARM +48 % on 2024-02-08); the second ignores a
    volatile security's ordinary days.  An unadjusted 2-for-1 split (-50 %, log -0.69) passes both, as
    do a 10-for-1 split (-90 %) and a quote switching from pence to pounds (-99 %).

    A return at or below -100 % (:math:`r_t \\le -1`) is impossible for a security with limited liability:
    it needs a price of zero or below.  Such a day is always flagged (``robust_z`` NaN, the hint says
    so), whatever the security's history, the market's move or the number of observations.

    The work is proportional to what is found: one pass gives each column's largest and smallest return,
    and since :math:`\\ln(1 + r)` is increasing, :math:`a_t` lies between
    :math:`\\ln(1 + \\min r) - \\ln(1 + \\max m)` and :math:`\\ln(1 + \\max r) - \\ln(1 + \\min m)`; only a
    column whose bounds reach :math:`\\ln 1.8` (or with a return at or below -100 %) is judged day by day.
    """
    raw = returns.to_numpy(dtype="float64", na_value=np.nan)
    names = list(returns.columns)
    chosen = np.arange(len(names)) if columns is None else column_positions(names, columns)
    return _implausible(raw, names, returns.index, market, chosen)


def _implausible(raw: np.ndarray, names: list, index: pd.Index, market: str | None, chosen: np.ndarray) -> pd.DataFrame:
    """:func:`implausible_returns` on the array ``raw`` (T, M) of the columns ``names``, judging the columns
    at positions ``chosen``."""
    columns = ["ticker", "date", "return", "market_return", "robust_z", "hint"]
    from eventstudy.data.base import RATE_TICKERS  # here: eventstudy.data (~40 ms) stays out of load_events' imports

    at_market = names.index(market) if market is not None and market in names else None
    # yields, not prices: their relative changes mean nothing
    judged = [int(k) for k in chosen if str(names[k]).lstrip("^").upper() not in RATE_TICKERS]
    if not len(raw) or not judged:
        return pd.DataFrame([], columns=columns)
    judged = [judged[j] for j in np.flatnonzero(_may_be_implausible(raw, judged, at_market))]
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.log1p(np.where(raw[:, judged] > -1, raw[:, judged], np.nan))
        impossible = raw[:, judged] <= -1  # a price of 0 or below: no history makes it plausible
    all_judged = list(judged)
    if at_market is not None:
        others = np.array([k != at_market for k in judged], dtype=bool)
        with np.errstate(invalid="ignore", divide="ignore"):
            a[:, others] -= np.log1p(np.where(raw[:, at_market] > -1, raw[:, at_market], np.nan))[:, None]
    with np.errstate(invalid="ignore"):
        # a day is flagged only beyond ln 1.8: the medians are needed for the few columns with such a day
        big = np.flatnonzero((np.abs(a) > IMPLAUSIBLE_LOG_RETURN).any(axis=0))
    judged = [judged[j] for j in big]
    a = a[:, big]
    # all columns at once (one nanmedian per statistic), not one pandas Series per ticker
    observed = np.isfinite(a)
    enough = observed.sum(axis=0) >= 20
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns have no median
        centre = np.nanmedian(a, axis=0) if len(a) else np.full(a.shape[1], np.nan)
        scale = 1.4826 * (np.nanmedian(np.abs(a - centre), axis=0) if len(a) else centre)
        z = (a - centre) / scale
        flagged = (np.abs(a) > IMPLAUSIBLE_LOG_RETURN) & (np.abs(z) > IMPLAUSIBLE_ROBUST_Z)
    flagged &= observed & (enough & (scale > 0))[None, :]
    marks: dict[tuple[int, int], float] = {}
    for j, row in np.argwhere(flagged.T):
        marks[(judged[j], int(row))] = float(z[row, j])
    for j, row in np.argwhere(impossible.T):
        marks[(all_judged[j], int(row))] = np.nan
    found = []
    order = {int(k): rank for rank, k in enumerate(chosen)}  # columns in the order asked for, then by date
    for (col, row), robust_z in sorted(marks.items(), key=lambda item: (order[item[0][0]], item[0][1])):
        r = float(raw[row, col])
        if r <= -1:
            found.append(
                {
                    "ticker": names[col],
                    "date": index[row],
                    "return": r,
                    "market_return": float(raw[row, at_market]) if at_market is not None else np.nan,
                    "robust_z": np.nan,
                    "hint": "impossible: a return at or below -100 % needs a price of 0 or below (a bad price)",
                }
            )
            continue
        ratio = 1.0 / (1.0 + r) if r < 0 else 1.0 + r
        hint = (
            f"a price ratio of about {ratio:.3g}: an unadjusted split, a reverse split or a change of quote "
            "unit (pence/pounds, cents/dollars)"
        )
        found.append(
            {
                "ticker": names[col],
                "date": index[row],
                "return": r,
                "market_return": float(raw[row, at_market]) if at_market is not None else np.nan,
                "robust_z": robust_z,
                "hint": hint,
            }
        )
    return pd.DataFrame(found, columns=columns)


#: relative margin on the bounds of :func:`_may_be_implausible`: log1p is faithfully rounded, not exactly
#: monotone, so a bound computed from the extremes may fall an ulp short of a day's value
_BOUND_MARGIN = 1e-9


def _may_be_implausible(raw: np.ndarray, judged: list[int], at_market: int | None) -> np.ndarray:
    """For each column ``judged``, whether one of its days could be flagged: a return at or below -1, or
    market-adjusted log returns whose bounds (from the column's and the market's extremes) reach ln 1.8.
    A column without is provably clear, so only the others are judged day by day."""
    hi = np.fmax.reduce(raw, axis=0)[judged]  # NaN only where a column has no value
    lo = np.fmin.reduce(raw, axis=0)[judged]
    m_hi = m_lo = np.zeros(len(judged))
    if at_market is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.log1p(np.where(raw[:, at_market] > -1, raw[:, at_market], np.nan))
        adjusted = np.array([k != at_market for k in judged], dtype=bool)
        m_hi = np.where(adjusted, np.fmax.reduce(m), 0.0)
        m_lo = np.where(adjusted, np.fmin.reduce(m), 0.0)
    limit = IMPLAUSIBLE_LOG_RETURN * (1.0 - _BOUND_MARGIN)
    with np.errstate(invalid="ignore", divide="ignore"):
        # NaN bounds compare False: a column, or a market, without any value has no day to flag
        reach = (np.log1p(hi) - m_lo > limit) | (np.log1p(lo) - m_hi < -limit)
        return reach | (lo <= -1)


def warn_implausible(
    returns: pd.DataFrame, market: str | None = None, *, columns: Sequence | None = None
) -> pd.DataFrame:
    """Run :func:`implausible_returns` (on ``columns``, default all) and issue one :class:`DataQualityWarning`
    naming each day found."""
    found = implausible_returns(returns, market, columns=columns)
    if len(found):
        lines = [
            f"{row['ticker']} on {row['date']:%Y-%m-%d}: {row['return']:+.1%}"
            + (
                f" while {market} moved {row['market_return']:+.1%}"
                if market is not None and market != row["ticker"]
                else ""
            )
            + (
                f" ({row['hint']})"
                if np.isnan(row["robust_z"])
                else f" ({row['robust_z']:+.0f} robust s.d. of its own history; {row['hint']})"
            )
            for row in found.to_dict("records")
        ]
        warnings.warn(
            f"{len(found)} implausible daily return(s), kept as they are: "
            + "; ".join(lines)
            + ". Use adjusted prices (Adj Close) or fix the quote unit; if the move is real, nothing needs doing "
            "(es.implausible_returns(returns, market) gives them as a table).",
            DataQualityWarning,
            stacklevel=4,
        )
    return found


# --------------------------------------------------------------------------------------------------------
# gaps inside the event window
# --------------------------------------------------------------------------------------------------------


def event_window_gaps(fit, firm_names: Sequence[str], sessions: pd.DatetimeIndex, rows: np.ndarray) -> list[str]:
    """One sentence per firm-event of ``rows`` (positions, from :func:`gap_rows`): a kept firm-event with a day
    of its event window that has no abnormal return.

    Such a firm-event is kept (its other windows are fine) but every CAR over a window that includes the
    day is NaN; the sentence names the ticker, day 0, the missing day and why it is missing.
    """
    out: list[str] = []
    if not len(rows):
        return out
    ar = fit.ar_event[rows]
    days = fit.event_days
    y = gather(fit.data.y, fit.day0[rows], days, fit.firm[rows])
    for i in range(len(rows)):
        row = rows[i]
        ticker = firm_names[fit.firm[row]]
        day0 = fit.day0[row]
        gaps = np.flatnonzero(~np.isfinite(ar[i]))
        described = []
        for g in gaps[:3]:
            position = day0 + days[g]
            when = f"{sessions[position]:%Y-%m-%d}" if 0 <= position < len(sessions) else "outside the data"
            why = "no return" if not np.isfinite(y[i, g]) else "no benchmark or factor value"
            described.append(f"{when} (day {days[g]:+d}, {why})")
        more = f" and {len(gaps) - 3} more day(s)" if len(gaps) > 3 else ""
        out.append(f"{ticker} (day 0 {sessions[day0]:%Y-%m-%d}) on {', '.join(described)}{more}")
    return out


def gap_rows(fit) -> np.ndarray:
    """Positions of the firm-events of ``fit`` whose event window has a day without an abnormal return."""
    return np.flatnonzero(~np.isfinite(fit.ar_event).all(axis=1))


def warn_event_window_gaps(fit, firm_names, sessions, stacklevel: int = 4) -> list[str]:
    """Issue one :class:`DataQualityWarning` naming the first ten of :func:`event_window_gaps`; return those."""
    rows = gap_rows(fit)  # found once: counted, and the first ten described
    count = len(rows)
    found = event_window_gaps(fit, firm_names, sessions, rows[:10])
    if found:
        warnings.warn(
            f"{count} firm-event(s) lack an abnormal return inside the event window and were kept: "
            + "; ".join(found)
            + (f"; and {count - 10} more" if count > 10 else "")
            + ". Their CARs over windows that include those days are NaN; fill the missing prices, or choose "
            "windows that avoid those days.",
            DataQualityWarning,
            stacklevel=stacklevel,
        )
    return found


# --------------------------------------------------------------------------------------------------------
# comparisons across specifications
# --------------------------------------------------------------------------------------------------------

_COMPARED = {  # settings key -> how a label shows it
    "model": lambda v: f"{v} model",
    "estimation_window": lambda v: f"estimation ({v[0]:+d},{v[1]:+d})",
    "unknown_session": lambda v: f"day 0 {v}",
    "calendar": lambda v: f"{v} calendar",
    "return_kind": lambda v: f"{v} returns",
}


def comparison_labels(settings: dict[str, dict], windows: dict[str, tuple[int, int]]) -> dict[str, str]:
    """Study labels that name what differs between the studies compared, so that no table puts a (-5,+5)
    CAR beside a (-1,+1) one under one heading.

    Parameters
    ----------
    settings
        Label -> the study's ``settings`` (model, estimation window, day-0 rule for unknown sessions,
        calendar, return kind).
    windows
        Label -> the CAR window the table shows for that study.

    Returns
    -------
    dict
        Label -> the label, followed by ``[...]`` listing the CAR window, model, estimation window, day-0
        rule, calendar or return kind wherever these differ between the studies; unchanged labels where
        nothing differs.
    """
    parts: dict[str, list[str]] = {label: [] for label in settings}
    if len({tuple(w) for w in windows.values()}) > 1:
        for label, (lo, hi) in windows.items():
            parts[label].append(f"CAR({lo:+d},{hi:+d})")
    for key, show in _COMPARED.items():
        values = {label: s.get(key) for label, s in settings.items()}
        if len({repr(v) for v in values.values()}) > 1:
            for label, value in values.items():
                parts[label].append(show(value) if value is not None else f"{key} unknown")
    return {label: f"{label} [{'; '.join(p)}]" if p else label for label, p in parts.items()}
