"""Event time: the one resolver of day 0, for every exchange.

An event's time is one of

* a **date with a release session** (``pre``, ``intraday``, ``post`` or ``unknown``), read on the US
  Eastern clock (:data:`REFERENCE_TZ`), the convention of the built-in catalog: ``pre`` is before the
  09:30 ET open (overnight, weekend and holiday releases included), ``intraday`` 09:30-16:00 ET, ``post``
  after the 16:00 ET close;
* a **timestamp with a time zone**: ISO 8601 with an offset (``2025-04-11T22:00:00-04:00``), a tz-aware
  :class:`pandas.Timestamp`, or ``date`` + ``time`` + ``timezone`` columns.  A timestamp without a zone is
  refused unless the caller says which zone to read it in (``naive_tz``);
* a **bare date** in a table without a ``session`` column (firm announcements, a user's own list): a
  trading date of the security's own exchange, day 0 the first of its sessions on or after it;
* a **day 0 given by the user**, which is respected (it must be a session of the security's exchange) and
  never recomputed.

Day 0 on an exchange is the first session of that exchange whose close comes after the news
(exchange_calendars' ``minute_to_session(minute, direction="next")``): before the open, that session;
during it, that session (the rule says so: day 0's close-to-close return then also holds the hours before
the news); after the close or on a closed day, the next session.  A date with a session is an interval of
instants (``pre`` = [00:00, 09:30) ET of the date, ``intraday`` = [09:30, 16:00), ``post`` = [16:00, 24:00));
day 0 is the session that first sees the *start* of the interval, the earliest that could react (a later
day 0 would push a possible reaction into the pre-event period).  On the NYSE this is the house rule
(first session on or after the date; strictly after it for ``post``).  On an exchange where the interval
spans two sessions (US ``pre`` news reaches Tokyo either in its afternoon or the next morning), the rule
names both and a :class:`~eventstudy.exceptions.SessionAssumptionWarning` asks for a timestamp.

:func:`parse_event_times` reads the columns once (it lives in :mod:`eventstudy.time.eventtime_parse` and is
importable from here); :func:`resolve_day0` places the events on one exchange's calendar.
:func:`eventstudy.load_events`, :class:`eventstudy.EventStudy`, the report and the command line all go through
these two functions, so no two paths can disagree about day 0.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventstudy.exceptions import SessionAssumptionWarning
from eventstudy.time.eventtime_parse import GIVEN, LOCAL, REFERENCE_TZ, EventTimes, parse_event_times
from eventstudy.time.sessions import Sessions, _NoDayZero

__all__ = [
    "REFERENCE_TZ",
    "EventTimes",
    "Day0",
    "parse_event_times",
    "resolve_day0",
    "session_of",
    "session_label",
    "GIVEN",
    "LOCAL",
]

#: where each session's interval starts and ends on the reference clock, in minutes after midnight
_INTERVALS = {"pre": (0, 9 * 60 + 30), "intraday": (9 * 60 + 30, 16 * 60), "post": (16 * 60, 24 * 60)}
_SHOW = 5


@dataclass(frozen=True, eq=False)
class Day0:
    """Day 0 of N events on one exchange.

    Attributes
    ----------
    day0 : DatetimeIndex
        The day-0 session.
    position : ndarray of int64
        Its index in the calendar's sessions.
    rule : ndarray of object
        How it was placed, in words (``"2025-04-11 22:00 -04:00 is after the XNYS close: next session"``).
    """

    day0: pd.DatetimeIndex
    position: np.ndarray
    rule: np.ndarray


def _interval(times: EventTimes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """UTC start and end (int64 ns) of the release interval of each dated row, and its effective session."""
    effective = np.where(times.session == "unknown", times.unknown_session, times.session).astype(object)
    lo_minutes = np.array([_INTERVALS.get(s, (0, 0))[0] for s in effective], dtype=np.int64)
    hi_minutes = np.array([_INTERVALS.get(s, (0, 0))[1] for s in effective], dtype=np.int64)
    minute = np.int64(60 * 10**9)
    base = pd.DatetimeIndex(times.date)
    lo = _to_utc(base + pd.to_timedelta(lo_minutes * minute, unit="ns"))
    hi = _to_utc(base + pd.to_timedelta(hi_minutes * minute - 1, unit="ns"))
    return lo, hi, effective


def session_of(instants: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """The release session a known instant falls in, on the reference clock (:data:`REFERENCE_TZ`).

    The sessions are the intervals of the module docstring: ``pre`` = [00:00, 09:30) ET, ``intraday`` =
    [09:30, 16:00), ``post`` = [16:00, 24:00), so a date with the session returned places day 0 where the
    instant does.  NaT (no time known) gives ``"unknown"``.

    Parameters
    ----------
    instants
        tz-aware timestamps (any zone) or NaT.

    Examples
    --------
    >>> session_of(pd.DatetimeIndex(["2022-10-07T16:30:00-04:00", "2025-05-13T08:00:00-04:00", None]))
    array(['post', 'pre', 'unknown'], dtype=object)
    """
    local = pd.DatetimeIndex(instants).tz_convert(REFERENCE_TZ)
    minutes = np.asarray(local.hour * 60 + local.minute, dtype=float)
    out = np.full(len(local), "unknown", dtype=object)
    for name, (lo, hi) in _INTERVALS.items():
        out[(minutes >= lo) & (minutes < hi)] = name
    return out


def session_label(events: pd.DataFrame) -> pd.Series:
    """How an event's release session reads in a table: ``"post, 16:30 EDT"`` where its instant is known.

    The session comes with the time on the reference clock (:data:`REFERENCE_TZ`) wherever ``events`` has a
    ``timestamp``; elsewhere the session alone, so ``"unknown"`` is shown only where no time is known.

    Examples
    --------
    >>> events = pd.DataFrame({"session": ["post", "pre"],
    ...                        "timestamp": pd.to_datetime(["2022-10-07T20:30:00Z", None], utc=True)})
    >>> session_label(events).tolist()
    ['post, 16:30 EDT', 'pre']
    """
    sessions = events["session"].astype(str)
    if "timestamp" not in events.columns:
        return sessions.rename("session")
    stamps = pd.DatetimeIndex(events["timestamp"])
    if stamps.tz is None:  # a naive column: no zone, no time to show
        return sessions.rename("session")
    local = stamps.tz_convert(REFERENCE_TZ)
    labels = [s if pd.isna(t) else f"{s}, {t:%H:%M %Z}" for s, t in zip(sessions, local)]
    return pd.Series(labels, index=events.index, name="session", dtype=object)


_DAY_NS = 86_400 * 10**9


def _to_utc(local: pd.DatetimeIndex) -> np.ndarray:
    # the US clock has no gap or repeat at 00:00, 09:30, 16:00 or 23:59 (changes happen at 02:00)
    aware = local.tz_localize(REFERENCE_TZ, ambiguous="NaT", nonexistent="NaT")
    return aware.tz_convert("UTC").tz_localize(None).as_unit("ns").asi8


def _timed_rules(calendar: Sessions, stamps: pd.DatetimeIndex, positions: np.ndarray, during: np.ndarray):
    """``day0_rule`` of timestamped rows: where the instant fell against the exchange's session (vectorized)."""
    sessions = pd.DatetimeIndex(calendar.sessions[positions])
    day = sessions.strftime("%Y-%m-%d").to_numpy(dtype=object)
    before = stamps.tz_localize(None).normalize() == sessions
    name = calendar.name
    phase = np.where(
        during,
        f"during the {name} session of " + day + ": that session (its return also holds the hours before the news)",
        np.where(
            before,
            f"before the {name} open: that session",
            f"after the {name} close or on a closed day: next session " + day,
        ),
    )
    return stamps.strftime("%Y-%m-%d %H:%M %Z").to_numpy(dtype=object) + " is " + phase.astype(object)


