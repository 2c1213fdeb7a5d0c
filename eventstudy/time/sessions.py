"""An exchange's sessions, opens and closes, and counting in trading days.

:class:`Sessions` is the exchange's calendar without the day-0 rule: which dates are sessions, where an instant
falls among them, offsets in sessions, and aligning data to them. :mod:`eventstudy.time.eventtime` places day 0
on it, and :class:`~eventstudy.time.calendar.TradingCalendar` adds that rule to it, so the resolver of day 0 and
the calendar import each other in one direction only.

Sessions come from `exchange_calendars <https://github.com/gerrymanoim/exchange_calendars>`_, which includes
ad hoc closures such as the 2025-01-09 national day of mourning for President Carter.
"""

from __future__ import annotations

import copy
import datetime as _dt
import warnings
from collections.abc import Iterable
from typing import Any, Literal, cast, overload

import numpy as np
import pandas as pd

from eventstudy.exceptions import DataQualityWarning
from eventstudy.foundation.keys import NOTES_KEY
from eventstudy.foundation.validation import check_choice
from eventstudy.foundation.xcals import DEFAULT_START, earliest_start, get_calendar

__all__ = ["Sessions", "SESSIONS", "NOTES_KEY"]

#: Accepted values of an event's release session.
SESSIONS: tuple[str, ...] = ("pre", "intraday", "post", "unknown")

_EXCHANGE_TZ = "America/New_York"
_SHOW = 5  # how many offending dates a message lists before "and N more"

DateLike = str | pd.Timestamp | _dt.date | np.datetime64


def _naive(ts: pd.Timestamp) -> pd.Timestamp:
    if ts.tzinfo is not None:
        ts = ts.tz_convert(_EXCHANGE_TZ).tz_localize(None)
    return ts.normalize()


def _to_timestamp(value: Any, name: str) -> pd.Timestamp:
    """One date as a tz-naive midnight Timestamp (aware values are read in New York time first)."""
    try:
        ts = pd.Timestamp(value)
    except TypeError:
        raise TypeError(
            f"The {name!r} parameter must be a date (str, Timestamp or datetime.date). "
            f"Got {type(value).__name__} instead."
        ) from None
    except ValueError:
        raise ValueError(
            f"The {name!r} parameter must be a date such as '2025-04-15'. Got {value!r} instead."
        ) from None
    if ts is pd.NaT:
        raise ValueError(f"The {name!r} parameter must be a date such as '2025-04-15'. Got {value!r} instead.")
    return _naive(ts)


def _to_index(values: Any, name: str) -> pd.DatetimeIndex:
    """Many dates as a tz-naive, midnight, nanosecond DatetimeIndex."""
    if isinstance(values, (str, _dt.date, np.datetime64)) or np.isscalar(values):
        values = [values]
    if isinstance(values, pd.DatetimeIndex):
        idx = values
    else:
        try:
            idx = pd.DatetimeIndex(pd.to_datetime(values))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"The {name!r} parameter must hold dates such as '2025-04-15' ({exc}).") from None
    if idx.tz is not None:
        idx = idx.tz_convert(_EXCHANGE_TZ).tz_localize(None)
    if idx.hasnans:
        first = int(np.flatnonzero(idx.isna())[0])
        raise ValueError(f"The {name!r} parameter has a missing date at position {first}.")
    return idx.normalize().as_unit("ns")


class _NoDayZero(ValueError):
    """An event has no day 0 inside the calendar; ``position`` is its index among the dates given."""

    def __init__(self, message: str, *, position: int) -> None:
        super().__init__(message)
        self.position = position


def _utc_ns(times: pd.Series) -> np.ndarray:
    """exchange_calendars' opens or closes (UTC) as int64 nanoseconds."""
    index = pd.DatetimeIndex(times)
    index = index.tz_convert("UTC") if index.tz is not None else index
    return index.tz_localize(None).as_unit("ns").asi8.copy()


def _fmt(day: pd.Timestamp) -> str:
    return day.strftime("%Y-%m-%d")


def _listing(days: Iterable[pd.Timestamp]) -> str:
    """The first few dates, then how many more."""
    days = list(days)
    text = ", ".join(_fmt(d) for d in days[:_SHOW])
    return text + (f" and {len(days) - _SHOW} more" if len(days) > _SHOW else "")


