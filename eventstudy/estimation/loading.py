"""A study's returns: the caller's, each column checked against its exchange's sessions, or loaded.

:func:`load_returns` gives every column the study reads (securities and benchmarks) as floats, with a
description of where they came from and the tickers without prices; a missing benchmark is an error.
:func:`required_span` says which dates to load; :func:`given_returns` checks a caller's table.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from eventstudy.data import default_source
from eventstudy.estimation.base import DataNeeds
from eventstudy.estimation.firmevents import benchmark_lists, benchmark_names
from eventstudy.estimation.provenance import describe_source
from eventstudy.estimation.quality import warn_implausible
from eventstudy.estimation.spec import FitSpec
from eventstudy.exceptions import DataQualityWarning, DataSourceError
from eventstudy.foundation.misread import case_hint, check_return_values
from eventstudy.foundation.validation import check_instance
from eventstudy.time.calendar import TradingCalendar
from eventstudy.time.layout import CalendarSpec
from eventstudy.time.returns import returns as to_returns

__all__ = ["load_returns", "given_returns", "given_info", "required_span"]


def given_info(what: str, frame: pd.DataFrame) -> dict[str, Any]:
    """The provenance's description of data the caller passed in (``what``: ``"returns"``, ``"volumes"``)."""
    return {"kind": f"{what} given by the caller", "columns": list(map(str, frame.columns))}


def load_returns(
    firm_events: pd.DataFrame,
    spec: FitSpec,
    *,
    returns: pd.DataFrame | None = None,
    source=None,
    lists: Sequence[tuple[str, ...]] | None = None,
) -> tuple[pd.DataFrame, dict, dict[str, str]]:
    """Returns of the securities and benchmarks of ``firm_events``: the caller's ``returns`` checked, or prices
    read from ``source`` (default :func:`eventstudy.default_source`) over :func:`required_span`, widened by
    the model's leads and lags.  Returns ``(returns, source info, failures)``, failures naming the tickers
    without prices and why.  ``spec.return_kind`` already holds ``returns.attrs["return_kind"]``
    (:meth:`FitSpec <eventstudy.estimation.spec.FitSpec>` is built once, frozen).  ``lists``, the distinct
    benchmark lists of the firm-events, saves reading them again (:func:`benchmark_lists`)."""
    lists = benchmark_lists(firm_events) if lists is None else lists
    benchmarks = benchmark_names(lists)
    needed = list(dict.fromkeys([*pd.unique(firm_events["ticker"]), *benchmarks]))
    failures: dict[str, str] = {}
    info: dict[str, Any]
    if returns is not None:
        check_instance("returns", returns, pd.DataFrame, "a DataFrame of daily returns")
        returns = given_returns(returns, spec, needed)
        info = given_info("returns", returns)
    else:
        source = source if source is not None else default_source()
        start, end = required_span(
            firm_events, spec.estimation_window, spec.event_window, spec.calendars, spec.model.needs()
        )
        # a firm the source has no prices for is a recorded drop; a missing benchmark is an error
        prices = source.get_prices(needed, start, end, field=spec.price_field, missing="skip")
        failures = dict(prices.attrs.get("eventstudy_failures", {}))
        lacking = {b: failures[b] for b in benchmarks if b in failures}
        if lacking:
            raise DataSourceError("No prices for the benchmark(s) the model needs.", failures=lacking)
        returns = to_returns(prices, spec.return_kind, calendar=spec.calendars.argument())
        info = {"kind": "prices loaded from a source", **describe_source(source), "field": spec.price_field}
        columns = prices.attrs.get("eventstudy_price_columns")
        if columns:
            info["price_columns"] = dict(columns)
    missing = [m for m in benchmarks if m not in returns.columns]
    if missing:
        raise KeyError(
            f"The benchmark(s) {missing} are not columns of the returns. Available: {list(returns.columns)}. "
            "Pass market= one of them, or add the benchmark's returns." + case_hint(missing, returns.columns)
        )
    values = returns.select_dtypes("number")
    if values.shape[1] != returns.shape[1]:
        bad = [c for c in returns.columns if c not in values.columns]
        raise TypeError(f"The 'returns' parameter has non-numeric columns {bad}; returns must be floats.")
    # one float array, the study's own (not a view of the caller's frame, which they may change later): the
    # checks below and the design read it without a copy each
    values = returns.to_numpy(dtype=float, na_value=np.nan)
    if not values.flags.writeable:  # pandas hands out a view of its own data read-only
        values = values.copy()
    frame = pd.DataFrame(values, index=returns.index, columns=returns.columns, copy=False)
    frame.attrs = copy.deepcopy(returns.attrs)  # as astype(float) gave them: the caller's notes stay theirs
    present = set(returns.columns)
    read = [c for c in needed if c in present]
    # infinite values, percent, prices in the columns the study reads: each named, with the fix
    check_return_values(frame, columns=read)
    for ticker in (t for t in needed if t not in present):  # case-sensitive: say so where the other case exists
        hint = case_hint([ticker], returns.columns).strip()
        if hint:
            failures[ticker] = f"{failures.get(ticker, f'no column {ticker!r} in the returns')}. {hint}"
    found = warn_implausible(frame, benchmarks[0], columns=read)
    if len(found):
        frame.attrs.setdefault("eventstudy_notes", []).extend(
            f"{r['ticker']}: implausible return {r['return']:+.1%} on {r['date']:%Y-%m-%d} kept"
            for r in found.to_dict("records")
        )
    return frame, info, failures