def resolve_day0(
    times: EventTimes,
    calendar: Sessions,
    *,
    warn: bool = True,
    warn_unknown: bool | None = None,
    stacklevel: int = 3,
) -> Day0:
    """Day 0 of each event on ``calendar``'s exchange (see the module docstring for the rule).

    Parameters
    ----------
    times
        From :func:`parse_event_times`.
    calendar
        The exchange's :class:`~eventstudy.time.calendar.TradingCalendar`.
    warn
        Issue the :class:`~eventstudy.exceptions.SessionAssumptionWarning` for unknown sessions and for
        sessions that span two of this exchange's sessions (once per call, naming the events).
    warn_unknown
        Whether to warn about unknown sessions (default ``warn``): a study of several exchanges warns once.

    Raises
    ------
    ValueError
        (a ``_NoDayZero`` with the row's ``position``) when an event has no day 0 inside the calendar, or a
        given day 0 is not one of its sessions.
    """
    n = len(times)
    positions = np.zeros(n, dtype=np.int64)
    rules = np.empty(n, dtype=object)
    sessions = calendar.sessions
    given = times.given
    timed = times.timed & ~given
    dated = ~timed & ~given
    if given.any():
        rows = np.flatnonzero(given)
        found = sessions.get_indexer(times.day0[rows])
        if (found < 0).any():
            i = rows[int(np.flatnonzero(found < 0)[0])]
            raise _NoDayZero(
                f"{times.labels[i]}: the day 0 given, {times.day0[i]:%Y-%m-%d}, is not a session of {calendar.name} "
                "(weekend, holiday, closure or outside the calendar). Give a session, or give the date and "
                "session (or a timestamp) instead and let day 0 be computed.",
                position=int(i),
            )
        positions[rows] = found
        rules[rows] = GIVEN
    if timed.any():
        rows = np.flatnonzero(timed)
        instants = times.take(rows).instants(calendar.tz)
        found, during = calendar.locate(instants)
        _check_found(times, calendar, rows, found, instants)
        positions[rows] = found
        stamps = pd.DatetimeIndex(instants.view("M8[ns]")).tz_localize("UTC").tz_convert(calendar.tz)
        rules[rows] = _timed_rules(calendar, stamps, found, during)
        if warn and calendar.name in ("XNYS", "XNAS"):
            _check_sessions(times, calendar, rows, stamps, found, during, stacklevel + 1)
    local = dated & (times.session == LOCAL)
    if local.any():  # a trading date of the security's own exchange: the first session on or after it
        rows = np.flatnonzero(local)
        found = np.searchsorted(calendar._ns, times.date[rows].asi8, side="left")
        _check_found(times, calendar, rows, found, _dates_to_utc_near(times.date[rows], _earliest(calendar)))
        positions[rows] = found
        rules[rows] = f"a date without a session: the first {calendar.name} session on or after it"
    dated &= ~local
    unknown_rows: list[int] = []
    spanning: list[str] = []
    if dated.any():
        rows = np.flatnonzero(dated)
        part = times.take(rows)
        lo, hi, effective = _interval(part)
        found, _ = calendar.locate(lo)
        _check_found(times, calendar, rows, found, lo)
        last, _ = calendar.locate(hi)
        positions[rows] = found
        unknown = part.session == "unknown"
        unknown_rows = rows[unknown].tolist()
        text = np.where(
            unknown,
            np.char.add(np.char.add("session unknown, taken as '", effective.astype(str)), "'"),
            np.char.add(np.char.add("session '", part.session.astype(str)), "'"),
        ).astype(object)
        for k in np.flatnonzero((last != found) & (last < len(sessions))):  # only the rows that span two
            i = rows[k]
            text[k] += (
                f"; on {calendar.name} it spans sessions {sessions[found[k]]:%Y-%m-%d} and "
                f"{sessions[last[k]]:%Y-%m-%d}, the earliest taken (give a timestamp to decide)"
            )
            spanning.append(f"{times.names[i]} ({sessions[found[k]]:%Y-%m-%d} or {sessions[last[k]]:%Y-%m-%d})")
        rules[rows] = text
    if (warn if warn_unknown is None else warn_unknown) and unknown_rows:
        _warn_unknown(times, unknown_rows, calendar, positions, stacklevel + 1)
    if warn and spanning:
        warnings.warn(
            f"The release session of {len(set(spanning))} event(s), read on the US Eastern clock, spans two "
            f"{calendar.name} sessions: {_listing(list(dict.fromkeys(spanning)))}. Day 0 was set to the earlier, the first that could react; give "
            "each a timestamp with its zone to place it exactly, or use a (0, +1) event window.",
            SessionAssumptionWarning,
            stacklevel=stacklevel,
        )
    return Day0(day0=pd.DatetimeIndex(sessions[positions], name=None), position=positions, rule=rules)


