"""Intraday bars: reading, checking, start-labelling and marking the exchange's regular hours.

A bar is one row ``Open, High, Low, Close, Volume`` at a tz-aware instant.  Every bar leaving this module is
labelled by its **start** and stamped in UTC; a source whose stamps mark the bar's end (the Tokyo 5-minute
files) says so with ``label="end"`` and the stamps are moved back by one interval, never guessed.  Bars
outside the exchange's regular hours (pre-market, post-market, the Tokyo lunch break, days the exchange is
closed) are kept and marked in the ``session`` column; the regular session is taken from exchange_calendars
(``XNYS`` for US tickers, ``XTKS`` for ``.T`` tickers and ``^N225``, see :func:`calendar_for`).

The checks name the ticker and the file line: stamps without a zone, mixed intervals in one file (stamps
off the interval's clock), duplicated stamps, unsorted stamps, non-numeric or non-positive prices.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

from eventstudy.data.validation import _row, plain_floats
from eventstudy.exceptions import DataSourceError
from eventstudy.foundation.exchanges import exchange_of
from eventstudy.foundation.validation import check_choice
from eventstudy.foundation.xcals import DEFAULT_START, get_calendar

__all__ = [
    "INTERVALS",
    "YAHOO_INTERVAL_DAYS",
    "BAR_FIELDS",
    "SESSION_LABELS",
    "calendar_for",
    "check_interval",
    "exchange_calendar",
    "interval_delta",
    "mark_sessions",
    "validate_bars",
    "stack_bars",
]

#: Accepted bar intervals -> length.  ``"60m"`` is accepted as another spelling of ``"1h"``.
INTERVALS: dict[str, pd.Timedelta] = {
    "1m": pd.Timedelta(minutes=1),
    "2m": pd.Timedelta(minutes=2),
    "5m": pd.Timedelta(minutes=5),
    "15m": pd.Timedelta(minutes=15),
    "30m": pd.Timedelta(minutes=30),
    "1h": pd.Timedelta(hours=1),
}
_ALIASES = {"60m": "1h", "1min": "1m", "5min": "5m", "15min": "15m", "30min": "30m", "60min": "1h"}
#: How far back Yahoo serves each interval, in calendar days (yfinance's documented limits: 1m bars for
#: the last 7 days per request and 30 days back, 2m-30m for 60 days, 1h for 730 days).
YAHOO_INTERVAL_DAYS: dict[str, int] = {"1m": 7, "2m": 60, "5m": 60, "15m": 60, "30m": 60, "1h": 730}
#: Columns of a bar frame besides the marks.
BAR_FIELDS: tuple[str, ...] = ("Open", "High", "Low", "Close", "Volume")
#: Values of the ``session`` column.
SESSION_LABELS: tuple[str, ...] = ("pre", "regular", "break", "post", "closed")

Label = Literal["start", "end"]

_ZONE = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)


def check_interval(interval: str) -> str:
    """Return the canonical spelling of ``interval`` (``"1m"``, ``"5m"``, ``"15m"``, ``"1h"`` ...)."""
    if isinstance(interval, str):
        interval = _ALIASES.get(interval.strip().lower(), interval.strip().lower())
    return check_choice("interval", interval, INTERVALS)


def interval_delta(interval: str) -> pd.Timedelta:
    """The length of one bar of ``interval``."""
    return INTERVALS[check_interval(interval)]


def calendar_for(ticker: str, calendars: Mapping[str, str] | None = None) -> str:
    """The exchange_calendars code whose regular hours apply to ``ticker``: the one table of exchanges,
    :func:`eventstudy.foundation.exchanges.exchange_of` (``8035.T`` -> ``XTKS``, ``^N225``/``N225`` -> ``XTKS``, no
    suffix -> ``XNYS``), with ``calendars`` (ticker -> code, with or without a leading caret) consulted first.
    """
    if calendars:
        for key in (ticker, ticker.lstrip("^"), "^" + ticker.lstrip("^")):
            if key in calendars:
                return str(calendars[key])
    return exchange_of(ticker)


@functools.lru_cache(maxsize=16)
def exchange_calendar(code: str):
    """The exchange_calendars calendar ``code`` (built once per process).

    It is the one :class:`~eventstudy.TradingCalendar` builds with its default span (from 1990, or the
    exchange's first date), so a report that studies daily returns and minute bars builds each exchange once.
    """
    try:
        return get_calendar(code, DEFAULT_START, None)
    except ValueError:
        raise ValueError(
            f"The calendar {code!r} is not an exchange_calendars code; use one such as 'XNYS' or 'XTKS' "
            "(see exchange_calendars.get_calendar_names())."
        ) from None


def schedule(code: str, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """The regular sessions of ``code`` whose dates lie in ``first..last`` (tz-naive dates), UTC times."""
    cal = exchange_calendar(code)
    lo, hi = cal.first_session, cal.last_session
    if first > hi or last < lo:
        raise DataSourceError(
            f"The bars run {first:%Y-%m-%d}..{last:%Y-%m-%d}, outside the {code} calendar "
            f"({lo:%Y-%m-%d}..{hi:%Y-%m-%d}); update exchange_calendars for later dates.",
            failures={code: "dates outside the calendar"},
        )
    return cal.schedule.loc[max(first, lo) : min(last, hi)]


def mark_sessions(times: pd.DatetimeIndex, code: str) -> pd.DataFrame:
    """Place each bar start in the exchange's day: ``session`` label, ``regular`` flag, ``session_date``.

    Parameters
    ----------
    times
        Bar starts, tz-aware.
    code
        exchange_calendars code.

    Returns
    -------
    pandas.DataFrame
        ``session``: ``"regular"`` (open <= start < close, outside any break), ``"pre"``, ``"break"``,
        ``"post"``, or ``"closed"`` (a day that is not a session); ``regular``: bool; ``session_date``: the
        exchange-local date (tz-naive).
    """
    cal = exchange_calendar(code)
    local = times.tz_convert(cal.tz)
    dates = local.tz_localize(None).normalize()
    if len(times) == 0:
        sched = cal.schedule.iloc[:0]
    else:
        sched = schedule(code, dates.min(), dates.max())
    rows = sched.reindex(dates)
    utc = times.tz_convert("UTC")
    opens = pd.DatetimeIndex(rows["open"])
    closes = pd.DatetimeIndex(rows["close"])
    b0 = pd.DatetimeIndex(rows["break_start"])
    b1 = pd.DatetimeIndex(rows["break_end"])
    label = np.full(len(times), "closed", dtype=object)
    is_session = np.asarray(opens.notna())
    with np.errstate(invalid="ignore"):
        pre = is_session & (utc < opens)
        post = is_session & (utc >= closes)
        brk = is_session & b0.notna() & (utc >= b0) & (utc < b1)
    label[is_session] = "regular"
    label[pre] = "pre"
    label[post] = "post"
    label[brk] = "break"
    return pd.DataFrame(
        {"session": label, "regular": label == "regular", "session_date": dates.to_numpy()},
        index=times,
    )


def _parse_stamps(ticker: str, index: pd.Index, where: str, lines: np.ndarray | None) -> pd.DatetimeIndex:
    if isinstance(index, pd.DatetimeIndex):
        if index.tz is None:
            raise DataSourceError(
                f"{ticker}: the bars in {where} carry no time zone (first stamp {index[0]}). Bars need an "
                "unambiguous instant: localize the stamps (e.g. index.tz_localize('America/New_York')) first.",
                failures={ticker: "bars without a zone"},
            )
        return index.tz_convert("UTC").as_unit("ns")
    text = pd.Series(np.asarray(index, dtype=object)).astype(str).str.strip()
    bad_zone = ~text.str.contains(_ZONE).to_numpy()
    if bad_zone.any():
        i = int(np.flatnonzero(bad_zone)[0])
        raise DataSourceError(
            f"{ticker}: the bar stamp {text.iloc[i]!r} in {where} ({_row(i, lines)}) has no UTC offset; "
            f"{int(bad_zone.sum())} stamp(s) lack one. Write ISO 8601 with the offset, e.g. "
            "2025-05-13T09:30:00-04:00, so the instant is not guessed.",
            failures={ticker: "bars without a zone"},
        )
    parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    unreadable = parsed.isna().to_numpy()
    if unreadable.any():
        i = int(np.flatnonzero(unreadable)[0])
        raise DataSourceError(
            f"{ticker}: the bar stamp {text.iloc[i]!r} in {where} ({_row(i, lines)}) cannot be read. "
            "Write ISO 8601 with the offset, e.g. 2025-05-13T09:30:00-04:00.",
            failures={ticker: f"unreadable stamp {text.iloc[i]!r}"},
        )
    return pd.DatetimeIndex(parsed).as_unit("ns")


def _check_clock(ticker: str, stamps: pd.DatetimeIndex, interval: str, where: str, lines, code: str) -> None:
    """One interval per file: stamps on one clock phase and (mostly) one interval apart."""
    if len(stamps) < 2:
        return
    step = INTERVALS[interval].value
    phase = stamps.asi8 % step
    values, counts = np.unique(phase, return_counts=True)
    usual = values[counts.argmax()]
    off = phase != usual
    local = stamps.tz_convert(exchange_calendar(code).tz)
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise DataSourceError(
            f"{ticker}: {where} mixes bar intervals or clocks: the bar at {local[i]} ({_row(i, lines)}) is off "
            f"the {interval} clock the other bars keep ({int(off.sum())} such bar(s)). Keep one interval per "
            f"file (<TICKER>_{interval}.csv) and one clock.",
            failures={ticker: f"mixed intervals ({local[i]})"},
        )
    gaps = np.diff(stamps.asi8)
    days = local.tz_localize(None).normalize().asi8
    same_day = (np.diff(days) == 0) & (gaps > 0)
    if same_day.any():
        values, counts = np.unique(gaps[same_day], return_counts=True)
        typical = values[counts.argmax()]
        if typical != step:
            raise DataSourceError(
                f"{ticker}: {where} is read as {interval} bars but its bars are mostly "
                f"{pd.Timedelta(int(typical), 'ns')} apart. Pass the interval the file holds.",
                failures={ticker: f"bars {pd.Timedelta(int(typical), 'ns')} apart, not {interval}"},
            )
        # and day by day: one day of 5-minute bars in a 1-minute file keeps the clock's phase and is a
        # minority of the gaps, yet every bar of that day would be read as five minutes long
        _check_days(ticker, gaps, days, same_day, step, interval, where, lines, local)


def _check_days(ticker, gaps, days, same_day, step: int, interval: str, where: str, lines, local) -> None:
    """Refuse the first day whose bars are mostly not ``step`` apart, naming it (a day of another interval)."""
    owner = days[1:][same_day]  # the day of each same-day gap
    gap = gaps[same_day]
    for day in np.unique(owner).tolist():
        mine = gap[owner == day]
        values, counts = np.unique(mine, return_counts=True)
        typical = int(values[counts.argmax()])
        if typical != step and counts.max() * 2 > len(mine):
            first = int(np.flatnonzero(days == day)[0])
            label = f"{pd.Timestamp(day):%Y-%m-%d}"
            raise DataSourceError(
                f"{ticker}: {where} is read as {interval} bars, but on {label} its bars are "
                f"{pd.Timedelta(typical, 'ns')} apart (from {local[first]:%H:%M}, {_row(first, lines)}). Keep one "
                f"interval per file: move that day's bars to a file of their own interval or resample them.",
                failures={ticker: f"bars {pd.Timedelta(typical, 'ns')} apart on {label}, not {interval}"},
            )


def _numbers(ticker: str, frame: pd.DataFrame, stamps, where: str, lines) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    columns = {re.sub(r"[^a-z]", "", str(c).lower()): c for c in frame.columns}
    for name in BAR_FIELDS:
        column = columns.get(name.lower())
        if column is None:
            if name == "Close":
                raise DataSourceError(
                    f"{ticker}: {where} has no Close column; bar files need Datetime,Open,High,Low,Close,Volume "
                    f"(found {list(frame.columns)}).",
                    failures={ticker: "no Close column"},
                )
            out[name] = np.full(len(frame), np.nan)
            continue
        raw = frame[column]
        values = plain_floats(raw, strip=False)
        if values is None:  # a cell Arrow cannot parse as a plain number: pandas decides, and the check names it
            values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64")
            bad = np.isnan(values) & raw.notna().to_numpy() & (raw.astype(str).str.strip() != "").to_numpy()
        else:
            bad = np.zeros(len(values), dtype=bool)
        if name != "Volume":
            bad |= values <= 0
        bad |= np.isinf(values)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataSourceError(
                f"{ticker}: column {name!r} in {where} holds {raw.iloc[i]!r} at {stamps[i]} ({_row(i, lines)}); "
                "prices must be positive numbers. Fix the row, or leave the cell empty for a missing value.",
                failures={ticker: f"bad {name} {raw.iloc[i]!r} at {stamps[i]}"},
            )
        out[name] = values
    return out


def validate_bars(
    ticker: str,
    frame: pd.DataFrame,
    *,
    interval: str,
    label: Label = "start",
    calendar: str = "XNYS",
    where: str = "the bars",
    lines: np.ndarray | None = None,
) -> pd.DataFrame:
    """Check one ticker's raw bars and return them start-labelled in UTC with the session marks.

    Parameters
    ----------
    ticker
        For messages.
    frame
        Rows as read: the stamps in the index (text with a UTC offset, or a tz-aware DatetimeIndex) and
        columns Open, High, Low, Close, Volume (any case).
    interval
        The bar length the rows are declared to have.
    label
        ``"start"`` when a stamp is the bar's first instant (Yahoo, Polygon), ``"end"`` when it is its last
        (the 09:05 bar covers 09:00-09:05): end stamps are moved back by one interval.
    calendar
        exchange_calendars code of the ticker's exchange, for the ``session`` marks.
    where, lines
        Where the rows come from and their file line numbers, for messages.

    Returns
    -------
    pandas.DataFrame
        Index ``Datetime`` (tz-aware UTC bar starts, ascending, unique); float columns Open, High, Low,
        Close, Volume; ``session`` (``"pre"``, ``"regular"``, ``"break"``, ``"post"``, ``"closed"``),
        ``regular`` (bool) and ``session_date`` (the exchange-local date).

    Raises
    ------
    DataSourceError
        For stamps without a zone, unreadable stamps, duplicated or unsorted stamps, mixed intervals,
        a missing Close column or a bad price; the message names the ticker, the stamp and the line.
    """
    interval = check_interval(interval)
    label = check_choice("label", label, ("start", "end"))
    if len(frame) == 0:
        raise DataSourceError(f"{ticker}: {where} holds no bars.", failures={ticker: "no bars"})
    stamps = _parse_stamps(ticker, frame.index, where, lines)
    dupes = stamps.duplicated(keep=False)
    if dupes.any():
        i = int(np.flatnonzero(dupes)[0])
        twins = [_row(j, lines) for j in np.flatnonzero(stamps == stamps[i]).tolist()]
        raise DataSourceError(
            f"{ticker}: {where} has the bar {stamps[i]} more than once ({', '.join(twins)}); "
            f"{int(stamps.duplicated().sum())} duplicated stamp(s). Keep one row per bar.",
            failures={ticker: f"duplicated bar {stamps[i]}"},
        )
    if not stamps.is_monotonic_increasing:
        i = int(np.flatnonzero(np.diff(stamps.asi8) < 0)[0])
        raise DataSourceError(
            f"{ticker}: {where} is not in time order: {stamps[i + 1]} ({_row(i + 1, lines)}) follows "
            f"{stamps[i]}. Sort the rows by time.",
            failures={ticker: "unsorted bars"},
        )
    _check_clock(ticker, stamps, interval, where, lines, calendar)
    values = _numbers(ticker, frame, stamps, where, lines)
    if label == "end":
        stamps = stamps - INTERVALS[interval]
    stamps = stamps.rename("Datetime")
    out = pd.DataFrame(values, index=stamps)
    marks = mark_sessions(stamps, calendar)
    out["session"] = marks["session"].to_numpy()
    out["regular"] = marks["regular"].to_numpy()
    out["session_date"] = marks["session_date"].to_numpy()
    return out


def stack_bars(
    frames: Mapping[str, pd.DataFrame],
    *,
    interval: str,
    calendars: Mapping[str, str],
    labels: Mapping[str, str],
    source: str,
) -> pd.DataFrame:
    """Stack validated per-ticker bars into one long frame indexed by ``(ticker, Datetime)``.

    ``attrs`` records the interval, each ticker's exchange calendar and declared label, and the source.
    """
    long = pd.concat(frames, names=["ticker", "Datetime"])
    long.attrs = {
        "eventstudy_interval": interval,
        "eventstudy_calendars": dict(calendars),
        "eventstudy_labels": dict(labels),
        "eventstudy_source": source,
    }
    return long


def label_for(ticker: str, label: str | Mapping[str, str]) -> Label:
    """The declared stamp label of ``ticker``: ``label`` itself, or its entry in a ticker -> label mapping."""
    if isinstance(label, str):
        return check_choice("label", label, ("start", "end"))
    for key in (ticker, ticker.lstrip("^"), "^" + ticker.lstrip("^")):
        if key in label:
            return check_choice(f"label[{key!r}]", label[key], ("start", "end"))
    return "start"


def check_label(label) -> str | dict[str, str]:
    """Validate ``label``: ``"start"``, ``"end"``, or a mapping ticker -> one of them."""
    if isinstance(label, Mapping):
        return {str(k): check_choice(f"label[{k!r}]", v, ("start", "end")) for k, v in label.items()}
    return check_choice("label", label, ("start", "end"))


def rows_near(stamps: pd.Series, first: pd.Timestamp, last: pd.Timestamp) -> np.ndarray | None:
    """Which rows of a file's stamps (text) can hold a bar of the exchange-local dates ``first..last``.

    A stamp's written date and its exchange-local date differ by at most two days (UTC offsets run from
    -12:00 to +14:00, and an end stamp moves back by one bar), so the rows written within two days of the range
    are enough; the others need not be parsed nor checked.  None when some stamp does not start with an ISO
    date (``YYYY-MM-DD``): then every row is checked, so that the message names the bad one.
    """
    text = stamps.astype("str")
    if not text.str.match(r"\d{4}-\d{2}-\d{2}").all():
        return None
    # text starting with a date compares as the date: at or after ``lo``, before ``after`` (the day past the end)
    lo, after = f"{first - pd.Timedelta(days=2):%Y-%m-%d}", f"{last + pd.Timedelta(days=3):%Y-%m-%d}"
    return ((text >= lo) & (text < after)).to_numpy(dtype=bool)


def in_range(frame: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """The bars whose exchange-local date lies in ``first..last`` (tz-naive days, inclusive)."""
    dates = pd.DatetimeIndex(frame["session_date"])
    return frame.loc[(dates >= first) & (dates <= last)]