def required_span(
    firm_events: pd.DataFrame,
    estimation_window: tuple[int, int],
    event_window: tuple[int, int],
    calendars,
    needs: DataNeeds | None = None,
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last price date a study needs: on each exchange, the session before the earliest estimation
    day (its return needs the previous close) through the last event-window day, not after today.

    ``firm_events`` has ``day0`` (and ``exchange``; without it every day 0 is on ``calendars``, a
    :class:`TradingCalendar` or :class:`~eventstudy.time.layout.CalendarSpec`).  ``needs``, the model's
    :meth:`~eventstudy.estimation.base.NormalReturnModel.needs`, widens the span by its lags before and its
    leads after (Dimson's market returns around each day), so a study on ``source=`` reads the same returns as
    one given every session on ``returns=``.
    """
    needs = needs if needs is not None else DataNeeds()
    if isinstance(calendars, TradingCalendar):
        calendars = CalendarSpec(calendars)
    if isinstance(firm_events, (pd.Series, pd.DatetimeIndex)):
        firm_events = pd.DataFrame({"day0": pd.DatetimeIndex(firm_events)})
    exchanges = (
        firm_events["exchange"]
        if "exchange" in firm_events.columns
        else pd.Series(calendars.name, index=firm_events.index)
    )
    starts, ends = [], []
    for code in pd.unique(exchanges):
        sessions = calendars.calendar(code if code != "auto" else "XNYS").sessions
        positions = sessions.get_indexer(pd.DatetimeIndex(firm_events.loc[exchanges == code, "day0"]))
        positions = positions[positions >= 0]
        if not len(positions):
            continue
        lo = max(int(positions.min()) + min(estimation_window[0], event_window[0]) - 1 - needs.lags, 0)
        hi = min(int(positions.max()) + event_window[1] + needs.leads, len(sessions) - 1)
        starts.append(sessions[lo])
        ends.append(sessions[hi])
    today = pd.Timestamp.today().normalize()
    return min(starts), min(max(ends), today)


def given_returns(returns: pd.DataFrame, spec: FitSpec, needed: Sequence[str]) -> pd.DataFrame:
    """The caller's returns, each column the study reads checked against its own sessions: a value on a day
    its exchange was closed is left out with a warning (it cannot be a return of that exchange).  Columns the
    study does not read are left as they are (an unknown suffix there is not the study's concern)."""
    if not isinstance(returns.index, pd.DatetimeIndex):
        raise TypeError(
            "The 'returns' parameter must have a DatetimeIndex. Got "
            f"{type(returns.index).__name__}; parse it with pd.to_datetime or read_csv(..., parse_dates=...)."
        )
    index = returns.index.tz_localize(None) if returns.index.tz is not None else returns.index
    index = index.normalize().as_unit("ns")
    if index.has_duplicates:
        raise ValueError(
            f"The 'returns' index has duplicated dates ({', '.join(f'{d:%Y-%m-%d}' for d in index[index.duplicated()][:5])}); "
            "keep one row per date."
        )
    wanted = set(needed)
    # a column the study reads, twice: which is the ticker's returns?  (Columns it does not read may repeat.)
    twice = [c for c in dict.fromkeys(returns.columns[returns.columns.duplicated()]) if c in wanted]
    if twice:
        raise ValueError(
            f"The 'returns' columns name {', '.join(map(str, twice[:5]))} more than once; keep one column per ticker."
        )
    frame = returns.set_axis(index).sort_index()
    notes = list(returns.attrs.get("eventstudy_notes", []))
    off: list[str] = []
    # the dtypes in one Series: frame[c] builds a Series per column (most of this step at 500 columns)
    dtypes = frame.dtypes.tolist()
    numeric = {dtype: pd.api.types.is_numeric_dtype(dtype) for dtype in set(dtypes)}  # each distinct dtype once
    read = [c for c, dtype in zip(frame.columns.tolist(), dtypes) if c in wanted and numeric[dtype]]
    exchanges = {c: spec.calendars.exchange(str(c)) for c in read}
    for code in dict.fromkeys(exchanges.values()):  # one pass per exchange, not per column
        columns = [c for c in read if exchanges[c] == code]
        closed = ~frame.index.isin(spec.calendars.calendar(code).sessions)
        if not closed.any():
            continue
        values = frame[columns].to_numpy(dtype=float, na_value=np.nan)
        stray = np.isfinite(values) & closed[:, None]
        if not stray.any():
            continue
        for k in np.flatnonzero(stray.any(axis=0)):  # only the columns with such values
            days = frame.index[stray[:, k]]
            off.append(f"{columns[k]}: {len(days)} ({', '.join(f'{d:%Y-%m-%d}' for d in days[:3])})")
        frame[columns] = np.where(stray, np.nan, values)  # frame is already a new object (set_axis, sort_index)
    if off:
        note = "returns on days the security's exchange was closed were left out: " + "; ".join(off)
        warnings.warn(note + ". Check the data source.", DataQualityWarning, stacklevel=4)
        notes.append(note)
    frame.attrs = {**returns.attrs, "eventstudy_notes": notes}
    return frame