def _check_sessions(times: EventTimes, calendar: Sessions, rows, stamps, found, during, stacklevel: int) -> None:
    """Warn where a session given beside a timestamp says otherwise on the US clock (the timestamp decides)."""
    clashes = []
    for k, i in enumerate(rows):
        given = times.session[i]
        if given in ("unknown", LOCAL):
            continue
        day = stamps[k].tz_localize(None).normalize()
        if during[k]:
            allowed = {"intraday"}
        elif day == calendar.sessions[found[k]]:
            allowed = {"pre"}
        elif calendar.is_session(day):
            allowed = {"post"}
        else:  # a weekend or holiday release: before the next session's open
            allowed = {"pre", "post"}
        if given not in allowed:
            clashes.append(
                f"{times.names[i]} (session {given!r}, but {stamps[k]:%Y-%m-%d %H:%M %Z} is {'/'.join(sorted(allowed))})"
            )
    if clashes:
        warnings.warn(
            f"The session given disagrees with the timestamp for {len(clashes)} event(s): {_listing(clashes)}. "
            "The timestamp decides day 0; correct the session or the timestamp.",
            SessionAssumptionWarning,
            stacklevel=stacklevel,
        )


def _earliest(calendar: Sessions) -> int:
    """The earliest instant (UTC ns) that still has a day 0 on ``calendar``: a week before its first open."""
    return int(calendar._opens[0]) - _DAY_NS * 7


