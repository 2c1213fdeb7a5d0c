"""Reading the time of every event once: dates with release sessions, timestamps with zones, a day 0 given.

The columns an event table may hold (``date``, ``timestamp``, ``time`` + ``timezone``, ``session``, ``day0``)
are read here into one :class:`EventTimes` record, with errors that name the row and the column; placing
the events on an exchange's sessions is :func:`eventstudy.time.eventtime.resolve_day0`'s job.  See
:mod:`eventstudy.time.eventtime` for the rules.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from eventstudy.exceptions import SessionAssumptionWarning
from eventstudy.foundation.misread import check_numbers
from eventstudy.time.sessions import SESSIONS

__all__ = ["REFERENCE_TZ", "GIVEN", "LOCAL", "EventTimes", "parse_event_times"]

#: The clock of event dates and sessions (the catalog's convention).
REFERENCE_TZ = "America/New_York"
#: ``day0_rule`` of a day 0 the user gave.
GIVEN = "given"
#: ``session`` of a bare date without any session: a trading date of the security's own exchange
LOCAL = "local"

_NAT = np.iinfo(np.int64).min
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
_CLOCK = re.compile(r"^\s*\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*$")
_SHOW = 5


@dataclass(frozen=True, eq=False)
class EventTimes:
    """The times of N events (or firm-events), parsed once.

    Attributes
    ----------
    wall : ndarray of int64
        Wall-clock time of a timestamped row, as naive nanoseconds, in the zone of :attr:`zone`; NaT
        (``int64`` minimum) for rows with a date only.
    zone : ndarray of object
        Time zone of :attr:`wall` (``"UTC"``, ``"America/New_York"``, ...), ``"exchange"`` for a naive time
        to be read in each security's exchange zone, or None for rows with a date only.
    date : DatetimeIndex
        The event date (tz-naive midnight); for a timestamp, its date on the reference clock.
    session : ndarray of object
        The release session given (``unknown`` when none was).
    unknown_session : ndarray of object
        For rows whose session is ``unknown``, the rule that places them: ``"pre"`` or ``"post"``.
    day0 : DatetimeIndex
        A day 0 the user gave, NaT elsewhere.
    labels : ndarray of object
        How errors name each row (``e.csv row 3 (id 'E1')``).
    names : ndarray of object
        How warnings name each event (its id).
    """

    wall: np.ndarray
    zone: np.ndarray
    date: pd.DatetimeIndex
    session: np.ndarray
    unknown_session: np.ndarray
    day0: pd.DatetimeIndex
    labels: np.ndarray | _RowLabels
    names: np.ndarray | _RowLabels

    def __len__(self) -> int:
        return len(self.date)

    @property
    def timed(self) -> np.ndarray:
        """Rows with a timestamp."""
        return self.wall != _NAT

    @property
    def given(self) -> np.ndarray:
        """Rows with a day 0 given by the user."""
        return ~np.isnat(self.day0.to_numpy())

    def instants(self, exchange_tz: str | None = None) -> np.ndarray:
        """UTC instants (int64 ns) of the timestamped rows, NaT elsewhere; ``exchange_tz`` reads the rows of
        zone ``"exchange"``."""
        out = np.full(len(self), _NAT, dtype=np.int64)
        for zone in pd.unique(self.zone[self.timed]):
            rows = np.flatnonzero(self.timed & (self.zone == zone))
            tz = exchange_tz if zone == "exchange" else zone
            if tz is None:
                raise ValueError("A naive time read in the exchange's zone needs that exchange.")
            local = pd.DatetimeIndex(self.wall[rows].view("M8[ns]"))
            out[rows] = _localize(local, tz, self.labels[rows]).tz_convert("UTC").tz_localize(None).asi8
        return out

    def take(self, rows) -> EventTimes:
        """The rows ``rows`` (positions or a mask) as a new record."""
        rows = np.asarray(rows)
        return EventTimes(
            wall=self.wall[rows],
            zone=self.zone[rows],
            date=self.date[rows],
            session=self.session[rows],
            unknown_session=self.unknown_session[rows],
            day0=self.day0[rows],
            labels=self.labels[rows],
            names=self.names[rows],
        )


def _localize(local: pd.DatetimeIndex, tz: str, labels: np.ndarray) -> pd.DatetimeIndex:
    try:
        return local.tz_localize(tz, ambiguous="raise", nonexistent="raise")
    except (ValueError, TypeError) as exc:  # a wall time the clock skipped or repeated (DST)
        raise ValueError(
            f"Cannot read the times of {', '.join(map(str, labels[:_SHOW]))} in the zone {tz!r}: {exc}. "
            "Give them with a UTC offset."
        ) from None


class _RowLabels:
    """How messages name rows (``where(i)``), written only for the rows a message names: a million
    firm-events would otherwise format a million strings that no message shows."""

    def __init__(self, where: Callable[[int], str], index: np.ndarray) -> None:
        self._where, self._index = where, np.asarray(index)

    def __len__(self) -> int:
        return len(self._index)

    def __getitem__(self, key):
        picked = self._index[key]
        return self._where(int(picked)) if np.ndim(picked) == 0 else _RowLabels(self._where, picked)

    def __iter__(self):
        return (self._where(int(i)) for i in self._index)


def _zone(value, where: str) -> str:
    text = str(value).strip()
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{where}, column 'timezone': {text!r} is not a time zone; use an IANA name such as "
            "'America/New_York' or 'Asia/Tokyo', or 'UTC'."
        ) from None
    return text


def _localize_row(stamp: pd.Timestamp, zone: str, where: str) -> pd.Timestamp:
    """``stamp`` (a wall-clock time) in ``zone``; a time the clock skips or shows twice is refused, naming the row."""
    localized = stamp.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    if isinstance(localized, pd.Timestamp):  # NaT: the clock skipped or repeated that time
        return localized
    if stamp.tz_localize(zone, ambiguous=True, nonexistent="NaT") is pd.NaT:
        raise ValueError(
            f"{where}, columns 'time' and 'timezone': {stamp:%Y-%m-%d %H:%M} does not exist in {zone} (the clocks "
            "skipped that hour for daylight saving time). Write the time with its UTC offset in 'timestamp' "
            "(e.g. 2025-03-09T03:30:00-04:00)."
        )
    raise ValueError(
        f"{where}, columns 'time' and 'timezone': {stamp:%Y-%m-%d %H:%M} happened twice in {zone} (the clocks "
        "went back that hour for daylight saving time), so the instant is ambiguous. Write the time with its "
        "UTC offset in 'timestamp' (e.g. 2025-11-02T01:30:00-04:00 for the first, -05:00 for the second)."
    )


def _text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    return str(value).strip()


def _timestamp(value, where: str, column: str) -> pd.Timestamp | None:
    """A timestamp, or None for an empty cell; a date-only value comes back naive at midnight."""
    if isinstance(value, pd.Timestamp):
        return None if value is pd.NaT else value
    text = _text(value)
    if not text:
        return None
    ts: pd.Timestamp | None
    try:
        ts = pd.Timestamp(pd.to_datetime(text, format="ISO8601"))  # never a locale guess: 08/01 is ambiguous
    except (TypeError, ValueError):
        ts = None
    if ts is None or ts is pd.NaT:
        raise ValueError(
            f"{where}, column {column!r}: expected a date such as 2025-05-13 or a timestamp with a zone such as "
            f"2025-05-13T17:30:00-04:00; got {text!r}."
        )
    if ts.tzinfo is None and not _DATE_ONLY.match(text) and ts != ts.normalize():
        return ts  # a naive clock time: the caller decides
    return ts


def parse_event_times(
    frame: pd.DataFrame,
    *,
    where: Callable[[int], str],
    names: Sequence[str] | np.ndarray | None = None,
    naive_tz: str | None = None,
    unknown_session: str | None = None,
    fallback_unknown: str = "pre",
    default_session: str = "unknown",
) -> EventTimes:
    """Read the time of every row of ``frame``.

    Parameters
    ----------
    frame
        Events with any of: ``date``; ``timestamp`` (or ``time`` holding full timestamps); ``time`` holding
        clock times with ``timezone``; ``session``; ``day0`` (given by the user unless ``day0_rule`` says the
        catalog loader computed it); ``unknown_session`` (the rule :func:`eventstudy.load_events` applied).
    where
        ``where(i)`` names row ``i`` in errors (file, row number, id).
    names
        How warnings name each row (the event ids); default ``where(i)``.
    naive_tz
        The zone of times written without one: an IANA name, or ``"exchange"`` for each security's exchange
        zone.  None (default) refuses them.
    unknown_session
        ``"pre"`` or ``"post"``, given explicitly: the rule for rows of unknown session, over a row's own rule
        (column ``unknown_session``, travelling from :func:`eventstudy.load_events`).
    fallback_unknown
        The rule for unknown-session rows when neither they nor ``unknown_session`` say one.
    default_session
        The session of rows without a ``session`` column or value.

    Raises
    ------
    ValueError
        Naming the row: a date or time that cannot be read, a naive time without ``naive_tz``, an unknown
        session or zone, a session rule that contradicts ``unknown_session``.
    """
    n = len(frame)
    for column in ("date", "timestamp", "day0"):
        if column in frame.columns and not pd.api.types.is_datetime64_any_dtype(frame[column].dtype):
            check_numbers(frame[column], column)  # 20250513 is not 20 ms after 1970
    wall = np.full(n, _NAT, dtype=np.int64)
    zone = np.full(n, None, dtype=object)
    dates = np.full(n, np.datetime64("NaT"), dtype="M8[ns]")
    labels = _RowLabels(where, np.arange(n))
    sessions = _sessions(frame, where, default_session)
    rules = _rules(frame, sessions, where, unknown_session, fallback_unknown)
    stamps = frame["timestamp"] if "timestamp" in frame.columns else None
    clock = frame["time"] if "time" in frame.columns else None
    zones = frame["timezone"] if "timezone" in frame.columns else None
    date_column = frame["date"] if "date" in frame.columns else None
    if date_column is not None and pd.api.types.is_datetime64_any_dtype(date_column.dtype) and stamps is None:
        _dates_fast(date_column, wall, zone, dates)  # the common case: parsed dates, no per-row work
        rows_to_read: Sequence[int] = []
    else:
        rows_to_read = range(n)
    for i in rows_to_read:
        stamp = None
        column = "date"
        if stamps is not None and _text(stamps.iloc[i]):
            stamp, column = _timestamp(stamps.iloc[i], where(i), "timestamp"), "timestamp"
        elif clock is not None and _text(clock.iloc[i]):
            text = _text(clock.iloc[i])
            if _CLOCK.match(text):
                day = _timestamp(date_column.iloc[i], where(i), "date") if date_column is not None else None
                if day is None:
                    raise ValueError(f"{where(i)}: a clock time {text!r} needs a 'date'.")
                stamp = pd.Timestamp(f"{day:%Y-%m-%d} {text}")
                if zones is not None and _text(zones.iloc[i]):
                    stamp = _localize_row(stamp, _zone(zones.iloc[i], where(i)), where(i))
            else:
                stamp, column = _timestamp(clock.iloc[i], where(i), "time"), "time"
        elif date_column is not None:
            stamp = _timestamp(date_column.iloc[i], where(i), "date")
        if stamp is None:
            if date_column is None and "day0" in frame.columns:
                continue  # only a day 0: checked below
            raise ValueError(f"{where(i)}: no date; give a 'date' (or a 'timestamp' with a zone).")
        if stamp.tzinfo is not None:
            utc = stamp.tz_convert("UTC")
            wall[i] = utc.tz_localize(None).as_unit("ns").value
            zone[i] = "UTC"
            dates[i] = stamp.tz_convert(REFERENCE_TZ).tz_localize(None).normalize().as_unit("ns").to_datetime64()
        elif stamp != stamp.normalize() or column in ("timestamp", "time"):
            if naive_tz is None:
                raise ValueError(
                    f"{where(i)}, column {column!r}: the time {stamp} has no time zone, so the session that first "
                    "saw it is unknown. Write it with an offset (2025-04-11T22:00:00-04:00), add a 'timezone' "
                    "column, or pass naive_tz='America/New_York' (or 'exchange' for each security's own zone)."
                )
            wall[i] = stamp.as_unit("ns").value
            zone[i] = naive_tz if naive_tz == "exchange" else _zone(naive_tz, "naive_tz")
            dates[i] = stamp.normalize().as_unit("ns").to_datetime64()
        else:
            dates[i] = stamp.as_unit("ns").to_datetime64()
    day0 = _given_day0(frame, where)
    if date_column is None and "day0" in frame.columns:
        dates = np.where(np.isnat(dates), day0.to_numpy(), dates)
    _warn_far_day0(day0, pd.DatetimeIndex(dates), labels)
    missing = np.isnat(dates) & np.isnat(day0.to_numpy())
    if missing.any():
        raise ValueError(f"{labels[missing][0]}: no date; give a 'date' (or a 'timestamp' with a zone).")
    return EventTimes(
        wall=wall,
        zone=zone,
        date=pd.DatetimeIndex(dates),
        session=sessions,
        unknown_session=rules,
        day0=day0,
        labels=labels,
        names=labels if names is None else _object_array(names),
    )


def _object_array(values: Sequence | np.ndarray) -> np.ndarray:
    """``values`` as a 1-d object array (an object array as it is, not rebuilt through a list)."""
    if isinstance(values, np.ndarray) and values.dtype == object and values.ndim == 1:
        return values
    return np.asarray(list(values), dtype=object)


#: A day 0 given by the user more than this many calendar days from the event's own date is warned: a
#: weekend and a holiday put the first session at most 4 days after an event, so more is likely a typo.
FAR_DAY0_DAYS = 5


def _warn_far_day0(day0: pd.DatetimeIndex, dates: pd.DatetimeIndex, labels) -> None:
    """One warning naming the rows whose given day 0 lies more than FAR_DAY0_DAYS days from their date."""
    if not day0.notna().any():  # no day 0 given
        return
    gap = (day0 - dates.normalize()).days.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        far = np.flatnonzero(np.abs(gap) > FAR_DAY0_DAYS)
    if not len(far):
        return
    shown = [
        f"{labels[i]}: day 0 {day0[i]:%Y-%m-%d}, {int(gap[i]):+d} days from its date {dates[i]:%Y-%m-%d}"
        for i in far[:5].tolist()
    ]
    more = f" and {len(far) - 5} more" if len(far) > 5 else ""
    warnings.warn(
        f"{len(far)} given day 0(s) lie more than {FAR_DAY0_DAYS} calendar days from the event's date, farther than "
        f"a weekend and a holiday explain: {'; '.join(shown)}{more}. Check the 'day0' column; it is used as "
        "given.",
        SessionAssumptionWarning,
        stacklevel=3,
    )


def _dates_fast(column: pd.Series, wall: np.ndarray, zone: np.ndarray, dates: np.ndarray) -> None:
    values = pd.DatetimeIndex(column)
    if values.tz is not None:  # aware values are instants
        wall[:] = values.tz_convert("UTC").tz_localize(None).as_unit("ns").asi8
        zone[:] = "UTC"
        dates[:] = values.tz_convert(REFERENCE_TZ).tz_localize(None).normalize().as_unit("ns").to_numpy()
        return
    values = values.as_unit("ns")
    timed = (values != values.normalize()) & values.notna()
    if timed.any():
        first = int(np.flatnonzero(timed)[0])
        raise ValueError(
            f"The 'date' column holds times without a time zone (first: {values[first]}); the session that first "
            "saw them is unknown. Localize them (dates.dt.tz_localize('America/New_York')) or pass naive_tz=."
        )
    dates[:] = values.to_numpy()


def _sessions(frame: pd.DataFrame, where, default: str) -> np.ndarray:
    n = len(frame)
    if "session" not in frame.columns:
        return np.full(n, default, dtype=object)
    out = np.empty(n, dtype=object)
    for i, value in enumerate(frame["session"].to_numpy(dtype=object)):
        text = _text(value).lower() or "unknown"
        if text not in SESSIONS:
            raise ValueError(f"{where(i)}, column 'session': expected one of {', '.join(SESSIONS)}; got {text!r}.")
        out[i] = text
    return out


def _rules(frame: pd.DataFrame, sessions: np.ndarray, where, unknown_session: str | None, fallback: str) -> np.ndarray:
    """The day-0 rule of each unknown-session row: its own (travelling from load_events) or the caller's."""
    if unknown_session is not None and unknown_session not in ("pre", "post"):
        raise ValueError(f"The 'unknown_session' parameter must be 'pre' or 'post'. Got {unknown_session!r}.")
    out = np.full(len(frame), "", dtype=object)
    unknown = sessions == "unknown"
    own = (
        frame["unknown_session"].to_numpy(dtype=object)
        if "unknown_session" in frame.columns
        else np.full(len(frame), "", dtype=object)
    )
    for i in np.flatnonzero(unknown):
        carried = _text(own[i]).lower()
        if carried and carried not in ("pre", "post"):
            raise ValueError(f"{where(i)}, column 'unknown_session': expected 'pre' or 'post'; got {carried!r}.")
        out[i] = unknown_session or carried or fallback
    return out


def _given_day0(frame: pd.DataFrame, where) -> pd.DatetimeIndex:
    n = len(frame)
    if "day0" not in frame.columns:
        return pd.DatetimeIndex(np.full(n, np.datetime64("NaT"), dtype="M8[ns]"))
    values = frame["day0"]
    if "day0_rule" in frame.columns:  # computed by load_events on its calendar: resolved again per exchange
        values = values.where(frame["day0_rule"].astype(str) == GIVEN)
    try:
        day0 = pd.DatetimeIndex(pd.to_datetime(values, format="ISO8601" if values.dtype == object else None))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"The 'day0' column must hold dates such as 2025-05-13 ({exc}).") from None
    if day0.tz is not None:
        day0 = day0.tz_localize(None)
    timed = (day0 != day0.normalize()) & day0.notna()
    if timed.any():
        raise ValueError(f"{where(int(np.flatnonzero(timed)[0]))}, column 'day0': a day 0 is a session date, no time.")
    return day0.as_unit("ns")
