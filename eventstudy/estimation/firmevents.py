"""Events -> firm-events, each placed on its own exchange's day 0.

A study's ``events`` are either firm-events (a ``ticker`` column: one row per security and event) or an
event catalog crossed with ``tickers``.  Every firm-event gets the exchange of its security
(:class:`~eventstudy.time.layout.CalendarSpec`) and its day 0 there, from the one resolver of event time
(:mod:`eventstudy.time.eventtime`), the same that :func:`eventstudy.load_events` uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
import pandas as pd

from eventstudy.foundation.validation import check_instance
from eventstudy.time.eventtime import LOCAL, EventTimes, parse_event_times, resolve_day0, session_of
from eventstudy.time.layout import CalendarSpec

__all__ = [
    "firm_events",
    "place",
    "resolve_rows",
    "event_clusters",
    "benchmark_lists",
    "first_rows",
    "object_array",
    "TIME_COLUMNS",
]

#: columns that carry an event's time
TIME_COLUMNS = ("date", "session", "timestamp", "time", "timezone", "day0", "day0_rule", "unknown_session")


def firm_events(events: pd.DataFrame, tickers: Sequence[str] | str | None) -> pd.DataFrame:
    """One row per firm-event: ``event_id``, ``ticker``, the event's time columns and its other columns.

    ``_row`` keeps the position of the row in ``events``, so messages can name it.

    Raises
    ------
    ValueError
        Empty events or tickers; tickers given twice; one ``event_id`` with different dates or times
        (naming the id and the rows); the same firm-event twice.
    KeyError
        No ``ticker`` column and no ``tickers``; no ``date`` (nor ``timestamp`` or ``day0``) column.
    """
    check_instance("events", events, pd.DataFrame, "a DataFrame of events (see eventstudy.load_events)")
    if events.empty:
        raise ValueError("The 'events' parameter is empty: give at least one event.")
    frame = events.reset_index(drop=True)
    frame["_row"] = np.arange(len(frame))
    if not any(c in frame.columns for c in ("date", "timestamp", "day0")):
        raise KeyError(f"The 'events' parameter needs a 'date' column. Found columns: {list(events.columns)}.")
    if "event_id" not in frame.columns:
        frame["event_id"] = frame["id"] if "id" in frame.columns else None
    ids = frame["event_id"].isna()
    if ids.any():  # events without an id are named by their date
        # one of the three columns is there (checked above)
        label = cast(pd.Series, frame["date"] if "date" in frame.columns else frame.get("timestamp", frame.get("day0")))
        named = _day_labels(pd.to_datetime(label[ids] if not ids.all() else label))
        if ids.all():
            frame["event_id"] = named
        else:
            frame["event_id"] = frame["event_id"].astype(object)
            frame.loc[ids, "event_id"] = named
    frame["event_id"] = frame["event_id"].astype(str)
    _check_one_time_per_id(frame)
    if "ticker" in frame.columns:
        if tickers is not None:
            raise ValueError(
                "Give tickers either as a 'ticker' column of events or as the 'tickers' parameter, not both."
            )
    else:
        if tickers is None:
            raise KeyError(
                "The 'events' parameter has no 'ticker' column. Pass tickers=[...] to study every ticker on "
                "every event, or add a 'ticker' column (one row per firm-event)."
            )
        tickers = [tickers] if isinstance(tickers, str) else list(dict.fromkeys(tickers))
        if not tickers:
            raise ValueError("The 'tickers' parameter is empty: name at least one ticker.")
        frame = frame.merge(pd.DataFrame({"ticker": tickers}), how="cross")
    frame["ticker"] = frame["ticker"].astype(str)
    # on integer codes of the pair: duplicated() on two text columns hashed every string again
    id_code = pd.factorize(frame["event_id"])[0].astype(np.int64)
    tickers_code, tickers_found = pd.factorize(frame["ticker"])
    duplicated = pd.Series(id_code * (len(tickers_found) + 1) + tickers_code).duplicated().to_numpy()
    if duplicated.any():
        dup = frame.loc[duplicated, ["event_id", "ticker"]].head(3).to_dict("records")
        raise ValueError(f"The 'events' parameter lists the same firm-event twice, e.g. {dup}. Give each once.")
    first = ["event_id", "ticker"]
    rest = [c for c in frame.columns if c not in first and c != "id"]
    return frame[first + rest].reset_index(drop=True)


def _day_labels(stamps: pd.Series) -> np.ndarray:
    """Each timestamp as ``YYYY-MM-DD`` (NaN for NaT), formatting each distinct one once (events share dates)."""
    codes, uniques = pd.factorize(stamps)
    days = pd.DatetimeIndex(uniques)
    wall = days.tz_localize(None) if days.tz is not None else days  # the date where it happened
    if len(wall) and 1000 <= wall.year.min() and wall.year.max() <= 9999:
        # numpy's ISO text of the day is strftime's %Y-%m-%d for four-digit years, without a call per date
        text = np.datetime_as_string(wall.to_numpy().astype("M8[D]")).astype(object)
    else:
        text = np.asarray(days.strftime("%Y-%m-%d"), dtype=object)
    return np.append(text, np.nan)[codes]  # NaT's code -1 takes the NaN appended last


def _check_one_time_per_id(frame: pd.DataFrame) -> None:
    """Rows of one event share its time; different dates under one id would silently get the first's."""
    keys = [c for c in ("date", "timestamp", "time", "timezone", "session") if c in frame.columns]
    if not keys:
        return
    ids, names = pd.factorize(frame["event_id"])
    if len(names) == len(frame):  # no id on two rows
        return
    # values compared as text, column by column, on integer codes: a row clashes when a value differs from
    # that of its id's last row (so an id clashes exactly when its rows hold two different times)
    clash = np.zeros(len(frame), dtype=bool)
    for k in keys:
        codes = pd.factorize(_comparable(frame[k]))[0]
        last = np.empty(len(names), dtype=codes.dtype)
        last[ids] = codes  # the last assignment of an id wins
        clash |= codes != last[ids]
    clashing = sorted(set(names[np.unique(ids[clash])]))
    if len(clashing):
        event_id = clashing[0]
        rows = frame.index[frame["event_id"] == event_id]
        shown = "; ".join(
            f"row {r + 1}: "
            + ", ".join(f"{k}={frame.at[r, k]!s}" for k in keys if str(frame.at[r, k]) not in ("", "nan"))
            for r in rows[:5]
        )
        raise ValueError(
            f"Event id {event_id!r} has different dates or times on different rows ({shown}). One event has one "
            "time: give each dated announcement its own event_id (e.g. 'E1-NVDA', 'E1-AMD'), or a 'day0' column "
            "if a security's day 0 differs on purpose."
        )