def _dates_to_utc_near(dates: pd.DatetimeIndex, limit: int) -> np.ndarray:
    """Dates (midnight on the US clock) as UTC instants where they lie within two days of ``limit``, and as
    they are elsewhere: a zone's offset is under a day, so farther dates fall on the same side of ``limit``
    either way, and only the few near it pay the zone conversion."""
    out = dates.as_unit("ns").asi8.copy()
    near = np.flatnonzero((out >= limit - 2 * _DAY_NS) & (out <= limit + 2 * _DAY_NS))
    if len(near):
        out[near] = _to_utc(dates[near])
    return out


def _check_found(times: EventTimes, calendar: Sessions, rows, found, instants) -> None:
    outside = (found >= len(calendar.sessions)) | (instants < _earliest(calendar))
    if outside.any():
        k = int(np.flatnonzero(outside)[0])
        i = int(rows[k])
        raise _NoDayZero(
            f"{times.labels[i]}, column 'date': {times.date[i]:%Y-%m-%d} (session {times.session[i]}) has no day 0 "
            f"inside the {calendar.name} trading calendar ({calendar.start:%Y-%m-%d} to {calendar.end:%Y-%m-%d}); "
            f"pass calendar=TradingCalendar({calendar.name!r}, start=..., end=...) or drop the event.",
            position=i,
        )


def _listing(items: Sequence[str]) -> str:
    items = list(items)
    return ", ".join(items[:_SHOW]) + (f" and {len(items) - _SHOW} more" if len(items) > _SHOW else "")


def _warn_unknown(times: EventTimes, rows: list[int], calendar: Sessions, positions, stacklevel: int) -> None:
    named = list(
        dict.fromkeys(
            f"{times.names[i]} ({times.date[i]:%Y-%m-%d})" if times.names[i] else f"{times.date[i]:%Y-%m-%d}"
            for i in rows
        )
    )
    rules = set(times.unknown_session[rows])
    if rules == {"post"}:
        rule = "the first session after the US close of the date (unknown_session='post')"
        alternative = "set unknown_session='pre' to take the first session on or after the date"
    elif rules == {"pre"}:
        rule = "the first session on or after the date (unknown_session='pre', the earliest that could react)"
        alternative = "set unknown_session='post' to take the next session instead"
    else:
        rule = "each event's own unknown_session rule"
        alternative = "load the events with one unknown_session"
    warnings.warn(
        f"Release session unknown for {len(named)} event(s): {_listing(named)}. Day 0 was set to {rule}. "
        f"To change it, give the session explicitly ('pre', 'intraday' or 'post') or a timestamp, {alternative}, "
        "or use a (0, +1) event window that covers both candidates.",
        SessionAssumptionWarning,
        stacklevel=stacklevel,
    )
