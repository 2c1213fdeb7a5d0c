"""The one place that builds exchange_calendars calendars, shared by the trading calendar and the bar reader.

Both :class:`eventstudy.time.calendar.TradingCalendar` (daily sessions) and :mod:`eventstudy.data.bars` (regular
hours of intraday bars) need an exchange's calendar; building one takes up to a tenth of a second, so both take it
from the cache here, and a report that studies daily returns and minute bars builds each exchange once.  This
module sits below the data layer, so the data layer never imports the calendar layer.  exchange_calendars
itself is imported when the first calendar is built: every source imports this module (through the bar
reader), and reading daily prices needs no calendar.
"""

from __future__ import annotations

import functools
import warnings

import pandas as pd

from eventstudy.foundation.exchanges import sessions_code

__all__ = ["DEFAULT_START", "get_calendar", "earliest_start"]

#: The first day of a calendar built without a ``start`` (moved later for an exchange that starts later).
DEFAULT_START = "1990-01-01"


@functools.lru_cache(maxsize=32)
def get_calendar(name: str, start: str, end: str | None):
    """Build (once per arguments) the exchange_calendars calendar; building one takes 0.01-0.1 s.

    A ``start`` before the first date the exchange's calendar covers (XTKS: 1997, XSHG: 1991) is moved to that
    date, so that one default start serves every exchange.  An exchange that keeps another's sessions
    (:data:`~eventstudy.foundation.exchanges.SESSIONS_OF`: Shenzhen ``XSHE`` keeps Shanghai's) gets that calendar.
    """
    import exchange_calendars as xcals

    name = sessions_code(name)
    earliest = earliest_start(name)
    if earliest is not None and pd.Timestamp(start) < earliest:
        start = f"{earliest:%Y-%m-%d}"
    try:
        with warnings.catch_warnings():  # exchange_calendars' own pandas deprecations are not the user's concern
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            factory = _factory(name)
            if factory is None:
                return xcals.get_calendar(name, start=start, end=end)
            return _build(factory, start, end)
    except xcals.errors.InvalidCalendarName:
        raise ValueError(
            f"The 'name' parameter must be an exchange_calendars code such as 'XNYS' (NYSE) or 'XNAS' "
            f"(Nasdaq). Got {name!r} instead; see exchange_calendars.get_calendar_names()."
        ) from None


def _factory(name: str):
    """The exchange_calendars class registered for ``name`` (an alias is resolved), or None where it cannot say."""
    import exchange_calendars as xcals

    dispatcher = xcals.calendar_utils.global_calendar_dispatcher
    factory = getattr(dispatcher, "_calendar_factories", {}).get(dispatcher.resolve_alias(name))
    return factory if isinstance(factory, type) else None


# holidays a year beyond the bounds: the sessions do not need them, but the offset (``calendar.day``, the
# schedule index's ``freq``) then also steps correctly a little past the calendar's ends
_MARGIN = pd.Timedelta(days=366)


def _build(factory, start: str, end: str | None):
    """``factory(start=start, end=end)``, with its sessions offset built from the holidays of its own span.

    exchange_calendars lays out the sessions with ``CustomBusinessDay(holidays=adhoc, calendar=regular)``,
    and pandas evaluates a holiday calendar given that way over its default span, 1970 to 2200: about 0.1 s
    of CPU a calendar, most of the cost of building one.  The same offset made from the regular holidays
    between the calendar's bounds (plus a margin) gives the same sessions between them; it is set on the
    instance before ``__init__`` reads the cached ``day`` property.
    """
    from pandas.tseries.offsets import CustomBusinessDay

    calendar = factory.__new__(factory)
    first = pd.Timestamp(start) - _MARGIN
    last = (factory.default_end() if end is None else pd.Timestamp(end)) + _MARGIN
    holidays = list(calendar.adhoc_holidays)
    regular = calendar.regular_holidays
    if regular is not None:
        holidays += regular.holidays(first, last).tolist()
    calendar.__dict__["day"] = CustomBusinessDay(holidays=holidays, weekmask=calendar.weekmask)
    calendar.__init__(start=start, end=end)
    return calendar


def earliest_start(name: str) -> pd.Timestamp | None:
    """The first date an exchange_calendars class can be built from, where it says so."""
    import exchange_calendars as xcals

    name = sessions_code(name)
    dispatcher = xcals.calendar_utils.global_calendar_dispatcher
    try:
        factory = dispatcher._calendar_factories.get(dispatcher.resolve_alias(name))
    except (AttributeError, KeyError, xcals.errors.InvalidCalendarName):  # get_calendar says so
        return None
    if factory is None:
        return None
    candidates = [pd.Timestamp(factory.bound_min())] if hasattr(factory, "bound_min") else []
    year = getattr(factory, "_earliest_precomputed_year", None)  # XSHG's holidays are recorded from 1991
    year = year() if callable(year) else year
    if year is not None:
        candidates.append(pd.Timestamp(f"{int(year)}-01-01"))
    candidates = [c.tz_localize(None) if c.tzinfo is not None else c for c in candidates]
    return max(candidates) if candidates else None
