"""What every source shares besides the checks: retries with a growing pause, warnings that point at the
user's line, and the library versions recorded for provenance."""

from __future__ import annotations

import functools
import importlib.metadata
import sys
import time
import warnings
from collections.abc import Callable
from types import FrameType
from typing import TypeVar

from eventstudy._version import __version__
from eventstudy.exceptions import DataQualityWarning

__all__ = ["library_versions", "retry", "warn"]

_T = TypeVar("_T")


# distributions whose versions can change the numbers (statsmodels: reference fits; yfinance: downloads)
_PACKAGES = (
    "eventstudy-toolkit", "numpy", "pandas", "scipy", "statsmodels", "pyarrow", "yfinance", "exchange-calendars",
)  # fmt: skip


def library_versions() -> dict[str, str | None]:
    """Versions of eventstudy and the libraries that shape its data and numbers, for provenance.

    Returns
    -------
    dict of str to str or None
        ``"eventstudy"`` (the running package's ``__version__``) and, by distribution name,
        eventstudy-toolkit, numpy, pandas, scipy, statsmodels, pyarrow, yfinance and exchange-calendars
        (None for one that is not installed).  A new dict on every call; the versions are looked up once
        per process.
    """
    return dict(_library_versions())


@functools.lru_cache(maxsize=1)
def _library_versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"eventstudy": __version__}
    for package in _PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    return found


def retry(
    call: Callable[[], _T],
    *,
    retries: int,
    pause: float,
    retry_on: Callable[[BaseException], bool],
) -> _T:
    """Return ``call()``, calling it again after an exception ``retry_on`` accepts, with a doubling pause.

    Parameters
    ----------
    call
        The attempt, without arguments.
    retries
        How many more attempts after the first one (so at most ``retries + 1`` calls).
    pause
        Seconds slept before the first retry; each further retry waits twice as long as the one before
        (``pause``, ``2 * pause``, ``4 * pause`` ...), the growing pause of pandas-datareader's ``base.py``.
    retry_on
        Whether an exception is worth another attempt (a rate limit, a dropped connection).

    Raises
    ------
    Exception
        The first exception ``retry_on`` refuses, at once; or the last one once the attempts are used up.
        The caller turns it into a message that names what was asked.
    """
    attempt = 0
    while True:
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - retry_on sorts it; what is not retried propagates unchanged
            if attempt >= retries or not retry_on(exc):
                raise
        time.sleep(pause * 2**attempt)
        attempt += 1


def warn(message: str, category: type[Warning] = DataQualityWarning) -> None:
    """Issue a warning attributed to the first caller outside ``eventstudy.data`` (the user's line)."""
    frame: FrameType | None = sys._getframe(0)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("eventstudy.data"):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
