"""Trading calendar: exchange sessions, the day-0 rule and relative trading days.

Event time in eventstudy always counts exchange sessions, never calendar days.  Day 0 is the first session
whose close could reflect the news (the house convention):

=============  =======================================================================
session        day 0
=============  =======================================================================
``pre``        first session on or after the event date (news before the 09:30 ET open)
``intraday``   first session on or after the event date (news during the session)
``post``       first session strictly after the event date (news after the 16:00 ET close)
``unknown``    resolved by ``unknown_session`` (default ``"pre"``) with a
               :class:`~eventstudy.exceptions.SessionAssumptionWarning`
=============  =======================================================================

Sessions come from `exchange_calendars <https://github.com/gerrymanoim/exchange_calendars>`_, which includes
ad hoc closures such as the 2025-01-09 national day of mourning for President Carter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from eventstudy.foundation.keys import NOTES_KEY
from eventstudy.foundation.validation import check_choice
from eventstudy.time.eventtime import parse_event_times, resolve_day0
from eventstudy.time.sessions import SESSIONS, DateLike, Sessions, _NoDayZero, _to_index

__all__ = ["TradingCalendar", "SESSIONS", "NOTES_KEY", "as_calendar"]


class TradingCalendar(Sessions):
    """Exchange sessions with the day-0 rule and counting in trading days.

    Parameters
    ----------
    name
        exchange_calendars code; ``"XNYS"`` (NYSE, the default) also serves Nasdaq listings, which keep the
        same sessions.
    unknown_session
        How to place day 0 for events whose release session is ``"unknown"``. ``"pre"`` (default) takes the
        first session on or after the date: the earliest session that could react, the conservative choice,
        because a later day 0 would push a possible reaction into the pre-event period. ``"post"`` takes the
        first session strictly after the date.
    start, end
        Bounds of the calendar. ``start`` defaults to 1990-01-01, ``end`` to exchange_calendars' default (about
        a year after today). Pass earlier/later values to widen it.

    Notes
    -----
    Dates may be strings, :class:`pandas.Timestamp`, :class:`datetime.date` or ``numpy.datetime64``.
    Timezone-aware values are converted to America/New_York and then made naive; the time of day is
    dropped, because the release session (not the clock) decides day 0. The underlying exchange_calendars
    object is cached per ``(name, start, end)``, so building many ``TradingCalendar`` objects is cheap.

    Examples
    --------
    >>> cal = TradingCalendar()
    >>> cal.day_zero("2025-01-08", session="post")  # Jan 9 2025: market closed (Carter mourning day)
    Timestamp('2025-01-10 00:00:00')
    >>> cal.offset("2025-01-08", 1)
    Timestamp('2025-01-10 00:00:00')
    """

    def day_zero(self, date: DateLike, session: str = "pre") -> pd.Timestamp:
        """Day 0 of one event: the first session that could react to news released on ``date``.

        Parameters
        ----------
        date
            Event date (US Eastern calendar day of the first public release).
        session
            ``"pre"``, ``"intraday"``, ``"post"`` or ``"unknown"``; see the module docstring for the rule.

        Returns
        -------
        pandas.Timestamp
            The day-0 session.

        Raises
        ------
        ValueError
            If ``session`` is not an accepted value, or no session of the calendar can be day 0.

        Warns
        -----
        SessionAssumptionWarning
            If ``session`` is ``"unknown"``: day 0 then follows ``unknown_session``.
        """
        check_choice("session", session, SESSIONS)
        return self._day_zeros(_to_index(date, "date"), session, labels=None, stacklevel=4)[0]

    def day_zeros(
        self, dates: Any, sessions: str | Sequence[str], *, labels: Sequence[str] | None = None
    ) -> pd.DatetimeIndex:
        """Day 0 of many events at once (vectorized with :func:`numpy.searchsorted`), same rules as
        :meth:`day_zero`.

        Parameters
        ----------
        dates
            Event dates (list, array, Series or DatetimeIndex).
        sessions
            One session for all dates, or one per date.
        labels
            Optional event ids; the warning for unknown sessions, and the error for an event without a day 0,
            then name them next to their dates.

        Returns
        -------
        pandas.DatetimeIndex
            Day 0 of each event, in the order given.

        Raises
        ------
        ValueError
            If a session is not an accepted value, or an event has no day 0 inside the calendar (the
            message names the first such event).

        Warns
        -----
        SessionAssumptionWarning
            Once per call if any session is ``"unknown"``, naming those events.
        """
        idx = _to_index(dates, "dates")
        given: str | np.ndarray
        if isinstance(sessions, str):
            check_choice("sessions", sessions, SESSIONS)
            given = sessions
        else:
            given = np.asarray(list(sessions), dtype=object)
            if len(given) != len(idx):
                raise ValueError(
                    f"The 'sessions' parameter must hold one session per date: got {len(given)} sessions "
                    f"for {len(idx)} dates."
                )
            for value in pd.unique(given):
                check_choice("sessions", value, SESSIONS)
        if labels is not None and len(labels) != len(idx):
            raise ValueError(f"The 'labels' parameter must hold one label per date: got {len(labels)}.")
        return self._day_zeros(idx, given, labels=labels, stacklevel=4)

    def _day_zeros(
        self,
        idx: pd.DatetimeIndex,
        sessions: str | np.ndarray,
        *,
        labels: Sequence[str] | None,
        stacklevel: int = 3,
    ) -> pd.DatetimeIndex:
        """Dates (New York calendar days) with sessions, placed by the one resolver of event time."""

        kinds = np.full(len(idx), sessions, dtype=object) if isinstance(sessions, str) else np.asarray(sessions)
        names = [f"{d:%Y-%m-%d}" for d in idx] if labels is None else [str(v) for v in np.asarray(labels, dtype=object)]
        frame = pd.DataFrame({"date": idx, "session": kinds})
        times = parse_event_times(
            frame,
            where=lambda i: names[i],
            names=names if labels is not None else None,
            unknown_session=self.unknown_session,
        )
        if labels is None:  # the warning names dates only
            times = dataclasses.replace(times, names=np.array([""] * len(idx), dtype=object))
        try:
            resolved = resolve_day0(times, self, stacklevel=stacklevel + 1)
        except _NoDayZero as error:
            i = error.position
            what = "Event date" if labels is None else f"Event {names[i]!r}: date"
            raise _NoDayZero(self._out_of_bounds_message(idx[i], what), position=i) from None
        return pd.DatetimeIndex(resolved.day0, name=None)


@overload
def as_calendar(calendar: None, *, unknown_session: Literal["pre", "post"] | None = None) -> None: ...
@overload
def as_calendar(
    calendar: str | TradingCalendar, *, unknown_session: Literal["pre", "post"] | None = None
) -> TradingCalendar: ...
@overload
def as_calendar(
    calendar: str | TradingCalendar | None, *, unknown_session: Literal["pre", "post"] | None = None
) -> TradingCalendar | None: ...
def as_calendar(
    calendar: str | TradingCalendar | None, *, unknown_session: Literal["pre", "post"] | None = None
) -> TradingCalendar | None:
    """Return ``calendar`` as a :class:`TradingCalendar`: built from an exchange code, or passed through.

    Parameters
    ----------
    calendar
        An exchange_calendars code such as ``"XNYS"``, a :class:`TradingCalendar`, or None (returned as
        None: what no calendar means is the caller's decision).
    unknown_session
        The day-0 rule for events of unknown session that the caller was given, ``"pre"`` or ``"post"``.
        A calendar built from a code uses it; a :class:`TradingCalendar` passed in must already follow it,
        so that an explicit setting is never silently overridden by the calendar's own.  None: the
        calendar's own rule (``"pre"`` for a code).

    Returns
    -------
    TradingCalendar or None

    Raises
    ------
    TypeError
        If ``calendar`` is neither a string, a TradingCalendar nor None.
    ValueError
        If ``unknown_session`` is not ``"pre"``, ``"post"`` or None, or differs from the
        ``unknown_session`` of the TradingCalendar given (the message names both); or the code is not an
        exchange_calendars code.

    Examples
    --------
    >>> as_calendar("XNYS", unknown_session="post").unknown_session
    'post'
    >>> cal = TradingCalendar()
    >>> as_calendar(cal) is cal
    True
    """
    if unknown_session is not None:
        check_choice("unknown_session", unknown_session, ("pre", "post"))
    if calendar is None:
        return None
    if isinstance(calendar, TradingCalendar):
        if unknown_session is not None and unknown_session != calendar.unknown_session:
            raise ValueError(
                f"The 'unknown_session' parameter ({unknown_session!r}) contradicts the calendar given, which has "
                f"unknown_session={calendar.unknown_session!r}. Pass one of them only, or build the calendar "
                f"with TradingCalendar({calendar.name!r}, unknown_session={unknown_session!r})."
            )
        return calendar
    if isinstance(calendar, str):
        return TradingCalendar(calendar, unknown_session=unknown_session or "pre")
    raise TypeError(
        "The 'calendar' parameter must be an exchange code such as 'XNYS', a TradingCalendar, or None. "
        f"Got {type(calendar).__name__} instead."
    )