class Sessions:
    """An exchange's sessions and counting in trading days; the base of
    :class:`~eventstudy.time.calendar.TradingCalendar`, which documents the parameters and adds day 0."""

    def __init__(
        self,
        name: str = "XNYS",
        *,
        unknown_session: Literal["pre", "post"] = "pre",
        start: DateLike | None = None,
        end: DateLike | None = None,
    ) -> None:
        if not isinstance(name, str):
            raise TypeError(f"The 'name' parameter must be a string such as 'XNYS'. Got {type(name).__name__}.")
        self.unknown_session: str = check_choice("unknown_session", unknown_session, ("pre", "post"))
        start_ts = _to_timestamp(DEFAULT_START if start is None else start, "start")
        end_key = None if end is None else _fmt(_to_timestamp(end, "end"))
        if end_key is not None and pd.Timestamp(end_key) <= start_ts:
            raise ValueError(f"The 'end' parameter ({end_key}) must be after 'start' ({_fmt(start_ts)}).")
        self._xcal = get_calendar(name, _fmt(start_ts), end_key)
        self.name: str = name
        self.start: pd.Timestamp = start_ts
        sessions = pd.DatetimeIndex(self._xcal.sessions).as_unit("ns")
        if sessions.tz is not None:  # exchange_calendars < 4 used UTC sessions
            sessions = sessions.tz_localize(None)
        self._sessions = pd.DatetimeIndex(sessions, name="Date", freq=None)  # type: ignore[arg-type]  # stubs omit None
        self._ns = self._sessions.asi8
        self.end: pd.Timestamp = self._sessions[-1]
        earliest = earliest_start(name)
        if earliest is not None and earliest > self.start:
            self.start = earliest
        #: the exchange's time zone (``Asia/Tokyo`` for XTKS)
        self.tz: str = str(self._xcal.tz)
        self._opens = _utc_ns(self._xcal.opens)
        self._closes = _utc_ns(self._xcal.closes)

    # -- basic facts ---------------------------------------------------------------------------------
    @property
    def sessions(self) -> pd.DatetimeIndex:
        """All sessions between the bounds: tz-naive, midnight, named ``Date``."""
        return self._sessions

    @property
    def first_session(self) -> pd.Timestamp:
        """The first session of the calendar."""
        return self._sessions[0]

    @property
    def last_session(self) -> pd.Timestamp:
        """The last session of the calendar."""
        return self._sessions[-1]

    def __repr__(self) -> str:
        return (
            f"TradingCalendar({self.name!r}, unknown_session={self.unknown_session!r}, "
            f"sessions {_fmt(self.first_session)}..{_fmt(self.last_session)})"
        )

    def _bounds_text(self) -> str:
        return f"{_fmt(self.start)} to {_fmt(self.end)}"

    def _out_of_bounds_message(self, day: pd.Timestamp, what: str = "Date") -> str:
        return (
            f"{what} {_fmt(day)} is outside the {self.name} trading calendar ({self._bounds_text()}). "
            f"Widen it with TradingCalendar({self.name!r}, start=..., end=...)."
        )

    def _check_inside(self, idx: pd.DatetimeIndex) -> None:
        outside = (idx < self.start) | (idx > self.end)
        if outside.any():
            raise ValueError(self._out_of_bounds_message(idx[outside][0]))

    def is_session(self, date: DateLike) -> bool:
        """Whether ``date`` (its calendar day; the time is ignored) is a trading session."""
        day = _to_timestamp(date, "date")
        self._check_inside(pd.DatetimeIndex([day]))
        pos = int(np.searchsorted(self._ns, day.as_unit("ns").value))
        return pos < len(self._ns) and self._ns[pos] == day.as_unit("ns").value

    def locate(self, instants: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which session first sees each instant, as exchange_calendars' ``minute_to_session(direction="next")``.

        Parameters
        ----------
        instants
            UTC instants as int64 nanoseconds.

        Returns
        -------
        positions : ndarray of int64
            Index in :attr:`sessions` of the first session whose close is after the instant (``len(sessions)``
            past the calendar's end).  An instant at the close belongs to the next session: the close price
            cannot reflect it.
        during : ndarray of bool
            Whether the instant lies between that session's open and close (a lunch break included).
        """
        instants = np.asarray(instants, dtype=np.int64)
        positions = np.searchsorted(self._closes, instants, side="right")
        inside = positions < len(self._closes)
        during = np.zeros(len(instants), dtype=bool)
        during[inside] = self._opens[positions[inside]] <= instants[inside]
        return positions.astype(np.int64), during

    # -- day 0 ---------------------------------------------------------------------------------------
    # -- counting sessions ---------------------------------------------------------------------------
    def positions(self, dates: Any) -> np.ndarray:
        """Index of each date in :attr:`sessions` (int64).

        Raises
        ------
        ValueError
            Naming the first date that is not a session; map event dates with :meth:`day_zero` first.
        """
        idx = _to_index(dates, "dates")
        self._check_inside(idx)
        pos = np.searchsorted(self._ns, idx.asi8, side="left")
        clipped = np.minimum(pos, len(self._ns) - 1)
        missing = (pos >= len(self._ns)) | (self._ns[clipped] != idx.asi8)
        if missing.any():
            day = idx[missing][0]
            raise ValueError(
                f"{_fmt(day)} is not a session of the {self.name} calendar (weekend, holiday or closure). "
                "Map event dates to sessions with TradingCalendar.day_zero() first."
            )
        return pos.astype(np.int64)

    def offset(self, date: DateLike, n: int) -> pd.Timestamp:
        """The session ``n`` sessions after ``date`` (before it when ``n < 0``); ``date`` must be a session."""
        if isinstance(n, bool) or not hasattr(n, "__index__"):
            raise TypeError(f"The 'n' parameter must be a whole number of sessions. Got {n!r} instead.")
        start = int(self.positions([date])[0])
        target = start + int(n)
        if not 0 <= target < len(self._ns):
            raise ValueError(
                f"{int(n):+d} sessions from {_fmt(self._sessions[start])} falls outside the {self.name} calendar "
                f"({self._bounds_text()}). Widen it with TradingCalendar({self.name!r}, start=..., end=...)."
            )
        return self._sessions[target]

    def sessions_in_range(self, start: DateLike, end: DateLike) -> pd.DatetimeIndex:
        """Sessions from ``start`` to ``end``, both inclusive."""
        lo, hi = _to_timestamp(start, "start"), _to_timestamp(end, "end")
        if lo > hi:
            raise ValueError(f"The 'start' parameter ({_fmt(lo)}) is after 'end' ({_fmt(hi)}); swap them.")
        self._check_inside(pd.DatetimeIndex([lo, hi]))
        i = np.searchsorted(self._ns, lo.as_unit("ns").value, side="left")
        j = np.searchsorted(self._ns, hi.as_unit("ns").value, side="right")
        return self._sessions[i:j]

    # -- aligning data -------------------------------------------------------------------------------
    @overload
    def align(self, frame: pd.DataFrame) -> pd.DataFrame: ...
    @overload
    def align(self, frame: pd.Series) -> pd.Series: ...
    def align(self, frame: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
        """Reindex date-indexed data to every session between its first and last date.

        A session missing from the data gets a row of NaN (nothing is shifted, so a gap is never bridged
        silently); rows on non-session dates (weekends, holidays) are dropped with one
        :class:`~eventstudy.exceptions.DataQualityWarning`. Both are recorded in
        ``result.attrs["eventstudy_notes"]`` (existing notes are kept).

        Parameters
        ----------
        frame
            Prices or returns with a DatetimeIndex (one column per ticker), or a Series.

        Returns
        -------
        DataFrame or Series
            Same columns, indexed by sessions (index named after the input's index, ``Date`` by default).
        """
        if not isinstance(frame, (pd.DataFrame, pd.Series)):
            raise TypeError(f"The 'frame' parameter must be a DataFrame or Series. Got {type(frame).__name__}.")
        if not isinstance(frame.index, pd.DatetimeIndex):
            raise TypeError(
                "The 'frame' parameter must have a DatetimeIndex. Got "
                f"{type(frame.index).__name__}; parse it with pd.to_datetime or read_csv(..., parse_dates=...)."
            )
        notes = list(frame.attrs.get(NOTES_KEY, []))
        index_name = frame.index.name or "Date"
        idx = _to_index(frame.index, "frame.index")
        if idx.has_duplicates:
            raise ValueError(
                f"The 'frame' index has duplicated dates ({_listing(idx[idx.duplicated()].unique())}); "
                "drop them first, e.g. frame[~frame.index.duplicated(keep='last')]."
            )
        data = frame.set_axis(idx)
        if len(data) == 0:
            out = data.copy()
            out.index.name = index_name
            return out
        self._check_inside(pd.DatetimeIndex([idx.min(), idx.max()]))
        off = ~idx.isin(self._sessions)
        if off.any():
            dropped = idx[off].sort_values()
            note = (
                f"align: dropped {len(dropped)} row(s) on non-session dates of {self.name} "
                f"(weekends/holidays): {_listing(dropped)}"
            )
            warnings.warn(note + ". Check the data source.", DataQualityWarning, stacklevel=2)
            notes.append(note)
            data = data[~off]
        if len(data):
            target = self.sessions_in_range(data.index.min(), data.index.max())
            absent = target.difference(cast(pd.DatetimeIndex, data.index))
            if len(absent):
                notes.append(f"align: {len(absent)} session(s) absent from the data, set to NaN: {_listing(absent)}")
            data = data.reindex(target)
        data.index.name = index_name
        data.attrs = copy.deepcopy({k: v for k, v in frame.attrs.items() if k != NOTES_KEY})
        if notes or NOTES_KEY in frame.attrs:
            data.attrs[NOTES_KEY] = notes
        return data