def _comparable(column: pd.Series) -> pd.Series:
    """Values equal exactly when their text is: datetimes as they are (formatting them is the slow part;
    every NaT is one value, as every 'NaT' is one text), anything else as text."""
    return column if pd.api.types.is_datetime64_any_dtype(column.dtype) else column.astype(str)


def _where(frame: pd.DataFrame):
    """``where(i)``: how messages name row ``i`` of ``frame``, read from the frame only when a message is made."""
    rows = frame["_row"] if "_row" in frame.columns else None
    ids = frame["event_id"]
    tickers = frame["ticker"] if "ticker" in frame.columns else None

    def item(column: pd.Series, i: int):
        return column.iloc[i : i + 1].to_numpy(dtype=object)[0]  # as a Python value, as to_numpy gives it

    def where(i: int) -> str:
        ticker = f", ticker {item(tickers, i)!r}" if tickers is not None else ""
        row = int(item(rows, i)) if rows is not None else i
        return f"events row {row + 1} (event_id {item(ids, i)!r}{ticker})"

    return where


def parse(frame: pd.DataFrame, calendars: CalendarSpec, *, unknown_session=None, naive_tz=None) -> EventTimes:
    """The event times of ``frame``'s rows (firm-events or catalog rows), parsed once."""
    columns = [c for c in TIME_COLUMNS if c in frame.columns]
    return parse_event_times(
        frame[columns],
        where=_where(frame),
        names=frame["event_id"].astype(str).to_numpy(dtype=object) if "event_id" in frame.columns else None,
        naive_tz=naive_tz,
        unknown_session=unknown_session,
        fallback_unknown=calendars.unknown_session,
        default_session=LOCAL if "session" not in frame.columns else "unknown",
    )


