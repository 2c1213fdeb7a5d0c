"""Argument checks shared by every public function.

Messages follow one pattern: "The 'x' parameter must be ... Got ... instead." so that a user sees which
argument is wrong and what would be accepted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from eventstudy.exceptions import EventWindowError

__all__ = [
    "check_choice",
    "check_window",
    "check_inside",
    "check_windows",
    "check_positive_int",
    "check_instance",
]

_Choice = TypeVar("_Choice", bound=str)


def check_choice(name: str, value: Any, choices: Iterable[_Choice]) -> _Choice:
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError`` listing them."""
    options = tuple(choices)
    if not isinstance(value, str):
        raise TypeError(f"The {name!r} parameter must be one of {options}. Got {value!r} instead.")
    if value not in options:
        raise ValueError(f"The {name!r} parameter must be one of {options}. Got {value!r} instead.")
    return value


def check_instance(name: str, value: Any, types: type | tuple[type, ...], expected: str) -> Any:
    """Return ``value`` if it is an instance of ``types``, else raise ``TypeError``."""
    if not isinstance(value, types):
        raise TypeError(f"The {name!r} parameter must be {expected}. Got {type(value).__name__} instead.")
    return value


def check_positive_int(name: str, value: Any, *, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is an integer at least ``minimum``."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"The {name!r} parameter must be an integer. Got {value!r} instead.")
    value = int(value)
    if value < minimum:
        raise ValueError(f"The {name!r} parameter must be an integer >= {minimum}. Got {value} instead.")
    return value


def check_window(name: str, window: Any) -> tuple[int, int]:
    """Return ``window`` as ``(start, end)`` in trading days, inclusive at both ends.

    Raises :class:`~eventstudy.exceptions.EventWindowError` when the window is reversed and ``TypeError``
    when it is not a pair of integers.
    """
    try:
        start, end = window
    except (TypeError, ValueError):
        raise TypeError(
            f"The {name!r} parameter must be a (start, end) pair of trading days, e.g. (-5, 5). Got {window!r} instead."
        ) from None
    for bound in (start, end):
        if isinstance(bound, bool) or not hasattr(bound, "__index__"):
            raise TypeError(
                f"The {name!r} parameter must hold whole trading days, e.g. (-5, 5). Got {window!r} instead."
            )
    start, end = int(start), int(end)
    if start > end:
        raise EventWindowError(
            f"The {name!r} parameter is reversed: start {start} is after end {end}. Write it as ({end}, {start})."
        )
    return start, end


def check_inside(name: str, window, bounds: tuple[int, int], *, what: str = "event window") -> tuple[int, int]:
    """Return ``window`` as ``(start, end)`` if it lies inside ``bounds``, else raise ``EventWindowError``."""
    start, end = check_window(name, window)
    lo, hi = bounds
    if start < lo or end > hi:
        raise EventWindowError(
            f"The {name!r} parameter ({start}, {end}) must lie inside the {what} ({lo}, {hi}); "
            f"fit an EventStudy with a wider {what} or use a shorter window."
        )
    return start, end


def check_windows(estimation_window, event_window) -> tuple[tuple[int, int], tuple[int, int]]:
    """Validate both windows and that estimation ends before the event window starts."""
    estimation = check_window("estimation_window", estimation_window)
    event = check_window("event_window", event_window)
    if estimation[1] >= event[0]:
        length = estimation[1] - estimation[0]
        raise EventWindowError(
            f"The estimation window {estimation} overlaps the event window {event}: the model would be fitted "
            f"on the returns it is meant to explain. End the estimation window before day {event[0]}, e.g. "
            f"estimation_window=({event[0] - 1 - length}, {event[0] - 1})."
        )
    return estimation, event
