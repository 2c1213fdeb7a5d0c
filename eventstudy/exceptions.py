"""Errors and warnings raised by eventstudy.

Every error names the argument or input at fault and, where there is one, the fix.  Wrong types raise
``TypeError``, bad values raise ``ValueError`` (or a subclass below), missing columns raise ``KeyError``
and failed I/O raises :class:`DataSourceError`.
"""

from __future__ import annotations

__all__ = [
    "EventStudyError",
    "DataSourceError",
    "CacheError",
    "EventWindowError",
    "EventCatalogError",
    "EstimationError",
    "SavedResultsError",
    "EventStudyWarning",
    "DataQualityWarning",
    "DroppedFirmEventsWarning",
    "SessionAssumptionWarning",
    "MarketShockWarning",
    "NotAFirmWarning",
]


class EventStudyError(Exception):
    """Base class of every error raised by eventstudy."""


class DataSourceError(EventStudyError, OSError):
    """Prices or factors could not be read or downloaded.

    Parameters
    ----------
    message
        What went wrong and what to do about it.
    failures
        Mapping of each failed ticker (or file) to the reason it failed.
    url
        The address that was asked, when there was one.
    """

    def __init__(self, message: str, *, failures: dict[str, str] | None = None, url: str | None = None):
        self.failures = dict(failures or {})
        self.url = url
        by_reason: dict[str, list[str]] = {}
        for key, why in self.failures.items():
            by_reason.setdefault(str(why), []).append(str(key))
        # one line per distinct reason, so twenty tickers failing alike read as one line, not twenty
        detail = "".join(f"\n  {', '.join(keys)}: {why}" for why, keys in by_reason.items() if why not in message)
        super().__init__(message + detail)


class CacheError(DataSourceError):
    """A cache file is unreadable or corrupt and could not be refetched (for example offline)."""


class EventWindowError(EventStudyError, ValueError):
    """An estimation or event window is malformed: reversed, overlapping, or outside the data."""


class EventCatalogError(EventStudyError, ValueError):
    """An event file does not follow the catalog schema; the message names the row and column."""


class EstimationError(EventStudyError, ValueError):
    """No firm-event could be estimated; ``dropped`` lists every firm-event with its reason."""

    def __init__(self, message: str, dropped=None):
        self.dropped = dropped
        super().__init__(message)


class SavedResultsError(EventStudyError, ValueError):
    """A saved results folder cannot be loaded as it is: a file changed, truncated or missing, a manifest
    edited or damaged, or written in another format version.  ``path`` is the file at fault."""

    def __init__(self, message: str, *, path=None):
        self.path = path
        super().__init__(message)


class EventStudyWarning(UserWarning):
    """Base class of every warning issued by eventstudy."""


class DataQualityWarning(EventStudyWarning):
    """The data were usable but not as asked (for example Close used where Adj Close was missing)."""


class DroppedFirmEventsWarning(EventStudyWarning):
    """Some firm-events could not be estimated; ``res.dropped`` lists them with the reason."""


class SessionAssumptionWarning(EventStudyWarning):
    """An event's release session is unknown, so day 0 rests on an assumption the user should check."""


class MarketShockWarning(EventStudyWarning):
    """An event window holds a market-wide shock (:func:`eventstudy.market_shocks`): the abnormal returns of
    those days rest on the model's beta at an extreme market move, and the shock may be the news."""


class NotAFirmWarning(EventStudyWarning):
    """A security studied as a firm is an index, a yield or its own benchmark: its abnormal return is not a
    firm's response (against itself it is zero by construction)."""