def resolve_rows(
    times: EventTimes,
    exchanges: np.ndarray,
    calendars: CalendarSpec,
    *,
    warn: bool = True,
    warn_unknown: bool = True,
    stacklevel: int = 4,
) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Day 0 and its rule for each row, each on the calendar of its exchange (one resolver call per
    exchange, vectorized within it)."""
    n = len(times)
    day0 = np.full(n, np.datetime64("NaT"), dtype="M8[ns]")
    rules = np.empty(n, dtype=object)
    for k, code in enumerate(pd.unique(exchanges)):
        rows = np.flatnonzero(exchanges == code)
        resolved = resolve_day0(
            times.take(rows) if len(rows) < n else times,  # one exchange: every row, no copy
            calendars.calendar(code),
            warn=warn,
            warn_unknown=warn and warn_unknown and k == 0,
            stacklevel=stacklevel,
        )
        day0[rows] = resolved.day0.to_numpy()
        rules[rows] = resolved.rule
    return pd.DatetimeIndex(day0), rules


def place(frame: pd.DataFrame, calendars: CalendarSpec, *, unknown_session=None, naive_tz=None) -> pd.DataFrame:
    """Add ``exchange``, ``day0``, ``day0_rule`` and ``timestamp`` (UTC; NaT for dated events) to firm-events.

    A bare date without a ``session`` column is a trading date of the security's own exchange (session
    ``local``): day 0 is the first of its sessions on or after it (firm announcements, user files).
    """
    frame = frame.copy(deep=False)  # columns are added, none changed in place
    codes, tickers = pd.factorize(frame["ticker"])  # each security's exchange found once
    codes_of = pd.array(np.array([calendars.exchange(t) for t in tickers], dtype=object), dtype="str")
    frame["exchange"] = codes_of.take(codes)  # a text column without converting one string per row
    exchanges = np.asarray(codes_of, dtype=object)[codes]
    times = parse(frame, calendars, unknown_session=unknown_session, naive_tz=naive_tz)
    # events from load_events carry their unknown-session rule and the loader has said so; say it again only
    # where this study applies another rule
    carried = frame["unknown_session"].astype(str).to_numpy() if "unknown_session" in frame.columns else None
    unknown = times.session == "unknown"
    changed = carried is None or bool((unknown & (carried != times.unknown_session)).any())
    day0, rules = resolve_rows(times, exchanges, calendars, warn_unknown=changed, stacklevel=6)
    frame["date"] = times.date
    frame["session"] = text_array(times.session)
    frame["day0"] = day0
    frame["day0_rule"] = text_array(rules)
    utc = np.full(len(frame), np.iinfo(np.int64).min, dtype=np.int64)
    for code in pd.unique(exchanges) if times.timed.any() else ():  # dated events have no instant
        rows = np.flatnonzero(exchanges == code)
        utc[rows] = times.take(rows).instants(calendars.calendar(code).tz)
    frame["timestamp"] = pd.DatetimeIndex(utc.view("M8[ns]")).tz_localize("UTC")
    # a known instant decides the session: "unknown" only where no time is known (as load_events does)
    derive = unknown & frame["timestamp"].notna().to_numpy()
    if derive.any():
        frame.loc[derive, "session"] = session_of(frame["timestamp"][derive])
    first = ["event_id", "ticker", "date", "session", "day0", "exchange", "day0_rule", "timestamp"]
    drop = {"_row", "time", "timezone", "unknown_session"}
    rest = [c for c in frame.columns if c not in first and c not in drop]
    return frame[first + rest]


def text_array(values: np.ndarray):
    """An object array of text as the pandas text array a column would infer from it (without the inference's
    second pass over every value); not text: left as it is."""
    if pd.api.types.infer_dtype(values, skipna=True) != "string":
        return values
    return pd.array(values, dtype="str")


def first_rows(column: pd.Series) -> np.ndarray:
    """Position of the first row of each distinct value of ``column``, in order of appearance (the rows
    ``drop_duplicates`` keeps), from integer codes."""
    codes = pd.factorize(column, use_na_sentinel=False)[0]  # codes in order of appearance, a missing value too
    return np.unique(codes, return_index=True)[1]


def benchmark_lists(firm_events: pd.DataFrame) -> list[tuple[str, ...]]:
    """The distinct benchmark lists of ``firm_events`` (column ``benchmarks``), in order of appearance."""
    return list(dict.fromkeys(firm_events["benchmarks"]))


def benchmark_names(lists: Sequence[tuple[str, ...]]) -> list[str]:
    """Every benchmark of the benchmark ``lists`` once, in order of appearance."""
    return list(dict.fromkeys(b for names in lists for b in names))


def object_array(values: Sequence) -> np.ndarray:
    """A 1-d object array holding ``values`` as elements (tuples stay elements, not rows of a 2-d array)."""
    out = np.empty(len(values), dtype=object)
    for k, value in enumerate(values):
        out[k] = value
    return out


def event_clusters(event_ids: np.ndarray | pd.Series, day0: np.ndarray) -> np.ndarray:
    """Independent groups of firm-events for tests across events (codes 0..G-1).

    Firm-events of one announcement are one group however many exchanges saw it (their day 0s differ), and
    announcements that share a day 0 on some exchange are one group too (their abnormal returns are the same
    days' returns): the connected components of the graph linking firm-events through ``event_id`` or
    ``day0`` (a row of the stacked session axis).
    """
    # here: scipy.sparse (~0.1 s) waits for a fit; building firm-events and contamination checks need none
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(event_ids)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # a text column factorizes as it is (converting it to Python strings first cost more than the grouping)
    events = pd.factorize(event_ids if isinstance(event_ids, pd.Series) else pd.Series(event_ids, dtype=object))[0]
    days = pd.factorize(pd.Series(np.asarray(day0)))[0] + events.max() + 1
    graph = coo_matrix((np.ones(n), (events, days)), shape=(days.max() + 1, days.max() + 1))
    _, labels = connected_components(graph, directed=False)
    return pd.factorize(labels[events])[0].astype(np.int64)
